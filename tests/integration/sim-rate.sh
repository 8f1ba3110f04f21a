#!/usr/bin/env bash
# A vif's rate on xnet-sim, as xl's rate= sets it: guest 1's vif is made
# with `--rate 10Mb/s` (libxl's key, 62500,50000), guest 2's without. The
# backend holds guest 1's transmit to its credit (the counter grows, the
# rate stays under the ceiling the credit sets), serves guest 2 at full
# speed meanwhile, takes a live change (xnetctl rate) at once, and reports
# a bad key without disconnecting anyone. xnetctl -k and list show it.
# The rates asserted are the limiter's ceilings (at most 1.2 times the rate
# set: the credit cannot let more through) and ratios within this run; the
# limiter's accuracy is a bench figure (tests/bench/rate.sh).
# Summary line for tests/run-suites:
#   sim-rate: N passed, M failed
#
# Usage: tests/integration/sim-rate.sh BUILD_DIR
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
sim="$build/xnet-sim"
dir=$(mktemp -d /tmp/xnet-sim-rate.XXXXXX)
export XNET_SIM_DIR="$dir"
out="xnet-rout-$$"

cleanup() {
    "$sim" stop >/dev/null 2>&1
    ip netns del "$out" 2>/dev/null
    keep_on_failure sim-rate
    rm -rf "$dir"
}
trap cleanup EXIT
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

ctl() { as 0 "$build/xnetctl" --control "$dir/dom0/xnetback.sock" "$@"; }
gctl() { indom 1 env XNET_SIM_DOMID=1 "$build/xnetctl" --control "$dir/dom1/xnetfront-0.sock" "$@"; }
back_pid() { pgrep -f "^$build/xnetback" | head -n 1; }
# throttled VIF: how often its guest's transmit waited for credit
throttled() { counter_top "$(ctl --json -S "$1")" rate_throttled; }
# sends DOMID SECONDS: guest DOMID -> dom0, one TCP stream, in bit/s
sends() { bps xnet-dom0 "xnet-dom$1" 10.10.0.1 "$2"; }
# list_rate VIF: the RATE column of xnetctl list
list_rate() { ctl list | awk -v v="$1" '$1 == v { print $NF }'; }
error_node() { as 0 xenstore-read error/backend/vif/1/0/error; }
# under CEILING BPS: BPS is above 0 and at most CEILING
under() { test "${2:-0}" -gt 0 -a "${2:-0}" -le "$1"; }

# --- topology: dom0's bridge, guest 1 limited, guest 2 not ---------------------
"$sim" start >/dev/null || { echo "sim-rate: 0 passed, 1 failed"; exit 1; }
bridged_outside uplink eth0
"$sim" exec 0 -- "$build/xnetback" --profile offload >>"$dir/xnetback.log" 2>&1 &
disown
for d in 1 2; do
    "$sim" domain create "$d" >/dev/null
    rate=()
    [[ $d == 1 ]] && rate=(--rate 10Mb/s)
    "$sim" vif add "$d" --mac "00:16:3e:00:00:0$d" "${rate[@]}" >/dev/null &&
        in0 ip link set "vif$d.0" master xenbr0 && in0 ip link set "vif$d.0" up
    "$sim" exec "$d" -- "$build/xnetfront" --devid 0 --profile offload >>"$dir/xnetfront-$d.log" 2>&1 &
    disown
    wait_for 10 indom "$d" ip link show eth0
    indom "$d" ip link set lo up
    indom "$d" ip addr add "10.10.0.1$d/24" dev eth0
    indom "$d" ip link set eth0 up
done
check "both guests connected" wait_for 20 sh -c 'ip netns exec xnet-dom1 ping -c1 -W1 10.10.0.1 &&
    ip netns exec xnet-dom2 ping -c1 -W1 10.10.0.1'
pid0=$(back_pid)

# --- what xl's rate=10Mb/s wrote, as the tools show it --------------------------
check "xnet-sim vif add --rate 10Mb/s wrote libxl's key" \
    equals 62500,50000 as 0 xenstore-read backend/vif/1/0/rate
check "xnetctl -k vif1.0: the guest's transmit rate" \
    has "rate (guest transmit): 10 Mbit/s (62500 bytes per 50 ms) [set]" ctl -k vif1.0
check "xnetctl -k eth0 in the guest shows it too" \
    has "rate (guest transmit): 10 Mbit/s" gctl -k eth0
