# Helpers shared by the integration suites (sourced, not run). The caller
# sets $sim (the xnet-sim binary) and exports XNET_SIM_DIR; $dir (its work
# directory) and $out (the outside namespace) where helpers below use them.
# shellcheck shell=bash

: "${sim:?lib.sh needs \$sim, the xnet-sim binary}"
passed=0
failed=0
# The hotplug and xenstore scripts ask xnetctl for the policy's names: the
# build's under test (build-san has no build/ beside the scripts).
# shellcheck disable=SC2154 # $build: the caller's
[[ -n "${build:-}" ]] && export XNETCTL="$build/xnetctl"

in0() { ip netns exec xnet-dom0 "$@"; }                       # in dom0's namespace
indom() { local d=$1; shift; ip netns exec "xnet-dom$d" "$@"; } # in guest DOMID's
inout() { ip netns exec "$out" "$@"; }                          # in the suite's $out

# keep_on_failure SUITE: if a check failed, $dir (logs, captures) moves to
# /tmp/xnet-SUITE.failed for whoever reads the failure. For cleanup().
# shellcheck disable=SC2154 # $dir: the caller's
keep_on_failure() {
    [[ $failed -gt 0 ]] || return 0
    rm -rf "/tmp/xnet-$1.failed" && mv "$dir" "/tmp/xnet-$1.failed" &&
        echo "$1: logs kept in /tmp/xnet-$1.failed"
}

# bridged_outside UPLINK OUTIF: dom0's bridge xenbr0 (10.10.0.1, fd10::1),
# and the outside namespace $out (made if need be) on it through a veth,
# UPLINK in dom0 and OUTIF outside (10.10.0.100, fd10::100). UPLINK
# completes every checksum in software (tx off), as a NIC without checksum
# offload would, so a capture outside checks what xnet handed the kernel.
bridged_outside() {
    in0 ip link set lo up
    in0 ip link add xenbr0 type bridge
    in0 ip link set xenbr0 up
    in0 ip addr add 10.10.0.1/24 dev xenbr0
    in0 ip -6 addr add fd10::1/64 dev xenbr0 nodad
    [[ -e "/run/netns/$out" ]] || ip netns add "$out"
    ip link add "$1" netns xnet-dom0 type veth peer name "$2" netns "$out"
    in0 ip link set "$1" master xenbr0
    in0 ip link set "$1" up
    in0 ethtool -K "$1" tx off >/dev/null
    inout ip link set lo up
    inout ip link set "$2" up
    inout ip addr add 10.10.0.100/24 dev "$2"
    inout ip -6 addr add fd10::100/64 dev "$2" nodad
}

check() {  # check NAME CMD... : CMD must succeed
    local name=$1
    shift
    if "$@" >/dev/null 2>&1; then
        echo "ok    $name"
        passed=$((passed + 1))
    else
        echo "FAIL  $name"
        failed=$((failed + 1))
    fi
}

# check_log_clean NAME LOG: LOG has no line that a daemon logged as an
# error ("xnetback: error: ..."; not merely the word, as in an info line
# quoting GNTST_general_error). On failure the first few are printed, for
# a CI log that is all one has.
check_log_clean() {
    local pattern='^[a-z-]*: error: '
    check "$1" sh -c "! grep -q '$pattern' '$2'"
    grep "$pattern" "$2" | head -5 | sed 's/^/      /'
    return 0
}

as() {  # as DOMID CMD...: run CMD acting as that domain
    local dom=$1
    shift
    (eval "$("$sim" env "$dom")" && "$@")
}

equals() {  # equals EXPECTED CMD...
    local want=$1
    shift
    [[ "$("$@" 2>&1)" == "$want" ]]
}

has() {  # has TEXT CMD...: CMD's output contains TEXT
    local text=$1
    shift
    [[ "$("$@" 2>&1)" == *"$text"* ]]
}

# json_is PATH=VALUE... -- CMD...: CMD prints JSON in which every dotted
# PATH (object keys; a key may hold dashes) holds VALUE
json_is() {
    local paths=()
    while [[ $1 != -- ]]; do paths+=("$1"); shift; done
    shift
    "$@" 2>/dev/null | /usr/bin/python3 -c 'import json, sys
doc = json.load(sys.stdin)
for arg in sys.argv[1:]:
    path, want = arg.split("=", 1)
    v = doc
    for k in path.split("."):
        v = v.get(k) if isinstance(v, dict) else None
    got = str(v).lower() if isinstance(v, bool) else str(v)
    if got != want:
        sys.exit(1)' "${paths[@]}"
}

fails_with() {  # fails_with TEXT CMD...: CMD fails and says TEXT
    local text=$1 out
    shift
    if out=$("$@" 2>&1); then return 1; fi
    [[ "$out" == *"$text"* ]]
}

wait_for() {  # wait_for SECONDS CMD...: until CMD succeeds
    local t=$(($1 * 10))
    shift
    while ((t-- > 0)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# tshark_r PCAP ARG...: tshark over a capture without reassembling TCP
# streams. The checks here look at frames one by one, and a stream on a
# port some dissector claims (iperf3's ports are random) can otherwise
# take tshark many minutes to reassemble: one of 117 000 frames did.
tshark_r() {
    local f=$1
    shift
    tshark -n -r "$f" -o tcp.desegment_tcp_streams:FALSE "$@"
}

# bad_checksums PCAP: how many frames have an IP, TCP or UDP checksum that
# tshark finds wrong. A TCP checksum of 0xffff where 0x0000 is computed is
# let pass: the two are the same number in ones' complement (RFC 1624 section
# 3), and Linux's software checksum (skb_checksum_help) writes 0xffff
# whenever the result is 0, for TCP as for UDP, where the dom0 kernel
# completes a partial. xnet itself stores 0x0000 in TCP (frame_csum.h).
bad_checksums() {
    tshark_r "$1" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
        -o udp.check_checksum:TRUE -T fields -e frame.number -Y 'ip.checksum.status == 0 ||
        udp.checksum.status == 0 || (tcp.checksum.status == 0 &&
        !(tcp.checksum == 0xffff && tcp.checksum_calculated == 0x0000))' 2>/dev/null | grep -c .
}

connected() {  # connected DOMID: both ends of the guest's vif 0 say Connected
    [[ "$(as 0 xenstore-read "backend/vif/$1/0/state")" == 4 &&
        "$(as 0 xenstore-read "/local/domain/$1/device/vif/0/state")" == 4 ]]
}

# counter_top JSON NAME: a counter of the vif itself (not of a direction)
# from a daemon's stats reply: faults, notifications_*, rate_throttled
counter_top() { grep -o "\"$2\":[0-9]*" <<<"$1" | tail -n 1 | cut -d: -f2; }

counter() {  # counter JSON DIRECTION NAME: a counter from a daemon's stats reply
    grep -o "\"$2\":{[^}]*" <<<"$1" | grep -o "\"$3\":[0-9]*" | cut -d: -f2
}

# control_request SOCKET REQUEST: a daemon's raw answer on its control socket
# (for requests xnetctl has no verb for: loop, memory)
control_request() {
    python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall((sys.argv[2] + "\n").encode())
print(s.makefile().read())' "$1" "$2"
}

# heap_bytes SOCKET: the bytes the daemon's allocator has handed out and not
# had back (its "memory" request). Unlike the RSS it means the same under
# ASan, whose quarantine of freed blocks keeps the RSS growing.
heap_bytes() { control_request "$1" memory | grep -o '"heap_bytes":[0-9]*' | cut -d: -f2; }

# tcp NAME SERVER-NS CLIENT-NS ADDRESS [iperf3 client options]: an iperf3
# run of $tcp_bytes (default 32 MiB) that must end cleanly with all of it
# sent. A volume, not a time: a rate threshold flakes on a loaded machine
# (rates are make bench's); the 60 s limit only ends a hang. The sender can
# only have written it all once all but its socket buffer (a few MiB) was
# acknowledged, so a path that drops or corrupts frames fails here; the
# receiver's own count stops at the end of the test, before the last bytes
# in flight, so it is shown rather than compared. $tcp_port: the server's
# port (default random), $tcp_dport: the one the client dials (default the
# same; another through a port forward).
tcp() {
    local name=$1 srv=$2 cli=$3 addr=$4 port=${tcp_port:-$((5200 + RANDOM % 500))}
    local dport=${tcp_dport:-$port}
    local want=${tcp_bytes:-33554432}
    shift 4
    ip netns exec "$srv" timeout 70 iperf3 -s -1 -p "$port" >/dev/null 2>&1 &
    local spid=$!
    wait_for 5 ip netns exec "$srv" sh -c "ss -ltn | grep -q :$port"
    local sent=0 received=0
    read -r sent received < <(ip netns exec "$cli" timeout 60 iperf3 -c "$addr" -p "$dport" \
        -n "$want" -J "$@" 2>/dev/null | /usr/bin/python3 -c 'import json, sys
e = json.load(sys.stdin)["end"]
print(e["sum_sent"]["bytes"], e["sum_received"]["bytes"])' 2>/dev/null)
    kill "$spid" 2>/dev/null  # a server whose client never came
    wait "$spid" 2>/dev/null
    check "$name (${sent:-0} bytes sent, ${received:-0} received)" \
        test "${sent:-0}" -ge "$want" -a "${received:-0}" -gt 0
}

# bps SERVER-NS CLIENT-NS ADDRESS SECONDS: one iperf3 TCP stream's rate as
# its receiver measured it, in bit/s; mbps: in Mbit/s. For showing (suites)
# or measuring (benches); a suite judges a rate only against a ceiling a
# limiter sets, or against another rate of the same run.
bps() {
    local srv=$1 cli=$2 addr=$3 seconds=$4 port=$((5200 + RANDOM % 500))
    ip netns exec "$srv" timeout 30 iperf3 -s -1 -p "$port" >/dev/null 2>&1 &
    local spid=$!
    wait_for 5 ip netns exec "$srv" sh -c "ss -ltn | grep -q :$port"
    ip netns exec "$cli" timeout 20 iperf3 -c "$addr" -p "$port" -t "$seconds" -J 2>/dev/null |
        sed -n 's/.*"bits_per_second":[[:space:]]*\([0-9.e+]*\).*/\1/p' | tail -n 1 |
        awk '{ printf "%.0f\n", $1 }'
    wait "$spid" 2>/dev/null
}
mbps() {
    local b
    b=$(bps "$@")
    [[ -n $b ]] && echo $((b / 1000000))
}

summary() {  # summary SUITE: the line tests/run-suites reads; fails if any check did
    echo "$1: $passed passed, $failed failed"
    [[ $failed -eq 0 ]]
}
