/* commands.c - the one-shot subcommands: each is load policy -> observe ->
 * plan -> report, and apply/restore add the single applier. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply.h"
#include "cli.h"
#include "cmd_refusal.h"
#include "diag.h"
#include "escape.h"
#include "forkobs.h"
#include "journal.h"
#include "learn.h"
#include "log.h"
#include "plan.h"
#include "policy.h"
#include "report.h"
#include "snapshot.h"
#include "state.h"

/* Every problem as FILE:LINE: message on stderr, then the caller exits 1. */
int cli_load_policy(const char *const *paths, size_t n, struct policy *pol)
{
	struct diags d;
	diags_init(&d);
	int rc = policy_load(paths, n, true, pol, &d);
	for (size_t i = 0; i < d.n; i++) {
		char shown[ESC_SIZE(1024)];
		fprintf(stderr, "%s\n", esc_str(d.msg[i], shown, sizeof(shown)));
	}
	if (rc < 0 && d.n == 0)
		log_errno(LOG_LVL_ERR, rc, "loading policies");
	if (rc < 0)
		fprintf(stderr, "overcommitd: %zu problem%s in policy; nothing done\n", d.n,
			d.n == 1 ? "" : "s");
	diags_free(&d);
	return rc;
}

struct session {
	struct policy pol;
	struct snapshot snap;
	struct plan plan;
	struct refusal_book *refusals; /* the daemon's, cited in the plan's risks */
};

/* What the daemon learned about each service's fork episodes and its
 * workers' lifetime growth (read-only here), so one-shot commands size
 * auto limits as the daemon does and `recommend` does not report the
 * daemon's values as drift.  NULL: no episode learned (the planner then
 * uses the default for every service). */
static struct learn_estimate *learned_estimates(const struct cli *c, const struct policy *pol,
						struct snapshot *snap)
{
	struct svc_learning *all = NULL;
	size_t n = 0;
	int rc = state_learned_load(c, &all, &n);
	if (rc < 0 || n == 0) {
		free(all);
		return NULL;
	}
	cli_learned_workers(all, n, pol, snap);
	struct learn_estimate *est = cli_learned_for(all, n, pol, snap, (uint64_t)time(NULL));
	free(all);
	return est;
}

void cli_learned_workers(const struct svc_learning *all, size_t n, const struct policy *pol,
			 struct snapshot *snap)
{
	for (size_t i = 0; i < snap->nsvc; i++) {
		struct svc_obs *o = &snap->svc[i];
		const struct svc_learning *l = learn_find(all, n, pol->svc[o->policy_idx].name);
		if (l)
			o->worker_growth_kb = wg_estimate(&l->workers, NULL, &o->worker_growth_n);
	}
}

struct learn_estimate *cli_learned_for(const struct svc_learning *all, size_t n,
				       const struct policy *pol, const struct snapshot *snap,
				       uint64_t now)
{
	if (n == 0)
		return NULL;
	struct learn_estimate *est = calloc(snap->nsvc ? snap->nsvc : 1, sizeof(*est));
	for (size_t i = 0; est && i < snap->nsvc; i++)
		est[i] = learn_estimate_named(all, n, pol->svc[snap->svc[i].policy_idx].name, now);
	return est;
}

