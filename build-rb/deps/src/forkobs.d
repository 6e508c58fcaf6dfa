build-rb/src/forkobs.o: src/forkobs.c src/forkobs.h src/chargecache.h \
 src/forkcharge.h src/roots.h src/model.h src/meminfo.h src/proc.h \
 src/vmsysctl.h src/snapshot.h src/adminreserve.h src/cgroup.h \
 src/commitslack.h src/policy.h src/diag.h src/origin.h src/trust.h
src/forkobs.h:
src/chargecache.h:
src/forkcharge.h:
src/roots.h:
src/model.h:
src/meminfo.h:
src/proc.h:
src/vmsysctl.h:
src/snapshot.h:
src/adminreserve.h:
src/cgroup.h:
src/commitslack.h:
src/policy.h:
src/diag.h:
src/origin.h:
src/trust.h:
