/* daemon.c - `overcommitd run`: one poll over a signalfd, two timerfds and
 * the proc connector (DESIGN §3).  Signals are flags read in the
 * loop; nothing happens in a handler.  Work per event is a few small /proc
 * reads and writes; the periodic pass re-reads only tracked pids, with a
 * full /proc scan at start, after lost events and every FULL_SCAN_EVERY
 * passes. */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "childgroup.h"
#include "cli.h"
#include "daemon.h"
#include "daemon_charges.h"
#include "daemon_refusal.h"
#include "daemon_scope.h"
#include "evwait.h"
#include "journal.h"
#include "learn.h"
#include "log.h"
#include "mainorig.h"
#include "meminfo.h"
#include "oomconflict.h"
#include "plan.h"
#include "policy.h"
#include "privsep.h"
#include "report.h"
#include "procconn.h"
#include "snapshot.h"
#include "state.h"
#include "tracker.h"
#include "util.h"

#define PC_RCVBUF (4u << 20)      /* the kernel doubles it: ~10,000 queued events at ~800 B */
#define FULL_SCAN_EVERY 30        /* periodic passes between full /proc scans */
#define SAMPLE_MS 50              /* anon sampling while a fork episode runs */
#define PIDS_FOLD_BYTES (256u << 10) /* journal.pids folded into journal.json past this */

