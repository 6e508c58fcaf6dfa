/* report.c - text for people, JSON (json-c) for fleet tooling. */
#include "report.h"
#include "report_refusal.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>

#include "escape.h"
#include "jsonval.h"
#include "oomconflict.h"
#include "util.h"

#define KB(v) fmt_kb((v), (char[24]){ 0 }, 24)
#define SKB(v) fmt_skb((v), (char[24]){ 0 }, 24)

const char *apply_status_name(enum apply_status st)
{
	switch (st) {
	case AP_DONE: return "done";
	case AP_UNCHANGED: return "unchanged";
	case AP_SKIPPED: return "skipped";
	case AP_FAILED: return "failed";
	}
	return "unknown";
}


/* The hierarchy holding the memory controller, for the host section. */
static const char *cg_hier_text(enum cg_hier h)
{
	switch (h) {
	case CG_HIER_V2: return "cgroup v2 (unified)";
	case CG_HIER_V1: return "cgroup v1 (memory.limit_in_bytes, memory.soft_limit_in_bytes)";
	case CG_HIER_HYBRID: return "cgroup v1 (hybrid: cgroup2 without memory beside it)";
	case CG_HIER_NONE: break;
	}
	return "none";
}

static const char *svc_name(const struct report_in *in, size_t i)
{
	return in->pol->svc[in->snap->svc[i].policy_idx].name;
}

/* ---- text ---------------------------------------------------------------- */

static void text_host(FILE *out, const struct report_in *in)
{
	const struct snapshot *s = in->snap;
	const struct plan *p = in->plan;
	const int64_t *v = s->vm.v;
	fprintf(out, "host: vm.overcommit_memory=%" PRId64 " (%s), overcommit_ratio=%" PRId64
		     ", overcommit_kbytes=%" PRId64 ", user_reserve_kbytes=%" PRId64
		     ", admin_reserve_kbytes=%" PRId64 "\n",
		v[VM_OVERCOMMIT_MEMORY], vm_mode_name(v[VM_OVERCOMMIT_MEMORY]), v[VM_OVERCOMMIT_RATIO],
		v[VM_OVERCOMMIT_KBYTES], v[VM_USER_RESERVE_KBYTES], v[VM_ADMIN_RESERVE_KBYTES]);
	fprintf(out, "      RAM %s (available %s), swap %s; CommitLimit %s, Committed_AS %s, "
		     "headroom %s\n",
		KB(s->mem.mem_total_kb), KB(s->mem.mem_available_kb), KB(s->mem.swap_total_kb),
		KB(p->commit_limit_kb), KB(s->mem.committed_as_kb), SKB(p->commit_headroom_kb));
	if (!s->cgroup2)
		fprintf(out, "      cgroups: no memory controller (neither cgroup v2 nor v1)\n");
	else if (s->cg_hier == CG_HIER_V2 &&
		 (s->favordynmods == CGOPT_ON || s->favordynmods == CGOPT_OFF))
		fprintf(out, "      cgroups: memory controller on %s, favordynmods %s\n",
			cg_hier_text(s->cg_hier), cgopt_state_name(s->favordynmods));
	else
		fprintf(out, "      cgroups: memory controller on %s\n", cg_hier_text(s->cg_hier));
}

static const char *verdict_word(enum fork_verdict v)
{
	return v == FORK_FITS ? "fits" : v == FORK_FAILS ? "FAILS" : "UNCERTAIN";
}

/* Long-lived workers: private memory now, growth over a worker's life. */
static void text_workers(FILE *out, const struct svc_obs *o, const struct svc_eval *e)
{
	fprintf(out, "      workers' private anon %s each now", KB(e->worker_private_kb));
	if (o->worker_growth_n)
		fprintf(out, ", %s over a worker's life (learned from %zu worker%s)",
			KB(e->worker_growth_kb), o->worker_growth_n,
			o->worker_growth_n == 1 ? "" : "s");
	else
		fprintf(out, ", growth over a worker's life not learned yet (the daemon learns it)");
	if (e->workers_room_kb)
		fprintf(out, "; room to grow %s", KB(e->workers_room_kb));
	fputc('\n', out);
}

/* The instance whose main is the service's main (NULL when not running). */
static const struct svc_inst *main_inst(const struct svc_obs *o)
{
	for (size_t k = 0; o->inst && k < o->ninst; k++)
		if ((long)o->inst[k].main == (long)o->main_idx)
			return &o->inst[k];
	return NULL;
}

/* " (-900 before overcommitd)": the journal's original of a main that
 * overcommitd wrote; "" when it never did (or the journal was not read). */
static const char *orig_note(const struct svc_inst *in, char *buf, size_t size)
{
	if (!in || in->main_was_adj == OOM_ORIG_UNKNOWN)
		return "";
	snprintf(buf, size, " (%d before overcommitd)", in->main_was_adj);
	return buf;
}

static void text_services(FILE *out, const struct report_in *in)
{
	const struct snapshot *s = in->snap;
	for (size_t i = 0; i < s->nsvc; i++) {
		const struct svc_obs *o = &s->svc[i];
		const struct svc_eval *e = &in->plan->eval[i];
		if (o->main_idx < 0) {
			fprintf(out, "service %s: not running\n", svc_name(in, i));
			continue;
		}
		const struct proc_info *m = &o->procs[o->main_idx];
		char comm[ESC_SIZE(PROC_COMM_MAX)], cg[ESC_SIZE(PROC_PATH_MAX)];
		fprintf(out, "service %s: pid %d (%s), %zu process%s, %zu child%s of main; cgroup %s%s\n",
			svc_name(in, i), m->pid, esc_str(m->st.comm, comm, sizeof(comm)), o->nprocs,
			o->nprocs == 1 ? "" : "es", e->forks, e->forks == 1 ? "" : "ren",
			o->cgroup[0] ? esc_str(o->cgroup, cg, sizeof(cg)) : "(none)",
			o->own_cgroup ? "" : " (not its own)");
		char was[48];
		fprintf(out, "      commit %s, anon %s, COW amplification %.2f, oom_score_adj %d%s\n",
			KB(e->commit_kb), KB(e->anon_kb), e->cow_amplification, m->oom_score_adj,
			orig_note(main_inst(o), was, sizeof(was)));
		if (o->ninst > 1 || e->workers > 0)
			fprintf(out, "      %zu instance%s; %zu worker%s, %s of commit each, %s in all "
				     "(service total %s)\n",
				o->ninst, o->ninst == 1 ? "" : "s", e->workers,
				e->workers == 1 ? "" : "s", KB(e->commit_per_worker_kb),
				KB(e->workers_commit_kb), KB(e->commit_kb));
		if (e->workers > 0)
			text_workers(out, o, e);
		for (size_t k = 0; o->ninst > 1 && k < o->ninst; k++)
			fprintf(out, "      instance pid %d: commit %s, %zu child%s, oom_score_adj %d%s\n",
				o->procs[o->inst[k].main].pid, KB(o->inst[k].commit_kb),
				o->inst[k].nchildren, o->inst[k].nchildren == 1 ? "" : "ren",
				o->procs[o->inst[k].main].oom_score_adj,
				orig_note(&o->inst[k], was, sizeof(was)));
		fprintf(out, "      fork needs %s of commit (%s): %s now (headroom %s",
			KB(e->fork.need_kb), charge_basis_name(e->fork.basis),
			verdict_word(e->fork.verdict), SKB(e->fork.headroom_kb));
		if (e->fork.slack_kb)
			fprintf(out, ", band +-%s", KB(e->fork.slack_kb));
		fputc(')', out);
		if (in->mode != RPT_STATUS && in->plan->nact)
			fprintf(out, ", %s after the plan (headroom %s)",
				verdict_word(e->fork_after.verdict), SKB(e->fork_after.headroom_kb));
		fputc('\n', out);
	}
}

