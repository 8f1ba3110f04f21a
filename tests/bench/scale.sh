#!/usr/bin/env bash
# One xnetback serving many guests on xnet-sim, as a dom0 serves a host:
# N guests, each with xnetfront on dom0's bridge and profile `offload` on
# both ends of its vif, then one iperf3 TCP stream per guest to dom0, all
# at once; and the same shape over veth pairs (the kernel's own path, same
# machine, same run) as the reference. Prints, per N, the figure lines
# `make bench` collects:
#   scale.N.connect_s              from the first frontend started until
#                                  every vif's two ends say Connected
#   scale.N.rss_kib_per_vif        xnetback's RSS growth over the N vifs
#   scale.N.idle_cpu_pct           xnetback's CPU with N idle connected vifs
#   scale.N.aggregate_ratio_to_1   the N streams' sum over one guest alone
#   scale.N.jain_fairness          Jain's index of the N rates (1 = equal)
#   scale.N.slowest_mbps           the slowest guest's rate
#   scale.N.veth_jain_fairness     the same index over veth pairs
#   scale.N.ratio_to_veth          xnet's aggregate over veth's
#
# Usage: tests/bench/scale.sh BUILD_DIR [N...]   (root; default N: 64;
#        XNET_SCALE_SECONDS: the length of the streams, default 6;
#        XNET_SCALE_OPTS: more options for both daemons, as --busy-poll-us 0;
#        XNET_SCALE_BACK_OPTS, XNET_SCALE_FRONT_OPTS: for one of them;
#        XNET_SCALE_BACK_WRAP: a command xnetback runs under, as nice -n -10;
#        XNET_SCALE_VERBOSE: also print every guest's rate)
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
shift
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(64)
seconds=${XNET_SCALE_SECONDS:-6}
read -r -a opts <<<"${XNET_SCALE_OPTS:-}"
read -r -a back_opts <<<"${XNET_SCALE_BACK_OPTS:-}"
read -r -a back_wrap <<<"${XNET_SCALE_BACK_WRAP:-}"
read -r -a front_opts <<<"${XNET_SCALE_FRONT_OPTS:-}"
sim="$build/xnet-sim"
dir=$(mktemp -d /tmp/xnet-scale.XXXXXX)
export XNET_SIM_DIR="$dir"
veth_ns=()

cleanup() {
    "$sim" stop >/dev/null 2>&1
    for ns in "${veth_ns[@]}"; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$dir"
}
trap cleanup EXIT
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/../integration/lib.sh"

