/* scanpass - the cost of one full observation pass (item 3).
 *
 *   scanpass [-r REPS] [-w] POLICY_PATH...
 *
 * -w: the daemon's pass instead (issue 11 item 6): a tracker loaded from a
 * full snapshot, then REPS periodic passes over the tracked pids through
 * the worker cache (workcache_observe: mains every pass, workers every
 * WORK_READ_EVERY), and REPS full scans through it (every 30th pass);
 * prints ocd_pass_cpu_us, ocd_full_cpu_us and the average over a cycle of
 * 30 (ocd_cycle_cpu_us) beside the naive pass.
 *
 * Loads the policy (files or directories, as --policy-dir), then REPS times
 *   ocd:   snapshot_take() from build/liboc.a, the pass `status` and the
 *          daemon's full scan do (stat of every pid; the rest only for pids
 *          whose comm passes a match_comm)
 *   naive: smaps_rollup of every pid (bench/naive.h)
 * alternating, and prints the medians of each pass's CPU time
 * (CLOCK_PROCESS_CPUTIME_ID: user + system) and wall time:
 *   scanpass procs=N matched=M ocd_cpu_us=.. ocd_wall_us=.. naive_cpu_us=.. naive_wall_us=..
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "benchutil.h"
#include "diag.h"
#include "naive.h"
#include "policy.h"
#include "roots.h"
#include "snapshot.h"
#include "tracker.h"
#include "workcache.h"

#define MAX_REPS 1000

#define FULL_EVERY 30 /* agent/daemon.c FULL_SCAN_EVERY */

static uint64_t naive_cpu(void)
{
	uint64_t rss = 0, anon = 0, c0 = bu_ns(CLOCK_PROCESS_CPUTIME_ID);
	naive_pass(&rss, &anon);
	return bu_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
}

/* One workcache pass (pids NULL: full); its CPU time, or 0 on failure. */
static uint64_t wc_pass(struct workcache *wc, const struct roots *r, const struct policy *pol,
			const int *pids, size_t n, size_t *matched)
{
	struct snapshot s;
	uint64_t c0 = bu_ns(CLOCK_PROCESS_CPUTIME_ID);
	int rc = workcache_observe(wc, r, pol, pids, n, &s);
	uint64_t dt = bu_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
	if (rc < 0)
		return 0;
	*matched = 0;
	for (size_t k = 0; k < s.nsvc; k++)
		*matched += s.svc[k].nprocs;
	snapshot_free(&s);
	return dt;
}

