/* test_workcache.c - workers read every WORK_READ_EVERY passes, mains every
 * pass; what a worker wrote shows within that many passes; a worker's
 * lifetime growth (RssAnon since its first read) is learned at its exit;
 * copy-on-write un-sharing is seen through a few sampled workers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "policy.h"
#include "tmptree.h"
#include "workcache.h"

#define NWORK 16

static struct roots roots_of(const char *t)
{
	struct roots r;
	snprintf(r.procfs, sizeof(r.procfs), "%s/proc", t);
	snprintf(r.sysfs, sizeof(r.sysfs), "%s/sys", t);
	snprintf(r.cgroupfs, sizeof(r.cgroupfs), "%s/cgroup", t);
	snprintf(r.etc, sizeof(r.etc), "%s/etc", t);
	return r;
}

static void load(struct policy *pol)
{
	struct diags d;
	diags_init(&d);
	policy_init(pol);
	assert_int_equal(policy_parse_buffer("t.ini", "[service pf]\nmatch_comm = pf\n"
				      "oom_score_adj = -500\nchild_oom_score_adj = 300\n", pol, &d), 0);
	policy_finish(pol, &d);
	assert_int_equal(d.n, 0);
	diags_free(&d);
}

static void set_rss(const char *t, int pid, unsigned kb)
{
	char rel[64], buf[512];
	snprintf(rel, sizeof(rel), "proc/%d/status", pid);
	snprintf(buf, sizeof(buf), "Name:\tpf\nTgid:\t%d\nPid:\t%d\nPPid:\t100\nUid:\t0\t0\t0\t0\n"
		 "VmSize:\t 9000 kB\nVmData:\t 1000 kB\nVmStk:\t 132 kB\nRssAnon:\t %u kB\n"
		 "CapEff:\t0000000000000000\n", pid, pid, kb);
	tt_write(t, rel, buf);
}

static const struct proc_info *proc_of(const struct snapshot *s, int pid)
{
	for (size_t k = 0; k < s->svc[0].nprocs; k++)
		if (s->svc[0].procs[k].pid == pid)
			return &s->svc[0].procs[k];
	return NULL;
}

static void prefork_pass_cost_and_growth(void **state)
{
	(void)state;
	char *t = tt_make();
	struct roots r = roots_of(t);
	tt_add_host(t, "memory\n");
	struct tt_proc main = { 100, "pf", 1, 5, 0, NULL, 1000 };
	tt_add_proc(t, &main);
	int pids[NWORK + 1] = { 100 };
	for (int i = 0; i < NWORK; i++) {
		struct tt_proc w = { 101 + i, "pf", 100, 6, 0, NULL, 1000 };
		tt_add_proc(t, &w);
		pids[i + 1] = 101 + i;
	}
	struct policy pol;
	load(&pol);
	struct workcache wc;
	assert_int_equal(workcache_init(&wc, 1), 0);
	struct snapshot s;
	/* the first (full) pass reads everything and caches the workers */
	assert_int_equal(workcache_observe(&wc, &r, &pol, NULL, 0, &s), 0);
	assert_int_equal(s.svc[0].nprocs, NWORK + 1);
	assert_int_equal(wc.n, NWORK);
	assert_int_equal(wc.served, 0);
	snapshot_free(&s);
	/* worker 105 writes its own value and grows by 4 MiB */
	tt_write(t, "proc/105/oom_score_adj", "7\n");
	set_rss(t, 105, 5096);
	bool seen = false;
	for (int pass = 0; pass < WORK_READ_EVERY; pass++) {
		uint64_t reads = wc.reads;
		assert_int_equal(workcache_observe(&wc, &r, &pol, pids, NWORK + 1, &s), 0);
		/* the main every pass; of the workers only the due ones */
		assert_true(wc.reads - reads <= 1 + (NWORK + WORK_READ_EVERY - 1) / WORK_READ_EVERY);
		assert_int_equal(s.svc[0].nprocs, NWORK + 1);
		assert_int_equal(s.svc[0].procs[s.svc[0].main_idx].pid, 100);
		seen = seen || proc_of(&s, 105)->oom_score_adj == 7;
		snapshot_free(&s);
	}
	assert_true(seen); /* within WORK_READ_EVERY passes */
	assert_int_equal(wc.reads + wc.served, (NWORK + 1) * (WORK_READ_EVERY + 1));
	assert_true(wc.served >= (uint64_t)NWORK * (WORK_READ_EVERY - 1) - NWORK);
	/* a write by overcommitd: read again next pass */
	tt_write(t, "proc/106/oom_score_adj", "300\n");
	workcache_stale(&wc, 106);
	assert_int_equal(workcache_observe(&wc, &r, &pol, pids, NWORK + 1, &s), 0);
	assert_int_equal(proc_of(&s, 106)->oom_score_adj, 300);
	/* live workers: the mean growth so far (4 MiB over 16) */
	assert_int_equal(s.svc[0].worker_growth_kb, 4096 / NWORK);
	snapshot_free(&s);
	/* 105 exits: its lifetime growth is learned */
	size_t svc;
	workcache_exit(&wc, 105, &svc);
	size_t n;
	assert_int_equal(workcache_growth_kb(&wc, 0, &n), 4096);
	assert_int_equal(n, NWORK);
	assert_int_equal(wc.n, NWORK - 1);
	/* lost events: everything read afresh */
	workcache_clear(&wc);
	uint64_t served = wc.served;
	assert_int_equal(workcache_observe(&wc, &r, &pol, pids, NWORK + 1, &s), 0);
	assert_int_equal(wc.served, served);
	snapshot_free(&s);
	workcache_free(&wc);
	policy_free(&pol);
	tt_rm(t);
}

