build-rb/src/apply_util.o: src/apply_util.c src/apply_util.h src/apply.h \
 src/journal.h src/statedir.h src/plan.h src/learn.h src/model.h \
 src/forkcharge.h src/roots.h src/meminfo.h src/proc.h src/vmsysctl.h \
 src/origin.h src/policy.h src/diag.h src/snapshot.h src/adminreserve.h \
 src/cgroup.h src/commitslack.h src/trust.h src/tracker.h src/util.h
src/apply_util.h:
src/apply.h:
src/journal.h:
src/statedir.h:
src/plan.h:
src/learn.h:
src/model.h:
src/forkcharge.h:
src/roots.h:
src/meminfo.h:
src/proc.h:
src/vmsysctl.h:
src/origin.h:
src/policy.h:
src/diag.h:
src/snapshot.h:
src/adminreserve.h:
src/cgroup.h:
src/commitslack.h:
src/trust.h:
src/tracker.h:
src/util.h:
