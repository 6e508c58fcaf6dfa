/* test_hostsnap.c - the host snapshot: taken from the fixture trees, written,
 * read back field for field; observation over the document equals
 * observation over the tree for every kind of match; hostile documents are
 * refused with the problem named; the fleet summary ranks by shortfall. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fleet.h"
#include "hostsnap.h"
#include "snapshot.h"
#include "tmptree.h"
#include "util.h"

#define SEED FIXTURES "/seed-strict"
#define COMPLIANT FIXTURES "/compliant"

static struct roots fixture_roots(const char *base)
{
	struct roots r;
	snprintf(r.procfs, sizeof(r.procfs), "%s/proc", base);
	snprintf(r.sysfs, sizeof(r.sysfs), "%s/sys", base);
	snprintf(r.cgroupfs, sizeof(r.cgroupfs), "%s/cgroup", base);
	return r;
}

/* take, format, parse: the document as what-if reads it */
static void round_trip(const char *tree, bool redact, struct hostsnap *orig, struct hostsnap *back,
		       char **doc)
{
	struct roots r = fixture_roots(tree);
	assert_int_equal(hostsnap_take(&r, redact, orig), 0);
	snprintf(orig->hostname, sizeof(orig->hostname), "%s", "db-7");
	snprintf(orig->kernel, sizeof(orig->kernel), "%s", "6.1.0-28-amd64");
	orig->taken_at = 1764390000;
	size_t len;
	assert_int_equal(hostsnap_format(orig, doc, &len), 0);
	assert_int_equal(strlen(*doc), len);
	char err[256];
	int rc = hostsnap_parse(*doc, len, back, err, sizeof(err));
	if (rc)
		fail_msg("parse of our own document: %s", err);
}

static void fields_round_trip(void **state)
{
	(void)state;
	static const char *const trees[] = { SEED, COMPLIANT };
	for (size_t t = 0; t < ARRAY_SIZE(trees); t++) {
		struct hostsnap a, b;
		char *doc;
		round_trip(trees[t], false, &a, &b, &doc);
		assert_string_equal(b.hostname, "db-7");
		assert_string_equal(b.kernel, "6.1.0-28-amd64");
		assert_int_equal(b.taken_at, 1764390000);
		assert_memory_equal(&a.mem, &b.mem, sizeof(a.mem));
		assert_memory_equal(&a.vm, &b.vm, sizeof(a.vm));
		assert_int_equal(a.cgroup2, b.cgroup2);
		assert_int_equal(a.favordynmods, b.favordynmods);
		assert_int_equal(a.nprocs, b.nprocs);
		/* every field of proc_info, padding included (both were zeroed
		 * first): a field added to proc_info but not to the document
		 * fails here */
		for (size_t i = 0; i < a.nprocs; i++) {
			assert_memory_equal(&a.procs[i], &b.procs[i], sizeof(a.procs[i]));
			assert_int_equal(a.procx[i].userns, b.procx[i].userns);
			assert_int_equal(a.procx[i].have_smaps, b.procx[i].have_smaps);
			assert_memory_equal(&a.procx[i].smaps, &b.procx[i].smaps,
					    sizeof(a.procx[i].smaps));
		}
		assert_int_equal(a.uid_min, b.uid_min);
		assert_memory_equal(&a.cpus, &b.cpus, sizeof(a.cpus));
		assert_memory_equal(&a.admin, &b.admin, sizeof(a.admin));
		assert_int_equal(a.ncgroups, b.ncgroups);
		for (size_t i = 0; i < a.ncgroups; i++)
			assert_memory_equal(&a.cgroups[i], &b.cgroups[i], sizeof(a.cgroups[i]));
		assert_int_equal(a.nusers, b.nusers);
		/* written again, byte for byte the same document */
		char *doc2;
		size_t len2;
		assert_int_equal(hostsnap_format(&b, &doc2, &len2), 0);
		assert_string_equal(doc, doc2);
		free(doc);
		free(doc2);
		hostsnap_free(&a);
		hostsnap_free(&b);
	}
}