/* One numbered change; everything from a process or a cgroup escaped. */
static void text_action(FILE *out, const struct report_in *in, size_t i)
{
	const struct action *a = &in->plan->act[i];
	char at[512], tg[ESC_SIZE(PROC_PATH_MAX)], cur[ESC_SIZE(PROC_PATH_MAX)];
	char want[ESC_SIZE(PROC_PATH_MAX)], why[ESC_SIZE(PLAN_TEXT_MAX)];
	origin_fmt(&a->policy, at, sizeof(at));
	fprintf(out, "  %zu. %s %s: %s -> %s", i + 1, action_kind_name(a->kind),
		esc_str(a->target, tg, sizeof(tg)), esc_str(a->current, cur, sizeof(cur)),
		esc_str(a->desired, want, sizeof(want)));
	if (in->res) {
		char detail[ESC_SIZE(sizeof(in->res[i].detail))];
		fprintf(out, "  [%s%s%s]", apply_status_name(in->res[i].status),
			in->res[i].detail[0] ? ": " : "",
			esc_str(in->res[i].detail, detail, sizeof(detail)));
	}
	fprintf(out, "\n     why: %s\n     policy: %s\n", esc_str(a->reason, why, sizeof(why)), at);
}

int report_text(FILE *out, const struct report_in *in)
{
	const struct plan *p = in->plan;
	char buf[ESC_SIZE(PLAN_TEXT_MAX)];
	text_host(out, in);
	text_services(out, in);
	if (p->nrisk) {
		fprintf(out, "\nrisks (%zu):\n", p->nrisk);
		for (size_t i = 0; i < p->nrisk; i++)
			fprintf(out, "  ! %s\n", esc_str(p->risk[i].message, buf, sizeof(buf)));
	}
	fprintf(out, "\ndecision: %s\n", esc_str(p->host_summary, buf, sizeof(buf)));
	if (in->mode == RPT_STATUS) {
		if (in->refusals)
			report_refusals_text(out, in->refusals);
		fprintf(out, "%zu change%s recommended%s\n", p->nact, p->nact == 1 ? "" : "s",
			p->nact ? " (overcommitd recommend shows them)" : "");
		return ferror(out) ? -EIO : 0;
	}
	if (p->nact == 0) {
		fprintf(out, "compliant: no change needed\n");
		return ferror(out) ? -EIO : 0;
	}
	fprintf(out, "\nchanges (%zu)%s:\n", p->nact,
		in->mode == RPT_APPLY && !in->enforce_off ? ""
							  : " — dry run, nothing written");
	for (size_t i = 0; i < p->nact; i++)
		text_action(out, in, i);
	if (in->enforce_off)
		fprintf(out, "\nenforce = no: apply wrote nothing (set enforce = yes in [host])\n");
	return ferror(out) ? -EIO : 0;
}

/* ---- JSON ---------------------------------------------------------------- */

static void put_null(json_object *o, const char *k, int *rc)
{
	if (*rc == 0 && json_object_object_add(o, k, NULL) != 0)
		*rc = -ENOMEM;
}

static json_object *jstr(const char *s)
{
	return json_object_new_string(s ? s : "");
}

static json_object *jbytes(uint64_t b)
{
	return b == CG_UNLIMITED ? json_object_new_string("max") : json_object_new_int64((int64_t)b);
}

static json_object *json_host(const struct report_in *in)
{
	const struct snapshot *s = in->snap;
	const struct plan *p = in->plan;
	json_object *h = json_object_new_object();
	if (!h)
		return NULL;
	int rc = 0;
	for (int k = 0; k < VM_NKNOBS; k++) /* "vm.x" -> "x" */
		jsonval_put(h, vm_knob_name((enum vm_knob)k) + 3, json_object_new_int64(s->vm.v[k]), &rc);
	jsonval_put(h, "mem_total_kb", json_object_new_int64((int64_t)s->mem.mem_total_kb), &rc);
	jsonval_put(h, "mem_available_kb", json_object_new_int64((int64_t)s->mem.mem_available_kb), &rc);
	jsonval_put(h, "swap_total_kb", json_object_new_int64((int64_t)s->mem.swap_total_kb), &rc);
	jsonval_put(h, "hugetlb_kb", json_object_new_int64((int64_t)s->mem.hugetlb_kb), &rc);
	jsonval_put(h, "commit_limit_kb", json_object_new_int64((int64_t)p->commit_limit_kb), &rc);
	jsonval_put(h, "meminfo_commit_limit_kb",
		       json_object_new_int64((int64_t)s->mem.commit_limit_kb), &rc);
	jsonval_put(h, "committed_as_kb", json_object_new_int64((int64_t)s->mem.committed_as_kb), &rc);
	jsonval_put(h, "commit_headroom_kb", json_object_new_int64(p->commit_headroom_kb), &rc);
	jsonval_put(h, "cgroup2_memory", json_object_new_boolean(s->cg_hier == CG_HIER_V2), &rc);
	jsonval_put(h, "cgroup_hierarchy", jstr(cg_hier_name(s->cg_hier)), &rc);
	jsonval_put(h, "cgroup2_favordynmods", jstr(cgopt_state_name(s->favordynmods)), &rc);
	jsonval_put(h, "overcommit_memory_after", json_object_new_int(p->mode_after), &rc);
	jsonval_put(h, "commit_limit_after_kb",
		       json_object_new_int64((int64_t)p->commit_limit_after_kb), &rc);
	jsonval_put(h, "decision", jstr(p->host_summary), &rc);
	if (rc) {
		json_object_put(h);
		return NULL;
	}
	return h;
}


