/* refusal_store.c - the book of refusals as JSON (refusal.h) and its file
 * in the state directory, refusals.json: written by the daemon only (so
 * without the directory's lock: statedir_write's O_EXCL temp and rename
 * keep readers whole), read by the one-shot `status` and `recommend`.  Bounded:
 * RF_RECENT records and RF_TALLIES counts, a few tens of KiB at most. */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "jsonval.h"
#include "refusal.h"
#include "refusal_store.h"
#include "statedir.h"

#define BOOK_VERSION 1
#define BOOK_MAX_BYTES (128 * 1024)
#define BOOK_MAX_VALUE ((uint64_t)1 << 53) /* exact in a JSON double too */

static const char *const capture_names[] = { "unknown", "active", "unavailable" };

/* ---- to JSON ---- */

static int add_u64(json_object *o, const char *k, uint64_t v)
{
	return jsonval_add(o, k, json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v));
}

static json_object *record_json(const struct refusal *r)
{
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	int rc = add_u64(o, "time_ms", r->time_ms) | add_u64(o, "pid", (uint64_t)r->pid) |
		 add_u64(o, "tgid", (uint64_t)r->tgid) | add_u64(o, "uid", r->uid) |
		 jsonval_add(o, "comm", json_object_new_string(r->comm)) |
		 jsonval_add(o, "service", json_object_new_string(r->service)) |
		 add_u64(o, "instance", (uint64_t)r->instance) |
		 jsonval_add(o, "op", json_object_new_string(refusal_op_name(r->op))) |
		 add_u64(o, "size_kb", r->size_kb) | add_u64(o, "need_kb", r->need_kb) |
		 jsonval_add(o, "need_partial", json_object_new_boolean(r->need_partial)) |
		 jsonval_add(o, "committed_kb", json_object_new_int64(r->committed_kb)) |
		 add_u64(o, "commit_limit_kb", r->commit_limit_kb) |
		 add_u64(o, "reserve_kb", r->reserve_kb) |
		 add_u64(o, "mem_available_kb", r->mem_available_kb) |
		 add_u64(o, "mode", (uint64_t)r->mode) |
		 jsonval_add(o, "exact", json_object_new_boolean(r->exact)) |
		 add_u64(o, "tries", r->tries);
	if (rc) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static json_object *tally_json(const struct refusal_tally *t)
{
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	int rc = jsonval_add(o, "service", json_object_new_string(t->service)) |
		 add_u64(o, "first_ms", t->first_ms) | add_u64(o, "last_ms", t->last_ms);
	for (int k = 0; k < RF_NOPS; k++)
		rc |= add_u64(o, refusal_op_name((enum refusal_op)k), t->by_op[k]);
	if (rc) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int add_array(json_object *root, const char *k, json_object **items, size_t n)
{
	json_object *arr = json_object_new_array();
	int rc = arr ? 0 : -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && items[i] && json_object_array_add(arr, items[i]) == 0)
			continue;
		json_object_put(items[i]);
		rc = -ENOMEM;
	}
	if (rc == 0)
		return jsonval_add(root, k, arr);
	json_object_put(arr);
	return rc;
}

struct json_object *refusal_book_json(const struct refusal_book *b)
{
	json_object *items[RF_RECENT > RF_TALLIES ? RF_RECENT : RF_TALLIES];
	json_object *root = json_object_new_object();
	if (!root)
		return NULL;
	int rc = add_u64(root, "version", BOOK_VERSION) |
		 jsonval_add(root, "capture", json_object_new_string(capture_names[b->capture])) |
		 jsonval_add(root, "why", json_object_new_string(b->why)) |
		 add_u64(root, "since_ms", b->since_ms) | add_u64(root, "lost", b->lost);
	for (size_t i = 0; i < b->ntally; i++)
		items[i] = tally_json(&b->tally[i]);
	rc |= add_array(root, "tally", items, b->ntally);
	for (size_t i = 0; i < b->nrecent; i++) /* oldest first */
		items[i] = record_json(refusal_book_recent(b, b->nrecent - 1 - i));
	rc |= add_array(root, "recent", items, b->nrecent);
	if (rc) {
		json_object_put(root);
		return NULL;
	}
	return root;
}

int refusal_book_format(const struct refusal_book *b, char **json)
{
	*json = NULL;
	json_object *root = refusal_book_json(b);
	if (!root)
		return -ENOMEM;
	const char *s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
	*json = s ? strdup(s) : NULL;
	json_object_put(root);
	return *json ? 0 : -ENOMEM;
}

/* ---- from JSON (strict) ---- */

static int get_str(json_object *o, const char *k, char *buf, size_t size)
{
	json_object *v;
	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return -EINVAL;
	const char *s = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v);
	if (len >= size || strlen(s) != len)
		return -EINVAL;
	memcpy(buf, s, len + 1);
	return 0;
}

static int get_bool(json_object *o, const char *k, bool *out)
{
	json_object *v;
	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_boolean))
		return -EINVAL;
	*out = json_object_get_boolean(v);
	return 0;
}

static int get_i64(json_object *o, const char *k, int64_t *out)
{
	json_object *v;
	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
		return -EINVAL;
	errno = 0;
	int64_t x = json_object_get_int64(v);
	if (errno || x < -(int64_t)BOOK_MAX_VALUE || x > (int64_t)BOOK_MAX_VALUE)
		return -EINVAL;
	*out = x;
	return 0;
}

static int get_int(json_object *o, const char *k, uint64_t max, int *out)
{
	uint64_t v;
	int rc = jsonval_u64(o, k, max, &v);
	*out = (int)v;
	return rc;
}

