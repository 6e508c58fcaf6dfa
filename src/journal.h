/* journal.h - the state journal: the original value of every target before
 * overcommitd's first write to it (DESIGN §7.5, §7.11).  Stored as JSON in
 * STATE_DIR/journal.json, replaced atomically (temp, fsync, rename) in a
 * trusted directory (statedir.h), under the state directory's lock.  The
 * boot it was written in is recorded: after a reboot per-process entries
 * mean nothing and host values are only restored with a warning.
 * Per-process kinds (oom_score_adj, cgroup_attach) are appended to
 * STATE_DIR/journal.pids instead, one line, no fsync (journal_pids.h says
 * why); any rewrite of journal.json takes them over and empties it. */
#ifndef OVERCOMMITD_JOURNAL_H
#define OVERCOMMITD_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "statedir.h"

#define JOURNAL_FILE "journal.json"
#define JOURNAL_KEY_MAX 512        /* key and original, with their NUL */
/* Hard caps.  Per-process entries (oom_score_adj, cgroup_attach) stop at
 * JOURNAL_MAX_PROCESS_ENTRIES with -EDQUOT; host and cgroup entries have the
 * rest, so a journal full of processes never blocks a sysctl's original. */
#define JOURNAL_MAX_ENTRIES 16384
#define JOURNAL_MAX_PROCESS_ENTRIES 15360
#define JOURNAL_BOOT_ID_MAX 40     /* a UUID: 36 characters */

enum jkind {
	J_SYSCTL = 0,     /* key: sysctl name; original: file content */
	J_OOM_SCORE_ADJ,  /* key: pid; original: value (restored only if same start_time) */
	J_MEMORY_HIGH,    /* key: cgroup path; original: "max" or bytes */
	J_MEMORY_MAX,     /* key: cgroup path */
	J_CGROUP_ATTACH,  /* key: pid; original: previous cgroup path */
	J_CGROUP_CREATE,  /* key: cgroup path overcommitd created (rmdir on restore);
			   * original: where its processes came from ("" unknown) */
	J_CGROUP_SUBTREE, /* key: cgroup path; original: its cgroup.subtree_control
			   * before overcommitd wrote "+memory" into it */
	J_CGROUP_MOUNT,   /* key: a cgroup2 mount option (favordynmods); original:
			   * "on" or "off" (cgroupopt.h) */
};

struct jentry {
	enum jkind kind;
	const char *key;      /* one allocation: key, NUL, original, NUL */
	const char *original;
	int pid;
	uint64_t start_time;
	uint64_t seq;         /* order of first write; restore goes in reverse */
	bool earlier_boot;    /* recorded before the last reboot (host values only) */
	bool dropped;         /* gone from memory; compacted away at the next save */
};

struct journal {
	char path[PATH_BUF];  /* STATE_DIR/journal.json, for messages */
	char boot_id[JOURNAL_BOOT_ID_MAX];
	struct statedir sd;   /* dfd < 0: the directory does not exist yet */
	struct jentry *e;
	size_t n, cap;
	size_t nprocess;      /* live per-process entries (the cap counts these) */
	uint64_t next_seq;
	uint32_t *slot;       /* open addressing on (kind, key): index + 1, 0 empty */
	size_t nslot;
	bool dirty;           /* memory has drops the file does not have yet */
	dev_t dev;            /* the file last read or written (dev 0: none) */
	ino_t ino;
	size_t earlier_boot_pid;  /* per-process entries of an earlier boot, not loaded */
	size_t earlier_boot_host; /* host entries kept from an earlier boot */
	size_t pids_whole;    /* journal.pids: bytes of whole lines */
	size_t pids_size;     /* journal.pids: its size as last read or written */
	int pids_fd;          /* journal.pids open for appending (-1: not yet), kept */
	dev_t pids_dev;       /* the file pids_fd is on: dropped when the name */
	ino_t pids_ino;       /*   leads elsewhere (journal_relock) */
};

enum {
	JOURNAL_CREATE = 1,    /* journal_open: create the state directory */
	JOURNAL_READ_ONLY = 2, /* a reader (the one-shot reports): a shared lock, nothing
	                          created or removed; do not record, forget or save */
};

/* Open the trusted state directory, take its lock (waits) and load
 * journal.json; a missing file (or directory) is an empty journal.
 * boot_id: this boot's /proc/sys/kernel/random/boot_id.  A journal of
 * another boot keeps its host entries, marked earlier_boot; its
 * per-process entries are not loaded.  Leftover temp files of a killed
 * writer are removed.  -EINVAL on a corrupt journal (never overwritten);
 * -EPERM when the directory or file is not to be trusted (j->sd.why says
 * why).  The lock is held until journal_unlock or journal_close. */
int journal_open(const char *state_dir, const char *boot_id, unsigned flags, struct journal *j);
/* Release the lock (the daemon, between passes). */
void journal_unlock(struct journal *j);
/* Take the lock again and, after another process's exclusive lock (or
 * with entries dropped in memory), load the files anew whatever their
 * inode numbers (a failure leaves the lock released).  With the lock kept
 * (statedir_keep_lock: the daemon) one fstat of it decides; without, the
 * files are always read. */
int journal_relock(struct journal *j);

const struct jentry *journal_find(const struct journal *j, enum jkind kind, const char *key);
/* Add an entry if (kind,key) is not there yet, then persist before
 * returning (journal.json atomically; per-process kinds: one line appended
 * to journal.pids).  The original is only ever recorded once in a boot; an entry
 * of an earlier boot takes the value in force now instead.  -EDQUOT: the
 * entry cap (see above) is reached. */
int journal_record(struct journal *j, enum jkind kind, const char *key, const char *original,
		   int pid, uint64_t start_time);
/* Drop one entry (after it was restored, or its process exited) and
 * persist (per-process kinds: one line appended). */
int journal_forget(struct journal *j, enum jkind kind, const char *key);
/* Forget both per-process entries of process key (its oom_score_adj and
 * its cgroup) in one journal.pids write; -ENOENT when it has neither. */
int journal_forget_process(struct journal *j, const char *key);
/* Drop one entry from memory only: the file keeps it (restoring a value
 * twice is harmless) until journal_save.  -ENOENT when not there. */
int journal_drop(struct journal *j, enum jkind kind, const char *key);
/* Persist the drops; 0 when there were none. */
int journal_save(struct journal *j);
/* Fold journal.pids into journal.json once it holds more than max_bytes
 * (the daemon's periodic pass; never on the exec path). */
int journal_fold(struct journal *j, size_t max_bytes);
int journal_close(struct journal *j);
/* Entries in force (n also counts dropped ones until the next compaction). */
size_t journal_live(const struct journal *j);
const char *journal_kind_name(enum jkind k); /* "sysctl", "oom_score_adj", ... */

#endif
