/* report_prom.c - the report as Prometheus text exposition format 0.0.4:
 * base units (bytes, not KiB), HELP/TYPE before each family's samples, all
 * samples of a family together, label values escaped.  Tables, not code, say
 * which metric exists, so names and help texts sit in one place. */
#include "report.h"
#include "statedir.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

enum pv_kind { PV_U64 = 0, PV_I64, PV_F64 };

struct pval {
	enum pv_kind kind;
	uint64_t u;
	int64_t i;
	double f;
};

static struct pval u64v(uint64_t u) { return (struct pval){ .kind = PV_U64, .u = u }; }
static struct pval i64v(int64_t i) { return (struct pval){ .kind = PV_I64, .i = i }; }
static struct pval f64v(double f) { return (struct pval){ .kind = PV_F64, .f = f }; }
static struct pval boolv(bool b) { return u64v(b ? 1 : 0); }

/* KiB -> bytes; a figure too big for 64 bits (never real) becomes +Inf
 * rather than wrapping to a small, believable number */
static struct pval kib(uint64_t kb)
{
	return kb > UINT64_MAX / 1024 ? f64v(INFINITY) : u64v(kb * 1024);
}

static struct pval skib(int64_t kb)
{
	if (kb > INT64_MAX / 1024)
		return f64v(INFINITY);
	if (kb < INT64_MIN / 1024)
		return f64v(-INFINITY);
	return i64v(kb * 1024);
}

/* cgroup bytes: "max" is +Inf (the format allows it) */
static struct pval cgbytes(uint64_t b)
{
	return b == CG_UNLIMITED ? f64v(INFINITY) : u64v(b);
}

/* Integers exactly; doubles like Go's strconv 'g' -1: the shorter of
 * %.15g/%.17g that reads back the same double; NaN/+Inf/-Inf spelled as the
 * format wants them. */
static void put_value(FILE *out, struct pval v)
{
	char buf[40] = "";
	switch (v.kind) {
	case PV_U64: snprintf(buf, sizeof(buf), "%" PRIu64, v.u); break;
	case PV_I64: snprintf(buf, sizeof(buf), "%" PRId64, v.i); break;
	case PV_F64:
		if (isnan(v.f))
			snprintf(buf, sizeof(buf), "NaN");
		else if (isinf(v.f))
			snprintf(buf, sizeof(buf), "%s", v.f > 0 ? "+Inf" : "-Inf");
		else {
			snprintf(buf, sizeof(buf), "%.15g", v.f);
			if (strtod(buf, NULL) != v.f)
				snprintf(buf, sizeof(buf), "%.17g", v.f);
		}
		break;
	}
	fputs(buf, out);
}

/* Label values: backslash, double quote and newline are escaped. */
static void put_label_value(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '"')
			fputs("\\\"", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

struct label {
	const char *name, *value;
};

struct family {
	const char *name, *type, *help;
};

/* HELP and TYPE once, before the first sample of a family (a family with
 * no sample gets neither: nothing to describe) */
static void sample(FILE *out, const struct family *f, bool *started, const struct label *l,
		   size_t nl, struct pval v)
{
	if (!*started) {
		fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, f->type);
		*started = true;
	}
	fputs(f->name, out);
	for (size_t i = 0; i < nl; i++) {
		fprintf(out, "%s%s=\"", i ? "," : "{", l[i].name);
		put_label_value(out, l[i].value);
		fputc('"', out);
	}
	fputs(nl ? "} " : " ", out);
	put_value(out, v);
	fputc('\n', out);
}

static void single(FILE *out, const struct family *f, struct pval v)
{
	bool started = false;
	sample(out, f, &started, NULL, 0, v);
}

/* ---- host ---------------------------------------------------------------- */

