#!/usr/bin/env bash
# What an administrator gets: `make install` into a scratch
# prefix, and the Debian packages of `make deb`.
# - every file where docs/deploying.md says, programs that run and say
#   their version, manual pages that format cleanly;
# - the systemd units as systemd reads them (systemd-analyze verify), and
#   their exposure (systemd-analyze security) at most "OK";
# - DESTDIR staging, and /etc/default/xnet kept on a second install;
# - the packages' contents and dependencies, and their xnetctl run.
# (The xen suite installs the packages into dom0 and a guest and runs them.)
# Summary line for tests/run-suites:
#   install: N passed, M failed
#
# Usage: tests/integration/install.sh BUILD_DIR
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
repo=$(cd "$(dirname "$0")/../.." && pwd)
sim="$build/xnet-sim"  # lib.sh wants one; nothing here runs it
dir=$(mktemp -d /tmp/xnet-install.XXXXXX)
cleanup() {
    keep_on_failure install
    rm -rf "$dir"
}
trap cleanup EXIT
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

version=$(dpkg-parsechangelog -l "$repo/debian/changelog" -S Version)

# --- make install into a prefix of its own -------------------------------------
root="$dir/root"
check "make install PREFIX=$root/usr SYSCONFDIR=$root/etc" \
    make -s -C "$repo" install B="$build" PREFIX="$root/usr" SYSCONFDIR="$root/etc"
for f in usr/sbin/xnetback usr/sbin/xnetfront usr/bin/xnetctl usr/bin/xnet-sim \
    usr/sbin/xnet-policy usr/sbin/xnet-private-network \
    etc/xen/scripts/xnet/vif-bridge etc/xen/scripts/xnet/vif-route etc/xen/scripts/xnet/vif-nat \
    etc/xen/scripts/xnet/vif-private; do
    check "installed, executable: /$f" test -x "$root/$f"
done
for f in etc/xen/scripts/xnet/common.sh etc/default/xnet usr/share/man/man1/xnetctl.1 \
    usr/share/man/man8/xnetback.8 usr/share/man/man8/xnetfront.8 \
    usr/lib/systemd/system/xnetback.service "usr/lib/systemd/system/xnetfront@.service" \
    usr/share/doc/xnet/deploying.md usr/lib/libxnet.a usr/include/xnet/netif/ring.h; do
    check "installed: /$f" test -f "$root/$f"
done
for p in xnetback xnetfront xnetctl; do
    bin=$(find "$root/usr" -name "$p" -type f)
    check "$p --version says $version" equals "$p $version" "$bin" --version
done
check "the private network finds the installed vif-private" \
    grep -q '/etc/xen/scripts/xnet' "$root/usr/sbin/xnet-private-network"
for m in man1/xnetctl.1 man8/xnetback.8 man8/xnetfront.8; do
    check "man $m formats without a warning" \
        sh -c "! groff -man -ww -z -Tutf8 '$root/usr/share/man/$m' 2>&1 | grep ."
done
units="$root/usr/lib/systemd/system"
for u in xnetback.service xnetfront@.service; do
    check "systemd-analyze verify $u" systemd-analyze verify --man=no "$units/$u"
    check "$u starts $root/usr/sbin/..." grep -q "^ExecStart=$root/usr/sbin/" "$units/$u"
    exposure=$(systemd-analyze security --offline=yes "$units/$u" 2>/dev/null |
        sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    check "$u exposure ${exposure:-?} (systemd's OK is under 4)" \
        awk -v e="${exposure:-10}" 'BEGIN { exit !(e < 4) }'
done
check "xnetfront@.service serves vif N as ethN" \
    grep -q -- '--devid %i --ifname eth%i' "$units/xnetfront@.service"

# Staged: DESTDIR is where the files go, not what they name.
stage="$dir/stage"
check "make install DESTDIR=... PREFIX=/usr" make -s -C "$repo" install B="$build" \
    DESTDIR="$stage" PREFIX=/usr UNITDIR=/lib/systemd/system
check "a staged unit names /usr/sbin, not the stage" \
    grep -q '^ExecStart=/usr/sbin/xnetback ' "$stage/lib/systemd/system/xnetback.service"
echo 'XNETBACK_OPTIONS="--profile offload"' >"$stage/etc/default/xnet"
make -s -C "$repo" install B="$build" DESTDIR="$stage" PREFIX=/usr >/dev/null 2>&1
check "a second install keeps /etc/default/xnet" \
    grep -q 'profile offload' "$stage/etc/default/xnet"

# --- the packages ------------------------------------------------------------------
deb() { echo "$build/deb/${1}_${version}_amd64.deb"; }
for p in xnet-tools xnet-backend xnet-frontend; do
    check "make deb built $p $version" test -f "$(deb "$p")"
done
has_files() {  # has_files PACKAGE PATH...: the package holds every PATH
    local p=$1 list f
    shift
    list=$(dpkg-deb -c "$(deb "$p")" | awk '{ print $NF }' | sed 's|^\./|/|')
    for f in "$@"; do grep -qx "$f" <<<"$list" || { echo "$p lacks $f"; return 1; }; done
}
check "xnet-tools: xnetctl, its manual, /etc/default/xnet" \
    has_files xnet-tools /usr/bin/xnetctl /usr/share/man/man1/xnetctl.1.gz /etc/default/xnet
check "xnet-backend: xnetback, the unit, the scripts in /etc/xen/scripts/xnet" \
    has_files xnet-backend /usr/sbin/xnetback /lib/systemd/system/xnetback.service \
    /etc/xen/scripts/xnet/vif-bridge /etc/xen/scripts/xnet/common.sh /usr/sbin/xnet-policy
check "xnet-frontend: xnetfront and its template unit" \
    has_files xnet-frontend /usr/sbin/xnetfront "/lib/systemd/system/xnetfront@.service"
check "xnet-backend does not ship Debian's own /etc/xen/scripts/vif-bridge" \
    sh -c "! dpkg-deb -c '$(deb xnet-backend)' | grep -q ' ./etc/xen/scripts/vif-bridge$'"
check "xnet-backend depends on xnet-tools of its version and on the Xen libraries" \
    sh -c "dpkg-deb -f '$(deb xnet-backend)' Depends | grep -q 'xnet-tools (= $version)' &&
        dpkg-deb -f '$(deb xnet-backend)' Depends | grep -q libxen"
check "/etc/default/xnet is a conffile" \
    sh -c "dpkg-deb --ctrl-tarfile '$(deb xnet-tools)' | tar -xO ./conffiles | grep -qx /etc/default/xnet"
check "xnet-backend enables xnetback.service on installation" \
    sh -c "dpkg-deb --ctrl-tarfile '$(deb xnet-backend)' | tar -xO ./postinst | grep -q 'xnetback.service'"
check "xnet-backend's binaries are hardened (PIE, RELRO, fortified)" \
    sh -c "mkdir -p '$dir/x' && dpkg-deb -x '$(deb xnet-backend)' '$dir/x' &&
        readelf -h '$dir/x/usr/sbin/xnetback' | grep -q 'DYN' &&
        readelf -l '$dir/x/usr/sbin/xnetback' | grep -q GNU_RELRO &&
        nm -D '$dir/x/usr/sbin/xnetback' | grep -q '_chk@'"
dpkg-deb -x "$(deb xnet-tools)" "$dir/tools"
check "the packaged xnetctl runs: xnetctl --version" \
    equals "xnetctl $version" "$dir/tools/usr/bin/xnetctl" --version
summary install
