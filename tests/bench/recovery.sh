#!/usr/bin/env bash
# What faults and policy changes cost the guests that did nothing wrong, on
# xnet-sim: the times and rates the integration suites only show (a time or
# rate threshold in a test flakes on a loaded machine; here they are
# figures). One xnetback, guest 1 with xnetfront, guest 2 with xnet-hostile.
# Prints the figure lines `make bench` collects:
#   hostile.storm.victim_ratio_to_alone  guest 1's TCP rate to dom0 while
#                                 guest 2 fires its event channel in a
#                                 loop, over its rate just before (goal:
#                                 >= 0.9)
#   hostile.storm.victim_mbps     that rate
#   hostile.flood.victim_ratio_to_alone  the same while guest 2 sends every
#                                 malformed request xnet-hostile knows,
#                                 over and over, each one a fault and a
#                                 reconnect (goal: >= 0.9)
#   hostile.flood.victim_mbps     that rate
#   fault.stall_ms                the longest xnetback loop handler while
#                                 other guests fault (2 s of the flood,
#                                 a frontend killed -9, a domain destroyed
#                                 with its vif) and nothing else happens:
#                                 how long one vif's fault holds up the
#                                 others (the loop's own tally, "loop" on
#                                 the control socket; goal: <= 20)
#   restart.reconnect_ms          xnetback killed (-9) and started again:
#                                 until both ends of guest 1's vif say
#                                 Connected
#   renegotiate.reconnect_ms      guest 1's rx-checksum turned off: until it
#                                 asks for full checksums and is Connected
#
# Usage: tests/bench/recovery.sh BUILD_DIR      (root: namespaces, TAPs)
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
sim="$build/xnet-sim"
hostile="$build/tests/tools/xnet-hostile"
dir=$(mktemp -d /tmp/xnet-recovery.XXXXXX)
export XNET_SIM_DIR="$dir"

cleanup() {
    "$sim" stop >/dev/null 2>&1
    rm -rf "$dir"
}
trap cleanup EXIT
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/../integration/lib.sh"

