/* test_log.c - one message is one line, whatever the arguments hold
 * (issue 13 item 7: a comm of "rdb\n<0>PWNED x"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* What log_* wrote to stderr, captured through a temporary file. */
static void logged(bool journal, char *out, size_t size, const char *comm)
{
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	int saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	if (journal)
		setenv("JOURNAL_STREAM", "8:1234", 1);
	else
		unsetenv("JOURNAL_STREAM");
	log_init("overcommitd", 0);
	log_warn("pid 42 (%s) vanished", comm);
	log_errno(LOG_LVL_ERR, -2, "open %s", comm);
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(tmp);
	size_t n = fread(out, 1, size - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
}

static void hostile_comm_stays_on_its_line(void **state)
{
	(void)state;
	char out[1024];
	logged(true, out, sizeof(out), "rdb\n<0>PWNED x");
	assert_string_equal(out, "<4>pid 42 (rdb\\n<0>PWNED x) vanished\n"
				 "<3>open rdb\\n<0>PWNED x: No such file or directory\n");
	logged(false, out, sizeof(out), "\x1b[31mred\r");
	assert_string_equal(out, "overcommitd: pid 42 (\\x1b[31mred\\r) vanished\n"
				 "overcommitd: open \\x1b[31mred\\r: No such file or directory\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hostile_comm_stays_on_its_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