static void seed_contents(void **state)
{
	(void)state;
	struct hostsnap a, b;
	char *doc;
	round_trip(SEED, false, &a, &b, &doc);
	assert_int_equal(b.nprocs, 5); /* 1 2 100 101 200; 300 has no stat */
	assert_int_equal(b.procs[2].pid, 100);
	assert_string_equal(b.procs[2].st.comm, "redis-server");
	assert_string_equal(b.procs[2].exe, "/usr/bin/redis-server");
	assert_string_equal(b.procs[2].cmdline, "/usr/bin/redis-server 127.0.0.1:6379");
	assert_int_equal(proc_commit_kb(&b.procs[2]), 614532);
	assert_int_equal(b.procs[2].status.uid, 102);
	assert_int_equal(b.mem.committed_as_kb, 921600);
	assert_int_equal(b.vm.v[VM_OVERCOMMIT_RATIO], 50);
	assert_true(b.cgroup2);
	assert_int_equal(b.ncgroups, 0); /* the seed tree has no memory groups */
	assert_null(strstr(doc, "\"unit\":\"x")); /* unit derived from the cgroup */
	free(doc);
	hostsnap_free(&a);
	hostsnap_free(&b);

	round_trip(SEED, true, &a, &b, &doc);
	assert_true(b.redacted);
	assert_null(strstr(doc, "6379"));
	assert_string_equal(b.procs[2].cmdline, "");
	free(doc);
	hostsnap_free(&a);
	hostsnap_free(&b);
}

/* ---- observation over the document == observation over the tree ---- */

struct svc_def {
	const char *tree, *comm, *exe, *unit, *user, *cmdline, *cgroup;
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static const struct svc_def defs[] = {
	{ SEED, "redis-server", 0, 0, 0, 0, 0 },
	{ SEED, 0, "/usr/bin/redis-server", 0, 0, 0, 0 },
	{ SEED, 0, 0, 0, 0, "*redis-server*:6379", 0 },
	{ SEED, 0, 0, 0, "102", 0, 0 },
	{ SEED, 0, 0, 0, "root", 0, 0 },
	{ SEED, 0, 0, 0, "no-such-user-oc", 0, 0 },
	{ SEED, "bash", 0, 0, "0", 0, 0 },
	{ SEED, "ghost", 0, 0, 0, 0, 0 },
	{ SEED, "redis-server", 0, 0, 0, 0, "overcommitd/redis" },
	{ COMPLIANT, 0, 0, "redis-server.service", 0, 0, 0 },
	{ COMPLIANT, 0, 0, "session-1.scope", 0, 0, 0 },
	{ COMPLIANT, "redis-server", 0, 0, 0, 0, "system.slice/redis-server.service" },
};

static void assert_same_obs(const struct svc_obs *x, const struct svc_obs *y)
{
	assert_int_equal(x->nprocs, y->nprocs);
	assert_int_equal(x->nmatched, y->nmatched);
	assert_int_equal(x->main_idx, y->main_idx);
	for (size_t k = 0; k < x->nprocs; k++)
		assert_memory_equal(&x->procs[k], &y->procs[k], sizeof(x->procs[k]));
	assert_string_equal(x->cgroup, y->cgroup);
	assert_int_equal(x->own_cgroup, y->own_cgroup);
	assert_memory_equal(&x->cg, &y->cg, sizeof(x->cg));
	assert_memory_equal(&x->policy_cg, &y->policy_cg, sizeof(x->policy_cg));
}

static void observe_equals_live(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(defs); i++) {
		struct pol_service svc = { 0 };
		svc.name = strdup("r");
		svc.match_comm.v = dup_or_null(defs[i].comm);
		svc.match_exe.v = dup_or_null(defs[i].exe);
		svc.match_unit.v = dup_or_null(defs[i].unit);
		svc.match_user.v = dup_or_null(defs[i].user);
		svc.match_cmdline.v = dup_or_null(defs[i].cmdline);
		svc.cgroup.v = dup_or_null(defs[i].cgroup);
		struct policy pol = { .svc = &svc, .nsvc = 1 };
		struct roots r = fixture_roots(defs[i].tree);
		struct hostsnap a, b;
		char *doc;
		round_trip(defs[i].tree, false, &a, &b, &doc);
		struct obs_source src;
		hostsnap_source(&b, &src);
		struct snapshot live, fromdoc;
		assert_int_equal(snapshot_take(&r, &pol, &live), 0);
		assert_int_equal(snapshot_observe(&src, &pol, NULL, 0, &fromdoc), 0);
		assert_memory_equal(&live.mem, &fromdoc.mem, sizeof(live.mem));
		assert_memory_equal(&live.vm, &fromdoc.vm, sizeof(live.vm));
		assert_int_equal(live.cgroup2, fromdoc.cgroup2);
		assert_int_equal(live.nprocs_scanned, fromdoc.nprocs_scanned);
		assert_same_obs(&live.svc[0], &fromdoc.svc[0]);
		snapshot_free(&live);
		snapshot_free(&fromdoc);
		free(doc);
		hostsnap_free(&a);
		hostsnap_free(&b);
		free(svc.name);
		free(svc.match_comm.v);
		free(svc.match_exe.v);
		free(svc.match_unit.v);
		free(svc.match_user.v);
		free(svc.match_cmdline.v);
		free(svc.cgroup.v);
	}
}

