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

/* Two instances seen by a full scan: the second main is 1 s old (its exec
 * event still queued behind the scan: run 5's helper), a third 10 s old. */
static void scan_holds_young_mains_beside_the_oldest(void **state)
{
	(void)state;
	struct proc_info procs[4];
	struct svc_inst inst[3];
	memset(procs, 0, sizeof(procs));
	memset(inst, 0, sizeof(inst));
	long hz = 100;
	uint64_t boot_ms = 600000, now = 500000; /* monotonic = boot - 100 s */
	procs[0].pid = 360; procs[0].st.start_time = 100 * hz;        /* the server, 500 s old */
	procs[1].pid = 373; procs[1].st.start_time = (600 - 1) * hz;  /* apache2 -t, 1 s */
	procs[2].pid = 390; procs[2].st.start_time = (600 - 10) * hz; /* a second server, 10 s */
	procs[3].pid = 361; procs[3].st.start_time = 101 * hz;        /* a worker of 360 */
	inst[0].main = 0;
	inst[1].main = 2;
	inst[2].main = 1;
	struct svc_obs o = { .procs = procs, .nprocs = 4, .nmatched = 3, .inst = inst, .ninst = 3 };
	struct snapshot s = { .svc = &o, .nsvc = 1 };
	struct cand_list l = { 0 };
	assert_int_equal(cand_hold_scanned(&l, &s, now, boot_ms, hz), 1);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.c[0].pid, 373);
	assert_int_equal(l.c[0].t_ms, now - 1000); /* its exec, not the scan, starts the wait */
	/* held once: the next scan adds nothing */
	assert_int_equal(cand_hold_scanned(&l, &s, now + 500, boot_ms + 500, hz), 0);
	/* the pass's main value for it is dropped, the server's stands */
	struct plan p;
	memset(&p, 0, sizeof(p));
	add_act(&p, ACT_OOM_SCORE_ADJ, 373, procs[1].st.start_time);
	add_act(&p, ACT_OOM_SCORE_ADJ, 360, procs[0].st.start_time);
	assert_int_equal(cand_filter_plan(&l, &p, now + 500), 1);
	assert_int_equal(p.nact, 1);
	assert_int_equal(p.act[0].pid, 360);
	/* a lone young main (the first instance) is never held */
	o.ninst = 1;
	cand_clear(&l);
	assert_int_equal(cand_hold_scanned(&l, &s, now, boot_ms, hz), 0);
	free(p.act);
	cand_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(take_on_fork_or_exit),
		cmocka_unit_test(pass_drops_young_keeps_settled),
		cmocka_unit_test(scan_holds_young_mains_beside_the_oldest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
