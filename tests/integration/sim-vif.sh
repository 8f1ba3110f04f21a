#!/usr/bin/env bash
# xnet-sim's toolstack commands as libxl does them: `vif add` writes the
# frontend, backend and /libxl directories with libxl's keys and
# permissions, waits for the backend's InitWait, runs the hotplug script in
# the backend domain with libxl's environment; `vif remove` asks the
# backend to close, runs the script offline and cleans up. A stand-in
# backend (xenstore-* tools acting as dom0) plays netback's part of the
# handshake. Also the CLI's errors. Summary line for tests/run-suites:
#   sim-vif: N passed, M failed
#
# Usage: tests/integration/sim-vif.sh BUILD_DIR
set -uo pipefail

build=${1:-build}
sim="$build/xnet-sim"
dir=$(mktemp -d /tmp/xnet-sim-vif.XXXXXX)
export XNET_SIM_DIR="$dir"
standin_pid=

cleanup() {
    [[ -n "$standin_pid" ]] && kill "$standin_pid" 2>/dev/null
    "$sim" stop >/dev/null 2>&1
    rm -rf "$dir"
}
trap cleanup EXIT
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

# perms PATH: the node's permissions as xenstore-ls -p prints them, "(n0,r7)"
perms() {
    as 0 xenstore-ls -p "$(dirname "$1")" | sed -n "s/^$(basename "$1") = .*  \(([^)]*)\)\$/\1/p"
}

# standin_backend BEPATH: netback's part, acting as dom0: InitWait once the
# toolstack has written the device, Closed once it asks for Closing. The
# subshell execs the loop, so $standin_pid is the loop itself; each wait
# gives up after 30 s.
standin_backend() {
    (
        eval "$("$sim" env 0)"
        # shellcheck disable=SC2016 # expanded by the inner shell
        exec bash -c '
            be=$1
            wait_state() {
                for _ in $(seq 600); do
                    [[ "$(xenstore-read "$be/state" 2>/dev/null)" == "$1" ]] && return 0
                    sleep 0.05
                done
                return 1
            }
            wait_state 1 && xenstore-write "$be/state" 2 || exit 1
            wait_state 5 && [[ "$(xenstore-read "$be/online")" == 0 ]] || exit 1
            xenstore-write "$be/state" 6
        ' standin "$1"
    ) &
    standin_pid=$!
}

# A hotplug script that records how it was called and reports success the
# libxl way; "fail" in its name makes it report an error instead.
log="$dir/hotplug.log"
make_script() {
    local path="$dir/$1"
    cat >"$path" <<EOF
#!/bin/bash
{
    echo "args=\$*"
    echo "XENBUS_PATH=\$XENBUS_PATH XENBUS_TYPE=\$XENBUS_TYPE XENBUS_BASE_PATH=\$XENBUS_BASE_PATH"
    echo "vif=\$vif script=\$script netdev=\$netdev"
    echo "netns=\$(ip netns identify)"
    echo "state=\$(xenstore-read "\$XENBUS_PATH/state")"
} >>"$log"
if [[ "\$0" == *fail* ]]; then
    xenstore-write "\$XENBUS_PATH/hotplug-error" "no bridge br-missing" \
        "\$XENBUS_PATH/hotplug-status" error
    exit 1
fi
[[ "\$1" == online ]] && xenstore-write "\$XENBUS_PATH/hotplug-status" connected
exit 0
EOF
    chmod +x "$path"
    echo "$path"
}
script=$(make_script vif-record)
bad_script=$(make_script vif-fail)

be=/local/domain/0/backend/vif/7/0
fe=/local/domain/7/device/vif/0

check "vif add before start says sim is not running" fails_with "not running" "$sim" vif add 7
check "start" "$sim" start
check "domain create 7" "$sim" domain create 7 --name guest7
check "vif add to an unknown domain" fails_with "unknown domain 9" "$sim" vif add 9
check "vif add with an unknown option" fails_with "unknown option '--colour'" \
    "$sim" vif add 7 --colour red
check "vif add with a bad devid" fails_with "bad --devid" "$sim" vif add 7 --devid x

# --- add -----------------------------------------------------------------
standin_backend "$be"
check "vif add" equals "vif7.0 added (frontend $fe, backend $be)" \
    "$sim" vif add 7 --mac 00:16:3e:00:07:01 --bridge xenbr0 --script "$script"
check "frontend keys" equals "$be 0 1 0 00:16:3e:00:07:01 1" as 0 sh -c \
    "for k in backend backend-id state handle mac trusted; do xenstore-read $fe/\$k; done | xargs"
check "frontend dir perms: the guest's, read by the backend" equals "(n7,r0)" perms "$fe"
check "backend keys" equals "$fe 7 1 2 00:16:3e:00:07:01 0 vif $script xenbr0 connected" \
    as 0 sh -c "for k in frontend frontend-id online state mac handle type script bridge \
        hotplug-status; do xenstore-read $be/\$k; done | xargs"
check "backend dir perms: the backend's, read by the guest" equals "(n0,r7)" perms "$be"
check "libxl's copy" equals "$fe $be 1 vif" as 0 sh -c \
    "for k in frontend backend online type; do xenstore-read /libxl/7/device/vif/0/\$k; done | xargs"
check "the guest reads its frontend" equals "$be" as 7 xenstore-read "device/vif/0/backend"
check "the guest reads the backend's keys" equals "00:16:3e:00:07:01" as 7 xenstore-read "$be/mac"
check "the guest cannot write the backend's state" fails_with "could not write" \
    as 7 xenstore-write "$be/state" 4
check "script ran online with libxl's arguments" grep -qx "args=online type_if=vif" "$log"
check "script's XENBUS_PATH is relative, as libxl's" \
    grep -qx "XENBUS_PATH=backend/vif/7/0 XENBUS_TYPE=vif XENBUS_BASE_PATH=backend" "$log"
check "script's vif and script variables" grep -qx "vif=vif7.0 script=$script netdev=" "$log"
check "script ran in the backend domain's namespace" grep -qx "netns=xnet-dom0" "$log"
check "script ran after InitWait" grep -qx "state=2" "$log"
check "vif add of an existing device" fails_with "the device exists" \
    "$sim" vif add 7 --devid 0 --script "$script"
check "the existing device is untouched" equals "connected" \
    as 0 xenstore-read "$be/hotplug-status"

# --- remove --------------------------------------------------------------
: >"$log"
check "vif remove" equals "vif7.0 removed" "$sim" vif remove 7 0
check "the stand-in backend saw Closing, online=0, and closed" wait "$standin_pid"
standin_pid=
check "script ran offline" grep -qx "args=offline type_if=vif" "$log"
check "script saw the backend Closed" grep -qx "state=6" "$log"
check "frontend dir gone" fails_with "" as 0 xenstore-read "$fe/state"
check "backend dir and its empty parents gone" fails_with "" \
    as 0 xenstore-read /local/domain/0/backend
check "libxl's copy gone" fails_with "" as 0 xenstore-read /libxl/7/device
check "the domain's own entries stay" equals "guest7 pv" \
    as 0 sh -c "xenstore-read /local/domain/7/name /libxl/7/type | xargs"
check "vif remove of a missing device" fails_with "vif7.0 does not exist" "$sim" vif remove 7 0

# --- failures leave nothing behind ---------------------------------------
standin_backend "$be"
check "a failing hotplug script fails the add, with its error" \
    fails_with "hotplug script $bad_script failed (exit status 1: no bridge br-missing)" \
    "$sim" vif add 7 --script "$bad_script"
kill "$standin_pid" 2>/dev/null
wait "$standin_pid" 2>/dev/null
standin_pid=
check "...and removes the device" fails_with "" as 0 xenstore-read "$be/state"
check "no backend: InitWait times out after libxl's 10 s" \
    fails_with "did not reach InitWait in 10 s" "$sim" vif add 7 --script "$script"
check "...and removes the device" fails_with "" as 0 xenstore-read "$fe/state"

# --- domains and stop ----------------------------------------------------
check "domain destroy of an unknown domain" fails_with "unknown domain 9" "$sim" domain destroy 9
check "domain destroy" "$sim" domain destroy 7
daemon=$(cat "$dir/xnet-sim.pid")
check "the daemon runs under its pid file" kill -0 "$daemon"
check "stop" "$sim" stop
check "stop again is fine" "$sim" stop
check "no daemon left" fails_with "" kill -0 "$daemon"
check "no namespaces left" fails_with "" sh -c 'ip netns list | grep -q xnet-dom'
check "no sockets left" fails_with "" test -e "$dir/dom0"

summary sim-vif
