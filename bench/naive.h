/* naive.h - the naive observation pass (items 3 and 4): read
 * /proc/PID/smaps_rollup of every process.  The kernel walks each process's
 * page tables for it, under its mmap lock. */
#ifndef OVERCOMMITD_BENCH_NAIVE_H
#define OVERCOMMITD_BENCH_NAIVE_H

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Read one smaps_rollup; add its Rss and Anonymous (kB).  0 or -1. */
static inline int naive_rollup(const char *pid, uint64_t *rss, uint64_t *anon)
{
	char path[300], buf[4096];
	if (snprintf(path, sizeof(path), "/proc/%s/smaps_rollup", pid) >= (int)sizeof(path))
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n, len = 0;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - (size_t)len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	const char *r = strstr(buf, "\nRss:"), *a = strstr(buf, "\nAnonymous:");
	if (r)
		*rss += strtoull(r + 5, NULL, 10);
	if (a)
		*anon += strtoull(a + 11, NULL, 10);
	return 0;
}

/* One naive pass over every /proc/PID; returns the processes read. */
static inline unsigned long naive_pass(uint64_t *rss, uint64_t *anon)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	unsigned long n = 0;
	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (de->d_name[0] >= '1' && de->d_name[0] <= '9' && naive_rollup(de->d_name, rss, anon) == 0)
			n++;
	closedir(d);
	return n;
}

#endif
