/* test_trust.c - UID_MIN from login.defs text, and who may be acted on. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "trust.h"
#include "util.h"

static const struct {
	const char *name, *buf;
	int rc;
	unsigned want;
} defs[] = {
	{ "empty: default", "", 0, 1000 },
	{ "Debian", "UID_MIN\t\t\t 1000\nUID_MAX\t\t\t60000\n", 0, 1000 },
	{ "old Red Hat", "UID_MIN                   500\n", 0, 500 },
	{ "commented out", "#UID_MIN 10\n", 0, 1000 },
	{ "trailing comment", "UID_MIN 2000 # site policy\n", 0, 2000 },
	{ "last one wins", "UID_MIN 2000\nUID_MIN 3000\n", 0, 3000 },
	{ "longer key ignored", "UID_MINX 5\nSYS_UID_MIN 100\n", 0, 1000 },
	{ "no newline at end", "UID_MIN 1500", 0, 1500 },
	{ "junk value", "UID_MIN lots\n", -EINVAL, 1000 },
	{ "negative", "UID_MIN -1\n", -EINVAL, 1000 },
	{ "2^32", "UID_MIN 4294967296\n", -EINVAL, 1000 },
	{ "hex (shadow takes it; we refuse)", "UID_MIN 0x400\n", -EINVAL, 1000 },
	{ "no value", "UID_MIN\n", 0, 1000 },
};

static void uid_min_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(defs); i++) {
		uid_t u = 7;
		int rc = uid_min_parse(defs[i].buf, &u);
		if (rc != defs[i].rc || u != defs[i].want)
			fail_msg("%s: rc %d uid_min %u", defs[i].name, rc, (unsigned)u);
	}
}

static void uid_min_missing_file(void **state)
{
	(void)state;
	struct roots r = { .etc = "/nonexistent-oc" };
	uid_t u = 7;
	assert_int_equal(uid_min_read(&r, &u), 0);
	assert_int_equal(u, UID_MIN_DEFAULT);
}

static void who_may_be_acted_on(void **state)
{
	(void)state;
	struct user_key none = { 0 };
	struct user_key named = { .set = true, .ok = true, .uid = 1001 };
	struct user_key unknown = { .set = true, .ok = false };
	assert_true(trust_uid(&none, 1000, 999, 999));
	assert_true(trust_uid(NULL, 1000, 0, 0));
	assert_false(trust_uid(&none, 1000, 1000, 1000));
	assert_false(trust_uid(&none, 1000, 1000, 0)); /* setuid root run by a user */
	assert_false(trust_uid(&none, 1000, 0, 1000));
	assert_true(trust_uid(&named, 1000, 1001, 1001));
	/* a named user replaces the system-user rule for matched processes */
	assert_false(trust_uid(&named, 1000, 0, 0));
	assert_false(trust_uid(&unknown, 1000, 0, 0));
	struct proc_info p = { 0 };
	p.status.uid = p.status.euid = 33; /* an Apache worker as www-data */
	assert_true(trust_child(&named, 1000, &p));
	p.status.uid = p.status.euid = 1002;
	assert_false(trust_child(&named, 1000, &p));
	assert_int_equal(user_key_resolve("0").uid, 0);
	assert_true(user_key_resolve("root").ok);
	assert_false(user_key_resolve("no-such-user-oc").ok);
	/* asked again at once: the kept answers, found and not found, and
	 * no NSS lookup (the exec path asks for every matching exec) */
	uint64_t n = user_key_lookups();
	for (int i = 0; i < 5; i++) {
		struct user_key r = user_key_resolve("root");
		assert_true(r.ok);
		assert_int_equal(r.uid, 0);
		assert_false(user_key_resolve("no-such-user-oc").ok);
	}
	assert_int_equal(user_key_lookups(), n);
	/* a name never asked is looked up */
	assert_false(user_key_resolve("no-such-user-oc2").ok);
	assert_int_equal(user_key_lookups(), n + 1);
	assert_false(user_key_resolve(NULL).set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(uid_min_table),
		cmocka_unit_test(uid_min_missing_file),
		cmocka_unit_test(who_may_be_acted_on),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