/* ---- hostile documents ---- */

static const char *const HEAD =
	"{\"format\":\"overcommitd-snapshot\",\"version\":1,\"overcommitd\":\"x\","
	"\"host\":{\"hostname\":\"h\",\"kernel\":\"k\",\"taken_at\":1,\"redacted\":false,"
	"\"uid_min\":1000,\"cpus_present\":2,\"cpus_online\":2,\"init_userns\":4026531837,"
	"\"selinux_enforcing\":false},"
	"\"meminfo\":{\"mem_total_kb\":2097152,\"mem_free_kb\":1,\"mem_available_kb\":1,"
	"\"swap_total_kb\":0,\"swap_free_kb\":0,\"commit_limit_kb\":1048576,"
	"\"committed_as_kb\":921600,\"hugetlb_kb\":0},"
	"\"sysctls\":{\"vm.overcommit_memory\":2,\"vm.overcommit_ratio\":50,"
	"\"vm.overcommit_kbytes\":0,\"vm.user_reserve_kbytes\":65536,\"vm.admin_reserve_kbytes\":8192},";

#define PROC(pid, comm, extra)                                                                   \
	"{\"pid\":" pid ",\"ppid\":1,\"start_time\":5,\"state\":\"S\",\"comm\":\"" comm "\","     \
	"\"uid\":0,\"tgid\":" pid ",\"exe\":\"\",\"cmdline\":\"\",\"cgroup\":\"/\",\"unit\":\"\"," \
	"\"vm_size_kb\":1,\"vm_data_kb\":1,\"vm_stk_kb\":1,\"rss_anon_kb\":1,\"cap_eff\":0,"       \
	"\"oom_score_adj\":0,\"userns\":0" extra "}"

