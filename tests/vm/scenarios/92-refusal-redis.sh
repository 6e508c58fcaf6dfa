# refusal-redis (issue 14, proof 2): Redis under vm.overcommit_memory=2
# with less commit headroom than its heap: BGSAVE fails ("fork: Cannot
# allocate memory").  The daemon (enforce = no: it only watches) records
# exactly one fork refusal naming the service and its instance, logs it in
# plain words, and the next `recommend` cites it as observed.
# vm-timeout: 200
KEYS=${OC_REDIS_KEYS:-150000}   # x 1000 B values: ~200 MB of heap
need_oc
ship=/oc/policies/examples/redis.ini
svc=$(sed -n 's/^\[service[[:space:]]*\([^]]*\)\].*/\1/p' "$ship" | head -n 1)
[ -n "$svc" ] || fail "no [service] in $ship"
policy 00-host.ini <<'POL'
[host]
enforce = no
interval = 1
POL
cp "$ship" "$POL/50-redis.ini"
chmod 0644 "$POL/50-redis.ini"
# the guest runs Redis as root, the shipped policy names match_user = redis
# (as on a Debian host): without this the guest's Redis is not the service
printf '[service %s]\nmatch_user = root\n' "$svc" >"$POL/55-redis-guest-user.ini"
chmod 0644 "$POL/55-redis-guest-user.ini"

# jemalloc must see mode 2 at start, or it maps its heap MAP_NORESERVE
vm_set overcommit_ratio 50
vm_set overcommit_memory 2
bg redis_run
redis_ready "$BG_PID"
RPID=$(pidof redis-server)
[ "$(rc DEBUG POPULATE "$KEYS" key 1000)" = OK ] || fail "DEBUG POPULATE failed"
ac=$(ac_kb "$RPID")
log "redis pid $RPID: accountable $ac kB, VmData $(status_kb "$RPID" VmData) kB"
ocd_start
# the fork needs ~$ac kB more; leave 64 MiB
strict_headroom 64
res=$(rc BGSAVE 2>&1)
nap 0.5
vm_set overcommit_ratio 50
vm_set overcommit_memory 0
log "BGSAVE: $res; $(persist rdb_last_bgsave_status)"
rf_wait 1 10 || fail "no refusal recorded within 10 s of the refused BGSAVE ($res): $(grep -i refus "$OCD_LOG" | tr '\n' ';')"
nap 1.5
n=$(jget -c -f "$RF_FILE" recent/op=fork)
[ "$n" = 1 ] || fail "$n fork records for one refused BGSAVE: $(jget -f "$RF_FILE" recent)"
[ "$(jget -f "$RF_FILE" recent/op=fork/tgid)" = "$RPID" ] || fail "fork record pid $(jget -f "$RF_FILE" recent/op=fork/tgid), redis is $RPID"
[ "$(jget -f "$RF_FILE" recent/op=fork/service)" = "$svc" ] || fail "fork record service '$(jget -f "$RF_FILE" recent/op=fork/service)', expected $svc"
[ "$(jget -f "$RF_FILE" recent/op=fork/instance)" = "$RPID" ] || fail "fork record instance $(jget -f "$RF_FILE" recent/op=fork/instance)"
need=$(jget -f "$RF_FILE" recent/op=fork/need_kb)
left=$(( $(jget -f "$RF_FILE" recent/op=fork/commit_limit_kb) - $(jget -f "$RF_FILE" recent/op=fork/committed_kb) ))
res_kb=$(jget -f "$RF_FILE" recent/op=fork/reserve_kb)
# the fork stops at the first VMA that does not fit: what it charged up to
# there did not fit under the headroom the record shows less the reserves
# (within the percpu counter's slack, 2 x 3.8 MiB here), and it is at most
# everything accountable
[ $((need + res_kb + 8192)) -ge "$left" ] && [ "$need" -le "$ac" ] ||
	fail "fork record needs $need kB with $left kB left and $res_kb kB of reserves; accountable $ac kB"
info "fork record: needs at least $need kB (accountable $ac kB), $left kB left under CommitLimit, reserves $res_kb kB"
line=$(grep "fork of redis-server (pid $RPID, service $svc) refused: needs at least" "$OCD_LOG")
[ -n "$line" ] || fail "no log line for the refused fork: $(grep refused "$OCD_LOG" | tr '\n' ';')"
info "BGSAVE refused: $line"
oc recommend --format json
[ "$OC_RC" = 2 ] || [ "$OC_RC" = 0 ] || fail "recommend exit $OC_RC"
cited=$(jget -c -f "$OUT" risks/service=$svc)
msg=$(jget -f "$OUT" risks/service=$svc/message)
echo "$msg" | grep -q 'observed 1 time since .* (fork 1)' ||
	fail "recommend does not cite the refusal for $svc ($cited risks): $msg"
info "recommend: $msg"
ocd_stop
[ "$OCD_RC" = 0 ] || fail "the daemon exited $OCD_RC"
pass
