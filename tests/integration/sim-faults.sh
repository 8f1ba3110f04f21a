#!/usr/bin/env bash
# Faults on xnet-sim, with 8 guests on one backend and traffic
# on all of them:
# - xnetback killed -9 and started again: every vif reconnects within 2 s,
#   traffic resumes, no TAP or mapping is left over, the offload policy
#   (in xenstore) is what it was;
# - a guest's xnetfront killed -9: the backend lets go of that vif (its
#   event channel closed) and the others notice nothing; a new xnetfront
#   connects again;
# - a guest destroyed in mid-transfer: its vif goes, the others notice
#   nothing;
# - xnet-sim itself killed: both daemons say so and exit (a sim that comes
#   back has none of the old domains, grants or channels to go on with).
# Summary line for tests/run-suites:
#   sim-faults: N passed, M failed
#
# Usage: tests/integration/sim-faults.sh BUILD_DIR
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
sim="$build/xnet-sim"
dir=$(mktemp -d /tmp/xnet-sim-faults.XXXXXX)
export XNET_SIM_DIR="$dir"
out="xnet-out-$$"
guests=(1 2 3 4 5 6 7 8)
pings=()

cleanup() {
    for p in "${pings[@]}"; do kill "$p" 2>/dev/null; done
    pkill -9 -f "^$build/xnet-sim" 2>/dev/null
    "$sim" stop >/dev/null 2>&1
    # A sim killed on purpose leaves its namespaces to us.
    for n in $(ip netns list | awk '/^xnet-dom[0-9]+/ { print $1 }'); do ip netns del "$n"; done
    ip netns del "$out" 2>/dev/null
    keep_on_failure sim-faults
    rm -rf "$dir"
}
trap cleanup EXIT
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

ctl() { "$build/xnetctl" --control "$dir/dom0/xnetback.sock" "$@"; }
back_pid() { pgrep -f "^$build/xnetback" | head -n 1; }
back_maps() { grep -c memfd "/proc/$(back_pid)/maps"; }
# (disowned: this script kills them on purpose, and bash would say so)
start_backend() {
    "$sim" exec 0 -- "$build/xnetback" --profile offload >>"$dir/xnetback.log" 2>&1 &
    disown
    wait_for 5 ctl list
}
start_front() {  # start_front DOMID
    "$sim" exec "$1" -- "$build/xnetfront" --devid 0 --profile offload \
        >>"$dir/xnetfront-$1.log" 2>&1 &
    disown
}
# backend_connected N: the backend has N vifs, all Connected (one call:
# this is what the restart is timed by)
backend_connected() {
    [[ "$(ctl --json list 2>/dev/null | grep -o '"state":"Connected"' | grep -c .)" == "$1" ]]
}
front_pid() {  # front_pid DOMID: that guest's xnetfront
    local p
    for p in $(pgrep -f "^$build/xnetfront"); do
        tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -x "XNET_SIM_DOMID=$1" >/dev/null && echo "$p"
    done | head -n 1
}
all_connected() {
    local d
    for d in "$@"; do connected "$d" || return 1; done
}
taps() { in0 ls /sys/class/net | grep -c '^vif'; }
maps_below() { [[ $(back_maps) -lt $1 ]]; }
left_connected() { [[ "$(as 0 xenstore-read "backend/vif/$1/0/state")" != 4 ]]; }
logged() { grep "$1" "$dir/xnetback.log" | grep "$2" >/dev/null; }
# ping_bg DOMID NAME SECONDS: guest DOMID pings dom0 every 50 ms for
# SECONDS, into NAME.log (a signal cannot end it early: a script's
# background jobs ignore SIGINT, and SIGTERM would lose the summary).
ping_bg() {
    # A count, not a deadline (-w): ping exits at its deadline with the
    # last request's answer maybe still on its way, a loss that is not one.
    indom "$1" ping -i 0.05 -W 1 -c "$(($3 * 20))" 10.10.0.1 >"$dir/$2.log" 2>&1 &
    pings+=($!)
}
# lost NAME: how many of its pings got no answer (once it ended)
lost() {
    awk '/packets transmitted/ { print $1 - $4 }' "$dir/$1.log"
}
wait_pings() {
    for p in "${pings[@]}"; do wait "$p" 2>/dev/null; done
    pings=()
}

# --- 8 guests on one backend ---------------------------------------------------
"$sim" start >/dev/null || { echo "sim-faults: 0 passed, 1 failed"; exit 1; }
bridged_outside uplink eth0
check "xnetback started" start_backend
for d in "${guests[@]}"; do
    "$sim" domain create "$d" >/dev/null
    "$sim" vif add "$d" --mac "00:16:3e:00:01:0$d" >/dev/null &&
        in0 ip link set "vif$d.0" master xenbr0 && in0 ip link set "vif$d.0" up
    start_front "$d"
done
for d in "${guests[@]}"; do
    wait_for 10 indom "$d" ip link show eth0
    indom "$d" ip link set lo up
    indom "$d" ip addr add "10.10.0.$((10 + d))/24" dev eth0
done
check "8 guests connected" wait_for 10 all_connected "${guests[@]}"
check "8 guests answer" sh -c "for d in ${guests[*]}; do
    ip netns exec xnet-dom0 ping -c 1 -W 2 10.10.0.\$((10 + d)) >/dev/null || exit 1; done"
