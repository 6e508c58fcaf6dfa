/* test_proc.c - /proc/PID parsers (real captures, hostile buffers) and readers. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proc.h"
#include "procfd.h"
#include "tmptree.h"
#include "util.h"

static char *load(const char *rel, char *buf, size_t size, ssize_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), FIXTURES "/%s", rel);
	ssize_t n = read_file(path, buf, size);
	if (n < 0)
		fail_msg("%s: %zd", path, n);
	if (len)
		*len = n;
	return buf;
}

/* ---- stat ---- */

#define TAIL17 " 0 -1 4194304 96 0 0 0 0 0 0 0 20 0 1 0"
static const struct {
	const char *name, *buf;
	int rc;
	const char *comm;
	char state;
	int ppid;
	uint64_t start;
} stats[] = {
	{ "plain", "12 (cat) R 7 12 12" TAIL17 " 34912 3133440 379\n", 0, "cat", 'R', 7, 34912 },
	{ "comm with ) Z (", "5 (a) Z (b) S 1 5 5" TAIL17 " 77 0\n", 0, "a) Z (b", 'S', 1, 77 },
	{ "comm with newline", "5 (x\ny) S 1 5 5" TAIL17 " 77\n", 0, "x\ny", 'S', 1, 77 },
	{ "comm with spaces", "5 (a b  c) S 1 5 5" TAIL17 " 77\n", 0, "a b  c", 'S', 1, 77 },
	{ "comm looks like fields", "5 (x) S 9 9 9) D 3 5 5" TAIL17 " 78\n", 0, "x) S 9 9 9", 'D', 3, 78 },
	{ "empty comm", "5 () S 1 5 5" TAIL17 " 77\n", 0, "", 'S', 1, 77 },
	{ "no trailing newline, field 22 last", "5 (x) S 0 5 5" TAIL17 " 1", 0, "x", 'S', 0, 1 },
	{ "max start time", "5 (x) S 0 5 5" TAIL17 " 18446744073709551615\n", 0, "x", 'S', 0, UINT64_MAX },
	{ "overlong comm truncated",
	  "5 (0123456789012345678901234567890123456789012345678901234567890123456789) S 1 5 5" TAIL17 " 7\n",
	  0, "012345678901234567890123456789012345678901234567890123456789012", 'S', 1, 7 },
	{ "empty", "", -EINVAL, NULL, 0, 0, 0 },
	{ "no parens", "5 x S 1 5 5" TAIL17 " 7\n", -EINVAL, NULL, 0, 0, 0 },
	{ "no close paren", "5 (x S 1 5 5" TAIL17 " 7\n", -EINVAL, NULL, 0, 0, 0 },
	{ "close before open", "5 )x( S 1 5 5" TAIL17 " 7\n", -EINVAL, NULL, 0, 0, 0 },
	{ "no pid", "(x) S 1 5 5" TAIL17 " 7\n", -EINVAL, NULL, 0, 0, 0 },
	{ "junk pid", "5a (x) S 1 5 5" TAIL17 " 7\n", -EINVAL, NULL, 0, 0, 0 },
	{ "truncated after comm", "5 (x)", -EINVAL, NULL, 0, 0, 0 },
	{ "truncated before field 22", "5 (x) S 1 5 5" TAIL17 "\n", -EINVAL, NULL, 0, 0, 0 },
	{ "truncated at 5 fields", "5 (x) S 1 5", -EINVAL, NULL, 0, 0, 0 },
	{ "20-digit start", "5 (x) S 1 5 5" TAIL17 " 99999999999999999999\n", -EINVAL, NULL, 0, 0, 0 },
	{ "negative ppid", "5 (x) S -1 5 5" TAIL17 " 7\n", -EINVAL, NULL, 0, 0, 0 },
	{ "ppid above INT_MAX", "5 (x) S 2147483648 5 5" TAIL17 " 7\n", -EINVAL, NULL, 0, 0, 0 },
	{ "two-letter state", "5 (x) SS 1 5 5" TAIL17 " 7\n", -EINVAL, NULL, 0, 0, 0 },
	{ "digit state", "5 (x) 1 1 5 5" TAIL17 " 7\n", -EINVAL, NULL, 0, 0, 0 },
	{ "junk start", "5 (x) S 1 5 5" TAIL17 " 7x\n", -EINVAL, NULL, 0, 0, 0 },
};

