/* test_snapshot.c - matching, main/children selection, cgroups, vanished pids,
 * against the static fixtures and small trees built per test. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "snapshot.h"
#include "tmptree.h"
#include "util.h"

/* ---- policies built in C (no INI) ---- */

struct svc_def {
	const char *name, *comm, *exe, *unit, *user, *cmdline, *cgroup;
};

static void set(struct pol_str *s, const char *v)
{
	s->v = v ? strdup(v) : NULL;
	if (v && !s->v)
		abort();
}

static struct policy mkpol(const struct svc_def *d, size_t n)
{
	struct policy p = { 0 };
	p.svc = calloc(n, sizeof(*p.svc));
	if (!p.svc)
		abort();
	p.nsvc = n;
	for (size_t i = 0; i < n; i++) {
		struct pol_service *s = &p.svc[i];
		s->name = strdup(d[i].name);
		set(&s->match_comm, d[i].comm);
		set(&s->match_exe, d[i].exe);
		set(&s->match_unit, d[i].unit);
		set(&s->match_user, d[i].user);
		set(&s->match_cmdline, d[i].cmdline);
		set(&s->cgroup, d[i].cgroup);
	}
	return p;
}

static void freepol(struct policy *p)
{
	for (size_t i = 0; i < p->nsvc; i++) {
		struct pol_service *s = &p->svc[i];
		free(s->name);
		free(s->match_comm.v);
		free(s->match_exe.v);
		free(s->match_unit.v);
		free(s->match_user.v);
		free(s->match_cmdline.v);
		free(s->cgroup.v);
	}
	free(p->svc);
}

static struct roots fixture_roots(const char *base)
{
	struct roots r;
	snprintf(r.procfs, sizeof(r.procfs), "%s/proc", base);
	snprintf(r.sysfs, sizeof(r.sysfs), "%s/sys", base);
	snprintf(r.cgroupfs, sizeof(r.cgroupfs), "%s/cgroup", base);
	snprintf(r.etc, sizeof(r.etc), "%s/etc", base);
	return r;
}

#define SEED FIXTURES "/seed-strict"
#define COMPLIANT FIXTURES "/compliant"

/* ---- the seed scenario ---- */

static void seed_redis(void **state)
{
	(void)state;
	struct roots r = fixture_roots(SEED);
	struct svc_def d = { .name = "redis", .comm = "redis-server" };
	struct policy pol = mkpol(&d, 1);
	struct snapshot s;
	assert_int_equal(snapshot_take(&r, &pol, &s), 0);
	assert_int_equal(s.mem.mem_total_kb, 2097152);
	assert_int_equal(s.mem.committed_as_kb, 921600);
	assert_int_equal(s.vm.v[VM_OVERCOMMIT_MEMORY], 2);
	assert_true(s.cgroup2);
	assert_int_equal(s.nprocs_scanned, 5); /* 1 2 100 101 200; 300 has no stat */
	assert_int_equal(s.nsvc, 1);
	const struct svc_obs *o = &s.svc[0];
	assert_int_equal(o->policy_idx, 0);
	assert_int_equal(o->nmatched, 1);
	assert_int_equal(o->nprocs, 2);
	assert_int_equal(o->main_idx, 0);
	assert_int_equal(o->procs[0].pid, 100);
	assert_int_equal(proc_commit_kb(&o->procs[0]), 614532);
	assert_int_equal(o->procs[1].pid, 101);
	assert_string_equal(o->procs[1].st.comm, "redis-rdb-bgsave");
	assert_int_equal(o->procs[1].status.vm_data_kb, 614400);
	assert_string_equal(o->cgroup, "/");
	assert_false(o->own_cgroup);
	assert_false(o->cg.present);
	assert_false(o->policy_cg.present);
	/* no service matches on exe/cmdline: they were not read */
	assert_string_equal(o->procs[0].exe, "");
	assert_string_equal(o->procs[0].cmdline, "");
	snapshot_free(&s);
	freepol(&pol);
}

/* ---- each match_* kind ---- */

