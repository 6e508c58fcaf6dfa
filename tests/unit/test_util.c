/* test_util.c - strict number, size, percent and bool parsing; file I/O. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static void sizes(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int rc;
		uint64_t kb;
	} t[] = {
		{ "512", 0, 512 },          { "64K", 0, 64 },         { "128M", 0, 131072 },
		{ "2G", 0, 2097152 },       { "1T", 0, 1073741824 },  { "1g", 0, 1048576 },
		{ " 8M ", 0, 8192 },        { "4MiB", 0, 4096 },      { "4MB", 0, 4096 },
		{ "4096B", 0, 4 },          { "1B", 0, 1 },           { "0", 0, 0 },
		{ "", -EINVAL, 0 },         { "M", -EINVAL, 0 },      { "12X", -EINVAL, 0 },
		{ "-1M", -EINVAL, 0 },      { "1.5G", -EINVAL, 0 },   { "1 G", -EINVAL, 0 },
		{ "1048577T", -ERANGE, 0 }, { "99999999999999999999999", -ERANGE, 0 },
		{ "16777216T", -ERANGE, 0 },
		/* issue 13 item 8: byte counts near 2^64 wrapped to 0 or past the ceiling */
		{ "18446744073709551615B", -ERANGE, 0 }, { "18446744073709549568B", -ERANGE, 0 },
		{ "18446744073709551616B", -ERANGE, 0 }, { "1152921504606846976B", 0, 1ULL << 50 },
		{ "1152921504606846977B", -ERANGE, 0 },  { "1025B", 0, 2 },
		{ "1024T", 0, 1ULL << 40 },              { "1048576T", 0, 1ULL << 50 },
		{ "17179869184G", -ERANGE, 0 },         { "18014398509481984K", -ERANGE, 0 },
		{ "1125899906842624", 0, 1ULL << 50 },   { "1125899906842625", -ERANGE, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		uint64_t kb = 0;
		int rc = parse_size_kb(t[i].in, &kb);
		if (rc != t[i].rc || (rc == 0 && kb != t[i].kb))
			fail_msg("\"%s\": rc %d kb %llu", t[i].in, rc, (unsigned long long)kb);
	}
}

static void percents(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int rc;
		uint32_t bp;
	} t[] = {
		{ "90%", 0, 9000 },     { "12.5%", 0, 1250 }, { "0.01%", 0, 1 },  { "100%", 0, 10000 },
		{ "101%", -ERANGE, 0 }, { "90", -EINVAL, 0 }, { "%", -EINVAL, 0 }, { "1.234%", -EINVAL, 0 },
		{ "1.%", -EINVAL, 0 },  { "-5%", -EINVAL, 0 }, { "5%%", -EINVAL, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		uint32_t bp = 0;
		int rc = parse_percent_bp(t[i].in, 10000, &bp);
		if (rc != t[i].rc || (rc == 0 && bp != t[i].bp))
			fail_msg("\"%s\": rc %d bp %u", t[i].in, rc, bp);
	}
}

static void integers_and_bools(void **state)
{
	(void)state;
	int64_t v;
	assert_int_equal(parse_i64("-1000", -1000, 1000, &v), 0);
	assert_int_equal(v, -1000);
	assert_int_equal(parse_i64("-1001", -1000, 1000, &v), -ERANGE);
	assert_int_equal(parse_i64("9223372036854775807", INT64_MIN, INT64_MAX, &v), 0);
	assert_int_equal(parse_i64("9223372036854775808", INT64_MIN, INT64_MAX, &v), -ERANGE);
	assert_int_equal(parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v), 0);
	assert_true(v == INT64_MIN);
	assert_int_equal(parse_i64("0x10", 0, 100, &v), -EINVAL); /* no base 0 */
	assert_int_equal(parse_i64("12abc", 0, 100, &v), -EINVAL);
	assert_int_equal(parse_i64("", 0, 100, &v), -EINVAL);
	uint64_t u;
	assert_int_equal(parse_u64("18446744073709551615", UINT64_MAX, &u), 0);
	assert_int_equal(parse_u64("18446744073709551616", UINT64_MAX, &u), -ERANGE);
	bool b;
	const char *yes[] = { "yes", "TRUE", "on", "1", " Yes " };
	const char *no[] = { "no", "False", "OFF", "0" };
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		assert_int_equal(parse_bool(yes[i], &b), 0);
		assert_true(b);
	}
	for (size_t i = 0; i < ARRAY_SIZE(no); i++) {
		assert_int_equal(parse_bool(no[i], &b), 0);
		assert_false(b);
	}
	assert_int_equal(parse_bool("yesno", &b), -EINVAL);
	assert_int_equal(parse_bool("o", &b), -EINVAL); /* iniparser would say "off" */
}

static void formatting(void **state)
{
	(void)state;
	char buf[24];
	assert_string_equal(fmt_kb(512, buf, sizeof(buf)), "512 KiB");
	assert_string_equal(fmt_kb(600 * 1024, buf, sizeof(buf)), "600 MiB");
	assert_string_equal(fmt_kb(1536 * 1024, buf, sizeof(buf)), "1.5 GiB");
	assert_string_equal(fmt_skb(-400 * 1024, buf, sizeof(buf)), "-400 MiB");
	assert_string_equal(fmt_skb(INT64_MIN, buf, sizeof(buf)), "-8589934592.0 TiB");
	char p[64];
	assert_int_equal(path_join(p, sizeof(p), "/proc/", "/sys/vm/x"), 0);
	assert_string_equal(p, "/proc/sys/vm/x");
	assert_int_equal(path_join(p, 8, "/proc", "sys/vm/x"), -ENAMETOOLONG);
}

static void files(void **state)
{
	(void)state;
	char dir[] = "/tmp/oc-util-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128], buf[16];
	snprintf(path, sizeof(path), "%s/f", dir);
	/* write_file never creates: kernel files exist */
	assert_int_equal(write_file(path, "x"), -ENOENT);
	assert_int_equal(write_file_atomic(path, "hello\n", 6, 0600), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(read_file(path, buf, sizeof(buf)), 6);
	assert_string_equal(buf, "hello\n");
	assert_int_equal(write_file(path, "42\n"), 0);
	assert_int_equal(read_file_at(dir, "f", buf, sizeof(buf)), 3);
	assert_string_equal(buf, "42\n");
	assert_int_equal(read_file(path, buf, 3), -EFBIG); /* does not fit */
	assert_int_equal(open_writable(path), 0);
	assert_int_equal(write_file("/dev/full", "1"), -ENOSPC);
	unlink(path);
	rmdir(dir);
}

/* mount options, /sys/kernel/cgroup/features, cgroup.controllers: whole
 * items only */
static void list_words(void **state)
{
	(void)state;
	assert_true(list_has_word("rw,favordynmods", "favordynmods"));
	assert_true(list_has_word("favordynmods,rw", "favordynmods"));
	assert_true(list_has_word("nsdelegate\nfavordynmods\nmemory_localevents\n", "favordynmods"));
	assert_false(list_has_word("rw,nofavordynmods", "favordynmods"));
	assert_false(list_has_word("rw,favordynmods_x", "favordynmods"));
	assert_false(list_has_word("", "favordynmods"));
	assert_true(list_has_word("cpuset cpu io memory pids\n", "memory"));
	assert_false(list_has_word("cpuset cpu io memory_x pids", "memory"));
	assert_false(list_has_word("cpu io", ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes),
		cmocka_unit_test(percents),
		cmocka_unit_test(integers_and_bools),
		cmocka_unit_test(formatting),
		cmocka_unit_test(files),
		cmocka_unit_test(list_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
