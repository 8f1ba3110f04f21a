#!/usr/bin/env bash
# The offload policy keys on xnet-sim, applied live by both daemons: the
# default when nothing is written (safe), profiles written per end,
# toggles that apply without a reconnect and those that need one, bad
# values rejected by name with the previous setting kept, and every key of
# both ends toggled while TCP runs to the outside, with tshark checking
# every checksum that leaves the host.
# Summary line for tests/run-suites:
#   sim-policy: N passed, M failed
#
# Usage: tests/integration/sim-policy.sh BUILD_DIR
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
sim="$build/xnet-sim"
dir=$(mktemp -d /tmp/xnet-sim-policy.XXXXXX)
export XNET_SIM_DIR="$dir"
out="xnet-pout-$$"
capture_pid=
iperf_pid=

cleanup() {
    [[ -n "$capture_pid" ]] && kill "$capture_pid" 2>/dev/null
    [[ -n "$iperf_pid" ]] && kill "$iperf_pid" 2>/dev/null
    "$sim" stop >/dev/null 2>&1
    ip netns del "$out" 2>/dev/null
    keep_on_failure sim-policy
    rm -rf "$dir"
}
trap cleanup EXIT
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"


# bset DOMID KEY VALUE / fset DOMID KEY VALUE: a policy key of the backend's
# or the frontend's end of guest DOMID's vif 0, written as the toolstack or
# the guest would.
bset() { as 0 xenstore-write "backend/vif/$1/0/offload/$2" "$3"; }
fset() { as "$1" xenstore-write "device/vif/0/offload/$2" "$3"; }
brm() { as 0 xenstore-rm "backend/vif/$1/0/offload/$2"; }
frm() { as "$1" xenstore-rm "device/vif/0/offload/$2"; }
fe_key() { as 0 xenstore-read "/local/domain/$1/device/vif/0/$2"; }

bstats() { "$build/xnetctl" --json --control "$dir/dom0/xnetback.sock" -S "vif$1.0"; }
fstats() { "$build/xnetctl" --json --control "$dir/dom$1/xnetfront-0.sock" -S eth0; }
connections() { grep -c "vif$1.0: connected" "$dir/xnetback.log"; }

# --- topology: dom0 bridge, guests 1 and 2, the outside behind a veth ------
"$sim" start >/dev/null || { echo "sim-policy: 0 passed, 1 failed"; exit 1; }
bridged_outside uplink eth0

# No --profile anywhere: the keys decide, and with none written it is safe.
"$sim" exec 0 -- "$build/xnetback" >>"$dir/xnetback.log" 2>&1 &
disown  # ended by xnet-sim stop
for d in 1 2; do
    "$sim" domain create "$d" >/dev/null
    "$sim" vif add "$d" --mac "00:16:3e:00:00:0$d" >/dev/null
    in0 ip link set "vif$d.0" master xenbr0
    in0 ip link set "vif$d.0" up
    "$sim" exec "$d" -- "$build/xnetfront" --devid 0 >>"$dir/xnetfront-$d.log" 2>&1 &
    disown
    wait_for 10 indom "$d" ip link show eth0
    indom "$d" ip link set lo up
    indom "$d" ip addr add "10.10.0.1$d/24" dev eth0
    check "guest $d connected" wait_for 10 connected "$d"
done

# --- nothing written: safe on both ends ------------------------------------
check "default: the backend's policy is safe" \
    json_is policy.tx-checksum=off policy.rx-checksum=off policy.tx-data-validated=off -- bstats 1
check "default: the frontend's policy is safe" \
    json_is policy.tx-checksum=off policy.rx-checksum=off policy.tx-data-validated=off -- fstats 1
check "default: the frontend asks for full checksums" equals 1 fe_key 1 feature-no-csum-offload
tcp "safe: tcp guest1 -> guest2" xnet-dom2 xnet-dom1 10.10.0.12
stats=$(bstats 1)
partial="$(counter "$stats" tx csum_partial) $(counter "$stats" rx csum_partial)"
check "safe: no partial checksum crossed the ring either way ($partial)" test "$partial" = "0 0"

# --- profile offload written for both ends of both vifs ----------------------
before=$(connections 1)
for d in 1 2; do
    bset "$d" profile offload
    fset "$d" profile offload
done
check "offload: the frontend now takes partials (feature-no-csum-offload 0)" \
    wait_for 10 equals 0 fe_key 1 feature-no-csum-offload
check "offload: guest 1 reconnected to tell the backend" \
    wait_for 10 sh -c "[ \$(grep -c 'vif1.0: connected' '$dir/xnetback.log') -gt $before ]"
check "offload: guest 1 connected again" wait_for 10 connected 1
check "offload: guest 2 connected again" wait_for 10 connected 2
check "offload: the backend's policy is offload" \
    json_is policy.tx-checksum=on policy.rx-checksum=on policy.tx-data-validated=on -- bstats 1
tcp "offload: tcp guest1 -> guest2" xnet-dom2 xnet-dom1 10.10.0.12
check "offload: partial checksums crossed the ring" \
    test "$(counter "$(bstats 1)" rx csum_partial)" -gt 0

# --- bad values: rejected by name, the previous setting stays ----------------
bset 1 tx-checksum maybe
check "bad value: the backend's error node names the key" \
    wait_for 5 has "offload/tx-checksum: 'maybe' is not on or off" \
    as 0 xenstore-read /local/domain/0/error/backend/vif/1/0/error
check "bad value: the backend's log names the key" \
    grep -q "offload/tx-checksum: 'maybe'" "$dir/xnetback.log"
check "bad value: the backend kept tx-checksum on" json_is policy.tx-checksum=on -- bstats 1
fset 1 rx-checksum ""
check "bad value: the frontend's error node names the key" \
    wait_for 5 has "offload/rx-checksum: '' is not on or off" \
    as 1 xenstore-read /local/domain/1/error/device/vif/0/error
check "bad value: the frontend kept rx-checksum on" json_is policy.rx-checksum=on -- fstats 1
check "bad value: still connected" connected 1
brm 1 tx-checksum
frm 1 rx-checksum

# --- a toggle that applies live, and one that needs a reconnect ---------------
before=$(connections 1)
bset 1 tx-checksum off
check "live: the backend applied tx-checksum off" wait_for 5 json_is policy.tx-checksum=off -- bstats 1
partial=$(counter "$(bstats 1)" tx csum_partial)
none=$(counter "$(bstats 1)" tx csum_none)
tcp "live: tcp dom0 -> guest1" xnet-dom0 xnet-dom1 10.10.0.1 -R
# The TAP's tx-checksumming is off with it: the kernel completes them.
check "live: vif1.0's TAP shows tx-checksumming off" \
    has "tx-checksumming: off" in0 ethtool -k vif1.0
check "live: no partial checksum went to guest 1" \
    test "$(counter "$(bstats 1)" tx csum_partial)" -eq "$partial"
check "live: the frames came complete from the kernel" \
    test "$(counter "$(bstats 1)" tx csum_none)" -gt "$((none + 1000))"
check "live: no reconnect" test "$(connections 1)" -eq "$before"
brm 1 tx-checksum

bset 1 rx-checksum off
check "backend rx off: it asks for complete checksums (feature-no-csum-offload 1)" \
    wait_for 10 equals 1 as 0 xenstore-read backend/vif/1/0/feature-no-csum-offload
check "backend rx off: connected again" wait_for 10 connected 1
none=$(counter "$(fstats 1)" tx csum_none)
tcp "backend rx off: tcp guest1 -> dom0" xnet-dom0 xnet-dom1 10.10.0.1
check "backend rx off: the guest's eth0 shows tx-checksumming off" \
    has "tx-checksumming: off" indom 1 ethtool -k eth0
check "backend rx off: xnetfront sent complete checksums" \
    test "$(counter "$(fstats 1)" tx csum_none)" -gt "$((none + 1000))"
check "backend rx off: xnetback verified them" \
    test "$(counter "$(bstats 1)" rx csum_verified)" -gt 0
brm 1 rx-checksum
check "backend rx on again: partials welcome" \
    wait_for 10 equals 0 as 0 xenstore-read backend/vif/1/0/feature-no-csum-offload
check "backend rx on again: connected" wait_for 10 connected 1

renegotiated() { [[ "$(fe_key 1 feature-no-csum-offload)" == 1 ]] && connected 1; }
t0=$(date +%s%N)
fset 1 rx-checksum off
wait_for 30 renegotiated
ms=$((($(date +%s%N) - t0) / 1000000))
check "renegotiate: guest 1 asks for full checksums again, and is connected (in ${ms} ms)" \
    renegotiated
check "renegotiate: the frontend kept its profile with the override" \
    json_is policy.tx-checksum=on policy.rx-checksum=off -- fstats 1
partial=$(counter "$(bstats 1)" tx csum_partial)
tcp "renegotiate: tcp dom0 -> guest1" xnet-dom0 xnet-dom1 10.10.0.1 -R
check "renegotiate: no partial goes to guest 1 (it asked for full checksums)" \
    test "$(counter "$(bstats 1)" tx csum_partial)" -eq "$partial"
