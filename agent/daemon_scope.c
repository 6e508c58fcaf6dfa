/* daemon_scope.c - fork children into transient scopes under systemd units
 * (daemon_scope.h, src/sdscope.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cgroup_backend.h"
#include "childgroup.h"
#include "daemon_scope.h"
#include "log.h"
#include "sdscope.h"
#include "sdunit.h"

#define SCOPE_BACK_TRIES 5 /* passes a cancelled child is looked at */

/* A cancelled episode's child to move back into its unit's group. */
struct scope_back {
	int pid;
	uint64_t start;
	char home_cg[PROC_PATH_MAX]; /* its unit's group, where it came from */
	char scope_cg[PROC_PATH_MAX];
	unsigned tries;
};

/* What an answer is about: the episode's child, or a child going back. */
struct scope_call {
	struct daemon *d;
	size_t svc;
	int pid;
	uint64_t start;
	uint64_t high;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The first failure is a warning: from then on, the child stop alone. */
static void scope_failed(struct daemon *d, const char *what, int rc, const char *err)
{
	if (d->scope_warned) {
		log_debug("fork child scope: %s: %s (%s)", what, err && err[0] ? err : "",
			  strerror(-rc));
		return;
	}
	d->scope_warned = true;
	log_warn("fork child scope: %s: %s (%s); fork children of units stay in their unit's "
		 "group, the child stop alone keeps their mains from paying (logged once)",
		 what, err && err[0] ? err : "", strerror(-rc));
}

static int bus_ready(struct daemon *d)
{
	if (d->bus)
		return 0;
	int rc = sdscope_open(&d->bus);
	if (rc < 0)
		d->bus = NULL;
	else
		d->bus_opened++; /* its fd may reuse a closed one's number */
	return rc;
}

void scope_consider(struct daemon *d, size_t svc)
{
	struct episode *e = &d->ep[svc];
	e->unit[0] = '\0';
	/* systemd ignores MemoryHigh on v1; a fixture tree is no systemd's */
	if (!d->pol.host.enforce || !d->cg_v2 || strcmp(d->c->roots.cgroupfs, "/sys/fs/cgroup") != 0 ||
	    !sdunit_systemd_running())
		return;
	if (sdunit_unit_from_cgroup(e->cgroup, e->unit, sizeof(e->unit)) < 0 ||
	    strncmp(e->unit, SDSCOPE_PREFIX, strlen(SDSCOPE_PREFIX)) == 0)
		e->unit[0] = '\0'; /* not a unit's group, or our own scope already */
}

static void on_started(void *arg, int rc, const char *err)
{
	struct scope_call *c = arg;
	struct daemon *d = c->d;
	struct episode *e = c->svc < d->pol.nsvc ? &d->ep[c->svc] : NULL;
	bool ours = e && e->child == c->pid && e->child_start == c->start &&
		    e->scope == EP_SCOPE_PENDING;
	if (ours)
		e->scope = rc < 0 ? EP_SCOPE_FAILED : EP_SCOPE_PLACED;
	if (rc < 0) {
		char what[96];
		snprintf(what, sizeof(what), "StartTransientUnit for fork child %d", c->pid);
		scope_failed(d, what, rc, err);
	} else {
		d->stats.children_scoped++;
		d->stats.children_placed++;
		log_info("fork child %d in transient scope %s (MemoryHigh %" PRIu64 " MiB, no "
			 "MemoryMax): it pays for its own pages, never the main",
			 c->pid, ours ? e->fork_cgroup : "(episode over)", c->high >> 20);
	}
	free(c);
}

void scope_sample(struct daemon *d, size_t svc, uint64_t budget_kb)
{
	struct episode *e = &d->ep[svc];
	if (!e->unit[0] || e->scope != EP_SCOPE_NONE || !e->child_start ||
	    mono_ms() < e->t0_ms + SCOPE_DELAY_MS)
		return;
	char name[256], slice[256], desc[320];
	e->scope = EP_SCOPE_FAILED; /* one request per episode */
	if (sdscope_name(e->unit, e->child, name, sizeof(name)) < 0 ||
	    sdscope_slice(e->cgroup, slice, sizeof(slice)) < 0 ||
	    sdscope_cgroup(e->cgroup, name, e->fork_cgroup, sizeof(e->fork_cgroup)) < 0)
		return; /* a unit outside a slice (delegated): the child stop alone */
	struct scope_call *c = calloc(1, sizeof(*c));
	int rc = c ? bus_ready(d) : -ENOMEM;
	if (rc < 0) {
		free(c);
		scope_failed(d, "connecting to systemd", rc, "");
		e->fork_cgroup[0] = '\0';
		return;
	}
	uint64_t kb = budget_kb > CHILDGROUP_HIGH_MIN_KB ? budget_kb : CHILDGROUP_HIGH_MIN_KB;
	*c = (struct scope_call){ .d = d, .svc = svc, .pid = e->child, .start = e->child_start,
				  .high = (kb + 1023) / 1024 * 1024 * 1024 };
	snprintf(desc, sizeof(desc), "overcommitd: fork child %d of %.255s, its COW budget", e->child,
		 e->unit);
	struct sdscope_req q = { .scope = name, .slice = slice, .description = desc,
				 .pid = e->child, .memory_high = c->high };
	rc = sdscope_start(d->bus, &q, on_started, c);
	if (rc < 0) {
		free(c);
		scope_failed(d, "sending StartTransientUnit", rc, "");
		e->fork_cgroup[0] = '\0';
		return;
	}
	e->scope = EP_SCOPE_PENDING;
}

/* ---- a cancelled episode's child goes back ------------------------------ */

static void back_drop(struct daemon *d, struct scope_back *b)
{
	*b = d->back[--d->nback];
}

/* Send the child back while it is in its scope; forget it once gone, or
 * after SCOPE_BACK_TRIES looks outside the scope (the start failed, or it
 * is home: the start job, still queued when the move was made, may move
 * it into the scope again, so it is looked at again).  systemd 252 refuses
 * AttachProcessesToUnit for a unit without Delegate= ("Process migration
 * not available on non-delegated units", measured in the systemd guest):
 * the move is a cgroup.procs write into the unit's own group, where
 * systemd put the child; the emptied scope is then stopped and collected. */
static void back_try(struct daemon *d, struct scope_back *b)
{
	struct proc_info pi;
	if (proc_read(&d->c->roots, b->pid, &pi) < 0 || pi.st.start_time != b->start) {
		back_drop(d, b);
		return;
	}
	if (strcmp(pi.cgroup, b->scope_cg) != 0) {
		if (++b->tries >= SCOPE_BACK_TRIES)
			back_drop(d, b);
		return;
	}
	struct cgb cg;
	int rc = cgb_open(&d->c->roots, &cg);
	if (rc == 0)
		rc = cgb_attach(&cg, b->home_cg, b->pid);
	if (rc < 0) {
		scope_failed(d, "moving a cancelled episode's child back into its unit's group", rc,
			     b->home_cg);
		b->tries++;
		return;
	}
	log_info("pid %d back in %s: no disposable fork child after all", b->pid, b->home_cg);
}

void scope_cancel(struct daemon *d, size_t svc)
{
	struct episode *e = &d->ep[svc];
	if (e->scope != EP_SCOPE_PENDING && e->scope != EP_SCOPE_PLACED)
		return;
	struct scope_back *nb = realloc(d->back, (d->nback + 1) * sizeof(*nb));
	if (!nb) {
		log_errno(LOG_LVL_WARN, ENOMEM, "moving fork child %d back", e->child);
		return;
	}
	d->back = nb;
	struct scope_back *b = &d->back[d->nback++];
	*b = (struct scope_back){ .pid = e->child, .start = e->child_start };
	snprintf(b->home_cg, sizeof(b->home_cg), "%s", e->cgroup);
	snprintf(b->scope_cg, sizeof(b->scope_cg), "%s", e->fork_cgroup);
	back_try(d, b);
}

void scope_tick(struct daemon *d)
{
	for (size_t i = d->nback; i-- > 0;)
		back_try(d, &d->back[i]);
}

/* ---- the bus in the poll loop --------------------------------------------- */

void scope_pollfd(const struct daemon *d, struct pollfd *p, int *timeout_ms)
{
	*timeout_ms = -1;
	*p = (struct pollfd){ .fd = -1 };
	if (!d->bus)
		return;
	p->fd = sdscope_fd(d->bus);
	p->events = sdscope_events(d->bus);
	*timeout_ms = sdscope_timeout_ms(d->bus);
}

void scope_dispatch(struct daemon *d)
{
	if (!d->bus)
		return;
	int rc = sdscope_process(d->bus);
	if (rc < 0) {
		/* every call in flight is answered with the error; a later
		 * request connects afresh */
		log_debug("fork child scope: the connection to systemd ended (%s)", strerror(-rc));
		struct sdscope_bus *b = d->bus;
		d->bus = NULL;
		sdscope_close(b);
	}
}

void scope_stop(struct daemon *d)
{
	struct sdscope_bus *b = d->bus;
	d->bus = NULL;
	sdscope_close(b); /* answers the calls in flight: before the episodes go */
	free(d->back);
	d->back = NULL;
	d->nback = 0;
}