/* field 9, PF_* flags: PF_FORKNOEXEC (0x40) says a child has not exec'd
 * (include/linux/sched.h; kernel/fork.c copy_process sets it, fs/exec.c
 * begin_new_exec clears it) - the fork share trusts only such a child */
static void stat_flags(void **state)
{
	(void)state;
	static const struct {
		const char *name, *buf;
		int rc;
		unsigned flags;
	} rows[] = {
		{ "forked, not exec'd (PF_FORKNOEXEC)", "9 (redis-rdb-bgsave) R 8 8 8 0 -1 4194368 5\n", 0,
		  0x400040 },
		{ "exec'd", "9 (sh) R 8 8 8 0 -1 4194304 5\n", 0, 0x400000 },
		{ "comm with ') ' inside", "9 (a) R 1 (b) S 8 8 8 0 -1 64 5\n", 0, 64 },
		{ "truncated before field 9", "9 (x) S 8 8 8 0\n", -EINVAL, 0 },
		{ "junk flags", "9 (x) S 8 8 8 0 -1 4x 5\n", -EINVAL, 0 },
		{ "no paren", "9 x S 8 8 8 0 -1 64 5\n", -EINVAL, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		unsigned f = 0;
		int rc = proc_stat_flags_parse(rows[i].buf, &f);
		if (rc != rows[i].rc || (rc == 0 && f != rows[i].flags))
			fail_msg("%s: rc %d flags %#x", rows[i].name, rc, f);
	}
	assert_true(0x400040 & PROC_PF_FORKNOEXEC);
}

static void stat_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(stats); i++) {
		struct proc_stat st;
		int rc = proc_stat_parse(stats[i].buf, &st);
		if (rc != stats[i].rc)
			fail_msg("%s: rc %d, want %d", stats[i].name, rc, stats[i].rc);
		if (rc != 0)
			continue;
		if (strcmp(st.comm, stats[i].comm) != 0 || st.state != stats[i].state ||
		    st.ppid != stats[i].ppid || st.start_time != stats[i].start)
			fail_msg("%s: got comm \"%s\" state %c ppid %d start %llu", stats[i].name,
				 st.comm, st.state, st.ppid, (unsigned long long)st.start_time);
	}
}

