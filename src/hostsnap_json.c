/* hostsnap_json.c - the snapshot document (schema: DESIGN.md "Snapshots and
 * what-if", overcommitd(8) SNAPSHOTS): json-c both ways.  The reader is
 * strict and bounded (a fuzz target): a file from another version or a
 * damaged one is refused with the first problem named, never half-read. */
#include "hostsnap.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonval.h"
#include "util.h"

#define KB_MAX ((uint64_t)1 << 50)      /* 1 EiB in KiB: beyond it, corruption */
#define BYTES_MAX ((uint64_t)1 << 62)
#define START_MAX ((uint64_t)1 << 62)
#define PID_MAX_LIMIT 4194304            /* the kernel's PID_MAX_LIMIT */
#define CPUS_MAX 65536                   /* beyond the kernel's NR_CPUS */

/* ---- writing ------------------------------------------------------------- */

static json_object *jkb(uint64_t v)
{
	return json_object_new_uint64(v);
}

static json_object *jcg(uint64_t bytes)
{
	return bytes == CG_UNLIMITED ? json_object_new_string("max") : json_object_new_uint64(bytes);
}

static json_object *fmt_meminfo(const struct meminfo *m)
{
	json_object *o = json_object_new_object();
	int rc = o ? 0 : -ENOMEM;
	jsonval_put(o, "mem_total_kb", jkb(m->mem_total_kb), &rc);
	jsonval_put(o, "mem_free_kb", jkb(m->mem_free_kb), &rc);
	jsonval_put(o, "mem_available_kb", jkb(m->mem_available_kb), &rc);
	jsonval_put(o, "swap_total_kb", jkb(m->swap_total_kb), &rc);
	jsonval_put(o, "swap_free_kb", jkb(m->swap_free_kb), &rc);
	jsonval_put(o, "commit_limit_kb", jkb(m->commit_limit_kb), &rc);
	jsonval_put(o, "committed_as_kb", jkb(m->committed_as_kb), &rc);
	jsonval_put(o, "hugetlb_kb", jkb(m->hugetlb_kb), &rc);
	return rc ? (json_object_put(o), NULL) : o;
}

static json_object *fmt_sysctls(const struct vm_sysctls *vm)
{
	json_object *o = json_object_new_object();
	int rc = o ? 0 : -ENOMEM;
	for (int k = 0; k < VM_NKNOBS; k++)
		jsonval_put(o, vm_knob_name((enum vm_knob)k), json_object_new_int64(vm->v[k]), &rc);
	return rc ? (json_object_put(o), NULL) : o;
}

static json_object *fmt_group(const struct hs_cgroup *g)
{
	json_object *o = json_object_new_object();
	int rc = o ? 0 : -ENOMEM;
	jsonval_put(o, "path", json_object_new_string(g->path), &rc);
	jsonval_put(o, "current", jcg(g->m.current), &rc);
	jsonval_put(o, "anon", jcg(g->m.anon), &rc);
	jsonval_put(o, "file", jcg(g->m.file), &rc);
	jsonval_put(o, "high", jcg(g->m.high), &rc);
	jsonval_put(o, "max", jcg(g->m.max), &rc);
	jsonval_put(o, "peak", jcg(g->m.peak), &rc);
	return rc ? (json_object_put(o), NULL) : o;
}

static json_object *fmt_user(const struct hs_user *u)
{
	json_object *o = json_object_new_object();
	int rc = o ? 0 : -ENOMEM;
	jsonval_put(o, "uid", json_object_new_uint64(u->uid), &rc);
	jsonval_put(o, "name", json_object_new_string(u->name), &rc);
	return rc ? (json_object_put(o), NULL) : o;
}

static json_object *fmt_proc(const struct proc_info *p, bool redacted)
{
	json_object *o = json_object_new_object();
	int rc = o ? 0 : -ENOMEM;
	char state[2] = { p->st.state, '\0' };
	size_t ulen = 0;
	const char *unit = proc_unit(p, &ulen);
	jsonval_put(o, "pid", json_object_new_int(p->pid), &rc);
	jsonval_put(o, "ppid", json_object_new_int(p->st.ppid), &rc);
	jsonval_put(o, "start_time", json_object_new_uint64(p->st.start_time), &rc);
	jsonval_put(o, "state", json_object_new_string(state), &rc);
	jsonval_put(o, "comm", json_object_new_string(p->st.comm), &rc);
	jsonval_put(o, "uid", json_object_new_uint64(p->status.uid), &rc);
	jsonval_put(o, "tgid", json_object_new_int(p->status.tgid), &rc);
	jsonval_put(o, "exe", json_object_new_string(p->exe), &rc);
	if (!redacted)
		jsonval_put(o, "cmdline", json_object_new_string(p->cmdline), &rc);
	jsonval_put(o, "cgroup", json_object_new_string(p->cgroup), &rc);
	jsonval_put(o, "unit", json_object_new_string_len(unit ? unit : "", (int)ulen), &rc);
	jsonval_put(o, "vm_size_kb", jkb(p->status.vm_size_kb), &rc);
	jsonval_put(o, "vm_data_kb", jkb(p->status.vm_data_kb), &rc);
	jsonval_put(o, "vm_stk_kb", jkb(p->status.vm_stk_kb), &rc);
	jsonval_put(o, "rss_anon_kb", jkb(p->status.rss_anon_kb), &rc);
	jsonval_put(o, "cap_eff", json_object_new_uint64(p->status.cap_eff), &rc);
	jsonval_put(o, "oom_score_adj", json_object_new_int(p->oom_score_adj), &rc);
	return rc ? (json_object_put(o), NULL) : o;
}

