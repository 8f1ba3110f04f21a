#!/usr/bin/env bash
# Policy that converges, on xnet-sim: one xnetback and GUESTS guests
# (default 16) with xnetfront, every guest pinging the outside and two TCP
# streams running, while profiles, single keys and key removals are
# written to random ends of random vifs at random moments (both ends at
# once, bursts that land in the middle of a reconnect). Then, for every
# vif: both ends Connected, each end's policy the one its keys say, its
# feature keys in xenstore what that policy advertises, and the features
# each end's rules were derived from the ones its peer has in xenstore now;
# no fault counted, no error logged, every guest answering, and every
# checksum that left the host valid (tshark on the outside).
# The seed is printed; XNET_CONVERGE_SEED replays a run.
# Summary line for tests/run-suites (`make check` runs 60 rounds, `make
# soak` XNET_CONVERGE_ROUNDS of them):
#   sim-converge: N passed, M failed
#
# Usage: tests/integration/sim-converge.sh BUILD_DIR [ROUNDS] [GUESTS]
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
rounds=${2:-60}
guests=${3:-16}
sim="$build/xnet-sim"
dir=$(mktemp -d /tmp/xnet-sim-converge.XXXXXX)
export XNET_SIM_DIR="$dir"
out="xnet-cout-$$"
bg=()

capture_pid=
cleanup() {
    [[ -n "$capture_pid" ]] && kill "$capture_pid" 2>/dev/null
    for p in "${bg[@]}"; do kill "$p" 2>/dev/null; done
    "$sim" stop >/dev/null 2>&1
    # What runs in our namespace dies with it: a background shell function
    # (inout, indom) leaves $! naming its subshell, not the program.
    ip netns pids "$out" 2>/dev/null | xargs -r kill 2>/dev/null
    ip netns del "$out" 2>/dev/null
    keep_on_failure sim-converge
    rm -rf "$dir"
}
trap cleanup EXIT
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

seed=${XNET_CONVERGE_SEED:-$$}
RANDOM=$seed
echo "sim-converge: seed $seed, $rounds rounds, $guests guests"

ctl() { "$build/xnetctl" "$@"; }
# The policy table's words, from xnetctl (not spelled again here).
mapfile -t profiles < <(ctl policy-keys | awk '$1 == "profile" { for (i = 2; i <= NF; i++) print $i }')
mapfile -t settings < <(ctl policy-keys | awk '$1 != "profile" { print $1 }')

# --- dom0's bridge, the outside behind it, GUESTS guests ------------------------
"$sim" start >/dev/null || { echo "sim-converge: 0 passed, 1 failed"; exit 1; }
bridged_outside uplink eth0
# No --profile: the keys decide (safe where none is written).
"$sim" exec 0 -- "$build/xnetback" >>"$dir/xnetback.log" 2>&1 &
disown  # ended by xnet-sim stop
for ((d = 1; d <= guests; d++)); do
    "$sim" domain create "$d" >/dev/null
    "$sim" vif add "$d" --mac "$(printf '00:16:3e:00:01:%02x' "$d")" >/dev/null
    in0 ip link set "vif$d.0" master xenbr0
    in0 ip link set "vif$d.0" up
    "$sim" exec "$d" -- "$build/xnetfront" --devid 0 >>"$dir/xnetfront-$d.log" 2>&1 &
    disown
done
all_up=1
for ((d = 1; d <= guests; d++)); do
    wait_for 10 indom "$d" ip link show eth0 || all_up=0
    indom "$d" ip link set lo up
    indom "$d" ip addr add "10.10.0.$((10 + d))/24" dev eth0
    wait_for 10 connected "$d" || all_up=0
done
check "all $guests guests connected" test "$all_up" = 1

# --- traffic the changes land in ---------------------------------------------------
# What reached the outside (-Q in: its own sends carry partials of its own).
# Not through inout: $! must be tcpdump itself, stopped (and flushed) below.
ip netns exec "$out" tcpdump -Q in -i eth0 -w "$dir/outside.pcap" 'ip and (tcp or icmp)' 2>/dev/null &
capture_pid=$!
for ((d = 1; d <= guests; d++)); do
    indom "$d" ping -q -i 0.2 10.10.0.100 >/dev/null 2>&1 &
    bg+=($!)