static int observe_and_plan(const struct cli *c, struct session *s)
{
	memset(s, 0, sizeof(*s));
	if (cli_load_policy(c->policy_dirs, c->npolicy_dirs, &s->pol) < 0)
		return -EINVAL;
	int rc = snapshot_take(&c->roots, &s->pol, &s->snap);
	if (rc < 0) {
		log_errno(LOG_LVL_ERR, rc, "observing %s", c->roots.procfs);
		policy_free(&s->pol);
		return rc;
	}
	/* one-shot: every main is a first sighting, so its exact fork charge
	 * is read from smaps (~9 ms per GiB, once per command) */
	struct charge_cache cc = { 0 };
	struct fork_obs_stats fst;
	rc = fork_observe(&c->roots, &s->snap, &cc, 0, NULL, &fst);
	charge_cache_free(&cc);
	if (rc < 0) {
		log_errno(LOG_LVL_ERR, rc, "reading fork charges");
		snapshot_free(&s->snap);
		policy_free(&s->pol);
		return rc;
	}
	if (fst.smaps_failed)
		log_debug("%u main process%s' smaps unreadable: fork charges are estimates",
			 fst.smaps_failed, fst.smaps_failed == 1 ? "" : "es");
	state_note_originals(c, &s->snap);
	struct learn_estimate *est = learned_estimates(c, &s->pol, &s->snap);
	rc = plan_build(&s->pol, &s->snap, est, &s->plan);
	free(est);
	if (rc == 0)
		s->refusals = cli_refusals(c, &s->pol, &s->plan);
	if (rc < 0) {
		log_errno(LOG_LVL_ERR, rc, "planning");
		snapshot_free(&s->snap);
		policy_free(&s->pol);
	}
	return rc;
}

static void session_end(struct session *s)
{
	free(s->refusals);
	plan_free(&s->plan);
	snapshot_free(&s->snap);
	policy_free(&s->pol);
}

static int render(const struct cli *c, const struct report_in *in)
{
	int rc = c->format == FMT_JSON   ? report_json(stdout, in)
		 : c->format == FMT_PROM ? report_prometheus(stdout, in)
		                         : report_text(stdout, in);
	if (rc < 0)
		log_errno(LOG_LVL_ERR, rc, "writing the report");
	return rc;
}

/* Report a plan without writing: recommend, status, and apply under
 * enforce = no.  Exit 2 when changes are recommended (not for status). */
static int report_only(const struct cli *c, struct session *s, enum report_mode mode)
{
	struct report_in in = { .mode = mode, .pol = &s->pol, .snap = &s->snap, .plan = &s->plan,
				.verbose = c->verbosity > 0, .enforce_off = mode == RPT_APPLY,
				.refusals = s->refusals };
	int rc = render(c, &in);
	return rc < 0 ? EXIT_ERR : mode == RPT_STATUS ? EXIT_OK
				 : s->plan.nact ? EXIT_CHANGES : EXIT_OK;
}

static int recommend_like(const struct cli *c, enum report_mode mode)
{
	struct session s;
	if (observe_and_plan(c, &s) < 0)
		return EXIT_ERR;
	int code = report_only(c, &s, mode);
	session_end(&s);
	return code;
}

int cmd_recommend(const struct cli *c)
{
	return recommend_like(c, RPT_RECOMMEND);
}

int cmd_status(const struct cli *c)
{
	return recommend_like(c, RPT_STATUS);
}

int cmd_apply(const struct cli *c)
{
	struct session s;
	if (observe_and_plan(c, &s) < 0)
		return EXIT_ERR;
	if (!s.pol.host.enforce) {
		/* recommend-only policy: say so, write nothing (DESIGN §6 enforce) */
		log_warn("enforce = no in [host]: apply only reports; nothing is written");
		int code = report_only(c, &s, RPT_APPLY);
		session_end(&s);
		return code;
	}
	struct journal j;
	int rc = state_journal_open(c, JOURNAL_CREATE, &j);
	if (rc < 0) {
		journal_close(&j);
		session_end(&s);
		return EXIT_ERR;
	}
	size_t pruned = apply_prune_exited(&c->roots, &j);
	if (pruned)
		log_info("state journal: %zu entr%s of exited processes dropped", pruned,
			 pruned == 1 ? "y" : "ies");
	struct apply_result *res = calloc(s.plan.nact ? s.plan.nact : 1, sizeof(*res));
	if (!res) {
		journal_close(&j);
		session_end(&s);
		return EXIT_ERR;
	}
	int failed = apply_plan(&c->roots, &s.plan, &j, res);
	if (failed < 0)
		log_errno(LOG_LVL_ERR, failed, "state journal %s: stopped before the next write",
			  j.path);
	int saved = journal_save(&j); /* the drops, when nothing was recorded */
	if (saved < 0)
		log_errno(LOG_LVL_WARN, saved, "state journal %s: exited processes' entries stay",
			  j.path);
	struct report_in in = { .mode = RPT_APPLY, .pol = &s.pol, .snap = &s.snap, .plan = &s.plan,
				.res = res, .verbose = c->verbosity > 0 };
	rc = render(c, &in);
	for (size_t i = 0; i < s.plan.nact; i++)
		if (res[i].status == AP_FAILED)
			log_errno(LOG_LVL_ERR, res[i].err, "%s %s", action_kind_name(s.plan.act[i].kind),
				  s.plan.act[i].target);
	free(res);
	int closed = journal_close(&j); /* journal.pids is never fsync'd: its close speaks last */
	if (closed < 0)
		log_errno(LOG_LVL_ERR, closed, "state journal %s: closing journal.pids", j.path);
	session_end(&s);
	return (failed != 0 || rc < 0 || closed < 0) ? EXIT_ERR : EXIT_OK;
}

