#!/usr/bin/env bash
# Soak: mixed traffic, offload toggles and guest churn on
# xnet-sim for a while, watching xnetback's memory and descriptors and
# every checksum that leaves the host.
# - traffic: guest 1 -> outside, outside -> guest 2, guest 3 -> guest 4
#   (iperf3, paced), and pings on every guest;
# - toggles: every 2 s one offload key of one end of one of those vifs;
# - churn: every 8 s a fifth guest is destroyed and another created;
# - measured: xnetback's RSS and descriptors (sampled), tshark over every
#   frame that reached the outside (captured in 10 s files, checked as
#   they close), and the checksum-failure counters of every end.
# Summary line for tests/run-suites (`make check` runs 60 s, `make soak` 30 min):
#   soak: N passed, M failed
#
# Usage: tests/integration/soak.sh BUILD_DIR [SECONDS]
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
seconds=${2:-60}
sim="$build/xnet-sim"
dir=$(mktemp -d /tmp/xnet-soak.XXXXXX)
export XNET_SIM_DIR="$dir"
out="xnet-out-$$"
bg=()

cleanup() {
    for p in "${bg[@]}"; do kill "$p" 2>/dev/null; done
    "$sim" stop >/dev/null 2>&1
    ip netns del "$out" 2>/dev/null
    keep_on_failure soak
    rm -rf "$dir"
}
trap cleanup EXIT
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

ctl() { "$build/xnetctl" --control "$dir/dom0/xnetback.sock" "$@"; }
back_pid() { pgrep -f "^$build/xnetback" | head -n 1; }
back_fds() { find "/proc/$(back_pid)/fd" -mindepth 1 | wc -l; }
back_rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$(back_pid)/status"; }
now() { date +%s; }

add_guest() {  # add_guest DOMID: a guest with xnetfront at 10.10.0.(10 + DOMID % 200)
    local d=$1
    "$sim" domain create "$d" >/dev/null || return 1
    "$sim" vif add "$d" --mac "$(printf '00:16:3e:00:02:%02x' "$d")" >/dev/null || return 1
    in0 ip link set "vif$d.0" master xenbr0 && in0 ip link set "vif$d.0" up
    "$sim" exec "$d" -- "$build/xnetfront" --devid 0 --profile offload \
        >>"$dir/xnetfront-$d.log" 2>&1 &
    disown
    wait_for 10 indom "$d" ip link show eth0 || return 1
    indom "$d" ip link set lo up
    indom "$d" ip addr add "10.10.0.$((10 + d % 200))/24" dev eth0
    wait_for 10 connected "$d"
}

# iperf DOMID-OR-out SERVER-NS ADDRESS EXTRA...: a paced stream until killed
iperf() {
    local cli=$1 srv=$2 addr=$3 port=$((5200 + RANDOM % 700))
    shift 3
    ip netns exec "$srv" iperf3 -s -p "$port" >/dev/null 2>&1 &
    bg+=($!)
    wait_for 5 ip netns exec "$srv" sh -c "ss -ltn | grep -q :$port"
    ip netns exec "$cli" iperf3 -c "$addr" -p "$port" -t "$((seconds + 30))" "$@" \
        >>"$dir/iperf.log" 2>&1 &
    bg+=($!)
}

# --- the host ------------------------------------------------------------------
"$sim" start >/dev/null || { echo "soak: 0 passed, 1 failed"; exit 1; }
bridged_outside uplink eth0
"$sim" exec 0 -- "$build/xnetback" --profile offload >>"$dir/xnetback.log" 2>&1 &
disown
wait_for 5 ctl list
for d in 1 2 3 4; do check "guest $d up" add_guest "$d"; done

# Every frame toward the outside, in 10 s files.
mkdir -p "$dir/cap"
inout tcpdump -Q in -i eth0 -G 10 -w "$dir/cap/out-%s.pcap" >/dev/null 2>&1 &
bg+=($!)
bad=0 frames=0
# check_captures [all]: tshark over the files that are closed (all of them
# at the end), then removes them
check_captures() {
    local files f
    files=$(find "$dir/cap" -name '*.pcap' | sort)
    [[ "${1:-}" == all ]] || files=$(head -n -1 <<<"$files")
    for f in $files; do
        bad=$((bad + $(bad_checksums "$f")))
        frames=$((frames + $(tshark_r "$f" 2>/dev/null | grep -c .)))
        rm -f "$f"
    done
}

iperf xnet-dom1 "$out" 10.10.0.100 -b 100M
iperf xnet-dom2 "$out" 10.10.0.100 -b 100M -R
iperf xnet-dom3 xnet-dom4 10.10.0.14 -b 200M
for d in 1 2 3 4; do
    indom "$d" ping -i 0.2 -q 10.10.0.1 >/dev/null 2>&1 &
    bg+=($!)
