build-rb/agent/state.o: agent/state.c agent/state.h agent/cli.h \
 src/learn.h src/statedir.h src/policy.h src/diag.h src/origin.h \
 src/roots.h src/snapshot.h src/adminreserve.h src/roots.h src/cgroup.h \
 src/commitslack.h src/forkcharge.h src/meminfo.h src/policy.h src/proc.h \
 src/trust.h src/vmsysctl.h src/journal.h src/bootid.h src/log.h
agent/state.h:
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
src/journal.h:
src/bootid.h:
src/log.h:
