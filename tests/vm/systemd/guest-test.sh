#!/bin/sh
# tests/vm/systemd/guest-test.sh - runs inside the Debian 12 guest (systemd
# is PID 1) as oc-systemd-test.service, after multi-user.target.  Installs
# the overcommitd .deb from /oc/deb, then checks the real service under
# systemd: READY, hardening, reload, a Redis unit's MemoryHigh set through
# systemd, a bad reload, Restart=on-failure, removal restoring the originals
# and purge removing the state.
#
# Reports over the second serial port (ttyS1; the console on ttyS0 is left
# to the kernel and systemd):
#   @@OC BOOTED <uptime>  INFO name: ...  PASS name | FAIL name: reason
#   @@OC DONE <uptime>    then the whole journal, each line as "J| ..."
# and powers the guest off.
set -u
# shellcheck disable=SC2317 # helpers run through wait_for/check
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive LC_ALL=C SYSTEMD_PAGER='' SYSTEMD_COLORS=0
RES=/dev/ttyS1
[ -c "$RES" ] || RES=/dev/console
OUT=/run/oc
mkdir -p "$OUT"
POL=/etc/overcommitd/policies.d
CG=/sys/fs/cgroup/system.slice/redis-server.service
VMKEYS="overcommit_memory overcommit_ratio overcommit_kbytes user_reserve_kbytes admin_reserve_kbytes"
ADMIN_RESERVE_KB=12288   # what 50-enforce.ini asks for (the boot value is 8192)

emit() { echo "$*" > "$RES"; echo "oc-test: $*"; }
pass() { emit "PASS $1"; }
fail() { emit "FAIL $1: $2"; }
info() { emit "INFO $1: $2"; }
check() { # name reason command...: PASS if the command succeeds
	n=$1 r=$2
	shift 2
	if "$@"; then pass "$n"; else fail "$n" "$r"; fi
}
uptime_s() { cut -d' ' -f1 /proc/uptime; }
# wait_for SECONDS command...: until the command succeeds, polling every
# 0.5 s; by the clock (each poll costs a lot under TCG), tried at least once
now_s() { cut -d. -f1 /proc/uptime; }
wait_for() {
	end=$(($(now_s) + $1))
	shift
	while :; do
		"$@" && return 0
		[ "$(now_s)" -lt "$end" ] || return 1
		sleep 0.5
	done
}
prop() { systemctl show -p "$2" --value "$1" 2>/dev/null; }
vm_values() { for k in $VMKEYS; do printf '%s=%s ' "$k" "$(cat "/proc/sys/vm/$k")"; done; }
redis_pid() { prop redis-server.service MainPID; }
oc_pid() { prop overcommitd.service MainPID; }
# journal lines of overcommitd since the cursor saved by mark
mark() { journalctl -n 1 --show-cursor -q -o cat 2>/dev/null | sed -n 's/^-- cursor: //p' > "$OUT/cursor"; }
since() { journalctl -q --no-pager -o cat -u overcommitd.service --after-cursor="$(cat "$OUT/cursor")"; }
logged() { since | grep -q -- "$1"; }
oneline() { tr '\n' ' ' | sed 's/  */ /g; s/ $//'; }
is_active() { [ "$(prop "$1" ActiveState)" = active ]; }
oom_of() { cat "/proc/$RPID/oom_score_adj" 2>/dev/null; }
oom_is() { [ "$(oom_of)" = "$1" ]; }
vm_is() { [ "$(cat "/proc/sys/vm/$1")" = "$2" ]; }

# the end: results done, the journal follows them, then power off
finish() {
	emit "@@OC DONE $(uptime_s)"
	journalctl -b --no-pager -q -o short-monotonic 2>&1 | sed 's/^/J| /' > "$RES"
	sync
	systemctl poweroff -ff
	exit 0
}
# nothing after install/start can pass without them: stop early, not by timeout
give_up() { fail rest "not run: $1"; finish; }

emit "@@OC BOOTED $(uptime_s)"

# ---------------------------------------------------------------- boot
state=$(systemctl is-system-running 2>/dev/null)
failed=$(systemctl --failed --plain --no-legend 2>/dev/null | awk '{print $1}' | oneline)
info boot "kernel $(uname -r), systemd $(systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p'), state $state${failed:+, failed units: $failed}"
info boot "$(systemd-analyze time 2>/dev/null | head -n 1)"
case $state in
running | degraded | starting) pass boot ;;
*) fail boot "system state $state" ;;
esac
VM0=$(vm_values)
info boot "vm at boot: $VM0"

