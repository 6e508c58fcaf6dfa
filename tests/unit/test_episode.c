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
	uint64_t base;
	double growth, margin;
	uint64_t min, want;
};

static const struct budget_case budget_cases[] = {
	{ 1000, 0.5, 1.5, 0, 750 },
	{ 1000, 0.0, 2.0, 64, 64 },           /* learned "no growth": the floor */
	{ 1000, NAN, 1.0, 0, 1000 },          /* unusable estimate: the default 1.0 */
	{ 1000, -1.0, 1.0, 0, 1000 },
	{ 1000, 0.2, 0.5, 0, 200 },           /* margin below 1 counts as 1 */
	{ UINT64_MAX / 2, 4.0, 4.0, 0, UINT64_MAX }, /* saturates */
};

static void test_budget_table(void **st)
{
	(void)st;
	for (size_t i = 0; i < sizeof(budget_cases) / sizeof(budget_cases[0]); i++) {
		const struct budget_case *c = &budget_cases[i];
		struct episode e;
		memset(&e, 0, sizeof(e));
		episode_begin(&e, 1, c->base, 0, 0, 0);
		assert_int_equal(episode_budget_kb(&e, c->growth, c->margin, c->min), c->want);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_table),
		cmocka_unit_test(test_budget_table),
		cmocka_unit_test(test_over_budget_latches),
		cmocka_unit_test(test_group_survives_begin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
