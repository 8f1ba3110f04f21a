# Scenario 25: the routed, NATed and private topologies under real xl
# against xnetfront, in the guest scenario 20 left up (xfront): each a vif
# hot-plugged into it (devid 1) and served by a second xnetfront
# (topologies.sh). Needs scenario 20 before it.
# shellcheck shell=sh
# shellcheck disable=SC2154,SC2034 # d, vif, be, fe: shared with scenarios 20 and 30

stage xnet-topologies
if ! xl domid xfront >/dev/null 2>&1; then
    bad "xnet-topologies: no xfront guest (scenario 20 did not run)"
else
d=$(domid xfront)
# vif-route and vif-nat under real xl against xnetfront (topologies.sh).
route_topology xfront 10.9.0.12 xnet
nat_topology xfront 10.9.0.12 xnet

# The private network of xenstore-scripts on real Xen: xnet-private-network
# attaches a second vif to xfront (xnetfront) and to a new guest running
# Linux's netfront with `xl network-attach ... script=.../vif-private`, on
# xenpriv0, no uplink, profile suppress on every end: no checksum computed
# or verified by xnet on the way, and every byte between them intact.
dx=$(domid xfront)
new_guest kpriv kernel 14 1
dk=$d
check "private: xnet-private-network $dx $dk (xl network-attach)" xnet-private-network "$dx" "$dk"
check "private: xenpriv0 holds the two vifs, nothing else" \
    sh -c "[ \"\$(ls /sys/class/net/xenpriv0/brif | wc -l)\" = 2 ] &&
        [ -e /sys/class/net/xenpriv0/brif/vif$dx.1 ] && [ -e /sys/class/net/xenpriv0/brif/vif$dk.1 ]"
check "private: profile suppress on the four ends" sh -c "
    for p in /local/domain/0/backend/vif/$dx/1 /local/domain/0/backend/vif/$dk/1 \
        /local/domain/$dx/device/vif/1 /local/domain/$dk/device/vif/1; do
        [ \"\$(xenstore-read \$p/offload/profile)\" = suppress ] || exit 1
    done"
second_vif xfront 10.9.0.12 xnet
check "private: both vifs Connected" wait_for 60 sh -c \
    "[ \"\$(xenstore-read /local/domain/0/backend/vif/$dx/1/state)\" = 4 ] &&
        [ \"\$(xenstore-read /local/domain/0/backend/vif/$dk/1/state)\" = 4 ]"
for g in 12 14; do
    check "private: eth1 of 10.9.0.$g up as 192.168.77.$g" on "10.9.0.$g" \
        "$(eth1_cmd "ip addr add 192.168.77.$g/24 dev eth1")"
done
check "private: ping xfront -> kpriv" wait_for 10 on 10.9.0.12 "ping -c 2 -i 0.2 -W 3 192.168.77.14"
# send_prog FILE: the guest's command that makes /tmp/sendp, a program
# sending FILE on the socket nc -e gives it
send_prog() { printf '%s\n' "printf '#!/bin/sh\\ncat $1\\n' >/tmp/sendp && chmod +x /tmp/sendp"; }
on 10.9.0.14 "listen-once receive 5030 /tmp/priv" >/dev/null &&
    on 10.9.0.12 "$(send_prog /tmp/blob4) && nc 192.168.77.14 5030 -e /tmp/sendp" >/dev/null
check "private: 4 MiB xnetfront -> Linux's netfront, content verified" \
    test "$(on_written 10.9.0.14 /tmp/priv.md5)" = "$(md5_of blob4)"
on 10.9.0.12 "listen-once receive 5031 /tmp/privback" >/dev/null &&
    on 10.9.0.14 "$(send_prog /tmp/priv) && nc 192.168.77.12 5031 -e /tmp/sendp" >/dev/null
check "private: 4 MiB Linux's netfront -> xnetfront, content verified" \
    test "$(on_written 10.9.0.12 /tmp/privback.md5)" = "$(md5_of blob4)"
work=0 partial=0
for v in "vif$dx.1" "vif$dk.1"; do
    j=$(xnetctl -S "$v" --json)
    for dirn in tx rx; do
        work=$((work + $(counter "$j" $dirn csum_completed) + $(counter "$j" $dirn csum_verified)))
    done
    partial=$((partial + $(counter "$j" rx csum_partial)))
done
check "private: no checksum computed or verified in dom0 ($work)" test "$work" -eq 0
check "private: partials crossed instead ($partial)" test "$partial" -gt 0
check "private: xl destroy kpriv, xl network-detach xfront 1" \
    sh -c "xl destroy kpriv && xl network-detach $dx 1"
on 10.9.0.12 "kill \$(cat /tmp/xnetfront-1.pid)" >/dev/null
check "private: both private vifs gone" \
    wait_for 20 sh -c "! ip link show vif$dx.1 && ! ip link show vif$dk.1"
# (scenario 30 goes on with xfront's vif)
d=$dx vif=vif$dx.0 be=/local/domain/0/backend/vif/$dx/0 fe=/local/domain/$dx/device/vif/0
fi
end_stage
