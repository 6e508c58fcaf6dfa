/* smapscost - what one exact fork-charge read costs (issue 10): a process
 * holding MIB MiB of touched private memory reads its own /proc/PID/smaps
 * through smaps_charge_read() (the daemon's and the one-shot commands' code)
 * REPS times, and /proc/PID/status (the cheap estimate) as the baseline.
 *
 *   smapscost [MIB [REPS]]     (default 1024 MiB, 20 reps)
 *
 * Prints "smapscost: mib=M reps=R smaps_us_median=S smaps_cpu_us_median=U
 * status_us_median=T smaps_ms_per_gib=G smaps_cpu_ms_per_gib=H charge_kb=C"
 * (wall and on-CPU time: on a loaded host they differ). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "benchutil.h"
#include "forkcharge.h"
#include "util.h"

static uint64_t median(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), bu_cmp_u64);
	return v[n / 2];
}

int main(int argc, char **argv)
{
	unsigned long mib = 1024, reps = 20;
	if ((argc > 1 && bu_ulong(argv[1], 1, 1 << 20, &mib) < 0) ||
	    (argc > 2 && bu_ulong(argv[2], 1, 10000, &reps) < 0)) {
		fputs("usage: smapscost [MIB [REPS]]\n", stderr);
		return 1;
	}
	size_t len = (size_t)mib << 20;
	unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("smapscost: mmap");
		return 1;
	}
	for (size_t off = 0; off < len; off += 4096)
		p[off] = 1; /* 4 KiB pages mapped: what smaps walks */
	struct roots r;
	roots_default(&r);
	uint64_t *sm = calloc(reps, sizeof(*sm)), *st = calloc(reps, sizeof(*st));
	uint64_t *sc = calloc(reps, sizeof(*sc));
	if (!sm || !st || !sc)
		return 1;
	struct smaps_charge c = { 0 };
	char buf[8192], path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)getpid());
	for (unsigned long i = 0; i < reps; i++) {
		uint64_t c0 = bu_ns(CLOCK_THREAD_CPUTIME_ID);
		uint64_t t0 = bu_mono_ns();
		if (smaps_charge_read(&r, (int)getpid(), &c) < 0) {
			fputs("smapscost: smaps unreadable\n", stderr);
			return 1;
		}
		uint64_t t1 = bu_mono_ns();
		sc[i] = bu_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
		if (read_file(path, buf, sizeof(buf)) < 0)
			return 1;
		uint64_t t2 = bu_mono_ns();
		sm[i] = t1 - t0;
		st[i] = t2 - t1;
	}
	uint64_t ms = median(sm, reps), ss = median(st, reps), cs = median(sc, reps);
	printf("smapscost: mib=%lu reps=%lu smaps_us_median=%" PRIu64 " smaps_cpu_us_median=%" PRIu64
	       " status_us_median=%" PRIu64 " smaps_ms_per_gib=%.1f smaps_cpu_ms_per_gib=%.1f"
	       " charge_kb=%" PRIu64 "\n",
	       mib, reps, ms / 1000, cs / 1000, ss / 1000, (double)ms / 1e6 * 1024.0 / (double)mib,
	       (double)cs / 1e6 * 1024.0 / (double)mib, c.charge_kb);
	free(sc);
	free(sm);
	free(st);
	return 0;
}
