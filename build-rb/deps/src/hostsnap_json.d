build-rb/src/hostsnap_json.o: src/hostsnap_json.c src/hostsnap.h \
 src/adminreserve.h src/roots.h src/cgroup.h src/commitslack.h \
 src/forkcharge.h src/learn.h src/statedir.h src/meminfo.h src/proc.h \
 src/snapshot.h src/policy.h src/diag.h src/origin.h src/trust.h \
 src/vmsysctl.h src/jsonval.h src/util.h
src/hostsnap.h:
src/adminreserve.h:
src/roots.h:
src/cgroup.h:
src/commitslack.h:
src/forkcharge.h:
src/learn.h:
src/statedir.h:
src/meminfo.h:
src/proc.h:
src/snapshot.h:
src/policy.h:
src/diag.h:
src/origin.h:
src/trust.h:
src/vmsysctl.h:
src/jsonval.h:
src/util.h:
