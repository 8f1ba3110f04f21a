#!/usr/bin/env bash
# The hotplug scripts per topology on xnet-sim, run by `xnet-sim vif add` as
# libxl runs them, with xnetback and xnetfront started without a profile so
# that what the scripts write decides:
#   guest 1  vif-bridge   on xenbr0 with the outside's second leg
#   guest 2  vif-route    10.60.0.12, routed by dom0 with proxy ARP, and
#                         fd50::12 of the uplink's /64, with proxy NDP
#   guest 3  vif-nat      10.200.3.2 behind 10.200.3.1 and fd20:200:3:0::2
#                         behind ::1, masqueraded both; its settings file
#                         forwards dom0's TCP port 8080 to it
#   guests 4, 5  vif-private, through xenstore-scripts/private-network
#   guest 6  vif-bridge with the toolstack's checksum=safe override
# Each reaches dom0, the others and (but the private ones) the outside;
# tshark on both outside links checks every checksum that left the host;
# between the private guests no checksum is computed or verified. Then the
# scripts' failures, offline, and xenstore-scripts/xnet-policy.
# Summary line for tests/run-suites:
#   sim-hotplug: N passed, M failed
#
# Usage: tests/integration/sim-hotplug.sh BUILD_DIR
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
repo=$(cd "$(dirname "$0")/../.." && pwd)
sim="$build/xnet-sim"
dir=$(mktemp -d /tmp/xnet-sim-hotplug.XXXXXX)
export XNET_SIM_DIR="$dir"
out="xnet-hout-$$"
captures=()

cleanup() {
    for p in "${captures[@]}"; do kill "$p" 2>/dev/null; done
    "$sim" stop >/dev/null 2>&1
    ip netns del "$out" 2>/dev/null
    keep_on_failure sim-hotplug
    rm -rf "$dir"
}
trap cleanup EXIT
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

hp="$repo/hotplug"

bkey() { as 0 xenstore-read "backend/vif/$1/0/$2"; }
fkey() { as 0 xenstore-read "/local/domain/$1/device/vif/0/$2"; }
bstats() { "$build/xnetctl" --json --control "$dir/dom0/xnetback.sock" -S "vif$1.0"; }
fstats() { "$build/xnetctl" --json --control "$dir/dom$1/xnetfront-0.sock" -S eth0; }
ping_ok() { "${@:1:$#-1}" ping -c 2 -i 0.2 -W 2 "${*: -1}"; }

# start_guest DOMID ADDRESS/PREFIX [GATEWAY]: xnetfront with no profile
start_guest() {
    local d=$1
    "$sim" exec "$d" -- "$build/xnetfront" --devid 0 >>"$dir/xnetfront-$d.log" 2>&1 &
    disown
    wait_for 10 indom "$d" ip link show eth0 || return 1
    indom "$d" ip link set lo up
    indom "$d" ip addr add "$2" dev eth0
    if [[ -n "${3:-}" ]]; then
        indom "$d" ip route add "$3" dev eth0
        indom "$d" ip route add default via "$3" dev eth0
    fi
}

# --- dom0, the outside (two legs), xnetback --------------------------------------
"$sim" start >/dev/null || { echo "sim-hotplug: 0 passed, 1 failed"; exit 1; }
in0 ip link set lo up
ip netns add "$out"
inout ip link set lo up
# Leg 1, routed/NAT: dom0's uplink 10.50.0.1, its default route the outside.
ip link add uplink netns xnet-dom0 type veth peer name eth0 netns "$out"
in0 ip addr add 10.50.0.1/24 dev uplink
in0 ip -6 addr add fd50::1/64 dev uplink nodad
in0 ip link set uplink up
in0 ethtool -K uplink tx off >/dev/null  # dom0's kernel completes what leaves
in0 ip route add default via 10.50.0.100
inout ip addr add 10.50.0.100/24 dev eth0
inout ip -6 addr add fd50::100/64 dev eth0 nodad
inout ip link set eth0 up
in0 ip -6 route add default via fd50::100
inout ip route add 10.60.0.0/24 via 10.50.0.1  # the routed guests
# Leg 2, bridged: xenbr0 10.10.0.1 with the outside's 10.10.0.100 on it.
bridged_outside buplink eth1
for leg in eth0 eth1; do
    inout tcpdump -Q in -c 30000 -i "$leg" -w "$dir/outside-$leg.pcap" >/dev/null 2>&1 &
    captures+=($!)
done

