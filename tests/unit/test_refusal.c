/* test_refusal.c - commit refusals: the op from the capture's hints, the
 * kernel record turned into figures (fork charges, percpu count, fallback
 * to /proc), the log line, the per-service rate limit, the bounded book and
 * its JSON round trip with hostile documents refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bpf/refusal_abi.h"
#include "refusal.h"

#define ALL_KERNEL (RF_F_COMMITTED | RF_F_SYSCTLS | RF_F_RAM)

static struct refusal_host host(void)
{
	struct refusal_host h = { .page_kb = 4, .mem_available_kb = 1468006, .commit_limit_kb = 999,
				  .committed_kb = 2000, .mode = 2, .mono_now_ns = 5000000000ull,
				  .real_now_ms = 1700000000000ull };
	return h;
}

/* redis-server forking with 1 GiB CommitLimit (kbytes), 928 MiB committed */
static struct rf_event fork_event(void)
{
	struct rf_event e = { 0 };
	e.ts_ns = 4000000000ull;
	e.pages = 600 * 256;          /* the refused VMA: 600 MiB */
	e.op_pages = 600 * 256 + 256; /* 1 MiB charged before it in this fork */
	e.committed_pages = (928 + 1) * 256;
	e.overcommit_kbytes = 1024 * 1024;
	e.ratio = 50;
	e.totalram_pages = 512 * 1024;
	e.syscall_nr = 56;
	e.pid = e.tgid = 4242;
	e.mode = 2;
	e.flags = RF_F_FORK | ALL_KERNEL;
	snprintf(e.comm, sizeof(e.comm), "redis-server");
	return e;
}

static void op_of(void **state)
{
	(void)state;
	assert_int_equal(refusal_op_of(true, 9), RF_OP_FORK);
	assert_int_equal(refusal_op_of(false, 9), RF_OP_MMAP);
	assert_int_equal(refusal_op_of(false, 12), RF_OP_BRK);
	assert_int_equal(refusal_op_of(false, 25), RF_OP_MREMAP);
	assert_int_equal(refusal_op_of(false, 435), RF_OP_FORK);
	assert_int_equal(refusal_op_of(false, -1), RF_OP_OTHER); /* stack growth in a fault */
	assert_int_equal(refusal_op_of(false, 10), RF_OP_OTHER); /* mprotect */
	enum refusal_op op;
	assert_int_equal(refusal_op_parse("mremap", &op), 0);
	assert_int_equal(op, RF_OP_MREMAP);
	assert_int_equal(refusal_op_parse("fork ", &op), -EINVAL);
}

static void from_fork_event(void **state)
{
	(void)state;
	struct rf_event e = fork_event();
	struct refusal_host h = host();
	struct refusal r;
	refusal_from_event(&e, &h, &r);
	assert_int_equal(r.op, RF_OP_FORK);
	assert_int_equal(r.tgid, 4242);
	assert_string_equal(r.comm, "redis-server");
	assert_int_equal(r.size_kb, 600 * 1024);
	assert_int_equal(r.need_kb, 601 * 1024);
	assert_true(r.need_partial);
	/* the fork's own earlier 1 MiB is taken back out of Committed_AS */
	assert_int_equal(r.committed_kb, 928 * 1024);
	assert_int_equal(r.commit_limit_kb, 1024 * 1024);
	assert_true(r.exact);
	assert_int_equal(r.time_ms, 1700000000000ull - 1000);
	char line[512];
	snprintf(r.service, sizeof(r.service), "cache");
	refusal_format(&r, line, sizeof(line));
	assert_string_equal(line, "fork of redis-server (pid 4242, service cache) refused: needs at "
				  "least 601 MiB of commit, 96 MiB left under CommitLimit 1.0 GiB "
				  "(vm.overcommit_memory=2) while 1.4 GiB of RAM is available");
}

static void from_event_fallbacks(void **state)
{
	(void)state;
	struct rf_event e = fork_event();
	struct refusal_host h = host();
	struct refusal r;
	e.flags = 0; /* nothing read in the kernel: /proc figures, said so */
	e.syscall_nr = 9;
	e.op_pages = e.pages;
	refusal_from_event(&e, &h, &r);
	assert_int_equal(r.op, RF_OP_MMAP);
	assert_false(r.exact);
	assert_int_equal(r.committed_kb, 2000);
	assert_int_equal(r.commit_limit_kb, 999);
	char line[512];
	refusal_format(&r, line, sizeof(line));
	assert_non_null(strstr(line, "nothing left under CommitLimit 999 KiB"));
	assert_non_null(strstr(line, "read from /proc a moment later"));
	/* ratio-based limit, hugetlb taken off, swap added; negative count = 0 */
	e = fork_event();
	e.overcommit_kbytes = 0;
	e.total_swap_pages = 256;
	e.committed_pages = -5;
	e.op_pages = e.pages;
	h.hugetlb_kb = 1024;
	refusal_from_event(&e, &h, &r);
	assert_int_equal(r.commit_limit_kb, (2048 * 1024 - 1024) / 2 + 1024);
	assert_int_equal(r.committed_kb, 0);
	/* mode 0: one request over RAM + swap */
	e.mode = 0;
	refusal_from_event(&e, &h, &r);
	refusal_format(&r, line, sizeof(line));
	assert_non_null(strstr(line, "more than RAM + swap allows"));
	assert_null(strstr(line, "/proc"));
}

