/* snapshot.c - one read of the host and of the services the policy names.
 *
 * Cost: /proc/PID/stat is read for every pid (comm, ppid, start time); the
 * other small files only for pids whose comm passes some service's
 * match_comm, and exe/cmdline only when a service matches on them.  A scan of
 * 10,000 processes is then ~10,000 small reads, never smaps (DESIGN §2). */
#include "snapshot.h"

#include "chargecache.h"
#include "childgroup.h"
#include "sdunit.h"

#include <errno.h>
#include <fnmatch.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chargecache.h"
#include "util.h"

/* A service's match_user resolved once per snapshot (NSS lookups are slow),
 * through the source (a host snapshot carries its own users). */
static struct user_key resolve_user(const struct obs_source *src, const char *name)
{
	struct user_key k = { .set = true };
	uint64_t v;
	if (parse_u64(name, UINT32_MAX - 1, &v) == 0) {
		k.ok = true;
		k.uid = (uid_t)v;
		return k;
	}
	/* an unknown user (or an NSS failure) matches nothing */
	k.ok = src->lookup_user(src, name, &k.uid) == 0;
	return k;
}

static bool exe_matches(const struct pol_service *s, const char *exe)
{
	if (exe[0] == '\0')
		return false;
	/* the path the policy names, or what it resolves to when it is a
	 * symlink (Debian's /usr/bin/redis-server -> redis-check-rdb) */
	return strcmp(exe, s->match_exe.v) == 0 ||
	       (s->match_exe_target && strcmp(exe, s->match_exe_target) == 0);
}

static bool matches(const struct pol_service *s, const struct user_key *user,
		    const struct proc_info *p)
{
	bool any = false;
	if (s->match_comm.v) {
		any = true;
		if (strcmp(p->st.comm, s->match_comm.v) != 0)
			return false;
	}
	if (s->match_exe.v) {
		any = true;
		if (!exe_matches(s, p->exe))
			return false;
	}
	if (s->match_unit.v) {
		any = true;
		size_t len = 0;
		const char *u = proc_unit(p, &len);
		if (!u || strlen(s->match_unit.v) != len || memcmp(u, s->match_unit.v, len) != 0)
			return false;
	}
	if (s->match_user.v) {
		any = true;
		if (!user->ok || p->status.uid != user->uid)
			return false;
	}
	if (s->match_cmdline.v) {
		any = true;
		if (fnmatch(s->match_cmdline.v, p->cmdline, 0) != 0)
			return false;
	}
	return any; /* a service without match_* keys matches nothing */
}

bool svc_matches(const struct pol_service *s, uid_t uid_min, const struct proc_info *p)
{
	struct user_key user = user_key_resolve(s->match_user.v);
	return matches(s, &user, p) && trust_proc(&user, uid_min, p);
}

unsigned svc_match_fields(const struct policy *pol, const char *comm)
{
	unsigned what = 0;
	for (size_t k = 0; k < pol->nsvc; k++) {
		const struct pol_service *s = &pol->svc[k];
		if (s->match_comm.v && strcmp(comm, s->match_comm.v) != 0)
			continue; /* decided by the comm alone */
		what |= PROC_READ_STATUS; /* the uid: match_user and the trust rule */
		if (s->match_exe.v)
			what |= PROC_READ_EXE;
		if (s->match_unit.v)
			what |= PROC_READ_CGROUP;
		if (s->match_cmdline.v)
			what |= PROC_READ_CMDLINE;
	}
	return what;
}

/* ---- the live source: the kernel through the roots ----------------------- */

static int live_host(const struct obs_source *src, struct meminfo *mem, struct vm_sysctls *vm,
		     enum cg_hier *hier)
{
	int rc = meminfo_read(src->ctx, mem);
	if (rc == 0)
		rc = vm_sysctls_read(src->ctx, vm);
	*hier = rc == 0 ? cg_hierarchy(src->ctx) : CG_HIER_NONE;
	return rc;
}

static int live_list(const struct obs_source *src, int **pids)
{
	return proc_list_pids(src->ctx, pids);
}

static int live_proc(const struct obs_source *src, int pid, unsigned what, struct proc_info *p)
{
	return proc_read_opts(src->ctx, pid, what, p);
}

static int live_cgroup(const struct obs_source *src, const char *path, struct cg_memory *m)
{
	return cg_memory_read(src->ctx, path, m);
}

static int live_user(const struct obs_source *src, const char *name, uid_t *uid)
{
	(void)src;
	struct passwd pw, *res = NULL;
	char buf[16384];
	if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return -ENOENT;
	*uid = res->pw_uid;
	return 0;
}

static int live_uid_min(const struct obs_source *src, uid_t *out)
{
	return uid_min_read(src->ctx, out);
}

/* the fork verdict's inputs: the per-CPU slack and the admin reserve exemption */
static void live_facts(const struct obs_source *src, struct cpu_counts *c, struct admin_facts *a)
{
	if (cpu_counts_read(src->ctx, c) < 0)
		memset(c, 0, sizeof(*c)); /* no band known: the exact test */
	admin_facts_read(src->ctx, a);
}

static int live_userns(const struct obs_source *src, int pid, uint64_t *ino)
{
	return proc_userns_read(src->ctx, pid, ino);
}

/* best-effort: no systemd or no bus is "unknown", never an error */
static int live_oom_policy(const struct obs_source *src, const char *unit, char *out, size_t size)
{
	(void)src;
	return sdunit_oom_policy(unit, out, size, NULL, 0);
}

static enum cgopt_state live_favordynmods(const struct obs_source *src)
{
	return cgopt_read(src->ctx, NULL, 0);
}

void obs_source_live(const struct roots *r, struct obs_source *src)
{
	*src = (struct obs_source){ .host = live_host, .list_pids = live_list, .read_proc = live_proc,
				    .read_cgroup = live_cgroup, .lookup_user = live_user, .uid_min = live_uid_min,
				    .kernel_facts = live_facts, .read_userns = live_userns,
				    .unit_oom_policy = live_oom_policy,
				    .favordynmods = live_favordynmods, .ctx = r };
}

/* ---- scan state --------------------------------------------------------- */

struct lite {                 /* every pid: what matching and parentage need */
	int pid;
	struct proc_stat st;
};

struct scan {
	const struct obs_source *src;
	const struct policy *pol;
	struct user_key *users;   /* per service */
	uid_t uid_min;
	unsigned extra;           /* PROC_READ_EXE / PROC_READ_CMDLINE when needed */
	struct lite *all;
	size_t nall;
	struct proc_info *cand;   /* fully read, matched at least one service */
	size_t ncand;
};

static const unsigned REST = PROC_READ_STATUS | PROC_READ_OOM | PROC_READ_CGROUP;

static bool comm_candidate(const struct policy *pol, const char *comm)
{
	for (size_t i = 0; i < pol->nsvc; i++) {
		const char *c = pol->svc[i].match_comm.v;
		if (!c || strcmp(c, comm) == 0)
			return true;
	}
	return false;
}

/* Read the rest of one pid whose stat we have.  -ENOENT etc.: skip it. */
static int read_rest(const struct scan *sc, const struct lite *l, struct proc_info *p)
{
	memset(p, 0, sizeof(*p));
	p->st = l->st;
	return sc->src->read_proc(sc->src, l->pid, REST | sc->extra, p);
}

/* only: the pids to look at (the daemon's tracked ones), or NULL for all */
static int scan_pids(struct scan *sc, const int *only, size_t nonly)
{
	int *pids;
	int n;
	if (only) {
		pids = malloc((nonly ? nonly : 1) * sizeof(*pids));
		if (!pids)
			return -ENOMEM;
		memcpy(pids, only, nonly * sizeof(*pids));
		n = (int)nonly;
	} else {
		n = sc->src->list_pids(sc->src, &pids);
		if (n < 0)
			return n;
	}
	sc->all = calloc(n > 0 ? (size_t)n : 1, sizeof(*sc->all));
	sc->cand = NULL;
	size_t cap = 0;
	if (!sc->all) {
		free(pids);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		struct proc_info p;
		/* vanished (or unparsable) processes are skipped, not errors */
		if (sc->src->read_proc(sc->src, pids[i], PROC_READ_STAT, &p) < 0)
			continue;
		struct lite *l = &sc->all[sc->nall++];
		l->pid = pids[i];
		l->st = p.st;
		if (!comm_candidate(sc->pol, l->st.comm) || read_rest(sc, l, &p) < 0)
			continue;
		bool any = false;
		for (size_t k = 0; k < sc->pol->nsvc && !any; k++)
			any = matches(&sc->pol->svc[k], &sc->users[k], &p);
		if (!any)
			continue;
		if (sc->ncand == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct proc_info *nc = realloc(sc->cand, ncap * sizeof(*nc));
			if (!nc) {
				free(pids);
				return -ENOMEM;
			}
			sc->cand = nc;
			cap = ncap;
		}
		sc->cand[sc->ncand++] = p;
	}
	free(pids);
	return 0;
}

/* ---- one service ---------------------------------------------------------- */

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static bool in_sorted(int pid, const int *sorted, size_t n)
{
	return bsearch(&pid, sorted, n, sizeof(int), cmp_int) != NULL;
}

