/* journal.c - the state journal (see journal.h): JSON in STATE_DIR/journal.json,
 * {"version":1,"entries":[{"kind","key","original","pid","start_time","seq"}]}.
 * Every change is persisted (temp, fsync, rename) before the call returns, so
 * the file on disk is always at least as new as the kernel state it guards. */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "jsonval.h"
#include "util.h"

#define JOURNAL_FILE "journal.json"
#define JOURNAL_VERSION 1
#define JOURNAL_MAX_ENTRIES 65536        /* far beyond any real host; bounds growth */
#define JOURNAL_MAX_BYTES (64u << 20)    /* refuse to slurp anything bigger */

static const char *const kind_names[] = {
	[J_SYSCTL] = "sysctl",
	[J_OOM_SCORE_ADJ] = "oom_score_adj",
	[J_MEMORY_HIGH] = "memory_high",
	[J_MEMORY_MAX] = "memory_max",
	[J_CGROUP_ATTACH] = "cgroup_attach",
	[J_CGROUP_CREATE] = "cgroup_create",
};

const char *journal_kind_name(enum jkind k)
{
	return (unsigned)k < ARRAY_SIZE(kind_names) ? kind_names[k] : "unknown";
}

static int kind_from_name(const char *s, enum jkind *k)
{
	for (size_t i = 0; i < ARRAY_SIZE(kind_names); i++) {
		if (strcmp(s, kind_names[i]) == 0) {
			*k = (enum jkind)i;
			return 0;
		}
	}
	return -EINVAL;
}

static bool kind_valid(enum jkind k)
{
	return (unsigned)k < ARRAY_SIZE(kind_names);
}

/* Copy a JSON string member into dst; -EINVAL if missing, not a string,
 * holding a NUL, or too long (never truncated: a truncated original would
 * restore a wrong value). */
static int get_str(struct json_object *o, const char *name, char *dst, size_t size)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
		return -EINVAL;
	const char *s = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v);
	if (strlen(s) != len || len >= size)
		return -EINVAL;
	memcpy(dst, s, len + 1);
	return 0;
}

static int grow(struct journal *j)
{
	if (j->n < j->cap)
		return 0;
	if (j->cap >= JOURNAL_MAX_ENTRIES)
		return -ENOSPC;
	size_t cap = j->cap ? j->cap * 2 : 16;
	if (cap > JOURNAL_MAX_ENTRIES)
		cap = JOURNAL_MAX_ENTRIES;
	struct jentry *e = realloc(j->e, cap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	j->e = e;
	j->cap = cap;
	return 0;
}

static ssize_t find_idx(const struct journal *j, enum jkind kind, const char *key)
{
	for (size_t i = 0; i < j->n; i++)
		if (j->e[i].kind == kind && strcmp(j->e[i].key, key) == 0)
			return (ssize_t)i;
	return -1;
}

static int parse_entry(struct json_object *o, struct jentry *e)
{
	char kind[32];
	uint64_t pid, seq;
	if (!json_object_is_type(o, json_type_object))
		return -EINVAL;
	if (get_str(o, "kind", kind, sizeof(kind)) < 0 || kind_from_name(kind, &e->kind) < 0)
		return -EINVAL;
	if (get_str(o, "key", e->key, sizeof(e->key)) < 0 || e->key[0] == '\0')
		return -EINVAL;
	if (get_str(o, "original", e->original, sizeof(e->original)) < 0)
		return -EINVAL;
	if (jsonval_u64(o, "pid", INT_MAX, &pid) < 0 || jsonval_u64(o, "start_time", UINT64_MAX, &e->start_time) < 0)
		return -EINVAL;
	if (jsonval_u64(o, "seq", UINT64_MAX - 1, &seq) < 0 || seq == 0)
		return -EINVAL;
	e->pid = (int)pid;
	e->seq = seq;
	return 0;
}

/* Parse a whole journal document into j (entries appended, next_seq set). */
static int parse_doc(const char *buf, size_t len, struct journal *j)
{
	struct json_tokener *tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	struct json_object *root = json_tokener_parse_ex(tok, buf, (int)len);
	bool ok = root && json_tokener_get_error(tok) == json_tokener_success;
	if (ok) {
		/* only whitespace may follow the document */
		for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
			if (buf[i] != ' ' && buf[i] != '\n' && buf[i] != '\t' && buf[i] != '\r')
				ok = false;
	}
	json_tokener_free(tok);
	int rc = ok ? 0 : -EINVAL;

	struct json_object *ver = NULL, *ents = NULL;
	if (rc == 0 && (!json_object_is_type(root, json_type_object) ||
			!json_object_object_get_ex(root, "version", &ver) ||
			!json_object_is_type(ver, json_type_int) ||
			json_object_get_int64(ver) != JOURNAL_VERSION ||
			!json_object_object_get_ex(root, "entries", &ents) ||
			!json_object_is_type(ents, json_type_array)))
		rc = -EINVAL;

	uint64_t maxseq = 0;
	size_t n = rc == 0 ? json_object_array_length(ents) : 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct jentry e;
		memset(&e, 0, sizeof(e));
		rc = parse_entry(json_object_array_get_idx(ents, i), &e);
		if (rc == 0 && find_idx(j, e.kind, e.key) >= 0)
			rc = -EINVAL; /* a duplicate target: which original is true? */
		if (rc == 0)
			rc = grow(j) == 0 ? 0 : -EINVAL;
		if (rc == 0) {
			j->e[j->n++] = e;
			if (e.seq > maxseq)
				maxseq = e.seq;
		}
	}
	json_object_put(root);
	if (rc == 0)
		j->next_seq = maxseq + 1;
	return rc;
}