static uint64_t now_ms(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- policy --------------------------------------------------------------- */

static int load_policy(struct daemon *d, struct policy *out)
{
	struct diags dg;
	diags_init(&dg);
	int rc = policy_load(d->c->policy_dirs, d->c->npolicy_dirs, true, out, &dg);
	for (size_t i = 0; i < dg.n; i++)
		log_err("%s", dg.msg[i]);
	for (size_t i = 0; rc == 0 && i < out->notes.n; i++) {
		/* "note:" says what the policy resolved to; "warning:" is a risk */
		if (strstr(out->notes.msg[i], ": note: "))
			log_info("%s", out->notes.msg[i]);
		else
			log_warn("%s", out->notes.msg[i]);
	}
	diags_free(&dg);
	return rc;
}

/* One episode slot per policy service.  On allocation failure the old
 * array stays (never NULL): returns -ENOMEM and the caller keeps its policy. */
static int episodes_reset(struct daemon *d, size_t nsvc)
{
	struct episode *ep = calloc(nsvc ? nsvc : 1, sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	free(d->ep);
	d->ep = ep;
	return 0;
}

/* SIGHUP: a bad policy is logged, every problem, and the old one stays. */

/* Each service's workers' lifetime growth as learned.json has it (the
 * workcache starts empty at start and at every reload). */
static void seed_workers(struct daemon *d)
{
	for (size_t i = 0; i < d->pol.nsvc; i++) {
		const struct svc_learning *l = learn_find(d->learned, d->nlearned, d->pol.svc[i].name);
		if (l)
			workcache_seed(&d->wc, i, &l->workers);
	}
}

static void reload(struct daemon *d)
{
	struct policy np;
	if (load_policy(d, &np) < 0) {
		log_err("reload: policy refused; still running the previous one");
		d->stats.reload_failures++;
		return;
	}
	struct tracker nt;
	if (tracker_init(&nt, np.nsvc) < 0) {
		policy_free(&np);
		log_err("reload: out of memory; still running the previous one");
		return;
	}
	struct workcache nwc;
	if (episodes_reset(d, np.nsvc) < 0 || workcache_init(&nwc, np.nsvc) < 0) {
		tracker_free(&nt);
		policy_free(&np);
		log_err("reload: out of memory; still running the previous one");
		return;
	}
	workcache_free(&d->wc);
	d->wc = nwc;
	tracker_free(&d->tr);
	policy_free(&d->pol);
	d->pol = np;
	d->tr = nt;
	seed_workers(d);
	drift_reset(&d->drift);
	cand_clear(&d->cand);
	d->need_full = true;
	d->stats.reloads++;
	log_info("reload: policy loaded (%zu file%s, %zu service%s)", d->pol.nfiles,
		 d->pol.nfiles == 1 ? "" : "s", d->pol.nsvc, d->pol.nsvc == 1 ? "" : "s");
}

static size_t enforce_plan(struct daemon *d, struct plan *p);

/* ---- learned COW ------------------------------------------------------------ */

static struct learn_estimate *estimates(struct daemon *d, const struct snapshot *s)
{
	struct learn_estimate *est = calloc(s->nsvc ? s->nsvc : 1, sizeof(*est));
	uint64_t now = now_ms(CLOCK_REALTIME) / 1000;
	for (size_t i = 0; est && i < s->nsvc; i++) {
		est[i] = learn_estimate_named(d->learned, d->nlearned,
					      d->pol.svc[s->svc[i].policy_idx].name, now);
	}
	return est;
}

/* The anon figure an episode is measured in: the service group's anon. */
static int group_memory(struct daemon *d, size_t svc, struct cg_memory *m)
{
	if (!d->ep[svc].cgroup[0])
		return -ENOENT;
	int rc = cg_memory_read(&d->c->roots, d->ep[svc].cgroup, m);
	if (rc < 0 || !m->present)
		return rc < 0 ? rc : -ENOENT;
	return 0;
}

static int group_anon_kb(struct daemon *d, size_t svc, uint64_t *kb)
{
	struct cg_memory m;
	int rc = group_memory(d, svc, &m);
	if (rc == 0)
		*kb = m.anon / 1024;
	return rc;
}

/* What the fork child allocated in its own leaf (0 without one). */
static uint64_t leaf_anon_kb(struct daemon *d, size_t svc)
{
	struct cg_memory m;
	if (!d->ep[svc].fork_cgroup[0] ||
	    cg_memory_read(&d->c->roots, d->ep[svc].fork_cgroup, &m) < 0 || !m.present)
		return 0;
	return m.anon / 1024;
}

static void sampler_arm(struct daemon *d)
{
	bool any = false;
	for (size_t i = 0; i < d->pol.nsvc; i++)
		any = any || d->ep[i].active;
	if (any == d->sampling)
		return;
	struct itimerspec its = { 0 };
	if (any) {
		its.it_value.tv_nsec = SAMPLE_MS * 1000000L;
		its.it_interval.tv_nsec = SAMPLE_MS * 1000000L;
	}
	if (timerfd_settime(d->sample_fd, 0, &its, NULL) < 0)
		log_errno(LOG_LVL_WARN, errno, "sampler timer");
	d->sampling = any;
}

static void episode_start(struct daemon *d, size_t svc, int child)
{
	struct episode *e = &d->ep[svc];
	const struct tsvc *ts = &d->tr.svc[svc];
	struct proc_info m;
	uint64_t kb;
	e->active = false;
	if (proc_read(&d->c->roots, ts->ep_inst, &m) < 0 || !m.cgroup[0])
		return;
	snprintf(e->cgroup, sizeof(e->cgroup), "%s", m.cgroup);
	if (group_anon_kb(d, svc, &kb) < 0)
		return; /* no cgroup v2 group: nothing to learn from */
	episode_begin(e, child, kb, m.status.rss_anon_kb, now_ms(CLOCK_REALTIME) / 1000,
		      now_ms(CLOCK_MONOTONIC));
	sampler_arm(d);
}

/* What the child may grow (episode_budget_kb): the room under the group's
 * lower limit, else the learned growth with cow_margin. */
static uint64_t child_budget_kb(struct daemon *d, size_t svc, const struct episode *e,
				const struct cg_memory *m)
{
	const struct pol_service *ps = &d->pol.svc[svc];
	struct learn_estimate est = learn_estimate_named(d->learned, d->nlearned, ps->name,
							 now_ms(CLOCK_REALTIME) / 1000);
	uint32_t bp = ps->cow_margin.kind == SZ_PCT ? ps->cow_margin.bp : POLICY_COW_MARGIN_BP;
	uint64_t limit = m->high < m->max ? m->high : m->max;
	return episode_budget_kb(e, limit == CG_UNLIMITED ? 0 : limit / 1024, est.growth,
				 (double)bp / 10000.0, LEARN_MIN_ANON_KB);
}

static bool host_figures(struct daemon *d, struct episode_host *h)
{
	struct meminfo mi;
	char mode[16];
	if (meminfo_read(&d->c->roots, &mi) < 0)
		return false;
	*h = (struct episode_host){ .mem_total_kb = mi.mem_total_kb,
				    .mem_available_kb = mi.mem_available_kb,
				    .commit_limit_kb = mi.commit_limit_kb,
				    .committed_as_kb = mi.committed_as_kb };
	h->strict = read_file_at(d->c->roots.procfs, "sys/vm/overcommit_memory", mode,
				 sizeof(mode)) > 0 && mode[0] == '2';
	return true;
}

/* Invariant 10: the fork child goes first, the main never.  Ended by
 * overcommitd itself: memory.max on the child's own group cannot do it on
 * cgroup v2, where the parent's writes are charged to the parent. */
static void judge_child(struct daemon *d, size_t svc, const struct cg_memory *m,
			const struct episode_host *h)
{
	struct episode *e = &d->ep[svc];
	const struct pol_service *ps = &d->pol.svc[svc];
	int sig = ps->child_stop_signal.set ? (int)ps->child_stop_signal.v : POLICY_CHILD_STOP_SIGNAL;
	if (!d->pol.host.enforce || sig == 0)
		return;
	uint64_t budget = child_budget_kb(d, svc, e, m);
	enum episode_verdict v = episode_judge(e, budget, h, now_ms(CLOCK_MONOTONIC));
	if (v == EP_KEEP)
		return;
	e->child_stopped = true;
	int rc = apply_stop_child(&d->c->roots, e->child, e->child_start, sig);
	if (rc == -ESRCH)
		return; /* it ended by itself meanwhile */
	if (rc < 0) {
		log_errno(LOG_LVL_WARN, rc, "%s: stopping fork child %d", ps->name, e->child);
		return;
	}
	d->stats.children_stopped++;
	log_warn("%s: fork child %d stopped (signal %d): %s; COW growth %" PRIu64
		 " KiB, budget %" PRIu64 " KiB; the main is never the one to pay",
		 ps->name, e->child, sig, episode_verdict_name(v), episode_growth_kb(e), budget);
}

/* The episode's child into its own leaf group (src/childgroup.h), with
 * memory.high = its budget; only where overcommitd placed the service. */
static void place_child(struct daemon *d, size_t svc, const struct proc_info *child)
{
	struct episode *e = &d->ep[svc];
	struct cg_memory m;
	struct plan p = { 0 };
	if (!d->pol.host.enforce || !d->cgroup2 || group_memory(d, svc, &m) < 0)
		return;
	uint64_t budget = child_budget_kb(d, svc, e, &m);
	if (childgroup_plan(&d->pol.svc[svc], child, e->cgroup, budget, &p) == 0 && p.nact > 0) {
		/* its leaf's anon counts even if the move failed: then it is ~0 */
		childgroup_path(e->cgroup, e->fork_cgroup, sizeof(e->fork_cgroup));
		if (enforce_plan(d, &p) > 0)
			d->stats.children_placed++;
	} else {
		scope_consider(d, svc); /* a unit's group: systemd's to split */
	}
	plan_free(&p);
}

/* An episode cancelled (a second child of the main: a worker pool; or its
 * child was the real server of a daemonizing start): that child is no
 * disposable save child, so it leaves the leaf's memory.high. */
static void cancel_episode(struct daemon *d, size_t svc)
{
	struct episode *e = &d->ep[svc];
	struct proc_info pi;
	struct plan p = { 0 };
	scope_cancel(d, svc);
	e->active = false;
	if (!e->fork_cgroup[0] || proc_read(&d->c->roots, e->child, &pi) < 0 ||
	    pi.st.start_time != e->child_start)
		return; /* never placed, or gone: nothing to move */
	if (childgroup_return_plan(&d->pol.svc[svc], &pi, &p) == 0 && p.nact > 0)
		enforce_plan(d, &p);
	plan_free(&p);
}

static void sample_episodes(struct daemon *d)
{
	struct episode_host h;
	bool have_host = host_figures(d, &h);
	for (size_t i = 0; i < d->pol.nsvc; i++) {
		struct episode *e = &d->ep[i];
		struct cg_memory m;
		if (!e->active || group_memory(d, i, &m) < 0)
			continue;
		episode_sample(e, m.anon / 1024 + leaf_anon_kb(d, i));
		judge_child(d, i, &m, have_host ? &h : NULL);
		if (e->unit[0] && e->scope == EP_SCOPE_NONE && !e->child_stopped)
			scope_sample(d, i, child_budget_kb(d, i, e, &m));
	}
}

/* learned.json (temp, fsync, rename, fsync) at most once in 5 s: a main
 * that forks a thousand short-lived children a second must not cost two
 * thousand fsyncs a second (the soak, bench/vm/60-bench-soak.sh: 2 per
 * episode before).  An episode after a quiet spell is saved at once, the
 * others by the first pass 5 s after the last save, or at exit (force). */
#define LEARNED_SAVE_EVERY_MS 5000

static void learned_save(struct daemon *d, bool force)
{
	uint64_t now = now_ms(CLOCK_MONOTONIC);
	if (!d->learned_dirty ||
	    (!force && d->learned_saved_ms && now - d->learned_saved_ms < LEARNED_SAVE_EVERY_MS))
		return;
	bool held = d->j.sd.locked;
	int rc = held ? 0 : statedir_lock(&d->j.sd); /* one writer in the directory at a time */
	if (rc == 0)
		rc = learn_save_at(&d->j.sd, d->learned, d->nlearned);
	if (!held)
		statedir_unlock(&d->j.sd);
	if (rc < 0)
		log_errno(LOG_LVL_WARN, rc, "saving %s/learned.json", d->c->state_dir);
	d->learned_dirty = false; /* a failed save is retried with the next episode */
	d->learned_saved_ms = now;
}

/* A worker exited: what its service's workers taught so far goes to
 * learned.json with the next pass's save (no fsync on the event path). */
static void learned_worker(struct daemon *d, int pid)
{
	size_t svc;
	if (!workcache_exit(&d->wc, pid, &svc) || svc >= d->pol.nsvc)
		return;
	const char *name = d->pol.svc[svc].name;
	struct svc_learning *l = learn_get(&d->learned, &d->nlearned, name);
	if (!l) {
		log_errno(LOG_LVL_WARN, errno, "learning for %s", name);
		return;
	}
	l->workers = *workcache_learned(&d->wc, svc);
	d->learned_dirty = true;
}

static void episode_end(struct daemon *d, size_t svc)
{
	struct cow_episode ce;
	if (!episode_finish(&d->ep[svc], now_ms(CLOCK_MONOTONIC), &ce))
		return;
	sampler_arm(d);
	const char *name = d->pol.svc[svc].name;
	struct svc_learning *l = learn_get(&d->learned, &d->nlearned, name);
	if (!l) {
		log_errno(LOG_LVL_WARN, errno, "learning for %s", name);
		return;
	}
	learn_add(l, &ce);
	d->stats.episodes++;
	log_info("%s: fork episode of %" PRIu64 " ms: anon %" PRIu64 " KiB at fork, peak +%" PRIu64
		 " KiB (COW growth %.3f)",
		 name, ce.duration_ms, ce.anon_at_fork_kb, ce.anon_peak_kb - ce.anon_at_fork_kb,
		 ce.anon_at_fork_kb ? (double)(ce.anon_peak_kb - ce.anon_at_fork_kb) /
					      (double)ce.anon_at_fork_kb
				    : 0.0);
	d->learned_dirty = true;
	learned_save(d, false);
}

/* ---- applying ----------------------------------------------------------------- */

static void hand_back_new(struct daemon *d, size_t nyield0);

/* A process wrote its own oom_score_adj between the plan's read and the
 * write (a PostgreSQL backend right after fork): proof that the service
 * sets it itself, even when the value it chose equals one overcommitd
 * would take for inherited.  A conflict, reported once per role. */
static void note_self_set(struct daemon *d, const struct action *a, const struct apply_result *r)
{
	if (!r->self_set || a->kind != ACT_OOM_SCORE_ADJ ||
	    !drift_oom_conflict(&d->drift, a->service, a->role))
		return;
	log_warn("conflict: %s sets its own oom_score_adj for its %s: %s (%s); the policy wants "
		 "%s. Left alone: overcommitd writes this role of %s no more until the next reload "
		 "(make the policy and the service agree)",
		 a->service ? a->service : "a service",
		 a->role == ROLE_MAIN ? "main process" : "children of the main", a->target, r->detail,
		 a->desired, a->service ? a->service : "it");
}

/* Apply (part of) a plan when the policy enforces; log each outcome.
 * Returns the number of actions written. */
static size_t enforce_plan(struct daemon *d, struct plan *p)
{
	if (p->nact == 0)
		return 0;
	if (!d->pol.host.enforce) {
		for (size_t i = 0; i < p->nact; i++)
			if (drift_note_recommended(&d->drift, &p->act[i]))
				log_info("recommend (enforce = no): %s %s: %s -> %s; %s",
					 action_kind_name(p->act[i].kind), p->act[i].target,
					 p->act[i].current, p->act[i].desired, p->act[i].reason);
		return 0;
	}
	struct apply_result *res = calloc(p->nact, sizeof(*res));
	if (!res)
		return 0;
	/* under the state directory's lock, with the journal as on disk: a
	 * one-shot apply or restore may have changed it meanwhile */
	int rc = journal_relock(&d->j);
	if (rc == 0) /* the exec's pin, when p is its process's */
		rc = apply_plan_pinned(&d->c->roots, p, &d->j, &d->exec_pin, res);
	else
		for (size_t i = 0; i < p->nact; i++)
			res[i] = (struct apply_result){ .status = AP_FAILED, .err = rc };
	journal_unlock(&d->j);
	if (rc < 0)
		log_errno(LOG_LVL_ERR, rc, "state journal: writes stopped");
	size_t done = 0, nyield0 = d->drift.nyield;
	uint64_t done_ns = mono_ns(); /* one clock read for the plan's outcomes */
	for (size_t i = 0; i < p->nact; i++) {
		const struct action *a = &p->act[i];
		drift_record(&d->drift, a, &res[i], done_ns / 1000000);
		note_self_set(d, a, &res[i]);
		if (a->pid > 0 && res[i].status == AP_DONE)
			workcache_stale(&d->wc, a->pid); /* its cached figures are old now */
		if (a->pid > 0 && res[i].status == AP_DONE && a->kind == ACT_OOM_SCORE_ADJ)
			tracker_set_oom_time(&d->tr, a->pid, done_ns);
		switch (res[i].status) {
		case AP_DONE:
			done++;
			d->stats.applied++;
			log_info("%s %s: %s -> %s (%s)", action_kind_name(a->kind), a->target, a->current,
				 a->desired, a->reason);
			break;
		case AP_FAILED:
			d->stats.failed++;
			log_warn("%s %s: %s", action_kind_name(a->kind), a->target, res[i].detail);
			break;
		case AP_SKIPPED:
			log_debug("%s %s: %s", action_kind_name(a->kind), a->target, res[i].detail);
			break;
		case AP_UNCHANGED:
			break;
		}
	}
	free(res);
	hand_back_new(d, nyield0); /* what it wrote before it knew goes back */
	return done;
}

/* The main's value before overcommitd, as a value its child may have
 * inherited - unless the child was forked after overcommitd's write to the
 * main (fork event later than the write): then it inherited the main's
 * value now, and holding the old one means it wrote that itself. */
static int inherited_orig(const struct daemon *d, const struct tr_out *o, const struct proc_info *m)
{
	const struct tproc *mt = tracker_find(&d->tr, o->inst);
	const struct tproc *ct = tracker_find(&d->tr, o->pid);
	if (mt && ct && mt->oom_set_ns && ct->since_ns > mt->oom_set_ns)
		return OOM_ORIG_UNKNOWN;
	return mainorig_of(&d->j, o->inst, m->st.start_time);
}

/* A child of a main that already holds a value of its own (a PostgreSQL
 * backend wrote PG_OOM_ADJUST_VALUE right after fork): a conflict with
 * the policy, logged once per service; its value is left alone.  The
 * main's value is read only when the child's is neither policy value. */
static bool child_set_own(struct daemon *d, const struct tr_out *o, const struct proc_info *pi)
{
	const struct pol_service *ps = &d->pol.svc[o->svc];
	struct proc_info m;
	if (o->role != ROLE_CHILD ||
	    !oom_child_self_set(ps, pi->oom_score_adj, INT32_MIN, OOM_ORIG_UNKNOWN) ||
	    proc_read_opts(&d->c->roots, o->inst, PROC_READ_STAT | PROC_READ_OOM, &m) < 0 ||
	    !oom_child_self_set(ps, pi->oom_score_adj, m.oom_score_adj, inherited_orig(d, o, &m)))
		return false;
	if (drift_oom_conflict(&d->drift, ps->name, ROLE_CHILD))
		log_warn("conflict: %s sets its own oom_score_adj for its children of the main: pid "
			 "%d (%s) holds %d after fork (the main %d: %d); the policy wants %" PRId64
			 ". Left alone: overcommitd writes this role of %s no more until the next "
			 "reload (make the policy and the service agree)",
			 ps->name, pi->pid, pi->st.comm, pi->oom_score_adj, o->inst, m.oom_score_adj,
			 ps->child_oom_score_adj.v, ps->name);
	return true;
}

/* One write that gives a process back the oom_score_adj it held before
 * overcommitd wrote it, when it still holds what overcommitd wrote. */
static bool hand_back_one(struct daemon *d, const struct tproc *tp, int wrote, struct action *a)
{
	char key[24];
	struct proc_info pi;
	snprintf(key, sizeof(key), "%d", tp->pid);
	const struct jentry *e = journal_find(&d->j, J_OOM_SCORE_ADJ, key);
	if (!e || proc_read_opts(&d->c->roots, tp->pid, PROC_READ_STAT | PROC_READ_OOM, &pi) < 0 ||
	    (e->start_time && e->start_time != pi.st.start_time) || pi.oom_score_adj != wrote)
		return false; /* not ours, gone, or someone else's value by now */
	memset(a, 0, sizeof(*a));
	a->kind = ACT_OOM_SCORE_ADJ;
	a->pid = tp->pid;
	a->start_time = pi.st.start_time;
	snprintf(a->target, sizeof(a->target), "pid %d (%.32s)", tp->pid, pi.st.comm);
	snprintf(a->current, sizeof(a->current), "%d", pi.oom_score_adj);
	snprintf(a->desired, sizeof(a->desired), "%s", e->original);
	return true;
}

/* A service sets its own oom_score_adj for a role: what overcommitd wrote
 * to its processes of that role goes back to the value each held before
 * (the journal's original).  A child that set its own value before
 * overcommitd's write - indistinguishable from an inherited one then -
 * gets it back, and none keeps a value the service did not choose. */
static void hand_back(struct daemon *d, const struct oom_yield *y)
{
	size_t svc = 0;
	while (svc < d->pol.nsvc && d->pol.svc[svc].name != y->service)
		svc++;
	if (svc == d->pol.nsvc)
		return;
	const struct pol_service *ps = &d->pol.svc[svc];
	const struct pol_int *want = y->role == ROLE_MAIN ? &ps->oom_score_adj : &ps->child_oom_score_adj;
	struct plan p = { 0 };
	p.act = calloc(d->tr.n ? d->tr.n : 1, sizeof(*p.act));
	for (size_t i = 0; p.act && want->set && i < d->tr.n; i++) {
		const struct tproc *tp = &d->tr.p[i];
		struct action *a = &p.act[p.nact];
		if (tp->svc != svc || tp->role != y->role || !hand_back_one(d, tp, (int)want->v, a))
			continue;
		a->policy = want->at;
		a->service = ps->name;
		snprintf(a->reason, sizeof(a->reason), "handed back: %s sets its own oom_score_adj "
			 "for this role; the value it held before overcommitd wrote it", ps->name);
		p.nact++;
	}
	size_t n = enforce_plan(d, &p);
	if (p.nact)
		log_info("%s: %zu of %zu value%s overcommitd wrote handed back", ps->name, n, p.nact,
			 p.nact == 1 ? "" : "s");
	plan_free(&p);
}

/* Roles yielded since the table held nyield0 of them: hand them back. */
static void hand_back_new(struct daemon *d, size_t nyield0)
{
	for (size_t i = nyield0; i < d->drift.nyield; i++)
		hand_back(d, &d->drift.yield[i]);
}

/* Returns how many actions of that kind left the plan. */
static size_t drop_actions(struct plan *p, enum action_kind kind)
{
	size_t k = 0, n = p->nact;
	for (size_t i = 0; i < p->nact; i++)
		if (p->act[i].kind != kind)
			p->act[k++] = p->act[i];
	p->nact = k;
	return n - k;
}

/* A process joined a service: its oom_score_adj and cgroup now (not the
 * oom_score_adj of a role the service sets itself: drift_oom_yielded). */
static void enforce_process(struct daemon *d, const struct tr_out *o, const struct proc_info *pi,
			    uint64_t ev_ns)
{
	struct plan p = { 0 };
	if (plan_process(&d->pol, o->svc, pi, o->role, d->cgroup2, &p) < 0) {
		plan_free(&p);
		return;
	}
	size_t nyield0 = d->drift.nyield;
	if (p.nact && child_set_own(d, o, pi))
		drop_actions(&p, ACT_OOM_SCORE_ADJ);
	hand_back_new(d, nyield0);
	drift_drop_yielded(&d->drift, &p);
	if (enforce_plan(d, &p) > 0 && ev_ns) {
		uint64_t lat = mono_ns() - ev_ns;
		d->stats.enforced++;
		if (lat > d->stats.max_latency_ns)
			d->stats.max_latency_ns = lat;
		log_debug("pid %d (%s) enforced %" PRIu64 " us after its event", pi->pid,
			  pi->st.comm, lat / 1000);
	}
	plan_free(&p);
}

/* ---- events ---------------------------------------------------------------------- */

/* A tracked process exited: its journaled originals (oom_score_adj, the
 * cgroup it came from) can never be restored.  Dropping them (one line
 * appended to journal.pids each, no rewrite) keeps the journal from
 * growing with every process a service ever ran. */
static void forget_process(struct daemon *d, int pid)
{
	static const enum jkind kinds[] = { J_OOM_SCORE_ADJ, J_CGROUP_ATTACH };
	char key[24];
	snprintf(key, sizeof(key), "%d", pid);
	drift_forget_pid(&d->drift, pid);
	if (!journal_find(&d->j, kinds[0], key) && !journal_find(&d->j, kinds[1], key))
		return;
	int rc = journal_relock(&d->j);
	if (rc == 0) { /* both in one write */
		rc = journal_forget_process(&d->j, key);
		rc = rc == -ENOENT ? 0 : rc;
	}
	journal_unlock(&d->j);
	if (rc < 0)
		log_errno(LOG_LVL_WARN, rc, "state journal: dropping exited pid %d", pid);
}

static const char *role_name(enum proc_role r)
{
	return r == ROLE_MAIN ? "main" : r == ROLE_CHILD ? "child of main" : "member";
}

/* A tracked process exited and had tracked children: each that matches its
 * service (and may be acted on) is now the main of an instance - the real
 * server of a daemonizing one (redis --daemonize, apachectl, pg_ctl) - and
 * its children become children of a main: enforce their values now. */
static void promote_orphans(struct daemon *d, int ppid)
{
	int orphans[64], rerolled[256];
	size_t n = tracker_orphans(&d->tr, ppid, orphans, sizeof(orphans) / sizeof(orphans[0]));
	for (size_t i = 0; i < n; i++) {
		struct proc_info pi, ci;
		struct tr_out o;
		size_t nre = 0;
		const struct tproc *tp = tracker_find(&d->tr, orphans[i]);
		if (!tp || proc_read(&d->c->roots, orphans[i], &pi) < 0 ||
		    !svc_matches(&d->pol.svc[tp->svc], d->uid_min, &pi))
			continue; /* gone, or not the service's own (a BGSAVE child) */
		if (tracker_promote(&d->tr, &pi, rerolled, sizeof(rerolled) / sizeof(rerolled[0]),
				    &nre, &o) < 0)
			continue;
		if (o.episode_cancel)
			cancel_episode(d, o.svc); /* a daemonizing fork: nothing to learn */
		log_info("%s: pid %d (%s) is the main of an instance now (its parent %d exited); "
			 "%zu child%s",
			 d->pol.svc[o.svc].name, pi.pid, pi.st.comm, ppid, nre, nre == 1 ? "" : "ren");
		enforce_process(d, &o, &pi, 0);
		for (size_t k = 0; k < nre; k++) {
			struct tr_out co = o;
			co.role = ROLE_CHILD;
			co.pid = rerolled[k];
			if (proc_read(&d->c->roots, rerolled[k], &ci) == 0)
				enforce_process(d, &co, &ci, 0);
		}
	}
	if (n > 0)
		sampler_arm(d);
}

/* A main beside a running instance of its service: a helper (`apache2 -t`,
 * `apache2 -k graceful`) until it forks or lives CAND_SETTLE_MS
 * (candidate.h).  True when held back. */
static bool hold_candidate(struct daemon *d, const struct tr_out *o, const struct proc_info *pi)
{
	if (o->role != ROLE_MAIN || !tracker_other_main(&d->tr, o->svc, pi->pid) ||
	    cand_add(&d->cand, pi->pid, pi->st.start_time, now_ms(CLOCK_MONOTONIC)) < 0)
		return false;
	log_debug("%s: pid %d (%s) beside a running instance: a main once it forks or lives "
		  "%d ms", d->pol.svc[o->svc].name, pi->pid, pi->st.comm, CAND_SETTLE_MS);
	return true;
}

/* A held-back candidate forked: it serves (daemonizing, starting workers). */
static void confirm_candidate(struct daemon *d, int pid)
{
	const struct tproc *tp = tracker_find(&d->tr, pid);
	struct proc_info pi;
	if (!tp || tp->role != ROLE_MAIN || proc_read(&d->c->roots, pid, &pi) < 0)
		return;
	struct tr_out o = { .added = true, .svc = tp->svc, .role = ROLE_MAIN, .pid = pid,
			    .inst = pid };
	enforce_process(d, &o, &pi, 0);
}

/* An exec: its stat, then only what can decide a match (svc_match_fields)
 * and, for a possible match, what its plan reads (oom_score_adj, cgroup).
 * 1 = read, 0 = no service can take it and it is not tracked, -errno. */
static int exec_read(struct daemon *d, int pid, struct proc_info *pi)
{
	int fd, rc = procfd_pin(&d->c->roots, pid, &fd);
	memset(pi, 0, sizeof(*pi));
	if (rc != PROCFD_SAME)
		return rc < 0 ? rc : -ENOENT;
	procfd_keep(fd); /* the plan's reads and the writes: one open each */
	rc = proc_read_pinned(&d->c->roots, pid, fd, PROC_READ_STAT, pi);
	unsigned what = rc < 0 ? 0 : svc_match_fields(&d->pol, pi->st.comm);
	if (rc == 0 && what == 0)
		rc = tracker_find(&d->tr, pid) ? 1 : 0; /* a tracked one may leave */
	else if (rc == 0)
		rc = proc_read_pinned(&d->c->roots, pid, fd,
				      what | PROC_READ_OOM | PROC_READ_CGROUP, pi);
	if (rc == 0 && what) { /* read through the pin: the writes use it too */
		d->exec_pin = (struct procpin){ .pid = pid, .start = pi->st.start_time, .fd = fd };
		return 1;
	}
	procfd_release();
	close(fd); /* a directory opened read-only: nothing to report */
	return rc;
}

static void exec_unpin(struct daemon *d)
{
	procfd_release();
	if (d->exec_pin.fd >= 0)
		close(d->exec_pin.fd); /* a directory opened read-only: nothing to report */
	d->exec_pin = (struct procpin){ .fd = -1 };
}

/* An exec: a process may join a service (or leave one, by a new program). */
static void on_exec(struct daemon *d, const struct pc_event *ev)
{
	struct tr_out o;
	struct proc_info pi;
	if (ev->pid != ev->tgid)
		return;
	workcache_forget(&d->wc, ev->pid); /* another program: read it afresh */
	if (exec_read(d, ev->pid, &pi) <= 0)
		return; /* gone already (not an error), or nothing to decide */
	if (tracker_exec(&d->tr, &d->pol, d->uid_min, &pi, ev->ts_ns, &o) < 0) {
		exec_unpin(d);
		d->need_full = true;
		return;
	}
	if (o.added) {
		log_debug("%s: pid %d (%s) joined as %s", d->pol.svc[o.svc].name, pi.pid,
			  pi.st.comm, role_name(o.role));
		if (!hold_candidate(d, &o, &pi)) {
			enforce_process(d, &o, &pi, ev->ts_ns);
			log_send(); /* enforced: say so before the clean-up */
			/* joined (and enforced): apart while a smaps read runs */
			charges_note_latency(d, mono_ns() - ev->ts_ns);
		}
	}
	exec_unpin(d);
	if (o.removed && o.episode_end)
		episode_end(d, o.svc);
}

/* A fork: a child of a tracked process (a worker, or an episode's child). */
static void on_fork(struct daemon *d, const struct pc_event *ev)
{
	struct tr_out o;
	struct proc_info pi;
	if (ev->pid == ev->tgid)
		workcache_forget(&d->wc, ev->pid); /* the pid names a new process */
	if (ev->pid == ev->tgid && cand_take(&d->cand, ev->ptgid))
		confirm_candidate(d, ev->ptgid);
	if (tracker_fork(&d->tr, ev->ptgid, ev->pid, ev->tgid, ev->ts_ns, &o) < 0) {
		d->need_full = true;
		return;
	}
	if (!o.added)
		return;
	if (o.episode_cancel) { /* a second worker: nothing to learn or judge */
		cancel_episode(d, o.svc);
		sampler_arm(d);
	}
	if (o.episode_start)
		episode_start(d, o.svc, o.pid);
	if (o.role != ROLE_CHILD)
		return;
	/* identity from now on: pid + start time */
	if (proc_read(&d->c->roots, o.pid, &pi) < 0)
		return;
	tracker_set_start(&d->tr, o.pid, pi.st.start_time);
	bool ep_child = d->ep[o.svc].active && d->ep[o.svc].child == o.pid;
	if (ep_child)
		d->ep[o.svc].child_start = pi.st.start_time;
	enforce_process(d, &o, &pi, ev->ts_ns);
	if (ep_child)
		place_child(d, o.svc, &pi);
	charges_note_fork(d, ev->ptgid, &pi); /* after: not on its way */
}

static void on_exit_event(struct daemon *d, const struct pc_event *ev)
{
	struct tr_out o;
	if (ev->pid == ev->tgid && cand_take(&d->cand, ev->pid))
		log_debug("pid %d exited before it served: never a main", ev->pid);
	tracker_exit(&d->tr, ev->pid, ev->tgid, ev->ts_ns, &o);
	/* a worker's lifetime growth is learned; first, so that an episode's
	 * child learned as a worker goes into the episode's save of
	 * learned.json (after it: a second save, 5 s later or at exit) */
	if (o.removed)
		learned_worker(d, o.pid);
	if (o.episode_end)
		episode_end(d, o.svc);
	if (o.removed)
		forget_process(d, o.pid);
	if (o.orphans)
		promote_orphans(d, o.pid);
}

static void on_event(const struct pc_event *ev, void *arg)
{
	struct daemon *d = arg;
	d->stats.events++;
	log_hold(); /* an event's lines in one write, after its work */
	if (ev->type == PC_EXEC)
		on_exec(d, ev);
	else if (ev->type == PC_FORK)
		on_fork(d, ev);
	else if (ev->type == PC_EXIT)
		on_exit_event(d, ev);
	log_flush();
}

/* ---- the periodic pass -------------------------------------------------------------- */

static void log_drift(const char *text, void *arg)
{
	(void)arg;
	log_warn("%s", text);
}

static bool process_alive(int pid, uint64_t start, const void *arg)
{
	uint64_t now;
	int rc = proc_read_start_time(arg, pid, &now);
	return rc < 0 ? rc != -ENOENT : now == start; /* an unreadable one stays */
}

/* After lost events (and every full scan): the journal entries of processes
 * whose exit events never came go too, or every loss would leave them for
 * good (issue 13 item 4: bounded however many processes come and go). */
static void forget_exited(struct daemon *d)
{
	int rc = journal_relock(&d->j);
	if (rc == 0)
		rc = apply_forget_exited(&d->c->roots, &d->j);
	journal_unlock(&d->j);
	if (rc < 0)
		log_errno(LOG_LVL_WARN, rc, "state journal: dropping the entries of exited processes");
	else if (rc > 0)
		log_info("state journal: %d entries of processes that exited unseen dropped", rc);
}

/* 1 after a full /proc scan (the tracker rebuilt from it), 0 after a pass
 * over the tracked processes, or -errno. */
static int observe(struct daemon *d, struct snapshot *s)
{
	const struct roots *r = &d->c->roots;
	if (d->need_full)
		workcache_clear(&d->wc); /* lost events: no cached figure is trusted */
	if (d->need_full || ++d->passes % FULL_SCAN_EVERY == 0) {
		int rc = workcache_observe(&d->wc, r, &d->pol, NULL, 0, s);
		if (rc < 0)
			return rc;
		d->need_full = false;
		d->stats.full_scans++;
		/* exits the proc connector lost: their drift entries go now */
		drift_prune(&d->drift, process_alive, r);
		forget_exited(d);
		rc = tracker_load(&d->tr, s);
		return rc < 0 ? rc : 1;
	}
	int *pids = calloc(d->tr.n ? d->tr.n : 1, sizeof(*pids));
	if (!pids)
		return -ENOMEM;
	size_t n = tracker_pids(&d->tr, pids, d->tr.n);
	int rc = workcache_observe(&d->wc, r, &d->pol, pids, n, s);
	free(pids);
	return rc;
}

/* The node_exporter textfile: the plan's figures plus the daemon's counters. */
static void write_metrics(struct daemon *d, const struct snapshot *s, const struct plan *p)
{
	struct prom_counters pc = {
		.events_total = d->stats.events,
		.applied_total = d->stats.applied,
		.failed_total = d->stats.failed,
		.resyncs_total = d->stats.resyncs,
		.episodes_total = d->stats.episodes,
		.smaps_reads_total = d->stats.smaps_reads,
		.smaps_read_ns_total = d->stats.smaps_ns,
		.events_during_smaps_total = d->stats.events_during_smaps,
		.fork_shares_total = d->stats.fork_shares,
		.tracked = d->tr.n,
		.drift_entries = d->drift.n,
		.journal_entries = journal_live(&d->j),
	};
	struct report_in in = { .mode = RPT_STATUS, .pol = &d->pol, .snap = s, .plan = p,
				.counters = &pc, .refusals = refusals_book(d) };
	char why[400] = "";
	int rc = report_prometheus_file(d->c->metrics_file, &in, why, sizeof(why));
	if (rc == -EPERM && why[0] && !d->metrics_warned) {
		log_err("metrics file %s refused: %s; not written", d->c->metrics_file, why);
		d->metrics_warned = true;
	} else if (rc < 0 && !d->metrics_warned) {
		log_errno(LOG_LVL_WARN, rc, "metrics file %s", d->c->metrics_file);
		d->metrics_warned = true;
	} else if (rc == 0) {
		d->metrics_warned = false;
	}
}

/* journal.pids into journal.json, off the exec path, once it has grown. */
static void fold_journal(struct daemon *d)
{
	if (d->j.pids_size <= PIDS_FOLD_BYTES)
		return;
	int rc = journal_relock(&d->j);
	if (rc == 0)
		rc = journal_fold(&d->j, PIDS_FOLD_BYTES);
	journal_unlock(&d->j);
	if (rc < 0)
		log_errno(LOG_LVL_WARN, rc, "state journal: folding journal.pids into journal.json");
}

static void pass(struct daemon *d)
{
	struct snapshot s;
	uint64_t t0 = now_ms(CLOCK_MONOTONIC);
	int rc = observe(d, &s);
	if (rc < 0) {
		log_errno(LOG_LVL_ERR, rc, "observing");
		return;
	}
	bool full = rc == 1;
	if (full) /* helpers the scan saw before their exec events */
		cand_hold_scanned(&d->cand, &s, now_ms(CLOCK_MONOTONIC), now_ms(CLOCK_BOOTTIME),
				  sysconf(_SC_CLK_TCK));
	d->cgroup2 = s.cgroup2;
	d->cg_v2 = s.cg_hier == CG_HIER_V2;
	scope_tick(d);
	d->uid_min = s.uid_min;
	d->last_pass_ms = now_ms(CLOCK_MONOTONIC);
	refusals_tick(d);
	charges_observe(d, &s); /* smaps reads go to the reader thread */
	fold_journal(d);
	learned_save(d, false);
	for (size_t i = 0; i < s.nsvc && i < d->pol.nsvc; i++)
		if (s.svc[i].main_idx >= 0 && !d->ep[i].active)
			snprintf(d->ep[i].cgroup, sizeof(d->ep[i].cgroup), "%s", s.svc[i].cgroup);
	struct learn_estimate *est = estimates(d, &s);
	struct plan p;
	mainorig_note(&d->j, &s, true);
	rc = plan_build(&d->pol, &s, est, &p);
	free(est);
	if (rc == 0) {
		/* a remount needs CAP_SYS_ADMIN, which the daemon drops at start */
		if (drop_actions(&p, ACT_CGROUP_MOUNT) && !d->said_mount) {
			d->said_mount = true;
			log_info("cgroup_favordynmods: the policy asks to change the cgroup2 mount's "
				 "favordynmods; left to `overcommitd apply` (a remount needs "
				 "CAP_SYS_ADMIN, which the daemon does not keep)");
		}
		size_t nyield0 = d->drift.nyield;
		drift_filter(&d->drift, &p, d->pol.host.reapply_on_drift, now_ms(CLOCK_MONOTONIC),
			     log_drift, NULL);
		hand_back_new(d, nyield0);
		cand_filter_plan(&d->cand, &p, now_ms(CLOCK_MONOTONIC));
		enforce_plan(d, &p);
		if (d->c->metrics_file)
			write_metrics(d, &s, &p);
		sd_notifyf(0, "STATUS=%zu service%s, %zu tracked processes, %zu risk%s; %" PRIu64
			      " events, %" PRIu64 " applied, %" PRIu64 " failed",
			   s.nsvc, s.nsvc == 1 ? "" : "s", d->tr.n, p.nrisk, p.nrisk == 1 ? "" : "s",
			   d->stats.events, d->stats.applied, d->stats.failed);
		plan_free(&p);
	}
	log_debug("pass: %s, %zu processes scanned, %" PRIu64 " ms", full ? "full scan" : "tracked",
		  s.nprocs_scanned, now_ms(CLOCK_MONOTONIC) - t0);
	snapshot_free(&s);
}

/* ---- start-up ---------------------------------------------------------------------- */

/* What the policy asks to write must be writable, before READY=1
 * (earlyoom's startup self-test): open for writing, write nothing. */
static int selftest(struct daemon *d)
{
	if (!d->pol.host.enforce)
		return 0;
	int bad = 0;
	for (int k = 0; k < VM_NKNOBS; k++) {
		char path[PATH_BUF];
		if (path_join(path, sizeof(path), d->c->roots.procfs,
			      vm_knob_relpath((enum vm_knob)k)) < 0)
			continue;
		int rc = open_writable(path);
		if (rc < 0) {
			log_errno(LOG_LVL_ERR, rc, "self-test: cannot write %s", path);
			bad++;
		}
	}
	return bad ? -EACCES : 0;
}

static int timers(struct daemon *d)
{
	uint64_t wd_usec = 0;
	unsigned period = (unsigned)d->pol.host.interval.v;
	if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec / 2000000 < period)
		period = (unsigned)(wd_usec / 2000000) ? (unsigned)(wd_usec / 2000000) : 1;
	struct itimerspec its = { .it_interval = { .tv_sec = period }, .it_value = { .tv_sec = period } };
	if (timerfd_settime(d->tick_fd, 0, &its, NULL) < 0)
		return -errno;
	d->watchdog = wd_usec > 0;
	return 0;
}

static int setup(struct daemon *d)
{
	const struct cli *c = d->c;
	if (load_policy(d, &d->pol) < 0) {
		log_err("policy refused; not starting");
		return -EINVAL;
	}
	int rc = uid_min_read(&c->roots, &d->uid_min);
	if (rc < 0)
		log_errno(LOG_LVL_WARN, rc, "%s/login.defs: UID_MIN unreadable; processes of uid "
					    ">= %u are never acted on", c->roots.etc, d->uid_min);
	rc = state_journal_open(c, JOURNAL_CREATE, &d->j);
	if (rc < 0)
		return rc;
	size_t pruned = apply_prune_exited(&c->roots, &d->j);
	rc = journal_save(&d->j);
	if (rc < 0)
		log_errno(LOG_LVL_WARN, rc, "state journal: dropping %zu exited processes' entries",
			  pruned);
	rc = learn_load_at(&d->j.sd, &d->learned, &d->nlearned);
	journal_unlock(&d->j);
	statedir_keep_lock(&d->j.sd); /* one fstat per lock says what others did */
	if (rc == -EPERM) {
		log_err("%s/learned.json refused: %s; learning afresh, nothing written over it",
			c->state_dir, d->j.sd.why);
		return rc;
	}
	if (rc < 0) {
		log_errno(LOG_LVL_WARN, rc, "%s/learned.json unusable; learning afresh (kept on disk "
					    "until the next episode is saved)", c->state_dir);
		d->learned = NULL;
		d->nlearned = 0;
	}
	if (tracker_init(&d->tr, d->pol.nsvc) < 0 || episodes_reset(d, d->pol.nsvc) < 0 ||
	    workcache_init(&d->wc, d->pol.nsvc) < 0)
		return -ENOMEM;
	seed_workers(d);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	d->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	d->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	d->sample_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->sig_fd < 0 || d->tick_fd < 0 || d->sample_fd < 0)
		return -errno;
	rc = procconn_open(&d->pc, PC_RCVBUF);
	if (rc < 0) {
		log_errno(LOG_LVL_ERR, rc, "proc connector (needs CAP_NET_ADMIN on older kernels)");
		return rc;
	}
	log_info("proc connector: %zu KiB receive buffer", procconn_rcvbuf(d->pc) / 1024);
	refusals_setup(d); /* loads BPF: before capabilities are dropped */
	/* before any thread exists (the time-bounded writes start some);
	 * after the bind, so CAP_NET_ADMIN goes with the rest */
	rc = daemon_drop_privileges(&c->roots);
	if (rc < 0)
		return rc;
	/* json-c seeds its hash from /dev/urandom on first use, which blocks
	 * until the kernel's pool is ready: at early boot that cost seconds on
	 * the first exec event (measured in the VM); pay it before READY=1 */
	json_object_put(json_object_new_object());
	rc = selftest(d);
	if (rc < 0)
		return rc;
	return timers(d);
}

