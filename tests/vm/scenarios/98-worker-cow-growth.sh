# worker-cow-growth (issue 11 item 2): a prefork pool whose workers each
# write DIRTY MiB of the memory they inherited (tests/helpers/cowpool: one
# byte a page, every write copies a page the main still maps) under the
# daemon (interval 1 s).  The worker's RssAnon does not move - the page was
# in it from the fork on - so RssAnon alone learns ~0.  The daemon samples a
# few workers' smaps_rollup Private_Dirty (workcache.h) and must learn
# ~DIRTY MiB per worker (+-15%):
# - learned.json holds the exited workers' private growth (the daemon saves
#   it from its pass, at most once in 5 s), each within +-15% of DIRTY MiB,
#   and their RssAnon growth far below it (what RssAnon alone would learn);
# - `recommend` (one-shot, from learned.json) reports worker_growth_kb
#   within +-15% of DIRTY MiB for the live pool.
# vm-timeout: 60

DIRTY=${OC_COW_DIRTY:-24}   # MiB each worker un-shares
MAIN=${OC_COW_MAIN:-48}     # MiB the main maps and writes before forking
policy 00-host.ini <<'POL'
[host]
enforce = yes
interval = 1
POL
policy 50-cowpool.ini <<'POL'
[service cowpool]
match_comm = oc-cowpool
oom_score_adj = -100
child_oom_score_adj = 100
POL
ocd_start
rm -f /tmp/cp.ready
cp /oc/bin/cowpool /tmp/oc-cowpool
read -r t0 _ < /proc/uptime
# 2 workers, each living 3 s: a replacement forked at each exit
bg /tmp/oc-cowpool -n oc-cowpool -m "$MAIN" -d "$DIRTY" -c 2 -t 3 -r /tmp/cp.ready
wait_file /tmp/cp.ready 10 || fail "cowpool did not start"
read -r M < /tmp/cp.ready
L=$OCSTATE/learned.json
want=$((DIRTY * 1024))
lo=$((want * 85 / 100)) hi=$((want * 115 / 100))
n=0
until [ "$(jget -f "$L" services/name=cowpool/workers/private_dirty/total 2>/dev/null || echo 0)" -ge 2 ]; do
	n=$((n + 1))
	[ "$n" -lt 200 ] || fail "learned.json holds no 2 sampled workers' private growth 20 s after start: $(cat "$L" 2>/dev/null)"
	nap 0.1
done
read -r t1 _ < /proc/uptime
priv=$(jget -l -f "$L" services/name=cowpool/workers/private_dirty/kb | tr '\n' ' ')
rss=$(jget -l -f "$L" services/name=cowpool/workers/rss_growth/kb | tr '\n' ' ')
log "learned.json after $(awk "BEGIN{print $t1 - $t0}") s: private_dirty kB [$priv], rss_growth kB [$rss]"
for v in $priv; do
	[ "$v" -ge "$lo" ] && [ "$v" -le "$hi" ] ||
		fail "a worker's learned private growth $v kB is not within 15% of $want kB ($DIRTY MiB written)"
done
for v in $rss; do # RssAnon alone: the COW copies are invisible to it
	[ "$v" -lt $((want / 10)) ] ||
		fail "a worker's RssAnon growth $v kB: the helper did not un-share inherited pages only"
done
oc recommend --format json
json_ok recommend
g=$(j 'services/name=cowpool/worker_growth_kb')
nw=$(j 'services/name=cowpool/workers')
from=$(j 'services/name=cowpool/worker_growth_learned_from')
[ -n "$g" ] && [ "$g" -ge "$lo" ] && [ "$g" -le "$hi" ] ||
	fail "recommend: worker_growth_kb '$g', want $want +-15% (learned from '$from', $nw workers)"
read -r t2 _ < /proc/uptime
info "each worker wrote $DIRTY MiB it inherited: learned private growth [$priv] kB (RssAnon growth [$rss] kB); recommend worker_growth_kb $g (want $want +-15%, from $from exited workers, $nw live); $(awk "BEGIN{print $t2 - $t0}") s"
kill "$M"
ocd_stop
[ "$OCD_RC" = 0 ] || fail "SIGTERM: the daemon exited $OCD_RC"
if grep -q 'learned.json' "$OCD_LOG"; then
	fail "the daemon complained about learned.json: $(grep learned.json "$OCD_LOG")"
fi
pass
