# refusal-malloc (issue 14, proof 1): under vm.overcommit_memory=2 an
# allocation of more than the commit headroom fails while RAM is free; the
# daemon's capture (BPF on __vm_enough_memory) records each refusal of the
# commit check: size right to a page, pid and comm right, the headroom at
# that instant, one log line in plain words; a process that renamed itself
# after its exec still named with its service.
#  - one mmap -> exactly one record;
#  - one malloc -> glibc asks the kernel three times (mmap, then brk, then
#    mmap again as its fallbacks), three refusals of the commit check for
#    one request of the program: exactly one record (tries 3), its size the
#    first request's (400 MiB plus glibc's chunk header, one page), one log
#    line.
# vm-timeout: 90
SIZE_KB=$((400 * 1024))
need_oc
policy 00-host.ini <<'POL'
[host]
enforce = no
interval = 1
POL
# allocer starts as "allocer" and renames itself (prctl) after its exec:
# the tracker never saw an ocd-mmap exec; the record still names the service
policy 50-seed.ini <<'POL'
[service seed]
match_comm = ocd-mmap
POL
ocd_start
grep -q 'commit refusal capture: active' "$OCD_LOG" ||
	fail "capture not active: $(grep -i 'refusal' "$OCD_LOG" | tr '\n' ';')"
mi_var MemAvailable; avail=$MI

# refused KIND FLAGS: one allocer run under 200 MiB of headroom; sets RES, PID
refused() {
	strict_headroom 200
	allocer -n "$1" $2 "$SIZE_KB" > /tmp/alloc.out 2>&1
	vm_set overcommit_memory 0
	read -r RES < /tmp/alloc.out
	log "allocer: $RES"
	case $RES in *enomem=1*) ;; *) fail "$1 of $SIZE_KB KiB under 200 MiB headroom did not fail: $RES" ;; esac
	PID=$(echo "$RES" | sed -n 's/^pid=\([0-9]*\) .*/\1/p')
}
# check_rec I OP MIN_KB MAX_KB: record I (0 = oldest) of pid $PID, comm $COMM
check_rec() {
	r="recent/$1"
	[ "$(jget -f "$RF_FILE" $r/tgid)" = "$PID" ] || fail "record $1: pid $(jget -f "$RF_FILE" $r/tgid), allocer was $PID"
	[ "$(jget -f "$RF_FILE" $r/comm)" = "$COMM" ] || fail "record $1: comm $(jget -f "$RF_FILE" $r/comm)"
	[ "$(jget -f "$RF_FILE" $r/op)" = "$2" ] || fail "record $1: op $(jget -f "$RF_FILE" $r/op), expected $2"
	s=$(jget -f "$RF_FILE" $r/size_kb)
	[ "$s" -ge "$3" ] && [ "$s" -le "$4" ] || fail "record $1: size $s KiB, expected $3..$4"
	[ "$(jget -f "$RF_FILE" $r/exact)" = true ] || fail "record $1: figures not read at the refusal"
	# CommitLimit was Committed_AS + 200 MiB a moment before: the headroom
	# the kernel saw is that, within the percpu counter's slack
	h=$(( $(jget -f "$RF_FILE" $r/commit_limit_kb) - $(jget -f "$RF_FILE" $r/committed_kb) ))
	[ "$h" -gt $((150 * 1024)) ] && [ "$h" -lt $((250 * 1024)) ] ||
		fail "record $1: headroom at the refusal $h kB, set to 200 MiB"
}

COMM=ocd-mmap
refused "$COMM" -m
rf_wait 1 10 || fail "no refusal recorded within 10 s: $(grep -i refus "$OCD_LOG" | tr '\n' ';')"
nap 1.5
n=$(rf_count)
[ "$n" = 1 ] || fail "$n records for one refused mmap"
check_rec 0 mmap "$SIZE_KB" "$SIZE_KB"
line=$(grep 'refused: needs' "$OCD_LOG")
info "mmap of $SIZE_KB KiB with $avail kB RAM available: 1 record, log: $line"
[ "$(jget -f "$RF_FILE" recent/0/service)" = seed ] ||
	fail "the renamed process's record names service '$(jget -f "$RF_FILE" recent/0/service)', expected seed"
echo "$line" | grep -q "mmap of ocd-mmap (pid $PID, service seed) refused: needs 400 MiB of commit, [0-9]* MiB left under CommitLimit .* (vm.overcommit_memory=2) while .* of RAM is available" ||
	fail "log line not as expected: $line"

COMM=ocd-malloc
refused "$COMM" ""
rf_wait 2 10 || fail "malloc: no record within 10 s"
nap 1.5
n=$(rf_count)
[ "$n" = 2 ] || fail "malloc: $((n - 1)) records, expected 1 (glibc's mmap, brk, mmap folded)"
# glibc adds its chunk header and rounds to a page: right to a page
check_rec 1 mmap "$SIZE_KB" $((SIZE_KB + 4))
tries=$(jget -f "$RF_FILE" recent/1/tries)
[ "$tries" = 3 ] || fail "malloc: record of $tries tries, expected 3 (mmap, brk, mmap)"
lines=$(grep -c 'of ocd-malloc .* refused' "$OCD_LOG")
[ "$lines" = 1 ] || fail "malloc: $lines log lines, expected 1"
oc status
grep -q "mmap of ocd-malloc (pid $PID) refused: .*the C library's fallbacks (brk, mmap) were refused too: 3 tries" "$OUT" ||
	fail "status does not show the folded tries: $(grep ocd-malloc "$OUT")"
oc status --format prometheus
mm=$(sed -n 's/^overcommitd_commit_refusals_total{operation="mmap"} //p' "$OUT")
brk=$(sed -n 's/^overcommitd_commit_refusals_total{operation="brk"} //p' "$OUT")
[ "$mm" = 1 ] && [ "${brk:-0}" = 0 ] || fail "metric (no service): mmap ${mm:-none} brk ${brk:-none}, expected 1 and 0 (one per request)"
info "malloc of $SIZE_KB KiB: 1 record of $tries tries, size $(jget -f "$RF_FILE" recent/1/size_kb) KiB, $lines log line, metric mmap=$mm"
ocd_stop
[ "$OCD_RC" = 0 ] || fail "the daemon exited $OCD_RC"
pass
