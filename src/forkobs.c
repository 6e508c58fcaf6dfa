/* forkobs.c - on-demand smaps reads for the fork verdict (rules in the
 * header; the kernel rules themselves are in forkcharge.c, model.c). */
#include "forkobs.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void charge_reqs_free(struct charge_reqs *q)
{
	free(q->r);
	memset(q, 0, sizeof(*q));
}

static int reqs_add(struct charge_reqs *q, const struct charge_req *rq)
{
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 8;
		struct charge_req *nr = realloc(q->r, cap * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		q->r = nr;
		q->cap = cap;
	}
	q->r[q->n++] = *rq;
	return 0;
}

struct fork_input fork_input_of(const struct snapshot *s, size_t i, size_t k,
				const struct vm_sysctls *vm, bool commit_limit_now)
{
	const struct svc_obs *o = &s->svc[i];
	const struct svc_inst *inst = &o->inst[k];
	const struct proc_info *m = &o->procs[inst->main];
	struct fork_input in = { .charge = inst->charge, .vm_size_kb = m->status.vm_size_kb };
	if (!inst->charge.valid) /* a snapshot nobody observed the charge for: the estimate */
		in.charge = fork_charge_from(NULL, proc_commit_kb(m), NULL);
	in.admin_exempt = admin_exemption(m->status.cap_eff, inst->userns, &s->admin) == ADM_EXEMPT;
	int64_t mode = vm->v[VM_OVERCOMMIT_MEMORY];
	in.slack_kb = commit_slack_kb(s->mem.mem_total_kb, &s->cpus, mode == 0 || mode == 1 ? (int)mode : 2);
	if (commit_limit_now)
		in.commit_limit_kb = s->mem.commit_limit_kb;
	return in;
}

int fork_observe_done(struct charge_cache *cache, const struct charge_req *q, int rc,
		      const struct smaps_charge *sc, uint64_t now_s)
{
	if (rc < 0)
		return charge_cache_failed(cache, q->pid, q->start_time, now_s);
	return charge_cache_put(cache, q->pid, q->start_time, sc, q->cheap_kb, q->vm_data_kb,
				q->mode, now_s);
}

/* The read now, in this thread (one-shot commands, tests). */
static int read_now(const struct roots *r, struct charge_cache *cache, const struct charge_req *q,
		    uint64_t now_s, struct fork_obs_stats *st)
{
	struct smaps_charge sc;
	uint64_t t0 = mono_ns();
	int rc = smaps_charge_read(r, q->pid, &sc);
	st->smaps_ns += mono_ns() - t0;
	if (rc == 0) {
		st->smaps_reads++;
		st->smaps_vm_kb += q->vm_size_kb;
	} else {
		st->smaps_failed++; /* stays an estimate; said so in the report */
	}
	return fork_observe_done(cache, q, rc, &sc, now_s);
}

static int observe_inst(const struct roots *r, struct snapshot *s, size_t i, size_t k,
			struct charge_cache *cache, uint64_t now_s, struct charge_reqs *async,
			struct fork_obs_stats *st)
{
	struct svc_inst *inst = &s->svc[i].inst[k];
	const struct proc_info *m = &s->svc[i].procs[inst->main];
	uint64_t cheap = proc_commit_kb(m);
	int64_t mode = s->vm.v[VM_OVERCOMMIT_MEMORY];

	/* the cheap verdict first: is it inside the band? */
	inst->charge = fork_charge_from(charge_cache_find(cache, m->pid, m->st.start_time), cheap, NULL);
	struct fork_input in = fork_input_of(s, i, k, &s->vm, true);
	struct fork_check cheapv = model_fork_verdict(&s->mem, &s->vm, &in);
	struct charge_req q = { .pid = m->pid, .start_time = m->st.start_time, .cheap_kb = cheap,
				.vm_data_kb = m->status.vm_data_kb,
				.vm_size_kb = m->status.vm_size_kb, .mode = mode };
	q.why = charge_cache_why(cache, m->pid, m->st.start_time, m->status.vm_data_kb, mode,
				 cheapv.verdict == FORK_UNCERTAIN, now_s);
	int rc = 0;
	if (q.why != CHARGE_KEEP && async && async->capped && async->n >= async->max) {
		st->deferred++; /* stays due: asked on a later call */
	} else if (q.why != CHARGE_KEEP && async) {
		rc = reqs_add(async, &q);
		if (rc == 0)
			rc = charge_cache_asked(cache, m->pid, m->st.start_time, now_s);
		st->queued += rc == 0;
	} else if (q.why != CHARGE_KEEP) {
		rc = read_now(r, cache, &q, now_s, st);
	}
	if (rc < 0)
		return rc;
	const struct charge_entry *e = charge_cache_find(cache, m->pid, m->st.start_time);
	struct maps_estimate me;
	bool have_maps = false;
	if ((!e || !e->exact_known) && mode == VM_MODE_HEURISTIC) {
		/* mode 0 judges the largest accounted VMA: maps is cheap */
		have_maps = maps_estimate_read(r, m->pid, &me) == 0;
		st->maps_reads += have_maps;
	}
	inst->charge = fork_charge_from(e, cheap, have_maps ? &me : NULL);
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
		 uint64_t now_s, struct charge_reqs *async, struct fork_obs_stats *stats)
{
	struct fork_obs_stats local;
	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	for (size_t i = 0; i < s->nsvc; i++) {
		struct svc_obs *o = &s->svc[i];
		if (o->main_idx < 0)
			continue;
		for (size_t k = 0; k < o->ninst; k++) {
			int rc = observe_inst(r, s, i, k, cache, now_s, async, stats);
			if (rc < 0)
				return rc;
		}
		o->charge = o->inst[o->place[o->main_idx].inst].charge;
	}
	prune_gone(r, cache);
	return 0;
}
