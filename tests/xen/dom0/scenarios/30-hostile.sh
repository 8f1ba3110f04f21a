# Bad input on real Xen: xnet-hostile in a third guest speaks the handshake
# and then breaks netif.h or the handshake's keys, one attack per
# connection (tests/tools/hostile), while xfront moves the blob and answers
# pings. Each attack must end with the backend disconnecting (or refusing)
# that vif, naming the fault in its log and error node and counting it;
# xnetback must live on, and xfront must not lose a byte.
# shellcheck shell=sh
# shellcheck disable=SC2154 # blob_md5, vif, fds0: set by /init and the scenarios before

stage hostile
pid0=$(xnetback_pid)
create_guest hostile hostile 13 1  # no network to wait for: it attacks its vif
hd=$(domid hostile)
rm -f /tmp/got.md5
# First 40 pings, then xfront's 32 MiB to dom0, both while the attacks
# run (they take 65-100 s). Not both at once: a TAP never stops its
# queue (tun orphans what it queues, so TCP does not hold back either),
# and while the attacks hold xnetback up for a second or so, the ACKs of
# the transfer overflow the vif's 500-frame ring in dom0's kernel, which
# then drops a ping too (CI of 2026-12-02: vif2.0's kernel tx_dropped 1,
# xnetback's and xnetfront's counters 0). That is congestion, not a vif
# that stopped serving; each check below stays strict about its own part.
# (busybox's -W: how long the last answers may take once all are sent;
# a late answer is not a lost one.)
(
    ping -c 40 -i 0.5 -W 6 10.9.0.12 >/tmp/ping-xfront.log 2>&1
    send_in_background 10.9.0.12 5007 /tmp/sink-md5
) &
ping_pid=$!
# Frames toward the hostile vif, for the attacks on its RX buffers.
ping -b -i 0.1 -q 10.9.0.255 >/dev/null 2>&1 &
bcast_pid=$!
if wait_for 240 sh -c "grep -q 'XNET-GUEST hostile: done' /var/log/xen/console/guest-hostile.log"; then
    ok "hostile: xnet-hostile ran to its end"
else
    bad "hostile: xnet-hostile did not finish"
    diagnose hostile "vif$hd.0"
fi
kill "$bcast_pid"
# Every attack the tool knows (its --list, in the guest's log), by name.
for a in $(guest_log hostile | tr -d '\r' | sed -n 's/.*XNET-GUEST hostile: attack \([^ ]*\) .*/\1/p'); do
    line=$(guest_log hostile | grep -a "hostile: ok $a:" | head -n 1 | tr -d '\r')
    if [ -n "$line" ]; then ok "hostile: $a: ${line#*: ok "$a": }"; else
        bad "hostile: $a: $(guest_log hostile | grep -a "hostile: FAIL $a" | tr -d '\r')"
    fi
done
check "hostile: a valid frame before and after the attacks is answered" \
    test "$(guest_log hostile | grep -ac 'hostile: ok valid: answered id 1 with status 0')" -eq 2
check "hostile: the tool counted no failure" \
    sh -c "grep -aq ' attack(s), 0 failed' /var/log/xen/console/guest-hostile.log"
hvif=vif$hd.0
check "hostile: xnetback counted the faults of $hvif" \
    sh -c "xnetctl -S $hvif --json | grep -q '\"faults\":[1-9]'"
for reason in "grant copy of tx request" "crosses its page" "more than 20 slots" \
    "reused before its response" "req_prod past the ring" "MSS 0" "not below the packet size" \
    "a packet of size 0" "extra info of unknown type" "grant copy of rx buffer" \
    "is not a number" "multi-queue-num-queues 65" "the same port" "mapping tx-ring-ref" \
    "binding event-channel"; do
    check "hostile: xnetback logged '$reason' for $hvif" \
        sh -c "grep '$hvif' /tmp/xnetback.log | grep -q '$reason'"
done
check "hostile: the error node names the last fault" \
    sh -c "xenstore-read /local/domain/0/error/backend/vif/$hd/0/error | grep -q 'req_prod past the ring'"
check "hostile: xnetback is the same process, never restarted" test "$(xnetback_pid)" = "$pid0"
wait "$ping_pid"
wait_for 60 test -s /tmp/got.md5
check "hostile: xfront's transfer during the attacks is intact" test "$(cat /tmp/got.md5)" = "$blob_md5"
where=$(drops "$vif" 10.9.0.12)  # shown if a ping was lost
check "hostile: xfront answered every ping during the attacks" \
    sh -c "grep -q ' 0% packet loss' /tmp/ping-xfront.log ||
        { tail -n 2 /tmp/ping-xfront.log; echo '$where'; false; }"
check "hostile: xl destroy" xl destroy hostile
check "hostile: $hvif is gone" wait_for 10 sh -c "! ip link show $hvif"

# Both guests gone: the restarted daemon is back to what it held with none.
check "xfront: xl destroy" xl destroy xfront
check "xfront: $vif is gone" wait_for 10 sh -c "! ip link show $vif"
check "xnetback holds no grant mapping with every guest gone" \
    wait_for 5 holds_no_mapping
check "xnetback holds as many fds as with no guest ($fds0)" \
    wait_for 5 holds_fds "$fds0"
end_stage