static void set_rollup(const char *t, int pid, unsigned priv_kb)
{
	char rel[64], buf[512];
	snprintf(rel, sizeof(rel), "proc/%d/smaps_rollup", pid);
	snprintf(buf, sizeof(buf),
		 "55d0c0000000-7ffc00000000 ---p 00000000 00:00 0    [rollup]\n"
		 "Rss:               70000 kB\nPss:               40000 kB\n"
		 "Shared_Dirty:      %u kB\nPrivate_Dirty:     %u kB\nAnonymous:         65536 kB\n",
		 65536 - priv_kb, priv_kb);
	tt_write(t, rel, buf);
}

/* Copy-on-write un-sharing: worker 101 writes 32 MiB it inherited, its
 * RssAnon does not move, its Private_Dirty does.  Only the sampled workers'
 * smaps_rollup is read (one per pass for the service); 108 is never. */
static void cow_unsharing_sampled(void **state)
{
	(void)state;
	enum { NW = 8 };
	char *t = tt_make();
	struct roots r = roots_of(t);
	tt_add_host(t, "memory\n");
	struct tt_proc main = { 100, "pf", 1, 5, 0, NULL, 70000 };
	tt_add_proc(t, &main);
	int pids[NW + 1] = { 100 };
	for (int i = 0; i < NW; i++) {
		struct tt_proc w = { 101 + i, "pf", 100, 6, 0, NULL, 70000 };
		tt_add_proc(t, &w);
		set_rss(t, 101 + i, 65536);
		set_rollup(t, 101 + i, 0);
		pids[i + 1] = 101 + i;
	}
	set_rollup(t, 108, 999999); /* read it and the estimate shows it */
	struct policy pol;
	load(&pol);
	struct workcache wc;
	assert_int_equal(workcache_init(&wc, 1), 0);
	struct snapshot s;
	assert_int_equal(workcache_observe(&wc, &r, &pol, NULL, 0, &s), 0);
	snapshot_free(&s);
	set_rollup(t, 101, 32768);
	for (int pass = 0; pass < 2 * WORK_COW_EVERY; pass++) {
		uint64_t before = wc.cow_reads;
		assert_int_equal(workcache_observe(&wc, &r, &pol, pids, NW + 1, &s), 0);
		assert_true(wc.cow_reads - before <= 1); /* one per service per pass */
		assert_true(s.svc[0].worker_growth_kb < 999999);
		snapshot_free(&s);
	}
	size_t sampled = 0;
	for (size_t i = 0; i < wc.n; i++)
		sampled += wc.e[i].sampled;
	assert_int_equal(sampled, WORK_COW_SAMPLES);
	/* reads 1, 2, 4, 8 passes apart: each sample read at least twice in
	 * 2 x WORK_COW_EVERY passes; never more than one read a pass */
	assert_in_range(wc.cow_reads, 2 * WORK_COW_SAMPLES, 2 * WORK_COW_EVERY);
	size_t n, svc = 9;
	/* live: the samples' mean Private_Dirty (32 MiB over 4) beats RssAnon's 0 */
	assert_int_equal(workcache_growth_kb(&wc, 0, &n), 32768 / WORK_COW_SAMPLES);
	assert_true(workcache_exit(&wc, 101, &svc));
	assert_int_equal(svc, 0);
	assert_int_equal(workcache_learned(&wc, 0)->priv.total, 1);
	assert_int_equal(workcache_learned(&wc, 0)->rss.total, 1);
	assert_int_equal(workcache_growth_kb(&wc, 0, &n), 32768); /* what 101 reached */
	/* learned.json's record of earlier workers goes in front */
	struct worker_growth older = { 0 };
	wg_ring_add(&older.priv, 40000);
	workcache_seed(&wc, 0, &older);
	assert_int_equal(workcache_learned(&wc, 0)->priv.total, 2);
	assert_int_equal(wg_ring_at(&workcache_learned(&wc, 0)->priv, 0), 40000);
	/* the next pass fills the freed sample slot */
	pids[1] = 100; /* 101 is gone from the tracked set */
	assert_int_equal(workcache_observe(&wc, &r, &pol, pids + 1, NW, &s), 0);
	snapshot_free(&s);
	sampled = 0;
	for (size_t i = 0; i < wc.n; i++)
		sampled += wc.e[i].sampled;
	assert_int_equal(sampled, WORK_COW_SAMPLES);
	workcache_free(&wc);
	policy_free(&pol);
	tt_rm(t);
}