/* An array of n elements made by make(base + i * size). */
static json_object *fmt_array(const void *base, size_t n, size_t size,
			      json_object *(*make)(const void *, bool), bool flag)
{
	json_object *a = json_object_new_array_ext(n ? (int)n : 1);
	for (size_t i = 0; a && i < n; i++) {
		json_object *e = make((const char *)base + i * size, flag);
		if (!e || json_object_array_add(a, e) != 0) {
			json_object_put(e);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

static json_object *mk_group(const void *g, bool f) { (void)f; return fmt_group(g); }
static json_object *mk_user(const void *u, bool f) { (void)f; return fmt_user(u); }
static json_object *mk_proc(const void *p, bool redacted) { return fmt_proc(p, redacted); }

static json_object *fmt_smaps(const struct smaps_charge *c)
{
	json_object *o = json_object_new_object();
	int rc = o ? 0 : -ENOMEM;
	jsonval_put(o, "charge_kb", jkb(c->charge_kb), &rc);
	jsonval_put(o, "largest_kb", jkb(c->largest_kb), &rc);
	jsonval_put(o, "dontfork_kb", jkb(c->dontfork_kb), &rc);
	jsonval_put(o, "noreserve_kb", jkb(c->noreserve_kb), &rc);
	jsonval_put(o, "nvma", json_object_new_uint64(c->nvma), &rc);
	return rc ? (json_object_put(o), NULL) : o;
}

/* userns, and smaps where it was read, into each process object */
static int add_procx(json_object *procs, const struct hostsnap *hs)
{
	int rc = 0;
	for (size_t i = 0; i < hs->nprocs && rc == 0; i++) {
		json_object *o = json_object_array_get_idx(procs, i);
		jsonval_put(o, "userns", json_object_new_uint64(hs->procx[i].userns), &rc);
		if (hs->procx[i].have_smaps)
			jsonval_put(o, "smaps", fmt_smaps(&hs->procx[i].smaps), &rc);
	}
	return rc;
}

static json_object *fmt_learned(const struct hostsnap *hs)
{
	char *txt = NULL;
	if (hs->nlearned == 0 || learn_format(hs->learned, hs->nlearned, &txt) < 0) {
		free(txt);
		return NULL; /* JSON null */
	}
	json_object *o = json_tokener_parse(txt);
	free(txt);
	return o;
}

int hostsnap_format(const struct hostsnap *hs, char **json, size_t *len)
{
	*json = NULL;
	json_object *root = json_object_new_object();
	json_object *host = json_object_new_object();
	json_object *cg = json_object_new_object();
	int rc = root && host && cg ? 0 : -ENOMEM;
	jsonval_put(root, "format", json_object_new_string(HOSTSNAP_FORMAT), &rc);
	jsonval_put(root, "version", json_object_new_int(HOSTSNAP_VERSION), &rc);
	jsonval_put(root, "overcommitd", json_object_new_string(OVERCOMMITD_VERSION), &rc);
	jsonval_put(host, "hostname", json_object_new_string(hs->hostname), &rc);
	jsonval_put(host, "kernel", json_object_new_string(hs->kernel), &rc);
	jsonval_put(host, "taken_at", json_object_new_uint64(hs->taken_at), &rc);
	jsonval_put(host, "redacted", json_object_new_boolean(hs->redacted), &rc);
	jsonval_put(host, "uid_min", json_object_new_uint64(hs->uid_min), &rc);
	jsonval_put(host, "cpus_present", json_object_new_uint64(hs->cpus.present), &rc);
	jsonval_put(host, "cpus_online", json_object_new_uint64(hs->cpus.online), &rc);
	jsonval_put(host, "init_userns", json_object_new_uint64(hs->admin.init_userns), &rc);
	jsonval_put(host, "selinux_enforcing", json_object_new_boolean(hs->admin.selinux_enforcing), &rc);
	jsonval_put(root, "host", host, &rc);
	jsonval_put(root, "meminfo", fmt_meminfo(&hs->mem), &rc);
	jsonval_put(root, "sysctls", fmt_sysctls(&hs->vm), &rc);
	jsonval_put(cg, "v2_memory", json_object_new_boolean(hs->cgroup2), &rc);
	jsonval_put(cg, "hierarchy", json_object_new_string(cg_hier_name(hs->hier)), &rc);
	jsonval_put(cg, "favordynmods", json_object_new_string(cgopt_state_name(hs->favordynmods)),
		    &rc);
	jsonval_put(cg, "groups", fmt_array(hs->cgroups, hs->ncgroups, sizeof(*hs->cgroups), mk_group, false),
	    &rc);
	jsonval_put(root, "cgroup", cg, &rc);
	jsonval_put(root, "users", fmt_array(hs->users, hs->nusers, sizeof(*hs->users), mk_user, false), &rc);
	if (rc == 0 && json_object_object_add(root, "learned", fmt_learned(hs)) != 0)
		rc = -ENOMEM;
	json_object *procs = fmt_array(hs->procs, hs->nprocs, sizeof(*hs->procs), mk_proc,
				       hs->redacted);
	if (procs && add_procx(procs, hs) < 0) {
		json_object_put(procs);
		procs = NULL;
	}
	jsonval_put(root, "processes", procs, &rc);
	if (rc == 0) {
		size_t n = 0;
		const char *txt = json_object_to_json_string_length(
			root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
		*json = txt ? malloc(n + 2) : NULL;
		if (*json) {
			memcpy(*json, txt, n);
			(*json)[n] = '\n';
			(*json)[n + 1] = '\0';
			*len = n + 1;
		} else {
			rc = -ENOMEM;
		}
	}
	json_object_put(root); /* jsonval_put() attached or released everything else */
	return rc;
}

/* ---- reading ------------------------------------------------------------- */

struct rd {
	char *err;
	size_t errsize;
	char where[64];               /* "processes[3]" or "" */
};

static int fail(struct rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct rd *r, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(r->err, r->errsize, "%s%s%s", r->where, r->where[0] ? "." : "", msg);
	return -EINVAL;
}

static json_object *member(struct rd *r, json_object *o, const char *k, json_type t, int *rc)
{
	json_object *v;
	if (*rc)
		return NULL;
	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, t)) {
		static const char *const names[] = { "null", "a boolean", "a number", "an integer",
						     "an object", "an array", "a string" };
		*rc = fail(r, "%s: missing or not %s", k, names[t]);
		return NULL;
	}
	return v;
}

static void get_u64(struct rd *r, json_object *o, const char *k, uint64_t max, uint64_t *out,
		    int *rc)
{
	if (*rc == 0 && jsonval_u64(o, k, max, out) < 0)
		*rc = fail(r, "%s: missing or not an integer in 0..%llu", k, (unsigned long long)max);
}

static void get_int(struct rd *r, json_object *o, const char *k, int min, int max, int *out, int *rc)
{
	json_object *v = member(r, o, k, json_type_int, rc);
	if (!v)
		return;
	int64_t x = json_object_get_int64(v);
	if (x < min || x > max)
		*rc = fail(r, "%s: %lld is outside %d..%d", k, (long long)x, min, max);
	else
		*out = (int)x;
}

/* A string that fits dst with its NUL, and holds no NUL itself. */
static void get_str(struct rd *r, json_object *o, const char *k, char *dst, size_t size, int *rc)
{
	json_object *v = member(r, o, k, json_type_string, rc);
	if (!v)
		return;
	size_t n = (size_t)json_object_get_string_len(v);
	const char *s = json_object_get_string(v);
	if (n >= size || strlen(s) != n)
		*rc = fail(r, "%s: longer than %zu bytes or holds a NUL", k, size - 1);
	else
		memcpy(dst, s, n + 1);
}

static void get_bool(struct rd *r, json_object *o, const char *k, bool *out, int *rc)
{
	json_object *v = member(r, o, k, json_type_boolean, rc);
	if (v)
		*out = json_object_get_boolean(v);
}

/* cgroup byte figures: an integer or "max" */
static void get_cg(struct rd *r, json_object *o, const char *k, uint64_t *out, int *rc)
{
	json_object *v;
	if (*rc == 0 && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string) &&
	    strcmp(json_object_get_string(v), "max") == 0) {
		*out = CG_UNLIMITED;
		return;
	}
	get_u64(r, o, k, BYTES_MAX, out, rc);
}

static int read_meminfo(struct rd *r, json_object *root, struct meminfo *m)
{
	int rc = 0;
	json_object *o = member(r, root, "meminfo", json_type_object, &rc);
	get_u64(r, o, "mem_total_kb", KB_MAX, &m->mem_total_kb, &rc);
	get_u64(r, o, "mem_free_kb", KB_MAX, &m->mem_free_kb, &rc);
	get_u64(r, o, "mem_available_kb", KB_MAX, &m->mem_available_kb, &rc);
	get_u64(r, o, "swap_total_kb", KB_MAX, &m->swap_total_kb, &rc);
	get_u64(r, o, "swap_free_kb", KB_MAX, &m->swap_free_kb, &rc);
	get_u64(r, o, "commit_limit_kb", KB_MAX, &m->commit_limit_kb, &rc);
	get_u64(r, o, "committed_as_kb", KB_MAX, &m->committed_as_kb, &rc);
	get_u64(r, o, "hugetlb_kb", KB_MAX, &m->hugetlb_kb, &rc);
	if (rc == 0 && m->mem_total_kb == 0)
		rc = fail(r, "meminfo.mem_total_kb: 0");
	return rc;
}

static int read_sysctls(struct rd *r, json_object *root, struct vm_sysctls *vm)
{
	int rc = 0;
	json_object *o = member(r, root, "sysctls", json_type_object, &rc);
	for (int k = 0; k < VM_NKNOBS && rc == 0; k++) {
		uint64_t v;
		uint64_t max = k == VM_OVERCOMMIT_MEMORY ? 2 : k == VM_OVERCOMMIT_RATIO ? INT_MAX : KB_MAX;
		get_u64(r, o, vm_knob_name((enum vm_knob)k), max, &v, &rc);
		vm->v[k] = (int64_t)v;
	}
	return rc;
}

/* Each element of the array under k, with "k[i]" as the error context. */
static int each(struct rd *r, json_object *arr, const char *k, size_t max, void *out, size_t size,
		int (*one)(struct rd *, json_object *, void *, const void *prev))
{
	size_t n = json_object_array_length(arr);
	if (n > max)
		return fail(r, "%s: %zu entries, at most %zu", k, n, max);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		snprintf(r->where, sizeof(r->where), "%s[%zu]", k, i);
		if (!json_object_is_type(e, json_type_object))
			rc = fail(r, "not an object");
		else
			rc = one(r, e, (char *)out + i * size, i ? (char *)out + (i - 1) * size : NULL);
	}
	if (rc == 0)
		r->where[0] = '\0';
	return rc;
}

static int one_group(struct rd *r, json_object *o, void *out, const void *prev)
{
	struct hs_cgroup *g = out;
	int rc = 0;
	get_str(r, o, "path", g->path, sizeof(g->path), &rc);
	get_cg(r, o, "current", &g->m.current, &rc);
	get_cg(r, o, "anon", &g->m.anon, &rc);
	get_cg(r, o, "file", &g->m.file, &rc);
	get_cg(r, o, "high", &g->m.high, &rc);
	get_cg(r, o, "max", &g->m.max, &rc);
	get_cg(r, o, "peak", &g->m.peak, &rc);
	g->m.present = true;
	if (rc == 0 && g->path[0] != '/')
		rc = fail(r, "path: does not start with /");
	if (rc == 0 && prev && strcmp(((const struct hs_cgroup *)prev)->path, g->path) >= 0)
		rc = fail(r, "path: not after the one before (sorted, unique)");
	return rc;
}

static int one_user(struct rd *r, json_object *o, void *out, const void *prev)
{
	struct hs_user *u = out;
	int rc = 0;
	uint64_t uid = 0;
	get_u64(r, o, "uid", UINT32_MAX - 1, &uid, &rc);
	get_str(r, o, "name", u->name, sizeof(u->name), &rc);
	u->uid = (uid_t)uid;
	if (rc == 0 && prev && ((const struct hs_user *)prev)->uid >= u->uid)
		rc = fail(r, "uid: not after the one before (sorted, unique)");
	return rc;
}