static const struct {
	const char *body;  /* after HEAD; NULL: the whole document is `alt` */
	const char *alt;
	const char *err;   /* expected start of the message (NULL: accepted) */
} hostile[] = {
	{ "\"cgroup\":{\"v2_memory\":true,\"groups\":[]},\"users\":[],\"learned\":null,"
	  "\"processes\":[" PROC("1", "init", "") "," PROC("7", "x", "") "]}", NULL, NULL },
	{ NULL, "", "not JSON" },
	{ NULL, "[]", "not a JSON object" },
	{ NULL, "{\"format\":\"something-else\",\"version\":1}", "not an overcommitd snapshot" },
	{ NULL, "{\"format\":\"overcommitd-snapshot\",\"version\":2}",
	  "snapshot version 2: this overcommitd" },
	{ NULL, "{\"format\":\"overcommitd-snapshot\",\"version\":\"1\"}",
	  "version: missing or not an integer" },
	{ "\"cgroup\":{\"v2_memory\":true,\"groups\":[]},\"users\":[],\"learned\":null,"
	  "\"processes\":[" PROC("7", "x", "") "," PROC("1", "init", "") "]}", NULL,
	  "processes[1].pid: not after" },
	{ "\"cgroup\":{\"v2_memory\":true,\"groups\":[]},\"users\":[],\"learned\":null,"
	  "\"processes\":[" PROC("0", "x", "") "]}", NULL, "processes[0].pid: 0 is outside" },
	{ "\"cgroup\":{\"v2_memory\":true,\"groups\":[]},\"users\":[],\"learned\":null,"
	  "\"processes\":[" PROC("1", "x\\u0000y", "") "]}", NULL, "processes[0].comm: longer" },
	{ "\"cgroup\":{\"v2_memory\":true,\"groups\":[]},\"users\":[],\"learned\":null,"
	  "\"processes\":[" PROC("1", "0123456789012345678901234567890123456789012345678901234567890123", "") "]}",
	  NULL, "processes[0].comm: longer" },
	{ "\"cgroup\":{\"v2_memory\":true,\"groups\":[{\"path\":\"/a\",\"current\":\"max\",\"anon\":1,"
	  "\"file\":1,\"high\":\"max\",\"max\":-1,\"peak\":0}]},\"users\":[],\"learned\":null,"
	  "\"processes\":[]}", NULL, "cgroup.groups[0].max: missing or not an integer" },
	{ "\"cgroup\":{\"v2_memory\":true,\"groups\":[{\"path\":\"a\",\"current\":1,\"anon\":1,"
	  "\"file\":1,\"high\":\"max\",\"max\":\"max\",\"peak\":0}]},\"users\":[],\"learned\":null,"
	  "\"processes\":[]}", NULL, "cgroup.groups[0].path: does not start with /" },
	{ "\"cgroup\":{\"v2_memory\":true,\"groups\":[]},\"users\":[],\"learned\":{\"version\":9},"
	  "\"processes\":[]}", NULL, "learned: not a valid learned.json document" },
	{ "\"cgroup\":{\"v2_memory\":true,\"groups\":[]},\"users\":[],\"learned\":null,"
	  "\"processes\":[]} x", NULL, "not JSON" },
	{ "\"cgroup\":{\"v2_memory\":true,\"groups\":[]},\"users\":[{\"uid\":5,\"name\":\"a\"},"
	  "{\"uid\":5,\"name\":\"b\"}],\"learned\":null,\"processes\":[]}", NULL,
	  "users[1].uid: not after" },
	{ "\"cgroup\":{\"v2_memory\":true,\"groups\":[]},\"users\":[],\"learned\":null,"
	  "\"processes\":[" PROC("1", "x", "") "]", NULL, "not JSON" },
	{ "\"cgroup\":{\"v2_memory\":1,\"groups\":[]},\"users\":[],\"learned\":null,"
	  "\"processes\":[]}", NULL, "v2_memory: missing or not a boolean" },
	{ "\"cgroup\":{\"v2_memory\":true,\"hierarchy\":\"v1\",\"groups\":[]},\"users\":[],"
	  "\"learned\":null,\"processes\":[]}", NULL, "cgroup.hierarchy: \"v1\" disagrees" },
	{ "\"cgroup\":{\"v2_memory\":false,\"hierarchy\":\"v3\",\"groups\":[]},\"users\":[],"
	  "\"learned\":null,\"processes\":[]}", NULL, "cgroup.hierarchy: not one of" },
	{ "\"cgroup\":{\"v2_memory\":false,\"hierarchy\":1,\"groups\":[]},\"users\":[],"
	  "\"learned\":null,\"processes\":[]}", NULL, "cgroup.hierarchy: not one of" },
	{ "\"cgroup\":{\"v2_memory\":true,\"favordynmods\":\"on\",\"groups\":[]},\"users\":[],"
	  "\"learned\":null,\"processes\":[" PROC("1", "init", "") "," PROC("7", "x", "") "]}",
	  NULL, NULL },
	{ "\"cgroup\":{\"v2_memory\":true,\"favordynmods\":\"yes\",\"groups\":[]},\"users\":[],"
	  "\"learned\":null,\"processes\":[]}", NULL, "cgroup.favordynmods: not one of" },
	{ "\"cgroup\":{\"v2_memory\":true,\"favordynmods\":true,\"groups\":[]},\"users\":[],"
	  "\"learned\":null,\"processes\":[]}", NULL, "cgroup.favordynmods: not one of" },
};

/* A RHEL 8 style host: the memory controller on a v1 hierarchy, Redis in
 * /overcommitd/redis (its /proc/PID/cgroup has v1 lines). */
static char *v1_host(void)
{
	char *t = tt_make();
	tt_add_host(t, NULL);
	tt_add_proc(t, &(struct tt_proc){ .pid = 100, .comm = "redis-server", .ppid = 1,
					  .start = 500, .uid = 0, .vm_data_kb = 600000 });
	tt_write(t, "proc/100/cgroup", "7:memory:/overcommitd/redis\n3:cpu,cpuacct:/\n");
	tt_write(t, "cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
	static const char *const groups[] = { "overcommitd", "overcommitd/redis" };
	for (size_t i = 0; i < ARRAY_SIZE(groups); i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "cgroup/memory/%s/memory.usage_in_bytes", groups[i]);
		tt_write(t, rel, "52428800\n");
		snprintf(rel, sizeof(rel), "cgroup/memory/%s/memory.stat", groups[i]);
		tt_write(t, rel, "cache 0\nrss 0\ntotal_cache 4194304\ntotal_rss 48234496\n");
		snprintf(rel, sizeof(rel), "cgroup/memory/%s/memory.soft_limit_in_bytes", groups[i]);
		tt_write(t, rel, "268435456\n");
		snprintf(rel, sizeof(rel), "cgroup/memory/%s/memory.limit_in_bytes", groups[i]);
		tt_write(t, rel, "9223372036854771712\n");
	}
	return t;
}

static void v1_groups(void **state)
{
	(void)state;
	char *t = v1_host();
	struct hostsnap a, b;
	char *doc;
	round_trip(t, false, &a, &b, &doc);
	assert_int_equal(b.hier, CG_HIER_V1);
	assert_false(b.cgroup2);
	assert_non_null(strstr(doc, "\"hierarchy\":\"v1\""));
	assert_int_equal(b.ncgroups, 2);
	assert_string_equal(b.cgroups[1].path, "/overcommitd/redis");
	assert_int_equal(b.cgroups[1].m.anon, 48234496);
	assert_int_equal(b.cgroups[1].m.high, 268435456);
	assert_int_equal(b.cgroups[1].m.max, CG_UNLIMITED);
	for (size_t i = 0; i < a.ncgroups; i++)
		assert_memory_equal(&a.cgroups[i], &b.cgroups[i], sizeof(a.cgroups[i]));
	/* what-if over the document sees what recommend sees on the host */
	struct pol_service svc = { 0 };
	svc.name = strdup("redis");
	svc.match_comm.v = strdup("redis-server");
	struct policy pol = { .svc = &svc, .nsvc = 1 };
	struct roots r = fixture_roots(t);
	struct obs_source src;
	hostsnap_source(&b, &src);
	struct snapshot live, fromdoc;
	assert_int_equal(snapshot_take(&r, &pol, &live), 0);
	assert_int_equal(snapshot_observe(&src, &pol, NULL, 0, &fromdoc), 0);
	assert_int_equal(fromdoc.cg_hier, CG_HIER_V1);
	assert_int_equal(live.cg_hier, fromdoc.cg_hier);
	assert_int_equal(live.cgroup2, fromdoc.cgroup2);
	assert_same_obs(&live.svc[0], &fromdoc.svc[0]);
	assert_string_equal(fromdoc.svc[0].cgroup, "/overcommitd/redis");
	assert_int_equal(fromdoc.svc[0].cg.anon, 48234496);
	snapshot_free(&live);
	snapshot_free(&fromdoc);
	free(svc.name);
	free(svc.match_comm.v);
	free(doc);
	hostsnap_free(&a);
	hostsnap_free(&b);
	tt_rm(t);
}

