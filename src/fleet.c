/* fleet.c - the fleet summary of what-if (see fleet.h). */
#include "fleet.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "jsonval.h"
#include "util.h"

#define KB(v) fmt_kb((v), (char[24]){ 0 }, 24)

const char *fleet_fork_word(const struct fork_check *c)
{
	return c->fits ? "fits" : "fails";
}

/* The eval of the service a risk names, or NULL (host-wide risks). */
static const struct svc_eval *risk_eval(const struct policy *pol, const struct snapshot *s,
					const struct plan *p, const struct risk *r)
{
	for (size_t i = 0; r->service && i < s->nsvc && i < p->neval; i++)
		if (strcmp(pol->svc[s->svc[i].policy_idx].name, r->service) == 0)
			return &p->eval[i];
	return NULL;
}

static int64_t shortfall(const struct svc_eval *e, const char *kind)
{
	const struct fork_check *c = NULL;
	if (e && strcmp(kind, "fork_fails") == 0)
		c = &e->fork;
	else if (e && strcmp(kind, "fork_fails_after_plan") == 0)
		c = &e->fork_after;
	return c && c->headroom_kb < 0 ? -c->headroom_kb : 0;
}

static int add_risk(struct fleet *f, const struct policy *pol, const struct snapshot *s,
		    const struct plan *p, const struct risk *r)
{
	if (f->nrisk == f->caprisk) {
		size_t cap = f->caprisk ? f->caprisk * 2 : 16;
		struct fleet_risk *n = realloc(f->risk, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		f->risk = n;
		f->caprisk = cap;
	}
	struct fleet_risk *fr = &f->risk[f->nrisk++];
	memset(fr, 0, sizeof(*fr));
	fr->host = f->nhost - 1;
	fr->seq = f->nrisk - 1;
	snprintf(fr->kind, sizeof(fr->kind), "%s", r->kind);
	snprintf(fr->service, sizeof(fr->service), "%s", r->service ? r->service : "");
	fr->short_kb = shortfall(risk_eval(pol, s, p, r), r->kind);
	snprintf(fr->message, sizeof(fr->message), "%s", r->message);
	return 0;
}

int fleet_add(struct fleet *f, const char *name, const char *file, const struct policy *pol,
	      const struct snapshot *s, const struct plan *p)
{
	if (f->nhost == f->caphost) {
		size_t cap = f->caphost ? f->caphost * 2 : 16;
		struct fleet_host *n = realloc(f->host, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		f->host = n;
		f->caphost = cap;
	}
	struct fleet_host *h = &f->host[f->nhost++];
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	snprintf(h->file, sizeof(h->file), "%s", file);
	h->changes = p->nact;
	h->risks = p->nrisk;
	h->mode_now = (int)s->vm.v[VM_OVERCOMMIT_MEMORY];
	h->mode_after = p->mode_after;
	for (size_t i = 0; i < s->nsvc && i < p->neval; i++) {
		if (s->svc[i].main_idx < 0)
			continue;
		bool now = p->eval[i].fork.fits, after = p->eval[i].fork_after.fits;
		h->forks_fail_now += !now;
		h->forks_fail_after += !after;
		h->forks_fixed += !now && after;
	}
	for (size_t i = 0; i < p->nrisk; i++)
		if (add_risk(f, pol, s, p, &p->risk[i]) < 0)
			return -ENOMEM;
	return 0;
}

static int cmp_risk(const void *a, const void *b)
{
	const struct fleet_risk *x = a, *y = b;
	if (x->short_kb != y->short_kb)
		return x->short_kb > y->short_kb ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

void fleet_rank(struct fleet *f)
{
	/* qsort is not stable: ties keep the order they were added in */
	if (f->nrisk > 1)
		qsort(f->risk, f->nrisk, sizeof(*f->risk), cmp_risk);
}

void fleet_free(struct fleet *f)
{
	free(f->host);
	free(f->risk);
	memset(f, 0, sizeof(*f));
}

/* ---- text ------------------------------------------------------------------ */

struct counts {
	size_t change, fail_after, fixed, risky;
};

static struct counts count(const struct fleet *f)
{
	struct counts c = { 0 };
	for (size_t i = 0; i < f->nhost; i++) {
		c.change += f->host[i].changes > 0;
		c.fail_after += f->host[i].forks_fail_after > 0;
		c.fixed += f->host[i].forks_fixed > 0;
		c.risky += f->host[i].risks > 0;
	}
	return c;
}

/* "  label: a (detail), b (detail)" over the hosts pick() selects */
static void host_list(FILE *out, const struct fleet *f, const char *label,
		      size_t (*pick)(const struct fleet_host *))
{
	bool any = false;
	for (size_t i = 0; i < f->nhost; i++) {
		size_t n = pick(&f->host[i]);
		if (!n)
			continue;
		char name[ESC_SIZE(sizeof(f->host[i].name))];
		fprintf(out, "%s%s (%zu)", any ? ", " : label,
			esc_str(f->host[i].name, name, sizeof(name)), n);
		any = true;
	}
	if (any)
		fputc('\n', out);
}

static size_t pick_fail(const struct fleet_host *h) { return h->forks_fail_after; }
static size_t pick_fixed(const struct fleet_host *h) { return h->forks_fixed; }
static size_t pick_change(const struct fleet_host *h) { return h->changes; }

int fleet_text(FILE *out, const struct fleet *f, size_t max_risks)
{
	struct counts c = count(f);
	fprintf(out, "fleet: %zu host%s planned; %zu would change, %zu with a fork that would "
		     "still fail, %zu with a failing fork the plan fixes, %zu with risks\n",
		f->nhost, f->nhost == 1 ? "" : "s", c.change, c.fail_after, c.fixed, c.risky);
	if (f->bad_files)
		fprintf(out, "  %zu snapshot%s could not be read (see the errors above)\n",
			f->bad_files, f->bad_files == 1 ? "" : "s");
	host_list(out, f, "  forks that would fail (services): ", pick_fail);
	host_list(out, f, "  failing forks the plan fixes (services): ", pick_fixed);
	host_list(out, f, "  hosts that would change (actions): ", pick_change);
	if (f->nrisk)
		fprintf(out, "largest risks first (%zu):\n", f->nrisk);
	for (size_t i = 0; i < f->nrisk && i < max_risks; i++) {
		const struct fleet_risk *r = &f->risk[i];
		/* names and messages come from snapshot files of other hosts */
		char name[ESC_SIZE(sizeof(f->host[r->host].name))], msg[ESC_SIZE(sizeof(r->message))];
		fprintf(out, "  %zu. %s: %s", i + 1,
			esc_str(f->host[r->host].name, name, sizeof(name)), r->kind);
		if (r->short_kb > 0)
			fprintf(out, " (short %s)", KB((uint64_t)r->short_kb));
		fprintf(out, ": %s\n", esc_str(r->message, msg, sizeof(msg)));
	}
	if (f->nrisk > max_risks)
		fprintf(out, "  ... %zu more (--format json lists every one)\n", f->nrisk - max_risks);
	return ferror(out) ? -EIO : 0;
}

/* ---- JSON ------------------------------------------------------------------- */

static json_object *host_json(const struct fleet_host *h)
{
	json_object *o = json_object_new_object();
	int rc = o ? 0 : -ENOMEM;
	jsonval_put(o, "hostname", json_object_new_string(h->name), &rc);
	jsonval_put(o, "file", json_object_new_string(h->file), &rc);
	jsonval_put(o, "changes", json_object_new_uint64(h->changes), &rc);
	jsonval_put(o, "risks", json_object_new_uint64(h->risks), &rc);
	jsonval_put(o, "forks_fail_now", json_object_new_uint64(h->forks_fail_now), &rc);
	jsonval_put(o, "forks_fail_after", json_object_new_uint64(h->forks_fail_after), &rc);
	jsonval_put(o, "forks_fixed", json_object_new_uint64(h->forks_fixed), &rc);
	jsonval_put(o, "overcommit_memory", json_object_new_int(h->mode_now), &rc);
	jsonval_put(o, "overcommit_memory_after", json_object_new_int(h->mode_after), &rc);
	return rc ? (json_object_put(o), NULL) : o;
}

static json_object *risk_json(const struct fleet *f, const struct fleet_risk *r)
{
	json_object *o = json_object_new_object();
	int rc = o ? 0 : -ENOMEM;
	jsonval_put(o, "hostname", json_object_new_string(f->host[r->host].name), &rc);
	jsonval_put(o, "file", json_object_new_string(f->host[r->host].file), &rc);
	jsonval_put(o, "kind", json_object_new_string(r->kind), &rc);
	if (r->service[0])
		jsonval_put(o, "service", json_object_new_string(r->service), &rc);
	else if (rc == 0 && json_object_object_add(o, "service", NULL) != 0)
		rc = -ENOMEM;
	jsonval_put(o, "short_kb", json_object_new_int64(r->short_kb), &rc);
	jsonval_put(o, "message", json_object_new_string(r->message), &rc);
	return rc ? (json_object_put(o), NULL) : o;
}

struct json_object *fleet_json(const struct fleet *f)
{
	struct counts c = count(f);
	json_object *o = json_object_new_object();
	json_object *hosts = json_object_new_array(), *risks = json_object_new_array();
	int rc = o && hosts && risks ? 0 : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < f->nhost; i++) {
		json_object *h = host_json(&f->host[i]);
		if (!h || json_object_array_add(hosts, h) != 0) {
			json_object_put(h);
			rc = -ENOMEM;
		}
	}
	for (size_t i = 0; rc == 0 && i < f->nrisk; i++) {
		json_object *r = risk_json(f, &f->risk[i]);
		if (!r || json_object_array_add(risks, r) != 0) {
			json_object_put(r);
			rc = -ENOMEM;
		}
	}
	jsonval_put(o, "hosts_planned", json_object_new_uint64(f->nhost), &rc);
	jsonval_put(o, "bad_files", json_object_new_uint64(f->bad_files), &rc);
	jsonval_put(o, "hosts_changing", json_object_new_uint64(c.change), &rc);
	jsonval_put(o, "hosts_fork_fails", json_object_new_uint64(c.fail_after), &rc);
	jsonval_put(o, "hosts_fork_fixed", json_object_new_uint64(c.fixed), &rc);
	jsonval_put(o, "hosts_with_risks", json_object_new_uint64(c.risky), &rc);
	jsonval_put(o, "hosts", hosts, &rc);
	jsonval_put(o, "risks", risks, &rc);
	return rc ? (json_object_put(o), NULL) : o;
}
