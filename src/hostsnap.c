/* hostsnap.c - take a host snapshot from the kernel, and serve one back to
 * the observation stage (snapshot_observe) in place of /proc.
 *
 * Cost: six small reads per process (stat, status, oom_score_adj, cgroup,
 * cmdline, the exe link) and five per memory cgroup; never smaps.  A host of
 * 10,000 processes is ~60,000 reads (BENCHMARKS.md). */
#include "hostsnap.h"

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chargecache.h"
#include "trust.h"
#include "util.h"

#define CG_WALK_DEPTH 32

/* ---- processes ------------------------------------------------------------ */

static int take_procs(const struct roots *r, bool redact, struct hostsnap *hs)
{
	int *pids;
	int n = proc_list_pids(r, &pids);
	if (n < 0)
		return n;
	size_t cap = n > HOSTSNAP_MAX_PROCS ? HOSTSNAP_MAX_PROCS : (size_t)n;
	hs->procs = calloc(cap ? cap : 1, sizeof(*hs->procs));
	hs->procx = calloc(cap ? cap : 1, sizeof(*hs->procx));
	if (!hs->procs || !hs->procx) {
		free(pids);
		return -ENOMEM;
	}
	unsigned what = PROC_READ_ALL & ~(redact ? (unsigned)PROC_READ_CMDLINE : 0u);
	for (int i = 0; i < n && hs->nprocs < cap; i++) {
		struct proc_info *p = &hs->procs[hs->nprocs];
		memset(p, 0, sizeof(*p));
		if (proc_read_opts(r, pids[i], what, p) < 0)
			continue; /* vanished (or unparsable): skipped */
		if (proc_userns_read(r, p->pid, &hs->procx[hs->nprocs].userns) < 0)
			hs->procx[hs->nprocs].userns = 0;
		hs->nprocs++;
	}
	free(pids);
	return 0;
}

static int cmp_charge_desc(const void *a, const void *b)
{
	uint64_t x = ((const uint64_t *)a)[0], y = ((const uint64_t *)b)[0];
	return (x < y) - (x > y);
}

/* The exact fork charge of the largest processes (see HOSTSNAP_SMAPS_MIN_KB). */
static int take_smaps(const struct roots *r, struct hostsnap *hs)
{
	uint64_t (*big)[2] = calloc(hs->nprocs ? hs->nprocs : 1, sizeof(*big));
	if (!big)
		return -ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < hs->nprocs; i++) {
		uint64_t kb = proc_commit_kb(&hs->procs[i]);
		if (kb >= HOSTSNAP_SMAPS_MIN_KB) {
			big[n][0] = kb;
			big[n++][1] = i;
		}
	}
	qsort(big, n, sizeof(*big), cmp_charge_desc);
	for (size_t k = 0; k < n && k < HOSTSNAP_SMAPS_MAX; k++) {
		struct hs_procx *x = &hs->procx[big[k][1]];
		x->have_smaps = smaps_charge_read(r, hs->procs[big[k][1]].pid, &x->smaps) == 0;
	}
	free(big);
	return 0;
}

static int cmp_uid(const void *a, const void *b)
{
	uid_t x = ((const struct hs_user *)a)->uid, y = ((const struct hs_user *)b)->uid;
	return (x > y) - (x < y);
}

/* The names of the uids processes run as: match_user = NAME resolves
 * against the host's passwd, not the control node's. */
static int take_users(struct hostsnap *hs)
{
	hs->users = calloc(hs->nprocs ? hs->nprocs : 1, sizeof(*hs->users));
	if (!hs->users)
		return -ENOMEM;
	for (size_t i = 0; i < hs->nprocs; i++)
		hs->users[i].uid = hs->procs[i].status.uid;
	qsort(hs->users, hs->nprocs, sizeof(*hs->users), cmp_uid);
	size_t n = 0;
	for (size_t i = 0; i < hs->nprocs; i++) {
		uid_t uid = hs->users[i].uid;
		/* one lookup per distinct uid, named or not (NSS is slow) */
		if (i > 0 && hs->users[i - 1].uid == uid)
			continue;
		struct passwd pw, *res = NULL;
		char buf[16384];
		if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res ||
		    strlen(res->pw_name) >= HOSTSNAP_NAME_MAX)
			continue; /* no name: match_user by number still works */
		hs->users[n].uid = uid;
		snprintf(hs->users[n].name, sizeof(hs->users[n].name), "%s", res->pw_name);
		n++;
	}
	hs->nusers = n;
	return 0;
}

/* ---- cgroups ------------------------------------------------------------- */

