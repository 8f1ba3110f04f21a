#!/usr/bin/env bash
# ethtool on both ends' TAPs on xnet-sim: `ethtool -k` on vif1.0 (dom0) and
# on eth0 (the guest) shows every xnetctl change, `ethtool -K` on either
# becomes that end's policy keys (seen by xnetctl -k, kept across a policy
# change, a reconnect and a restart of each daemon), a change xnet cannot
# show is put back with the reason logged, and all of it while iperf3 runs
# to the outside with tshark checking every checksum that leaves the host.
# Then each per-protocol checksum toggle of each end and direction, with
# TCP and UDP over IPv4 and IPv6, its counters asserted.
# Summary line for tests/run-suites:
#   sim-ethtool: N passed, M failed
#
# Usage: tests/integration/sim-ethtool.sh BUILD_DIR
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
sim="$build/xnet-sim"
dir=$(mktemp -d /tmp/xnet-sim-ethtool.XXXXXX)
export XNET_SIM_DIR="$dir"
out="xnet-eout-$$"
capture_pid=
iperf_pid=

cleanup() {
    [[ -n "$capture_pid" ]] && kill "$capture_pid" 2>/dev/null
    [[ -n "$iperf_pid" ]] && kill "$iperf_pid" 2>/dev/null
    "$sim" stop >/dev/null 2>&1
    ip netns del "$out" 2>/dev/null
    keep_on_failure sim-ethtool
    rm -rf "$dir"
}
trap cleanup EXIT
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

bkey() { as 0 xenstore-read "backend/vif/1/0/offload/$1"; }
fkey() { as 1 xenstore-read "device/vif/0/offload/$1"; }
bset() { as 0 xenstore-write "backend/vif/1/0/offload/$1" "$2"; }
fset() { as 1 xenstore-write "device/vif/0/offload/$1" "$2"; }
bstats() { "$build/xnetctl" --json --control "$dir/dom0/xnetback.sock" -S vif1.0; }
fstats() { "$build/xnetctl" --json --control "$dir/dom1/xnetfront-0.sock" -S eth0; }
ctl() { as 0 "$build/xnetctl" --control "$dir/dom0/xnetback.sock" "$@"; }
gctl() { indom 1 env XNET_SIM_DOMID=1 "$build/xnetctl" --control "$dir/dom1/xnetfront-0.sock" "$@"; }
# feature NS-CMD... IF NAME: ethtool -k's word for NAME on IF ("on"/"off")
feature() {
    local ifname=${*: -2:1} name=${*: -1}
    "${@:1:$#-2}" ethtool -k "$ifname" |
        sed -n "s/^[[:space:]]*$name: \([a-z]*\).*/\1/p"
}
bfeat() { feature in0 vif1.0 "$1"; }
ffeat() { feature indom 1 eth0 "$1"; }

start_backend() {
    "$sim" exec 0 -- "$build/xnetback" >>"$dir/xnetback.log" 2>&1 &
    disown
    wait_for 5 test -S "$dir/dom0/xnetback.sock"
}
start_frontend() {
    "$sim" exec 1 -- "$build/xnetfront" --devid 0 >>"$dir/xnetfront-1.log" 2>&1 &
    disown
    wait_for 10 indom 1 ip link show eth0 || return 1
    indom 1 ip link set lo up
    indom 1 ip addr add 10.10.0.11/24 dev eth0
    indom 1 ip -6 addr add fd10::11/64 dev eth0 nodad
    indom 1 ip link set eth0 up
}

# --- topology: dom0 bridge, guest 1, the outside behind a veth ------------
"$sim" start >/dev/null || { echo "sim-ethtool: 0 passed, 1 failed"; exit 1; }
bridged_outside uplink eth0
start_backend
"$sim" domain create 1 >/dev/null
"$sim" vif add 1 --mac 00:16:3e:00:00:01 >/dev/null
in0 ip link set vif1.0 master xenbr0
in0 ip link set vif1.0 up
bset profile offload
as 1 xenstore-write device/vif/0/offload/profile offload
start_frontend
check "guest 1 connected" wait_for 10 connected 1

