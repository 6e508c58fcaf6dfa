# shellcheck shell=sh
# qemu_guest.sh - sourced by run.sh and systemd/run.sh (host side): one qemu
# run with a boot watchdog.
#
# Why: about one boot in sixty on this 2-core machine never started (0-byte
# console, no kernel line) and sat out its whole budget, failing every
# scenario of that boot though none had run; under a starved host the kernel
# also panics in its IO-APIC timer check (the command lines now carry
# no_timer_check, the usual setting for virtual machines). A guest that has not
# reached its init ("@@OC BOOTED" on the results serial) within BOOT_WAIT
# seconds, or that exits before it, is killed and booted once more. A guest
# that booted is retried only when its kernel soft-locked ("BUG: soft
# lockup" on the console; the command lines carry softlockup_panic=1, so
# such a guest panics and stops within ~30 s instead of sitting out its
# budget): under TCG a kernel text patch (a static key, a BPF trampoline)
# racing the other vCPU has locked both vCPUs up (BENCHMARKS.md, issue 12
# rounds 5 and 7), which no program in the guest can cause or clear; the
# first run's console is kept as CONSOLE.lockup and the retry is said.  A
# scenario's own failure stays a failure.
#
# guest_run LIMIT BOOT_WAIT RESULTS CONSOLE QEMULOG QEMU-ARGS...
#   LIMIT     seconds for the whole run (timeout(1), as before)
#   BOOT_WAIT seconds until init must have said @@OC BOOTED
#   RESULTS   the file the guest's results serial writes (checked as it grows)
#   CONSOLE   the console serial's file (the first boot's is kept as
#             CONSOLE.first-boot when it is retried)
#   QEMULOG   qemu's own stdout/stderr
# Sets qrc to qemu's exit status (124/137: timeout) and guest_note to
# "; booted twice ..." if the first boot was abandoned, "; run twice ..."
# after a soft lockup, else to "".

guest_once() {
	o_limit=$1 o_wait=$2 o_res=$3 o_log=$4
	shift 4
	timeout -k 10 "$o_limit" qemu-system-x86_64 "$@" </dev/null >"$o_log" 2>&1 &
	gpid=$!
	waited=0
	noboot=
	while kill -0 "$gpid" 2>/dev/null; do
		grep -q '^@@OC BOOTED' "$o_res" 2>/dev/null && break
		if [ "$waited" -ge "$o_wait" ]; then
			noboot=1
			kill "$gpid" 2>/dev/null
			break
		fi
		sleep 1
		waited=$((waited + 1))
	done
	wait "$gpid"
	qrc=$?
	# exited (panic, early stop) before init said anything
	grep -q '^@@OC BOOTED' "$o_res" 2>/dev/null || noboot=1
}

guest_run() {
	g_limit=$1 g_wait=$2 g_res=$3 g_con=$4 g_log=$5
	shift 5
	guest_note=
	set +e
	guest_once "$g_limit" "$g_wait" "$g_res" "$g_log" "$@"
	if [ -n "$noboot" ]; then
		echo "run.sh: the guest did not reach its init (qemu exit $qrc after $waited s; the wait is ${g_wait} s): booting it once more" >&2
		sed 's/^/  first boot, qemu: /' "$g_log" >&2
		mv -f "$g_con" "$g_con.first-boot" 2>/dev/null
		tail -n 20 "$g_con.first-boot" 2>/dev/null | sed 's/^/  first boot, console: /' >&2
		guest_note="; booted twice (the first boot never reached init)"
		: > "$g_res"
		guest_once "$g_limit" "$g_wait" "$g_res" "$g_log" "$@"
	fi
	if grep -q 'BUG: soft lockup' "$g_con" 2>/dev/null; then
		echo "run.sh: the guest kernel soft-locked (qemu exit $qrc): booting it once more; the first console is $g_con.lockup" >&2
		grep -m 4 'soft lockup\|rcu_preempt self-detected' "$g_con" | sed 's/^/  first run, console: /' >&2
		mv -f "$g_con" "$g_con.lockup" 2>/dev/null
		guest_note="$guest_note; run twice (the guest kernel soft-locked in the first)"
		: > "$g_res"
		guest_once "$g_limit" "$g_wait" "$g_res" "$g_log" "$@"
	fi
	set -e
}
