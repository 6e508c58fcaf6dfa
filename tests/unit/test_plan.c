/* test_plan.c - the planner as a table of hosts: the seed scenario, compliant
 * hosts, mode choices, and each safety invariant (DESIGN §7.1-7.3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "plan.h"
#include "policy.h"
#include "snapshot.h"

#define MiB 1024ULL
#define GiB (1024ULL * 1024ULL)

/* ---- building blocks ---------------------------------------------------- */

struct world {
	struct policy pol;
	struct snapshot snap;
	struct svc_obs svc[2];
	struct proc_info procs[2][4];
	struct plan plan;
};

static void load_policy(struct world *w, const char *ini)
{
	struct diags d;
	diags_init(&d);
	policy_init(&w->pol);
	int rc = policy_parse_buffer("test.ini", ini, &w->pol, &d);
	policy_finish(&w->pol, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", d.msg[i]);
	assert_int_equal(rc, 0);
	assert_int_equal(d.n, 0);
	diags_free(&d);
}

/* The seed host: strict mode, ratio 50, 2 GiB RAM, no swap, 900 MiB committed. */
static void host_strict(struct world *w)
{
	struct snapshot *s = &w->snap;
	s->mem.mem_total_kb = 2 * GiB;
	s->mem.mem_free_kb = 1300 * MiB;
	s->mem.mem_available_kb = 1350 * MiB;
	s->mem.committed_as_kb = 900 * MiB;
	s->mem.commit_limit_kb = 1 * GiB;
	s->vm.v[VM_OVERCOMMIT_MEMORY] = 2;
	s->vm.v[VM_OVERCOMMIT_RATIO] = 50;
	s->vm.v[VM_OVERCOMMIT_KBYTES] = 0;
	s->vm.v[VM_USER_RESERVE_KBYTES] = 128 * MiB;
	s->vm.v[VM_ADMIN_RESERVE_KBYTES] = 8 * MiB;
	s->cgroup2 = true;
}

static struct proc_info *add_proc(struct world *w, size_t svc, int pid, int ppid, const char *comm,
				  uint64_t data_kb)
{
	struct svc_obs *o = &w->svc[svc];
	struct proc_info *p = &w->procs[svc][o->nprocs++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->st.ppid = ppid;
	p->st.start_time = 1000 + (uint64_t)pid;
	snprintf(p->st.comm, sizeof(p->st.comm), "%s", comm);
	p->status.uid = 100;
	p->status.tgid = pid;
	p->status.vm_data_kb = data_kb;
	p->status.vm_stk_kb = 132;
	p->status.vm_size_kb = data_kb + 50 * MiB;
	p->status.rss_anon_kb = data_kb - 20 * MiB;
	snprintf(p->cgroup, sizeof(p->cgroup), "/");
	return p;
}

/* redis: main pid 100 (600 MiB), a BGSAVE child pid 101 sharing it by COW */
static void svc_redis(struct world *w, int with_child)
{
	struct svc_obs *o = &w->svc[0];
	memset(o, 0, sizeof(*o));
	o->procs = w->procs[0];
	o->policy_idx = 0;
	add_proc(w, 0, 100, 1, "redis-server", 600 * MiB);
	o->nmatched = 1;
	o->main_idx = 0;
	if (with_child)
		add_proc(w, 0, 101, 100, "redis-rdb-bgsave", 600 * MiB)->status.rss_anon_kb = 4 * MiB;
	snprintf(o->cgroup, sizeof(o->cgroup), "/");
	w->snap.svc = w->svc;
	w->snap.nsvc = 1;
}

/* roles and instances, as the snapshot derives them */
/* The charge and user namespace a test gives the service (svc_obs.charge,
 * main_userns) are its largest instance's, as snapshot_take() leaves them. */
static void index_all(struct world *w)
{
	for (size_t i = 0; i < w->snap.nsvc; i++) {
		struct svc_obs *o = &w->svc[i];
		assert_int_equal(svc_obs_index(o), 0);
		if (o->main_idx < 0)
			continue;
		struct svc_inst *in = &o->inst[o->place[o->main_idx].inst];
		in->charge = o->charge;
		in->userns = o->main_userns;
	}
}

static void plan(struct world *w)
{
	index_all(w);
	assert_int_equal(plan_build(&w->pol, &w->snap, NULL, &w->plan), 0);
}

static void done(struct world *w)
{
	plan_free(&w->plan);
	policy_free(&w->pol);
	for (size_t i = 0; i < 2; i++)
		svc_obs_index_free(&w->svc[i]);
}

/* Every test gets a zeroed world; whatever it built is freed after it,
 * also when an assertion ends it early. */
static int world_setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	*state = w;
	return w ? 0 : -1;
}

static int world_teardown(void **state)
{
	struct world *w = *state;
	done(w);
	free(w);
	return 0;
}

static const struct action *find(const struct plan *p, enum action_kind k, const char *target)
{
	for (size_t i = 0; i < p->nact; i++)
		if (p->act[i].kind == k && (!target || strcmp(p->act[i].target, target) == 0))
			return &p->act[i];
	return NULL;
}

static ssize_t index_of(const struct plan *p, const struct action *a)
{
	return a ? a - p->act : -1;
}

static const struct risk *find_risk(const struct plan *p, const char *kind)
{
	for (size_t i = 0; i < p->nrisk; i++)
		if (strcmp(p->risk[i].kind, kind) == 0)
			return &p->risk[i];
	return NULL;
}

static int64_t num(const char *s)
{
	return strtoll(s, NULL, 10);
}

static const char *REDIS =
	"[host]\novercommit = auto\nfork_headroom = 110%\nenforce = yes\n"
	"[service redis]\nmatch_comm = redis-server\noom_score_adj = -500\n"
	"child_oom_score_adj = 800\nmemory_high = auto\n";

/* ---- the seed scenario ---------------------------------------------------- */

static void seed_strict_fork_does_not_fit(void **state)
{
	struct world *w = *state;
	host_strict(w);
	svc_redis(w, 0);
	load_policy(w, REDIS);
	plan(w);
	const struct plan *p = &w->plan;
	/* the model: 900 MiB + 600 MiB > 1 GiB - 8 MiB admin - min(650M/32, 128M) */
	assert_false(p->eval[0].fork.fits);
	assert_true(p->eval[0].fork.headroom_kb < 0);
	const struct risk *r = find_risk(p, "fork_fails");
	assert_non_null(r);
	assert_string_equal(r->service, "redis");
	assert_non_null(strstr(r->message, "redis-server (pid 100)"));
	assert_non_null(strstr(r->message, "600 MiB"));
	/* strict kept: no mode change; overcommit_kbytes raised just enough */
	assert_null(find(p, ACT_SYSCTL, "vm.overcommit_memory"));
	const struct action *k = find(p, ACT_SYSCTL, "vm.overcommit_kbytes");
	assert_non_null(k);
	int64_t kb = num(k->desired);
	uint64_t need = 900 * MiB + 600 * MiB * 110 / 100 + 8 * MiB;
	assert_true((uint64_t)kb >= need);
	/* "just enough": reserves, the band left for growth (10% of the fork
	 * need and its headroom: 126 MiB here) and rounding */
	assert_true((uint64_t)kb <= need + 128 * MiB + (600 + 660) * MiB / 10);
	assert_true((uint64_t)kb <= 2 * GiB);          /* RAM + swap can back it */
	assert_int_equal(p->mode_after, 2);
	assert_true(p->eval[0].fork_after.fits);
	assert_non_null(strstr(k->reason, "redis"));
	assert_string_equal(k->policy.file, "test.ini");
	assert_int_equal(k->policy.line, 2); /* overcommit = auto */
	/* protection: oom_score_adj of the main process, cgroup + memory.high */
	const struct action *o = find(p, ACT_OOM_SCORE_ADJ, NULL);
	assert_non_null(o);
	assert_int_equal(o->pid, 100);
	assert_int_equal(o->start_time, 1100);
	assert_string_equal(o->desired, "-500");
	const struct action *att = find(p, ACT_CGROUP_ATTACH, NULL);
	assert_non_null(att);
	assert_string_equal(att->cgroup, "/overcommitd/redis");
	const struct action *h = find(p, ACT_MEMORY_HIGH, "/overcommitd/redis");
	assert_non_null(h);
	/* auto, nothing learned yet: anon 580 MiB x (1 + 1.0) x 1.25 = 1450 MiB */
	assert_int_equal(num(h->desired), 1450LL * 1024 * 1024);
	assert_non_null(strstr(h->reason, "learning"));
	assert_int_equal(h->policy.line, 9);
}

/* applying the plan's sysctls and re-planning finds nothing left to do */
static void seed_replan_after_apply_is_compliant(void **state)
{
	struct world *w = *state;
	host_strict(w);
	svc_redis(w, 0);
	load_policy(w, "[host]\novercommit = auto\n[service redis]\nmatch_comm = redis-server\n");
	plan(w);
	assert_true(w->plan.nact >= 1);
	w->snap.vm = w->plan.vm_after;
	w->snap.mem.commit_limit_kb = w->plan.commit_limit_after_kb; /* what the kernel then shows */
	plan_free(&w->plan);
	plan(w);
	assert_int_equal(w->plan.nact, 0);
	assert_null(find_risk(&w->plan, "fork_fails"));
	/* Committed_AS moves by a few pages, then by 8 MiB: still nothing (§7.4) */
	w->snap.mem.committed_as_kb += 8;
	plan_free(&w->plan);
	plan(w);
	assert_int_equal(w->plan.nact, 0);
	w->snap.mem.committed_as_kb += 8 * MiB;
	plan_free(&w->plan);
	plan(w);
	assert_int_equal(w->plan.nact, 0);
	/* issue 10 item 7: the service grows by 8% (47 MiB in the field): its
	 * Committed_AS and its fork need both grow; every guarantee still holds */
	w->procs[0][0].status.vm_data_kb += 48 * MiB;
	w->snap.mem.committed_as_kb += 48 * MiB;
	plan_free(&w->plan);
	plan(w);
	assert_null(find(&w->plan, ACT_SYSCTL, NULL));
	/* but a growth past the band raises it again */
	w->snap.mem.committed_as_kb += 64 * MiB;
	plan_free(&w->plan);
	plan(w);
	assert_non_null(find(&w->plan, ACT_SYSCTL, "vm.overcommit_kbytes"));
}

/* what the daemon learned replaces the default growth */
static void learned_growth_sizes_memory_high(void **state)
{
	struct world *w = *state;
	host_strict(w);
	w->snap.vm.v[VM_OVERCOMMIT_MEMORY] = 0;
	svc_redis(w, 0);
	load_policy(w, REDIS);
	struct learn_estimate est = { .learning = false, .growth = 0.1, .episodes = 5 };
	index_all(w);
	assert_int_equal(plan_build(&w->pol, &w->snap, &est, &w->plan), 0);
	const struct action *h = find(&w->plan, ACT_MEMORY_HIGH, NULL);
	assert_non_null(h);
	/* 580 MiB x 1.1 x 1.25 = 797.5 MiB, rounded up to whole MiB */
	assert_int_equal(num(h->desired), 798LL * 1024 * 1024);
	assert_non_null(strstr(h->reason, "learned from 5 fork episodes"));
}

/* a BGSAVE child that still carries the server's comm matches the policy:
 * it must not double the size memory.high is computed from */
static void child_of_main_not_counted_twice(void **state)
{
	struct world *w = *state;
	host_strict(w);
	w->snap.vm.v[VM_OVERCOMMIT_MEMORY] = 0;
	svc_redis(w, 1);
	snprintf(w->procs[0][1].st.comm, sizeof(w->procs[0][1].st.comm), "redis-server");
	w->procs[0][1].status.rss_anon_kb = 580 * MiB; /* maps all the shared pages */
	w->svc[0].nmatched = 2;
	load_policy(w, REDIS);
	plan(w);
	const struct action *h = find(&w->plan, ACT_MEMORY_HIGH, NULL);
	assert_non_null(h);
	assert_int_equal(num(h->desired), 1450LL * 1024 * 1024);
}

/* ---- compliant hosts ---------------------------------------------------- */

static void compliant_heuristic_host(void **state)
{
	struct world *w = *state;
	host_strict(w);
	w->snap.vm.v[VM_OVERCOMMIT_MEMORY] = 0;
	svc_redis(w, 0);
	struct svc_obs *o = &w->svc[0];
	w->procs[0][0].oom_score_adj = -500;
	snprintf(o->cgroup, sizeof(o->cgroup), "/system.slice/redis-server.service");
	snprintf(w->procs[0][0].cgroup, sizeof(w->procs[0][0].cgroup), "%s", o->cgroup);
	o->own_cgroup = true;
	o->cg.present = true;
	o->cg.anon = 580ULL * 1024 * 1024;
	o->cg.current = 600ULL * 1024 * 1024;
	o->cg.high = 1500ULL * 1024 * 1024; /* within 10% of auto's 1450 MiB */
	o->cg.max = CG_UNLIMITED;
	load_policy(w, REDIS);
	plan(w);
	assert_int_equal(w->plan.nact, 0);
	assert_int_equal(w->plan.nrisk, 0);
	assert_true(w->plan.eval[0].fork.fits);
}

static void compliant_no_services(void **state)
{
	struct world *w = *state;
	host_strict(w);
	w->snap.vm.v[VM_OVERCOMMIT_MEMORY] = 0;
	load_policy(w, "[host]\novercommit = auto\nenforce = no\n");
	plan(w);
	assert_int_equal(w->plan.nact, 0);
}

/* ---- mode choices --------------------------------------------------------- */

/* auto never tightens a heuristic host */
static void auto_keeps_heuristic(void **state)
{
	struct world *w = *state;
	host_strict(w);
	w->snap.vm.v[VM_OVERCOMMIT_MEMORY] = 0;
	svc_redis(w, 0);
	load_policy(w, REDIS);
	plan(w);
	assert_null(find(&w->plan, ACT_SYSCTL, NULL));
	assert_int_equal(w->plan.mode_after, 0);
}

/* strict forced from heuristic: the size is written before the mode */
static void strict_sizes_before_mode(void **state)
{
	struct world *w = *state;
	host_strict(w);
	w->snap.vm.v[VM_OVERCOMMIT_MEMORY] = 0;
	svc_redis(w, 0);
	load_policy(w, "[host]\novercommit = strict\n[service redis]\nmatch_comm = redis-server\n");
	plan(w);
	const struct action *m = find(&w->plan, ACT_SYSCTL, "vm.overcommit_memory");
	const struct action *k = find(&w->plan, ACT_SYSCTL, "vm.overcommit_kbytes");
	assert_non_null(m);
	assert_non_null(k);
	assert_string_equal(m->desired, "2");
	assert_true(index_of(&w->plan, k) < index_of(&w->plan, m));
	assert_true(w->plan.eval[0].fork_after.fits);
}

/* auto under strict mode, when RAM + swap cannot back the fork: heuristic */
static void auto_falls_back_when_unbackable(void **state)
{
	struct world *w = *state;
	host_strict(w);
	w->snap.mem.committed_as_kb = 1500 * MiB;
	svc_redis(w, 0);
	load_policy(w, REDIS);
	plan(w);
	const struct action *m = find(&w->plan, ACT_SYSCTL, "vm.overcommit_memory");
	assert_non_null(m);
	assert_string_equal(m->desired, "0");
	assert_null(find(&w->plan, ACT_SYSCTL, "vm.overcommit_kbytes"));
	assert_non_null(strstr(w->plan.host_summary, "falling back"));
	assert_true(w->plan.eval[0].fork_after.fits);
}

/* strict forced when it cannot be backed: capped at RAM + swap, risk stays */
static void strict_capped_at_backing(void **state)
{
	struct world *w = *state;
	host_strict(w);
	w->snap.mem.committed_as_kb = 1500 * MiB;
	svc_redis(w, 0);
	load_policy(w, "[host]\novercommit = strict\n[service redis]\nmatch_comm = redis-server\n");
	plan(w);
	const struct action *k = find(&w->plan, ACT_SYSCTL, "vm.overcommit_kbytes");
	assert_non_null(k);
	assert_int_equal(num(k->desired), 2 * GiB);
	assert_non_null(find_risk(&w->plan, "fork_fails_after_plan"));
}

static void explicit_commit_ratio(void **state)
{
	struct world *w = *state;
	host_strict(w);
	w->snap.mem.committed_as_kb = 300 * MiB;
	load_policy(w, "[host]\novercommit = strict\ncommit_ratio = 80\n");
	plan(w);
	const struct action *r = find(&w->plan, ACT_SYSCTL, "vm.overcommit_ratio");
	assert_non_null(r);
	assert_string_equal(r->desired, "80");
	assert_int_equal(r->policy.line, 3);
	assert_null(find(&w->plan, ACT_SYSCTL, "vm.overcommit_kbytes"));
}

static void mode1_unprotected_risk(void **state)
{
	struct world *w = *state;
	host_strict(w);
	w->snap.vm.v[VM_OVERCOMMIT_MEMORY] = 1;
	svc_redis(w, 0);
	load_policy(w, REDIS);
	plan(w);
	const struct risk *r = find_risk(&w->plan, "unprotected");
	assert_non_null(r);
	assert_non_null(strstr(r->message, "redis-server (pid 100"));
}

/* ---- safety invariants -------------------------------------------------- */

/* 1: never a CommitLimit below Committed_AS + margin, whatever the policy says */
static void inv1_commit_limit_clamped(void **state)
{
	struct world *w = *state;
	host_strict(w);
	load_policy(w, "[host]\novercommit = strict\ncommit_limit = 10%\n");
	plan(w);
	const struct action *k = find(&w->plan, ACT_SYSCTL, "vm.overcommit_kbytes");
	/* 10% of 2 GiB = 205 MiB < Committed_AS 900 MiB: clamped, said so */
	if (k) {
		assert_true((uint64_t)num(k->desired) >= 900 * MiB + 64 * MiB);
		assert_non_null(strstr(k->reason, "invariant 1"));
	}
	assert_true(w->plan.commit_limit_after_kb >= 900 * MiB + 64 * MiB);
}

/* 1, for every commit_limit on a grid: the limit after is never below the floor */
static void inv1_grid(void **state)
{
	struct world *w = *state;
	for (unsigned pct = 1; pct <= 100; pct += 3) {
		for (uint64_t committed = 100 * MiB; committed < 2 * GiB; committed += 300 * MiB) {
			memset(w, 0, sizeof(*w));
			host_strict(w);
			w->snap.mem.committed_as_kb = committed;
			char ini[128];
			snprintf(ini, sizeof(ini), "[host]\novercommit = strict\ncommit_limit = %u%%\n",
				 pct);
			load_policy(w, ini);
			plan(w);
			uint64_t after = w->plan.commit_limit_after_kb;
			if (after < committed + 8 * MiB + 64 * MiB) {
				fprintf(stderr, "pct %u committed %" PRIu64 " -> limit %" PRIu64 "\n",
					pct, committed, after);
				fail();
			}
			done(w);
		}
	}
}

/* 2: a memory.high below current usage is never planned */
static void inv2_memory_high_not_below_usage(void **state)
{
	struct world *w = *state;
	host_strict(w);
	w->snap.vm.v[VM_OVERCOMMIT_MEMORY] = 0;
	svc_redis(w, 0);
	struct svc_obs *o = &w->svc[0];
	snprintf(o->cgroup, sizeof(o->cgroup), "/system.slice/redis-server.service");
	o->own_cgroup = true;
	o->cg.present = true;
	o->cg.anon = 500ULL << 20;
	o->cg.current = 550ULL << 20;
	o->cg.high = CG_UNLIMITED;
	o->cg.max = CG_UNLIMITED;
	load_policy(w, "[service redis]\nmatch_comm = redis-server\nmemory_high = 100M\n"
		       "memory_max = 200M\n");
	plan(w);
	assert_null(find(&w->plan, ACT_MEMORY_HIGH, NULL));
	assert_null(find(&w->plan, ACT_MEMORY_MAX, NULL));
	const struct risk *r = find_risk(&w->plan, "limit_below_usage");
	assert_non_null(r);
	assert_non_null(strstr(r->message, "invariant 2"));
}

/* 2, auto: raised to usage + margin rather than below it */
static void inv2_auto_raised_to_usage(void **state)
{
	struct world *w = *state;
	host_strict(w);
	w->snap.vm.v[VM_OVERCOMMIT_MEMORY] = 0;
	svc_redis(w, 0);
	struct svc_obs *o = &w->svc[0];
	snprintf(o->cgroup, sizeof(o->cgroup), "/system.slice/redis-server.service");
	o->own_cgroup = true;
	o->cg.present = true;
	o->cg.anon = 300ULL << 20;
	o->cg.current = 900ULL << 20; /* lots of page cache */
	o->cg.high = CG_UNLIMITED;
	o->cg.max = CG_UNLIMITED;
	load_policy(w, REDIS);
	plan(w);
	const struct action *h = find(&w->plan, ACT_MEMORY_HIGH, NULL);
	assert_non_null(h);
	assert_true(num(h->desired) >= (int64_t)(900ULL << 20) + (int64_t)(90ULL << 20));
}

/* instances (issue 11): two Redis, each main protected, each BGSAVE child
 * disposable; the fork check is for the largest instance */
static void instances_each_protected(void **state)
{
	struct world *w = *state;
	host_strict(w);
	struct svc_obs *o = &w->svc[0];
	o->procs = w->procs[0];
	add_proc(w, 0, 100, 1, "redis-server", 600 * MiB);
	add_proc(w, 0, 200, 1, "redis-server", 900 * MiB);
	o->nmatched = 2;
	add_proc(w, 0, 101, 100, "redis-rdb-bgsave", 600 * MiB);
	add_proc(w, 0, 201, 200, "redis-rdb-bgsave", 900 * MiB);
	snprintf(o->cgroup, sizeof(o->cgroup), "/");
	w->snap.svc = w->svc;
	w->snap.nsvc = 1;
	load_policy(w, "[service redis]\nmatch_comm = redis-server\noom_score_adj = -500\n"
		       "child_oom_score_adj = 800\n");
	plan(w);
	assert_int_equal(o->ninst, 2);
	assert_int_equal(o->procs[o->main_idx].pid, 200);
	assert_int_equal(w->plan.eval[0].fork.need_kb, 900 * MiB + 132);
	assert_int_equal(w->plan.eval[0].forks, 2);
	static const struct { const char *target, *want; } oom[] = {
		{ "pid 100 (redis-server)", "-500" }, { "pid 200 (redis-server)", "-500" },
		{ "pid 101 (redis-rdb-bgsave)", "800" }, { "pid 201 (redis-rdb-bgsave)", "800" },
	};
	for (size_t i = 0; i < sizeof(oom) / sizeof(oom[0]); i++) {
		const struct action *a = find(&w->plan, ACT_OOM_SCORE_ADJ, oom[i].target);
		if (!a || strcmp(a->desired, oom[i].want) != 0)
			fail_msg("%s: %s", oom[i].target, a ? a->desired : "no action");
	}
}

/* A child that set its own oom_score_adj after fork (PostgreSQL backends,
 * Redis oom-score-adj yes) is a conflict reported once, never written over;
 * a child with the main's inherited value still gets the child value. */
static void own_oom_score_adj_left_alone(void **state)
{
	struct world *w = *state;
	host_strict(w);
	svc_redis(w, 0);
	struct svc_obs *o = &w->svc[0];
	w->procs[0][0].oom_score_adj = -500;
	add_proc(w, 0, 101, 100, "redis-rdb-bgsave", 600 * MiB)->oom_score_adj = 0;  /* its own */
	add_proc(w, 0, 102, 100, "redis-rdb-bgsave", 600 * MiB)->oom_score_adj = -500; /* inherited */
	add_proc(w, 0, 103, 100, "redis-rdb-bgsave", 600 * MiB)->oom_score_adj = 800;  /* written */
	(void)o;
	load_policy(w, REDIS);
	plan(w);
	assert_null(find(&w->plan, ACT_OOM_SCORE_ADJ, "pid 101 (redis-rdb-bgsave)"));
	const struct action *a = find(&w->plan, ACT_OOM_SCORE_ADJ, "pid 102 (redis-rdb-bgsave)");
	assert_non_null(a);
	assert_string_equal(a->desired, "800");
	assert_int_equal(a->role, ROLE_CHILD);
	assert_null(find(&w->plan, ACT_OOM_SCORE_ADJ, "pid 103 (redis-rdb-bgsave)"));
	assert_int_equal(w->plan.eval[0].oom_self_set, 1);
	size_t n = 0;
	for (size_t i = 0; i < w->plan.nrisk; i++)
		n += strcmp(w->plan.risk[i].kind, "oom_score_adj_conflict") == 0;
	assert_int_equal(n, 1); /* once for the service, not per process */
	const struct risk *r = find_risk(&w->plan, "oom_score_adj_conflict");
	assert_non_null(strstr(r->message, "first pid 101"));
	assert_non_null(strstr(r->message, "child_oom_score_adj = 800 (test.ini:"));
}

/* Upstream PostgreSQL: postmaster -1000, backends 0 (PG_OOM_ADJUST_VALUE).
 * The shipped example expresses it; Debian's postmaster at -900 is
 * lowered, backends that wrote 0 themselves agree with it: no conflict. */
static void postgresql_upstream_holds(void **state)
{
	struct world *w = *state;
	host_strict(w);
	struct svc_obs *o = &w->svc[0];
	o->procs = w->procs[0];
	add_proc(w, 0, 500, 1, "postgres", 200 * MiB)->oom_score_adj = -900;
	o->nmatched = 1;
	for (int pid = 501; pid <= 503; pid++)
		add_proc(w, 0, pid, 500, "postgres", 200 * MiB)->oom_score_adj = 0;
	w->procs[0][3].oom_score_adj = -900; /* forked before it wrote its own */
	snprintf(o->cgroup, sizeof(o->cgroup), "/system.slice/postgresql@15-main.service");
	w->snap.svc = w->svc;
	w->snap.nsvc = 1;
	FILE *f = fopen("policies/examples/postgresql.ini", "r");
	assert_non_null(f);
	static char ini[4096];
	size_t len = fread(ini, 1, sizeof(ini) - 1, f);
	fclose(f);
	ini[len] = '\0';
	load_policy(w, ini);
	plan(w);
	const struct action *a = find(&w->plan, ACT_OOM_SCORE_ADJ, "pid 500 (postgres)");
	assert_non_null(a);
	assert_string_equal(a->desired, "-1000");
	assert_null(find(&w->plan, ACT_OOM_SCORE_ADJ, "pid 501 (postgres)"));
	assert_null(find(&w->plan, ACT_OOM_SCORE_ADJ, "pid 502 (postgres)"));
	a = find(&w->plan, ACT_OOM_SCORE_ADJ, "pid 503 (postgres)"); /* the inherited -900 */
	assert_non_null(a);
	assert_string_equal(a->desired, "0");
	assert_null(find_risk(&w->plan, "oom_score_adj_conflict"));
	assert_int_equal(w->plan.eval[0].oom_self_set, 0);
}

/* A prefork service in its unit: memory.high = auto is sized from the main
 * and its workers, the workers' room to grow over their life included. */
static void build_prefork(struct world *w, uint64_t growth_kb)
{
	host_strict(w);
	struct svc_obs *o = &w->svc[0];
	memset(o, 0, sizeof(*o));
	o->procs = w->procs[0];
	o->nprocs = 0;
	add_proc(w, 0, 100, 1, "pf", 220 * MiB); /* RssAnon 200 MiB */
	o->nmatched = 1;
	for (int pid = 101; pid <= 103; pid++)
		add_proc(w, 0, pid, 100, "pf", 220 * MiB);
	snprintf(o->cgroup, sizeof(o->cgroup), "/system.slice/pf.service");
	o->own_cgroup = true;
	o->cg = (struct cg_memory){ .present = true, .anon = 260 * MiB * 1024,
				    .current = 300 * MiB * 1024, .high = CG_UNLIMITED,
				    .max = CG_UNLIMITED };
	o->worker_growth_kb = growth_kb;
	o->worker_growth_n = growth_kb ? 7 : 0;
	w->snap.svc = w->svc;
	w->snap.nsvc = 1;
}

static void workers_size_memory_high(void **state)
{
	struct world *w = *state;
	static const char *POL = "[service pf]\nmatch_comm = pf\nmemory_high = auto\n";
	build_prefork(w, 0);
	load_policy(w, POL);
	plan(w);
	const struct svc_eval *e = &w->plan.eval[0];
	assert_int_equal(e->workers, 3);
	assert_int_equal(e->worker_private_kb, 20 * MiB); /* (260 - 200) / 3 */
	assert_int_equal(e->workers_room_kb, 0);          /* nothing learned yet */
	const struct action *a = find(&w->plan, ACT_MEMORY_HIGH, NULL);
	assert_non_null(a);
	int64_t without = num(a->desired);
	plan_free(&w->plan);
	svc_obs_index_free(&w->svc[0]);
	/* learned: a worker grows to 50 MiB private over its life */
	build_prefork(w, 50 * MiB);
	plan(w);
	e = &w->plan.eval[0];
	assert_int_equal(e->worker_growth_kb, 50 * MiB);
	assert_int_equal(e->workers_room_kb, 90 * MiB); /* 3 x 50 - 60 now */
	a = find(&w->plan, ACT_MEMORY_HIGH, NULL);
	assert_non_null(a);
	int64_t with = num(a->desired);
	/* + 90 MiB x (1 + cow_margin 25%), rounded up to a MiB */
	assert_true(with - without >= (int64_t)(90 * MiB * 5 / 4 * 1024 - MiB * 1024));
	assert_true(with - without <= (int64_t)(90 * MiB * 5 / 4 * 1024 + MiB * 1024));
	assert_non_null(strstr(a->reason, "3 workers' room 90 MiB"));
}

/* A unit whose OOMPolicy stops it for one killed child: said, with the
 * fix; continue, or unknown (no D-Bus), says nothing. */
static void oom_policy_stop_reported(void **state)
{
	struct world *w = *state;
	static const struct { const char *policy; bool risk; } t[] = {
		{ "stop", true }, { "kill", true }, { "continue", false }, { "", false },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		build_prefork(w, 0);
		snprintf(w->svc[0].unit, sizeof(w->svc[0].unit), "pf.service");
		snprintf(w->svc[0].oom_policy, sizeof(w->svc[0].oom_policy), "%s", t[i].policy);
		if (i == 0)
			load_policy(w, "[service pf]\nmatch_comm = pf\nchild_oom_score_adj = 500\n");
		plan(w);
		const struct risk *r = find_risk(&w->plan, "oom_policy_stop");
		if ((r != NULL) != t[i].risk)
			fail_msg("OOMPolicy=%s: risk %s", t[i].policy, r ? "given" : "missing");
		if (r) {
			assert_non_null(strstr(r->message, "set OOMPolicy=continue"));
			assert_non_null(strstr(r->message, "pf.service"));
		}
		plan_free(&w->plan);
		svc_obs_index_free(&w->svc[0]);
	}
}

static const struct action *sysctl_act(const struct plan *p, const char *name)
{
	return find(p, ACT_SYSCTL, name);
}

/* requires_overcommit: auto never keeps (or chooses) strict accounting while
 * the service runs, and says why; an explicit strict stays, with a risk */
static void requires_overcommit_wins_over_auto(void **state)
{
	struct world *w = *state;
	host_strict(w);
	svc_redis(w, 0);
	load_policy(w, "[host]\novercommit = auto\n[service mongodb]\nmatch_comm = redis-server\n"
		       "requires_overcommit = heuristic\n");
	plan(w);
	const struct action *a = sysctl_act(&w->plan, "vm.overcommit_memory");
	assert_non_null(a);
	assert_string_equal(a->desired, "0");
	assert_non_null(strstr(w->plan.host_summary, "mongodb runs and requires it"));
	assert_non_null(strstr(w->plan.host_summary, "test.ini:5"));
	plan_free(&w->plan);
	policy_free(&w->pol);
	load_policy(w, "[host]\novercommit = strict\n[service mongodb]\nmatch_comm = redis-server\n"
		       "requires_overcommit = always\n");
	plan(w);
	assert_null(sysctl_act(&w->plan, "vm.overcommit_memory"));
	assert_non_null(find_risk(&w->plan, "requires_overcommit"));
	plan_free(&w->plan);
	policy_free(&w->pol);
	/* not running: no say */
	w->snap.svc[0].nmatched = 0;
	w->snap.svc[0].nprocs = 0;
	load_policy(w, "[host]\novercommit = auto\n[service mongodb]\nmatch_comm = mongod\n"
		       "requires_overcommit = heuristic\n");
	plan(w);
	assert_null(sysctl_act(&w->plan, "vm.overcommit_memory"));
}

/* concurrent_forks = 2: the commit limit leaves room for the two largest
 * instances forking at once; a login user's look-alike is reported */
static void concurrent_forks_and_untrusted(void **state)
{
	struct world *w = *state;
	host_strict(w);
	w->snap.mem.mem_total_kb = 16 * GiB;
	w->snap.mem.committed_as_kb = 7 * GiB + 512 * MiB;
	struct svc_obs *o = &w->svc[0];
	o->procs = w->procs[0];
	add_proc(w, 0, 100, 1, "redis-server", 600 * MiB);
	add_proc(w, 0, 200, 1, "redis-server", 900 * MiB);
	o->nmatched = 2;
	o->nuntrusted = 1;
	o->untrusted_pid = 77;
	o->untrusted_uid = 1000;
	w->snap.uid_min = 1000;
	snprintf(o->cgroup, sizeof(o->cgroup), "/");
	w->snap.svc = w->svc;
	w->snap.nsvc = 1;
	int64_t kb[2];
	for (int n = 1; n <= 2; n++) {
		char ini[256];
		snprintf(ini, sizeof(ini), "[host]\novercommit = auto\nconcurrent_forks = %d\n"
			 "[service redis]\nmatch_comm = redis-server\n", n);
		load_policy(w, ini);
		plan(w);
		const struct action *a = sysctl_act(&w->plan, "vm.overcommit_kbytes");
		assert_non_null(a);
		kb[n - 1] = num(a->desired);
		const struct risk *r = find_risk(&w->plan, "untrusted_match");
		assert_non_null(r);
		assert_non_null(strstr(r->message, "pid 77, uid 1000"));
		plan_free(&w->plan);
		policy_free(&w->pol);
	}
	/* the second instance's 600 MiB x fork_headroom 110% = 660 MiB, plus the
	 * raise's hysteresis band, 10% of (need 600 + headroom 660): 786 MiB */
	int64_t d = kb[1] - kb[0];
	if (d < 786 * (int64_t)MiB - 2048 || d > 786 * (int64_t)MiB + 2048)
		fail_msg("concurrent_forks = 2 added %lld KiB", (long long)d);
}

/* 3: oom_score_adj only for processes the policy names (main + its children) */
static void inv3_oom_only_named(void **state)
{
	struct world *w = *state;
	host_strict(w);
	svc_redis(w, 1);
	/* an unrelated process in the snapshot of another service with no oom keys */
	struct svc_obs *o2 = &w->svc[1];
	o2->procs = w->procs[1];
	o2->policy_idx = 1;
	add_proc(w, 1, 200, 1, "bash", 10 * MiB);
	o2->nmatched = 1;
	o2->main_idx = 0;
	w->snap.nsvc = 2;
	load_policy(w, "[service redis]\nmatch_comm = redis-server\noom_score_adj = -500\n"
		       "child_oom_score_adj = 800\n[service shell]\nmatch_comm = bash\n");
	plan(w);
	size_t n = 0;
	for (size_t i = 0; i < w->plan.nact; i++) {
		const struct action *a = &w->plan.act[i];
		if (a->kind != ACT_OOM_SCORE_ADJ)
			continue;
		n++;
		assert_true(a->pid == 100 || a->pid == 101);
		assert_string_equal(a->desired, a->pid == 100 ? "-500" : "800");
	}
	assert_int_equal(n, 2);
}

/* ---- issue 10: the kernel's rules in the plan ---------------------------- */

static const char *STRICT = "[host]\novercommit = strict\n[service redis]\nmatch_comm = redis-server\n";

/* an observed exact charge (the snapshot's) replaces VmData + VmStk */
static void exact_charge_used(void **state)
{
	struct world *w = *state;
	host_strict(w);
	svc_redis(w, 0);
	/* jemalloc: 600 MiB MAP_NORESERVE, 252 KiB charged */
	w->svc[0].charge = (struct fork_charge){ .kb = 252, .largest_kb = 132, .basis = CHARGE_EXACT,
						 .largest_known = true, .valid = true };
	load_policy(w, REDIS);
	plan(w);
	assert_int_equal(w->plan.eval[0].fork.need_kb, 252);
	assert_int_equal(w->plan.eval[0].fork.verdict, FORK_FITS);
	assert_null(find_risk(&w->plan, "fork_fails"));
}

/* the per-CPU band: a fork 4 MiB from the limit is uncertain, and strict
 * sizing adds the band */
static void band_uncertain_and_sized(void **state)
{
	struct world *w = *state;
	host_strict(w);
	svc_redis(w, 0);
	w->snap.cpus = (struct cpu_counts){ 2, 2 };  /* 2 GiB, 2 CPUs: 8 MiB */
	/* allowed = 1 GiB - 8 MiB admin - min(650 MiB/32, 128 MiB) = 995.7 MiB;
	 * Committed_AS such that the headroom is +4 MiB */
	uint64_t allowed = 1 * GiB - 8 * MiB - (650 * MiB) / 32;
	w->snap.mem.committed_as_kb = allowed - (600 * MiB + 132) - 4 * MiB;
	load_policy(w, REDIS);
	plan(w);
	const struct fork_check *f = &w->plan.eval[0].fork;
	assert_int_equal(f->slack_kb, 8 * MiB);
	assert_int_equal(f->headroom_kb, 4 * MiB);
	assert_int_equal(f->verdict, FORK_UNCERTAIN);
	assert_non_null(find_risk(&w->plan, "fork_uncertain"));
	assert_null(find_risk(&w->plan, "fork_fails"));
	/* the raise covers the band: after the plan the fork fits beyond it */
	const struct action *k = find(&w->plan, ACT_SYSCTL, "vm.overcommit_kbytes");
	assert_non_null(k);
	assert_non_null(strstr(k->reason, "per-CPU slack 8 MiB"));
	assert_int_equal(w->plan.eval[0].fork_after.verdict, FORK_FITS);
	assert_true(w->plan.eval[0].fork_after.headroom_kb > (int64_t)(8 * MiB));
}

/* root in a user namespace pays the admin reserve; root in PID 1's does not */
static void admin_reserve_userns(void **state)
{
	struct world *w = *state;
	host_strict(w);
	svc_redis(w, 0);
	w->procs[0][0].status.cap_eff = 1ULL << 21;
	w->snap.admin.init_userns = 4026531837ULL;
	w->svc[0].main_userns = 4026531837ULL;
	load_policy(w, STRICT);
	plan(w);
	assert_true(w->plan.eval[0].fork.admin_exempt);
	int64_t exempt = w->plan.eval[0].fork.headroom_kb;
	plan_free(&w->plan);
	policy_free(&w->pol);
	w->svc[0].main_userns = 4026532999ULL; /* rootless podman, LXC */
	load_policy(w, STRICT);
	plan(w);
	assert_false(w->plan.eval[0].fork.admin_exempt);
	assert_int_equal(w->plan.eval[0].fork.headroom_kb, exempt - 8 * MiB);
}

/* mode 0: one mapping against RAM + swap, never a sum, never CommitLimit */
static void mode0_largest_mapping(void **state)
{
	struct world *w = *state;
	host_strict(w);
	w->snap.vm.v[VM_OVERCOMMIT_MEMORY] = 0;
	svc_redis(w, 0);
	w->procs[0][0].status.vm_data_kb = 3 * GiB; /* over RAM, in 3 mappings */
	w->svc[0].charge = (struct fork_charge){ .kb = 3 * GiB, .largest_kb = 1 * GiB,
						 .basis = CHARGE_EXACT, .largest_known = true,
						 .valid = true };
	load_policy(w, "[host]\novercommit = auto\n[service redis]\nmatch_comm = redis-server\n");
	plan(w);
	assert_int_equal(w->plan.eval[0].fork.verdict, FORK_FITS);
	plan_free(&w->plan);
	policy_free(&w->pol);
	w->svc[0].charge.largest_kb = 2 * GiB + 4;
	load_policy(w, "[host]\novercommit = auto\n[service redis]\nmatch_comm = redis-server\n");
	plan(w);
	assert_int_equal(w->plan.eval[0].fork.verdict, FORK_FAILS);
	const struct risk *r = find_risk(&w->plan, "fork_fails");
	assert_non_null(r);
	assert_non_null(strstr(r->message, "heuristic mode (0)"));
	assert_null(strstr(r->message, "CommitLimit"));
}

/* "now" is meminfo's CommitLimit; a differing formula is reported */
static void commit_limit_now_from_meminfo(void **state)
{
	struct world *w = *state;
	host_strict(w);
	svc_redis(w, 0);
	w->snap.mem.commit_limit_kb = 1 * GiB + 1 * GiB; /* swapoff still under way */
	load_policy(w, REDIS);
	plan(w);
	assert_int_equal(w->plan.commit_limit_kb, 2 * GiB);
	assert_non_null(find_risk(&w->plan, "commit_limit_formula"));
	/* the fork is judged against 2 GiB: it fits now */
	assert_int_equal(w->plan.eval[0].fork.verdict, FORK_FITS);
}

/* switching 0/1 -> 2: the calibrated MAP_NORESERVE memory is in the floor */
static void mode_switch_gap(void **state)
{
	struct world *w = *state;
	host_strict(w);
	w->snap.vm.v[VM_OVERCOMMIT_MEMORY] = 1;
	w->snap.mem.committed_as_kb = 300 * MiB;
	svc_redis(w, 0);
	w->svc[0].charge = (struct fork_charge){ .kb = 252, .largest_kb = 132, .noreserve_kb = 600 * MiB,
						 .basis = CHARGE_EXACT, .largest_known = true,
						 .valid = true };
	load_policy(w, STRICT);
	plan(w);
	assert_non_null(strstr(w->plan.host_summary, "mode-switch gap 600 MiB"));
	assert_non_null(strstr(w->plan.host_summary, "calibrated from smaps"));
	/* the limit covers Committed_AS + the gap + the reserves */
	assert_true(w->plan.commit_limit_after_kb >= 300 * MiB + 600 * MiB);
}

/* cgroup v2 does not move charges: right after a move the group's anon is
 * not the service's (item 8) */
static void figures_after_move(void **state)
{
	struct world *w = *state;
	host_strict(w);
	svc_redis(w, 0);
	w->svc[0].own_cgroup = true;
	w->svc[0].cg.present = true;
	w->svc[0].cg.anon = 392 * 1024; /* bytes: 392 KiB */
	load_policy(w, REDIS);
	plan(w);
	assert_int_equal(w->plan.eval[0].anon_kb, 580 * MiB);
	assert_true(w->plan.eval[0].cow_amplification < 1.1);
}

/* cgroup_favordynmods: one cgroup_mount action where the mount differs
 * from the policy on a v2 host; nothing on v1, nothing when unset; a risk
 * when asked for on a kernel without it. */
static void favordynmods_planned_as_asked(void **state)
{
	struct world *w = *state;
	static const struct {
		const char *key;          /* the [host] line, "" for none */
		enum cg_hier hier;
		enum cgopt_state now;
		const char *want;         /* desired of the one cgroup_mount action, or NULL */
		bool risk;
	} rows[] = {
		{ "cgroup_favordynmods = yes\n", CG_HIER_V2, CGOPT_OFF, "on", false },
		{ "cgroup_favordynmods = yes\n", CG_HIER_V2, CGOPT_ON, NULL, false },
		{ "cgroup_favordynmods = no\n", CG_HIER_V2, CGOPT_ON, "off", false },
		{ "cgroup_favordynmods = no\n", CG_HIER_V2, CGOPT_OFF, NULL, false },
		{ "", CG_HIER_V2, CGOPT_OFF, NULL, false },
		{ "", CG_HIER_V2, CGOPT_ON, NULL, false },
		{ "cgroup_favordynmods = yes\n", CG_HIER_V1, CGOPT_OFF, NULL, false },
		{ "cgroup_favordynmods = yes\n", CG_HIER_V2, CGOPT_UNSUPPORTED, NULL, true },
		{ "cgroup_favordynmods = yes\n", CG_HIER_V2, CGOPT_UNKNOWN, NULL, false },
		{ "cgroup_favordynmods = no\n", CG_HIER_V2, CGOPT_UNSUPPORTED, NULL, false },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char ini[256];
		done(w);
		memset(w, 0, sizeof(*w));
		host_strict(w);
		w->snap.vm.v[VM_OVERCOMMIT_MEMORY] = 0;
		w->snap.cg_hier = rows[i].hier;
		w->snap.favordynmods = rows[i].now;
		snprintf(ini, sizeof(ini), "[host]\novercommit = heuristic\n%s", rows[i].key);
		load_policy(w, ini);
		plan(w);
		const struct action *a = find(&w->plan, ACT_CGROUP_MOUNT, NULL);
		if (!rows[i].want) {
			assert_null(a);
		} else {
			assert_non_null(a);
			assert_string_equal(a->target, "favordynmods");
			assert_string_equal(a->desired, rows[i].want);
			assert_string_equal(a->current, rows[i].now == CGOPT_ON ? "on" : "off");
			assert_int_equal(a->policy.line, 3);
		}
		assert_int_equal(find_risk(&w->plan, "no_favordynmods") != NULL, rows[i].risk);
	}
}

#define WORLD_TEST(f) cmocka_unit_test_setup_teardown(f, world_setup, world_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		WORLD_TEST(seed_strict_fork_does_not_fit),
		WORLD_TEST(favordynmods_planned_as_asked),
		WORLD_TEST(seed_replan_after_apply_is_compliant),
		WORLD_TEST(learned_growth_sizes_memory_high),
		WORLD_TEST(child_of_main_not_counted_twice),
		WORLD_TEST(compliant_heuristic_host),
		WORLD_TEST(compliant_no_services),
		WORLD_TEST(auto_keeps_heuristic),
		WORLD_TEST(strict_sizes_before_mode),
		WORLD_TEST(auto_falls_back_when_unbackable),
		WORLD_TEST(strict_capped_at_backing),
		WORLD_TEST(explicit_commit_ratio),
		WORLD_TEST(mode1_unprotected_risk),
		WORLD_TEST(inv1_commit_limit_clamped),
		WORLD_TEST(inv1_grid),
		WORLD_TEST(inv2_memory_high_not_below_usage),
		WORLD_TEST(inv2_auto_raised_to_usage),
		WORLD_TEST(inv3_oom_only_named),
		WORLD_TEST(instances_each_protected),
		WORLD_TEST(own_oom_score_adj_left_alone),
		WORLD_TEST(postgresql_upstream_holds),
		WORLD_TEST(workers_size_memory_high),
		WORLD_TEST(oom_policy_stop_reported),
		WORLD_TEST(requires_overcommit_wins_over_auto),
		WORLD_TEST(concurrent_forks_and_untrusted),
		WORLD_TEST(exact_charge_used),
		WORLD_TEST(band_uncertain_and_sized),
		WORLD_TEST(admin_reserve_userns),
		WORLD_TEST(mode0_largest_mapping),
		WORLD_TEST(commit_limit_now_from_meminfo),
		WORLD_TEST(mode_switch_gap),
		WORLD_TEST(figures_after_move),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
