/* drift.c - see drift.h.  A linear table, bounded (DRIFT_MAX_MANAGED): a
 * host has a handful of sysctls and services; processes leave with their
 * exit. */
#include "drift.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEEN_MAX 1024

void drift_reset(struct drift *d)
{
	drift_free(d);
}

void drift_free(struct drift *d)
{
	for (size_t i = 0; i < d->nseen; i++)
		free(d->seen[i]);
	free(d->seen);
	free(d->m);
	memset(d, 0, sizeof(*d));
}

static void key_of(const struct action *a, char *key, size_t size)
{
	snprintf(key, size, "%s|%.400s|%.100s|%d|%" PRIu64, action_kind_name(a->kind), a->target,
		 a->cgroup, a->pid, a->start_time);
}

static struct managed *find(struct drift *d, const char *key)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->m[i].key, key) == 0)
			return &d->m[i];
	return NULL;
}

static uint64_t min_interval(enum action_kind k)
{
	switch (k) {
	case ACT_SYSCTL: return DRIFT_SYSCTL_MS;
	case ACT_MEMORY_HIGH:
	case ACT_MEMORY_MAX: return DRIFT_MEMORY_MS;
	default: return 0; /* per process: identity changes, nothing to flap */
	}
}

static void say(void (*report)(const char *, void *), void *arg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(void (*report)(const char *, void *), void *arg, const char *fmt, ...)
{
	if (!report)
		return;
	char text[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	report(text, arg);
}

/* Raising a cgroup limit is the safe direction (usage grew: invariant 2
 * must hold now, not in 5 minutes); only lowering is rate-limited. */
static bool is_raise(const struct action *a)
{
	if (a->kind != ACT_MEMORY_HIGH && a->kind != ACT_MEMORY_MAX)
		return false;
	if (strcmp(a->desired, "max") == 0)
		return true;
	uint64_t cur, want;
	if (strcmp(a->current, "max") == 0 || parse_u64(a->current, UINT64_MAX, &cur) < 0 ||
	    parse_u64(a->desired, UINT64_MAX, &want) < 0)
		return false;
	return want > cur;
}

/* index of (service, role) in d->yield, or d->nyield */
static size_t yield_at(const struct drift *d, const char *service, enum proc_role role)
{
	size_t i = 0;
	while (service && i < d->nyield &&
	       (d->yield[i].role != role || strcmp(d->yield[i].service, service) != 0))
		i++;
	return service ? i : d->nyield;
}

bool drift_oom_yielded(const struct drift *d, const char *service, enum proc_role role)
{
	return yield_at(d, service, role) < d->nyield;
}

bool drift_oom_conflict(struct drift *d, const char *service, enum proc_role role)
{
	d->oom_conflicts_total++;
	size_t i = yield_at(d, service, role);
	if (i < d->nyield) {
		d->yield[i].seen++;
		return false;
	}
	if (!service || d->nyield == DRIFT_MAX_YIELDS)
		return false; /* full: the per-target back-off still holds */
	d->yield[d->nyield++] = (struct oom_yield){ .service = service, .role = role, .seen = 1 };
	return true;
}

static const char *role_word(enum proc_role r)
{
	return r == ROLE_MAIN ? "main process" : r == ROLE_CHILD ? "children of the main" : "members";
}

/* The service wrote its own oom_score_adj over overcommitd's: a conflict
 * with the policy, not drift to undo (PostgreSQL backends, Redis). */
static bool oom_conflict(struct drift *d, struct managed *m, const struct action *a,
			 void (*report)(const char *, void *), void *arg)
{
	m->backed_off = true;
	d->backoffs_total++;
	if (drift_oom_conflict(d, a->service, a->role))
		say(report, arg,
		    "conflict: %s sets its own oom_score_adj for its %s: %s changed from %s "
		    "(written by overcommitd) to %s; the policy wants %s. Left alone: overcommitd "
		    "writes this role of %s no more until the next reload (make the policy and "
		    "the service agree)",
		    a->service ? a->service : "a service", role_word(a->role), a->target, m->written,
		    a->current, a->desired, a->service ? a->service : "it");
	return false;
}

/* false: drop the action this pass */
static bool admit(struct drift *d, const struct action *a, bool reapply, uint64_t now,
		  void (*report)(const char *, void *), void *arg)
{
	char key[1200];
	key_of(a, key, sizeof(key));
	struct managed *m = find(d, key);
	if (!m)
		return true;
	if (m->backed_off)
		return false;
	if (strcmp(a->current, m->written) != 0) {
		d->drifts_total++;
		if (a->kind == ACT_OOM_SCORE_ADJ)
			return oom_conflict(d, m, a, report, arg);
		if (now - m->window_ms > DRIFT_WINDOW_MS) {
			m->window_ms = now;
			m->drifts = 0;
		}
		m->drifts++;
		if (!reapply || m->drifts > DRIFT_MAX_REAPPLY) {
			m->backed_off = true;
			d->backoffs_total++;
			say(report, arg,
			    "drift: %s %s changed from %s (written by overcommitd) to %s by someone "
			    "else; backing off: left alone until the next reload%s",
			    action_kind_name(a->kind), a->target, m->written, a->current,
			    reapply ? " (changed back too often)" : "");
			return false;
		}
		say(report, arg,
		    "drift: %s %s changed from %s (written by overcommitd) to %s by someone else; "
		    "reapplying (%u of %d within an hour)",
		    action_kind_name(a->kind), a->target, m->written, a->current, m->drifts,
		    DRIFT_MAX_REAPPLY);
		snprintf(m->written, sizeof(m->written), "%s", a->current);
		m->wrote = false; /* the drift itself is not our write: no rate limit */
		return true;
	}
	return !m->wrote || now - m->at_ms >= min_interval(a->kind) || is_raise(a);
}

void drift_filter(struct drift *d, struct plan *p, bool reapply, uint64_t now_ms,
		  void (*report)(const char *text, void *arg), void *arg)
{
	size_t k = 0;
	for (size_t i = 0; i < p->nact; i++)
		if (admit(d, &p->act[i], reapply, now_ms, report, arg))
			p->act[k++] = p->act[i];
	p->nact = k;
	drift_drop_yielded(d, p);
}

void drift_drop_yielded(const struct drift *d, struct plan *p)
{
	size_t k = 0;
	for (size_t i = 0; i < p->nact; i++) {
		const struct action *a = &p->act[i];
		if (a->kind == ACT_OOM_SCORE_ADJ && drift_oom_yielded(d, a->service, a->role))
			continue;
		p->act[k++] = *a;
	}
	p->nact = k;
}

static void remove_at(struct drift *d, size_t i)
{
	d->m[i] = d->m[d->n - 1]; /* order does not matter */
	d->n--;
}

/* Make room: the per-process target written longest ago goes. */
static bool evict_one(struct drift *d)
{
	size_t best = d->n;
	for (size_t i = 0; i < d->n; i++)
		if (d->m[i].pid > 0 && (best == d->n || d->m[i].at_ms < d->m[best].at_ms))
			best = i;
	if (best == d->n)
		return false;
	remove_at(d, best);
	return true;
}

void drift_forget_pid(struct drift *d, int pid)
{
	for (size_t i = d->n; pid > 0 && i-- > 0;)
		if (d->m[i].pid == pid)
			remove_at(d, i);
}

size_t drift_prune(struct drift *d, bool (*alive)(int pid, uint64_t start, const void *arg),
		   const void *arg)
{
	size_t dropped = 0;
	for (size_t i = d->n; i-- > 0;) {
		if (d->m[i].pid > 0 && !alive(d->m[i].pid, d->m[i].start_time, arg)) {
			remove_at(d, i);
			dropped++;
		}
	}
	return dropped;
}

void drift_record(struct drift *d, const struct action *a, const struct apply_result *r,
		  uint64_t now_ms)
{
	if (r->status != AP_DONE && r->status != AP_UNCHANGED)
		return;
	char key[1200];
	key_of(a, key, sizeof(key));
	struct managed *m = find(d, key);
	if (!m && d->n >= DRIFT_MAX_MANAGED && !evict_one(d))
		return; /* full of host targets: forgetting one only weakens drift notes */
	if (!m) {
		if (d->n == d->cap) {
			size_t cap = d->cap ? d->cap * 2 : 16;
			struct managed *nm = realloc(d->m, cap * sizeof(*nm));
			if (!nm)
				return; /* forgetting a target only weakens drift notes */
			d->m = nm;
			d->cap = cap;
		}
		m = &d->m[d->n++];
		memset(m, 0, sizeof(*m));
		snprintf(m->key, sizeof(m->key), "%s", key);
		m->pid = a->pid;
		m->start_time = a->start_time;
	}
	snprintf(m->written, sizeof(m->written), "%s", a->desired);
	if (r->status == AP_DONE) {
		m->at_ms = now_ms;
		m->wrote = true;
	}
}

bool drift_note_recommended(struct drift *d, const struct action *a)
{
	char key[1800];
	key_of(a, key, sizeof(key) - 600);
	size_t len = strlen(key);
	snprintf(key + len, sizeof(key) - len, "|%s", a->desired);
	for (size_t i = 0; i < d->nseen; i++)
		if (strcmp(d->seen[i], key) == 0)
			return false;
	if (d->nseen == SEEN_MAX) {
		for (size_t i = 0; i < d->nseen; i++)
			free(d->seen[i]);
		d->nseen = 0;
	}
	if (!d->seen) {
		d->seen = calloc(SEEN_MAX, sizeof(*d->seen));
		if (!d->seen)
			return true;
	}
	d->seen[d->nseen] = strdup(key);
	if (d->seen[d->nseen])
		d->nseen++;
	return true;
}