/* The main's oom_score_adj before overcommitd wrote it (the journal's
 * original), null when overcommitd never wrote it or it is not known. */
static void put_orig(json_object *x, const struct svc_inst *in, int *rc)
{
	if (in && in->main_was_adj != OOM_ORIG_UNKNOWN)
		jsonval_put(x, "oom_score_adj_original", json_object_new_int(in->main_was_adj), rc);
	else
		put_null(x, "oom_score_adj_original", rc);
}

/* Instances and long-lived children: each main with its children;
 * workers, their commit (each fork charged its parent's), look-alikes left alone. */
static void instances_json(json_object *j, const struct svc_obs *o, const struct svc_eval *e,
			   int *rc)
{
	json_object *arr = json_object_new_array();
	for (size_t k = 0; arr && k < o->ninst && *rc == 0; k++) {
		const struct svc_inst *in = &o->inst[k];
		json_object *x = json_object_new_object();
		if (!x || json_object_array_add(arr, x)) {
			json_object_put(x);
			*rc = -ENOMEM;
			break;
		}
		jsonval_put(x, "main_pid", json_object_new_int(o->procs[in->main].pid), rc);
		jsonval_put(x, "children", json_object_new_int64((int64_t)in->nchildren), rc);
		jsonval_put(x, "members", json_object_new_int64((int64_t)in->nmembers), rc);
		jsonval_put(x, "commit_kb", json_object_new_int64((int64_t)in->commit_kb), rc);
		jsonval_put(x, "oom_score_adj", json_object_new_int(o->procs[in->main].oom_score_adj),
			    rc);
		put_orig(x, in, rc);
	}
	put_orig(j, main_inst(o), rc); /* the service's main */
	jsonval_put(j, "instances", json_object_new_int64((int64_t)o->ninst), rc);
	jsonval_put(j, "instance_list", arr, rc);
	jsonval_put(j, "forks_failing", json_object_new_int64((int64_t)e->forks_failing), rc);
	jsonval_put(j, "workers", json_object_new_int64((int64_t)e->workers), rc);
	jsonval_put(j, "workers_commit_kb", json_object_new_int64((int64_t)e->workers_commit_kb), rc);
	jsonval_put(j, "commit_per_worker_kb",
		    json_object_new_int64((int64_t)e->commit_per_worker_kb), rc);
	jsonval_put(j, "untrusted_matches", json_object_new_int64((int64_t)o->nuntrusted), rc);
	/* the unit and its OOMPolicy (null: not a unit, or systemd did not say) */
	if (o->unit[0])
		jsonval_put(j, "unit", jstr(o->unit), rc);
	else
		put_null(j, "unit", rc);
	if (o->oom_policy[0])
		jsonval_put(j, "unit_oom_policy", jstr(o->oom_policy), rc);
	else
		put_null(j, "unit_oom_policy", rc);
	jsonval_put(j, "worker_private_kb", json_object_new_int64((int64_t)e->worker_private_kb), rc);
	jsonval_put(j, "worker_growth_kb", json_object_new_int64((int64_t)e->worker_growth_kb), rc);
	jsonval_put(j, "worker_growth_learned_from",
		    json_object_new_int64((int64_t)o->worker_growth_n), rc);
	jsonval_put(j, "workers_room_kb", json_object_new_int64((int64_t)e->workers_room_kb), rc);
	/* children holding an oom_score_adj they set themselves: left alone */
	jsonval_put(j, "oom_score_adj_own", json_object_new_int64((int64_t)e->oom_self_set), rc);
}