static int daemon_mode(const struct roots *r, const struct policy *pol, unsigned long reps)
{
	static uint64_t pass[MAX_REPS], full[MAX_REPS], nv[MAX_REPS];
	struct tracker tr;
	struct workcache wc;
	struct snapshot s;
	size_t matched = 0;
	if (tracker_init(&tr, pol->nsvc) < 0 || workcache_init(&wc, pol->nsvc) < 0 ||
	    workcache_observe(&wc, r, pol, NULL, 0, &s) < 0 || tracker_load(&tr, &s) < 0) {
		fputs("scanpass: set-up failed\n", stderr);
		return 1;
	}
	snapshot_free(&s);
	int *pids = calloc(tr.n ? tr.n : 1, sizeof(*pids));
	if (!pids)
		return 1;
	size_t n = tracker_pids(&tr, pids, tr.n);
	for (unsigned long i = 0; i < reps; i++) {
		pass[i] = wc_pass(&wc, r, pol, pids, n, &matched);
		full[i] = wc_pass(&wc, r, pol, NULL, 0, &matched);
		nv[i] = naive_cpu();
	}
	qsort(pass, reps, sizeof(uint64_t), bu_cmp_u64);
	qsort(full, reps, sizeof(uint64_t), bu_cmp_u64);
	qsort(nv, reps, sizeof(uint64_t), bu_cmp_u64);
	uint64_t p = bu_pct(pass, reps, 50), f = bu_pct(full, reps, 50);
	printf("scanpass-daemon tracked=%zu matched=%zu reps=%lu reads=%" PRIu64 " served=%" PRIu64
	       " cow_reads=%" PRIu64 " ocd_pass_cpu_us=%" PRIu64 " ocd_full_cpu_us=%" PRIu64
	       " ocd_cycle_cpu_us=%" PRIu64 " naive_cpu_us=%" PRIu64 "\n",
	       n, matched, reps, wc.reads, wc.served, wc.cow_reads, p / 1000, f / 1000,
	       ((FULL_EVERY - 1) * p + f) / FULL_EVERY / 1000, bu_pct(nv, reps, 50) / 1000);
	free(pids);
	workcache_free(&wc);
	tracker_free(&tr);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long reps = 10;
	int opt, daemon = 0;
	while ((opt = getopt(argc, argv, "r:w")) != -1) {
		if (opt == 'w') {
			daemon = 1;
		} else if (opt != 'r' || bu_ulong(optarg, 1, MAX_REPS, &reps) < 0) {
			fputs("usage: scanpass [-r REPS] [-w] POLICY_PATH...\n", stderr);
			return 1;
		}
	}
	if (optind >= argc) {
		fputs("usage: scanpass [-r REPS] POLICY_PATH...\n", stderr);
		return 1;
	}
	struct policy pol;
	struct diags dg;
	diags_init(&dg);
	if (policy_load((const char *const *)&argv[optind], (size_t)(argc - optind), false, &pol,
			&dg) < 0) {
		for (size_t i = 0; i < dg.n; i++)
			fprintf(stderr, "scanpass: %s\n", dg.msg[i]);
		diags_free(&dg);
		return 1;
	}
	diags_free(&dg);
	struct roots r;
	roots_default(&r);
	if (daemon) {
		int rc = daemon_mode(&r, &pol, reps);
		policy_free(&pol);
		return rc;
	}
	static uint64_t oc_cpu[MAX_REPS], oc_wall[MAX_REPS], nv_cpu[MAX_REPS], nv_wall[MAX_REPS];
	size_t procs = 0, matched = 0;
	unsigned long nprocs_naive = 0;
	for (unsigned long i = 0; i < reps; i++) {
		struct snapshot s;
		uint64_t c0 = bu_ns(CLOCK_PROCESS_CPUTIME_ID), w0 = bu_mono_ns();
		int rc = snapshot_take(&r, &pol, &s);
		oc_cpu[i] = bu_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
		oc_wall[i] = bu_mono_ns() - w0;
		if (rc < 0) {
			fprintf(stderr, "scanpass: snapshot_take: %d\n", rc);
			return 1;
		}
		procs = s.nprocs_scanned;
		matched = 0;
		for (size_t k = 0; k < s.nsvc; k++)
			matched += s.svc[k].nprocs;
		snapshot_free(&s);
		uint64_t rss = 0, anon = 0;
		c0 = bu_ns(CLOCK_PROCESS_CPUTIME_ID);
		w0 = bu_mono_ns();
		nprocs_naive = naive_pass(&rss, &anon);
		nv_cpu[i] = bu_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
		nv_wall[i] = bu_mono_ns() - w0;
	}
	qsort(oc_cpu, reps, sizeof(uint64_t), bu_cmp_u64);
	qsort(oc_wall, reps, sizeof(uint64_t), bu_cmp_u64);
	qsort(nv_cpu, reps, sizeof(uint64_t), bu_cmp_u64);
	qsort(nv_wall, reps, sizeof(uint64_t), bu_cmp_u64);
	printf("scanpass procs=%zu matched=%zu naive_procs=%lu reps=%lu ocd_cpu_us=%" PRIu64
	       " ocd_wall_us=%" PRIu64 " naive_cpu_us=%" PRIu64 " naive_wall_us=%" PRIu64 "\n",
	       procs, matched, nprocs_naive, reps, bu_pct(oc_cpu, reps, 50) / 1000,
	       bu_pct(oc_wall, reps, 50) / 1000, bu_pct(nv_cpu, reps, 50) / 1000,
	       bu_pct(nv_wall, reps, 50) / 1000);
	policy_free(&pol);
	return 0;
}
