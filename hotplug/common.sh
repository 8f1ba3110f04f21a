# Shared by xnet's hotplug scripts (sourced, not run). libxl runs a vif's
# script with the action as $1 (online, offline, add, remove) and
# type_if=vif, in the backend domain, with:
#   XENBUS_PATH   the backend directory, relative to the domain's home
#                 (backend/vif/D/N)
#   vif           the dom0 interface (vifD.N)
# and reads the outcome from $XENBUS_PATH/hotplug-status ("connected" or
# "error", with $XENBUS_PATH/hotplug-error saying why).
#
# Keys read here: $XENBUS_PATH/frontend (the guest's directory),
# $XENBUS_PATH/checksum (a toolstack's profile override) and
# /local/domain/D/name (the guest's name, for its settings file).
# Keys written: hotplug-status, hotplug-error, and offload/profile in both
# ends' directories, with any offload/<setting> the guest's file names
# (docs/xenstore-keys.md).
# Files read: ${XNET_CONF_DIR:-/etc/xnet}/<guest name>, the guest's own
# settings (docs/topologies.md, "Per guest").
# shellcheck shell=bash

command=${1:-}
: "${XENBUS_PATH:?XENBUS_PATH (the backend path of the vif) is not set}"
: "${vif:?the interface name (vif) is not set}"
dev=$vif

log() { logger -t "xnet-hotplug" -- "$vif: $*" 2>/dev/null || true; }

# fatal MESSAGE...: reports the failure where libxl looks, and exits.
fatal() {
    local msg
    msg="$(basename "$0") $command $vif: $*"
    xenstore-write "$XENBUS_PATH/hotplug-error" "$msg" "$XENBUS_PATH/hotplug-status" error \
        2>/dev/null
    log "$msg"
    echo "$msg" >&2
    exit 1
}

# success: the vif is ready; libxl (and xnetback) may go on.
success() {
    xenstore-write "$XENBUS_PATH/hotplug-status" connected ||
        fatal "writing $XENBUS_PATH/hotplug-status"
}

# xnetctl_path: where xnet's control tool is, whose `policy-keys` says
# which profiles and settings exist (the policy table), so that no script
# spells them again. $XNETCTL if set; else a build tree's beside these
# scripts (make's build/); else the program on PATH (package xnet-tools).
# Fails if there is none.
xnetctl_path() {
    local here
    here=$(dirname "${BASH_SOURCE[0]}")
    if [[ -n "${XNETCTL:-}" ]]; then
        printf '%s\n' "$XNETCTL"
    elif [[ -x "$here/../build/xnetctl" ]]; then
        printf '%s\n' "$here/../build/xnetctl"
    else
        type -P xnetctl
    fi
}

# xs_read_default PATH DEFAULT
xs_read_default() { xenstore-read "$1" 2>/dev/null || printf '%s\n' "$2"; }

# set_profile DEFAULT: the checksum profile of both ends of this vif: the
# toolstack's $XENBUS_PATH/checksum if it wrote one, else DEFAULT.
set_profile() {
    local profile frontend
    profile=$(xs_read_default "$XENBUS_PATH/checksum" "$1")
    local ctl why
    ctl=$(xnetctl_path) || fatal "xnetctl not found (package xnet-tools, or XNETCTL=path)"
    why=$("$ctl" policy-keys --check profile "$profile" 2>&1) ||
        fatal "$XENBUS_PATH/checksum: ${why#xnetctl: profile: }"
    frontend=$(xs_read_default "$XENBUS_PATH/frontend" "")
    xenstore-write "$XENBUS_PATH/offload/profile" "$profile" ||
        fatal "writing $XENBUS_PATH/offload/profile"
    if [[ -n "$frontend" ]]; then
        xenstore-write "$frontend/offload/profile" "$profile" ||
            fatal "writing $frontend/offload/profile"
    fi
    log "checksum profile $profile on both ends"
    guest_settings "$ctl" "$frontend"
}