"$sim" exec 0 -- "$build/xnetback" >>"$dir/xnetback.log" 2>&1 &
disown
for d in 1 2 4 5 6; do "$sim" domain create "$d" >/dev/null; done
"$sim" domain create 3 --name nat3 >/dev/null  # for its settings file

# --- bridge ------------------------------------------------------------------------
check "bridge: vif add with vif-bridge" \
    "$sim" vif add 1 --mac 00:16:3e:00:00:01 --script "$hp/vif-bridge" --bridge xenbr0
check "bridge: hotplug-status connected" equals connected bkey 1 hotplug-status
check "bridge: vif1.0 on xenbr0" sh -c "ip netns exec xnet-dom0 ip -br link show master xenbr0 | grep -q '^vif1.0 '"
check "bridge: backend profile offload" equals offload bkey 1 offload/profile
check "bridge: frontend profile offload" equals offload fkey 1 offload/profile
check "bridge: guest up" start_guest 1 10.10.0.11/24
check "bridge: connected" wait_for 10 connected 1
indom 1 ip route add default via 10.10.0.1
check "bridge: ping dom0" ping_ok indom 1 10.10.0.1
check "bridge: ping outside" ping_ok indom 1 10.10.0.100
tcp "bridge: tcp guest -> outside" "$out" xnet-dom1 10.10.0.100
tcp "bridge: tcp outside -> guest" "$out" xnet-dom1 10.10.0.100 -R
check "bridge: partial checksums crossed the ring" test "$(counter "$(bstats 1)" rx csum_partial)" -gt 0

# --- route ---------------------------------------------------------------------------
check "route: vif add with vif-route" \
    "$sim" vif add 2 --mac 00:16:3e:00:00:02 --script "$hp/vif-route" --ip "10.60.0.12 fd50::12"
check "route: hotplug-status connected" equals connected bkey 2 hotplug-status
check "route: vif2.0 has dom0's address" sh -c "ip netns exec xnet-dom0 ip -4 addr show vif2.0 | grep -q 'inet 10.50.0.1/32'"
check "route: proxy ARP on vif2.0" equals 1 in0 cat /proc/sys/net/ipv4/conf/vif2.0/proxy_arp
check "route: dom0 routes 10.60.0.12 to vif2.0" sh -c "ip netns exec xnet-dom0 ip route get 10.60.0.12 | grep -q 'dev vif2.0'"
check "route: profile offload" equals offload fkey 2 offload/profile
check "route: guest up" start_guest 2 10.60.0.12/32 10.50.0.1
check "route: connected" wait_for 10 connected 2
check "route: ping dom0" ping_ok indom 2 10.50.0.1
check "route: ping outside" ping_ok indom 2 10.50.0.100
check "route: ping the bridged guest" ping_ok indom 2 10.10.0.11
tcp "route: tcp guest -> outside" "$out" xnet-dom2 10.50.0.100
tcp "route: tcp outside -> guest" "$out" xnet-dom2 10.50.0.100 -R
check "route: IPv6: vif2.0 carries fe80::1, the guest's gateway" \
    sh -c "ip netns exec xnet-dom0 ip -6 addr show vif2.0 | grep -q 'inet6 fe80::1/64'"
check "route: IPv6: dom0 routes fd50::12 to vif2.0" \
    sh -c "ip netns exec xnet-dom0 ip -6 route get fd50::12 | grep -q 'dev vif2.0'"
check "route: IPv6: proxy NDP for fd50::12 on the uplink" \
    sh -c "ip netns exec xnet-dom0 ip -6 neigh show proxy | grep -q 'fd50::12 dev uplink'"
indom 2 ip -6 addr add fd50::12/128 dev eth0 nodad
indom 2 ip -6 route add default via fe80::1 dev eth0
check "route: IPv6: ping6 the outside, in the uplink's own /64" ping_ok indom 2 fd50::100
tcp_bytes=8388608 tcp "route: IPv6: tcp guest -> outside" "$out" xnet-dom2 fd50::100
tcp_bytes=8388608 tcp "route: IPv6: tcp outside -> guest" "$out" xnet-dom2 fd50::100 -R

# --- nat -------------------------------------------------------------------------------
mkdir -p "$dir/etc-xnet"
cat >"$dir/etc-xnet/nat3" <<'EOF_CONF'
forward tcp 8080:5201    # dom0's 8080 to the guest's iperf3
vif1 forward udp 5353    # another vif's: not this one
EOF_CONF
check "nat: vif add with vif-nat, reading /etc/xnet/nat3" \
    env XNET_CONF_DIR="$dir/etc-xnet" "$sim" vif add 3 --mac 00:16:3e:00:00:03 --script "$hp/vif-nat"
