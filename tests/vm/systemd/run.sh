#!/bin/sh
# tests/vm/systemd/run.sh - the overcommitd .deb installed and run for real
# in a Debian 12 guest with systemd as PID 1 (issue 5 item 4, DESIGN §8).
#
# Host side: the Debian kernel of the busybox tier (../kernel.sh, same cache),
# a debootstrap'ed bookworm (rootfs.sh; cached in $BUILD/vm/systemd by the
# package list), the .deb (packaging/build-deb.sh, rebuilt when a source is
# newer), all packed as one initramfs: the cached base archive followed by a
# small one with /init (exec /sbin/init), the test unit and script, the .deb
# and a few masked units.  Booted under qemu TCG (always under timeout); the
# guest runs guest-test.sh after multi-user.target and reports on ttyS1.
# Prints each "PASS name" / "FAIL name: reason" (INFO lines indented), then
# one line "N passed, N failed".  Exit 1 on any failure or a hung guest;
# the tail of the guest journal (or console) follows on stderr.
#
# usage: BUILD=build sh tests/vm/systemd/run.sh [--prepare]
#   --prepare: only fetch the kernel and build the cached rootfs, then exit
#              (tests/check-all.sh runs it in the background while it builds)
# Environment:
#   BUILD               build tree (default build); caches, logs in $BUILD/vm/systemd
#   OC_VM_DEB           test this .deb instead of building one
#   OC_VM_MIRROR        Debian mirror for debootstrap (default: from apt's sources)
#   OC_VM_MEM           guest RAM in MiB (default 3072)
#   OC_VM_SMP           guest CPUs (default 2)
#   OC_VM_CPU           qemu -cpu model (default qemu64,+rdrand, as tests/vm/run.sh:
#                       the CRNG is ready at boot instead of after seconds)
#   OC_VM_HOST_TIMEOUT  seconds for the guest, boot included (default 1500: three Ansible runs under TCG)
#   OC_VM_BOOT_WAIT     seconds until the test unit must start, else one more boot (default 420)
#   OC_VM_KERNEL, OC_VM_PVH   as for tests/vm/run.sh
#   OC_VM_VERBOSE=1     print the guest journal tail even when all passed
#   OC_VM_ONLY=services only the install and the real services (guest-services.sh;
#                       they run in the full run too)
#   OC_VM_ONLY=scope    only the install and the fork child's scope (guest-scope.sh)
#   OC_VM_SERVICES=0    the full run without the real services
# Nothing here touches this machine's /proc/sys or cgroups; debootstrap
# writes only under $BUILD/vm/systemd (its chroot may start no service).
set -eu

BUILD=${BUILD:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../../.." && pwd)
BUILD_ARG=$BUILD
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
VMDIR=$BUILD/vm
SDIR=$VMDIR/systemd
LOGDIR=$SDIR/logs
MEM=${OC_VM_MEM:-3072}
SMP=${OC_VM_SMP:-2}
CPU=${OC_VM_CPU:-qemu64,+rdrand}
LIMIT=${OC_VM_HOST_TIMEOUT:-1500}
T0=$(date +%s)
# the guest's packages: boot (systemd as init, D-Bus for unit properties,
# udev), the service under test, procps (pidof), and the runtime libraries
# of overcommitd so that dpkg -i needs no network; ansible-core and
# python3-apt (its apt module) to run the Ansible role for real
# (python3-cffi-backend named: debootstrap does not resolve the virtual
# python3-cffi-backend-api-* that python3-cryptography depends on); the
# real services of guest-services.sh (+180 MiB of initramfs; debootstrap
# runs in the background of tests/check-all.sh): postgresql-15 (pgbench is
# in it), apache2 + libapache2-mod-php (which selects mpm_prefork) +
# apache2-utils (ab), gunicorn (/usr/bin/gunicorn; pulls python3-gunicorn)
PKGS=systemd,systemd-sysv,dbus,udev,procps,redis-server,libnl-3-200,libnl-genl-3-200,libcap2,libjson-c5,libiniparser1,libsystemd0,libbpf1,libseccomp2,libcgroup2,ansible-core,python3-apt,python3-cffi-backend
PKGS=$PKGS,postgresql-15,apache2,libapache2-mod-php,apache2-utils,gunicorn

say() { printf 'vm-systemd: %s\n' "$*" >&2; }
die() { say "error: $*"; echo "0 passed, 1 failed"; exit 1; }

for t in qemu-system-x86_64 timeout cpio dpkg-deb flock sha256sum; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found (apt-get install qemu-system-x86 cpio dpkg util-linux)"
done
mkdir -p "$SDIR" "$LOGDIR"

# shellcheck source=tests/vm/kernel.sh
. "$HERE/../kernel.sh"
# shellcheck source=tests/vm/qemu_guest.sh
. "$HERE/../qemu_guest.sh"

# ------------------------------------------------------------- the .deb
deb_stale() { # the newest source change is newer than the .deb
	[ -n "$(cd "$TOP" && find src agent policies packaging/debian packaging/systemd \
		packaging/man Makefile -type f -newer "$1" 2>/dev/null | head -n 1)" ]
}
pick_deb() {
	if [ -n "${OC_VM_DEB:-}" ]; then
		[ -r "$OC_VM_DEB" ] || die "OC_VM_DEB=$OC_VM_DEB not readable"
		DEB=$OC_VM_DEB
		return
	fi
	DEB=$(ls "$BUILD"/pkg/overcommitd_*.deb 2>/dev/null | tail -n 1)
	if [ -z "$DEB" ] || deb_stale "$DEB"; then
		say "building the .deb (packaging/build-deb.sh)"
		rel=${BUILD#"$TOP"/}
		[ "$rel" != "$BUILD" ] || die "BUILD=$BUILD_ARG is outside the tree; build the .deb and set OC_VM_DEB"
		DEB=$(cd "$TOP" && BUILD=$rel sh packaging/build-deb.sh | tail -n 1) ||
			die "packaging/build-deb.sh failed"
	fi
	[ -r "$DEB" ] || die "no .deb at $DEB"
}

# ------------------------------------------------------------ the rootfs
# The Debian mirror apt uses here (one-line or deb822 sources).
mirror() {
	if [ -n "${OC_VM_MIRROR:-}" ]; then echo "$OC_VM_MIRROR"; return; fi
	m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		sed -n 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\(https\{0,1\}:[^[:space:]]*\)[[:space:]]\{1,\}bookworm[[:space:]].*/\2/p' |
		head -n 1)
	[ -n "$m" ] || m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '/^URIs:/ { uri = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") { print uri; exit } }')
	echo "${m:-http://deb.debian.org/debian}"
}

# Cached by the package list and the builder itself: base-KEY.cpio
base_rootfs() {
	key=$( { echo "$PKGS"; cat "$HERE/rootfs.sh"; } | sha256sum | cut -c 1-12)
	BASE=$SDIR/base-$key.cpio
	exec 9> "$SDIR/.lock"
	flock 9   # a concurrent run waits for the same build
	if [ ! -s "$BASE" ]; then
		command -v debootstrap >/dev/null 2>&1 || die "debootstrap not found (apt-get install debootstrap)"
		[ "$(id -u)" -eq 0 ] || die "debootstrap needs root"
		m=$(mirror)
		say "debootstrap bookworm from $m (first run only; cached as $(basename "$BASE"))"
		d0=$(date +%s)
		sh "$HERE/rootfs.sh" "$BASE" "$m" "$PKGS" || die "building the rootfs failed"
		say "rootfs built in $(( $(date +%s) - d0 )) s"
		for old in "$SDIR"/base-*.cpio; do
			[ "$old" = "$BASE" ] || rm -f "$old" "$old".*
		done
	fi
	flock -u 9
}

# The second archive: what this run tests.  Its directories are 0755 root,
# as in the base, so unpacking it over the base changes no permission.
overlay() {
	st=$SDIR/overlay
	rm -rf "$st"
	mkdir -p "$st/oc/deb" "$st/etc/systemd/system/multi-user.target.wants"
	chmod -R 0755 "$st"
	printf '#!/bin/sh\nexec /sbin/init "$@"\n' > "$st/init"
	chmod 0755 "$st/init"
	cp "$HERE/guest-test.sh" "$HERE/guest-ansible.sh" "$HERE/guest-refusal.sh" \
		"$HERE/guest-oompolicy.sh" "$HERE/guest-services.sh" "$HERE/guest-undersized.sh" \
		"$HERE/svcwatch.py" "$HERE/guest-scope.sh" "$st/oc/"
	# OC_VM_ONLY=services: install, then the real services alone
	[ "${OC_VM_ONLY:-}" != services ] || : > "$st/oc/only-services"
	[ "${OC_VM_SERVICES:-1}" != 0 ] || : > "$st/oc/no-services"
	# OC_VM_ONLY=scope: install, then the fork child's scope alone
	[ "${OC_VM_ONLY:-}" != scope ] || : > "$st/oc/only-scope"
	# the role and the test play (guest-ansible.sh)
	mkdir -p "$st/oc/ansible"
	cp -R "$TOP/packaging/ansible/roles" "$st/oc/ansible/"
	cp "$HERE/ansible-play.yml" "$st/oc/ansible/play.yml"
	find "$st/oc/ansible" -type d -exec chmod 0755 {} + && find "$st/oc/ansible" -type f -exec chmod 0644 {} +
	cp "$DEB" "$st/oc/deb/"
	u=$st/etc/systemd/system
	# the daemon's debug lines time each event-path write from the kernel's
	# fork/exec timestamp (guest-services.sh); sorts before the Ansible
	# role's 50-metrics.conf, which replaces ExecStart= again
	mkdir -p "$u/overcommitd.service.d"
	printf '[Service]\nExecStart=\nExecStart=/usr/sbin/overcommitd -v run\n' \
		> "$u/overcommitd.service.d/00-oc-test-verbose.conf"
	cp "$HERE/oc-systemd-test.service" "$u/"
	ln -s ../oc-systemd-test.service "$u/multi-user.target.wants/oc-systemd-test.service"
	# the serial getty on the console hangs up the port (and the output);
	# units a diskless guest nobody logs into does not need (seconds of
	# boot each under TCG); timers that would run apt or scrubbers mid-test
	# the services guest-services.sh starts itself, under the daemon
	# (postgresql.service only pulls in postgresql@15-main; apache2 is
	# unmasked there), and their timers
	for m in serial-getty@ttyS0.service getty@tty1.service e2scrub_reap.service \
		systemd-logind.service apt-daily.timer \
		apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer \
		postgresql.service apache2.service apache-htcacheclean.service \
		phpsessionclean.timer; do
		ln -s /dev/null "$u/$m"
	done
	# a fixed machine-id: no first-boot units
	echo 0c5e7d0e5e5a4c3b9d1f00000000a11d > "$st/etc/machine-id"
	echo oc-guest > "$st/etc/hostname"
	find "$st" -type f -name '*.sh' -exec chmod 0755 {} +
	(cd "$st" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$SDIR/overlay.cpio"
	cat "$BASE" "$SDIR/overlay.cpio" > "$SDIR/initrd.cpio.tmp"
	mv "$SDIR/initrd.cpio.tmp" "$SDIR/initrd.cpio"
}

# -------------------------------------------------------------- the run
fetch_kernel
if [ "${1:-}" = --prepare ]; then
	base_rootfs
	say "prepared in $(( $(date +%s) - T0 )) s"
	exit 0
fi
pick_deb
base_rootfs
overlay
say "kernel $KVER ($(basename "$KERNEL")); $(basename "$DEB"); initramfs $(( $(du -k "$SDIR/initrd.cpio" | cut -f1) / 1024 )) MiB; ${MEM} MiB, $SMP CPUs ($CPU), TCG; limit $LIMIT s"

con=$LOGDIR/console.log
raw=$LOGDIR/ttyS1.log
res=$LOGDIR/results.log
jour=$LOGDIR/journal.log
rm -f "$con" "$raw" "$res" "$jour"
: > "$raw"
b0=$(date +%s)
# the test unit says @@OC BOOTED once systemd is up: 12-133 s seen here
guest_run "$LIMIT" "${OC_VM_BOOT_WAIT:-420}" "$raw" "$con" "$LOGDIR/qemu.log" \
	-accel tcg -cpu "$CPU" -m "$MEM" -smp "$SMP" \
	-nodefaults -display none -no-reboot \
	-kernel "$KERNEL" -initrd "$SDIR/initrd.cpio" \
	-append "console=ttyS0 panic=-1 softlockup_panic=1 loglevel=4 no_timer_check systemd.show_status=auto" \
	-serial "file:$con" -serial "file:$raw"
b1=$(date +%s)
# the guest tty turns \n into \r\n; journal lines travel as "J| ..."
tr -d '\r' < "$raw" | grep -v '^J| ' > "$res" || true
tr -d '\r' < "$raw" | sed -n 's/^J| //p' > "$jour"
booted=$(sed -n 's/^@@OC BOOTED \([0-9.]*\).*/\1/p' "$res" | head -n 1)
done_at=$(sed -n 's/^@@OC DONE \([0-9.]*\).*/\1/p' "$res" | head -n 1)
say "guest: test started at ${booted:-?} s uptime, done at ${done_at:-?} s; $((b1 - b0)) s wall$guest_note"

PASSED=0
FAILED=0
while IFS= read -r line; do
	case $line in
	"INFO "*) echo "  $line" ;;
	"PASS "*) echo "$line"; PASSED=$((PASSED + 1)) ;;
	"FAIL "*) echo "$line"; FAILED=$((FAILED + 1)) ;;
	esac
done < "$res"
if [ -z "$done_at" ]; then
	if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
		why="guest hang: timeout after $LIMIT s"
	else
		why="guest stopped early (qemu exit $qrc)"
	fi
	echo "FAIL systemd-guest: $why${booted:+ (the test had started)}"
	FAILED=$((FAILED + 1))
fi
if [ "$FAILED" -gt 0 ] || [ "${OC_VM_VERBOSE:-0}" = 1 ]; then
	if [ -s "$jour" ]; then
		say "guest journal ($jour), overcommitd and test lines, last 60:"
		grep -E 'overcommitd|oc-test|redis' "$jour" | tail -n 60 | sed 's/^/  | /' >&2
	else
		say "no guest journal; console ($con), last 60 lines:"
		tr -d '\r' < "$con" | tail -n 60 | sed 's/^/  | /' >&2
	fi
	[ -s "$LOGDIR/qemu.log" ] && sed 's/^/  qemu: /' "$LOGDIR/qemu.log" >&2
fi
say "total $(( $(date +%s) - T0 )) s; logs in $LOGDIR"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
