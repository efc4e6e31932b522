#!/bin/sh
# Stage 2 of the lab guest, in init_t (entered by exec of this init_exec_t file): the network,
# syslogd, the scenario of one daemon (/lab/harness/scenario.sh), the attack battery in the
# steady domain and in initrc_t, then dmesg. Results go to /dev/ttyS1 as "SELKIT-LAB {json}".
. /.lab/config.sh
export PATH=/bin
exec 3>/dev/ttyS1

say() { echo "SELKIT-LAB $1" >&3; }
mark() { echo "SELKIT-LAB-MARK $1" > /dev/kmsg; say "{\"step\": \"$1\"}"; }
ctx_of() { cat "/proc/$1/attr/$2" 2>/dev/null | tr -d '\0'; }
# A file's lines between "SELKIT-LAB-BLOCK NAME" and "SELKIT-LAB-BLOCK-END" (logs, dmesg).
block() { echo "SELKIT-LAB-BLOCK $1" >&3; cat "$2" >&3 2>/dev/null; echo "SELKIT-LAB-BLOCK-END" >&3; }
finish() {
    mark done
    dmesg > /tmp/dmesg.txt 2>&1
    block dmesg /tmp/dmesg.txt
    echo "SELKIT-LAB-DONE" >&3
    sync
    echo o > /proc/sysrq-trigger
    sleep 5
    poweroff -f
}

say "{\"step\": \"stage2\", \"context\": \"$(ctx_of self current)\", \"enforce\": $(cat /sys/fs/selinux/enforce)}"
# iproute2 (busybox's ip has no veth): called by path, or busybox runs its own applet.
IP=/bin/ip
$IP link set lo up
# The client side of every tunnel lives in its own network namespace, joined by a veth pair.
unshare -n sleep 100000 &
NETNS_PID=$!
sleep 0.2
{
    $IP link add vsrv type veth peer name vcli
    $IP link set vcli netns "$NETNS_PID"
    $IP addr add 192.0.2.1/24 dev vsrv
    $IP link set vsrv up
} > /tmp/net.log 2>&1
in_client() { nsenter -t "$NETNS_PID" -n "$@"; }
{
    in_client $IP link set lo up
    in_client $IP addr add 192.0.2.2/24 dev vcli
    in_client $IP link set vcli up
} >> /tmp/net.log 2>&1

# Run a command in the client's namespace from init_t without leaving it: the nsenter here
# is busybox on an init_exec_t file (/lab/harness), so a confined peer exec'd through it
# enters its startup domain from init_t, as the daemon does.
lab_nsenter_client() { /lab/harness/nsenter -t "$NETNS_PID" -n "$@"; }
in_netns_of_client() { [ "$(readlink "/proc/$1/ns/net")" = "$(readlink "/proc/$NETNS_PID/ns/net")" ]; }

# The oldest process called NAME that init_t exec'd in this namespace (the daemon, not a
# peer of the same name).
lab_pidof() {
    for p in $(pidof "$1" | tr ' ' '\n' | sort -n); do
        in_netns_of_client "$p" && continue
        case "$(ctx_of "$p" prev)" in
            *:init_t:*) echo "$p"; return ;;
        esac
    done
}

# Wait up to SECONDS for a TCP listener on PORT (in_client or local): /proc/net/tcp of the
# namespace, state 0A (LISTEN), the port in hex.
lab_wait_listen() {
    hex=$(printf ':%04X' "$1")
    run=in_client
    [ "$3" = local ] && run=
    for _ in $(seq "$2"); do
        $run cat /proc/self/net/tcp /proc/self/net/tcp6 2>/dev/null \
            | awk -v p="$hex" '$2 ~ p"$" && $4 == "0A" {f=1} END {exit !f}' && return
        sleep 1
    done
}

# Wait up to SECONDS for LINE to appear in FILE.
lab_wait_for() {
    for _ in $(seq "$3"); do
        grep -qF "$2" "$1" 2>/dev/null && return
        sleep 1
    done
}

# Run a command (in_client or local); the tunnel works when it exits 0.
lab_command() {
    where=$1
    shift
    if [ "$where" = local ]; then "$@" > /tmp/command.out 2>&1; else in_client "$@" > /tmp/command.out 2>&1; fi
    status=$?
    ok=false
    [ "$status" -eq 0 ] && ok=true
    say "{\"step\": \"${TUNNEL_STEP:-tunnel}\", \"kind\": \"command\", \"traffic\": $ok, \"exit_status\": $status, \"bytes_received\": $(wc -c < /tmp/command.out)}"
    block command /tmp/command.out
}

