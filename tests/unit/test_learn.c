/* test_learn.c - COW learning: the episode ring, the decaying weighted
 * median (outliers, age, clock going back), learned.json round trips and
 * hostile documents refused with the file left untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "learn.h"
#include "tmptree.h"
#include "util.h"

#define HL 3600 /* half-life used by most cases */
#define NOW 1700000000ull

/* ---- ring ---- */

static struct cow_episode ep(uint64_t start, uint64_t fork_kb, uint64_t peak_kb)
{
	struct cow_episode e = { start, fork_kb, peak_kb, 1500 };
	return e;
}

static void test_add_ring(void **st)
{
	(void)st;
	struct svc_learning l;
	memset(&l, 0, sizeof(l));
	for (uint64_t i = 0; i < LEARN_WINDOW + 4; i++) {
		struct cow_episode e = ep(i, 4096, 5000);
		learn_add(&l, &e);
	}
	assert_int_equal(l.n, LEARN_WINDOW);
	assert_int_equal(l.episodes_total, LEARN_WINDOW + 4);
	assert_int_equal(l.head, 4);
	/* newest at head-1, oldest at head */
	assert_int_equal(l.ep[(l.head + LEARN_WINDOW - 1) % LEARN_WINDOW].start_s, LEARN_WINDOW + 3);
	assert_int_equal(l.ep[l.head].start_s, 4);
}

static void test_add_rejects_noise(void **st)
{
	(void)st;
	static const struct {
		struct cow_episode e;
		bool kept;
	} cases[] = {
		{ { 10, LEARN_MIN_ANON_KB - 1, 90000, 10 }, false },
		{ { 10, 0, 0, 0 }, false },
		{ { 10, LEARN_MIN_ANON_KB, 900, 10 }, true }, /* anon shrank: kept, growth 0 */
		{ { 10, LEARN_MAX_VALUE + 1, LEARN_MAX_VALUE + 2, 10 }, false },
		{ { 10, 2048, LEARN_MAX_VALUE + 1, 10 }, false },
		{ { LEARN_MAX_VALUE + 1, 2048, 4096, 10 }, false },
		{ { 10, 2048, 4096, UINT64_MAX }, false },
		{ { LEARN_MAX_VALUE, LEARN_MAX_VALUE, LEARN_MAX_VALUE, LEARN_MAX_VALUE }, true },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct svc_learning l;
		memset(&l, 0, sizeof(l));
		learn_add(&l, &cases[i].e);
		assert_int_equal(l.n, cases[i].kept ? 1 : 0);
		assert_int_equal(l.episodes_total, cases[i].kept ? 1 : 0);
	}
}

/* ---- estimate ---- */

struct est_ep {
	int64_t age_s;    /* now - start; negative: start in the future */
	uint64_t fork_kb; /* 0: 100 MiB */
	double growth;    /* peak = fork * (1 + growth) */
};

struct est_case {
	const char *what;
	uint64_t half_life;
	struct est_ep ep[LEARN_WINDOW];
	size_t n;
	bool learning;
	double growth, tol;
	size_t used;
	uint64_t peak_kb; /* 0: not checked */
};

#define MIB100 102400ull

