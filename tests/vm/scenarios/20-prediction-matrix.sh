# prediction-matrix: for a grid of allocation sizes x commit limits around
# the fork boundary, overcommitd's verdict (`status --format json`:
# services[matrix].fork_fits) equals what fork() really returns.
#
# Grid: sizes 160, 400, 700 MiB (root) and 400 MiB as uid 999 (a system
# user below UID_MIN, so the trust rule lets it be judged; no
# CAP_SYS_ADMIN: the kernel also subtracts admin_reserve_kbytes); for each,
# 6 overcommit_ratio values around the boundary ratio and 12 overcommit_kbytes
# values at -64..+64 MiB (down to +-1 MiB) from the boundary, which the test
# computes on its own (72 points):
#   fork fits  <=>  Committed_AS + need < CommitLimit - reserve
#   need    = sum of the forker's "ac" VMAs (smaps), what dup_mmap charges
#   reserve = min(VmSize/32, user_reserve_kbytes) [+ admin_reserve_kbytes if not root]
# (mm/util.c __vm_enough_memory, mm/mmap.c dup_mmap).
#
# Margin: a disagreement is tolerated only when the point lies within
# MARGIN kB of the boundary, MARGIN = per-CPU counter slack + 4 MiB:
#   - the kernel checks percpu_counter_read_positive(vm_committed_as), which may
#     lag the exact sum /proc/meminfo shows by up to nr_cpus x batch pages,
#     batch = max(totalram/nr_cpus/256, 2*nr_cpus, 32) under mode 2
#     (mm_compute_batch); 2 CPUs, 2 GiB: ~7.7 MiB;
#   - the observer itself: overcommitd's own commit (and the shell's) is part
#     of the Committed_AS it reads, and is gone when the fork runs.
# The test fails on any disagreement outside the margin, and when fewer than
# 64 of the 72 points could be evaluated.
# vm-timeout: 400

need_oc
memtotal=$(mi MemTotal)
ncpu=$(grep -c '^processor' /proc/cpuinfo)
pages=$((memtotal / 4))
batch=$((pages / ncpu / 256))
[ "$batch" -ge $((2 * ncpu)) ] || batch=$((2 * ncpu))
[ "$batch" -ge 32 ] || batch=32
slack=$((ncpu * batch * 4))
margin=$((slack + 4096))
ures=$(vm user_reserve_kbytes)
ares=$(vm admin_reserve_kbytes)
log "MemTotal=$memtotal kB, $ncpu CPUs, per-CPU slack $slack kB, margin $margin kB, user_reserve $ures kB, admin_reserve $ares kB"

policy 50-matrix.ini <<'POL'
[host]
overcommit = auto
enforce = no

[service matrix]
match_comm = ocmatrix
POL
oc validate "$POL"
[ "$OC_RC" = 0 ] || fail "validate rejected the test policy (exit $OC_RC): $(head -c 300 "$ERR")"

total=0 agreed=0 tolerated=0 hard=0 skipped=0
TABLE=/tmp/matrix.txt
: > "$TABLE"
OC_LOG_LINES=0

# point KIND VALUE: set the limit, ask overcommitd, fork, compare
point() {
	vm_set "$1" "$2"
	mi_var CommitLimit; lim=$MI
	mi_var Committed_AS; com=$MI
	d=$((lim - reserve - com - need))
	if [ $((lim - com)) -lt 49152 ]; then
		skipped=$((skipped + 1))
		echo "$size$who $1=$2 d=$d skipped (under 48 MiB over Committed_AS)" >> "$TABLE"
		return 0
	fi
	oc --format json status
	if [ "$OC_RC" != 0 ]; then
		hard=$((hard + 1))
		echo "$size$who $1=$2 d=$d status exit $OC_RC: $(head -c 200 "$ERR")" >> "$TABLE"
		return 0
	fi
	v=$(j services/name=matrix/fork_verdict) # fits | uncertain | fails (issue 10)
	h=$(j services/name=matrix/fork_headroom_kb)
	ocl=$(j host/commit_limit_kb)
	[ "$ocl" = "$lim" ] || { hard=$((hard + 1)); echo "$size$who $1=$2 host.commit_limit_kb=$ocl, meminfo CommitLimit=$lim" >> "$TABLE"; }
	fork_now ocmatrix
	case "$v/$FORK_RES" in
	"fits/fork ok" | "fails/fork ENOMEM") verdict=agree; agreed=$((agreed + 1)) ;;
	*)
		a=$d
		[ "$a" -ge 0 ] || a=$((-a))
		if [ "$a" -le "$margin" ]; then
			verdict="DISAGREE within margin"
			[ "$v" != uncertain ] || verdict="uncertain (inside the band)"
			tolerated=$((tolerated + 1))
		else
			verdict="DISAGREE"
			hard=$((hard + 1))
		fi
		;;
	esac
	total=$((total + 1))
	echo "$size$who $1=$2 CommitLimit=$lim Committed_AS=$com need=$need reserve=$reserve d=$d | overcommitd $v headroom=$h | kernel: $FORK_RES | $verdict" >> "$TABLE"
	log "$size$who $1=$2 d=$d oc=$v/$h kernel='$FORK_RES' $verdict"
}

for spec in 160 400 700 400:999; do
	size=${spec%%:*}
	uidopt=
	who=
	case $spec in *:*) uidopt="-u ${spec#*:}"; who=" (uid ${spec#*:})" ;; esac
	vm_set overcommit_memory 0
	# shellcheck disable=SC2086
	start_forker "$size" ocmatrix $uidopt || fail "$size MiB forker: $FK_ERR"
	need=$(ac_kb "$FK_PID")
	vmsize=$(status_kb "$FK_PID" VmSize)
	reserve=$((vmsize / 32))
	[ "$reserve" -le "$ures" ] || reserve=$ures
	[ -z "$uidopt" ] || reserve=$((reserve + ares))
	vm_set overcommit_kbytes "$memtotal"
	vm_set overcommit_memory 2
	mi_var Committed_AS
	boundary=$((MI + need + reserve))
	rstar=$(((boundary * 100 + memtotal - 1) / memtotal))
	log "size $size MiB$who: pid $FK_PID need $need kB, VmSize $vmsize kB, reserve $reserve kB, boundary $boundary kB (ratio ~$rstar)"
	for r in $((rstar - 3)) $((rstar - 2)) $((rstar - 1)) $rstar $((rstar + 1)) $((rstar + 2)); do
		point overcommit_ratio "$r"
	done
	for off in -65536 -24576 -12288 -6144 -2048 -1024 1024 2048 6144 12288 24576 65536; do
		mi_var Committed_AS
		point overcommit_kbytes $((MI + need + reserve + off))
	done
	vm_set overcommit_memory 0
	stop_forker
done

log "matrix:"
sed 's/^/    /' "$TABLE"
info "agreed $agreed/$total (tolerated $tolerated within +-$margin kB of the boundary: per-CPU slack $slack kB + 4 MiB observer; hard disagreements $hard; skipped $skipped)"
[ "$hard" = 0 ] || fail "$hard disagreement(s) outside the +-$margin kB margin: $(grep -E 'DISAGREE$|exit|commit_limit_kb' "$TABLE" | head -n 3 | tr '\n' ';')"
[ "$total" -ge 64 ] || fail "only $total of 72 points evaluated ($skipped skipped)"
pass
