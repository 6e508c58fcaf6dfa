/* test_privs.c - the /proc/PID/status capability parser (real capture,
 * old-kernel shape, hostile lines), then privs_drop() for real in forked
 * children (root only) so this process keeps its privileges: the resulting
 * sets read back from /proc/self/status, kept capabilities still work,
 * dropped ones do not, ambient/inheritable are cleared, a second call is a
 * no-op and a multi-threaded caller is refused. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "privs.h"
#include "util.h"

/* Captured on this machine (kernel 6.18, uid 0 in a VM whose bounding set
 * lacks CAP_SYS_RESOURCE): cat /proc/self/status, trimmed of Mems_allowed. */
static const char real_status[] =
	"Name:\tcat\nUmask:\t0022\nState:\tR (running)\nTgid:\t7862\nNgid:\t0\nPid:\t7862\n"
	"PPid:\t7851\nTracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t256\nGroups:\t \n"
	"NStgid:\t7862\nNSpid:\t7862\nNSpgid:\t7851\nNSsid:\t27923\nKthread:\t0\n"
	"VmPeak:\t    3060 kB\nVmSize:\t    3060 kB\nVmData:\t     360 kB\nVmStk:\t     132 kB\n"
	"THP_enabled:\t1\nuntag_mask:\t0xffffffffffffffff\nThreads:\t1\nSigQ:\t1/96365\n"
	"SigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\nSigBlk:\t0000000000000000\n"
	"SigIgn:\t0000000000000000\nSigCgt:\t0000000000000000\n"
	"CapInh:\t0000000000000000\nCapPrm:\t000001fffeffffff\nCapEff:\t000001fffeffffff\n"
	"CapBnd:\t000001fffeffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t0\n"
	"Seccomp_filters:\t0\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\n"
	"voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n";

#define CAPS5(i, p, e, b) "CapInh:\t" i "\nCapPrm:\t" p "\nCapEff:\t" e "\nCapBnd:\t" b "\n"
#define Z16 "0000000000000000"

static void parse_table(void **state)
{
	(void)state;
	static const struct {
		const char *buf;
		int rc;
		struct privs_sets want;
	} t[] = {
		{ real_status, 0, { 0, 0x1fffeffffffULL, 0x1fffeffffffULL, 0x1fffeffffffULL, 0, 0, 1 } },
		/* a 4.x kernel: no CapAmb, no NoNewPrivs, no Threads */
		{ CAPS5(Z16, "0000003fffffffff", "0000003fffffffff", "0000003fffffffff"), 0,
		  { 0, 0x3fffffffffULL, 0x3fffffffffULL, 0x3fffffffffULL, 0, 0, 1 } },
		/* after privs_drop on this machine, threads and NNP as the daemon has them */
		{ CAPS5(Z16, "0000000000081002", "0000000000081002", "0000000000081002") "CapAmb:\t" Z16
		  "\nNoNewPrivs:\t1\nThreads:\t3\n",
		  0, { 0, 0x81002, 0x81002, 0x81002, 0, 1, 3 } },
		/* no trailing newline, upper-case hex, lines in another order */
		{ "CapBnd:\tFFFFFFFFFFFFFFFF\nCapEff:\t1\nCapPrm:\t2\nCapInh:\t4", 0,
		  { 4, 2, 1, UINT64_MAX, 0, 0, 1 } },
		/* hostile */
		{ "", -EINVAL, { 0 } },
		{ CAPS5(Z16, Z16, Z16, "") , -EINVAL, { 0 } },                   /* empty mask */
		{ CAPS5(Z16, Z16, "00000000000000zz", Z16), -EINVAL, { 0 } },     /* not hex */
		{ CAPS5(Z16, Z16, "10000000000000000", Z16), -EINVAL, { 0 } },    /* 17 digits */
		{ CAPS5(Z16, Z16, "-1", Z16), -EINVAL, { 0 } },
		{ "CapInh:\t0\nCapPrm:\t0\nCapBnd:\t0\n", -EINVAL, { 0 } },      /* no CapEff */
		{ "CapInh:\t0\nCapPrm:\t0\nCapEffX:\t0\nCapBnd:\t0\n", -EINVAL, { 0 } },
		{ "CapInh:\t0\nCapPrm:\t0\nName:\tCapEff:\t0\nCapBnd:\t0\n", -EINVAL, { 0 } },
		{ CAPS5(Z16, Z16, Z16, Z16) "NoNewPrivs:\tyes\n", -EINVAL, { 0 } },
		{ CAPS5(Z16, Z16, Z16, Z16) "Threads:\t99999999999999999999\n", -ERANGE, { 0 } },
		{ CAPS5(Z16, Z16, Z16, Z16) "NoNewPrivs:\t" "000000000000000000000000000000001\n", -EINVAL, { 0 } },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct privs_sets s;
		memset(&s, 0xa5, sizeof(s));
		int rc = privs_parse_status(t[i].buf, &s);
		if (rc != t[i].rc)
			fail_msg("case %zu: rc %d, want %d", i, rc, t[i].rc);
		if (rc != 0)
			continue;
		assert_int_equal(s.inh, t[i].want.inh);
		assert_int_equal(s.prm, t[i].want.prm);
		assert_int_equal(s.eff, t[i].want.eff);
		assert_int_equal(s.bnd, t[i].want.bnd);
		assert_int_equal(s.amb, t[i].want.amb);
		assert_int_equal(s.nnp, t[i].want.nnp);
		assert_int_equal(s.threads, t[i].want.threads);
	}
}