static int one_proc(struct rd *r, json_object *o, void *out, const void *prev)
{
	struct proc_info *p = out;
	int rc = 0;
	uint64_t uid = 0;
	char state[2] = "";
	get_int(r, o, "pid", 1, PID_MAX_LIMIT, &p->pid, &rc);
	get_int(r, o, "ppid", 0, PID_MAX_LIMIT, &p->st.ppid, &rc);
	get_u64(r, o, "start_time", START_MAX, &p->st.start_time, &rc);
	get_str(r, o, "state", state, sizeof(state), &rc);
	get_str(r, o, "comm", p->st.comm, sizeof(p->st.comm), &rc);
	get_u64(r, o, "uid", UINT32_MAX - 1, &uid, &rc);
	get_int(r, o, "tgid", 0, PID_MAX_LIMIT, &p->status.tgid, &rc);
	get_str(r, o, "exe", p->exe, sizeof(p->exe), &rc);
	if (json_object_object_get_ex(o, "cmdline", NULL))
		get_str(r, o, "cmdline", p->cmdline, sizeof(p->cmdline), &rc);
	get_str(r, o, "cgroup", p->cgroup, sizeof(p->cgroup), &rc);
	get_u64(r, o, "vm_size_kb", KB_MAX, &p->status.vm_size_kb, &rc);
	get_u64(r, o, "vm_data_kb", KB_MAX, &p->status.vm_data_kb, &rc);
	get_u64(r, o, "vm_stk_kb", KB_MAX, &p->status.vm_stk_kb, &rc);
	get_u64(r, o, "rss_anon_kb", KB_MAX, &p->status.rss_anon_kb, &rc);
	get_u64(r, o, "cap_eff", UINT64_MAX, &p->status.cap_eff, &rc);
	get_int(r, o, "oom_score_adj", -1000, 1000, &p->oom_score_adj, &rc);
	p->status.uid = (uid_t)uid;
	p->status.euid = (uid_t)uid; /* the document keeps one uid per process */
	p->st.state = state[0];
	if (rc == 0 && !isalpha((unsigned char)state[0]))
		rc = fail(r, "state: not a letter");
	if (rc == 0 && prev && ((const struct proc_info *)prev)->pid >= p->pid)
		rc = fail(r, "pid: not after the one before (sorted, unique)");
	return rc;
}

