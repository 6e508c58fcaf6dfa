/* test_oomconflict.c - which child values the service set itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "oomconflict.h"

#define U OOM_ORIG_UNKNOWN

static void table(void **state)
{
	(void)state;
	static const struct {
		int main_set, main_v, child_set, child_v; /* the policy */
		int child_adj, main_adj;                  /* what /proc shows */
		int main_orig;                            /* journaled; 0 here: unknown */
		bool own;
	} t[] = {
		/* a PostgreSQL backend wrote 0, the policy wants 700 */
		{ 1, -1000, 1, 700, 0, -1000, U, true },
		/* upstream's advice in the policy: backends 0 agree */
		{ 1, -1000, 1, 0, 0, -1000, U, false },
		/* just forked: the main's value inherited, not yet written */
		{ 1, -1000, 1, 700, -900, -900, U, false },
		/* forked after overcommitd wrote the main value */
		{ 1, -1000, 1, 700, -1000, -900, U, false },
		/* written by overcommitd */
		{ 1, -1000, 1, 700, 700, -1000, U, false },
		/* Redis oom-score-adj yes: its save child at 200 */
		{ 1, -300, 1, 700, 200, -300, U, true },
		/* no child value in the policy: nothing to conflict with */
		{ 1, -1000, 0, 0, 0, -1000, U, false },
		/* forked before overcommitd lowered the main from 0: inherited */
		{ 1, -500, 1, 700, 0, -500, 0, false },
		/* the same child value, the main's original unknown: its own */
		{ 1, -500, 1, 700, 0, -500, U, true },
		/* Debian's postmaster was at -900 before -1000 was written */
		{ 1, -1000, 1, 700, -900, -1000, -900, false },
		/* no main value: only the main's current one is inherited */
		{ 0, 0, 1, 700, -900, -900, U, false },
		{ 0, 0, 1, 700, 0, -900, U, true },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct pol_service ps = { 0 };
		ps.oom_score_adj.set = t[i].main_set;
		ps.oom_score_adj.v = t[i].main_v;
		ps.child_oom_score_adj.set = t[i].child_set;
		ps.child_oom_score_adj.v = t[i].child_v;
		if (oom_child_self_set(&ps, t[i].child_adj, t[i].main_adj, t[i].main_orig) != t[i].own)
			fail_msg("row %zu: expected %s", i, t[i].own ? "own" : "not own");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(table) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
