# fault-injection (issue 13, "tests a trusted daemon has" #3): SIGKILL,
# ENOSPC and EROFS at the write-class system calls of `apply`, `restore` and
# the daemon, on a real kernel; after each injected run one plain `restore`
# must bring every /proc/sys/vm file, every writable cgroup file (and the
# set of groups), the cgroup2 mount's options (the policy asks for
# cgroup_favordynmods) and the oom_score_adj and cgroup of every long-lived
# process back to the snapshot taken before anything ran, and exit 0.
#
# The injector is /oc/bin/sysfault (tests/helpers/sysfault.c): a seccomp
# filter stops only at the write-class calls (FI_CALLS; open/openat only
# with a write/create/truncate flag, close only of a descriptor open for
# writing), numbered 1..N in the order the process makes them, and the
# chosen one is killed (the call never runs) or made to fail (a close
# runs, then fails).
#   FI_LEVEL=full  every call number x every fault for apply, restore and
#                  the daemon's scripted run (10% more numbers than its
#                  plain run made), this guest's share of them (FI_SHARD);
#                  a bad run is reported (BAD) and the guest reset by hand
#                  (bench/faults.sh)
#   FI_LEVEL=ci    FI_CI_PICKS call numbers per command and fault, spread
#                  over 1..N (each fault at different ones), and
#                  FI_CI_DAEMON_PICKS daemon runs per fault; the first bad
#                  run fails the scenario
# A daemon run is not deterministic (timers, event order): a call number
# past its end is counted, not failed.  Then (ci) the privilege-separated
# reader is killed under a running daemon: it must exit 1 at once.
# vm-timeout: 420

FI_LEVEL=ci
FI_CI_PICKS=4
FI_CI_DAEMON_PICKS=2
FI_CMDS="apply restore daemon"
FI_SHARD=0/1
FI_BPF=yes
FI_KORDER=asc
FI_KFROM=    # full: the first call number (asc: 1, desc: N)
FI_KS=       # full: only these call numbers ("47-105 155-238 264-"), all if empty
FI_WAIT=30   # seconds a daemon step may take (a starved guest: more)
FI_CHILD_MS=1000  # the episode child's life; full: 3000, so that the daemon
                  # places it in its leaf group in every run (call K is then
                  # the same call in every run; 1000: in some runs only)
FI_PAST=10   # full: % more call numbers than the plain run made (its end shown)
FI_PLAIN=1   # plain (counting) daemon runs; more: their call lists compared
FI_CALLS=write,pwrite64,writev,openat,open,creat,close,rename,renameat,renameat2,mkdir,mkdirat,rmdir,unlink,unlinkat,ftruncate,fsync,fdatasync,fchmod,flock,fsconfig
FI_FAULTS="KILL ENOSPC EROFS"

need_oc
# FI_BPF=no (the full level): a tmpfs over /sys/kernel/btf, so the daemon
# runs without its commit refusal capture, whose BPF load is ~10 s of each
# start-up under TCG; it is no write-class call (the counts show it)
[ "$FI_BPF" = yes ] || mount -t tmpfs fi-nobtf /sys/kernel/btf || fail "cannot hide /sys/kernel/btf"
[ -x /oc/bin/sysfault ] || fail "no sysfault helper in the guest (make build/tests/helpers/sysfault)"
start_forker 32 ocfault -L "$FI_CHILD_MS" || fail "service forker: $FK_ERR"
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
cgroup_favordynmods = yes

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
	echo "/sys/fs/cgroup (cgroup2 super options): $(sed -n 's|^.* /sys/fs/cgroup .* - cgroup2 [^ ]* ||p' /proc/self/mountinfo)" >> "$1"
}
fi_snap /tmp/fi.boot
log "boot snapshot: $(wc -l < /tmp/fi.boot) values in $(wc -l < /tmp/fi.files) files"

