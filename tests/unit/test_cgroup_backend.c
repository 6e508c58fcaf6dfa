/* test_cgroup_backend.c - what of the libcgroup backend runs without
 * writing: the subtree_control word check and cgb_open's refusal of a tree
 * that is not the mounted hierarchy (the writes themselves: tests/vm,
 * cgroup-writer-v2 and -v1). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "cgroup_backend.h"
#include "tmptree.h"
#include "util.h"

static void list_has_memory(void **state)
{
	(void)state;
	static const struct {
		const char *list;
		bool has;
	} cases[] = {
		{ "memory", true }, { "cpu memory pids\n", true }, { "cpu\tmemory", true },
		{ "", false }, { "\n", false }, { "cpu pids", false }, { "memoryx", false },
		{ "xmemory pids", false }, { "memor", false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		if (cgb_list_has_memory(cases[i].list) != cases[i].has)
			fail_msg("\"%s\"", cases[i].list);
}

/* A fixture tree is never written through libcgroup: -EXDEV where a memory
 * controller is mounted on this machine (libcgroup's, elsewhere), -ENODEV
 * where none is; never 0.  A tree without a memory controller: -ENODEV
 * before libcgroup is asked. */
static void open_refuses_fixtures(void **state)
{
	(void)state;
	char *t = tt_make();
	struct roots r;
	struct cgb b;
	snprintf(r.cgroupfs, sizeof(r.cgroupfs), "%s", t);
	assert_int_equal(cgb_open(&r, &b), -ENODEV);
	tt_write(t, "cgroup.controllers", "cpu memory\n");
	int rc = cgb_open(&r, &b);
	if (rc != -EXDEV && rc != -ENODEV)
		fail_msg("v2 fixture: %d", rc);
	assert_int_equal(b.hier, CG_HIER_V2);
	tt_rm(t);
	t = tt_make();
	snprintf(r.cgroupfs, sizeof(r.cgroupfs), "%s", t);
	tt_write(t, "memory/memory.limit_in_bytes", "9223372036854771712\n");
	rc = cgb_open(&r, &b);
	if (rc != -EXDEV && rc != -ENODEV)
		fail_msg("v1 fixture: %d", rc);
	assert_int_equal(b.hier, CG_HIER_V1);
	tt_rm(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(list_has_memory),
		cmocka_unit_test(open_refuses_fixtures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
