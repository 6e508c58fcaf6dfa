/* daemon_charges.c - see daemon_charges.h. */
#include "daemon_charges.h"

#include <errno.h>
#include <inttypes.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "privsep.h"
#include "smapsreader.h"

#define SMAPS_QUEUE_MAX 32 /* reads handed to the thread and not answered yet */

static uint64_t mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

void charges_start(struct daemon *d)
{
	int rc = smaps_reader_start(&d->smaps);
	if (rc < 0) {
		d->smaps = NULL;
		log_errno(LOG_LVL_WARN, rc, "smaps reader thread; fork charges stay estimates");
	}
}

void charges_stop(struct daemon *d)
{
	smaps_reader_stop(d->smaps);
	d->smaps = NULL;
}

int charges_fd(const struct daemon *d)
{
	return d->smaps ? smaps_reader_fd(d->smaps) : -1;
}

/* Open each due smaps here (the reader process checks permission at
 * open; cheap) and hand it to the thread (the page walk is in read()). */
static void submit(struct daemon *d, const struct charge_reqs *q, uint64_t now_s)
{
	for (size_t i = 0; i < q->n; i++) {
		int fd = privsep_open_pid(&d->c->roots, q->r[i].pid, "smaps");
		int rc = fd < 0 ? fd : smaps_reader_submit(d->smaps, fd, &q->r[i]);
		if (rc < 0) {
			d->stats.smaps_failed++;
			(void)fork_observe_done(&d->charges, &q->r[i], rc, NULL, now_s);
		}
	}
}

void charges_observe(struct daemon *d, struct snapshot *s)
{
	/* a burst (10,000 mains at start) is spread over passes: the thread
	 * holds at most SMAPS_QUEUE_MAX reads at a time */
	unsigned inflight = d->smaps ? smaps_reader_inflight(d->smaps) : 0;
	struct charge_reqs q = { .capped = true,
				 .max = inflight < SMAPS_QUEUE_MAX ? SMAPS_QUEUE_MAX - inflight : 0 };
	struct fork_obs_stats st;
	uint64_t now_s = mono_s();
	/* no thread: no reads at all (estimates), never one on the loop */
	if (fork_observe(&d->c->roots, s, &d->charges, now_s, d->smaps ? &q : NULL, &st) == 0 &&
	    d->smaps)
		submit(d, &q, now_s);
	if (q.n || st.deferred)
		log_debug("fork charges: %zu smaps read%s handed to the reader thread, %u left for "
			  "later passes", q.n, q.n == 1 ? "" : "s", st.deferred);
	charge_reqs_free(&q);
}

bool charges_collect(struct daemon *d)
{
	struct smaps_result res;
	bool landed = false;
	int rc;
	while (d->smaps && (rc = smaps_reader_collect(d->smaps, &res)) == 1) {
		landed = true;
		if (res.rc == 0) {
			d->stats.smaps_reads++;
			d->stats.smaps_ns += res.ns;
			d->stats.smaps_vm_kb += res.q.vm_size_kb;
		} else {
			d->stats.smaps_failed++;
		}
		log_debug("fork charge of pid %d (%s): %s in %" PRIu64 " us, %" PRIu64 " KiB charged",
			  res.q.pid, charge_read_why_name(res.q.why), res.rc == 0 ? "read" : "unreadable",
			  res.ns / 1000, res.rc == 0 ? res.sc.charge_kb : 0);
		if (fork_observe_done(&d->charges, &res.q, res.rc, &res.sc, mono_s()) < 0)
			log_warn("fork charges: out of memory; pid %d stays an estimate", res.q.pid);
	}
	return landed && d->smaps && smaps_reader_inflight(d->smaps) == 0;
}

void charges_note_fork(struct daemon *d, int ppid, const struct proc_info *child)
{
	struct proc_info parent = { 0 };
	unsigned flags;
	/* a child already exiting shows no VmData at all (its mm is gone) */
	if (child->st.state == 'Z' || child->st.state == 'X' || child->status.vm_size_kb == 0)
		return;
	/* read after its VmData: still set now, so it was then */
	if (proc_read_flags(&d->c->roots, child->pid, &flags) < 0 ||
	    !(flags & PROC_PF_FORKNOEXEC))
		return; /* gone, or exec'd: its VmData is another program's */
	if (proc_read_opts(&d->c->roots, ppid, PROC_READ_STAT | PROC_READ_STATUS, &parent) < 0)
		return; /* gone */
	uint64_t share = fork_dontfork_share(parent.status.vm_data_kb, child->status.vm_data_kb,
					     true);
	if (charge_cache_fork(&d->charges, ppid, parent.st.start_time, share) < 0)
		return;
	d->stats.fork_shares++;
	if (share)
		log_debug("pid %d forked %d: %" PRIu64 " KiB of VmData not copied (MADV_DONTFORK), "
			  "not charged by its forks", ppid, child->pid, share);
}

void charges_note_latency(struct daemon *d, uint64_t lat_ns)
{
	if (!d->smaps || !smaps_reader_reading(d->smaps))
		return;
	d->stats.events_during_smaps++;
	if (lat_ns > d->stats.max_latency_during_smaps_ns)
		d->stats.max_latency_during_smaps_ns = lat_ns;
}
