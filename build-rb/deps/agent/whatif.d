build-rb/agent/whatif.o: agent/whatif.c agent/cli.h src/learn.h \
 src/statedir.h src/policy.h src/diag.h src/origin.h src/roots.h \
 src/snapshot.h src/adminreserve.h src/roots.h src/cgroup.h \
 src/commitslack.h src/forkcharge.h src/meminfo.h src/policy.h src/proc.h \
 src/trust.h src/vmsysctl.h src/fleet.h src/plan.h src/learn.h \
 src/model.h src/snapshot.h src/tracker.h src/hostsnap.h src/log.h \
 src/plan.h src/report.h src/apply.h src/journal.h src/refusal.h \
 src/util.h
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
src/fleet.h:
src/plan.h:
src/learn.h:
src/model.h:
src/snapshot.h:
src/tracker.h:
src/hostsnap.h:
src/log.h:
src/plan.h:
src/report.h:
src/apply.h:
src/journal.h:
src/refusal.h:
src/util.h:
