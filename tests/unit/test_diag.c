/* test_diag.c - problem list formatting and growth. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "diag.h"

static void test_format(void **state)
{
	(void)state;
	struct diags d;
	diags_init(&d);
	diags_add(&d, "a.ini", 12, "bad %s (got '%d')", "value", 7);
	diags_add(&d, "a.ini", 0, "refused");
	diags_add(&d, "a.ini", -3, "negative line omitted");
	diags_add(&d, NULL, 5, "no file: %s", "line ignored too");
	diags_add(&d, "100%.ini", 1, "%s", "percent in %s name is data, not format");
	assert_int_equal(d.n, 5);
	assert_string_equal(d.msg[0], "a.ini:12: bad value (got '7')");
	assert_string_equal(d.msg[1], "a.ini: refused");
	assert_string_equal(d.msg[2], "a.ini: negative line omitted");
	assert_string_equal(d.msg[3], "no file: line ignored too");
	assert_string_equal(d.msg[4], "100%.ini:1: percent in %s name is data, not format");
	diags_free(&d);
	assert_int_equal(d.n, 0);
	assert_null(d.msg);
	diags_free(&d); /* twice is harmless */
}

static void test_growth(void **state)
{
	(void)state;
	struct diags d;
	diags_init(&d);
	for (int i = 0; i < 1000; i++)
		diags_add(&d, "f", i + 1, "problem %d", i);
	assert_int_equal(d.n, 1000);
	assert_true(d.cap >= d.n);
	char want[64];
	for (int i = 0; i < 1000; i += 111) {
		snprintf(want, sizeof(want), "f:%d: problem %d", i + 1, i);
		assert_string_equal(d.msg[i], want);
	}
	diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_growth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
