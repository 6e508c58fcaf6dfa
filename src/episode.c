/* episode.c - fork episode arithmetic (see episode.h). */
#include "episode.h"

#include <string.h>

void episode_begin(struct episode *e, int child, uint64_t group_anon_kb,
		   uint64_t main_rss_anon_kb, uint64_t start_s, uint64_t t0_ms)
{
	char cg[sizeof(e->cgroup)]; /* child_start: set by the caller after this */
	memcpy(cg, e->cgroup, sizeof(cg)); /* the group outlives one episode */
	memset(e, 0, sizeof(*e));
	memcpy(e->cgroup, cg, sizeof(cg));
	e->child = child;
	e->cg_at_fork_kb = group_anon_kb;
	e->cg_peak_kb = group_anon_kb;
	e->baseline_kb = main_rss_anon_kb > group_anon_kb ? main_rss_anon_kb : group_anon_kb;
	e->start_s = start_s;
	e->t0_ms = t0_ms;
	e->active = true;
}

void episode_sample(struct episode *e, uint64_t group_anon_kb)
{
	if (e->active && group_anon_kb > e->cg_peak_kb)
		e->cg_peak_kb = group_anon_kb;
}

uint64_t episode_growth_kb(const struct episode *e)
{
	return e->cg_peak_kb > e->cg_at_fork_kb ? e->cg_peak_kb - e->cg_at_fork_kb : 0;
}

#define EP_GUARD_MIN_KB 4096

uint64_t episode_budget_kb(const struct episode *e, uint64_t limit_kb, double learned_growth,
			   double margin, uint64_t min_kb)
{
	if (!(learned_growth >= 0.0))
		learned_growth = LEARN_DEFAULT_GROWTH; /* NaN or negative: the default */
	if (!(margin >= 0.0))
		margin = 0.0;
	double b = (double)e->baseline_kb * (learned_growth * (1.0 + margin) + margin);
	uint64_t kb = b >= 18446744073709549568.0 ? UINT64_MAX : (uint64_t)b;
	if (limit_kb) {
		/* the room under the group's limit, less the guard, when smaller:
		 * the child goes before the main would be throttled */
		uint64_t guard = limit_kb / 32 > EP_GUARD_MIN_KB ? limit_kb / 32 : EP_GUARD_MIN_KB;
		uint64_t room = limit_kb > e->cg_at_fork_kb + guard ? limit_kb - e->cg_at_fork_kb - guard : 0;
		kb = room < kb ? room : kb;
	}
	return kb < min_kb ? min_kb : kb;
}

bool episode_over_budget(struct episode *e, uint64_t budget_kb, uint64_t now_ms)
{
	if (!e->active)
		return false;
	if (e->over_ms)
		return true;
	if (episode_growth_kb(e) <= budget_kb)
		return false;
	e->over_ms = now_ms ? now_ms : 1;
	return true;
}

static bool host_pressed(const struct episode_host *h)
{
	if (h->mem_total_kb && h->mem_available_kb < h->mem_total_kb / EP_RAM_FLOOR_DIV)
		return true;
	return h->strict && h->commit_limit_kb &&
	       h->committed_as_kb > h->commit_limit_kb / 100 * EP_COMMIT_CEIL_PCT;
}

enum episode_verdict episode_judge(struct episode *e, uint64_t budget_kb,
				   const struct episode_host *h, uint64_t now_ms)
{
	if (!e->active || !e->child_start || e->child_stopped)
		return EP_KEEP;
	if (episode_over_budget(e, budget_kb, now_ms))
		return EP_OVER_BUDGET;
	return h && host_pressed(h) ? EP_HOST_PRESSURE : EP_KEEP;
}

const char *episode_verdict_name(enum episode_verdict v)
{
	return v == EP_OVER_BUDGET ? "COW growth passed its budget"
	       : v == EP_HOST_PRESSURE ? "the host is nearly out of memory"
				       : "keep";
}

bool episode_finish(struct episode *e, uint64_t now_ms, struct cow_episode *out)
{
	if (!e->active)
		return false;
	e->active = false;
	out->start_s = e->start_s;
	out->anon_at_fork_kb = e->baseline_kb;
	out->anon_peak_kb = e->baseline_kb + episode_growth_kb(e);
	out->duration_ms = now_ms > e->t0_ms ? now_ms - e->t0_ms : 0;
	return true;
}