static int add_group(struct hostsnap *hs, size_t *cap, const char *path, const struct cg_memory *m)
{
	if (hs->ncgroups == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct hs_cgroup *g = realloc(hs->cgroups, ncap * sizeof(*g));
		if (!g)
			return -ENOMEM;
		hs->cgroups = g;
		*cap = ncap;
	}
	struct hs_cgroup *g = &hs->cgroups[hs->ncgroups++];
	memset(g, 0, sizeof(*g));
	snprintf(g->path, sizeof(g->path), "%s", path);
	g->m = *m;
	return 0;
}

/* Depth-first over the memory controller's tree (v2, or v1's memory/):
 * every group with memory figures, by its path in /proc/PID/cgroup. */
static int walk_groups(const struct roots *r, struct hostsnap *hs, size_t *cap, const char *path,
		       int depth)
{
	char rel[PATH_MAX], dir[PATH_MAX];
	if (cg_group_rel(hs->hier, path, rel, sizeof(rel)) < 0 ||
	    path_join(dir, sizeof(dir), r->cgroupfs, rel) < 0)
		return 0; /* too long to read: not recorded */
	DIR *d = opendir(dir);
	if (!d)
		return 0; /* removed meanwhile */
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && hs->ncgroups < HOSTSNAP_MAX_CGROUPS && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		char child[PROC_PATH_MAX];
		if (snprintf(child, sizeof(child), "%s/%s", path[1] ? path : "", de->d_name) >=
		    (int)sizeof(child))
			continue;
		struct cg_memory m;
		if (cg_memory_read(r, child, &m) == 0 && m.present)
			rc = add_group(hs, cap, child, &m);
		if (rc == 0 && depth < CG_WALK_DEPTH)
			rc = walk_groups(r, hs, cap, child, depth + 1);
	}
	closedir(d);
	return rc;
}

static int cmp_group(const void *a, const void *b)
{
	return strcmp(((const struct hs_cgroup *)a)->path, ((const struct hs_cgroup *)b)->path);
}

int hostsnap_take(const struct roots *r, bool redact, struct hostsnap *hs)
{
	memset(hs, 0, sizeof(*hs));
	hs->redacted = redact;
	int rc = meminfo_read(r, &hs->mem);
	if (rc == 0)
		rc = vm_sysctls_read(r, &hs->vm);
	if (rc < 0)
		return rc;
	hs->hier = cg_hierarchy(r);
	hs->cgroup2 = hs->hier == CG_HIER_V2;
	hs->favordynmods = cgopt_read(r, NULL, 0);
	(void)uid_min_read(r, &hs->uid_min); /* malformed: the default, as live */
	if (cpu_counts_read(r, &hs->cpus) < 0)
		memset(&hs->cpus, 0, sizeof(hs->cpus));
	admin_facts_read(r, &hs->admin);
	if ((rc = take_procs(r, redact, hs)) == 0)
		rc = take_users(hs);
	if (rc == 0)
		rc = take_smaps(r, hs);
	size_t cap = 0;
	if (rc == 0 && hs->hier != CG_HIER_NONE)
		rc = walk_groups(r, hs, &cap, "/", 0);
	if (rc < 0) {
		hostsnap_free(hs);
		return rc;
	}
	if (hs->ncgroups > 1)
		qsort(hs->cgroups, hs->ncgroups, sizeof(*hs->cgroups), cmp_group);
	return 0;
}

void hostsnap_free(struct hostsnap *hs)
{
	free(hs->procs);
	free(hs->procx);
	free(hs->cgroups);
	free(hs->users);
	free(hs->learned);
	memset(hs, 0, sizeof(*hs));
}

/* ---- the snapshot as an observation source ------------------------------- */

static const struct hostsnap *doc(const struct obs_source *src)
{
	return src->ctx;
}

static int doc_host(const struct obs_source *src, struct meminfo *mem, struct vm_sysctls *vm,
		    enum cg_hier *hier)
{
	*mem = doc(src)->mem;
	*vm = doc(src)->vm;
	*hier = doc(src)->hier;
	return 0;
}

static int doc_list(const struct obs_source *src, int **pids)
{
	const struct hostsnap *hs = doc(src);
	*pids = malloc((hs->nprocs ? hs->nprocs : 1) * sizeof(**pids));
	if (!*pids)
		return -ENOMEM;
	for (size_t i = 0; i < hs->nprocs; i++)
		(*pids)[i] = hs->procs[i].pid;
	return (int)hs->nprocs;
}

static int cmp_pid(const void *key, const void *elem)
{
	int a = *(const int *)key, b = ((const struct proc_info *)elem)->pid;
	return (a > b) - (a < b);
}

