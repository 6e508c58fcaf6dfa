/* test_workgrowth.c - long-lived workers' lifetime growth: the rings and
 * their 90th percentile, the estimate with live workers, the merge of what
 * learned.json held with what was learned since, and the JSON halves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "util.h"
#include "workgrowth.h"

static void test_ring_wraps(void **st)
{
	(void)st;
	struct growth_ring r = { 0 };
	assert_int_equal(wg_ring_p90(&r), 0);
	for (uint64_t i = 1; i <= WG_RING + 8; i++)
		wg_ring_add(&r, i);
	assert_int_equal(r.total, WG_RING + 8);
	assert_int_equal(wg_ring_len(&r), WG_RING);
	assert_int_equal(wg_ring_at(&r, 0), 9); /* oldest kept */
	assert_int_equal(wg_ring_at(&r, WG_RING - 1), WG_RING + 8);
	/* 9..40: index (32-1)*9/10 = 27 -> 36 */
	assert_int_equal(wg_ring_p90(&r), 36);
	wg_ring_add(&r, WG_MAX_KB + 5); /* clamped */
	assert_int_equal(wg_ring_at(&r, WG_RING - 1), WG_MAX_KB);
}

/* The p90 ignores the odd worker that grew far more than the rest. */
static void test_p90_outlier(void **st)
{
	(void)st;
	struct growth_ring r = { 0 };
	for (int i = 0; i < 19; i++)
		wg_ring_add(&r, 4096);
	wg_ring_add(&r, 900000);
	assert_int_equal(wg_ring_p90(&r), 4096);
}

static void test_estimate_table(void **st)
{
	(void)st;
	static const struct {
		uint64_t rss[3], priv[3];
		struct worker_live live;
		bool with_live;
		uint64_t want;
		size_t nwant;
	} cases[] = {
		{ { 0 }, { 0 }, { 0 }, false, 0, 0 },                      /* nothing known */
		{ { 100, 200, 300 }, { 0 }, { 0 }, false, 200, 3 },       /* RssAnon only */
		/* COW un-sharing: RssAnon saw nothing, Private_Dirty 32 MiB */
		{ { 1, 2, 3 }, { 32768, 32000, 0 }, { 0 }, false, 32000, 3 },
		{ { 100 }, { 0 }, { 500, 0, 4, 0 }, true, 500, 5 },       /* live mean larger */
		{ { 100 }, { 0 }, { 10, 9000, 4, 2 }, true, 9000, 5 },    /* live sample larger */
		{ { 100 }, { 0 }, { 10, 20, 4, 2 }, true, 100, 5 },       /* exited larger */
	};
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		struct worker_growth g = { 0 };
		for (size_t i = 0; i < 3; i++) {
			if (cases[c].rss[i])
				wg_ring_add(&g.rss, cases[c].rss[i]);
			if (cases[c].priv[i])
				wg_ring_add(&g.priv, cases[c].priv[i]);
		}
		size_t n = 99;
		uint64_t kb = wg_estimate(&g, cases[c].with_live ? &cases[c].live : NULL, &n);
		if (kb != cases[c].want || n != cases[c].nwant)
			fail_msg("case %zu: %llu from %zu, want %llu from %zu", c, (unsigned long long)kb,
				 n, (unsigned long long)cases[c].want, cases[c].nwant);
	}
}

/* learned.json's record (older) goes in front of what the daemon learned
 * since: order kept, the newest WG_RING of both, totals added. */
static void test_merge(void **st)
{
	(void)st;
	struct worker_growth older = { 0 }, now = { 0 };
	for (uint64_t i = 0; i < 30; i++)
		wg_ring_add(&older.rss, 100 + i);
	wg_ring_add(&older.priv, 7);
	for (uint64_t i = 0; i < 5; i++)
		wg_ring_add(&now.rss, 900 + i);
	wg_merge(&now, &older);
	assert_int_equal(now.rss.total, 35);
	assert_int_equal(wg_ring_len(&now.rss), WG_RING);
	assert_int_equal(wg_ring_at(&now.rss, 0), 103); /* 100..102 fell out */
	assert_int_equal(wg_ring_at(&now.rss, 26), 129);
	assert_int_equal(wg_ring_at(&now.rss, 27), 900);
	assert_int_equal(wg_ring_at(&now.rss, WG_RING - 1), 904);
	assert_int_equal(now.priv.total, 1);
	assert_int_equal(wg_ring_at(&now.priv, 0), 7);
	/* into an empty one (the daemon's start): a copy */
	struct worker_growth empty = { 0 };
	wg_merge(&empty, &older);
	assert_int_equal(empty.rss.total, 30);
	assert_int_equal(wg_ring_at(&empty.rss, 29), 129);
	assert_true(wg_valid(&empty));
}

