# Scenario 3: xnetback <-> xnetfront, both on real Xen (grant copy through
# libxengnttab, pages shared with gntalloc, libxenevtchn): two queues,
# toggles on both ends, the captures of scenario 4, and a backend restart
# under traffic. The guest stays up for the hostile stage after this one.
# shellcheck shell=sh
# shellcheck disable=SC2154 # vif, fds0: set by the scenarios before

stage xnet-pair
if ! pidof xnetback >/dev/null; then  # XNET_XEN_SCENARIOS without 10
    check "xnetback serves on real Xen" start_xnetback
    # shellcheck disable=SC2034 # scenario 30's leak check reads it
    fds0=$(xnetback_fds)
fi
new_guest xfront xnet 12 2
v=$(cat /xnet/version)
check "xfront: the guest runs the packages' xnetctl --version: $v" \
    grep -aq "XNET-GUEST role .*xnetctl $v (packaged $v)" /var/log/xen/console/guest-xfront.log
check "xfront: 2 queues, split event channels" \
    sh -c "[ \"\$(xenstore-read $fe/multi-queue-num-queues)\" = 2 ] &&
        xenstore-read $fe/queue-1/event-channel-rx"
check "xfront: ping dom0 -> guest" ping -c 3 -i 0.2 -W 3 10.9.0.12
check "xfront: ping guest -> outside" on 10.9.0.12 "ping -c 3 -i 0.2 -W 3 10.9.0.254"
check "xfront: IPv6 ping guest -> dom0" on 10.9.0.12 "ping6 -c 3 -i 0.2 -W 3 fd09::1"
transfer_both xfront 10.9.0.12
g=$(on 10.9.0.12 "xnetctl -S eth0 --json")
echo "XNET-NOTE xfront: the guest's xnetfront sent $(counter "$g" tx packets) frames," \
    "$(counter "$g" tx gso_packets) GSO, $(counter "$g" tx gso_cut) cut;" \
    "$(on 10.9.0.12 "xnetctl -k eth0" | tr '\n' ' ')"
check "xfront: both queues carried frames" both_queues_busy "$vif"
check "xfront: the guest's end passes partials under offload" \
    on_has 10.9.0.12 "xnetctl -S eth0 --json" '"csum_partial":[1-9]'
check "xfront: xnetback claims tagged offloads" xs_is "$be/feature-xnet-tagged-offload" 1
check "xfront: xnetfront claims tagged offloads" xs_is "$fe/feature-xnet-tagged-offload" 1
c0=$(xnetctl -S "$vif" --json)
vlan_transfer xfront 10.9.0.12
c1=$(xnetctl -S "$vif" --json)
cut=$(($(counter "$c1" tx gso_cut) - $(counter "$c0" tx gso_cut)))
gso=$(($(counter "$c1" tx gso_packets) - $(counter "$c0" tx gso_packets)))
check "xfront: tagged GSO crossed whole between xnet ends ($gso GSO frames, $cut cut)" \
    test "$cut" -eq 0 -a "$gso" -gt 0

# Toggles on both ends, from dom0, during traffic.
send_in_background 10.9.0.12 5003 /tmp/sink-null
s0=$(on 10.9.0.12 "xnetctl -S eth0 --json")
check "xfront: xnetctl --frontend -K $vif tx off (the guest's end) during traffic" \
    xnetctl --frontend -K "$vif" tx off
check "xfront: the guest's xnetctl sees tx-checksum off" \
    wait_for 10 on_has 10.9.0.12 "xnetctl -k eth0" "tx-checksum: off"
check "xfront: xnetctl -K $vif rx off (the backend's end, advertised: reconnects)" \
    xnetctl -K "$vif" rx off
# The key first: until xnetback has seen the policy change, the state is
# still the old connection's 4, and a reconnect rewrites the feature keys.
check "xfront: the backend now advertises feature-no-csum-offload" \
    wait_for 10 xs_is "$be/feature-no-csum-offload" 1
check "xfront: Connected again after the renegotiation" wait_for 10 xs_is "$be/state" 4
check "xfront: the traffic ran through the toggles and the reconnect (then stopped)" stop_background
transfer_both "xfront (guest tx off, backend rx off)" 10.9.0.12 4
s1=$(on 10.9.0.12 "xnetctl -S eth0 --json")
complete=$(($(counter "$s1" tx csum_none) - $(counter "$s0" tx csum_none)))
check "xfront: the guest's kernel completes its checksums now ($complete)" \
    test "$complete" -ge "$min_frames"
check "xfront: ethtool -k eth0 in the guest shows tx-checksumming off" \
    on_has 10.9.0.12 "ethtool -k eth0" "tx-checksumming: off"
check "xfront: both ends back to offload (xnet-policy reset drops the -K keys)" \
    sh -c "xnet-policy reset $d 0 --end both && xnetctl profile $vif offload &&
        xnetctl --frontend profile $vif offload"
check "xfront: Connected after the toggles" wait_for 10 xs_is "$be/state" 4

capture xfront-offload 10.9.0.12

