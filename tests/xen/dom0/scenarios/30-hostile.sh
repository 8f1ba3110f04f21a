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
send_in_background 10.9.0.12 5007 /tmp/sink-md5
# (busybox's -W: how long the last answers may take once all are sent.
# One run of 2026-12-01 counted one answer missing with 2 s, under TCG
# with the transfer beside it; a late answer is not a lost one.)
ping -c 60 -i 0.5 -W 6 10.9.0.12 >/tmp/ping-xfront.log 2>&1 &
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
wait_for 30 test -s /tmp/got.md5
check "hostile: xfront's transfer during the attacks is intact" test "$(cat /tmp/got.md5)" = "$blob_md5"
wait "$ping_pid"
# One unanswered ping of 60 is let pass, and its count is in the check's
# name in every run. Under TCG about one run in two loses one, beside the
# transfer, and no drop counter (the vif TAP's in dom0, xnetback's, the
# guest's eth0 or xnetfront's) has counted it in the runs that printed
# them: an open question (docs/robustness.md), not an answer.
answered=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' /tmp/ping-xfront.log)
where=$(drops "$vif" 10.9.0.12)
check "hostile: xfront answered the pings during the attacks (${answered:-?} of 60)" \
    sh -c "[ '${answered:-0}' -ge 59 ] || { tail -n 2 /tmp/ping-xfront.log; echo '$where'; false; }"
[ "${answered:-0}" -eq 60 ] || echo "XNET-NOTE hostile: ping lost; $where"
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
