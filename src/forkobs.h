/* forkobs.h - the on-demand exact fork charge: which main processes get
 * their /proc/PID/smaps read now, and the charge every main then carries
 * into the planner (DESIGN "Fork charge and the fork verdict").
 *
 * smaps walks page tables under the process's mmap lock (~9 ms per GiB), so
 * it is read only when charge_cache_why() says so: first sighting of a main,
 * a cheap verdict inside the uncertainty band, VmData moved by more than
 * 10%, overcommit_memory changed since the read; at most once per 10
 * minutes per process.  Callers never call this on the exec->enforced path. */
#ifndef OVERCOMMITD_FORKOBS_H
#define OVERCOMMITD_FORKOBS_H

#include <stdint.h>
#include "chargecache.h"
#include "model.h"
#include "snapshot.h"

struct fork_obs_stats {
	unsigned smaps_reads;     /* smaps files read */
	unsigned smaps_failed;    /* unreadable (permission, gone): left as estimates */
	unsigned maps_reads;      /* maps files read (mode 0, nothing exact) */
	uint64_t smaps_ns;        /* time spent reading smaps */
	uint64_t smaps_vm_kb;     /* VmSize of the processes read: cost per GiB */
	unsigned deferred;        /* due a read but over max_reads: read on a later call */
};

/* The verdict input of service i's main process in snapshot s, for the
 * sysctls vm (now: s->vm with CommitLimit from meminfo; after a plan:
 * commit_limit_now false, the formula). */
struct fork_input fork_input_of(const struct snapshot *s, size_t i, const struct vm_sysctls *vm,
				bool commit_limit_now);

/* Read smaps (and, under mode 0, maps) of the mains that need it, record
 * the reads in cache, and set every main's s->svc[i].charge; then drop the
 * cache entries of processes that are gone (pid + start time).  now_s: the
 * caller's monotonic seconds.  max_reads: at most that many smaps reads in
 * this call (0: no cap; the daemon passes 1, so one pass never stalls its
 * loop for more than one read).  Returns 0 or -ENOMEM (a file that cannot be
 * read leaves that main's charge an estimate, counted in stats). */
int fork_observe(const struct roots *r, struct snapshot *s, struct charge_cache *cache,
		 uint64_t now_s, unsigned max_reads, struct fork_obs_stats *stats);

#endif