static const struct {
	const char *tree;
	struct svc_def d;
	int matched[4]; /* 0-terminated, ascending */
	int main_pid;   /* 0: not running */
	int children[4];
	const char *cgroup;
	bool own;
} kinds[] = {
	{ SEED, { "r", "redis-server", 0, 0, 0, 0, 0 }, { 100 }, 100, { 101 }, "/", false },
	{ SEED, { "r", 0, "/usr/bin/redis-server", 0, 0, 0, 0 }, { 100, 101 }, 100, { 0 }, "/", false },
	{ SEED, { "r", 0, "/usr/bin/redis", 0, 0, 0, 0 }, { 0 }, 0, { 0 }, "", false },
	{ SEED, { "r", 0, 0, 0, 0, "*redis-server*:6379", 0 }, { 100, 101 }, 100, { 0 }, "/", false },
	{ SEED, { "r", 0, 0, 0, 0, "redis-server*", 0 }, { 0 }, 0, { 0 }, "", false },
	{ SEED, { "r", 0, 0, 0, "102", 0, 0 }, { 100, 101 }, 100, { 0 }, "/", false },
	{ SEED, { "r", 0, 0, 0, "0", 0, 0 }, { 1, 2, 200 }, 1, { 100 }, "/", false },
	{ SEED, { "r", 0, 0, 0, "root", 0, 0 }, { 1, 2, 200 }, 1, { 100 }, "/", false },
	{ SEED, { "r", 0, 0, 0, "no-such-user-oc", 0, 0 }, { 0 }, 0, { 0 }, "", false },
	{ SEED, { "r", "bash", 0, 0, "0", 0, 0 }, { 200 }, 200, { 0 }, "/", false },
	{ SEED, { "r", "redis-server", 0, 0, "0", 0, 0 }, { 0 }, 0, { 0 }, "", false },
	{ SEED, { "r", "kthreadd", 0, 0, 0, 0, 0 }, { 2 }, 2, { 0 }, "/", false },
	{ SEED, { "r", "ghost", 0, 0, 0, 0, 0 }, { 0 }, 0, { 0 }, "", false },
	{ SEED, { "r", 0, 0, "redis-server.service", 0, 0, 0 }, { 0 }, 0, { 0 }, "", false },
	{ COMPLIANT, { "r", 0, 0, "redis-server.service", 0, 0, 0 }, { 100 }, 100, { 0 },
	  "/system.slice/redis-server.service", true },
	{ COMPLIANT, { "r", 0, 0, "session-1.scope", 0, 0, 0 }, { 200 }, 200, { 0 },
	  "/user.slice/user-0.slice/session-1.scope", true },
	{ COMPLIANT, { "r", "redis-server", 0, "redis.service", 0, 0, 0 }, { 0 }, 0, { 0 }, "", false },
	{ COMPLIANT, { "r", "systemd", 0, 0, 0, 0, 0 }, { 1 }, 1, { 100, 200 }, "/init.scope", true },
	{ COMPLIANT, { "r", "redis-server", "/usr/bin/redis-server", "redis-server.service", "102",
		       "/usr/bin/redis-server *", 0 }, { 100 }, 100, { 0 },
	  "/system.slice/redis-server.service", true },
};

static size_t count0(const int *v, size_t max)
{
	size_t n = 0;
	while (n < max && v[n])
		n++;
	return n;
}

static void match_kinds(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		struct roots r = fixture_roots(kinds[i].tree);
		struct policy pol = mkpol(&kinds[i].d, 1);
		struct snapshot s;
		assert_int_equal(snapshot_take(&r, &pol, &s), 0);
		const struct svc_obs *o = &s.svc[0];
		size_t nm = count0(kinds[i].matched, 4), nc = count0(kinds[i].children, 4);
		bool ok = o->nmatched == nm && o->nprocs == nm + nc;
		for (size_t j = 0; ok && j < nm; j++)
			ok = o->procs[j].pid == kinds[i].matched[j];
		for (size_t j = 0; ok && j < nc; j++)
			ok = o->procs[nm + j].pid == kinds[i].children[j];
		if (kinds[i].main_pid == 0)
			ok = ok && o->main_idx == -1;
		else
			ok = ok && o->main_idx >= 0 && o->procs[o->main_idx].pid == kinds[i].main_pid;
		ok = ok && strcmp(o->cgroup, kinds[i].cgroup) == 0 && o->own_cgroup == kinds[i].own;
		if (!ok)
			fail_msg("case %zu: nmatched %zu nprocs %zu main_idx %zd cgroup \"%s\" own %d", i,
				 o->nmatched, o->nprocs, o->main_idx, o->cgroup, o->own_cgroup);
		snapshot_free(&s);
		freepol(&pol);
	}
}

