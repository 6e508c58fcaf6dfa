/* apply_util.h - helpers shared by the applier's files (not a public API). */
#ifndef OVERCOMMITD_APPLY_UTIL_H
#define OVERCOMMITD_APPLY_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include "apply.h"

/* The longest value a target holds ("max", a byte count, an integer). */
#define AP_VAL_MAX 64

enum ap_identity { AP_ID_SAME = 0, AP_ID_GONE, AP_ID_REUSED };

void ap_set(struct apply_result *res, enum apply_status st, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same with detail = the strings given, up to a NULL, joined: without
 * printf, for the exec path (textbuf.h). */
void ap_set_text(struct apply_result *res, enum apply_status st, int err, ...)
	__attribute__((sentinel));
/* Read a small kernel file with trailing whitespace removed. */
int ap_read_value(const char *path, char *buf, size_t size);
/* Write "value\n" in one write() (kernel files strip the newline; fixture
 * files then look exactly like the kernel's). */
int ap_write_value(const char *path, const char *value);
/* Is pid still the process that started at start?  AP_ID_* or -errno. */
int ap_identity(const struct roots *r, int pid, uint64_t start);
/* cgroupfs + cg (+ "/" + file when file != NULL); -EINVAL for a path that is
 * not absolute or holds a ".." component (it must stay inside cgroupfs). */
int ap_cgroup_path(const struct roots *r, const char *cg, const char *file, char *out,
		   size_t size);
/* Journal the original of a per-process target; an entry left for an older
 * process with the same pid (different start time) is dropped first. */
int ap_journal_pid(struct journal *j, enum jkind kind, int pid, uint64_t start,
		   const char *original);

#endif
