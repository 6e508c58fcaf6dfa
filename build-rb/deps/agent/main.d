build-rb/agent/main.o: agent/main.c agent/cli.h src/learn.h \
 src/statedir.h src/policy.h src/diag.h src/origin.h src/roots.h \
 src/snapshot.h src/adminreserve.h src/roots.h src/cgroup.h \
 src/commitslack.h src/forkcharge.h src/meminfo.h src/policy.h src/proc.h \
 src/trust.h src/vmsysctl.h src/log.h
agent/cli.h:
src/learn.h:
src/statedir.h:
src/policy.h:
src/diag.h:
src/origin.h:
src/roots.h:
src/snapshot.h:
src/adminreserve.h:
src/roots.h:
src/cgroup.h:
src/commitslack.h:
src/forkcharge.h:
src/meminfo.h:
src/policy.h:
src/proc.h:
src/trust.h:
src/vmsysctl.h:
src/log.h:
