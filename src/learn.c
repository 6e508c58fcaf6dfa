/* learn.c - COW learning (see learn.h): a ring of fork episodes per service,
 * a decaying weighted median of their growth, and STATE_DIR/learned.json:
 * {"version":2,"services":[{"name","episodes_total","episodes":[{"start_s",
 * "anon_at_fork_kb","anon_peak_kb","duration_ms"}, ... oldest first],
 * "workers":{...} (workgrowth.h; only when something was learned)}]}.
 * Version 1 (no "workers") is still read; it is written as version 2. */
#include "learn.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "jsonval.h"
#include "util.h"

#define LEARN_FILE "learned.json"
#define LEARN_VERSION 2
#define LEARN_VERSION_OLDEST 1 /* before the workers' growth was kept */
#define LEARN_MAX_BYTES (8u << 20)     /* 1024 services x 16 episodes, pretty */
#define LEARN_MAX_AGE_HALF_LIVES 8
#define NAME_SIZE sizeof(((struct svc_learning *)NULL)->name)

static bool episode_valid(const struct cow_episode *e)
{
	return e->start_s <= LEARN_MAX_VALUE && e->anon_at_fork_kb <= LEARN_MAX_VALUE &&
	       e->anon_peak_kb <= LEARN_MAX_VALUE && e->duration_ms <= LEARN_MAX_VALUE;
}

/* The i-th episode, oldest first; the ring indices are clamped so a damaged
 * record cannot index outside ep[]. */
static size_t ring_len(const struct svc_learning *l)
{
	return l->n < LEARN_WINDOW ? l->n : LEARN_WINDOW;
}

static const struct cow_episode *ring_at(const struct svc_learning *l, size_t i)
{
	size_t head = l->head % LEARN_WINDOW;
	return &l->ep[(head + LEARN_WINDOW - ring_len(l) + i) % LEARN_WINDOW];
}

void learn_add(struct svc_learning *l, const struct cow_episode *ep)
{
	if (ep->anon_at_fork_kb < LEARN_MIN_ANON_KB || !episode_valid(ep))
		return;
	size_t head = l->head % LEARN_WINDOW;
	l->ep[head] = *ep;
	l->head = (head + 1) % LEARN_WINDOW;
	if (l->n < LEARN_WINDOW)
		l->n++;
	if (l->episodes_total < UINT64_MAX)
		l->episodes_total++;
}

struct weighted {
	double growth, weight;
};

/* age > 8 half-lives, without overflowing 8 * half_life */
static bool too_old(uint64_t age, uint64_t half_life)
{
	if (half_life == 0)
		return false;
	uint64_t q = age / LEARN_MAX_AGE_HALF_LIVES, r = age % LEARN_MAX_AGE_HALF_LIVES;
	return q > half_life || (q == half_life && r != 0);
}

/* Weighted median of v[0..n) (n >= 1): the growth where the cumulative
 * weight, in growth order, reaches half the total.  A cut falling exactly
 * between two values averages them, so equal weights give the usual median. */
static double weighted_median(struct weighted *v, size_t n)
{
	for (size_t i = 1; i < n; i++) { /* insertion sort: n <= LEARN_WINDOW */
		struct weighted x = v[i];
		size_t j = i;
		while (j > 0 && v[j - 1].growth > x.growth) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
	double total = 0;
	for (size_t i = 0; i < n; i++)
		total += v[i].weight;
	double half = total / 2, cum = 0;
	for (size_t i = 0; i < n; i++) {
		cum += v[i].weight;
		if (fabs(cum - half) <= 1e-9 * total && i + 1 < n)
			return (v[i].growth + v[i + 1].growth) / 2;
		if (cum >= half)
			return v[i].growth;
	}
	return v[n - 1].growth;
}

struct learn_estimate learn_estimate(const struct svc_learning *l, uint64_t now_s,
				     uint64_t half_life_s)
{
	struct learn_estimate est = { .learning = true, .growth = LEARN_DEFAULT_GROWTH };
	struct weighted v[LEARN_WINDOW];
	size_t used = 0;
	for (size_t i = 0; i < ring_len(l); i++) {
		const struct cow_episode *e = ring_at(l, i);
		if (e->anon_at_fork_kb < LEARN_MIN_ANON_KB)
			continue;
		/* a start in the future: the clock went back; count it as new */
		uint64_t age = now_s > e->start_s ? now_s - e->start_s : 0;
		if (too_old(age, half_life_s))
			continue;
		double g = 0; /* anon shrank during the episode: no growth */
		if (e->anon_peak_kb > e->anon_at_fork_kb)
			g = (double)(e->anon_peak_kb - e->anon_at_fork_kb) / (double)e->anon_at_fork_kb;
		v[used].growth = g;
		v[used].weight = half_life_s ? exp2(-(double)age / (double)half_life_s) : 1.0;
		used++;
		if (e->anon_peak_kb > est.peak_kb)
			est.peak_kb = e->anon_peak_kb;
	}
	if (used == 0)
		return est;
	est.learning = false;
	est.episodes = used;
	est.growth = weighted_median(v, used);
	return est;
}

static bool name_valid(const char *s, size_t len)
{
	return len > 0 && len < NAME_SIZE && strlen(s) == len;
}

struct svc_learning *learn_get(struct svc_learning **arr, size_t *n, const char *name)
{
	size_t len = strnlen(name, NAME_SIZE);
	if (!name_valid(name, len)) {
		errno = EINVAL;
		return NULL;
	}
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*arr)[i].name, name) == 0)
			return &(*arr)[i];
	if (*n >= LEARN_MAX_SERVICES) {
		errno = ENOSPC;
		return NULL;
	}
	struct svc_learning *a = realloc(*arr, (*n + 1) * sizeof(*a));
	if (!a) {
		errno = ENOMEM;
		return NULL;
	}
	*arr = a;
	struct svc_learning *l = &a[(*n)++];
	memset(l, 0, sizeof(*l));
	memcpy(l->name, name, len + 1);
	return l;
}

/* ---- parsing ---- */

static const char *const episode_keys[] = { "start_s", "anon_at_fork_kb", "anon_peak_kb",
					    "duration_ms" };
static const char *const service_keys_v1[] = { "name", "episodes_total", "episodes" };
static const char *const service_keys[] = { "name", "episodes_total", "episodes", "workers" };
static const char *const root_keys[] = { "version", "services" };

static int parse_episode(struct json_object *o, struct cow_episode *e)
{
	if (!json_object_is_type(o, json_type_object) ||
	    !jsonval_only_keys(o, episode_keys, ARRAY_SIZE(episode_keys)))
		return -EINVAL;
	if (jsonval_u64(o, "start_s", LEARN_MAX_VALUE, &e->start_s) < 0 ||
	    jsonval_u64(o, "anon_at_fork_kb", LEARN_MAX_VALUE, &e->anon_at_fork_kb) < 0 ||
	    jsonval_u64(o, "anon_peak_kb", LEARN_MAX_VALUE, &e->anon_peak_kb) < 0 ||
	    jsonval_u64(o, "duration_ms", LEARN_MAX_VALUE, &e->duration_ms) < 0)
		return -EINVAL;
	return 0;
}

static int parse_service(struct json_object *o, int64_t version, struct svc_learning *l)
{
	struct json_object *name, *eps, *workers;
	memset(l, 0, sizeof(*l));
	bool known = version == 1 ? jsonval_only_keys(o, service_keys_v1, ARRAY_SIZE(service_keys_v1))
				  : jsonval_only_keys(o, service_keys, ARRAY_SIZE(service_keys));
	if (!known)
		return -EINVAL;
	if (json_object_object_get_ex(o, "workers", &workers) &&
	    wg_from_json(workers, &l->workers) < 0)
		return -EINVAL;
	if (!json_object_object_get_ex(o, "name", &name) ||
	    !json_object_is_type(name, json_type_string))
		return -EINVAL;
	const char *s = json_object_get_string(name);
	size_t len = (size_t)json_object_get_string_len(name);
	if (!name_valid(s, len))
		return -EINVAL;
	memcpy(l->name, s, len + 1);
	if (jsonval_u64(o, "episodes_total", INT64_MAX, &l->episodes_total) < 0)
		return -EINVAL;
	if (!json_object_object_get_ex(o, "episodes", &eps) ||
	    !json_object_is_type(eps, json_type_array))
		return -EINVAL;
	size_t count = json_object_array_length(eps);
	if (l->episodes_total < count)
		return -EINVAL; /* more episodes than were ever seen */
	/* every entry is checked; only the newest LEARN_WINDOW are kept */
	size_t skip = count > LEARN_WINDOW ? count - LEARN_WINDOW : 0;
	for (size_t i = 0; i < count; i++) {
		struct cow_episode e;
		if (parse_episode(json_object_array_get_idx(eps, i), &e) < 0)
			return -EINVAL;
		if (i >= skip)
			l->ep[l->n++] = e;
	}
	l->head = l->n % LEARN_WINDOW;
	return 0;
}