/* As proc_read_opts: only the fields asked for are copied. */
static int doc_proc(const struct obs_source *src, int pid, unsigned what, struct proc_info *p)
{
	const struct hostsnap *hs = doc(src);
	const struct proc_info *q = bsearch(&pid, hs->procs, hs->nprocs, sizeof(*q), cmp_pid);
	p->pid = pid;
	if (!q)
		return -ENOENT;
	if (what & PROC_READ_STAT)
		p->st = q->st;
	if (what & PROC_READ_STATUS)
		p->status = q->status;
	if (what & PROC_READ_OOM)
		p->oom_score_adj = q->oom_score_adj;
	if (what & PROC_READ_CGROUP)
		memcpy(p->cgroup, q->cgroup, sizeof(p->cgroup));
	if (what & PROC_READ_CMDLINE)
		memcpy(p->cmdline, q->cmdline, sizeof(p->cmdline));
	if (what & PROC_READ_EXE)
		memcpy(p->exe, q->exe, sizeof(p->exe));
	return 0;
}

static int cmp_path(const void *key, const void *elem)
{
	return strcmp(key, ((const struct hs_cgroup *)elem)->path);
}

/* As cg_memory_read: a group not recorded is absent (present = false). */
static int doc_cgroup(const struct obs_source *src, const char *path, struct cg_memory *m)
{
	const struct hostsnap *hs = doc(src);
	const struct hs_cgroup *g = bsearch(path, hs->cgroups, hs->ncgroups, sizeof(*g), cmp_path);
	memset(m, 0, sizeof(*m));
	if (g)
		*m = g->m;
	return 0;
}

static int doc_user(const struct obs_source *src, const char *name, uid_t *uid)
{
	const struct hostsnap *hs = doc(src);
	for (size_t i = 0; i < hs->nusers; i++) {
		if (strcmp(hs->users[i].name, name) == 0) {
			*uid = hs->users[i].uid;
			return 0;
		}
	}
	return -ENOENT;
}

static int doc_uid_min(const struct obs_source *src, uid_t *out)
{
	*out = doc(src)->uid_min;
	return 0;
}

static void doc_facts(const struct obs_source *src, struct cpu_counts *c, struct admin_facts *a)
{
	*c = doc(src)->cpus;
	*a = doc(src)->admin;
}

static const struct hs_procx *procx_of(const struct hostsnap *hs, int pid)
{
	const struct proc_info *q = bsearch(&pid, hs->procs, hs->nprocs, sizeof(*q), cmp_pid);
	return q ? &hs->procx[q - hs->procs] : NULL;
}

static int doc_userns(const struct obs_source *src, int pid, uint64_t *ino)
{
	const struct hs_procx *x = procx_of(doc(src), pid);
	if (!x || !x->userns)
		return -ENOENT;
	*ino = x->userns;
	return 0;
}

static enum cgopt_state doc_favordynmods(const struct obs_source *src)
{
	return doc(src)->favordynmods;
}

void hostsnap_source(const struct hostsnap *hs, struct obs_source *src)
{
	*src = (struct obs_source){ .host = doc_host, .list_pids = doc_list, .read_proc = doc_proc,
				    .read_cgroup = doc_cgroup, .lookup_user = doc_user,
				    .uid_min = doc_uid_min, .kernel_facts = doc_facts,
				    .read_userns = doc_userns, .favordynmods = doc_favordynmods,
				    .ctx = hs };
}

/* As fork_observe() on a first sighting, for every instance's main: smaps
 * read -> a cache entry -> fork_charge_from(); no smaps -> the estimate. */
int hostsnap_fork_observe(const struct hostsnap *hs, struct snapshot *s)
{
	struct charge_cache cache = { 0 };
	int rc = 0;
	for (size_t i = 0; i < s->nsvc && rc == 0; i++) {
		struct svc_obs *o = &s->svc[i];
		for (size_t k = 0; o->main_idx >= 0 && k < o->ninst && rc == 0; k++) {
			const struct proc_info *m = &o->procs[o->inst[k].main];
			const struct hs_procx *x = procx_of(hs, m->pid);
			uint64_t cheap = proc_commit_kb(m);
			const struct charge_entry *e = NULL;
			if (x && x->have_smaps) {
				rc = charge_cache_put(&cache, m->pid, m->st.start_time, &x->smaps, cheap,
						      m->status.vm_data_kb, s->vm.v[VM_OVERCOMMIT_MEMORY],
						      0);
				e = charge_cache_find(&cache, m->pid, m->st.start_time);
			}
			o->inst[k].charge = fork_charge_from(e, cheap, NULL);
		}
		if (o->main_idx >= 0)
			o->charge = o->inst[o->place[o->main_idx].inst].charge;
	}
	charge_cache_free(&cache);
	return rc;
}