static json_object *json_service(const struct report_in *in, size_t i)
{
	const struct svc_obs *o = &in->snap->svc[i];
	const struct svc_eval *e = &in->plan->eval[i];
	const struct pol_service *ps = &in->pol->svc[o->policy_idx];
	json_object *j = json_object_new_object();
	json_object *pids = json_object_new_array();
	if (!j || !pids) {
		json_object_put(j);
		json_object_put(pids);
		return NULL;
	}
	int rc = 0;
	jsonval_put(j, "name", jstr(ps->name), &rc);
	for (size_t k = 0; k < o->nprocs && rc == 0; k++)
		rc = json_object_array_add(pids, json_object_new_int(o->procs[k].pid)) ? -ENOMEM : 0;
	jsonval_put(j, "pids", pids, &rc); /* releases pids itself on failure */
	bool run = o->main_idx >= 0;
	const struct proc_info *m = run ? &o->procs[o->main_idx] : NULL;
	char at[512];
	origin_fmt(&ps->at, at, sizeof(at));
	jsonval_put(j, "running", json_object_new_boolean(run), &rc);
	if (run)
		jsonval_put(j, "main_pid", json_object_new_int(m->pid), &rc);
	else
		put_null(j, "main_pid", &rc);
	jsonval_put(j, "main_comm", jstr(run ? m->st.comm : ""), &rc);
	jsonval_put(j, "cgroup", jstr(o->cgroup), &rc);
	jsonval_put(j, "own_cgroup", json_object_new_boolean(o->own_cgroup), &rc);
	jsonval_put(j, "commit_kb", json_object_new_int64((int64_t)e->commit_kb), &rc);
	jsonval_put(j, "anon_kb", json_object_new_int64((int64_t)e->anon_kb), &rc);
	jsonval_put(j, "cow_amplification", json_object_new_double(e->cow_amplification), &rc);
	jsonval_put(j, "forks", json_object_new_int64((int64_t)e->forks), &rc);
	jsonval_put(j, "oom_score_adj", json_object_new_int(run ? m->oom_score_adj : 0), &rc);
	jsonval_put(j, "fork_need_kb", json_object_new_int64((int64_t)e->fork.need_kb), &rc);
	jsonval_put(j, "fork_headroom_kb", json_object_new_int64(e->fork.headroom_kb), &rc);
	jsonval_put(j, "fork_fits", json_object_new_boolean(run && e->fork.fits), &rc);
	jsonval_put(j, "fork_headroom_after_kb", json_object_new_int64(e->fork_after.headroom_kb), &rc);
	jsonval_put(j, "fork_fits_after", json_object_new_boolean(run && e->fork_after.fits), &rc);
	/* three-way fork verdicts (fits/uncertain/fails) and what they rest on */
	jsonval_put(j, "fork_verdict", jstr(run ? fork_verdict_name(e->fork.verdict) : ""), &rc);
	jsonval_put(j, "fork_verdict_after", jstr(run ? fork_verdict_name(e->fork_after.verdict) : ""), &rc);
	jsonval_put(j, "fork_charge_basis", jstr(run ? charge_basis_name(e->fork.basis) : ""), &rc);
	jsonval_put(j, "fork_largest_vma_kb", json_object_new_int64((int64_t)e->fork.largest_kb), &rc);
	jsonval_put(j, "fork_slack_kb", json_object_new_int64((int64_t)e->fork.slack_kb), &rc);
	jsonval_put(j, "admin_reserve_exempt", json_object_new_boolean(run && e->fork.admin_exempt), &rc);
	if (o->cg.present) {
		jsonval_put(j, "memory_current", jbytes(o->cg.current), &rc);
		jsonval_put(j, "memory_high", jbytes(o->cg.high), &rc);
		jsonval_put(j, "memory_max", jbytes(o->cg.max), &rc);
	}
	instances_json(j, o, e, &rc);
	jsonval_put(j, "policy", jstr(at), &rc);
	if (rc) {
		json_object_put(j);
		return NULL;
	}
	return j;
}

