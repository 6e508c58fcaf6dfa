/* test_timedwrite.c - write_file_timed(): a normal file (written, truncated,
 * fast), errors passed through (missing file, directory, /dev/full), and a
 * FIFO without a reader, whose open() blocks like a memory.high write in
 * reclaim: the timeout fires on time, the abandoned worker completes once a
 * reader appears, delivers its bytes and frees its job (timedwrite_inflight()
 * back to 0; ASan's leak check would catch a lost job). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "timedwrite.h"
#include "util.h"

static char dir[] = "/tmp/oc-timedwrite-XXXXXX";

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void path_in_dir(char *buf, size_t size, const char *name)
{
	assert_int_equal(path_join(buf, size, dir, name), 0);
}

/* Wait (bounded) until every abandoned worker has finished. */
static void wait_inflight_zero(void)
{
	double end = now_ms() + 5000;
	while (timedwrite_inflight() != 0 && now_ms() < end)
		usleep(1000);
	assert_int_equal(timedwrite_inflight(), 0);
}

static void regular_file(void **state)
{
	(void)state;
	char p[256], buf[64];
	path_in_dir(p, sizeof(p), "memory.high");
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "a much longer old value\n", 24), 24);
	close(fd);

	bool to = true;
	double t0 = now_ms();
	assert_int_equal(write_file_timed(p, "805306368\n", 1000, &to), 0);
	assert_true(now_ms() - t0 < 500);
	assert_false(to);
	assert_int_equal(read_file(p, buf, sizeof(buf)), 10);
	assert_string_equal(buf, "805306368\n"); /* O_TRUNC */
	assert_int_equal(write_file_timed(p, "max\n", 1000, NULL), 0);
	assert_int_equal(read_file(p, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "max\n");
	/* many in a row: no job left behind */
	for (int i = 0; i < 200; i++)
		assert_int_equal(write_file_timed(p, "1\n", 1000, &to), 0);
	wait_inflight_zero();
	unlink(p);
}

static void errors_pass_through(void **state)
{
	(void)state;
	char p[256];
	bool to = true;
	path_in_dir(p, sizeof(p), "missing");
	assert_int_equal(write_file_timed(p, "1\n", 1000, &to), -ENOENT);
	assert_false(to);
	assert_int_equal(access(p, F_OK), -1); /* no O_CREAT */
	assert_int_equal(write_file_timed(dir, "1\n", 1000, &to), -EISDIR);
	assert_false(to);
	if (access("/dev/full", W_OK) == 0)
		assert_int_equal(write_file_timed("/dev/full", "1\n", 1000, &to), -ENOSPC);
	to = true;
	assert_int_equal(write_file_timed(NULL, "1\n", 1000, &to), -EINVAL);
	assert_false(to);
	assert_int_equal(write_file_timed(p, NULL, 1000, NULL), -EINVAL);
	wait_inflight_zero();
}

static void fifo_timeout_then_completion(void **state)
{
	(void)state;
	char p[256];
	path_in_dir(p, sizeof(p), "fifo");
	assert_int_equal(mkfifo(p, 0600), 0);

	/* no reader: the worker's open() blocks */
	bool to = false;
	double t0 = now_ms();
	assert_int_equal(write_file_timed(p, "abc", 150, &to), -ETIMEDOUT);
	double took = now_ms() - t0;
	print_message("timed out after %.1f ms (bound 150)\n", took);
	assert_true(to);
	assert_true(took >= 150 && took < 1000);
	/* three more stuck workers, zero timeout included */
	assert_int_equal(write_file_timed(p, "abc", 0, &to), -ETIMEDOUT);
	assert_int_equal(write_file_timed(p, "abc", 1, &to), -ETIMEDOUT);
	assert_int_equal(write_file_timed(p, "abc", 20, &to), -ETIMEDOUT);
	assert_true(to);
	assert_int_equal(timedwrite_inflight(), 4);

	/* a reader appears: every abandoned write completes and frees its job */
	int rfd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(rfd >= 0);
	wait_inflight_zero();
	char buf[64];
	size_t got = 0;
	ssize_t n;
	while ((n = read(rfd, buf + got, sizeof(buf) - got)) > 0)
		got += (size_t)n;
	assert_int_equal(got, 12);
	assert_memory_equal(buf, "abcabcabcabc", 12);

	/* with the reader open the same write is quick */
	to = true;
	assert_int_equal(write_file_timed(p, "xyz", 1000, &to), 0);
	assert_false(to);
	assert_int_equal(read(rfd, buf, sizeof(buf)), 3);
	close(rfd);
	wait_inflight_zero();
	unlink(p);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	/* an abandoned worker must not outlive the test (ASan leak check):
	 * after a failed assertion, release any still blocked on the FIFO */
	char p[256];
	snprintf(p, sizeof(p), "%s/fifo", dir);
	int rfd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	double end = now_ms() + 5000;
	while (timedwrite_inflight() != 0 && now_ms() < end)
		usleep(1000);
	if (rfd >= 0)
		close(rfd);
	unlink(p);
	rmdir(dir);
	return timedwrite_inflight() == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(regular_file),
		cmocka_unit_test(errors_pass_through),
		cmocka_unit_test(fifo_timeout_then_completion),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
