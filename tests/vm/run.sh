#!/bin/sh
# tests/vm/run.sh - the real-kernel test tier (issue 3, DESIGN §8).
#
# Boots Debian's own kernel (package linux-image-amd64, cached in $BUILD/vm)
# under qemu TCG with a busybox initramfs holding build/overcommitd, its shared
# libraries, redis-server/redis-cli, the test helpers (build/tests/helpers/*)
# and the scenarios (tests/vm/scenarios/*.sh), runs every scenario inside the
# guest and prints each one's "PASS name" / "FAIL name: reason" line, then
# exactly one summary line "N passed, N failed".  Exit 1 on any failure or
# guest hang (every boot runs under timeout(1)); the guest log tail follows.
#
# Usage: BUILD=build sh tests/vm/run.sh [SCENARIO...]
#   SCENARIO: a name ("redis-bgsave") or file stem ("30-redis-bgsave"); default all.
# Environment:
#   BUILD           build tree (default build); kernel cache and logs in $BUILD/vm
#   OC_VM_BOOT      each (default: one fresh boot per scenario, full isolation)
#                   | once (all scenarios in one boot per cgroup mode; init
#                   resets in between)
# A scenario's "# vm-cgroup: v1" line boots its guest with the cgroup v1
# memory hierarchy (/sys/fs/cgroup/memory) instead of cgroup2.
#   OC_VM_MEM       guest RAM in MiB (default 2048; scenarios are sized for it;
#                   a scenario's "# vm-mem: MIB" line raises it for its boot)
#   OC_VM_SMP       guest CPUs (default 2)
#   OC_VM_CPU       qemu -cpu model (default qemu64,+rdrand: CRNG ready at boot)
#   OC_VM_KERNEL    use this bzImage instead of the Debian package
#   OC_VM_VERBOSE=1 print each guest console log as well
#   OC_VM_SCENARIO_DIR  scenarios from another directory (experiments)
#   OC_VM_WORK      initramfs and logs there instead of $BUILD/vm (guests
#                   booted in parallel from one build: bench/faults.sh)
#   OC_VM_HOST_TIMEOUT  seconds per boot (default: the scenarios' budgets + 90)
#   OC_VM_BOOT_WAIT seconds until the guest's init must run, else it is
#                   booted once more (default 150; qemu_guest.sh)
#   OC_VM_PVH=0     boot the bzImage, not the unpacked vmlinux (PVH entry)
#   OC_VM_ICOUNT=N  guest clock = instructions x 2^N ns (qemu -icount shift=N,
#                   sleep=off): CPU times count instructions, not the host's
#                   load (benches; single-threaded TCG, so slower)
# Nothing here touches this machine's /proc/sys or cgroups: all of that
# happens inside the guest.
set -eu

BUILD=${BUILD:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
VMDIR=$BUILD/vm
MEM=${OC_VM_MEM:-2048}
SMP=${OC_VM_SMP:-2}
# qemu64 plus RDRAND: the kernel trusts it (RANDOM_TRUST_CPU), so the CRNG is
# ready at boot, as on real machines.  Without it the first getrandom() user
# (json-c seeding its hash tables in overcommitd) waited seconds for jitter
# entropy.
CPU=${OC_VM_CPU:-qemu64,+rdrand}
BOOTMODE=${OC_VM_BOOT:-each}
BOOT_ALLOWANCE=90        # seconds a boot may take on top of the scenario budgets
# seconds until init runs, else one more boot (qemu_guest.sh): 3 s quiet,
# 114 s at most seen at host load 67
BOOT_WAIT=${OC_VM_BOOT_WAIT:-150}
SCEN_DIR=${OC_VM_SCENARIO_DIR:-$HERE/scenarios}
T0=$(date +%s)

say() { printf 'vm: %s\n' "$*" >&2; }
die() { say "error: $*"; echo "0 passed, 1 failed"; exit 1; }

for t in qemu-system-x86_64 timeout cpio ldd dpkg-deb find sort; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found (apt-get install qemu-system-x86 cpio dpkg)"
done

# shellcheck source=tests/vm/kernel.sh
. "$HERE/kernel.sh"
# shellcheck source=tests/vm/qemu_guest.sh
. "$HERE/qemu_guest.sh"

# ------------------------------------------------------------- initramfs
VMWORK=${OC_VM_WORK:-$VMDIR}
STAGE=$VMWORK/initramfs
INITRD=$VMWORK/initramfs.cpio

# copy_bin SRC DEST: the binary plus every shared library ldd names (incl. the
# dynamic loader), each at the path ldd prints.
copy_bin() {
	src=$1 dest=$2
	mkdir -p "$STAGE$(dirname "$dest")"
	cp -L "$src" "$STAGE$dest"
	chmod 0755 "$STAGE$dest"
	ldd "$src" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p' |
	while read -r lib; do
		[ -e "$STAGE$lib" ] && continue
		mkdir -p "$STAGE$(dirname "$lib")"
		cp -L "$lib" "$STAGE$lib"
	done
}

build_initramfs() {
	rm -rf "$STAGE"
	mkdir -p "$STAGE"
	for d in bin sbin usr/bin usr/sbin lib lib64 etc proc sys dev tmp run root var/lib \
		oc/bin oc/scenarios; do
		mkdir -p "$STAGE/$d"
	done
	bb=${OC_VM_BUSYBOX:-/bin/busybox}
	[ -x "$bb" ] || die "no static busybox at $bb (apt-get install busybox-static)"
	if ldd "$bb" >/dev/null 2>&1; then
		die "$bb is dynamically linked; install busybox-static"
	fi
	cp "$bb" "$STAGE/bin/busybox"
	for a in sh mount mkdir; do ln -sf busybox "$STAGE/bin/$a"; done

	if [ -x "$BUILD/overcommitd" ]; then
		copy_bin "$BUILD/overcommitd" /usr/sbin/overcommitd
	else
		say "warning: $BUILD/overcommitd not built: scenarios that need it will FAIL"
	fi
	for b in redis-server redis-cli; do
		p=$(command -v $b 2>/dev/null) || die "$b not found (apt-get install redis-server)"
		copy_bin "$p" /usr/bin/$b
	done
	for h in "$BUILD"/tests/helpers/*; do
		[ -f "$h" ] && [ -x "$h" ] || continue
		copy_bin "$h" "/oc/bin/$(basename "$h")"
	done
	[ -x "$STAGE/oc/bin/forker" ] && [ -x "$STAGE/oc/bin/jget" ] ||
		die "test helpers missing in $BUILD/tests/helpers (run: make $BUILD/tests/helpers/forker $BUILD/tests/helpers/jget)"

	cp "$HERE/init.sh" "$STAGE/init"
	chmod 0755 "$STAGE/init"
	cp "$HERE/lib.sh" "$STAGE/oc/lib.sh"
	cp "$HERE/cgwriter.sh" "$STAGE/oc/cgwriter.sh"
	for s in $SCEN_FILES; do cp "$SCEN_DIR/$s" "$STAGE/oc/scenarios/$s"; done
	if [ -d "$TOP/policies" ]; then
		cp -R "$TOP/policies" "$STAGE/oc/policies"
	fi
	# oc-user: a login user (uid 1000 = UID_MIN) for the trust scenarios
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\noc-user:x:1000:1000:login user:/tmp:/bin/sh\n' \
		> "$STAGE/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\noc-user:x:1000:\n' > "$STAGE/etc/group"
	printf '%s\n' "$KVER" > "$STAGE/oc/kernel-version"

	(cd "$STAGE" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$INITRD.tmp"
	mv "$INITRD.tmp" "$INITRD"
}

# -------------------------------------------------------------- scenarios
SCEN_FILES=
for f in "$SCEN_DIR"/*.sh; do
	[ -f "$f" ] || continue
	SCEN_FILES="$SCEN_FILES $(basename "$f")"
done
[ -n "$SCEN_FILES" ] || die "no scenarios in $SCEN_DIR"

# name of a scenario file: the stem without its NN- ordering prefix
scen_name() { basename "$1" .sh | sed 's/^[0-9][0-9]*-//'; }
# its guest time budget: a "# vm-timeout: SECONDS" line, default 120
scen_budget() {
	b=$(sed -n 's/^# vm-timeout:[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$SCEN_DIR/$1" | head -n 1)
	echo "${b:-120}"
}

# its cgroup mode: a "# vm-cgroup: v1" line, default v2
scen_cgroup() {
	c=$(sed -n 's/^# vm-cgroup:[[:space:]]*\(v[12]\).*/\1/p' "$SCEN_DIR/$1" | head -n 1)
	echo "${c:-v2}"
}

# its guest RAM: a "# vm-mem: MIB" line, default $MEM (qemu gives TCG guests
# RAM they never touch for free: a large guest for the per-CPU slack)
scen_mem() {
	m=$(sed -n 's/^# vm-mem:[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$SCEN_DIR/$1" | head -n 1)
	echo "${m:-$MEM}"
}

SELECTED=
if [ $# -gt 0 ] || [ -n "${OC_VM_SCENARIOS:-}" ]; then
	for want in "$@" ${OC_VM_SCENARIOS:-}; do
		hit=
		for s in $SCEN_FILES; do
			if [ "$want" = "$(scen_name "$s")" ] || [ "$want" = "${s%.sh}" ] || [ "$want" = "$s" ]; then
				SELECTED="$SELECTED $s"
				hit=1
			fi
		done
		[ -n "$hit" ] || die "no scenario named $want (have:$SCEN_FILES)"
	done
else
	SELECTED=$SCEN_FILES
fi

# ------------------------------------------------------------------ boot
LOGDIR=$VMWORK/logs
PASSED=0
FAILED=0
SUMMARY=$LOGDIR/summary.txt

# boot TAG FILE...: boot once, running those scenarios in order (one
# cgroup mode: the first scenario's).
boot() {
	tag=$1
	shift
	cgmode=$(scen_cgroup "$1")
	budget=0
	names=
	mem=$MEM
	for s in "$@"; do
		[ "$(scen_mem "$s")" -le "$mem" ] || mem=$(scen_mem "$s")
		budget=$((budget + $(scen_budget "$s") + 5))
		names="$names${names:+,}$s"
	done
	limit=${OC_VM_HOST_TIMEOUT:-$((budget + BOOT_ALLOWANCE))}
	con=$LOGDIR/$tag.console.log
	res=$LOGDIR/$tag.results.log
	rm -f "$con" "$res"
	: > "$res"
	b0=$(date +%s)
	# shellcheck disable=SC2086
	guest_run "$limit" "$BOOT_WAIT" "$res" "$con" "$LOGDIR/$tag.qemu.log" \
		-accel tcg -cpu "$CPU" -m "$mem" -smp "$SMP" \
		${OC_VM_ICOUNT:+-icount "shift=$OC_VM_ICOUNT,sleep=off"} \
		-nodefaults -display none -no-reboot \
		-kernel "$KERNEL" -initrd "$INITRD" \
		-append "console=ttyS0 panic=-1 softlockup_panic=1 loglevel=4 no_timer_check oc.cgroup=$cgmode oc.run=$names" \
		-serial "file:$con" -serial "file:$res"
	# the guest tty turns \n into \r\n
	tr -d '\r' < "$res" > "$res.tmp" && mv "$res.tmp" "$res"
	b1=$(date +%s)
	booted=$(sed -n 's/^@@OC BOOTED \([0-9.]*\).*/\1/p' "$res" | head -n 1)
	say "boot $tag: ${booted:-?} s guest uptime at init, $((b1 - b0)) s wall (budget $limit s, $mem MiB, cgroup $cgmode)$guest_note"
	# each scenario's result; INFO lines are printed as they are
	hang=
	if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
		hang="guest hang: timeout after $limit s"
	elif ! grep -q '^@@OC DONE' "$res"; then
		hang="guest stopped early (qemu exit $qrc)"
	fi
	bad=
	for s in "$@"; do
		n=$(scen_name "$s")
		grep "^INFO $n:" "$res" | sed 's/^/  /' || true
		line=$(grep -E "^(PASS $n\$|FAIL $n: )" "$res" | tail -n 1)
		[ -n "$line" ] || line="FAIL $n: no result (${hang:-scenario produced no result line})"
		echo "$line"
		echo "$line" >> "$SUMMARY"
		case $line in
		PASS*) PASSED=$((PASSED + 1)) ;;
		*) FAILED=$((FAILED + 1)); bad=1 ;;
		esac
	done
	if [ -n "$hang" ]; then
		say "$hang"
		bad=1
	fi
	if [ -n "$bad" ] || [ "${OC_VM_VERBOSE:-0}" = 1 ]; then
		say "guest console log ($con), last 80 lines:"
		tail -n 80 "$con" | sed 's/^/  | /' >&2
		[ -s "$LOGDIR/$tag.qemu.log" ] && sed 's/^/  qemu: /' "$LOGDIR/$tag.qemu.log" >&2
	fi
	return 0
}

fetch_kernel
mkdir -p "$LOGDIR"
: > "$SUMMARY"
build_initramfs
say "kernel $KVER ($(basename "$KERNEL")); initramfs $(du -k "$INITRD" | cut -f1) KiB; ${MEM} MiB, $SMP CPUs ($CPU), TCG; boot mode $BOOTMODE"

case $BOOTMODE in
each)
	for s in $SELECTED; do boot "${s%.sh}" "$s"; done
	;;
once)
	for mode in v2 v1; do
		set --
		for s in $SELECTED; do [ "$(scen_cgroup "$s")" = "$mode" ] && set -- "$@" "$s"; done
		[ $# -eq 0 ] || boot "all-$mode" "$@"
	done
	;;
*) die "OC_VM_BOOT must be each or once" ;;
esac

say "total $(( $(date +%s) - T0 )) s; logs in $LOGDIR"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
