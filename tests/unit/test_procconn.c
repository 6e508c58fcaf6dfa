/* test_procconn.c - proc connector: real captured messages, hand-built and
 * hostile ones, the per-CPU sequence tracker, then the live socket (skipped
 * without CAP_NET_ADMIN): fork/exec/exit/thread events, overflow detection
 * with a tiny buffer, no loss with a big one. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/wait.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/cn_proc.h>
#include <linux/connector.h>

#include "procconn.h"
#include "util.h"

/* Captured on this machine (kernel 6.18, raw NETLINK_CONNECTOR socket): the
 * netlink payloads for a child 16765 of 16764 that set its comm, dropped to
 * uid 65534 and ran sh -c 'exit 3'.  Also the seeds of fuzz_procconn. */
static const unsigned char cap_ack[] = {
	0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0xa7, 0x58, 0x4b, 0xf9, 0xfc, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const unsigned char cap_fork[] = {
	0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x1a, 0x95, 0x4c, 0xf9, 0xfc, 0x00, 0x00, 0x00,
	0x7c, 0x41, 0x00, 0x00, 0x7c, 0x41, 0x00, 0x00, 0x7d, 0x41, 0x00, 0x00,
	0x7d, 0x41, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const unsigned char cap_comm[] = {
	0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x5e, 0xcd, 0x4d, 0xf9, 0xfc, 0x00, 0x00, 0x00,
	0x7d, 0x41, 0x00, 0x00, 0x7d, 0x41, 0x00, 0x00, 0x63, 0x61, 0x70, 0x74,
	0x2d, 0x63, 0x68, 0x69, 0x6c, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const unsigned char cap_uid[] = {
	0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x14, 0x04, 0x4e, 0xf9, 0xfc, 0x00, 0x00, 0x00,
	0x7d, 0x41, 0x00, 0x00, 0x7d, 0x41, 0x00, 0x00, 0xfe, 0xff, 0x00, 0x00,
	0xfe, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const unsigned char cap_exec[] = {
	0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x9f, 0xfb, 0x50, 0xf9, 0xfc, 0x00, 0x00, 0x00,
	0x7d, 0x41, 0x00, 0x00, 0x7d, 0x41, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const unsigned char cap_exit[] = {
	0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80,
	0x01, 0x00, 0x00, 0x00, 0xd9, 0x5c, 0x5b, 0xf9, 0xfc, 0x00, 0x00, 0x00,
	0x7d, 0x41, 0x00, 0x00, 0x7d, 0x41, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00,
	0x11, 0x00, 0x00, 0x00, 0x7c, 0x41, 0x00, 0x00, 0x7c, 0x41, 0x00, 0x00,
};

static const struct {
	const char *name;
	const unsigned char *buf;
	size_t len;
	struct pc_event want;
} captures[] = {
	{ "ack", cap_ack, sizeof(cap_ack), { PC_NONE, 0, 0, 0, 0, 0, 0xfcf94b58a7ULL, 1, 0 } },
	{ "fork", cap_fork, sizeof(cap_fork),
	  { PC_FORK, 16765, 16765, 16764, 16764, 0, 0xfcf94c951aULL, 1, 1 } },
	{ "comm", cap_comm, sizeof(cap_comm),
	  { PC_OTHER, 16765, 16765, 0, 0, 0, 0xfcf94dcd5eULL, 1, 2 } },
	{ "uid", cap_uid, sizeof(cap_uid),
	  { PC_OTHER, 16765, 16765, 0, 0, 0, 0xfcf94e0414ULL, 1, 3 } },
	{ "exec", cap_exec, sizeof(cap_exec),
	  { PC_EXEC, 16765, 16765, 0, 0, 0, 0xfcf950fb9fULL, 1, 4 } },
	{ "exit 3", cap_exit, sizeof(cap_exit),
	  { PC_EXIT, 16765, 16765, 16764, 16764, 3 << 8, 0xfcf95b5cd9ULL, 1, 5 } },
};

static void expect_event(const char *name, const struct pc_event *got, const struct pc_event *want)
{
	if (got->type != want->type || got->pid != want->pid || got->tgid != want->tgid ||
	    got->ppid != want->ppid || got->ptgid != want->ptgid ||
	    got->exit_code != want->exit_code || got->ts_ns != want->ts_ns ||
	    got->cpu != want->cpu || got->seq != want->seq)
		fail_msg("%s: got type %d pid %d tgid %d ppid %d ptgid %d code %u ts %llu cpu %u seq %u",
			 name, got->type, got->pid, got->tgid, got->ppid, got->ptgid, got->exit_code,
			 (unsigned long long)got->ts_ns, got->cpu, got->seq);
}

static void real_captures(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(captures); i++) {
		struct pc_event ev;
		int rc = procconn_parse(captures[i].buf, captures[i].len, &ev);
		if (rc != 0)
			fail_msg("%s: rc %d", captures[i].name, rc);
		expect_event(captures[i].name, &ev, &captures[i].want);

		/* unaligned copy: the parser must not assume alignment */
		unsigned char odd[128];
		memcpy(odd + 1, captures[i].buf, captures[i].len);
		assert_int_equal(procconn_parse(odd + 1, captures[i].len, &ev), 0);
		expect_event(captures[i].name, &ev, &captures[i].want);

		/* every truncation of a real message is refused */
		for (size_t n = 0; n < captures[i].len; n++)
			if (procconn_parse(captures[i].buf, n, &ev) != -EINVAL)
				fail_msg("%s cut to %zu bytes accepted", captures[i].name, n);
	}
}

/* Hand-built: cn_msg + proc_event with an explicit cn_msg.len and total. */
struct mk {
	uint32_t idx, val, seq;
	uint32_t what, cpu;
	uint64_t ts;
	uint32_t f[6];  /* event_data as six 32-bit words */
	int cnlen;      /* cn_msg.len; -1: sizeof(struct proc_event) */
	int total;      /* bytes handed to the parser; -1: header + cn_msg.len */
};

static size_t build(const struct mk *m, unsigned char *buf, size_t size)
{
	struct cn_msg cn;
	struct proc_event pe;
	size_t cnlen = m->cnlen < 0 ? sizeof(pe) : (size_t)m->cnlen;

	memset(buf, 0xa5, size); /* junk beyond the message */
	memset(&cn, 0, sizeof(cn));
	memset(&pe, 0, sizeof(pe));
	cn.id.idx = m->idx;
	cn.id.val = m->val;
	cn.seq = m->seq;
	cn.len = (uint16_t)cnlen;
	pe.what = m->what;
	pe.cpu = m->cpu;
	pe.timestamp_ns = m->ts;
	memcpy(&pe.event_data, m->f, sizeof(m->f));
	memcpy(buf, &cn, sizeof(cn));
	memcpy(buf + sizeof(cn), &pe, sizeof(pe));
	return m->total < 0 ? sizeof(cn) + cnlen : (size_t)m->total;
}

#define P CN_IDX_PROC, CN_VAL_PROC
#define FULL -1, -1
#define EV_HDR_LEN ((int)offsetof(struct proc_event, event_data))

static const struct {
	const char *name;
	struct mk m;
	int rc;
	struct pc_event want;
} built[] = {
	{ "fork", { P, 7, PROC_EVENT_FORK, 0, 123, { 100, 100, 201, 201, 0, 0 }, FULL }, 0,
	  { PC_FORK, 201, 201, 100, 100, 0, 123, 0, 7 } },
	{ "thread fork: pid != tgid", { P, 8, PROC_EVENT_FORK, 3, 1, { 100, 100, 202, 100, 0, 0 }, FULL },
	  0, { PC_FORK, 202, 100, 100, 100, 0, 1, 3, 8 } },
	{ "fork by a thread", { P, 9, PROC_EVENT_FORK, 1, 1, { 105, 100, 203, 203, 0, 0 }, FULL }, 0,
	  { PC_FORK, 203, 203, 105, 100, 0, 1, 1, 9 } },
	{ "exec", { P, UINT32_MAX, PROC_EVENT_EXEC, 1023, UINT64_MAX, { 300, 300, 0, 0, 0, 0 }, FULL },
	  0, { PC_EXEC, 300, 300, 0, 0, 0, UINT64_MAX, 1023, UINT32_MAX } },
	{ "exit killed", { P, 2, PROC_EVENT_EXIT, 0, 5, { 301, 301, 9, 17, 1, 1 }, FULL }, 0,
	  { PC_EXIT, 301, 301, 1, 1, 9, 5, 0, 2 } },
	{ "exit thread", { P, 2, PROC_EVENT_EXIT, 0, 5, { 302, 301, 0, 0xffffffff, 1, 1 }, FULL }, 0,
	  { PC_EXIT, 302, 301, 1, 1, 0, 5, 0, 2 } },
	{ "exit, pre-4.14 layout (no parent)",
	  { P, 2, PROC_EVENT_EXIT, 0, 5, { 303, 303, 256, 17, 0, 0 }, EV_HDR_LEN + 16, -1 }, 0,
	  { PC_EXIT, 303, 303, 0, 0, 256, 5, 0, 2 } },
	{ "cpu beyond the tracker still parses", { P, 4, PROC_EVENT_EXEC, 4096, 0, { 1, 1 }, FULL }, 0,
	  { PC_EXEC, 1, 1, 0, 0, 0, 0, 4096, 4 } },
	{ "ack", { P, 0, PROC_EVENT_NONE, UINT32_MAX, 0, { 0 }, FULL }, 0,
	  { PC_NONE, 0, 0, 0, 0, 0, 0, UINT32_MAX, 0 } },
	{ "ack, header only", { P, 0, PROC_EVENT_NONE, 0, 0, { 0 }, EV_HDR_LEN, -1 }, 0,
	  { PC_NONE, 0, 0, 0, 0, 0, 0, 0, 0 } },
	{ "sid", { P, 1, PROC_EVENT_SID, 0, 0, { 400, 400 }, FULL }, 0,
	  { PC_OTHER, 400, 400, 0, 0, 0, 0, 0, 1 } },
	{ "coredump", { P, 1, PROC_EVENT_COREDUMP, 0, 0, { 401, 401, 1, 1 }, FULL }, 0,
	  { PC_OTHER, 401, 401, 0, 0, 0, 0, 0, 1 } },
	{ "unknown what (newer kernel)", { P, 1, 0x400, 0, 0, { 402, 402 }, FULL }, 0,
	  { PC_OTHER, 402, 402, 0, 0, 0, 0, 0, 1 } },
	{ "trailing bytes after cn_msg.len", { P, 1, PROC_EVENT_EXEC, 0, 0, { 5, 5 }, -1, 200 }, 0,
	  { PC_EXEC, 5, 5, 0, 0, 0, 0, 0, 1 } },
	/* refused */
	{ "wrong idx", { CN_IDX_PROC + 1, CN_VAL_PROC, 1, PROC_EVENT_FORK, 0, 0, { 0 }, FULL },
	  -EINVAL, { 0 } },
	{ "wrong val", { CN_IDX_PROC, CN_VAL_PROC + 1, 1, PROC_EVENT_FORK, 0, 0, { 0 }, FULL },
	  -EINVAL, { 0 } },
	{ "cifs connector", { 2, 1, 1, PROC_EVENT_EXEC, 0, 0, { 0 }, FULL }, -EINVAL, { 0 } },
	{ "cn_msg only", { P, 1, PROC_EVENT_FORK, 0, 0, { 0 }, 0, -1 }, -EINVAL, { 0 } },
	{ "header cut", { P, 1, PROC_EVENT_NONE, 0, 0, { 0 }, EV_HDR_LEN - 1, -1 }, -EINVAL, { 0 } },
	{ "fork cut", { P, 1, PROC_EVENT_FORK, 0, 0, { 0 }, EV_HDR_LEN + 12, -1 }, -EINVAL, { 0 } },
	{ "exec cut", { P, 1, PROC_EVENT_EXEC, 0, 0, { 0 }, EV_HDR_LEN + 7, -1 }, -EINVAL, { 0 } },
	{ "exit cut", { P, 1, PROC_EVENT_EXIT, 0, 0, { 0 }, EV_HDR_LEN + 15, -1 }, -EINVAL, { 0 } },
	{ "other cut", { P, 1, PROC_EVENT_UID, 0, 0, { 0 }, EV_HDR_LEN + 4, -1 }, -EINVAL, { 0 } },
	{ "cn_msg.len beyond buffer", { P, 1, PROC_EVENT_FORK, 0, 0, { 0 }, -1, 40 }, -EINVAL, { 0 } },
	{ "cn_msg.len 65535", { P, 1, PROC_EVENT_FORK, 0, 0, { 0 }, 65535, 60 }, -EINVAL, { 0 } },
	{ "short of cn_msg", { P, 1, PROC_EVENT_FORK, 0, 0, { 0 }, -1, 19 }, -EINVAL, { 0 } },
	{ "empty", { P, 1, PROC_EVENT_FORK, 0, 0, { 0 }, -1, 0 }, -EINVAL, { 0 } },
};

static void built_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(built); i++) {
		unsigned char buf[256];
		size_t n = build(&built[i].m, buf, sizeof(buf));
		struct pc_event ev;
		memset(&ev, 0x5a, sizeof(ev));
		int rc = procconn_parse(buf, n, &ev);
		if (rc != built[i].rc)
			fail_msg("%s: rc %d, want %d", built[i].name, rc, built[i].rc);
		if (rc == 0)
			expect_event(built[i].name, &ev, &built[i].want);
	}
	struct pc_event ev;
	assert_int_equal(procconn_parse(NULL, 60, &ev), -EINVAL);
	assert_int_equal(procconn_parse(cap_fork, sizeof(cap_fork), NULL), -EINVAL);
}

/* pc_seq_gap: each scenario starts from a zeroed tracker. */
struct step {
	unsigned cpu;
	uint32_t seq;
	bool gap;
};
#define END { UINT_MAX, 0, false }
#define BIG PC_MAX_CPUS

static const struct {
	const char *name;
	struct step s[10];
} seqs[] = {
	{ "first seen, consecutive", { { 0, 5, false }, { 0, 6, false }, { 0, 7, false }, END } },
	{ "first seen anywhere", { { 3, 4000000000u, false }, { 3, 4000000001u, false }, END } },
	{ "gap", { { 0, 5, false }, { 0, 6, false }, { 0, 9, true }, { 0, 10, false }, END } },
	{ "gap of one", { { 1, 0, false }, { 1, 2, true }, END } },
	{ "CPUs are independent",
	  { { 0, 10, false }, { 1, 500, false }, { 0, 11, false }, { 1, 501, false },
	    { 1, 503, true }, { 0, 12, false }, END } },
	{ "wrap-around", { { 2, UINT32_MAX - 1, false }, { 2, UINT32_MAX, false }, { 2, 0, false },
			   { 2, 1, false }, END } },
	{ "gap across the wrap", { { 2, UINT32_MAX, false }, { 2, 1, true }, { 2, 2, false }, END } },
	{ "late and duplicate are not loss",
	  { { 0, 10, false }, { 0, 11, false }, { 0, 11, false }, { 0, 10, false },
	    { 0, 12, false }, END } },
	{ "late, within the reorder window",
	  { { 0, 1000, false }, { 0, 1001 - PC_SEQ_REORDER, false }, { 0, 1001, false }, END } },
	{ "far behind: restart, call it loss",
	  { { 0, 1000, false }, { 0, 1000 - PC_SEQ_REORDER, true },
	    { 0, 1001 - PC_SEQ_REORDER, false }, END } },
	{ "half the space ahead", { { 0, 0, false }, { 0, 0x80000000u, true }, { 0, 0x80000001u, false },
				    END } },
	{ "last tracked CPU", { { BIG - 1, 7, false }, { BIG - 1, 9, true }, END } },
	{ "cpu out of range: no information",
	  { { BIG, 1, false }, { BIG, 100, false }, { UINT_MAX - 1, 5, false }, { BIG, 1, false },
	    END } },
};

static void seq_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(seqs); i++) {
		struct pc_seq *s = calloc(1, sizeof(*s));
		assert_non_null(s);
		for (size_t j = 0; j < ARRAY_SIZE(seqs[i].s) && seqs[i].s[j].cpu != UINT_MAX; j++) {
			const struct step *st = &seqs[i].s[j];
			bool gap = pc_seq_gap(s, st->cpu, st->seq);
			if (gap != st->gap)
				fail_msg("%s: step %zu (cpu %u seq %u): gap %d, want %d", seqs[i].name, j,
					 st->cpu, st->seq, gap, st->gap);
		}
		free(s);
	}
	assert_false(pc_seq_gap(NULL, 0, 1));
}