static void host(FILE *out, const struct report_in *in)
{
	const struct snapshot *s = in->snap;
	const struct plan *p = in->plan;
	static const struct family f[] = {
		{ "overcommitd_commit_limit_bytes", "gauge",
		  "CommitLimit the vm.overcommit_* sysctls give now (enforced under vm.overcommit_memory=2)." },
		{ "overcommitd_committed_bytes", "gauge", "Committed_AS from /proc/meminfo." },
		{ "overcommitd_commit_headroom_bytes", "gauge",
		  "CommitLimit minus Committed_AS; negative when over the limit." },
		{ "overcommitd_overcommit_memory", "gauge",
		  "vm.overcommit_memory: 0 heuristic, 1 always, 2 strict." },
		{ "overcommitd_mem_total_bytes", "gauge", "MemTotal from /proc/meminfo." },
		{ "overcommitd_swap_total_bytes", "gauge", "SwapTotal from /proc/meminfo." },
	};
	single(out, &f[0], kib(p->commit_limit_kb));
	single(out, &f[1], kib(s->mem.committed_as_kb));
	single(out, &f[2], skib(p->commit_headroom_kb));
	single(out, &f[3], i64v(s->vm.v[VM_OVERCOMMIT_MEMORY]));
	single(out, &f[4], kib(s->mem.mem_total_kb));
	single(out, &f[5], kib(s->mem.swap_total_kb));
}

/* ---- services ------------------------------------------------------------ */

/* One per-service metric: fills *v and returns true when the service has
 * that figure (fork figures need a main process, memory.high a cgroup). */
struct svc_metric {
	struct family f;
	bool (*get)(const struct svc_obs *o, const struct svc_eval *e, struct pval *v);
};

static bool g_running(const struct svc_obs *o, const struct svc_eval *e, struct pval *v)
{
	(void)e;
	*v = boolv(o->main_idx >= 0);
	return true;
}

static bool g_procs(const struct svc_obs *o, const struct svc_eval *e, struct pval *v)
{
	(void)e;
	*v = u64v(o->nprocs);
	return true;
}

static bool g_commit(const struct svc_obs *o, const struct svc_eval *e, struct pval *v)
{
	(void)o;
	*v = kib(e->commit_kb);
	return true;
}

static bool g_anon(const struct svc_obs *o, const struct svc_eval *e, struct pval *v)
{
	(void)o;
	*v = kib(e->anon_kb);
	return true;
}

static bool g_cowamp(const struct svc_obs *o, const struct svc_eval *e, struct pval *v)
{
	(void)o;
	*v = f64v(e->cow_amplification);
	return true;
}

static bool g_need(const struct svc_obs *o, const struct svc_eval *e, struct pval *v)
{
	*v = kib(e->fork.need_kb);
	return o->main_idx >= 0;
}

static bool g_fork_head(const struct svc_obs *o, const struct svc_eval *e, struct pval *v)
{
	*v = skib(e->fork.headroom_kb);
	return o->main_idx >= 0;
}

static bool g_fits(const struct svc_obs *o, const struct svc_eval *e, struct pval *v)
{
	*v = boolv(e->fork.fits);
	return o->main_idx >= 0;
}

static bool g_high(const struct svc_obs *o, const struct svc_eval *e, struct pval *v)
{
	(void)e;
	*v = cgbytes(o->cg.high);
	return o->cg.present;
}

static bool g_max(const struct svc_obs *o, const struct svc_eval *e, struct pval *v)
{
	(void)e;
	*v = cgbytes(o->cg.max);
	return o->cg.present;
}

static bool g_growth(const struct svc_obs *o, const struct svc_eval *e, struct pval *v)
{
	(void)o;
	*v = f64v(e->cow.growth);
	return true;
}

static bool g_learning(const struct svc_obs *o, const struct svc_eval *e, struct pval *v)
{
	(void)o;
	*v = boolv(e->cow.learning);
	return true;
}

/* instances and workers; o->ninst is 0 in a hand-made snapshot */
static bool g_instances(const struct svc_obs *o, const struct svc_eval *e, struct pval *v)
{
	(void)e;
	*v = u64v(o->ninst);
	return true;
}

static bool g_workers(const struct svc_obs *o, const struct svc_eval *e, struct pval *v)
{
	(void)o;
	*v = u64v(e->workers);
	return true;
}

static bool g_workers_commit(const struct svc_obs *o, const struct svc_eval *e, struct pval *v)
{
	(void)o;
	*v = kib(e->workers_commit_kb);
	return true;
}

static bool g_commit_per_worker(const struct svc_obs *o, const struct svc_eval *e, struct pval *v)
{
	(void)o;
	*v = kib(e->commit_per_worker_kb);
	return e->workers > 0;
}

static bool g_worker_private(const struct svc_obs *o, const struct svc_eval *e, struct pval *v)
{
	(void)o;
	*v = kib(e->worker_private_kb);
	return e->workers > 0;
}

static bool g_worker_growth(const struct svc_obs *o, const struct svc_eval *e, struct pval *v)
{
	*v = kib(e->worker_growth_kb);
	return o->worker_growth_n > 0;
}

static bool g_forks_failing(const struct svc_obs *o, const struct svc_eval *e, struct pval *v)
{
	*v = u64v(e->forks_failing);
	return o->main_idx >= 0;
}

static bool g_untrusted(const struct svc_obs *o, const struct svc_eval *e, struct pval *v)
{
	(void)e;
	*v = u64v(o->nuntrusted);
	return true;
}

static const struct svc_metric svc_metrics[] = {
	{ { "overcommitd_service_instances", "gauge",
	    "Instances: matched processes whose parent is not one of the service's." },
	  g_instances },
	{ { "overcommitd_service_workers", "gauge",
	    "Children of the instances' mains (prefork workers, backends, save children)." },
	  g_workers },
	{ { "overcommitd_service_workers_commit_bytes", "gauge",
	    "Commit of those children: each fork was charged its parent's private memory." },
	  g_workers_commit },
	{ { "overcommitd_service_commit_per_worker_bytes", "gauge",
	    "Commit charge of one worker (its fork was charged its parent's private memory)." },
	  g_commit_per_worker },
	{ { "overcommitd_service_worker_private_bytes", "gauge",
	    "Private anonymous memory per worker now: the group's anon no main maps, per worker." },
	  g_worker_private },
	{ { "overcommitd_service_worker_growth_bytes", "gauge",
	    "Private growth one worker reaches over its life, learned by the daemon." },
	  g_worker_growth },
	{ { "overcommitd_service_instance_forks_failing", "gauge",
	    "Instances whose fork would fail with ENOMEM now." },
	  g_forks_failing },
	{ { "overcommitd_service_untrusted_matches", "gauge",
	    "Login users' processes matching the service by name: never acted on." },
	  g_untrusted },
	{ { "overcommitd_service_running", "gauge", "1 when the service has a main process." },
	  g_running },
	{ { "overcommitd_service_processes", "gauge",
	    "Processes of the service: matched ones and children of the main process." },
	  g_procs },
	{ { "overcommitd_service_commit_bytes", "gauge",
	    "Commit charge of the service's processes (private writable mappings)." },
	  g_commit },
	{ { "overcommitd_service_anon_bytes", "gauge",
	    "Anonymous memory of the service (its cgroup's, else the sum of RssAnon)." },
	  g_anon },
	{ { "overcommitd_service_cow_amplification", "gauge",
	    "Commit charge divided by anonymous memory (0 when there is no anon)." },
	  g_cowamp },
	{ { "overcommitd_service_fork_need_bytes", "gauge",
	    "Commit a fork of the main process is charged." },
	  g_need },
	{ { "overcommitd_service_fork_headroom_bytes", "gauge",
	    "Commit left after such a fork under the current sysctls; negative: it fails." },
	  g_fork_head },
	{ { "overcommitd_service_fork_fits", "gauge",
	    "1 when a fork of the main process fits now, 0 when it fails with ENOMEM." },
	  g_fits },
	{ { "overcommitd_service_memory_high_bytes", "gauge",
	    "memory.high of the service's cgroup (+Inf: max)." },
	  g_high },
	{ { "overcommitd_service_memory_max_bytes", "gauge",
	    "memory.max of the service's cgroup (+Inf: max)." },
	  g_max },
	{ { "overcommitd_service_cow_growth", "gauge",
	    "Learned anon growth during a fork, as a fraction of anon at fork." },
	  g_growth },
	{ { "overcommitd_service_cow_learning", "gauge",
	    "1 while no fork episode was seen and the default growth is assumed." },
	  g_learning },
};

static void services(FILE *out, const struct report_in *in)
{
	const struct snapshot *s = in->snap;
	for (size_t m = 0; m < ARRAY_SIZE(svc_metrics); m++) {
		bool started = false;
		for (size_t i = 0; i < s->nsvc && i < in->plan->neval; i++) {
			struct pval v;
			if (!svc_metrics[m].get(&s->svc[i], &in->plan->eval[i], &v))
				continue;
			struct label l = { "service", in->pol->svc[s->svc[i].policy_idx].name };
			sample(out, &svc_metrics[m].f, &started, &l, 1, v);
		}
	}
}

/* ---- risks, actions, counters ------------------------------------------- */

static bool same_risk(const struct risk *a, const struct risk *b)
{
	if (strcmp(a->kind, b->kind) != 0)
		return false;
	if (!a->service || !b->service)
		return a->service == b->service;
	return strcmp(a->service, b->service) == 0;
}

/* One series per (kind, service), valued by how many risks share it, so a
 * planner that reports two of a kind never yields a duplicate series. */
static void risks(FILE *out, const struct plan *p)
{
	static const struct family f = {
		"overcommitd_risks", "gauge",
		"Risks found, by kind and service (no service label: host-wide)."
	};
	bool started = false;
	for (size_t i = 0; i < p->nrisk; i++) {
		size_t k = 0, n = 0;
		while (k < i && !same_risk(&p->risk[k], &p->risk[i]))
			k++;
		if (k < i)
			continue; /* counted with its first occurrence */
		for (size_t j = i; j < p->nrisk; j++)
			n += same_risk(&p->risk[i], &p->risk[j]);
		struct label l[2] = { { "kind", p->risk[i].kind }, { "service", p->risk[i].service } };
		sample(out, &f, &started, l, p->risk[i].service ? 2 : 1, u64v(n));
	}
	static const struct family count = { "overcommitd_risks_found", "gauge",
					     "Number of risks found (sum of overcommitd_risks)." };
	single(out, &count, u64v(p->nrisk));
}

static void actions(FILE *out, const struct report_in *in)
{
	static const struct family f[] = {
		{ "overcommitd_changes_recommended", "gauge",
		  "Actions the plan holds: values that differ from the policy." },
		{ "overcommitd_actions_applied", "gauge", "Actions written by this apply run." },
		{ "overcommitd_actions_failed", "gauge", "Actions that failed in this apply run." },
	};
	single(out, &f[0], u64v(in->plan->nact));
	if (!in->res)
		return;
	uint64_t done = 0, failed = 0;
	for (size_t i = 0; i < in->plan->nact; i++) {
		done += in->res[i].status == AP_DONE;
		failed += in->res[i].status == AP_FAILED;
	}
	single(out, &f[1], u64v(done));
	single(out, &f[2], u64v(failed));
}

static void counters(FILE *out, const struct prom_counters *c)
{
	static const struct family f[] = {
		{ "overcommitd_proc_events_total", "counter",
		  "Process events (exec, fork, exit) handled by the daemon." },
		{ "overcommitd_daemon_actions_applied_total", "counter",
		  "Actions the daemon wrote since it started." },
		{ "overcommitd_daemon_actions_failed_total", "counter",
		  "Actions that failed in the daemon since it started." },
		{ "overcommitd_resyncs_total", "counter",
		  "Full /proc rescans after lost process events." },
		{ "overcommitd_cow_episodes_total", "counter",
		  "Fork episodes observed for copy-on-write learning." },
		{ "overcommitd_smaps_reads_total", "counter",
		  "Exact fork charges read from /proc/PID/smaps (on the daemon's reader thread, "
		  "never on its event loop)." },
		{ "overcommitd_smaps_read_seconds_total", "counter",
		  "Time the smaps reads took." },
		{ "overcommitd_events_during_smaps_total", "counter",
		  "Execs that joined a service (and were enforced) while a smaps read was running." },
		{ "overcommitd_fork_dontfork_shares_total", "counter",
		  "Fork events whose parent minus child VmData gave a DONTFORK share." },
		{ "overcommitd_tracked_processes", "gauge",
		  "Processes the daemon tracks (matched ones and their children)." },
		{ "overcommitd_drift_entries", "gauge",
		  "Values the daemon wrote and watches for drift." },
		{ "overcommitd_journal_entries", "gauge",
		  "Live journal entries: originals a restore would put back." },
	};
	single(out, &f[0], u64v(c->events_total));
	single(out, &f[1], u64v(c->applied_total));
	single(out, &f[2], u64v(c->failed_total));
	single(out, &f[3], u64v(c->resyncs_total));
	single(out, &f[4], u64v(c->episodes_total));
	single(out, &f[5], u64v(c->smaps_reads_total));
	single(out, &f[6], f64v((double)c->smaps_read_ns_total / 1e9));
	single(out, &f[7], u64v(c->events_during_smaps_total));
	single(out, &f[8], u64v(c->fork_shares_total));
	single(out, &f[9], u64v(c->tracked));
	single(out, &f[10], u64v(c->drift_entries));
	single(out, &f[11], u64v(c->journal_entries));
}

