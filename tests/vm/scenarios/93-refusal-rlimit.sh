# refusal-rlimit (issue 14, proof 3): an ENOMEM that is not the commit
# check's (RLIMIT_AS) leaves no record, though the commit check would have
# allowed it; the same allocation refused by the commit check right after
# does (the control: the capture is live).
# vm-timeout: 90
SIZE_KB=$((400 * 1024))
need_oc
policy 00-host.ini <<'POL'
[host]
enforce = no
interval = 1
POL
ocd_start
grep -q 'commit refusal capture: active' "$OCD_LOG" || fail "capture not active"
# strict, with room for the allocation: only RLIMIT_AS can refuse it
strict_headroom 1500
allocer -n ocd-rlimit -a 256 "$SIZE_KB" > /tmp/alloc.out 2>&1
read -r res < /tmp/alloc.out
case $res in *enomem=1*) ;; *) vm_set overcommit_memory 0; fail "RLIMIT_AS 256 MiB did not refuse $SIZE_KB KiB: $res" ;; esac
allocer -n ocd-fits "$SIZE_KB" > /tmp/alloc2.out 2>&1
read -r res2 < /tmp/alloc2.out
case $res2 in *ok=1*) ;; *) vm_set overcommit_memory 0; fail "without the rlimit $SIZE_KB KiB should fit 1500 MiB of headroom: $res2" ;; esac
nap 2
n=$(rf_count)
[ "$n" = 0 ] || { vm_set overcommit_memory 0; fail "$n records for ENOMEMs that were not the commit check's: $(jget -f "$RF_FILE" recent)"; }
info "RLIMIT_AS ENOMEM ($res): 0 records"
# the control
strict_headroom 200
allocer -n ocd-control -m "$SIZE_KB" > /tmp/alloc3.out 2>&1
vm_set overcommit_memory 0
rf_wait 1 10 || fail "control: the commit check's refusal was not recorded"
[ "$(jget -f "$RF_FILE" recent/0/comm)" = ocd-control ] || fail "control record: $(jget -f "$RF_FILE" recent/0)"
info "control: the commit check's refusal of the same size recorded ($(cat /tmp/alloc3.out))"
ocd_stop
pass
