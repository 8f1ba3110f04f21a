# The routed and NATed topologies under real xl, for scenarios 10 (Linux's
# netfront) and 20 (xnetfront): a vif hot-plugged into a guest that is up
# (xl network-attach, devid 1, the guest's eth1), its script named in the
# vif spec, traffic in both families, and everything gone on detach.
# Sourced by dom0's /init after lib.sh.
# shellcheck shell=sh
# shellcheck disable=SC2154 # d: set by new_guest

# second_vif NAME IP ROLE: the guest's end of its vif 1, once the backend
# has it: Linux's netfront makes eth1 by itself; for xnetfront (ROLE xnet)
# a second xnetfront is started in the guest.
second_vif() {
    [ "$3" = xnet ] || return 0
    on "$2" "/usr/sbin/xnetfront --platform xen --devid 1 --ifname eth1 \
        >>/tmp/xnetfront-1.log 2>&1 & echo \$! >/tmp/xnetfront-1.pid" >/dev/null
}

# second_vif_gone NAME IP ROLE: xl network-detach of vif 1, and the
# xnetfront that served it stopped.
second_vif_gone() {
    check "$1: xl network-detach $1 1" xl network-detach "$1" 1
    # (by its pid: a pattern would match the guest's shell running the kill)
    [ "$3" = xnet ] && on "$2" "kill \$(cat /tmp/xnetfront-1.pid)" >/dev/null
    check "$1: vif$d.1 is gone" wait_for 20 sh -c "! ip link show vif$d.1"
}

# eth1_cmd ADDR...: the guest's command that waits for eth1 and sets it up
# with the commands given (one line: the guest's command server reads one)
eth1_cmd() {
    printf '%s' "i=0; while ! ip link show eth1 >/dev/null 2>&1 && [ \$i -lt 100 ]; do sleep 0.2; \
i=\$((i + 1)); done; echo 0 >/proc/sys/net/ipv6/conf/eth1/accept_dad; ip link set eth1 up && $*"
}

# route_topology NAME IP ROLE: vif-route with two addresses, 10.60.0.N (a
# routed subnet the outside reaches through dom0) and fd09::60:N (of
# xenbr0's own /64, answered for by proxy NDP). dom0 gets a default route
# for the script to find its way out (as gatewaydev= names it too). The
# guest sends to the outside through eth1, and the outside reaches it there.
route_topology() {
    _n=${2##*.}
    vif=vif$d.1 _be=/local/domain/0/backend/vif/$d/1
    ip route add default via 10.9.0.254
    ip -6 route add default via fd09::fe
    ip netns exec out ip route add 10.60.0.0/24 via 10.9.0.1
    check "$1: xl network-attach $1 ... script=xnet/vif-route ip=\"10.60.0.$_n fd09::60:$_n\"" \
        xl network-attach "$1" "mac=00:16:3e:00:02:$_n" script=xnet/vif-route gatewaydev=xenbr0 \
        "ip=10.60.0.$_n fd09::60:$_n"
    second_vif "$@"
    check "$1: route: hotplug-status connected" wait_for 20 xs_is "$_be/hotplug-status" connected
    check "$1: route: $vif Connected" wait_for 30 xs_is "$_be/state" 4
    check "$1: route: profile offload" xs_is "$_be/offload/profile" offload
    check "$1: route: dom0 routes both addresses to $vif" sh -c "ip route get 10.60.0.$_n |
        grep -q 'dev $vif' && ip -6 route get fd09::60:$_n | grep -q 'dev $vif'"
    check "$1: route: proxy NDP for fd09::60:$_n on xenbr0" sh -c \
        "/usr/bin/ip -6 neigh show proxy | grep -q 'fd09::60:$_n dev xenbr0'"  # (busybox's ip: no proxy)
    check "$1: route: eth1 in the guest, its gateways dom0's" on "$2" "$(eth1_cmd \
        "ip addr add 10.60.0.$_n/32 dev eth1 && ip route add 10.9.0.254/32 dev eth1 &&" \
        "ip -6 addr add fd09::60:$_n/128 dev eth1 && ip -6 route add fd09::fe/128 via fe80::1 dev eth1")"
    check "$1: route: ping guest -> outside, through $vif" \
        wait_for 10 on "$2" "ping -c 2 -i 0.2 -W 3 -I 10.60.0.$_n 10.9.0.254"
    check "$1: route: ping outside -> 10.60.0.$_n" ip netns exec out ping -c 3 -i 0.2 -W 3 "10.60.0.$_n"
    check "$1: route: IPv6 ping outside -> fd09::60:$_n (proxy NDP)" \
        wait_for 10 ip netns exec out ping6 -c 2 -i 0.2 -W 3 "fd09::60:$_n"
    check "$1: route: IPv6 ping guest -> outside, through $vif" \
        on "$2" "ping6 -c 3 -i 0.2 -W 3 -I fd09::60:$_n fd09::fe"
    _r0=$(vif_stat rx_bytes)
    round_trip "$1 (vif-route)" "$2" 10.60.0.1 out blob4 "4 MiB" "outside (routed)" 5012
    _r=$(($(vif_stat rx_bytes) - _r0))
    check "$1: route: the transfers crossed $vif ($_r bytes from the guest)" test "$_r" -ge 4194304
    rm -f /tmp/got.md5
    if on "$2" "listen-once send 5014 /tmp/blob4" >/dev/null; then
        ip netns exec out timeout 90 nc "fd09::60:$_n" 5014 -e /tmp/sink-md5
    fi
    check "$1: route: 4 MiB guest -> outside over IPv6, content verified" \
        test "$(cat /tmp/got.md5 2>/dev/null)" = "$(md5_of blob4)"
    second_vif_gone "$@"
    check "$1: route: its routes and proxy entry went with it" \
        sh -c "! ip route | grep -q 10.60.0.$_n && /usr/bin/ip -6 neigh show proxy >/tmp/proxy.txt &&
            ! grep -q fd09::60:$_n /tmp/proxy.txt"
    ip netns exec out ip route del 10.60.0.0/24 via 10.9.0.1
    ip route del default via 10.9.0.254
    ip -6 route del default via fd09::fe
    vif=vif$d.0
}

# nat_topology NAME IP ROLE: vif-nat. It derives the guest's addresses
# (devid 1: 10.200.D.6 behind .5, fd20:200:D:1::2 behind ::1), masquerades
# both out of xenbr0 (dom0's default route's interface), and forwards
# dom0's TCP 8080 to the guest's 5020, as the line added to the guest's
# /etc/xnet file asks. The outside reaches the guest only through that
# forward; every byte both ways is checked (the outside's stack drops a
# frame whose checksum the NAT got wrong, so a whole MD5 says none was).
nat_topology() {
    vif=vif$d.1 _be=/local/domain/0/backend/vif/$d/1
    _g=10.200.$d.6 _r=10.200.$d.5 _g6=fd20:200:$d:1::2 _r6=fd20:200:$d:1::1
    mkdir -p /etc/xnet
    echo "forward tcp 8080:5020   # for vif-nat" >>"/etc/xnet/$1"
    ip route add default via 10.9.0.254
    ip -6 route add default via fd09::fe
    check "$1: xl network-attach $1 ... script=xnet/vif-nat" \
        xl network-attach "$1" "mac=00:16:3e:00:03:${2##*.}" script=xnet/vif-nat gatewaydev=xenbr0
    second_vif "$@"
    check "$1: nat: $vif Connected" wait_for 30 xs_is "$_be/state" 4
    check "$1: nat: the script chose the guest's addresses" xs_is "$_be/ip" "$_g $_g6"
    check "$1: nat: masquerade rules, IPv4 and IPv6" \
        sh -c "iptables -t nat -S POSTROUTING | grep -q -- '-s $_g/32 -o xenbr0' &&
            ip6tables -t nat -S POSTROUTING | grep -q -- '-s $_g6/128 -o xenbr0'"
    check "$1: nat: dom0's 8080 forwarded to the guest's 5020" \
        sh -c "iptables -t nat -S PREROUTING | grep -q -- '--to-destination $_g:5020'"
    check "$1: nat: eth1 in the guest, behind its routers" on "$2" "$(eth1_cmd \
        "ip addr add $_g/30 dev eth1 && ip route add 10.9.0.254/32 via $_r dev eth1 &&" \
        "ip -6 addr add $_g6/64 dev eth1 && ip -6 route add fd09::fe/128 via $_r6 dev eth1")"
    check "$1: nat: ping guest -> outside, masqueraded" \
        wait_for 10 on "$2" "ping -c 2 -i 0.2 -W 3 -I $_g 10.9.0.254"
    check "$1: nat: IPv6 ping guest -> outside, masqueraded (NAT66)" \
        wait_for 10 on "$2" "ping6 -c 2 -i 0.2 -W 3 -I $_g6 fd09::fe"
    _r0=$(vif_stat rx_bytes)
    for _to in 10.9.0.1 fd09::1; do
        rm -f /tmp/got.md5
        if on "$2" "listen-once send 5020 /tmp/blob4" >/dev/null; then
            ip netns exec out timeout 90 nc "$_to" 8080 -e /tmp/sink-md5
        fi
        check "$1: nat: 4 MiB guest -> outside through the forward at $_to:8080, verified" \
            test "$(cat /tmp/got.md5 2>/dev/null)" = "$(md5_of blob4)"
    done
    if on "$2" "listen-once receive 5020 /tmp/blob4n" >/dev/null; then
        ip netns exec out timeout 90 nc 10.9.0.1 8080 -e /tmp/serve-blob4
    fi
    check "$1: nat: 4 MiB outside -> guest through the forward, verified" \
        test "$(on_written "$2" /tmp/blob4n.md5)" = "$(md5_of blob4)"
    _r=$(($(vif_stat rx_bytes) - _r0))
    check "$1: nat: the transfers crossed $vif ($_r bytes from the guest)" test "$_r" -ge 8388608
    second_vif_gone "$@"
    check "$1: nat: every rule of it went with it" \
        sh -c "! iptables -t nat -S | grep -q 'xnet $vif' && ! ip6tables -t nat -S | grep -q 'xnet $vif'"
    ip route del default via 10.9.0.254
    ip -6 route del default via fd09::fe
    vif=vif$d.0
}
