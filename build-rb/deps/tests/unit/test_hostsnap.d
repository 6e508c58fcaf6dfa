build-rb/tests/test_hostsnap: tests/unit/test_hostsnap.c src/fleet.h \
 src/plan.h src/learn.h src/statedir.h src/model.h src/forkcharge.h \
 src/roots.h src/meminfo.h src/proc.h src/vmsysctl.h src/origin.h \
 src/policy.h src/diag.h src/snapshot.h src/adminreserve.h src/cgroup.h \
 src/commitslack.h src/trust.h src/tracker.h src/hostsnap.h \
 src/snapshot.h tests/unit/tmptree.h src/util.h
src/fleet.h:
src/plan.h:
src/learn.h:
src/statedir.h:
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
src/hostsnap.h:
src/snapshot.h:
tests/unit/tmptree.h:
src/util.h:
