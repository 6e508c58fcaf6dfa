/* test_mainorig.c - a main's oom_score_adj before overcommitd wrote it,
 * from the journal: the same process only (pid and start time), noted per
 * instance; and the read-only open the one-shot reports use, which creates
 * and removes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mainorig.h"
#include "oomconflict.h"
#include "tmptree.h"

#define BOOT "11111111-2222-3333-4444-555555555555"

static void journal_with_entries(const char *state)
{
	struct journal j;
	assert_int_equal(journal_open(state, BOOT, JOURNAL_CREATE, &j), 0);
	assert_int_equal(journal_record(&j, J_OOM_SCORE_ADJ, "100", "-900", 100, 5000), 0);
	assert_int_equal(journal_record(&j, J_OOM_SCORE_ADJ, "200", "0", 200, 0), 0);
	assert_int_equal(journal_record(&j, J_OOM_SCORE_ADJ, "300", "junk", 300, 7), 0);
	journal_close(&j);
}

static void test_of(void **st)
{
	(void)st;
	char *t = tt_make();
	char state[4096];
	snprintf(state, sizeof(state), "%s/state", t);
	journal_with_entries(state);
	struct journal j;
	assert_int_equal(journal_open(state, BOOT, JOURNAL_READ_ONLY, &j), 0);
	assert_int_equal(mainorig_of(&j, 100, 5000), -900);
	assert_int_equal(mainorig_of(&j, 100, 0), -900);              /* start unknown */
	assert_int_equal(mainorig_of(&j, 100, 5001), OOM_ORIG_UNKNOWN); /* another process */
	assert_int_equal(mainorig_of(&j, 200, 99), 0);                /* recorded without start */
	assert_int_equal(mainorig_of(&j, 300, 7), OOM_ORIG_UNKNOWN);  /* not a value */
	assert_int_equal(mainorig_of(&j, 400, 1), OOM_ORIG_UNKNOWN);  /* never written */

	/* noted per instance, by its main */
	struct proc_info procs[2] = { { .pid = 100 }, { .pid = 400 } };
	procs[0].st.start_time = 5000;
	struct svc_inst inst[2] = { { .main = 0, .main_orig_adj = OOM_ORIG_UNKNOWN },
				    { .main = 1, .main_orig_adj = 42, .main_was_adj = 42 } };
	struct svc_obs o = { .procs = procs, .nprocs = 2, .inst = inst, .ninst = 2 };
	struct snapshot s = { .svc = &o, .nsvc = 1 };
	mainorig_note(&j, &s, false); /* a one-shot report: not judged by */
	assert_int_equal(inst[0].main_was_adj, -900);
	assert_int_equal(inst[0].main_orig_adj, OOM_ORIG_UNKNOWN);
	assert_int_equal(inst[1].main_was_adj, OOM_ORIG_UNKNOWN);
	mainorig_note(&j, &s, true); /* the daemon */
	assert_int_equal(inst[0].main_orig_adj, -900);
	assert_int_equal(inst[1].main_orig_adj, OOM_ORIG_UNKNOWN);
	journal_close(&j);
	tt_rm(t);
}

/* The reports' open: no directory made, no lock file made, the journal of
 * another boot's processes not loaded. */
static void test_read_only(void **st)
{
	(void)st;
	char *t = tt_make();
	char state[4096], lock[4200];
	struct journal j;
	snprintf(state, sizeof(state), "%s/none", t);
	assert_int_equal(journal_open(state, BOOT, JOURNAL_READ_ONLY | JOURNAL_CREATE, &j), 0);
	assert_int_equal(journal_live(&j), 0);
	journal_close(&j);
	struct stat sb;
	assert_int_equal(stat(state, &sb), -1); /* not created */

	snprintf(state, sizeof(state), "%s/state", t);
	journal_with_entries(state);
	snprintf(lock, sizeof(lock), "%s/lock", state);
	assert_int_equal(unlink(lock), 0);
	assert_int_equal(journal_open(state, BOOT, JOURNAL_READ_ONLY, &j), 0);
	assert_int_equal(journal_live(&j), 3);
	journal_close(&j);
	assert_int_equal(stat(lock, &sb), -1); /* no lock file made */

	assert_int_equal(journal_open(state, "99999999-2222-3333-4444-555555555555",
				      JOURNAL_READ_ONLY, &j), 0);
	assert_int_equal(mainorig_of(&j, 100, 5000), OOM_ORIG_UNKNOWN); /* an earlier boot's */
	journal_close(&j);
	tt_rm(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_of),
		cmocka_unit_test(test_read_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