# --- ethtool -k shows every xnetctl change, on both ends --------------------
check "offload: vif1.0 shows tx-checksumming on" equals on bfeat tx-checksumming
check "offload: vif1.0 shows tcp-segmentation-offload on" equals on bfeat tcp-segmentation-offload
check "offload: the guest's eth0 shows tx-checksumming on" equals on ffeat tx-checksumming
check "offload: the guest's eth0 shows TSO on" equals on ffeat tcp-segmentation-offload
# shows WORD SETTING FEATURE VALUE: after xnetctl -K (WORD: ctl/gctl)
# SETTING VALUE, ethtool -k on that end shows FEATURE VALUE
shows() {
    local feat=bfeat
    [[ $1 == gctl ]] && feat=ffeat
    "$1" -K "$([[ $1 == ctl ]] && echo vif1.0 || echo eth0)" "$2" "$4" >/dev/null &&
        wait_for 10 equals "$4" "$feat" "$3"
}
for word in ctl gctl; do
    for s in "tx tx-checksumming" "sg scatter-gather" "tso tcp-segmentation-offload" \
        "tso4 tx-tcp-segmentation" "tso6 tx-tcp6-segmentation"; do
        read -r setting feat <<<"$s"
        check "$word -K $setting off: ethtool -k shows $feat off" shows "$word" "$setting" "$feat" off
        check "$word -K $setting on: ethtool -k shows $feat on" shows "$word" "$setting" "$feat" on
    done
    check "$word -K tx off: TSO off with it" shows "$word" tx tcp-segmentation-offload off
    check "$word -K tx on: TSO back" shows "$word" tx tcp-segmentation-offload on
done
check "connected after the xnetctl changes" wait_for 20 connected 1

# --- ethtool -K on both ends while iperf3 runs to the outside ---------------
ip netns exec "$out" tcpdump -Q in -c 200000 -i eth0 -w "$dir/outside.pcap" >/dev/null 2>&1 &
capture_pid=$!
ip netns exec "$out" timeout 90 iperf3 -s -1 -p 5301 >/dev/null 2>&1 &
wait_for 5 ip netns exec "$out" sh -c "ss -ltn | grep -q :5301"
indom 1 timeout 80 iperf3 -c 10.10.0.100 -p 5301 -t 60 -b 40M -J >"$dir/iperf.json" 2>/dev/null &
iperf_pid=$!

# the guest's end
check "guest: ethtool -K eth0 tx off" indom 1 ethtool -K eth0 tx off
check "guest: written as its key" wait_for 5 equals off fkey tx-checksum
check "guest: applied" wait_for 5 json_is policy.tx-checksum=off -- fstats
check "guest: xnetctl -k eth0 agrees" wait_for 5 has "tx-checksum: off [set]" gctl -k eth0
check "guest: ethtool -k eth0 tso off with it" wait_for 5 equals off ffeat tcp-segmentation-offload
partial0=$(counter "$(fstats)" tx csum_partial)
sleep 1
check "guest: with tx off no partial goes on the ring" equals "$partial0" counter "$(fstats)" tx csum_partial
# The kernel itself keeps TSO off without checksums (ethtool says it
# could not change it): nothing reaches xnet, nothing is written.
indom 1 ethtool -K eth0 tso on >/dev/null 2>&1
check "guest: tso on while tx is off: the kernel keeps it off" equals off ffeat tx-tcp-segmentation
check "guest: ... and nothing is written" sh -c "! as 1 xenstore-read device/vif/0/offload/tcp-segmentation-offload"
check "guest: an unrelated change" fset tx-data-validated off
check "guest: ... leaves tx off" wait_for 5 json_is policy.tx-data-validated=off policy.tx-checksum=off -- fstats
check "guest: ... and ethtool -k eth0 still off" equals off ffeat tx-checksumming
check "guest: ethtool -K eth0 sg off" indom 1 ethtool -K eth0 sg off
check "guest: sg written" wait_for 5 equals off fkey scatter-gather
check "guest: sg applied after its reconnect" wait_for 20 json_is policy.scatter-gather=off -- fstats
check "guest: connected again" wait_for 20 connected 1
check "guest: ethtool -K eth0 sg on tx on" indom 1 ethtool -K eth0 sg on tx on
check "guest: both written" wait_for 5 json_is policy.scatter-gather=on policy.tx-checksum=on -- fstats
check "guest: connected again after sg on" wait_for 20 connected 1
check "guest: TSO shows again" wait_for 10 equals on ffeat tcp-segmentation-offload
# xnet refuses what the kernel would allow: TCPv4 segmentation while the
# TCPv4 checksum is off (the TAP's tx stays on for the other three)
check "guest: xnetctl -K eth0 tx-checksum-tcpv4 off" gctl -K eth0 tx-checksum-tcpv4 off
check "guest: ... tx-tcp-segmentation off with it" wait_for 5 equals off ffeat tx-tcp-segmentation
check "guest: ... tx-checksumming still on (mixed)" equals on ffeat tx-checksumming
check "guest: ethtool -K eth0 tx-tcp-segmentation on" indom 1 ethtool -K eth0 tx-tcp-segmentation on
check "guest: ... refused with the reason logged" wait_for 5 grep -q \
    "ethtool -K tx-tcp-segmentation on refused: TCP segmentation needs tx-checksumming on (tx-checksum-tcpv4 is off); put back" \
    "$dir/xnetfront-1.log"
