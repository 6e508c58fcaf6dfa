# tests/vm/systemd/guest-services.sh - the real packages (issue 11): Debian's
# own PostgreSQL 15, Apache prefork with mod_php, gunicorn --preload and two
# daemonized Redis under the shipped example policies (policies/examples,
# installed in /usr/share/doc/overcommitd/examples), the daemon enforcing.
# Sourced by guest-test.sh after the OOMPolicy checks, before the removal
# (OC_VM_ONLY=services run.sh: right after the install, then stop).
#
# What each process actually had is sampled from outside every 0.2 s by
# svcwatch.py (pid, start time, every oom_score_adj seen, each read timed);
# the daemon's own "pid P (comm) enforced N us after its event" lines (-v,
# run.sh's drop-in) time its event-path writes from the kernel's fork
# timestamp, its "oom_score_adj pid P (comm): A -> B" lines (journal,
# monotonic) the rest.  Phase 1 starts the services with overcommit = auto
# (mode 0 stays); phase 2 switches to strict accounting (mode 2) and churns
# them: pgbench -C, kill -9 of a backend, ab with MaxConnectionsPerChild 10
# and `apachectl graceful`, BGSAVE of each Redis after `apply`, gunicorn
# --max-requests 8.  Last, with the others stopped and the daemon only
# recommending, the commit limit is lowered below the postmaster's fork:
# `recommend` must report that fork failing before pgbench sees "could not
# fork" (every step under timeout, the limit restored by a job forked before
# it was lowered).  Each step's seconds: INFO svc-time.
#
# Checks: svc-setup, pg-main, apache-main, redis-mains, gunicorn-main,
# svc-strict, pg-churn, pg-crash, redis-bgsave, redis-cow, pg-main-held,
# apache-main-held, pg-backends, apache-children, apache-graceful,
# apache-helpers, gunicorn-workers, redis-bgsave-child1/2, gunicorn-commit,
# pg-undersized, svc-restored (INFO: svc-latency, svc-warnings, svc-time).
SV=/oc/svcwatch.py
EX=/usr/share/doc/overcommitd/examples
W=$OUT/svc
mkdir -p "$W"
PG_UNIT=postgresql@15-main.service
PGB=/usr/lib/postgresql/15/bin/pgbench
uptime_f() { cut -d' ' -f1 /proc/uptime; }
# svc-time: the seconds of each step since the previous one
LAP=$(uptime_f)
LAPS=
lap() {
	t=$(uptime_f)
	LAPS="$LAPS $1 $(awk "BEGIN{printf \"%.0f\", $t - $LAP}")s"
	LAP=$t
}
oom_pid() { cat "/proc/$1/oom_score_adj" 2>/dev/null; }
meminfo_kb() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
# the daemon's oom_score_adj writes as "uptime pid value" (svcwatch check)
writes() {
	journalctl -q --no-pager -o short-monotonic -u overcommitd.service |
		sed -n 's/^\[ *\([0-9.]*\)\].*oom_score_adj pid \([0-9]*\) ([^)]*): [-0-9]* -> \([-0-9]*\) .*/\1 \2 \3/p'
}
# the daemon's own event -> write latency (-v) as "pid microseconds"
lats() {
	journalctl -q --no-pager -o cat -u overcommitd.service |
		sed -n 's/^pid \([0-9]*\) ([^)]*) enforced \([0-9]*\) us after its event$/\1 \2/p'
}
# svc_check NAME REASON svcwatch-check-args...: the sampler's verdict
svc_check() {
	n=$1 r=$2
	shift 2
	python3 "$SV" check "$W/watch.json" "$W/writes" --lat "$W/lats" "$@" > "$W/$n.check" 2>&1
	src=$?
	sed -n 's/^INFO //p' "$W/$n.check" | while IFS= read -r l; do info "$n" "$l"; done
	if [ "$src" -eq 0 ]; then pass "$n"; else
		fail "$n" "$r: $(grep -v '^INFO ' "$W/$n.check" | oneline | cut -c 1-700)"; fi
}
json_of() { # FILE python-expression-on-d: print it
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null
}
svc_json() { # SERVICE KEY: from $W/rec.json (recommend --format json)
	json_of "$W/rec.json" "[s for s in d['services'] if s['name'] == '$1'][0]['$2']"
}
host_policy() { # yes|no OVERCOMMIT: 50-enforce.ini, then reload and wait for it
	printf '[host]\nenforce = %s\nadmin_reserve = %sK\novercommit = %s\n' "$1" "$ADMIN_RESERVE_KB" "$2" \
		> "$POL/50-enforce.ini"
	mark
	systemctl reload overcommitd.service 2>/dev/null
	wait_for 30 logged 'reload: policy loaded'
}

