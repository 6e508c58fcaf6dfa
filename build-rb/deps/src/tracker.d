build-rb/src/tracker.o: src/tracker.c src/tracker.h src/policy.h \
 src/diag.h src/origin.h src/proc.h src/roots.h src/snapshot.h \
 src/adminreserve.h src/cgroup.h src/commitslack.h src/forkcharge.h \
 src/meminfo.h src/trust.h src/vmsysctl.h
src/tracker.h:
src/policy.h:
src/diag.h:
src/origin.h:
src/proc.h:
src/roots.h:
src/snapshot.h:
src/adminreserve.h:
src/cgroup.h:
src/commitslack.h:
src/forkcharge.h:
src/meminfo.h:
src/trust.h:
src/vmsysctl.h:
