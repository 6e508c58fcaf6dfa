/* test_smapsreader.c - the daemon's smaps reads run on their own thread:
 * while one is inside read() (here: blocked on a pipe the test holds,
 * standing in for a slow page walk) the caller is free - submit and
 * collect return at once - and the answer arrives on the poll fd once the
 * read ends.  Also a real /proc/self/smaps end to end. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "smapsreader.h"

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void wait_reading(const struct smaps_reader *sr)
{
	for (int i = 0; i < 500 && !smaps_reader_reading(sr); i++)
		usleep(10000);
	assert_true(smaps_reader_reading(sr));
}

static void caller_never_waits(void **state)
{
	(void)state;
	struct smaps_reader *sr;
	assert_int_equal(smaps_reader_start(&sr), 0);
	int p[2];
	assert_int_equal(pipe(p), 0);
	struct charge_req q = { .pid = 4242, .start_time = 7, .cheap_kb = 9 };
	uint64_t t0 = mono_ms();
	assert_int_equal(smaps_reader_submit(sr, p[0], &q), 0);
	wait_reading(sr); /* the thread is inside read() now */
	struct smaps_result res;
	assert_int_equal(smaps_reader_collect(sr, &res), 0); /* nothing yet, no wait */
	assert_int_equal(smaps_reader_inflight(sr), 1);
	assert_true(mono_ms() - t0 < 5000);
	/* the "page walk" ends: one accounted 1 MiB VMA */
	static const char txt[] = "00400000-00500000 rw-p 00000000 00:00 0 \n"
				  "Size: 1024 kB\nVmFlags: rd wr mr mw me ac \n";
	assert_int_equal(write(p[1], txt, sizeof(txt) - 1), (ssize_t)(sizeof(txt) - 1));
	assert_int_equal(close(p[1]), 0);
	struct pollfd pf = { .fd = smaps_reader_fd(sr), .events = POLLIN };
	assert_int_equal(poll(&pf, 1, 5000), 1);
	assert_int_equal(smaps_reader_collect(sr, &res), 1);
	assert_int_equal(res.rc, 0);
	assert_int_equal(res.q.pid, 4242);
	assert_int_equal(res.q.cheap_kb, 9);
	assert_int_equal(res.sc.charge_kb, 1024);
	assert_int_equal(smaps_reader_inflight(sr), 0);
	assert_false(smaps_reader_reading(sr));
	smaps_reader_stop(sr);
}

static void own_smaps(void **state)
{
	(void)state;
	struct smaps_reader *sr;
	assert_int_equal(smaps_reader_start(&sr), 0);
	int fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	struct charge_req q = { .pid = (int)getpid() };
	assert_int_equal(smaps_reader_submit(sr, fd, &q), 0);
	/* junk: an error answer, not a hang */
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "junk\n00zz\n", 10), 10);
	assert_int_equal(close(p[1]), 0);
	assert_int_equal(smaps_reader_submit(sr, p[0], &q), 0);
	struct smaps_result res[2];
	for (int got = 0; got < 2;) {
		struct pollfd pf = { .fd = smaps_reader_fd(sr), .events = POLLIN };
		assert_int_equal(poll(&pf, 1, 5000), 1);
		int rc = smaps_reader_collect(sr, &res[got]);
		assert_true(rc >= 0);
		got += rc;
	}
	assert_int_equal(res[0].rc, 0);
	assert_true(res[0].sc.charge_kb > 0); /* this test's own heap and stack */
	assert_int_equal(res[1].rc, -EINVAL);
	smaps_reader_stop(sr);
}

/* stopping with a read running and one queued: every descriptor handed
 * over is closed (read or dropped), and stop returns once the read ends */
static void stop_with_queue(void **state)
{
	(void)state;
	struct smaps_reader *sr;
	assert_int_equal(smaps_reader_start(&sr), 0);
	int p[2], p2[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(p2), 0);
	assert_int_equal(close(p2[1]), 0);
	struct charge_req q = { .pid = 1 };
	assert_int_equal(smaps_reader_submit(sr, p[0], &q), 0);
	assert_int_equal(smaps_reader_submit(sr, p2[0], &q), 0);
	wait_reading(sr);
	assert_int_equal(close(p[1]), 0); /* the running read ends (EOF) */
	smaps_reader_stop(sr);
	errno = 0;
	assert_int_equal(fcntl(p2[0], F_GETFD), -1);
	assert_int_equal(errno, EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(caller_never_waits),
		cmocka_unit_test(own_smaps),
		cmocka_unit_test(stop_with_queue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
