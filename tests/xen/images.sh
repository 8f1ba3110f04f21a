# Building the initramfs images that tests/xen boots (sourced, not run).
# The caller sets $root (Debian's packages unpacked, see fetch-packages)
# and $kver (the kernel's version).
# shellcheck shell=bash
# shellcheck disable=SC2154 # root and kver: the caller's

# new_image DIR: busybox with every applet, and the directories both
# dom0 and the guests need.
new_image() {
    local dir=$1 applet
    mkdir -p "$dir"/{bin,lib,lib64,etc,dev,proc,sys,run,tmp,var/lib,usr/bin,usr/sbin,xnet}
    ln -s /run "$dir/var/run"  # xenstored's socket and ip-netns live under /var/run
    ln -s /bin "$dir/sbin"
    cp "$root/bin/busybox" "$dir/bin/busybox"
    for applet in $("$dir/bin/busybox" --list); do
        [[ -e "$dir/bin/$applet" ]] || ln -s busybox "$dir/bin/$applet"
    done
    ln -s /bin/env "$dir/usr/bin/env"  # for #!/usr/bin/env bash
    # root by name (tcpdump -Z root looks it up)
    echo "root:x:0:0:root:/:/bin/sh" >"$dir/etc/passwd"
    echo "root:x:0:" >"$dir/etc/group"
    cp -L /lib64/ld-linux-x86-64.so.2 "$dir/lib64/"
    cp -L /lib/x86_64-linux-gnu/libgcc_s.so.1 "$dir/lib/"  # glibc loads it at run time
}

# add_programs DIR FILE...: into DIR/usr/bin, with every library ldd
# names. The images' PATH puts /usr/bin first, but Debian's static busybox
# runs its own applets before looking at PATH: a script that wants one of
# these over an applet of the same name (ip) calls it by its path.
add_programs() {
    local dir=$1 f
    shift
    for f in "$@"; do
        cp "$f" "$dir/usr/bin/"
        add_libraries "$dir" "$f"
    done
}

# add_libraries DIR FILE...: into DIR/lib, every library ldd names for FILEs
add_libraries() {
    local dir=$1 f lib
    shift
    for f in "$@"; do
        for lib in $(ldd "$f" | awk '/=>/ { print $3 } /^\t\// { print $1 }'); do
            [[ -f "$lib" ]] && cp -nL "$lib" "$dir/lib/"
        done
    done
    return 0
}

# install_debs DIR DEB...: the packages' files into DIR, as dpkg would
# place them (the images have no dpkg), and the libraries their programs
# need. Prints nothing; fails if a package does not unpack.
install_debs() {
    local dir=$1 deb f
    shift
    for deb in "$@"; do
        dpkg-deb -x "$deb" "$dir" || return 1
        for f in $(dpkg-deb -c "$deb" | awk '$1 ~ /x/ && $1 !~ /^d/ { print $NF }'); do
            [[ "$(head -c 4 "$dir/$f" | tail -c 3)" == ELF ]] && add_libraries "$dir" "$dir/$f"
        done
    done
    return 0
}

# add_modules DIR NAME...: the kernel modules and those they depend on,
# with modules.dep, so that busybox's modprobe loads them in order.
add_modules() {
    local dir=$1 name path dep
    shift
    local src="$root/lib/modules/$kver" dst="$dir/lib/modules/$kver"
    mkdir -p "$dst"
    cp "$src/modules.dep" "$dst/"
    for name in "$@"; do
        # modules.dep: "kernel/net/802/stp.ko: kernel/net/llc/llc.ko"; a
        # module's - and _ are the same name.
        path=$(awk -F: -v n="${name//_/-}" '{ f = $1; sub(".*/", "", f); sub("\\.ko$", "", f);
            gsub("_", "-", f); if (f == n) { print $1; exit } }' "$src/modules.dep")
        [[ -n "$path" ]] || { echo "images.sh: no module $name in $kver" >&2; return 1; }
        for dep in $path $(grep "^$path:" "$src/modules.dep" | cut -d: -f2); do
            mkdir -p "$dst/$(dirname "$dep")"
            cp -n "$src/$dep" "$dst/$dep"
        done
    done
}

# pack DIR OUT: the initramfs (newc cpio, gzip).
pack() {
    (cd "$1" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$2"
}

# guest_kernel CACHE: a gzipped vmlinux for the guests, made once. libxc
# decompresses a guest's kernel in userspace, and xz costs about 7 s of
# TCG time where gzip costs 1.
guest_kernel() {
    local out="$1/vmlinux-$kver.gz" vmlinuz="$root/boot/vmlinuz-$kver" offset
    if [[ ! -s "$out" ]]; then
        offset=$(LC_ALL=C grep -abo $'\xfd7zXZ' "$vmlinuz" | head -n 1 | cut -d: -f1)
        [[ -n "$offset" ]] || { echo "images.sh: no xz payload in $vmlinuz" >&2; return 1; }
        # xz stops at the end of its stream (what follows is not xz), so the
        # pipeline's status means nothing: the result is checked instead.
        tail -c +$((offset + 1)) "$vmlinuz" | xz -dc 2>/dev/null | gzip -1 >"$out.new" || true
        [[ "$(zcat "$out.new" | head -c 4 | tail -c 3)" == ELF ]] ||
            { echo "images.sh: no ELF kernel in $vmlinuz" >&2; return 1; }
        mv "$out.new" "$out"
    fi
    echo "$out"
}
