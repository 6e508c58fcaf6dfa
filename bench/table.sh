#!/bin/sh
# bench/table.sh RESULTS_DIR - the table of `make bench` from the key=value
# lines bench/run.sh left in RESULTS_DIR (markdown, one row per figure, the
# goal and whether it was met).  Medians over the repeated runs.
set -u
R=$1

median() { sort -n | awk '{v[NR]=$1} END{if(NR==0){print "-"; exit} print (NR%2)?v[(NR+1)/2]:int((v[NR/2]+v[NR/2+1])/2)}'; }
# pick FILE LINE-PREFIX KEY: median of KEY over the lines starting with PREFIX
pick() { grep -- "^$2 " "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$3=//p" | median; }
# ratio A B: A/B with two decimals, "-" when either is missing
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{if(a=="-"||b=="-"||b+0==0){print "-"}else{printf "%.2f", a/b}}'; }
# le A B: "met" when A <= B
le() { awk -v a="$1" -v b="$2" 'BEGIN{if(a=="-"||b=="-"){print "n/a"}else if(a+0<=b+0){print "met"}else{print "NOT met"}}'; }
ms() { awk -v u="$1" 'BEGIN{if(u=="-"){print "-"}else if(u>=10000){printf "%.0f ms", u/1000}else if(u>=1000){printf "%.1f ms", u/1000}else{printf "%d us", u}}'; }
row() { printf '| %s | %s | %s | %s | %s | %s |\n' "$@"; }

m=$R/machine.txt
echo "machine: $(sed -n 's/^nproc=//p' "$m") CPUs, $(sed -n 's/^cpu=//p' "$m" | tr '_' ' '), kernel $(sed -n 's/^kernel=//p' "$m"), $(($(sed -n 's/^memtotal_kb=//p' "$m") / 1024)) MiB; load $(sed -n 's/^load_start=//p' "$m") at start, $(sed -n 's/^load_end=//p' "$m") at end; $(sed -n 's/^seconds=//p' "$m") s; $(sed -n 's/^date=//p' "$m")"
echo
row "#" "figure" "overcommitd" "baseline (same run)" "ratio" "goal: met?"
row "---" "---" "---" "---" "---" "---"

# 1. latency, host
L=$R/latency.txt
if [ -s "$L" ]; then
	for load in quiet storm smaps; do
		grep -q "^spawnlat ocd-$load " "$L" || continue
		o50=$(pick "$L" "spawnlat ocd-$load" p50_us); o99=$(pick "$L" "spawnlat ocd-$load" p99_us)
		f50=$(pick "$L" "spawnlat floor-$load" p50_us); f99=$(pick "$L" "spawnlat floor-$load" p99_us)
		om=$(grep "^spawnlat ocd-$load " "$L" | tr ' ' '\n' | sed -n 's/^missed=//p' | awk '{s+=$1} END{print s+0}')
		row "1" "host, $load: exec -> joined p50 / p99 (enforce = no; $om missed)" "$(ms "$o50") / $(ms "$o99")" \
			"floor $(ms "$f50") / $(ms "$f99")" "p99 $(ratio "$o99" "$f99")x" \
			"p99 <= 3x floor: $(le "$(ratio "$o99" "$f99")" 3)"
	done
	d50=$(pick "$L" "spawnlat floor-quiet" deliver_p50_us); d99=$(pick "$L" "spawnlat floor-quiet" deliver_p99_us)
	e50=$(pick "$L" "spawnlat floor-quiet" exec_p50_us)
	row "1" "host, quiet: of the floor, exec syscall -> event / event -> read" "" \
		"$(ms "$e50") / $(ms "$d50") (p99 $(ms "$d99"))" "" ""
fi