check "nat: the script chose the guest's addresses" equals "10.200.3.2 fd20:200:3:0::2" bkey 3 ip
check "nat: vif3.0 is the router" sh -c "ip netns exec xnet-dom0 ip -4 addr show vif3.0 | grep -q 'inet 10.200.3.1/30'"
check "nat: masquerade rule" sh -c "ip netns exec xnet-dom0 iptables -t nat -S POSTROUTING | grep -q -- '-s 10.200.3.2/32 -o uplink .*-j MASQUERADE'"
check "nat: IPv6: vif3.0 is the router fd20:200:3::1" \
    sh -c "ip netns exec xnet-dom0 ip -6 addr show vif3.0 | grep -q 'inet6 fd20:200:3::1/64'"
check "nat: IPv6: masquerade rule (NAT66)" sh -c "ip netns exec xnet-dom0 ip6tables -t nat -S POSTROUTING | grep -q -- '-s fd20:200:3::2/128 -o uplink .*-j MASQUERADE'"
check "nat: port 8080 forwarded to 10.200.3.2:5201" sh -c "ip netns exec xnet-dom0 iptables -t nat -S PREROUTING | grep -q -- '-i uplink -p tcp .*--dport 8080 .*--to-destination 10.200.3.2:5201'"
check "nat: ... and to [fd20:200:3::2]:5201" sh -c "ip netns exec xnet-dom0 ip6tables -t nat -S PREROUTING | grep -q -- '--dport 8080 .*--to-destination \[fd20:200:3::2\]:5201'"
check "nat: another vif's forward is not this one's" \
    sh -c "! ip netns exec xnet-dom0 iptables -t nat -S PREROUTING | grep -q 5353"
check "nat: guest up" start_guest 3 10.200.3.2/30 10.200.3.1
check "nat: connected" wait_for 10 connected 3
check "nat: ping outside" ping_ok indom 3 10.50.0.100
tcp "nat: tcp guest -> outside" "$out" xnet-dom3 10.50.0.100
tcp "nat: tcp outside -> guest (reply direction)" "$out" xnet-dom3 10.50.0.100 -R
indom 3 ip -6 addr add fd20:200:3:0::2/64 dev eth0 nodad
indom 3 ip -6 route add default via fd20:200:3:0::1 dev eth0
check "nat: IPv6: ping6 the outside, masqueraded" ping_ok indom 3 fd50::100
tcp_bytes=8388608 tcp "nat: IPv6: tcp guest -> outside" "$out" xnet-dom3 fd50::100
# Inbound through the forward, with its own capture: the NATed frames the
# outside gets (replies the guest sent with partial checksums, rewritten
# by dom0's NAT) must all be valid.
# (ip netns exec execs tcpdump: $! is tcpdump, which takes SIGINT)
ip netns exec "$out" tcpdump -Q in -c 20000 -i eth0 -w "$dir/forward.pcap" tcp port 8080 \
    >/dev/null 2>&1 &
fwd_cap=$!
captures+=("$fwd_cap")
sleep 0.5
tcp_bytes=8388608 tcp_port=5201 tcp_dport=8080 \
    tcp "nat: forward: outside -> dom0:8080 -> guest" xnet-dom3 "$out" 10.50.0.1
tcp_bytes=8388608 tcp_port=5201 tcp_dport=8080 \
    tcp "nat: forward: ... guest -> outside on it (-R)" xnet-dom3 "$out" 10.50.0.1 -R
tcp_bytes=8388608 tcp_port=5201 tcp_dport=8080 \
    tcp "nat: forward: IPv6, outside -> [fd50::1]:8080 -> guest" xnet-dom3 "$out" fd50::1 -R
sleep 0.5
kill -INT "$fwd_cap" 2>/dev/null
wait "$fwd_cap" 2>/dev/null
frames=$(tshark_r "$dir/forward.pcap" -T fields -e frame.number 2>/dev/null | grep -c .)
check "nat: forward: tshark saw the outside's side of it ($frames frames)" test "$frames" -gt 1000
bad=$(bad_checksums "$dir/forward.pcap")
check "nat: forward: every checksum valid ($bad bad)" test "$bad" -eq 0
check "nat: forward: the guest sent partials on the ring meanwhile" \
    test "$(counter "$(bstats 3)" rx csum_partial)" -gt 0

# --- private -------------------------------------------------------------------------------
check "private: xenstore-scripts/private-network 4 5" \
    env XNET_SIM="$sim" "$repo/xenstore-scripts/private-network" --devid 0 4 5
