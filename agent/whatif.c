/* whatif.c - `snapshot` (this host as one JSON document) and `what-if`
 * (plan snapshots under other policies, then a fleet summary).  what-if runs
 * the observation and planning `recommend` runs, with the snapshot as the
 * source instead of /proc: same plan, same report (DESIGN.md "Snapshots and
 * what-if"). */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "escape.h"
#include "fleet.h"
#include "hostsnap.h"
#include "learn.h"
#include "log.h"
#include "plan.h"
#include "report.h"
#include "snapshot.h"
#include "util.h"

/* "hostname" / "osrelease" under the procfs root (a fixture may have none). */
static void read_ident(const struct cli *c, const char *rel, char *dst, size_t size)
{
	char buf[256];
	dst[0] = '\0';
	if (read_file_at(c->roots.procfs, rel, buf, sizeof(buf)) > 0) {
		buf[strcspn(buf, "\n")] = '\0';
		snprintf(dst, size, "%s", buf);
	}
}

static void take_learned(const struct cli *c, struct hostsnap *hs)
{
	int rc = learn_load(c->state_dir, &hs->learned, &hs->nlearned);
	if (rc < 0 && rc != -ENOENT)
		log_errno(LOG_LVL_WARN, rc, "%s/learned.json unusable, snapshot holds no COW data",
			  c->state_dir);
	if (rc < 0) {
		hs->learned = NULL;
		hs->nlearned = 0;
	}
}

/* A path that exists and is not a regular file (/dev/stdout, a FIFO,
 * /dev/null) is written in place: an atomic replace would put a regular
 * file where the device was. */
static int write_in_place(const char *path, const char *doc, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	int e = 0;
	for (size_t off = 0; off < len && e == 0;) {
		ssize_t w = write(fd, doc + off, len - off);
		if (w < 0 && errno != EINTR)
			e = errno;
		else if (w > 0)
			off += (size_t)w;
	}
	if (close(fd) < 0 && e == 0)
		e = errno;
	return -e;
}

static int write_out(const char *path, const char *doc, size_t len)
{
	struct stat st;
	if (!path)
		return fwrite(doc, 1, len, stdout) == len ? 0 : -EIO;
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return write_in_place(path, doc, len);
	/* 0600: command lines may carry secrets (--redact leaves them out) */
	return write_file_atomic(path, doc, len, 0600);
}

int cmd_snapshot(const struct cli *c)
{
	if (c->nargs > 1) {
		log_err("snapshot: one output FILE at most ('-' or none: standard output)");
		return EXIT_ERR;
	}
	struct hostsnap hs;
	int rc = hostsnap_take(&c->roots, c->redact, &hs);
	if (rc < 0) {
		log_errno(LOG_LVL_ERR, rc, "observing %s", c->roots.procfs);
		return EXIT_ERR;
	}
	read_ident(c, "sys/kernel/hostname", hs.hostname, sizeof(hs.hostname));
	read_ident(c, "sys/kernel/osrelease", hs.kernel, sizeof(hs.kernel));
	hs.taken_at = (uint64_t)time(NULL);
	take_learned(c, &hs);
	char *doc = NULL;
	size_t len = 0;
	rc = hostsnap_format(&hs, &doc, &len);
	const char *out = c->nargs && strcmp(c->args[0], "-") != 0 ? c->args[0] : NULL;
	if (rc == 0 && (rc = write_out(out, doc, len)) < 0)
		log_errno(LOG_LVL_ERR, rc, "writing %s", out ? out : "the snapshot");
	else if (rc < 0)
		log_errno(LOG_LVL_ERR, rc, "formatting the snapshot");
	if (rc == 0 && out && c->verbosity >= 0)
		fprintf(stderr, "overcommitd: snapshot of %zu processes, %zu cgroups: %s (%zu bytes)\n",
			hs.nprocs, hs.ncgroups, out, len);
	free(doc);
	hostsnap_free(&hs);
	return rc < 0 ? EXIT_ERR : EXIT_OK;
}

/* ---- what-if ---------------------------------------------------------------- */

struct whatif {
	const struct cli *c;
	struct policy pol;
	struct fleet fleet;
	json_object *hosts;           /* --format json: one entry per host */
	bool changes;                 /* some host would change or has risks */
};

static const char *host_name(const struct hostsnap *hs, const char *file)
{
	if (hs->hostname[0])
		return hs->hostname;
	const char *b = strrchr(file, '/');
	return b ? b + 1 : file;
}

