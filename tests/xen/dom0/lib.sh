# Helpers for the tests dom0 runs under Xen (sourced by /init, busybox sh).
# Results go to the serial console as markers the host reads:
#   XNET-OK <check> [@T]   a check passed, T seconds after dom0 booted
#   XNET-FAIL <check>: <detail> [@T]
#   XNET-STAGE <name> / XNET-END <name>   a stage began / reached its end
#   XNET-NOTE <text>       a figure or a diagnosis, printed, not counted
# shellcheck shell=sh

# iproute2's ip, not busybox's applet (which has no netns, nodad, ...).
ip() { /usr/bin/ip "$@"; }

# (the time says where a slow run spent it)
uptime_s() { cut -d. -f1 /proc/uptime; }
ok() { echo "XNET-OK $* [@$(uptime_s)]"; }
bad() { echo "XNET-FAIL $* [@$(uptime_s)]"; }

# check NAME CMD...: CMD must succeed; its output is shown when it fails.
check() {
    _name=$1
    shift
    if _out=$("$@" 2>&1); then
        ok "$_name"
    else
        bad "$_name: $(echo "$_out" | tail -n 3 | tr '\n' ' ')"
    fi
}

# stage NAME [SECONDS]: a stage begins, with a budget (default 240 s, three
# to five times what one takes): past it, the stage is reported stuck and
# dom0 powers off, so a hang costs its budget, not QEMU's whole timeout.
stage() {
    stage_name=$1
    stage_t0=$(date +%s)
    echo "XNET-STAGE $1"
    (
        sleep "${2:-240}"
        echo "XNET-FAIL stage $1: still running after ${2:-240} s, powering off"
        sync
        poweroff -f
    ) &
    stage_watchdog=$!
}
end_stage() {
    kill "$stage_watchdog" 2>/dev/null
    echo "XNET-END $stage_name ($(($(date +%s) - stage_t0)) s)"
}

# wait_for SECONDS CMD...: until CMD succeeds
wait_for() {
    _end=$(($(date +%s) + $1))
    shift
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        [ "$(date +%s)" -lt "$_end" ] || return 1
        sleep 0.2
    done
}

# on IP CMD: runs CMD (a shell command line) in the guest at IP, through
# the command server its /init starts (nc -ll -e); prints its output,
# then fails unless it ended with status 0.
on() {
    _out=$(echo "$2" | timeout "${on_timeout:-90}" nc -w 5 "$1" 7000 2>&1)
    echo "$_out" | sed '$d'
    [ "$(echo "$_out" | tail -n 1)" = "rc=0" ]
}

# on_has IP CMD PATTERN: CMD's output in the guest matches PATTERN (grep -E)
on_has() { on "$1" "$2" | grep -Eq "$3"; }

# serve PORT PROGRAM [NETNS]: one connection to PORT runs PROGRAM on it
# (nc -l -e), in the background; returns once the port listens, so a
# guest told to connect right after cannot find it closed. Sets serve_pid
# (the process that takes the connection).
serve() {
    if [ -n "${3:-}" ]; then
        ip netns exec "$3" nc -l -p "$1" -e "$2" &
    else
        nc -l -p "$1" -e "$2" &
    fi
    serve_pid=$!
    wait_for 10 sh -c "${3:+/usr/bin/ip netns exec $3 }netstat -ltn | grep -q ':$1 '"
}

# xs_is PATH VALUE: the xenstore node holds VALUE
xs_is() { [ "$(xenstore-read "$1" 2>/dev/null)" = "$2" ]; }

# domid NAME
domid() { xl domid "$1" 2>/dev/null; }

# guest_cfg NAME ROLE LAST-OCTET VCPUS: writes /tmp/NAME.cfg, a PV guest
# with vif 0 on xenbr0 through xnet's vif-bridge, named as an administrator
# would (script=xnet/vif-bridge: /etc/xen/scripts/xnet/, from xnet-backend).
guest_cfg() {
    cat >"/tmp/$1.cfg" <<EOF
name = "$1"
type = "pv"
kernel = "/xnet/vmlinux.gz"
ramdisk = "/xnet/domU.cpio.gz"
extra = "console=hvc0 rdinit=/init quiet mitigations=off xnet.role=$2 xnet.ip=$3"
memory = 200
vcpus = $4
vif = [ 'mac=00:16:3e:00:00:$3,bridge=xenbr0,script=xnet/vif-bridge' ]
on_crash = "destroy"
EOF
}

