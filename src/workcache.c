/* workcache.c - see workcache.h.  A sorted array of workers and a small
 * pool of the strings they share (a service's workers have one exe, one
 * cgroup, a few command lines), so 10,000 workers cost ~2 MB, not 22. */
#include "workcache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smapsroll.h"

int workcache_init(struct workcache *wc, size_t nsvc)
{
	memset(wc, 0, sizeof(*wc));
	wc->svc = calloc(nsvc ? nsvc : 1, sizeof(*wc->svc));
	wc->pool = calloc(WORK_POOL_MAX, sizeof(*wc->pool));
	if (!wc->svc || !wc->pool) {
		workcache_free(wc);
		return -ENOMEM;
	}
	wc->pool[0] = strdup("");
	if (!wc->pool[0]) {
		workcache_free(wc);
		return -ENOMEM;
	}
	wc->npool = 1;
	wc->nsvc = nsvc;
	return 0;
}

void workcache_free(struct workcache *wc)
{
	for (size_t i = 0; wc->pool && i < wc->npool; i++)
		free(wc->pool[i]);
	free(wc->pool);
	free(wc->e);
	free(wc->svc);
	memset(wc, 0, sizeof(*wc));
}

void workcache_clear(struct workcache *wc)
{
	wc->n = 0;
	unitcache_expire(&wc->units);
}

static int cmp_entry(const void *a, const void *b)
{
	int x = ((const struct wentry *)a)->pid, y = ((const struct wentry *)b)->pid;
	return (x > y) - (x < y);
}

static struct wentry *find(const struct workcache *wc, int pid)
{
	struct wentry key = { .pid = pid };
	return wc->n ? bsearch(&key, wc->e, wc->n, sizeof(*wc->e), cmp_entry) : NULL;
}

/* A worker is read every WORK_READ_EVERY passes, staggered by pid, so a
 * burst of workers forked together does not come due together. */
static bool due(const struct workcache *wc, const struct wentry *e)
{
	return e->stale || (wc->pass + (uint64_t)e->pid) % WORK_READ_EVERY == 0;
}

/* index of s in the pool (added when new); -1 when the pool is full */
static int intern(struct workcache *wc, const char *s)
{
	for (size_t i = 0; i < wc->npool; i++)
		if (strcmp(wc->pool[i], s) == 0)
			return (int)i;
	if (wc->npool == WORK_POOL_MAX)
		return -1;
	wc->pool[wc->npool] = strdup(s);
	return wc->pool[wc->npool] ? (int)wc->npool++ : -1;
}

static void fill(const struct workcache *wc, const struct wentry *e, unsigned what,
		 struct proc_info *p)
{
	p->pid = e->pid;
	if (what & PROC_READ_STAT)
		p->st = e->st;
	if (what & PROC_READ_STATUS)
		p->status = e->status;
	if (what & PROC_READ_OOM)
		p->oom_score_adj = e->oom_score_adj;
	if (what & PROC_READ_CGROUP)
		memcpy(p->cgroup, wc->pool[e->cgroup], strlen(wc->pool[e->cgroup]) + 1);
	if (what & PROC_READ_EXE)
		memcpy(p->exe, wc->pool[e->exe], strlen(wc->pool[e->exe]) + 1);
	if (what & PROC_READ_CMDLINE)
		memcpy(p->cmdline, wc->pool[e->cmdline], strlen(wc->pool[e->cmdline]) + 1);
}

/* The live source with read_proc served from the cache when not due. */
struct work_src {
	struct obs_source src;  /* first: read_proc gets a pointer to it */
	int (*live_read)(const struct obs_source *src, int pid, unsigned what, struct proc_info *p);
	int (*live_oom_policy)(const struct obs_source *src, const char *unit, char *out,
			       size_t size);
	struct workcache *wc;
};

static int cached_read(const struct obs_source *src, int pid, unsigned what, struct proc_info *p)
{
	const struct work_src *ws = (const struct work_src *)src;
	const struct wentry *e = find(ws->wc, pid);
	if (!e || due(ws->wc, e)) {
		if (what & PROC_READ_STAT)
			ws->wc->reads++;
		return ws->live_read(src, pid, what, p);
	}
	if (what & PROC_READ_STAT)
		ws->wc->served++;
	fill(ws->wc, e, what, p);
	return 0;
}

