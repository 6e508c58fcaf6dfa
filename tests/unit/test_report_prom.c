/* test_report_prom.c - the Prometheus exposition: exact sample lines for a
 * hand-built report (bytes from KiB, negative headroom, +Inf for "max",
 * label escaping, risks folded per kind+service, apply results, daemon
 * counters), the format's structure for every case, and the atomic file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"
#include "tmptree.h"
#include "util.h"

#define MiB 1024ULL /* in KiB */

/* ---- a hand-built report -------------------------------------------------- */

struct world {
	struct pol_service psvc[3];
	struct policy pol;
	struct proc_info procs[2];
	struct svc_obs svc[3];
	struct snapshot snap;
	struct svc_eval eval[3];
	struct risk risk[4];
	struct action act[3];
	struct plan plan;
	struct report_in in;
};

static void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	static char redis[] = "redis", pg[] = "pg", weird[] = "we\"ird\\na\nme";
	w->psvc[0].name = redis;
	w->psvc[1].name = pg;
	w->psvc[2].name = weird;
	w->pol.svc = w->psvc;
	w->pol.nsvc = 3;

	struct snapshot *s = &w->snap;
	s->mem.mem_total_kb = 2048 * MiB;
	s->mem.swap_total_kb = 512 * MiB;
	s->mem.committed_as_kb = 1400 * MiB;
	s->vm.v[VM_OVERCOMMIT_MEMORY] = 2;
	s->cgroup2 = true;

	/* redis: running, own cgroup with memory.high max and a fixed memory.max */
	w->procs[0].pid = 100;
	w->procs[1].pid = 101;
	w->svc[0] = (struct svc_obs){ .policy_idx = 0, .procs = w->procs, .nprocs = 2,
				      .nmatched = 1, .main_idx = 0, .own_cgroup = true };
	w->svc[0].cg = (struct cg_memory){ .present = true, .high = CG_UNLIMITED,
					   .max = 805306368 };
	/* pg: not running */
	w->svc[1] = (struct svc_obs){ .policy_idx = 1, .main_idx = -1 };
	/* the odd name: running, no cgroup figures */
	w->svc[2] = (struct svc_obs){ .policy_idx = 2, .procs = w->procs, .nprocs = 1,
				      .nmatched = 1, .main_idx = 0 };
	s->svc = w->svc;
	s->nsvc = 3;

	w->eval[0] = (struct svc_eval){ .commit_kb = 600 * MiB, .anon_kb = 400 * MiB,
					.cow_amplification = 1.5, .forks = 1 };
	w->eval[0].fork = (struct fork_check){ .need_kb = 600 * MiB, .headroom_kb = -400 * (int64_t)MiB,
					       .fits = false, .mode = 2 };
	w->eval[0].cow = (struct learn_estimate){ .learning = false, .growth = 0.25, .episodes = 3 };
	w->eval[1].cow = (struct learn_estimate){ .learning = true, .growth = 1.0 };
	w->eval[2] = (struct svc_eval){ .commit_kb = 3, .anon_kb = 9, .cow_amplification = 1.0 / 3 };
	w->eval[2].fork = (struct fork_check){ .need_kb = 1, .headroom_kb = 5, .fits = true };
	w->eval[2].cow = (struct learn_estimate){ .learning = true, .growth = 1.0 };

	struct plan *p = &w->plan;
	p->commit_limit_kb = 1024 * MiB;
	p->commit_headroom_kb = 1024 * (int64_t)MiB - 1400 * (int64_t)MiB; /* over the limit */
	p->eval = w->eval;
	p->neval = 3;
	p->risk = w->risk;
	p->act = w->act;
	p->nact = 3;

	w->in = (struct report_in){ .mode = RPT_STATUS, .pol = &w->pol, .snap = s, .plan = p };
}

static void add_risk(struct world *w, const char *kind, const char *svc)
{
	struct risk *r = &w->risk[w->plan.nrisk++];
	snprintf(r->kind, sizeof(r->kind), "%s", kind);
	r->service = svc;
	snprintf(r->message, sizeof(r->message), "%s", "message text \"quoted\"\nsecond line");
}

/* ---- reading the output -------------------------------------------------- */

static char *render(const struct report_in *in)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(report_prometheus(f, in), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	return buf;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

static bool has_prefix_line(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, prefix, n) == 0)
			return true;
	return false;
}

