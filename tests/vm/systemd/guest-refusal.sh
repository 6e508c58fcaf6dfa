#!/bin/sh
# tests/vm/systemd/guest-refusal.sh - sourced by guest-test.sh while the
# packaged overcommitd runs under its hardened unit: the commit refusal
# capture (issue 14) loads there (CAP_BPF and CAP_PERFMON at start-up, bpf
# in the syscall filter) and records a refusal.  vm.overcommit_memory stays
# as booted (0): a private writable mmap larger than RAM + swap is refused
# by the same commit check (__vm_enough_memory) in every mode.
# Uses guest-test.sh's helpers (check, info, fail, wait_for, oneline).
# shellcheck shell=sh
rf_active() { journalctl -q -o cat -u overcommitd.service | grep -q 'commit refusal capture: active'; }
if ! wait_for 10 rf_active; then
	fail refusal-capture "not active under the unit: $(journalctl -q -o cat -u overcommitd.service | grep -m 2 'commit refusal capture' | oneline)"
else
	rf_gib=$(( $(sed -n 's/^MemTotal:[[:space:]]*\([0-9]*\).*/\1/p' /proc/meminfo) / 1048576 * 4 + 4 ))
	# Python (there for Ansible) asks for 4 x RAM of private memory, once
	python3 -c "import mmap, os, sys
print(os.getpid(), flush=True)
try:
    mmap.mmap(-1, $rf_gib << 30, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
except OSError as e:
    sys.exit(0 if e.errno == 12 else 1)
sys.exit(2)" > "$OUT/rf.pid" 2>&1
	rf_rc=$? rf_pid=$(head -n 1 "$OUT/rf.pid")
	rf_logged() { journalctl -q -o cat -u overcommitd.service | grep -q "mmap of python3 (pid $rf_pid) refused"; }
	if [ "$rf_rc" != 0 ]; then
		fail refusal-capture "python3 mmap of $rf_gib GiB: exit $rf_rc (want ENOMEM): $(oneline < "$OUT/rf.pid")"
	elif wait_for 15 rf_logged; then
		info refusal-capture "$(journalctl -q -o cat -u overcommitd.service | grep -m 1 "mmap of python3 (pid $rf_pid) refused")"
		info refusal-capture "$(overcommitd status 2>/dev/null | grep -A 2 '^commit refusals' | oneline)"
		check refusal-capture "refusals.json has no record of pid $rf_pid" \
			grep -q "\"tgid\":$rf_pid," /var/lib/overcommitd/refusals.json
	else
		fail refusal-capture "no log line for the refused mmap of pid $rf_pid in 15 s: $(journalctl -q -o cat -u overcommitd.service | grep -i refus | tail -n 3 | oneline)"
	fi
fi
