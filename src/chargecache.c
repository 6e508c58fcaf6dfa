/* chargecache.c - per-process smaps corrections and the re-read rule. */
#include "chargecache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *charge_read_why_name(enum charge_read_why w)
{
	switch (w) {
	case CHARGE_KEEP: return "keep";
	case CHARGE_FIRST: return "first sighting";
	case CHARGE_IN_BAND: return "verdict inside the band";
	case CHARGE_VMDATA_MOVED: return "VmData moved over 10%";
	case CHARGE_MODE_CHANGED: return "overcommit_memory changed";
	}
	return "unknown";
}

static struct charge_entry *find_pid(const struct charge_cache *c, int pid)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].pid == pid)
			return &c->e[i];
	return NULL;
}

const struct charge_entry *charge_cache_find(const struct charge_cache *c, int pid,
					     uint64_t start_time)
{
	const struct charge_entry *e = find_pid(c, pid);
	return e && e->start_time == start_time ? e : NULL;
}

static bool moved(uint64_t then, uint64_t now)
{
	uint64_t d = now > then ? now - then : then - now;
	/* d / then > 10%, without overflow for values up to 2^50 */
	return d * 10000 > then * CHARGE_VMDATA_MOVE_BP;
}

enum charge_read_why charge_cache_why(const struct charge_cache *c, int pid, uint64_t start_time,
				      uint64_t vm_data_kb, int64_t mode, bool in_band,
				      uint64_t now_s)
{
	const struct charge_entry *e = charge_cache_find(c, pid, start_time);
	if (!e || !e->tried)
		return CHARGE_FIRST;
	if (e->pending || now_s < e->read_at_s + CHARGE_REREAD_MIN_S)
		return CHARGE_KEEP;
	if (!e->exact_known)
		return CHARGE_FIRST; /* the last read failed, 10 minutes ago */
	if (mode != e->mode)
		return CHARGE_MODE_CHANGED;
	if (in_band)
		return CHARGE_IN_BAND;
	if (moved(e->vm_data_kb, vm_data_kb))
		return CHARGE_VMDATA_MOVED;
	return CHARGE_KEEP;
}

/* The entry of (pid, start time), made (empty) when missing; one of an
 * older process of the same pid is replaced.  NULL: out of memory. */
static struct charge_entry *slot(struct charge_cache *c, int pid, uint64_t start_time)
{
	struct charge_entry *e = find_pid(c, pid);
	if (e && e->start_time == start_time)
		return e;
	if (!e) {
		if (c->n == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 8;
			struct charge_entry *ne = realloc(c->e, cap * sizeof(*ne));
			if (!ne)
				return NULL;
			c->e = ne;
			c->cap = cap;
		}
		e = &c->e[c->n++];
	}
	*e = (struct charge_entry){ .pid = pid, .start_time = start_time };
	return e;
}

int charge_cache_put(struct charge_cache *c, int pid, uint64_t start_time,
		     const struct smaps_charge *exact, uint64_t cheap_kb, uint64_t vm_data_kb,
		     int64_t mode, uint64_t now_s)
{
	struct charge_entry *e = slot(c, pid, start_time);
	if (!e)
		return -ENOMEM;
	e->exact_known = e->tried = true;
	e->pending = false;
	e->exact = *exact;
	e->cheap_kb = cheap_kb;
	e->vm_data_kb = vm_data_kb;
	e->mode = mode;
	e->read_at_s = now_s;
	e->fork_newer = false; /* smaps saw the DONTFORK VMAs itself */
	return 0;
}

int charge_cache_asked(struct charge_cache *c, int pid, uint64_t start_time, uint64_t now_s)
{
	struct charge_entry *e = slot(c, pid, start_time);
	if (!e)
		return -ENOMEM;
	e->tried = e->pending = true;
	e->read_at_s = now_s;
	return 0;
}

int charge_cache_failed(struct charge_cache *c, int pid, uint64_t start_time, uint64_t now_s)
{
	struct charge_entry *e = slot(c, pid, start_time);
	if (!e)
		return -ENOMEM;
	e->tried = true;
	e->pending = false;
	e->read_at_s = now_s;
	return 0; /* an older exact read, if any, still serves */
}

int charge_cache_fork(struct charge_cache *c, int pid, uint64_t start_time,
		      uint64_t dontfork_kb)
{
	struct charge_entry *e = slot(c, pid, start_time);
	if (!e)
		return -ENOMEM;
	e->fork_known = e->fork_newer = true;
	e->fork_dontfork_kb = dontfork_kb;
	return 0;
}

uint64_t fork_dontfork_share(uint64_t parent_vm_data_kb, uint64_t child_vm_data_kb,
			     bool child_forknoexec)
{
	/* after execve() the child's VmData is another program's: no share */
	if (!child_forknoexec || child_vm_data_kb >= parent_vm_data_kb)
		return 0;
	return parent_vm_data_kb - child_vm_data_kb;
}

void charge_cache_forget(struct charge_cache *c, int pid)
{
	struct charge_entry *e = find_pid(c, pid);
	if (e)
		*e = c->e[--c->n];
}

void charge_cache_free(struct charge_cache *c)
{
	free(c->e);
	memset(c, 0, sizeof(*c));
}

/* No smaps read: VmData + VmStk, less the DONTFORK share a fork showed. */
static struct fork_charge charge_estimate(const struct charge_entry *e, uint64_t cheap_kb,
					  const struct maps_estimate *me)
{
	struct fork_charge fc = { .kb = cheap_kb, .largest_kb = cheap_kb, .valid = true };
	if (e && e->fork_known) {
		fc.kb = cheap_kb > e->fork_dontfork_kb ? cheap_kb - e->fork_dontfork_kb : 0;
		fc.largest_kb = fc.kb;
		fc.basis = CHARGE_FORK_EVENT;
	}
	if (me) {
		fc.largest_kb = me->largest_kb;
		fc.largest_known = true;
	}
	return fc;
}

struct fork_charge fork_charge_from(const struct charge_entry *e, uint64_t cheap_kb,
				    const struct maps_estimate *me)
{
	if (!e || !e->exact_known)
		return charge_estimate(e, cheap_kb, me);
	struct fork_charge fc = { .valid = true };
	/* the difference smaps found (MAP_NORESERVE, DONTFORK, read-only but
	 * accounted) stays; what VmData + VmStk did since is added to it */
	int64_t corr = (int64_t)e->exact.charge_kb - (int64_t)e->cheap_kb;
	fc.basis = cheap_kb == e->cheap_kb ? CHARGE_EXACT : CHARGE_CORRECTED;
	if (e->fork_newer && e->fork_dontfork_kb < e->exact.dontfork_kb) {
		/* a fork since the read showed less DONTFORK memory than smaps
		 * did (a region unmapped or MADV_DOFORK'ed): charged again.  A
		 * larger share never lowers an exact charge (VmData counts
		 * MAP_NORESERVE DONTFORK regions smaps already left out). */
		corr += (int64_t)(e->exact.dontfork_kb - e->fork_dontfork_kb);
		fc.basis = CHARGE_CORRECTED;
	}
	int64_t kb = (int64_t)cheap_kb + corr;
	fc.kb = kb > 0 ? (uint64_t)kb : 0;
	fc.largest_kb = e->exact.largest_kb < fc.kb ? e->exact.largest_kb : fc.kb;
	fc.largest_known = true;
	fc.noreserve_kb = e->exact.noreserve_kb;
	return fc;
}
