# lib.sh - helpers for the VM scenarios (busybox sh, sourced by /init before
# each scenario; OC_TEST is the scenario's name, OC_RESULT its result file).
#
# A scenario ends with exactly one of
#   pass            -> "PASS name"
#   fail REASON     -> "FAIL name: REASON"   (exits the scenario)
# and may report "INFO name: ..." lines with info (run.sh prints them).
# On exit every background process it started (bg) is killed and the vm
# sysctls go back to their boot values, using shell builtins only (under
# strict overcommit a fork may fail; the cleanup must not need one).

OC=/usr/sbin/overcommitd
OCSTATE=/tmp/ocstate
POL=/tmp/ocpol
OUT=/tmp/oc.out
ERR=/tmp/oc.err
OC_BG_PIDS=
VM_KNOBS="overcommit_memory overcommit_ratio overcommit_kbytes user_reserve_kbytes admin_reserve_kbytes"

log() { echo "[$OC_TEST] $*"; }
info() {
	echo "INFO $OC_TEST: $*" >> "$OC_RESULT"
	log "INFO $*"
}
pass() {
	echo "PASS $OC_TEST" >> "$OC_RESULT"
	log "PASS"
	exit 0
}
fail() {
	echo "FAIL $OC_TEST: $*" >> "$OC_RESULT"
	log "FAIL: $*"
	[ -z "${OCD_PID:-}" ] || ocd_dump 400
	exit 1
}

# --- cleanup (builtins only) ------------------------------------------------
oc_cleanup() {
	for p in $OC_BG_PIDS; do kill -9 "$p" 2>/dev/null; done
	for k in overcommit_memory overcommit_ratio user_reserve_kbytes admin_reserve_kbytes; do
		if [ -r /run/oc/bootvm/$k ]; then
			read -r v < /run/oc/bootvm/$k && echo "$v" > /proc/sys/vm/$k
		fi
	done
	if [ -r /run/oc/bootvm/overcommit_kbytes ]; then
		read -r v < /run/oc/bootvm/overcommit_kbytes
		[ "$v" = 0 ] || echo "$v" > /proc/sys/vm/overcommit_kbytes
	fi
}
trap oc_cleanup EXIT

# bg CMD...: run in the background, remember the pid (BG_PID) for cleanup
bg() {
	"$@" &
	BG_PID=$!
	OC_BG_PIDS="$OC_BG_PIDS $BG_PID"
}

# --- kernel state -------------------------------------------------------------
# vm KNOB: print /proc/sys/vm/KNOB.  Not with the shell's read builtin: it
# reads one byte per read(), and sysctl int files return EOF at any offset > 0
# (so "50" reads as "5").
vm() { cat "/proc/sys/vm/$1"; }
# vm_set KNOB VALUE: write and read back; fail on mismatch
vm_set() {
	echo "$2" > "/proc/sys/vm/$1" || fail "cannot write vm.$1=$2"
	_v=$(cat "/proc/sys/vm/$1")
	[ "$_v" = "$2" ] || fail "vm.$1 reads $_v after writing $2"
}
# vm_line: all knobs on one line, for logs
vm_line() {
	_l=
	for k in $VM_KNOBS; do _l="$_l $k=$(cat "/proc/sys/vm/$k")"; done
	echo "${_l# }"
}
# mi KEY: /proc/meminfo value in kB (builtins only)
mi() {
	while read -r _k _v _u; do
		if [ "$_k" = "$1:" ]; then echo "$_v"; return 0; fi
	done < /proc/meminfo
	return 1
}
# mi_var KEY: set MI to the meminfo value without a subshell (no fork)
mi_var() {
	MI=
	while read -r _k _v _u; do
		if [ "$_k" = "$1:" ]; then MI=$_v; return 0; fi
	done < /proc/meminfo
	return 1
}
# fork_guard WHAT: builtins only.  Under overcommit_memory=2 fail (clearly)
# when CommitLimit leaves less than 16 MiB over Committed_AS: the shell could
# not fork for the next check ("can't fork" would end the scenario without a
# result line).  overcommit_memory is one digit, so the read builtin gets it.
fork_guard() {
	read -r _m < /proc/sys/vm/overcommit_memory
	[ "$_m" = 2 ] || return 0
	mi_var CommitLimit; _lim=$MI
	mi_var Committed_AS; _com=$MI
	[ $((_lim - _com)) -ge 16384 ] && return 0
	fail "$1: CommitLimit $_lim kB leaves $((_lim - _com)) kB over Committed_AS $_com kB under overcommit_memory=2: the guest can no longer fork"
}
mi_line() {
	echo "MemTotal=$(mi MemTotal) MemFree=$(mi MemFree) SwapTotal=$(mi SwapTotal)" \
		"CommitLimit=$(mi CommitLimit) Committed_AS=$(mi Committed_AS)"
}
# ac_kb PID: the sum of the process's accountable VMAs (VmFlags "ac": private
# writable, what a fork charges again; DESIGN §2), from smaps.  Test side
# only: smaps walks page tables, overcommitd must not read it on a hot path.
ac_kb() {
	awk '/^[0-9a-f]+-[0-9a-f]+ /{sz=0} /^Size:/{sz=$2} /^VmFlags:/{if ($0 ~ / ac( |$)/) s+=sz} END{print s+0}' \
		"/proc/$1/smaps"
}
# fork_kb PID: what dup_mmap charges a fork of PID: VMAs with "ac" and
# without "dc" (MADV_DONTFORK), from smaps (test side)
fork_kb() {
	awk '/^[0-9a-f]+-[0-9a-f]+ /{sz=0} /^Size:/{sz=$2} /^VmFlags:/{if ($0 ~ / ac( |$)/ && $0 !~ / dc( |$)/) s+=sz} END{print s+0}' \
		"/proc/$1/smaps"
}
# judge LABEL SVC EXPECT: overcommitd's verdict for SVC's main process
# (status --format json: fork_verdict) against a real fork() of the forker
# $FK_PID (its comm and its service are both named SVC).  EXPECT (fits|fails) is what the kernel should do at
# this point; a verdict on the wrong side is a hard disagreement, "uncertain"
# is never one (counted in J_UNC: the caller decides whether the point lay
# inside the band).  Sets J_VERDICT, J_KERNEL; counts J_HARD (a wrong fits
# or fails), J_AGREE, J_UNC; appends to $J_TABLE.
J_HARD=0 J_AGREE=0 J_UNC=0 J_TABLE=/tmp/judge.txt
judge() {
	oc --format json status
	[ "$OC_RC" = 0 ] || fail "$1: status exit $OC_RC: $(head -c 200 "$ERR")"
	J_VERDICT=$(j "services/name=$2/fork_verdict")
	_basis=$(j "services/name=$2/fork_charge_basis")
	_need=$(j "services/name=$2/fork_need_kb")
	_head=$(j "services/name=$2/fork_headroom_kb")
	fork_now "$2"
	case $FORK_RES in "fork ok") J_KERNEL=fits ;; "fork ENOMEM") J_KERNEL=fails ;; *) J_KERNEL="$FORK_RES" ;; esac
	if [ "$J_VERDICT" = "$J_KERNEL" ]; then
		J_AGREE=$((J_AGREE + 1)); _v=agree
	elif [ "$J_VERDICT" = uncertain ]; then
		J_UNC=$((J_UNC + 1)); _v="uncertain (inside the band: either is right)"
	else
		J_HARD=$((J_HARD + 1)); _v=DISAGREE
	fi
	[ "$J_KERNEL" = "$3" ] || _v="$_v (kernel did not do the expected $3: point misplaced)"
	echo "$1 | overcommitd: $J_VERDICT need=$_need kB ($_basis) headroom=$_head kB | kernel: $FORK_RES | $_v" >> "$J_TABLE"
	log "$1: overcommitd $J_VERDICT ($_basis, need $_need kB, headroom $_head kB), kernel '$FORK_RES': $_v"
}
# status_kb PID FIELD: a kB field of /proc/PID/status (VmSize, VmData, ...)
status_kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }
# cg_of PID: the process's cgroup v2 path ("/overcommitd/redis")
cg_of() { sed -n 's/^0:://p' "/proc/$1/cgroup"; }

# nap [SECONDS]: sleep without forking (read -t on a fifo nobody writes).
# Polling loops must not fork: a fork that fails under strict overcommit
# charges the parent's VMAs before the check and uncharges them after, and a
# fork of ours in that window fails as well (seen: "can't fork" while waiting
# for forker's failing fork).
mkfifo /tmp/.oc-nap 2>/dev/null
exec 9<> /tmp/.oc-nap
nap() { read -r -t "${1:-0.1}" _ <&9; return 0; }

# wait_file FILE SECONDS: until FILE exists; 1 on timeout
wait_file() {
	_n=$(($2 * 10))
	while [ ! -e "$1" ]; do
		[ "$_n" -gt 0 ] || return 1
		_n=$((_n - 1))
		nap 0.1
	done
	return 0
}

# --- forker -------------------------------------------------------------------
# start_forker MIB COMM [forker options]: a background forker holding MIB MiB,
# named COMM; waits until the memory is touched.  Sets FK_PID.  With
# FK_CGROUP=/sys/fs/cgroup/X set, it runs (and allocates) in cgroup X.  Returns 1 if
# it died (FK_ERR says why, e.g. "alloc ENOMEM").
start_forker() {
	_mib=$1 _comm=$2
	shift 2
	rm -f "/tmp/fk.$_comm.ready" "/tmp/fk.$_comm.result" "/tmp/fk.$_comm.out"
	if [ -n "${FK_CGROUP:-}" ]; then
		# join the cgroup before allocating, so the memory is charged there
		bg sh -c 'echo $$ > "$0" && exec "$@"' "$FK_CGROUP/cgroup.procs" \
			forker -m "$_mib" -n "$_comm" -r "/tmp/fk.$_comm.ready" -o "/tmp/fk.$_comm.result" \
			"$@" hold > "/tmp/fk.$_comm.out" 2>&1
	else
		bg forker -m "$_mib" -n "$_comm" -r "/tmp/fk.$_comm.ready" -o "/tmp/fk.$_comm.result" \
			"$@" hold > "/tmp/fk.$_comm.out" 2>&1
	fi
	FK_PID=$BG_PID
	FK_ERR=
	while [ ! -e "/tmp/fk.$_comm.ready" ]; do
		if ! kill -0 "$FK_PID" 2>/dev/null; then
			wait "$FK_PID" 2>/dev/null
			FK_ERR="forker exited $?: $(cat "/tmp/fk.$_comm.out" 2>/dev/null)"
			return 1
		fi
		nap 0.1
	done
	return 0
}
# fork_now COMM [PID]: make that forker fork once; FORK_RES = "fork ok" | "fork ENOMEM" | ...
fork_now() {
	_pid=${2:-$FK_PID}
	rm -f "/tmp/fk.$1.result"
	kill -USR1 "$_pid" || fail "forker $1 ($_pid) is gone"
	wait_file "/tmp/fk.$1.result" 60 || fail "forker $1 ($_pid) did not report a fork result"
	read -r FORK_RES < "/tmp/fk.$1.result"
}
stop_forker() {
	kill -TERM "${1:-$FK_PID}" 2>/dev/null
	wait "${1:-$FK_PID}" 2>/dev/null
	return 0
}

# --- overcommitd ----------------------------------------------------------------
need_oc() {
	[ -x "$OC" ] || fail "overcommitd binary missing in the guest (build/overcommitd was not built when run.sh made the initramfs)"
}
# policy FILE: write stdin to $POL/FILE, root-owned, mode 0644
policy() {
	mkdir -p "$POL"
	chmod 0755 "$POL"
	cat > "$POL/$1" || fail "cannot write policy $1"
	chmod 0644 "$POL/$1"
	log "policy $POL/$1:"
	sed 's/^/    /' "$POL/$1"
}
# oc COMMAND [ARGS]: overcommitd with this scenario's policy and state dirs;
# stdout in $OUT, stderr in $ERR, exit code in OC_RC.  Both are logged
# (stdout: first $OC_LOG_LINES lines, default 400); then
# fork_guard fails the scenario if the guest can no longer fork.
oc() {
	need_oc
	log "\$ overcommitd --policy-dir $POL --state-dir $OCSTATE $*"
	"$OC" --policy-dir "$POL" --state-dir "$OCSTATE" "$@" > "$OUT" 2> "$ERR"
	OC_RC=$?
	# logged with builtins only: a bad apply may have left the guest unable to fork
	_n=0
	_max=${OC_LOG_LINES:-400}
	while [ "$_n" -lt "$_max" ] && IFS= read -r _l; do echo "  out| $_l"; _n=$((_n + 1)); done < "$OUT"
	_n=0
	while [ "$_n" -lt 100 ] && IFS= read -r _l; do echo "  err| $_l"; _n=$((_n + 1)); done < "$ERR"
	log "exit $OC_RC"
	fork_guard "overcommitd $*"
	return 0
}
# j PATH: a value out of the last JSON output (see tests/helpers/jget.c)
j() { jget -f "$OUT" "$1"; }
jc() { jget -c -f "$OUT" "$1"; }
# json_ok: fail unless $OUT is one JSON document
json_ok() {
	jget -f "$OUT" . > /dev/null 2>&1 || fail "$1: output is not JSON: $(head -c 300 "$OUT")"
}

# kb_of SIZE: "600M" -> kB (K/M/G binary), for policy arithmetic
kb_of() {
	case $1 in
	*K) echo "${1%K}" ;;
	*M) echo $((${1%M} * 1024)) ;;
	*G) echo $((${1%G} * 1048576)) ;;
	*) echo $(($1 / 1024)) ;;
	esac
}