static const struct est_case est_cases[] = {
	{ "nothing seen", HL, { { 0, 0, 0 } }, 0, true, LEARN_DEFAULT_GROWTH, 0, 0, 0 },
	{ "one episode", HL, { { 60, 0, 0.25 } }, 1, false, 0.25, 1e-9, 1, 128000 },
	{ "anon shrank: growth 0", HL, { { 60, 4096, -0.5 } }, 1, false, 0.0, 0, 1, 2048 },
	{ "too small at fork (loaded record)", HL, { { 60, LEARN_MIN_ANON_KB - 1, 3.0 } }, 1,
	  true, LEARN_DEFAULT_GROWTH, 0, 0, 0 },
	{ "two of equal age: the middle", HL, { { 60, 0, 0.1 }, { 60, 0, 0.3 } }, 2, false, 0.2,
	  1e-9, 2, 0 },
	{ "three: the median, not the mean", HL, { { 0, 0, 0.1 }, { 0, 0, 0.2 }, { 0, 0, 3.0 } },
	  3, false, 0.2, 1e-9, 3, 0 },
	{ "one outlier of 50x among nine of ~0.1", HL,
	  { { 100, 0, 0.10 }, { 200, 0, 0.09 }, { 300, 0, 0.11 }, { 400, 0, 50.0 },
	    { 500, 0, 0.10 }, { 600, 0, 0.12 }, { 700, 0, 0.08 }, { 800, 0, 0.10 },
	    { 900, 0, 0.11 }, { 1000, 0, 0.09 } },
	  10, false, 0.1, 0.021, 10, (uint64_t)(MIB100 * 51.0) },
	/* 6 old (weight 1/8 each) vs 4 new (weight 1): the new ones win; an
	 * unweighted median would say 0.5 */
	{ "recent episodes outweigh old ones", HL,
	  { { 3 * HL, 0, 0.5 }, { 3 * HL, 0, 0.5 }, { 3 * HL, 0, 0.5 }, { 3 * HL, 0, 0.5 },
	    { 3 * HL, 0, 0.5 }, { 3 * HL, 0, 0.5 }, { 10, 0, 0.1 }, { 10, 0, 0.1 },
	    { 10, 0, 0.1 }, { 10, 0, 0.1 } },
	  10, false, 0.1, 1e-9, 10, 0 },
	{ "older than 8 half-lives: dropped", HL, { { 8 * HL + 1, 0, 0.9 } }, 1, true,
	  LEARN_DEFAULT_GROWTH, 0, 0, 0 },
	{ "exactly 8 half-lives: kept", HL, { { 8 * HL, 0, 0.9 } }, 1, false, 0.9, 1e-9, 1, 0 },
	{ "dropped episode's peak not reported", HL, { { 9 * HL, 0, 5.0 }, { 10, 0, 0.2 } }, 2,
	  false, 0.2, 1e-9, 1, (uint64_t)(MIB100 * 1.2) },
	/* clock went back: a future start is new (weight 1), not ancient */
	{ "start in the future counts as now", HL,
	  { { -500, 0, 0.2 }, { 2 * HL, 0, 0.6 }, { 2 * HL, 0, 0.6 } }, 3, false, 0.2, 1e-9, 3,
	  0 },
	{ "half-life 0: no decay", 0,
	  { { 100 * HL, 0, 0.4 }, { 100 * HL, 0, 0.4 }, { 0, 0, 0.1 } }, 3, false, 0.4, 1e-9, 3,
	  0 },
	{ "full window", HL,
	  { { 1, 0, 0.3 }, { 2, 0, 0.3 }, { 3, 0, 0.3 }, { 4, 0, 0.3 }, { 5, 0, 0.3 },
	    { 6, 0, 0.3 }, { 7, 0, 0.3 }, { 8, 0, 0.3 }, { 9, 0, 0.3 }, { 10, 0, 0.3 },
	    { 11, 0, 0.3 }, { 12, 0, 0.3 }, { 13, 0, 0.3 }, { 14, 0, 0.3 }, { 15, 0, 0.3 },
	    { 16, 0, 0.3 } },
	  LEARN_WINDOW, false, 0.3, 1e-9, LEARN_WINDOW, 0 },
};

/* Build the record directly (not through learn_add) so loaded shapes, such
 * as an at-fork figure below the minimum, can be tested too. */
static void build(struct svc_learning *l, const struct est_case *c, size_t rotate)
{
	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < c->n; i++) {
		const struct est_ep *e = &c->ep[i];
		uint64_t fork = e->fork_kb ? e->fork_kb : MIB100;
		struct cow_episode x = {
			.start_s = (uint64_t)((int64_t)NOW - e->age_s),
			.anon_at_fork_kb = fork,
			.anon_peak_kb = (uint64_t)llround((double)fork * (1.0 + c->ep[i].growth)),
			.duration_ms = 1000,
		};
		l->ep[(rotate + i) % LEARN_WINDOW] = x;
	}
	l->n = c->n;
	l->head = (rotate + c->n) % LEARN_WINDOW;
	l->episodes_total = c->n;
}

static void test_estimate_table(void **st)
{
	(void)st;
	for (size_t i = 0; i < ARRAY_SIZE(est_cases); i++) {
		const struct est_case *c = &est_cases[i];
		/* the ring position must not matter */
		for (size_t rot = 0; rot < LEARN_WINDOW; rot += 5) {
			struct svc_learning l;
			build(&l, c, rot);
			struct learn_estimate e = learn_estimate(&l, NOW, c->half_life);
			if (e.learning != c->learning || fabs(e.growth - c->growth) > c->tol ||
			    e.episodes != c->used || (c->peak_kb && e.peak_kb != c->peak_kb))
				fail_msg("%s (rotation %zu): learning %d growth %f episodes %zu peak %llu",
					 c->what, rot, e.learning, e.growth, e.episodes,
					 (unsigned long long)e.peak_kb);
		}
	}
}

static void test_estimate_no_episode(void **st)
{
	(void)st;
	struct svc_learning l;
	memset(&l, 0, sizeof(l));
	struct learn_estimate e = learn_estimate(&l, NOW, HL);
	assert_true(e.learning);
	assert_true(e.growth == LEARN_DEFAULT_GROWTH);
	assert_int_equal(e.episodes, 0);
	assert_int_equal(e.peak_kb, 0);
}

/* ---- learn_get ---- */

static void test_get(void **st)
{
	(void)st;
	struct svc_learning *arr = NULL;
	size_t n = 0;
	struct svc_learning *r = learn_get(&arr, &n, "redis");
	assert_non_null(r);
	assert_int_equal(n, 1);
	assert_string_equal(r->name, "redis");
	assert_int_equal(r->n, 0);
	assert_int_equal(r->episodes_total, 0);
	struct cow_episode e = ep(NOW, 4096, 8192);
	learn_add(r, &e);
	assert_non_null(learn_get(&arr, &n, "postgres"));
	r = learn_get(&arr, &n, "redis");
	assert_int_equal(n, 2);
	assert_ptr_equal(r, &arr[0]);
	assert_int_equal(r->n, 1);

	char name[80];
	memset(name, 'x', sizeof(name));
	name[63] = '\0';
	assert_non_null(learn_get(&arr, &n, name));
	assert_int_equal(n, 3);
	name[63] = 'x';
	name[64] = '\0';
	errno = 0;
	assert_null(learn_get(&arr, &n, name));
	assert_int_equal(errno, EINVAL);
	assert_null(learn_get(&arr, &n, ""));
	assert_int_equal(n, 3);
	free(arr);
}

static void test_get_bounded(void **st)
{
	(void)st;
	struct svc_learning *arr = NULL;
	size_t n = 0;
	char name[16];
	for (int i = 0; i < LEARN_MAX_SERVICES; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		assert_non_null(learn_get(&arr, &n, name));
	}
	assert_non_null(learn_get(&arr, &n, "s7")); /* a hit still works */
	errno = 0;
	assert_null(learn_get(&arr, &n, "one-too-many"));
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(n, LEARN_MAX_SERVICES);
	free(arr);
}

/* ---- parsing ---- */

#define EP1 "{\"start_s\":1700000000,\"anon_at_fork_kb\":4096,\"anon_peak_kb\":5000,\"duration_ms\":900}"
#define SVC(name, total, eps) \
	"{\"name\":" name ",\"episodes_total\":" total ",\"episodes\":[" eps "]}"
#define DOC(svcs) "{\"version\":1,\"services\":[" svcs "]}"
#define V2(svcs) "{\"version\":2,\"services\":[" svcs "]}"
#define SVCW(name, total, eps, workers)                                                   \
	"{\"name\":" name ",\"episodes_total\":" total ",\"episodes\":[" eps "],\"workers\":" \
	workers "}"
#define WKOK "{\"rss_growth\":{\"total\":0,\"kb\":[]},\"private_dirty\":{\"total\":0,\"kb\":[]}"

static const char *const bad_docs[] = {
	"",
	"   ",
	"null",
	"[]",
	"{}",
	"{\"version\":1}",
	"{\"services\":[]}",
	"{\"version\":3,\"services\":[]}",
	"{\"version\":0,\"services\":[]}",
	/* workers: only in version 2, strict */
	DOC(SVCW("\"redis\"", "1", EP1, "{}")),
	V2(SVCW("\"redis\"", "1", EP1, "null")),
	V2(SVCW("\"redis\"", "1", EP1, "{}")),
	V2(SVCW("\"redis\"", "1", EP1, "{\"rss_growth\":{\"total\":0,\"kb\":[]}}")),
	V2(SVCW("\"redis\"", "1", EP1, WKOK ",\"x\":1}")),
	V2(SVCW("\"redis\"", "1", EP1, "{\"rss_growth\":{\"total\":1,\"kb\":[1,2]},"
		      "\"private_dirty\":{\"total\":0,\"kb\":[]}}")),
	V2(SVCW("\"redis\"", "1", EP1, "{\"rss_growth\":{\"total\":2,\"kb\":[1,-2]},"
		      "\"private_dirty\":{\"total\":0,\"kb\":[]}}")),
	V2(SVCW("\"redis\"", "1", EP1, "{\"rss_growth\":{\"total\":1,\"kb\":[1099511627777]},"
		      "\"private_dirty\":{\"total\":0,\"kb\":[]}}")),
	V2(SVCW("\"redis\"", "1", EP1, "{\"rss_growth\":{\"total\":1,\"kb\":[\"1\"]},"
		      "\"private_dirty\":{\"total\":0,\"kb\":[]}}")),
	V2(SVCW("\"redis\"", "1", EP1, "{\"rss_growth\":{\"total\":1,\"kb\":[1],\"n\":1},"
		      "\"private_dirty\":{\"total\":0,\"kb\":[]}}")),
	V2(SVCW("\"redis\"", "1", EP1, "{\"rss_growth\":{\"total\":1,\"kb\":{}},"
		      "\"private_dirty\":{\"total\":0,\"kb\":[]}}")),
	"{\"version\":\"1\",\"services\":[]}",
	"{\"version\":1.0,\"services\":[]}",
	"{\"version\":1,\"services\":{}}",
	"{\"version\":1,\"services\":[],\"extra\":0}",
	DOC("") " x",
	DOC("") "{}",
	"{\"version\":1,\"services\":[",
	"{\"version\":1,\"services\":[],}",
	"{\"version\":1,\"services\":[] /* c */}",
	DOC("1"),
	DOC("null"),
	DOC("{}"),
	DOC(SVC("\"redis\"", "1", EP1) ","),
	/* names */
	DOC(SVC("\"\"", "1", EP1)),
	DOC(SVC("7", "1", EP1)),
	DOC(SVC("null", "1", EP1)),
	DOC(SVC("\"re\\u0000dis\"", "1", EP1)),
	DOC(SVC("\"0123456789012345678901234567890123456789012345678901234567890123\"", "1", EP1)),
	DOC(SVC("\"redis\"", "1", EP1) "," SVC("\"redis\"", "1", EP1)),
	/* counts */
	DOC(SVC("\"redis\"", "-1", EP1)),
	DOC(SVC("\"redis\"", "0", EP1)),
	DOC(SVC("\"redis\"", "1.5", EP1)),
	DOC(SVC("\"redis\"", "\"1\"", EP1)),
	DOC(SVC("\"redis\"", "18446744073709551615", EP1)),
	DOC(SVC("\"redis\"", "99999999999999999999999", EP1)),
	"{\"version\":1,\"services\":[{\"name\":\"redis\",\"episodes\":[]}]}",
	"{\"version\":1,\"services\":[{\"name\":\"redis\",\"episodes_total\":0}]}",
	"{\"version\":1,\"services\":[{\"name\":\"redis\",\"episodes_total\":0,\"episodes\":{}}]}",
	"{\"version\":1,\"services\":[{\"name\":\"redis\",\"episodes_total\":0,\"episodes\":[],"
	"\"x\":1}]}",
	/* episodes */
	DOC(SVC("\"redis\"", "1", "[]")),
	DOC(SVC("\"redis\"", "1", "null")),
	DOC(SVC("\"redis\"", "1", "{}")),
	DOC(SVC("\"redis\"", "1", "{\"start_s\":1,\"anon_at_fork_kb\":4096,\"anon_peak_kb\":5000}")),
	DOC(SVC("\"redis\"", "1", "{\"start_s\":-1,\"anon_at_fork_kb\":4096,\"anon_peak_kb\":5000,"
				  "\"duration_ms\":1}")),
	DOC(SVC("\"redis\"", "1", "{\"start_s\":1,\"anon_at_fork_kb\":-4096,\"anon_peak_kb\":5000,"
				  "\"duration_ms\":1}")),
	DOC(SVC("\"redis\"", "1", "{\"start_s\":1,\"anon_at_fork_kb\":4096,\"anon_peak_kb\":5e3,"
				  "\"duration_ms\":1}")),
	DOC(SVC("\"redis\"", "1", "{\"start_s\":1,\"anon_at_fork_kb\":4096,\"anon_peak_kb\":"
				  "1099511627777,\"duration_ms\":1}")),
	DOC(SVC("\"redis\"", "1", "{\"start_s\":1,\"anon_at_fork_kb\":4096,\"anon_peak_kb\":5000,"
				  "\"duration_ms\":9223372036854775808}")),
	DOC(SVC("\"redis\"", "1", "{\"start_s\":1,\"anon_at_fork_kb\":4096,\"anon_peak_kb\":5000,"
				  "\"duration_ms\":true}")),
	DOC(SVC("\"redis\"", "1", "{\"start_s\":1,\"anon_at_fork_kb\":4096,\"anon_peak_kb\":5000,"
				  "\"duration_ms\":1,\"pid\":1}")),
	DOC(SVC("\"redis\"", "1", "{\"start_s\":NaN,\"anon_at_fork_kb\":4096,\"anon_peak_kb\":5000,"
				  "\"duration_ms\":1}")),
};