static int parse_root(struct json_object *root, struct svc_learning **out, size_t *n)
{
	struct json_object *ver, *svcs;
	if (!json_object_is_type(root, json_type_object) ||
	    !jsonval_only_keys(root, root_keys, ARRAY_SIZE(root_keys)) ||
	    !json_object_object_get_ex(root, "version", &ver) ||
	    !json_object_is_type(ver, json_type_int) ||
	    json_object_get_int64(ver) < LEARN_VERSION_OLDEST ||
	    json_object_get_int64(ver) > LEARN_VERSION ||
	    !json_object_object_get_ex(root, "services", &svcs) ||
	    !json_object_is_type(svcs, json_type_array))
		return -EINVAL;
	size_t count = json_object_array_length(svcs);
	if (count > LEARN_MAX_SERVICES)
		return -EINVAL;
	if (count == 0)
		return 0;
	struct svc_learning *a = calloc(count, sizeof(*a));
	if (!a)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		int rc = parse_service(json_object_array_get_idx(svcs, i),
				       json_object_get_int64(ver), &a[i]);
		for (size_t j = 0; rc == 0 && j < i; j++)
			if (strcmp(a[j].name, a[i].name) == 0)
				rc = -EINVAL; /* which record is the true one? */
		if (rc < 0) {
			free(a);
			return rc;
		}
	}
	*out = a;
	*n = count;
	return 0;
}

int learn_parse(const char *json, struct svc_learning **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	size_t len = strlen(json);
	if (len > LEARN_MAX_BYTES)
		return -EINVAL;
	struct json_tokener *tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	struct json_object *root = json_tokener_parse_ex(tok, json, (int)len);
	bool ok = root && json_tokener_get_error(tok) == json_tokener_success;
	/* only whitespace may follow the document */
	for (size_t i = ok ? json_tokener_get_parse_end(tok) : len; i < len; i++)
		if (!strchr(" \t\r\n", json[i]))
			ok = false;
	json_tokener_free(tok);
	int rc = ok ? parse_root(root, out, n) : -EINVAL;
	json_object_put(root);
	return rc;
}

/* ---- formatting ---- */

