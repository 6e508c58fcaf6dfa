/* benchutil.h - small helpers shared by the bench programs (header-only:
 * each program is one .c file built by bench/run.sh). */
#ifndef OVERCOMMITD_BENCHUTIL_H
#define OVERCOMMITD_BENCHUTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t bu_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t bu_mono_ns(void)
{
	return bu_ns(CLOCK_MONOTONIC);
}

static inline int bu_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile (0 < p <= 100) of sorted v[0..n); 0 when empty. */
static inline uint64_t bu_pct(const uint64_t *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t k = (size_t)((p / 100.0) * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

/* Strict decimal in [min, max]; -1 otherwise. */
static inline int bu_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end = NULL;
	if (!s || s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

#endif
