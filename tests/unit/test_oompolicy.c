/* test_oompolicy.c - which OOMPolicy takes a unit down for one child. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "oompolicy.h"

static void table(void **state)
{
	(void)state;
	static const struct {
		const char *policy;
		bool children;
		enum oomp_verdict want;
	} t[] = {
		{ "stop", true, OOMP_STOPS_UNIT },  /* systemd's default */
		{ "kill", true, OOMP_KILLS_UNIT },
		{ "continue", true, OOMP_FINE },
		{ "stop", false, OOMP_FINE },       /* only the main: it is the service */
		{ "continue", false, OOMP_FINE },
		{ "", true, OOMP_UNKNOWN },         /* not read: no claim */
		{ NULL, true, OOMP_UNKNOWN },
		{ "restart", true, OOMP_UNKNOWN },  /* unknown to this build: no claim */
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (oompolicy_judge(t[i].policy, t[i].children) != t[i].want)
			fail_msg("row %zu (%s, %d): got %d", i, t[i].policy ? t[i].policy : "NULL",
				 t[i].children, oompolicy_judge(t[i].policy, t[i].children));
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(table) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