done
ip netns exec "$out" iperf3 -s -p 5301 >/dev/null 2>&1 &
bg+=($!)
indom 2 iperf3 -s -p 5302 >/dev/null 2>&1 &
bg+=($!)
wait_for 5 inout sh -c "ss -ltn | grep -q :5301"
wait_for 5 indom 2 sh -c "ss -ltn | grep -q :5302"
# Paced: the streams are there to be cut by reconnects, not to load the host.
# -t: they run at least as long as the changes (each round is 0-300 ms).
secs=$((rounds * 3 / 10 + 5))
indom 1 iperf3 -c 10.10.0.100 -p 5301 -t "$secs" -b 200M >/dev/null 2>&1 &
bg+=($!)
inout iperf3 -c 10.10.0.12 -p 5302 -t "$secs" -b 200M >/dev/null 2>&1 &
bg+=($!)

# --- the changes: random vif, random end(s), random change, random gap ------------
# key_path END DOMID KEY: the policy key of that end of guest DOMID's vif 0
key_path() {
    if [[ $1 == back ]]; then
        echo "/local/domain/0/backend/vif/$2/0/offload/$3"
    else
        echo "/local/domain/$2/device/vif/0/offload/$3"
    fi
}
writer() { [[ $1 == back ]] && echo 0 || echo "$2"; }  # the domain that writes that end
change() {  # change END DOMID: one random change of that end's keys
    local e=$1 d=$2 r=$((RANDOM % 10)) k
    if ((r < 3)); then
        as "$(writer "$e" "$d")" xenstore-write "$(key_path "$e" "$d" profile)" \
            "${profiles[RANDOM % ${#profiles[@]}]}"
    elif ((r < 8)); then
        k=${settings[RANDOM % ${#settings[@]}]}
        as "$(writer "$e" "$d")" xenstore-write "$(key_path "$e" "$d" "$k")" \
            "$( ((RANDOM % 2)) && echo on || echo off)"
    else
        k=${settings[RANDOM % ${#settings[@]}]}
        as "$(writer "$e" "$d")" xenstore-rm "$(key_path "$e" "$d" "$k")" 2>/dev/null
    fi
}
for ((i = 0; i < rounds; i++)); do
    d=$((1 + RANDOM % guests))
    case $((RANDOM % 3)) in
        0) change back "$d" ;;
        1) change front "$d" ;;
        2)  # both ends at once
            change back "$d" &
            b=$!
            change front "$d" &
            wait "$b" "$!"
            ;;
    esac
    # A third of the gaps are none: the next change meets a reconnect.
    ((RANDOM % 3)) && sleep "0.$((RANDOM % 300))"
done
echo "sim-converge: $rounds changes written"

# --- every vif follows its keys ----------------------------------------------------
# converged DOMID: both ends of guest DOMID's vif Connected, following the
# keys as they are now (see the header). Prints what differs, if anything.
converged() {
    local d=$1 bj fj bk fk bx fx
    bj=$(ctl --json --control "$dir/dom0/xnetback.sock" -S "vif$d.0" 2>/dev/null) || return 1
    fj=$(ctl --json --control "$dir/dom$d/xnetfront-0.sock" -S eth0 2>/dev/null) || return 1
    # What the keys say, without asking the daemons (no such socket).
    bk=$(as 0 "$build/xnetctl" --json --control "$dir/none" -k "vif$d.0" 2>/dev/null) || return 1
    fk=$(as 0 "$build/xnetctl" --json --control "$dir/none" --frontend -k "vif$d.0" 2>/dev/null) ||
        return 1
    bx=$(as 0 xenstore-ls -f "/local/domain/0/backend/vif/$d/0" 2>/dev/null) || return 1
    fx=$(as 0 xenstore-ls -f "/local/domain/$d/device/vif/0" 2>/dev/null) || return 1
    python3 - "$bj" "$fj" "$bk" "$fk" "$bx" "$fx" <<'EOF'
import json, re, sys
bj, fj, bk, fk = (json.loads(a) for a in sys.argv[1:5])
def store(text):  # xenstore-ls -f: '/path/key = "value"' -> {key: value}
    out = {}
    for line in text.splitlines():
        m = re.match(r'^(\S+) = "(.*)"$', line)
        if m:
            out[m.group(1).rsplit("/", 1)[1]] = m.group(2)
    return out
bx, fx = store(sys.argv[5]), store(sys.argv[6])
def features(keys, like):  # the peer's feature keys as booleans (absent: off)
    return {k: keys.get(k, "0") == "1" for k in like}
wrong = []
if bj["state"] != "Connected" or bx.get("state") != "4":
    wrong.append("backend state %s (%s)" % (bj["state"], bx.get("state")))
if fj["state"] != "Connected" or fx.get("state") != "4":
    wrong.append("frontend state %s (%s)" % (fj["state"], fx.get("state")))
for end, j, k in (("backend", bj, bk), ("frontend", fj, fk)):
    if j["policy"] != k["settings"]:
        wrong.append("%s policy %s, its keys say %s" % (end, j["policy"], k["settings"]))
for end, j, own in (("backend", bj, bx), ("frontend", fj, fx)):
    if features(own, j["advertised"]) != j["advertised"]:
        wrong.append("%s advertises %s in xenstore, its policy %s"
                     % (end, features(own, j["advertised"]), j["advertised"]))
for end, j, peer in (("backend", bj, fx), ("frontend", fj, bx)):
    pf = j["peer_features"]
    if pf is None or features(peer, pf) != pf:
        wrong.append("%s rules from peer features %s, the peer has %s"
                     % (end, pf, pf and features(peer, pf)))
for end, j in (("backend", bj), ("frontend", fj)):
    if j["counters"].get("faults", 0):
        wrong.append("%s counted %d faults" % (end, j["counters"]["faults"]))
print("; ".join(wrong))
sys.exit(1 if wrong else 0)
EOF
}
not_converged=()
for ((d = 1; d <= guests; d++)); do
    wait_for 30 converged "$d" || not_converged+=("$d")
done
check "every vif follows its keys (not: ${not_converged[*]:-none})" \
    test "${#not_converged[@]}" -eq 0
for d in "${not_converged[@]}"; do
    echo "      guest $d: $(converged "$d")"
done

# --- and works under them ------------------------------------------------------------
silent=()
for ((d = 1; d <= guests; d++)); do
    wait_for 5 indom "$d" ping -c 1 -W 1 10.10.0.100 || silent+=("$d")
done
check "every guest reaches the outside (not: ${silent[*]:-none})" test "${#silent[@]}" -eq 0
for p in "${bg[@]}"; do kill "$p" 2>/dev/null; done
wait "${bg[@]}" 2>/dev/null
bg=()
tcp_bytes=8388608 tcp "after the changes: tcp guest 1 -> outside" "$out" xnet-dom1 10.10.0.100
tcp_bytes=8388608 tcp "after the changes: tcp outside -> guest 2" xnet-dom2 "$out" 10.10.0.12
kill "$capture_pid" 2>/dev/null
wait "$capture_pid" 2>/dev/null
capture_pid=
frames=$(tshark_r "$dir/outside.pcap" -T fields -e frame.number 2>/dev/null | grep -c .)
bad=$(bad_checksums "$dir/outside.pcap")
check "outside: every checksum valid (${bad:-?} bad of ${frames:-0} frames)" \
    test "${frames:-0}" -gt 0 -a "${bad:-1}" -eq 0

# --- and said nothing wrong ----------------------------------------------------------
check_log_clean "xnetback logged no error" "$dir/xnetback.log"
# A map or bind that meets a frontend starting over is an info line ("moved
# on while we connected"); one blamed on the frontend would be an error or
# a warning.
check "xnetback warned of no failed map or bind" \
    sh -c "! grep -E '^xnetback: (warning|error): .*(mapping|binding)' '$dir/xnetback.log'"
errs=0
for ((d = 1; d <= guests; d++)); do
    grep -q '^[a-z-]*: error: ' "$dir/xnetfront-$d.log" && errs=$((errs + 1))
done
check "no xnetfront logged an error ($errs did)" test "$errs" -eq 0

summary sim-converge