die() {
    echo "recovery: $*" >&2
    for f in "$dir"/*.log; do [[ -f "$f" ]] && sed "s|^|$(basename "$f"): |" "$f" >&2; done
    exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
back_pid() { pgrep -f "^$build/xnetback" | head -n 1; }
# loop [reset]: the backend loop's figures, {"loop":{...}} (and a new tally)
loop() { control_request "$dir/dom0/xnetback.sock" "loop${1:+ $1}"; }
start_backend() {
    "$sim" exec 0 -- "$build/xnetback" --profile offload --stall-ms 5 >>"$dir/xnetback.log" 2>&1 &
    disown  # ended by xnet-sim stop
}

# rate: guest 1 -> dom0 TCP for 3 s (iperf3), in Mbit/s
rate() { mbps xnet-dom0 xnet-dom1 10.10.0.1 3; }

"$sim" start >/dev/null || die "xnet-sim does not start"
for d in 1 2; do "$sim" domain create "$d" >/dev/null || die "creating domain $d"; done
in0 ip link set lo up
in0 ip link add xenbr0 type bridge
in0 ip link set xenbr0 up
in0 ip addr add 10.10.0.1/24 dev xenbr0
start_backend
for d in 1 2; do
    "$sim" vif add "$d" --mac "00:16:3e:00:00:0$d" >/dev/null || die "adding vif$d.0"
    in0 ip link set "vif$d.0" master xenbr0
    in0 ip link set "vif$d.0" up
done
"$sim" exec 1 -- "$build/xnetfront" --devid 0 --profile offload >>"$dir/xnetfront.log" 2>&1 &
disown
wait_for 10 indom 1 ip link show eth0 || die "no eth0 in guest 1"
indom 1 ip link set lo up
indom 1 ip addr add 10.10.0.11/24 dev eth0
wait_for 10 connected 1 || die "guest 1 does not connect"
wait_for 10 indom 1 ping -c 1 -W 1 10.10.0.1 || die "guest 1 does not reach dom0"

# --- the event storm: guest 2 notifies in a loop for 3 s ----------------------
alone=$(rate)
"$sim" exec 2 -- "$hostile" --platform sim --devid 0 event-storm >"$dir/storm.log" 2>&1 &
storm_pid=$!
sleep 0.3  # the storm is under way
during=$(rate)
wait "$storm_pid" || die "the event storm attack failed"
[[ "${alone:-0}" -gt 0 ]] || die "guest 1 moved nothing before the storm"

# --- the flood: guest 2 sends bad requests, faults and reconnects, in a loop ---
flood_alone=$(rate)
"$sim" exec 2 -- "$hostile" --platform sim --devid 0 --repeat 1000 all >"$dir/flood.log" 2>&1 &
flood_pid=$!
sleep 0.3
flood_during=$(rate)
kill "$flood_pid" 2>/dev/null
wait "$flood_pid" 2>/dev/null
grep -q "^ok " "$dir/flood.log" || die "the flood of bad requests did not run"
[[ "${flood_alone:-0}" -gt 0 ]] || die "guest 1 moved nothing before the flood"

# --- faults while nothing else happens: how long they hold the loop -----------
loop reset >/dev/null || die "no answer to 'loop' on the control socket"
"$sim" exec 2 -- "$hostile" --platform sim --devid 0 --repeat 1000 all >"$dir/flood2.log" 2>&1 &
flood_pid=$!
sleep 2
kill "$flood_pid" 2>/dev/null
wait "$flood_pid" 2>/dev/null
"$sim" domain create 3 >/dev/null || die "creating domain 3"
"$sim" vif add 3 --mac 00:16:3e:00:00:03 >/dev/null || die "adding vif3.0"
backend_left() { [[ "$(as 0 xenstore-read backend/vif/3/0/state)" != 4 ]]; }
tap_gone() { ! in0 ip link show vif3.0 >/dev/null 2>&1; }
front3() {
    "$sim" exec 3 -- "$build/xnetfront" --devid 0 --profile offload >>"$dir/xnetfront3.log" 2>&1 &
    front3_pid=$!
    wait_for 10 connected 3 || die "guest 3 does not connect"
}
front3
kill -9 "$front3_pid"
wait "$front3_pid" 2>/dev/null
wait_for 10 backend_left ||
    die "xnetback does not notice guest 3's frontend is gone"
front3
"$sim" domain destroy 3 >/dev/null || die "destroying domain 3"
wait "$front3_pid" 2>/dev/null  # ended with its domain
wait_for 10 tap_gone || die "vif3.0 stays after the destroy"
stall_us=$(loop | grep -o '"longest_handler_us":[0-9]*' | cut -d: -f2)

# --- xnetback killed and started again ------------------------------------------
kill -9 "$(back_pid)"
t0=$(now_ms)
start_backend
wait_for 30 connected 1 || die "guest 1 does not reconnect after the restart"
restart_ms=$(($(now_ms) - t0))
wait_for 10 indom 1 ping -c 1 -W 1 10.10.0.1 || die "guest 1 does not reach dom0 again"

# --- a renegotiation: the frontend stops taking partial checksums ---------------
renegotiated() {
    [[ "$(as 0 xenstore-read /local/domain/1/device/vif/0/feature-no-csum-offload)" == 1 ]] &&
        connected 1
}
t0=$(now_ms)
as 1 xenstore-write device/vif/0/offload/rx-checksum off
wait_for 30 renegotiated || die "guest 1 does not renegotiate"
renegotiate_ms=$(($(now_ms) - t0))

echo "guest 1 -> dom0: ${alone} Mbit/s alone, ${during} Mbit/s during guest 2's event storm"
echo "guest 1 -> dom0: ${flood_alone} Mbit/s alone, ${flood_during} Mbit/s during guest 2's flood"
ratio() { awk -v a="${1:-0}" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
echo "hostile.storm.victim_ratio_to_alone $(ratio "$during" "$alone") x"
echo "hostile.storm.victim_mbps ${during:-0} Mbit/s"
echo "hostile.flood.victim_ratio_to_alone $(ratio "$flood_during" "$flood_alone") x"
echo "hostile.flood.victim_mbps ${flood_during:-0} Mbit/s"
awk -v us="${stall_us:-0}" 'BEGIN { printf "fault.stall_ms %.1f ms\n", us / 1000 }'
echo "restart.reconnect_ms $restart_ms ms"
echo "renegotiate.reconnect_ms $renegotiate_ms ms"
