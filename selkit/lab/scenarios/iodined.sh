# iodined (confined, root namespace, UDP 53 on 192.0.2.1) <- DNS -> iodine client (the peer,
# initrc_t, client namespace). Then a ping from the client namespace across the tun devices.

scenario_prepare() {
    :
}

scenario_start() {
    # The options the spec was written for (policies/iodined.sel); iodined forks.
    $LAB_DAEMON -u nobody -t /var/empty/iodined $LAB_SWITCH_OPTION -P s3cret -l 192.0.2.1 \
        10.53.0.1/27 t.example < /dev/null 2>&1 | cat > /tmp/daemon.log &
}

scenario_pid() {
    lab_pidof iodined
}

scenario_traffic() {
    in_client timeout 20 /lab/peer/iodine -r -P s3cret 192.0.2.1 t.example > /tmp/peer.log 2>&1
    sleep 1
    lab_ping 10.53.0.1 in_client
}

scenario_reconnect() {
    lab_kill_peer iodine
    scenario_traffic
}

# bench/lab_filter_pps.py: 2000 pings through the tunnel at a 1 ms interval (1000 per second
# offered: more than the emulated guest carries, so the rate is the tunnel's).
scenario_bench() {
    lab_rate 10.53.0.1 2000 in_client
}