check "xnetctl --json -k vif1.0: rate=62500,50000" json_is rate=62500,50000 -- ctl --json -k vif1.0
check "xnetctl --json -S vif1.0: the rate the backend applies" \
    json_is rate.bytes=62500 rate.usec=50000 rate.bits_per_second=10000000 -- ctl --json -S vif1.0
check "xnetctl list: RATE 10M for vif1.0" equals 10M list_rate vif1.0
check "xnetctl list: RATE - for vif2.0" equals - list_rate vif2.0

# --- the limit holds guest 1, guest 2 runs free -----------------------------------
t0=$(throttled vif1.0)
limited=$(sends 1 3)
check "guest 1 -> dom0 under rate=10Mb/s: $limited bit/s (<= 12 Mbit/s)" under 12000000 "$limited"
t1=$(throttled vif1.0)
check "vif1.0 counted its waits for credit ($t0 -> $t1)" test "${t1:-0}" -gt "${t0:-0}"
free=$(sends 2 2)
check "guest 2 -> dom0 meanwhile unlimited: $free bit/s (> 5 times guest 1's)" \
    test "${free:-0}" -gt $((${limited:-0} * 5))
check "vif2.0 never waited for credit" equals 0 throttled vif2.0

# --- a live change: xnetctl rate ----------------------------------------------------
check "xnetctl rate vif1.0 2Mb/s" ctl rate vif1.0 2Mb/s
check "... wrote 12500,50000" equals 12500,50000 as 0 xenstore-read backend/vif/1/0/rate
check "... applied at once, no reconnect" wait_for 5 grep -q 'vif1.0: guest transmit rate 2 Mbit/s' \
    "$dir/xnetback.log"
check "... vif1.0 stayed Connected" connected 1
slow=$(sends 1 3)
check "guest 1 -> dom0 under 2Mb/s: $slow bit/s (<= 2.4 Mbit/s)" under 2400000 "$slow"
check "xnetctl rate vif1.0 5MB/s@20ms (xl's interval)" ctl rate vif1.0 5MB/s@20ms
check "... wrote 100000,20000" equals 100000,20000 as 0 xenstore-read backend/vif/1/0/rate
check "xnetctl rate vif1.0 off removes the key" ctl rate vif1.0 off
check "... and the limit: rate null" wait_for 5 json_is rate=None -- ctl --json -S vif1.0
lifted=$(sends 1 2)
check "guest 1 -> dom0 unlimited again: $lifted bit/s (> 5 times under 10Mb/s)" \
    test "${lifted:-0}" -gt $((${limited:-0} * 5))

# --- bad input ----------------------------------------------------------------------
check "xnetctl rate vif1.0 10Xb/s: refused, exit 2" \
    fails_with "the unit is B/s or b/s" ctl rate vif1.0 10Xb/s
check "xnetctl rate vif1.0 10Mb/s@0ms: refused" fails_with "interval is above 0" ctl rate vif1.0 10Mb/s@0ms
check "xnetctl rate with no value: usage" fails_with "rate needs RATE" ctl rate vif1.0
check "the guest cannot set its own rate (exit 5)" \
    sh -c "ip netns exec xnet-dom1 env XNET_SIM_DOMID=1 $build/xnetctl rate eth0 1Gb/s; test \$? -eq 5"
check "a key in xl's words, not libxl's: as 0 xenstore-write rate 10Mb/s" \
    as 0 xenstore-write backend/vif/1/0/rate 10Mb/s
check "... the error node says why" wait_for 5 has "rate '10Mb/s': expected BYTES,USECS" error_node
check "... and the log" grep -q "xnetback: error: vif1.0: rate '10Mb/s'" "$dir/xnetback.log"
check "... the vif stays Connected, unlimited" json_is rate=None state=Connected -- ctl --json -S vif1.0
check "... xnetctl -k says it is not applied" has "unlimited: rate '10Mb/s'" ctl -k vif1.0
check "... guest 1 still answers" indom 1 ping -c1 -W2 10.10.0.1
check "... guest 2 still answers" indom 2 ping -c1 -W2 10.10.0.1
for bad in "0,50000" "62500,0" "5,-10" "99999999999999999999,1" "62500,50000,1"; do
    as 0 xenstore-write backend/vif/1/0/rate "$bad"
    check "rate '$bad' refused and reported" wait_for 5 has "rate '$bad'" error_node
done
check "xnetback is the process it was" test "$(back_pid)" = "$pid0"
summary sim-rate