die() {
    echo "scale: $*" >&2
    grep -h "held\|error\|fault" "$dir"/xnetback.log >&2 2>/dev/null | tail -n 20
    exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# Guest D's address on the 10.20.0.0/16 bridge (dom0 is 10.20.0.1).
addr() { echo "10.20.$(($1 / 200 + 1)).$(($1 % 200 + 10))"; }
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# streams SERVER-NS CLIENT-NS-PREFIX FIRST LAST: one iperf3 stream from each
# namespace PREFIX<d> (d in FIRST..LAST) to SERVER-NS at once, each to its
# own server port; prints one rate per line, in Mbit/s (to the kbit/s).
streams() {
    local srv=$1 prefix=$2 first=$3 last=$4 d
    local out="$dir/streams"
    rm -rf "$out" && mkdir -p "$out"
    for ((d = first; d <= last; d++)); do
        ip netns exec "$srv" timeout $((seconds + 60)) iperf3 -s -1 -p $((6000 + d)) \
            >/dev/null 2>&1 &
    done
    for ((d = first; d <= last; d++)); do
        wait_for 10 ip netns exec "$srv" sh -c "ss -ltn | grep -q :$((6000 + d))" ||
            die "iperf3 server $d does not listen"
    done
    # All clients start at one moment, after every one of them is spawned,
    # so that the rates cover the same seconds.
    local start_ns=$(($(date +%s%N) + 2000000000 + (last - first) * 20000000))
    for ((d = first; d <= last; d++)); do
        # shellcheck disable=SC2016 # expanded by the inner bash
        ip netns exec "$prefix$d" bash -c 'd=$(( ($1 - $(date +%s%N)) / 1000000 ))
            (( d > 0 )) && sleep "$((d / 1000)).$(printf %03d $((d % 1000)))"
            shift; exec "$@"' - "$start_ns" timeout $((seconds + 40)) iperf3 -c 10.20.0.1 \
            -p $((6000 + d)) -t "$seconds" -J >"$out/$d.json" 2>"$out/$d.err" &
    done
    sleep $(((start_ns - $(date +%s%N)) / 1000000000 + 1))
    if [[ -n "${cpu_label:-}" ]]; then
        sleep $((seconds / 3))
        echo "$cpu_label: CPU during the streams: $(cpu_split 2)" >&2
    fi
    wait
    # One rate per stream; a stream that failed counts as 0 and says why.
    local files=()
    for ((d = first; d <= last; d++)); do files+=("$out/$d.json"); done
    /usr/bin/python3 -c 'import json, sys
for f in sys.argv[1:]:
    doc = {}
    try:
        doc = json.load(open(f))
        print(round(doc["end"]["sum_received"]["bits_per_second"] / 1e6, 3))
    except Exception as e:
        print(0)
        print("stream", f, "failed:", doc.get("error", repr(e)), file=sys.stderr)' "${files[@]}"
}

# cpu_split SECONDS: the CPU each command used over SECONDS, from now, as
# "command percent-of-one-core" for the busiest ones (where the time goes).
cpu_split() {
    snap() {  # command ticks, summed over its processes (comm is field 2)
        cat /proc/[0-9]*/stat 2>/dev/null |
            awk '{ gsub(/[()]/, "", $2); t[$2] += $14 + $15 } END { for (c in t) print c, t[c] }' |
            sort
    }
    local a b
    a=$(snap)
    sleep "$1"
    b=$(snap)
    join <(echo "$a") <(echo "$b") | awk -v s="$1" -v hz="$(getconf CLK_TCK)" \
        '{ d = ($3 - $2) * 100 / hz / s; if (d >= 1) printf "%s %.0f%%\n", $1, d }' |
        sort -k2 -rn | head -n 6 | paste -sd, -
}

# jain RATES...: Jain's fairness index, (sum x)^2 / (n sum x^2).
jain() { printf '%s\n' "$@" | awk '{ s += $1; q += $1 * $1; n++ } END { printf "%.3f", q ? s * s / (n * q) : 0 }'; }
sum() { printf '%s\n' "$@" | awk '{ s += $1 } END { printf "%.0f", s }'; }
min() { printf '%s\n' "$@" | sort -n | head -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b ? a / b : 0 }'; }

# --- xnet: one xnetback, N guests ------------------------------------------------
run_xnet() {
    local n=$1 d
    "$sim" start >/dev/null || die "xnet-sim does not start"
    in0 ip link set lo up
    in0 ip link add xenbr0 type bridge
    in0 ip link set xenbr0 up
    in0 ip addr add 10.20.0.1/16 dev xenbr0
    "$sim" exec 0 -- "${back_wrap[@]}" "$build/xnetback" --profile offload "${opts[@]}" "${back_opts[@]}" >>"$dir/xnetback.log" 2>&1 &
    disown
    local back
    wait_for 10 pgrep -f "^$build/xnetback" >/dev/null || die "xnetback does not start"
    back=$(pgrep -f "^$build/xnetback" | head -n 1)
    local rss0
    rss0=$(rss_kib "$back")
    for ((d = 1; d <= n; d++)); do
        "$sim" domain create "$d" >/dev/null || die "creating domain $d"
        "$sim" vif add "$d" --mac "$(printf '00:16:3e:%02x:%02x:01' $((d / 256)) $((d % 256)))" \
            >/dev/null || die "adding vif$d.0"
    done
    local t0
    t0=$(now_ms)
    for ((d = 1; d <= n; d++)); do
        "$sim" exec "$d" -- "$build/xnetfront" --devid 0 --profile offload "${opts[@]}" "${front_opts[@]}" \
            >>"$dir/xnetfront.$d.log" 2>&1 &
        disown
    done
    for ((d = 1; d <= n; d++)); do
        wait_for 120 connected "$d" || die "guest $d does not connect"
    done
    local connect_ms=$(($(now_ms) - t0))
    for ((d = 1; d <= n; d++)); do
        in0 ip link set "vif$d.0" master xenbr0
        in0 ip link set "vif$d.0" up
        indom "$d" ip link set lo up
        indom "$d" ip link set eth0 up
        indom "$d" ip addr add "$(addr "$d")/16" dev eth0
    done
    for ((d = 1; d <= n; d++)); do
        wait_for 20 indom "$d" ping -c 1 -W 1 10.20.0.1 >/dev/null || die "guest $d does not reach dom0"
    done
    local rss1 c0 c1
    rss1=$(rss_kib "$back")
    c0=$(cpu_ticks "$back")
    sleep 2
    c1=$(cpu_ticks "$back")
    local idle_pct
    idle_pct=$(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", 100 * t / hz / 2 }')

    local alone
    alone=$(streams xnet-dom0 xnet-dom 1 1)
    mapfile -t rates < <(cpu_label="xnet, $n guests" streams xnet-dom0 xnet-dom 1 "$n")
    # Where frames were lost, over all vifs (drops by reason, both ways).
    "$build/xnetctl" --control "$dir/dom0/xnetback.sock" --json list >"$dir/list.json" 2>/dev/null
    echo "xnet, $n guests: drops: $(/usr/bin/python3 -c 'import json, sys, collections
t = collections.Counter()
for v in json.load(open(sys.argv[1]))["vifs"]:
    for d in ("tx", "rx"):
        for k, n in v["counters"][d]["drops"].items():
            if n: t[d + "." + k] += n
print(", ".join(f"{k} {n}" for k, n in t.most_common()) or "none")' "$dir/list.json" 2>/dev/null)"
    [[ -n "${XNET_SCALE_VERBOSE:-}" ]] && echo "xnet, $n guests: rates by guest: ${rates[*]}"
    local total
    total=$(sum "${rates[@]}")
    echo "xnet, $n guests: connected in ${connect_ms} ms; alone ${alone} Mbit/s;" \
        "together ${total} Mbit/s, slowest $(min "${rates[@]}")"
    echo "scale.$n.connect_s $(awk -v m="$connect_ms" 'BEGIN { printf "%.2f", m / 1000 }') s"
    echo "scale.$n.rss_kib_per_vif $(((rss1 - rss0) / n)) KiB"
    echo "scale.$n.idle_cpu_pct $idle_pct %"
    echo "scale.$n.aggregate_ratio_to_1 $(ratio "$total" "$alone") x"
    echo "scale.$n.jain_fairness $(jain "${rates[@]}") index"
    echo "scale.$n.slowest_mbps $(min "${rates[@]}") Mbit/s"
    xnet_total=$total
    "$sim" stop >/dev/null 2>&1
}

# --- the reference: N veth pairs on a bridge, same streams -----------------------
run_veth() {
    local n=$1 d
    local hub="xnet-scale-hub"
    veth_ns+=("$hub")
    ip netns add "$hub"
    ip netns exec "$hub" ip link set lo up
    ip netns exec "$hub" ip link add br0 type bridge
    ip netns exec "$hub" ip link set br0 up
    ip netns exec "$hub" ip addr add 10.20.0.1/16 dev br0
    for ((d = 1; d <= n; d++)); do
        local ns="xnet-scale-g$d"
        veth_ns+=("$ns")
        ip netns add "$ns"
        ip link add "vs$d" netns "$hub" type veth peer name veth0 netns "$ns"
        ip netns exec "$hub" ip link set "vs$d" master br0
        ip netns exec "$hub" ip link set "vs$d" up
        ip netns exec "$ns" ip link set lo up
        ip netns exec "$ns" ip link set veth0 up
        ip netns exec "$ns" ip addr add "$(addr "$d")/16" dev veth0
    done
    for ((d = 1; d <= n; d++)); do
        wait_for 20 ip netns exec "xnet-scale-g$d" ping -c 1 -W 1 10.20.0.1 >/dev/null ||
            die "veth guest $d does not reach the hub"
    done
    mapfile -t rates < <(streams "$hub" xnet-scale-g 1 "$n")
    local total
    total=$(sum "${rates[@]}")
    echo "veth, $n pairs: together ${total} Mbit/s, slowest $(min "${rates[@]}")"
    echo "scale.$n.veth_jain_fairness $(jain "${rates[@]}") index"
    echo "scale.$n.ratio_to_veth $(ratio "$xnet_total" "$total") x"
    for ns in "${veth_ns[@]}"; do ip netns del "$ns" 2>/dev/null; done
    veth_ns=()
}

for n in "${sizes[@]}"; do
    xnet_total=0
    run_xnet "$n"
    run_veth "$n"
done
