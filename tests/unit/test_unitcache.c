/* test_unitcache.c - a unit's OOMPolicy read once per scan generation:
 * served while the generation lasts, read again after it expired, an
 * unknown (failed) read kept as unknown, the oldest entry replaced when
 * full. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "unitcache.h"

static void served_until_expired(void **state)
{
	(void)state;
	static struct unit_cache c;
	memset(&c, 0, sizeof(c));
	assert_null(unitcache_find(&c, "apache2.service"));
	unitcache_put(&c, "apache2.service", "stop", 0);
	unitcache_put(&c, "redis-server.service", "x", -ENOENT);
	const struct unit_entry *e = unitcache_find(&c, "apache2.service");
	assert_non_null(e);
	assert_string_equal(e->policy, "stop");
	assert_int_equal(e->rc, 0);
	e = unitcache_find(&c, "redis-server.service");
	assert_non_null(e);
	assert_string_equal(e->policy, ""); /* unknown stays unknown */
	assert_int_equal(e->rc, -ENOENT);
	unitcache_expire(&c); /* the next full scan */
	assert_null(unitcache_find(&c, "apache2.service"));
	unitcache_put(&c, "apache2.service", "continue", 0);
	assert_string_equal(unitcache_find(&c, "apache2.service")->policy, "continue");
	assert_int_equal(c.n, 2); /* the same unit keeps its entry */
}

static void full_replaces_the_oldest(void **state)
{
	(void)state;
	static struct unit_cache c;
	memset(&c, 0, sizeof(c));
	char name[32];
	for (int i = 0; i < UNITCACHE_MAX; i++) {
		snprintf(name, sizeof(name), "u%d.service", i);
		unitcache_put(&c, name, "stop", 0);
		if (i == 0)
			unitcache_expire(&c); /* u0 is of an older generation */
	}
	unitcache_put(&c, "new.service", "kill", 0);
	assert_int_equal(c.n, UNITCACHE_MAX);
	assert_non_null(unitcache_find(&c, "new.service"));
	assert_null(unitcache_find(&c, "u0.service"));
	assert_non_null(unitcache_find(&c, "u1.service"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(served_until_expired),
		cmocka_unit_test(full_replaces_the_oldest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