# ------------------------------------------------------------- install
deb=$(ls /oc/deb/overcommitd_*.deb 2>/dev/null | head -n 1)
if [ -z "$deb" ]; then
	fail install "no .deb in /oc/deb"
elif dpkg -i "$deb" > "$OUT/install.log" 2>&1 &&
	[ "$(dpkg-query -W -f='${Status}' overcommitd 2>/dev/null)" = "install ok installed" ]; then
	info install "$(basename "$deb"), depends: $(dpkg-query -W -f='${Depends}' overcommitd)"
	pass install
else
	fail install "dpkg -i failed: $(tail -n 5 "$OUT/install.log" | oneline)"
	give_up "the package is not installed"
fi

# ---------------------------------------------------------------- ready
svc_running() {
	[ "$(prop overcommitd.service ActiveState)" = active ] &&
		[ "$(prop overcommitd.service SubState)" = running ]
}
if wait_for 60 svc_running; then
	info ready "$(systemctl show -p ActiveState,SubState,StatusText,NRestarts overcommitd.service | oneline)"
	info ready "$(journalctl -q -o cat -u overcommitd.service | grep -m 1 '^running:' || true)"
	# Type=notify: active (running) only after READY=1; STATUS= follows each pass
	if [ -n "$(prop overcommitd.service StatusText)" ] || wait_for 15 sh -c \
		'[ -n "$(systemctl show -p StatusText --value overcommitd.service)" ]'; then
		pass ready
	else
		fail ready "active (running) but no STATUS= text"
	fi
else
	fail ready "not active (running) after 60 s: $(systemctl show -p ActiveState,SubState,Result,NRestarts overcommitd.service | oneline); last error: $(journalctl -q -o cat -p err -n 1 -u overcommitd.service)"
	give_up "the service never ran"
fi
check enabled "not enabled by the package" \
	test "$(systemctl is-enabled overcommitd.service 2>/dev/null)" = enabled
# OC_VM_ONLY=services (run.sh): the real services alone, then stop
if [ -f /oc/only-services ]; then
	# shellcheck source=tests/vm/systemd/guest-services.sh
	. /oc/guest-services.sh
	finish
fi
# OC_VM_ONLY=scope (run.sh): the fork child's transient scope alone
if [ -f /oc/only-scope ]; then
	# shellcheck source=tests/vm/systemd/guest-scope.sh
	. /oc/guest-scope.sh
	finish
fi

# installing with the shipped recommend-only policy writes nothing
check recommend-only "installing changed vm sysctls: $VM0 -> $(vm_values)" \
	test "$(vm_values)" = "$VM0"