# guest_settings XNETCTL FRONTEND-DIR: the settings of the guest's file,
# ${XNET_CONF_DIR:-/etc/xnet}/<its name as xl's name= gives it>, written
# over the profile. One per line, '#' starts a comment:
#   [vifN] [backend|frontend] KEY VALUE
#   [vifN] forward tcp|udp PORT[:GUESTPORT]
# KEY a policy key (xnetctl policy-keys) or profile; vifN: only that vif
# (N the devid); backend/frontend: only that end (else both). A forward is
# vif-nat's (its forward_port); the other scripts pass over it. A line xnet
# would not take fails the vif, naming the file and line.
guest_settings() {
    local ctl=$1 frontend=$2 domid devid name file
    domid=$(cut -d/ -f3 <<<"$XENBUS_PATH")
    devid=$(cut -d/ -f4 <<<"$XENBUS_PATH")
    name=$(xenstore-read "/local/domain/$domid/name" 2>/dev/null) || return 0
    [[ -n "$name" && "$name" != */* && "$name" != .* ]] || return 0
    file="${XNET_CONF_DIR:-/etc/xnet}/$name"
    [[ -f "$file" ]] || return 0
    local n=0 line words vifsel endsel why
    while IFS= read -r line || [[ -n "$line" ]]; do
        n=$((n + 1))
        read -ra words <<<"${line%%#*}"
        [[ ${#words[@]} -eq 0 ]] && continue
        vifsel='' endsel=''
        while [[ ${#words[@]} -gt 2 && ${words[0]} != forward ]]; do
            case ${words[0]} in
                vif[0-9]*) vifsel=${words[0]#vif} ;;
                backend | frontend) endsel=${words[0]} ;;
                *) fatal "$file:$n: '${words[0]}' is not vifN, backend or frontend" ;;
            esac
            words=("${words[@]:1}")
        done
        if [[ ${words[0]} == forward ]]; then
            guest_forward "$file:$n" "$endsel" "$vifsel" "$devid" "${words[@]:1}"
            continue
        fi
        [[ ${#words[@]} -eq 2 ]] || fatal "$file:$n: expected [vifN] [backend|frontend] KEY VALUE"
        why=$("$ctl" policy-keys --check "${words[0]}" "${words[1]}" 2>&1) ||
            fatal "$file:$n: ${why#xnetctl: }"
        [[ -n "$vifsel" && "$vifsel" != "$devid" ]] && continue
        if [[ "$endsel" != frontend ]]; then
            xenstore-write "$XENBUS_PATH/offload/${words[0]}" "${words[1]}" ||
                fatal "writing $XENBUS_PATH/offload/${words[0]}"
        fi
        if [[ "$endsel" != backend && -n "$frontend" ]]; then
            xenstore-write "$frontend/offload/${words[0]}" "${words[1]}" ||
                fatal "writing $frontend/offload/${words[0]}"
        fi
        log "$file:$n: ${endsel:-both ends}: ${words[0]} ${words[1]}"
    done <"$file"
}

# guest_forward WHERE END VIFSEL DEVID PROTO SPEC: one forward line of the
# guest's file, checked whichever script reads it, then given to the
# script's forward_port PROTO PORT GUESTPORT if it is this vif's.
guest_forward() {
    local where=$1 endsel=$2 vifsel=$3 devid=$4
    shift 4
    [[ -z "$endsel" ]] || fatal "$where: a port forward is dom0's: no backend or frontend"
    [[ $# -eq 2 ]] || fatal "$where: expected [vifN] forward tcp|udp PORT[:GUESTPORT]"
    local proto=$1 port=${2%%:*} to=${2#*:}
    [[ "$proto" == tcp || "$proto" == udp ]] || fatal "$where: forward: '$proto' is not tcp or udp"
    for p in "$port" "$to"; do
        if ! [[ "$p" =~ ^[0-9]{1,5}$ ]] || ((10#$p < 1 || 10#$p > 65535)); then
            fatal "$where: forward: '$p' is not a port (1 to 65535)"
        fi
    done
    [[ -n "$vifsel" && "$vifsel" != "$devid" ]] && return 0
    if ! declare -F forward_port >/dev/null; then
        log "$where: forward $proto $2: not a NAT vif ($(basename "$0")), passed over"
        return 0
    fi
    forward_port "$proto" "$((10#$port))" "$((10#$to))"
}

# dev_up: the interface up, waiting briefly for it to appear (xnetback
# creates it before InitWait, so it normally exists already).
dev_up() {
    local i
    for i in 1 2 3 4 5 6 7 8 9 10; do
        ip link show "$dev" >/dev/null 2>&1 && break
        [[ $i -eq 10 ]] && fatal "$dev does not exist"
        sleep 0.2
    done
    ip link set "$dev" up || fatal "setting $dev up"
}

# netdev_or_default [-4|-6]: the way out: the toolstack's netdev=, else
# $XENBUS_PATH/netdev, else the interface of that family's default route.
# Sets netdev.
netdev_or_default() {
    netdev=${netdev:-$(xs_read_default "$XENBUS_PATH/netdev" "")}
    if [[ -z "$netdev" ]]; then
        netdev=$(ip "${1:--4}" route show default 2>/dev/null | awk '{ for (i = 1; i < NF; i++)
            if ($i == "dev") { print $(i + 1); exit } }')
    fi
    [[ -n "$netdev" ]] || fatal "no netdev given and no default route to find one"
}

# main_ip: the backend domain's own IPv4 address, on $netdev (see
# netdev_or_default). Sets netdev and main_ip.
main_ip() {
    netdev_or_default -4
    main_ip=$(ip -4 -o addr show dev "$netdev" 2>/dev/null | awk '{ split($4, a, "/"); print a[1];
        exit }')
    [[ -n "$main_ip" ]] || fatal "$netdev has no IPv4 address"
}

# main_ip6: the backend domain's global IPv6 address on $netdev, empty if
# it has none. Sets main_ip6 (netdev set first).
main_ip6() {
    # shellcheck disable=SC2034 # read by vif-nat
    main_ip6=$(ip -6 -o addr show dev "$netdev" scope global 2>/dev/null |
        awk '{ split($4, a, "/"); print a[1]; exit }')
}