#define EXPECT(text, line)                                                           \
	do {                                                                         \
		if (!has_line((text), (line)))                                       \
			fail_msg("missing line: %s\n--- output ---\n%s", (line), (text)); \
	} while (0)
#define ABSENT(text, prefix)                                                           \
	do {                                                                           \
		if (has_prefix_line((text), (prefix)))                                 \
			fail_msg("unexpected line: %s\n--- output ---\n%s", (prefix), (text)); \
	} while (0)

/* The format's structure (exposition format 0.0.4), independent of promtool:
 * per family HELP, TYPE, then its samples together, never a family twice;
 * names [a-zA-Z_:][a-zA-Z0-9_:]*, label values closed, values parse as Go
 * floats, counters end in _total, no series twice. */
static void check_structure(const char *text)
{
	char fam[128] = "", seen[64][128], series[256][256];
	size_t nseen = 0, nseries = 0;
	int state = 0; /* 0: need HELP, 1: need TYPE, 2: samples */
	char type[16] = "";
	char *copy = strdup(text), *save = NULL;
	assert_non_null(copy);
	assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char name[128];
		if (strncmp(l, "# HELP ", 7) == 0) {
			assert_int_equal(sscanf(l + 7, "%127s", name), 1);
			for (size_t i = 0; i < nseen; i++)
				if (strcmp(seen[i], name) == 0)
					fail_msg("family %s appears twice", name);
			assert_true(nseen < 64);
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", name);
			snprintf(fam, sizeof(fam), "%s", name);
			state = 1;
			continue;
		}
		if (strncmp(l, "# TYPE ", 7) == 0) {
			assert_int_equal(state, 1);
			assert_int_equal(sscanf(l + 7, "%127s %15s", name, type), 2);
			assert_string_equal(name, fam);
			assert_true(strcmp(type, "gauge") == 0 || strcmp(type, "counter") == 0);
			if (strcmp(type, "counter") == 0)
				assert_non_null(strstr(fam, "_total"));
			state = 2;
			continue;
		}
		assert_int_equal(state, 2);
		size_t n = strcspn(l, "{ ");
		if (n != strlen(fam) || strncmp(l, fam, n) != 0)
			fail_msg("sample '%s' outside its family %s", l, fam);
		for (size_t i = 0; i < n; i++)
			assert_true((l[i] >= 'a' && l[i] <= 'z') || l[i] == '_' ||
				    (i && l[i] >= '0' && l[i] <= '9'));
		const char *p = l + n;
		if (*p == '{') { /* name="value" pairs, escapes \\ \" \n only */
			p++;
			while (*p != '}') {
				while ((*p >= 'a' && *p <= 'z') || *p == '_')
					p++;
				assert_int_equal(*p++, '=');
				assert_int_equal(*p++, '"');
				for (; *p != '"'; p++) {
					assert_true(*p != '\0' && *p != '\n');
					if (*p == '\\') {
						p++;
						assert_true(*p == '\\' || *p == '"' || *p == 'n');
					}
				}
				p++;
				if (*p == ',')
					p++;
				else
					assert_int_equal(*p, '}');
			}
			p++;
		}
		assert_true(nseries < 256);
		snprintf(series[nseries], sizeof(series[0]), "%.*s", (int)(p - l), l);
		for (size_t i = 0; i < nseries; i++)
			if (strcmp(series[i], series[nseries]) == 0)
				fail_msg("series %s twice", series[i]);
		nseries++;
		assert_int_equal(*p++, ' ');
		if (strcmp(p, "+Inf") != 0 && strcmp(p, "-Inf") != 0 && strcmp(p, "NaN") != 0) {
			char *end;
			double v = strtod(p, &end);
			if (*p == '\0' || *end != '\0' || isinf(v) || isnan(v))
				fail_msg("bad value in '%s'", l);
		}
		if (strcmp(type, "counter") == 0)
			assert_true(p[0] != '-');
	}
	free(copy);
}

static char *render_checked(const struct report_in *in)
{
	char *out = render(in);
	check_structure(out);
	return out;
}

/* ---- cases ------------------------------------------------------------- */

static void host_in_bytes_negative_headroom(void **state)
{
	(void)state;
	struct world w;
	world_init(&w);
	char *out = render_checked(&w.in);
	EXPECT(out, "# HELP overcommitd_commit_limit_bytes CommitLimit the vm.overcommit_* sysctls "
		    "give now (enforced under vm.overcommit_memory=2).");
	EXPECT(out, "# TYPE overcommitd_commit_limit_bytes gauge");
	EXPECT(out, "overcommitd_commit_limit_bytes 1073741824");
	EXPECT(out, "overcommitd_committed_bytes 1468006400");
	EXPECT(out, "overcommitd_commit_headroom_bytes -394264576");
	EXPECT(out, "overcommitd_overcommit_memory 2");
	EXPECT(out, "overcommitd_mem_total_bytes 2147483648");
	EXPECT(out, "overcommitd_swap_total_bytes 536870912");
	EXPECT(out, "overcommitd_build_info{version=\"" OVERCOMMITD_VERSION "\"} 1");
	EXPECT(out, "overcommitd_changes_recommended 3");
	EXPECT(out, "overcommitd_risks_found 0");
	ABSENT(out, "overcommitd_risks{"); /* no risk: no series, no HELP either */
	ABSENT(out, "# HELP overcommitd_risks ");
	ABSENT(out, "overcommitd_actions_"); /* no apply results */
	ABSENT(out, "overcommitd_proc_events_total"); /* no daemon counters */
	free(out);
}

static void service_figures(void **state)
{
	(void)state;
	struct world w;
	world_init(&w);
	char *out = render_checked(&w.in);
	EXPECT(out, "overcommitd_service_running{service=\"redis\"} 1");
	EXPECT(out, "overcommitd_service_processes{service=\"redis\"} 2");
	EXPECT(out, "overcommitd_service_commit_bytes{service=\"redis\"} 629145600");
	EXPECT(out, "overcommitd_service_anon_bytes{service=\"redis\"} 419430400");
	EXPECT(out, "overcommitd_service_cow_amplification{service=\"redis\"} 1.5");
	EXPECT(out, "overcommitd_service_fork_need_bytes{service=\"redis\"} 629145600");
	EXPECT(out, "overcommitd_service_fork_headroom_bytes{service=\"redis\"} -419430400");
	EXPECT(out, "overcommitd_service_fork_fits{service=\"redis\"} 0");
	EXPECT(out, "overcommitd_service_memory_high_bytes{service=\"redis\"} +Inf");
	EXPECT(out, "overcommitd_service_memory_max_bytes{service=\"redis\"} 805306368");
	EXPECT(out, "overcommitd_service_cow_growth{service=\"redis\"} 0.25");
	EXPECT(out, "overcommitd_service_cow_learning{service=\"redis\"} 0");
	free(out);
}

/* a service that is not running has no fork figures; without a cgroup
 * there is no memory.high to show */
static void not_running_service(void **state)
{
	(void)state;
	struct world w;
	world_init(&w);
	char *out = render_checked(&w.in);
	EXPECT(out, "overcommitd_service_running{service=\"pg\"} 0");
	EXPECT(out, "overcommitd_service_processes{service=\"pg\"} 0");
	EXPECT(out, "overcommitd_service_commit_bytes{service=\"pg\"} 0");
	EXPECT(out, "overcommitd_service_cow_amplification{service=\"pg\"} 0");
	EXPECT(out, "overcommitd_service_cow_growth{service=\"pg\"} 1");
	EXPECT(out, "overcommitd_service_cow_learning{service=\"pg\"} 1");
	ABSENT(out, "overcommitd_service_fork_need_bytes{service=\"pg\"}");
	ABSENT(out, "overcommitd_service_fork_fits{service=\"pg\"}");
	ABSENT(out, "overcommitd_service_memory_high_bytes{service=\"pg\"}");
	free(out);
}

/* policy names are [A-Za-z0-9_.-], but the exposition escapes whatever it gets */
static void label_values_escaped(void **state)
{
	(void)state;
	struct world w;
	world_init(&w);
	char *out = render_checked(&w.in);
	EXPECT(out, "overcommitd_service_running{service=\"we\\\"ird\\\\na\\nme\"} 1");
	EXPECT(out, "overcommitd_service_fork_fits{service=\"we\\\"ird\\\\na\\nme\"} 1");
	/* 1/3 does not survive %.15g: the 17-digit form that reads back exactly */
	EXPECT(out, "overcommitd_service_cow_amplification{service=\"we\\\"ird\\\\na\\nme\"} "
		    "0.33333333333333331");
	assert_true(strtod("0.33333333333333331", NULL) == 1.0 / 3);
	ABSENT(out, "overcommitd_service_memory_high_bytes{service=\"we");
	free(out);
}