static json_object *json_action(const struct report_in *in, size_t i)
{
	const struct action *a = &in->plan->act[i];
	json_object *j = json_object_new_object();
	if (!j)
		return NULL;
	char at[512];
	origin_fmt(&a->policy, at, sizeof(at));
	int rc = 0;
	jsonval_put(j, "kind", jstr(action_kind_name(a->kind)), &rc);
	jsonval_put(j, "target", jstr(a->target), &rc);
	jsonval_put(j, "current", jstr(a->current), &rc);
	jsonval_put(j, "desired", jstr(a->desired), &rc);
	jsonval_put(j, "reason", jstr(a->reason), &rc);
	jsonval_put(j, "policy", jstr(at), &rc);
	if (a->service)
		jsonval_put(j, "service", jstr(a->service), &rc);
	if (a->pid)
		jsonval_put(j, "pid", json_object_new_int(a->pid), &rc);
	if (a->cgroup[0])
		jsonval_put(j, "cgroup", jstr(a->cgroup), &rc);
	if (in->res) {
		jsonval_put(j, "result", jstr(apply_status_name(in->res[i].status)), &rc);
		jsonval_put(j, "detail", jstr(in->res[i].detail), &rc);
	}
	if (rc) {
		json_object_put(j);
		return NULL;
	}
	return j;
}

static json_object *json_risk(const struct risk *r)
{
	json_object *j = json_object_new_object();
	if (!j)
		return NULL;
	int rc = 0;
	jsonval_put(j, "kind", jstr(r->kind), &rc);
	if (r->service)
		jsonval_put(j, "service", jstr(r->service), &rc);
	else
		put_null(j, "service", &rc);
	jsonval_put(j, "message", jstr(r->message), &rc);
	if (rc) {
		json_object_put(j);
		return NULL;
	}
	return j;
}

static int fill_array(json_object *root, const char *key, size_t n,
		      json_object *(*make)(const struct report_in *, size_t), const struct report_in *in)
{
	json_object *arr = json_object_new_array();
	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_object *e = make(in, i);
		if (!e || json_object_array_add(arr, e) != 0) {
			json_object_put(e);
			json_object_put(arr);
			return -ENOMEM;
		}
	}
	return jsonval_add(root, key, arr);
}

static json_object *risk_at(const struct report_in *in, size_t i)
{
	return json_risk(&in->plan->risk[i]);
}

struct json_object *report_json_object(const struct report_in *in)
{
	static const char *const modes[] = { "recommend", "apply", "status" };
	json_object *root = json_object_new_object();
	if (!root)
		return NULL;
	int rc = 0;
	jsonval_put(root, "version", jstr(OVERCOMMITD_VERSION), &rc);
	jsonval_put(root, "command", jstr(modes[in->mode]), &rc);
	jsonval_put(root, "host", json_host(in), &rc);
	if (rc == 0)
		rc = fill_array(root, "services", in->snap->nsvc, json_service, in);
	if (rc == 0)
		rc = fill_array(root, "risks", in->plan->nrisk, risk_at, in);
	if (rc == 0)
		rc = fill_array(root, "actions", in->plan->nact, json_action, in);
	jsonval_put(root, "changes", json_object_new_int64((int64_t)in->plan->nact), &rc);
	if (in->refusals && in->mode == RPT_STATUS)
		jsonval_put(root, "commit_refusals", report_refusals_json(in->refusals), &rc);
	if (in->mode == RPT_APPLY)
		jsonval_put(root, "written", json_object_new_boolean(!in->enforce_off), &rc);
	if (rc) {
		json_object_put(root);
		return NULL;
	}
	return root;
}

int report_json(FILE *out, const struct report_in *in)
{
	json_object *root = report_json_object(in);
	if (!root)
		return -ENOMEM;
	int rc = 0;
	const char *txt = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
								  JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!txt || fprintf(out, "%s\n", txt) < 0)
		rc = -EIO;
	json_object_put(root);
	return rc;
}
