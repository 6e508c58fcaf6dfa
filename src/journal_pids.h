/* journal_pids.h - the append-only record of per-process originals
 * (oom_score_adj, the cgroup a process came from) beside journal.json.
 *
 * Why not the fsync'd journal: such an original dies with its process, and
 * every process dies with the host, so an fsync protects nothing a host
 * crash leaves to restore.  What must survive is a crash of the daemon
 * alone: a write() into the page cache does.  One line per change, one
 * write() per line, no fsync, no rewrite (issue 12):
 *   "+ KIND PID START_TIME SEQ ORIGINAL\n"   an original recorded
 *   "- KIND PID\n"                           an entry dropped
 * The full journal rewrite (journal.c) embeds every entry and empties this
 * file, so replaying it over journal.json always ends in the true state. */
#ifndef OVERCOMMITD_JOURNAL_PIDS_H
#define OVERCOMMITD_JOURNAL_PIDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "journal.h"

#define JPIDS_FILE "journal.pids"
#define JPIDS_LINE_MAX 640
#define JPIDS_BOOT_MAX 40

struct jpids_op {
	bool add;
	enum jkind kind;
	int pid;
	uint64_t start_time, seq;          /* when add */
	char key[16];                      /* the pid, as the journal keys it */
	char original[JOURNAL_KEY_MAX];    /* when add */
};

/* Kinds kept in this file rather than in journal.json's rewrites. */
bool jpids_kind(enum jkind k);
/* One line for op (with its '\n'); its length or -EINVAL (an original with
 * a newline, a kind not kept here). */
int jpids_format(const struct jpids_op *op, char *buf, size_t size);
/* The boot line of buf (its first complete line) into boot (size >= 40);
 * -EINVAL when buf has whole lines but not that one first. */
/* Every complete line of buf after the boot line, in order, to fn.  A line with a NUL byte
 * (blocks a host crash never wrote) is skipped; a final line without '\n'
 * (a write cut short) is not a line: *whole is where it starts, so the
 * next append can cut it off.  A complete line that is not one of ours:
 * -EINVAL. */
int jpids_parse(const char *buf, size_t len, char *boot, size_t bootsize, size_t *whole,
		int (*fn)(const struct jpids_op *op, void *arg), void *arg);
/* "boot ID\n" for an empty file's first line; length or -EINVAL. */
int jpids_boot_line(const char *boot_id, char *buf, size_t size);
/* Open JPIDS_FILE in directory dfd for appending (O_APPEND, created mode
 * 0600, never through a symlink) and say which file it is: the caller
 * keeps the fd for every later line and drops it when the name no longer
 * leads to (dev, ino) - one write() per line, no open/fstat/close each. */
int jpids_open(int dfd, int *fd, dev_t *dev, ino_t *ino);
/* Append len bytes to the file open on fd in one write() (no fsync).  With
 * cut, the file is first cut to keep bytes (a torn last line dropped: a
 * line glued onto it could read as a different original).  *written: the
 * bytes the write took (a short write leaves a torn line: -EIO). */
int jpids_write(int fd, const char *line, size_t len, bool cut, size_t keep, size_t *written);
/* Empty the file after journal.json took over its content (missing: 0). */
int jpids_truncate(int dfd);

#endif