static struct worker_growth round_trip(const struct worker_growth *g)
{
	struct json_object *o = wg_to_json(g);
	assert_non_null(o);
	const char *txt = json_object_to_json_string(o);
	struct json_object *back = json_tokener_parse(txt);
	assert_non_null(back);
	struct worker_growth out;
	assert_int_equal(wg_from_json(back, &out), 0);
	json_object_put(back);
	json_object_put(o);
	return out;
}

static void test_json_round_trip(void **st)
{
	(void)st;
	struct worker_growth g = { 0 };
	for (uint64_t i = 0; i < WG_RING + 3; i++)
		wg_ring_add(&g.rss, i * 1000);
	wg_ring_add(&g.priv, 32768);
	wg_ring_add(&g.priv, WG_MAX_KB);
	struct worker_growth b = round_trip(&g);
	assert_int_equal(b.rss.total, g.rss.total);
	assert_int_equal(b.priv.total, 2);
	for (size_t i = 0; i < WG_RING; i++)
		assert_int_equal(wg_ring_at(&b.rss, i), wg_ring_at(&g.rss, i));
	assert_int_equal(wg_ring_at(&b.priv, 1), WG_MAX_KB);
	size_t n1, n2;
	assert_int_equal(wg_estimate(&b, NULL, &n1), wg_estimate(&g, NULL, &n2));
}

static void test_json_refused(void **st)
{
	(void)st;
	static const char *const bad[] = {
		"[]",
		"{}",
		"{\"rss_growth\":{\"total\":0,\"kb\":[]}}",
		"{\"rss_growth\":{\"total\":0,\"kb\":[]},\"private_dirty\":{\"total\":0}}",
		"{\"rss_growth\":{\"total\":0,\"kb\":[1]},\"private_dirty\":{\"total\":0,\"kb\":[]}}",
		"{\"rss_growth\":{\"total\":1,\"kb\":[1.5]},\"private_dirty\":{\"total\":0,\"kb\":[]}}",
		"{\"rss_growth\":{\"total\":1,\"kb\":[null]},\"private_dirty\":{\"total\":0,\"kb\":[]}}",
		"{\"rss_growth\":{\"total\":-1,\"kb\":[]},\"private_dirty\":{\"total\":0,\"kb\":[]}}",
		"{\"rss_growth\":{\"total\":0,\"kb\":[]},\"private_dirty\":{\"total\":0,\"kb\":[]},"
		"\"more\":1}",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct json_object *o = json_tokener_parse(bad[i]);
		assert_non_null(o);
		struct worker_growth g;
		if (wg_from_json(o, &g) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_true(wg_empty(&g));
		json_object_put(o);
	}
}

/* More than WG_RING values (a hand-edited file): checked, the newest kept. */
static void test_json_keeps_newest(void **st)
{
	(void)st;
	char doc[2048];
	size_t off = (size_t)snprintf(doc, sizeof(doc), "{\"rss_growth\":{\"total\":40,\"kb\":[");
	for (int i = 0; i < 40; i++)
		off += (size_t)snprintf(doc + off, sizeof(doc) - off, "%s%d", i ? "," : "", i);
	snprintf(doc + off, sizeof(doc) - off,
		 "]},\"private_dirty\":{\"total\":0,\"kb\":[]}}");
	struct json_object *o = json_tokener_parse(doc);
	assert_non_null(o);
	struct worker_growth g;
	assert_int_equal(wg_from_json(o, &g), 0);
	assert_int_equal(wg_ring_len(&g.rss), WG_RING);
	assert_int_equal(wg_ring_at(&g.rss, 0), 8);
	assert_int_equal(wg_ring_at(&g.rss, WG_RING - 1), 39);
	json_object_put(o);
}

static void test_valid(void **st)
{
	(void)st;
	struct worker_growth g = { 0 };
	assert_true(wg_valid(&g));
	g.rss.n = 2; /* more values than workers ever seen */
	assert_false(wg_valid(&g));
	g.rss.total = 2;
	assert_true(wg_valid(&g));
	g.priv.head = WG_RING;
	assert_false(wg_valid(&g));
	g.priv.head = 0;
	g.rss.kb[1] = WG_MAX_KB + 1;
	assert_false(wg_valid(&g));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_wraps),
		cmocka_unit_test(test_p90_outlier),
		cmocka_unit_test(test_estimate_table),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_refused),
		cmocka_unit_test(test_json_keeps_newest),
		cmocka_unit_test(test_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