# --- the daemon (overcommitd run) ---------------------------------------------
OCD_LOG=/tmp/ocd.log
# ocd_start: `overcommitd run -v [$OCD_ARGS]` with this scenario's policy and state dirs in
# the background (OCD_PID), its log in $OCD_LOG ("UPTIME overcommitd: ...");
# waits for "running:".
ocd_start() {
	need_oc
	log "\$ overcommitd run -v --policy-dir $POL --state-dir $OCSTATE &"
	# each line stamped with the guest uptime by a shell loop (no fork per line)
	rm -f /tmp/ocd.fifo
	mkfifo /tmp/ocd.fifo
	(
		while IFS= read -r _l; do
			read -r _up _ < /proc/uptime
			echo "$_up $_l"
		done
	) < /tmp/ocd.fifo >> "$OCD_LOG" &
	OC_BG_PIDS="$OC_BG_PIDS $!"
	# shellcheck disable=SC2086 # OCD_ARGS: extra options, word-split on purpose
	bg "$OC" run -v --policy-dir "$POL" --state-dir "$OCSTATE" ${OCD_ARGS:-} > /tmp/ocd.fifo 2>&1
	OCD_PID=$BG_PID
	_n=300
	until grep -q 'running: ' "$OCD_LOG"; do
		kill -0 "$OCD_PID" 2>/dev/null && [ "$_n" -gt 0 ] ||
			fail "the daemon did not start: $(tail -n 5 "$OCD_LOG" | tr '\n' ';')"
		_n=$((_n - 1))
		nap 0.1
	done
}
# ocd_wait ERE SECONDS: until a line of the daemon log matches; 1 on timeout
ocd_wait() {
	_n=$(($2 * 10))
	until grep -Eq -- "$1" "$OCD_LOG"; do
		[ "$_n" -gt 0 ] || return 1
		_n=$((_n - 1))
		nap 0.1
	done
	return 0
}
# ocd_stop: SIGTERM, wait; OCD_RC is its exit status
ocd_stop() {
	kill -TERM "$OCD_PID" 2>/dev/null
	wait "$OCD_PID"
	OCD_RC=$?
}
# ocd_dump [N]: the daemon log (first N lines, default 200) to the console
ocd_dump() {
	log "daemon log ($(wc -l < "$OCD_LOG") lines):"
	head -n "${1:-200}" "$OCD_LOG" | sed 's/^/  ocd| /'
}

# --- Redis ----------------------------------------------------------------------
REDIS_SOCK=/tmp/redis/redis.sock
rc() { redis-cli -s "$REDIS_SOCK" "$@"; }
persist() { rc INFO persistence | tr -d '\r' | sed -n "s/^$1://p"; }
# redis_run [WRAPPER...]: run (WRAPPER...) redis-server serving $REDIS_SOCK only,
# no automatic saves, DEBUG allowed, log in /tmp/redis/redis.log
redis_run() {
	mkdir -p /tmp/redis
	"$@" redis-server --port 0 --unixsocket "$REDIS_SOCK" --unixsocketperm 700 --save "" \
		--appendonly no --enable-debug-command yes --dir /tmp/redis \
		--logfile /tmp/redis/redis.log --daemonize no
}
# redis_ready PID: until it answers PING (30 s)
redis_ready() {
	_n=0
	until [ "$(rc PING 2>/dev/null)" = PONG ]; do
		_n=$((_n + 1))
		[ "$_n" -lt 300 ] || fail "redis-server did not answer PING: $(tail -n 5 /tmp/redis/redis.log)"
		kill -0 "$1" 2>/dev/null || fail "redis-server exited: $(tail -n 5 /tmp/redis/redis.log)"
		nap 0.1
	done
}
# bgsave_child PID: the pid of redis-server PID's child (empty if none)
bgsave_child() {
	_c=$(cat "/proc/$1/task/$1/children" 2>/dev/null)
	echo "${_c%% *}"
}
# bgsave_wait SECONDS: until no BGSAVE runs; 1 on timeout
bgsave_wait() {
	_n=$(($1 * 5))
	while [ "$(persist rdb_bgsave_in_progress)" != 0 ]; do
		[ "$_n" -gt 0 ] || return 1
		_n=$((_n - 1))
		nap 0.2
	done
	return 0
}

# --- commit refusals (issue 14) --------------------------------------------------
RF_FILE=$OCSTATE/refusals.json
# rf_count: refusals recorded in the daemon's book (recent ring); 0 without one
rf_count() { jget -c -f "$RF_FILE" recent 2>/dev/null || echo 0; }
# rf_wait N SECONDS: until the book holds at least N recent refusals; 1 on timeout
rf_wait() {
	_n=$(($2 * 10))
	while [ "$(rf_count)" -lt "$1" ]; do
		[ "$_n" -gt 0 ] || return 1
		_n=$((_n - 1))
		nap 0.1
	done
	return 0
}
# strict_headroom MIB: overcommit_memory=2 with CommitLimit = Committed_AS + MIB MiB
strict_headroom() {
	mi_var Committed_AS
	vm_set overcommit_kbytes $((MI + $1 * 1024))
	vm_set overcommit_memory 2
}