static int nfold;
static uint64_t folded_sum;
static void on_folded(const char *key, uint64_t folded, void *arg)
{
	(void)arg;
	assert_string_equal(key, "cache");
	nfold++;
	folded_sum += folded;
}

static void limiter(void **state)
{
	(void)state;
	struct rf_limiter *l = calloc(1, sizeof(*l));
	assert_non_null(l);
	uint64_t before, logged = 0, t = 1000;
	for (int i = 0; i < 1000; i++)
		logged += rf_limiter_admit(l, "cache", t + (uint64_t)i, &before);
	assert_int_equal(logged, RF_LOG_BURST);
	assert_true(rf_limiter_admit(l, "other", t, &before)); /* per key */
	rf_limiter_flush(l, t + 1000, on_folded, NULL);         /* window not over */
	assert_int_equal(nfold, 0);
	rf_limiter_flush(l, t + RF_LOG_WINDOW_MS, on_folded, NULL);
	assert_int_equal(nfold, 1);
	assert_int_equal(folded_sum, 1000 - RF_LOG_BURST);
	assert_true(rf_limiter_admit(l, "cache", t + RF_LOG_WINDOW_MS + 1, &before));
	assert_int_equal(before, 0);
	/* a window that ends without a flush reports its folds at the next admit */
	for (int i = 0; i < RF_LOG_BURST + 3; i++)
		rf_limiter_admit(l, "cache", t + RF_LOG_WINDOW_MS + 2, &before);
	assert_true(rf_limiter_admit(l, "cache", t + 3 * RF_LOG_WINDOW_MS, &before));
	assert_int_equal(before, 4);
	/* more keys than slots: the oldest is reused, never an overflow */
	char key[16];
	for (int i = 0; i < 3 * RF_LIMIT_KEYS; i++) {
		snprintf(key, sizeof(key), "s%d", i);
		assert_true(rf_limiter_admit(l, key, t + 4 * RF_LOG_WINDOW_MS + (uint64_t)i, &before));
	}
	free(l);
}

static struct refusal rec(const char *svc, enum refusal_op op, uint64_t t)
{
	struct refusal r = { .time_ms = t, .pid = 7, .tgid = 7, .op = op, .size_kb = 4,
			     .need_kb = 4, .committed_kb = -3, .mode = 2, .exact = true,
			     .tries = 1 };
	snprintf(r.service, sizeof(r.service), "%s", svc);
	snprintf(r.comm, sizeof(r.comm), "x\"y\n");
	return r;
}

static void book_bounds(void **state)
{
	(void)state;
	struct refusal_book *b = calloc(1, sizeof(*b));
	assert_non_null(b);
	for (uint64_t i = 1; i <= 100; i++) {
		struct refusal r = rec("cache", i % 2 ? RF_OP_FORK : RF_OP_MMAP, i);
		refusal_book_add(b, &r);
	}
	assert_int_equal(b->nrecent, RF_RECENT);
	assert_int_equal(refusal_book_recent(b, 0)->time_ms, 100);
	assert_int_equal(refusal_book_recent(b, RF_RECENT - 1)->time_ms, 100 - RF_RECENT + 1);
	assert_null(refusal_book_recent(b, RF_RECENT));
	const struct refusal_tally *t = refusal_book_tally(b, "cache");
	assert_non_null(t);
	assert_int_equal(t->by_op[RF_OP_FORK], 50);
	assert_int_equal(t->first_ms, 1);
	assert_int_equal(t->last_ms, 100);
	char svc[16];
	for (int i = 0; i < 2 * RF_TALLIES; i++) {
		snprintf(svc, sizeof(svc), "s%d", i);
		struct refusal r = rec(svc, RF_OP_BRK, 200);
		refusal_book_add(b, &r);
	}
	assert_int_equal(b->ntally, RF_TALLIES);
	assert_int_equal(refusal_book_total(b), 100 + 2 * RF_TALLIES);
	free(b);
}

/* try: one refusal of thread 7 at time t of size kb */
static bool try(struct refusal_book *b, enum refusal_op op, uint64_t t, uint64_t kb)
{
	struct refusal r = rec("", op, t);
	r.size_kb = r.need_kb = kb;
	if (refusal_book_fold(b, &r))
		return true;
	refusal_book_add(b, &r);
	return false;
}

