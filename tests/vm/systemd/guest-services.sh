# tests/vm/systemd/guest-services.sh - the real packages (issue 11): Debian's
# own PostgreSQL 15, Apache prefork with mod_php, gunicorn --preload and two
# daemonized Redis under the shipped example policies (policies/examples,
# installed in /usr/share/doc/overcommitd/examples), the daemon enforcing.
# Opt-in, not part of `make vm-systemd-check`: OC_VM_ONLY=services run.sh
# (its own cached base with the packages; guest-test.sh installs the .deb,
# then sources this and stops).  See the README's "Real services" section for
# why it is not in the default run.
#
# What each process actually had is sampled from outside every 0.2 s by
# svcwatch.py (pid, start time, every oom_score_adj seen); the daemon's own
# "oom_score_adj pid P (comm): A -> B" lines (journal, monotonic time) time
# its writes exactly.  Phase 1 starts the services with overcommit = auto
# (mode 0 stays); phase 2 switches to strict accounting (mode 2) and churns
# them: pgbench -C, kill -9 of a backend, ab with MaxConnectionsPerChild 10
# and `apachectl graceful`, BGSAVE of each Redis after `apply`, gunicorn
# --max-requests 8.
#
# Checks: svc-setup, pg-main, pg-churn, pg-crash, redis-mains, redis-bgsave,
# redis-cow, gunicorn-main, pg-main-held, apache-main-held, pg-backends,
# apache-children, apache-graceful, apache-helpers, gunicorn-workers,
# redis-bgsave-child1/2, gunicorn-commit (INFO: svc-warnings, svc-time).
SV=/oc/svcwatch.py
EX=/usr/share/doc/overcommitd/examples
W=$OUT/svc
mkdir -p "$W"
PG_UNIT=postgresql@15-main.service
PGB=/usr/lib/postgresql/15/bin/pgbench
uptime_f() { cut -d' ' -f1 /proc/uptime; }
oom_pid() { cat "/proc/$1/oom_score_adj" 2>/dev/null; }
meminfo_kb() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
# the daemon's oom_score_adj writes as "uptime pid value" (svcwatch check)
writes() {
	journalctl -q --no-pager -o short-monotonic -u overcommitd.service |
		sed -n 's/^\[ *\([0-9.]*\)\].*oom_score_adj pid \([0-9]*\) ([^)]*): [-0-9]* -> \([-0-9]*\) .*/\1 \2 \3/p'
}
# svc_check NAME REASON svcwatch-check-args...: the sampler's verdict
svc_check() {
	n=$1 r=$2
	shift 2
	writes > "$W/writes"
	python3 "$SV" check "$W/watch.json" "$W/writes" "$@" > "$W/$n.check" 2>&1
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

# -- PostgreSQL: Debian's unit (pg_ctlcluster -> pg_ctl -> postmaster);
# local connections trusted so the churn runs as root (admin reserve, below)
HBA=/etc/postgresql/15/main/pg_hba.conf
sed -i '1i local all all trust' "$HBA"
PG_T0=$(uptime_f)
systemctl start "$PG_UNIT" 2> "$W/pg.err" || fail pg-main "systemctl start $PG_UNIT: $(oneline < "$W/pg.err")"
pg_main() { head -n 1 /var/lib/postgresql/15/main/postmaster.pid 2>/dev/null; }
PGM=$(pg_main)
if [ -n "$PGM" ] && wait_for 10 sh -c "[ \"\$(cat /proc/$PGM/oom_score_adj)\" = -1000 ]"; then
	info pg-main "postmaster $PGM at -1000 (started $(awk '{printf "%.2f", $22/100}' "/proc/$PGM/stat"), start command at $PG_T0); $(writes | awk -v p="$PGM" '$2 == p' | oneline)"
	pass pg-main
else
	fail pg-main "postmaster ${PGM:-?} oom_score_adj $(oom_pid "$PGM"), want -1000"
fi

# -- Apache prefork: Debian's unit (apachectl start -> apache2 -k start,
# which daemonizes); small pools and MaxConnectionsPerChild churn
cat > /etc/apache2/conf-enabled/oc-churn.conf <<'EOF'
<IfModule mpm_prefork_module>
StartServers 3
MinSpareServers 2
MaxSpareServers 4
MaxConnectionsPerChild 10
</IfModule>
EOF
printf '<?php echo "ok";\n' > /var/www/html/oc.php
systemctl unmask apache2.service >/dev/null 2>&1
systemctl start apache2.service 2> "$W/ap.err" || fail apache-main "systemctl start apache2: $(oneline < "$W/ap.err")"
APM=$(prop apache2.service MainPID)
if [ -n "$APM" ] && [ "$APM" != 0 ] && wait_for 10 sh -c "[ \"\$(cat /proc/$APM/oom_score_adj)\" = -300 ]"; then
	info apache-main "parent $APM at -300 (mpm: $(apache2ctl -V 2>/dev/null | sed -n 's/^Server MPM: *//p')); $(since | grep -m 1 'apache2: pid .* main of an instance' || echo 'no promotion logged')"
	pass apache-main
else
	fail apache-main "parent ${APM:-?} oom_score_adj $(oom_pid "$APM"), want -300"
fi

# -- two daemonized Redis beside redis-server.service: one in a scope of
# its own, one from this test's unit; each its own port and socket
redis_start() { # N PORT
	d=/run/oc/redis$1
	mkdir -p "$d" && chown redis:redis "$d"
	set -- "$1" "$2" runuser -u redis -- /usr/bin/redis-server --port "$2" --unixsocket "$d/sock" \
		--save "" --appendonly no --enable-debug-command yes --dir "$d" \
		--logfile "$d/log" --daemonize yes --pidfile "$d/pid"
	if [ "$1" = 1 ]; then shift 2; systemd-run --scope -q --unit "oc-redis1" -- "$@"
	else shift 2; "$@"; fi
}
redis_start 1 6391 || fail redis-mains "redis-server --daemonize yes (instance 1) failed"
redis_start 2 6392 || fail redis-mains "redis-server --daemonize yes (instance 2) failed"
RP1='' RP2=
for i in 1 2; do
	wait_for 15 test -s "/run/oc/redis$i/pid" && eval "RP$i=\$(cat /run/oc/redis$i/pid)"
done

# -- gunicorn --preload -w 4 as www-data in a unit of its own; the master
# writes Committed_AS just before it forks the workers (when_ready)
G=/run/oc/gunicorn
mkdir -p "$G" && chown www-data "$G"
cat > "$G/ocapp.py" <<'EOF'
# 48 MiB of private memory preloaded by the master: each worker's fork is
# charged it under strict accounting, shared copy-on-write
BALLAST = bytearray(48 << 20)
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok\n"]
EOF
cat > "$G/conf.py" <<'EOF'
def when_ready(server):
    with open("/proc/meminfo") as f:
        c = [l.split()[1] for l in f if l.startswith("Committed_AS:")][0]
    with open("/run/oc/gunicorn/ready", "w") as f:
        f.write(c + "\n")
EOF
systemd-run -q --unit oc-gunicorn -p User=www-data -p WorkingDirectory="$G" \
	/usr/bin/gunicorn --preload -w 4 --max-requests 8 -b 127.0.0.1:8000 -c "$G/conf.py" ocapp:app ||
	fail gunicorn-main "systemd-run gunicorn failed"
gu_workers() { [ "$(ps --ppid "$(prop oc-gunicorn.service MainPID)" -o pid= | wc -l)" -ge 4 ]; }
if wait_for 60 gu_workers; then
	sleep 2
	GC1=$(meminfo_kb Committed_AS)
	GUM=$(prop oc-gunicorn.service MainPID)
	GC0=$(cat "$G/ready" 2>/dev/null)
else
	GUM=$(prop oc-gunicorn.service MainPID)
	fail gunicorn-main "4 workers not up in 60 s: $(journalctl -q -o cat -u oc-gunicorn.service | tail -n 3 | oneline)"
fi

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
else
	fail svc-strict "mode 2 not set: $(vm_values); $(since | tail -n 3 | oneline)"
fi

# -- PostgreSQL: connection churn, each connection a backend fork
echo 'SELECT 1;' > "$W/select1.sql"
"$PGB" -h /var/run/postgresql -U postgres -n -C -c 4 -t 25 -f "$W/select1.sql" postgres \
	> "$W/pgbench.out" 2>&1
pbrc=$?
info pg-churn "pgbench -C -c 4 -t 25 (100 connections) exit $pbrc: $(grep -E 'failed|tps' "$W/pgbench.out" | oneline)"
PGLOG=/var/log/postgresql/postgresql-15-main.log
nofork=$(grep -c 'could not fork' "$PGLOG" 2>/dev/null)
check pg-churn "pgbench exit $pbrc, 'could not fork' logged $nofork times" test "$pbrc" = 0 -a "$nofork" = 0

# -- crash restart: kill -9 of a backend; the postmaster reinitializes
"$PGB" -h /var/run/postgresql -U postgres -n -c 1 -T 30 -f "$W/select1.sql" postgres > /dev/null 2>&1 &
PBB=$!
be=
# a client backend's title: "postgres: 15/main: postgres postgres [local] ..."
backend() { ps --ppid "$PGM" -o pid=,cmd= | awk '/: postgres postgres / { print $1; exit }'; }
wait_for 10 sh -c "[ -n \"\$(ps --ppid $PGM -o cmd= | grep ': postgres postgres ')\" ]"
be=$(backend)
CR_T0=$(uptime_f)
[ -n "$be" ] && kill -9 "$be"
wait "$PBB" 2>/dev/null
sleep 1
pg_ok() { runuser -u postgres -- psql -qAtc 'select 1' 2>/dev/null | grep -qx 1; }
if [ -n "$be" ] && wait_for 30 pg_ok; then
	after=$(oom_pid "$PGM")
	info pg-crash "backend $be killed; postmaster $PGM $(is_active "$PG_UNIT" && echo active) at $after; $(grep -c 'terminated by signal 9' "$PGLOG") crash restart(s) in its log"
	check pg-crash "after the crash restart: unit $(prop "$PG_UNIT" ActiveState), postmaster $PGM at $after" \
		sh -c "[ '$after' = -1000 ] && systemctl is-active -q $PG_UNIT"
	# once more after the restart: new backends
	"$PGB" -h /var/run/postgresql -U postgres -n -C -c 2 -t 10 -f "$W/select1.sql" postgres > "$W/pgbench2.out" 2>&1 ||
		fail pg-crash "pgbench after the crash restart: $(tail -n 2 "$W/pgbench2.out" | oneline)"
else
	fail pg-crash "no backend to kill ($be) or no connection 30 s after: $(journalctl -q -o cat -u "$PG_UNIT" | tail -n 3 | oneline)"
fi

# -- Apache: ab against mod_php with MaxConnectionsPerChild 10, then graceful
ab -q -n 120 -c 4 http://127.0.0.1/oc.php > "$W/ab1.out" 2>&1
info apache-children "ab: $(grep -E '^(Complete|Failed) requests' "$W/ab1.out" | oneline)"
GR_T0=$(uptime_f)
mark
apachectl graceful > "$W/graceful.out" 2>&1 || fail apache-graceful "apachectl graceful: $(oneline < "$W/graceful.out")"
sleep 2
ab -q -n 60 -c 4 http://127.0.0.1/oc.php > "$W/ab2.out" 2>&1
info apache-graceful "ab after graceful: $(grep -E '^(Complete|Failed) requests' "$W/ab2.out" | oneline)"
APM2=$(prop apache2.service MainPID)

# -- Redis: each instance's BGSAVE under mode 2 after a one-shot apply
overcommitd apply > "$W/apply.out" 2>&1 || info redis-bgsave "apply: $(tail -n 2 "$W/apply.out" | oneline)"
for i in 1 2; do
	s=/run/oc/redis$i/sock
	redis-cli -s "$s" DEBUG POPULATE 20000 key 1000 > /dev/null
	mark
	BG_T0=$(uptime_f)
	redis-cli -s "$s" BGSAVE > "$W/bgsave$i" 2>&1
	n=0
	while [ "$(redis-cli -s "$s" INFO persistence | tr -d '\r' | sed -n 's/^rdb_bgsave_in_progress://p')" != 0 ] && [ "$n" -lt 120 ]; do
		n=$((n + 1)); sleep 0.5
	done
	st=$(redis-cli -s "$s" INFO persistence | tr -d '\r' | sed -n 's/^rdb_last_bgsave_status://p')
	cow=$(redis-cli -s "$s" INFO persistence | tr -d '\r' | sed -n 's/^rdb_last_cow_size://p')
	wait_for 5 logged 'redis: fork episode' || true
	ep=$(since | grep -m 1 'redis: fork episode')
	eval "BGST$i=\$st BGEP$i=\${ep:+1}"
	info redis-bgsave "instance $i: BGSAVE '$(oneline < "$W/bgsave$i")' status $st, rdb_last_cow_size $cow; daemon: ${ep:-no episode logged}"
done
check redis-bgsave "BGSAVE status: instance 1 ${BGST1:-?}, instance 2 ${BGST2:-?}" test "${BGST1:-}${BGST2:-}" = okok
check redis-cow "a fork episode (COW learned) logged for instance 1: ${BGEP1:-no}, 2: ${BGEP2:-no}" \
	test "${BGEP1:-}${BGEP2:-}" = 11

# -- gunicorn: --max-requests 8 churn (ab: 80 requests -> ~10 replacements)
ab -q -n 80 -c 2 http://127.0.0.1:8000/ > "$W/ab3.out" 2>&1
info gunicorn-workers "ab: $(grep -E '^(Complete|Failed) requests' "$W/ab3.out" | oneline)"
sleep 2

# ------------------------------------------------- the sampler's verdicts
kill "$WATCH" 2>/dev/null
wait "$WATCH"
# the mains' values held through phases 1 and 2, nothing fought over
svc_check pg-main-held "the postmaster left -1000" --pid "$PGM" --want -1000 --bound 5 --label postmaster
svc_check apache-main-held "the parent left -300" --pid "$APM" --want -300 --bound 5 --label "apache parent"
svc_check pg-backends "backends (children of the postmaster) not at 0 within 1 s, or rewritten" \
	--parent "$PGM" --want 0 --bound 1.0 --label backends
svc_check apache-children "workers kept the parent's value past 0.5 s" \
	--parent "$APM" --want 300 --bound 0.5 --until "$GR_T0" --label workers
svc_check apache-graceful "workers after graceful kept the parent's value past 0.5 s" \
	--parent "$APM2" --want 300 --bound 0.5 --since "$GR_T0" --label "workers after graceful"
# helpers: no apache2 but the parent (and the process that daemonized into
# it) was ever given the main value
promo=$(journalctl -q -o cat -u overcommitd.service | sed -n 's/.*apache2: pid [0-9]* (apache2) is the main of an instance now (its parent \([0-9]*\) exited).*/\1/p' | oneline)
ap_mains=$(journalctl -q -o cat -u overcommitd.service |
	sed -n 's/.*oom_score_adj pid \([0-9]*\) (apache2): [-0-9]* -> -300 .*/\1/p' | sort -u | oneline)
helpers=$(echo "$ap_mains" | tr ' ' '\n' | awk -v ok=" $APM $APM2 $promo " 'NF && index(ok, " " $1 " ") == 0' | oneline)
info apache-helpers "main value written to apache2 pids: ${ap_mains:-none}; parent $APM, daemonized from: ${promo:-none}"
check apache-helpers "helpers (apache2 -t, -k graceful) given the main value: $helpers" test -z "$helpers"
svc_check gunicorn-workers "workers (replacements included) not at 500 within 1 s" \
	--parent "$GUM" --want 500 --bound 1.0 --label workers
for i in 1 2; do
	eval "p=\$RP$i"
	svc_check "redis-bgsave-child$i" "BGSAVE child of instance $i not at 800 within 1 s" \
		--parent "$p" --want 800 --bound 1.0 --label "BGSAVE children of instance $i"
done

# -- gunicorn: predicted commit for the 4 workers vs the Committed_AS rise
overcommitd recommend --format json > "$W/rec.json" 2> "$W/rec.err"
gw=$(svc_json gunicorn workers) gwc=$(svc_json gunicorn workers_commit_kb)
if [ -n "${GC0:-}" ] && [ -n "${GC1:-}" ] && [ -n "$gwc" ]; then
	rise=$((GC1 - GC0))
	info gunicorn-commit "Committed_AS ${GC0} kB before the workers, ${GC1} kB with 4: rise ${rise} kB; report now: $gw workers, ${gwc} kB (commit per worker $(svc_json gunicorn commit_per_worker_kb) kB), fork need $(svc_json gunicorn fork_need_kb) kB"
	check gunicorn-commit "predicted 4 x $((gwc / ${gw:-1})) kB vs rise $rise kB: not within 10%" \
		python3 -c "import sys; p = 4 * $gwc / max($gw, 1); sys.exit(abs(p - $rise) > 0.1 * $rise)"
else
	fail gunicorn-commit "no figures: ready ${GC0:-?} with-workers ${GC1:-?} report ${gwc:-?} ($(head -c 300 "$W/rec.err"))"
fi

# Not run: PostgreSQL under an undersized limit (the fork risk reported
# before pgbench fails).  Setting vm.overcommit_kbytes by hand to
# Committed_AS + 64 MiB of admin reserve + 2 MiB (enforce = no) hung this
# guest twice past the run's 1500 s limit on a host at load 15-40, even with
# the limit restored by a background job after 25 s; not understood yet.

journalctl -q -o cat _SYSTEMD_UNIT=overcommitd.service -p warning --since "-30min" > "$W/warnings"
info svc-warnings "$(wc -l < "$W/warnings") warning(s): $(head -n 4 "$W/warnings" | oneline | cut -c 1-500)"

# stop what ran, so that removal runs on a quiet guest
systemctl stop --no-block oc-gunicorn.service apache2.service "$PG_UNIT" 2>/dev/null
svc_stopped() { ! is_active oc-gunicorn.service && ! is_active apache2.service && ! is_active "$PG_UNIT"; }
wait_for 30 svc_stopped || info svc-time "still stopping: $(systemctl is-active oc-gunicorn.service apache2.service "$PG_UNIT" | oneline)"
for i in 1 2; do redis-cli -s "/run/oc/redis$i/sock" shutdown nosave > /dev/null 2>&1; done
rm -f "$POL"/6-*.ini
printf '[host]\nenforce = yes\nadmin_reserve = %sK\n' "$ADMIN_RESERVE_KB" > "$POL/50-enforce.ini"
cp "$EX/redis.ini" "$POL/60-redis.ini"
info svc-time "the real services took $(awk "BEGIN{printf \"%d\", $(uptime_f) - $S0}") s"