# fi_reset WHAT: (full level: keep going after a failure) the guest put
# back to the boot snapshot by hand (processes into their groups, groups
# overcommitd made removed, every value written back, the state thrown
# away); fail if even that does not bring it back
fi_reset() {
	for p in $FI_PIDS; do
		sed -n "s|^/proc/$p/cgroup: 0::\(.*\)|\1|p" /tmp/fi.boot > /tmp/fi.cg
		read -r cg < /tmp/fi.cg && echo "$p" > "/sys/fs/cgroup${cg%/}/cgroup.procs" 2>/dev/null
	done
	find /sys/fs/cgroup -mindepth 1 -type d | sort -r | while read -r d; do
		grep -q "^$d/[^/]*: " /tmp/fi.boot && continue
		while read -r p; do echo "$p" > /sys/fs/cgroup/cgroup.procs; done < "$d/cgroup.procs"
		rmdir "$d"
	done
	fi_snap /tmp/fi.now
	diff /tmp/fi.boot /tmp/fi.now | sed -n 's/^-\(\/[^:]*\): \(.*\)/\1 \2/p' |
		while read -r f v; do echo "$v" > "$f"; done 2>/dev/null
	mount -o remount /sys/fs/cgroup # the boot's options: none
	rm -rf "$OCSTATE"
	fi_snap /tmp/fi.now
	cmp -s /tmp/fi.boot /tmp/fi.now ||
		fail "$1, then a reset by hand: still not the boot values: $(diff /tmp/fi.boot /tmp/fi.now | grep '^[-+]/' | head -n 6 | tr '\n' ';')"
}

# fi_bad WHAT: a failed check; ci: the scenario fails; full: remembered
# (FI_BAD), the guest reset by hand, the next run goes on
FI_BAD=0 FI_MISSED=0
fi_bad() {
	[ "$FI_LEVEL" = full ] || fail "$1"
	FI_BAD=$((FI_BAD + 1))
	log "BAD $1"
	echo "BAD $1" >> /tmp/fi.bad
	fi_reset "$1"
}

# fi_back WHAT: a plain restore, then the snapshot must equal the boot one
FI_RUNS=0
fi_back() {
	FI_RUNS=$((FI_RUNS + 1))
	$A restore > /tmp/fi.rest 2>&1
	_rc=$?
	[ "$_rc" = 0 ] || { fi_bad "$1: the plain restore after it exit $_rc: $(head -c 400 /tmp/fi.rest | tr '\n' ' ')"; return; }
	fi_snap /tmp/fi.now
	cmp -s /tmp/fi.boot /tmp/fi.now ||
		{ fi_bad "$1: not back to the originals after restore: $(diff /tmp/fi.boot /tmp/fi.now | grep '^[-+]/' | head -n 6 | tr '\n' ';')"; return; }
	[ -z "$(ls "$OCSTATE" 2>/dev/null | grep tmp)" ] || fi_bad "$1: a temp file stayed: $(ls "$OCSTATE")"
}

# fi_count CMD: the number of write-class calls of one plain run (FI_N)
fi_count() {
	[ "$1" != restore ] || $A apply > /dev/null 2>&1 || fail "apply before counting restore"
	sysfault -c -w "$FI_CALLS" $A "$1" > /dev/null 2> /tmp/fi.cnt
	FI_N=$(sed -n 's/^sysfault: count total //p' /tmp/fi.cnt)
	[ "${FI_N:-0}" -gt 0 ] || fail "counting $1's calls: $(tail -n 3 /tmp/fi.cnt)"
	info "$1: $FI_N write-class calls ($(grep -v ' 0$' /tmp/fi.cnt | sed -n 's/^sysfault: count \([a-z0-9]*\) \([0-9]*\)$/\1 \2/p' | grep -v total | tr '\n' ',' | sed 's/,$//'); $(sed -n 's/^sysfault: stops //p' /tmp/fi.cnt) stops)"
	fi_back "plain $1"
}

# fi_one CMD K FAULT: CMD with FAULT at its K-th write-class call, then back
fi_one() {
	if [ "$1" = restore ] && ! $A apply > /tmp/fi.app 2>&1; then
		fi_bad "apply before restore with $3 at #$2: $(grep -v '^overcommitd: .* -> ' /tmp/fi.app | head -c 300 | tr '\n' ' ')"
		return
	fi
	sysfault -w "$FI_CALLS" "$2" "$3" $A "$1" > /tmp/fi.out 2> /tmp/fi.err
	_rc=$?
	_at=$(sed -n 's/^sysfault: fired call #[0-9]* (\(.*\)) in pid [0-9]*: [A-Z]* *\(.*\)/\1 \2/p' /tmp/fi.err)
	if [ -z "$_at" ]; then
		# full: a run may make one call fewer than the counted one (a timed
		# cgroup write's worker thread still closing when the process exits)
		[ "$FI_LEVEL" = full ] || fail "$1: call #$2 was never reached ($(grep sysfault /tmp/fi.err))"
		log "$1, $3 at #$2: not reached ($(grep sysfault /tmp/fi.err)); exit $_rc"
		FI_MISSED=$((FI_MISSED + 1))
		fi_back "$1, $3 at #$2 (not reached)"
		return
	fi
	log "$1, $3 at #$2 ($_at): exit $_rc; $(grep -v sysfault /tmp/fi.err | head -n 2 | tr '\n' ' ' | cut -c1-200)"
	fi_back "$1 with $3 at call #$2 ($_at, exit $_rc)"
}

