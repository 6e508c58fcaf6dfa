build-rb/src/instance.o: src/instance.c src/snapshot.h src/adminreserve.h \
 src/roots.h src/cgroup.h src/commitslack.h src/forkcharge.h \
 src/meminfo.h src/policy.h src/diag.h src/origin.h src/proc.h \
 src/trust.h src/vmsysctl.h
src/snapshot.h:
src/adminreserve.h:
src/roots.h:
src/cgroup.h:
src/commitslack.h:
src/forkcharge.h:
src/meminfo.h:
src/policy.h:
src/diag.h:
src/origin.h:
src/proc.h:
src/trust.h:
src/vmsysctl.h:
