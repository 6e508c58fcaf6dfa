# fault-injection (issue 13, "tests a trusted daemon has" #3): SIGKILL,
# ENOSPC and EROFS at the write-class system calls of `apply`, `restore` and
# the daemon, on a real kernel; after each injected run one plain `restore`
# must bring every /proc/sys/vm file, every writable cgroup file (and the
# set of groups) and the oom_score_adj and cgroup of every long-lived
# process back to the snapshot taken before anything ran, and exit 0.
#
# The injector is /oc/bin/sysfault (tests/helpers/sysfault.c): a seccomp
# filter stops only at the write-class calls (FI_CALLS; open/openat only
# with a write/create/truncate flag, close only of a descriptor open for
# writing), numbered 1..N in the order the process makes them, and the
# chosen one is killed (the call never runs) or made to fail.
#   FI_LEVEL=full  every call number x every fault for apply and restore;
#                  every call number of the daemon's run once, the fault
#                  rotating (k mod 3) (bench/faults.sh)
#   FI_LEVEL=ci    FI_CI_PICKS call numbers per command and fault, spread
#                  over 1..N (each fault at different ones), and one daemon
#                  run per fault
# A daemon run is not deterministic (timers, event order): a call number
# past its end is counted, not failed.  Then the privilege-separated reader
# is killed under a running daemon: it must exit 1 at once.
# vm-timeout: 420

FI_LEVEL=ci
FI_CI_PICKS=2
FI_CALLS=write,pwrite64,writev,openat,open,creat,close,rename,renameat,renameat2,mkdir,mkdirat,rmdir,unlink,unlinkat,ftruncate,fsync,fdatasync,fchmod,flock
FI_FAULTS="KILL ENOSPC EROFS"

need_oc
[ -x /oc/bin/sysfault ] || fail "no sysfault helper in the guest (make build/tests/helpers/sysfault)"
start_forker 32 ocfault || fail "service forker: $FK_ERR"
SVC=$FK_PID
start_forker 8 ocbystander || fail "bystander forker: $FK_ERR"
BYST=$FK_PID
FI_PIDS="1 2 $$ $SVC $BYST"
policy 50-fault.ini <<'POL'
[host]
overcommit = strict
user_reserve = 32M
admin_reserve = 16M
enforce = yes
interval = 1
restore_on_exit = yes

[service fault]
match_comm = ocfault
oom_score_adj = -400
memory_high = 512M
cgroup = overcommitd/fault
POL
A="$OC --policy-dir $POL --state-dir $OCSTATE"

# fi_snap FILE: every readable, writable cgroup file (but the process
# lists and PSI triggers), every /proc/sys/vm file, and oom_score_adj and
# cgroup of the long-lived processes, "path: value" one a line
fi_snap() {
	find /sys/fs/cgroup -type f -perm -u+r -perm -u+w ! -name cgroup.procs \
		! -name cgroup.threads ! -name '*.pressure' > /tmp/fi.files
	find /proc/sys/vm -type f -perm -u+r >> /tmp/fi.files
	for p in $FI_PIDS; do echo "/proc/$p/oom_score_adj /proc/$p/cgroup"; done >> /tmp/fi.files
	# shellcheck disable=SC2046 # one path a word
	awk '{print FILENAME ": " $0}' $(cat /tmp/fi.files) > "$1"
}
fi_snap /tmp/fi.boot
log "boot snapshot: $(wc -l < /tmp/fi.boot) values in $(wc -l < /tmp/fi.files) files"

# fi_back WHAT: a plain restore, then the snapshot must equal the boot one
FI_RUNS=0
fi_back() {
	$A restore > /tmp/fi.rest 2>&1
	_rc=$?
	[ "$_rc" = 0 ] || fail "$1: the plain restore after it exit $_rc: $(head -c 400 /tmp/fi.rest)"
	fi_snap /tmp/fi.now
	cmp -s /tmp/fi.boot /tmp/fi.now ||
		fail "$1: not back to the originals after restore: $(diff /tmp/fi.boot /tmp/fi.now | grep '^[-+]/' | head -n 6 | tr '\n' ';')"
	[ -z "$(ls "$OCSTATE" 2>/dev/null | grep tmp)" ] || fail "$1: a temp file stayed: $(ls "$OCSTATE")"
	FI_RUNS=$((FI_RUNS + 1))
}