static void test_parse_hostile(void **st)
{
	(void)st;
	for (size_t i = 0; i < ARRAY_SIZE(bad_docs); i++) {
		struct svc_learning *out = (struct svc_learning *)&out;
		size_t n = 99;
		int rc = learn_parse(bad_docs[i], &out, &n);
		if (rc != -EINVAL)
			fail_msg("accepted (rc %d): %s", rc, bad_docs[i]);
		assert_null(out);
		assert_int_equal(n, 0);
	}
}

static void test_parse_good(void **st)
{
	(void)st;
	static const struct {
		const char *doc;
		size_t nsvc;
		size_t neps0;
	} cases[] = {
		{ DOC(""), 0, 0 },
		{ "\n " DOC("") "\n\n", 0, 0 },
		{ DOC(SVC("\"redis\"", "1", EP1)), 1, 1 },
		{ DOC(SVC("\"redis\"", "7", EP1)), 1, 1 }, /* older ones fell out */
		{ DOC(SVC("\"redis\"", "0", "")), 1, 0 },
		{ DOC(SVC("\"redis\"", "1", EP1) "," SVC("\"Redis\"", "1", EP1)), 2, 1 },
		{ DOC(SVC("\"012345678901234567890123456789012345678901234567890123456789012\"",
			  "1", EP1)), 1, 1 },
		{ DOC(SVC("\"caf\\u00e9 \\\"q\\\" /\"", "1", EP1)), 1, 1 },
		/* a record below the minimum is kept (estimate skips it) */
		{ DOC(SVC("\"a\"", "1", "{\"start_s\":0,\"anon_at_fork_kb\":0,\"anon_peak_kb\":0,"
					"\"duration_ms\":0}")), 1, 1 },
		/* keys in any order */
		{ "{\"services\":[{\"episodes\":[],\"episodes_total\":3,\"name\":\"x\"}],\"version\":1}",
		  1, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct svc_learning *out;
		size_t n;
		int rc = learn_parse(cases[i].doc, &out, &n);
		if (rc != 0)
			fail_msg("refused (rc %d): %s", rc, cases[i].doc);
		assert_int_equal(n, cases[i].nsvc);
		if (n) {
			assert_int_equal(out[0].n, cases[i].neps0);
			assert_int_equal(out[0].head, cases[i].neps0 % LEARN_WINDOW);
		} else {
			assert_null(out);
		}
		free(out);
	}
}

static void test_parse_fields(void **st)
{
	(void)st;
	struct svc_learning *out;
	size_t n;
	assert_int_equal(learn_parse(DOC(SVC("\"caf\\u00e9\"", "7",
					     "{\"start_s\":1099511627776,\"anon_at_fork_kb\":4096,"
					     "\"anon_peak_kb\":5000,\"duration_ms\":900}," EP1)),
				 &out, &n),
			 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].name, "caf\xc3\xa9");
	assert_int_equal(out[0].episodes_total, 7);
	assert_int_equal(out[0].n, 2);
	assert_int_equal(out[0].ep[0].start_s, LEARN_MAX_VALUE);
	assert_int_equal(out[0].ep[1].start_s, 1700000000);
	assert_int_equal(out[0].ep[1].anon_at_fork_kb, 4096);
	assert_int_equal(out[0].ep[1].anon_peak_kb, 5000);
	assert_int_equal(out[0].ep[1].duration_ms, 900);
	free(out);
}

