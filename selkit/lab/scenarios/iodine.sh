# iodine client (confined, root namespace) <- DNS -> iodined (the peer, initrc_t, in the
# other namespace at 192.0.2.2). Then a ping from the root namespace across the tun devices.
# (The confined side stays in the root namespace: init_t starts it by exec, and nsenter,
# a bin_t program, would move it to initrc_t first.)

scenario_prepare() {
    in_client /lab/peer/iodined -P s3cret -l 192.0.2.2 10.53.0.1/27 t.example \
        > /tmp/peer.log 2>&1
    sleep 1
}

scenario_start() {
    # The options the spec was written for (policies/iodine.sel); iodine forks once connected.
    $LAB_DAEMON -r -u nobody -t /var/empty/iodine $LAB_SWITCH_OPTION -P s3cret 192.0.2.2 \
        t.example < /dev/null 2>&1 | cat > /tmp/daemon.log &
}

scenario_pid() {
    lab_pidof iodine
}

scenario_traffic() {
    lab_ping 10.53.0.1 local
}

# bench/lab_filter_pps.py: 2000 pings through the tunnel at a 1 ms interval (1000 per second
# offered: more than the emulated guest carries, so the rate is the tunnel's).
scenario_bench() {
    lab_rate 10.53.0.1 2000 local
}