static void stat_captures(void **state)
{
	(void)state;
	static const struct {
		const char *file, *comm;
		char state;
		int ppid;
		uint64_t start;
	} caps[] = {
		{ "captures/self.stat", "cat", 'R', 6735, 45397 },
		{ "captures/kthreadd.stat", "kthreadd", 'S', 0, 33 },
		{ "captures/hostile-comm.stat", "a) Z (b", 'S', 6748, 45400 },
		{ "captures/newline-comm.stat", "x\ny", 'S', 6755, 45432 },
		{ "captures/nobody.stat", "sleep", 'S', 10071, 67334 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(caps); i++) {
		char buf[4096];
		struct proc_stat st;
		assert_int_equal(proc_stat_parse(load(caps[i].file, buf, sizeof(buf), NULL), &st), 0);
		assert_string_equal(st.comm, caps[i].comm);
		assert_int_equal(st.state, caps[i].state);
		assert_int_equal(st.ppid, caps[i].ppid);
		assert_int_equal(st.start_time, caps[i].start);
	}
}

/* ---- status ---- */

#define ID "Uid:\t1000\t0\t0\t0\nTgid:\t42\n"
static const struct {
	const char *name, *buf;
	int rc;
	unsigned uid;
	int tgid;
	uint64_t size, data, stk, anon, cap;
} statuses[] = {
	{ "minimal (kernel thread)", ID, 0, 1000, 42, 0, 0, 0, 0, 0 },
	{ "real uid is the first", "Uid:\t65534\t0\t0\t0\nTgid:\t1\n", 0, 65534, 1, 0, 0, 0, 0, 0 },
	{ "effective uid junk", "Uid:\t5\tx\t0\t0\nTgid:\t1\n", -EINVAL, 0, 0, 0, 0, 0, 0, 0 },
	{ "all fields", ID "VmSize:\t  100 kB\nVmData:\t   60 kB\nVmStk:\t 132 kB\nRssAnon:\t 7 kB\n"
	  "CapEff:\t0000000000200000\n", 0, 1000, 42, 100, 60, 132, 7, 1u << 21 },
	{ "uppercase hex", ID "CapEff:\t000001FFFFFFFFFF\n", 0, 1000, 42, 0, 0, 0, 0, 0x1ffffffffffULL },
	{ "Name with tricks is ignored", "Name:\tUid: 5\n" ID, 0, 1000, 42, 0, 0, 0, 0, 0 },
	{ "truncated Uid line keeps first", "Tgid:\t3\nUid:\t77", 0, 77, 3, 0, 0, 0, 0, 0 },
	{ "empty", "", -EINVAL, 0, 0, 0, 0, 0, 0, 0 },
	{ "no Uid", "Tgid:\t42\n", -EINVAL, 0, 0, 0, 0, 0, 0, 0 },
	{ "no Tgid", "Uid:\t0\t0\t0\t0\n", -EINVAL, 0, 0, 0, 0, 0, 0, 0 },
	{ "empty Uid", "Uid:\nTgid:\t1\n", -EINVAL, 0, 0, 0, 0, 0, 0, 0 },
	{ "negative uid", "Uid:\t-1\t0\t0\t0\nTgid:\t1\n", -EINVAL, 0, 0, 0, 0, 0, 0, 0 },
	{ "uid 2^32", "Uid:\t4294967296\t0\nTgid:\t1\n", -EINVAL, 0, 0, 0, 0, 0, 0, 0 },
	{ "duplicate VmData", ID "VmData:\t1 kB\nVmData:\t2 kB\n", -EINVAL, 0, 0, 0, 0, 0, 0, 0 },
	{ "VmData no unit", ID "VmData:\t 123\n", -EINVAL, 0, 0, 0, 0, 0, 0, 0 },
	{ "truncated VmData", ID "VmData:\t 12", -EINVAL, 0, 0, 0, 0, 0, 0, 0 },
	{ "20-digit VmData", ID "VmData:\t99999999999999999999 kB\n", -EINVAL, 0, 0, 0, 0, 0, 0, 0 },
	{ "CapEff 17 digits", ID "CapEff:\t00000000000000000\n", -EINVAL, 0, 0, 0, 0, 0, 0, 0 },
	{ "CapEff junk", ID "CapEff:\tzz\n", -EINVAL, 0, 0, 0, 0, 0, 0, 0 },
	{ "CapEff empty", ID "CapEff:\t\n", -EINVAL, 0, 0, 0, 0, 0, 0, 0 },
	{ "Tgid junk", "Uid:\t0\nTgid:\t1x\n", -EINVAL, 0, 0, 0, 0, 0, 0, 0 },
};

/* the effective uid is the second field; a fixture with one field: = real */
static void status_euid(void **state)
{
	(void)state;
	struct proc_status st;
	assert_int_equal(proc_status_parse("Uid:\t1000\t0\t0\t0\nTgid:\t42\n", &st), 0);
	assert_int_equal(st.uid, 1000);
	assert_int_equal(st.euid, 0);
	assert_int_equal(proc_status_parse("Uid:\t77\nTgid:\t3\n", &st), 0);
	assert_int_equal(st.euid, 77);
}

static void status_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(statuses); i++) {
		struct proc_status st;
		int rc = proc_status_parse(statuses[i].buf, &st);
		if (rc != statuses[i].rc)
			fail_msg("%s: rc %d, want %d", statuses[i].name, rc, statuses[i].rc);
		if (rc != 0)
			continue;
		if (st.uid != statuses[i].uid || st.tgid != statuses[i].tgid ||
		    st.vm_size_kb != statuses[i].size || st.vm_data_kb != statuses[i].data ||
		    st.vm_stk_kb != statuses[i].stk || st.rss_anon_kb != statuses[i].anon ||
		    st.cap_eff != statuses[i].cap)
			fail_msg("%s: wrong values", statuses[i].name);
	}
}

