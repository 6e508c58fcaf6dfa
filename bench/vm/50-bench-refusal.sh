# bench-refusal (issue 14): the CPU the commit-refusal capture costs the
# processes it watches.  refusalcost makes successful mmap/munmap pairs and
# forks with the capture attached and as many without, in interleaved
# blocks (the capture in a holder process, as in the daemon); goal: with
# <= 1.05 x without.  bench/vm.sh boots this under qemu -icount: the guest
# clock counts instructions, so a CPU time is an instruction count and the
# host's load does not enter it (an A/A run gives 1.000).  Per-call cost is
# then fixed, so the mix (5 mmaps per fork) at a fifth of its size
# (20,000 + 4,000 a mode) gives its ratio in ~4 min instead of ~15
# (BENCHMARKS.md 8 has the full-size run).
# vm-timeout: 600
refusalcost -m 20000 -f 4000 -b 2 > /tmp/refusalcost.out 2>&1 ||
	fail "refusalcost: $(tail -n 3 /tmp/refusalcost.out)"
while read -r l; do log "$l"; done < /tmp/refusalcost.out
sum=$(sed -n 's/^refusalcost: off\/on //p' /tmp/refusalcost.out)
[ -n "$sum" ] || fail "refusalcost printed no summary: $(tail -n 3 /tmp/refusalcost.out)"
info "refusal capture cost: $sum"
pass