check "guest: ... put back" wait_for 5 equals off ffeat tx-tcp-segmentation
check "guest: ... tso6 untouched" equals on ffeat tx-tcp6-segmentation
check "guest: ... nothing written for it" sh -c "! as 1 xenstore-read device/vif/0/offload/tx-tcp-segmentation"
check "guest: xnetctl -K eth0 tx-checksum-tcpv4 on" gctl -K eth0 tx-checksum-tcpv4 on
check "guest: ... tx-tcp-segmentation back" wait_for 5 equals on ffeat tx-tcp-segmentation

# the backend's end
check "dom0: ethtool -K vif1.0 tso off" in0 ethtool -K vif1.0 tso off
check "dom0: written as the group's key" wait_for 5 equals off bkey tcp-segmentation-offload
check "dom0: connected after tso off" wait_for 20 connected 1
check "dom0: ethtool -K vif1.0 tx off" in0 ethtool -K vif1.0 tx off
check "dom0: written as its key" wait_for 5 equals off bkey tx-checksum
check "dom0: xnetctl -k vif1.0 agrees" wait_for 5 has "tx-checksum: off [set]" ctl -k vif1.0
check "dom0: ethtool -K vif1.0 tx on" in0 ethtool -K vif1.0 tx on
check "dom0: tx on, TSO still off (its own key)" \
    wait_for 5 json_is policy.tx-checksum=on policy.tcp-segmentation-offload=off -- bstats
check "dom0: ethtool -K vif1.0 tx-tcp6-segmentation on" in0 ethtool -K vif1.0 tx-tcp6-segmentation on
check "dom0: tso6 on, tso4 off" wait_for 20 json_is policy.tx-tcp6-segmentation=on \
    policy.tx-tcp-segmentation=off -- bstats
check "dom0: connected after the TSO changes" wait_for 20 connected 1
check "dom0: ethtool -k vif1.0 shows tso6 on" wait_for 10 equals on bfeat tx-tcp6-segmentation
check "dom0: ... and tso4 off" equals off bfeat tx-tcp-segmentation

# kept across daemon restarts: the keys set the new TAPs
pkill -f "$build/xnetback" && wait_for 5 sh -c "! pgrep -f '$build/xnetback'"
start_backend
check "dom0: after an xnetback restart, connected again" wait_for 30 connected 1
check "dom0: ... tso4 still off on vif1.0" wait_for 10 equals off bfeat tx-tcp-segmentation
check "dom0: ... tso6 still on" equals on bfeat tx-tcp6-segmentation
indom 1 ethtool -K eth0 tx off >/dev/null
wait_for 5 equals off fkey tx-checksum
pkill -f "$build/xnetfront" && wait_for 5 sh -c "! pgrep -f '$build/xnetfront'"
start_frontend
check "guest: after an xnetfront restart, connected again" wait_for 30 connected 1
check "guest: ... its new eth0 shows tx off" wait_for 10 equals off ffeat tx-checksumming
check "guest: ... xnetctl -k eth0 agrees" has "tx-checksum: off [set]" gctl -k eth0
indom 1 ethtool -K eth0 tx on >/dev/null
check "guest: tx back on" wait_for 5 equals on fkey tx-checksum

