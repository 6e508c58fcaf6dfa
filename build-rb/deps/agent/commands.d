build-rb/agent/commands.o: agent/commands.c src/apply.h src/journal.h \
 src/statedir.h src/plan.h src/learn.h src/model.h src/forkcharge.h \
 src/roots.h src/meminfo.h src/proc.h src/vmsysctl.h src/origin.h \
 src/policy.h src/diag.h src/snapshot.h src/adminreserve.h src/cgroup.h \
 src/commitslack.h src/trust.h src/tracker.h agent/cli.h src/learn.h \
 src/policy.h src/roots.h src/snapshot.h src/diag.h src/escape.h \
 src/forkobs.h src/chargecache.h src/journal.h src/log.h src/plan.h \
 src/report.h src/apply.h src/refusal.h agent/state.h
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
agent/cli.h:
src/learn.h:
src/policy.h:
src/roots.h:
src/snapshot.h:
src/diag.h:
src/escape.h:
src/forkobs.h:
src/chargecache.h:
src/journal.h:
src/log.h:
src/plan.h:
src/report.h:
src/apply.h:
src/refusal.h:
agent/state.h:
