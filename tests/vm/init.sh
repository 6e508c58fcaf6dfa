#!/bin/busybox sh
# /init of the VM test initramfs (tests/vm/run.sh builds it).
# Mounts proc, sys, devtmpfs, cgroup2 at /sys/fs/cgroup (or, with
# oc.cgroup=v1 on the kernel command line, a cgroup v1 memory hierarchy at
# /sys/fs/cgroup/memory on a tmpfs, as RHEL 8 hosts have it) and tmpfs /tmp, runs
# the scenarios named by oc.run=FILE,FILE on the kernel command line, each
# under its own timeout, and reports over the second serial port (ttyS1):
#   @@OC BOOTED <uptime>    init started
#   INFO name: ...          whatever the scenario reports
#   PASS name | FAIL name: reason   exactly one per scenario
#   @@OC DONE               all ran; then the guest powers off
# Scenario output (and the kernel's) goes to the console, ttyS0.
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /usr/bin /usr/sbin /sbin
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s
export PATH=/oc/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
cgmode=v2
for w in $(cat /proc/cmdline); do
	case $w in oc.cgroup=*) cgmode=${w#oc.cgroup=} ;; esac
done
if [ "$cgmode" = v1 ]; then
	mount -t tmpfs -o mode=0755 cgroup /sys/fs/cgroup
	mkdir /sys/fs/cgroup/memory
	mount -t cgroup -o memory cgroup /sys/fs/cgroup/memory
else
	mount -t cgroup2 cgroup2 /sys/fs/cgroup
fi
mount -t tmpfs -o mode=1777 tmpfs /tmp
ip link set lo up 2>/dev/null

RES=/dev/ttyS1
[ -c "$RES" ] || RES=/dev/console
read -r up _ < /proc/uptime
echo "@@OC BOOTED $up" > "$RES"
echo "oc-init: booted in $up s; kernel $(uname -r); $(grep MemTotal /proc/meminfo); cgroup $cgmode"

# the boot values of vm sysctls, for resets between scenarios
mkdir -p /run/oc/bootvm
for k in overcommit_memory overcommit_ratio overcommit_kbytes user_reserve_kbytes \
	admin_reserve_kbytes; do
	cat /proc/sys/vm/$k > /run/oc/bootvm/$k
done

reset_guest() {
	# every process but init; then sysctls and cgroups as booted
	kill -9 -1 2>/dev/null
	sleep 0.2
	# overcommit_kbytes/ratio zero each other: write ratio, then kbytes if set
	for k in overcommit_memory overcommit_ratio user_reserve_kbytes admin_reserve_kbytes; do
		cat /run/oc/bootvm/$k > /proc/sys/vm/$k
	done
	kb=$(cat /run/oc/bootvm/overcommit_kbytes)
	[ "$kb" = 0 ] || echo "$kb" > /proc/sys/vm/overcommit_kbytes
	# remove the cgroups scenarios made, deepest first
	find /sys/fs/cgroup -mindepth 1 -type d 2>/dev/null | sort -r | while read -r d; do
		[ "$d" = /sys/fs/cgroup/memory ] && continue # the v1 mount point
		rmdir "$d" 2>/dev/null
	done
	echo "-memory" > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
	rm -rf /tmp/* 2>/dev/null
}

run=
for w in $(cat /proc/cmdline); do
	case $w in oc.run=*) run=${w#oc.run=} ;; esac
done

first=1
for f in $(echo "$run" | tr ',' ' '); do
	name=$(basename "$f" .sh | sed 's/^[0-9][0-9]*-//')
	[ -n "$first" ] || reset_guest
	first=
	budget=$(sed -n 's/^# vm-timeout:[[:space:]]*\([0-9][0-9]*\).*/\1/p' "/oc/scenarios/$f" | head -n 1)
	budget=${budget:-120}
	out=/run/oc/result.$name
	rm -f "$out"
	echo "oc-init: ===== scenario $name (budget $budget s) ====="
	read -r s0 _ < /proc/uptime
	OC_TEST=$name OC_RESULT=$out timeout -s KILL "$budget" sh -c ". /oc/lib.sh; . /oc/scenarios/$f" \
		< /dev/null
	rc=$?
	read -r s1 _ < /proc/uptime
	echo "oc-init: ===== scenario $name exit $rc after $(awk "BEGIN{print $s1 - $s0}") s ====="
	[ -f "$out" ] && grep '^INFO ' "$out" > "$RES"
	# any FAIL wins (fail may run in a subshell that a later pass outlives)
	line=$( [ -f "$out" ] && { grep "^FAIL $name: " "$out" || grep -x "PASS $name" "$out"; } | head -n 1)
	if [ "$rc" -eq 137 ] && ! echo "$line" | grep -q '^FAIL'; then
		line="FAIL $name: timed out after $budget s in the guest"
	elif [ -z "$line" ]; then
		line="FAIL $name: exit $rc without a result line"
	elif [ "$rc" -ne 0 ] && [ "${line#PASS}" != "$line" ]; then
		line="FAIL $name: exit $rc after reporting PASS"
	fi
	echo "$line"
	echo "$line" > "$RES"
done
echo "@@OC DONE" > "$RES"
sync
poweroff -f