check "renegotiate: vif1.0 shows tx-checksumming off" has "tx-checksumming: off" in0 ethtool -k vif1.0
frm 1 rx-checksum
check "renegotiate: back to partials" wait_for 10 equals 0 fe_key 1 feature-no-csum-offload
check "renegotiate: connected" wait_for 10 connected 1

# --- xnetctl: the same through the CLI, and its errors -----------------------------
ctl() { as "$1" "$build/xnetctl" "${@:2}"; }           # ctl DOMID ARGS...: as that domain
gctl() { "$sim" exec "$1" -- "$build/xnetctl" "${@:2}"; }  # in the guest's namespace too
# status WANT CMD...: CMD exits with WANT
status() {
    local want=$1
    shift
    "$@" >/dev/null 2>&1
    [[ $? -eq $want ]]
}
listed() { ctl 0 list | grep -E "$1" >/dev/null; }  # listed REGEX: a line of `xnetctl list` matches
check "cli: list shows vif1.0 connected, with its settings" \
    listed '^vif1\.0 +backend +Connected +1 +on +on +on +on +on'
check "cli: list shows vif2.0" listed '^vif2\.0 +backend +Connected'
check "cli: list --json" has '"vifs":[{"name":"vif1.0"' ctl 0 list --json
check "cli: -k vif1.0" has "tx-checksum: on" ctl 0 -k vif1.0
check "cli: -k --peer shows what the frontend advertised" \
    has "feature-no-csum-offload: 0" ctl 0 -k vif1.0 --peer
check "cli: -K vif1.0 tx off sg on" ctl 0 -K vif1.0 tx off sg on
check "cli: the backend applied it" wait_for 5 json_is policy.tx-checksum=off -- bstats 1
check "cli: -k marks what was set" has "tx-checksum: off [set]" ctl 0 -k vif1.0
check "cli: profile vif1.0 safe" ctl 0 profile vif1.0 safe
check "cli: -k --json after profile safe" \
    wait_for 5 json_is profile=safe settings.tx-checksum=off settings.rx-checksum=off -- \
    ctl 0 -k vif1.0 --json
check "cli: the backend went safe (the peer must learn: reconnect)" \
    wait_for 10 json_is policy.rx-checksum=off -- bstats 1
check "cli: connected again" wait_for 10 connected 1
ctl 0 profile vif1.0 offload >/dev/null
brm 1 tx-checksum
brm 1 scatter-gather
check "cli: in the guest, -k eth0 is the frontend's end" has "(frontend end, /local/domain/1/device/vif/0)" gctl 1 -k eth0
check "cli: in the guest, -K eth0 tx-data-validated off" gctl 1 -K eth0 tx-data-validated off
check "cli: the frontend applied it" wait_for 5 json_is policy.tx-data-validated=off -- fstats 1
check "cli: in the guest, -S eth0" has "counters.tx.packets: " gctl 1 -S eth0
check "cli: dom0 sets the guest's end (--frontend)" ctl 0 --frontend -K vif1.0 tx-data-validated on
check "cli: the frontend applied dom0's change" wait_for 5 json_is policy.tx-data-validated=on -- fstats 1
check "cli: unknown interface: exit 4" status 4 ctl 0 -k vif9.0
check "cli: unknown interface in a guest: exit 4" status 4 gctl 1 -k eth7
check "cli: unknown feature: exit 2" status 2 ctl 0 -K vif1.0 turbo on
check "cli: bad value: exit 2" status 2 ctl 0 -K vif1.0 tx maybe
check "cli: unknown profile: exit 2" status 2 ctl 0 profile vif1.0 fast
check "cli: daemon not running: exit 3" status 3 ctl 0 --control "$dir/none.sock" -S vif1.0
check "cli: a guest may not change the backend's end: exit 5" \
    status 5 gctl 1 --backend -K eth0 tx off
check "cli: ... and is told why" has "ermission denied" gctl 1 --backend -K eth0 tx off
check "cli: the message names the interface" has "no such interface: vif9.0" ctl 0 -k vif9.0
check "cli: connected after all that" wait_for 10 connected 1
# documented: every command and option --help lists is in the manual page
documented() {
    local man w
    man=$(sed 's/\\-/-/g; s/\\f[BIR]//g' "$(dirname "$0")/../../docs/xnetctl.1")
    for w in $("$build/xnetctl" --help | sed -n 's/^  \([-a-z][-a-zA-Z]*\).*/\1/p'); do
        [[ "$man" == *"$w"* ]] || { echo "not in docs/xnetctl.1: $w"; return 1; }
    done
}
check "cli: docs/xnetctl.1 documents everything --help lists" documented