static void compliant_figures(void **state)
{
	(void)state;
	struct roots r = fixture_roots(COMPLIANT);
	struct svc_def d[] = {
		{ .name = "redis", .exe = "/usr/bin/redis-server" },
		{ .name = "shell", .comm = "bash", .cmdline = "-bash" },
	};
	struct policy pol = mkpol(d, 2);
	struct snapshot s;
	assert_int_equal(snapshot_take(&r, &pol, &s), 0);
	assert_int_equal(s.nsvc, 2);
	assert_int_equal(s.vm.v[VM_OVERCOMMIT_MEMORY], 0);
	const struct svc_obs *o = &s.svc[0];
	assert_int_equal(o->nprocs, 1);
	assert_int_equal(o->procs[0].oom_score_adj, -500);
	assert_string_equal(o->procs[0].exe, "/usr/bin/redis-server");
	assert_string_equal(o->procs[0].cmdline, "/usr/bin/redis-server 127.0.0.1:6379");
	assert_true(o->own_cgroup);
	assert_true(o->cg.present);
	assert_int_equal(o->cg.anon, 629145600);
	assert_int_equal(o->cg.high, 1572864000);
	assert_int_equal(o->cg.max, CG_UNLIMITED);
	assert_false(o->policy_cg.present); /* /overcommitd/redis does not exist */
	o = &s.svc[1];
	assert_int_equal(o->policy_idx, 1);
	assert_int_equal(o->nprocs, 1);
	assert_int_equal(o->procs[0].pid, 200);
	assert_true(o->cg.present);
	assert_int_equal(o->cg.peak, 0);
	snapshot_free(&s);
	freepol(&pol);
}

/* ---- main and children, on built trees ---- */

#define P(pid, comm, ppid, start) { pid, comm, ppid, start, 0, NULL, 1000 }
static const struct {
	const char *name;
	struct tt_proc procs[8];
	int main_pid;
	int children[4];
} mains[] = {
	{ "older root wins", { P(10, "srv", 1, 500), P(20, "srv", 1, 100) }, 20, { 0 } },
	{ "same start: smaller pid", { P(30, "srv", 1, 100), P(20, "srv", 1, 100) }, 20, { 0 } },
	{ "parent not matched beats age",
	  { P(50, "srv", 1, 100), P(51, "srv", 50, 50), P(52, "srv", 50, 60), P(53, "helper", 50, 70),
	    P(54, "x", 51, 80), P(55, "y", 53, 90) }, 50, { 53 } },
	{ "ppid cycle: oldest", { P(60, "srv", 61, 9), P(61, "srv", 60, 5), P(62, "z", 61, 10) }, 61, { 62 } },
	{ "several non-matching children",
	  { P(70, "srv", 1, 1), P(71, "bgsave", 70, 2), P(72, "aof", 70, 3), P(73, "srv", 70, 4) },
	  70, { 71, 72 } },
};

static void main_selection(void **state)
{
	(void)state;
	struct svc_def d = { .name = "srv", .comm = "srv" };
	struct policy pol = mkpol(&d, 1);
	for (size_t i = 0; i < ARRAY_SIZE(mains); i++) {
		char *t = tt_make();
		struct roots r = fixture_roots(t);
		tt_add_host(t, "cpu memory\n");
		for (size_t j = 0; j < 8 && mains[i].procs[j].pid; j++)
			tt_add_proc(t, &mains[i].procs[j]);
		struct snapshot s;
		assert_int_equal(snapshot_take(&r, &pol, &s), 0);
		const struct svc_obs *o = &s.svc[0];
		size_t nc = count0(mains[i].children, 4);
		bool ok = o->main_idx >= 0 && o->procs[o->main_idx].pid == mains[i].main_pid &&
			  o->nprocs == o->nmatched + nc;
		for (size_t j = 0; ok && j < nc; j++)
			ok = o->procs[o->nmatched + j].pid == mains[i].children[j];
		if (!ok)
			fail_msg("%s: main_idx %zd nmatched %zu nprocs %zu", mains[i].name, o->main_idx,
				 o->nmatched, o->nprocs);
		snapshot_free(&s);
		tt_rm(t);
	}
	freepol(&pol);
}

