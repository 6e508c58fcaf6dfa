/* test_cgroup_mover.c - the kept mover thread (src/cgroup_mover.c): each
 * move's result comes back to its caller, one thread for every move (not
 * one per move), and a forked child gets a mover of its own.  The moves
 * here fail before libcgroup is asked (pid 0: -EINVAL; an overlong group:
 * -ENAMETOOLONG): the real moves run in tests/vm. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "cgroup_backend.h"

static int threads(void)
{
	DIR *d = opendir("/proc/self/task");
	int n = 0;
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void one_thread_for_every_move(void **state)
{
	(void)state;
	struct cgb b = { .hier = CG_HIER_V2 };
	struct cgb_async job;
	int before = threads();
	cgb_attach_start(&job, &b, "/svc", 0);
	assert_true(job.queued);
	assert_int_equal(cgb_attach_wait(&job), -EINVAL);
	assert_false(job.queued);
	assert_int_equal(threads(), before + 1); /* kept */
	for (int i = 0; i < 50; i++) {
		cgb_attach_start(&job, &b, "/svc", 0);
		assert_int_equal(cgb_attach_wait(&job), -EINVAL);
		assert_int_equal(cgb_attach_wait(&job), -EINVAL); /* twice: the same answer */
	}
	assert_int_equal(threads(), before + 1);
	/* a group too long is refused before any thread sees it */
	char group[PROC_PATH_MAX + 8];
	memset(group, 'g', sizeof(group) - 1);
	group[0] = '/';
	group[sizeof(group) - 1] = '\0';
	cgb_attach_start(&job, &b, group, 1);
	assert_false(job.queued);
	assert_int_equal(cgb_attach_wait(&job), -ENAMETOOLONG);
}

static void forked_child_moves_too(void **state)
{
	(void)state;
	struct cgb b = { .hier = CG_HIER_V2 };
	struct cgb_async job;
	cgb_attach_start(&job, &b, "/svc", 0); /* the parent's mover exists */
	assert_int_equal(cgb_attach_wait(&job), -EINVAL);
	pid_t c = fork();
	assert_true(c >= 0);
	if (c == 0) {
		cgb_attach_start(&job, &b, "/svc", 0);
		_exit(job.queued && cgb_attach_wait(&job) == -EINVAL ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(c, &status, 0), c);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_thread_for_every_move),
		cmocka_unit_test(forked_child_moves_too),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