# fi_count CMD: the number of write-class calls of one plain run (FI_N)
fi_count() {
	[ "$1" != restore ] || $A apply > /dev/null 2>&1 || fail "apply before counting restore"
	sysfault -c -w "$FI_CALLS" $A "$1" > /dev/null 2> /tmp/fi.cnt
	FI_N=$(sed -n 's/^sysfault: count total //p' /tmp/fi.cnt)
	[ "${FI_N:-0}" -gt 0 ] || fail "counting $1's calls: $(tail -n 3 /tmp/fi.cnt)"
	info "$1: $FI_N write-class calls ($(grep -v ' 0$' /tmp/fi.cnt | sed -n 's/^sysfault: count \([a-z0-9]*\) \([0-9]*\)$/\1 \2/p' | grep -v total | tr '\n' ',' | sed 's/,$//'))"
	fi_back "plain $1"
}

# fi_one CMD K FAULT: CMD with FAULT at its K-th write-class call, then back
fi_one() {
	[ "$1" != restore ] || $A apply > /dev/null 2>&1 || fail "apply before an injected restore"
	sysfault -w "$FI_CALLS" "$2" "$3" $A "$1" > /tmp/fi.out 2> /tmp/fi.err
	_rc=$?
	_at=$(sed -n 's/^sysfault: fired call #[0-9]* (\(.*\)) in pid.*/\1/p' /tmp/fi.err)
	[ -n "$_at" ] || fail "$1: call #$2 was never reached ($(grep sysfault /tmp/fi.err))"
	log "$1, $3 at #$2 ($_at): exit $_rc; $(grep -v sysfault /tmp/fi.err | head -n 2 | tr '\n' ' ' | cut -c1-200)"
	fi_back "$1 with $3 at call #$2 ($_at, exit $_rc)"
}

# fi_picks N F: the call numbers to try for the F-th fault (0..2)
fi_picks() {
	if [ "$FI_LEVEL" = full ]; then
		seq 1 "$1"
	else
		awk -v n="$1" -v f="$2" -v p="$FI_CI_PICKS" 'BEGIN {
			for (i = 0; i < p; i++) { k = int((i + (f + 1) / 4) * n / p) + 1; if (k > n) k = n; print k } }' |
			uniq
	fi
}

read -r t0 _ < /proc/uptime
for cmd in apply restore; do
	fi_count "$cmd"
	n=$FI_N
	f=0
	for fault in $FI_FAULTS; do
		for k in $(fi_picks "$n" "$f"); do fi_one "$cmd" "$k" "$fault"; done
		f=$((f + 1))
	done
done
read -r t1 _ < /proc/uptime
info "apply and restore: $FI_RUNS runs, every one back to the $(wc -l < /tmp/fi.boot) boot values ($(awk "BEGIN{print $t1 - $t0}") s)"

# --- the daemon's writes: start-up pass, a second matched process (oom,
# group, journal.pids line), its exit (drop line), SIGTERM with
# restore_on_exit.  fi_daemon SYSFAULT-ARGS...: one such run under sysfault.
fi_daemon() {
	rm -f /tmp/fi.f2.ready
	sysfault "$@" $OC run -v --policy-dir "$POL" --state-dir "$OCSTATE" > /tmp/fi.dlog 2>&1 &
	_sf=$!
	_n=300
	until grep -q 'running: ' /tmp/fi.dlog || ! kill -0 "$_sf" 2>/dev/null; do
		[ "$_n" -gt 0 ] || fail "daemon under sysfault $*: neither running nor gone after 30 s"
		_n=$((_n - 1))
		nap 0.1
	done
	forker -n ocfault -r /tmp/fi.f2.ready -o /tmp/fi.f2.out hold > /dev/null 2>&1 &
	_f2=$!
	wait_file /tmp/fi.f2.ready 10 || fail "second ocfault forker not ready"
	nap 1.5
	kill -TERM "$_f2"
	wait "$_f2"
	nap 1.5
	kill -TERM "$_sf" 2>/dev/null
	_n=300
	while kill -0 "$_sf" 2>/dev/null; do
		[ "$_n" -gt 0 ] || { kill -9 "$_sf"; fail "daemon under sysfault $*: no exit 30 s after SIGTERM"; }
		_n=$((_n - 1))
		nap 0.1
	done
	wait "$_sf"
	FI_DRC=$?
}
read -r t0 _ < /proc/uptime
fi_daemon -c -w "$FI_CALLS"
grep -q 'running: ' /tmp/fi.dlog || { sed 's/^/  dlog| /' /tmp/fi.dlog; fail "the plain daemon run did not start: $(grep -v '^sysfault' /tmp/fi.dlog | tail -n 4 | tr '\n' ';')"; }
n=$(sed -n 's/^sysfault: count total //p' /tmp/fi.dlog)
[ "${n:-0}" -gt 0 ] || fail "counting the daemon's calls: $(grep sysfault /tmp/fi.dlog | tail -n 3)"
info "daemon: $n write-class calls ($(sed -n 's/^sysfault: count \([a-z0-9]*\) \([1-9][0-9]*\)$/\1 \2/p' /tmp/fi.dlog | grep -v total | tr '\n' ',' | sed 's/,$//'))"
fi_back "plain daemon run"
runs0=$FI_RUNS FI_MISSED=0
# full: every call number once, the fault rotating (k mod 3); ci: one call
# number per fault
if [ "$FI_LEVEL" = full ]; then
	plan=$(seq 1 "$n" | awk -v f="$FI_FAULTS" '{ split(f, a, " "); print $1 ":" a[$1 % 3 + 1] }')