/* one series per kind+service; a repeated one counts, a host risk has no
 * service label */
static void risks_per_kind_and_service(void **state)
{
	(void)state;
	struct world w;
	world_init(&w);
	add_risk(&w, "fork_fails", w.psvc[0].name);
	add_risk(&w, "commit_near_limit", NULL);
	add_risk(&w, "fork_fails", w.psvc[0].name);
	add_risk(&w, "unprotected", w.psvc[2].name);
	char *out = render_checked(&w.in);
	EXPECT(out, "# TYPE overcommitd_risks gauge");
	EXPECT(out, "overcommitd_risks{kind=\"fork_fails\",service=\"redis\"} 2");
	EXPECT(out, "overcommitd_risks{kind=\"commit_near_limit\"} 1");
	EXPECT(out, "overcommitd_risks{kind=\"unprotected\",service=\"we\\\"ird\\\\na\\nme\"} 1");
	EXPECT(out, "overcommitd_risks_found 4");
	ABSENT(out, "message text");
	free(out);
}

static void apply_results_counted(void **state)
{
	(void)state;
	struct world w;
	world_init(&w);
	struct apply_result res[3] = { { .status = AP_DONE }, { .status = AP_FAILED, .err = -5 },
				       { .status = AP_DONE } };
	w.in.mode = RPT_APPLY;
	w.in.res = res;
	char *out = render_checked(&w.in);
	EXPECT(out, "# TYPE overcommitd_actions_applied gauge");
	EXPECT(out, "overcommitd_actions_applied 2");
	EXPECT(out, "overcommitd_actions_failed 1");
	free(out);

	res[0].status = AP_UNCHANGED; /* a second apply: nothing written */
	res[1].status = AP_SKIPPED;
	res[2].status = AP_UNCHANGED;
	out = render_checked(&w.in);
	EXPECT(out, "overcommitd_actions_applied 0");
	EXPECT(out, "overcommitd_actions_failed 0");
	free(out);
}

static void daemon_counters(void **state)
{
	(void)state;
	struct world w;
	world_init(&w);
	struct prom_counters c = { .events_total = 20000, .applied_total = 7, .failed_total = 1,
				   .resyncs_total = 2, .episodes_total = UINT64_MAX,
				   .tracked = 65, .drift_entries = 3, .journal_entries = 66 };
	w.in.counters = &c;
	char *out = render_checked(&w.in);
	EXPECT(out, "# TYPE overcommitd_proc_events_total counter");
	EXPECT(out, "overcommitd_proc_events_total 20000");
	EXPECT(out, "overcommitd_daemon_actions_applied_total 7");
	EXPECT(out, "overcommitd_daemon_actions_failed_total 1");
	EXPECT(out, "overcommitd_resyncs_total 2");
	EXPECT(out, "overcommitd_cow_episodes_total 18446744073709551615");
	EXPECT(out, "# TYPE overcommitd_tracked_processes gauge");
	EXPECT(out, "overcommitd_tracked_processes 65");
	EXPECT(out, "overcommitd_drift_entries 3");
	EXPECT(out, "overcommitd_journal_entries 66");
	free(out);
}

/* absurd KiB figures (corrupt input) become +Inf/-Inf, never a wrapped
 * small number; NaN is spelled as the format wants it */
static void overflow_and_nan(void **state)
{
	(void)state;
	struct world w;
	world_init(&w);
	w.snap.mem.mem_total_kb = UINT64_MAX / 1024 + 1;
	w.plan.commit_headroom_kb = INT64_MIN / 1024 - 1;
	w.eval[0].fork.headroom_kb = INT64_MAX / 1024 + 1;
	w.eval[0].cow_amplification = NAN;
	w.snap.mem.swap_total_kb = UINT64_MAX / 1024; /* the largest exact one */
	char *out = render_checked(&w.in);
	EXPECT(out, "overcommitd_mem_total_bytes +Inf");
	EXPECT(out, "overcommitd_commit_headroom_bytes -Inf");
	EXPECT(out, "overcommitd_service_fork_headroom_bytes{service=\"redis\"} +Inf");
	EXPECT(out, "overcommitd_service_cow_amplification{service=\"redis\"} NaN");
	EXPECT(out, "overcommitd_swap_total_bytes 18446744073709550592");
	free(out);
}