# ------------------------------------------------------------ phase 1
S0=$(uptime_f)
for f in redis postgresql apache2 gunicorn; do cp "$EX/$f.ini" "$POL/6-$f.ini"; done
rm -f "$POL/60-redis.ini"
python3 "$SV" watch "$W/watch.json" 0.2 postgres,apache2,redis-server,gunicorn &
WATCH=$!
if host_policy yes auto; then
	info svc-setup "policies: $(cd "$POL" && echo *.ini); $(since | grep -c 'note:') notes"
	pass svc-setup
else
	fail svc-setup "reload with the example policies: $(since | tail -n 3 | oneline)"
fi
lap setup

# -- PostgreSQL: Debian's unit (pg_ctlcluster -> pg_ctl -> postmaster);
# local connections trusted so the churn runs as root (admin reserve, below)
HBA=/etc/postgresql/15/main/pg_hba.conf
sed -i '1i local all all trust' "$HBA"
PG_T0=$(uptime_f)
timeout 180 systemctl start "$PG_UNIT" 2> "$W/pg.err" || fail pg-main "systemctl start $PG_UNIT: $(oneline < "$W/pg.err")"
pg_main() { head -n 1 /var/lib/postgresql/15/main/postmaster.pid 2>/dev/null; }
PGM=$(pg_main)
if [ -n "$PGM" ] && wait_for 10 sh -c "[ \"\$(cat /proc/$PGM/oom_score_adj)\" = -1000 ]"; then
	info pg-main "postmaster $PGM at -1000 (started $(awk '{printf "%.2f", $22/100}' "/proc/$PGM/stat"), start command at $PG_T0); $(writes | awk -v p="$PGM" '$2 == p' | oneline)"
	pass pg-main
else
	fail pg-main "postmaster ${PGM:-?} oom_score_adj $(oom_pid "$PGM"), want -1000"
fi
lap pg-start

# -- Apache prefork: Debian's unit (apachectl start -> apache2 -k start,
# which daemonizes); small pools and MaxConnectionsPerChild churn
cat > /etc/apache2/conf-enabled/oc-churn.conf <<'EOC'
<IfModule mpm_prefork_module>
StartServers 3
MinSpareServers 2
MaxSpareServers 4
MaxConnectionsPerChild 10
</IfModule>
EOC
printf '<?php echo "ok";\n' > /var/www/html/oc.php
systemctl unmask apache2.service >/dev/null 2>&1
timeout 120 systemctl start apache2.service 2> "$W/ap.err" || fail apache-main "systemctl start apache2: $(oneline < "$W/ap.err")"
APM=$(prop apache2.service MainPID)
if [ -n "$APM" ] && [ "$APM" != 0 ] && wait_for 10 sh -c "[ \"\$(cat /proc/$APM/oom_score_adj)\" = -300 ]"; then
	info apache-main "parent $APM at -300 (mpm: $(apache2ctl -V 2>/dev/null | sed -n 's/^Server MPM: *//p')); $(since | grep -m 1 'apache2: pid .* main of an instance' || echo 'no promotion logged')"
	pass apache-main
else
	fail apache-main "parent ${APM:-?} oom_score_adj $(oom_pid "$APM"), want -300"
fi
lap apache-start

