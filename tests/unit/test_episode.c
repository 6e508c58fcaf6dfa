/* test_episode.c - fork episode arithmetic: base, peak, growth, budget,
 * the first time over budget, and the record learning keeps, as tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "episode.h"

struct rec_case {
	const char *name;
	uint64_t group_at_fork, main_rss, samples[4];
	size_t nsamples;
	uint64_t t0, end;
	/* expected record */
	uint64_t at_fork, peak, duration;
};

static const struct rec_case rec_cases[] = {
	{ "group base, growth", 1000, 800, { 1200, 1500, 1400 }, 3, 100, 350, 1000, 1500, 250 },
	{ "moved in late: RssAnon is the base", 100, 5000, { 300 }, 1, 0, 10, 5000, 5200, 10 },
	{ "anon shrank: no growth", 1000, 0, { 900, 800 }, 2, 5, 5, 1000, 1000, 0 },
	{ "no samples", 2048, 2048, { 0 }, 0, 7, 9, 2048, 2048, 2 },
	{ "clock went back: 0 ms", 10, 0, { 20 }, 1, 500, 400, 10, 20, 0 },
};

static void test_record_table(void **st)
{
	(void)st;
	for (size_t i = 0; i < sizeof(rec_cases) / sizeof(rec_cases[0]); i++) {
		const struct rec_case *c = &rec_cases[i];
		struct episode e;
		memset(&e, 0, sizeof(e));
		episode_begin(&e, 42, c->group_at_fork, c->main_rss, 1700000000, c->t0);
		for (size_t k = 0; k < c->nsamples; k++)
			episode_sample(&e, c->samples[k]);
		struct cow_episode r;
		assert_true(episode_finish(&e, c->end, &r));
		print_message("%s\n", c->name);
		assert_int_equal(r.anon_at_fork_kb, c->at_fork);
		assert_int_equal(r.anon_peak_kb, c->peak);
		assert_int_equal(r.duration_ms, c->duration);
		assert_int_equal(r.start_s, 1700000000);
		assert_false(e.active);
		assert_false(episode_finish(&e, c->end, &r)); /* only once */
	}
}

struct budget_case {
	uint64_t base, limit;
	double growth, margin;
	uint64_t min, want;
};

static const struct budget_case budget_cases[] = {
	{ 1000, 0, 0.5, 0.5, 0, 1250 },          /* 1000 x (0.5 x 1.5 + 0.5) */
	{ 1000, 0, 0.0, 0.0, 64, 64 },           /* learned "no growth": the floor */
	{ 1000, 0, NAN, 0.25, 0, 1500 },         /* unusable estimate: the default 1.0 */
	{ 1000, 0, -1.0, 0.0, 0, 1000 },
	{ 1000, 0, 0.2, -3.0, 0, 200 },          /* a negative margin counts as 0 */
	{ UINT64_MAX / 2, 0, 4.0, 4.0, 0, UINT64_MAX }, /* saturates */
	/* a limit on the group: the room under it at the fork, less the
	 * guard, when it is below the learned budget */
	{ 1000, 1 << 20, 2000.0, 9.0, 0, (1 << 20) - 1000 - (1 << 15) },
	{ 1000, 8192, 9.0, 0.1, 0, 8192 - 1000 - 4096 },   /* guard at least 4 MiB */
	{ 1000, 4000, 0.1, 0.1, 16, 16 },                  /* no room at all: the floor */
	/* the learned budget when it is the lower one (learned budget x margin) */
	{ 40000, 1 << 20, 0.0, 0.25, 0, 10000 },
	{ 1000, 8192, 0.1, 0.1, 0, 210 },
};

static void test_budget_table(void **st)
{
	(void)st;
	for (size_t i = 0; i < sizeof(budget_cases) / sizeof(budget_cases[0]); i++) {
		const struct budget_case *c = &budget_cases[i];
		struct episode e;
		memset(&e, 0, sizeof(e));
		episode_begin(&e, 1, c->base, 0, 0, 0);
		assert_int_equal(episode_budget_kb(&e, c->limit, c->growth, c->margin, c->min), c->want);
	}
}