/* A pid that vanishes: no stat, or stat but the rest gone. */
static void vanished(void **state)
{
	(void)state;
	char *t = tt_make();
	struct roots r = fixture_roots(t);
	tt_add_host(t, "memory\n");
	struct tt_proc ps[] = { P(5, "srv", 1, 1), P(6, "child", 5, 2), P(7, "child", 5, 3),
				P(8, "srv", 1, 4) };
	for (size_t i = 0; i < ARRAY_SIZE(ps); i++)
		tt_add_proc(t, &ps[i]);
	char p[4200];
	snprintf(p, sizeof(p), "%s/proc/6/status", t);
	unlink(p); /* child 6 exits between stat and status */
	snprintf(p, sizeof(p), "%s/proc/8/oom_score_adj", t);
	unlink(p); /* matched 8 exits mid-read */
	tt_write(t, "proc/9/comm", "srv\n"); /* 9: directory left, stat gone */
	struct svc_def d = { .name = "srv", .comm = "srv" };
	struct policy pol = mkpol(&d, 1);
	struct snapshot s;
	assert_int_equal(snapshot_take(&r, &pol, &s), 0);
	assert_int_equal(s.nprocs_scanned, 4);
	const struct svc_obs *o = &s.svc[0];
	assert_int_equal(o->nmatched, 1);
	assert_int_equal(o->nprocs, 2);
	assert_int_equal(o->procs[0].pid, 5);
	assert_int_equal(o->procs[1].pid, 7);
	snapshot_free(&s);
	freepol(&pol);
	tt_rm(t);
}

/* ---- cgroups: policy group, own group, cgroup2 off ---- */

static void write_group(const char *t, const char *g, const char *anon)
{
	char rel[256], stat[64];
	snprintf(rel, sizeof(rel), "cgroup/%s/memory.current", g);
	tt_write(t, rel, "1000\n");
	snprintf(rel, sizeof(rel), "cgroup/%s/memory.stat", g);
	snprintf(stat, sizeof(stat), "anon %s\nfile 1\n", anon);
	tt_write(t, rel, stat);
	snprintf(rel, sizeof(rel), "cgroup/%s/memory.high", g);
	tt_write(t, rel, "max\n");
	snprintf(rel, sizeof(rel), "cgroup/%s/memory.max", g);
	tt_write(t, rel, "max\n");
}