int cmd_validate(const struct cli *c)
{
	struct policy pol;
	const char *const *paths = c->nargs ? c->args : c->policy_dirs;
	size_t n = c->nargs ? c->nargs : c->npolicy_dirs;
	if (cli_load_policy(paths, n, &pol) < 0)
		return EXIT_ERR;
	for (size_t i = 0; i < pol.notes.n; i++) {
		char shown[ESC_SIZE(1024)];
		fprintf(stderr, "%s\n", esc_str(pol.notes.msg[i], shown, sizeof(shown)));
	}
	if (c->verbosity >= 0)
		printf("policy ok: %zu file%s, %zu service%s\n", pol.nfiles, pol.nfiles == 1 ? "" : "s",
		       pol.nsvc, pol.nsvc == 1 ? "" : "s");
	policy_free(&pol);
	return EXIT_OK;
}

static void restore_line(const struct jentry *e, enum apply_status st, const char *detail, void *arg)
{
	(void)arg;
	char key[ESC_SIZE(JOURNAL_KEY_MAX)], orig[ESC_SIZE(JOURNAL_KEY_MAX)];
	char why[ESC_SIZE(256)];
	esc_str(e->key, key, sizeof(key));
	esc_str(e->original, orig, sizeof(orig));
	if (e->earlier_boot && st != AP_FAILED)
		log_warn("%s %s: original %s was recorded before the last reboot; %s",
			 journal_kind_name(e->kind), key, orig,
			 st == AP_DONE ? "restored anyway" : "nothing to write");
	printf("%-9s %s %s -> %s%s%s\n", apply_status_name(st), journal_kind_name(e->kind), key, orig,
	       detail[0] ? ": " : "", esc_str(detail, why, sizeof(why)));
}

int cmd_restore(const struct cli *c)
{
	struct journal j;
	int rc = state_journal_open(c, 0, &j);
	if (rc < 0) {
		journal_close(&j);
		return EXIT_ERR;
	}
	if (j.n == 0) {
		rc = journal_save(&j); /* an earlier boot's journal of processes only */
		printf("nothing to restore: the journal in %s is empty\n", c->state_dir);
		if (rc < 0)
			log_errno(LOG_LVL_ERR, rc, "state journal %s could not be updated", j.path);
		journal_close(&j);
		return rc < 0 ? EXIT_ERR : EXIT_OK;
	}
	struct restore_result r = { 0 };
	rc = restore_all(&c->roots, &j, &r, restore_line, NULL);
	size_t left = rc < 0 ? r.restored + r.skipped + r.failed : r.failed;
	printf("restored %zu, skipped %zu (target gone), failed %zu; %zu entr%s left in the journal\n",
	       r.restored, r.skipped, r.failed, left, left == 1 ? "y" : "ies");
	if (rc < 0)
		log_errno(LOG_LVL_ERR, rc, "state journal %s could not be updated: every entry was "
					   "still tried (see above); the file keeps them all, a later "
					   "restore writes the same values again", j.path);
	journal_close(&j);
	return (rc < 0 || r.failed) ? EXIT_ERR : EXIT_OK;
}
