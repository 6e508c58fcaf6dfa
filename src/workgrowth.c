/* workgrowth.c - see workgrowth.h. */
#include "workgrowth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonval.h"
#include "util.h"

size_t wg_ring_len(const struct growth_ring *r)
{
	return r->n < WG_RING ? r->n : WG_RING;
}

uint64_t wg_ring_at(const struct growth_ring *r, size_t i)
{
	size_t head = r->head % WG_RING; /* clamped: a damaged record stays inside kb[] */
	return r->kb[(head + WG_RING - wg_ring_len(r) + i) % WG_RING];
}

void wg_ring_add(struct growth_ring *r, uint64_t kb)
{
	size_t head = r->head % WG_RING;
	r->kb[head] = kb < WG_MAX_KB ? kb : WG_MAX_KB;
	r->head = (head + 1) % WG_RING;
	if (r->n < WG_RING)
		r->n++;
	if (r->total < INT64_MAX)
		r->total++;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

uint64_t wg_ring_p90(const struct growth_ring *r)
{
	size_t n = wg_ring_len(r);
	if (n == 0)
		return 0;
	uint64_t v[WG_RING];
	for (size_t i = 0; i < n; i++)
		v[i] = wg_ring_at(r, i);
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[(n - 1) * 9 / 10];
}

bool wg_empty(const struct worker_growth *g)
{
	return g->rss.total == 0 && g->priv.total == 0;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

uint64_t wg_estimate(const struct worker_growth *g, const struct worker_live *live,
		     size_t *nlearned)
{
	size_t exited = wg_ring_len(&g->rss);
	/* a sampled worker is in both rings: count it once */
	if (wg_ring_len(&g->priv) > exited)
		exited = wg_ring_len(&g->priv);
	uint64_t kb = max_u64(wg_ring_p90(&g->rss), wg_ring_p90(&g->priv));
	*nlearned = exited;
	if (live) {
		kb = max_u64(kb, max_u64(live->rss_mean_kb, live->priv_mean_kb));
		*nlearned += live->nrss > live->npriv ? live->nrss : live->npriv;
	}
	return kb;
}

static void ring_merge(struct growth_ring *dst, const struct growth_ring *older)
{
	struct growth_ring r = { 0 };
	for (size_t i = 0; i < wg_ring_len(older); i++)
		wg_ring_add(&r, wg_ring_at(older, i));
	for (size_t i = 0; i < wg_ring_len(dst); i++)
		wg_ring_add(&r, wg_ring_at(dst, i));
	uint64_t total = older->total + dst->total;
	r.total = total < older->total || total > INT64_MAX ? INT64_MAX : total;
	*dst = r;
}

void wg_merge(struct worker_growth *dst, const struct worker_growth *older)
{
	ring_merge(&dst->rss, &older->rss);
	ring_merge(&dst->priv, &older->priv);
}

/* ---- learned.json ---- */

static const char *const ring_keys[] = { "total", "kb" };
static const char *const growth_keys[] = { "rss_growth", "private_dirty" };

static struct json_object *ring_to_json(const struct growth_ring *r)
{
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; arr && i < wg_ring_len(r); i++) {
		struct json_object *v = json_object_new_uint64(wg_ring_at(r, i));
		if (!v || json_object_array_add(arr, v) < 0) {
			json_object_put(v);
			json_object_put(arr);
			arr = NULL;
		}
	}
	struct json_object *o = arr ? json_object_new_object() : NULL;
	int rc = o ? 0 : -ENOMEM;
	jsonval_put(o, "total", json_object_new_uint64(r->total), &rc);
	jsonval_put(o, "kb", arr, &rc); /* takes or releases arr */
	if (rc < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct json_object *wg_to_json(const struct worker_growth *g)
{
	struct json_object *o = json_object_new_object();
	int rc = o ? 0 : -ENOMEM;
	jsonval_put(o, "rss_growth", rc == 0 ? ring_to_json(&g->rss) : NULL, &rc);
	jsonval_put(o, "private_dirty", rc == 0 ? ring_to_json(&g->priv) : NULL, &rc);
	if (rc < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int ring_from_json(struct json_object *parent, const char *name, struct growth_ring *r)
{
	struct json_object *o, *arr;
	memset(r, 0, sizeof(*r));
	if (!json_object_object_get_ex(parent, name, &o) ||
	    !jsonval_only_keys(o, ring_keys, ARRAY_SIZE(ring_keys)) ||
	    jsonval_u64(o, "total", INT64_MAX, &r->total) < 0 ||
	    !json_object_object_get_ex(o, "kb", &arr) || !json_object_is_type(arr, json_type_array))
		return -EINVAL;
	size_t count = json_object_array_length(arr);
	if (r->total < count)
		return -EINVAL; /* more workers than were ever seen */
	size_t skip = count > WG_RING ? count - WG_RING : 0;
	for (size_t i = 0; i < count; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
		    json_object_get_uint64(v) > WG_MAX_KB)
			return -EINVAL;
		if (i >= skip)
			r->kb[r->n++] = json_object_get_uint64(v);
	}
	r->head = r->n % WG_RING;
	return 0;
}

int wg_from_json(struct json_object *o, struct worker_growth *g)
{
	memset(g, 0, sizeof(*g));
	if (!jsonval_only_keys(o, growth_keys, ARRAY_SIZE(growth_keys)) ||
	    ring_from_json(o, "rss_growth", &g->rss) < 0 ||
	    ring_from_json(o, "private_dirty", &g->priv) < 0) {
		memset(g, 0, sizeof(*g));
		return -EINVAL;
	}
	return 0;
}

static bool ring_valid(const struct growth_ring *r)
{
	if (r->n > WG_RING || r->head >= WG_RING || r->total < r->n || r->total > INT64_MAX)
		return false;
	for (size_t i = 0; i < r->n; i++)
		if (r->kb[i] > WG_MAX_KB)
			return false;
	return true;
}

bool wg_valid(const struct worker_growth *g)
{
	return ring_valid(&g->rss) && ring_valid(&g->priv);
}