static int record_parse(json_object *o, struct refusal *r)
{
	char op[16];
	uint64_t u;
	memset(r, 0, sizeof(*r));
	int rc = jsonval_u64(o, "time_ms", BOOK_MAX_VALUE, &r->time_ms) |
		 get_int(o, "pid", INT32_MAX, &r->pid) | get_int(o, "tgid", INT32_MAX, &r->tgid) |
		 jsonval_u64(o, "uid", UINT32_MAX, &u) |
		 get_str(o, "comm", r->comm, sizeof(r->comm)) |
		 get_str(o, "service", r->service, sizeof(r->service)) |
		 get_int(o, "instance", INT32_MAX, &r->instance) | get_str(o, "op", op, sizeof(op)) |
		 jsonval_u64(o, "size_kb", BOOK_MAX_VALUE, &r->size_kb) |
		 jsonval_u64(o, "need_kb", BOOK_MAX_VALUE, &r->need_kb) |
		 get_bool(o, "need_partial", &r->need_partial) |
		 get_i64(o, "committed_kb", &r->committed_kb) |
		 jsonval_u64(o, "commit_limit_kb", BOOK_MAX_VALUE, &r->commit_limit_kb) |
		 jsonval_u64(o, "reserve_kb", BOOK_MAX_VALUE, &r->reserve_kb) |
		 jsonval_u64(o, "mem_available_kb", BOOK_MAX_VALUE, &r->mem_available_kb) |
		 get_int(o, "mode", 2, &r->mode) | get_bool(o, "exact", &r->exact);
	r->uid = (uint32_t)u;
	/* files written before fallbacks were folded have no "tries" */
	uint64_t tries = 1;
	if (json_object_object_get_ex(o, "tries", NULL))
		rc |= jsonval_u64(o, "tries", RF_TRIES_MAX, &tries) | (tries == 0);
	r->tries = (uint32_t)tries;
	if (rc == 0 && refusal_op_parse(op, &r->op) < 0)
		rc = -EINVAL;
	return rc ? -EINVAL : 0;
}

static int tally_parse(json_object *o, struct refusal_tally *t)
{
	memset(t, 0, sizeof(*t));
	int rc = get_str(o, "service", t->service, sizeof(t->service)) |
		 jsonval_u64(o, "first_ms", BOOK_MAX_VALUE, &t->first_ms) |
		 jsonval_u64(o, "last_ms", BOOK_MAX_VALUE, &t->last_ms);
	for (int k = 0; k < RF_NOPS; k++)
		rc |= jsonval_u64(o, refusal_op_name((enum refusal_op)k), BOOK_MAX_VALUE, &t->by_op[k]);
	return rc ? -EINVAL : 0;
}

static int parse_arrays(json_object *root, struct refusal_book *b)
{
	json_object *tally, *recent;
	if (!json_object_object_get_ex(root, "tally", &tally) ||
	    !json_object_is_type(tally, json_type_array) ||
	    !json_object_object_get_ex(root, "recent", &recent) ||
	    !json_object_is_type(recent, json_type_array) ||
	    json_object_array_length(tally) > RF_TALLIES ||
	    json_object_array_length(recent) > RF_RECENT)
		return -EINVAL;
	b->ntally = json_object_array_length(tally);
	for (size_t i = 0; i < b->ntally; i++)
		if (tally_parse(json_object_array_get_idx(tally, i), &b->tally[i]) < 0)
			return -EINVAL;
	b->nrecent = json_object_array_length(recent);
	for (size_t i = 0; i < b->nrecent; i++)
		if (record_parse(json_object_array_get_idx(recent, i), &b->recent[i]) < 0)
			return -EINVAL;
	return 0;
}

int refusal_book_parse(const char *buf, struct refusal_book *b)
{
	memset(b, 0, sizeof(*b));
	json_object *root = json_tokener_parse(buf);
	if (!root || !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return -EINVAL;
	}
	uint64_t version;
	char capture[16];
	int rc = jsonval_u64(root, "version", BOOK_VERSION, &version) |
		 get_str(root, "capture", capture, sizeof(capture)) |
		 get_str(root, "why", b->why, sizeof(b->why)) |
		 jsonval_u64(root, "since_ms", BOOK_MAX_VALUE, &b->since_ms) |
		 jsonval_u64(root, "lost", BOOK_MAX_VALUE, &b->lost);
	rc = rc || version != BOOK_VERSION ? -EINVAL : parse_arrays(root, b);
	b->capture = RF_CAPTURE_UNKNOWN;
	for (int k = 0; rc == 0 && k < 3; k++)
		if (strcmp(capture, capture_names[k]) == 0)
			b->capture = (enum rf_capture_state)k;
	json_object_put(root);
	if (rc < 0)
		memset(b, 0, sizeof(*b));
	return rc < 0 ? -EINVAL : 0;
}

/* ---- the file ---- */

int refusal_book_save_at(struct statedir *sd, const struct refusal_book *b)
{
	char *doc;
	int rc = refusal_book_format(b, &doc);
	if (rc < 0)
		return rc;
	rc = statedir_write(sd, REFUSAL_FILE, doc, strlen(doc), 0600);
	free(doc);
	return rc;
}

int refusal_book_load_at(struct statedir *sd, struct refusal_book *b)
{
	memset(b, 0, sizeof(*b));
	char *buf;
	ssize_t len = statedir_read(sd, REFUSAL_FILE, BOOK_MAX_BYTES, &buf);
	if (len < 0)
		return len == -EFBIG ? -EINVAL : (int)len;
	int rc = strlen(buf) != (size_t)len ? -EINVAL /* a NUL inside would hide the rest */
					    : refusal_book_parse(buf, b);
	free(buf);
	return rc;
}