/* restore_on_exit: what could not come back is named, not only counted
 * (the journal keeps it for `overcommitd restore`) */
static void restore_failed_line(const struct jentry *e, enum apply_status st, const char *detail,
				void *arg)
{
	(void)arg;
	if (st == AP_FAILED)
		log_warn("restore_on_exit: %s %s: %s (kept in the journal for `overcommitd restore`)",
			 journal_kind_name(e->kind), e->key, detail);
}

static void teardown(struct daemon *d)
{
	scope_stop(d); /* its answers still find the episodes */
	if (d->j.sd.dfd >= 0)
		learned_save(d, true);
	if (d->pol.host.restore_on_exit && d->j.sd.dfd >= 0) {
		struct restore_result rr = { 0 };
		int rc = journal_relock(&d->j);
		if (rc == 0)
			rc = restore_all(&d->c->roots, &d->j, &rr, restore_failed_line, NULL);
		log_info("restore_on_exit: restored %zu, skipped %zu, failed %zu%s", rr.restored,
			 rr.skipped, rr.failed, rc < 0 ? " (journal I/O failed)" : "");
	}
	refusals_teardown(d);
	procconn_close(d->pc);
	charges_stop(d);
	privsep_stop();
	if (d->sig_fd >= 0)
		close(d->sig_fd);
	if (d->tick_fd >= 0)
		close(d->tick_fd);
	if (d->sample_fd >= 0)
		close(d->sample_fd);
	tracker_free(&d->tr);
	workcache_free(&d->wc);
	charge_cache_free(&d->charges);
	cand_free(&d->cand);
	int rc = journal_close(&d->j); /* journal.pids is never fsync'd: its close speaks last */
	if (rc < 0)
		log_errno(LOG_LVL_WARN, rc, "state journal: closing journal.pids");
	free(d->learned);
	free(d->ep);
	drift_free(&d->drift);
	policy_free(&d->pol);
}

