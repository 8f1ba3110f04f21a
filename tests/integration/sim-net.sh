#!/usr/bin/env bash
# The datapath end to end on xnet-sim: xnetback in dom0, xnetfront in two
# guests, the vifs on a bridge in dom0's namespace, and an "outside"
# namespace behind dom0 on a veth whose dom0 end completes every checksum
# in software (tx offload off), so that a capture there checks the metadata
# xnet handed the kernel. Ping and TCP on every path, both directions,
# IPv4 and IPv6; tshark on the outside link; then the handshake's
# edge cases: frontend started first, backend killed and restarted under
# traffic, a guest destroyed, 16 guests on one backend.
# Summary line for tests/run-suites:
#   sim-net: N passed, M failed
#
# Usage: tests/integration/sim-net.sh BUILD_DIR
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
sim="$build/xnet-sim"
dir=$(mktemp -d /tmp/xnet-sim-net.XXXXXX)
export XNET_SIM_DIR="$dir"
out="xnet-out-$$"  # the outside world's namespace
capture_pid=
back_pid=

cleanup() {
    [[ -n "$capture_pid" ]] && kill "$capture_pid" 2>/dev/null
    "$sim" stop >/dev/null 2>&1  # kills every daemon in the domains' namespaces
    ip netns del "$out" 2>/dev/null
    keep_on_failure sim-net
    rm -rf "$dir"
}
trap cleanup EXIT
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

start_backend() {
    "$sim" exec 0 -- "$build/xnetback" --profile offload --max-queues 2 \
        >>"$dir/xnetback.log" 2>&1 &
    back_pid=$!
}

# start_guest DOMID [OPTION...]: its xnetfront (profile offload, and the
# options) and addresses .1D / ::1D
start_guest() {
    local d=$1
    shift
    "$sim" exec "$d" -- "$build/xnetfront" --devid 0 --profile offload "$@" \
        >>"$dir/xnetfront-$d.log" 2>&1 &
    wait_for 10 indom "$d" ip link show eth0 || return 1
    indom "$d" ip link set lo up
    indom "$d" ip addr add "10.10.0.$((10 + d))/24" dev eth0
    indom "$d" ip -6 addr add "fd10::$((10 + d))/64" dev eth0 nodad
}

# bridge_vif DOMID: what vif-bridge will do: the TAP on xenbr0
bridge_vif() { in0 ip link set "vif$1.0" master xenbr0 && in0 ip link set "vif$1.0" up; }

add_vif() {  # add_vif DOMID
    "$sim" vif add "$1" --mac "00:16:3e:00:00:$(printf %02x "$1")" >/dev/null && bridge_vif "$1"
}

ping_from() {  # ping_from NS-CMD... TARGET
    local target=${*: -1}
    "${@:1:$#-1}" ping -c 2 -i 0.2 -W 2 "$target"
}

# --- topology -------------------------------------------------------------
"$sim" start >/dev/null || { echo "sim-net: 0 passed, 1 failed"; exit 1; }
for d in 1 2; do "$sim" domain create "$d" >/dev/null; done
bridged_outside uplink eth0
# ip netns exec execs tcpdump, so $! is tcpdump itself. The first 20000
# frames are plenty for tshark and keep it quick.
ip netns exec "$out" tcpdump -Q in -c 20000 -i eth0 -w "$dir/outside.pcap" >/dev/null 2>&1 &
capture_pid=$!

start_backend
# Guest 2 asks for two queues (the backend offers up to 2).
for d in 1 2; do
    check "vif$d.0 added (backend reached InitWait)" add_vif "$d"
    check "guest $d: xnetfront up" start_guest "$d" --queues "$d"
    check "guest $d: connected" wait_for 10 connected "$d"
done
check "TAP vif1.0 has the virtio header and offloads" \
    sh -c "ip netns exec xnet-dom0 ethtool -k vif1.0 | grep -q 'tx-checksumming: on'"

# --- every path, both directions --------------------------------------------
g1=(indom 1) g2=(indom 2) d0=(in0) o=(inout)
check "ping guest1 -> dom0" ping_from "${g1[@]}" 10.10.0.1
check "ping dom0 -> guest1" ping_from "${d0[@]}" 10.10.0.11
check "ping guest1 -> guest2" ping_from "${g1[@]}" 10.10.0.12
check "ping guest2 -> outside" ping_from "${g2[@]}" 10.10.0.100
check "ping outside -> guest1" ping_from "${o[@]}" 10.10.0.11
check "ping6 guest1 -> dom0" ping_from "${g1[@]}" fd10::1
check "ping6 guest2 -> guest1" ping_from "${g2[@]}" fd10::11
check "ping6 outside -> guest2" ping_from "${o[@]}" fd10::12

