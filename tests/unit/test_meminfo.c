/* test_meminfo.c - /proc/meminfo parser: real captures, then hostile text. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "meminfo.h"
#include "tmptree.h"
#include "util.h"

#define REQ "MemTotal: 100 kB\nSwapTotal: 0 kB\nCommitLimit: 50 kB\n"

static void real_capture(void **state)
{
	(void)state;
	char buf[16384];
	struct meminfo mi;
	assert_true(read_file(FIXTURES "/captures/meminfo", buf, sizeof(buf)) > 0);
	assert_int_equal(meminfo_parse(buf, &mi), 0);
	assert_int_equal(mi.mem_total_kb, 24684092);
	assert_int_equal(mi.mem_free_kb, 24371064);
	assert_int_equal(mi.mem_available_kb, 24348900);
	assert_int_equal(mi.swap_total_kb, 0);
	assert_int_equal(mi.commit_limit_kb, 12342044);
	assert_int_equal(mi.committed_as_kb, 58692);
	assert_int_equal(mi.hugetlb_kb, 0);
}

static void this_machine(void **state)
{
	(void)state;
	struct roots r;
	struct meminfo mi;
	roots_default(&r);
	assert_int_equal(meminfo_read(&r, &mi), 0);
	assert_true(mi.mem_total_kb > 0);
	assert_true(mi.commit_limit_kb > 0);
}

static void fixture_tree(void **state)
{
	(void)state;
	struct roots r = { .procfs = FIXTURES "/seed-strict/proc" };
	struct meminfo mi;
	assert_int_equal(meminfo_read(&r, &mi), 0);
	assert_int_equal(mi.mem_total_kb, 2097152);
	assert_int_equal(mi.commit_limit_kb, 1048576);
	assert_int_equal(mi.committed_as_kb, 921600);
	struct roots missing = { .procfs = "/nonexistent-oc" };
	assert_int_equal(meminfo_read(&missing, &mi), -ENOENT);
}

static const struct {
	const char *name, *buf;
	int rc;
	uint64_t total, committed, hugetlb, avail;
} cases[] = {
	{ "minimal", REQ "Committed_AS: 10 kB\n", 0, 100, 10, 0, 0 },
	{ "no final newline", REQ "Committed_AS: 10 kB", 0, 100, 10, 0, 0 },
	{ "tabs and trailing blanks", "MemTotal:\t 7 kB \nSwapTotal: 0 kB\nCommitLimit: 1 kB\n"
	  "Committed_AS: 2 kB\n", 0, 7, 2, 0, 0 },
	{ "optional keys", REQ "Committed_AS: 10 kB\nHugetlb: 4096 kB\nMemAvailable: 9 kB\n",
	  0, 100, 10, 4096, 9 },
	{ "unit-less unknown lines", REQ "HugePages_Total:       0\nCommitted_AS: 1 kB\n", 0, 100, 1, 0, 0 },
	{ "unknown duplicate ok", REQ "Foo: 1 kB\nFoo: 2 kB\nCommitted_AS: 1 kB\n", 0, 100, 1, 0, 0 },
	{ "max value 2^50", "MemTotal: 1125899906842624 kB\nSwapTotal: 0 kB\nCommitLimit: 1 kB\n"
	  "Committed_AS: 1 kB\n", 0, 1125899906842624ULL, 1, 0, 0 },
	{ "truncated after last key", REQ "Committed_AS: 3 kB\nVmallocTo", 0, 100, 3, 0, 0 },
	{ "empty", "", -EINVAL, 0, 0, 0, 0 },
	{ "missing MemTotal", "SwapTotal: 0 kB\nCommitLimit: 5 kB\nCommitted_AS: 1 kB\n", -EINVAL, 0, 0, 0, 0 },
	{ "missing SwapTotal", "MemTotal: 1 kB\nCommitLimit: 5 kB\nCommitted_AS: 1 kB\n", -EINVAL, 0, 0, 0, 0 },
	{ "missing CommitLimit", "MemTotal: 1 kB\nSwapTotal: 0 kB\nCommitted_AS: 1 kB\n", -EINVAL, 0, 0, 0, 0 },
	{ "missing Committed_AS", REQ, -EINVAL, 0, 0, 0, 0 },
	{ "truncated mid-number", REQ "Committed_AS:   1234", -EINVAL, 0, 0, 0, 0 },
	{ "truncated mid-unit", REQ "Committed_AS:   1234 k", -EINVAL, 0, 0, 0, 0 },
	{ "truncated mid-key", REQ "Committed_", -EINVAL, 0, 0, 0, 0 },
	{ "20 digits", REQ "Committed_AS: 99999999999999999999 kB\n", -EINVAL, 0, 0, 0, 0 },
	{ "above 2^50", "MemTotal: 1125899906842625 kB\nSwapTotal: 0 kB\nCommitLimit: 1 kB\n"
	  "Committed_AS: 1 kB\n", -EINVAL, 0, 0, 0, 0 },
	{ "duplicate used key", REQ "Committed_AS: 1 kB\nMemTotal: 200 kB\n", -EINVAL, 0, 0, 0, 0 },
	{ "no unit", REQ "Committed_AS: 10\n", -EINVAL, 0, 0, 0, 0 },
	{ "wrong unit", REQ "Committed_AS: 10 MB\n", -EINVAL, 0, 0, 0, 0 },
	{ "negative", REQ "Committed_AS: -10 kB\n", -EINVAL, 0, 0, 0, 0 },
	{ "junk in number", REQ "Committed_AS: 1x0 kB\n", -EINVAL, 0, 0, 0, 0 },
	{ "hex", REQ "Committed_AS: 0x10 kB\n", -EINVAL, 0, 0, 0, 0 },
	{ "empty value", REQ "Committed_AS: kB\n", -EINVAL, 0, 0, 0, 0 },
	{ "two numbers", REQ "Committed_AS: 1 2 kB\n", -EINVAL, 0, 0, 0, 0 },
	{ "key prefix is another key", REQ "Committed_ASX: 1 kB\n", -EINVAL, 0, 0, 0, 0 },
	{ "space before colon", REQ "Committed_AS : 1 kB\n", -EINVAL, 0, 0, 0, 0 },
};

static void table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct meminfo mi;
		int rc = meminfo_parse(cases[i].buf, &mi);
		if (rc != cases[i].rc)
			fail_msg("%s: rc %d, want %d", cases[i].name, rc, cases[i].rc);
		if (rc != 0)
			continue;
		if (mi.mem_total_kb != cases[i].total || mi.committed_as_kb != cases[i].committed ||
		    mi.hugetlb_kb != cases[i].hugetlb || mi.mem_available_kb != cases[i].avail)
			fail_msg("%s: wrong values", cases[i].name);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(real_capture),
		cmocka_unit_test(this_machine),
		cmocka_unit_test(fixture_tree),
		cmocka_unit_test(table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
