#!/bin/sh
# tests/vm/systemd/rootfs.sh - the Debian 12 base of the systemd guest.
#
# debootstrap --variant=minbase bookworm with systemd as init, D-Bus, udev,
# redis-server and every runtime library overcommitd links (so `dpkg -i` of
# the .deb needs no network in the guest), trimmed of docs and apt caches,
# packed as an uncompressed cpio newc archive (an initramfs: the guest runs
# from it in RAM).  run.sh appends a small second archive with the test
# pieces; the kernel unpacks concatenated archives in order.
#
# usage: sh rootfs.sh OUT.cpio MIRROR PACKAGES
#   PACKAGES: comma-separated --include list
# Runs as root (debootstrap chroots).  Nothing outside the scratch tree is
# touched; services the packages try to start in the chroot are not allowed
# to (policy-rc.d), and any left over are reported.
set -eu
out=$1 mirror=$2 pkgs=$3
suite=bookworm
root=$out.root
rm -rf "$root"
mkdir -p "$root/usr/sbin"

# no service of the chroot may start on this machine (invoke-rc.d asks it)
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"

debootstrap --variant=minbase --include="$pkgs" "$suite" "$root" "$mirror" \
	> "$out.debootstrap.log" 2>&1 || {
	tail -n 30 "$out.debootstrap.log" >&2
	echo "rootfs: debootstrap failed; log in $out.debootstrap.log" >&2
	for m in proc sys dev/pts dev; do umount "$root/$m" 2>/dev/null || true; done
	exit 1
}
# debootstrap unmounts what it mounted; make sure before anything is deleted
for m in proc sys dev/pts dev; do
	if grep -q " $root/$m " /proc/mounts; then
		echo "rootfs: $root/$m still mounted; not packing" >&2
		exit 1
	fi
done
rm -f "$root/usr/sbin/policy-rc.d"

# the guest runs from RAM: drop what a test never reads
rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
	"$root"/usr/share/locale/* "$root"/var/cache/apt/*.bin \
	"$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*_* \
	"$root"/var/log/*.log "$root"/var/cache/debconf/*-old
# PostgreSQL's JIT (llvmjit, its bitcode, libLLVM and the libz3 only it
# uses: ~140 MiB): without llvmjit.so the server simply does not JIT
# (jit_provider not found); locale sources (locale-gen ran already)
rm -rf "$root"/usr/lib/postgresql/*/lib/bitcode "$root"/usr/lib/postgresql/*/lib/llvmjit* \
	"$root"/usr/lib/x86_64-linux-gnu/libLLVM-*.so* "$root"/usr/lib/x86_64-linux-gnu/libz3.so* \
	"$root"/usr/share/i18n
# dpkg -i of the test .deb must keep its docs (the redis example policy)
mkdir -p "$root/usr/share/doc"

# the base never changes between runs; the test's own files (run.sh) are
# the second archive.  The kernel needs /dev/console before /init runs.
[ -c "$root/dev/console" ] || mknod -m 600 "$root/dev/console" c 5 1
[ -c "$root/dev/null" ] || mknod -m 666 "$root/dev/null" c 1 3

(cd "$root" && find . -xdev | LC_ALL=C sort | cpio -o -H newc --quiet) > "$out.tmp"
mv "$out.tmp" "$out"
du -sk "$root" | cut -f1 > "$out.size-kb"
rm -rf "$root"
