/* test_adminreserve.c - who escapes vm.admin_reserve_kbytes
 * (security/commoncap.c cap_vm_enough_memory, security/selinux/hooks.c
 * selinux_vm_enough_memory), one row per rule. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "adminreserve.h"
#include "tmptree.h"

#define SYS_ADMIN (1ull << 21)
#define INIT_NS 4026531837ull

static const struct {
	const char *rule;
	uint64_t cap_eff, userns;
	struct admin_facts f;
	enum admin_why want;
} rows[] = {
	{ "cap_vm_enough_memory: CAP_SYS_ADMIN in init_user_ns is exempt", 0x1ffffffffffull, INIT_NS,
	  { INIT_NS, false }, ADM_EXEMPT },
	{ "cap_vm_enough_memory: without CAP_SYS_ADMIN pays (a user's process)", 0, INIT_NS,
	  { INIT_NS, false }, ADM_NO_CAP },
	{ "cap_vm_enough_memory: only CAP_SYS_ADMIN counts (CAP_SYS_RESOURCE alone pays)",
	  1ull << 24, INIT_NS, { INIT_NS, false }, ADM_NO_CAP },
	{ "cap_capable(&init_user_ns): root in a user namespace pays (rootless podman, LXC)",
	  0x1ffffffffffull, 4026532500ull, { INIT_NS, false }, ADM_USERNS },
	{ "Docker-default root has no CAP_SYS_ADMIN: pays", 0xa80425fbull, INIT_NS,
	  { INIT_NS, false }, ADM_NO_CAP },
	{ "namespace unreadable: assume it pays", SYS_ADMIN, 0, { INIT_NS, false },
	  ADM_USERNS_UNKNOWN },
	{ "PID 1's namespace unreadable: assume it pays", SYS_ADMIN, INIT_NS, { 0, false },
	  ADM_USERNS_UNKNOWN },
	{ "selinux_vm_enough_memory: enforcing may deny sys_admin: assume it pays", SYS_ADMIN,
	  INIT_NS, { INIT_NS, true }, ADM_SELINUX },
};

static void exemption_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum admin_why w = admin_exemption(rows[i].cap_eff, rows[i].userns, &rows[i].f);
		if (w != rows[i].want)
			fail_msg("%s: got %s", rows[i].rule, admin_why_text(w));
	}
	assert_non_null(strstr(admin_why_text(ADM_USERNS), "user namespace"));
}

static void parsers(void **state)
{
	(void)state;
	uint64_t ino = 0;
	assert_int_equal(userns_link_parse("user:[4026531837]", &ino), 0);
	assert_int_equal(ino, INIT_NS);
	const char *bad[] = { "", "user:[]", "user:[12", "net:[4026531837]", "user:[-1]",
			      "user:[0]", "user:[1a]", "user:[123456789012345678901234]" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (userns_link_parse(bad[i], &ino) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
	bool e = true;
	assert_int_equal(selinux_enforce_parse("0\n", &e), 0);
	assert_false(e);
	assert_int_equal(selinux_enforce_parse("1", &e), 0);
	assert_true(e);
	assert_int_equal(selinux_enforce_parse("2\n", &e), -EINVAL);
	assert_int_equal(selinux_enforce_parse("10", &e), -EINVAL);
	assert_int_equal(selinux_enforce_parse("", &e), -EINVAL);
}

static void readers(void **state)
{
	(void)state;
	char *root = tt_make();
	char path[4096];
	snprintf(path, sizeof(path), "%s/proc/1/ns", root);
	tt_mkdirs(path);
	tt_symlink(root, "proc/1/ns/user", "user:[4026531837]");
	tt_write(root, "sys/fs/selinux/enforce", "1\n");
	struct roots r = { 0 };
	snprintf(r.procfs, sizeof(r.procfs), "%s/proc", root);
	snprintf(r.sysfs, sizeof(r.sysfs), "%s/sys", root);
	struct admin_facts f;
	admin_facts_read(&r, &f);
	assert_int_equal(f.init_userns, INIT_NS);
	assert_true(f.selinux_enforcing);
	snprintf(r.sysfs, sizeof(r.sysfs), "%s/nosys", root);
	admin_facts_read(&r, &f);
	assert_false(f.selinux_enforcing);
	tt_rm(root);
	/* this machine: our own namespace is always readable */
	roots_default(&r);
	uint64_t ino;
	assert_int_equal(proc_userns_read(&r, (int)getpid(), &ino), 0);
	assert_true(ino > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exemption_table),
		cmocka_unit_test(parsers),
		cmocka_unit_test(readers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
