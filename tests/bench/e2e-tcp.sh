#!/usr/bin/env bash
# TCP end to end through xnet on xnet-sim, next to a veth pair between the
# same namespaces in the same run: iperf3 guest -> guest (across dom0's
# bridge) and guest -> dom0, with profile offload on both ends, then
# guest -> guest again with profile safe. Prints a table and the figure
# lines `make bench` collects:
#   e2e.tcp.g2g.ratio_to_veth, e2e.tcp.g2d.ratio_to_veth,
#   e2e.tcp.g2g.offload_gain (offload over safe), and the rates behind them.
#
# Usage: tests/bench/e2e-tcp.sh BUILD_DIR      (root: namespaces, TAPs)
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
sim="$build/xnet-sim"
dir=$(mktemp -d /tmp/xnet-e2e.XXXXXX)
export XNET_SIM_DIR="$dir"
seconds=3
# More daemon options, for experiments (e.g. "--busy-poll-us 0").
opts=${XNET_E2E_OPTS:-}
back_opts=${XNET_E2E_BACK_OPTS:-}  # xnetback's alone (--threads N, say)

cleanup() {
    "$sim" stop >/dev/null 2>&1  # the namespaces go, and the veths with them
    rm -rf "$dir"
}
trap cleanup EXIT
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/../integration/lib.sh"

indom() { local d=$1; shift; ip netns exec "xnet-dom$d" "$@"; }

die() {
    echo "e2e-tcp: $*" >&2
    for f in "$dir"/*.log; do [[ -f "$f" ]] && sed "s|^|$(basename "$f"): |" "$f" >&2; done
    exit 1
}

# up PROFILE: dom0 with its bridge and xnetback, guests 1 and 2 with
# xnetfront, all with PROFILE; and the veth pairs guest1-guest2 (10.20/24)
# and guest1-dom0 (10.30/24).
up() {
    local profile=$1 d
    "$sim" start >/dev/null || die "xnet-sim does not start"
    indom 0 ip link set lo up
    indom 0 ip link add xenbr0 type bridge
    indom 0 ip link set xenbr0 up
    indom 0 ip addr add 10.10.0.1/24 dev xenbr0
    # shellcheck disable=SC2086 # options split on purpose
    "$sim" exec 0 -- "$build/xnetback" --profile "$profile" $opts $back_opts >>"$dir/xnetback.log" 2>&1 &
    disown  # ended by xnet-sim stop, not waited for
    for d in 1 2; do
        "$sim" domain create "$d" >/dev/null || die "creating domain $d"
        "$sim" vif add "$d" --mac "00:16:3e:00:00:0$d" >/dev/null || die "adding vif$d.0"
        indom 0 ip link set "vif$d.0" master xenbr0
        indom 0 ip link set "vif$d.0" up
        # shellcheck disable=SC2086
        "$sim" exec "$d" -- "$build/xnetfront" --devid 0 --profile "$profile" $opts \
            >>"$dir/xnetfront-$d.log" 2>&1 &
        disown
        wait_for 10 indom "$d" ip link show eth0 || die "no eth0 in guest $d"
        indom "$d" ip link set lo up
        indom "$d" ip addr add "10.10.0.1$d/24" dev eth0
        wait_for 10 connected "$d" || die "guest $d does not connect"
    done
    ip link add vg1 netns xnet-dom1 type veth peer name vg2 netns xnet-dom2
    ip link add vd1 netns xnet-dom1 type veth peer name vd0 netns xnet-dom0
    indom 1 ip addr add 10.20.0.1/24 dev vg1
    indom 2 ip addr add 10.20.0.2/24 dev vg2
    indom 1 ip addr add 10.30.0.11/24 dev vd1
    indom 0 ip addr add 10.30.0.1/24 dev vd0
    for l in "1 vg1" "2 vg2" "1 vd1" "0 vd0"; do
        # shellcheck disable=SC2086 # "domain link" split on purpose
        set -- $l
        indom "$1" ip link set "$2" up
    done
    wait_for 10 indom 1 ping -c 1 -W 1 10.10.0.12 || die "guest 1 does not reach guest 2"
    wait_for 10 indom 1 ping -c 1 -W 1 10.10.0.1 || die "guest 1 does not reach dom0"
}

down() { "$sim" stop >/dev/null 2>&1; }

# gbps SERVER-DOM CLIENT-DOM ADDRESS: one iperf3 stream's received rate
gbps() {
    local port=$((5300 + RANDOM % 500)) out
    indom "$1" timeout $((seconds + 20)) iperf3 -s -1 -p "$port" >/dev/null 2>&1 &
    local spid=$!
    wait_for 5 indom "$1" sh -c "ss -ltn | grep -q :$port"
    out=$(indom "$2" timeout $((seconds + 15)) iperf3 -c "$3" -p "$port" -t "$seconds" -f g 2>&1)
    kill "$spid" 2>/dev/null
    wait "$spid" 2>/dev/null
    awk '/receiver/ { print $(NF - 2); found = 1 } END { if (!found) print 0 }' <<<"$out"
}

best() { printf '%s\n' "$@" | sort -g | tail -n 1; }  # best of the trials
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }

# Offload on both ends: each xnet path next to its veth, interleaved.
up offload
vg=() xg=() vd=() xd=()
for _ in 1 2; do
    vg+=("$(gbps 2 1 10.20.0.2)")
    xg+=("$(gbps 2 1 10.10.0.12)")
    vd+=("$(gbps 0 1 10.30.0.1)")
    xd+=("$(gbps 0 1 10.10.0.1)")
done
down

# Profile safe: every checksum computed and verified, no GSO on the ring.
up safe
vs=() xs=()
for _ in 1 2; do
    vs+=("$(gbps 2 1 10.20.0.2)")
    xs+=("$(gbps 2 1 10.10.0.12)")
done
down

veth_g2g=$(best "${vg[@]}") xnet_g2g=$(best "${xg[@]}")
veth_g2d=$(best "${vd[@]}") xnet_g2d=$(best "${xd[@]}")
veth_safe=$(best "${vs[@]}") xnet_safe=$(best "${xs[@]}")
[[ "$xnet_g2g" != 0 && "$xnet_g2d" != 0 && "$xnet_safe" != 0 ]] || die "a transfer moved nothing"

printf '%-34s %10s %10s %8s\n' "iperf3 TCP, 1 stream, ${seconds} s" "xnet" "veth" "ratio"
printf '%-34s %7.2f Gb %7.2f Gb %7.2fx\n' "guest -> guest (offload)" "$xnet_g2g" "$veth_g2g" \
    "$(ratio "$xnet_g2g" "$veth_g2g")"
printf '%-34s %7.2f Gb %7.2f Gb %7.2fx\n' "guest -> dom0 (offload)" "$xnet_g2d" "$veth_g2d" \
    "$(ratio "$xnet_g2d" "$veth_g2d")"
printf '%-34s %7.2f Gb %7.2f Gb %7.2fx\n' "guest -> guest (safe)" "$xnet_safe" "$veth_safe" \
    "$(ratio "$xnet_safe" "$veth_safe")"
echo "e2e.tcp.g2g.gbps $xnet_g2g Gbit/s"
echo "e2e.tcp.g2g.veth_gbps $veth_g2g Gbit/s"
echo "e2e.tcp.g2g.ratio_to_veth $(ratio "$xnet_g2g" "$veth_g2g") x"
echo "e2e.tcp.g2d.gbps $xnet_g2d Gbit/s"
echo "e2e.tcp.g2d.veth_gbps $veth_g2d Gbit/s"
echo "e2e.tcp.g2d.ratio_to_veth $(ratio "$xnet_g2d" "$veth_g2d") x"
echo "e2e.tcp.g2g.safe_gbps $xnet_safe Gbit/s"
echo "e2e.tcp.g2g.offload_gain $(ratio "$xnet_g2g" "$xnet_safe") x"