static int one_procx(struct rd *r, json_object *o, struct hs_procx *x)
{
	int rc = 0;
	get_u64(r, o, "userns", UINT64_MAX, &x->userns, &rc);
	if (rc || !json_object_object_get_ex(o, "smaps", NULL))
		return rc;
	json_object *sm = member(r, o, "smaps", json_type_object, &rc);
	uint64_t nvma = 0;
	get_u64(r, sm, "charge_kb", KB_MAX, &x->smaps.charge_kb, &rc);
	get_u64(r, sm, "largest_kb", KB_MAX, &x->smaps.largest_kb, &rc);
	get_u64(r, sm, "dontfork_kb", KB_MAX, &x->smaps.dontfork_kb, &rc);
	get_u64(r, sm, "noreserve_kb", KB_MAX, &x->smaps.noreserve_kb, &rc);
	get_u64(r, sm, "nvma", UINT32_MAX, &nvma, &rc);
	x->smaps.nvma = (size_t)nvma;
	x->have_smaps = rc == 0;
	if (rc == 0 && x->smaps.largest_kb > x->smaps.charge_kb)
		rc = fail(r, "smaps.largest_kb: above charge_kb");
	return rc;
}

static int read_procx(struct rd *r, json_object *arr, struct hostsnap *hs)
{
	size_t n = json_object_array_length(arr);
	hs->procx = calloc(n ? n : 1, sizeof(*hs->procx));
	if (!hs->procx)
		return -ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		snprintf(r->where, sizeof(r->where), "processes[%zu]", i);
		rc = one_procx(r, json_object_array_get_idx(arr, i), &hs->procx[i]);
	}
	if (rc == 0)
		r->where[0] = '\0';
	return rc;
}

static int read_learned(struct rd *r, json_object *root, struct hostsnap *hs)
{
	json_object *v;
	if (!json_object_object_get_ex(root, "learned", &v) || !v)
		return 0; /* null or absent: nothing learned */
	if (!json_object_is_type(v, json_type_object))
		return fail(r, "learned: not an object or null");
	size_t n;
	const char *txt = json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN, &n);
	if (!txt || learn_parse(txt, &hs->learned, &hs->nlearned) < 0)
		return fail(r, "learned: not a valid learned.json document");
	return 0;
}

