/* daemon_refusal.c - commit refusals in the daemon (daemon_refusal.h).
 * Nothing here allocates per refusal: the book, the rate limiter and the
 * line buffer exist from start-up, so a flood under strict overcommit
 * cannot make the capture itself fail to allocate. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../bpf/refusal_abi.h"
#include "daemon.h"
#include "daemon_refusal.h"
#include "log.h"
#include "meminfo.h"
#include "refusal.h"
#include "refusal_bpf.h"
#include "refusal_store.h"
#include "snapshot.h"
#include "vmsysctl.h"

#define DRAIN_MAX 256      /* records per wake: the proc connector is served in between */
#define SAVE_EVERY_MS 1000 /* the book on disk at most once a second in a flood */

struct rf_daemon {
	struct refusal_capture *cap;
	struct refusal_book book;
	struct rf_limiter lim;
	struct refusal_host host;
	bool dirty, save_warned;
	uint64_t saved_ms;
	uint64_t lost_base;      /* lost by earlier runs (the book outlives the capture) */
	char line[1024];
	int last_tgid, last_svc; /* lookup(): the last untracked process's answer */
	uint64_t last_ms;
	char last_comm[16];
	uint64_t wakes, records, longest_ns; /* what the loop spent on refusals (said at exit) */
	struct proc_info pi;
};

static uint64_t clock_ms(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void save(struct daemon *d)
{
	struct rf_daemon *rf = d->rf;
	int rc = refusal_book_save_at(&d->j.sd, &rf->book);
	if (rc < 0 && !rf->save_warned)
		log_errno(LOG_LVL_WARN, rc, "saving %s/%s (said once until it works again)",
			  d->c->state_dir, REFUSAL_FILE);
	rf->save_warned = rc < 0;
	rf->dirty = rc < 0;
	rf->saved_ms = clock_ms(CLOCK_MONOTONIC);
}

void refusals_setup(struct daemon *d)
{
	struct rf_daemon *rf = calloc(1, sizeof(*rf));
	if (!rf) {
		log_warn("commit refusal capture: out of memory; running without it");
		return;
	}
	d->rf = rf;
	int rc = refusal_book_load_at(&d->j.sd, &rf->book);
	if (rc < 0 && rc != -ENOENT)
		log_errno(LOG_LVL_WARN, rc, "%s/%s unusable; counting refusals afresh", d->c->state_dir,
			  REFUSAL_FILE);
	rf->book.since_ms = clock_ms(CLOCK_REALTIME);
	rf->lost_base = rf->book.lost;
	rc = refusal_capture_open(&d->c->roots, &rf->cap, rf->book.why, sizeof(rf->book.why));
	if (rc < 0) {
		rf->book.capture = RF_CAPTURE_UNAVAILABLE;
		log_warn("commit refusal capture unavailable: %s; the daemon runs on without it",
			 rf->book.why);
	} else {
		rf->book.capture = RF_CAPTURE_ACTIVE;
		log_info("commit refusal capture: active (BPF on __vm_enough_memory)");
	}
	rf->host.page_kb = (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
	save(d);
}

int refusals_fd(const struct daemon *d)
{
	return d->rf && d->rf->cap ? refusal_capture_fd(d->rf->cap) : -1;
}

const struct refusal_book *refusals_book(const struct daemon *d)
{
	return d->rf ? &d->rf->book : NULL;
}

/* What the kernel record lacks, read once per batch. */
static void read_host(struct daemon *d)
{
	struct refusal_host *h = &d->rf->host;
	struct meminfo mi;
	struct vm_sysctls vm;
	if (meminfo_read(&d->c->roots, &mi) == 0) {
		h->hugetlb_kb = mi.hugetlb_kb;
		h->mem_available_kb = mi.mem_available_kb;
		h->commit_limit_kb = mi.commit_limit_kb;
		h->committed_kb = mi.committed_as_kb;
	}
	if (vm_sysctls_read(&d->c->roots, &vm) == 0) {
		h->mode = (int)vm.v[VM_OVERCOMMIT_MEMORY];
		h->user_reserve_kb = vm.v[VM_USER_RESERVE_KBYTES];
		h->admin_reserve_kb = vm.v[VM_ADMIN_RESERVE_KBYTES];
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	h->mono_now_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	h->real_now_ms = clock_ms(CLOCK_REALTIME);
}

/* A process the tracker does not hold: matched against the policies now.
 * It may have renamed itself after its exec (prctl PR_SET_NAME: matched by
 * the name it has now; the next full scan enforces it) or have exited after
 * its ENOMEM: then only what the record says (comm, uid) can match, so a
 * service matched by comm (and user) is still named.  Returns the service
 * index or -1; the last answer is kept, so a flood costs one /proc read. */
static int lookup(struct daemon *d, const struct refusal *r)
{
	struct rf_daemon *rf = d->rf;
	uint64_t now = clock_ms(CLOCK_MONOTONIC);
	if (rf->last_tgid == r->tgid && now - rf->last_ms < 1000 &&
	    strcmp(rf->last_comm, r->comm) == 0 && rf->last_svc < (int)d->pol.nsvc)
		return rf->last_svc;
	struct proc_info *pi = &rf->pi; /* 8 KiB: kept, not on the loop's stack */
	if (proc_read(&d->c->roots, r->tgid, pi) < 0 || strcmp(pi->st.comm, r->comm) != 0) {
		memset(pi, 0, sizeof(*pi));
		pi->pid = r->tgid;
		snprintf(pi->st.comm, sizeof(pi->st.comm), "%s", r->comm);
		pi->status.uid = pi->status.euid = r->uid;
	}
	int svc = -1;
	for (size_t i = 0; i < d->pol.nsvc && svc < 0; i++)
		if (svc_matches(&d->pol.svc[i], d->uid_min, pi))
			svc = (int)i;
	if (svc >= 0)
		d->need_full = true; /* a live one is enforced at the next pass */
	rf->last_tgid = r->tgid;
	rf->last_ms = now;
	snprintf(rf->last_comm, sizeof(rf->last_comm), "%s", r->comm);
	rf->last_svc = svc;
	return svc;
}

static void attribute(struct daemon *d, struct refusal *r)
{
	const struct tproc *p = tracker_find(&d->tr, r->tgid);
	if (p && p->svc < d->pol.nsvc) {
		snprintf(r->service, sizeof(r->service), "%s", d->pol.svc[p->svc].name);
		r->instance = p->inst;
		return;
	}
	int svc = lookup(d, r);
	if (svc >= 0)
		snprintf(r->service, sizeof(r->service), "%s", d->pol.svc[svc].name);
}

static void log_folded(const char *key, uint64_t folded, void *arg)
{
	(void)arg;
	log_warn("%s%s: %" PRIu64 " more commit refusals in the last minute were counted, not "
		 "logged one by one", key[0] ? "service " : "", key[0] ? key : "processes of no service",
		 folded);
}

static void on_record(const struct rf_event *e, void *arg)
{
	struct daemon *d = arg;
	struct rf_daemon *rf = d->rf;
	struct refusal r;
	refusal_from_event(e, &rf->host, &r);
	attribute(d, &r);
	rf->dirty = true;
	if (refusal_book_fold(&rf->book, &r))
		return; /* the C library's fallback for the allocation just logged */
	refusal_book_add(&rf->book, &r);
	uint64_t folded;
	if (!rf_limiter_admit(&rf->lim, r.service, clock_ms(CLOCK_MONOTONIC), &folded))
		return;
	if (folded)
		log_folded(r.service, folded, NULL);
	refusal_format(&r, rf->line, sizeof(rf->line));
	log_warn("%s", rf->line);
}

void refusals_drain(struct daemon *d)
{
	struct rf_daemon *rf = d->rf;
	if (!rf || !rf->cap)
		return;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	read_host(d);
	int n = refusal_capture_drain(rf->cap, DRAIN_MAX, on_record, d);
	if (n < 0)
		log_errno(LOG_LVL_WARN, n, "commit refusal capture");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	uint64_t ns = (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec));
	rf->wakes++;
	rf->records += n > 0 ? (uint64_t)n : 0;
	if (ns > rf->longest_ns)
		rf->longest_ns = ns;
	if (rf->dirty && clock_ms(CLOCK_MONOTONIC) - rf->saved_ms >= SAVE_EVERY_MS)
		save(d);
}

void refusals_tick(struct daemon *d)
{
	struct rf_daemon *rf = d->rf;
	if (!rf)
		return;
	rf_limiter_flush(&rf->lim, clock_ms(CLOCK_MONOTONIC), log_folded, NULL);
	uint64_t refused, dropped;
	/* drops happen in the kernel: their number is all user space learns */
	if (rf->cap && refusal_capture_counts(rf->cap, &refused, &dropped) == 0 &&
	    rf->lost_base + dropped > rf->book.lost) {
		log_warn("commit refusal capture: %" PRIu64 " refusals found the ring buffer full "
			 "(counted, not attributed)", rf->lost_base + dropped - rf->book.lost);
		rf->book.lost = rf->lost_base + dropped;
		rf->dirty = true;
	}
	if (rf->dirty)
		save(d);
}

void refusals_teardown(struct daemon *d)
{
	struct rf_daemon *rf = d->rf;
	if (!rf)
		return;
	if (rf->cap) {
		refusals_drain(d);
		/* the bound DRAIN_MAX puts on one wake, measured */
		log_info("commit refusal capture: %" PRIu64 " records in %" PRIu64 " wakes, the "
			 "longest %" PRIu64 " us (at most %d records a wake)",
			 rf->records, rf->wakes, rf->longest_ns / 1000, DRAIN_MAX);
	}
	/* every window ends with the daemon: say what was folded */
	rf_limiter_flush(&rf->lim, UINT64_MAX, log_folded, NULL);
	if (rf->dirty)
		save(d);
	refusal_capture_close(rf->cap);
	free(rf);
	d->rf = NULL;
}