# Send a line through HOST:PORT from the client namespace (in_client) or this one (local),
# keep the connection open WAIT seconds (default 3) for the answer; report what came back.
lab_tcp_echo() {
    payload="selkit-lab payload through the tunnel 0123456789"
    run=in_client
    [ "${3:-in_client}" = local ] && run=
    wait=${4:-3}
    (echo "$payload"; sleep "$wait") | $run timeout $((wait + 3)) nc "$1" "$2" \
        > /tmp/echo.out 2>/tmp/echo.err
    got=$(head -n 1 /tmp/echo.out)
    ok=false
    [ "$got" = "$payload" ] && ok=true
    say "{\"step\": \"${TUNNEL_STEP:-tunnel}\", \"kind\": \"tcp\", \"traffic\": $ok, \"bytes_sent\": $((${#payload} + 1)), \"bytes_received\": $(wc -c < /tmp/echo.out)}"
}

# COUNT pings of ADDRESS at a 1 ms interval through the tunnel, from the client namespace
# (in_client) or this one (local): the time they took (/proc/uptime) and busybox's summary.
lab_rate() {
    t0=$(cut -d' ' -f1 /proc/uptime)
    if [ "$3" = local ]; then
        ping -q -c "$2" -i 0.001 -W 2 "$1" > /tmp/rate.out 2>&1
    else
        in_client ping -q -c "$2" -i 0.001 -W 2 "$1" > /tmp/rate.out 2>&1
    fi
    t1=$(cut -d' ' -f1 /proc/uptime)
    echo "start=$t0 end=$t1"
    cat /tmp/rate.out
}

# Ping ADDRESS across the tunnel, from the client namespace (in_client) or this one (local).
lab_ping() {
    if [ "$2" = local ]; then
        ping -c 3 -W 5 "$1" > /tmp/ping.out 2>&1
    else
        in_client ping -c 3 -W 5 "$1" > /tmp/ping.out 2>&1
    fi
    received=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' /tmp/ping.out)
    ok=false
    [ "${received:-0}" -gt 0 ] && ok=true
    say "{\"step\": \"${TUNNEL_STEP:-tunnel}\", \"kind\": \"icmp\", \"traffic\": $ok, \"packets_received\": ${received:-0}, \"bytes_received\": $((${received:-0} * 64))}"
    block ping /tmp/ping.out
}

start_syslogd() {
    /lab/syslogd/syslogd -n -O /var/log/messages < /dev/null > /dev/null 2>&1 3>&- &
    SYSLOGD_PID=$!
    sleep 0.3
}
start_syslogd
# The peer's processes of NAME: those in the client's network namespace.
peer_pids() {
    for p in $(pidof "$1"); do
        in_netns_of_client "$p" && echo "$p"
    done
}
lab_kill_peer() {
    for p in $(peer_pids "$1"); do kill "$p"; done
    sleep 1
}

mark scenario
. /lab/harness/scenario.sh
scenario_prepare
scenario_start 3>&-
# Watch the daemon while it starts: every context its processes show (startup, then steady).
: > /tmp/seen
ticks=$(( ${LAB_SETTLE:-2} * 10 ))
while [ "$ticks" -gt 0 ]; do
    for p in $(pidof "$LAB_NAME"); do
        ctx_of "$p" current >> /tmp/seen
        echo >> /tmp/seen
    done
    ticks=$((ticks - 1))
    sleep 0.1
done
seen=""
for c in $(awk 'NF && !s[$0]++' /tmp/seen); do
    seen="$seen${seen:+, }\"$c\""
done
mark traffic
scenario_traffic
# The daemon's state once the tunnel has carried traffic (a client switches only then).
DAEMON_PID=$(scenario_pid)
threads=""
for t in /proc/$DAEMON_PID/task/*; do
    [ -d "$t" ] && threads="$threads${threads:+, }\"$(ctx_of "${t#/proc/}" current)\""
done
# What the kernel says of its seccomp state (Seccomp: 2 is a filter; NoNewPrivs: 1).
status_of() { sed -n "s/^$1:[[:space:]]*//p" "/proc/$DAEMON_PID/status" 2>/dev/null; }
say "{\"step\": \"daemon\", \"pid\": \"$DAEMON_PID\", \"exec_parent\": \"$(ctx_of "$DAEMON_PID" prev)\", \"current\": \"$(ctx_of "$DAEMON_PID" current)\", \"threads\": [$threads], \"seen\": [$seen], \"seccomp\": \"$(status_of Seccomp)\", \"no_new_privs\": \"$(status_of NoNewPrivs)\"}"
if [ -n "$LAB_PEER_CONFINED" ]; then
    # The peer runs confined too: its state, as the daemon's above.
    PEER_PID=$(peer_pids "$LAB_PEER_NAME" | sort -n | head -n 1)
    say "{\"step\": \"peer\", \"pid\": \"$PEER_PID\", \"exec_parent\": \"$(ctx_of "$PEER_PID" prev)\", \"current\": \"$(ctx_of "$PEER_PID" current)\", \"seccomp\": \"$(sed -n 's/^Seccomp:[[:space:]]*//p' "/proc/$PEER_PID/status" 2>/dev/null)\"}"
