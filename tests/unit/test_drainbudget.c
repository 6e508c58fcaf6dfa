/* test_drainbudget.c - the drain's keep-reading-or-yield decision, a table
 * with the clock given by the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "drainbudget.h"

#define MS (1000ull * 1000)

struct row {
	const char *what;
	struct drain_budget b;
	uint64_t start, now;
	unsigned msgs;
	enum drain_step want;
};

static const struct row rows[] = {
	{ "first message, time long gone: progress first", { 25 * MS, 16384 }, 0, 60000 * MS, 0, DRAIN_GO_ON },
	{ "first message, count bound of 1", { 25 * MS, 1 }, 0, 0, 0, DRAIN_GO_ON },
	{ "within both", { 25 * MS, 16384 }, 1000 * MS, 1010 * MS, 100, DRAIN_GO_ON },
	{ "1 ns before the time bound", { 25 * MS, 16384 }, 1000 * MS, 1025 * MS - 1, 100, DRAIN_GO_ON },
	{ "at the time bound", { 25 * MS, 16384 }, 1000 * MS, 1025 * MS, 100, DRAIN_YIELD_TIME },
	{ "past the time bound after one slow event", { 25 * MS, 16384 }, 5 * MS, 900 * MS, 1, DRAIN_YIELD_TIME },
	{ "one below the count", { 25 * MS, 16384 }, 0, 1 * MS, 16383, DRAIN_GO_ON },
	{ "at the count", { 25 * MS, 16384 }, 0, 1 * MS, 16384, DRAIN_YIELD_COUNT },
	{ "both used up: the count is named", { 25 * MS, 16384 }, 0, 99 * MS, 20000, DRAIN_YIELD_COUNT },
	{ "clock went back: no time spent", { 25 * MS, 16384 }, 1000 * MS, 10 * MS, 5, DRAIN_GO_ON },
	{ "no time bound", { 0, 16384 }, 0, 3600000 * MS, 5, DRAIN_GO_ON },
	{ "no count bound", { 25 * MS, 0 }, 0, 1 * MS, 4000000000u, DRAIN_GO_ON },
	{ "no bounds at all", { 0, 0 }, 0, UINT64_MAX, 4000000000u, DRAIN_GO_ON },
	{ "clock near its end", { 25 * MS, 16384 }, UINT64_MAX - 30 * MS, UINT64_MAX, 7, DRAIN_YIELD_TIME },
};

static void table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		enum drain_step got = drain_next(&r->b, r->start, r->now, r->msgs);
		if (got != r->want)
			fail_msg("%s: got %d, want %d", r->what, (int)got, (int)r->want);
	}
}

static void no_budget_reads_on(void **state)
{
	(void)state;
	assert_int_equal(drain_next(NULL, 0, UINT64_MAX, 1u << 30), DRAIN_GO_ON);
}

/* The daemon's numbers keep their stated relation: the time bound ends a
 * drain of bare messages (2.2 us each) before the count does. */
static void defaults(void **state)
{
	(void)state;
	const struct drain_budget b = { DRAIN_BUDGET_NS, DRAIN_BUDGET_MSGS };
	unsigned at_2us2 = (unsigned)(DRAIN_BUDGET_NS * 10 / 22000); /* messages in the time */
	assert_true(at_2us2 < DRAIN_BUDGET_MSGS);
	assert_int_equal(drain_next(&b, 0, DRAIN_BUDGET_NS, at_2us2), DRAIN_YIELD_TIME);
	assert_true(DRAIN_BUDGET_NS * 2 <= 50 * MS); /* half the episode sampling period */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table),
		cmocka_unit_test(no_budget_reads_on),
		cmocka_unit_test(defaults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
