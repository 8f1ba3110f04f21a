#!/usr/bin/env bash
# How closely a vif's rate (xl's rate=, the credit scheduler of
# netif/credit.h) holds a guest's transmit to what was set, on xnet-sim:
# guest 1's vif made with --rate, one iperf3 TCP stream to dom0 for 6 s,
# the rate its receiver measured over the rate set. Prints the figure lines
# `make bench` collects:
#   rate.10mbit.ratio_to_set   under rate=10Mb/s (goal: 0.9 to 1.0)
#   rate.10mbit.mbps           that rate
#   rate.100mbit.ratio_to_set  the same under 100Mb/s, changed live with
#                              xnetctl rate (goal: 0.9 to 1.0)
#   rate.100mbit.mbps          that rate
#
# Usage: tests/bench/rate.sh BUILD_DIR      (root: namespaces, TAPs)
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
sim="$build/xnet-sim"
dir=$(mktemp -d /tmp/xnet-rate.XXXXXX)
export XNET_SIM_DIR="$dir"
out="xnet-rbout-$$"

cleanup() {
    "$sim" stop >/dev/null 2>&1
    ip netns del "$out" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/../integration/lib.sh"

die() {
    echo "rate: $*" >&2
    exit 1
}
# figure NAME SET_MBIT: guest 1's rate to dom0 over the rate set
figure() {
    local got
    got=$(bps xnet-dom0 xnet-dom1 10.10.0.1 6)
    [[ -n $got ]] || die "iperf3 measured nothing under $2 Mbit/s"
    awk -v n="$1" -v b="$got" -v s="$2" 'BEGIN {
        printf "rate.%s.ratio_to_set %.3f ratio\n", n, b / (s * 1e6)
        printf "rate.%s.mbps %.2f Mbit/s\n", n, b / 1e6 }'
}

"$sim" start >/dev/null || die "xnet-sim does not start"
bridged_outside uplink eth0
"$sim" exec 0 -- "$build/xnetback" --profile offload >>"$dir/xnetback.log" 2>&1 &
disown
"$sim" domain create 1 >/dev/null
"$sim" vif add 1 --mac 00:16:3e:00:00:01 --rate 10Mb/s >/dev/null || die "vif add"
in0 ip link set vif1.0 master xenbr0 && in0 ip link set vif1.0 up
"$sim" exec 1 -- "$build/xnetfront" --devid 0 --profile offload >>"$dir/xnetfront.log" 2>&1 &
disown
wait_for 10 indom 1 ip link show eth0 || die "no eth0 in guest 1"
indom 1 ip link set lo up
indom 1 ip addr add 10.10.0.11/24 dev eth0
indom 1 ip link set eth0 up
wait_for 20 indom 1 ping -c1 -W1 10.10.0.1 || die "guest 1 does not reach dom0"

figure 10mbit 10
as 0 "$build/xnetctl" --control "$dir/dom0/xnetback.sock" rate vif1.0 100Mb/s || die "xnetctl rate"
figure 100mbit 100