fi
mark traffic-end
if [ -n "$LAB_BENCH" ]; then
    # bench/lab_filter_pps.py: the tunnel measured, nothing else.
    mark bench
    type scenario_bench > /dev/null 2>&1 && scenario_bench > /tmp/bench.txt 2>&1
    block bench /tmp/bench.txt
    finish
fi

# After startup, what a deployment does: the scenario's own long run (OpenVPN: renegotiations,
# keepalive), a client reconnecting, restart requests (each followed by the supervisor's
# restart), then syslogd restarting (the daemon's next syslog() must make a new connection).
mark longrun
# Traffic again: the client reconnects where the scenario has one, else the same traffic step.
traffic_again() {
    if type scenario_reconnect > /dev/null 2>&1; then scenario_reconnect; else scenario_traffic; fi
}
type scenario_longrun > /dev/null 2>&1 && scenario_longrun
if type scenario_reconnect > /dev/null 2>&1; then
    TUNNEL_STEP=tunnel-reconnected
    scenario_reconnect
    TUNNEL_STEP=tunnel
fi
for sig in ${LAB_RESTART_SIGNALS:-HUP}; do
    old_pid=$(scenario_pid)
    kill -"$sig" "$old_pid"
    gone=false
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        [ -d "/proc/$old_pid" ] || { gone=true; break; }
        sleep 0.5
    done
    # The supervisor: start the daemon again from init_t, as at boot.
    scenario_start 3>&-
    sleep "${LAB_SETTLE:-2}"
    TUNNEL_STEP="tunnel-after-$sig"
    traffic_again
    TUNNEL_STEP=tunnel
    # Once traffic passed (a client switches only then, after it forked).
    new_pid=$(scenario_pid)
    say "{\"step\": \"restart\", \"signal\": \"$sig\", \"old_pid\": \"$old_pid\", \"gone\": $gone, \"new_pid\": \"$new_pid\", \"current\": \"$(ctx_of "$new_pid" current)\"}"
done
mark syslog-restart
kill "$SYSLOGD_PID"
sleep 0.5
start_syslogd
logger -t selkit-lab "syslogd restarted"
TUNNEL_STEP=tunnel-after-syslogd
traffic_again
TUNNEL_STEP=tunnel
logged=$(sed -n '/selkit-lab: syslogd restarted/,$p' /var/log/messages | grep -c " $LAB_NAME\[")
say "{\"step\": \"syslog-restarted\", \"daemon_lines\": $logged}"
mark longrun-end
block net /tmp/net.log
block daemon-log /tmp/daemon.log
block syslog /var/log/messages
if [ -n "$LAB_PROBE_STEADY" ]; then
    # The battery's targets: a victim process (initrc_t), a mail relay port nobody may reach.
    /lab/peer/selkit-probe victim > /tmp/victim.out 2>&1 &
    VICTIM_PID=$!
    nc -ll -p 25 -e /bin/cat &
    sleep 0.5
    # The confined run: exec'd by init_t from the daemon's own entry file, so it starts in the
    # startup domain and enters the steady one exactly as the daemon does (the steady child's
    # lines are printed by the startup-domain parent, into init_t's pipe, which the spec's
    # 'stdio' allows).
    mark probe-steady
    eval "$LAB_PROBE_STEADY" 2>&1 3>&- < /dev/null | cat > /tmp/probe-steady.txt
    block probe-steady /tmp/probe-steady.txt
    # Again, each attempt under the steady seccomp filter, loaded as the daemon's patch does.
    mark probe-filtered
    eval "$LAB_PROBE_FILTERED" 2>&1 3>&- < /dev/null | cat > /tmp/probe-filtered.txt
    block probe-filtered /tmp/probe-filtered.txt
    # As the daemon's unprivileged user (dropped before the switch, as the daemon does): what
    # DAC and SELinux together leave a compromised steady daemon.
    mark probe-user
    eval "$LAB_PROBE_USER" 2>&1 3>&- < /dev/null | cat > /tmp/probe-user.txt
    block probe-user /tmp/probe-user.txt
    # The default column: the same battery in initrc_t, how the daemon runs without selkit.
    mark probe-default
    eval "$LAB_PROBE_DEFAULT" 2>&1 3>&- < /dev/null | cat > /tmp/probe-default.txt
    block probe-default /tmp/probe-default.txt
fi
finish