# -- two daemonized Redis beside redis-server.service: one in a scope of
# its own, one from this test's unit; each its own port and socket
redis_start() { # N PORT
	d=/run/oc/redis$1
	mkdir -p "$d" && chown redis:redis "$d"
	set -- "$1" "$2" runuser -u redis -- /usr/bin/redis-server --port "$2" --unixsocket "$d/sock" \
		--save "" --appendonly no --enable-debug-command yes --dir "$d" \
		--logfile "$d/log" --daemonize yes --pidfile "$d/pid"
	if [ "$1" = 1 ]; then shift 2; timeout 60 systemd-run --scope -q --unit "oc-redis1" -- "$@"
	else shift 2; timeout 60 "$@"; fi
}
redis_start 1 6391 || fail redis-mains "redis-server --daemonize yes (instance 1) failed"
redis_start 2 6392 || fail redis-mains "redis-server --daemonize yes (instance 2) failed"
RP1='' RP2=
for i in 1 2; do
	wait_for 15 test -s "/run/oc/redis$i/pid" && eval "RP$i=\$(cat /run/oc/redis$i/pid)"
done
rcli() { # N redis-cli-args...
	rn=$1
	shift
	timeout 30 redis-cli -s "/run/oc/redis$rn/sock" "$@"
}

# -- gunicorn --preload -w 4 as www-data in a unit of its own; the master
# writes Committed_AS just before it forks the workers (when_ready)
G=/run/oc/gunicorn
mkdir -p "$G" && chown www-data "$G"
cat > "$G/ocapp.py" <<'EOA'
# 48 MiB of private memory preloaded by the master: each worker's fork is
# charged it under strict accounting, shared copy-on-write
BALLAST = bytearray(48 << 20)
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok\n"]
EOA
cat > "$G/conf.py" <<'EOA'
def when_ready(server):
    with open("/proc/meminfo") as f:
        c = [l.split()[1] for l in f if l.startswith("Committed_AS:")][0]
    with open("/run/oc/gunicorn/ready", "w") as f:
        f.write(c + "\n")
EOA
timeout 60 systemd-run -q --unit oc-gunicorn -p User=www-data -p WorkingDirectory="$G" \
	/usr/bin/gunicorn --preload -w 4 --max-requests 8 -b 127.0.0.1:8000 -c "$G/conf.py" ocapp:app ||
	fail gunicorn-main "systemd-run gunicorn failed"
gu_workers() { [ "$(ps --ppid "$(prop oc-gunicorn.service MainPID)" -o pid= | wc -l)" -ge 4 ]; }
if wait_for 60 gu_workers; then
	sleep 1
	GC1=$(meminfo_kb Committed_AS)
	GUM=$(prop oc-gunicorn.service MainPID)
	GC0=$(cat "$G/ready" 2>/dev/null)
else
	GUM=$(prop oc-gunicorn.service MainPID)
	fail gunicorn-main "4 workers not up in 60 s: $(journalctl -q -o cat -u oc-gunicorn.service | tail -n 3 | oneline)"
fi
lap redis+gunicorn-start

# the mains: Redis -500 (redis.ini), gunicorn -300
for i in 1 2; do
	eval "p=\$RP$i"
	if [ -n "$p" ] && wait_for 10 sh -c "[ \"\$(cat /proc/$p/oom_score_adj)\" = -500 ]"; then :; else
		eval "RBAD$i=1"; fi
done
if [ -z "${RBAD1:-}${RBAD2:-}" ] && [ -n "$RP1" ] && [ -n "$RP2" ]; then
	info redis-mains "instances $RP1 ($(sed -n 's/^0:://p' /proc/"$RP1"/cgroup)) and $RP2 ($(sed -n 's/^0:://p' /proc/"$RP2"/cgroup)) at -500; redis-server.service $(prop redis-server.service MainPID) at $(oom_pid "$(prop redis-server.service MainPID)"); $(since | grep 'redis: pid .* main of an instance' | oneline | cut -c 1-300)"
	pass redis-mains
else
	fail redis-mains "instance 1 ${RP1:-?} at $(oom_pid "$RP1"), instance 2 ${RP2:-?} at $(oom_pid "$RP2"), want -500"
fi
if [ -n "$GUM" ] && wait_for 10 sh -c "[ \"\$(cat /proc/$GUM/oom_score_adj)\" = -300 ]"; then
	pass gunicorn-main
else
	fail gunicorn-main "master ${GUM:-?} oom_score_adj $(oom_pid "$GUM"), want -300"
fi

