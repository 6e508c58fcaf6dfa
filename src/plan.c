/* plan.c - the planner: a pure function (policy, snapshot) -> plan.
 * No I/O, no clock, no globals: every figure it uses is in the snapshot, and
 * every decision is written down with its numbers (DESIGN §3, §6, §7). */
#include "plan.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forkobs.h"
#include "oomconflict.h"
#include "oompolicy.h"
#include "textbuf.h"
#include "util.h"

/* Invariant 1: a CommitLimit never goes below Committed_AS + reserves + this. */
#define COMMIT_MARGIN_MIN_KB (64 * KB_PER_MB)
#define COMMIT_MARGIN_BP 200 /* 2% of MemTotal, when larger */
/* Hysteresis: a commit limit raise leaves max(16 MiB, 1% of RAM) of band. */
#define RAISE_SLACK_MIN_KB (16 * KB_PER_MB)
#define RAISE_SLACK_BP 100
/* Compliance without flapping: a raise also leaves room for this share of
 * the largest fork need and its headroom (or the service's learned growth
 * per fork episode when larger, up to RAISE_GROWTH_MAX_BP), so ordinary
 * growth of the service keeps every guarantee of the policy. */
#define RAISE_GROWTH_BP 1000
#define RAISE_GROWTH_MAX_BP 5000
/* Invariant 2: memory.high/max never below usage + max(10%, 32 MiB). */
#define CG_MARGIN_MIN_KB (32 * KB_PER_MB)
/* Hysteresis for auto-sized cgroup limits: keep a set value within 10%. */
#define CG_HYSTERESIS_BP 1000
/* commit_near_limit risk under strict accounting: less than 10% left. */
#define NEAR_LIMIT_BP 1000

const char *action_kind_name(enum action_kind k)
{
	switch (k) {
	case ACT_SYSCTL: return "sysctl";
	case ACT_OOM_SCORE_ADJ: return "oom_score_adj";
	case ACT_MEMORY_HIGH: return "memory_high";
	case ACT_MEMORY_MAX: return "memory_max";
	case ACT_CGROUP_ATTACH: return "cgroup_attach";
	case ACT_CGROUP_MOUNT: return "cgroup_mount";
	}
	return "unknown";
}

static uint64_t pct_of(uint64_t kb, uint32_t bp)
{
	return kb / 10000 * bp + kb % 10000 * bp / 10000;
}

static uint64_t round_up_mb(uint64_t kb)
{
	return (kb + KB_PER_MB - 1) / KB_PER_MB * KB_PER_MB;
}

/* A size key resolved against MemTotal (SZ_PCT) -> KiB; 0 when unset. */
static uint64_t resolve_kb(const struct size_spec *sz, uint64_t mem_total_kb)
{
	switch (sz->kind) {
	case SZ_KB: return sz->kb;
	case SZ_PCT: return pct_of(mem_total_kb, sz->bp);
	default: return 0;
	}
}

