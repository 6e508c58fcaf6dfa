/* forkobs.c - on-demand smaps reads for the fork verdict (rules in the
 * header; the kernel rules themselves are in forkcharge.c, model.c). */
#include "forkobs.h"

#include <errno.h>
#include <string.h>
#include <time.h>

struct fork_input fork_input_of(const struct snapshot *s, size_t i, const struct vm_sysctls *vm,
				bool commit_limit_now)
{
	const struct svc_obs *o = &s->svc[i];
	const struct proc_info *m = &o->procs[o->main_idx];
	struct fork_input in = { .charge = o->charge, .vm_size_kb = m->status.vm_size_kb };
	if (!o->charge.valid) /* a snapshot nobody observed the charge for: the estimate */
		in.charge = fork_charge_from(NULL, proc_commit_kb(m), NULL);
	in.admin_exempt = admin_exemption(m->status.cap_eff, o->main_userns, &s->admin) == ADM_EXEMPT;
	int64_t mode = vm->v[VM_OVERCOMMIT_MEMORY];
	in.slack_kb = commit_slack_kb(s->mem.mem_total_kb, &s->cpus, mode == 0 || mode == 1 ? (int)mode : 2);
	if (commit_limit_now)
		in.commit_limit_kb = s->mem.commit_limit_kb;
	return in;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int observe_main(const struct roots *r, struct snapshot *s, size_t i,
			struct charge_cache *cache, uint64_t now_s, unsigned max_reads,
			struct fork_obs_stats *st)
{
	struct svc_obs *o = &s->svc[i];
	const struct proc_info *m = &o->procs[o->main_idx];
	uint64_t cheap = proc_commit_kb(m);
	int64_t mode = s->vm.v[VM_OVERCOMMIT_MEMORY];
	const struct charge_entry *e = charge_cache_find(cache, m->pid, m->st.start_time);

	/* the cheap verdict first: is it inside the band? */
	o->charge = fork_charge_from(e, cheap, NULL);
	struct fork_input in = fork_input_of(s, i, &s->vm, true);
	struct fork_check cheapv = model_fork_verdict(&s->mem, &s->vm, &in);
	enum charge_read_why why = charge_cache_why(cache, m->pid, m->st.start_time,
						    m->status.vm_data_kb, mode,
						    cheapv.verdict == FORK_UNCERTAIN, now_s);
	if (why != CHARGE_KEEP && max_reads && st->smaps_reads + st->smaps_failed >= max_reads) {
		st->deferred++; /* a later call reads it */
	} else if (why != CHARGE_KEEP) {
		struct smaps_charge sc;
		uint64_t t0 = mono_ns();
		int rc = smaps_charge_read(r, m->pid, &sc);
		st->smaps_ns += mono_ns() - t0;
		if (rc == 0) {
			st->smaps_reads++;
			st->smaps_vm_kb += m->status.vm_size_kb;
			if (charge_cache_put(cache, m->pid, m->st.start_time, &sc, cheap,
					     m->status.vm_data_kb, mode, now_s) < 0)
				return -ENOMEM;
			e = charge_cache_find(cache, m->pid, m->st.start_time);
		} else {
			st->smaps_failed++; /* stays an estimate; said so in the report */
		}
	}
	struct maps_estimate me;
	bool have_maps = false;
	if (!e && mode == VM_MODE_HEURISTIC) {
		/* mode 0 judges the largest accounted VMA: maps is cheap */
		have_maps = maps_estimate_read(r, m->pid, &me) == 0;
		st->maps_reads += have_maps;
	}
	o->charge = fork_charge_from(e, cheap, have_maps ? &me : NULL);
	return 0;
}

/* Entries of processes that exited (or whose pid was reused) go: the
 * cache stays as large as the set of live mains. */
static void prune_gone(const struct roots *r, struct charge_cache *cache)
{
	for (size_t i = 0; i < cache->n;) {
		uint64_t start;
		const struct charge_entry *e = &cache->e[i];
		if (proc_read_start_time(r, e->pid, &start) < 0 || start != e->start_time)
			charge_cache_forget(cache, e->pid); /* moves the last entry here */
		else
			i++;
	}
}

int fork_observe(const struct roots *r, struct snapshot *s, struct charge_cache *cache,
		 uint64_t now_s, unsigned max_reads, struct fork_obs_stats *stats)
{
	struct fork_obs_stats local;
	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	for (size_t i = 0; i < s->nsvc; i++) {
		if (s->svc[i].main_idx < 0)
			continue;
		int rc = observe_main(r, s, i, cache, now_s, max_reads, stats);
		if (rc < 0)
			return rc;
	}
	prune_gone(r, cache);
	return 0;
}