# ------------------------------------------------- phase 2: mode 2
if host_policy yes strict && wait_for 20 vm_is overcommit_memory 2; then
	info svc-strict "$(since | grep -m 2 'sysctl' | oneline | cut -c 1-400)"
	pass svc-strict
else
	fail svc-strict "mode 2 not set: $(vm_values); $(since | tail -n 3 | oneline)"
fi
lap strict

# -- PostgreSQL: connection churn, each connection a backend fork
echo 'SELECT 1;' > "$W/select1.sql"
pgb() { timeout 120 "$PGB" -h /var/run/postgresql -U postgres -n -f "$W/select1.sql" "$@" postgres; }
pgb -C -c 4 -t 10 > "$W/pgbench.out" 2>&1
pbrc=$?
info pg-churn "pgbench -C -c 4 -t 10 (40 connections) exit $pbrc: $(grep -E 'failed|tps' "$W/pgbench.out" | oneline)"
PGLOG=/var/log/postgresql/postgresql-15-main.log
nofork=$(grep -c 'could not fork' "$PGLOG" 2>/dev/null)
check pg-churn "pgbench exit $pbrc, 'could not fork' logged $nofork times" test "$pbrc" = 0 -a "$nofork" = 0
lap pg-churn

# -- crash restart: kill -9 of a backend; the postmaster reinitializes
pgb -c 1 -T 20 > /dev/null 2>&1 &
PBB=$!
be=
# a client backend's title: "postgres: 15/main: postgres postgres [local] ..."
backend() { ps --ppid "$PGM" -o pid=,cmd= | awk '/: postgres postgres / { print $1; exit }'; }
wait_for 10 sh -c "[ -n \"\$(ps --ppid $PGM -o cmd= | grep ': postgres postgres ')\" ]"
be=$(backend)
[ -n "$be" ] && kill -9 "$be"
wait "$PBB" 2>/dev/null
pg_ok() { timeout 20 runuser -u postgres -- psql -qAtc 'select 1' 2>/dev/null | grep -qx 1; }
if [ -n "$be" ] && wait_for 30 pg_ok; then
	after=$(oom_pid "$PGM")
	info pg-crash "backend $be killed; postmaster $PGM $(is_active "$PG_UNIT" && echo active) at $after; $(grep -c 'terminated by signal 9' "$PGLOG") crash restart(s) in its log"
	# once more after the restart: new backends
	if pgb -C -c 2 -t 5 > "$W/pgbench2.out" 2>&1; then
		check pg-crash "after the crash restart: unit $(prop "$PG_UNIT" ActiveState), postmaster $PGM at $after" \
			sh -c "[ '$after' = -1000 ] && systemctl is-active -q $PG_UNIT"
	else
		fail pg-crash "pgbench after the crash restart: $(tail -n 2 "$W/pgbench2.out" | oneline)"
	fi
else
	fail pg-crash "no backend to kill ($be) or no connection 30 s after: $(journalctl -q -o cat -u "$PG_UNIT" | tail -n 3 | oneline)"
fi
lap pg-crash

# -- Apache: ab against mod_php with MaxConnectionsPerChild 10, then graceful
timeout 120 ab -q -s 30 -n 120 -c 4 http://127.0.0.1/oc.php > "$W/ab1.out" 2>&1
info apache-children "ab: $(grep -E '^(Complete|Failed) requests' "$W/ab1.out" | oneline)"
GR_T0=$(uptime_f)
mark
timeout 60 apachectl graceful > "$W/graceful.out" 2>&1 || fail apache-graceful "apachectl graceful: $(oneline < "$W/graceful.out")"
sleep 1
timeout 120 ab -q -s 30 -n 60 -c 4 http://127.0.0.1/oc.php > "$W/ab2.out" 2>&1
info apache-graceful "ab after graceful: $(grep -E '^(Complete|Failed) requests' "$W/ab2.out" | oneline)"
APM2=$(prop apache2.service MainPID)
lap apache-churn