/* Pids of the instances' mains (svc_obs_index ran on the matched ones), ascending. */
static size_t main_pids(const struct svc_obs *o, int *out)
{
	for (size_t k = 0; k < o->ninst; k++)
		out[k] = o->procs[o->inst[k].main].pid;
	qsort(out, o->ninst, sizeof(*out), cmp_int);
	return o->ninst;
}

/* Children of the mains that did not match (redis' "redis-rdb-bgsave"),
 * each run by a user the service may act on. */
static int add_children(const struct scan *sc, size_t idx, struct svc_obs *o, const int *mpids)
{
	size_t nm = o->nmatched;
	int *mains = malloc(nm * sizeof(*mains));
	if (!mains)
		return -ENOMEM;
	size_t nmain = main_pids(o, mains), nchild = 0;
	for (size_t j = 0; j < sc->nall; j++)
		nchild += in_sorted(sc->all[j].st.ppid, mains, nmain) &&
			  !in_sorted(sc->all[j].pid, mpids, nm);
	if (nchild > 0) {
		struct proc_info *np = realloc(o->procs, (nm + nchild) * sizeof(*np));
		if (!np) {
			free(mains);
			return -ENOMEM;
		}
		o->procs = np;
	}
	for (size_t j = 0; j < sc->nall && nchild > 0; j++) {
		const struct lite *l = &sc->all[j];
		struct proc_info *p = &o->procs[o->nprocs];
		if (!in_sorted(l->st.ppid, mains, nmain) || in_sorted(l->pid, mpids, nm) ||
		    read_rest(sc, l, p) < 0)
			continue; /* not a child, or exited meanwhile */
		if (trust_child(&sc->users[idx], sc->uid_min, p))
			o->nprocs++;
	}
	free(mains);
	return 0;
}

static void note_untrusted(struct svc_obs *o, const struct proc_info *p)
{
	if (o->nuntrusted++ == 0) {
		o->untrusted_pid = p->pid;
		o->untrusted_uid = p->status.uid != 0 ? p->status.uid : p->status.euid;
	}
}

bool svc_cgroup_is_own(const char *cg, const char *policy_cg)
{
	const char *last = strrchr(cg, '/');
	last = last ? last + 1 : cg;
	size_t len = strlen(last);
	if ((len > 8 && strcmp(last + len - 8, ".service") == 0) ||
	    (len > 6 && strcmp(last + len - 6, ".scope") == 0))
		return true;
	/* a fork child in its own leaf (src/childgroup.h) stays where it is */
	return strcmp(cg, policy_cg) == 0 || childgroup_is(cg, policy_cg);
}

/* Every instance's main: the estimate (fork_observe() may make it exact)
 * and its user namespace (the admin reserve). */
static void inst_charges(const struct scan *sc, struct svc_obs *o)
{
	for (size_t k = 0; k < o->ninst; k++) {
		struct svc_inst *in = &o->inst[k];
		in->charge = fork_charge_from(NULL, proc_commit_kb(&o->procs[in->main]), NULL);
		if (!sc->src->read_userns ||
		    sc->src->read_userns(sc->src, o->procs[in->main].pid, &in->userns) < 0)
			in->userns = 0; /* unknown: the verdict assumes it pays the admin reserve */
	}
	size_t mk = o->place[o->main_idx].inst;
	o->charge = o->inst[mk].charge;
	o->main_userns = o->inst[mk].userns;
}