# ethtool -K eth0 in the guest is xnetfront's policy.
check "xfront: ethtool -K eth0 tx off in the guest" on 10.9.0.12 "ethtool -K eth0 tx off"
check "xfront: ... written as the guest's key" wait_for 10 xs_is "$fe/offload/tx-checksum" off
check "xfront: ... the guest's xnetctl agrees" \
    wait_for 10 on_has 10.9.0.12 "xnetctl -k eth0" "tx-checksum: off \[set\]"
s0=$(on 10.9.0.12 "xnetctl -S eth0 --json")
capture xfront-ethtool-tx-off 10.9.0.12
s1=$(on 10.9.0.12 "xnetctl -S eth0 --json")
partial=$(($(counter "$s1" tx csum_partial) - $(counter "$s0" tx csum_partial)))
check "xfront: no partial from the guest after ethtool tx off ($partial)" test "$partial" -lt 10
check "xfront: ethtool -K eth0 tx on in the guest" on 10.9.0.12 "ethtool -K eth0 tx on"
check "xfront: ... written back" wait_for 10 xs_is "$fe/offload/tx-checksum" on
# (a key ethtool wrote overrides profiles like any other: gone, they decide)
xenstore-rm "$fe/offload/tx-checksum"
check "xfront: profile safe on both ends" sh -c "xnetctl profile $vif safe &&
    xnetctl --frontend profile $vif safe"
wait_for 10 xs_is "$be/state" 4
check "xfront: under safe, both ends' tx-checksum is off" \
    sh -c "xnetctl -k $vif | grep -q 'tx-checksum: off' &&
        xnetctl --frontend -k $vif | grep -q 'tx-checksum: off'"
capture xfront-safe 10.9.0.12
check "xfront: profile offload on both ends" sh -c "xnetctl profile $vif offload &&
    xnetctl --frontend profile $vif offload"
check "xfront: Connected after the profile changes" wait_for 10 xs_is "$be/state" 4

# xnetback killed and started again while 16 MiB go dom0 -> guest: the
# TAP persists, the vif reconnects, TCP carries on, the content is intact.
# (The guest takes it through busybox nc, slow enough to be under way
# 2 s later: the check after the kill says it was.)
serve 5006 /tmp/serve-blob16
b0=$(vif_stat tx_bytes)
on 10.9.0.12 "(nc 10.9.0.1 5006 </dev/null | md5sum | cut -d' ' -f1 >/tmp/restart.md5) \
    >/dev/null 2>&1 &" >/dev/null
sleep 2
moved=$(($(vif_stat tx_bytes) - b0))
stop_xnetback KILL
# (fewer bytes of frames toward the guest than the blob holds: it was
# not all there yet)
check "xfront: the transfer was under way when xnetback was killed ($moved bytes of frames sent)" \
    test "$moved" -gt 0 -a "$moved" -lt 16777216
sleep 1
t0=$(date +%s)
start_xnetback
if wait_for 20 xs_is "$be/state" 4; then
    ok "xfront: reconnected $(($(date +%s) - t0)) s after xnetback was restarted under traffic"
else
    bad "xfront: not reconnected after the restart: backend state $(xenstore-read "$be/state")"
fi
got=$(on_written 10.9.0.12 /tmp/restart.md5)
check "xfront: the transfer across the restart is intact (md5 $got)" test "$got" = "$(md5_of blob16)"
check "xfront: the offload profile survived the restart (it lives in xenstore)" \
    sh -c "xnetctl -k $vif | grep -q 'profile: offload'"
# xnetfront killed with SIGKILL in the guest: nobody tells xenstore, and
# the backend must notice by itself (the frontend's end of the event
# channel closed, looked at every second through libxenctrl), take the vif
# out of Connected and wait; a new xnetfront 8 s later connects again.
# (The guest's network goes with its xnetfront: the guest does it all
# itself, restart-xnetfront.)
pid0=$(xnetback_pid)
on 10.9.0.12 "restart-xnetfront 12 8 >/dev/null 2>&1 &" >/dev/null
t0=$(cut -d' ' -f1 /proc/uptime)
if wait_for 15 grep -q "$vif: queue [0-9]: the frontend closed its event channel" /tmp/xnetback.log; then
    ok "xfront: xnetback noticed the killed xnetfront" \
        "$(awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.1f", b - a }') s" \
        "after the kill was sent (bound: 15 s; the kill comes 1 s after)"
else
    bad "xfront: xnetback did not notice the killed xnetfront in 15 s"
fi
check "xfront: ... and took the vif out of Connected" wait_for 5 sh -c "[ \"\$(xenstore-read $be/state)\" != 4 ]"
check "xfront: ... without counting it a fault of the guest's" \
    sh -c "xnetctl -S $vif --json | grep -q '\"broken\":false'"
check "xfront: xnetback is the process it was" test "$(xnetback_pid)" = "$pid0"
check "xfront: the new xnetfront connected again" wait_for 60 xs_is "$be/state" 4
check "xfront: ... and the guest answers again" wait_for 30 ping -c 1 -W 2 10.9.0.12
check "xfront: ... the policy it had" sh -c "xnetctl -k $vif | grep -q 'profile: offload'"
end_stage