static void null_safe(void **state)
{
	(void)state;
	struct pc_stats st;
	memset(&st, 0xff, sizeof(st));
	procconn_close(NULL);
	procconn_stats(NULL, &st);
	assert_int_equal(st.events + st.overflows + st.seq_gaps + st.lost_estimate + st.ignored, 0);
	assert_int_equal(procconn_fd(NULL), -1);
	assert_int_equal(procconn_rcvbuf(NULL), 0);
	assert_int_equal(procconn_open(NULL, 0), -EINVAL);
}

/* ---- live: the real kernel ---- */

static struct procconn *open_or_skip(size_t rcvbuf)
{
	struct procconn *pc = NULL;
	int rc = procconn_open(&pc, rcvbuf);
	if (rc == -EPERM || rc == -EACCES || rc == -EPROTONOSUPPORT || rc == -EAFNOSUPPORT ||
	    rc == -EOPNOTSUPP) {
		print_message("procconn_open: %s: skipping the live test\n", strerror(-rc));
		skip();
	}
	if (rc != 0)
		fail_msg("procconn_open: %d (%s)", rc, strerror(-rc));
	assert_non_null(pc);
	return pc;
}

static double now_s(void)
{
	struct timespec ts;
	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Children of fork_burst(), by pid (pid_max is at most 2^22): an exit
 * event can come after the parent reaped the child, with ptgid 0, so
 * children are recognised by pid. */
#define PID_MASK ((1u << 22) - 1)
enum { KID_NONE, KID_FORKED, KID_FORK_SEEN };
static unsigned char *kid_state;

/* What the live tests look for: events about this process's children. */
struct seen {
	pid_t self, a, b, thread;
	bool fork_a, exec_a, exit_a, fork_b, exit_b, fork_thr, exit_thr;
	uint32_t code_a, code_b;
	uint64_t ts_fork_a, ts_exec_a, ts_exit_a;
	unsigned child_forks, child_exits; /* of fork_burst() children */
	long slow_ns; /* each event takes this long (the drain's time budget) */
};

static void record(const struct pc_event *ev, void *arg)
{
	struct seen *s = arg;
	assert_true(ev->type == PC_FORK || ev->type == PC_EXEC || ev->type == PC_EXIT ||
		    ev->type == PC_OTHER);
	if (s->slow_ns)
		nanosleep(&(struct timespec){ 0, s->slow_ns }, NULL);
	switch (ev->type) {
	case PC_FORK:
		/* a new thread's "parent" is the process's parent (the kernel
		 * reports real_parent, shared by CLONE_THREAD) */
		if (s->thread && ev->pid == s->thread && ev->tgid == s->self)
			s->fork_thr = true;
		if (kid_state && ev->pid == ev->tgid && kid_state[ev->pid & PID_MASK] == KID_FORKED) {
			kid_state[ev->pid & PID_MASK] = KID_FORK_SEEN;
			s->child_forks++;
		}
		if (ev->ptgid != s->self)
			break;
		if (ev->pid == s->a && ev->tgid == s->a) {
			s->fork_a = true;
			s->ts_fork_a = ev->ts_ns;
		}
		if (ev->pid == s->b && ev->tgid == s->b)
			s->fork_b = true;
		break;
	case PC_EXEC:
		if (ev->pid == s->a && ev->tgid == s->a) {
			s->exec_a = true;
			s->ts_exec_a = ev->ts_ns;
		}
		break;
	case PC_EXIT:
		/* not by ptgid: when the parent reaped first, it is 0 */
		if (kid_state && ev->pid == ev->tgid && kid_state[ev->pid & PID_MASK] != KID_NONE) {
			kid_state[ev->pid & PID_MASK] = KID_NONE;
			s->child_exits++;
		}
		if (ev->pid == s->a) {
			s->exit_a = true;
			s->code_a = ev->exit_code;
			s->ts_exit_a = ev->ts_ns;
		}
		if (ev->pid == s->b) {
			s->exit_b = true;
			s->code_b = ev->exit_code;
		}
		if (s->thread && ev->pid == s->thread && ev->tgid == s->self)
			s->exit_thr = true;
		break;
	default:
		break;
	}
}

/* Poll and drain until done(s) or the deadline; returns how many drains
 * reported -ENOBUFS.  Any other error fails the test. */
static int drain_until(struct procconn *pc, struct seen *s, bool (*done)(const struct seen *),
		       double seconds)
{
	double end = now_s() + seconds;
	int enobufs = 0;
	while (!done(s) && now_s() < end) {
		struct pollfd pf = { .fd = procconn_fd(pc), .events = POLLIN };
		int ms = (int)((end - now_s()) * 1000) + 1;
		int r = poll(&pf, 1, ms);
		if (r < 0 && errno == EINTR)
			continue;
		assert_true(r >= 0);
		int n = procconn_drain(pc, record, s);
		if (n == -ENOBUFS)
			enobufs++;
		else if (n < 0)
			fail_msg("procconn_drain: %d (%s)", n, strerror(-n));
	}
	return enobufs;
}

static bool basic_done(const struct seen *s)
{
	return s->fork_a && s->exec_a && s->exit_a && s->fork_b && s->exit_b && s->fork_thr &&
	       s->exit_thr;
}

static pid_t tid_of_thread;

static int thread_main(void *arg)
{
	(void)arg;
	tid_of_thread = gettid();
	return 0;
}

static void wait_child(pid_t pid, int want_status)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		assert_int_equal(errno, EINTR);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), want_status);
}

/* Fork n children that exit at once, reap them all. */
static void fork_burst(int n)
{
	for (int i = 0; i < n; i++) {
		pid_t p = fork();
		assert_true(p >= 0);
		if (p == 0)
			_exit(0);
		kid_state[p & PID_MASK] = KID_FORKED;
	}
	for (int i = 0; i < n; i++) {
		int st;
		pid_t p = wait(&st);
		if (p < 0 && errno == EINTR) {
			i--;
			continue;
		}
		assert_true(p > 0);
	}
}

static bool one_child(const struct seen *s)
{
	return s->child_forks == 1 && s->child_exits == 1;
}

/* One child that moves to the given CPU and exits there: its EXIT is
 * numbered by that CPU's counter. */
static void child_on_cpu(int cpu)
{
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		_exit(sched_setaffinity(0, sizeof(set), &set) == 0 ? 0 : 1);
	}
	kid_state[p & PID_MASK] = KID_FORKED;
	wait_child(p, 0);
}

/* The CPUs this process may run on (at most 64, to bound the test). */
static int usable_cpus(int *cpus, int max)
{
	cpu_set_t set;
	int n = 0;
	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	for (int c = 0; c < CPU_SETSIZE && n < max; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	assert_true(n > 0);
	return n;
}

static void live_fork_exec_exit(void **state)
{
	(void)state;
	struct procconn *pc = open_or_skip(4u << 20);
	struct seen s = { .self = getpid() };
	assert_true(procconn_fd(pc) >= 0);
	/* the kernel keeps twice the request (rmem_max here is >= 4 MiB or
	 * we are root and SO_RCVBUFFORCE applied) */
	assert_true(procconn_rcvbuf(pc) >= (size_t)(8u << 20));

	/* Another listener coming and going: the kernel answers its LISTEN
	 * and IGNORE to every listener with messages numbered by the CPU's
	 * counter (6.x), which must not look like gaps.  On one CPU, after a
	 * first event there, so the numbering is already being followed. */
	cpu_set_t all, one;
	int cpus[1];
	assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
	(void)usable_cpus(cpus, 1);
	CPU_ZERO(&one);
	CPU_SET(cpus[0], &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	fork_burst(1);
	(void)drain_until(pc, &s, one_child, 1.0);
	assert_true(one_child(&s));
	struct procconn *other = open_or_skip(0);
	s.a = fork();
	assert_true(s.a >= 0);
	if (s.a == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	s.b = fork();
	assert_true(s.b >= 0);
	if (s.b == 0)
		_exit(3);
	thrd_t t;
	assert_int_equal(thrd_create(&t, thread_main, NULL), thrd_success);
	assert_int_equal(thrd_join(t, NULL), thrd_success);
	s.thread = tid_of_thread;
	assert_true(s.thread > 0 && s.thread != s.self);
	wait_child(s.a, 0);
	wait_child(s.b, 3);
	procconn_close(other);
	assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);

	int enobufs = drain_until(pc, &s, basic_done, 2.0);
	if (!basic_done(&s))
		fail_msg("missing: fork_a %d exec_a %d exit_a %d fork_b %d exit_b %d thread %d/%d",
			 s.fork_a, s.exec_a, s.exit_a, s.fork_b, s.exit_b, s.fork_thr, s.exit_thr);
	assert_int_equal(enobufs, 0);
	assert_int_equal(s.code_a, 0);
	assert_int_equal(s.code_b, 3 << 8); /* a wait status */
	assert_true(s.ts_fork_a > 0 && s.ts_fork_a <= s.ts_exec_a && s.ts_exec_a <= s.ts_exit_a);

	struct pc_stats st;
	procconn_stats(pc, &st);
	assert_true(st.events >= 7);
	assert_int_equal(st.overflows, 0);
	assert_int_equal(st.seq_gaps, 0);
	procconn_close(pc);
}

/* Every CPU speaks once, one child at a time (two events fit the tiny
 * buffer); returns how many drains reported -ENOBUFS. */
static int visit_cpus(struct procconn *pc, struct seen *s, const int *cpus, int ncpu)
{
	int enobufs = 0;
	for (int i = 0; i < ncpu; i++) {
		child_on_cpu(cpus[i]);
		s->child_forks = s->child_exits = 0;
		enobufs += drain_until(pc, s, one_child, 0.2);
	}
	return enobufs;
}

static void live_overflow_detected(void **state)
{
	(void)state;
	struct procconn *pc = open_or_skip(4096);
	struct seen s = { .self = getpid() };
	struct pc_stats st;
	int cpus[64];
	int ncpu = usable_cpus(cpus, 64);

	assert_true(procconn_rcvbuf(pc) < 64 * 1024);
	/* give every CPU's sequence a starting point: a CPU first heard of
	 * after a loss cannot show a gap */
	(void)visit_cpus(pc, &s, cpus, ncpu);

	fork_burst(3000); /* ~6000 events into room for ~10 */
	int n = procconn_drain(pc, record, &s);
	assert_int_equal(n, -ENOBUFS);
	procconn_stats(pc, &st);
	assert_true(st.overflows >= 1);
	assert_true(s.child_forks < 3000); /* some did arrive, most did not */

	/* The drops left holes in the per-CPU numbering: the next event from
	 * each CPU that lost some reports it, once. */
	assert_true(visit_cpus(pc, &s, cpus, ncpu) >= 1);
	procconn_stats(pc, &st);
	assert_true(st.seq_gaps >= 1);
	assert_true(st.lost_estimate >= 1000);

	/* then drains are clean again; only others' fork storms refilling
	 * 8 KiB excuse staying dirty, and then as reported overflows */
	bool clean = false;
	uint64_t overflows = st.overflows;
	for (int round = 0; round < 20 && !clean; round++) {
		fork_burst(1);
		s.child_forks = s.child_exits = 0;
		int e = drain_until(pc, &s, one_child, 0.2);
		clean = e == 0 && one_child(&s);
	}
	procconn_stats(pc, &st);
	if (!clean && st.overflows == overflows)
		fail_msg("still losing events with no overflow reported");
	if (!clean)
		print_message("busy machine: %llu more overflows\n",
			      (unsigned long long)(st.overflows - overflows));
	procconn_close(pc);
}

/* With a big buffer and a reader that keeps up, nothing is lost.  Others'
 * fork storms on a shared machine can still overflow it; then the loss must
 * at least be reported: silent loss fails always. */
static void live_no_loss_when_drained(void **state)
{
	(void)state;
	struct procconn *pc = open_or_skip(4u << 20);
	struct seen s = { .self = getpid() };
	const unsigned bursts = 30, per = 100, total = bursts * per;
	int enobufs = 0;

	for (unsigned i = 0; i < bursts; i++) {
		fork_burst((int)per);
		int n = procconn_drain(pc, record, &s);
		if (n == -ENOBUFS)
			enobufs++;
		else if (n < 0)
			fail_msg("drain: %d", n);
	}
	/* exits are reported after the parent is woken: some may still be on
	 * their way */
	double end = now_s() + 1.0;
	while ((s.child_forks < total || s.child_exits < total) && now_s() < end) {
		struct pollfd pf = { .fd = procconn_fd(pc), .events = POLLIN };
		(void)poll(&pf, 1, 50);
		if (procconn_drain(pc, record, &s) == -ENOBUFS)
			enobufs++;
	}
	struct pc_stats st;
	procconn_stats(pc, &st);
	procconn_close(pc);
	uint64_t foreign = st.events - s.child_forks - s.child_exits;
	if (enobufs == 0) {
		assert_int_equal(st.overflows + st.seq_gaps, 0);
		assert_int_equal(s.child_forks, total);
		assert_int_equal(s.child_exits, total);
		return;
	}
	print_message("loss reported: %d drains, overflows %llu gaps %llu lost ~%llu, "
		      "foreign events %llu\n", enobufs, (unsigned long long)st.overflows,
		      (unsigned long long)st.seq_gaps, (unsigned long long)st.lost_estimate,
		      (unsigned long long)foreign);
	if (foreign < 2 * total) /* a quiet machine: ours alone must fit */
		fail_msg("events lost without outside load");
}

/* The drain budget ends a drain and leaves the rest queued: the next
 * drains deliver it, nothing is lost.  A count of 3 reads at most 3
 * messages; a time of 1 ns reads exactly one (a drain always reads one). */
static unsigned drain_all_in_steps(struct procconn *pc, struct seen *s, unsigned total,
				   int max_per_drain)
{
	unsigned drains = 0;
	double end = now_s() + 5.0; /* 80 slow events: 1.7 s with 10 ms ticks */
	while ((s->child_forks < total || s->child_exits < total) && now_s() < end) {
		int n = procconn_drain(pc, record, s);
		if (n == -ENOBUFS) {
			/* every event is slow here, other processes' too: a busy
			 * machine (a parallel build) overruns even 4 MiB */
			struct pc_stats st;
			procconn_stats(pc, &st);
			uint64_t foreign = st.events - s->child_forks - s->child_exits;
			if (foreign < 2 * total)
				fail_msg("events lost with a 4 MiB buffer and %u children", total);
			print_message("events lost under outside load (%llu foreign events): the "
				      "budget is not judged here\n", (unsigned long long)foreign);
			procconn_close(pc);
			skip();
		}
		assert_true(n >= 0 && n <= max_per_drain);
		drains += n > 0;
	}
	assert_int_equal(s->child_forks, total);
	assert_int_equal(s->child_exits, total);
	return drains;
}

static void live_budget_cuts_drain(void **state)
{
	(void)state;
	struct procconn *pc = open_or_skip(4u << 20);
	struct seen s = { .self = getpid() };
	struct pc_stats st;
	const unsigned total = 40;

	procconn_set_budget(pc, &(struct drain_budget){ 0, 3 });
	fork_burst((int)total);
	assert_true(drain_all_in_steps(pc, &s, total, 3) >= 2 * total / 3);
	procconn_stats(pc, &st);
	assert_true(st.cut_by_count >= 2 * total / 3 - 1);
	assert_int_equal(st.cut_by_time, 0);

	/* the budget is kept on the coarse clock: an event that outlasts
	 * what that clock lags is what a 1 ns budget cuts after.  It lags by
	 * more than its resolution: on a 6.18 host with 4 ms ticks it had not
	 * moved after a 5 ms sleep 8 times in 300 (lag up to 6.9 ms), after
	 * a 9 ms one never */
	struct timespec tick;
	assert_int_equal(clock_getres(CLOCK_MONOTONIC_COARSE, &tick), 0);
	s.child_forks = s.child_exits = 0;
	s.slow_ns = 2 * tick.tv_nsec + 1000000;
	procconn_set_budget(pc, &(struct drain_budget){ 1, 0 });
	fork_burst((int)total);
	assert_true(drain_all_in_steps(pc, &s, total, 1) >= 2 * total);
	procconn_stats(pc, &st);
	assert_true(st.cut_by_time >= 2 * total - 1);
	assert_true(st.drains > st.cut_by_time + st.cut_by_count - 1);
	assert_true(st.max_drain_ns > 0 && st.drain_ns >= st.max_drain_ns);
	procconn_close(pc);
}

static bool have_net_admin(void)
{
	cap_t c = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;
	if (!c)
		return false;
	if (cap_get_flag(c, CAP_NET_ADMIN, CAP_EFFECTIVE, &v) < 0)
		v = CAP_CLEAR;
	cap_free(c);
	return v == CAP_SET;
}

static void live_rcvbuf_sizes(void **state)
{
	(void)state;
	char buf[64];
	uint64_t rmem_max = 0;
	assert_true(read_file("/proc/sys/net/core/rmem_max", buf, sizeof(buf)) > 0);
	assert_int_equal(parse_u64(buf, UINT64_MAX, &rmem_max), 0);

	struct procconn *pc = open_or_skip(0);
	size_t dflt = procconn_rcvbuf(pc);
	procconn_close(pc);
	assert_int_equal(dflt, 2 * 32768); /* libnl's default, doubled */

	/* above rmem_max: forced with CAP_NET_ADMIN, capped without */
	size_t want = (size_t)rmem_max * 2 + 4096;
	pc = open_or_skip(want);
	size_t got = procconn_rcvbuf(pc);
	procconn_close(pc);
	if (have_net_admin())
		assert_true(got >= 2 * want);
	else
		assert_true(got >= 2 * (size_t)rmem_max);

	/* absurd requests are clamped, not wrapped */
	pc = open_or_skip(SIZE_MAX);
	assert_true(procconn_rcvbuf(pc) > 0);
	procconn_close(pc);
}

static int alloc_kids(void **state)
{
	(void)state;
	kid_state = calloc(PID_MASK + 1, 1);
	return kid_state ? 0 : -1;
}

static int free_kids(void **state)
{
	(void)state;
	free(kid_state);
	kid_state = NULL;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(real_captures),
		cmocka_unit_test(built_table),
		cmocka_unit_test(seq_table),
		cmocka_unit_test(null_safe),
		cmocka_unit_test(live_fork_exec_exit),
		cmocka_unit_test(live_overflow_detected),
		cmocka_unit_test(live_no_loss_when_drained),
		cmocka_unit_test(live_budget_cuts_drain),
		cmocka_unit_test(live_rcvbuf_sizes),
	};
	return cmocka_run_group_tests(tests, alloc_kids, free_kids);
}