# --- every profile pair, then every key of both ends toggled, under TCP -----------
# At 50 Mbit/s the capture holds both whole runs, every change included.
ip netns exec "$out" tcpdump -Q in -c 200000 -i eth0 -w "$dir/outside.pcap" >/dev/null 2>&1 &
capture_pid=$!
# in_force STATS-CMD... PROFILE: the end reports the profile's settings
in_force() {
    local want=on
    [[ "${*: -1}" == safe ]] && want=off
    json_is "policy.tx-checksum=$want" "policy.rx-checksum=$want" -- "${@:1:$#-1}"
}
# moved BYTES: a 1 s iperf3 run from guest 1 to the outside moves more
moved() {
    local port=$((5600 + RANDOM % 300)) bytes
    ip netns exec "$out" timeout 15 iperf3 -s -1 -p "$port" >/dev/null 2>&1 &
    wait_for 5 ip netns exec "$out" sh -c "ss -ltn | grep -q :$port"
    bytes=$(indom 1 timeout 10 iperf3 -c 10.10.0.100 -p "$port" -t 1 -b 50M -J 2>/dev/null |
        sed -n 's/.*"bytes":[[:space:]]*\([0-9]*\).*/\1/p' | tail -n 1)
    [[ "${bytes:-0}" -gt "$1" ]]
}
pairs_ok=0 pairs_failed=
for bp in safe offload suppress; do
    for fp in safe offload suppress; do
        bset 1 profile "$bp"
        fset 1 profile "$fp"
        if wait_for 10 in_force bstats 1 "$bp" && wait_for 10 in_force fstats 1 "$fp" &&
            wait_for 10 connected 1 && moved 3000000; then
            pairs_ok=$((pairs_ok + 1))
        else
            pairs_failed+=" $bp/$fp"
        fi
    done
done
check "profiles: TCP to the outside under all 9 backend/frontend pairs (failed:${pairs_failed:- none})" \
    test "$pairs_ok" -eq 9
bset 1 profile offload
fset 1 profile offload
check "profiles: back to offload" wait_for 10 connected 1
ip netns exec "$out" timeout 40 iperf3 -s -1 -p 5999 >/dev/null 2>&1 &
wait_for 5 ip netns exec "$out" sh -c "ss -ltn | grep -q :5999"
indom 1 timeout 40 iperf3 -c 10.10.0.100 -p 5999 -t 18 -b 50M -J >"$dir/storm.json" 2>/dev/null &
iperf_pid=$!
for key in tx-checksum rx-checksum tx-data-validated scatter-gather tcp-segmentation-offload; do
    for end in bset fset; do
        "$end" 1 "$key" off
        sleep 0.7
        "$end" 1 "$key" on
        sleep 0.7
    done
done
wait "$iperf_pid"
iperf_pid=
# The stream lived through the toggles: it ended cleanly and still carried
# data in its last second, after them (how much is a rate: make bench's).
read -r storm last < <(/usr/bin/python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(r["end"]["sum_received"]["bytes"], r["intervals"][-1]["sum"]["bytes"])' \
    "$dir/storm.json" 2>/dev/null)
check "storm: TCP to the outside went on through 20 toggles (${storm:-0} bytes, ${last:-0} in the last second)" \
    test "${storm:-0}" -gt 0 -a "${last:-0}" -gt 0
check "storm: connected at the end" wait_for 10 connected 1
kill -INT "$capture_pid" 2>/dev/null
wait "$capture_pid" 2>/dev/null
capture_pid=
statuses=$(tshark_r "$dir/outside.pcap" -o ip.check_checksum:TRUE \
    -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE -T fields \
    -e ip.checksum.status -e tcp.checksum.status -e udp.checksum.status 2>/dev/null)
frames=$(grep -c . <<<"$statuses")
bad=$(bad_checksums "$dir/outside.pcap")
check "storm: tshark saw the transfer ($frames frames)" test "$frames" -gt 5000
check "storm: every checksum that left the host valid ($bad bad)" test "$bad" -eq 0
check "storm: the capture spans the toggles" \
    test "$(tshark_r "$dir/outside.pcap" -T fields -e frame.time_relative 2>/dev/null |
        tail -n 1 | cut -d. -f1)" -ge 15
check "no grant copy failed during the renegotiations" \
    sh -c "! grep -q 'grant copy' '$dir/xnetback.log'"
check "no daemon died" sh -c "pgrep -f '$build/xnetback' >/dev/null && pgrep -f '$build/xnetfront' >/dev/null"

summary sim-policy
