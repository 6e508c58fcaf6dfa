build-rb/agent/daemon_refusal.o: agent/daemon_refusal.c \
 agent/../bpf/refusal_abi.h agent/daemon.h src/chargecache.h \
 src/forkcharge.h src/roots.h agent/cli.h src/learn.h src/statedir.h \
 src/policy.h src/diag.h src/origin.h src/roots.h src/snapshot.h \
 src/adminreserve.h src/cgroup.h src/commitslack.h src/meminfo.h \
 src/policy.h src/proc.h src/trust.h src/vmsysctl.h src/drift.h \
 src/apply.h src/journal.h src/plan.h src/learn.h src/model.h \
 src/snapshot.h src/tracker.h src/episode.h src/journal.h src/proc.h \
 src/procconn.h src/tracker.h agent/daemon_refusal.h src/log.h \
 src/meminfo.h src/refusal.h src/refusal_bpf.h src/refusal_store.h \
 src/refusal.h src/vmsysctl.h
agent/../bpf/refusal_abi.h:
agent/daemon.h:
src/chargecache.h:
src/forkcharge.h:
src/roots.h:
agent/cli.h:
src/learn.h:
src/statedir.h:
src/policy.h:
src/diag.h:
src/origin.h:
src/roots.h:
src/snapshot.h:
src/adminreserve.h:
src/cgroup.h:
src/commitslack.h:
src/meminfo.h:
src/policy.h:
src/proc.h:
src/trust.h:
src/vmsysctl.h:
src/drift.h:
src/apply.h:
src/journal.h:
src/plan.h:
src/learn.h:
src/model.h:
src/snapshot.h:
src/tracker.h:
src/episode.h:
src/journal.h:
src/proc.h:
src/procconn.h:
src/tracker.h:
agent/daemon_refusal.h:
src/log.h:
src/meminfo.h:
src/refusal.h:
src/refusal_bpf.h:
src/refusal_store.h:
src/refusal.h:
src/vmsysctl.h:
