/* workgrowth.h - what one long-lived worker of a service (a prefork
 * child, a gunicorn --preload worker, a PostgreSQL backend) grows to in
 * private memory over its life, learned from the workers that exited.
 * Pure; persisted in learned.json beside the COW episodes (learn.h).
 *
 * Two rings of the last WG_RING exited workers each:
 *  - rss: RssAnon at a worker's last read minus at its first (every worker,
 *    /proc/PID/status: cheap).  Sees new heap, not copy-on-write un-sharing:
 *    a page the worker inherited is in its RssAnon from the fork on, and
 *    stays one page after the worker writes it and gets its own copy.
 *  - priv: Private_Dirty of /proc/PID/smaps_rollup at the last read of a
 *    few sampled workers (workcache.h).  Right after fork every inherited
 *    page is shared, so this is everything the worker made private: its new
 *    pages and its copies of the main's.  A page-table walk: read rarely.
 * The estimate is the larger 90th percentile (or live mean, when larger). */
#ifndef OVERCOMMITD_WORKGROWTH_H
#define OVERCOMMITD_WORKGROWTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

#define WG_RING 32                        /* exited workers kept per ring */
#define WG_MAX_KB ((uint64_t)1 << 40)     /* larger is corruption (1 PiB) */

struct growth_ring {
	uint64_t kb[WG_RING];   /* ring, newest at (head-1) */
	size_t n, head;
	uint64_t total;         /* workers ever added */
};

struct worker_growth {
	struct growth_ring rss;  /* RssAnon growth of exited workers */
	struct growth_ring priv; /* Private_Dirty of exited sampled workers */
};

/* What the live workers show now (0 when none was read). */
struct worker_live {
	uint64_t rss_mean_kb;    /* mean RssAnon growth of the live workers */
	uint64_t priv_mean_kb;   /* mean Private_Dirty of the live sampled ones */
	size_t nrss, npriv;      /* how many of each */
};

/* Values above WG_MAX_KB are clamped to it. */
void wg_ring_add(struct growth_ring *r, uint64_t kb);
/* The 90th percentile of the ring (0 when empty). */
uint64_t wg_ring_p90(const struct growth_ring *r);
size_t wg_ring_len(const struct growth_ring *r);
/* The i-th value, oldest first (i < wg_ring_len). */
uint64_t wg_ring_at(const struct growth_ring *r, size_t i);
bool wg_empty(const struct worker_growth *g);

/* The private growth one worker reaches over its life: the largest of
 * both rings' 90th percentiles and the live means.  *nlearned: workers it
 * rests on (exited in the rings, plus the live ones). 0 = none known. */
uint64_t wg_estimate(const struct worker_growth *g, const struct worker_live *live,
		     size_t *nlearned);

/* Fold what was learned earlier (older: the persisted record) in front of
 * what dst learned since: dst keeps the newest WG_RING of both, in order,
 * and the totals add up. */
void wg_merge(struct worker_growth *dst, const struct worker_growth *older);

/* learned.json's "workers" member:
 *   {"rss_growth":{"total":N,"kb":[...]},"private_dirty":{"total":N,"kb":[...]}}
 * oldest first.  wg_to_json: a new object (NULL on ENOMEM).  wg_from_json:
 * strict (unknown members, types, values > WG_MAX_KB, total < count ->
 * -EINVAL); more than WG_RING values keep the newest. */
struct json_object *wg_to_json(const struct worker_growth *g);
int wg_from_json(struct json_object *o, struct worker_growth *g);
/* A record wg_from_json would refuse (for the writer's own check). */
bool wg_valid(const struct worker_growth *g);

#endif