static int observe_service(const struct scan *sc, size_t idx, bool cgroup2, struct svc_obs *o)
{
	const struct pol_service *s = &sc->pol->svc[idx];
	o->policy_idx = idx;
	o->main_idx = -1;
	char pcg[PROC_PATH_MAX + 16];
	policy_service_cgroup(s, pcg, sizeof(pcg));
	if (cgroup2)
		(void)sc->src->read_cgroup(sc->src, pcg, &o->policy_cg); /* unreadable = absent */

	const struct user_key *u = &sc->users[idx];
	size_t nm = 0;
	for (size_t j = 0; j < sc->ncand; j++) {
		if (!matches(s, u, &sc->cand[j]))
			continue;
		if (trust_proc(u, sc->uid_min, &sc->cand[j]))
			nm++;
		else
			note_untrusted(o, &sc->cand[j]);
	}
	if (nm == 0)
		return 0;

	o->procs = calloc(nm, sizeof(*o->procs));
	int *mpids = calloc(nm, sizeof(*mpids));
	if (!o->procs || !mpids) {
		free(mpids);
		return -ENOMEM;
	}
	for (size_t j = 0; j < sc->ncand; j++) {
		if (matches(s, u, &sc->cand[j]) && trust_proc(u, sc->uid_min, &sc->cand[j])) {
			mpids[o->nmatched] = sc->cand[j].pid; /* ascending: cand is */
			o->procs[o->nmatched++] = sc->cand[j];
		}
	}
	o->nprocs = o->nmatched;
	/* instances of the matched ones first: their mains' children join */
	int rc = svc_obs_index(o);
	if (rc == 0)
		rc = add_children(sc, idx, o, mpids);
	free(mpids);
	if (rc == 0 && o->nprocs > o->nmatched)
		rc = svc_obs_index(o);
	if (rc < 0)
		return rc;
	size_t mi = (size_t)o->main_idx;

	inst_charges(sc, o);

	snprintf(o->cgroup, sizeof(o->cgroup), "%s", o->procs[mi].cgroup);
	if (o->cgroup[0]) {
		o->own_cgroup = svc_cgroup_is_own(o->cgroup, pcg);
		if (cgroup2)
			(void)sc->src->read_cgroup(sc->src, o->cgroup, &o->cg);
	}
	if (sdunit_unit_from_cgroup(o->cgroup, o->unit, sizeof(o->unit)) < 0)
		o->unit[0] = '\0';
	else if (sc->src->unit_oom_policy &&
		 sc->src->unit_oom_policy(sc->src, o->unit, o->oom_policy, sizeof(o->oom_policy)) < 0)
		o->oom_policy[0] = '\0'; /* unknown: no claim */
	return 0;
}

/* ---- entry points ----------------------------------------------------------- */

int snapshot_take(const struct roots *r, const struct policy *pol, struct snapshot *s)
{
	return snapshot_take_pids(r, pol, NULL, 0, s);
}

int snapshot_take_pids(const struct roots *r, const struct policy *pol, const int *pids,
		       size_t npids, struct snapshot *s)
{
	struct obs_source live;
	obs_source_live(r, &live);
	return snapshot_observe(&live, pol, pids, npids, s);
}

int snapshot_observe(const struct obs_source *src, const struct policy *pol, const int *pids,
		     size_t npids, struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
	int rc = src->host(src, &s->mem, &s->vm, &s->cg_hier);
	if (rc < 0)
		return rc;
	s->cgroup2 = s->cg_hier != CG_HIER_NONE;
	if (src->kernel_facts)
		src->kernel_facts(src, &s->cpus, &s->admin); /* else unknown: no band, no exemption */
	/* mountinfo is read under the kernel's namespace lock, long on a host
	 * with thousands of mounts: the daemon's tracked passes read it only
	 * when the policy asks about the option */
	if (src->favordynmods && (!pids || pol->host.cgroup_favordynmods_at.file))
		s->favordynmods = src->favordynmods(src);

	struct scan sc = { .src = src, .pol = pol };
	sc.users = calloc(pol->nsvc ? pol->nsvc : 1, sizeof(*sc.users));
	s->svc = calloc(pol->nsvc ? pol->nsvc : 1, sizeof(*s->svc));
	if (!sc.users || !s->svc) {
		rc = -ENOMEM;
		goto out;
	}
	s->nsvc = pol->nsvc;
	for (size_t i = 0; i < pol->nsvc; i++) {
		const struct pol_service *svc = &pol->svc[i];
		if (svc->match_user.v)
			sc.users[i] = resolve_user(src, svc->match_user.v);
		if (svc->match_exe.v)
			sc.extra |= PROC_READ_EXE;
		if (svc->match_cmdline.v)
			sc.extra |= PROC_READ_CMDLINE;
	}
	if (src->uid_min(src, &s->uid_min) < 0)
		s->uid_min = UID_MIN_DEFAULT; /* malformed: the default, never wider */
	sc.uid_min = s->uid_min;
	if ((rc = scan_pids(&sc, pids, npids)) < 0)
		goto out;
	s->nprocs_scanned = sc.nall;
	for (size_t i = 0; i < pol->nsvc && rc == 0; i++)
		rc = observe_service(&sc, i, s->cgroup2, &s->svc[i]);
out:
	free(sc.users);
	free(sc.all);
	free(sc.cand);
	if (rc < 0)
		snapshot_free(s);
	return rc;
}

void snapshot_free(struct snapshot *s)
{
	for (size_t i = 0; i < s->nsvc; i++) {
		free(s->svc[i].procs);
		svc_obs_index_free(&s->svc[i]);
	}
	free(s->svc);
	s->svc = NULL;
	s->nsvc = 0;
}