static void cgroups(void **state)
{
	(void)state;
	char *t = tt_make();
	struct roots r = fixture_roots(t);
	tt_add_host(t, "cpu memory pids\n");
	struct tt_proc a = { 10, "a", 1, 1, 0, "/overcommitd/a", 100 };
	struct tt_proc b = { 20, "b", 1, 1, 0, "/custom/grp", 100 };
	struct tt_proc c = { 30, "c", 1, 1, 0, "/other", 100 };
	struct tt_proc e = { 40, "e", 1, 1, 0, "/system.slice/e.service/sub", 100 };
	tt_add_proc(t, &a);
	tt_add_proc(t, &b);
	tt_add_proc(t, &c);
	tt_add_proc(t, &e);
	write_group(t, "overcommitd/a", "11");
	write_group(t, "custom/grp", "22");
	write_group(t, "other", "33");
	write_group(t, "overcommitd/c", "44");
	struct svc_def d[] = {
		{ .name = "a", .comm = "a" },                        /* default group */
		{ .name = "b", .comm = "b", .cgroup = "custom/grp/" }, /* explicit group */
		{ .name = "c", .comm = "c" },                        /* not in its group yet */
		{ .name = "e", .comm = "e", .cgroup = "/x" },        /* below a unit */
		{ .name = "f", .comm = "nothing" },                  /* not running */
	};
	struct policy pol = mkpol(d, ARRAY_SIZE(d));
	struct snapshot s;
	assert_int_equal(snapshot_take(&r, &pol, &s), 0);
	assert_true(s.cgroup2);
	assert_true(s.svc[0].own_cgroup);
	assert_int_equal(s.svc[0].cg.anon, 11);
	assert_int_equal(s.svc[0].policy_cg.anon, 11);
	assert_true(s.svc[1].own_cgroup);
	assert_int_equal(s.svc[1].cg.anon, 22);
	assert_false(s.svc[2].own_cgroup);
	assert_int_equal(s.svc[2].cg.anon, 33);
	assert_true(s.svc[2].policy_cg.present);
	assert_int_equal(s.svc[2].policy_cg.anon, 44);
	/* own_cgroup looks at the last component only */
	assert_string_equal(s.svc[3].cgroup, "/system.slice/e.service/sub");
	assert_false(s.svc[3].own_cgroup);
	assert_false(s.svc[3].cg.present);
	assert_int_equal(s.svc[4].main_idx, -1);
	assert_int_equal(s.svc[4].nprocs, 0);
	assert_null(s.svc[4].procs);
	snapshot_free(&s);

	/* cgroup v1 host (no memory controller in cgroup2): no figures at all */
	tt_write(t, "cgroup/cgroup.controllers", "cpu pids\n");
	assert_int_equal(snapshot_take(&r, &pol, &s), 0);
	assert_false(s.cgroup2);
	assert_false(s.svc[0].cg.present);
	assert_false(s.svc[0].policy_cg.present);
	assert_true(s.svc[0].own_cgroup); /* the path still says so */
	snapshot_free(&s);
	freepol(&pol);
	tt_rm(t);
}

static void host_errors(void **state)
{
	(void)state;
	char *t = tt_make();
	struct roots r = fixture_roots(t);
	struct svc_def d = { .name = "x", .comm = "x" };
	struct policy pol = mkpol(&d, 1);
	struct snapshot s;
	assert_int_equal(snapshot_take(&r, &pol, &s), -ENOENT); /* no meminfo */
	assert_null(s.svc);
	tt_add_host(t, NULL);
	tt_write(t, "proc/sys/vm/overcommit_memory", "two\n");
	assert_int_equal(snapshot_take(&r, &pol, &s), -EINVAL);
	tt_write(t, "proc/sys/vm/overcommit_memory", "2\n");
	assert_int_equal(snapshot_take(&r, &pol, &s), 0); /* no processes, no cgroupfs */
	assert_false(s.cgroup2);
	assert_int_equal(s.nprocs_scanned, 0);
	assert_int_equal(s.svc[0].main_idx, -1);
	snapshot_free(&s);
	/* an empty policy */
	struct policy none = { 0 };
	assert_int_equal(snapshot_take(&r, &none, &s), 0);
	assert_int_equal(s.nsvc, 0);
	snapshot_free(&s);
	freepol(&pol);
	tt_rm(t);
}


/* ---- instances and trust (issues 11, 13) ---- */

#define U(pid, comm, ppid, start, uid, kb) { pid, comm, ppid, start, uid, NULL, kb }
static const struct tt_proc inst_tree[] = {
	U(10, "redis-server", 5, 1, 1000, 50000),       /* a login user's, the oldest */
	U(11, "redis-rdb-bgsave", 10, 2, 1000, 50000),  /* ... and its child */
	U(20, "redis-server", 1, 10, 999, 600000),      /* instance A */
	U(21, "redis-rdb-bgsave", 20, 11, 999, 600000), /* A's BGSAVE child */
	U(30, "redis-server", 1, 20, 999, 900000),      /* instance B, daemonized */
	U(31, "redis-server", 30, 21, 999, 900000),     /* B's fork, same comm: child */
	U(40, "redis-server", 31, 22, 999, 900000),     /* below that: member of B */
	U(50, "redis-server", 10, 30, 999, 100000),     /* parent not trusted: its own */
};

