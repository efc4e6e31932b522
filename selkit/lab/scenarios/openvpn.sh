# OpenVPN TLS server (confined, root namespace, UDP 1194 on 192.0.2.1) <- TLS/UDP -> OpenVPN
# client (the peer, initrc_t, client namespace), keys from OpenVPN's sample/sample-keys. Then a
# ping from the client namespace across the tun devices.

scenario_prepare() {
    :
}

scenario_start() {
    # The options the spec was written for (policies/openvpn.sel); server.conf daemonizes.
    $LAB_DAEMON --config /etc/openvpn/server.conf --disable-dco --persist-tun --persist-key \
        --user nobody --group nogroup --chroot /var/lib/openvpn/jail $LAB_SWITCH_OPTION \
        < /dev/null 2>&1 | cat > /tmp/daemon.log &
}

scenario_pid() {
    lab_pidof openvpn
}

scenario_traffic() {
    in_client /lab/peer/openvpn --client --dev tun --proto udp4 --remote 192.0.2.1 1194 \
        --nobind --ca /lab/peer/keys/ca.crt --cert /lab/peer/keys/client.crt \
        --key /lab/peer/keys/client.key --remote-cert-tls server --disable-dco --verb 3 \
        --daemon --log /tmp/peer.log
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
        grep -q "Initialization Sequence Completed" /tmp/peer.log 2>/dev/null && break
        sleep 1
    done
    lab_ping 10.8.0.1 in_client
}

# The client disconnects and connects again: a new TLS session with the server in steady.
scenario_reconnect() {
    lab_kill_peer openvpn
    scenario_traffic
}

# server.conf renegotiates every 10 s (reneg-sec) and pings every 10 s (keepalive): 25 s
# more of steady life see two renegotiations and the keepalive timers, then traffic again.
scenario_longrun() {
    sleep 25
    TUNNEL_STEP=tunnel-renegotiated
    lab_ping 10.8.0.1 in_client
    TUNNEL_STEP=tunnel
}

# Both restart requests OpenVPN knows (SIGHUP: hard, SIGUSR1: soft), each then the supervisor.
LAB_RESTART_SIGNALS="HUP USR1"

# bench/lab_filter_pps.py: 2000 pings through the tunnel at a 1 ms interval (1000 per second
# offered: more than the emulated guest carries, so the rate is the tunnel's).
scenario_bench() {
    lab_rate 10.8.0.1 2000 in_client
}
