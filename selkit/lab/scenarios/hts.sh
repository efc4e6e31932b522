# hts (confined, root namespace, port 80) <- HTTP -> htc (the peer, initrc_t, client
# namespace, listening on 2222). TCP bytes go client -> htc:2222 -> HTTP -> hts ->
# 127.0.0.1:22, where a busybox nc echoes them (the spec lets hts reach ssh_port_t only).

scenario_prepare() {
    nc -ll -p 22 -e /bin/cat &
}

scenario_start() {
    # The options the spec was written for (policies/hts.sel); hts forks into the background.
    $LAB_DAEMON -u nobody -r /var/empty/hts $LAB_SWITCH_OPTION -F 127.0.0.1:22 80 \
        < /dev/null 2>&1 | cat > /tmp/daemon.log &
}

scenario_pid() {
    lab_pidof hts
}

scenario_traffic() {
    in_client /lab/peer/htc -F 2222 192.0.2.1:80 > /tmp/peer.log 2>&1
    sleep 1
    lab_tcp_echo 127.0.0.1 2222
}

scenario_reconnect() {
    lab_kill_peer htc
    scenario_traffic
}
