/* util.h - strict number/size parsing and whole-file I/O shared by every module.
 * All functions return 0 (or a byte count) on success and a negative errno on
 * failure; none prints. */
#ifndef OVERCOMMITD_UTIL_H
#define OVERCOMMITD_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <limits.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define KB_PER_MB ((uint64_t)1024)
#define KB_PER_GB ((uint64_t)1024 * 1024)
/* A path buffer: a root (--procfs, --cgroupfs, a state directory) and a path under it. */
#define PATH_BUF PATH_MAX

/* Whole decimal integer, optional surrounding whitespace, range checked.
 * -EINVAL: not a number / trailing junk; -ERANGE: outside [min,max]. */
int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
int parse_u64(const char *s, uint64_t max, uint64_t *out);

/* Sizes: "512" (KiB, like the vm.* sysctls), "64K", "128M", "2G", "1T"
 * (binary; "MiB"/"MB" spellings accepted), "4096B" bytes. Result in KiB. */
int parse_size_kb(const char *s, uint64_t *kb);
/* Percent: "90%", "12.5%" -> basis points (9000, 1250). -EINVAL without '%'. */
int parse_percent_bp(const char *s, uint32_t max_bp, uint32_t *bp);
/* yes/no/true/false/on/off/1/0, case-insensitive. */
int parse_bool(const char *s, bool *out);

/* Read a whole (small) file into buf, NUL-terminated; returns length or -errno.
 * -EFBIG when the file does not fit. */
ssize_t read_file(const char *path, char *buf, size_t size);
/* A whole file of unknown size up to max bytes into *out (malloc'd,
 * NUL-terminated; the caller frees).  Returns the length, -EFBIG when the
 * file is larger than max, or -errno (*out is then NULL). */
ssize_t read_file_alloc(const char *path, size_t max, char **out);
/* Same with the path built from a root and a relative path. */
ssize_t read_file_at(const char *root, const char *rel, char *buf, size_t size);
/* Write the whole string with one write(), check write() and close().
 * O_WRONLY|O_TRUNC without O_CREAT: kernel files exist already. */
int write_file(const char *path, const char *s);
/* Can this file be opened for writing?  Opens O_WRONLY without O_TRUNC and
 * closes it, writing nothing (a start-up self-test of permissions). */
int open_writable(const char *path);
/* Atomic replace: temp file in the same directory, fsync, rename, fsync dir. */
int write_file_atomic(const char *path, const char *data, size_t len, unsigned mode);

/* Is path a directory (following links)? */
bool dir_exists(const char *path);

/* Is word one of the items of list, separated by blanks, newlines or
 * commas?  (cgroup.controllers, /sys/kernel/cgroup/features, mount
 * options.) */
bool list_has_word(const char *list, const char *word);

/* snprintf into dst with truncation reported as -ENAMETOOLONG. */
int path_join(char *dst, size_t size, const char *root, const char *rel);

/* CLOCK_MONOTONIC in ns (event times, read timeouts). */
uint64_t mono_ns(void);
/* CLOCK_MONOTONIC_COARSE in ns: the last tick's time (1-10 ms steps), read
 * in the vDSO whatever the clocksource; CLOCK_MONOTONIC falls back to a
 * system call where the clocksource has no vDSO read (a TCG guest's). */
uint64_t mono_coarse_ns(void);

/* Human size for reports: "1.5 GiB", "640 MiB", "12 KiB" (from KiB). */
const char *fmt_kb(uint64_t kb, char *buf, size_t size);
/* Signed variant: "-400 MiB". */
const char *fmt_skb(int64_t kb, char *buf, size_t size);

#endif