# Tagged frames. This kernel has no 802.1Q (no VLAN sub-interfaces), so
# guest 1 sends 802.1Q and QinQ frames, IPv4 and IPv6, 5 of each, with
# partial UDP checksums through a packet socket with a virtio header; they
# cross the ring as csum_blank and dom0's kernel completes them through the
# tags on the way out (checked with the capture below).
outside_mac=$(inout cat /sys/class/net/eth0/address)
check "vlan: guest 1 sent 20 tagged frames with partial checksums" \
    equals 20 indom 1 python3 "$(dirname "$0")/vlan-send.py" eth0 "$outside_mac" 5

tcp "tcp guest1 -> dom0" xnet-dom0 xnet-dom1 10.10.0.1
tcp "tcp dom0 -> guest1" xnet-dom0 xnet-dom1 10.10.0.1 -R
tcp "tcp guest1 -> guest2" xnet-dom2 xnet-dom1 10.10.0.12
tcp "tcp guest2 -> guest1" xnet-dom2 xnet-dom1 10.10.0.12 -R
tcp "tcp guest1 -> outside" "$out" xnet-dom1 10.10.0.100
tcp "tcp outside -> guest2" "$out" xnet-dom2 10.10.0.100 -R
tcp "tcp6 guest2 -> dom0" xnet-dom0 xnet-dom2 fd10::1
tcp "tcp6 outside -> guest1" "$out" xnet-dom1 fd10::100 -R

# Multi-queue: guest 2's keys in the queue-N layout, and many flows spread
# over both queues (a flow's queue follows its hash; 16 flows all on one
# queue would be a 1 in 32768 chance).
check "multi-queue: guest 2 wrote multi-queue-num-queues 2" \
    equals 2 as 0 xenstore-read /local/domain/2/device/vif/0/multi-queue-num-queues
check "multi-queue: guest 2 wrote queue-1's ring refs" \
    as 0 xenstore-read /local/domain/2/device/vif/0/queue-1/tx-ring-ref
check "multi-queue: guest 1 kept the single-queue layout" \
    as 0 xenstore-read /local/domain/1/device/vif/0/tx-ring-ref
tcp "multi-queue: tcp guest2 -> dom0, 16 streams" xnet-dom0 xnet-dom2 10.10.0.1 -P 16
tcp "multi-queue: tcp dom0 -> guest2, 16 streams" xnet-dom0 xnet-dom2 10.10.0.1 -P 16 -R
"$build/xnetctl" --json --control "$dir/dom0/xnetback.sock" -S vif2.0 >"$dir/stats2.json"
check "multi-queue: both of vif2.0's queues moved frames" \
    grep -qE '"queues":2,"queue_packets":\[[1-9][0-9]*,[1-9][0-9]*\]' "$dir/stats2.json"

"$build/xnetctl" --json --control "$dir/dom0/xnetback.sock" -S vif1.0 >"$dir/stats.json"
check "counters: partial checksums passed to the guest" \
    grep -q '"tx":{[^}]*"csum_partial":[1-9]' "$dir/stats.json"
check "counters: partial checksums taken from the guest" \
    grep -q '"rx":{[^}]*"csum_partial":[1-9]' "$dir/stats.json"
check "counters: GSO frames from the guest" \
    grep -q '"rx":{[^}]*"gso_packets":[1-9]' "$dir/stats.json"

# Everything that reached the outside, checked by an independent checker.
kill -INT "$capture_pid" 2>/dev/null
wait "$capture_pid" 2>/dev/null
capture_pid=
statuses=$(tshark_r "$dir/outside.pcap" -o ip.check_checksum:TRUE \
    -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE -T fields \
    -e ip.checksum.status -e tcp.checksum.status -e udp.checksum.status 2>/dev/null)