static void no_services(void **state)
{
	(void)state;
	struct world w;
	world_init(&w);
	w.snap.nsvc = 0;
	w.plan.neval = 0;
	w.plan.nact = 0;
	char *out = render_checked(&w.in);
	ABSENT(out, "# HELP overcommitd_service_");
	ABSENT(out, "overcommitd_service_");
	EXPECT(out, "overcommitd_changes_recommended 0");
	free(out);
}

/* the textfile: same text, mode 0644 whatever the umask, replaced whole,
 * no temp file left behind (node_exporter reads only *.prom) */
static void textfile_atomic(void **state)
{
	(void)state;
	struct world w;
	world_init(&w);
	char *dir = tt_make();
	char path[4200];
	snprintf(path, sizeof(path), "%s/overcommitd.prom", dir);
	FILE *old = fopen(path, "w");
	assert_non_null(old);
	fputs("stale content that is longer than nothing\n", old);
	fclose(old);
	mode_t um = umask(077);
	int rc = report_prometheus_file(path, &w.in, NULL, 0);
	umask(um);
	assert_int_equal(rc, 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	char *want = render(&w.in);
	char got[65536];
	ssize_t n = read_file(path, got, sizeof(got));
	assert_true(n > 0);
	assert_string_equal(got, want);
	free(want);
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t entries = 0;
	for (struct dirent *e; (e = readdir(d));)
		entries += e->d_name[0] != '.';
	closedir(d);
	assert_int_equal(entries, 1);

	snprintf(path, sizeof(path), "%s/missing/overcommitd.prom", dir);
	assert_int_equal(report_prometheus_file(path, &w.in, NULL, 0), -ENOENT);
	tt_rm(dir);
}

/* issue 13 item 6: a textfile directory another user may write, or a
 * planted temp-file symlink, is refused; nothing is written through it */
static void textfile_untrusted_refused(void **state)
{
	(void)state;
	struct world w;
	world_init(&w);
	char *dir = tt_make();
	char path[4200], victim[4200], tmp[4300], why[400] = "";
	snprintf(path, sizeof(path), "%s/overcommitd.prom", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	FILE *v = fopen(victim, "w");
	assert_non_null(v);
	fputs("precious\n", v);
	fclose(v);
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(report_prometheus_file(path, &w.in, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "writable by group or others"));
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(chown(dir, 1000, 1000), 0);
	assert_int_equal(report_prometheus_file(path, &w.in, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "owned by uid 1000"));
	assert_int_equal(chown(dir, getuid(), getgid()), 0);
	/* a symlink planted at our temp name is removed, never followed */
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	assert_int_equal(symlink(victim, tmp), 0);
	assert_int_equal(report_prometheus_file(path, &w.in, NULL, 0), 0);
	char got[64];
	assert_true(read_file(victim, got, sizeof(got)) > 0);
	assert_string_equal(got, "precious\n");
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0644);
	/* the textfile itself a symlink: replaced by rename, the target untouched */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(victim, path), 0);
	assert_int_equal(report_prometheus_file(path, &w.in, NULL, 0), 0);
	assert_true(read_file(victim, got, sizeof(got)) > 0);
	assert_string_equal(got, "precious\n");
	tt_rm(dir);
}

static void write_error_reported(void **state)
{
	(void)state;
	struct world w;
	world_init(&w);
	FILE *f = fopen("/dev/full", "w");
	if (!f)
		skip();
	setvbuf(f, NULL, _IONBF, 0);
	assert_int_equal(report_prometheus(f, &w.in), -EIO);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(host_in_bytes_negative_headroom),
		cmocka_unit_test(service_figures),
		cmocka_unit_test(not_running_service),
		cmocka_unit_test(label_values_escaped),
		cmocka_unit_test(risks_per_kind_and_service),
		cmocka_unit_test(apply_results_counted),
		cmocka_unit_test(daemon_counters),
		cmocka_unit_test(overflow_and_nan),
		cmocka_unit_test(no_services),
		cmocka_unit_test(textfile_atomic),
		cmocka_unit_test(textfile_untrusted_refused),
		cmocka_unit_test(write_error_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