/* More than LEARN_WINDOW episodes: the newest are kept, in order. */
static void test_parse_keeps_newest(void **st)
{
	(void)st;
	char doc[16384];
	size_t off = (size_t)snprintf(doc, sizeof(doc),
				      "{\"version\":1,\"services\":[{\"name\":\"redis\","
				      "\"episodes_total\":100,\"episodes\":[");
	const int total = LEARN_WINDOW + 5;
	for (int i = 0; i < total; i++)
		off += (size_t)snprintf(doc + off, sizeof(doc) - off,
					"%s{\"start_s\":%d,\"anon_at_fork_kb\":4096,"
					"\"anon_peak_kb\":5000,\"duration_ms\":1}",
					i ? "," : "", 1000 + i);
	snprintf(doc + off, sizeof(doc) - off, "]}]}");
	struct svc_learning *out;
	size_t n;
	assert_int_equal(learn_parse(doc, &out, &n), 0);
	assert_int_equal(out[0].n, LEARN_WINDOW);
	assert_int_equal(out[0].head, 0);
	assert_int_equal(out[0].episodes_total, 100);
	for (size_t i = 0; i < LEARN_WINDOW; i++)
		assert_int_equal(out[0].ep[i].start_s, 1000 + 5 + i);
	free(out);
	/* the skipped ones are still checked */
	char *p = strstr(doc, "\"start_s\":1000");
	memcpy(p, "\"start_s\":-100", 14);
	out = NULL;
	assert_int_equal(learn_parse(doc, &out, &n), -EINVAL);
	assert_null(out);
}

static void test_parse_too_many_services(void **st)
{
	(void)st;
	size_t size = (LEARN_MAX_SERVICES + 2) * 64 + 64;
	char *doc = malloc(size);
	assert_non_null(doc);
	for (int extra = 0; extra <= 1; extra++) {
		size_t off = (size_t)snprintf(doc, size, "{\"version\":1,\"services\":[");
		for (int i = 0; i < LEARN_MAX_SERVICES + extra; i++)
			off += (size_t)snprintf(doc + off, size - off,
						"%s{\"name\":\"s%d\",\"episodes_total\":0,\"episodes\":[]}",
						i ? "," : "", i);
		snprintf(doc + off, size - off, "]}");
		struct svc_learning *out;
		size_t n;
		assert_int_equal(learn_parse(doc, &out, &n), extra ? -EINVAL : 0);
		assert_int_equal(n, extra ? 0 : LEARN_MAX_SERVICES);
		free(out);
	}
	free(doc);
}

/* ---- files ---- */

struct tmp {
	char *root;
	char state[512]; /* root/var/state: not existing yet */
	char file[600];
};

static int setup(void **st)
{
	struct tmp *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	t->root = tt_make();
	snprintf(t->state, sizeof(t->state), "%s/var/state", t->root);
	snprintf(t->file, sizeof(t->file), "%s/learned.json", t->state);
	*st = t;
	return 0;
}

static int teardown(void **st)
{
	struct tmp *t = *st;
	tt_rm(t->root);
	free(t);
	return 0;
}

static char *slurp(const char *path)
{
	static char buf[1 << 20];
	ssize_t n = read_file(path, buf, sizeof(buf));
	assert_true(n >= 0);
	return strdup(buf);
}

/* Same episodes, oldest first, whatever the ring position. */
static void assert_same(const struct svc_learning *a, const struct svc_learning *b)
{
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->episodes_total, b->episodes_total);
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct cow_episode *x = &a->ep[(a->head + LEARN_WINDOW - a->n + i) % LEARN_WINDOW];
		const struct cow_episode *y = &b->ep[(b->head + LEARN_WINDOW - b->n + i) % LEARN_WINDOW];
		assert_memory_equal(x, y, sizeof(*x));
	}
	struct learn_estimate ea = learn_estimate(a, NOW, HL), eb = learn_estimate(b, NOW, HL);
	assert_int_equal(ea.learning, eb.learning);
	assert_true(ea.growth == eb.growth);
	assert_int_equal(ea.episodes, eb.episodes);
	assert_int_equal(ea.peak_kb, eb.peak_kb);
	const struct growth_ring *ra[] = { &a->workers.rss, &a->workers.priv };
	const struct growth_ring *rb[] = { &b->workers.rss, &b->workers.priv };
	for (size_t k = 0; k < 2; k++) {
		assert_int_equal(ra[k]->total, rb[k]->total);
		assert_int_equal(wg_ring_len(ra[k]), wg_ring_len(rb[k]));
		for (size_t i = 0; i < wg_ring_len(ra[k]); i++)
			assert_int_equal(wg_ring_at(ra[k], i), wg_ring_at(rb[k], i));
	}
}