# create_guest NAME ROLE N VCPUS: `xl create` of that guest (guest_cfg).
# libxl waits (10 s) for the backend's InitWait, runs the vif's script and
# waits for its hotplug-status: xl create returns 0 only if all of it worked.
create_guest() {
    guest_cfg "$1" "$2" "$3" "$4"
    if xl create "/tmp/$1.cfg" >"/tmp/xl-$1.log" 2>&1; then
        ok "$1: xl create, vif script=xnet/vif-bridge (libxl saw InitWait and hotplug-status in time)"
    else
        bad "$1: xl create: $(tail -n 3 "/tmp/xl-$1.log" | tr '\n' ' ')"
        return 1
    fi
}

# new_guest NAME ROLE N VCPUS: create_guest, then until it answers at
# 10.9.0.N. Sets d (its domid), vif, be and fe (both ends' directories).
# shellcheck disable=SC2034 # be and fe: for the scenarios
new_guest() {
    _t0=$(date +%s)
    create_guest "$@"
    d=$(domid "$1")
    vif=vif$d.0
    be=/local/domain/0/backend/vif/$d/0
    fe=/local/domain/$d/device/vif/0
    if guest_up "$1" "10.9.0.$3" 120; then
        _up=$(guest_log "$1" | tr -d '\r' | sed -n 's/.*XNET-GUEST up, \([0-9.]*\) s .*/\1/p')
        ok "$1: up and answering (role $2), $(($(date +%s) - _t0)) s after xl create" \
            "(${_up:-?} s after its kernel started)"
    else
        bad "$1: did not come up"
        diagnose "$1" "$vif" "10.9.0.$3"
    fi
}

# guest_log NAME: what the guest printed on its console
guest_log() { cat "/var/log/xen/console/guest-$1.log" 2>/dev/null; }

# guest_up NAME IP SECONDS: the guest said it is up and answers on IP
guest_up() {
    wait_for "$3" sh -c "grep -q 'XNET-GUEST up' /var/log/xen/console/guest-$1.log" &&
        on_timeout=5 wait_for 30 on "$2" true
}

# diagnose NAME VIF [IP]: what a failing guest's vif looked like, for the log
diagnose() {
    echo "--- diagnosis of $1 ($2)"
    xnetctl -S "$2" --json
    ip -s link show "$2"
    tail -n 20 /tmp/xnetback.log
    grep -a extra "/tmp/$1.cfg"
    guest_log "$1" | tail -n 40
    [ -n "${3:-}" ] && on_timeout=10 on "$3" "tail -n 20 /tmp/xnetfront.log; xnetctl -S eth0 --json"
    echo "---"
}

# drops VIF IP: one line of where frames between dom0 and the xnet guest
# at IP could have been dropped: the vif TAP's kernel counters, xnetback's,
# the guest's eth0 and its xnetfront's (for a failed check's message).
drops() {
    _b=$(xnetctl -S "$1" --json 2>/dev/null)
    _g=$(on_timeout=10 on "$2" "xnetctl -S eth0 --json" 2>/dev/null)
    _k=/sys/class/net/$1/statistics
    _gk=$(on_timeout=10 on "$2" "cat /sys/class/net/eth0/statistics/tx_dropped \
        /sys/class/net/eth0/statistics/rx_dropped" 2>/dev/null | tr '\n' ' ')
    echo "drops: $1 kernel tx $(cat "$_k/tx_dropped") rx $(cat "$_k/rx_dropped");" \
        "xnetback tx $(counter "$_b" tx dropped) rx $(counter "$_b" rx dropped);" \
        "guest eth0 kernel tx/rx ${_gk:-?};" \
        "xnetfront tx $(counter "$_g" tx dropped) rx $(counter "$_g" rx dropped)"
}

# The fewest frames a 4 MiB transfer can take: all 64 KiB GSO frames. A
# counter that moved by this much during one was applied to all of it.
# (How many it takes varies: under TCG, Linux sizes its GSO frames by its
# pacing rate, from 1 to 44 segments; one 8 MiB run counted 854 frames,
# another 8214.)
# shellcheck disable=SC2034 # read by the scenarios
min_frames=64

# counter JSON DIRECTION NAME: one counter of an xnetctl -S --json reply
counter() {
    echo "$1" | grep -o "\"$2\":{[^}]*" | grep -o "\"$3\":[0-9]*" | cut -d: -f2
}

