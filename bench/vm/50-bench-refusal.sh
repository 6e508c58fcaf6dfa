# bench-refusal (issue 14): the CPU the commit-refusal capture costs the
# processes it watches.  refusalcost makes 100,000 successful mmap/munmap
# pairs and 20,000 forks, alternately without and with the capture attached
# (5 rounds each, medians); goal: with <= 1.05 x without.
# vm-timeout: 600
ROUNDS=5
on='' off=''
i=0
while [ "$i" -lt "$ROUNDS" ]; do
	for mode in off on; do
		flag=
		[ "$mode" = on ] && flag=-c
		out=$(refusalcost $flag 2>&1) || fail "refusalcost $flag: $out"
		ms=$(echo "$out" | sed -n 's/.*cpu_ms=\([0-9]*\).*/\1/p')
		log "$out"
		if [ "$mode" = on ]; then on="$on $ms"; else off="$off $ms"; fi
	done
	i=$((i + 1))
done
med() { echo "$@" | tr ' ' '\n' | grep . | sort -n | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }
mon=$(med $on)
moff=$(med $off)
ratio=$(awk "BEGIN{printf \"%.3f\", $mon / $moff}")
info "refusal capture cost: cpu_ms off=$moff on=$mon ratio=$ratio (rounds off:$off on:$on)"
pass