/* redis with a wrapped ring, postgres with three, an empty one */
static size_t sample(struct svc_learning **arr)
{
	size_t n = 0;
	*arr = NULL;
	struct svc_learning *r = learn_get(arr, &n, "redis");
	assert_non_null(r);
	for (uint64_t i = 0; i < LEARN_WINDOW + 3; i++) {
		struct cow_episode e = { NOW - 100 * i, 200000 + i, 230000 + 7 * i, 1000 + i };
		learn_add(r, &e);
	}
	struct svc_learning *p = learn_get(arr, &n, "postgres \"main\" \\ /");
	assert_non_null(p);
	for (uint64_t i = 0; i < 3; i++) {
		struct cow_episode e = { NOW - i, 50000, 40000 + i, LEARN_MAX_VALUE };
		learn_add(p, &e);
	}
	r = learn_get(arr, &n, "redis"); /* the array may have moved (realloc) */
	assert_non_null(r);
	for (uint64_t i = 0; i < WG_RING + 5; i++) /* wrapped: the newest 32 kept */
		wg_ring_add(&r->workers.rss, 1000 * i);
	wg_ring_add(&r->workers.priv, 32768);
	struct svc_learning *w = learn_get(arr, &n, "idle");
	assert_non_null(w);
	wg_ring_add(&w->workers.priv, WG_MAX_KB); /* workers only, no episode */
	assert_non_null(learn_get(arr, &n, "odd\t\xff\x7f\x01"));
	return n;
}

