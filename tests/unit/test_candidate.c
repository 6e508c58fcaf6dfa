/* test_candidate.c - new mains beside a running instance held back until
 * they fork or settle: a helper's actions are dropped from a pass's plan,
 * a settled candidate's stand, identity is pid + start time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "candidate.h"

static void add_act(struct plan *p, enum action_kind kind, int pid, uint64_t start)
{
	p->act = realloc(p->act, (p->nact + 1) * sizeof(*p->act));
	assert_non_null(p->act);
	memset(&p->act[p->nact], 0, sizeof(*p->act));
	p->act[p->nact].kind = kind;
	p->act[p->nact].pid = pid;
	p->act[p->nact].start_time = start;
	p->nact++;
}

static void take_on_fork_or_exit(void **state)
{
	(void)state;
	struct cand_list l = { 0 };
	assert_int_equal(cand_add(&l, 100, 5, 1000), 0);
	assert_int_equal(cand_add(&l, 101, 6, 1000), 0);
	assert_int_equal(cand_add(&l, 100, 7, 1100), 0); /* the pid again: one entry */
	assert_int_equal(l.n, 2);
	assert_true(cand_take(&l, 100));
	assert_false(cand_take(&l, 100));
	assert_true(cand_take(&l, 101));
	assert_int_equal(l.n, 0);
	cand_free(&l);
}

static void pass_drops_young_keeps_settled(void **state)
{
	(void)state;
	struct cand_list l = { 0 };
	struct plan p;
	memset(&p, 0, sizeof(p));
	cand_add(&l, 100, 5, 1000);              /* apache2 -t, young */
	cand_add(&l, 200, 9, 1000 - CAND_SETTLE_MS); /* lived past settle: serves */
	add_act(&p, ACT_SYSCTL, 0, 0);
	add_act(&p, ACT_OOM_SCORE_ADJ, 100, 5);
	add_act(&p, ACT_CGROUP_ATTACH, 100, 5);
	add_act(&p, ACT_OOM_SCORE_ADJ, 100, 8);  /* another process with that pid */
	add_act(&p, ACT_OOM_SCORE_ADJ, 200, 9);
	add_act(&p, ACT_OOM_SCORE_ADJ, 300, 1);
	assert_int_equal(cand_filter_plan(&l, &p, 1500), 2);
	assert_int_equal(p.nact, 4);
	assert_int_equal(p.act[0].kind, ACT_SYSCTL);
	assert_int_equal(p.act[1].start_time, 8);
	assert_int_equal(p.act[2].pid, 200);
	assert_int_equal(p.act[3].pid, 300);
	assert_int_equal(l.n, 1); /* 200 left the list */
	/* 100 settles too */
	assert_int_equal(cand_filter_plan(&l, &p, 1000 + CAND_SETTLE_MS), 0);
	assert_int_equal(l.n, 0);
	free(p.act);
	cand_clear(&l);
	cand_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(take_on_fork_or_exit),
		cmocka_unit_test(pass_drops_young_keeps_settled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
