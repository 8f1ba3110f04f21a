#!/usr/bin/env bash
# Real xenstore clients nobody here wrote - Debian's xenstore-* tools and
# python3-pyxs - against xnet-sim, as dom0 and as a guest, including the
# denials Xen gives. Prints one "ok"/"FAIL" line per check and a summary
# "sim-clients: N passed, M failed" that tests/run-suites reads.
#
# Usage: tests/integration/sim-clients.sh BUILD_DIR
set -uo pipefail

build=${1:-build}
sim="$build/xnet-sim"
dir=$(mktemp -d /tmp/xnet-sim-clients.XXXXXX)
export XNET_SIM_DIR="$dir"

cleanup() {
    "$sim" stop >/dev/null 2>&1
    rm -rf "$dir"
}
trap cleanup EXIT
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

pyxs() {  # pyxs DOMID PYTHON: run with c = a connected pyxs Client
    as "$1" /usr/bin/python3 -c "
import os, sys
from pyxs import Client, PyXSError
with Client(unix_socket_path=os.environ['XENSTORED_PATH']) as c:
    ${2//$'\n'/$'\n    '}
"
}

check "start" "$sim" start
check "start again is refused" fails_with "already running" "$sim" start
check "domain create" "$sim" domain create 7 --name guest7
check "domain create twice is refused" fails_with "domain 7 exists" "$sim" domain create 7
check "unknown domain is refused" fails_with "unknown domain 9" "$sim" env 9
check "domain list" equals $'ID     Name\n0      Domain-0\n7      guest7' "$sim" domain list
check "netns exists" ip netns exec xnet-dom7 true

# dom0 through Debian's tools.
check "dom0 xenstore-write" as 0 xenstore-write /test/a 1 /test/b 2
check "dom0 xenstore-read" equals "1" as 0 xenstore-read /test/a
check "dom0 xenstore-ls" equals $'a = "1"\nb = "2"' as 0 xenstore-ls /test
check "dom0 xenstore-list" equals $'a\nb' as 0 xenstore-list /test
check "dom0 xenstore-exists (yes)" as 0 xenstore-exists /test/a
check "dom0 xenstore-exists (no)" fails_with "" as 0 xenstore-exists /test/zz
check "dom0 xenstore-chmod" as 0 xenstore-chmod /test/a n0 r7
check "dom0 xenstore-ls -p" equals $'a = "1"  . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0,r7)' \
    as 0 sh -c 'xenstore-ls -p /test | head -n 1'
check "dom0 xenstore-rm" as 0 xenstore-rm /test/b
check "dom0 removed" fails_with "" as 0 xenstore-read /test/b
check "dom0 xenstore-watch sees a write" equals $'/test\n/test/w' \
    as 0 sh -c '(sleep 0.3; xenstore-write /test/w 1) & timeout 5 xenstore-watch -n 2 /test; wait'

# A guest: its home, the ACL dom0 gave it, and denials.
check "guest reads its name" equals "guest7" as 7 xenstore-read name
check "guest reads what it was granted" equals "1" as 7 xenstore-read /test/a
check "guest cannot write it" fails_with "could not write" as 7 xenstore-write /test/a 2
check "guest cannot list /" fails_with "Permission denied" as 7 xenstore-ls /
check "guest cannot read dom0's" fails_with "couldn't read" as 7 xenstore-read /local/domain/0/name
check "guest cannot rename itself" fails_with "could not write" as 7 xenstore-write name evil
check "guest writes its data dir" as 7 xenstore-write data/x 1
check "guest owns what it creates" equals $'x = "1"  . . . . . . . . . . . . . . . . . . . . . . . . . .  (n7)' \
    as 7 xenstore-ls -p data
check "guest cannot give a node away" fails_with "" as 7 xenstore-chmod data/x n0
check "guest chmod of its own node" as 7 xenstore-chmod data/x n7 r0

# pyxs, as dom0 and as the guest.
check "pyxs dom0 write/read" equals "b'v'" pyxs 0 "c.write(b'/py', b'v'); print(c.read(b'/py'))"
check "pyxs dom0 list" equals "[b'0', b'7']" pyxs 0 "print(sorted(c.list(b'/local/domain')))"
check "pyxs dom0 perms" equals "[b'n0', b'r7']" pyxs 0 "print(c.get_perms(b'/local/domain/7'))"
check "pyxs guest denied" equals "13" pyxs 7 "
try: c.read(b'/py')
except PyXSError as e: print(e.args[0])"
check "pyxs guest is_domain_introduced denied" equals "13" pyxs 7 "
try: c.is_domain_introduced(7)
except PyXSError as e: print(e.args[0])"
check "pyxs domain path" equals "b'/local/domain/7'" pyxs 7 "print(c.get_domain_path(7))"
check "pyxs watch gets the initial event" equals "b'/py'" pyxs 0 "
m = c.monitor(); m.watch(b'/py', b'tok')
print(next(m.wait()).path)"

# Destroy and stop leave nothing behind.
check "domain destroy" "$sim" domain destroy 7
check "destroyed domain's entries are gone" fails_with "" as 0 xenstore-read /local/domain/7/name
check "destroyed domain's netns is gone" fails_with "" ip netns exec xnet-dom7 true
check "stop" "$sim" stop
check "stop again is fine" "$sim" stop
check "no namespaces left" fails_with "" sh -c 'ip netns list | grep -q xnet-dom'
check "no sockets left" fails_with "" test -e "$dir/dom0"

summary sim-clients