static int append(struct json_object *arr, struct json_object *v)
{
	if (!v || json_object_array_add(arr, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static struct json_object *format_episode(const struct cow_episode *e)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	if (jsonval_add(o, "start_s", json_object_new_uint64(e->start_s)) < 0 ||
	    jsonval_add(o, "anon_at_fork_kb", json_object_new_uint64(e->anon_at_fork_kb)) < 0 ||
	    jsonval_add(o, "anon_peak_kb", json_object_new_uint64(e->anon_peak_kb)) < 0 ||
	    jsonval_add(o, "duration_ms", json_object_new_uint64(e->duration_ms)) < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *format_service(const struct svc_learning *l)
{
	struct json_object *o = json_object_new_object();
	struct json_object *eps = json_object_new_array();
	if (!o || !eps) {
		json_object_put(o);
		json_object_put(eps);
		return NULL;
	}
	struct json_object *arr = eps;
	int rc = jsonval_add(o, "name", json_object_new_string(l->name));
	if (rc == 0)
		rc = jsonval_add(o, "episodes_total", json_object_new_uint64(l->episodes_total));
	if (rc == 0)
		rc = jsonval_add(o, "episodes", eps); /* takes (or frees) eps */
	else
		json_object_put(eps);
	for (size_t i = 0; rc == 0 && i < ring_len(l); i++)
		rc = append(arr, format_episode(ring_at(l, i)));
	if (rc == 0 && !wg_empty(&l->workers))
		rc = jsonval_add(o, "workers", wg_to_json(&l->workers));
	if (rc < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* What learn_parse would refuse is refused here too, so a save never writes
 * a file the next start cannot read. */
static int check_records(const struct svc_learning *l, size_t n)
{
	if (n > LEARN_MAX_SERVICES)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!name_valid(l[i].name, strnlen(l[i].name, sizeof(l[i].name))) ||
		    l[i].n > LEARN_WINDOW || l[i].head >= LEARN_WINDOW ||
		    l[i].episodes_total < l[i].n || l[i].episodes_total > INT64_MAX ||
		    !wg_valid(&l[i].workers))
			return -EINVAL;
		for (size_t k = 0; k < l[i].n; k++)
			if (!episode_valid(&l[i].ep[k]))
				return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (strcmp(l[j].name, l[i].name) == 0)
				return -EINVAL;
	}
	return 0;
}

int learn_format(const struct svc_learning *l, size_t n, char **json)
{
	*json = NULL;
	int rc = check_records(l, n);
	if (rc < 0)
		return rc;
	struct json_object *root = json_object_new_object();
	struct json_object *svcs = json_object_new_array();
	if (!root || !svcs) {
		json_object_put(root);
		json_object_put(svcs);
		return -ENOMEM;
	}
	struct json_object *arr = svcs;
	rc = jsonval_add(root, "version", json_object_new_int(LEARN_VERSION));
	if (rc == 0)
		rc = jsonval_add(root, "services", svcs); /* takes (or frees) svcs */
	else
		json_object_put(svcs);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = append(arr, format_service(&l[i]));
	if (rc == 0) {
		size_t len;
		const char *s = json_object_to_json_string_length(
			root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
		char *doc = s ? malloc(len + 2) : NULL;
		if (doc) {
			memcpy(doc, s, len);
			memcpy(doc + len, "\n", 2);
			*json = doc;
		} else {
			rc = -ENOMEM;
		}
	}
	json_object_put(root);
	return rc;
}

/* ---- files ---- */

const struct svc_learning *learn_find(const struct svc_learning *all, size_t n, const char *name)
{
	for (size_t k = 0; k < n; k++)
		if (strcmp(all[k].name, name) == 0)
			return &all[k];
	return NULL;
}

struct learn_estimate learn_estimate_named(const struct svc_learning *all, size_t n,
					   const char *name, uint64_t now_s)
{
	const struct svc_learning *l = learn_find(all, n, name);
	if (l)
		return learn_estimate(l, now_s, LEARN_HALF_LIFE_S);
	return (struct learn_estimate){ .learning = true, .growth = LEARN_DEFAULT_GROWTH };
}

int learn_load_at(struct statedir *sd, struct svc_learning **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	char *buf;
	int rc;
	ssize_t len = statedir_read(sd, LEARN_FILE, LEARN_MAX_BYTES, &buf);
	if (len == -ENOENT)
		return 0; /* nothing learned yet */
	if (len < 0)
		rc = len == -EFBIG ? -EINVAL : (int)len;
	else if (strlen(buf) != (size_t)len)
		rc = -EINVAL; /* a NUL inside would hide the rest from the parser */
	else
		rc = learn_parse(buf, out, n);
	free(buf);
	return rc;
}

int learn_save_at(struct statedir *sd, const struct svc_learning *l, size_t n)
{
	char *doc;
	int rc = learn_format(l, n, &doc);
	if (rc < 0)
		return rc;
	rc = statedir_write(sd, LEARN_FILE, doc, strlen(doc), 0600);
	free(doc);
	return rc;
}

int learn_load(const char *state_dir, struct svc_learning **out, size_t *n)
{
	struct statedir sd;
	*out = NULL;
	*n = 0;
	int rc = statedir_open(state_dir, false, &sd);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0)
		rc = learn_load_at(&sd, out, n);
	statedir_close(&sd);
	return rc;
}

int learn_save(const char *state_dir, const struct svc_learning *l, size_t n)
{
	struct statedir sd;
	int rc = statedir_open(state_dir, true, &sd);
	if (rc == 0)
		rc = learn_save_at(&sd, l, n);
	statedir_close(&sd);
	return rc;
}
