/* test_chargecache.c - when smaps is read again, and the correction it
 * leaves on top of later VmData + VmStk readings. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "chargecache.h"

static const struct smaps_charge jemalloc = {
	/* Redis under mode 1: 600 MiB of MAP_NORESERVE arenas, 252 KiB charged */
	.charge_kb = 252, .largest_kb = 132, .noreserve_kb = 600 * 1024, .nvma = 40,
};

static void read_rule(void **state)
{
	(void)state;
	struct charge_cache c = { 0 };
	const uint64_t t0 = 1000;
	/* first sighting of a main process */
	assert_int_equal(charge_cache_why(&c, 10, 77, 0, 1, false, t0), CHARGE_FIRST);
	assert_int_equal(charge_cache_put(&c, 10, 77, &jemalloc, 600 * 1024 + 132, 600 * 1024, 1, t0), 0);
	struct {
		const char *rule;
		int pid;
		uint64_t start, vm_data, now;
		int64_t mode;
		bool band;
		enum charge_read_why want;
	} after[] = {
		{ "nothing moved: keep", 10, 77, 600 * 1024, t0 + 3600, 1, false, CHARGE_KEEP },
		{ "at most once per 10 minutes, even in the band", 10, 77, 600 * 1024, t0 + 599, 1, true,
		  CHARGE_KEEP },
		{ "at most once per 10 minutes, even after a mode change", 10, 77, 600 * 1024, t0 + 10,
		  2, false, CHARGE_KEEP },
		{ "cheap verdict inside the band", 10, 77, 600 * 1024, t0 + 600, 1, true,
		  CHARGE_IN_BAND },
		{ "VmData moved by more than 10%", 10, 77, 661 * 1024, t0 + 600, 1, false,
		  CHARGE_VMDATA_MOVED },
		{ "VmData moved by 10% exactly: keep", 10, 77, 660 * 1024, t0 + 600, 1, false,
		  CHARGE_KEEP },
		{ "VmData shrank by more than 10%", 10, 77, 500 * 1024, t0 + 600, 1, false,
		  CHARGE_VMDATA_MOVED },
		{ "overcommit_memory changed since the read", 10, 77, 600 * 1024, t0 + 600, 2, false,
		  CHARGE_MODE_CHANGED },
		{ "same pid, new start time: a new process, first sighting", 10, 78, 600 * 1024,
		  t0 + 1, 1, false, CHARGE_FIRST },
	};
	for (size_t i = 0; i < sizeof(after) / sizeof(after[0]); i++) {
		enum charge_read_why w = charge_cache_why(&c, after[i].pid, after[i].start,
							  after[i].vm_data, after[i].mode,
							  after[i].band, after[i].now);
		if (w != after[i].want)
			fail_msg("%s: got %s", after[i].rule, charge_read_why_name(w));
	}
	charge_cache_forget(&c, 10);
	assert_int_equal(c.n, 0);
	charge_cache_free(&c);
}

static void correction(void **state)
{
	(void)state;
	struct charge_cache c = { 0 };
	uint64_t cheap = 600 * 1024 + 132;
	assert_int_equal(charge_cache_put(&c, 10, 77, &jemalloc, cheap, 600 * 1024, 1, 5), 0);
	const struct charge_entry *e = charge_cache_find(&c, 10, 77);
	assert_non_null(e);
	assert_null(charge_cache_find(&c, 10, 78));

	struct fork_charge f = fork_charge_from(e, cheap, NULL);
	assert_int_equal(f.kb, 252);
	assert_int_equal(f.basis, CHARGE_EXACT);
	assert_int_equal(f.largest_kb, 132);
	assert_int_equal(f.noreserve_kb, 600 * 1024);
	/* 10 MiB of new charged memory since: the correction stays */
	f = fork_charge_from(e, cheap + 10240, NULL);
	assert_int_equal(f.kb, 252 + 10240);
	assert_int_equal(f.basis, CHARGE_CORRECTED);
	/* VmData fell below what the correction removes: never negative */
	f = fork_charge_from(e, 100, NULL);
	assert_int_equal(f.kb, 0);
	assert_int_equal(f.largest_kb, 0);
	/* too low the other way: RELRO-style accounted read-only memory adds */
	struct smaps_charge relro = { .charge_kb = 3000, .largest_kb = 2000 };
	assert_int_equal(charge_cache_put(&c, 10, 77, &relro, 1000, 900, 2, 700), 0);
	assert_int_equal(c.n, 1);
	f = fork_charge_from(charge_cache_find(&c, 10, 77), 1500, NULL);
	assert_int_equal(f.kb, 3500);
	/* nothing read: the estimate, maps' largest VMA when known */
	f = fork_charge_from(NULL, 4096, NULL);
	assert_int_equal(f.basis, CHARGE_ESTIMATE);
	assert_int_equal(f.kb, 4096);
	assert_int_equal(f.largest_kb, 4096);
	assert_false(f.largest_known);
	f = fork_charge_from(NULL, 4096, &(struct maps_estimate){ .largest_kb = 1024 });
	assert_int_equal(f.largest_kb, 1024);
	assert_true(f.largest_known);
	assert_string_equal(charge_basis_name(CHARGE_CORRECTED), "corrected");
	charge_cache_free(&c);
}