static const struct svc_obs *take_inst(const char *t, const char *user, struct snapshot *s,
				       struct policy *pol)
{
	struct roots r = fixture_roots(t);
	struct svc_def d = { .name = "redis", .comm = "redis-server", .user = user };
	*pol = mkpol(&d, 1);
	assert_int_equal(snapshot_take(&r, pol, s), 0);
	return &s->svc[0];
}

static int pid_at(const struct svc_obs *o, size_t k)
{
	return o->procs[k].pid;
}

static const struct svc_place *place_of(const struct svc_obs *o, int pid)
{
	for (size_t k = 0; k < o->nprocs; k++)
		if (o->procs[k].pid == pid)
			return &o->place[k];
	return NULL;
}

static void instances_and_trust(void **state)
{
	(void)state;
	char *t = tt_make();
	tt_add_host(t, "cpu memory\n");
	for (size_t j = 0; j < ARRAY_SIZE(inst_tree); j++)
		tt_add_proc(t, &inst_tree[j]);
	struct snapshot s;
	struct policy pol;
	const struct svc_obs *o = take_inst(t, NULL, &s, &pol);
	assert_int_equal(s.uid_min, 1000); /* no login.defs: the default */
	assert_int_equal(o->nmatched, 5);  /* 20 30 31 40 50 */
	assert_int_equal(o->nprocs, 6);    /* + 21; never 10 or 11 */
	assert_int_equal(o->nuntrusted, 1);
	assert_int_equal(o->untrusted_pid, 10);
	assert_int_equal(o->untrusted_uid, 1000);
	assert_null(place_of(o, 10));
	assert_null(place_of(o, 11));
	assert_int_equal(o->ninst, 3);
	assert_int_equal(pid_at(o, o->inst[0].main), 20);
	assert_int_equal(pid_at(o, o->inst[1].main), 30);
	assert_int_equal(pid_at(o, o->inst[2].main), 50);
	assert_int_equal(o->inst[0].nchildren, 1);
	assert_int_equal(o->inst[1].nchildren, 1);
	assert_int_equal(o->inst[1].nmembers, 1);
	/* main_idx: the largest instance, not the oldest process */
	assert_int_equal(pid_at(o, (size_t)o->main_idx), 30);
	assert_int_equal(place_of(o, 21)->role, ROLE_CHILD);
	assert_int_equal(place_of(o, 21)->inst, 0);
	assert_int_equal(place_of(o, 31)->role, ROLE_CHILD);
	assert_int_equal(place_of(o, 40)->role, ROLE_MEMBER);
	assert_int_equal(place_of(o, 40)->inst, 1);
	assert_int_equal(place_of(o, 50)->role, ROLE_MAIN);
	snapshot_free(&s);
	freepol(&pol);

	/* the policy names the login user: then it is that user's service */
	o = take_inst(t, "1000", &s, &pol);
	assert_int_equal(o->nmatched, 1);
	assert_int_equal(o->nprocs, 3); /* its children 11 (its user) and 50 (a system user) */
	assert_int_equal(pid_at(o, (size_t)o->main_idx), 10);
	assert_int_equal(o->nuntrusted, 0);
	snapshot_free(&s);
	freepol(&pol);

	/* UID_MIN from login.defs, through the root context */
	tt_write(t, "etc/login.defs", "# comment UID_MIN 9\nUID_MAX 60000\n  UID_MIN\t 500 # site\n");
	o = take_inst(t, NULL, &s, &pol);
	assert_int_equal(s.uid_min, 500);
	assert_int_equal(o->nmatched, 0);
	assert_int_equal(o->main_idx, -1);
	assert_int_equal(o->nuntrusted, 6);
	snapshot_free(&s);
	freepol(&pol);
	/* a malformed one: the default, never a wider trust */
	tt_write(t, "etc/login.defs", "UID_MIN 99999999999\n");
	o = take_inst(t, NULL, &s, &pol);
	assert_int_equal(s.uid_min, 1000);
	assert_int_equal(o->nmatched, 5);
	snapshot_free(&s);
	freepol(&pol);
	tt_rm(t);
}