/* version first: a newer document is "another version", not "corrupt" */
static int read_header(struct rd *r, json_object *root, struct hostsnap *hs)
{
	int rc = 0;
	char fmt[32];
	get_str(r, root, "format", fmt, sizeof(fmt), &rc);
	if (rc || strcmp(fmt, HOSTSNAP_FORMAT) != 0)
		return fail(r, "not an overcommitd snapshot (\"format\": \"%s\" expected)", HOSTSNAP_FORMAT);
	json_object *v = member(r, root, "version", json_type_int, &rc);
	if (rc)
		return rc;
	if (json_object_get_int64(v) != HOSTSNAP_VERSION)
		return fail(r, "snapshot version %lld: this overcommitd (%s) reads version %d",
			    (long long)json_object_get_int64(v), OVERCOMMITD_VERSION, HOSTSNAP_VERSION);
	json_object *host = member(r, root, "host", json_type_object, &rc);
	get_str(r, host, "hostname", hs->hostname, sizeof(hs->hostname), &rc);
	get_str(r, host, "kernel", hs->kernel, sizeof(hs->kernel), &rc);
	get_u64(r, host, "taken_at", LEARN_MAX_VALUE, &hs->taken_at, &rc);
	get_bool(r, host, "redacted", &hs->redacted, &rc);
	uint64_t uid_min = 0, present = 0, online = 0;
	get_u64(r, host, "uid_min", UINT32_MAX - 1, &uid_min, &rc);
	get_u64(r, host, "cpus_present", CPUS_MAX, &present, &rc);
	get_u64(r, host, "cpus_online", CPUS_MAX, &online, &rc);
	get_u64(r, host, "init_userns", UINT64_MAX, &hs->admin.init_userns, &rc);
	get_bool(r, host, "selinux_enforcing", &hs->admin.selinux_enforcing, &rc);
	hs->uid_min = (uid_t)uid_min;
	hs->cpus.present = (unsigned)present;
	hs->cpus.online = (unsigned)online;
	return rc;
}

static int alloc_array(struct rd *r, json_object *o, const char *k, size_t max, size_t size,
		       void **out, json_object **arr)
{
	int rc = 0;
	*arr = member(r, o, k, json_type_array, &rc);
	if (rc)
		return rc;
	size_t n = json_object_array_length(*arr);
	if (n > max)
		return fail(r, "%s: %zu entries, at most %zu", k, n, max);
	*out = calloc(n ? n : 1, size);
	return *out ? 0 : -ENOMEM;
}

/* "hierarchy": "v2" | "v1" | "hybrid" | "none"; absent in documents from
 * before v1 groups were recorded: v2 or none, as "v2_memory" says. */
static int read_hierarchy(struct rd *r, json_object *cg, struct hostsnap *hs)
{
	json_object *v;
	hs->hier = hs->cgroup2 ? CG_HIER_V2 : CG_HIER_NONE;
	if (!json_object_object_get_ex(cg, "hierarchy", &v))
		return 0;
	static const enum cg_hier all[] = { CG_HIER_V2, CG_HIER_V1, CG_HIER_HYBRID, CG_HIER_NONE };
	const char *name = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(name, cg_hier_name(all[i])) != 0)
			continue;
		if ((all[i] == CG_HIER_V2) != hs->cgroup2)
			return fail(r, "cgroup.hierarchy: \"%s\" disagrees with v2_memory", name);
		hs->hier = all[i];
		return 0;
	}
	return fail(r, "cgroup.hierarchy: not one of v2, v1, hybrid, none");
}

/* "favordynmods": absent in documents from before it was recorded: unknown */
static int read_favordynmods(struct rd *r, json_object *cg, struct hostsnap *hs)
{
	json_object *v;
	hs->favordynmods = CGOPT_UNKNOWN;
	if (!json_object_object_get_ex(cg, "favordynmods", &v))
		return 0;
	if (!json_object_is_type(v, json_type_string) ||
	    cgopt_state_parse(json_object_get_string(v), &hs->favordynmods) < 0)
		return fail(r, "cgroup.favordynmods: not one of unknown, unsupported, off, on");
	return 0;
}

