/* test_commitslack.c - the per-CPU slack of vm_committed_as
 * (mm/mm_init.c mm_compute_batch, lib/percpu_counter.c), one row per rule. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "commitslack.h"
#include "tmptree.h"
#include "util.h"

static const struct {
	const char *rule;
	uint64_t mem_kb;
	unsigned present, online;
	int mode;
	uint64_t batch_pages, slack_kb;
} rows[] = {
	/* 2 GiB, 2 CPUs, mode 2: 524288/2/256 = 1024 pages = 4 MiB each */
	{ "mm_compute_batch: OVERCOMMIT_NEVER ram_pages/nr/256 (2 GiB, 2 CPUs: ~8 MiB)",
	  2 * KB_PER_GB, 2, 2, 2, 1024, 8 * KB_PER_MB },
	{ "mm_compute_batch: other modes ram_pages/nr/4 (2 GiB, 2 CPUs, mode 0)",
	  2 * KB_PER_GB, 2, 2, 0, 65536, 512 * KB_PER_MB },
	{ "mm_compute_batch: mode 1 is 'other' too", 2 * KB_PER_GB, 2, 2, 1, 65536, 512 * KB_PER_MB },
	{ "mm_compute_batch: 64 GiB, 64 CPUs, mode 2 (~256 MiB)", 64 * KB_PER_GB, 64, 64, 2, 1024,
	  256 * KB_PER_MB },
	{ "mm_compute_batch: 512 GiB, 128 CPUs, mode 2 (~2 GiB)", 512 * KB_PER_GB, 128, 128, 2, 4096,
	  2 * KB_PER_GB },
	{ "mm_compute_batch: floor max(2*nr, 32) on a small host", 64 * KB_PER_MB, 4, 4, 2, 32,
	  4 * 32 * 4 },
	{ "mm_compute_batch: floor 2*nr with many CPUs", 256 * KB_PER_MB, 64, 64, 2, 128,
	  64 * 128 * 4 },
	{ "percpu_counter: only online CPUs hold a part (8 present, 2 online)", 8 * KB_PER_GB, 8, 2,
	  2, 1024, 2 * 4 * KB_PER_MB },
	{ "num_present_cpus divides (4 GiB, 2 CPUs: 16 MiB, over 12 MiB)", 4 * KB_PER_GB, 2, 2, 2,
	  2048, 16 * KB_PER_MB },
};

static void batch_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct cpu_counts c = { rows[i].present, rows[i].online };
		uint64_t b = commit_batch_pages(rows[i].mem_kb, c.present, rows[i].mode);
		uint64_t s = commit_slack_kb(rows[i].mem_kb, &c, rows[i].mode);
		if (b != rows[i].batch_pages || s != rows[i].slack_kb)
			fail_msg("%s: batch %llu slack %llu kB", rows[i].rule, (unsigned long long)b,
				 (unsigned long long)s);
	}
	assert_int_equal(commit_slack_kb(KB_PER_GB, NULL, 2), 0);
	struct cpu_counts none = { 0, 0 };
	assert_int_equal(commit_slack_kb(KB_PER_GB, &none, 2), 0);
}

static const struct {
	const char *buf;
	int rc;
	unsigned n;
} lists[] = {
	{ "0\n", 0, 1 },        { "0-1\n", 0, 2 },     { "0-3,8,10-11\n", 0, 7 },
	{ "0-127", 0, 128 },    { "", -EINVAL, 0 },     { "\n", -EINVAL, 0 },
	{ "3-1\n", -EINVAL, 0 }, { "0-\n", -EINVAL, 0 }, { "0,,1\n", -EINVAL, 0 },
	{ "a\n", -EINVAL, 0 },  { "0-99999999\n", -EINVAL, 0 }, { "0 1\n", -EINVAL, 0 },
};

static void cpulist(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		unsigned n = 0;
		int rc = cpulist_count_parse(lists[i].buf, &n);
		if (rc != lists[i].rc || (rc == 0 && n != lists[i].n))
			fail_msg("'%s': rc %d n %u", lists[i].buf, rc, n);
	}
}

static void reader(void **state)
{
	(void)state;
	char *root = tt_make();
	tt_write(root, "sys/devices/system/cpu/present", "0-7\n");
	tt_write(root, "sys/devices/system/cpu/online", "0-3\n");
	struct roots r = { 0 };
	snprintf(r.sysfs, sizeof(r.sysfs), "%s/sys", root);
	struct cpu_counts c;
	assert_int_equal(cpu_counts_read(&r, &c), 0);
	assert_int_equal(c.present, 8);
	assert_int_equal(c.online, 4);
	tt_write(root, "sys/devices/system/cpu/online", "x\n");
	assert_int_equal(cpu_counts_read(&r, &c), -EINVAL);
	tt_rm(root);
	roots_default(&r);
	assert_int_equal(cpu_counts_read(&r, &c), 0);
	assert_true(c.online >= 1 && c.present >= c.online);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(batch_table),
		cmocka_unit_test(cpulist),
		cmocka_unit_test(reader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
