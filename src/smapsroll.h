/* smapsroll.h - /proc/PID/smaps_rollup (Linux 4.14+): one process's smaps
 * summed.  Still a page-table walk under the mmap lock (~9 ms per GiB):
 * the daemon reads it for a few sampled workers, rarely (workcache.h). */
#ifndef OVERCOMMITD_SMAPSROLL_H
#define OVERCOMMITD_SMAPSROLL_H

#include <stddef.h>
#include <stdint.h>
#include "roots.h"

struct smaps_rollup { /* KiB */
	uint64_t rss_kb;
	uint64_t anon_kb;          /* "Anonymous" */
	uint64_t private_dirty_kb; /* pages only this process maps, written: after a
	                              fork, its new pages and its copies of shared ones */
	uint64_t shared_dirty_kb;
};

/* The text of smaps_rollup (len bytes, no NUL needed).  Lines other than
 * "Key: N kB" with a known key are skipped; -EINVAL when Rss or
 * Private_Dirty is missing, a known key's value is malformed or above
 * 2^40 KiB, or a known key appears twice. */
int smaps_rollup_parse(const char *buf, size_t len, struct smaps_rollup *out);
/* Read (through the daemon's privileged reader when it runs: privsep.h)
 * and parse.  -ENOENT/-ESRCH: gone; -EACCES/-EPERM: not ours to read. */
int smaps_rollup_read(const struct roots *r, int pid, struct smaps_rollup *out);

#endif