int journal_open(const char *state_dir, struct journal *j)
{
	memset(j, 0, sizeof(*j));
	j->next_seq = 1;
	int rc = path_join(j->path, sizeof(j->path), state_dir, JOURNAL_FILE);
	if (rc < 0)
		return rc;

	char *buf;
	ssize_t len = read_file_alloc(j->path, JOURNAL_MAX_BYTES, &buf);
	if (len == -ENOENT)
		return 0; /* no journal yet: nothing was ever changed */
	/* unreadable or oversized: refuse rather than start a new one over it */
	if (len < 0)
		return len == -EFBIG ? -EINVAL : (int)len;
	rc = parse_doc(buf, (size_t)len, j);
	free(buf);
	if (rc < 0)
		journal_close(j); /* j->path stays, for messages */
	return rc;
}

const struct jentry *journal_find(const struct journal *j, enum jkind kind, const char *key)
{
	ssize_t i = find_idx(j, kind, key);
	return i < 0 ? NULL : &j->e[i];
}

/* mkdir -p of the journal's directory; the last component gets 0700
 * (originals of privileged settings are nobody else's business). */
static int make_state_dir(const char *path)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Add v to o; a NULL v (allocation failure) must not become a JSON null. */
static int add(struct json_object *o, const char *name, struct json_object *v)
{
	if (!v || json_object_object_add(o, name, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static int persist(const struct journal *j)
{
	struct json_object *root = json_object_new_object();
	struct json_object *ents = json_object_new_array();
	struct json_object *arr = ents; /* stays valid while root holds it */
	int rc = root && ents ? 0 : -ENOMEM;
	if (rc == 0) {
		rc = add(root, "version", json_object_new_int(JOURNAL_VERSION));
		if (rc == 0) {
			rc = add(root, "entries", ents); /* takes (or frees) ents */
			ents = NULL;
		}
	}
	for (size_t i = 0; rc == 0 && i < j->n; i++) {
		const struct jentry *e = &j->e[i];
		struct json_object *o = json_object_new_object();
		if (!o) {
			rc = -ENOMEM;
			break;
		}
		rc = add(o, "kind", json_object_new_string(kind_names[e->kind]));
		if (rc == 0)
			rc = add(o, "key", json_object_new_string(e->key));
		if (rc == 0)
			rc = add(o, "original", json_object_new_string(e->original));
		if (rc == 0)
			rc = add(o, "pid", json_object_new_int(e->pid));
		if (rc == 0)
			rc = add(o, "start_time", json_object_new_uint64(e->start_time));
		if (rc == 0)
			rc = add(o, "seq", json_object_new_uint64(e->seq));
		if (rc < 0 || json_object_array_add(arr, o) < 0) {
			json_object_put(o);
			rc = -ENOMEM;
		}
	}
	if (rc == 0) {
		size_t len;
		const char *s = json_object_to_json_string_length(
			root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
		if (!s)
			rc = -ENOMEM;
		if (rc == 0)
			rc = make_state_dir(j->path);
		if (rc == 0) {
			/* the document plus a final newline, written in one piece */
			char *doc = malloc(len + 2);
			if (!doc) {
				rc = -ENOMEM;
			} else {
				memcpy(doc, s, len);
				doc[len] = '\n';
				doc[len + 1] = '\0';
				rc = write_file_atomic(j->path, doc, len + 1, 0600);
				free(doc);
			}
		}
	}
	json_object_put(ents);
	json_object_put(root);
	return rc;
}

int journal_record(struct journal *j, enum jkind kind, const char *key, const char *original,
		   int pid, uint64_t start_time)
{
	if (!kind_valid(kind) || !key || !original || key[0] == '\0' || pid < 0)
		return -EINVAL;
	if (find_idx(j, kind, key) >= 0)
		return 0; /* the first original wins: later ones are our own values */
	struct jentry e;
	memset(&e, 0, sizeof(e));
	if (strlen(key) >= sizeof(e.key) || strlen(original) >= sizeof(e.original))
		return -ENAMETOOLONG;
	int rc = grow(j);
	if (rc < 0)
		return rc;
	e.kind = kind;
	strcpy(e.key, key);
	strcpy(e.original, original);
	e.pid = pid;
	e.start_time = start_time;
	e.seq = j->next_seq;
	j->e[j->n++] = e;
	rc = persist(j);
	if (rc < 0) {
		j->n--; /* memory and disk must agree */
		return rc;
	}
	j->next_seq++;
	return 0;
}

int journal_forget(struct journal *j, enum jkind kind, const char *key)
{
	ssize_t i = find_idx(j, kind, key);
	if (i < 0)
		return -ENOENT;
	struct jentry saved = j->e[i];
	memmove(&j->e[i], &j->e[i + 1], (j->n - (size_t)i - 1) * sizeof(j->e[0]));
	j->n--;
	int rc = persist(j);
	if (rc < 0) {
		/* put it back where it was: the file still holds it */
		memmove(&j->e[i + 1], &j->e[i], (j->n - (size_t)i) * sizeof(j->e[0]));
		j->e[i] = saved;
		j->n++;
	}
	return rc;
}

void journal_close(struct journal *j)
{
	free(j->e);
	j->e = NULL;
	j->n = j->cap = 0;
}