# -- Redis: each instance's BGSAVE under mode 2 after a one-shot apply
timeout 60 overcommitd apply > "$W/apply.out" 2>&1 || info redis-bgsave "apply: $(tail -n 2 "$W/apply.out" | oneline)"
for i in 1 2; do
	rcli "$i" DEBUG POPULATE 20000 key 1000 > /dev/null
	mark
	rcli "$i" BGSAVE > "$W/bgsave$i" 2>&1
	n=0
	while [ "$(rcli "$i" INFO persistence | tr -d '\r' | sed -n 's/^rdb_bgsave_in_progress://p')" = 1 ] && [ "$n" -lt 120 ]; do
		n=$((n + 1)); sleep 0.5
	done
	st=$(rcli "$i" INFO persistence | tr -d '\r' | sed -n 's/^rdb_last_bgsave_status://p')
	cow=$(rcli "$i" INFO persistence | tr -d '\r' | sed -n 's/^rdb_last_cow_size://p')
	wait_for 5 logged 'redis: fork episode' || true
	ep=$(since | grep -m 1 'redis: fork episode')
	eval "BGST$i=\$st BGEP$i=\${ep:+1}"
	info redis-bgsave "instance $i: BGSAVE '$(oneline < "$W/bgsave$i")' status $st, rdb_last_cow_size $cow; daemon: ${ep:-no episode logged}"
done
check redis-bgsave "BGSAVE status: instance 1 ${BGST1:-?}, instance 2 ${BGST2:-?}" test "${BGST1:-}${BGST2:-}" = okok
check redis-cow "a fork episode (COW learned) logged for instance 1: ${BGEP1:-no}, 2: ${BGEP2:-no}" \
	test "${BGEP1:-}${BGEP2:-}" = 11
lap redis-bgsave

# -- gunicorn: --max-requests 8 churn (ab: 80 requests -> ~10 replacements)
timeout 120 ab -q -s 30 -n 80 -c 2 http://127.0.0.1:8000/ > "$W/ab3.out" 2>&1
info gunicorn-workers "ab: $(grep -E '^(Complete|Failed) requests' "$W/ab3.out" | oneline)"
sleep 1
lap gunicorn-churn

# ------------------------------------------------- the sampler's verdicts
kill "$WATCH" 2>/dev/null
wait "$WATCH"
writes > "$W/writes"
lats > "$W/lats"
# the mains' values held through phases 1 and 2, nothing fought over
svc_check pg-main-held "the postmaster left -1000" --pid "$PGM" --want -1000 --bound 5 --label postmaster
svc_check apache-main-held "the parent left -300" --pid "$APM" --want -300 --bound 5 --label "apache parent"
svc_check pg-backends "backends (children of the postmaster) not at 0 within 1 s, or rewritten" \
	--parent "$PGM" --want 0 --bound 1.0 --label backends
svc_check apache-children "workers kept the parent's value past 0.5 s" \
	--parent "$APM" --want 300 --bound 0.5 --until "$GR_T0" --label workers
svc_check apache-graceful "workers after graceful kept the parent's value past 0.5 s" \
	--parent "$APM2" --want 300 --bound 0.5 --since "$GR_T0" --label "workers after graceful"
# helpers (`apache2 -t`, `-k graceful`): the main value written to an
# apache2 process once the server already held it.  The start's first
# process (`apache2 -k start`, protected at its exec before it daemonized)
# got it before the server existed.
ap_t=$(awk -v p="$APM" '$2 == p && $3 == -300 { print $1; exit }' "$W/writes")
ap_mains=$(journalctl -q -o cat -u overcommitd.service |
	sed -n 's/.*oom_score_adj pid \([0-9]*\) (apache2): [-0-9]* -> -300 .*/\1/p' | sort -u | oneline)
helpers=$(for hp in $(echo "$ap_mains" | tr ' ' '\n'); do
	awk -v t="${ap_t:-0}" -v p="$hp" -v ok=" $APM $APM2 " '$2 == p && $3 == -300 && $1 > t && index(ok, " " p " ") == 0 { print p; exit }' "$W/writes"
done | oneline)
info apache-helpers "main value written to apache2 pids: ${ap_mains:-none}; parent $APM (first -300 at ${ap_t:-?} s); after that to: ${helpers:-none}"
check apache-helpers "helpers (apache2 -t, -k graceful) given the main value beside the running server: $helpers" \
	test -n "$ap_t" -a -z "$helpers"
svc_check gunicorn-workers "workers (replacements included) not at 500 within 1 s" \
	--parent "$GUM" --want 500 --bound 1.0 --label workers