done
sleep 3
fds0=$(back_fds) rss0=$(back_rss_kb) heap0=$(heap_bytes "$dir/dom0/xnetback.sock")
ls -l "/proc/$(back_pid)/fd" >"$dir/fds-start.txt"
echo "      start: xnetback $rss0 KiB, $fds0 descriptors, for $seconds s"

# --- the soak --------------------------------------------------------------------
keys=(tx rx tx-data-validated sg tso)
churn=100 toggles=0 churned=0
t_end=$(($(now) + seconds)) next_churn=$(($(now) + 8)) next_sample=$(($(now) + 10))
samples=()
while (($(now) < t_end)); do
    v=$((1 + RANDOM % 3)) k=${keys[RANDOM % ${#keys[@]}]} onoff=$((RANDOM % 2 ? 1 : 0))
    end=()
    ((RANDOM % 2)) && end=(--frontend)
    state=off
    ((onoff)) && state=on
    ctl "${end[@]}" -K "vif$v.0" "$k" "$state" >>"$dir/toggles.log" 2>&1 && toggles=$((toggles + 1))
    if (($(now) >= next_churn)); then
        "$sim" domain destroy "$churn" >/dev/null 2>&1
        churn=$((churn + 1))
        add_guest "$churn" >>"$dir/churn.log" 2>&1 && churned=$((churned + 1))
        indom "$churn" ping -c 3 -i 0.2 -q 10.10.0.1 >>"$dir/churn.log" 2>&1
        next_churn=$(($(now) + 8))
    fi
    if (($(now) >= next_sample)); then
        samples+=("$(back_rss_kb)")
        check_captures
        next_sample=$(($(now) + 10))
    fi
    sleep 2
done

# --- back to where it began ------------------------------------------------------
"$sim" domain destroy "$churn" >/dev/null 2>&1
for v in 1 2 3 4; do
    ctl profile "vif$v.0" offload >/dev/null 2>&1
    ctl --frontend profile "vif$v.0" offload >/dev/null 2>&1
done
check "every guest Connected at the end" wait_for 10 sh -c "for d in 1 2 3 4; do
    [ \"\$(ip netns exec xnet-dom0 cat /sys/class/net/vif\$d.0/carrier 2>/dev/null)\" = 1 ] || exit 1
    done"
sleep 2
for p in "${bg[@]}"; do kill "$p" 2>/dev/null; done
bg=()
sleep 1
check_captures all
fds1=$(back_fds) rss1=$(back_rss_kb) heap1=$(heap_bytes "$dir/dom0/xnetback.sock")
ls -l "/proc/$(back_pid)/fd" >"$dir/fds-end.txt"
echo "      end: xnetback $rss1 KiB, $fds1 descriptors; RSS samples: ${samples[*]}"
check "heap in use grew by $((${heap1:-0} - ${heap0:-0})) bytes (< 1 MiB)" \
    test $((${heap1:-0} - ${heap0:-0})) -lt 1048576 -a "${heap1:-0}" -gt 0
check "$toggles toggles applied" test "$toggles" -gt $((seconds / 4))
check "$churned guests churned" test "$churned" -ge $((seconds / 15))
check "descriptors at the end as at the start ($fds0 -> $fds1)" test "$fds1" -eq "$fds0"
if [[ $(ldd "$build/xnetback") == *libasan* ]]; then
    # Under ASan the RSS is mostly its quarantine of freed memory: the
    # heap check above, and LeakSanitizer when xnetback exits below.
    echo "      (ASan build: RSS not compared)"
else
    check "RSS grew by $((rss1 - rss0)) KiB (< 4 MiB)" test $((rss1 - rss0)) -lt 4096
fi
check "the outside saw $frames frames" test "$frames" -gt 1000
check "every checksum valid outside ($bad bad)" test "$bad" -eq 0
sums=0
for d in 1 2 3 4; do
    for j in "$(ctl --json -S "vif$d.0")" "$("$sim" exec "$d" -- "$build/xnetctl" --json -S eth0)"; do
        sums=$((sums + $(counter "$j" rx csum_bad) + $(counter "$j" tx csum_bad)))
    done
done
check "no end found a bad checksum ($sums)" test "$sums" -eq 0
check "xnetback never faulted a vif" sh -c "! grep -q '^xnetback: error: vif' '$dir/xnetback.log'"
pid=$(back_pid)
kill -TERM "$pid"
check "xnetback stops on SIGTERM" wait_for 10 sh -c "! kill -0 $pid 2>/dev/null"
summary soak