static int read_body(struct rd *r, json_object *root, struct hostsnap *hs)
{
	int rc = read_header(r, root, hs);
	if (rc == 0)
		rc = read_meminfo(r, root, &hs->mem);
	if (rc == 0)
		rc = read_sysctls(r, root, &hs->vm);
	json_object *cg = member(r, root, "cgroup", json_type_object, &rc), *arr;
	get_bool(r, cg, "v2_memory", &hs->cgroup2, &rc);
	if (rc == 0)
		rc = read_hierarchy(r, cg, hs);
	if (rc == 0)
		rc = read_favordynmods(r, cg, hs);
	if (rc == 0 && (rc = alloc_array(r, cg, "groups", HOSTSNAP_MAX_CGROUPS, sizeof(*hs->cgroups),
					 (void **)&hs->cgroups, &arr)) == 0 &&
	    (rc = each(r, arr, "cgroup.groups", HOSTSNAP_MAX_CGROUPS, hs->cgroups,
		       sizeof(*hs->cgroups), one_group)) == 0)
		hs->ncgroups = json_object_array_length(arr);
	if (rc == 0 && (rc = alloc_array(r, root, "users", HOSTSNAP_MAX_USERS, sizeof(*hs->users),
					 (void **)&hs->users, &arr)) == 0 &&
	    (rc = each(r, arr, "users", HOSTSNAP_MAX_USERS, hs->users, sizeof(*hs->users),
		       one_user)) == 0)
		hs->nusers = json_object_array_length(arr);
	if (rc == 0 && (rc = alloc_array(r, root, "processes", HOSTSNAP_MAX_PROCS, sizeof(*hs->procs),
					 (void **)&hs->procs, &arr)) == 0 &&
	    (rc = each(r, arr, "processes", HOSTSNAP_MAX_PROCS, hs->procs, sizeof(*hs->procs),
		       one_proc)) == 0 &&
	    (rc = read_procx(r, arr, hs)) == 0)
		hs->nprocs = json_object_array_length(arr);
	if (rc == 0)
		rc = read_learned(r, root, hs);
	return rc;
}

int hostsnap_parse(const char *json, size_t len, struct hostsnap *hs, char *err, size_t errsize)
{
	struct rd r = { .err = err, .errsize = errsize };
	memset(hs, 0, sizeof(*hs));
	if (errsize)
		err[0] = '\0';
	if (len > HOSTSNAP_MAX_BYTES || len > INT_MAX)
		return fail(&r, "larger than %zu bytes", HOSTSNAP_MAX_BYTES);
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_object *root = json_tokener_parse_ex(tok, json, (int)len);
	enum json_tokener_error je = json_tokener_get_error(tok);
	size_t end = root && je == json_tokener_success ? json_tokener_get_parse_end(tok) : 0;
	json_tokener_free(tok);
	int rc = 0;
	if (!root || je != json_tokener_success)
		rc = fail(&r, "not JSON: %s", json_tokener_error_desc(je));
	for (size_t i = end; rc == 0 && i < len; i++)
		if (json[i] != ' ' && json[i] != '\n' && json[i] != '\t' && json[i] != '\r')
			rc = fail(&r, "trailing data after the document (byte %zu)", i);
	if (rc == 0 && !json_object_is_type(root, json_type_object))
		rc = fail(&r, "not a JSON object");
	if (rc == 0)
		rc = read_body(&r, root, hs);
	json_object_put(root);
	if (rc < 0)
		hostsnap_free(hs);
	return rc;
}

int hostsnap_load(const char *path, struct hostsnap *hs, char *err, size_t errsize)
{
	char *buf;
	memset(hs, 0, sizeof(*hs));
	ssize_t n = read_file_alloc(path, HOSTSNAP_MAX_BYTES, &buf);
	if (n < 0) {
		snprintf(err, errsize, "%s", n == -EFBIG ? "larger than the 64 MiB a snapshot may be"
							  : strerror((int)-n));
		return (int)n;
	}
	int rc = hostsnap_parse(buf, (size_t)n, hs, err, errsize);
	free(buf);
	return rc;
}