frames=$(grep -c . <<<"$statuses")
bad=$(bad_checksums "$dir/outside.pcap")
check "outside: tshark saw traffic ($frames frames)" test "$frames" -gt 10000
check "outside: every checksum valid ($bad bad)" test "$bad" -eq 0
tagged() {  # tagged FILTER: how many of vlan-send's frames match FILTER, checksum good
    tshark_r "$dir/outside.pcap" -o udp.check_checksum:TRUE \
        -Y "udp.dstport == 9999 && udp.checksum.status == 1 && $1" -T fields -e frame.number 2>/dev/null |
        grep -c .
}
check "vlan: the 20 tagged frames reached the outside, checksums good" equals 20 tagged "vlan"
check "vlan: 10 of them QinQ, both tags kept" equals 10 tagged "ieee8021ad.id == 200 && vlan.id == 100"
check "vlan: 10 of them IPv6" equals 10 tagged "vlan && ipv6"

# --- handshake edge cases --------------------------------------------------
# Backend killed -9 under traffic: the TAP persists with its bridge port,
# the restarted backend asks the frontend to start over, traffic resumes.
indom 1 ping -i 0.05 -w 8 10.10.0.12 >"$dir/ping-restart.log" 2>&1 &
ping_pid=$!
sleep 1
kill -9 "$back_pid"
sleep 0.5
start_backend
check "restart: guest 1 reconnects" wait_for 10 connected 1
check "restart: guest 2 reconnects" wait_for 10 connected 2
wait "$ping_pid"
check "restart: ping resumed before it ended" \
    sh -c "tail -n 20 '$dir/ping-restart.log' | grep -q 'bytes from'"
check "restart: vif1.0 kept its bridge port" \
    sh -c "ip netns exec xnet-dom0 ip -br link show master xenbr0 | grep -q vif1.0"
tcp "restart: tcp guest1 -> guest2 after" xnet-dom2 xnet-dom1 10.10.0.12

# Frontend first: the vif exists and its xnetfront runs before a backend does.
kill "$back_pid"
wait "$back_pid" 2>/dev/null
"$sim" domain create 3 >/dev/null
"$sim" vif add 3 --mac 00:16:3e:00:00:03 >"$dir/vif3.log" 2>&1 &
vif_pid=$!
sleep 0.3
"$sim" exec 3 -- "$build/xnetfront" --devid 0 --profile offload >>"$dir/xnetfront-3.log" 2>&1 &
sleep 0.5
start_backend
check "frontend first: vif add completes" wait "$vif_pid"
bridge_vif 3
check "frontend first: connected" wait_for 10 connected 3
indom 3 ip addr add 10.10.0.13/24 dev eth0
check "frontend first: ping dom0" ping_from indom 3 10.10.0.1

# A guest destroyed mid-transfer: the backend cleans its vif up, nothing
# of it stays (TAP, mapping, descriptor), the other guests do not notice.
fds_before=$(find "/proc/$back_pid/fd" -mindepth 1 | wc -l)
maps_before=$(grep -c memfd "/proc/$back_pid/maps")
indom 3 ping -f -w 3 10.10.0.1 >/dev/null 2>&1 &
sleep 0.5
"$sim" domain destroy 3 >/dev/null
check "destroy: vif3.0 TAP gone" wait_for 5 sh -c "! ip netns exec xnet-dom0 ip link show vif3.0"
check "destroy: backend still running" kill -0 "$back_pid"
sleep 0.5
fds_after=$(find "/proc/$back_pid/fd" -mindepth 1 | wc -l)
maps_after=$(grep -c memfd "/proc/$back_pid/maps")
check "destroy: descriptors released ($fds_before -> $fds_after)" test "$fds_after" -lt "$fds_before"
check "destroy: mappings released ($maps_before -> $maps_after)" test "$maps_after" -lt "$maps_before"
check "destroy: guest 1 unaffected" ping_from "${g1[@]}" 10.10.0.12

# 16 guests on one backend.
ok=0
for d in $(seq 4 19); do
    "$sim" domain create "$d" >/dev/null && add_vif "$d" && start_guest "$d" &&
        wait_for 10 connected "$d" && ok=$((ok + 1))
done
check "16 more guests connected ($ok)" test "$ok" -eq 16
reached=0
for d in $(seq 4 19); do
    ping_from in0 "10.10.0.$((10 + d))" >/dev/null 2>&1 && reached=$((reached + 1))
done
check "dom0 reaches all 16 ($reached)" test "$reached" -eq 16
check_log_clean "backend log has no error" "$dir/xnetback.log"

summary sim-net