static void status_captures(void **state)
{
	(void)state;
	static const struct {
		const char *file;
		unsigned uid;
		int tgid;
		uint64_t size, data, stk, anon, cap;
	} caps[] = {
		{ "captures/1.status", 0, 1, 43448, 35948, 132, 7284, 0x1ffffffffffULL },
		{ "captures/kthreadd.status", 0, 2, 0, 0, 0, 0, 0x1ffffffffffULL },
		{ "captures/nobody.status", 65534, 10072, 2920, 224, 132, 108, 0 },
		{ "captures/ruid-nobody.status", 65534, 10077, 2920, 224, 132, 108, 0x1fffeffffffULL },
		{ "captures/hostile-comm.status", 0, 6749, 2920, 224, 132, 108, 0x1fffeffffffULL },
	};
	for (size_t i = 0; i < ARRAY_SIZE(caps); i++) {
		char buf[8192];
		struct proc_status st;
		assert_int_equal(proc_status_parse(load(caps[i].file, buf, sizeof(buf), NULL), &st), 0);
		assert_int_equal(st.uid, caps[i].uid);
		assert_int_equal(st.tgid, caps[i].tgid);
		assert_int_equal(st.vm_size_kb, caps[i].size);
		assert_int_equal(st.vm_data_kb, caps[i].data);
		assert_int_equal(st.vm_stk_kb, caps[i].stk);
		assert_int_equal(st.rss_anon_kb, caps[i].anon);
		assert_int_equal(st.cap_eff, caps[i].cap);
	}
}

/* ---- cgroup ---- */

static void cgroup_table(void **state)
{
	(void)state;
	static const struct {
		const char *buf;
		int rc;
		const char *out;
	} cases[] = {
		{ "0::/\n", 0, "/" },
		{ "0::/system.slice/redis-server.service\n", 0, "/system.slice/redis-server.service" },
		{ "0::/a b/c", 0, "/a b/c" },
		/* the memory controller on v1 (v1, hybrid): its line wins */
		{ "12:memory:/x\n1:name=systemd:/y\n0::/z\n", 0, "/x" },
		{ "0::/z\n12:memory:/x\n", 0, "/x" },
		{ "4:memory:/process_api\n", 0, "/process_api" },
		{ "3:cpu,memory,pids:/m\n0::/z\n", 0, "/m" },
		{ "3:memoryx:/m\n0::/z\n", 0, "/z" },
		{ "4:memory:/a\n5:memory:/b\n", -EINVAL, "" },
		{ "1:name=systemd:/y\n", 0, "" },
		{ "", 0, "" },
		{ "\n\n", 0, "" },
		{ "10::/v1-looking\n", 0, "" },
		{ "0::relative\n", -EINVAL, "" },
		{ "0::\n", -EINVAL, "" },
		{ "0::/a\n0::/b\n", -EINVAL, "" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char out[PROC_PATH_MAX];
		int rc = proc_cgroup_parse(cases[i].buf, out, sizeof(out));
		if (rc != cases[i].rc || (rc == 0 && strcmp(out, cases[i].out) != 0))
			fail_msg("case %zu: rc %d out \"%s\"", i, rc, out);
	}
	char buf[4096], out[PROC_PATH_MAX];
	assert_int_equal(proc_cgroup_parse(load("captures/self.cgroup", buf, sizeof(buf), NULL),
					   out, sizeof(out)), 0);
	assert_string_equal(out, "/process_api/21d9bfa14023456529853d2ec3a7fc73");
	/* a path longer than the output is refused, not truncated */
	char big[PROC_PATH_MAX + 16];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "0::/", 4);
	assert_int_equal(proc_cgroup_parse(big, out, sizeof(out)), -EINVAL);
	char small[4];
	assert_int_equal(proc_cgroup_parse("0::/abc\n", small, sizeof(small)), -EINVAL);
	assert_int_equal(proc_cgroup_parse("0::/ab\n", small, sizeof(small)), 0);
	assert_string_equal(small, "/ab");
}

/* ---- cmdline ---- */