check "private: profile suppress, backend" equals suppress bkey 4 offload/profile
check "private: profile suppress, frontend" equals suppress fkey 5 offload/profile
only_vifs() {  # only_vifs BRIDGE: it has ports, and every one is a vif
    local ports
    ports=$(in0 ip -br link show master "$1" | awk '{ print $1 }')
    [[ -n "$ports" ]] && ! grep -qv '^vif' <<<"$ports"
}
check "private: xenpriv0 holds only vifs" only_vifs xenpriv0
for d in 4 5; do
    check "private: guest $d up" start_guest "$d" "192.168.77.$d/24"
    check "private: guest $d connected" wait_for 10 connected "$d"
done
check "private: ping between the guests" ping_ok indom 4 192.168.77.5
tcp "private: tcp guest4 -> guest5" xnet-dom5 xnet-dom4 192.168.77.5
tcp "private: tcp guest5 -> guest4" xnet-dom4 xnet-dom5 192.168.77.4
# No checksum computed or verified by xnet anywhere between them.
zero=0
for s in "$(bstats 4)" "$(bstats 5)" "$(fstats 4)" "$(fstats 5)"; do
    for dirn in tx rx; do
        for c in csum_completed csum_verified; do
            v=$(counter "$s" "$dirn" "$c")
            [[ "$v" == 0 ]] || zero=$((zero + 1))
        done
    done
done
check "private: zero checksums computed or verified on any end" test "$zero" -eq 0
check "private: partial checksums passed instead" test "$(counter "$(bstats 4)" rx csum_partial)" -gt 0
check "private: vif-private refuses a bridge with an uplink" \
    fails_with "not a private network" "$sim" vif add 6 --devid 1 --script "$hp/vif-private" --bridge xenbr0

# --- the toolstack's override -----------------------------------------------------
check "override: vif add with checksum=safe" \
    "$sim" vif add 6 --mac 00:16:3e:00:00:06 --script "$hp/vif-bridge" --bridge xenbr0 --checksum safe
check "override: profile safe on the backend" equals safe bkey 6 offload/profile
check "override: profile safe on the frontend" equals safe fkey 6 offload/profile
check "override: guest up" start_guest 6 10.10.0.16/24
check "override: connected" wait_for 10 connected 6
tcp "override: tcp guest -> outside" "$out" xnet-dom6 10.10.0.100
check "override: nothing partial crossed the ring" \
    test "$(counter "$(bstats 6)" rx csum_partial)$(counter "$(bstats 6)" tx csum_partial)" = 00

# --- the guest's own settings file (XNET_CONF_DIR, /etc/xnet on a host) --------------
cat >"$dir/etc-xnet/web8" <<'EOF_CONF'
# guest web8: offload, but UDP over IPv4 completed in the guest
profile offload
frontend tx-checksum-udpv4 off   # the guest's end only
vif0 backend tcp-segmentation-offload off
vif1 profile safe                # not this vif: vif0 stays offload
EOF_CONF
"$sim" domain create 8 --name web8 >/dev/null
check "per guest: vif add reads /etc/xnet/web8" \
    env XNET_CONF_DIR="$dir/etc-xnet" "$sim" vif add 8 --mac 00:16:3e:00:00:08 \
    --script "$hp/vif-bridge" --bridge xenbr0
check "per guest: profile offload on the backend" equals offload bkey 8 offload/profile
check "per guest: ... and on the frontend" equals offload fkey 8 offload/profile
check "per guest: frontend-only setting on the frontend" equals off fkey 8 offload/tx-checksum-udpv4
check "per guest: ... not on the backend" sh -c "! as 0 xenstore-read backend/vif/8/0/offload/tx-checksum-udpv4"
check "per guest: vif0's backend setting" equals off bkey 8 offload/tcp-segmentation-offload
check "per guest: guest up" start_guest 8 10.10.0.18/24
check "per guest: connected" wait_for 10 connected 8
check "per guest: the frontend applied the file" \
    wait_for 5 json_is policy.tx-checksum-udpv4=off policy.tx-checksum-tcpv4=on -- fstats 8
check "per guest: the backend applied the file" \
    wait_for 5 json_is policy.tcp-segmentation-offload=off policy.tx-checksum=on -- bstats 8
