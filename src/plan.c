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

#include "util.h"

/* Invariant 1: a CommitLimit never goes below Committed_AS + reserves + this. */
#define COMMIT_MARGIN_MIN_KB (64 * KB_PER_MB)
#define COMMIT_MARGIN_BP 200 /* 2% of MemTotal, when larger */
/* Hysteresis: a commit limit raise leaves max(16 MiB, 1% of RAM) of band. */
#define RAISE_SLACK_MIN_KB (16 * KB_PER_MB)
#define RAISE_SLACK_BP 100
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

static int add_risk(struct plan *p, const char *kind, const char *service, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int add_risk(struct plan *p, const char *kind, const char *service, const char *fmt, ...)
{
	if (p->nrisk == p->caprisk) {
		size_t cap = p->caprisk ? p->caprisk * 2 : 8;
		struct risk *r = realloc(p->risk, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		p->risk = r;
		p->caprisk = cap;
	}
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

static const char *mode_word(int64_t mode)
{
	switch (mode) {
	case 0: return "heuristic";
	case 1: return "always";
	case 2: return "strict";
	default: return "unknown";
	}
}

/* ---- per-service figures ------------------------------------------------ */

static void eval_service(const struct snapshot *s, const struct svc_obs *o, struct svc_eval *e)
{
	memset(e, 0, sizeof(*e));
	uint64_t rss_all = 0, rss_matched = 0;
	for (size_t i = 0; i < o->nprocs; i++) {
		e->commit_kb += proc_commit_kb(&o->procs[i]);
		rss_all += o->procs[i].status.rss_anon_kb;
		/* a forked child of the main (a BGSAVE child matches the same
		 * comm) shares the main's pages: counting it again would double
		 * the size during every save */
		bool child_of_main = o->main_idx >= 0 && (size_t)o->main_idx != i &&
				     o->procs[i].st.ppid == o->procs[o->main_idx].pid;
		if (i < o->nmatched && !child_of_main)
			rss_matched += o->procs[i].status.rss_anon_kb;
	}
	/* cgroup anon counts a COW-shared page once; RSS sums count it per
	 * process, so they overstate anon (and understate amplification). */
	bool cg = o->own_cgroup && o->cg.present && o->cg.anon > 0;
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
	const struct proc_info *m = &o->procs[o->main_idx];
	for (size_t i = 0; i < o->nprocs; i++)
		if (o->procs[i].st.ppid == m->pid)
			e->forks++;
	e->fork = model_fork_check(&s->mem, &s->vm, m);
}

/* ---- host: vm.* sysctls ------------------------------------------------- */

struct host_ctx {
	const struct policy *pol;
	const struct snapshot *s;
	struct plan *p;
	const struct svc_obs *big;  /* service with the largest fork need, or NULL */
	const struct pol_service *bigpol;
	uint64_t need_kb;           /* its fork need */
	uint64_t headroom_kb;       /* fork headroom kept for it (policy fork_headroom) */
};

static uint64_t reserve_term(const struct host_ctx *h, const struct vm_sysctls *vm)
{
	uint64_t t = 0;
	if (!h->big)
		return (uint64_t)vm->v[VM_ADMIN_RESERVE_KBYTES];
	const struct proc_info *m = &h->big->procs[h->big->main_idx];
	if (!proc_has_cap_sys_admin(m))
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
				   "policy user_reserve: a user's process can never take the last %s of "
				   "commit, so a shell can still kill a runaway",
				   KB(resolve_kb(&ph->user_reserve, mt)));
	if (rc == 0 && ph->admin_reserve.kind != SZ_UNSET)
		rc = sysctl_action(h, VM_ADMIN_RESERVE_KBYTES,
				   (int64_t)resolve_kb(&ph->admin_reserve, mt), &ph->admin_reserve.at,
				   "policy admin_reserve: %s of commit kept for root to log in and recover",
				   KB(resolve_kb(&ph->admin_reserve, mt)));
	return rc;
}

/* Hysteresis of the commit limit: a raise goes this far above the need. */
static uint64_t raise_slack(const struct meminfo *mi)
{
	uint64_t s = pct_of(mi->mem_total_kb, RAISE_SLACK_BP);
	return s > RAISE_SLACK_MIN_KB ? s : RAISE_SLACK_MIN_KB;
}

/* Strict accounting: choose the CommitLimit, then the knob that yields it.
 * Returns 1 when auto must fall back to heuristic mode. */
static int plan_strict_size(struct host_ctx *h, bool may_fall_back, int *err)
{
	const struct pol_host *ph = &h->pol->host;
	const struct meminfo *mi = &h->s->mem;
	struct vm_sysctls *after = &h->p->vm_after;
	uint64_t now_limit = model_commit_limit_kb(mi, &h->s->vm);
	uint64_t backing = mi->mem_total_kb - (mi->hugetlb_kb < mi->mem_total_kb ? mi->hugetlb_kb : 0) +
			   mi->swap_total_kb;
	uint64_t reserves = reserve_term(h, after);
	uint64_t margin = pct_of(mi->mem_total_kb, COMMIT_MARGIN_BP);
	if (margin < COMMIT_MARGIN_MIN_KB)
		margin = COMMIT_MARGIN_MIN_KB;
	uint64_t floor = mi->committed_as_kb + reserves + margin;
	/* the fork must fit with its headroom: Committed_AS + headroom < allowed */
	uint64_t required = h->big ? mi->committed_as_kb + h->headroom_kb + reserves + 4 : 0;
	if (required < floor)
		required = floor;

	/* what the policy asks for, if anything */
	uint64_t want = now_limit;
	const struct origin *at = &h->pol->host.overcommit_at;
	bool explicit_ratio = false;
	if (ph->commit_limit.kind != SZ_UNSET) {
		want = resolve_kb(&ph->commit_limit, mi->mem_total_kb);
		at = &ph->commit_limit.at;
	} else if (ph->commit_ratio.set) {
		struct vm_sysctls r = h->s->vm;
		r.v[VM_OVERCOMMIT_KBYTES] = 0;
		r.v[VM_OVERCOMMIT_RATIO] = ph->commit_ratio.v;
		want = model_commit_limit_kb(mi, &r);
		at = &ph->commit_ratio.at;
		explicit_ratio = true;
	}

	char why[PLAN_TEXT_MAX];
	const char *who = h->big ? h->pol->svc[h->big->policy_idx].name : NULL;
	if (want >= required) {
		snprintf(why, sizeof(why), "%s", "");
	} else if (required <= backing) {
		/* raise just enough: Committed_AS + fork headroom + reserves */
		if (want < floor && want != now_limit)
			snprintf(why, sizeof(why),
				 "the policy's CommitLimit %s is below Committed_AS %s + reserves and "
				 "margin %s (safety invariant 1): clamped; ",
				 KB(want), KB(mi->committed_as_kb), KB(reserves + margin));
		else
			why[0] = '\0';
		/* a band above the need, so that Committed_AS moving by a few
		 * pages does not make the next run raise it again (§7.4) */
		want = round_up_mb(required + raise_slack(mi));
		if (want > backing)
			want = backing;
		explicit_ratio = false;
	} else if (may_fall_back) {
		return 1;
	} else {
		/* strict forced: as much as RAM + swap can back, never below the floor */
		want = backing > floor ? backing : round_up_mb(floor);
		explicit_ratio = false;
		snprintf(why, sizeof(why), "CommitLimit capped at what RAM + swap can back (%s); ",
			 KB(backing));
	}

	uint64_t swap = mi->swap_total_kb;
	if (explicit_ratio) {
		if (h->s->vm.v[VM_OVERCOMMIT_KBYTES] != 0) {
			*err = sysctl_action(h, VM_OVERCOMMIT_KBYTES, 0, at,
					     "clear vm.overcommit_kbytes so vm.overcommit_ratio "
					     "sets CommitLimit");
			if (*err)
				return 0;
		}
		*err = sysctl_action(h, VM_OVERCOMMIT_RATIO, ph->commit_ratio.v, at,
				     "policy commit_ratio: CommitLimit = (MemTotal %s x %" PRId64
				     "%%) + swap %s = %s",
				     KB(mi->mem_total_kb), ph->commit_ratio.v, KB(swap), KB(want));
		return 0;
	}
	if (want == now_limit)
		return 0;
	int64_t kbytes = want > swap ? (int64_t)(want - swap) : (int64_t)KB_PER_MB;
	if (who)
		*err = sysctl_action(h, VM_OVERCOMMIT_KBYTES, kbytes, at,
				     "%sCommitLimit %s -> %s (= overcommit_kbytes + swap %s): "
				     "Committed_AS %s + fork headroom %s for %s + reserves %s must "
				     "fit, and RAM + swap (%s) can back it; the kernel zeroes "
				     "vm.overcommit_ratio",
				     why, KB(now_limit), KB(want), KB(swap), KB(mi->committed_as_kb),
				     KB(h->headroom_kb), who, KB(reserves), KB(backing));
	else
		*err = sysctl_action(h, VM_OVERCOMMIT_KBYTES, kbytes, at,
				     "%sCommitLimit %s -> %s (= overcommit_kbytes + swap %s); "
				     "Committed_AS is %s; the kernel zeroes vm.overcommit_ratio",
				     why, KB(now_limit), KB(want), KB(swap), KB(mi->committed_as_kb));
	if (*err == 0)
		after->v[VM_OVERCOMMIT_RATIO] = 0;
	return 0;
}

static int plan_host(struct host_ctx *h)
{
	const struct pol_host *ph = &h->pol->host;
	const struct snapshot *s = h->s;
	struct plan *p = h->p;
	int64_t mode_now = s->vm.v[VM_OVERCOMMIT_MEMORY];
	int64_t mode = mode_now;
	int err = 0;
	const char *who = h->big ? h->pol->svc[h->big->policy_idx].name : "no running service";

	int rc = plan_reserves(h);
	if (rc)
		return rc;
	switch (ph->overcommit) {
	case OC_ALWAYS: mode = 1; break;
	case OC_HEURISTIC: mode = 0; break;
	case OC_STRICT: mode = 2; break;
	case OC_AUTO: break; /* never tightens: keep the mode */
	}

	if (mode == 2) {
		/* sizes first: the plan order is the write order for sysctls
		 * entering strict mode (apply.c keeps sizes before the mode) */
		int fall = plan_strict_size(h, ph->overcommit == OC_AUTO, &err);
		if (err)
			return err;
		if (fall) {
			mode = 0;
			snprintf(p->host_summary, sizeof(p->host_summary),
				 "strict accounting cannot be kept: Committed_AS %s + fork headroom %s "
				 "for %s exceeds what RAM + swap can back (%s); falling back to "
				 "heuristic mode (0), protecting services with memory.high and "
				 "oom_score_adj",
				 KB(s->mem.committed_as_kb), KB(h->headroom_kb), who,
				 KB(s->mem.mem_total_kb + s->mem.swap_total_kb));
		}
	}
	if (mode != mode_now) {
		err = sysctl_action(h, VM_OVERCOMMIT_MEMORY, mode,
				    &ph->overcommit_at, "policy overcommit = %s: mode %" PRId64
				    " (%s) -> %" PRId64 " (%s)%s",
				    oc_pref_name(ph->overcommit), mode_now, mode_word(mode_now), mode,
				    mode_word(mode), p->host_summary[0] ? "; see host decision" : "");
		if (err)
			return err;
	}
	p->mode_after = (int)mode;
	p->commit_limit_after_kb = model_commit_limit_kb(&s->mem, &p->vm_after);
	if (p->host_summary[0])
		return 0;
	if (mode == 2)
		snprintf(p->host_summary, sizeof(p->host_summary),
			 "strict accounting (vm.overcommit_memory=2) %s: CommitLimit %s -> %s for "
			 "Committed_AS %s + fork headroom %s (%s)",
			 mode_now == 2 ? "kept" : "chosen", KB(p->commit_limit_kb),
			 KB(p->commit_limit_after_kb), KB(s->mem.committed_as_kb), KB(h->headroom_kb),
			 who);
	else
		snprintf(p->host_summary, sizeof(p->host_summary),
			 "vm.overcommit_memory=%" PRId64 " (%s) %s: fork-heavy services are protected "
			 "by memory.high and oom_score_adj instead of commit accounting",
			 mode, mode_word(mode), mode == mode_now ? "kept" : "chosen");
	return 0;
}

/* ---- services: oom_score_adj, cgroups ----------------------------------- */

static int oom_action(struct plan *p, const struct pol_service *ps, const struct proc_info *pi,
		      const struct pol_int *want, const char *role)
{
	if (!want->set || pi->oom_score_adj == want->v)
		return 0;
	struct action *a = add_action(p, ACT_OOM_SCORE_ADJ, &want->at, ps->name);
	if (!a)
		return -ENOMEM;
	a->pid = pi->pid;
	a->start_time = pi->st.start_time;
	snprintf(a->target, sizeof(a->target), "pid %d (%.32s)", pi->pid, pi->st.comm);
	snprintf(a->current, sizeof(a->current), "%d", pi->oom_score_adj);
	snprintf(a->desired, sizeof(a->desired), "%" PRId64, want->v);
	snprintf(a->reason, sizeof(a->reason), "%s of %s: %s", role, ps->name,
		 want->v < 0 ? "the OOM killer should spare it"
			     : "a disposable child dies before the main process or an unrelated one");
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
	snprintf(a->target, sizeof(a->target), "pid %d (%.32s)", pi->pid, pi->st.comm);
	snprintf(a->cgroup, sizeof(a->cgroup), "%s", target);
	snprintf(a->current, sizeof(a->current), "%s", pi->cgroup[0] ? pi->cgroup : "?");
	snprintf(a->desired, sizeof(a->desired), "%s", target);
	snprintf(a->reason, sizeof(a->reason),
		 "%s has no cgroup of its own (it is in %.200s): memory.high needs one", ps->name,
		 pi->cgroup[0] ? pi->cgroup : "no cgroup v2 group");
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
	if (role == ROLE_MAIN)
		rc = oom_action(out, ps, pi, &ps->oom_score_adj, "main process");
	else if (role == ROLE_CHILD)
		rc = oom_action(out, ps, pi, &ps->child_oom_score_adj, "forked child");
	if (rc || !cgroup2 || !wants_cgroup(ps) || !pi->cgroup[0])
		return rc;
	char target[PROC_PATH_MAX];
	policy_service_cgroup(ps, target, sizeof(target));
	if (svc_cgroup_is_own(pi->cgroup, target))
		return 0;
	return attach_one(out, ps, pi, target);
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

/* One memory.high / memory.max decision, invariant 2 enforced. */
static int limit_action(struct plan *p, const struct pol_service *ps, enum action_kind kind,
			const struct size_spec *spec, uint64_t want_kb, const char *how,
			uint64_t cap_kb, const char *cgpath, uint64_t current_bytes, uint64_t usage_kb)
{
	const char *file = kind == ACT_MEMORY_HIGH ? "memory.high" : "memory.max";
	uint64_t margin = usage_kb / 10 > CG_MARGIN_MIN_KB ? usage_kb / 10 : CG_MARGIN_MIN_KB;
	uint64_t floor = usage_kb + margin;
	char note[160] = "";
	if (want_kb < floor) {
		if (spec->kind == SZ_AUTO && floor <= cap_kb) {
			snprintf(note, sizeof(note), "; raised to usage %s + margin %s (invariant 2)",
				 KB(usage_kb), KB(margin));
			want_kb = floor;
		} else {
			return add_risk(p, "limit_below_usage", ps->name,
					"%s: %s %s for %s would be below its usage %s + margin %s; "
					"not written (safety invariant 2)",
					ps->name, file, KB(want_kb), cgpath, KB(usage_kb), KB(margin));
		}
	}
	want_kb = round_up_mb(want_kb);
	uint64_t want = want_kb * 1024;
	if (current_bytes != CG_UNLIMITED && spec->kind == SZ_AUTO) {
		uint64_t diff = current_bytes > want ? current_bytes - want : want - current_bytes;
		/* hysteresis: an auto value already within 10% stays, if safe */
		if (current_bytes / 1024 >= floor && diff <= pct_of(want, CG_HYSTERESIS_BP))
			return 0;
	}
	if (current_bytes == want)
		return 0;
	struct action *a = add_action(p, kind, &spec->at, ps->name);
	if (!a)
		return -ENOMEM;
	snprintf(a->target, sizeof(a->target), "%s", cgpath);
	snprintf(a->cgroup, sizeof(a->cgroup), "%s", cgpath);
	cg_fmt(current_bytes, a->current, sizeof(a->current));
	cg_fmt(want, a->desired, sizeof(a->desired));
	snprintf(a->reason, sizeof(a->reason), "%s %s for %s: %s%s", file, KB(want_kb), ps->name, how,
		 note);
	return 0;
}

static int plan_service(const struct policy *pol, const struct snapshot *s, size_t i, struct plan *p)
{
	const struct svc_obs *o = &s->svc[i];
	const struct pol_service *ps = &pol->svc[o->policy_idx];
	const struct svc_eval *e = &p->eval[i];
	if (o->main_idx < 0)
		return 0;
	const struct proc_info *m = &o->procs[o->main_idx];
	int rc = oom_action(p, ps, m, &ps->oom_score_adj, "main process");
	for (size_t k = 0; rc == 0 && k < o->nprocs; k++)
		if (o->procs[k].st.ppid == m->pid)
			rc = oom_action(p, ps, &o->procs[k], &ps->child_oom_score_adj, "forked child");
	if (rc)
		return rc;

	if (!wants_cgroup(ps))
		return 0;
	if (!s->cgroup2)
		return add_risk(p, "no_cgroup2", ps->name,
				"%s: memory limits asked for, but the cgroup v2 memory controller is "
				"not available; only oom_score_adj protects it",
				ps->name);

	char target[PROC_PATH_MAX];
	const struct cg_memory *cg = &o->cg;
	uint64_t usage_kb;
	if (o->own_cgroup) {
		snprintf(target, sizeof(target), "%s", o->cgroup);
		usage_kb = cg->present ? cg->current / 1024 : e->size_anon_kb;
	} else {
		policy_service_cgroup(ps, target, sizeof(target));
		for (size_t k = 0; rc == 0 && k < o->nprocs; k++)
			rc = attach_one(p, ps, &o->procs[k], target);
		if (rc)
			return rc;
		cg = &o->policy_cg;
		/* v2 does not move charged pages with a process: usage in the new
		 * group starts near what is there now; the anon it will fault in is
		 * bounded by the service's anon */
		usage_kb = (cg->present ? cg->current / 1024 : 0) + e->size_anon_kb;
	}
	uint64_t mt = s->mem.mem_total_kb;
	uint64_t hi_min = resolve_kb(&ps->memory_high_min, mt);
	uint64_t hi_max = resolve_kb(&ps->memory_high_max, mt);
	uint64_t cow = ps->cow_margin.kind == SZ_PCT ? ps->cow_margin.bp : 2500;
	uint64_t high_kb = 0;
	if (ps->memory_high.kind == SZ_AUTO) {
		high_kb = cow_sized(e->size_anon_kb, e->cow.growth, cow);
		char how[PLAN_TEXT_MAX];
		const char *clamp = "";
		if (high_kb < hi_min) {
			high_kb = hi_min;
			clamp = ", floored at memory_high_min";
		}
		if (hi_max && high_kb > hi_max) {
			high_kb = hi_max;
			clamp = ", capped at memory_high_max";
		}
		char learned_txt[96];
		if (e->cow.learning)
			snprintf(learned_txt, sizeof(learned_txt),
				 "learning: no fork episode seen yet, assumed %.2f", e->cow.growth);
		else
			snprintf(learned_txt, sizeof(learned_txt), "learned from %zu fork episode%s",
				 e->cow.episodes, e->cow.episodes == 1 ? "" : "s");
		snprintf(how, sizeof(how),
			 "auto = anon %s x (1 + COW growth %.2f; %s) x (1 + cow_margin %" PRIu64
			 "%%)%s",
			 KB(e->size_anon_kb), e->cow.growth, learned_txt, cow / 100, clamp);
		rc = limit_action(p, ps, ACT_MEMORY_HIGH, &ps->memory_high, high_kb, how,
				  hi_max ? hi_max : mt, target, cg->present ? cg->high : CG_UNLIMITED,
				  usage_kb);
	} else if (ps->memory_high.kind == SZ_KB || ps->memory_high.kind == SZ_PCT) {
		high_kb = resolve_kb(&ps->memory_high, mt);
		rc = limit_action(p, ps, ACT_MEMORY_HIGH, &ps->memory_high, high_kb,
				  "fixed by policy; throttles and reclaims above it", mt, target,
				  cg->present ? cg->high : CG_UNLIMITED, usage_kb);
	}
	if (rc)
		return rc;
	if (ps->memory_max.kind == SZ_AUTO) {
		/* the wall: the service plus one child that dirties everything */
		uint64_t max_kb = cow_sized(e->size_anon_kb, e->cow.growth > 1.0 ? e->cow.growth : 1.0,
					    cow);
		if (max_kb < high_kb)
			max_kb = high_kb;
		char how[PLAN_TEXT_MAX];
		snprintf(how, sizeof(how),
			 "auto = anon %s x (1 + max(COW growth, 1)) x (1 + cow_margin): a child that "
			 "copies every page still fits; beyond it a cgroup OOM kills inside the "
			 "group, children first",
			 KB(e->size_anon_kb));
		rc = limit_action(p, ps, ACT_MEMORY_MAX, &ps->memory_max, max_kb, how, mt, target,
				  cg->present ? cg->max : CG_UNLIMITED, usage_kb);
	} else if (ps->memory_max.kind == SZ_KB || ps->memory_max.kind == SZ_PCT) {
		rc = limit_action(p, ps, ACT_MEMORY_MAX, &ps->memory_max,
				  resolve_kb(&ps->memory_max, mt),
				  "fixed by policy; the hard wall (cgroup OOM inside the group)", mt,
				  target, cg->present ? cg->max : CG_UNLIMITED, usage_kb);
	}
	return rc;
}

/* ---- risks -------------------------------------------------------------- */

static int plan_risks(const struct policy *pol, const struct snapshot *s, struct plan *p)
{
	const struct meminfo *mi = &s->mem;
	int64_t mode = s->vm.v[VM_OVERCOMMIT_MEMORY];
	int rc = 0;
	if (mode == 2 && p->commit_limit_kb > 0 &&
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
		if (o->main_idx < 0)
			continue;
		const struct proc_info *m = &o->procs[o->main_idx];
		if (!e->fork.fits)
			rc = add_risk(p, "fork_fails", ps->name,
				      "%s: a fork of %.32s (pid %d) needs %s of commit but only %s is "
				      "left under CommitLimit %s after reserves (vm.overcommit_memory=%" PRId64
				      "): fork() fails with ENOMEM although %s of RAM is available",
				      ps->name, m->st.comm, m->pid, KB(e->fork.need_kb),
				      SKB(e->fork.headroom_kb + (int64_t)e->fork.need_kb),
				      KB(p->commit_limit_kb), mode, KB(mi->mem_available_kb));
		if (rc == 0 && !e->fork_after.fits)
			rc = add_risk(p, "fork_fails_after_plan", ps->name,
				      "%s: even after this plan a fork of pid %d (%s) does not fit: "
				      "headroom %s",
				      ps->name, m->pid, KB(e->fork_after.need_kb),
				      SKB(e->fork_after.headroom_kb));
		bool limited = o->cg.present && o->own_cgroup &&
			       (o->cg.high != CG_UNLIMITED || o->cg.max != CG_UNLIMITED);
		if (rc == 0 && mode == 1 && !limited && m->oom_score_adj == 0)
			rc = add_risk(p, "unprotected", ps->name,
				      "%s: vm.overcommit_memory=1 never refuses memory and %.32s (pid "
				      "%d, commit %s) has neither memory.high/max nor oom_score_adj: a "
				      "runaway ends in the OOM killer choosing a victim",
				      ps->name, m->st.comm, m->pid, KB(e->commit_kb));
	}
	return rc;
}

int plan_build(const struct policy *pol, const struct snapshot *s,
	       const struct learn_estimate *learned, struct plan *out)
{
	memset(out, 0, sizeof(*out));
	out->vm_after = s->vm;
	out->mode_after = (int)s->vm.v[VM_OVERCOMMIT_MEMORY];
	out->commit_limit_kb = model_commit_limit_kb(&s->mem, &s->vm);
	out->commit_headroom_kb = (int64_t)out->commit_limit_kb - (int64_t)s->mem.committed_as_kb;
	if (s->nsvc) {
		out->eval = calloc(s->nsvc, sizeof(*out->eval));
		if (!out->eval)
			return -ENOMEM;
		out->neval = s->nsvc;
	}
	struct host_ctx h = { .pol = pol, .s = s, .p = out };
	for (size_t i = 0; i < s->nsvc; i++) {
		eval_service(s, &s->svc[i], &out->eval[i]);
		if (learned) {
			out->eval[i].cow = learned[i];
		} else {
			out->eval[i].cow.learning = true;
			out->eval[i].cow.growth = LEARN_DEFAULT_GROWTH;
		}
		if (s->svc[i].main_idx >= 0 && (!h.big || out->eval[i].fork.need_kb > h.need_kb)) {
			h.big = &s->svc[i];
			h.need_kb = out->eval[i].fork.need_kb;
		}
	}
	const struct size_spec *fh = &pol->host.fork_headroom;
	if (fh->kind == SZ_KB)
		h.headroom_kb = fh->kb > h.need_kb ? fh->kb : h.need_kb;
	else
		h.headroom_kb = pct_of(h.need_kb, fh->kind == SZ_PCT ? fh->bp : 11000);

	int rc = plan_host(&h);
	for (size_t i = 0; rc == 0 && i < s->nsvc; i++) {
		if (s->svc[i].main_idx >= 0)
			out->eval[i].fork_after = model_fork_check(&s->mem, &out->vm_after,
								   &s->svc[i].procs[s->svc[i].main_idx]);
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