# A policy of our own on two vifs, to find again after the restart.
check "xnetctl -K vif3.0 tx off" ctl -K vif3.0 tx off
check "xnetctl profile vif5.0 safe" ctl profile vif5.0 safe
check "vif5.0 reconnected with its new profile" wait_for 10 connected 5
policy_before=$(for v in vif3.0 vif5.0; do ctl -k "$v"; done)

# --- xnetback killed -9 under traffic ------------------------------------------
for d in "${guests[@]}"; do ping_bg "$d" "restart-$d" 6; done
port=$((5200 + RANDOM % 500))
in0 timeout 30 iperf3 -s -1 -p "$port" >/dev/null 2>&1 &
wait_for 5 in0 sh -c "ss -ltn | grep -q :$port"
indom 1 timeout 20 iperf3 -c 10.10.0.1 -p "$port" -t 6 -J >"$dir/iperf-restart.json" 2>&1 &
iperf_pid=$!
sleep 1
maps_before=$(back_maps)
taps_before=$(taps)
kill -9 "$(back_pid)"
t0=$(date +%s%N)
start_backend
# How fast is for make bench (tests/bench/storm.sh); here, that it happens.
wait_for 30 backend_connected "${#guests[@]}"
ms=$((($(date +%s%N) - t0) / 1000000))
check "restart: all 8 vifs Connected again (in $ms ms)" backend_connected "${#guests[@]}"
check "restart: every frontend Connected too" wait_for 5 all_connected "${guests[@]}"
sleep 1
check "restart: every guest answers dom0 again" sh -c "for d in ${guests[*]}; do
    ip netns exec xnet-dom\$d ping -c 1 -W 2 10.10.0.1 >/dev/null || exit 1; done"
wait "$iperf_pid"
check "restart: the TCP stream across it ended cleanly" \
    grep -q '"sum_received"' "$dir/iperf-restart.json"
wait_pings
for d in "${guests[@]}"; do
    echo "      guest $d lost $(lost "restart-$d") pings across the restart"
done
check "restart: the same $taps_before TAPs, none left over ($(taps))" test "$(taps)" -eq "$taps_before"
check "restart: as many grant mappings as before ($maps_before -> $(back_maps))" \
    test "$(back_maps)" -eq "$maps_before"
check "restart: the offload policy is what it was" \
    test "$(for v in vif3.0 vif5.0; do ctl -k "$v"; done)" == "$policy_before"

# --- a guest's xnetfront killed -9 -----------------------------------------------
for d in 3 5 6; do ping_bg "$d" "front-kill-$d" 4; done
sleep 0.5
maps_before=$(back_maps)
kill -9 "$(front_pid 4)"
check "front killed: vif4.0 left Connected within 3 s" wait_for 3 left_connected 4
check "front killed: its mappings released" wait_for 3 maps_below "$maps_before"
check "front killed: xnetback logged why" logged vif4.0 'closed its event channel'
echo "      grant mappings $maps_before -> $(back_maps)"
start_front 4
check "front killed: a new xnetfront connects again" wait_for 10 connected 4
wait_for 10 indom 4 ip link show eth0
indom 4 ip link set eth0 up 2>/dev/null
indom 4 ip addr add 10.10.0.14/24 dev eth0 2>/dev/null
check "front killed: guest 4 answers again" wait_for 5 indom 4 ping -c 1 -W 1 10.10.0.1
wait_pings
for d in 3 5 6; do
    check "front killed: guest $d lost no ping ($(lost "front-kill-$d"))" test "$(lost "front-kill-$d")" -eq 0
done

# --- a guest destroyed in mid-transfer --------------------------------------------
for d in 3 6; do ping_bg "$d" "destroy-$d" 4; done
port=$((5700 + RANDOM % 200))
in0 timeout 30 iperf3 -s -1 -p "$port" >/dev/null 2>&1 &
wait_for 5 in0 sh -c "ss -ltn | grep -q :$port"
indom 7 timeout 20 iperf3 -c 10.10.0.1 -p "$port" -t 10 >/dev/null 2>&1 &
sleep 1
maps_before=$(back_maps)
pid_before=$(back_pid)
"$sim" domain destroy 7 >/dev/null
check "destroy: vif7.0 is gone" wait_for 5 sh -c "! ip netns exec xnet-dom0 ip link show vif7.0"
check "destroy: its mappings released" wait_for 3 maps_below "$maps_before"
echo "      grant mappings $maps_before -> $(back_maps)"
check "destroy: xnetback is the process it was" test "$(back_pid)" = "$pid_before"
sleep 1
wait_pings
for d in 3 6; do
    check "destroy: guest $d lost no ping ($(lost "destroy-$d"))" test "$(lost "destroy-$d")" -eq 0
done
tcp "destroy: guest 8 -> dom0 after" xnet-dom0 xnet-dom8 10.10.0.1

# --- xnet-sim killed ----------------------------------------------------------------
pkill -9 -f "^$sim start"
check "sim killed: xnetback exits" wait_for 5 sh -c "! pgrep -f '^$build/xnetback'"
check "sim killed: xnetfront exits" wait_for 5 sh -c "! pgrep -f '^$build/xnetfront'"
check "sim killed: xnetback says why" \
    grep -q 'lost the connection to xenstore.*exiting' "$dir/xnetback.log"
check "sim killed: xnetfront says why" \
    grep -q 'lost the connection to xenstore.*exiting' "$dir/xnetfront-1.log"
summary sim-faults