/* A unit's OOMPolicy: over D-Bus once per full scan (unitcache.h). */
static int cached_oom_policy(const struct obs_source *src, const char *unit, char *out,
			     size_t size)
{
	const struct work_src *ws = (const struct work_src *)src;
	const struct unit_entry *e = unitcache_find(&ws->wc->units, unit);
	if (!e) {
		int rc = ws->live_oom_policy(src, unit, out, size);
		ws->wc->unit_reads++;
		unitcache_put(&ws->wc->units, unit, out, rc);
		return rc;
	}
	snprintf(out, size, "%s", e->policy);
	return e->rc;
}

/* Set e from what the pass read; false when a string does not fit the pool. */
static bool store(struct workcache *wc, struct wentry *e, const struct proc_info *p)
{
	int exe = intern(wc, p->exe), cmd = intern(wc, p->cmdline), cg = intern(wc, p->cgroup);
	if (exe < 0 || cmd < 0 || cg < 0)
		return false;
	e->st = p->st;
	e->status = p->status;
	e->oom_score_adj = p->oom_score_adj;
	e->exe = (uint16_t)exe;
	e->cmdline = (uint16_t)cmd;
	e->cgroup = (uint16_t)cg;
	e->stale = false;
	return true;
}

static bool learn_exit(struct workcache *wc, const struct wentry *e)
{
	if (e->svc >= wc->nsvc || e->main)
		return false;
	struct worker_growth *g = &wc->svc[e->svc];
	uint64_t rss = e->status.rss_anon_kb;
	wg_ring_add(&g->rss, rss > e->rss_birth_kb ? rss - e->rss_birth_kb : 0);
	if (e->sampled && e->priv_read)
		wg_ring_add(&g->priv, e->priv_kb);
	return true;
}

struct rank {
	uint64_t commit;
	int pid;
	size_t k;
};

