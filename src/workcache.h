/* workcache.h - long-lived children read less often than mains.
 *
 * A prefork server, gunicorn --preload or PostgreSQL may run thousands of
 * workers.  The daemon's periodic pass reads the WORK_HOT_MAINS largest
 * mains of each service every pass (the host's fork headroom is sized from
 * them), but a worker (a child of a main, or a member) and any smaller main
 * only every WORK_READ_EVERY passes, staggered by pid; in between the figures it read last are served
 * (an obs_source in front of the live one, so the snapshot, the planner and
 * the reports run unchanged).  Identity stays the tracker's: exits, execs
 * and fork events drop an entry (workcache_exit/_forget), lost events clear
 * the cache, a value the daemon writes marks it stale (re-read next pass).
 *
 * The same reads learn a worker's private growth over its life, cheaply:
 * RssAnon (/proc/PID/status) at its first read and at each later one.
 * RssAnon counts pages the worker faulted in after fork (new heap, GC
 * arenas) but not a COW copy of a page it already mapped (it was in its
 * RssAnon from the fork on).  For that, WORK_COW_SAMPLES children of a
 * service's mains are sampled: their /proc/PID/smaps_rollup Private_Dirty
 * is read 1, 2, 4, ... passes after the sample was taken and then every
 * WORK_COW_EVERY passes (a short-lived worker is still read near its end),
 * one read per service per pass, WORK_COW_PER_PASS on the whole host - in
 * the periodic pass, never on an event.  What exited workers reached is kept (workgrowth.h) and
 * persisted by the daemon in learned.json. */
#ifndef OVERCOMMITD_WORKCACHE_H
#define OVERCOMMITD_WORKCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "policy.h"
#include "proc.h"
#include "roots.h"
#include "snapshot.h"
#include "unitcache.h"
#include "workgrowth.h"

#define WORK_READ_EVERY 8   /* a worker's /proc files are read every 8th pass */
#define WORK_HOT_MAINS 64   /* the largest mains of a service read every pass (the
                               fork headroom covers up to concurrent_forks = 64) */
#define WORK_COW_SAMPLES 4  /* children per service whose smaps_rollup is read */
#define WORK_COW_EVERY 8    /* a sample's reads come 1, 2, 4, then 8 passes apart */
#define WORK_COW_PER_PASS 4 /* smaps_rollup reads per pass, all services together */
#define WORK_POOL_MAX 1024  /* distinct exe/cmdline/cgroup strings kept */

struct wentry {
	int pid;
	bool stale;             /* read it again next pass */
	uint64_t seen;          /* the pass that last found it tracked */
	size_t svc;
	struct proc_stat st;
	struct proc_status status;
	int oom_score_adj;
	uint16_t exe, cmdline, cgroup; /* indexes into the string pool (0: "") */
	uint64_t rss_birth_kb;  /* RssAnon at its first read */
	bool main;              /* a (small) main: no lifetime growth learned from it */
	bool child;             /* a child of a main: may be a COW sample */
	bool sampled;           /* one of its service's WORK_COW_SAMPLES */
	bool priv_read;         /* priv_kb holds a reading */
	uint64_t priv_kb;       /* Private_Dirty at its last smaps_rollup read */
	uint64_t priv_pass;     /* the pass it was sampled or last read */
	uint64_t priv_gap;      /* passes until its next read */
};

struct workcache {
	struct wentry *e;       /* sorted by pid */
	size_t n, cap;
	char **pool;
	size_t npool;
	struct worker_growth *svc; /* per policy service: exited workers' growth */
	size_t nsvc;
	uint64_t pass;
	uint64_t reads, served; /* processes read from /proc, served from the cache */
	uint64_t cow_reads;     /* smaps_rollup reads of samples */
	struct unit_cache units; /* units' OOMPolicy: read again each full scan */
	uint64_t unit_reads;    /* OOMPolicy reads over D-Bus */
};

int workcache_init(struct workcache *wc, size_t nsvc);
void workcache_free(struct workcache *wc);
/* Lost events: every process is read afresh next pass (growth kept). */
void workcache_clear(struct workcache *wc);

/* One observation pass (snapshot_observe through the cache): pids NULL
 * for a full /proc scan, else the tracked ones.  Afterwards the cache holds
 * every non-main process of the snapshot, and each service's
 * worker_growth_kb is set.  0 or -errno like snapshot_observe. */
int workcache_observe(struct workcache *wc, const struct roots *r, const struct policy *pol,
		      const int *pids, size_t npids, struct snapshot *s);

/* overcommitd wrote to it: read it again next pass */
void workcache_stale(struct workcache *wc, int pid);
/* it exited: its lifetime growth is learned (true, *svc says for which
 * service: the daemon persists it), the entry dropped */
bool workcache_exit(struct workcache *wc, int pid, size_t *svc);
/* it exec'd, or the pid names a new process: dropped, nothing learned */
void workcache_forget(struct workcache *wc, int pid);

/* The private growth one worker of service svc reaches over its life:
 * wg_estimate of the exited workers and the live ones; 0 = none known. */
uint64_t workcache_growth_kb(const struct workcache *wc, size_t svc, size_t *nlearned);
/* What service svc's exited workers taught (NULL for an unknown svc). */
const struct worker_growth *workcache_learned(const struct workcache *wc, size_t svc);
/* Put what was learned before (learned.json) in front of what was learned
 * since (wg_merge). */
void workcache_seed(struct workcache *wc, size_t svc, const struct worker_growth *older);

#endif
