/* test_log.c - one message is one line, whatever the arguments hold
 * (issue 13 item 7: a comm of "rdb\n<0>PWNED x"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
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

/* stderr on a non-blocking pipe (p[0] to read it), the daemon's text
 * format at debug level; returns the fd to put back with pipe_stderr_end. */
static int pipe_stderr(int p[2])
{
	int saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	assert_true(dup2(p[1], STDERR_FILENO) >= 0);
	unsetenv("JOURNAL_STREAM");
	log_init("overcommitd", 1);
	return saved;
}

static void pipe_stderr_end(int p[2], int saved)
{
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	close(p[0]);
	close(p[1]);
}

/* Held lines reach stderr only at log_flush, all of them, in order, in
 * one read of the pipe; a line logged after the flush is written at once. */
static void held_lines_written_together_at_flush(void **state)
{
	(void)state;
	int p[2], saved = pipe_stderr(p);
	char out[1024];
	log_hold();
	log_debug("pid %d joined", 7);
	log_info("oom_score_adj pid %d: 0 -> -100", 7);
	log_warn("pid %d enforced", 7);
	ssize_t before = read(p[0], out, sizeof(out));
	int before_errno = errno;
	log_flush();
	ssize_t n = read(p[0], out, sizeof(out) - 1);
	log_info("after");
	char after[64];
	ssize_t m = read(p[0], after, sizeof(after) - 1);
	pipe_stderr_end(p, saved);
	assert_int_equal(before, -1);
	assert_int_equal(before_errno, EAGAIN);
	assert_true(n > 0);
	out[n] = '\0';
	assert_string_equal(out, "overcommitd: pid 7 joined\n"
				 "overcommitd: oom_score_adj pid 7: 0 -> -100\n"
				 "overcommitd: pid 7 enforced\n");
	assert_true(m > 0);
	after[m] = '\0';
	assert_string_equal(after, "overcommitd: after\n");
}

/* log_send: what is held goes out now; later lines are held again until
 * the flush (an exec's lines before its clean-up's). */
static void send_writes_held_and_keeps_holding(void **state)
{
	(void)state;
	int p[2], saved = pipe_stderr(p);
	char sent[256], later[256], flushed[256];
	log_hold();
	log_debug("pid %d enforced", 8);
	log_send();
	ssize_t n = read(p[0], sent, sizeof(sent) - 1);
	log_info("episode of pid %d", 8);
	ssize_t held = read(p[0], later, sizeof(later) - 1);
	int held_errno = errno;
	log_flush();
	ssize_t m = read(p[0], flushed, sizeof(flushed) - 1);
	pipe_stderr_end(p, saved);
	assert_true(n > 0);
	sent[n] = '\0';
	assert_string_equal(sent, "overcommitd: pid 8 enforced\n");
	assert_int_equal(held, -1);
	assert_int_equal(held_errno, EAGAIN);
	assert_true(m > 0);
	flushed[m] = '\0';
	assert_string_equal(flushed, "overcommitd: episode of pid 8\n");
}

/* More than the 8 KiB held: the older lines are written first, none lost. */
static void overflowing_hold_keeps_every_line_in_order(void **state)
{
	(void)state;
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	int saved = dup(STDERR_FILENO);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	unsetenv("JOURNAL_STREAM");
	log_init("overcommitd", 0);
	log_hold();
	for (int i = 0; i < 400; i++)
		log_info("line %03d of a burst longer than what is held", i);
	log_flush();
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(tmp);
	char line[128];
	int i = 0;
	while (fgets(line, sizeof(line), tmp)) {
		char want[128];
		snprintf(want, sizeof(want), "overcommitd: line %03d of a burst longer than what is held\n", i);
		assert_string_equal(line, want);
		i++;
	}
	fclose(tmp);
	assert_int_equal(i, 400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hostile_comm_stays_on_its_line),
		cmocka_unit_test(held_lines_written_together_at_flush),
		cmocka_unit_test(overflowing_hold_keeps_every_line_in_order),
		cmocka_unit_test(send_writes_held_and_keeps_holding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
