/* privsep.h - the daemon's reader of other users' /proc files (DESIGN
 * "Privilege separation").
 *
 * Reading /proc/PID/exe, maps and smaps of a process of another uid (or of
 * a root process with more capabilities) needs CAP_SYS_PTRACE; with it and
 * uid 0 a process can also open any /proc/PID/mem read-write.  So no
 * process of the daemon holds both: the daemon (the writer: uid 0,
 * DAC_OVERRIDE + SYS_RESOURCE) forks at start a reader that becomes uid
 * 65534 with only SYS_PTRACE, no-new-privs and a seccomp filter that lets
 * it open files read-only, readlink, and talk on its socket - nothing else.
 * The two speak a fixed-size protocol over a SOCK_SEQPACKET socketpair: the
 * writer asks (pid, name) with name from a fixed list; the reader answers
 * with an O_RDONLY descriptor (SCM_RIGHTS: the permission check is made at
 * open, the writer reads it) or a link target.
 *
 * Without privsep_start() (the one-shot commands, tests) the same calls
 * open and readlink directly under the roots' procfs. */
#ifndef OVERCOMMITD_PRIVSEP_H
#define OVERCOMMITD_PRIVSEP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "roots.h"

/* the uid and gid the reader runs as (the kernel's overflow id, "nobody") */
#define PRIVSEP_READER_ID 65534u

/* Fork the reader.  It keeps r's procfs; its capabilities and filter are
 * in place before this returns 0 in the daemon (the reader reports ready).
 * Call before any thread exists and before the daemon's own privs_drop().
 * -errno on failure (-EPERM: no CAP_SETUID/SETGID/SETPCAP/SYS_PTRACE). */
int privsep_start(const struct roots *r);
/* Close the channel and reap the reader. */
void privsep_stop(void);
/* The reader's pid, or 0 when not running. */
pid_t privsep_reader_pid(void);
/* The reader was started and has died (or hung and was killed): every call
 * now fails with -ECONNRESET; the daemon exits and is restarted. */
bool privsep_lost(void);
/* The daemon's end of the channel (-1 when not running), for its poll set
 * with events 0: POLLHUP there means the reader died between requests;
 * privsep_hangup() then marks the channel lost (the next loop turn exits). */
int privsep_fd(void);
void privsep_hangup(void);

/* /proc/PID/<name> opened O_RDONLY|O_CLOEXEC; name is "maps", "smaps" or
 * "smaps_rollup".  A descriptor, or -errno (-ENOENT: the process is gone,
 * -EINVAL: a name not in the list). */
int privsep_open_pid(const struct roots *r, int pid, const char *name);
/* readlink of /proc/PID/<name> (name "exe") into buf, NUL-terminated;
 * its length, or -errno (-ENAMETOOLONG when it does not fit). */
ssize_t privsep_readlink_pid(const struct roots *r, int pid, const char *name, char *buf,
			     size_t size);
/* privsep_open_pid + read: at most cap - 1 bytes and a NUL; the length or
 * -errno (-EFBIG when the file is longer). */
ssize_t privsep_read_file(const struct roots *r, int pid, const char *name, char *buf, size_t cap);

#endif