# 1. latency, guest (enforce = yes)
V=$R/vm.txt
if [ -s "$V" ] && grep -q 'spawnlat ' "$V"; then
	# the "n=" line of that run (its "parts=" line has exec_/deliver_ keys)
	g() { sed -n "s/^INFO bench-latency: spawnlat $1 n=.* $2=\([0-9]*\).*/\1/p" "$V" | median; }
	for load in quiet storm; do
		o50=$(g "ocd-line-$load" p50_us); o99=$(g "ocd-line-$load" p99_us)
		p50=$(g "ocd-poll-$load" p50_us); p99=$(g "ocd-poll-$load" p99_us)
		f50=$(g "floor-$load" p50_us); f99=$(g "floor-$load" p99_us)
		c50=$(g "cgrulesengd-$load" p50_us); c99=$(g "cgrulesengd-$load" p99_us)
		row "1" "guest (qemu TCG), $load: exec -> oom_score_adj + cgroup written, p50 / p99" \
			"$(ms "$o50") / $(ms "$o99")$( [ "$p50" = - ] || echo " (polled: $(ms "$p50") / $(ms "$p99"))")" \
			"floor $(ms "$f50") / $(ms "$f99"); cgrulesengd (polled) $(ms "$c50") / $(ms "$c99")" \
			"p99 $(ratio "$o99" "$f99")x floor, $(ratio "$o99" "$c99")x cgrulesengd" \
			"p99 <= 3x floor: $(le "$(ratio "$o99" "$f99")" 3); ahead of cgrulesengd: $(le "$o99" "$c99")"
	done
	for load in quiet storm; do
		fl=$(sed -n "s/^INFO bench-latency: fsyncs ocd-line-$load //p" "$V" | head -n 1)
		[ -n "$fl" ] || continue
		get() { echo "$fl" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
		row "1" "guest, $load: fsync-family calls by the daemon (tracefs hist trigger), beyond its start-up" \
			"$(get extra) over $(get execs) execs, $(get hostwide) host-wide originals journaled once (2 fsyncs each) in them; $(get per_exec) per exec" \
			"start-up: $(get startup)" "" \
			"0 per exec: $( [ "$(get unexplained)" -le 0 ] 2>/dev/null && echo met || echo "NOT met ($(get unexplained) beyond the host-wide ones)")"
	done
fi

# 2. storm
S=$R/storm.txt
if [ -s "$S" ]; then
	sum() { grep "^storm $1 " "$S" | tr ' ' '\n' | sed -n "s/^$2=//p" | awk '{s+=$1} END{print s+0}'; }
	runs=$(grep -c '^storm ocd ' "$S")
	row "2" "storm: $runs x $(pick "$S" "storm ocd" forks) forks at $(pick "$S" "storm ocd" rate)/s, matched execs missed" \
		"$(sum ocd missed) of $(sum ocd execs) ($(sum ocd resyncs) rescans)" \
		"floor, libnl default buffer ($(pick "$S" "storm floor-0" rcvbuf) B): $(sum floor-0 missed) of $(sum floor-0 execs) ($(sum floor-0 overflows) overflows); floor, 4 MiB: $(sum floor-4194304 missed) of $(sum floor-4194304 execs)" \
		"" "0 missed: $(le "$(sum ocd missed)" 0)"
	row "2" "storm: CPU per 1,000 events" "$(ms "$(pick "$S" "storm ocd" cpu_us_per_1k_events)")" \
		"floor $(awk -v c="$(pick "$S" "storm floor-4194304" cpu_us)" -v e="$(pick "$S" "storm floor-4194304" events)" 'BEGIN{if(e>0)printf "%.0f us", c*1000/e; else print "-"}')" "" ""
fi

# 3. observation cost
C=$R/scan.txt
if [ -s "$C" ]; then
	for np in 1000 10000; do
		for pol in shipped all-match; do
			oc=$(pick "$C" "scan np=$np policy=$pol scanpass" ocd_cpu_us)
			nv=$(pick "$C" "scan np=$np policy=$pol scanpass" naive_cpu_us)
			pr=$(pick "$C" "scan np=$np policy=$pol scanpass" procs)
			row "3" "one observation pass, $pr processes, policy $pol: CPU" "$(ms "$oc")" \
				"smaps_rollup of each: $(ms "$nv")" "$(ratio "$oc" "$nv")x" ""
		done
		# the daemon's periodic pass through the worker cache (issue 11 item 6)
		for shape in prefork mains; do
			k="scan np=$np shape=$shape scanpass-daemon"
			pc=$(pick "$C" "$k" ocd_pass_cpu_us); fc=$(pick "$C" "$k" ocd_full_cpu_us)
			cc=$(pick "$C" "$k" ocd_cycle_cpu_us); nv=$(pick "$C" "$k" naive_cpu_us)
			tk=$(pick "$C" "$k" tracked)
			[ "$tk" = - ] && continue
			row "3" "daemon pass, $tk tracked ($shape: $( [ $shape = prefork ] && echo "1 main + workers" || echo "every one a main")): CPU per pass / full scan / average over 30 passes" \
				"$(ms "$pc") / $(ms "$fc") / $(ms "$cc")" "smaps_rollup of each: $(ms "$nv")" \
				"pass $(ratio "$pc" "$nv")x, average $(ratio "$cc" "$nv")x" \
				"<= 0.5x naive: $(le "$(ratio "$cc" "$nv")" 0.5)"
		done
		sw=$(grep "^status np=$np " "$C" | sed -n 's/.*wall_us=\([0-9]*\).*/\1/p' | median)
		row "3" "\`overcommitd status --format json\`, ~$np extra processes: wall (whole command)" "$(ms "$sw")" "" "" ""
	done
fi

# 4. harm
H=$R/harm.txt
if [ -s "$H" ]; then
	for mode in plain churn; do
		n=$(pick "$H" "toucher $mode-none" p99_ns)
		o=$(pick "$H" "toucher $mode-ocd" p99_ns)
		s=$(pick "$H" "toucher $mode-smaps" p99_ns)
		n9=$(pick "$H" "toucher $mode-none" p999_ns)
		o9=$(pick "$H" "toucher $mode-ocd" p999_ns)
		s9=$(pick "$H" "toucher $mode-smaps" p999_ns)
		nm=$(pick "$H" "toucher $mode-none" max_ns)
		om=$(pick "$H" "toucher $mode-ocd" max_ns)
		sm=$(pick "$H" "toucher $mode-smaps" max_ns)
		spread=$(grep "^toucher $mode-none " "$H" | sed -n 's/.*p99_ns=\([0-9]*\).*/\1/p' | sort -n | awk '{v[NR]=$1} END{if(NR>1)printf "%.2f", v[NR]/v[1]; else print "-"}')
		row "4" "service ($mode) iteration p99 / p99.9 / max: overcommitd (1 s) vs no agent vs smaps_rollup poller (1 s)" \
			"$(ms $((o / 1000))) / $(ms $((o9 / 1000))) / $(ms $((om / 1000)))" \
			"none $(ms $((n / 1000))) / $(ms $((n9 / 1000))) / $(ms $((nm / 1000))); smaps $(ms $((s / 1000))) / $(ms $((s9 / 1000))) / $(ms $((sm / 1000)))" \
			"p99: ocd $(ratio "$o" "$n")x, smaps $(ratio "$s" "$n")x; max: ocd $(ratio "$om" "$nm")x, smaps $(ratio "$sm" "$nm")x" \
			"p99 within noise (no agent's own max/min over runs: ${spread}x): $(le "$(ratio "$o" "$n")" "$spread")"
	done
fi

# 5. footprint
F=$R/foot.txt
if [ -s "$F" ]; then
	for name in shipped examples; do
		l=$(grep "^foot $name " "$F")
		get() { echo "$l" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
		secs=$(get seconds); evm=$(get events_per_min)
		row "5" "idle daemon, policies $name, $secs s: RSS (peak) / CPU / wakeups per min" \
			"$(get rss_kb) KiB ($(get hwm_kb)) / $(get cpu_ms) ms / $(get wakeups_per_min)" \
			"interval 10 s asks 6 wakeups/min; the host sent $evm proc events/min (pcfloor: $(get host_events_per_min))" "" \
			"RSS < 4 MiB: $(le "$(get rss_kb)" 4095); wakeups <= 6 + events/min: $(le "$(get wakeups_per_min)" $((6 + ${evm:-0})))"
	done
fi

# 6. decision quality (guest)
if [ -s "$V" ]; then
	rb=$(sed -n 's/^INFO redis-bgsave: before apply: //p' "$V" | head -n 1)
	ra=$(sed -n 's/^INFO redis-bgsave: after apply: //p' "$V" | head -n 1)
	rr=$(grep -E '^(PASS|FAIL) redis-bgsave' "$V")
	[ -n "$rr" ] && row "6" "Redis BGSAVE under mode 2, before / after apply" "after: ${ra:-?}" "before: ${rb:-?}" "" \
		"all -> none: $( [ "${rr%% *}" = PASS ] && echo met || echo "NOT met ($rr)")"
	bl=$(sed -n 's/^INFO bench-cow: blanket verdict: //p' "$V")
	pl=$(sed -n 's/^INFO bench-cow: plan verdict: //p' "$V")
	[ -n "$bl$pl" ] && row "6" "COW blow-up: who is killed" "overcommitd's plan: ${pl:-?}" \
		"overcommit_memory=1 only: ${bl:-?}" "" \
		"the child, never the main: $(echo "$pl" | grep -q 'target met' && echo met || echo 'NOT met')"
	pt=$(sed -n 's/^INFO bench-cow: plan: main ocb-main.*; \([0-9.]*\) s; memory.events: \(.*\)/\2 in \1 s/p' "$V")
	[ -n "$pt" ] && echo "COW blow-up, plan case, the group's memory.events: $pt"
	rc=$(sed -n 's/^INFO bench-refusal: refusal capture cost: //p' "$V")
	if [ -n "$rc" ]; then
		get() { echo "$rc" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
		row "7" "commit refusal capture: CPU (instructions, qemu -icount) of 20,000 mmap/munmap + 4,000 forks per mode (the issue's mix)" \
			"on: $(get on_cpu_ms) ms" "off: $(get off_cpu_ms) ms" \
			"$(get ratio) (pairs $(get pair_min)..$(get pair_max); mmap $(get mmap_ratio), fork $(get fork_ratio))" \
			"<= 1.05: $(awk "BEGIN{print ($(get ratio) <= 1.05) ? \"met\" : \"NOT met\"}")"
	fi
	grep -q '^FAIL bench-latency: cgrulesengd' "$V" && echo "FAILED: $(sed -n 's/^FAIL bench-latency: //p' "$V")"
	tail -n 1 "$V" | grep -q 'passed' && echo "guest scenarios: $(tail -n 1 "$V")"
fi
# 7. the exact fork charge (issue 10): one smaps read per GiB, and how often
S=$R/smaps.txt
if [ -s "$S" ]; then
	for mib in 256 1024; do
		grep -q "^smapscost: mib=$mib " "$S" || continue
		c=$(pick "$S" "smapscost: mib=$mib" smaps_cpu_ms_per_gib)
		w=$(pick "$S" "smapscost: mib=$mib" smaps_ms_per_gib)
		su=$(pick "$S" "smapscost: mib=$mib" status_us_median)
		sm=$(pick "$S" "smapscost: mib=$mib" smaps_us_median)
		row "7" "exact fork charge: one smaps read of a $mib MiB process (touched 4 KiB pages), per GiB: CPU / wall" \
			"$c ms / $w ms" "status (the estimate): $(ms "$su")" "$(ratio "$sm" "$su")x" \
			"read on demand only (never the exec path)"
	done
	for part in latency storm; do
		n=$(grep "^$part smaps reads" "$S" | awk '{s+=$4} END{print s+0}')
		k=$(grep -c "^$part smaps reads" "$S")
		us=$(grep "^$part smaps reads" "$S" | sed 's/.*(\([0-9]*\) us for.*/\1/' | awk '{s+=$1} END{print s+0}')
		j=$(grep "^$part smaps reads" "$S" | sed 's/.* \([0-9]*\) execs joined.*/\1/' | awk '{s+=$1} END{print s+0}')
		jm=$(grep "^$part smaps reads" "$S" | sed 's/.*(max \([0-9]*\) us).*/\1/' | sort -n | tail -n 1)
		[ "$k" -gt 0 ] && row "7" "smaps reads by the daemon during the $part runs ($k daemon runs): reads / their time / execs joined during one (worst)" \
			"$n / $(ms "$us") / $j ($(ms "${jm:-0}"))" "" "" \
			"none on the exec path: on the reader thread, the loop never waits"
	done
fi
[ -s "$V" ] || echo "guest part: not run"
[ -s "$V" ] && sed -n 's/^INFO bench-latency: \(ocd-line-[a-z]* by spawn order: .*\)/guest, \1/p' "$V"
exit 0