static int emit_host(struct whatif *w, const char *file, const struct hostsnap *hs,
		     const struct report_in *in)
{
	if (w->c->format != FMT_JSON) {
		char when[32] = "?";
		time_t t = (time_t)hs->taken_at;
		struct tm tm;
		if (gmtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		char name[ESC_SIZE(256)], path[ESC_SIZE(PATH_MAX)];
		printf("== %s (%s, taken %s, %zu processes) ==\n",
		       esc_str(host_name(hs, file), name, sizeof(name)), esc_str(file, path, sizeof(path)),
		       when, hs->nprocs);
		int rc = report_text(stdout, in);
		putchar('\n');
		return rc;
	}
	json_object *h = json_object_new_object(), *rep = report_json_object(in);
	if (!h || !rep || json_object_object_add(h, "report", rep) != 0) {
		json_object_put(h);
		json_object_put(rep);
		return -ENOMEM;
	}
	int rc = json_object_object_add(h, "hostname", json_object_new_string(host_name(hs, file)));
	rc |= json_object_object_add(h, "file", json_object_new_string(file));
	rc |= json_object_object_add(h, "taken_at", json_object_new_uint64(hs->taken_at));
	if (rc || json_object_array_add(w->hosts, h) != 0) {
		json_object_put(h);
		return -ENOMEM;
	}
	return 0;
}

/* Plan one snapshot; a bad file is reported and counted, not fatal. */
static int plan_one(struct whatif *w, const char *file)
{
	struct hostsnap hs;
	char err[512];
	if (hostsnap_load(file, &hs, err, sizeof(err)) < 0) {
		log_err("%s: %s", file, err);
		w->fleet.bad_files++;
		return 0;
	}
	struct obs_source src;
	hostsnap_source(&hs, &src);
	struct snapshot snap;
	struct plan plan;
	int rc = snapshot_observe(&src, &w->pol, NULL, 0, &snap);
	if (rc == 0 && (rc = hostsnap_fork_observe(&hs, &snap)) < 0)
		snapshot_free(&snap);
	if (rc < 0) {
		log_errno(LOG_LVL_ERR, rc, "%s: observing the snapshot", file);
		hostsnap_free(&hs);
		return rc;
	}
	cli_learned_workers(hs.learned, hs.nlearned, &w->pol, &snap);
	struct learn_estimate *est = cli_learned_for(hs.learned, hs.nlearned, &w->pol, &snap,
						     hs.taken_at);
	rc = plan_build(&w->pol, &snap, est, &plan);
	free(est);
	if (rc == 0) {
		struct report_in in = { .mode = RPT_RECOMMEND, .pol = &w->pol, .snap = &snap,
					.plan = &plan, .verbose = w->c->verbosity > 0 };
		rc = emit_host(w, file, &hs, &in);
		if (rc == 0)
			rc = fleet_add(&w->fleet, host_name(&hs, file), file, &w->pol, &snap, &plan);
		w->changes |= plan.nact > 0 || plan.nrisk > 0;
		plan_free(&plan);
	}
	if (rc < 0)
		log_errno(LOG_LVL_ERR, rc, "%s: planning", file);
	snapshot_free(&snap);
	hostsnap_free(&hs);
	return rc;
}

static int emit_json(struct whatif *w)
{
	json_object *root = json_object_new_object(), *sum = fleet_json(&w->fleet);
	int rc = root && sum ? 0 : -ENOMEM;
	if (rc == 0) {
		rc |= json_object_object_add(root, "version", json_object_new_string(OVERCOMMITD_VERSION));
		rc |= json_object_object_add(root, "command", json_object_new_string("what-if"));
		rc |= json_object_object_add(root, "hosts", w->hosts);
		w->hosts = NULL; /* root owns it now */
		rc |= json_object_object_add(root, "fleet", sum);
		sum = NULL;
	}
	const char *txt = rc == 0 ? json_object_to_json_string_ext(
					    root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)
				  : NULL;
	if (!txt || printf("%s\n", txt) < 0)
		rc = -EIO;
	json_object_put(sum);
	json_object_put(root);
	return rc;
}

int cmd_whatif(const struct cli *c)
{
	if (c->nargs == 0) {
		log_err("what-if: give one or more snapshot files (overcommitd snapshot FILE)");
		return EXIT_ERR;
	}
	if (c->format == FMT_PROM) {
		log_err("what-if: --format text or json");
		return EXIT_ERR;
	}
	struct whatif w = { .c = c };
	if (cli_load_policy(c->policy_dirs, c->npolicy_dirs, &w.pol) < 0)
		return EXIT_ERR;
	w.hosts = json_object_new_array();
	int rc = w.hosts ? 0 : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < c->nargs; i++)
		rc = plan_one(&w, c->args[i]);
	fleet_rank(&w.fleet);
	if (rc == 0 && c->format == FMT_JSON)
		rc = emit_json(&w);
	else if (rc == 0)
		rc = fleet_text(stdout, &w.fleet, 20);
	json_object_put(w.hosts);
	int code = rc < 0 || w.fleet.bad_files ? EXIT_ERR : w.changes ? EXIT_CHANGES : EXIT_OK;
	fleet_free(&w.fleet);
	policy_free(&w.pol);
	return code;
}