/* glibc's malloc(400 MiB) under strict overcommit: mmap, brk, mmap = one
 * record with 3 tries; its next malloc a record of its own; a program's own
 * mmap loop one record per call; a late or far-off brk no fallback. */
static void book_fold(void **state)
{
	(void)state;
	struct refusal_book *b = calloc(1, sizeof(*b));
	assert_non_null(b);
	assert_false(try(b, RF_OP_MMAP, 1000, 409604));
	assert_true(try(b, RF_OP_BRK, 1000, 409600 + 132));
	assert_true(try(b, RF_OP_MMAP, 1001, 410624));
	assert_int_equal(b->nrecent, 1);
	assert_int_equal(refusal_book_recent(b, 0)->tries, 3);
	assert_int_equal(refusal_book_recent(b, 0)->size_kb, 409604);
	char line[1024];
	refusal_format(refusal_book_recent(b, 0), line, sizeof(line));
	assert_non_null(strstr(line, "the C library's fallbacks (brk, mmap) were refused too: 3 tries"));
	assert_false(try(b, RF_OP_MMAP, 1002, 409604)); /* the next malloc */
	assert_true(try(b, RF_OP_BRK, 1002, 409700));
	assert_int_equal(refusal_book_total(b), 2);
	/* below the mmap threshold: brk then mmap (1 MiB) */
	assert_false(try(b, RF_OP_BRK, 2000, 228));
	assert_true(try(b, RF_OP_MMAP, 2000, 1024));
	assert_false(try(b, RF_OP_MMAP, 2001, 1024)); /* not a step after brk, mmap */
	/* a program's own loop of mmaps: each its own */
	for (uint64_t i = 0; i < 5; i++)
		assert_false(try(b, RF_OP_MMAP, 3000 + i, 3 << 20));
	assert_false(try(b, RF_OP_BRK, 3005, 4)); /* tiny: no fallback of a 3 GiB mmap */
	assert_false(try(b, RF_OP_MMAP, 4000, 409604));
	assert_false(try(b, RF_OP_BRK, 4000 + RF_RETRY_MS + 1, 409700)); /* too late */
	struct refusal other = rec("", RF_OP_BRK, 4000);
	other.pid = 8; /* another thread */
	assert_false(refusal_book_fold(b, &other));
	assert_int_equal(refusal_book_total(b), 2 + 2 + 5 + 1 + 2);
	free(b);
}

static void book_json(void **state)
{
	(void)state;
	struct refusal_book *b = calloc(2, sizeof(*b));
	assert_non_null(b);
	b->capture = RF_CAPTURE_UNAVAILABLE;
	snprintf(b->why, sizeof(b->why), "the kernel has no BTF");
	b->lost = 3;
	for (uint64_t i = 1; i <= 40; i++) {
		struct refusal r = rec(i % 3 ? "cache" : "", (enum refusal_op)(i % RF_NOPS), i);
		refusal_book_add(b, &r);
	}
	char *doc;
	assert_int_equal(refusal_book_format(b, &doc), 0);
	assert_int_equal(refusal_book_parse(doc, &b[1]), 0);
	assert_int_equal(b[1].capture, RF_CAPTURE_UNAVAILABLE);
	assert_string_equal(b[1].why, b->why);
	assert_int_equal(b[1].lost, 3);
	assert_int_equal(b[1].nrecent, RF_RECENT);
	assert_int_equal(refusal_book_total(&b[1]), 40);
	for (size_t i = 0; i < RF_RECENT; i++)
		assert_memory_equal(refusal_book_recent(b, i), refusal_book_recent(&b[1], i),
				    sizeof(struct refusal));
	free(doc);
	static const char *const bad[] = {
		"", "[]", "{\"version\":2}",
		"{\"version\":1,\"capture\":\"active\",\"why\":\"\",\"since_ms\":0,\"lost\":-1,"
		"\"tally\":[],\"recent\":[]}",
		"{\"version\":1,\"capture\":\"active\",\"why\":\"\",\"since_ms\":0,\"lost\":0,"
		"\"tally\":[{\"service\":\"a\"}],\"recent\":[]}",
		"{\"version\":1,\"capture\":\"active\",\"why\":\"\",\"since_ms\":0,\"lost\":0,"
		"\"tally\":[],\"recent\":[{\"op\":\"fork\"}]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(refusal_book_parse(bad[i], &b[1]), -EINVAL);
	assert_int_equal(refusal_book_parse("{\"version\":1,\"capture\":\"active\",\"why\":\"\","
					    "\"since_ms\":0,\"lost\":0,\"tally\":[],\"recent\":[]}",
					    &b[1]),
			 0);
	assert_int_equal(b[1].capture, RF_CAPTURE_ACTIVE);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(op_of),           cmocka_unit_test(from_fork_event),
		cmocka_unit_test(from_event_fallbacks), cmocka_unit_test(limiter),
		cmocka_unit_test(book_bounds),     cmocka_unit_test(book_json),
		cmocka_unit_test(book_fold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