printf 'vif0 tx-checksum maybe\n' >"$dir/etc-xnet/bad9"
"$sim" domain create 9 --name bad9 >/dev/null
check "per guest: a bad line fails the vif, naming file and line" \
    fails_with "bad9:1: tx-checksum: 'maybe' is not on or off" \
    env XNET_CONF_DIR="$dir/etc-xnet" "$sim" vif add 9 --script "$hp/vif-bridge" --bridge xenbr0

printf 'forward tcp 8080:99999\n' >"$dir/etc-xnet/bad10"
"$sim" domain create 10 --name bad10 >/dev/null
check "per guest: a bad port forward fails the vif, naming file and line" \
    fails_with "bad10:1: forward: '99999' is not a port (1 to 65535)" \
    env XNET_CONF_DIR="$dir/etc-xnet" "$sim" vif add 10 --script "$hp/vif-nat"
printf 'frontend forward udp 53\n' >"$dir/etc-xnet/bad11"
"$sim" domain create 11 --name bad11 >/dev/null
check "per guest: ... and one given to an end" \
    fails_with "bad11:1: a port forward is dom0's" \
    env XNET_CONF_DIR="$dir/etc-xnet" "$sim" vif add 11 --script "$hp/vif-nat"

# --- what left the host --------------------------------------------------------------
for p in "${captures[@]}"; do kill -INT "$p" 2>/dev/null; done
for p in "${captures[@]}"; do wait "$p" 2>/dev/null; done
captures=()
for leg in eth0 eth1; do
    frames=$(tshark_r "$dir/outside-$leg.pcap" -T fields -e frame.number 2>/dev/null | grep -c .)
    check "outside $leg: tshark saw traffic ($frames frames)" test "$frames" -gt 1000
    bad=$(bad_checksums "$dir/outside-$leg.pcap")
    check "outside $leg: every checksum valid ($bad bad)" test "$bad" -eq 0
done

# --- failures and offline ------------------------------------------------------------
"$sim" domain create 7 >/dev/null
check "fatal: vif-bridge on a missing bridge fails the vif add, saying why" \
    fails_with "bridge nosuchbr does not exist" \
    "$sim" vif add 7 --script "$hp/vif-bridge" --bridge nosuchbr
check "fatal: a bad checksum override fails, saying why" \
    fails_with "'fast' is not safe, offload or suppress" \
    "$sim" vif add 7 --script "$hp/vif-bridge" --bridge xenbr0 --checksum fast
check "offline: vif remove 3 0" "$sim" vif remove 3 0
check "offline: the masquerade rule went" sh -c "! ip netns exec xnet-dom0 iptables -t nat -S POSTROUTING | grep -q 10.200.3.2"
check "offline: the forwards went" sh -c "! ip netns exec xnet-dom0 iptables -t nat -S PREROUTING | grep -q 10.200.3.2"
check "offline: the IPv6 rules went" sh -c "! ip netns exec xnet-dom0 ip6tables -t nat -S | grep -q fd20:200:3::2"
check "offline: vif remove 1 0" "$sim" vif remove 1 0
check "offline: vif1.0 gone" wait_for 5 sh -c "! ip netns exec xnet-dom0 ip link show vif1.0"

# --- xenstore-scripts/xnet-policy ---------------------------------------------------------
policy() { as 0 "$repo/xenstore-scripts/xnet-policy" "$@"; }
check "xnet-policy get" has "backend/vif/2/0/offload/profile = offload" policy get 2
check "xnet-policy set, backend end" policy set 2 0 --end backend tx-checksum off
check "xnet-policy: the backend applied it" wait_for 5 json_is policy.tx-checksum=off -- bstats 2
unset_key() { ! as 0 xenstore-read "$1"; }
check "xnet-policy: the frontend end untouched" \
    unset_key /local/domain/2/device/vif/0/offload/tx-checksum
check "xnet-policy set, every vif of a domain" policy set 6 profile offload
check "xnet-policy: guest 6 now offload" wait_for 10 json_is policy.rx-checksum=on -- fstats 6
check "xnet-policy reset" policy reset 2
check "xnet-policy: reset to the daemon's default (safe)" wait_for 10 json_is policy.tx-checksum=off policy.rx-checksum=off -- bstats 2
check "xnet-policy: bad value refused" fails_with "is not on or off" policy set 2 tx-checksum maybe
check "xnet-policy: unknown vif" fails_with "no vif 9.0" policy get 9 0
check "route: still connected after all that" wait_for 10 connected 2

check "offline: vif remove 2 0" "$sim" vif remove 2 0
check "offline: the proxy NDP entry went" \
    sh -c "! ip netns exec xnet-dom0 ip -6 neigh show proxy | grep -q fd50::12"
summary sim-hotplug