static struct action *add_action(struct plan *p, enum action_kind kind, const struct origin *at,
				 const char *service)
{
	if (p->nact == p->capact) {
		size_t cap = p->capact ? p->capact * 2 : 16;
		struct action *a = realloc(p->act, cap * sizeof(*a));
		if (!a)
			return NULL;
		p->act = a;
		p->capact = cap;
	}
	struct action *a = &p->act[p->nact++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->policy = *at;
	a->service = service;
	return a;
}

struct action *plan_action_new(struct plan *p, enum action_kind kind, const struct origin *at,
			       const char *service)
{
	return add_action(p, kind, at, service);
}

static int add_risk(struct plan *p, const char *kind, const char *service, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int plan_risk_room(struct plan *p)
{
	if (p->nrisk < p->caprisk)
		return 0;
	size_t cap = p->caprisk ? p->caprisk * 2 : 8;
	struct risk *r = realloc(p->risk, cap * sizeof(*r));
	if (!r)
		return -ENOMEM;
	p->risk = r;
	p->caprisk = cap;
	return 0;
}

static int add_risk(struct plan *p, const char *kind, const char *service, const char *fmt, ...)
{
	if (plan_risk_room(p) < 0)
		return -ENOMEM;
	struct risk *r = &p->risk[p->nrisk++];
	memset(r, 0, sizeof(*r));
	snprintf(r->kind, sizeof(r->kind), "%s", kind);
	r->service = service;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
	return 0;
}

#define KB(v) fmt_kb((v), (char[24]){ 0 }, 24)
#define SKB(v) fmt_skb((v), (char[24]){ 0 }, 24)

/* ---- per-service figures ------------------------------------------------ */

/* Workers' private memory now and what they will grow into.  Each
 * worker's private pages are in the group's anon but in no main's RssAnon
 * (a page the main maps is counted there, COW-shared or not): group anon
 * minus the mains' and members' RssAnon, per worker.  Over its life a
 * worker reaches worker_growth_kb (learned from RssAnon by the daemon). */
static void eval_workers(const struct svc_obs *o, struct svc_eval *e, uint64_t group_anon_kb,
			 uint64_t main_rss_kb)
{
	if (e->workers == 0)
		return;
	uint64_t private_kb = group_anon_kb > main_rss_kb ? group_anon_kb - main_rss_kb : 0;
	e->worker_private_kb = private_kb / e->workers;
	e->worker_growth_kb = o->worker_growth_kb;
	uint64_t life_kb = e->worker_growth_kb * e->workers;
	e->workers_room_kb = life_kb > private_kb ? life_kb - private_kb : 0;
}

static void eval_service(const struct snapshot *s, size_t idx, struct svc_eval *e)
{
	const struct svc_obs *o = &s->svc[idx];
	memset(e, 0, sizeof(*e));
	uint64_t rss_all = 0, rss_matched = 0;
	for (size_t i = 0; i < o->nprocs; i++) {
		e->commit_kb += proc_commit_kb(&o->procs[i]);
		rss_all += o->procs[i].status.rss_anon_kb;
		/* a forked child of a main (a BGSAVE child matches the same
		 * comm) shares the main's pages: counting it again would double
		 * the size during every save */
		if (i < o->nmatched && o->place[i].role != ROLE_CHILD)
			rss_matched += o->procs[i].status.rss_anon_kb;
	}
	/* cgroup anon counts a COW-shared page once; RSS sums count it per
	 * process, so they overstate anon (and understate amplification). */
	/* cgroup v2 does not move charges with a process: right after a move
	 * the new group holds almost nothing of the service.  Its figure is
	 * used only once it holds at least half of what the processes map. */
	bool cg = o->own_cgroup && o->cg.present && o->cg.anon > 0 &&
		  o->cg.anon / 1024 >= rss_matched / 2;
	e->anon_kb = cg ? o->cg.anon / 1024 : rss_all;
	/* Limits are sized from the same figure whether or not the service is
	 * in its group yet, so a second run agrees with the first: cgroup v2
	 * does not move charges with a process, so a group the service was
	 * moved into shows little anon while its processes hold their memory. */
	e->size_anon_kb = rss_matched;
	if (o->own_cgroup && o->cg.present && o->cg.anon / 1024 > e->size_anon_kb)
		e->size_anon_kb = o->cg.anon / 1024;
	e->cow_amplification = e->anon_kb ? (double)e->commit_kb / (double)e->anon_kb : 0.0;
	if (o->main_idx < 0)
		return;
	for (size_t i = 0; i < o->nprocs; i++) {
		if (o->place[i].role != ROLE_CHILD)
			continue;
		e->forks++;
		e->workers_commit_kb += proc_commit_kb(&o->procs[i]);
	}
	e->instances = o->ninst;
	e->workers = e->forks;
	e->commit_per_worker_kb = e->workers ? e->workers_commit_kb / e->workers : 0;
	eval_workers(o, e, cg ? o->cg.anon / 1024 : 0, rss_matched);
	/* "now": each instance's main with its own charge (exact when smaps
	 * was read), against the CommitLimit the kernel shows; the service's
	 * verdict is the fork that needs most (ties: main_idx's instance) */
	size_t mk = o->place[o->main_idx].inst;
	for (size_t n = 0; n < o->ninst; n++) {
		size_t k = n == 0 ? mk : n <= mk ? n - 1 : n; /* main_idx's first */
		struct fork_input in = fork_input_of(s, idx, k, &s->vm, true);
		struct fork_check fc = model_fork_verdict(&s->mem, &s->vm, &in);
		e->forks_failing += fc.verdict == FORK_FAILS;
		if (n == 0 || fc.need_kb > e->fork.need_kb) {
			e->fork = fc;
			e->fork_inst = k;
		}
	}
}

/* ---- host: vm.* sysctls ------------------------------------------------- */

struct host_ctx {
	const struct policy *pol;
	const struct snapshot *s;
	struct plan *p;
	const struct svc_obs *big;  /* service with the largest fork need, or NULL */
	size_t big_inst;            /* its instance whose fork needs most */
	const struct pol_service *bigpol;
	uint64_t need_kb;           /* its fork need */
	uint64_t headroom_kb;       /* fork headroom kept for it (policy fork_headroom) */
};

static uint64_t reserve_term(const struct host_ctx *h, const struct vm_sysctls *vm)
{
	uint64_t t = 0;
	if (!h->big)
		return (uint64_t)vm->v[VM_ADMIN_RESERVE_KBYTES];
	const struct svc_inst *in = &h->big->inst[h->big_inst];
	const struct proc_info *m = &h->big->procs[in->main];
	/* security/commoncap.c: CAP_SYS_ADMIN in the initial user namespace */
	if (admin_exemption(m->status.cap_eff, in->userns, &h->s->admin) != ADM_EXEMPT)
		t += (uint64_t)vm->v[VM_ADMIN_RESERVE_KBYTES];
	uint64_t u = m->status.vm_size_kb / 32;
	if (u > (uint64_t)vm->v[VM_USER_RESERVE_KBYTES])
		u = (uint64_t)vm->v[VM_USER_RESERVE_KBYTES];
	return t + u;
}

static int sysctl_action(struct host_ctx *h, enum vm_knob k, int64_t want, const struct origin *at,
			 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int sysctl_action(struct host_ctx *h, enum vm_knob k, int64_t want, const struct origin *at,
			 const char *fmt, ...)
{
	h->p->vm_after.v[k] = want;
	if (h->s->vm.v[k] == want)
		return 0;
	struct action *a = add_action(h->p, ACT_SYSCTL, at, NULL);
	if (!a)
		return -ENOMEM;
	a->knob = (int)k;
	snprintf(a->target, sizeof(a->target), "%s", vm_knob_name(k));
	snprintf(a->current, sizeof(a->current), "%" PRId64, h->s->vm.v[k]);
	snprintf(a->desired, sizeof(a->desired), "%" PRId64, want);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->reason, sizeof(a->reason), fmt, ap);
	va_end(ap);
	return 0;
}

static int plan_reserves(struct host_ctx *h)
{
	const struct pol_host *ph = &h->pol->host;
	uint64_t mt = h->s->mem.mem_total_kb;
	int rc = 0;
	if (ph->user_reserve.kind != SZ_UNSET)
		rc = sysctl_action(h, VM_USER_RESERVE_KBYTES, (int64_t)resolve_kb(&ph->user_reserve, mt),
				   &ph->user_reserve.at,
				   "policy user_reserve: no process (root's included) can take the last "
				   "min(its size/32, %s) of commit, so a shell can still kill a runaway",
				   KB(resolve_kb(&ph->user_reserve, mt)));
	if (rc == 0 && ph->admin_reserve.kind != SZ_UNSET)
		rc = sysctl_action(h, VM_ADMIN_RESERVE_KBYTES,
				   (int64_t)resolve_kb(&ph->admin_reserve, mt), &ph->admin_reserve.at,
				   "policy admin_reserve: %s of commit kept for processes with "
				   "CAP_SYS_ADMIN in the initial user namespace (root on the host, not "
				   "root in a container or user namespace) to log in and recover",
				   KB(resolve_kb(&ph->admin_reserve, mt)));
	return rc;
}

/* Hysteresis of the commit limit: a raise goes this far above the need:
 * max(16 MiB, 1% of RAM, growth x (fork need + headroom)), growth = 10% or
 * the largest service's learned growth per fork episode (capped at 50%). */
static uint64_t raise_slack(const struct host_ctx *h)
{
	uint64_t s = pct_of(h->s->mem.mem_total_kb, RAISE_SLACK_BP);
	if (s < RAISE_SLACK_MIN_KB)
		s = RAISE_SLACK_MIN_KB;
	if (!h->big)
		return s;
	const struct learn_estimate *le = &h->p->eval[h->big - h->s->svc].cow;
	uint64_t bp = RAISE_GROWTH_BP;
	if (!le->learning && le->growth * 10000.0 > (double)bp)
		bp = le->growth * 10000.0 > RAISE_GROWTH_MAX_BP ? RAISE_GROWTH_MAX_BP
								: (uint64_t)(le->growth * 10000.0);
	uint64_t g = pct_of(h->need_kb + h->headroom_kb, (uint32_t)bp);
	return g > s ? g : s;
}

/* Mode-switch gap: memory the services mapped with MAP_NORESERVE under
 * mode 0/1 stays uncharged in mode 2, but what they map after the switch
 * is charged (mm/mmap.c do_mmap honours MAP_NORESERVE only "if
 * (sysctl_overcommit_memory != OVERCOMMIT_NEVER)").  Only calibrated mains
 * (smaps read) can say; *estimated counts those that could not. */
static uint64_t switch_gap(const struct host_ctx *h, size_t *estimated)
{
	uint64_t gap = 0;
	*estimated = 0;
	if (h->s->vm.v[VM_OVERCOMMIT_MEMORY] == VM_MODE_STRICT)
		return 0;
	for (size_t i = 0; i < h->s->nsvc; i++) {
		const struct svc_obs *o = &h->s->svc[i];
		for (size_t k = 0; o->main_idx >= 0 && k < o->ninst; k++) {
			const struct fork_charge *c = &o->inst[k].charge;
			if (c->basis != CHARGE_EXACT && c->basis != CHARGE_CORRECTED)
				(*estimated)++;
			gap += c->noreserve_kb;
		}
	}
	return gap;
}

/* The service the host is sized for, or NULL when none runs. */
static const char *big_name(const struct host_ctx *h)
{
	return h->big ? h->pol->svc[h->big->policy_idx].name : NULL;
}

/* What strict accounting must hold (invariant 1 and the largest fork). */
struct commit_need {
	uint64_t now_limit; /* CommitLimit under the current sysctls */
	uint64_t backing;   /* what RAM + swap can back: MemTotal - Hugetlb + SwapTotal */
	uint64_t reserves;  /* the reserves a fork of the largest service is charged */
	uint64_t margin;    /* invariant 1's margin */
	uint64_t floor;     /* Committed_AS + reserves + margin */
	uint64_t required;  /* the floor, or the fork with its headroom when larger */
	uint64_t slack;     /* the per-CPU band under mode 2 (commit_slack_kb) */
	uint64_t gap;       /* the mode-switch gap (switch_gap) */
	size_t gap_estimated; /* mains whose gap could not be read */
};

/* The CommitLimit chosen, and how it is to be written. */
struct commit_choice {
	uint64_t want;
	const struct origin *at;
	bool explicit_ratio;     /* as the policy's commit_ratio, not as kbytes */
	char why[PLAN_TEXT_MAX]; /* a clamp or cap note that opens the reason */
};

enum strict_result {
	STRICT_SIZED,     /* the sizes are planned (possibly: nothing to change) */
	STRICT_FALL_BACK, /* auto cannot keep strict accounting: use heuristic mode */
	STRICT_NO_MEMORY, /* out of memory while planning */
};

static void commit_need(const struct host_ctx *h, struct commit_need *n)
{
	const struct meminfo *mi = &h->s->mem;
	/* "now" is the kernel's number; the formula only for "after the plan" */
	n->now_limit = mi->commit_limit_kb ? mi->commit_limit_kb : model_commit_limit_kb(mi, &h->s->vm);
	n->backing = mi->mem_total_kb - (mi->hugetlb_kb < mi->mem_total_kb ? mi->hugetlb_kb : 0) +
		     mi->swap_total_kb;
	n->reserves = reserve_term(h, &h->p->vm_after);
	n->margin = pct_of(mi->mem_total_kb, COMMIT_MARGIN_BP);
	if (n->margin < COMMIT_MARGIN_MIN_KB)
		n->margin = COMMIT_MARGIN_MIN_KB;
	n->slack = commit_slack_kb(mi->mem_total_kb, &h->s->cpus, VM_MODE_STRICT);
	n->gap = switch_gap(h, &n->gap_estimated);
	n->floor = mi->committed_as_kb + n->reserves + n->margin + n->gap;
	/* the fork must fit with its headroom, and one page more: the kernel
	 * refuses Committed_AS + need == allowed (its test is a strict '<'),
	 * and its reading of Committed_AS may lag by the per-CPU slack */
	n->required = h->big ? mi->committed_as_kb + h->headroom_kb + n->reserves + n->slack +
				       n->gap + MODEL_PAGE_KB
			     : 0;
	if (n->required < n->floor)
		n->required = n->floor;
}

/* What the policy asks for, if anything; else the limit in force now. */
static void commit_asked(const struct host_ctx *h, uint64_t now_limit, struct commit_choice *c)
{
	const struct pol_host *ph = &h->pol->host;
	c->want = now_limit;
	c->at = &ph->overcommit_at;
	c->explicit_ratio = false;
	c->why[0] = '\0';
	if (ph->commit_limit.kind != SZ_UNSET) {
		c->want = resolve_kb(&ph->commit_limit, h->s->mem.mem_total_kb);
		c->at = &ph->commit_limit.at;
	} else if (ph->commit_ratio.set) {
		struct vm_sysctls r = h->s->vm;
		r.v[VM_OVERCOMMIT_KBYTES] = 0;
		r.v[VM_OVERCOMMIT_RATIO] = ph->commit_ratio.v;
		c->want = model_commit_limit_kb(&h->s->mem, &r);
		c->at = &ph->commit_ratio.at;
		c->explicit_ratio = true;
	}
}

/* Raise the limit to what is required when RAM + swap can back it; else
 * fall back (auto) or cap it at the backing (strict forced). */
static enum strict_result commit_fit(const struct host_ctx *h, const struct commit_need *n,
				     bool may_fall_back, struct commit_choice *c)
{
	const struct meminfo *mi = &h->s->mem;
	if (c->want >= n->required)
		return STRICT_SIZED;
	if (n->required <= n->backing) {
		if (c->want < n->floor && c->want != n->now_limit)
			snprintf(c->why, sizeof(c->why),
				 "the policy's CommitLimit %s is below Committed_AS %s + reserves and "
				 "margin %s (safety invariant 1): clamped; ",
				 KB(c->want), KB(mi->committed_as_kb), KB(n->reserves + n->margin));
		/* a band above the need, so that Committed_AS moving by a few
		 * pages does not make the next run raise it again (§7.4) */
		c->want = round_up_mb(n->required + raise_slack(h));
		if (c->want > n->backing)
			c->want = n->backing;
		c->explicit_ratio = false;
		return STRICT_SIZED;
	}
	if (may_fall_back)
		return STRICT_FALL_BACK;
	/* strict forced: as much as RAM + swap can back, never below the floor */
	c->want = n->backing > n->floor ? n->backing : round_up_mb(n->floor);
	c->explicit_ratio = false;
	snprintf(c->why, sizeof(c->why), "CommitLimit capped at what RAM + swap can back (%s); ",
		 KB(n->backing));
	return STRICT_SIZED;
}

/* The policy's commit_ratio, written as the ratio (kbytes cleared first). */
static int write_commit_ratio(struct host_ctx *h, const struct commit_choice *c)
{
	const struct pol_host *ph = &h->pol->host;
	const struct meminfo *mi = &h->s->mem;
	if (h->s->vm.v[VM_OVERCOMMIT_KBYTES] != 0) {
		int rc = sysctl_action(h, VM_OVERCOMMIT_KBYTES, 0, c->at,
				       "clear vm.overcommit_kbytes so vm.overcommit_ratio "
				       "sets CommitLimit");
		if (rc)
			return rc;
	}
	return sysctl_action(h, VM_OVERCOMMIT_RATIO, ph->commit_ratio.v, c->at,
			     "policy commit_ratio: CommitLimit = (MemTotal %s x %" PRId64
			     "%%) + swap %s = %s",
			     KB(mi->mem_total_kb), ph->commit_ratio.v, KB(mi->swap_total_kb),
			     KB(c->want));
}

/* Any other CommitLimit, written as vm.overcommit_kbytes (= limit - swap). */
static int write_commit_kbytes(struct host_ctx *h, const struct commit_need *n,
			       const struct commit_choice *c)
{
	const struct meminfo *mi = &h->s->mem;
	uint64_t swap = mi->swap_total_kb;
	const char *who = big_name(h);
	if (c->want == n->now_limit)
		return 0;
	int64_t kbytes = c->want > swap ? (int64_t)(c->want - swap) : (int64_t)KB_PER_MB;
	int rc;
	char gap[PLAN_TEXT_MAX / 2] = "";
	if (n->gap || n->gap_estimated)
		snprintf(gap, sizeof(gap),
			 " + mode-switch gap %s (MAP_NORESERVE memory mapped under mode %" PRId64
			 ": uncharged now, what is mapped after the switch is charged%s)",
			 KB(n->gap), h->s->vm.v[VM_OVERCOMMIT_MEMORY],
			 n->gap_estimated ? "; some services not calibrated: estimate" : "");
	if (who)
		rc = sysctl_action(h, VM_OVERCOMMIT_KBYTES, kbytes, c->at,
				   "%sCommitLimit %s -> %s (= overcommit_kbytes + swap %s): "
				   "Committed_AS %s + fork headroom %s for %s + reserves %s + "
				   "per-CPU slack %s%s must fit, and RAM + swap (%s) can back it; "
				   "the kernel zeroes vm.overcommit_ratio",
				   c->why, KB(n->now_limit), KB(c->want), KB(swap),
				   KB(mi->committed_as_kb), KB(h->headroom_kb), who, KB(n->reserves),
				   KB(n->slack), gap, KB(n->backing));
	else
		rc = sysctl_action(h, VM_OVERCOMMIT_KBYTES, kbytes, c->at,
				   "%sCommitLimit %s -> %s (= overcommit_kbytes + swap %s); "
				   "Committed_AS is %s; the kernel zeroes vm.overcommit_ratio",
				   c->why, KB(n->now_limit), KB(c->want), KB(swap),
				   KB(mi->committed_as_kb));
	if (rc == 0)
		h->p->vm_after.v[VM_OVERCOMMIT_RATIO] = 0;
	return rc;
}

/* Strict accounting: choose the CommitLimit, then the knob that yields it. */
static enum strict_result plan_strict_size(struct host_ctx *h, bool may_fall_back)
{
	struct commit_need n;
	struct commit_choice c;
	commit_need(h, &n);
	commit_asked(h, n.now_limit, &c);
	if (commit_fit(h, &n, may_fall_back, &c) == STRICT_FALL_BACK)
		return STRICT_FALL_BACK;
	int rc = c.explicit_ratio ? write_commit_ratio(h, &c) : write_commit_kbytes(h, &n, &c);
	return rc ? STRICT_NO_MEMORY : STRICT_SIZED;
}

/* The mode the policy asks for; auto never tightens: it keeps the mode. */
static int64_t mode_asked(enum oc_pref pref, int64_t mode_now)
{
	switch (pref) {
	case OC_ALWAYS: return VM_MODE_ALWAYS;
	case OC_HEURISTIC: return VM_MODE_HEURISTIC;
	case OC_STRICT: return VM_MODE_STRICT;
	case OC_AUTO: break;
	}
	return mode_now;
}

static void fall_back_summary(const struct host_ctx *h)
{
	const struct meminfo *mi = &h->s->mem;
	const char *who = big_name(h);
	snprintf(h->p->host_summary, sizeof(h->p->host_summary),
		 "strict accounting cannot be kept: Committed_AS %s + fork headroom %s "
		 "for %s exceeds what RAM + swap can back (%s); falling back to "
		 "heuristic mode (0), protecting services with memory.high and "
		 "oom_score_adj",
		 KB(mi->committed_as_kb), KB(h->headroom_kb), who ? who : "no running service",
		 KB(mi->mem_total_kb + mi->swap_total_kb));
}

static void host_summary(const struct host_ctx *h, int64_t mode, int64_t mode_now)
{
	struct plan *p = h->p;
	const char *who = big_name(h);
	size_t est = 0;
	uint64_t gap = switch_gap(h, &est);
	char gaps[PLAN_TEXT_MAX / 2] = "";
	if (mode == VM_MODE_STRICT && mode_now != VM_MODE_STRICT)
		snprintf(gaps, sizeof(gaps),
			 "; mode-switch gap %s in the floor (MAP_NORESERVE memory the services "
			 "mapped under mode %" PRId64 " stays uncharged, what they map after the "
			 "switch is charged; %s)",
			 KB(gap), mode_now,
			 est ? "some services not calibrated from smaps: estimate" : "calibrated from smaps");
	if (mode == VM_MODE_STRICT)
		snprintf(p->host_summary, sizeof(p->host_summary),
			 "strict accounting (vm.overcommit_memory=2) %s: CommitLimit %s -> %s for "
			 "Committed_AS %s + fork headroom %s (%s)%s",
			 mode_now == VM_MODE_STRICT ? "kept" : "chosen", KB(p->commit_limit_kb),
			 KB(p->commit_limit_after_kb), KB(h->s->mem.committed_as_kb),
			 KB(h->headroom_kb), who ? who : "no running service", gaps);
	else
		snprintf(p->host_summary, sizeof(p->host_summary),
			 "vm.overcommit_memory=%" PRId64 " (%s) %s: fork-heavy services are protected "
			 "by memory.high and oom_score_adj instead of commit accounting",
			 mode, vm_mode_name(mode), mode == mode_now ? "kept" : "chosen");
}

/* The loosest mode a running service requires (requires_overcommit), its
 * policy in *who; -1 when none does. */
static int64_t mode_required(const struct host_ctx *h, const struct pol_service **who)
{
	int64_t need = -1;
	*who = NULL;
	for (size_t i = 0; i < h->s->nsvc; i++) {
		const struct svc_obs *o = &h->s->svc[i];
		const struct pol_service *ps = &h->pol->svc[o->policy_idx];
		if (o->main_idx < 0 || !ps->requires_overcommit.v)
			continue;
		int64_t m = strcmp(ps->requires_overcommit.v, "always") == 0 ? VM_MODE_ALWAYS
									     : VM_MODE_HEURISTIC;
		if (need < 0 || (m == VM_MODE_ALWAYS && need != VM_MODE_ALWAYS)) {
			need = m;
			*who = ps;
		}
	}
	return need;
}

/* requires_overcommit: auto never chooses strict accounting (or a mode the
 * service cannot run under) while such a service runs; an explicit
 * overcommit = strict is the operator's and stays, with a risk. */
static int apply_required(struct host_ctx *h, int64_t *mode)
{
	const struct pol_host *ph = &h->pol->host;
	const struct pol_service *who;
	int64_t need = mode_required(h, &who);
	if (need < 0 || *mode == need || (*mode == VM_MODE_ALWAYS && need == VM_MODE_HEURISTIC))
		return 0;
	char at[200];
	origin_fmt(&who->requires_overcommit.at, at, sizeof(at));
	if (ph->overcommit != OC_AUTO)
		return add_risk(h->p, "requires_overcommit", who->name,
				"%s runs and requires vm.overcommit_memory=%" PRId64 " (%s; %s), but "
				"[host] overcommit = %s forces %" PRId64 ": it may abort when an "
				"allocation fails",
				who->name, need, vm_mode_name(need), at, oc_pref_name(ph->overcommit),
				*mode);
	snprintf(h->p->host_summary, sizeof(h->p->host_summary),
		 "vm.overcommit_memory=%" PRId64 " (%s) chosen: %.64s runs and requires it "
		 "(requires_overcommit = %s, %.160s), which wins over auto's preference for strict "
		 "accounting; memory.high and oom_score_adj protect forks instead",
		 need, vm_mode_name(need), who->name, who->requires_overcommit.v, at);
	*mode = need;
	return 0;
}

/* cgroup_favordynmods: the option as the policy asks, on the cgroup2 mount
 * that holds the memory controller (a v1 hierarchy is not touched). */
static int plan_favordynmods(struct host_ctx *h)
{
	const struct pol_host *ph = &h->pol->host;
	enum cgopt_state now = h->s->favordynmods;
	if (!ph->cgroup_favordynmods_at.file || h->s->cg_hier != CG_HIER_V2)
		return 0;
	if (now == CGOPT_UNKNOWN) /* no mount seen (a fixture tree, an old snapshot) */
		return 0;
	if (now == CGOPT_UNSUPPORTED)
		return !ph->cgroup_favordynmods ? 0 : add_risk(h->p, "no_favordynmods", NULL,
				"the policy asks for cgroup_favordynmods = yes (%s:%d), but this "
				"kernel's cgroup2 has no favordynmods (Linux 6.0 and later; "
				"/sys/kernel/cgroup/features): cgroup moves keep waiting an RCU "
				"grace period", ph->cgroup_favordynmods_at.file,
				ph->cgroup_favordynmods_at.line);
	if ((now == CGOPT_ON) == ph->cgroup_favordynmods)
		return 0;
	struct action *a = add_action(h->p, ACT_CGROUP_MOUNT, &ph->cgroup_favordynmods_at, NULL);
	if (!a)
		return -ENOMEM;
	snprintf(a->target, sizeof(a->target), "%s", CGOPT_FLAG);
	snprintf(a->current, sizeof(a->current), "%s", cgopt_onoff(now == CGOPT_ON));
	snprintf(a->desired, sizeof(a->desired), "%s", cgopt_onoff(ph->cgroup_favordynmods));
	snprintf(a->reason, sizeof(a->reason), "%s",
		 ph->cgroup_favordynmods
			 ? "policy asks for it: a process moved into a service's cgroup no longer "
			   "waits an RCU grace period (2-20 ms in the measured guest); forks and "
			   "exits take a slower lock path instead"
			 : "policy asks for it off: forks and exits on the fast lock path, cgroup "
			   "moves wait an RCU grace period");
	return 0;
}

static int plan_host(struct host_ctx *h)
{
	const struct pol_host *ph = &h->pol->host;
	struct plan *p = h->p;
	int64_t mode_now = h->s->vm.v[VM_OVERCOMMIT_MEMORY];
	int64_t mode = mode_asked(ph->overcommit, mode_now);

	int rc = plan_favordynmods(h);
	if (rc == 0)
		rc = plan_reserves(h);
	if (rc == 0)
		rc = apply_required(h, &mode);
	if (rc)
		return rc;
	if (mode == VM_MODE_STRICT) {
		/* sizes first: the plan order is the write order for sysctls
		 * entering strict mode (apply.c keeps sizes before the mode) */
		enum strict_result r = plan_strict_size(h, ph->overcommit == OC_AUTO);
		if (r == STRICT_NO_MEMORY)
			return -ENOMEM;
		if (r == STRICT_FALL_BACK) {
			mode = VM_MODE_HEURISTIC;
			fall_back_summary(h);
		}
	}
	if (mode != mode_now) {
		rc = sysctl_action(h, VM_OVERCOMMIT_MEMORY, mode,
				   &ph->overcommit_at, "policy overcommit = %s: mode %" PRId64
				   " (%s) -> %" PRId64 " (%s)%s",
				   oc_pref_name(ph->overcommit), mode_now, vm_mode_name(mode_now), mode,
				   vm_mode_name(mode), p->host_summary[0] ? "; see host decision" : "");
		if (rc)
			return rc;
	}
	p->mode_after = (int)mode;
	p->commit_limit_after_kb = model_commit_limit_kb(&h->s->mem, &p->vm_after);
	if (!p->host_summary[0])
		host_summary(h, mode, mode_now);
	return 0;
}

/* ---- services: oom_score_adj, cgroups ----------------------------------- */

/* "pid 123 (redis-server)" */
static void process_target(struct action *a, const struct proc_info *pi)
{
	struct tbuf b;
	tb_init(&b, a->target, sizeof(a->target));
	tb_str(&b, "pid ");
	tb_i64(&b, pi->pid);
	tb_str(&b, " (");
	tb_strn(&b, pi->st.comm, 32);
	tb_chr(&b, ')');
}

static int oom_action(struct plan *p, const struct pol_service *ps, const struct proc_info *pi,
		      enum proc_role r)
{
	const struct pol_int *want = r == ROLE_MAIN ? &ps->oom_score_adj : &ps->child_oom_score_adj;
	const char *role = r == ROLE_MAIN ? "main process" : "forked child";
	if (!want->set || pi->oom_score_adj == want->v)
		return 0;
	struct action *a = add_action(p, ACT_OOM_SCORE_ADJ, &want->at, ps->name);
	if (!a)
		return -ENOMEM;
	a->role = r;
	a->pid = pi->pid;
	a->start_time = pi->st.start_time;
	/* the exec path: texts without printf (textbuf.h) */
	struct tbuf b;
	process_target(a, pi);
	tb_set_i64(a->current, sizeof(a->current), pi->oom_score_adj);
	tb_set_i64(a->desired, sizeof(a->desired), want->v);
	tb_init(&b, a->reason, sizeof(a->reason));
	tb_str(&b, role);
	tb_str(&b, " of ");
	tb_str(&b, ps->name);
	tb_str(&b, want->v < 0 ? ": the OOM killer should spare it"
			       : ": a disposable child dies before the main process or an unrelated one");
	return 0;
}

static int attach_one(struct plan *p, const struct pol_service *ps, const struct proc_info *pi,
		      const char *target)
{
	if (strcmp(pi->cgroup, target) == 0)
		return 0;
	struct action *a = add_action(p, ACT_CGROUP_ATTACH, ps->cgroup.at.line ? &ps->cgroup.at : &ps->at,
				      ps->name);
	if (!a)
		return -ENOMEM;
	a->pid = pi->pid;
	a->start_time = pi->st.start_time;
	struct tbuf b;
	process_target(a, pi);
	tb_set_str(a->cgroup, sizeof(a->cgroup), target);
	tb_set_str(a->current, sizeof(a->current), pi->cgroup[0] ? pi->cgroup : "?");
	tb_set_str(a->desired, sizeof(a->desired), target);
	tb_init(&b, a->reason, sizeof(a->reason));
	tb_str(&b, ps->name);
	tb_str(&b, " has no cgroup of its own (it is in ");
	tb_strn(&b, pi->cgroup[0] ? pi->cgroup : "no cgroup v2 group", 200);
	tb_str(&b, "): memory.high needs one");
	return 0;
}

static bool wants_cgroup(const struct pol_service *ps)
{
	return (ps->memory_high.kind != SZ_OFF && ps->memory_high.kind != SZ_UNSET) ||
	       (ps->memory_max.kind != SZ_OFF && ps->memory_max.kind != SZ_UNSET);
}

int plan_process(const struct policy *pol, size_t svc, const struct proc_info *pi,
		 enum proc_role role, bool cgroup2, struct plan *out)
{
	const struct pol_service *ps = &pol->svc[svc];
	int rc = 0;
	if (role == ROLE_MAIN || role == ROLE_CHILD)
		rc = oom_action(out, ps, pi, role);
	if (rc || !cgroup2 || !wants_cgroup(ps) || !pi->cgroup[0])
		return rc;
	char target[PROC_PATH_MAX];
	policy_service_cgroup(ps, target, sizeof(target));
	if (svc_cgroup_is_own(pi->cgroup, target))
		return 0;
	return attach_one(out, ps, pi, target);
}

/* A limit of the group as it is now; CG_UNLIMITED when the group is not there. */
static uint64_t cg_value(const struct cg_memory *cg, uint64_t v)
{
	return cg->present ? v : CG_UNLIMITED;
}

static void cg_fmt(uint64_t bytes, char *buf, size_t size)
{
	if (bytes == CG_UNLIMITED)
		snprintf(buf, size, "max");
	else
		snprintf(buf, size, "%" PRIu64, bytes);
}

/* anon x (1 + growth) x (1 + margin_bp/10000), in KiB */
static uint64_t cow_sized(uint64_t anon_kb, double growth, uint64_t margin_bp)
{
	double v = (double)anon_kb * (1.0 + growth) * (1.0 + (double)margin_bp / 10000.0);
	return v >= 9.0e15 ? (uint64_t)9e15 : (uint64_t)v;
}

/* Where a service's memory limits go and what they are checked against. */
struct limit_ctx {
	struct plan *p;
	const struct pol_service *ps;
	const struct svc_eval *e;
	const struct cg_memory *cg; /* figures of the target group */
	char target[PROC_PATH_MAX]; /* the group the limits are written to */
	uint64_t usage_kb;          /* what invariant 2 keeps the limits above */
	uint64_t mem_total_kb;
	uint64_t cow_bp;            /* cow_margin */
};

/* One memory.high or memory.max value to decide. */
struct limit_req {
	enum action_kind kind;         /* ACT_MEMORY_HIGH or ACT_MEMORY_MAX */
	const struct size_spec *spec;  /* the policy key asking for it */
	uint64_t want_kb;
	const char *how;               /* how want_kb was reached, for the reason */
	uint64_t cap_kb;               /* an auto value may be raised to the floor up to this */
	uint64_t current_bytes;        /* the group's value now; CG_UNLIMITED when none */
};

/* One memory.high / memory.max decision, invariant 2 enforced. */
static int limit_action(const struct limit_ctx *l, const struct limit_req *r)
{
	const struct pol_service *ps = l->ps;
	const char *file = r->kind == ACT_MEMORY_HIGH ? "memory.high" : "memory.max";
	uint64_t usage_kb = l->usage_kb;
	uint64_t margin = usage_kb / 10 > CG_MARGIN_MIN_KB ? usage_kb / 10 : CG_MARGIN_MIN_KB;
	uint64_t floor = usage_kb + margin;
	uint64_t want_kb = r->want_kb;
	char note[160] = "";
	if (want_kb < floor) {
		if (r->spec->kind != SZ_AUTO || floor > r->cap_kb)
			return add_risk(l->p, "limit_below_usage", ps->name,
					"%s: %s %s for %s would be below its usage %s + margin %s; "
					"not written (safety invariant 2)",
					ps->name, file, KB(want_kb), l->target, KB(usage_kb), KB(margin));
		snprintf(note, sizeof(note), "; raised to usage %s + margin %s (invariant 2)",
			 KB(usage_kb), KB(margin));
		want_kb = floor;
	}
	want_kb = round_up_mb(want_kb);
	uint64_t want = want_kb * 1024, cur = r->current_bytes;
	if (cur != CG_UNLIMITED && r->spec->kind == SZ_AUTO) {
		uint64_t diff = cur > want ? cur - want : want - cur;
		/* hysteresis: an auto value already within 10% stays, if safe */
		if (cur / 1024 >= floor && diff <= pct_of(want, CG_HYSTERESIS_BP))
			return 0;
	}
	if (cur == want)
		return 0;
	struct action *a = add_action(l->p, r->kind, &r->spec->at, ps->name);
	if (!a)
		return -ENOMEM;
	snprintf(a->target, sizeof(a->target), "%s", l->target);
	snprintf(a->cgroup, sizeof(a->cgroup), "%s", l->target);
	cg_fmt(cur, a->current, sizeof(a->current));
	cg_fmt(want, a->desired, sizeof(a->desired));
	snprintf(a->reason, sizeof(a->reason), "%s %s for %s: %s%s", file, KB(want_kb), ps->name,
		 r->how, note);
	return 0;
}

/* Children that set their own value: one risk for the service, no write. */
static int oom_conflict_risk(struct plan *p, const struct pol_service *ps, size_t n,
			     const struct proc_info *first)
{
	char at[200];
	origin_fmt(&ps->child_oom_score_adj.at, at, sizeof(at));
	return add_risk(p, "oom_score_adj_conflict", ps->name,
			"%s: %zu child%s of the main set %s own oom_score_adj after fork (%d, first "
			"pid %d), not child_oom_score_adj = %" PRId64 " (%.160s): the service sets "
			"it itself (PostgreSQL PG_OOM_ADJUST_VALUE, Redis oom-score-adj); "
			"overcommitd leaves %s alone rather than fight over it; make the policy "
			"and the service agree",
			ps->name, n, n == 1 ? "" : "ren", n == 1 ? "its" : "their",
			first->oom_score_adj, first->pid, ps->child_oom_score_adj.v, at,
			n == 1 ? "it" : "them");
}

/* oom_score_adj of every instance's main and of each main's children
 * (roles from svc_obs_index); a child's own value is never written over. */
static int plan_service_oom(struct plan *p, const struct pol_service *ps, const struct svc_obs *o,
			    struct svc_eval *e)
{
	int rc = 0;
	const struct proc_info *first = NULL;
	for (size_t k = 0; rc == 0 && k < o->nprocs; k++) {
		const struct proc_info *pi = &o->procs[k];
		enum proc_role r = o->place[k].role;
		if (r == ROLE_CHILD) {
			const struct svc_inst *in = &o->inst[o->place[k].inst];
			if (oom_child_self_set(ps, pi->oom_score_adj, o->procs[in->main].oom_score_adj,
					       in->main_orig_adj)) {
				first = first ? first : pi;
				e->oom_self_set++;
				continue;
			}
		}
		if (r == ROLE_MAIN || r == ROLE_CHILD)
			rc = oom_action(p, ps, pi, r);
	}
	if (rc == 0 && e->oom_self_set)
		rc = oom_conflict_risk(p, ps, e->oom_self_set, first);
	return rc;
}

/* The group the limits go to: the service's own, or the policy's group,
 * which every process of the service is first attached to. */
static int limit_target(struct limit_ctx *l, const struct svc_obs *o)
{
	if (o->own_cgroup) {
		snprintf(l->target, sizeof(l->target), "%s", o->cgroup);
		l->cg = &o->cg;
		l->usage_kb = o->cg.present ? o->cg.current / 1024 : l->e->size_anon_kb;
		return 0;
	}
	policy_service_cgroup(l->ps, l->target, sizeof(l->target));
	int rc = 0;
	for (size_t k = 0; rc == 0 && k < o->nprocs; k++)
		rc = attach_one(l->p, l->ps, &o->procs[k], l->target);
	l->cg = &o->policy_cg;
	/* v2 does not move charged pages with a process: usage in the new
	 * group starts near what is there now; the anon it will fault in is
	 * bounded by the service's anon */
	l->usage_kb = (l->cg->present ? l->cg->current / 1024 : 0) + l->e->size_anon_kb;
	return rc;
}

/* memory.high = auto: anon x (1 + COW growth) x (1 + cow_margin), clamped. */
static int plan_auto_high(const struct limit_ctx *l, uint64_t *high_kb)
{
	const struct pol_service *ps = l->ps;
	const struct svc_eval *e = l->e;
	uint64_t hi_min = resolve_kb(&ps->memory_high_min, l->mem_total_kb);
	uint64_t hi_max = resolve_kb(&ps->memory_high_max, l->mem_total_kb);
	uint64_t kb = cow_sized(e->size_anon_kb, e->cow.growth, l->cow_bp);
	/* long-lived workers: the room they still grow into, with the margin */
	uint64_t room = cow_sized(e->workers_room_kb, 0.0, l->cow_bp);
	kb += room;
	const char *clamp = "";
	if (kb < hi_min) {
		kb = hi_min;
		clamp = ", floored at memory_high_min";
	}
	if (hi_max && kb > hi_max) {
		kb = hi_max;
		clamp = ", capped at memory_high_max";
	}
	char learned_txt[96];
	if (e->cow.learning)
		snprintf(learned_txt, sizeof(learned_txt),
			 "learning: no fork episode seen yet, assumed %.2f", e->cow.growth);
	else
		snprintf(learned_txt, sizeof(learned_txt), "learned from %zu fork episode%s",
			 e->cow.episodes, e->cow.episodes == 1 ? "" : "s");
	char how[PLAN_TEXT_MAX], workers_txt[160] = "";
	if (room)
		snprintf(workers_txt, sizeof(workers_txt),
			 " + %zu workers' room %s (each grows to %s over its life, %s private now) "
			 "x (1 + cow_margin)",
			 e->workers, KB(e->workers_room_kb), KB(e->worker_growth_kb),
			 KB(e->worker_private_kb));
	snprintf(how, sizeof(how),
		 "auto = anon %s x (1 + COW growth %.2f; %s) x (1 + cow_margin %" PRIu64 "%%)%s%s",
		 KB(e->size_anon_kb), e->cow.growth, learned_txt, l->cow_bp / 100, workers_txt, clamp);
	*high_kb = kb;
	struct limit_req r = { ACT_MEMORY_HIGH, &ps->memory_high, kb, how,
			       hi_max ? hi_max : l->mem_total_kb, cg_value(l->cg, l->cg->high) };
	return limit_action(l, &r);
}

/* memory.high: auto or fixed; *high_kb is what memory.max = auto must not
 * go below (0 when memory.high is off). */
static int plan_memory_high(const struct limit_ctx *l, uint64_t *high_kb)
{
	const struct size_spec *spec = &l->ps->memory_high;
	*high_kb = 0;
	if (spec->kind == SZ_AUTO)
		return plan_auto_high(l, high_kb);
	if (spec->kind != SZ_KB && spec->kind != SZ_PCT)
		return 0;
	*high_kb = resolve_kb(spec, l->mem_total_kb);
	struct limit_req r = { ACT_MEMORY_HIGH, spec, *high_kb,
			       "fixed by policy; throttles and reclaims above it", l->mem_total_kb,
			       cg_value(l->cg, l->cg->high) };
	return limit_action(l, &r);
}

static int plan_memory_max(const struct limit_ctx *l, uint64_t high_kb)
{
	const struct size_spec *spec = &l->ps->memory_max;
	const struct svc_eval *e = l->e;
	struct limit_req r = { ACT_MEMORY_MAX, spec, 0, NULL, l->mem_total_kb,
			       cg_value(l->cg, l->cg->max) };
	char how[PLAN_TEXT_MAX];
	if (spec->kind == SZ_AUTO) {
		/* the wall: the service plus one child that dirties everything */
		r.want_kb = cow_sized(e->size_anon_kb, e->cow.growth > 1.0 ? e->cow.growth : 1.0,
				      l->cow_bp);
		if (r.want_kb < high_kb)
			r.want_kb = high_kb;
		snprintf(how, sizeof(how),
			 "auto = anon %s x (1 + max(COW growth, 1)) x (1 + cow_margin): a child that "
			 "copies every page still fits; beyond it a cgroup OOM kills inside the "
			 "group, children first",
			 KB(e->size_anon_kb));
		r.how = how;
	} else if (spec->kind == SZ_KB || spec->kind == SZ_PCT) {
		r.want_kb = resolve_kb(spec, l->mem_total_kb);
		r.how = "fixed by policy; the hard wall (cgroup OOM inside the group)";
	} else {
		return 0;
	}
	return limit_action(l, &r);
}

static int plan_service(const struct policy *pol, const struct snapshot *s, size_t i, struct plan *p)
{
	const struct svc_obs *o = &s->svc[i];
	const struct pol_service *ps = &pol->svc[o->policy_idx];
	if (o->main_idx < 0)
		return 0;
	int rc = plan_service_oom(p, ps, o, &p->eval[i]);
	if (rc || !wants_cgroup(ps))
		return rc;
	if (!s->cgroup2)
		return add_risk(p, "no_cgroup2", ps->name,
				"%s: memory limits asked for, but no memory controller is mounted "
				"(neither cgroup v2 nor v1); only oom_score_adj protects it",
				ps->name);
	struct limit_ctx l = {
		.p = p, .ps = ps, .e = &p->eval[i], .mem_total_kb = s->mem.mem_total_kb,
		.cow_bp = ps->cow_margin.kind == SZ_PCT ? ps->cow_margin.bp : POLICY_COW_MARGIN_BP,
	};
	rc = limit_target(&l, o);
	uint64_t high_kb = 0;
	if (rc == 0)
		rc = plan_memory_high(&l, &high_kb);
	if (rc == 0)
		rc = plan_memory_max(&l, high_kb);
	return rc;
}

/* ---- risks -------------------------------------------------------------- */

static const char *basis_note(const struct fork_check *f)
{
	if (f->basis == CHARGE_FORK_EVENT)
		return " (estimate: VmData + VmStk less the MADV_DONTFORK share the last fork "
		       "showed; smaps not read)";
	return f->basis == CHARGE_ESTIMATE ? " (estimate: VmData + VmStk; smaps not read)" : "";
}

/* The fork verdict as risks: fails / uncertain now, and after the plan.
 * Mode 0 tests one mapping against RAM + swap: its text never quotes
 * CommitLimit, which mode 0 does not use. */
static int fork_risks(struct plan *p, const struct pol_service *ps, const struct proc_info *m,
		      const struct svc_eval *e, const struct meminfo *mi)
{
	const struct fork_check *f = &e->fork;
	int rc = 0;
	if (f->mode == VM_MODE_HEURISTIC && f->verdict != FORK_FITS)
		rc = add_risk(p, f->verdict == FORK_FAILS ? "fork_fails" : "fork_uncertain", ps->name,
			      "%s: heuristic mode (0) refuses a fork when one accounted mapping is "
			      "larger than RAM + swap (%s); the largest of %.32s (pid %d) is %s%s",
			      ps->name, KB(mi->mem_total_kb + mi->swap_total_kb), m->st.comm, m->pid,
			      KB(f->largest_kb),
			      f->verdict == FORK_FAILS ? "" : " (only the sum is known: maps unread)");
	else if (f->verdict == FORK_FAILS)
		rc = add_risk(p, "fork_fails", ps->name,
			      "%s: a fork of %.32s (pid %d) needs %s of commit but only %s is "
			      "left under CommitLimit %s after reserves (vm.overcommit_memory=%d): "
			      "fork() fails with ENOMEM although %s of RAM is available%s",
			      ps->name, m->st.comm, m->pid, KB(f->need_kb),
			      SKB(f->headroom_kb + (int64_t)f->need_kb), KB(p->commit_limit_kb), f->mode,
			      KB(mi->mem_available_kb), basis_note(f));
	else if (f->verdict == FORK_UNCERTAIN)
		rc = add_risk(p, "fork_uncertain", ps->name,
			      "%s: a fork of %.32s (pid %d) needing %s%s lands %s from the limit, "
			      "inside the per-CPU counter slack (+-%s): the kernel's approximate "
			      "Committed_AS decides, it may fail with ENOMEM",
			      ps->name, m->st.comm, m->pid, KB(f->need_kb), basis_note(f),
			      SKB(f->headroom_kb), KB(f->slack_kb));
	if (rc == 0 && e->fork_after.verdict != FORK_FITS)
		rc = add_risk(p, "fork_fails_after_plan", ps->name,
			      "%s: even after this plan a fork of pid %d (%s) %s: headroom %s "
			      "(band +-%s)",
			      ps->name, m->pid, KB(e->fork_after.need_kb),
			      e->fork_after.verdict == FORK_FAILS ? "does not fit" : "is uncertain",
			      SKB(e->fork_after.headroom_kb), KB(e->fork_after.slack_kb));
	return rc;
}

/* "Now" is meminfo's CommitLimit; the formula serves "after the plan".
 * They differ during a swapoff, or with a ratio beyond the formula's range. */
static int formula_risk(const struct snapshot *s, struct plan *p)
{
	uint64_t f = model_commit_limit_kb(&s->mem, &s->vm);
	if (s->mem.commit_limit_kb == 0 || f == s->mem.commit_limit_kb)
		return 0;
	return add_risk(p, "commit_limit_formula", NULL,
			"CommitLimit is %s now (/proc/meminfo) but the sysctls give %s by the "
			"kernel's formula (swapoff in progress, hugetlb or swap changing, or a "
			"ratio outside the formula's range): the verdicts use %s; the plan's "
			"\"after\" figures use the formula",
			KB(s->mem.commit_limit_kb), KB(f), KB(s->mem.commit_limit_kb));
}

/* The fork verdict of every instance but the one reported below (the one
 * needing most), each on its own main's charge. */
static int instance_risks(struct plan *p, const struct snapshot *s, size_t idx,
			  const struct pol_service *ps)
{
	const struct svc_obs *o = &s->svc[idx];
	int rc = 0;
	for (size_t k = 0; rc == 0 && k < o->ninst; k++) {
		const struct proc_info *m = &o->procs[o->inst[k].main];
		if (k == p->eval[idx].fork_inst)
			continue;
		struct fork_input in = fork_input_of(s, idx, k, &s->vm, true);
		struct fork_check fc = model_fork_verdict(&s->mem, &s->vm, &in);
		if (fc.verdict == FORK_FAILS)
			rc = add_risk(p, "fork_fails", ps->name,
				      "%s: a fork of the instance %.32s (pid %d) needs %s of commit%s but "
				      "only %s is left under CommitLimit %s after reserves",
				      ps->name, m->st.comm, m->pid, KB(fc.need_kb), basis_note(&fc),
				      SKB(fc.headroom_kb + (int64_t)fc.need_kb), KB(p->commit_limit_kb));
		else if (fc.verdict == FORK_UNCERTAIN)
			rc = add_risk(p, "fork_uncertain", ps->name,
				      "%s: a fork of the instance %.32s (pid %d) needing %s%s lands %s "
				      "from the limit, inside the per-CPU counter slack (+-%s)",
				      ps->name, m->st.comm, m->pid, KB(fc.need_kb), basis_note(&fc),
				      SKB(fc.headroom_kb), KB(fc.slack_kb));
	}
	return rc;
}

/* systemd's OOMPolicy=stop (its default) or kill: one OOM-killed child
 * takes the whole unit down (read over D-Bus; unknown: no claim). */
static int oom_policy_risk(struct plan *p, const struct pol_service *ps, const struct svc_obs *o,
			   const struct svc_eval *e)
{
	bool children = e->workers > 0 || ps->child_oom_score_adj.set;
	enum oomp_verdict v = oompolicy_judge(o->oom_policy, children);
	if (v != OOMP_STOPS_UNIT && v != OOMP_KILLS_UNIT)
		return 0;
	return add_risk(p, "oom_policy_stop", ps->name,
			"%s runs as %.200s with OOMPolicy=%s%s: when the OOM killer takes one of "
			"its children (%zu worker%s now%s), systemd %s the whole unit, main "
			"included; set OOMPolicy=continue (systemctl edit %.200s: [Service] "
			"OOMPolicy=continue)",
			ps->name, o->unit, o->oom_policy,
			v == OOMP_STOPS_UNIT ? " (systemd's default)" : "", e->workers,
			e->workers == 1 ? "" : "s",
			ps->child_oom_score_adj.set ? ", child_oom_score_adj makes them its first choice"
						    : "",
			v == OOMP_STOPS_UNIT ? "stops" : "kills", o->unit);
}

static int plan_risks(const struct policy *pol, const struct snapshot *s, struct plan *p)
{
	const struct meminfo *mi = &s->mem;
	int64_t mode = s->vm.v[VM_OVERCOMMIT_MEMORY];
	int rc = formula_risk(s, p);
	if (rc == 0 && mode == VM_MODE_STRICT && p->commit_limit_kb > 0 &&
	    (p->commit_headroom_kb < 0 ||
	     (uint64_t)p->commit_headroom_kb < pct_of(p->commit_limit_kb, NEAR_LIMIT_BP)))
		rc = add_risk(p, "commit_near_limit", NULL,
			      "Committed_AS %s is within %s of CommitLimit %s under strict "
			      "accounting: any allocation beyond that fails with ENOMEM",
			      KB(mi->committed_as_kb), SKB(p->commit_headroom_kb), KB(p->commit_limit_kb));
	for (size_t i = 0; rc == 0 && i < s->nsvc; i++) {
		const struct svc_obs *o = &s->svc[i];
		const struct pol_service *ps = &pol->svc[o->policy_idx];
		const struct svc_eval *e = &p->eval[i];
		if (o->nuntrusted)
			rc = add_risk(p, "untrusted_match", ps->name,
				      "%s: %zu process%s match%s it by name but run%s as a login user "
				      "(first: pid %d, uid %u; UID_MIN %u): left alone, never main, no "
				      "oom_score_adj or group; name that user in match_user if it is the "
				      "service's",
				      ps->name, o->nuntrusted, o->nuntrusted == 1 ? "" : "es",
				      o->nuntrusted == 1 ? "es" : "", o->nuntrusted == 1 ? "s" : "",
				      o->untrusted_pid, (unsigned)o->untrusted_uid, (unsigned)s->uid_min);
		if (rc || o->main_idx < 0)
			continue;
		rc = instance_risks(p, s, i, ps);
		if (rc == 0)
			rc = fork_risks(p, ps, &o->procs[o->inst[e->fork_inst].main], e, mi);
		const struct proc_info *m = &o->procs[o->main_idx];
		if (rc == 0)
			rc = oom_policy_risk(p, ps, o, e);
		bool limited = o->cg.present && o->own_cgroup &&
			       (o->cg.high != CG_UNLIMITED || o->cg.max != CG_UNLIMITED);
		if (rc == 0 && mode == VM_MODE_ALWAYS && !limited && m->oom_score_adj == 0)
			rc = add_risk(p, "unprotected", ps->name,
				      "%s: vm.overcommit_memory=1 never refuses memory and %.32s (pid "
				      "%d, commit %s) has neither memory.high/max nor oom_score_adj: a "
				      "runaway ends in the OOM killer choosing a victim",
				      ps->name, m->st.comm, m->pid, KB(e->commit_kb));
	}
	return rc;
}

static int cmp_u64_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x < y) - (x > y);
}