static void describe_self(void **state)
{
	(void)state;
	char buf[4096];
	assert_int_equal(privs_describe(buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "eff="));
	assert_non_null(strstr(buf, " bnd="));
	assert_non_null(strstr(buf, " nnp="));
	char tiny[8];
	assert_int_equal(privs_describe(tiny, sizeof(tiny)), -ENAMETOOLONG);
	assert_true(strlen(tiny) < sizeof(tiny));
	assert_int_equal(privs_describe(tiny, 0), -ENAMETOOLONG);
	assert_int_equal(privs_is_root(), geteuid() == 0);
}

/* ---- live, in forked children ---- */

/* What a child reports through its pipe. */
struct child_report {
	struct privs_sets before, after;
	int rc1, rc2;         /* first and second privs_drop() */
	int missing;          /* privs_missing() */
	char missing_names[128];
	int setuid_errno;     /* CAP_SETUID is gone */
	int chown_errno;      /* CAP_CHOWN is gone */
	int read_errno;       /* CAP_DAC_OVERRIDE is kept: a mode 0000 file opens */
	char describe[2048];
	int describe_rc;
};

static char tmpfile_path[64];

static void child_drop(int wfd)
{
	struct child_report r;
	memset(&r, 0, sizeof(r));
	/* give the child ambient and inheritable capabilities to clear */
	cap_t c = cap_get_proc();
	cap_value_t na = CAP_NET_ADMIN;
	if (c && cap_set_flag(c, CAP_INHERITABLE, 1, &na, CAP_SET) == 0 && cap_set_proc(c) == 0)
		(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0);
	cap_free(c);
	if (privs_read_self(&r.before) < 0)
		_exit(3);
	/* as the daemon asks: before dropping */
	r.missing = privs_missing(r.missing_names, sizeof(r.missing_names));
	r.rc1 = privs_drop();
	r.rc2 = privs_drop();
	if (privs_read_self(&r.after) < 0)
		_exit(4);
	errno = 0;
	r.setuid_errno = setuid(1) < 0 ? errno : 0;
	r.chown_errno = chown(tmpfile_path, 1, 1) < 0 ? errno : 0;
	int fd = open(tmpfile_path, O_RDONLY | O_CLOEXEC);
	r.read_errno = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	r.describe_rc = privs_describe(r.describe, sizeof(r.describe));
	_exit(write(wfd, &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 5);
}

/* Run fn(wfd) in a child, read its report, reap it. */
static void run_child(void (*fn)(int), void *report, size_t size)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		fn(p[1]);
		_exit(6);
	}
	close(p[1]);
	size_t got = 0;
	while (got < size) {
		ssize_t n = read(p[0], (char *)report + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(p[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("child status %#x", st);
	assert_int_equal(got, size);
}

static void skip_unless_root(void)
{
	struct privs_sets s;
	assert_int_equal(privs_read_self(&s), 0);
	if (geteuid() != 0 || !(s.prm & PRIVS_BIT(CAP_SETPCAP))) {
		print_message("not root with CAP_SETPCAP: skipping the live privs test\n");
		skip();
	}
}

static void live_drop(void **state)
{
	(void)state;
	skip_unless_root();
	snprintf(tmpfile_path, sizeof(tmpfile_path), "/tmp/oc-privs-XXXXXX");
	int fd = mkstemp(tmpfile_path);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, 0), 0);
	close(fd);

	struct child_report r;
	run_child(child_drop, &r, sizeof(r));
	unlink(tmpfile_path);

	uint64_t keep = PRIVS_KEEP_MASK & r.before.prm;
	print_message("before: prm=%#llx bnd=%#llx amb=%#llx\nafter:  %s\n", (unsigned long long)r.before.prm,
		      (unsigned long long)r.before.bnd, (unsigned long long)r.before.amb, r.describe);
	assert_int_equal(r.rc1, 0);
	assert_int_equal(r.rc2, 0);
	/* the child really had something to clear */
	assert_int_equal(r.before.amb, PRIVS_BIT(CAP_NET_ADMIN));
	assert_int_equal(r.before.inh, PRIVS_BIT(CAP_NET_ADMIN));
	assert_int_equal(r.before.nnp, 0);

	assert_int_equal(r.after.eff, keep);
	assert_int_equal(r.after.prm, keep);
	assert_int_equal(r.after.inh, 0);
	assert_int_equal(r.after.amb, 0);
	assert_int_equal(r.after.bnd, PRIVS_KEEP_MASK & r.before.bnd);
	assert_int_equal(r.after.nnp, 1);

	assert_int_equal(r.missing, __builtin_popcountll(PRIVS_WANT_MASK & ~r.before.prm));
	if (!(r.before.prm & PRIVS_BIT(CAP_SYS_RESOURCE)))
		assert_string_equal(r.missing_names, "cap_sys_resource");
	else
		assert_string_equal(r.missing_names, "");
	/* the daemon keeps neither SYS_PTRACE (the reader has it) nor NET_ADMIN */
	assert_false(r.after.eff & PRIVS_BIT(CAP_SYS_PTRACE));
	assert_false(r.after.eff & PRIVS_BIT(CAP_NET_ADMIN));

	assert_int_equal(r.setuid_errno, EPERM);
	assert_int_equal(r.chown_errno, EPERM);
	assert_int_equal(r.read_errno, 0);
	assert_int_equal(r.describe_rc, 0);
	assert_non_null(strstr(r.describe, "eff=cap_dac_override"));
	assert_null(strstr(r.describe, "cap_sys_ptrace"));
	assert_non_null(strstr(r.describe, " inh= amb= bnd=cap_dac_override"));
	assert_non_null(strstr(r.describe, " nnp=1 uid=0"));
}

/* A second thread would keep every capability: privs_drop refuses. */
static void *park(void *arg)
{
	char c;
	(void)!read(*(int *)arg, &c, 1);
	return NULL;
}

struct busy_report {
	int rc;
	struct privs_sets before, after;
};

static void child_threaded(int wfd)
{
	struct busy_report r;
	memset(&r, 0, sizeof(r));
	int p[2];
	pthread_t t;
	if (pipe(p) < 0 || pthread_create(&t, NULL, park, &p[0]) != 0)
		_exit(3);
	if (privs_read_self(&r.before) < 0)
		_exit(4);
	r.rc = privs_drop();
	if (privs_read_self(&r.after) < 0)
		_exit(4);
	(void)!write(p[1], "x", 1);
	pthread_join(t, NULL);
	_exit(write(wfd, &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 5);
}

static void live_refuses_threads(void **state)
{
	(void)state;
	skip_unless_root();
	struct busy_report r;
	run_child(child_threaded, &r, sizeof(r));
	assert_int_equal(r.rc, -EBUSY);
	assert_int_equal(r.before.threads, 2);
	assert_int_equal(r.after.eff, r.before.eff);
	assert_int_equal(r.after.bnd, r.before.bnd);
	assert_int_equal(r.after.nnp, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_table),
		cmocka_unit_test(describe_self),
		cmocka_unit_test(live_drop),
		cmocka_unit_test(live_refuses_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
