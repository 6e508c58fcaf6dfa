/* test_privsep.c - the /proc reader of the daemon (privsep.h): the fixed
 * list of files, direct reads without it, and live (root only) the reader's
 * identity, what it hands out, what its sandbox refuses, and what happens
 * when it dies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "privs.h"
#include "privsep.h"
#include "privsep_sandbox.h"
#include "roots.h"
#include "util.h"

#define FIXTURE "tests/fixtures/seed-strict/proc"

static void fixture_roots(struct roots *r)
{
	roots_default(r);
	snprintf(r->procfs, sizeof(r->procfs), "%s", FIXTURE);
}

static void direct_without_reader(void **state)
{
	(void)state;
	struct roots r;
	fixture_roots(&r);
	char buf[256];
	assert_int_equal(privsep_readlink_pid(&r, 100, "exe", buf, sizeof(buf)),
			 (ssize_t)strlen("/usr/bin/redis-server"));
	assert_string_equal(buf, "/usr/bin/redis-server");
	assert_int_equal(privsep_readlink_pid(&r, 100, "exe", buf, 8), -ENAMETOOLONG);
	assert_int_equal(privsep_open_pid(&r, 100, "smaps"), -ENOENT);
	assert_int_equal(privsep_read_file(&r, 100, "maps", buf, sizeof(buf)), -ENOENT);
}

static void only_the_listed_files(void **state)
{
	(void)state;
	struct roots r;
	fixture_roots(&r);
	char buf[64];
	static const char *const refused[] = { "mem", "environ", "status", "../1/mem", "exe/..", "" };
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		assert_int_equal(privsep_open_pid(&r, 100, refused[i]), -EINVAL);
		assert_int_equal(privsep_readlink_pid(&r, 100, refused[i], buf, sizeof(buf)), -EINVAL);
	}
	/* a file is opened, a link is read: not the other way round */
	assert_int_equal(privsep_open_pid(&r, 100, "exe"), -EINVAL);
	assert_int_equal(privsep_readlink_pid(&r, 100, "smaps", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(privsep_open_pid(&r, 0, "smaps"), -EINVAL);
	assert_int_equal(privsep_open_pid(&r, -1, "smaps"), -EINVAL);
}

/* ---- live ---------------------------------------------------------------- */

static void skip_unless_root(void)
{
	struct privs_sets s;
	assert_int_equal(privs_read_self(&s), 0);
	uint64_t need = PRIVS_BIT(6) | PRIVS_BIT(7) | PRIVS_BIT(8) | PRIVS_BIT(19);
	if (geteuid() != 0 || (s.prm & need) != need) {
		print_message("not root with SETUID/SETGID/SETPCAP/SYS_PTRACE: skipping\n");
		skip();
	}
}

/* a sleeping process of uid id (0: stays root) */
static pid_t sleeper(unsigned id)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (id && (setgroups(0, NULL) < 0 || setresgid(id, id, id) < 0 ||
			   setresuid(id, id, id) < 0))
			_exit(1);
		execl("/bin/sleep", "sleep", "60", (char *)NULL);
		_exit(1);
	}
	/* wait for the exec: exe then points at sleep */
	char path[64], link[256];
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	for (int i = 0; i < 200; i++) {
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		if (n > 0 && (link[n] = '\0', strstr(link, "sleep")))
			break;
		usleep(5000);
	}
	return pid;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static int status_line(pid_t pid, const char *key, char *out, size_t size)
{
	char path[64], buf[8192];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	const char *p = strstr(buf, key);
	if (!p)
		return -1;
	p += strlen(key);
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = strcspn(p, "\n");
	snprintf(out, size, "%.*s", (int)n, p);
	return 0;
}

static void reader_reads_for_the_daemon(void **state)
{
	(void)state;
	skip_unless_root();
	pid_t theirs = sleeper(PRIVSEP_READER_ID - 1); /* another unprivileged uid */
	pid_t rooted = sleeper(0);
	struct roots r;
	roots_default(&r);
	assert_int_equal(privsep_start(&r), 0);
	pid_t rd = privsep_reader_pid();
	assert_true(rd > 0);
	char v[128];
	assert_int_equal(status_line(rd, "Uid:", v, sizeof(v)), 0);
	assert_string_equal(v, "65534\t65534\t65534\t65534");
	assert_int_equal(status_line(rd, "CapEff:", v, sizeof(v)), 0);
	assert_string_equal(v, "0000000000080000");
	assert_int_equal(status_line(rd, "CapBnd:", v, sizeof(v)), 0);
	assert_string_equal(v, "0000000000080000");
	assert_int_equal(status_line(rd, "Seccomp:", v, sizeof(v)), 0);
	assert_string_equal(v, "2");

	const pid_t targets[] = { theirs, rooted };
	for (size_t i = 0; i < ARRAY_SIZE(targets); i++) {
		char exe[256];
		assert_true(privsep_readlink_pid(&r, targets[i], "exe", exe, sizeof(exe)) > 0);
		assert_non_null(strstr(exe, "sleep"));
		int fd = privsep_open_pid(&r, targets[i], "smaps");
		assert_true(fd >= 0);
		assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
		char buf[64];
		assert_true(read(fd, buf, sizeof(buf)) > 0);
		close(fd);
		assert_true(privsep_readlink_pid(&r, targets[i], "ns/user", exe, sizeof(exe)) > 0);
		assert_non_null(strstr(exe, "user:["));
	}
	char big[1 << 16];
	assert_true(privsep_read_file(&r, rooted, "maps", big, sizeof(big)) > 0);
	assert_int_equal(privsep_open_pid(&r, 999999999, "smaps"), -ENOENT);

	/* the reader dies: no silent fallback to reads the daemon cannot do */
	kill(rd, SIGKILL);
	char exe[256];
	assert_int_equal(privsep_readlink_pid(&r, rooted, "exe", exe, sizeof(exe)), -ECONNRESET);
	assert_true(privsep_lost());
	assert_int_equal(privsep_open_pid(&r, rooted, "smaps"), -ECONNRESET);
	privsep_stop();
	assert_false(privsep_lost());
	assert_true(privsep_readlink_pid(&r, rooted, "exe", exe, sizeof(exe)) > 0);

	/* the reader dies between requests: the daemon's poll sees POLLHUP on
	 * privsep_fd() at once (no request needed), privsep_hangup() makes it lost */
	assert_int_equal(privsep_start(&r), 0);
	rd = privsep_reader_pid();
	struct pollfd p = { .fd = privsep_fd(), .events = 0 };
	assert_true(p.fd >= 0);
	assert_int_equal(poll(&p, 1, 0), 0);
	kill(rd, SIGKILL);
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_true(p.revents & POLLHUP);
	privsep_hangup();
	assert_true(privsep_lost());
	assert_int_equal(privsep_fd(), -1);
	assert_int_equal(privsep_open_pid(&r, rooted, "smaps"), -ECONNRESET);
	privsep_stop();
	stop(theirs);
	stop(rooted);
}

/* What the sandboxed child saw: errno of each attempt (0 = it worked). */
struct sandbox_report {
	int become, sandbox;
	int mem_self, mem_same_uid, mem_root, create, trunc, ptrace, vm_writev, execve, kill_root;
	int smaps_root, exe_root;
};

static void sandboxed_child(int sock, pid_t same_uid, pid_t root)
{
	struct sandbox_report rep;
	memset(&rep, 0, sizeof(rep));
	rep.become = -privs_become(PRIVSEP_READER_ID, PRIVS_READER_MASK);
	rep.sandbox = -privsep_sandbox();
	char p[64];
#define TRY(field, expr) rep.field = (expr) < 0 ? errno : 0
	TRY(mem_self, open("/proc/self/mem", O_RDWR));
	snprintf(p, sizeof(p), "/proc/%d/mem", (int)same_uid);
	TRY(mem_same_uid, open(p, O_RDWR));
	snprintf(p, sizeof(p), "/proc/%d/mem", (int)root);
	TRY(mem_root, open(p, O_WRONLY));
	TRY(create, open("/tmp/oc-privsep-never", O_RDONLY | O_CREAT, 0600));
	TRY(trunc, open("/proc/self/comm", O_RDONLY | O_TRUNC));
	TRY(ptrace, ptrace(PTRACE_ATTACH, same_uid, 0, 0));
	char byte = 0;
	struct iovec local = { &byte, 1 }, remote = { &byte, 1 };
	TRY(vm_writev, process_vm_writev(same_uid, &local, 1, &remote, 1, 0));
	TRY(execve, execl("/bin/true", "true", (char *)NULL));
	TRY(kill_root, kill(root, 0));
	snprintf(p, sizeof(p), "/proc/%d/smaps", (int)root);
	TRY(smaps_root, open(p, O_RDONLY | O_CLOEXEC));
	char link[256];
	snprintf(p, sizeof(p), "/proc/%d/exe", (int)root);
	TRY(exe_root, readlink(p, link, sizeof(link)));
#undef TRY
	(void)send(sock, &rep, sizeof(rep), 0);
	_exit(0);
}

static void sandbox_refuses_writes(void **state)
{
	(void)state;
	skip_unless_root();
	pid_t same = sleeper(PRIVSEP_READER_ID);
	pid_t root = sleeper(0);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		sandboxed_child(sv[1], same, root);
	close(sv[1]);
	struct sandbox_report rep;
	assert_int_equal(recv(sv[0], &rep, sizeof(rep), 0), (ssize_t)sizeof(rep));
	close(sv[0]);
	waitpid(pid, NULL, 0);
	stop(same);
	stop(root);
	assert_int_equal(rep.become, 0);
	assert_int_equal(rep.sandbox, 0);
	/* without the filter uid 65534 + SYS_PTRACE would open the first two */
	assert_int_equal(rep.mem_self, EPERM);
	assert_int_equal(rep.mem_same_uid, EPERM);
	assert_int_equal(rep.mem_root, EPERM);
	assert_int_equal(rep.create, EPERM);
	assert_int_equal(rep.trunc, EPERM);
	assert_int_equal(rep.ptrace, EPERM);
	assert_int_equal(rep.vm_writev, EPERM);
	assert_int_equal(rep.execve, EPERM);
	assert_int_equal(rep.kill_root, EPERM);
	/* what it is for still works */
	assert_int_equal(rep.smaps_root, 0);
	assert_int_equal(rep.exe_root, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(direct_without_reader),
		cmocka_unit_test(only_the_listed_files),
		cmocka_unit_test(reader_reads_for_the_daemon),
		cmocka_unit_test(sandbox_refuses_writes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
