/* test_textbuf.c - the printf-free text builder of the exec path gives what
 * snprintf gives, cut included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "textbuf.h"
#include "util.h"

static void numbers_as_printf(void **state)
{
	(void)state;
	static const int64_t v[] = { 0, 1, -1, 9, 10, -100, 1000, INT32_MAX, INT32_MIN,
				     INT64_MAX, INT64_MIN };
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		char got[32], want[32];
		struct tbuf b;
		tb_init(&b, got, sizeof(got));
		tb_i64(&b, v[i]);
		snprintf(want, sizeof(want), "%" PRId64, v[i]);
		assert_string_equal(got, want);
		assert_int_equal(tb_len(&b, got), (int)strlen(want));
	}
	char got[32];
	struct tbuf b;
	tb_init(&b, got, sizeof(got));
	tb_u64(&b, UINT64_MAX);
	assert_string_equal(got, "18446744073709551615");
}

static void pieces_and_precision(void **state)
{
	(void)state;
	char got[64], want[64];
	struct tbuf b;
	tb_init(&b, got, sizeof(got));
	tb_str(&b, "pid ");
	tb_i64(&b, 4242);
	tb_str(&b, " (");
	tb_strn(&b, "a-very-long-command-name-indeed", 8);
	tb_chr(&b, ')');
	snprintf(want, sizeof(want), "pid %d (%.8s)", 4242, "a-very-long-command-name-indeed");
	assert_string_equal(got, want);
	assert_int_equal(tb_len(&b, got), (int)strlen(want));
	assert_false(b.cut);
}

/* Every size from 1 up: the same bytes as snprintf, and cut exactly when
 * snprintf would report n >= size. */
static void cut_like_snprintf(void **state)
{
	(void)state;
	for (size_t size = 1; size <= 24; size++) {
		char got[24], want[24];
		struct tbuf b;
		tb_init(&b, got, size);
		tb_str(&b, "+ oom ");
		tb_i64(&b, -12345);
		tb_chr(&b, ' ');
		tb_u64(&b, 987654321);
		int n = snprintf(want, size, "+ oom %d %u", -12345, 987654321u);
		assert_string_equal(got, want);
		assert_int_equal(b.cut, (size_t)n >= size);
		assert_int_equal(tb_len(&b, got), (size_t)n >= size ? -1 : n);
	}
}

/* The one-piece forms: snprintf's text, and its length or -1 when cut. */
static void whole_texts(void **state)
{
	(void)state;
	for (size_t size = 1; size <= 8; size++) {
		char got[8], want[8];
		int n = snprintf(want, size, "%d", -4242);
		assert_int_equal(tb_set_i64(got, size, -4242), (size_t)n >= size ? -1 : n);
		assert_string_equal(got, want);
		n = snprintf(want, size, "%s", "/svc");
		assert_int_equal(tb_set_str(got, size, "/svc"), (size_t)n >= size ? -1 : n);
		assert_string_equal(got, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(numbers_as_printf),
		cmocka_unit_test(pieces_and_precision),
		cmocka_unit_test(cut_like_snprintf),
		cmocka_unit_test(whole_texts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