/* The DONTFORK share from fork events, one row per kernel rule */
static void fork_share(void **state)
{
	(void)state;
	static const struct {
		const char *rule;
		uint64_t parent, child;
		bool forknoexec;
		uint64_t want;
	} rows[] = {
		{ "kernel/fork.c dup_mmap: VM_DONTCOPY VMAs are skipped, the child lacks them "
		  "(MADV_DONTFORK 3 MiB)", 10240, 7168, true, 3072 },
		{ "dup_mmap copies everything else: no DONTFORK, no share", 10240, 10240, true, 0 },
		{ "the child grew after the fork (Redis's BGSAVE child): never negative", 10240,
		  11000, true, 0 },
		{ "fs/exec.c begin_new_exec cleared PF_FORKNOEXEC: another program's VmData", 10240,
		  100, false, 0 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t got = fork_dontfork_share(rows[i].parent, rows[i].child, rows[i].forknoexec);
		if (got != rows[i].want)
			fail_msg("%s: got %llu", rows[i].rule, (unsigned long long)got);
	}
	struct charge_cache c = { 0 };
	/* no smaps read: the estimate less the share, said to be one */
	assert_int_equal(charge_cache_fork(&c, 10, 77, 3072), 0);
	const struct charge_entry *e = charge_cache_find(&c, 10, 77);
	struct fork_charge f = fork_charge_from(e, 10240 + 132, NULL);
	assert_int_equal(f.kb, 7168 + 132);
	assert_int_equal(f.basis, CHARGE_FORK_EVENT);
	assert_string_equal(charge_basis_name(f.basis), "fork-event");
	/* a fork share does not stop the smaps read (first sighting still) */
	assert_int_equal(charge_cache_why(&c, 10, 77, 10240, 2, false, 5), CHARGE_FIRST);
	/* smaps read: exact, the fork share superseded */
	struct smaps_charge sm = { .charge_kb = 7300, .largest_kb = 7000, .dontfork_kb = 3072 };
	assert_int_equal(charge_cache_put(&c, 10, 77, &sm, 10240 + 132, 10240, 2, 5), 0);
	e = charge_cache_find(&c, 10, 77);
	f = fork_charge_from(e, 10240 + 132, NULL);
	assert_int_equal(f.kb, 7300);
	assert_int_equal(f.basis, CHARGE_EXACT);
	/* a later fork shows the DONTFORK region gone (MADV_DOFORK): charged again */
	assert_int_equal(charge_cache_fork(&c, 10, 77, 0), 0);
	f = fork_charge_from(e, 10240 + 132, NULL);
	assert_int_equal(f.kb, 7300 + 3072);
	assert_int_equal(f.basis, CHARGE_CORRECTED);
	/* a larger share never lowers an exact charge */
	assert_int_equal(charge_cache_fork(&c, 10, 77, 9000), 0);
	f = fork_charge_from(e, 10240 + 132, NULL);
	assert_int_equal(f.kb, 7300);
	/* a read in flight, then failed: not asked again for 10 minutes */
	assert_int_equal(charge_cache_asked(&c, 11, 5, 100), 0);
	assert_int_equal(charge_cache_why(&c, 11, 5, 1, 2, true, 5000), CHARGE_KEEP);
	assert_int_equal(charge_cache_failed(&c, 11, 5, 100), 0);
	assert_int_equal(charge_cache_why(&c, 11, 5, 1, 2, true, 699), CHARGE_KEEP);
	assert_int_equal(charge_cache_why(&c, 11, 5, 1, 2, true, 700), CHARGE_FIRST);
	f = fork_charge_from(charge_cache_find(&c, 11, 5), 50, NULL);
	assert_int_equal(f.basis, CHARGE_ESTIMATE);
	charge_cache_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read_rule),
		cmocka_unit_test(correction),
		cmocka_unit_test(fork_share),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
