# bench-refusal (issue 14): the CPU the commit-refusal capture costs the
# processes it watches.  refusalcost makes 100,000 successful mmap/munmap
# pairs and 20,000 forks with the capture attached and as many without, in
# 10 interleaved blocks per mode (the capture in a holder process, as in the
# daemon); goal: with <= 1.05 x without.  The pairs' spread is the noise.
# Several minutes under TCG (forks are slow there): 900 s allowed.
# vm-timeout: 900
refusalcost > /tmp/refusalcost.out 2>&1 &
rpid=$!
OC_BG_PIDS="$OC_BG_PIDS $rpid"
# the pairs as they end (a timeout keeps what was measured)
n=0
while kill -0 "$rpid" 2>/dev/null; do
	sleep 5
	c=$(grep -c '^pair=' /tmp/refusalcost.out)
	[ "$c" -gt "$n" ] && grep '^pair=' /tmp/refusalcost.out | sed -n "$((n + 1)),${c}p" | while read -r l; do log "$l"; done
	n=$c
done
wait "$rpid" || fail "refusalcost: $(tail -n 3 /tmp/refusalcost.out)"
sum=$(sed -n 's/^refusalcost: off\/on //p' /tmp/refusalcost.out)
[ -n "$sum" ] || fail "refusalcost printed no summary: $(tail -n 3 /tmp/refusalcost.out)"
info "refusal capture cost: $sum"
pass