/* Many instances: the WORK_HOT_MAINS largest every pass, the rest cached. */
static void many_mains(void **state)
{
	(void)state;
	enum { NMAIN = WORK_HOT_MAINS + 16 };
	char *t = tt_make();
	struct roots r = roots_of(t);
	tt_add_host(t, "memory\n");
	int pids[NMAIN];
	for (int i = 0; i < NMAIN; i++) {
		/* the 16 smallest are the last ones */
		struct tt_proc m = { 200 + i, "pf", 1, 5, 0, NULL, 100000 - 1000 * (unsigned long)i };
		tt_add_proc(t, &m);
		pids[i] = 200 + i;
	}
	struct policy pol;
	load(&pol);
	struct workcache wc;
	assert_int_equal(workcache_init(&wc, 1), 0);
	struct snapshot s;
	assert_int_equal(workcache_observe(&wc, &r, &pol, NULL, 0, &s), 0);
	assert_int_equal(s.svc[0].ninst, NMAIN);
	snapshot_free(&s);
	assert_int_equal(wc.n, 16); /* the small ones */
	for (size_t i = 0; i < wc.n; i++)
		assert_true(wc.e[i].pid >= 200 + WORK_HOT_MAINS);
	for (int pass = 0; pass < WORK_READ_EVERY; pass++) {
		uint64_t reads = wc.reads;
		assert_int_equal(workcache_observe(&wc, &r, &pol, pids, NMAIN, &s), 0);
		assert_int_equal(s.svc[0].ninst, NMAIN);
		assert_int_equal(s.svc[0].procs[s.svc[0].main_idx].pid, 200);
		assert_true(wc.reads - reads <= WORK_HOT_MAINS + 2);
		assert_int_equal(s.svc[0].worker_growth_n, 0); /* mains are not workers */
		snapshot_free(&s);
	}
	workcache_free(&wc);
	policy_free(&pol);
	tt_rm(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(prefork_pass_cost_and_growth),
					    cmocka_unit_test(cow_unsharing_sampled),
					    cmocka_unit_test(many_mains) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
