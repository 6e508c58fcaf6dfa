/* test_procfd.c - a process pinned by an fd on /proc/PID: the identity is
 * checked through the fd, and a write after the pid was reused reaches the
 * old process's directory, never the new one (issue 13 item 10).  In the
 * fixture a "reused pid" is a new directory at the same path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procfd.h"
#include "tmptree.h"
#include "util.h"

#define STAT_AT(start) "42 (redis-server) S 1 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 " start \
		       " 1000 10 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"

static void check_then_write_same_process(void **state)
{
	(void)state;
	char *root = tt_make();
	struct roots r;
	snprintf(r.procfs, sizeof(r.procfs), "%s/proc", root);
	tt_write(root, "proc/42/stat", STAT_AT("4200"));
	tt_write(root, "proc/42/oom_score_adj", "0\n");
	int fd;
	assert_int_equal(procfd_open(&r, 42, 4199, &fd), PROCFD_REUSED);
	assert_int_equal(fd, -1);
	assert_int_equal(procfd_open(&r, 43, 4200, &fd), PROCFD_GONE);
	assert_int_equal(procfd_open(&r, 42, 4200, &fd), PROCFD_SAME);
	/* the pid is reused between the check and the write */
	char old[4200], path[4200], buf[64];
	snprintf(path, sizeof(path), "%s/proc/42", root);
	snprintf(old, sizeof(old), "%s/proc/old42", root);
	assert_int_equal(rename(path, old), 0);
	tt_write(root, "proc/42/stat", STAT_AT("9999"));
	tt_write(root, "proc/42/oom_score_adj", "0\n");
	assert_int_equal(procfd_write(fd, "oom_score_adj", "-500\n"), 0);
	assert_int_equal(procfd_read(fd, "oom_score_adj", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "-500\n");
	assert_true(read_file_at(root, "proc/42/oom_score_adj", buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "0\n"); /* the new process untouched */
	/* the pinned process is gone for good: ESRCH, not an error */
	assert_int_equal(unlink(strcat(old, "/oom_score_adj")), 0);
	assert_int_equal(procfd_write(fd, "oom_score_adj", "1\n"), -ESRCH);
	assert_int_equal(procfd_read(fd, "oom_score_adj", buf, sizeof(buf)), -ESRCH);
	close(fd);
	tt_rm(root);
}

/* A pin opened before the identity is known, and whose it is. */
static void pin_names_one_process(void **state)
{
	(void)state;
	char *root = tt_make();
	struct roots r;
	snprintf(r.procfs, sizeof(r.procfs), "%s/proc", root);
	tt_write(root, "proc/42/stat", STAT_AT("4200"));
	int fd;
	assert_int_equal(procfd_pin(&r, 43, &fd), PROCFD_GONE);
	assert_int_equal(fd, -1);
	assert_int_equal(procfd_pin(&r, 0, &fd), -EINVAL);
	assert_int_equal(procfd_pin(&r, 42, &fd), PROCFD_SAME);
	struct procpin pin = { .pid = 42, .start = 4200, .fd = fd };
	assert_int_equal(procpin_fd(&pin, 42, 4200), fd);
	assert_int_equal(procpin_fd(&pin, 42, 4201), -1); /* another process */
	assert_int_equal(procpin_fd(&pin, 41, 4200), -1);
	assert_int_equal(procpin_fd(NULL, 42, 4200), -1);
	pin.fd = -1;
	assert_int_equal(procpin_fd(&pin, 42, 4200), -1);
	assert_int_equal(close(fd), 0);
	tt_rm(root);
}

/* The real kernel: a pinned exited process is never written. */
static void real_kernel_exited_child(void **state)
{
	(void)state;
	struct roots r;
	snprintf(r.procfs, sizeof(r.procfs), "/proc");
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(20); /* never outlives a failed test */
		pause();
		_exit(0);
	}
	char rel[64], buf[4096];
	snprintf(rel, sizeof(rel), "%d/stat", (int)pid);
	assert_true(read_file_at("/proc", rel, buf, sizeof(buf)) > 0);
	unsigned long long start = 0;
	const char *p = strrchr(buf, ')');
	assert_non_null(p);
	/* field 22 (starttime): 20 spaces after the ")" */
	for (int i = 0; i < 20 && p; i++)
		p = strchr(p + 1, ' ');
	assert_non_null(p);
	assert_int_equal(sscanf(p + 1, "%llu", &start), 1);
	int fd;
	assert_int_equal(procfd_open(&r, pid, start, &fd), PROCFD_SAME);
	assert_int_equal(procfd_read(fd, "oom_score_adj", buf, sizeof(buf)), 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(procfd_read(fd, "oom_score_adj", buf, sizeof(buf)), -ESRCH);
	close(fd);
}

/* procfd_keep: the pinned process's cgroup and oom_score_adj are opened
 * once and read/written at offset 0 until procfd_release; another fd, or
 * another file, goes by name as before.  In the fixture a file replaced
 * by a new one shows which: a kept fd still reads the old. */
static void kept_files_until_release(void **state)
{
	(void)state;
	char *root = tt_make();
	struct roots r;
	snprintf(r.procfs, sizeof(r.procfs), "%s/proc", root);
	tt_write(root, "proc/42/stat", STAT_AT("4200"));
	tt_write(root, "proc/42/cgroup", "0::/\n");
	tt_write(root, "proc/42/oom_score_adj", "0\n");
	tt_write(root, "proc/43/cgroup", "0::/other\n");
	int fd, other;
	char buf[64];
	assert_int_equal(procfd_open(&r, 42, 4200, &fd), PROCFD_SAME);
	assert_int_equal(procfd_pin(&r, 43, &other), PROCFD_SAME);
	procfd_keep(fd);
	assert_int_equal(procfd_read(fd, "cgroup", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0::/\n");
	assert_int_equal(procfd_read(fd, "oom_score_adj", buf, sizeof(buf)), 0);
	/* both names replaced by new files: the kept fds still read the first */
	tt_write(root, "proc/42/cgroup.new", "0::/moved\n");
	tt_write(root, "proc/42/oom_score_adj.new", "7\n");
	char a[4200], b[4200];
	snprintf(a, sizeof(a), "%s/proc/42/cgroup.new", root);
	snprintf(b, sizeof(b), "%s/proc/42/cgroup", root);
	assert_int_equal(rename(a, b), 0);
	assert_int_equal(procfd_read(fd, "cgroup", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0::/\n");
	/* the write goes to the kept oom_score_adj (offset 0), read back so */
	assert_int_equal(procfd_write(fd, "oom_score_adj", "-9\n"), 0);
	assert_int_equal(procfd_read(fd, "oom_score_adj", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "-9\n");
	/* another pin and another file are not kept */
	assert_int_equal(procfd_read(other, "cgroup", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0::/other\n");
	assert_int_equal(procfd_read(fd, "stat", buf, sizeof(buf)), -EFBIG);
	/* released: by name again */
	procfd_release();
	assert_int_equal(procfd_read(fd, "cgroup", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0::/moved\n");
	close(fd);
	close(other);
	tt_rm(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_then_write_same_process),
		cmocka_unit_test(real_kernel_exited_child),
		cmocka_unit_test(pin_names_one_process),
		cmocka_unit_test(kept_files_until_release),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
