/* test_evwait.c - the daemon's epoll wait answers as poll() would, and
 * follows its slots when their descriptors or events change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <unistd.h>

#include "evwait.h"

/* Two pipes and an open wait. */
static void setup_pipes(int a[2], int b[2], struct evwait *w)
{
	assert_int_equal(pipe(a), 0);
	if (b)
		assert_int_equal(pipe(b), 0);
	assert_int_equal(evwait_open(w), 0);
}

/* The wait closed, then every descriptor of fds[n] that is not -1. */
static void teardown_all(struct evwait *w, const int *fds, size_t n)
{
	evwait_close(w);
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static void ready_slot_only(void **state)
{
	(void)state;
	int a[2], b[2];
	struct evwait w;
	setup_pipes(a, b, &w);
	struct pollfd fds[3] = {
		{ .fd = a[0], .events = POLLIN },
		{ .fd = -1, .events = POLLIN }, /* left out, as by poll() */
		{ .fd = b[0], .events = POLLIN },
	};
	assert_int_equal(evwait_poll(&w, fds, 3, 0), 0); /* nothing yet: a timeout */
	assert_int_equal(write(b[1], "x", 1), 1);
	assert_int_equal(evwait_poll(&w, fds, 3, 1000), 1);
	assert_int_equal(fds[0].revents, 0);
	assert_int_equal(fds[1].revents, 0);
	assert_int_equal(fds[2].revents, POLLIN);
	/* level-triggered: still readable, still reported */
	assert_int_equal(evwait_poll(&w, fds, 3, 0), 1);
	assert_int_equal(fds[2].revents, POLLIN);
	char c;
	assert_int_equal(read(b[0], &c, 1), 1);
	assert_int_equal(evwait_poll(&w, fds, 3, 0), 0);
	assert_int_equal(fds[2].revents, 0);
	teardown_all(&w, (const int[]){ a[0], a[1], b[0], b[1] }, 4);
}

/* A slot given another descriptor, or other events, or none: followed. */
static void slots_change(void **state)
{
	(void)state;
	int a[2], b[2];
	struct evwait w;
	setup_pipes(a, b, &w);
	struct pollfd fds[1] = { { .fd = a[0], .events = POLLIN } };
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(evwait_poll(&w, fds, 1, 0), 1);
	fds[0].fd = b[0]; /* a's data is no longer asked about */
	assert_int_equal(evwait_poll(&w, fds, 1, 0), 0);
	assert_int_equal(write(b[1], "y", 1), 1);
	assert_int_equal(evwait_poll(&w, fds, 1, 0), 1);
	assert_int_equal(fds[0].revents, POLLIN);
	fds[0].events = 0; /* only a hang-up or an error, as poll() reports them */
	assert_int_equal(evwait_poll(&w, fds, 1, 0), 0);
	close(b[1]);
	assert_int_equal(evwait_poll(&w, fds, 1, 0), 1);
	assert_int_equal(fds[0].revents, POLLHUP);
	fds[0].fd = -1;
	assert_int_equal(evwait_poll(&w, fds, 1, 0), 0);
	/* the writing end of a pipe: POLLOUT */
	fds[0] = (struct pollfd){ .fd = a[1], .events = POLLOUT };
	assert_int_equal(evwait_poll(&w, fds, 1, 0), 1);
	assert_int_equal(fds[0].revents, POLLOUT);
	teardown_all(&w, (const int[]){ a[0], a[1], b[0] }, 3); /* b[1]: closed above */
}

/* A descriptor closed and its number given to another with the same
 * events: unseen unless the slot is forgotten (the daemon does so for each
 * new D-Bus connection). */
static void number_reused(void **state)
{
	(void)state;
	int a[2], b[2];
	struct evwait w;
	setup_pipes(a, NULL, &w);
	struct pollfd fds[1] = { { .fd = a[0], .events = POLLIN } };
	assert_int_equal(evwait_poll(&w, fds, 1, 0), 0);
	int num = a[0];
	close(a[0]);
	close(a[1]);
	assert_int_equal(pipe(b), 0);
	if (b[0] != num) { /* the number went elsewhere: move it where it was */
		assert_int_equal(dup2(b[0], num), num);
		close(b[0]);
		b[0] = num;
	}
	assert_int_equal(write(b[1], "x", 1), 1);
	assert_int_equal(evwait_poll(&w, fds, 1, 0), 0); /* the set lost it with the close */
	evwait_forget(&w, 0);
	assert_int_equal(evwait_poll(&w, fds, 1, 0), 1);
	assert_int_equal(fds[0].revents, POLLIN);
	teardown_all(&w, b, 2);
}

static void bounds(void **state)
{
	(void)state;
	struct evwait w;
	assert_int_equal(evwait_open(&w), 0);
	struct pollfd fds[EVW_SLOTS + 1] = { { 0 } };
	assert_int_equal(evwait_poll(&w, fds, EVW_SLOTS + 1, 0), -EINVAL);
	fds[0] = (struct pollfd){ .fd = 12345, .events = POLLIN }; /* not open */
	assert_int_equal(evwait_poll(&w, fds, 1, 0), -EBADF);
	evwait_close(&w);
	assert_int_equal(evwait_poll(&w, fds, 1, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ready_slot_only),
		cmocka_unit_test(slots_change),
		cmocka_unit_test(number_reused),
		cmocka_unit_test(bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
