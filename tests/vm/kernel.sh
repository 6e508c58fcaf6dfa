# shellcheck shell=sh disable=SC2034 # KERNEL, KVER are for the caller
# tests/vm/kernel.sh - sourced by both VM tiers (tests/vm/run.sh and
# tests/vm/systemd/run.sh): Debian's kernel, fetched once into the shared
# cache $VMDIR/kernel (delete it to refetch).  Needs VMDIR, say and die;
# sets KERNEL and KVER.

# linux-image-amd64 depends on the real image package
# (linux-image-6.1.0-NN-amd64): download both, unpack /boot of the real one.
fetch_kernel() {
	kdir=$VMDIR/kernel
	if [ -n "${OC_VM_KERNEL:-}" ]; then
		[ -r "$OC_VM_KERNEL" ] || die "OC_VM_KERNEL=$OC_VM_KERNEL not readable"
		KERNEL=$OC_VM_KERNEL
		KVER=custom
		return
	fi
	if ! { [ -s "$kdir/vmlinuz" ] && [ -s "$kdir/version" ]; }; then
		say "fetching the Debian kernel (apt-get download linux-image-amd64)"
		rm -rf "$VMDIR/deb" "$kdir.tmp"
		mkdir -p "$VMDIR/deb" "$kdir.tmp"
		(cd "$VMDIR/deb" && apt-get -q -o APT::Sandbox::User=root download linux-image-amd64 >&2) ||
			die "apt-get download linux-image-amd64 failed"
		meta=$(ls "$VMDIR"/deb/linux-image-amd64_*.deb 2>/dev/null | head -n 1)
		[ -n "$meta" ] || die "no linux-image-amd64 .deb downloaded"
		real=$(dpkg-deb -f "$meta" Depends | tr ',|' '\n\n' | sed 's/(.*//; s/[[:space:]]//g' |
			grep '^linux-image-[0-9]' | head -n 1)
		[ -n "$real" ] || die "cannot find the real image package in $(dpkg-deb -f "$meta" Depends)"
		(cd "$VMDIR/deb" && apt-get -q -o APT::Sandbox::User=root download "$real" >&2) ||
			die "apt-get download $real failed"
		deb=$(ls "$VMDIR"/deb/"$real"_*.deb | head -n 1)
		dpkg-deb --fsys-tarfile "$deb" | (cd "$kdir.tmp" && tar -xf - ./boot) ||
			die "unpacking $deb failed"
		vmlinuz=$(ls "$kdir.tmp"/boot/vmlinuz-* | head -n 1)
		[ -s "$vmlinuz" ] || die "no vmlinuz in $deb"
		cp "$vmlinuz" "$kdir.tmp/vmlinuz"
		cp "$kdir.tmp"/boot/config-* "$kdir.tmp/config"
		printf '%s %s\n' "$real" "$(dpkg-deb -f "$deb" Version)" > "$kdir.tmp/version"
		rm -rf "$kdir.tmp/boot" "$kdir"
		mv "$kdir.tmp" "$kdir"
		# everything the guests need must be built in: no modules in them
		for opt in CGROUPS MEMCG PROC_FS SYSFS DEVTMPFS TMPFS BLK_DEV_INITRD \
			SERIAL_8250_CONSOLE UNIX BINFMT_SCRIPT; do
			grep -q "^CONFIG_$opt=y" "$kdir/config" ||
				say "warning: CONFIG_$opt is not built in; the tier may need modules"
		done
	fi
	KERNEL=$kdir/vmlinuz
	KVER=$(cat "$kdir/version")
	pick_pvh
}

# The bzImage decompresses itself under TCG (~4-5 s a boot); qemu boots the
# uncompressed ELF vmlinux through its PVH entry (CONFIG_PVH=y) directly.
# Unpacked once from the bzImage's XZ payload; OC_VM_PVH=0 keeps the bzImage.
pick_pvh() {
	[ "${OC_VM_PVH:-1}" = 1 ] || return 0
	if [ ! -s "$kdir/vmlinux" ]; then
		command -v xz >/dev/null 2>&1 && command -v readelf >/dev/null 2>&1 || return 0
		off=$(LC_ALL=C grep -abo "$(printf '\3757zXZ')" "$kdir/vmlinuz" | head -n 1 | cut -d: -f1)
		[ -n "$off" ] || return 0
		# xz complains about the bytes after the payload: judge by the result
		tail -c +"$((off + 1))" "$kdir/vmlinuz" | xz -dc > "$kdir/vmlinux.tmp.$$" 2>/dev/null || true
		if readelf -n "$kdir/vmlinux.tmp.$$" 2>/dev/null | grep -Eq 'Xen.*(\(0x00000012\)|PHYS32)'; then
			mv "$kdir/vmlinux.tmp.$$" "$kdir/vmlinux"
		else
			say "no PVH entry in the unpacked vmlinux; booting the bzImage"
			rm -f "$kdir/vmlinux.tmp.$$"
			return 0
		fi
	fi
	KERNEL=$kdir/vmlinux
}