/* A document from before v1 groups were recorded has no "hierarchy". */
static void hierarchy_absent(void **state)
{
	(void)state;
	struct hostsnap a, b;
	char *doc;
	round_trip(SEED, false, &a, &b, &doc);
	assert_int_equal(b.hier, CG_HIER_V2);
	char *h = strstr(doc, ",\"hierarchy\":\"v2\"");
	assert_non_null(h);
	memmove(h, h + strlen(",\"hierarchy\":\"v2\""), strlen(h + strlen(",\"hierarchy\":\"v2\"")) + 1);
	struct hostsnap c;
	char err[256];
	assert_int_equal(hostsnap_parse(doc, strlen(doc), &c, err, sizeof(err)), 0);
	assert_int_equal(c.hier, CG_HIER_V2);
	hostsnap_free(&c);
	free(doc);
	hostsnap_free(&a);
	hostsnap_free(&b);
}

static void hostile_documents(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(hostile); i++) {
		char doc[8192];
		if (hostile[i].body)
			snprintf(doc, sizeof(doc), "%s%s", HEAD, hostile[i].body);
		else
			snprintf(doc, sizeof(doc), "%s", hostile[i].alt);
		struct hostsnap hs;
		char err[256] = "";
		int rc = hostsnap_parse(doc, strlen(doc), &hs, err, sizeof(err));
		if (!hostile[i].err) {
			if (rc != 0)
				fail_msg("row %zu refused: %s", i, err);
			assert_int_equal(hs.nprocs, 2);
			/* absent (a document from before it was recorded): unknown */
			assert_int_equal(hs.favordynmods, strstr(doc, "\"favordynmods\":\"on\"")
								 ? CGOPT_ON : CGOPT_UNKNOWN);
			hostsnap_free(&hs);
			continue;
		}
		if (rc != -EINVAL || strncmp(err, hostile[i].err, strlen(hostile[i].err)) != 0)
			fail_msg("row %zu: rc %d, message '%s', expected '%s...'", i, rc, err,
				 hostile[i].err);
		assert_null(hs.procs);
	}
}

static void load_errors(void **state)
{
	(void)state;
	struct hostsnap hs;
	char err[256];
	assert_int_equal(hostsnap_load("/nonexistent/oc-snap.json", &hs, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, strerror(ENOENT));
}

/* ---- fleet ranking ---- */

static void fleet_ranks_by_shortfall(void **state)
{
	(void)state;
	struct fleet f = { 0 };
	char svcname[] = "redis";
	struct pol_service svc = { .name = svcname };
	struct policy pol = { .svc = &svc, .nsvc = 1 };
	struct proc_info main = { .pid = 100 };
	struct svc_obs obs = { .procs = &main, .nprocs = 1, .nmatched = 1, .main_idx = 0 };
	struct snapshot s = { .svc = &obs, .nsvc = 1 };
	static const int64_t headroom[] = { -100, 50, -9000 };
	for (size_t i = 0; i < ARRAY_SIZE(headroom); i++) {
		struct svc_eval e = { .fork = { .headroom_kb = headroom[i], .fits = headroom[i] > 0 } };
		e.fork_after = e.fork;
		struct risk r = { .kind = "fork_fails", .service = "redis" };
		struct plan p = { .eval = &e, .neval = 1, .risk = &r, .nrisk = headroom[i] < 0 };
		char name[16];
		snprintf(name, sizeof(name), "h%zu", i);
		assert_int_equal(fleet_add(&f, name, "f", &pol, &s, &p), 0);
	}
	fleet_rank(&f);
	assert_int_equal(f.nrisk, 2);
	assert_int_equal(f.risk[0].short_kb, 9000);
	assert_string_equal(f.host[f.risk[0].host].name, "h2");
	assert_int_equal(f.risk[1].short_kb, 100);
	assert_int_equal(f.host[0].forks_fail_after, 1);
	assert_int_equal(f.host[1].forks_fail_now, 0);
	fleet_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fields_round_trip),
		cmocka_unit_test(seed_contents),
		cmocka_unit_test(observe_equals_live),
		cmocka_unit_test(hostile_documents),
		cmocka_unit_test(v1_groups),
		cmocka_unit_test(hierarchy_absent),
		cmocka_unit_test(load_errors),
		cmocka_unit_test(fleet_ranks_by_shortfall),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
