/* statedir.h - a directory overcommitd keeps files in (the state directory,
 * the metrics file's directory), trusted only when the agent's own user
 * (root, in production) owns it and nobody else can write it (DESIGN §7.11).
 * Every file is opened relative to the directory's fd, never through a
 * symlink; a replacement is written to a temp file created O_EXCL, then
 * renamed.  A lock file serialises the daemon and the one-shot commands.
 *
 * The lock file's size is a generation: every exclusive lock but the
 * daemon's grows it by one (a sparse file: no block is ever written), so
 * the daemon, which keeps what it read between its locks, learns from one
 * fstat of its kept lock fd whether another process may have written since
 * (statedir_others_wrote) - not two fstatat of the files and an open and a
 * close of the lock file per held lock. */
#ifndef OVERCOMMITD_STATEDIR_H
#define OVERCOMMITD_STATEDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "util.h"

#define STATEDIR_LOCK_FILE "lock"

struct statedir {
	int dfd;            /* the directory, O_DIRECTORY|O_NOFOLLOW; -1 when closed */
	int lockfd;         /* the lock file while locked (and between locks when kept), else -1 */
	bool locked;
	bool keep;          /* statedir_keep_lock: the long-lived writer (the daemon) */
	off_t gen;          /* keep: the lock file's size at the last lock; -1 unknown */
	char path[PATH_BUF];
	char why[400];      /* after -EPERM: what was refused and why, for the message */
};

/* Open the directory at path; create (mkdir -p, the last component 0700)
 * when create is set and it is missing.  -EPERM (sd->why set) when it or a
 * directory above it is not to be trusted; -ENOENT when missing and not
 * created. */
int statedir_open(const char *path, bool create, struct statedir *sd);
void statedir_close(struct statedir *sd);

/* Exclusive flock on STATEDIR_LOCK_FILE; waits.  Unlock is idempotent. */
/* A shared lock for a reader that writes nothing (the one-shot reports):
 * the lock file is opened read-only and never created (none: the directory
 * itself is locked), so writers' replacements are not seen half done. */
int statedir_lock_shared(struct statedir *sd);
int statedir_lock(struct statedir *sd);
void statedir_unlock(struct statedir *sd);

/* From now on this process keeps the lock file open between its locks and
 * does not grow the generation (nobody else keeps what it read). */
void statedir_keep_lock(struct statedir *sd);

/* Locked and kept: did another process lock exclusively (and so maybe
 * write) since this one's previous lock?  One fstat: 1 yes, 0 no.  A lock
 * file removed meanwhile (nlink 0: others lock a new one) is opened and
 * locked anew and counts as yes (-errno, not locked: that failed); so does
 * not knowing (not kept, the first time, an error). */
int statedir_others_wrote(struct statedir *sd);

/* Read name whole (at most max bytes, NUL-terminated, malloc'd) when it is a
 * regular file owned by the agent's user and not group/world writable.
 * -ENOENT: absent; -EPERM (sd->why set): refused; -EFBIG: larger than max. */
ssize_t statedir_read(struct statedir *sd, const char *name, size_t max, char **out);

/* Replace name atomically: name.tmp.PID created O_EXCL|O_NOFOLLOW in the
 * directory, fchmod to mode, written, fsync, renamed over name, directory
 * fsync'd.  A leftover temp of our own pid (an earlier process) is removed
 * first, never followed. */
int statedir_write(struct statedir *sd, const char *name, const char *data, size_t len,
		   unsigned mode);

/* Remove name.tmp.<digits> files a killed writer left (call with the lock
 * held, so no live writer owns one).  Only that exact pattern, only in this
 * directory.  Returns how many were removed or -errno. */
int statedir_clean(struct statedir *sd, const char *name);

/* The same for every file of the directory, but only where the writer
 * (the pid in the temp name) is gone: learned.json and refusals.json are
 * replaced by the daemon without the lock, so a running daemon's temp
 * stays.  Returns how many were removed or -errno. */
int statedir_clean_gone(struct statedir *sd);

#endif