# fi_plan N [PICKS]: the runs, "K:FAULT" one a line.  full: every call
# number of this guest's share (FI_SHARD=J/JOBS: K mod JOBS = J; FI_KS: of
# those ranges only) x every
# fault, K outermost (a level cut short has covered a prefix; FI_KORDER=desc:
# a suffix, N first); ci:
# PICKS (default FI_CI_PICKS) numbers per fault spread over 1..N, each
# fault at others
fi_plan() {
	if [ "$FI_LEVEL" = full ]; then
		if [ "$FI_KORDER" = desc ]; then seq "${FI_KFROM:-$1}" -1 1; else seq "${FI_KFROM:-1}" "$1"; fi | awk -v s="$FI_SHARD" -v f="$FI_FAULTS" -v ks="$FI_KS" 'BEGIN { split(s, a, "/"); nf = split(f, fl, " "); nk = split(ks, kr, " ") }
			function wanted(k,  i, r) {
				for (i = 1; i <= nk; i++) {
					split(kr[i] "-", r, "-")
					if (k >= r[1] + 0 && (r[2] == "" || k <= r[2] + 0)) return 1
				}
				return nk == 0
			}
			$1 % a[2] == a[1] && wanted($1) { for (i = 1; i <= nf; i++) print $1 ":" fl[i] }'
	else
		awk -v n="$1" -v f="$FI_FAULTS" -v p="${2:-$FI_CI_PICKS}" 'BEGIN {
			nf = split(f, fl, " ")
			for (j = 0; j < nf; j++) {
				last = 0
				for (i = 0; i < p; i++) {
					k = int((i + (j + 1) / 4) * n / p) + 1; if (k > n) k = n
					if (k != last) print k ":" fl[j + 1]
					last = k
				}
			} }'
	fi
}

# fi_sum CMD T0 RUNS0 [EXTRA]: the command's runs, failures and seconds
fi_sum() {
	read -r _t1 _ < /proc/uptime
	info "$1: $((FI_RUNS - $3)) runs ($((FI_BAD - ${5:-0})) not back to the originals${4:+; $4}) in $(awk "BEGIN{print $_t1 - $2}") s, shard ${FI_SHARD:-0/1}"
}

for cmd in apply restore; do
	case " $FI_CMDS " in *" $cmd "*) ;; *) continue ;; esac
	read -r t0 _ < /proc/uptime
	runs0=$FI_RUNS bad0=$FI_BAD
	fi_count "$cmd"
	for kf in $(fi_plan "$FI_N"); do fi_one "$cmd" "${kf%%:*}" "${kf#*:}"; done
	fi_sum "$cmd" "$t0" "$runs0" "" "$bad0"
done