else
	plan=$(f=0; for fault in $FI_FAULTS; do echo "$(fi_picks "$n" "$f" | head -n 1):$fault"; f=$((f + 1)); done)
fi
for kf in $plan; do
	k=${kf%%:*} fault=${kf#*:}
	{
		fi_daemon -w "$FI_CALLS" "$k" "$fault"
		at=$(sed -n 's/^sysfault: fired call #[0-9]* (\(.*\)) in pid.*/\1/p' /tmp/fi.dlog)
		# a daemon run varies (timers, event order): past the end is not a failure
		[ -n "$at" ] || { log "daemon, $fault at #$k: not reached: $(grep -v '^sysfault: count' /tmp/fi.dlog | tail -n 3 | tr '\n' ';')"; FI_MISSED=$((FI_MISSED + 1)); continue; }
		log "daemon, $fault at #$k ($at): exit $FI_DRC; $(grep -E 'overcommitd: .*(error|space|Read-only)' /tmp/fi.dlog | head -n 2 | tr '\n' ' ' | cut -c1-200)"
		fi_back "daemon with $fault at call #$k ($at, exit $FI_DRC)"
	}
done
read -r t1 _ < /proc/uptime
info "daemon: $((FI_RUNS - runs0)) injected runs ($FI_MISSED call numbers not reached in their run), every one back to the boot values ($(awk "BEGIN{print $t1 - $t0}") s)"

# --- the privilege-separated reader dies: the daemon exits 1 at once (it
# polls the reader's socket for a hang-up), whether or not it was asking
ocd_start
rd=$(sed -n 's/.*\/proc reader pid \([0-9]*\),.*/\1/p' "$OCD_LOG" | head -n 1)
[ -n "$rd" ] && kill -0 "$rd" 2>/dev/null || fail "no /proc reader pid in the daemon log: $(grep privilege "$OCD_LOG")"
read -r k0 _ < /proc/uptime
kill -9 "$rd"
_n=100
while kill -0 "$OCD_PID" 2>/dev/null; do
	[ "$_n" -gt 0 ] || fail "the daemon still runs 10 s after its reader $rd was killed"
	_n=$((_n - 1))
	nap 0.05
done
read -r k1 _ < /proc/uptime
wait "$OCD_PID"
drc=$?
[ "$drc" = 1 ] || fail "the daemon exit $drc after its reader died (want 1, to be restarted)"
grep -q 'the /proc reader is gone; exiting' "$OCD_LOG" || fail "no 'reader is gone' line: $(tail -n 3 "$OCD_LOG" | tr '\n' ';')"
how=$(grep -c 'the /proc reader closed its socket' "$OCD_LOG")
info "reader $rd killed: the daemon exited 1 after $(awk "BEGIN{print $k1 - $k0}") s ($([ "$how" = 1 ] && echo 'its hang-up seen by poll' || echo 'a request to it failed first'))"
fi_back "the daemon after its reader died"
pass
