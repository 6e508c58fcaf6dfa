/* test_childgroup.c - the fork child's leaf group: its path, who counts as
 * in it, and the two actions (attach, memory.high) only for the policy's
 * own group. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "childgroup.h"

static void test_path(void **st)
{
	(void)st;
	char out[64];
	assert_int_equal(childgroup_path("/overcommitd/redis", out, sizeof(out)), 0);
	assert_string_equal(out, "/overcommitd/redis.fork");
	assert_int_equal(childgroup_path("/", out, sizeof(out)), -EINVAL);
	assert_int_equal(childgroup_path("", out, sizeof(out)), -EINVAL);
	char small[20];
	assert_int_equal(childgroup_path("/overcommitd/redis", small, sizeof(small)), -ENAMETOOLONG);
}

static void test_is(void **st)
{
	(void)st;
	assert_true(childgroup_is("/overcommitd/redis.fork", "/overcommitd/redis"));
	assert_false(childgroup_is("/overcommitd/redis", "/overcommitd/redis"));
	assert_false(childgroup_is("/overcommitd/redis.forked", "/overcommitd/redis"));
	assert_false(childgroup_is("/overcommitd/redis2.fork", "/overcommitd/redis"));
	assert_false(childgroup_is("/.fork", "/"));
}

static char svc_name[] = "redis";

static struct pol_service svc(void)
{
	struct pol_service ps;
	memset(&ps, 0, sizeof(ps));
	ps.name = svc_name;
	return ps;
}

static struct proc_info child(void)
{
	struct proc_info pi;
	memset(&pi, 0, sizeof(pi));
	pi.pid = 4242;
	pi.st.start_time = 777;
	snprintf(pi.st.comm, sizeof(pi.st.comm), "redis-rdb-bgsave");
	return pi;
}

static void test_plan_own_group(void **st)
{
	(void)st;
	struct pol_service ps = svc();
	struct proc_info pi = child();
	struct plan p = { 0 };
	/* 20 MiB + 1 KiB of budget: rounded up to 21 MiB */
	assert_int_equal(childgroup_plan(&ps, &pi, "/overcommitd/redis", 20 * 1024 + 1, &p), 0);
	assert_int_equal(p.nact, 2);
	assert_int_equal(p.act[0].kind, ACT_CGROUP_ATTACH);
	assert_int_equal(p.act[0].pid, 4242);
	assert_int_equal(p.act[0].start_time, 777);
	assert_string_equal(p.act[0].cgroup, "/overcommitd/redis.fork");
	assert_int_equal(p.act[1].kind, ACT_MEMORY_HIGH);
	assert_string_equal(p.act[1].cgroup, "/overcommitd/redis.fork");
	assert_string_equal(p.act[1].desired, "22020096");
	plan_free(&p);
	/* a tiny budget: the floor */
	assert_int_equal(childgroup_plan(&ps, &pi, "/overcommitd/redis", 100, &p), 0);
	assert_string_equal(p.act[1].desired, "16777216");
	plan_free(&p);
}

static void test_plan_not_ours(void **st)
{
	(void)st;
	struct pol_service ps = svc();
	struct proc_info pi = child();
	struct plan p = { 0 };
	/* a unit's group is systemd's; a group the policy does not name either */
	assert_int_equal(childgroup_plan(&ps, &pi, "/system.slice/redis-server.service", 1 << 20, &p), 0);
	assert_int_equal(childgroup_plan(&ps, &pi, "/overcommitd/other", 1 << 20, &p), 0);
	assert_int_equal(p.nact, 0);
	plan_free(&p);
}

/* a cancelled episode: its child leaves the leaf, and only the leaf */
static void test_return_plan(void **st)
{
	(void)st;
	struct pol_service ps = svc();
	struct proc_info pi = child();
	struct plan p = { 0 };
	/* the policy names no group: the default /overcommitd/<name> */
	snprintf(pi.cgroup, sizeof(pi.cgroup), "/overcommitd/redis.fork");
	assert_int_equal(childgroup_return_plan(&ps, &pi, &p), 0);
	assert_int_equal(p.nact, 1);
	assert_int_equal(p.act[0].kind, ACT_CGROUP_ATTACH);
	assert_int_equal(p.act[0].pid, 4242);
	assert_int_equal(p.act[0].start_time, 777);
	assert_string_equal(p.act[0].cgroup, "/overcommitd/redis");
	assert_string_equal(p.act[0].current, "/overcommitd/redis.fork");
	plan_free(&p);
	const char *elsewhere[] = { "/overcommitd/redis", "/overcommitd/other.fork",
				    "/system.slice/redis-server.service", "" };
	for (size_t i = 0; i < sizeof(elsewhere) / sizeof(elsewhere[0]); i++) {
		snprintf(pi.cgroup, sizeof(pi.cgroup), "%s", elsewhere[i]);
		assert_int_equal(childgroup_return_plan(&ps, &pi, &p), 0);
		assert_int_equal(p.nact, 0);
	}
	plan_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_is),
		cmocka_unit_test(test_plan_own_group),
		cmocka_unit_test(test_plan_not_ours),
		cmocka_unit_test(test_return_plan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