static void test_over_budget_latches(void **st)
{
	(void)st;
	struct episode e;
	memset(&e, 0, sizeof(e));
	assert_false(episode_over_budget(&e, 0, 5)); /* no episode */
	episode_begin(&e, 7, 1000, 0, 0, 0);
	episode_sample(&e, 1100);
	assert_false(episode_over_budget(&e, 100, 10)); /* equal is not over */
	episode_sample(&e, 1101);
	assert_true(episode_over_budget(&e, 100, 20));
	assert_int_equal(e.over_ms, 20);
	assert_true(episode_over_budget(&e, 100000, 30)); /* first time kept */
	assert_int_equal(e.over_ms, 20);
	episode_begin(&e, 8, 1000, 0, 0, 0); /* a new episode starts clean */
	assert_int_equal(e.over_ms, 0);
}

static void test_group_survives_begin(void **st)
{
	(void)st;
	struct episode e;
	memset(&e, 0, sizeof(e));
	strcpy(e.cgroup, "/system.slice/redis.service");
	episode_begin(&e, 3, 1, 1, 1, 1);
	assert_string_equal(e.cgroup, "/system.slice/redis.service");
	assert_int_equal(e.child, 3);
}

struct judge_case {
	const char *name;
	uint64_t child_start;
	bool stopped;
	uint64_t growth_kb, budget_kb;
	struct episode_host h;
	enum episode_verdict want;
};

#define CALM { 1000000, 500000, 900000, 100000, true }

static const struct judge_case judge_cases[] = {
	{ "within budget, calm host", 5, false, 100, 100, CALM, EP_KEEP },
	{ "over budget", 5, false, 101, 100, CALM, EP_OVER_BUDGET },
	{ "unknown child identity: never", 0, false, 5000, 100, CALM, EP_KEEP },
	{ "already stopped: never again", 5, true, 5000, 100, CALM, EP_KEEP },
	{ "RAM nearly gone", 5, false, 0, 100, { 1000000, 49999, 900000, 100000, false }, EP_HOST_PRESSURE },
	{ "RAM at the floor: not yet", 5, false, 0, 100, { 1000000, 50000, 900000, 100000, false }, EP_KEEP },
	{ "commit nearly gone, strict", 5, false, 0, 100, { 1000000, 500000, 1000000, 980001, true }, EP_HOST_PRESSURE },
	{ "same commit, not strict", 5, false, 0, 100, { 1000000, 500000, 1000000, 980001, false }, EP_KEEP },
	{ "budget before pressure", 5, false, 200, 100, { 1000000, 1, 1, 1, true }, EP_OVER_BUDGET },
};

static void test_judge_table(void **st)
{
	(void)st;
	for (size_t i = 0; i < sizeof(judge_cases) / sizeof(judge_cases[0]); i++) {
		const struct judge_case *c = &judge_cases[i];
		struct episode e;
		memset(&e, 0, sizeof(e));
		episode_begin(&e, 9, 1000, 0, 0, 0);
		e.child_start = c->child_start;
		e.child_stopped = c->stopped;
		episode_sample(&e, 1000 + c->growth_kb);
		enum episode_verdict v = episode_judge(&e, c->budget_kb, &c->h, 50);
		if (v != c->want)
			fail_msg("%s: verdict %d, want %d", c->name, v, c->want);
	}
	struct episode idle;
	memset(&idle, 0, sizeof(idle));
	idle.child_start = 1;
	struct episode_host h = { 1000, 0, 0, 0, false };
	assert_int_equal(episode_judge(&idle, 0, &h, 1), EP_KEEP); /* no episode: no verdict */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_table),
		cmocka_unit_test(test_budget_table),
		cmocka_unit_test(test_over_budget_latches),
		cmocka_unit_test(test_group_survives_begin),
		cmocka_unit_test(test_judge_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