static void test_round_trip(void **st)
{
	struct tmp *t = *st;
	struct svc_learning *arr;
	size_t n = sample(&arr);
	assert_int_equal(learn_save(t->state, arr, n), 0);

	struct stat sb;
	assert_int_equal(stat(t->state, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	assert_int_equal(stat(t->file, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);

	struct svc_learning *back;
	size_t nb;
	assert_int_equal(learn_load(t->state, &back, &nb), 0);
	assert_int_equal(nb, n);
	for (size_t i = 0; i < n; i++)
		assert_same(&arr[i], &back[i]);

	/* saving what was loaded writes the same bytes */
	char *first = slurp(t->file);
	assert_int_equal(learn_save(t->state, back, nb), 0);
	char *second = slurp(t->file);
	assert_string_equal(first, second);
	free(first);
	free(second);
	free(back);
	free(arr);
}

static void test_format_parse(void **st)
{
	(void)st;
	struct svc_learning *arr;
	size_t n = sample(&arr);
	char *doc;
	assert_int_equal(learn_format(arr, n, &doc), 0);
	assert_non_null(strstr(doc, "\"version\":2"));
	assert_non_null(strstr(doc, "\"workers\""));
	struct svc_learning *back;
	size_t nb;
	assert_int_equal(learn_parse(doc, &back, &nb), 0);
	assert_int_equal(nb, n);
	for (size_t i = 0; i < n; i++)
		assert_same(&arr[i], &back[i]);
	free(doc);
	free(back);
	free(arr);
}

/* A learned.json of version 1 (before workers were kept) still loads:
 * same episodes, no worker growth.  Saved again it becomes version 2. */
static void test_parse_version1(void **st)
{
	(void)st;
	struct svc_learning *out;
	size_t n;
	assert_int_equal(learn_parse(DOC(SVC("\"redis\"", "3", EP1)), &out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].n, 1);
	assert_int_equal(out[0].episodes_total, 3);
	assert_true(wg_empty(&out[0].workers));
	char *doc;
	assert_int_equal(learn_format(out, n, &doc), 0);
	assert_non_null(strstr(doc, "\"version\":2"));
	assert_null(strstr(doc, "\"workers\"")); /* nothing learned: not written */
	free(doc);
	free(out);
}

static void test_parse_workers(void **st)
{
	(void)st;
	struct svc_learning *out;
	size_t n;
	assert_int_equal(learn_parse(V2(SVCW("\"gunicorn\"", "0", "",
					     "{\"rss_growth\":{\"total\":40,\"kb\":[10,20,30]},"
					     "\"private_dirty\":{\"total\":2,\"kb\":[32768,30000]}}")),
				     &out, &n),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].workers.rss.total, 40);
	assert_int_equal(wg_ring_len(&out[0].workers.rss), 3);
	assert_int_equal(wg_ring_at(&out[0].workers.rss, 0), 10);
	assert_int_equal(wg_ring_at(&out[0].workers.priv, 1), 30000);
	size_t nl;
	/* p90 of 2 private readings is the lower ((n-1)*9/10), above the RssAnon one */
	assert_int_equal(wg_estimate(&out[0].workers, NULL, &nl), 30000);
	assert_int_equal(nl, 3);
	free(out);
	assert_int_equal(learn_parse(V2(SVCW("\"g\"", "0", "", WKOK "}")), &out, &n), 0);
	assert_true(wg_empty(&out[0].workers));
	free(out);
}

static void test_load_missing(void **st)
{
	struct tmp *t = *st;
	struct svc_learning *out = (struct svc_learning *)&out;
	size_t n = 5;
	assert_int_equal(learn_load(t->state, &out, &n), 0);
	assert_null(out);
	assert_int_equal(n, 0);
}

/* Corrupt documents are refused and the file is left exactly as it was. */
static void test_load_corrupt_untouched(void **st)
{
	struct tmp *t = *st;
	static const char *const docs[] = {
		"{\"version\":1,\"services\":[{\"name\":\"redis\"",
		DOC(SVC("\"redis\"", "1", EP1) "," SVC("\"redis\"", "1", EP1)),
		"garbage",
	};
	tt_mkdirs(t->state);
	for (size_t i = 0; i < ARRAY_SIZE(docs); i++) {
		FILE *f = fopen(t->file, "w");
		assert_non_null(f);
		fputs(docs[i], f);
		assert_int_equal(fclose(f), 0);
		struct svc_learning *out;
		size_t n;
		assert_int_equal(learn_load(t->state, &out, &n), -EINVAL);
		assert_null(out);
		assert_int_equal(n, 0);
		char *after = slurp(t->file);
		assert_string_equal(after, docs[i]);
		free(after);
	}
}

static void test_load_embedded_nul(void **st)
{
	struct tmp *t = *st;
	static const char doc[] = DOC("") "\0 trailing";
	tt_mkdirs(t->state);
	tt_write_n(t->state, "learned.json", doc, sizeof(doc) - 1);
	struct svc_learning *out;
	size_t n;
	assert_int_equal(learn_load(t->state, &out, &n), -EINVAL);
}

/* save refuses what load would refuse, and writes nothing */
static void test_save_refuses_bad_records(void **st)
{
	struct tmp *t = *st;
	struct svc_learning l[2];
	memset(l, 0, sizeof(l));
	strcpy(l[0].name, "redis");
	strcpy(l[1].name, "redis");
	assert_int_equal(learn_save(t->state, l, 2), -EINVAL); /* duplicate */
	strcpy(l[1].name, "other");
	l[1].n = LEARN_WINDOW + 1;
	assert_int_equal(learn_save(t->state, l, 2), -EINVAL);
	l[1].n = 2;
	l[1].episodes_total = 1;
	assert_int_equal(learn_save(t->state, l, 2), -EINVAL); /* total < kept */
	l[1].episodes_total = 2;
	l[1].ep[1].anon_peak_kb = LEARN_MAX_VALUE + 1;
	assert_int_equal(learn_save(t->state, l, 2), -EINVAL);
	l[1].ep[1].anon_peak_kb = 0;
	memset(l[1].name, 'x', sizeof(l[1].name)); /* no NUL */
	assert_int_equal(learn_save(t->state, l, 2), -EINVAL);
	l[1].name[0] = '\0';
	assert_int_equal(learn_save(t->state, l, 2), -EINVAL);
	struct stat sb;
	assert_int_equal(stat(t->file, &sb), -1);
	strcpy(l[1].name, "other");
	assert_int_equal(learn_save(t->state, l, 2), 0);
	assert_int_equal(learn_save(t->state, NULL, 0), 0); /* empty is valid */
	struct svc_learning *out;
	size_t n;
	assert_int_equal(learn_load(t->state, &out, &n), 0);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_ring),
		cmocka_unit_test(test_add_rejects_noise),
		cmocka_unit_test(test_estimate_table),
		cmocka_unit_test(test_estimate_no_episode),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_get_bounded),
		cmocka_unit_test(test_parse_hostile),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_fields),
		cmocka_unit_test(test_parse_keeps_newest),
		cmocka_unit_test(test_parse_too_many_services),
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_parse_version1),
		cmocka_unit_test(test_parse_workers),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_corrupt_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_embedded_nul, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_refuses_bad_records, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
