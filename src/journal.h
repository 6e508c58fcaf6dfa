/* journal.h - the state journal: the original value of every target before
 * overcommitd's first write to it (DESIGN §7.5).  Stored as JSON in
 * STATE_DIR/journal.json, replaced atomically (temp, fsync, rename). */
#ifndef OVERCOMMITD_JOURNAL_H
#define OVERCOMMITD_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

enum jkind {
	J_SYSCTL = 0,     /* key: sysctl name; original: file content */
	J_OOM_SCORE_ADJ,  /* key: pid; original: value (restored only if same start_time) */
	J_MEMORY_HIGH,    /* key: cgroup path; original: "max" or bytes */
	J_MEMORY_MAX,     /* key: cgroup path */
	J_CGROUP_ATTACH,  /* key: pid; original: previous cgroup path */
	J_CGROUP_CREATE,  /* key: cgroup path overcommitd created (rmdir on restore) */
};

struct jentry {
	enum jkind kind;
	char key[512];
	char original[512];
	int pid;
	uint64_t start_time;
	uint64_t seq;     /* order of first write; restore goes in reverse */
};

struct journal {
	char path[4096];
	struct jentry *e;
	size_t n, cap;
	uint64_t next_seq;
};

/* Load STATE_DIR/journal.json; a missing file is an empty journal.
 * -EINVAL on a corrupt journal (never overwritten silently). */
int journal_open(const char *state_dir, struct journal *j);
const struct jentry *journal_find(const struct journal *j, enum jkind kind, const char *key);
/* Add an entry if (kind,key) is not there yet, then persist atomically before
 * returning.  The original is only ever recorded once. */
int journal_record(struct journal *j, enum jkind kind, const char *key, const char *original,
		   int pid, uint64_t start_time);
/* Drop one entry (after it was restored) and persist. */
int journal_forget(struct journal *j, enum jkind kind, const char *key);
void journal_close(struct journal *j);
const char *journal_kind_name(enum jkind k); /* "sysctl", "oom_score_adj", ... */

#endif