# --- the daemon's writes over one scripted run: start-up (the first pass
# enforces on the service: sysctls, oom_score_adj, group, journal), a fork
# episode of the service's main (its child into a leaf group, learned.json),
# SIGHUP (reload and a pass), SIGTERM with restore_on_exit.  Each step
# waits for the daemon's log line that ends it (not a fixed sleep),
# bounded, and is skipped once the daemon is gone (a SIGKILL at call K).
# fi_dwait PATTERN TENTHS: until the daemon log has PATTERN; 1 when the
# daemon is gone or TENTHS x 0.1 s passed
fi_dwait() {
	_n=$2
	until grep -q "$1" /tmp/fi.dlog; do
		kill -0 "$_sf" 2>/dev/null && [ "$_n" -gt 0 ] || return 1
		_n=$((_n - 1))
		nap 0.1
	done
}
# fi_daemon SYSFAULT-ARGS...: one such run under sysfault, its output in
# /tmp/fi.dlog (and in /tmp/fi.dlogt each line stamped with the uptime)
fi_daemon() {
	rm -f /tmp/fk.ocfault.result /tmp/fi.dfifo
	: > /tmp/fi.dlog
	mkfifo /tmp/fi.dfifo
	while IFS= read -r _l; do
		read -r _up _ < /proc/uptime
		echo "$_l"
		echo "$_up $_l" >&7
	done < /tmp/fi.dfifo > /tmp/fi.dlog 7> /tmp/fi.dlogt &
	_st=$!
	sysfault "$@" $OC run --policy-dir "$POL" --state-dir "$OCSTATE" > /tmp/fi.dfifo 2>&1 &
	_sf=$!
	if fi_dwait 'running: ' 300; then
		kill -USR1 "$SVC"
		wait_file /tmp/fk.ocfault.result "$FI_WAIT" || fail "the service's fork (SIGUSR1) gave no result"
		fi_dwait 'fork episode of' 30
	fi
	kill -HUP "$_sf" 2>/dev/null && fi_dwait 'reload: ' 50
	kill -TERM "$_sf" 2>/dev/null
	_n=$((FI_WAIT * 10))
	while kill -0 "$_sf" 2>/dev/null; do
		[ "$_n" -gt 0 ] || { kill -9 "$_sf"; fi_bad "daemon under sysfault $*: no exit $FI_WAIT s after SIGTERM: $(tail -n 4 /tmp/fi.dlog | tr '\n' ';' | cut -c1-300)"; break; }
		_n=$((_n - 1))
		nap 0.1
	done
	wait "$_sf"
	FI_DRC=$?
	wait "$_st"
}
# fi_dplain: the plain daemon run in /tmp/fi.dlog has every step; its
# count in fi_n, its counts per name and its log (stamped) on the console
fi_dplain() {
	grep -q 'running: ' /tmp/fi.dlog || { sed 's/^/  dlog| /' /tmp/fi.dlog; fail "the plain daemon run did not start: $(grep -v '^sysfault' /tmp/fi.dlog | tail -n 4 | tr '\n' ';')"; }
	for step in 'fork episode of' 'reload: policy loaded' 'restore_on_exit: '; do
		grep -q "$step" /tmp/fi.dlog || { sed 's/^/  dlog| /' /tmp/fi.dlog; fail "the plain daemon run has no '$step' line"; }
	done
	fi_n=$(sed -n 's/^sysfault: count total //p' /tmp/fi.dlog)
	[ "${fi_n:-0}" -gt 0 ] || fail "counting the daemon's calls: $(grep sysfault /tmp/fi.dlog | tail -n 3)"
	info "daemon: $fi_n write-class calls ($(sed -n 's/^sysfault: count \([a-z0-9]*\) \([1-9][0-9]*\)$/\1 \2/p' /tmp/fi.dlog | grep -v total | tr '\n' ',' | sed 's/,$//'); $(sed -n 's/^sysfault: stops //p' /tmp/fi.dlog) stops)"
	sed 's/^/  dlog| /' /tmp/fi.dlogt
	# one save of learned.json for the episode: its child, learned as a
	# worker too, goes into that save (a second one, 5 s later or at exit,
	# made the run's calls from #230 on follow the timing)
	_ls=$(grep -c '^sysfault: call #[0-9]* renameat learned\.json' /tmp/fi.dlog)
	[ "$_ls" = 1 ] || fail "the plain daemon run saved learned.json $_ls times (want 1: the episode's)"
}
# fi_dsame K: (full) an injected run whose call #K is not the plain run's
# #K: where its calls left the plain run's list, logged ("SHIFT")
fi_dsame() {
	[ "$FI_LEVEL" = full ] || return 0
	sed -n 's/^sysfault: call #[0-9]* //p' /tmp/fi.dlog | sed 's/[0-9][0-9]*/N/g' > /tmp/fi.calls.all
	head -n "$1" /tmp/fi.calls.all > /tmp/fi.calls.now
	[ "$(sed -n "$1p" "$ref")" != "$(sed -n "$1p" /tmp/fi.calls.now)" ] || return 0
	_d=$(head -n "$1" "$ref" | cmp - /tmp/fi.calls.now 2>&1 | sed -n 's/.* line \([0-9]*\).*/\1/p')
	log "SHIFT daemon at #$1: its calls left the plain run's at #${_d:-?} ($(wc -l < /tmp/fi.calls.all) calls; $(grep -c mkdir /tmp/fi.calls.all) mkdir): plain '$(sed -n "${_d:-1}p" "$ref")', this '$(sed -n "${_d:-1}p" /tmp/fi.calls.all)'"
}
# fi_self WHAT: a daemon that said its restore_on_exit failed nothing must
# have brought the host back by itself (before the plain restore); if not,
# "SELF" is logged and counted (FI_SELF), not failed: the plain restore
# after it is the test
FI_SELF=0
fi_self() {
	_l=$(grep 'restore_on_exit: ' /tmp/fi.dlog | tail -n 1)
	case $_l in *", failed 0") ;; *) return ;; esac
	fi_snap /tmp/fi.self
	cmp -s /tmp/fi.boot /tmp/fi.self && return
	FI_SELF=$((FI_SELF + 1))
	log "SELF $1: '${_l#*overcommitd: }' yet not back: $(diff /tmp/fi.boot /tmp/fi.self | grep '^[-+]/' | head -n 6 | tr '\n' ';')"
}
if case " $FI_CMDS " in *" daemon "*) true ;; *) false ;; esac; then
	read -r t0 _ < /proc/uptime
	runs0=$FI_RUNS bad0=$FI_BAD
	# the plain run(s); FI_PLAIN > 1: their call lists (pids and temp-file
	# suffixes as N) compared with the second one's (the first creates the
	# state directory: one mkdirat more), the largest count used
	n=0 counts= same=0 i=1 ref=/tmp/fi.calls.$((FI_PLAIN > 1 ? 2 : 1))
	while [ "$i" -le "$FI_PLAIN" ]; do
		fi_daemon -c -w -l "$FI_CALLS"
		fi_dplain
		[ "$i" = "$FI_PLAIN" ] || fi_back "plain daemon run $i"
		sed -n 's/^sysfault: call #[0-9]* //p' /tmp/fi.dlog | sed 's/[0-9][0-9]*/N/g' > "/tmp/fi.calls.$i"
		if [ "$i" = 1 ] && [ "$FI_PLAIN" -gt 1 ]; then :
		elif cmp -s "$ref" "/tmp/fi.calls.$i"; then same=$((same + 1)); else
			info "plain run $i differs from run ${ref##*.} at call #$(cmp "$ref" "/tmp/fi.calls.$i" 2>&1 | sed -n 's/.* line \([0-9]*\).*/\1/p'): $(diff "$ref" "/tmp/fi.calls.$i" | grep '^[-+][a-z]' | head -n 4 | tr '\n' ';')"
		fi
		counts="$counts${counts:+ }$fi_n"
		[ "$fi_n" -le "$n" ] || n=$fi_n
		i=$((i + 1))
	done
	[ "$FI_PLAIN" = 1 ] || info "daemon: $FI_PLAIN plain runs (child life $FI_CHILD_MS ms): $counts write-class calls; $same of runs 2-$FI_PLAIN with run 2's call list"
	fi_back "plain daemon run"
	FI_MISSED=0
	# a daemon run may vary (a 1 s child missing its leaf group, the reader
	# thread's wake-up write racing the main thread's calls): the full level
	# tries FI_PAST % more numbers than the plain run made; past a run's end
	# is counted
	[ "$FI_LEVEL" != full ] || n=$((n + n * FI_PAST / 100 + 1))
	for kf in $(fi_plan "$n" "$FI_CI_DAEMON_PICKS"); do
		k=${kf%%:*} fault=${kf#*:}
		{
			fi_daemon -w $([ "$FI_LEVEL" = ci ] || echo -l) "$FI_CALLS" "$k" "$fault"
			fi_dsame "$k"
			at=$(sed -n 's/^sysfault: fired call #[0-9]* (\(.*\)) in pid [0-9]*: [A-Z]* *\(.*\)/\1 \2/p' /tmp/fi.dlog)
			[ -n "$at" ] || { log "daemon, $fault at #$k: not reached: $(grep -v '^sysfault: count' /tmp/fi.dlog | tail -n 3 | tr '\n' ';')"; FI_MISSED=$((FI_MISSED + 1)); fi_back "daemon, $fault at #$k (not reached)"; continue; }
			log "daemon, $fault at #$k ($at): exit $FI_DRC; $(grep -E 'No space left|Read-only file system|error' /tmp/fi.dlog | head -n 2 | tr '\n' ' ' | cut -c1-200)"
			fi_self "daemon with $fault at call #$k ($at, exit $FI_DRC)"
			fi_back "daemon with $fault at call #$k ($at, exit $FI_DRC)"
		}
	done
	fi_sum daemon "$t0" "$runs0" "$FI_MISSED call numbers past their run's end; $FI_SELF not back by their own restore_on_exit" "$bad0"
fi
[ "$FI_BAD" = 0 ] || fail "$FI_BAD runs not back to the originals: $(head -n 3 /tmp/fi.bad | tr '\n' ';')"
[ "$FI_LEVEL" != full ] || pass

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