static int cmp_rank(const void *a, const void *b)
{
	const struct rank *x = a, *y = b;
	if (x->commit != y->commit)
		return x->commit > y->commit ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* hot[k]: procs[k] is among the WORK_HOT_MAINS largest mains of o (by the
 * fork charge estimate, then pid), or its largest; -ENOMEM: all hot. */
static int hot_mains(const struct svc_obs *o, bool *hot)
{
	struct rank *r = malloc((o->ninst ? o->ninst : 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (size_t j = 0; j < o->ninst; j++) {
		size_t k = o->inst[j].main;
		r[j] = (struct rank){ proc_commit_kb(&o->procs[k]), o->procs[k].pid, k };
	}
	qsort(r, o->ninst, sizeof(*r), cmp_rank);
	for (size_t j = 0; j < o->ninst && j < WORK_HOT_MAINS; j++)
		hot[r[j].k] = true;
	if (o->main_idx >= 0)
		hot[o->main_idx] = true;
	free(r);
	return 0;
}

/* Cache every process of o but its hot mains: refreshed when due, new
 * ones added to *add (their first read is their birth). */
static int update_service(struct workcache *wc, const struct svc_obs *o, uint64_t mark,
			  struct wentry **add, size_t *nadd, size_t *cap)
{
	bool *hot = calloc(o->nprocs ? o->nprocs : 1, sizeof(*hot));
	if (!hot)
		return -ENOMEM;
	if (hot_mains(o, hot) < 0) {
		free(hot);
		return -ENOMEM;
	}
	int rc = 0;
	for (size_t k = 0; o->place && k < o->nprocs; k++) {
		const struct proc_info *p = &o->procs[k];
		bool is_main = o->place[k].role == ROLE_MAIN;
		struct wentry *e = find(wc, p->pid);
		if (hot[k])
			continue; /* read every pass; an entry of it is dropped */
		if (e) {
			if (!due(wc, e) || store(wc, e, p))
				e->seen = mark;
			e->svc = o->policy_idx;
			e->main = is_main;
			e->child = o->place[k].role == ROLE_CHILD;
			continue;
		}
		if (*nadd == *cap) {
			size_t ncap = *cap ? *cap * 2 : 64;
			struct wentry *na = realloc(*add, ncap * sizeof(*na));
			if (!na) {
				rc = -ENOMEM;
				break;
			}
			*add = na;
			*cap = ncap;
		}
		struct wentry *ne = &(*add)[*nadd];
		*ne = (struct wentry){ .pid = p->pid, .svc = o->policy_idx, .seen = mark,
				       .rss_birth_kb = p->status.rss_anon_kb, .main = is_main,
				       .child = o->place[k].role == ROLE_CHILD };
		*nadd += store(wc, ne, p);
	}
	free(hot);
	return rc;
}

/* The processes of s as read this pass: entries refreshed when they were
 * due, new ones added, hot mains and processes no longer tracked dropped.
 * -ENOMEM leaves new ones out (read live again next pass). */
static int update(struct workcache *wc, const struct snapshot *s)
{
	uint64_t mark = wc->pass + 1;
	struct wentry *add = NULL;
	size_t nadd = 0, cap = 0;
	int rc = 0;
	for (size_t i = 0; i < s->nsvc && rc == 0; i++)
		rc = update_service(wc, &s->svc[i], mark, &add, &nadd, &cap);
	size_t keep = 0;
	for (size_t i = 0; i < wc->n; i++)
		if (wc->e[i].seen == mark)
			wc->e[keep++] = wc->e[i];
	wc->n = keep;
	if (nadd && wc->n + nadd > wc->cap) {
		size_t ncap = wc->n + nadd + (wc->n + nadd) / 2;
		struct wentry *ne = realloc(wc->e, ncap * sizeof(*ne));
		if (!ne) {
			free(add);
			return -ENOMEM;
		}
		wc->e = ne;
		wc->cap = ncap;
	}
	if (nadd) {
		memcpy(wc->e + wc->n, add, nadd * sizeof(*add));
		wc->n += nadd;
		qsort(wc->e, wc->n, sizeof(*wc->e), cmp_entry);
		keep = 0; /* a pid two services claim: one entry */
		for (size_t i = 0; i < wc->n; i++)
			if (keep == 0 || wc->e[keep - 1].pid != wc->e[i].pid)
				wc->e[keep++] = wc->e[i];
		wc->n = keep;
	}
	free(add);
	return rc;
}

/* One sample's Private_Dirty; a failed read (gone, not ours to read, no
 * smaps_rollup before Linux 4.14) waits its turn like a good one. */
static void read_private(struct workcache *wc, const struct roots *r, struct wentry *e)
{
	struct smaps_rollup sr;
	e->priv_pass = wc->pass;
	e->priv_gap = e->priv_gap * 2 < WORK_COW_EVERY ? e->priv_gap * 2 : WORK_COW_EVERY;
	if (smaps_rollup_read(r, e->pid, &sr) < 0)
		return;
	e->priv_kb = sr.private_dirty_kb;
	e->priv_read = true;
	wc->cow_reads++;
}

/* Keep WORK_COW_SAMPLES children of each service sampled (the lowest pids
 * not sampled yet fill a slot an exited one left) and read the one due:
 * one per service and WORK_COW_PER_PASS in all per pass.  Not at once: just
 * after its fork a worker has made nothing private yet. */
static int sample_cow(struct workcache *wc, const struct roots *r)
{
	size_t *nsamp = calloc(wc->nsvc ? wc->nsvc : 1, sizeof(*nsamp));
	bool *read = calloc(wc->nsvc ? wc->nsvc : 1, sizeof(*read));
	if (!nsamp || !read) {
		free(nsamp);
		free(read);
		return -ENOMEM;
	}
	for (size_t i = 0; i < wc->n; i++)
		if (wc->e[i].sampled && wc->e[i].svc < wc->nsvc)
			nsamp[wc->e[i].svc]++;
	size_t reads = 0;
	for (size_t i = 0; i < wc->n && reads < WORK_COW_PER_PASS; i++) {
		struct wentry *e = &wc->e[i];
		if (e->svc >= wc->nsvc || !e->child)
			continue;
		if (!e->sampled && nsamp[e->svc] < WORK_COW_SAMPLES) {
			e->sampled = true;
			e->priv_pass = wc->pass;
			e->priv_gap = 1;
			nsamp[e->svc]++;
			continue;
		}
		if (!e->sampled || read[e->svc] || wc->pass - e->priv_pass < e->priv_gap)
			continue;
		read[e->svc] = true;
		reads++;
		read_private(wc, r, e);
	}
	free(nsamp);
	free(read);
	return 0;
}

int workcache_observe(struct workcache *wc, const struct roots *r, const struct policy *pol,
		      const int *pids, size_t npids, struct snapshot *s)
{
	struct work_src ws = { .wc = wc };
	obs_source_live(r, &ws.src);
	ws.live_read = ws.src.read_proc;
	ws.src.read_proc = cached_read;
	if (!pids)
		unitcache_expire(&wc->units); /* a full scan reads the units again */
	ws.live_oom_policy = ws.src.unit_oom_policy;
	if (ws.live_oom_policy)
		ws.src.unit_oom_policy = cached_oom_policy;
	int rc = snapshot_observe(&ws.src, pol, pids, npids, s);
	if (rc < 0)
		return rc;
	if (update(wc, s) == 0) /* out of memory: those are read live again */
		(void)sample_cow(wc, r); /* out of memory: no sample this pass */
	for (size_t i = 0; i < s->nsvc; i++)
		s->svc[i].worker_growth_kb =
			workcache_growth_kb(wc, s->svc[i].policy_idx, &s->svc[i].worker_growth_n);
	wc->pass++;
	return 0;
}

static void drop_at(struct workcache *wc, struct wentry *e)
{
	size_t i = (size_t)(e - wc->e);
	memmove(&wc->e[i], &wc->e[i + 1], (wc->n - i - 1) * sizeof(*wc->e));
	wc->n--;
}

void workcache_stale(struct workcache *wc, int pid)
{
	struct wentry *e = find(wc, pid);
	if (e)
		e->stale = true;
}

bool workcache_exit(struct workcache *wc, int pid, size_t *svc)
{
	struct wentry *e = find(wc, pid);
	if (!e)
		return false;
	*svc = e->svc;
	bool learned = learn_exit(wc, e);
	drop_at(wc, e);
	return learned;
}

void workcache_forget(struct workcache *wc, int pid)
{
	struct wentry *e = find(wc, pid);
	if (e)
		drop_at(wc, e);
}

uint64_t workcache_growth_kb(const struct workcache *wc, size_t svc, size_t *nlearned)
{
	*nlearned = 0;
	if (svc >= wc->nsvc)
		return 0;
	struct worker_live live = { 0 };
	uint64_t rss_sum = 0, priv_sum = 0;
	for (size_t i = 0; i < wc->n; i++) {
		const struct wentry *e = &wc->e[i];
		if (e->svc != svc || e->main)
			continue;
		live.nrss++;
		rss_sum += e->status.rss_anon_kb > e->rss_birth_kb
				   ? e->status.rss_anon_kb - e->rss_birth_kb
				   : 0;
		if (e->sampled && e->priv_read) {
			live.npriv++;
			priv_sum += e->priv_kb;
		}
	}
	live.rss_mean_kb = live.nrss ? rss_sum / live.nrss : 0;
	live.priv_mean_kb = live.npriv ? priv_sum / live.npriv : 0;
	return wg_estimate(&wc->svc[svc], &live, nlearned);
}

const struct worker_growth *workcache_learned(const struct workcache *wc, size_t svc)
{
	return svc < wc->nsvc ? &wc->svc[svc] : NULL;
}

void workcache_seed(struct workcache *wc, size_t svc, const struct worker_growth *older)
{
	if (svc < wc->nsvc)
		wg_merge(&wc->svc[svc], older);
}