/* concurrent_forks = N: the fork headroom covers the N largest instances
 * forking at once.  *extra: what the N-1 next largest (after big's main) add. */
static int concurrent_extra_kb(const struct snapshot *s, const struct svc_obs *big,
			       size_t big_inst, size_t n, uint64_t *extra)
{
	*extra = 0;
	size_t total = 0, m = 0;
	for (size_t i = 0; i < s->nsvc; i++)
		total += s->svc[i].ninst;
	if (!big || n < 2 || total < 2)
		return 0;
	uint64_t *c = malloc(total * sizeof(*c));
	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < s->nsvc; i++) {
		const struct svc_obs *o = &s->svc[i];
		for (size_t k = 0; k < o->ninst; k++)
			if (o != big || k != big_inst) /* each main's own charge */
				c[m++] = o->inst[k].charge.valid ? o->inst[k].charge.kb
								 : o->inst[k].commit_kb;
	}
	qsort(c, m, sizeof(*c), cmp_u64_desc);
	for (size_t k = 0; k < m && k + 1 < n; k++)
		*extra += c[k];
	free(c);
	return 0;
}

int plan_build(const struct policy *pol, const struct snapshot *s,
	       const struct learn_estimate *learned, struct plan *out)
{
	memset(out, 0, sizeof(*out));
	out->vm_after = s->vm;
	out->mode_after = (int)s->vm.v[VM_OVERCOMMIT_MEMORY];
	out->commit_limit_kb = s->mem.commit_limit_kb ? s->mem.commit_limit_kb
						      : model_commit_limit_kb(&s->mem, &s->vm);
	out->commit_headroom_kb = (int64_t)out->commit_limit_kb - (int64_t)s->mem.committed_as_kb;
	if (s->nsvc) {
		out->eval = calloc(s->nsvc, sizeof(*out->eval));
		if (!out->eval)
			return -ENOMEM;
		out->neval = s->nsvc;
	}
	struct host_ctx h = { .pol = pol, .s = s, .p = out };
	for (size_t i = 0; i < s->nsvc; i++) {
		eval_service(s, i, &out->eval[i]);
		if (learned) {
			out->eval[i].cow = learned[i];
		} else {
			out->eval[i].cow.learning = true;
			out->eval[i].cow.growth = LEARN_DEFAULT_GROWTH;
		}
		if (s->svc[i].main_idx >= 0 && (!h.big || out->eval[i].fork.need_kb > h.need_kb)) {
			h.big = &s->svc[i];
			h.big_inst = out->eval[i].fork_inst;
			h.need_kb = out->eval[i].fork.need_kb;
		}
	}
	uint64_t extra;
	if (concurrent_extra_kb(s, h.big, h.big_inst, (size_t)pol->host.concurrent_forks.v,
				&extra) < 0) {
		plan_free(out);
		return -ENOMEM;
	}
	h.need_kb += extra;
	const struct size_spec *fh = &pol->host.fork_headroom;
	if (fh->kind == SZ_KB)
		h.headroom_kb = fh->kb > h.need_kb ? fh->kb : h.need_kb;
	else
		h.headroom_kb = pct_of(h.need_kb, fh->kind == SZ_PCT ? fh->bp : POLICY_FORK_HEADROOM_BP);

	int rc = plan_host(&h);
	for (size_t i = 0; rc == 0 && i < s->nsvc; i++) {
		if (s->svc[i].main_idx >= 0) {
			struct fork_input in = fork_input_of(s, i, out->eval[i].fork_inst,
							     &out->vm_after, false);
			out->eval[i].fork_after = model_fork_verdict(&s->mem, &out->vm_after, &in);
		}
		else
			out->eval[i].fork_after = out->eval[i].fork;
	}
	for (size_t i = 0; rc == 0 && i < s->nsvc; i++)
		rc = plan_service(pol, s, i, out);
	if (rc == 0)
		rc = plan_risks(pol, s, out);
	if (rc) {
		plan_free(out);
		return rc;
	}
	return 0;
}

void plan_free(struct plan *p)
{
	free(p->act);
	free(p->risk);
	free(p->eval);
	memset(p, 0, sizeof(*p));
}
