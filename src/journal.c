/* journal.c - the state journal (see journal.h): JSON in STATE_DIR/journal.json,
 * {"version":1,"boot_id":"...","entries":[{"kind","key","original","pid",
 * "start_time","seq"[,"earlier_boot":true]}]}, one entry a line.
 * Every record is persisted (temp, fsync, rename) before the call returns, so
 * the file on disk is always at least as new as the kernel state it guards;
 * drops may lag (the file then holds a superset: restoring twice is harmless).
 * Lookups go through a hash of (kind, key): loading, recording and
 * restoring n entries is O(n), not O(n^2).  Per-process entries are
 * appended to journal.pids instead (journal_pids.h); loading replays it. */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <json-c/json.h>

#include "journal_pids.h"
#include "jsonstream.h"
#include "jsonval.h"
#include "textbuf.h"
#include "util.h"

#define JOURNAL_VERSION 1
#define JOURNAL_MAX_BYTES (64u << 20)    /* refuse to slurp anything bigger */

static const char *const kind_names[] = {
	[J_SYSCTL] = "sysctl",
	[J_OOM_SCORE_ADJ] = "oom_score_adj",
	[J_MEMORY_HIGH] = "memory_high",
	[J_MEMORY_MAX] = "memory_max",
	[J_CGROUP_ATTACH] = "cgroup_attach",
	[J_CGROUP_CREATE] = "cgroup_create",
	[J_CGROUP_SUBTREE] = "cgroup_subtree",
	[J_CGROUP_MOUNT] = "cgroup_mount",
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

/* ---- the index: open addressing over (kind, key), FNV-1a ---- */

static uint32_t hash_of(enum jkind kind, const char *key)
{
	uint32_t h = 2166136261u ^ (uint32_t)kind;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

static ssize_t find_idx(const struct journal *j, enum jkind kind, const char *key)
{
	if (!j->nslot)
		return -1;
	size_t mask = j->nslot - 1;
	for (size_t s = hash_of(kind, key) & mask;; s = (s + 1) & mask) {
		uint32_t v = j->slot[s];
		if (v == 0)
			return -1;
		const struct jentry *e = &j->e[v - 1];
		if (v - 1 < j->n && !e->dropped && e->kind == kind && strcmp(e->key, key) == 0)
			return (ssize_t)(v - 1);
	}
}

static void index_put(struct journal *j, size_t i)
{
	size_t mask = j->nslot - 1;
	size_t s = hash_of(j->e[i].kind, j->e[i].key) & mask;
	while (j->slot[s])
		s = (s + 1) & mask;
	j->slot[s] = (uint32_t)(i + 1);
}

/* Rebuild for the live entries, at most half full. */
static int index_rebuild(struct journal *j, size_t want)
{
	size_t n = 16;
	while (n < 2 * want)
		n *= 2;
	uint32_t *slot = calloc(n, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	free(j->slot);
	j->slot = slot;
	j->nslot = n;
	for (size_t i = 0; i < j->n; i++)
		if (!j->e[i].dropped)
			index_put(j, i);
	return 0;
}

static bool per_process(enum jkind k)
{
	return k == J_OOM_SCORE_ADJ || k == J_CGROUP_ATTACH;
}

static int compact(struct journal *j);

/* Room for one more entry of kind k (-EDQUOT past the caps when capped;
 * a journal being loaded is bounded by its size in bytes instead). */
static int grow(struct journal *j, enum jkind k, bool capped)
{
	if (capped && per_process(k) && j->nprocess >= JOURNAL_MAX_PROCESS_ENTRIES)
		return -EDQUOT;
	if (capped && j->n >= JOURNAL_MAX_ENTRIES && j->dirty) {
		int rc = compact(j);
		if (rc < 0)
			return rc;
	}
	if (capped && j->n >= JOURNAL_MAX_ENTRIES)
		return -EDQUOT;
	if (j->n == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 16;
		struct jentry *e = realloc(j->e, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		j->e = e;
		j->cap = cap;
	}
	if (2 * (j->n + 1) > j->nslot)
		return index_rebuild(j, j->n + 1);
	return 0;
}

static void entry_free(struct jentry *e)
{
	free((char *)(uintptr_t)e->key); /* key and original share one block */
	e->key = e->original = NULL;
}

static int entry_strings(struct jentry *e, const char *key, const char *original)
{
	size_t kl = strlen(key), ol = strlen(original);
	if (kl >= JOURNAL_KEY_MAX || ol >= JOURNAL_KEY_MAX)
		return -ENAMETOOLONG;
	char *b = malloc(kl + ol + 2);
	if (!b)
		return -ENOMEM;
	memcpy(b, key, kl + 1);
	memcpy(b + kl + 1, original, ol + 1);
	e->key = b;
	e->original = b + kl + 1;
	return 0;
}

/* Append e (strings already owned) and index it. */
static int append(struct journal *j, struct jentry *e, bool capped)
{
	int rc = grow(j, e->kind, capped);
	if (rc < 0)
		return rc;
	j->e[j->n] = *e;
	index_put(j, j->n);
	j->n++;
	if (per_process(e->kind))
		j->nprocess++;
	return 0;
}

/* Remove dropped entries from memory (the file may still hold them: dirty
 * stays until journal_save). */
static int compact(struct journal *j)
{
	size_t k = 0;
	for (size_t i = 0; i < j->n; i++) {
		if (j->e[i].dropped)
			entry_free(&j->e[i]);
		else
			j->e[k++] = j->e[i];
	}
	j->n = k;
	return index_rebuild(j, k);
}

static void mark_dropped(struct journal *j, size_t i, bool dropped)
{
	j->e[i].dropped = dropped;
	if (per_process(j->e[i].kind))
		j->nprocess += dropped ? (size_t)-1 : 1;
}

const struct jentry *journal_find(const struct journal *j, enum jkind kind, const char *key)
{
	ssize_t i = find_idx(j, kind, key);
	return i < 0 ? NULL : &j->e[i];
}

/* ---- the file ---- */

/* A JSON string member, not copied; -EINVAL if missing, not a string,
 * holding a NUL, or too long (never truncated: a truncated original would
 * restore a wrong value). */
static const char *get_str(struct json_object *o, const char *name)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	const char *s = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v);
	return strlen(s) != len || len >= JOURNAL_KEY_MAX ? NULL : s;
}

static int parse_entry(struct json_object *o, struct jentry *e)
{
	uint64_t pid, seq;
	struct json_object *eb;
	if (!json_object_is_type(o, json_type_object))
		return -EINVAL;
	const char *kind = get_str(o, "kind"), *key = get_str(o, "key");
	const char *orig = get_str(o, "original");
	if (!kind || kind_from_name(kind, &e->kind) < 0 || !key || !key[0] || !orig)
		return -EINVAL;
	if (jsonval_u64(o, "pid", INT_MAX, &pid) < 0 ||
	    jsonval_u64(o, "start_time", UINT64_MAX, &e->start_time) < 0)
		return -EINVAL;
	if (jsonval_u64(o, "seq", UINT64_MAX - 1, &seq) < 0 || seq == 0)
		return -EINVAL;
	if (json_object_object_get_ex(o, "earlier_boot", &eb)) {
		if (!json_object_is_type(eb, json_type_boolean))
			return -EINVAL;
		e->earlier_boot = json_object_get_boolean(eb);
	}
	e->pid = (int)pid;
	e->seq = seq;
	return entry_strings(e, key, orig) < 0 ? -EINVAL : 0;
}

/* Take entry e into j.  A duplicate target is corruption: which original
 * is true? */
static int take_entry(struct journal *j, struct jentry *e)
{
	if (find_idx(j, e->kind, e->key) >= 0 || append(j, e, false) < 0) {
		entry_free(e);
		return -EINVAL;
	}
	return 0;
}

/* A journal of another boot: its per-process entries go (their pids and
 * start times mean nothing now), its host entries stay, marked. */
static int from_other_boot(struct journal *j)
{
	for (size_t i = 0; i < j->n; i++) {
		if (per_process(j->e[i].kind)) {
			mark_dropped(j, i, true);
			j->earlier_boot_pid++;
		} else {
			j->e[i].earlier_boot = true;
		}
	}
	j->dirty = true; /* the next save rewrites it for this boot */
	return compact(j);
}

struct doc {
	struct journal *j;
	bool version_ok, boot_seen;
	char boot[JOURNAL_BOOT_ID_MAX];
	uint64_t maxseq;
};

static int doc_member(const char *name, struct json_object *v, void *arg)
{
	struct doc *d = arg;
	if (strcmp(name, "version") == 0) {
		d->version_ok = json_object_is_type(v, json_type_int) &&
				json_object_get_int64(v) == JOURNAL_VERSION;
	} else if (strcmp(name, "boot_id") == 0) {
		if (!json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) >= JOURNAL_BOOT_ID_MAX)
			return -EINVAL;
		snprintf(d->boot, sizeof(d->boot), "%s", json_object_get_string(v));
		d->boot_seen = true;
	}
	return 0; /* other members: ignored, as json-c objects always were */
}

static int doc_entry(struct json_object *v, void *arg)
{
	struct doc *d = arg;
	struct jentry e;
	memset(&e, 0, sizeof(e));
	int rc = parse_entry(v, &e);
	if (rc == 0 && e.seq > d->maxseq)
		d->maxseq = e.seq;
	return rc == 0 ? take_entry(d->j, &e) : rc;
}

/* The document is walked entry by entry (jsonstream.h): memory is the
 * entries themselves, never a json-c tree of all of them. */
static int parse_doc(const char *buf, size_t len, struct journal *j)
{
	struct doc d = { .j = j };
	size_t guess = len / 96; /* an entry line is ~100 bytes: size the index once */
	int rc = index_rebuild(j, guess < 16 ? 16 : guess);
	if (rc == 0)
		rc = jsonstream_object(buf, len, "entries", doc_member, doc_entry, &d);
	if (rc == -ENOMEM)
		return rc;
	if (rc != 1 || !d.version_ok) /* "entries" must be there, even empty */
		return -EINVAL;
	j->next_seq = d.maxseq + 1;
	/* a journal written before boot ids were kept: another boot (the safe side) */
	if (!d.boot_seen || strcmp(d.boot, j->boot_id) != 0)
		rc = from_other_boot(j);
	for (size_t i = 0; rc >= 0 && i < j->n; i++)
		j->earlier_boot_host += j->e[i].earlier_boot;
	return rc < 0 ? rc : 0;
}

/* ---- journal.pids ---- */

/* One journal.pids line over what is loaded: the last word on a pid wins. */
static int replay_op(const struct jpids_op *op, void *arg)
{
	struct journal *j = arg;
	ssize_t i = find_idx(j, op->kind, op->key);
	if (i >= 0)
		mark_dropped(j, (size_t)i, true);
	if (!op->add)
		return 0;
	struct jentry e = { .kind = op->kind, .pid = op->pid, .start_time = op->start_time,
			    .seq = op->seq };
	if (entry_strings(&e, op->key, op->original) < 0)
		return -EINVAL;
	if (e.seq >= j->next_seq)
		j->next_seq = e.seq + 1;
	return take_entry(j, &e);
}

/* Entries of another boot's journal.pids, counted, not loaded. */
static int count_op(const struct jpids_op *op, void *arg)
{
	size_t *n = arg;
	if (op->add)
		(*n)++;
	else if (*n)
		(*n)--;
	return 0;
}

/* Replay journal.pids over journal.json.  Lines of another boot are not
 * loaded (their pids mean nothing now); the next rewrite drops them. */
static int replay_pids(struct journal *j)
{
	char *buf, boot[JPIDS_BOOT_MAX];
	j->pids_whole = j->pids_size = 0;
	ssize_t len = statedir_read(&j->sd, JPIDS_FILE, JOURNAL_MAX_BYTES, &buf);
	if (len == -ENOENT)
		return 0;
	if (len < 0)
		return len == -EFBIG ? -EINVAL : (int)len;
	size_t whole, other = 0;
	int rc = jpids_parse(buf, (size_t)len, boot, sizeof(boot), &whole, count_op, &other);
	if (rc == 0 && whole && strcmp(boot, j->boot_id) != 0) {
		j->earlier_boot_pid += other;
		j->dirty = true;
		whole = 0; /* the next append starts the file afresh */
	} else if (rc == 0) {
		rc = jpids_parse(buf, (size_t)len, boot, sizeof(boot), &whole, replay_op, j);
	}
	free(buf);
	if (rc == 0) {
		j->pids_whole = whole;
		j->pids_size = (size_t)len;
		rc = compact(j);
	}
	return rc;
}

/* Load journal.json (the lock is held): the file's identity is remembered
 * so journal_relock sees another process's replacement. */
static int load(struct journal *j)
{
	char *buf;
	struct stat st;
	j->dev = 0;
	j->ino = 0;
	ssize_t len = statedir_read(&j->sd, JOURNAL_FILE, JOURNAL_MAX_BYTES, &buf);
	if (len == -ENOENT)
		return replay_pids(j); /* no journal.json: processes only, or nothing */
	/* unreadable or oversized: refuse rather than start a new one over it */
	if (len < 0)
		return len == -EFBIG ? -EINVAL : (int)len;
	int rc = parse_doc(buf, (size_t)len, j);
	free(buf);
	if (rc == 0 && fstatat(j->sd.dfd, JOURNAL_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		j->dev = st.st_dev;
		j->ino = st.st_ino;
	}
	return rc == 0 ? replay_pids(j) : rc;
}

static void clear_entries(struct journal *j)
{
	for (size_t i = 0; i < j->n; i++)
		entry_free(&j->e[i]);
	free(j->e);
	free(j->slot);
	j->e = NULL;
	j->slot = NULL;
	j->n = j->cap = j->nslot = j->nprocess = 0;
	j->earlier_boot_pid = j->earlier_boot_host = 0;
	j->pids_whole = j->pids_size = 0;
	j->dirty = false;
	j->next_seq = 1;
}

int journal_open(const char *state_dir, const char *boot_id, unsigned flags, struct journal *j)
{
	memset(j, 0, sizeof(*j));
	j->sd.dfd = j->sd.lockfd = j->pids_fd = -1;
	j->next_seq = 1;
	int rc = path_join(j->path, sizeof(j->path), state_dir, JOURNAL_FILE);
	if (rc == 0 && strlen(boot_id) >= sizeof(j->boot_id))
		rc = -EINVAL;
	if (rc < 0)
		return rc;
	snprintf(j->boot_id, sizeof(j->boot_id), "%s", boot_id);
	bool ro = flags & JOURNAL_READ_ONLY;
	rc = statedir_open(state_dir, !ro && (flags & JOURNAL_CREATE), &j->sd);
	if (rc == -ENOENT && (ro || !(flags & JOURNAL_CREATE)))
		return 0; /* no state directory: nothing was ever changed */
	if (rc == 0)
		rc = ro ? statedir_lock_shared(&j->sd) : statedir_lock(&j->sd);
	if (rc == 0 && !ro) {
		int cl = statedir_clean(&j->sd, JOURNAL_FILE);
		rc = cl < 0 ? cl : 0;
	}
	/* a killed daemon's learned.json/refusals.json temps: best effort, one
	 * that cannot go now goes at the next open, never blocking a restore */
	if (rc == 0)
		(void)statedir_clean_gone(&j->sd);
	if (rc == 0)
		rc = load(j);
	if (rc < 0)
		clear_entries(j); /* j->path and j->sd.why stay, for messages */
	return rc;
}

/* Close the kept journal.pids fd: what close() reports is the last word on
 * lines written without fsync (NFS reports a failed write-back there). */
static int pids_drop_fd(struct journal *j)
{
	if (j->pids_fd < 0)
		return 0;
	int rc = close(j->pids_fd) < 0 ? -errno : 0;
	j->pids_fd = -1;
	return rc;
}

void journal_unlock(struct journal *j)
{
	statedir_unlock(&j->sd);
}

int journal_relock(struct journal *j)
{
	if (j->sd.dfd < 0)
		return 0;
	int rc = statedir_lock(&j->sd);
	if (rc < 0)
		return rc;
	int others = statedir_others_wrote(&j->sd);
	if (others < 0)
		return others;
	if (others == 0 && !j->dirty)
		return 0; /* the daemon's lock: one fstat said nobody else locked */
	/* Another process locked since: the files are read again whatever
	 * their inode numbers say.  ext4 gives a freed inode number to the
	 * next new file, so a journal.json replaced twice (restore, then
	 * apply) could come back under the number this process knew, and a
	 * daemon that trusted it wrote over the originals `apply` recorded
	 * (tests/cli/test_concurrent.sh, 2 runs in 14 before round 8).  The
	 * kept journal.pids fd goes too: a line written to a replaced file
	 * would be lost to a restore. */
	if (others)
		(void)pids_drop_fd(j); /* nothing was written through it since the last lock */
	clear_entries(j);
	rc = load(j);
	if (rc < 0) {
		clear_entries(j);
		j->sd.gen = -1; /* read again at the next lock, whatever the generation */
		statedir_unlock(&j->sd);
	}
	return rc;
}

/* One entry as a JSON line (json-c escapes the strings). */
static int put_entry(FILE *f, const struct jentry *e, bool first)
{
	struct json_object *o = json_object_new_object();
	int rc = o ? 0 : -ENOMEM;
	if (rc == 0)
		rc = jsonval_add(o, "kind", json_object_new_string(kind_names[e->kind]));
	if (rc == 0)
		rc = jsonval_add(o, "key", json_object_new_string(e->key));
	if (rc == 0)
		rc = jsonval_add(o, "original", json_object_new_string(e->original));
	if (rc == 0)
		rc = jsonval_add(o, "pid", json_object_new_int(e->pid));
	if (rc == 0)
		rc = jsonval_add(o, "start_time", json_object_new_uint64(e->start_time));
	if (rc == 0)
		rc = jsonval_add(o, "seq", json_object_new_uint64(e->seq));
	if (rc == 0 && e->earlier_boot)
		rc = jsonval_add(o, "earlier_boot", json_object_new_boolean(1));
	const char *s = rc == 0 ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								    JSON_C_TO_STRING_NOSLASHESCAPE)
				: NULL;
	if (rc == 0 && (!s || fprintf(f, "%s\n    %s", first ? "" : ",", s) < 0))
		rc = -ENOMEM;
	json_object_put(o);
	return rc;
}

/* First write ever: create the directory, lock it. */
static int ensure_dir(struct journal *j)
{
	if (j->sd.dfd >= 0)
		return 0;
	char dir[sizeof(j->sd.path)];
	snprintf(dir, sizeof(dir), "%s", j->sd.path);
	bool keep = j->sd.keep;
	int rc = statedir_open(dir, true, &j->sd);
	if (rc == 0 && keep)
		statedir_keep_lock(&j->sd);
	return rc < 0 ? rc : statedir_lock(&j->sd);
}

/* Entry e's journal.pids line (added or dropped) at buf + *len; the
 * boot line first when the file starts afresh (*len == 0 then). */
static int format_line(const struct journal *j, bool add, const struct jentry *e, char *buf,
		       size_t size, size_t *len)
{
	/* the exec path: no printf, and op's buffers are filled, not zeroed */
	struct jpids_op op;
	op.add = add;
	op.kind = e->kind;
	op.pid = e->pid;
	op.start_time = e->start_time;
	op.seq = e->seq;
	tb_set_str(op.original, sizeof(op.original), e->original);
	tb_set_i64(op.key, sizeof(op.key), e->pid);
	if (strcmp(op.key, e->key) != 0)
		return -EINVAL; /* a per-process entry is keyed by its pid */
	int b = 0;
	if (*len == 0 && j->pids_whole == 0 && (b = jpids_boot_line(j->boot_id, buf, size)) < 0)
		return b;
	*len += (size_t)b;
	int n = jpids_format(&op, buf + *len, size - *len);
	if (n < 0)
		return n;
	*len += (size_t)n;
	return 0;
}

/* Whole lines to journal.pids in one write() through the kept fd. */
static int write_lines(struct journal *j, const char *buf, size_t len)
{
	int rc = ensure_dir(j);
	if (rc < 0)
		return rc;
	if (j->pids_fd < 0 &&
	    (rc = jpids_open(j->sd.dfd, &j->pids_fd, &j->pids_dev, &j->pids_ino)) < 0)
		return rc;
	bool cut = j->pids_size != j->pids_whole;
	size_t base = cut ? j->pids_whole : j->pids_size, took;
	rc = jpids_write(j->pids_fd, buf, len, cut, j->pids_whole, &took);
	if (rc == 0 || took > 0) /* O_APPEND, under the lock: the size is ours to know */
		j->pids_size = base + took;
	if (rc == 0)
		j->pids_whole = j->pids_size;
	return rc;
}

/* One journal.pids line for entry e (added or dropped); a file that is
 * empty, torn in its first line or of another boot starts afresh. */
static int append_line(struct journal *j, bool add, const struct jentry *e)
{
	char line[JPIDS_BOOT_MAX + 8 + JPIDS_LINE_MAX];
	size_t len = 0;
	int rc = format_line(j, add, e, line, sizeof(line), &len);
	return rc < 0 ? rc : write_lines(j, line, len);
}

int journal_forget_process(struct journal *j, const char *key)
{
	static const enum jkind kinds[] = { J_OOM_SCORE_ADJ, J_CGROUP_ATTACH };
	char buf[JPIDS_BOOT_MAX + 8 + 2 * JPIDS_LINE_MAX];
	ssize_t idx[2];
	size_t len = 0;
	for (size_t k = 0; k < 2; k++) {
		idx[k] = find_idx(j, kinds[k], key);
		int rc = idx[k] < 0 ? 0 : format_line(j, false, &j->e[idx[k]], buf, sizeof(buf), &len);
		if (rc < 0)
			return rc;
	}
	if (len == 0)
		return -ENOENT;
	int rc = write_lines(j, buf, len);
	for (size_t k = 0; rc == 0 && k < 2; k++)
		if (idx[k] >= 0)
			mark_dropped(j, (size_t)idx[k], true);
	return rc;
}

/* journal.json now holds every entry: the appended lines are redundant.
 * Kept if emptying fails (a replay over journal.json ends the same). */
static void pids_taken_over(struct journal *j)
{
	if (jpids_truncate(j->sd.dfd) == 0)
		j->pids_whole = j->pids_size = 0;
}

static int persist(struct journal *j)
{
	char *doc = NULL, boot[JOURNAL_BOOT_ID_MAX * 2 + 8];
	size_t len = 0;
	int rc = 0;
	if ((rc = ensure_dir(j)) < 0)
		return rc;
	FILE *f = open_memstream(&doc, &len);
	if (!f)
		return -ENOMEM;
	struct json_object *b = json_object_new_string(j->boot_id);
	snprintf(boot, sizeof(boot), "%s", b ? json_object_to_json_string(b) : "\"\"");
	json_object_put(b);
	fprintf(f, "{\n  \"version\": %d,\n  \"boot_id\": %s,\n  \"entries\": [\n    ",
		JOURNAL_VERSION, boot);
	bool first = true;
	for (size_t i = 0; rc == 0 && i < j->n; i++) {
		if (j->e[i].dropped)
			continue;
		rc = put_entry(f, &j->e[i], first);
		first = false;
	}
	fputs("\n  ]\n}\n", f);
	if (fclose(f) != 0 && rc == 0)
		rc = -ENOMEM;
	if (rc == 0)
		rc = statedir_write(&j->sd, JOURNAL_FILE, doc, len, 0600);
	free(doc);
	struct stat st;
	if (rc == 0 && fstatat(j->sd.dfd, JOURNAL_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		j->dev = st.st_dev;
		j->ino = st.st_ino;
	}
	if (rc == 0)
		pids_taken_over(j);
	return rc;
}

/* An entry of an earlier boot for a target written again now: the value in
 * force in this boot is the original (the reboot put the host's own back). */
static int renew(struct journal *j, size_t i, const char *original, int pid, uint64_t start_time)
{
	struct jentry old = j->e[i], e = old;
	int rc = entry_strings(&e, old.key, original);
	if (rc < 0)
		return rc;
	e.earlier_boot = false;
	e.pid = pid;
	e.start_time = start_time;
	e.seq = j->next_seq;
	j->e[i] = e;
	rc = persist(j);
	if (rc < 0) {
		entry_free(&j->e[i]);
		j->e[i] = old;
		return rc;
	}
	entry_free(&old);
	j->earlier_boot_host--;
	j->next_seq++;
	return 0;
}

int journal_record(struct journal *j, enum jkind kind, const char *key, const char *original,
		   int pid, uint64_t start_time)
{
	if (!kind_valid(kind) || !key || !original || key[0] == '\0' || pid < 0)
		return -EINVAL;
	ssize_t old = find_idx(j, kind, key);
	if (old >= 0 && j->e[old].earlier_boot)
		return renew(j, (size_t)old, original, pid, start_time);
	if (old >= 0)
		return 0; /* the first original wins: later ones are our own values */
	struct jentry e = { .kind = kind, .pid = pid, .start_time = start_time,
			    .seq = j->next_seq };
	int rc = entry_strings(&e, key, original);
	if (rc < 0)
		return rc;
	rc = append(j, &e, true);
	if (rc < 0) {
		entry_free(&e);
		return rc;
	}
	rc = per_process(kind) ? append_line(j, true, &j->e[j->n - 1]) : persist(j);
	if (rc < 0) {
		/* memory and disk must agree */
		mark_dropped(j, j->n - 1, true);
		entry_free(&j->e[j->n - 1]);
		j->n--;
		index_rebuild(j, j->n);
		return rc;
	}
	j->next_seq++;
	return 0;
}

int journal_drop(struct journal *j, enum jkind kind, const char *key)
{
	ssize_t i = find_idx(j, kind, key);
	if (i < 0)
		return -ENOENT;
	if (j->e[i].earlier_boot)
		j->earlier_boot_host--;
	mark_dropped(j, (size_t)i, true);
	j->dirty = true;
	return 0;
}

int journal_save(struct journal *j)
{
	if (!j->dirty)
		return 0;
	int rc = persist(j);
	if (rc < 0)
		return rc;
	j->dirty = false;
	return compact(j);
}

int journal_forget(struct journal *j, enum jkind kind, const char *key)
{
	ssize_t i = find_idx(j, kind, key);
	if (i < 0)
		return -ENOENT;
	bool was_dirty = j->dirty;
	if (per_process(kind)) {
		int rc = append_line(j, false, &j->e[i]);
		if (rc == 0)
			mark_dropped(j, (size_t)i, true);
		return rc;
	}
	journal_drop(j, kind, key);
	int rc = journal_save(j);
	if (rc < 0) {
		/* the file still holds it: so does memory */
		mark_dropped(j, (size_t)i, false);
		if (j->e[i].earlier_boot)
			j->earlier_boot_host++;
		j->dirty = was_dirty;
	}
	return rc;
}

int journal_fold(struct journal *j, size_t max_bytes)
{
	if (j->pids_size <= max_bytes)
		return 0;
	j->dirty = true;
	return journal_save(j);
}

size_t journal_live(const struct journal *j)
{
	size_t n = 0;
	for (size_t i = 0; i < j->n; i++)
		n += !j->e[i].dropped;
	return n;
}

int journal_close(struct journal *j)
{
	int rc = pids_drop_fd(j);
	clear_entries(j);
	statedir_close(&j->sd);
	return rc;
}