static void drain_timer(int fd)
{
	uint64_t n;
	while (read(fd, &n, sizeof(n)) > 0)
		;
}

static void read_signals(struct daemon *d)
{
	struct signalfd_siginfo si;
	while (read(d->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			d->reload = true;
		else
			d->stop = true;
	}
}

/* The events the loop waits for, one poll slot each. */
enum poll_slot {
	SLOT_SIGNAL, SLOT_PROCCONN, SLOT_TICK, SLOT_SAMPLE, SLOT_REFUSALS, SLOT_SMAPS, SLOT_READER,
	SLOT_BUS, NSLOTS
};

/* Exact charges landed: into the verdicts by a pass now, unless one ran
 * within the last second (then the next tick takes them). */
static void on_smaps(struct daemon *d)
{
	if (charges_collect(d) && now_ms(CLOCK_MONOTONIC) >= d->last_pass_ms + 1000)
		pass(d);
}

static void on_procconn(struct daemon *d)
{
	int n = procconn_drain(d->pc, on_event, d);
	if (n == -ENOBUFS) {
		/* events were lost: nothing matched may stay missed */
		d->stats.resyncs++;
		log_warn("proc connector lost events; rescanning /proc");
		d->need_full = true;
		pass(d);
	} else if (n < 0) {
		log_errno(LOG_LVL_ERR, n, "proc connector");
	}
}

/* The counters at exit (a soak checks the table sizes: issue 13 item 4). */
static void log_stopping(const struct daemon *d)
{
	log_info("stopping: %" PRIu64 " events, %" PRIu64 " resyncs, %" PRIu64 " applied, %" PRIu64
		 " failed, %" PRIu64 " episodes, %" PRIu64 " fork children stopped (%" PRIu64
		 " placed in their leaf or scope, %" PRIu64 " in a scope), max exec->enforced %" PRIu64 " us, smaps reads %" PRIu64
		 " (%" PRIu64 " us for %" PRIu64 " MiB) on the reader thread, %" PRIu64
		 " unreadable; %" PRIu64 " execs joined during a read (max %" PRIu64 " us); %" PRIu64
		 " fork shares",
		 d->stats.events, d->stats.resyncs, d->stats.applied, d->stats.failed, d->stats.episodes,
		 d->stats.children_stopped, d->stats.children_placed, d->stats.children_scoped,
		 d->stats.max_latency_ns / 1000,
		 d->stats.smaps_reads, d->stats.smaps_ns / 1000, d->stats.smaps_vm_kb / 1024,
		 d->stats.smaps_failed, d->stats.events_during_smaps,
		 d->stats.max_latency_during_smaps_ns / 1000, d->stats.fork_shares);
	/* the bounds a soak checks (issue 13 item 4) */
	log_info("state: %zu tracked processes, %zu drift entries, %zu journal entries (%zu of "
		 "processes)", d->tr.n, d->drift.n, journal_live(&d->j), d->j.nprocess);
	struct pc_stats ps;
	procconn_stats(d->pc, &ps);
	log_info("proc connector: %" PRIu64 " drains, %" PRIu64 " cut at %llu ms, %" PRIu64
		 " at %u messages; longest %" PRIu64 " us, %" PRIu64 " us per event", ps.drains,
		 ps.cut_by_time, DRAIN_BUDGET_NS / 1000000, ps.cut_by_count, DRAIN_BUDGET_MSGS,
		 ps.max_drain_ns / 1000, ps.events ? ps.drain_ns / 1000 / ps.events : 0);
	log_info("workers: %" PRIu64 " /proc reads, %" PRIu64 " served from the cache (read every "
		 "%d passes), %zu cached now; %" PRIu64 " oom_score_adj values the services set "
		 "themselves left alone", d->wc.reads, d->wc.served, WORK_READ_EVERY, d->wc.n,
		 d->drift.oom_conflicts_total);
}

/* What one wait woke up for, in a fixed order: signals first. */
static void dispatch(struct daemon *d, const struct pollfd *fds)
{
	if (fds[SLOT_SIGNAL].revents & POLLIN)
		read_signals(d);
	if (fds[SLOT_PROCCONN].revents & POLLIN)
		on_procconn(d);
	if (fds[SLOT_REFUSALS].revents & POLLIN)
		refusals_drain(d);
	if (fds[SLOT_SMAPS].revents & POLLIN)
		on_smaps(d);
	if (fds[SLOT_SAMPLE].revents & POLLIN) {
		drain_timer(d->sample_fd);
		sample_episodes(d);
	}
	if (fds[SLOT_TICK].revents & POLLIN) {
		drain_timer(d->tick_fd);
		pass(d);
		if (d->watchdog)
			sd_notify(0, "WATCHDOG=1");
	}
	if (d->reload) {
		d->reload = false;
		sd_notify(0, "RELOADING=1");
		reload(d);
		pass(d);
		sd_notify(0, "READY=1");
	}
}

int cmd_run(const struct cli *c)
{
	struct daemon d = { .c = c, .sig_fd = -1, .tick_fd = -1, .sample_fd = -1,
			    .exec_pin = { .fd = -1 } };
	d.need_full = true;
	int rc = setup(&d);
	if (rc < 0) {
		sd_notifyf(0, "STATUS=start-up failed: %s", strerror(-rc));
		teardown(&d);
		return EXIT_ERR;
	}
	charges_start(&d);
	pass(&d); /* full scan, then events */
	sd_notify(0, "READY=1");
	log_info("running: %zu service%s, interval %" PRId64 " s, enforce = %s", d.pol.nsvc,
		 d.pol.nsvc == 1 ? "" : "s", d.pol.host.interval.v, d.pol.host.enforce ? "yes" : "no");
	struct pollfd fds[NSLOTS] = {
		[SLOT_SIGNAL] = { .fd = d.sig_fd, .events = POLLIN },
		[SLOT_PROCCONN] = { .fd = procconn_fd(d.pc), .events = POLLIN },
		[SLOT_TICK] = { .fd = d.tick_fd, .events = POLLIN },
		[SLOT_SAMPLE] = { .fd = d.sample_fd, .events = POLLIN },
		[SLOT_REFUSALS] = { .fd = refusals_fd(&d), .events = POLLIN }, /* -1: ignored by poll */
		[SLOT_SMAPS] = { .fd = charges_fd(&d), .events = POLLIN },
		/* the reader's death between requests: POLLHUP (events 0: replies
		 * are read by the request that asked for them) */
		[SLOT_READER] = { .fd = privsep_fd(), .events = 0 },
	};
	int exit_code = EXIT_OK;
	struct evwait w; /* epoll: a wake costs the ready descriptor alone */
	unsigned bus_seen = d.bus_opened;
	rc = evwait_open(&w);
	if (rc < 0) {
		log_errno(LOG_LVL_ERR, rc, "epoll");
		d.stop = true;
		exit_code = EXIT_ERR;
	}
	while (!d.stop) {
		if (privsep_lost()) {
			log_err("privilege separation: the /proc reader is gone; exiting to be restarted");
			exit_code = EXIT_ERR;
			break;
		}
		int timeout = -1;
		scope_pollfd(&d, &fds[SLOT_BUS], &timeout); /* systemd's answers */
		if (d.bus_opened != bus_seen) { /* a new connection: its fd afresh */
			evwait_forget(&w, SLOT_BUS);
			bus_seen = d.bus_opened;
		}
		rc = evwait_poll(&w, fds, NSLOTS, timeout);
		if (rc == -EINTR)
			continue;
		if (rc < 0) {
			log_errno(LOG_LVL_ERR, rc, "epoll_wait");
			exit_code = EXIT_ERR;
			break;
		}
		if (fds[SLOT_READER].revents & (POLLHUP | POLLERR)) {
			log_err("privilege separation: the /proc reader closed its socket (it died)");
			privsep_hangup();
			continue;
		}
		dispatch(&d, fds);
		scope_dispatch(&d);
	}
	evwait_close(&w);
	sd_notify(0, "STOPPING=1");
	log_stopping(&d);
	teardown(&d);
	return exit_code;
}