for i in 1 2; do
	eval "p=\$RP$i"
	svc_check "redis-bgsave-child$i" "BGSAVE child of instance $i not at 800 within 1 s" \
		--parent "$p" --want 800 --bound 1.0 --label "BGSAVE children of instance $i"
done
# every event-path write the daemon timed (fork/exec -> written)
sort -n -k 2 "$W/lats" > "$W/lats.sorted"
info svc-latency "$(awk '{ s[++n] = $2 } END { if (!n) { print "no latency lines (daemon not -v)"; exit }
	i = int(n * 0.9); if (i < 1) i = 1
	printf "%d event-path writes: median %.0f ms, p90 %.0f ms, max %.0f ms", n, s[int((n + 1) / 2)] / 1000,
	s[i] / 1000, s[n] / 1000 }' "$W/lats.sorted")"
# what held the daemon's loop: its periodic passes (-v), lost events
journalctl -q --no-pager -o cat -u overcommitd.service |
	sed -n 's/^pass: \(full scan\|tracked\), \([0-9]*\) processes scanned, \([0-9]*\) ms$/\3 \1/p' |
	sort -n > "$W/passes"
info svc-latency "passes: $(awk '{ n++; s[n] = $1; if ($2 == "full") f++ } END { if (n) printf "%d (%d full scans), median %d ms, max %d ms", n, f, s[int((n + 1) / 2)], s[n] }' "$W/passes"); lost-event rescans: $(journalctl -q -o cat -u overcommitd.service | grep -c 'lost events'); the 5 longest: $(tail -n 5 "$W/passes" | oneline)"

# -- gunicorn: predicted commit for the 4 workers vs the Committed_AS rise
timeout 60 overcommitd recommend --format json > "$W/rec.json" 2> "$W/rec.err"
gw=$(svc_json gunicorn workers) gwc=$(svc_json gunicorn workers_commit_kb)
if [ -n "${GC0:-}" ] && [ -n "${GC1:-}" ] && [ -n "$gwc" ]; then
	rise=$((GC1 - GC0))
	info gunicorn-commit "Committed_AS ${GC0} kB before the workers, ${GC1} kB with 4: rise ${rise} kB; report now: $gw workers, ${gwc} kB (commit per worker $(svc_json gunicorn commit_per_worker_kb) kB), fork need $(svc_json gunicorn fork_need_kb) kB"
	check gunicorn-commit "predicted 4 x $((gwc / ${gw:-1})) kB vs rise $rise kB: not within 10%" \
		python3 -c "import sys; p = 4 * $gwc / max($gw, 1); sys.exit(abs(p - $rise) > 0.1 * $rise)"
else
	fail gunicorn-commit "no figures: ready ${GC0:-?} with-workers ${GC1:-?} report ${gwc:-?} ($(head -c 300 "$W/rec.err"))"
fi
lap checks

journalctl -q -o cat _SYSTEMD_UNIT=overcommitd.service -p warning --since "-30min" > "$W/warnings"
info svc-warnings "$(wc -l < "$W/warnings") warning(s): $(head -n 4 "$W/warnings" | oneline | cut -c 1-500)"

# stop all but PostgreSQL: the undersized limit below leaves no commit to
# spare for them (gunicorn respawning workers, Redis allocating)
timeout 60 systemctl stop oc-gunicorn.service apache2.service 2>/dev/null
for i in 1 2; do rcli "$i" shutdown nosave > /dev/null 2>&1; done
lap stop

# shellcheck source=tests/vm/systemd/guest-undersized.sh
. /oc/guest-undersized.sh
lap pg-undersized

timeout 60 systemctl stop "$PG_UNIT" 2>/dev/null
rm -f "$POL"/6-*.ini
cp "$EX/redis.ini" "$POL/60-redis.ini"
# back to what the checks after this one expect: enforce, the redis policy
if host_policy yes auto; then pass svc-restored; else
	fail svc-restored "reload after the services: $(since | tail -n 3 | oneline)"; fi
lap stop
info svc-time "the real services took $(awk "BEGIN{printf \"%d\", $(uptime_f) - $S0}") s:$LAPS"