static void matches_direct(void **state)
{
	(void)state;
	struct proc_info p = { 0 };
	snprintf(p.st.comm, sizeof(p.st.comm), "redis-server");
	snprintf(p.cmdline, sizeof(p.cmdline), "redis-server *:6379");
	snprintf(p.cgroup, sizeof(p.cgroup), "/system.slice/redis-server.service");
	p.status.uid = p.status.euid = 102;
	static const struct {
		struct svc_def d;
		bool want;
	} cases[] = {
		{ { "n", 0, 0, 0, 0, 0, 0 }, false }, /* no match_* at all */
		{ { "n", "redis-server", 0, 0, 0, 0, 0 }, true },
		{ { "n", "redis", 0, 0, 0, 0, 0 }, false },
		{ { "n", "Redis-server", 0, 0, 0, 0, 0 }, false },
		{ { "n", 0, "", 0, 0, 0, 0 }, false }, /* unreadable exe never matches */
		{ { "n", 0, 0, "redis-server.service", 0, 0, 0 }, true },
		{ { "n", 0, 0, "redis-server", 0, 0, 0 }, false },
		{ { "n", 0, 0, "system.slice", 0, 0, 0 }, false },
		{ { "n", 0, 0, 0, "102", 0, 0 }, true },
		{ { "n", 0, 0, 0, "0102", 0, 0 }, true },
		{ { "n", 0, 0, 0, "103", 0, 0 }, false },
		{ { "n", 0, 0, 0, "4294967295", 0, 0 }, false }, /* (uid_t)-1: a name lookup, fails */
		{ { "n", 0, 0, 0, 0, "redis-server [*]:6379", 0 }, true },
		{ { "n", 0, 0, 0, 0, "*6379", 0 }, true },
		{ { "n", 0, 0, 0, 0, "*6380", 0 }, false },
		{ { "n", "redis-server", 0, 0, "102", "*6379", 0 }, true },
		{ { "n", "redis-server", 0, 0, "102", "*6380", 0 }, false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct policy pol = mkpol(&cases[i].d, 1);
		if (svc_matches(&pol.svc[0], 1000, &p) != cases[i].want)
			fail_msg("case %zu", i);
		freepol(&pol);
	}
}

/* An exec reads what can decide a match for its comm, and nothing more. */
static void match_fields(void **state)
{
	(void)state;
	const struct svc_def d[] = {
		{ "redis", "redis-server", "/usr/bin/redis-server", 0, 0, 0, 0 },
		{ "pg", "postgres", 0, 0, "postgres", "*-D*", 0 },
		{ "unit", 0, 0, "apache2.service", 0, 0, 0 },
	};
	struct policy one = mkpol(d, 1), all = mkpol(d, 3);
	assert_int_equal(svc_match_fields(&one, "bash"), 0);
	assert_int_equal(svc_match_fields(&one, "redis-server"), PROC_READ_STATUS | PROC_READ_EXE);
	/* a service without match_comm may take any comm */
	assert_int_equal(svc_match_fields(&all, "bash"), PROC_READ_STATUS | PROC_READ_CGROUP);
	assert_int_equal(svc_match_fields(&all, "postgres"),
			 PROC_READ_STATUS | PROC_READ_CGROUP | PROC_READ_CMDLINE);
	/* what it reads is enough: the same verdict as with everything read */
	struct proc_info p = { 0 };
	snprintf(p.st.comm, sizeof(p.st.comm), "redis-server");
	snprintf(p.exe, sizeof(p.exe), "/usr/bin/redis-server");
	p.status.uid = p.status.euid = 102;
	assert_true(svc_matches(&one.svc[0], 1000, &p));
	p.exe[0] = '\0'; /* not read: never a match by exe */
	assert_false(svc_matches(&one.svc[0], 1000, &p));
	freepol(&one);
	freepol(&all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seed_redis),
		cmocka_unit_test(match_kinds),
		cmocka_unit_test(compliant_figures),
		cmocka_unit_test(main_selection),
		cmocka_unit_test(instances_and_trust),
		cmocka_unit_test(vanished),
		cmocka_unit_test(cgroups),
		cmocka_unit_test(host_errors),
		cmocka_unit_test(matches_direct),
		cmocka_unit_test(match_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