# The blob both directions carry: 32 MiB of random bytes; its first 4 MiB
# (blob4) for the transfers that only show counters moving, 8 MiB (blob8)
# over VLAN 100, 16 MiB (blob16) across a restart. tests/xen/run makes
# them with their MD5s (/xnet/NAME, /xnet/NAME.md5): random bytes and
# MD5s cost a TCG dom0 10 s or so. make_programs gives each a program
# that sends it (/tmp/serve-NAME, for serve), and writes the others the
# transfers run on their sockets.
make_programs() {
    _sizes=
    for _b in blob blob4 blob8 blob16; do
        _sizes="$_sizes $(stat -c %s "/xnet/$_b")"
        printf '#!/bin/sh\ncat /xnet/%s\n' "$_b" >"/tmp/serve-$_b"
        chmod +x "/tmp/serve-$_b"
    done
    # (a short blob would make every transfer below pass on nothing)
    if [ "$_sizes" != " 33554432 4194304 8388608 16777216" ]; then
        bad "make_programs: the blobs are$_sizes bytes"
    fi
    printf '#!/bin/sh\nhead -c 500000 /xnet/blob\n' >/tmp/serve-500k
    printf '#!/bin/sh\nmd5sum | cut -d" " -f1 >/tmp/got.md5\n' >/tmp/sink-md5
    printf '#!/bin/sh\ncat >/dev/null\n' >/tmp/sink-null
    chmod +x /tmp/serve-500k /tmp/sink-md5 /tmp/sink-null
}

# md5_of BLOB: the MD5 of /xnet/BLOB
md5_of() { cat "/xnet/$1.md5"; }

# on_written IP FILE: FILE in the guest at IP, once it is not empty (at
# most 30 s). One line: the guest's command server reads one.
on_written() {
    on "$1" "i=0; while [ ! -s $2 ] && [ \$i -lt 150 ]; do sleep 0.2; i=\$((i + 1)); done; cat $2"
}

# in_netns NETNS CMD...: CMD in the namespace NETNS, or in dom0's when empty
in_netns() {
    _ns=$1
    shift
    if [ -n "$_ns" ]; then ip netns exec "$_ns" "$@"; else "$@"; fi
}