static void cmdline_join(void **state)
{
	(void)state;
	static const struct {
		const char *buf;
		size_t len, size;
		const char *out;
	} cases[] = {
		{ "a\0b\0", 4, 64, "a b" },
		{ "", 0, 64, "" },
		{ "abc", 3, 64, "abc" },
		{ "a\0\0b\0", 5, 64, "a  b" },
		{ "/usr/bin/redis-server 127.0.0.1:6379\0\0\0", 39, 64, "/usr/bin/redis-server 127.0.0.1:6379" },
		{ "abcdef\0", 7, 4, "abc" },
		{ "abcdef\0", 7, 1, "" },
		{ "\0\0\0", 3, 64, "" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char out[64];
		memset(out, 'X', sizeof(out));
		proc_cmdline_join(cases[i].buf, cases[i].len, out, cases[i].size);
		if (strcmp(out, cases[i].out) != 0)
			fail_msg("case %zu: \"%s\"", i, out);
	}
	char buf[1024], out[PROC_CMDLINE_MAX];
	ssize_t n;
	load("captures/python.cmdline", buf, sizeof(buf), &n);
	proc_cmdline_join(buf, (size_t)n, out, sizeof(out));
	assert_string_equal(out, "/root/.pyenv/versions/3.11.7/bin/python3 -c import sys;"
			    "sys.stdout.buffer.write(open(\"/proc/self/cmdline\",\"rb\").read())");
	load("captures/kthreadd.cmdline", buf, sizeof(buf), &n);
	proc_cmdline_join(buf, (size_t)n, out, sizeof(out));
	assert_string_equal(out, "");
}

/* ---- derived ---- */

static void derived(void **state)
{
	(void)state;
	struct proc_info p = { 0 };
	p.status.vm_data_kb = 614400;
	p.status.vm_stk_kb = 132;
	assert_int_equal(proc_commit_kb(&p), 614532);
	assert_false(proc_has_cap_sys_admin(&p));
	p.status.cap_eff = 1ULL << 21;
	assert_true(proc_has_cap_sys_admin(&p));
	p.status.cap_eff = (1ULL << 20) | (1ULL << 22);
	assert_false(proc_has_cap_sys_admin(&p));
	p.status.cap_eff = 0x1fffeffffffULL; /* a real CapEff that has it */
	assert_true(proc_has_cap_sys_admin(&p));
}

static void unit_table(void **state)
{
	(void)state;
	static const struct {
		const char *cg, *unit;
	} cases[] = {
		{ "/system.slice/redis-server.service", "redis-server.service" },
		{ "/user.slice/user-1000.slice/session-2.scope", "session-2.scope" },
		{ "/system.slice/docker.service/payload", "docker.service" },
		{ "/user.slice/user-1000.slice/user@1000.service/app.slice/app-foo.scope", "app-foo.scope" },
		{ "/system.slice/x.service/", "x.service" },
		{ "/init.scope", "init.scope" },
		{ "/", NULL },
		{ "", NULL },
		{ "/system.slice", NULL },
		{ "/a/.service", NULL },
		{ "/a.service.d", NULL },
		{ "/overcommitd/redis", NULL },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct proc_info p = { 0 };
		snprintf(p.cgroup, sizeof(p.cgroup), "%s", cases[i].cg);
		size_t len = 999;
		const char *u = proc_unit(&p, &len);
		if (!cases[i].unit) {
			if (u)
				fail_msg("%s: unexpected unit %.*s", cases[i].cg, (int)len, u);
			continue;
		}
		if (!u || len != strlen(cases[i].unit) || memcmp(u, cases[i].unit, len) != 0)
			fail_msg("%s: want %s", cases[i].cg, cases[i].unit);
	}
}

/* ---- readers ---- */

static void read_fixture(void **state)
{
	(void)state;
	struct roots r = { .procfs = FIXTURES "/seed-strict/proc" };
	struct proc_info p;
	assert_int_equal(proc_read(&r, 100, &p), 0);
	assert_int_equal(p.pid, 100);
	assert_string_equal(p.st.comm, "redis-server");
	assert_int_equal(p.st.ppid, 1);
	assert_int_equal(p.st.start_time, 4200);
	assert_int_equal(p.status.uid, 102);
	assert_int_equal(p.status.vm_data_kb, 614400);
	assert_int_equal(proc_commit_kb(&p), 614532);
	assert_int_equal(p.oom_score_adj, 0);
	assert_string_equal(p.exe, "/usr/bin/redis-server");
	assert_string_equal(p.cmdline, "/usr/bin/redis-server 127.0.0.1:6379");
	assert_string_equal(p.cgroup, "/");

	/* kernel thread: no exe link, empty cmdline, no Vm* lines */
	assert_int_equal(proc_read(&r, 2, &p), 0);
	assert_string_equal(p.exe, "");
	assert_string_equal(p.cmdline, "");
	assert_int_equal(proc_commit_kb(&p), 0);

	/* pid 300 has a directory but no stat: gone */
	assert_int_equal(proc_read(&r, 300, &p), -ENOENT);
	assert_int_equal(proc_read(&r, 4242, &p), -ENOENT);
	uint64_t start;
	assert_int_equal(proc_read_start_time(&r, 101, &start), 0);
	assert_int_equal(start, 98000);
	assert_int_equal(proc_read_start_time(&r, 300, &start), -ENOENT);

	/* only what was asked for */
	memset(&p, 0, sizeof(p));
	assert_int_equal(proc_read_opts(&r, 100, PROC_READ_STAT, &p), 0);
	assert_string_equal(p.st.comm, "redis-server");
	assert_int_equal(p.status.vm_data_kb, 0);
	assert_string_equal(p.exe, "");
}

/* Through a pinned /proc/PID fd (procfd_pin): the same fields as by pid,
 * and every file of that one process - a new owner of the pid (in the
 * fixture: a new directory at the path) is never read. */
static void read_pinned(void **state)
{
	(void)state;
	struct roots r = { .procfs = FIXTURES "/seed-strict/proc" };
	struct proc_info p, q;
	int fd;
	unsigned what = PROC_READ_STAT | PROC_READ_STATUS | PROC_READ_OOM | PROC_READ_CGROUP |
			PROC_READ_CMDLINE;
	assert_int_equal(procfd_pin(&r, 100, &fd), PROCFD_SAME);
	memset(&p, 0, sizeof(p));
	memset(&q, 0, sizeof(q));
	assert_int_equal(proc_read_pinned(&r, 100, fd, what, &p), 0);
	assert_int_equal(proc_read_opts(&r, 100, what, &q), 0);
	assert_memory_equal(&p, &q, sizeof(p));
	assert_int_equal(close(fd), 0);
	assert_int_equal(procfd_pin(&r, 4242, &fd), PROCFD_GONE);
	assert_int_equal(fd, -1);

	char *t = tt_make();
	snprintf(r.procfs, sizeof(r.procfs), "%s/proc", t);
	tt_write(t, "proc/7/stat", "7 (old) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 111 1 1\n");
	tt_write(t, "proc/7/oom_score_adj", "5\n");
	assert_int_equal(procfd_pin(&r, 7, &fd), PROCFD_SAME);
	char old[4200], path[4200];
	snprintf(path, sizeof(path), "%s/proc/7", t);
	snprintf(old, sizeof(old), "%s/proc/old7", t);
	assert_int_equal(rename(path, old), 0);
	tt_write(t, "proc/7/stat", "7 (new) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 999 1 1\n");
	tt_write(t, "proc/7/oom_score_adj", "9\n");
	memset(&p, 0, sizeof(p));
	assert_int_equal(proc_read_pinned(&r, 7, fd, PROC_READ_STAT | PROC_READ_OOM, &p), 0);
	assert_string_equal(p.st.comm, "old");
	assert_int_equal(p.st.start_time, 111);
	assert_int_equal(p.oom_score_adj, 5);
	/* the pinned process exits: gone, as by pid */
	assert_int_equal(unlink(strcat(old, "/oom_score_adj")), 0);
	assert_int_equal(proc_read_pinned(&r, 7, fd, PROC_READ_OOM, &p), -ENOENT);
	assert_int_equal(close(fd), 0);
	tt_rm(t);
}

static void read_tmp_tree(void **state)
{
	(void)state;
	char *t = tt_make();
	struct roots r;
	snprintf(r.procfs, sizeof(r.procfs), "%s/proc", t);
	struct tt_proc tp = { .pid = 7, .comm = "a) Z (b", .ppid = 1, .start = 9, .uid = 5,
			      .cgroup = "/x.service", .vm_data_kb = 100 };
	tt_add_proc(t, &tp);
	tt_symlink(t, "proc/7/exe", "/opt/app/bin/server (deleted)");
	struct proc_info p;
	assert_int_equal(proc_read(&r, 7, &p), 0);
	assert_string_equal(p.st.comm, "a) Z (b");
	assert_string_equal(p.exe, "/opt/app/bin/server");
	assert_string_equal(p.cgroup, "/x.service");

	/* exe named exactly " (deleted)" is not stripped to "" */
	tt_symlink(t, "proc/7/exe", " (deleted)");
	assert_int_equal(proc_read(&r, 7, &p), 0);
	assert_string_equal(p.exe, " (deleted)");

	/* a long cmdline is read as a prefix, not refused */
	char big[5000];
	memset(big, 'x', sizeof(big));
	big[10] = '\0';
	tt_write_n(t, "proc/7/cmdline", big, sizeof(big));
	assert_int_equal(proc_read(&r, 7, &p), 0);
	assert_int_equal(strlen(p.cmdline), PROC_CMDLINE_MAX - 1);
	assert_int_equal(p.cmdline[10], ' ');

	/* an overlong cgroup path is "no cgroup", not a dead process */
	char cg[PROC_PATH_MAX + 20];
	memset(cg, 'c', sizeof(cg) - 2);
	memcpy(cg, "0::/", 4);
	cg[sizeof(cg) - 2] = '\n';
	cg[sizeof(cg) - 1] = '\0';
	tt_write(t, "proc/7/cgroup", cg);
	assert_int_equal(proc_read(&r, 7, &p), 0);
	assert_string_equal(p.cgroup, "");

	/* hostile values in files that must parse */
	tt_write(t, "proc/7/oom_score_adj", "2000\n");
	assert_int_equal(proc_read(&r, 7, &p), -EINVAL);
	tt_write(t, "proc/7/oom_score_adj", "-1000\n");
	assert_int_equal(proc_read(&r, 7, &p), 0);
	assert_int_equal(p.oom_score_adj, -1000);
	tt_write(t, "proc/7/status", "Name:\tx\n");
	assert_int_equal(proc_read(&r, 7, &p), -EINVAL);
	/* vanished between files: status gone after stat was read */
	char path[4200];
	snprintf(path, sizeof(path), "%s/proc/7/status", t);
	unlink(path);
	assert_int_equal(proc_read(&r, 7, &p), -ENOENT);
	tt_rm(t);
}

static void read_self(void **state)
{
	(void)state;
	struct roots r;
	roots_default(&r);
	struct proc_info p;
	assert_int_equal(proc_read(&r, getpid(), &p), 0);
	assert_string_equal(p.st.comm, "test_proc");
	assert_int_equal(p.st.ppid, getppid());
	assert_int_equal(p.status.uid, getuid());
	assert_int_equal(p.status.tgid, getpid());
	assert_true(p.status.vm_data_kb > 0);
	char exe[PROC_PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	assert_string_equal(p.exe, exe);
	assert_non_null(strstr(p.cmdline, "test_proc"));
	uint64_t start;
	assert_int_equal(proc_read_start_time(&r, getpid(), &start), 0);
	assert_int_equal(start, p.st.start_time);
}

static void list_pids(void **state)
{
	(void)state;
	struct roots r = { .procfs = FIXTURES "/seed-strict/proc" };
	int *pids;
	int n = proc_list_pids(&r, &pids);
	static const int want[] = { 1, 2, 100, 101, 200, 300 }; /* not sys, meminfo */
	assert_int_equal(n, ARRAY_SIZE(want));
	assert_memory_equal(pids, want, sizeof(want));
	free(pids);

	roots_default(&r);
	n = proc_list_pids(&r, &pids);
	assert_true(n > 1);
	bool self = false;
	for (int i = 0; i < n; i++) {
		self |= pids[i] == getpid();
		if (i > 0)
			assert_true(pids[i - 1] < pids[i]);
	}
	assert_true(self);
	free(pids);

	struct roots bad = { .procfs = "/nonexistent-oc" };
	assert_int_equal(proc_list_pids(&bad, &pids), -ENOENT);
	assert_null(pids);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stat_table),
		cmocka_unit_test(stat_flags),
		cmocka_unit_test(stat_captures),
		cmocka_unit_test(status_table),
		cmocka_unit_test(status_euid),
		cmocka_unit_test(status_captures),
		cmocka_unit_test(cgroup_table),
		cmocka_unit_test(cmdline_join),
		cmocka_unit_test(derived),
		cmocka_unit_test(unit_table),
		cmocka_unit_test(read_fixture),
		cmocka_unit_test(read_pinned),
		cmocka_unit_test(read_tmp_tree),
		cmocka_unit_test(read_self),
		cmocka_unit_test(list_pids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
