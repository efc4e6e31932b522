# ptunnel proxy (confined, root namespace) <- ICMP echo -> ptunnel forwarder (the peer, in
# initrc_t, client namespace). TCP bytes go client -> forwarder:8000 -> ICMP -> proxy ->
# 127.0.0.1:22, where a busybox nc echoes them (the spec lets the proxy reach ssh_port_t only).

scenario_prepare() {
    # Both raw sockets would see the kernel's own echo replies otherwise: the kernel
    # answers every echo request itself unless told to ignore them.
    sysctl -w net.ipv4.icmp_echo_ignore_all=1 > /dev/null
    nc -ll -p 22 -e /bin/cat &
}

scenario_start() {
    # The options the spec was written for (policies/ptunnel.sel).
    $LAB_DAEMON -x s3cret -syslog -daemon /run/ptunnel.pid -setuid nobody -setgid nogroup \
        -chroot /var/lib/ptunnel $LAB_SWITCH_OPTION < /dev/null 2>&1 | cat > /tmp/daemon.log &
}

scenario_pid() {
    cat /run/ptunnel.pid 2>/dev/null || lab_pidof ptunnel
}

scenario_traffic() {
    in_client /lab/peer/ptunnel -p 192.0.2.1 -lp 8000 -da 127.0.0.1 -dp 22 -x s3cret \
        > /tmp/peer.log 2>&1 &
    sleep 1
    lab_tcp_echo 127.0.0.1 8000
}

scenario_reconnect() {
    lab_kill_peer ptunnel
    scenario_traffic
}