# round_trip NAME IP FROM NETNS BLOB SIZE WHERE PORT: /xnet/BLOB (SIZE)
# from FROM (dom0, or the namespace NETNS when not empty) to the
# guest at IP, which keeps it as its own /tmp/BLOB, and back, each checked
# against its MD5; WHERE names FROM in the messages. FROM connects both ways
# to the guest's address on FROM's /24 (10.9.0.N, or 10.9.100.N for FROM
# 10.9.100.254), where the guest listens (listen-once), and both ends
# run cat or md5sum on the socket itself (nc -e): busybox nc's own 1 KiB
# copying, not the drivers, was what the transfers spent their time on.
# Uses PORT and PORT+1. Fails if either way did not arrive whole.
round_trip() {
    _tf=0
    _want=$(md5_of "$5")
    _gip=${3%.*}.${2##*.}
    flow_mark tx
    if _out=$(on "$2" "listen-once receive $8 /tmp/$5"); then
        in_netns "$4" timeout 90 nc "$_gip" "$8" -e "/tmp/serve-$5"
        flow_note "$1: $6 $7 -> guest"
        _got=$(on_written "$2" "/tmp/$5.md5")
    else
        _got="none: the guest's listen-once failed: $_out"
    fi
    if [ "$_got" = "$_want" ]; then ok "$1: $6 $7 -> guest, content verified"; else
        bad "$1: $6 $7 -> guest: md5 '$_got', want $_want"
        _tf=1
    fi
    rm -f /tmp/got.md5
    flow_mark rx
    if _out=$(on "$2" "listen-once send $(($8 + 1)) /tmp/$5"); then
        in_netns "$4" timeout 90 nc "$_gip" $(($8 + 1)) -e /tmp/sink-md5
        flow_note "$1: $6 guest -> $7"
        _got=$(cat /tmp/got.md5 2>/dev/null)
    else
        _got="none: the guest's listen-once failed: $_out"
    fi
    if [ "$_got" = "$_want" ]; then ok "$1: $6 guest -> $7, content verified"; else
        bad "$1: $6 guest -> $7: md5 '$_got', want $_want"
        _tf=1
    fi
    return $_tf
}

# flow_mark tx|rx, then flow_note WHAT: how long WHAT took and how many
# frames it took on the guest's vif in dom0 (tx: toward the guest), with
# their average size, as a note: what a slow transfer spent its time on.
# (round_trip notes toward the guest once dom0's end has sent the last
# byte: what TCP still holds then, a few hundred KiB, is not counted.)
flow_mark() {
    _fdir=$1
    _ft0=$(cut -d' ' -f1 /proc/uptime)
    _fp0=$(vif_stat "${_fdir}_packets")
    _fb0=$(vif_stat "${_fdir}_bytes")
}
flow_note() {
    _fp=$(($(vif_stat "${_fdir}_packets") - _fp0))
    _fb=$(($(vif_stat "${_fdir}_bytes") - _fb0))
    echo "XNET-NOTE $1: $(awk -v a="$_ft0" -v b="$(cut -d' ' -f1 /proc/uptime)" \
        'BEGIN { printf "%.1f", b - a }') s, $_fp frames on ${vif:-?}" \
        "(${_fdir}, $((_fb / (_fp > 0 ? _fp : 1))) bytes each on average)"
}
# vif_stat NAME: a counter of the guest's vif ($vif) in dom0's kernel
vif_stat() { cat "/sys/class/net/${vif:-none}/statistics/$1" 2>/dev/null || echo 0; }

# transfer_both NAME IP [4]: the blob (or its first 4 MiB) dom0 -> guest
# and back (round_trip).
transfer_both() {
    if [ "${3:-32}" = 4 ]; then
        round_trip "$1" "$2" 10.9.0.1 "" blob4 "4 MiB" dom0 5001
    else
        round_trip "$1" "$2" 10.9.0.1 "" blob "32 MiB" dom0 5001
    fi
}

# vlan_transfer NAME IP: over VLAN 100 (the guest's eth0.100, 10.9.100.N,
# and the outside's eth0.100, 10.9.100.254, tagged across xenbr0): a ping,
# then 8 MiB outside -> guest and back. The outside's veth hands its tagged
# TCP to the bridge as GSO with a partial checksum: what a netfront that
# parses untagged frames only (Linux's) cannot take, so xnetback must cut
# it; and the other way for xnetfront before Linux's netback.
vlan_transfer() {
    check "$1: ping over VLAN 100, guest -> outside" on "$2" "ping -c 3 -i 0.2 -W 3 10.9.100.254"
    round_trip "$1" "$2" 10.9.100.254 out blob8 "8 MiB" "outside (VLAN 100)" 5006
}

# send_in_background IP PORT PROGRAM: the guest at IP sends its copy of the
# blob to dom0's PORT, where PROGRAM takes it (serve); returns at once.
# Through busybox nc's 1 KiB copies, on purpose: slow enough (20 s or so)
# to still run through what comes next.
send_in_background() {
    serve "$2" "$3"
    background_pid=$serve_pid
    on "$1" "nc 10.9.0.1 $2 </tmp/blob >/dev/null 2>&1 &" >/dev/null
}
# stop_background: ends that transfer; fails if it had already ended, so
# a check of it says that what ran meanwhile ran during traffic.
stop_background() { kill "$background_pid" 2>/dev/null; }

# both_queues_busy VIF: xnetback's two queues of VIF both carried frames
both_queues_busy() {
    xnetctl -S "$1" --json | grep -q '"queue_packets":\[[1-9][0-9]*,[1-9][0-9]*\]'
}

# capture NAME IP: what reaches the outside namespace from the guest at IP
# (TCP over IPv4 and IPv6, pings, TCP both ways over VLAN 100), into
# /tmp/captures/NAME.pcap. The outside listens on every port first, and
# the guest runs all of it in one command line (each costs a good part
# of a second under TCG).
capture() {
    ip netns exec out tcpdump -Z root -Q in -i eth0 -w "/tmp/captures/$1.pcap" \
        2>"/tmp/tcpdump-$1.log" &
    _cap=$!
    for _p in 5004 5005 5008; do serve "$_p" /tmp/sink-null out; done
    serve 5009 /tmp/serve-500k out
    wait_for 10 grep -q "listening on" "/tmp/tcpdump-$1.log"
    on "$2" "head -c 1000000 /tmp/blob | nc 10.9.0.254 5004; \
        head -c 500000 /tmp/blob | nc fd09::fe 5005; \
        ping -c 3 -i 0.2 -s 1400 10.9.0.254; \
        head -c 500000 /tmp/blob | nc 10.9.100.254 5008; \
        nc 10.9.100.254 5009 </dev/null >/dev/null" >/dev/null
    sleep 0.5  # (the last frames, on their way to tcpdump)
    kill "$_cap"
    wait "$_cap" 2>/dev/null
}

# xnetback_fds / xnetback_maps: what the daemon holds, for leak checks
xnetback_pid() { pidof xnetback | cut -d' ' -f1; }
xnetback_fds() { find "/proc/$(xnetback_pid)/fd" -type l | wc -l; }
xnetback_maps() { grep -c /dev/xen/gntdev "/proc/$(xnetback_pid)/maps"; }
# holds_fds N / holds_no_mapping: for wait_for
holds_fds() { [ "$(xnetback_fds)" = "$1" ]; }
holds_no_mapping() { [ "$(xnetback_maps)" = 0 ]; }

# stop_xnetback [SIGNAL]: kills it and reaps it (a zombie would still
# answer to pidof)
stop_xnetback() {
    _p=$(xnetback_pid)
    kill "-${1:-TERM}" "$_p"
    wait "$_p" 2>/dev/null
}

start_xnetback() {
    xnetback --platform xen --max-queues 2 >>/tmp/xnetback.log 2>&1 &
    wait_for 10 xnetctl list
}
