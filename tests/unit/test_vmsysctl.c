/* test_vmsysctl.c - the five vm.* sysctls: names, value parsing, tree reads. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tmptree.h"
#include "util.h"
#include "vmsysctl.h"

static void names(void **state)
{
	(void)state;
	static const char *const want[VM_NKNOBS][2] = {
		{ "vm.overcommit_memory", "sys/vm/overcommit_memory" },
		{ "vm.overcommit_ratio", "sys/vm/overcommit_ratio" },
		{ "vm.overcommit_kbytes", "sys/vm/overcommit_kbytes" },
		{ "vm.user_reserve_kbytes", "sys/vm/user_reserve_kbytes" },
		{ "vm.admin_reserve_kbytes", "sys/vm/admin_reserve_kbytes" },
	};
	for (int k = 0; k < VM_NKNOBS; k++) {
		assert_string_equal(vm_knob_name((enum vm_knob)k), want[k][0]);
		assert_string_equal(vm_knob_relpath((enum vm_knob)k), want[k][1]);
	}
	assert_null(vm_knob_name(VM_NKNOBS));
	assert_null(vm_knob_relpath(VM_NKNOBS));
}

static const struct {
	const char *buf;
	int rc;
	int64_t v;
} values[] = {
	{ "0\n", 0, 0 },
	{ "50", 0, 50 },
	{ "100407\n", 0, 100407 },
	{ "-1\n", 0, -1 },
	{ "9223372036854775807\n", 0, INT64_MAX },
	{ "", -EINVAL, 0 },
	{ "\n", -EINVAL, 0 },
	{ "1 2\n", -EINVAL, 0 },
	{ "abc\n", -EINVAL, 0 },
	{ "0x10\n", -EINVAL, 0 },
	{ "12kB\n", -EINVAL, 0 },
	{ "9223372036854775808\n", -EINVAL, 0 },
	{ "99999999999999999999\n", -EINVAL, 0 },
};

static void mode_names(void **state)
{
	(void)state;
	assert_string_equal(vm_mode_name(VM_MODE_HEURISTIC), "heuristic");
	assert_string_equal(vm_mode_name(VM_MODE_ALWAYS), "always");
	assert_string_equal(vm_mode_name(VM_MODE_STRICT), "strict");
	assert_string_equal(vm_mode_name(3), "unknown");
	assert_string_equal(vm_mode_name(-1), "unknown");
}

static void parse_values(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
		int64_t v = 12345;
		int rc = vm_value_parse(values[i].buf, &v);
		if (rc != values[i].rc || (rc == 0 && v != values[i].v))
			fail_msg("\"%s\": rc %d v %lld", values[i].buf, rc, (long long)v);
	}
}

static void read_fixture(void **state)
{
	(void)state;
	struct roots r = { .procfs = FIXTURES "/seed-strict/proc" };
	struct vm_sysctls s;
	assert_int_equal(vm_sysctls_read(&r, &s), 0);
	assert_int_equal(s.v[VM_OVERCOMMIT_MEMORY], 2);
	assert_int_equal(s.v[VM_OVERCOMMIT_RATIO], 50);
	assert_int_equal(s.v[VM_OVERCOMMIT_KBYTES], 0);
	assert_int_equal(s.v[VM_USER_RESERVE_KBYTES], 65536);
	assert_int_equal(s.v[VM_ADMIN_RESERVE_KBYTES], 8192);
}

static void read_this_machine(void **state)
{
	(void)state;
	struct roots r;
	struct vm_sysctls s;
	roots_default(&r);
	assert_int_equal(vm_sysctls_read(&r, &s), 0);
	assert_in_range(s.v[VM_OVERCOMMIT_MEMORY], 0, 2);
}

static void read_broken(void **state)
{
	(void)state;
	char *t = tt_make();
	struct roots r;
	struct vm_sysctls s;
	snprintf(r.procfs, sizeof(r.procfs), "%s/proc", t);
	tt_add_host(t, NULL);
	assert_int_equal(vm_sysctls_read(&r, &s), 0);
	tt_write(t, "proc/sys/vm/overcommit_ratio", "fifty\n");
	assert_int_equal(vm_sysctls_read(&r, &s), -EINVAL);
	tt_write(t, "proc/sys/vm/overcommit_ratio", "50\n");
	char p[4200];
	snprintf(p, sizeof(p), "%s/proc/sys/vm/admin_reserve_kbytes", t);
	unlink(p);
	assert_int_equal(vm_sysctls_read(&r, &s), -ENOENT);
	tt_rm(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names),
		cmocka_unit_test(mode_names),
		cmocka_unit_test(parse_values),
		cmocka_unit_test(read_fixture),
		cmocka_unit_test(read_this_machine),
		cmocka_unit_test(read_broken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
