/* procfd.h - a process pinned by an fd on its /proc/PID directory, so the
 * identity check (pid + start time) and the write that follows reach the
 * same process even if it exits and its pid is reused in between: files
 * opened through the fd of a dead process fail (ESRCH/ENOENT), they never
 * reach the new owner of the pid (DESIGN §7.8). */
#ifndef OVERCOMMITD_PROCFD_H
#define OVERCOMMITD_PROCFD_H

#include <stddef.h>
#include <stdint.h>
#include "roots.h"

enum procfd_id { PROCFD_SAME = 0, PROCFD_GONE, PROCFD_REUSED };

/* Open procfs/PID and compare its start time (read through the fd) with
 * start.  PROCFD_SAME: *fd is open (the caller closes it); otherwise *fd
 * is -1.  -errno on other errors. */
int procfd_open(const struct roots *r, int pid, uint64_t start, int *fd);
/* Open procfs/PID only (no identity yet: the caller reads its stat
 * through the fd, proc_read_pinned).  PROCFD_SAME with *fd open, or
 * PROCFD_GONE; -errno on other errors. */
int procfd_pin(const struct roots *r, int pid, int *fd);
/* A process pinned by one who knows its start time (read through fd):
 * the applier's writes to pid with that start time use fd instead of
 * pinning it again (apply_plan_pinned).  The owner closes fd. */
struct procpin {
	int pid;
	uint64_t start;
	int fd;
};
/* pin names the process pid with start time start (pin may be NULL). */
int procpin_fd(const struct procpin *pin, int pid, uint64_t start);
/* Keep the pinned process's cgroup and oom_score_adj open while dfd is
 * used (this thread only): procfd_read/procfd_write on dfd then pread and
 * pwrite them.  procfd_release closes them; call it before closing dfd. */
void procfd_keep(int dfd);
void procfd_release(void);
/* Read / write a file of the pinned process; -ESRCH once it is gone. */
int procfd_read(int fd, const char *name, char *buf, size_t size);
int procfd_write(int fd, const char *name, const char *s);

#endif