# ------------------------------------------------------------ hardening
pid=$(oc_pid)
if [ -n "$pid" ] && [ "$pid" != 0 ] && [ -r "/proc/$pid/status" ]; then
	bnd=$(sed -n 's/^CapBnd:[[:space:]]*//p' "/proc/$pid/status")
	eff=$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$pid/status")
	nnp=$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' "/proc/$pid/status")
	info hardening "pid $pid CapBnd $bnd CapEff $eff NoNewPrivs $nnp $(systemctl show -p MemoryMax,WatchdogUSec overcommitd.service | oneline)"
	# the writer after start-up: DAC_OVERRIDE(1) SYS_RESOURCE(24) only
	if [ "$bnd" = 0000000001000002 ] && [ "$eff" = 0000000001000002 ] && [ "$nnp" = 1 ] &&
		[ "$(prop overcommitd.service MemoryMax)" = 67108864 ]; then
		pass hardening
	else
		fail hardening "want CapBnd = CapEff = 0000000001000002, NoNewPrivs 1, MemoryMax 64M"
	fi
	# the /proc reader: its only child, uid 65534, SYS_PTRACE(19) alone, seccomp
	rpid=$(tr -d ' ' < "/proc/$pid/task/$pid/children")
	rst=/proc/$rpid/status
	ruid=$(sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' "$rst" 2>/dev/null)
	reff=$(sed -n 's/^CapEff:[[:space:]]*//p' "$rst" 2>/dev/null)
	rbnd=$(sed -n 's/^CapBnd:[[:space:]]*//p' "$rst" 2>/dev/null)
	rsec=$(sed -n 's/^Seccomp:[[:space:]]*//p' "$rst" 2>/dev/null)
	info privsep "reader pid $rpid uid $ruid CapEff $reff CapBnd $rbnd Seccomp $rsec"
	check privsep "want uid 65534, CapEff = CapBnd = 0000000000080000, Seccomp 2" \
		test "$ruid $reff $rbnd $rsec" = "65534 0000000000080000 0000000000080000 2"
	# the smaps reader thread at nice 10: the unit lets setpriority through
	# (until round 9 it was refused, and the page walk ran at nice 0)
	nices=$(for t in /proc/"$pid"/task/*; do awk '{ print $19 }' "$t/stat"; done | sort -n | tr '\n' ' ')
	info reader-nice "the daemon's threads at nice: $nices"
	check reader-nice "want one thread (the smaps reader) at nice 10" \
		sh -c "echo '$nices' | grep -qw 10"
	info mem-selftest "$(journalctl -q -o cat -u overcommitd.service | grep -m 1 'self-test: /proc/1/mem' || true)"
	check mem-selftest "the daemon did not log /proc/1/mem as refused" \
		sh -c "journalctl -q -o cat -u overcommitd.service | grep -q 'self-test: /proc/1/mem cannot be opened for writing'"
	# ProtectKernelTunables=yes with ReadWritePaths=/proc/sys/vm: in the
	# daemon's mount namespace /proc/sys is read-only, /proc/sys/vm writable
	mi=/proc/$pid/mountinfo
	sys_opts=$(awk '$5 == "/proc/sys" { o = $6 } END { print o }' "$mi")
	vm_opts=$(awk '$5 == "/proc/sys/vm" { o = $6 } END { print o }' "$mi")
	info tunables "/proc/sys: $sys_opts; /proc/sys/vm: $vm_opts"
	check tunables "want /proc/sys ro and /proc/sys/vm rw in the service's namespace" \
		sh -c "case '$sys_opts' in ro*) ;; *) exit 1 ;; esac && case '$vm_opts' in rw*) ;; *) exit 1 ;; esac"
else
	fail hardening "no main pid"
fi
# minbase has no man(1): Documentation= is checked as installed files instead
if ! systemd-analyze verify --man=no overcommitd.service > "$OUT/verify.log" 2>&1 ||
	[ -s "$OUT/verify.log" ]; then
	fail verify "systemd-analyze verify: $(head -n 3 "$OUT/verify.log" | oneline)"
elif ! [ -f /usr/share/man/man8/overcommitd.8.gz ] || ! [ -f /usr/share/man/man5/overcommitd.policy.5.gz ]; then
	fail verify "Documentation= names overcommitd(8) and overcommitd.policy(5); not installed"
else
	pass verify
fi
# the exposure score, compared again under the metrics drop-in (guest-ansible.sh)
exposure() { systemd-analyze security --no-pager overcommitd.service 2>&1 | tail -n 1; }
SEC0=$(exposure)
info security "$SEC0"
# shellcheck source=tests/vm/systemd/guest-refusal.sh
. /oc/guest-refusal.sh

# ---------------------------------------------------------------- redis
if wait_for 30 is_active redis-server.service; then
	RPID=$(redis_pid)
	ROOM0=$(cat "/proc/$RPID/oom_score_adj")
	info redis "pid $RPID, $(systemctl show -p MemoryHigh,ControlGroup redis-server.service | oneline), memory.high $(cat $CG/memory.high), oom_score_adj $ROOM0"
	check redis "MemoryHigh not infinity before any policy" \
		test "$(prop redis-server.service MemoryHigh)" = infinity
else
	RPID=0 ROOM0=0
	fail redis "redis-server.service not active: $(systemctl show -p ActiveState,Result redis-server.service | oneline)"
fi

# --------------------------------------------------------------- reload
cp /usr/share/doc/overcommitd/examples/redis.ini "$POL/60-redis.ini"
printf '[host]\nenforce = yes\nadmin_reserve = %sK\n' "$ADMIN_RESERVE_KB" > "$POL/50-enforce.ini"
mark
pid0=$(oc_pid)
if ! systemctl reload overcommitd.service 2> "$OUT/reload.err"; then
	fail reload "systemctl reload: $(oneline < "$OUT/reload.err")"
elif wait_for 30 logged 'reload: policy loaded'; then
	info reload "$(since | grep 'reload: policy loaded' | tail -n 1)"
	check reload "main pid changed ($pid0 -> $(oc_pid)) or not running" \
		sh -c "[ \"$pid0\" = \"\$(systemctl show -p MainPID --value overcommitd.service)\" ] &&
			systemctl is-active -q overcommitd.service"
else
	fail reload "no 'reload: policy loaded' in 30 s: $(since | tail -n 3 | oneline)"
fi

# ----------------------------------------------------- enforced: redis
mh_set() { v=$(prop redis-server.service MemoryHigh); [ -n "$v" ] && [ "$v" != infinity ]; }
if wait_for 30 mh_set; then
	mh=$(prop redis-server.service MemoryHigh)
	file=$(cat "$CG/memory.high")
	info memory-high "systemctl show: MemoryHigh=$mh; $CG/memory.high = $file"
	info memory-high "$(since | grep -m 1 '^memory_high' || true)"
	# redis.ini: memory_high = auto, at least memory_high_min = 256M
	if [ "$file" = "$mh" ] && [ "$mh" -ge 268435456 ]; then
		pass memory-high
	else
		fail memory-high "MemoryHigh=$mh but memory.high=$file (want equal, >= 256M)"
	fi
else
	fail memory-high "MemoryHigh still $(prop redis-server.service MemoryHigh) after 30 s: $(since | grep -i 'redis\|memory' | tail -n 3 | oneline)"
fi
if wait_for 20 oom_is -500; then pass oom-score-adj; else
	fail oom-score-adj "redis (pid $RPID) oom_score_adj $(oom_of), want -500"; fi
if wait_for 30 vm_is admin_reserve_kbytes "$ADMIN_RESERVE_KB"; then pass sysctl; else
	fail sysctl "vm.admin_reserve_kbytes $(cat /proc/sys/vm/admin_reserve_kbytes), want $ADMIN_RESERVE_KB"; fi
J=/var/lib/overcommitd/journal.json
cp "$J" "$OUT/journal.before" 2>/dev/null
info state-journal "$(oneline < "$J" 2>/dev/null | cut -c 1-600)"
check state-journal "journal.json lacks admin_reserve_kbytes or the redis cgroup" \
	sh -c "grep -q admin_reserve_kbytes $J && grep -q 'redis-server.service' $J"

# ----------------------------------------------------------- bad reload
printf '[host]\nno_such_key = 1\n' > "$POL/70-bad.ini"
mark
pid0=$(oc_pid)
systemctl reload overcommitd.service 2>/dev/null
if wait_for 30 logged 'reload: policy refused'; then
	info bad-reload "$(since | grep -m 1 '70-bad.ini' || true)"
	if [ "$pid0" = "$(oc_pid)" ] && systemctl is-active -q overcommitd.service && logged '70-bad.ini:2'; then
		pass bad-reload
	else
		fail bad-reload "after a refused reload: pid $pid0 -> $(oc_pid), $(systemctl is-active overcommitd.service), FILE:LINE logged: $(logged '70-bad.ini:2' && echo yes || echo no)"
	fi
else
	fail bad-reload "no 'reload: policy refused' in 30 s: $(since | tail -n 3 | oneline)"
fi
rm -f "$POL/70-bad.ini"
mark
systemctl reload overcommitd.service 2>/dev/null
wait_for 30 logged 'reload: policy loaded' || fail bad-reload "good policy not reloaded after the bad one"

# ----------------------------------------------------- Restart=on-failure
mark
pid0=$(oc_pid)
systemctl kill -s KILL overcommitd.service
restarted() { [ "$(prop overcommitd.service NRestarts)" -ge 1 ] && svc_running && [ "$(oc_pid)" != "$pid0" ]; }
if wait_for 30 restarted; then
	info restart "killed pid $pid0; now $(systemctl show -p MainPID,NRestarts,ActiveState,SubState overcommitd.service | oneline)"
	pass restart
else
	fail restart "not running again 30 s after SIGKILL: $(systemctl show -p ActiveState,SubState,NRestarts,Result overcommitd.service | oneline)"
fi
# the restarted daemon keeps the first originals, not its own values
wait_for 20 logged '^running:' >/dev/null
check journal-kept "journal.json changed its originals across the restart" \
	sh -c "grep -o '\"original\":\"[^\"]*\"' $OUT/journal.before | sort > $OUT/o1;
		grep -o '\"original\":\"[^\"]*\"' $J | sort > $OUT/o2; cmp -s $OUT/o1 $OUT/o2"

# watchdog: by now the daemon ran well past WatchdogSec=30s once
if journalctl -q -o cat -u overcommitd.service | grep -q 'Watchdog timeout'; then
	fail watchdog "systemd killed it for a missed WATCHDOG=1"
else
	check watchdog "restarted more than the one SIGKILL: NRestarts $(prop overcommitd.service NRestarts)" \
		test "$(prop overcommitd.service NRestarts)" = 1
fi
# the daemon's own warnings and errors (not systemd's about the unit), but
# for the bad policy above and the refusal guest-refusal.sh asked for
journalctl -q -o cat _SYSTEMD_UNIT=overcommitd.service -p warning |
	grep -v -e '70-bad.ini' -e 'reload: policy refused' \
		-e "^mmap of python3 (pid ${rf_pid:-none}) refused: " > "$OUT/warnings"
if [ -s "$OUT/warnings" ]; then
	fail daemon-warnings "$(wc -l < "$OUT/warnings") line(s): $(head -n 3 "$OUT/warnings" | oneline)"
else
	pass daemon-warnings
fi
info uptime "$(uptime_s) s before removal; daemon $(prop overcommitd.service ActiveEnterTimestamp)"

# ------------------------------ the fork child's scope (issue 12 item 1)
# shellcheck source=tests/vm/systemd/guest-scope.sh
. /oc/guest-scope.sh

# ---------------------------------------------- OOMPolicy (issue 11)
# shellcheck source=tests/vm/systemd/guest-oompolicy.sh
. /oc/guest-oompolicy.sh

# ------------------------------------ the real services (issue 11 proof)
# PostgreSQL, Apache prefork, gunicorn, two daemonized Redis; they leave the
# policy as they found it, and the removal below restores what they changed
# (OC_VM_SERVICES=0: left out)
if [ ! -f /oc/no-services ]; then
	# shellcheck source=tests/vm/systemd/guest-services.sh
	. /oc/guest-services.sh
fi

# --------------------------------------------------------------- remove
if apt-get remove -y overcommitd > "$OUT/remove.log" 2>&1; then
	info remove "$(grep -i 'restor' "$OUT/remove.log" | oneline | cut -c 1-400)"
	pass remove
else
	fail remove "apt-get remove: $(tail -n 5 "$OUT/remove.log" | oneline)"
fi
check remove-stops "after removal: $(systemctl is-active overcommitd.service 2>/dev/null), pid(s) $(pidof overcommitd)" \
	sh -c '! systemctl is-active -q overcommitd.service && ! pidof overcommitd >/dev/null'
mh=$(prop redis-server.service MemoryHigh)
file=$(cat "$CG/memory.high" 2>/dev/null)
info remove-restores-memory-high "MemoryHigh=$mh; memory.high=$file"
check remove-restores-memory-high "want infinity / max" \
	test "$mh" = infinity -a "$file" = max
info remove-restores-sysctl "$(vm_values)"
check remove-restores-sysctl "vm sysctls $(vm_values) differ from boot $VM0" test "$(vm_values)" = "$VM0"
check remove-restores-oom "redis oom_score_adj $(oom_of), want $ROOM0" oom_is "$ROOM0"
check remove-keeps-config "conffiles or state gone after a remove (not purge)" \
	test -f "$POL/00-default.ini" -a -d /var/lib/overcommitd

# ---------------------------------------------------------------- purge
if dpkg --purge overcommitd > "$OUT/purge.log" 2>&1; then
	if [ ! -e /var/lib/overcommitd ] && [ ! -e "$POL/00-default.ini" ] &&
		[ ! -e /etc/systemd/system/multi-user.target.wants/overcommitd.service ]; then
		pass purge
	else
		fail purge "left: $(ls -d /var/lib/overcommitd "$POL/00-default.ini" \
			/etc/systemd/system/multi-user.target.wants/overcommitd.service 2>/dev/null | oneline)"
	fi
else
	fail purge "dpkg --purge: $(tail -n 5 "$OUT/purge.log" | oneline)"
fi

# --------------------------------------------- the Ansible role, for real
# shellcheck source=tests/vm/systemd/guest-ansible.sh
. /oc/guest-ansible.sh

finish