wait "$iperf_pid" 2>/dev/null
iperf_pid=
check "iperf3 through all of it ended cleanly" \
    /usr/bin/python3 -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1]))["end"]["sum_sent"]["bytes"] > 0 else 1)' \
    "$dir/iperf.json"
kill "$capture_pid" 2>/dev/null
wait "$capture_pid" 2>/dev/null
capture_pid=
check "tshark: the capture has TCP from the guest" test "$(tshark_r "$dir/outside.pcap" -Y "ip.src==10.10.0.11 && tcp" 2>/dev/null | wc -l)" -gt 1000
check "tshark: every checksum valid outside" equals 0 bad_checksums "$dir/outside.pcap"

# --- each per-protocol toggle, each end, each direction ---------------------
# kinds FROM-NS-CMD... : 20 TCP SYNs and 20 UDP datagrams over IPv4 and
# IPv6 from there to the other side (closed ports: the frames are enough)
kinds() {
    local to4=10.10.0.100 to6=fd10::100
    [[ $1 == inout ]] && to4=10.10.0.11 to6=fd10::11
    "$@" /usr/bin/python3 -c '
import socket, sys
for fam, addr in ((socket.AF_INET, sys.argv[1]), (socket.AF_INET6, sys.argv[2])):
    for _ in range(20):
        u = socket.socket(fam, socket.SOCK_DGRAM)
        u.sendto(b"x" * 200, (addr, 9))
        u.close()
        t = socket.socket(fam, socket.SOCK_STREAM)
        t.settimeout(0.5)
        try:
            t.connect((addr, 9))
        except OSError:
            pass
        t.close()' "$to4" "$to6"
}
# pcount STATS-CMD DIR PROTO NAME: one per-protocol counter
pcount() {
    "$1" | /usr/bin/python3 -c 'import json, sys
print(json.load(sys.stdin)["counters"][sys.argv[1]]["by_protocol"][sys.argv[2]][sys.argv[3]])' "$2" "$3" "$4"
}
# toggle END DIR PROTO: with END's DIR-checksum-PROTO off, frames of PROTO
# in that direction are completed by xnet and the others still go partial
toggle() {
    local end=$1 d=$2 p=$3 stats set from other
    [[ $end == backend ]] && stats=bstats set=bset || stats=fstats set=fset
    # the backend's tx and the frontend's rx see the outside's frames
    from="indom 1"
    [[ "$end$d" == backendtx || "$end$d" == frontendrx ]] && from=inout
    [[ $p == tcpv4 ]] && other=udpv6 || other=tcpv4
    $set "$d-checksum-$p" off
    wait_for 10 json_is "policy.$d-checksum-$p=off" -- $stats || return 1
    wait_for 20 connected 1 || return 1
    local done0 part0
    done0=$(pcount $stats "$d" "$p" csum_completed)
    part0=$(pcount $stats "$d" "$other" csum_partial)
    # shellcheck disable=SC2086 # $from is a command and its argument
    kinds $from
    local done1 part1
    done1=$(pcount $stats "$d" "$p" csum_completed)
    part1=$(pcount $stats "$d" "$other" csum_partial)
    $set "$d-checksum-$p" on
    echo "$end $d $p: completed $done0 -> $done1, $other partial $part0 -> $part1" >>"$dir/toggles.log"
    [[ $done1 -ge $((done0 + 20)) && $part1 -ge $((part0 + 20)) ]]
}
for end in backend frontend; do
    for d in tx rx; do
        for p in tcpv4 udpv4 tcpv6 udpv6; do
            check "$end $d-checksum-$p off: $p completed by xnet, the others partial" toggle "$end" "$d" "$p"
        done
    done
done
check "connected at the end" wait_for 20 connected 1
check_log_clean "xnetback logged no error" "$dir/xnetback.log"
summary sim-ethtool