/* Refusals of the kernel's commit check the daemon's capture saw (issue
 * 14); counts persist in its state directory, so they survive restarts. */
static void refusals(FILE *out, const struct refusal_book *b)
{
	static const struct family f[] = {
		{ "overcommitd_commit_refusals_total", "counter",
		  "Refusals of the kernel's commit check (__vm_enough_memory), by operation and "
		  "service (no service label: processes no policy matches)." },
		{ "overcommitd_commit_refusals_lost_total", "counter",
		  "Refusals counted in the kernel that found the capture's ring buffer full." },
		{ "overcommitd_commit_refusal_capture", "gauge",
		  "1 when the commit refusal capture runs, 0 when it is unavailable or unknown." },
	};
	bool started = false;
	for (size_t i = 0; i < b->ntally; i++) {
		const struct refusal_tally *t = &b->tally[i];
		for (int k = 0; k < RF_NOPS; k++) {
			struct label l[2] = { { "operation", refusal_op_name((enum refusal_op)k) },
					      { "service", t->service } };
			sample(out, &f[0], &started, l, t->service[0] ? 2 : 1, u64v(t->by_op[k]));
		}
	}
	single(out, &f[1], u64v(b->lost));
	single(out, &f[2], boolv(b->capture == RF_CAPTURE_ACTIVE));
}

int report_prometheus(FILE *out, const struct report_in *in)
{
	static const struct family info = { "overcommitd_build_info", "gauge",
					    "Always 1; the version label names the build." };
	bool started = false;
	struct label l = { "version", OVERCOMMITD_VERSION };
	sample(out, &info, &started, &l, 1, u64v(1));
	host(out, in);
	services(out, in);
	risks(out, in->plan);
	actions(out, in);
	if (in->counters)
		counters(out, in->counters);
	if (in->refusals)
		refusals(out, in->refusals);
	return ferror(out) ? -EIO : 0;
}

/* The textfile directory must be trusted like the state directory (root's,
 * writable by nobody else: node_exporter only reads it); the temp file is
 * created there O_EXCL|O_NOFOLLOW and given its mode with fchmod before the
 * rename, so no path is ever chmod'ed or followed. */
int report_prometheus_file(const char *path, const struct report_in *in, char *why, size_t whysize)
{
	char dir[PATH_BUF];
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	int n = slash ? snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path)
		      : snprintf(dir, sizeof(dir), ".");
	if (n < 0 || (size_t)n >= sizeof(dir) || !name[0])
		return -EINVAL;
	if (!dir[0])
		snprintf(dir, sizeof(dir), "/");
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	if (!mem)
		return -errno;
	int rc = report_prometheus(mem, in);
	if (fclose(mem) != 0 && rc == 0)
		rc = -EIO;
	if (rc == 0 && !buf)
		rc = -ENOMEM;
	struct statedir sd;
	if (rc == 0) {
		rc = statedir_open(dir, false, &sd);
		if (rc == -EPERM && why)
			snprintf(why, whysize, "%s", sd.why);
		if (rc == 0)
			rc = statedir_write(&sd, name, buf, len, 0644);
		statedir_close(&sd);
	}
	free(buf);
	return rc;
}
