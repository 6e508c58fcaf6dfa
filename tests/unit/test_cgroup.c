/* test_cgroup.c - cgroup memory files (v2 and v1): value parsers, the
 * hierarchy detection and group reads on fixture trees. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cgroup.h"
#include "tmptree.h"
#include "util.h"

static void values(void **state)
{
	(void)state;
	static const struct {
		const char *buf;
		int rc;
		uint64_t v;
	} cases[] = {
		{ "max\n", 0, CG_UNLIMITED },
		{ "max", 0, CG_UNLIMITED },
		{ "0\n", 0, 0 },
		{ "786432000\n", 0, 786432000 },
		{ "18446744073709551614\n", 0, UINT64_MAX - 1 },
		{ "18446744073709551615\n", -EINVAL, 0 }, /* would read back as "max" */
		{ "99999999999999999999\n", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "\n", -EINVAL, 0 },
		{ "maxx\n", -EINVAL, 0 },
		{ "MAX\n", -EINVAL, 0 },
		{ "-1\n", -EINVAL, 0 },
		{ "12 34\n", -EINVAL, 0 },
		{ "1G\n", -EINVAL, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t v = 7;
		int rc = cg_value_parse(cases[i].buf, &v);
		if (rc != cases[i].rc || (rc == 0 && v != cases[i].v))
			fail_msg("\"%s\": rc %d", cases[i].buf, rc);
	}
}

static void memory_stat(void **state)
{
	(void)state;
	static const struct {
		const char *buf;
		int rc;
		uint64_t anon, file;
	} cases[] = {
		{ "anon 10\nfile 20\n", 0, 10, 20 },
		{ "file 20\nanon 10", 0, 10, 20 },
		{ "anon 10\n", 0, 10, 0 },
		{ "anon_thp 5\nanon 10\nfile_mapped 3\nfile 4\n", 0, 10, 4 },
		{ "", -EINVAL, 0, 0 },
		{ "file 20\n", -EINVAL, 0, 0 },
		{ "anon_thp 5\n", -EINVAL, 0, 0 },
		{ "anon \n", -EINVAL, 0, 0 },
		{ "anon x\n", -EINVAL, 0, 0 },
		{ "anon 1\nanon 2\n", -EINVAL, 0, 0 },
		{ "anon 99999999999999999999\n", -EINVAL, 0, 0 },
		{ "anon 10\nfile -1\n", -EINVAL, 0, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t a = 1, f = 1;
		int rc = cg_memory_stat_parse(cases[i].buf, &a, &f);
		if (rc != cases[i].rc || (rc == 0 && (a != cases[i].anon || f != cases[i].file)))
			fail_msg("case %zu: rc %d anon %llu file %llu", i, rc, (unsigned long long)a,
				 (unsigned long long)f);
	}
	char buf[8192];
	uint64_t a, f;
	assert_true(read_file(FIXTURES "/compliant/cgroup/system.slice/redis-server.service/memory.stat",
			      buf, sizeof(buf)) > 0);
	assert_int_equal(cg_memory_stat_parse(buf, &a, &f), 0);
	assert_int_equal(a, 629145600);
	assert_int_equal(f, 20971520);
}

static void controllers(void **state)
{
	(void)state;
	struct roots r = { .cgroupfs = FIXTURES "/seed-strict/cgroup" };
	assert_true(cg_v2_memory_available(&r));
	char *t = tt_make();
	snprintf(r.cgroupfs, sizeof(r.cgroupfs), "%s", t);
	assert_false(cg_v2_memory_available(&r)); /* no cgroup.controllers: not cgroup2 */
	static const struct {
		const char *text;
		bool ok;
	} cases[] = {
		{ "memory\n", true }, { "cpu memory pids\n", true }, { "cpu\tmemory", true },
		{ "cpu pids\n", false }, { "memoryx cpu\n", false }, { "", false }, { "xmemory\n", false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		tt_write(t, "cgroup.controllers", cases[i].text);
		if (cg_v2_memory_available(&r) != cases[i].ok)
			fail_msg("\"%s\"", cases[i].text);
	}
	tt_rm(t);
}

static void read_groups(void **state)
{
	(void)state;
	struct roots r = { .cgroupfs = FIXTURES "/compliant/cgroup" };
	struct cg_memory m;
	assert_int_equal(cg_memory_read(&r, "/system.slice/redis-server.service", &m), 0);
	assert_true(m.present);
	assert_int_equal(m.current, 650117120);
	assert_int_equal(m.anon, 629145600);
	assert_int_equal(m.file, 20971520);
	assert_int_equal(m.high, 1572864000);
	assert_int_equal(m.max, CG_UNLIMITED);
	assert_int_equal(m.peak, 660602880);
	/* same group, trailing slash, no leading slash */
	assert_int_equal(cg_memory_read(&r, "system.slice/redis-server.service/", &m), 0);
	assert_true(m.present);
	/* no memory.peak (kernel < 5.19): 0 */
	assert_int_equal(cg_memory_read(&r, "/user.slice/user-0.slice/session-1.scope", &m), 0);
	assert_true(m.present);
	assert_int_equal(m.peak, 0);
	assert_int_equal(m.high, CG_UNLIMITED);
	/* root and missing groups: absent, not errors */
	assert_int_equal(cg_memory_read(&r, "/", &m), 0);
	assert_false(m.present);
	assert_int_equal(cg_memory_read(&r, "", &m), 0);
	assert_false(m.present);
	assert_int_equal(cg_memory_read(&r, "/overcommitd/redis", &m), 0);
	assert_false(m.present);
	/* a directory without memory files (controller not enabled) */
	assert_int_equal(cg_memory_read(&r, "/system.slice", &m), 0);
	assert_false(m.present);
	/* no escape from cgroupfs */
	assert_int_equal(cg_memory_read(&r, "/../../seed-strict/cgroup", &m), -EINVAL);
	assert_false(m.present);
}

static void read_broken(void **state)
{
	(void)state;
	char *t = tt_make();
	struct roots r;
	snprintf(r.cgroupfs, sizeof(r.cgroupfs), "%s", t);
	tt_write(t, "cgroup.controllers", "memory\n");
	tt_write(t, "g/memory.current", "100\n");
	tt_write(t, "g/memory.stat", "anon 1\nfile 2\n");
	tt_write(t, "g/memory.high", "max\n");
	tt_write(t, "g/memory.max", "200\n");
	struct cg_memory m;
	assert_int_equal(cg_memory_read(&r, "/g", &m), 0);
	assert_true(m.present);
	assert_int_equal(m.max, 200);
	tt_write(t, "g/memory.high", "lots\n");
	assert_int_equal(cg_memory_read(&r, "/g", &m), -EINVAL);
	assert_false(m.present);
	tt_write(t, "g/memory.high", "max\n");
	tt_write(t, "g/memory.stat", "file 2\n");
	assert_int_equal(cg_memory_read(&r, "/g", &m), -EINVAL);
	/* memory.current is a file, not a directory: a path below it is "absent" */
	assert_int_equal(cg_memory_read(&r, "/g/memory.current", &m), 0);
	assert_false(m.present);
	tt_rm(t);
}

static void limits_v1(void **state)
{
	(void)state;
	static const struct {
		const char *buf;
		uint64_t v;
	} cases[] = {
		{ "max\n", CG_UNLIMITED },
		{ "9223372036854771712\n", CG_UNLIMITED }, /* v1 "no limit", 4 KiB pages */
		{ "9223372036854710272\n", CG_UNLIMITED }, /* 64 KiB pages */
		{ "4611686018427387904\n", CG_UNLIMITED }, /* 2^62 */
		{ "4611686018427387903\n", 4611686018427387903ULL },
		{ "268435456\n", 268435456 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t v = 0;
		if (cg_limit_parse(cases[i].buf, &v) != 0 || v != cases[i].v)
			fail_msg("\"%s\"", cases[i].buf);
	}
	uint64_t v;
	assert_int_equal(cg_limit_parse("-1\n", &v), -EINVAL);
	uint64_t a, f;
	assert_int_equal(cg_v1_memory_stat_parse("cache 5\nrss 7\ntotal_cache 50\ntotal_rss 70\n", &a, &f), 0);
	assert_int_equal(a, 70);
	assert_int_equal(f, 50);
	assert_int_equal(cg_v1_memory_stat_parse("rss 7\ncache 5\n", &a, &f), -EINVAL);
	assert_int_equal(cg_v1_memory_stat_parse("total_rss 1\ntotal_rss 2\n", &a, &f), -EINVAL);
}

/* A v1 memory hierarchy at cgroupfs/memory (hybrid with cgroupfs/unified). */
static void seed_v1(const char *t)
{
	tt_write(t, "memory/memory.limit_in_bytes", "9223372036854771712\n");
	tt_write(t, "memory/g/memory.usage_in_bytes", "1000\n");
	tt_write(t, "memory/g/memory.stat", "cache 1\nrss 2\ntotal_cache 300\ntotal_rss 600\n");
	tt_write(t, "memory/g/memory.soft_limit_in_bytes", "9223372036854771712\n");
	tt_write(t, "memory/g/memory.limit_in_bytes", "4096000\n");
	tt_write(t, "memory/g/memory.max_usage_in_bytes", "2000\n");
}

static void hierarchy(void **state)
{
	(void)state;
	char *t = tt_make();
	struct roots r;
	snprintf(r.cgroupfs, sizeof(r.cgroupfs), "%s", t);
	assert_int_equal(cg_hierarchy(&r), CG_HIER_NONE);
	tt_write(t, "cpu/cpu.shares", "1024\n"); /* v1, but no memory controller */
	assert_int_equal(cg_hierarchy(&r), CG_HIER_NONE);
	seed_v1(t);
	assert_int_equal(cg_hierarchy(&r), CG_HIER_V1);
	assert_string_equal(cg_hier_name(CG_HIER_V1), "v1");
	tt_write(t, "unified/cgroup.controllers", "\n");
	assert_int_equal(cg_hierarchy(&r), CG_HIER_HYBRID);
	assert_string_equal(cg_hier_name(CG_HIER_HYBRID), "hybrid");
	assert_true(cg_hier_v1(CG_HIER_HYBRID));
	assert_false(cg_hier_v1(CG_HIER_V2));
	/* v2 with the memory controller wins over anything below it */
	tt_write(t, "cgroup.controllers", "cpu memory\n");
	assert_int_equal(cg_hierarchy(&r), CG_HIER_V2);
	assert_string_equal(cg_hier_name(CG_HIER_V2), "v2");
	assert_string_equal(cg_hier_name(CG_HIER_NONE), "none");
	assert_string_equal(cg_limit_file(CG_HIER_V2, true), "memory.max");
	assert_string_equal(cg_limit_file(CG_HIER_V2, false), "memory.high");
	assert_string_equal(cg_limit_file(CG_HIER_V1, true), "memory.limit_in_bytes");
	assert_string_equal(cg_limit_file(CG_HIER_HYBRID, false), "memory.soft_limit_in_bytes");
	char rel[64];
	assert_int_equal(cg_group_rel(CG_HIER_V1, "/a/b", rel, sizeof(rel)), 0);
	assert_string_equal(rel, "/memory/a/b");
	assert_int_equal(cg_group_rel(CG_HIER_V2, "/a/b", rel, sizeof(rel)), 0);
	assert_string_equal(rel, "//a/b");
	tt_rm(t);
}

static void read_v1(void **state)
{
	(void)state;
	char *t = tt_make();
	struct roots r;
	snprintf(r.cgroupfs, sizeof(r.cgroupfs), "%s", t);
	seed_v1(t);
	struct cg_memory m;
	assert_int_equal(cg_memory_read(&r, "/g", &m), 0);
	assert_true(m.present);
	assert_int_equal(m.current, 1000);
	assert_int_equal(m.anon, 600);
	assert_int_equal(m.file, 300);
	assert_int_equal(m.high, CG_UNLIMITED);
	assert_int_equal(m.max, 4096000);
	assert_int_equal(m.peak, 2000);
	assert_int_equal(cg_memory_read(&r, "/missing", &m), 0);
	assert_false(m.present);
	tt_rm(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(values),
		cmocka_unit_test(memory_stat),
		cmocka_unit_test(controllers),
		cmocka_unit_test(read_groups),
		cmocka_unit_test(read_broken),
		cmocka_unit_test(limits_v1),
		cmocka_unit_test(hierarchy),
		cmocka_unit_test(read_v1),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
