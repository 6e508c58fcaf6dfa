/* test_apply.c - the applier and restore against fake roots built per test
 * (mkdtemp): proc/ with sys/vm and pids, cgroup/ with groups, state/.
 * A fixture file does not react like the kernel (no page rounding, no
 * ratio/kbytes zeroing, no process moves); where it matters the test plays
 * the kernel's part explicitly (kernel_move, the pair tests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apply.h"
#include "journal.h"
#include "plan.h"
#include "util.h"

#define BOOT "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
#include "vmsysctl.h"

#define START_123 64496ULL
#define START_456 70000ULL
#define KB_1_5G "1572864"

struct fx {
	char dir[256];
	char state[300];
	struct roots r;
	struct journal j;
	struct action act[16];
	struct plan plan;
	struct apply_result res[16];
};

/* ---- fake root ---- */

static void putf(struct fx *f, const char *rel, const char *content)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	for (char *p = path + strlen(f->dir) + 1; *p; p++) { /* mkdir -p the parents */
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		*p = '/';
	}
	FILE *fp = fopen(path, "w");
	if (!fp) {
		fail_msg("create %s: %s", path, strerror(errno));
		return;
	}
	fputs(content, fp);
	assert_int_equal(fclose(fp), 0);
}

static const char *getf(struct fx *f, const char *rel)
{
	static char buf[8192];
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return "<unreadable>";
	return buf;
}

static void mkd(struct fx *f, const char *rel)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static bool exists(struct fx *f, const char *rel)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	return access(path, F_OK) == 0;
}

/* A stat line shaped like this machine's (/proc/self/stat), with a hostile comm. */
static void mkproc(struct fx *f, int pid, uint64_t start, const char *cgroup_file)
{
	char rel[64], buf[512];
	snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
	snprintf(buf, sizeof(buf),
		 "%d (redis ) S 1 (x) R 9716 9716 5606 0 -1 4194304 99 0 0 0 0 0 0 0 20 0 1 0 %llu "
		 "3133440 386 18446744073709551615 94449706655744 94449706675625 140731105636768 0 0 0 0 "
		 "0 0 0 0 0 17 0 0 0 0 0 0 94449706691632 94449706693248 94450326020096 "
		 "140731105639051 140731105639071 140731105639071 140731105640427 0\n",
		 pid, (unsigned long long)start);
	putf(f, rel, buf);
	snprintf(rel, sizeof(rel), "proc/%d/oom_score_adj", pid);
	putf(f, rel, "0\n");
	snprintf(rel, sizeof(rel), "proc/%d/cgroup", pid);
	putf(f, rel, cgroup_file);
}

/* /proc/self/cgroup captured on a hybrid v1 + v2 machine, v2 path changed
 * and its memory line left out (this tree is a v2 host: memory is on v2) */
static const char cgroup_user_slice[] =
	"9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n"
	"3:cpuset:/\n2:cpuacct:/\n"
	"1:cpu:/\n0::/user.slice\n";

static int setup(void **st)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/oc-apply-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
	snprintf(f->r.procfs, sizeof(f->r.procfs), "%s/proc", f->dir);
	snprintf(f->r.sysfs, sizeof(f->r.sysfs), "%s/sys", f->dir);
	snprintf(f->r.cgroupfs, sizeof(f->r.cgroupfs), "%s/cgroup", f->dir);

	putf(f, "proc/sys/vm/overcommit_memory", "0\n");
	putf(f, "proc/sys/vm/overcommit_ratio", "50\n");
	putf(f, "proc/sys/vm/overcommit_kbytes", "0\n");
	putf(f, "proc/sys/vm/user_reserve_kbytes", "131072\n");
	putf(f, "proc/sys/vm/admin_reserve_kbytes", "8192\n");
	mkproc(f, 123, START_123, cgroup_user_slice);
	mkproc(f, 456, START_456, "0::/\n");

	putf(f, "cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
	putf(f, "cgroup/cgroup.subtree_control", "cpu memory pids\n");
	putf(f, "cgroup/cgroup.procs", "1\n456\n");
	putf(f, "cgroup/user.slice/cgroup.procs", "123\n");
	putf(f, "cgroup/svc/cgroup.procs", "");
	putf(f, "cgroup/svc/cgroup.controllers", "memory pids\n");
	putf(f, "cgroup/svc/cgroup.subtree_control", "");
	putf(f, "cgroup/svc/memory.high", "max\n");
	putf(f, "cgroup/svc/memory.max", "max\n");

	assert_int_equal(journal_open(f->state, BOOT, 0, &f->j), 0);
	f->plan.act = f->act;
	*st = f;
	return 0;
}

static int rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

static int teardown(void **st)
{
	struct fx *f = *st;
	journal_close(&f->j);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* ---- tree snapshots: every file and directory with its content ---- */

struct node {
	char rel[512];
	bool dir;
	char *content;
};

static struct {
	struct node *v;
	size_t n;
	size_t skip; /* length of the root prefix */
} walk;

static int collect(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)ftw;
	const char *rel = path + walk.skip;
	if (strncmp(rel, "/state", 6) == 0)
		return 0; /* the journal is not part of the "kernel" */
	struct node *v = realloc(walk.v, (walk.n + 1) * sizeof(*v));
	assert_non_null(v);
	walk.v = v;
	struct node *nd = &walk.v[walk.n++];
	snprintf(nd->rel, sizeof(nd->rel), "%s", rel);
	nd->dir = type == FTW_D;
	nd->content = NULL;
	if (S_ISREG(sb->st_mode)) {
		nd->content = calloc(1, 8192);
		assert_non_null(nd->content);
		assert_true(read_file(path, nd->content, 8192) >= 0);
	}
	return 0;
}

static int by_rel(const void *a, const void *b)
{
	return strcmp(((const struct node *)a)->rel, ((const struct node *)b)->rel);
}

struct tree {
	struct node *v;
	size_t n;
};

static struct tree snap(struct fx *f)
{
	walk.v = NULL;
	walk.n = 0;
	walk.skip = strlen(f->dir);
	assert_int_equal(nftw(f->dir, collect, 16, FTW_PHYS), 0);
	qsort(walk.v, walk.n, sizeof(*walk.v), by_rel);
	return (struct tree){ walk.v, walk.n };
}

static void tree_free(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].content);
	free(t->v);
}

static void assert_same_tree(struct tree *a, struct tree *b)
{
	for (size_t i = 0; i < a->n && i < b->n; i++) {
		if (strcmp(a->v[i].rel, b->v[i].rel) != 0)
			fail_msg("tree differs: %s vs %s", a->v[i].rel, b->v[i].rel);
		if (a->v[i].dir != b->v[i].dir)
			fail_msg("%s: type differs", a->v[i].rel);
		if (a->v[i].content && strcmp(a->v[i].content, b->v[i].content) != 0)
			fail_msg("%s: \"%s\" != \"%s\"", a->v[i].rel, a->v[i].content, b->v[i].content);
	}
	assert_int_equal(a->n, b->n);
}

/* ---- plan building ---- */

static struct action *add(struct fx *f, enum action_kind k)
{
	assert_true(f->plan.nact < ARRAY_SIZE(f->act));
	struct action *a = &f->act[f->plan.nact++];
	memset(a, 0, sizeof(*a));
	a->kind = k;
	return a;
}

static void a_sysctl(struct fx *f, int knob, const char *want)
{
	struct action *a = add(f, ACT_SYSCTL);
	a->knob = knob;
	snprintf(a->target, sizeof(a->target), "%s", vm_knob_name((enum vm_knob)knob));
	snprintf(a->desired, sizeof(a->desired), "%s", want);
}

static void a_oom(struct fx *f, int pid, uint64_t start, const char *want)
{
	struct action *a = add(f, ACT_OOM_SCORE_ADJ);
	a->pid = pid;
	a->start_time = start;
	snprintf(a->target, sizeof(a->target), "pid %d", pid);
	snprintf(a->desired, sizeof(a->desired), "%s", want);
}

static void a_mem(struct fx *f, enum action_kind k, const char *cg, const char *want)
{
	struct action *a = add(f, k);
	snprintf(a->cgroup, sizeof(a->cgroup), "%s", cg);
	snprintf(a->target, sizeof(a->target), "%s", cg);
	snprintf(a->desired, sizeof(a->desired), "%s", want);
}

static void a_attach(struct fx *f, int pid, uint64_t start, const char *cg)
{
	struct action *a = add(f, ACT_CGROUP_ATTACH);
	a->pid = pid;
	a->start_time = start;
	snprintf(a->cgroup, sizeof(a->cgroup), "%s", cg);
	snprintf(a->desired, sizeof(a->desired), "%s", cg);
}

static uint64_t seq_of(struct fx *f, enum jkind k, const char *key)
{
	const struct jentry *e = journal_find(&f->j, k, key);
	if (!e)
		fail_msg("no journal entry for %s", key);
	return e->seq;
}

static void assert_status(struct fx *f, size_t i, enum apply_status st)
{
	if (f->res[i].status != st)
		fail_msg("action %zu: status %d, want %d (%s)", i, f->res[i].status, st, f->res[i].detail);
}

/* ---- report callback ---- */

struct seen {
	size_t n;
	uint64_t seq[32];
	enum apply_status st[32];
	char detail[32][256];
};

static void on_restore(const struct jentry *e, enum apply_status st, const char *detail, void *arg)
{
	struct seen *s = arg;
	assert_true(s->n < 32);
	s->seq[s->n] = e->seq;
	s->st[s->n] = st;
	snprintf(s->detail[s->n], sizeof(s->detail[0]), "%s", detail);
	s->n++;
}

/* ---- tests ---- */

/* The seed scenario end to end: enter strict mode with a CommitLimit that
 * fits, protect the service; again (nothing); restore (byte for byte). */
static void test_apply_again_restore(void **st)
{
	struct fx *f = *st;
	struct tree orig = snap(f);

	a_sysctl(f, VM_OVERCOMMIT_MEMORY, "2");        /* 0: listed first on purpose */
	a_sysctl(f, VM_OVERCOMMIT_KBYTES, KB_1_5G);    /* 1 */
	a_sysctl(f, VM_USER_RESERVE_KBYTES, "65536");  /* 2 */
	a_oom(f, 123, START_123, "-500");              /* 3 */
	a_sysctl(f, VM_ADMIN_RESERVE_KBYTES, "8192");  /* 4: already so */
	/* (cgroup actions: libcgroup refuses a fixture tree, see
	 * test_cgroup_refused_on_fixture; the VM tiers apply them) */

	assert_int_equal(apply_plan(&f->r, &f->plan, &f->j, f->res), 0);
	for (size_t i = 0; i < 4; i++)
		assert_status(f, i, AP_DONE);
	assert_status(f, 4, AP_UNCHANGED);
	assert_string_equal(f->res[1].detail, "vm.overcommit_kbytes: 0 -> 1572864");

	assert_string_equal(getf(f, "proc/sys/vm/overcommit_memory"), "2\n");
	assert_string_equal(getf(f, "proc/sys/vm/overcommit_kbytes"), KB_1_5G "\n");
	assert_string_equal(getf(f, "proc/sys/vm/overcommit_ratio"), "50\n");
	assert_string_equal(getf(f, "proc/sys/vm/user_reserve_kbytes"), "65536\n");
	assert_string_equal(getf(f, "proc/sys/vm/admin_reserve_kbytes"), "8192\n");
	assert_string_equal(getf(f, "proc/123/oom_score_adj"), "-500\n");
	assert_string_equal(getf(f, "proc/456/oom_score_adj"), "0\n");

	/* originals, both of the ratio/kbytes pair, nothing for unchanged ones */
	assert_int_equal(f->j.n, 5);
	assert_string_equal(journal_find(&f->j, J_SYSCTL, "vm.overcommit_memory")->original, "0");
	assert_string_equal(journal_find(&f->j, J_SYSCTL, "vm.overcommit_kbytes")->original, "0");
	assert_string_equal(journal_find(&f->j, J_SYSCTL, "vm.overcommit_ratio")->original, "50");
	assert_string_equal(journal_find(&f->j, J_SYSCTL, "vm.user_reserve_kbytes")->original, "131072");
	assert_null(journal_find(&f->j, J_SYSCTL, "vm.admin_reserve_kbytes"));
	const struct jentry *e = journal_find(&f->j, J_OOM_SCORE_ADJ, "123");
	assert_non_null(e);
	assert_string_equal(e->original, "0");
	assert_int_equal(e->pid, 123);
	assert_int_equal(e->start_time, START_123);

	/* the order of first writes: oom_score_adj, sizes, and the strict mode last */
	uint64_t oom = seq_of(f, J_OOM_SCORE_ADJ, "123");
	uint64_t kb = seq_of(f, J_SYSCTL, "vm.overcommit_kbytes");
	uint64_t ur = seq_of(f, J_SYSCTL, "vm.user_reserve_kbytes");
	uint64_t mode = seq_of(f, J_SYSCTL, "vm.overcommit_memory");
	assert_true(oom < kb && oom < ur && kb < mode && ur < mode);

	/* a second apply: nothing to do, and the journal file is not even
	 * rewritten */
	char journal_path[600];
	snprintf(journal_path, sizeof(journal_path), "%s/journal.json", f->state);
	struct stat j1, j2;
	assert_int_equal(stat(journal_path, &j1), 0);
	char *jbefore = strdup(getf(f, "state/journal.json"));
	assert_non_null(jbefore);
	struct tree applied = snap(f);
	assert_int_equal(apply_plan(&f->r, &f->plan, &f->j, f->res), 0);
	for (size_t i = 0; i < f->plan.nact; i++)
		assert_status(f, i, AP_UNCHANGED);
	assert_string_equal(getf(f, "state/journal.json"), jbefore);
	assert_int_equal(stat(journal_path, &j2), 0);
	assert_int_equal(j1.st_ino, j2.st_ino);
	free(jbefore);
	struct tree again = snap(f);
	assert_same_tree(&applied, &again);
	tree_free(&applied);
	tree_free(&again);

	/* restore: newest first, every entry reported and forgotten */
	struct restore_result rr;
	struct seen seen = { 0 };
	assert_int_equal(restore_all(&f->r, &f->j, &rr, on_restore, &seen), 0);
	assert_int_equal(rr.restored, 5);
	assert_int_equal(rr.skipped, 0);
	assert_int_equal(rr.failed, 0);
	assert_int_equal(seen.n, 5);
	for (size_t i = 0; i < seen.n; i++) {
		if (seen.st[i] != AP_DONE)
			fail_msg("restore %zu: %s", i, seen.detail[i]);
		if (i > 0 && seen.seq[i] >= seen.seq[i - 1])
			fail_msg("restore not newest first at %zu", i);
	}
	assert_int_equal(f->j.n, 0);
	journal_close(&f->j);
	assert_int_equal(journal_open(f->state, BOOT, 0, &f->j), 0);
	assert_int_equal(f->j.n, 0);

	struct tree back = snap(f);
	assert_same_tree(&orig, &back);
	tree_free(&back);
	tree_free(&orig);
}

static void test_leaving_strict_mode_goes_first(void **st)
{
	struct fx *f = *st;
	putf(f, "proc/sys/vm/overcommit_memory", "2\n");
	putf(f, "proc/sys/vm/overcommit_ratio", "0\n");
	putf(f, "proc/sys/vm/overcommit_kbytes", "1048576\n");
	a_sysctl(f, VM_USER_RESERVE_KBYTES, "65536");
	a_sysctl(f, VM_OVERCOMMIT_RATIO, "80");
	a_sysctl(f, VM_OVERCOMMIT_MEMORY, "0");
	assert_int_equal(apply_plan(&f->r, &f->plan, &f->j, f->res), 0);
	uint64_t mode = seq_of(f, J_SYSCTL, "vm.overcommit_memory");
	assert_true(mode < seq_of(f, J_SYSCTL, "vm.user_reserve_kbytes"));
	assert_true(mode < seq_of(f, J_SYSCTL, "vm.overcommit_ratio"));
	assert_string_equal(journal_find(&f->j, J_SYSCTL, "vm.overcommit_kbytes")->original, "1048576");
	assert_string_equal(journal_find(&f->j, J_SYSCTL, "vm.overcommit_ratio")->original, "0");

	/* the kernel zeroed kbytes when ratio was written */
	putf(f, "proc/sys/vm/overcommit_kbytes", "0\n");
	struct restore_result rr;
	assert_int_equal(restore_all(&f->r, &f->j, &rr, NULL, NULL), 0);
	assert_int_equal(rr.restored, 4);
	assert_string_equal(getf(f, "proc/sys/vm/overcommit_memory"), "2\n");
	assert_string_equal(getf(f, "proc/sys/vm/overcommit_ratio"), "0\n");
	assert_string_equal(getf(f, "proc/sys/vm/overcommit_kbytes"), "1048576\n");
	assert_string_equal(getf(f, "proc/sys/vm/user_reserve_kbytes"), "131072\n");
}

/* ratio=50, kbytes=0 originally; kbytes written; the kernel zeroed ratio.
 * Restore must end with exactly (50, 0). */
static void test_pair_restore_ratio_original(void **st)
{
	struct fx *f = *st;
	a_sysctl(f, VM_OVERCOMMIT_KBYTES, KB_1_5G);
	assert_int_equal(apply_plan(&f->r, &f->plan, &f->j, f->res), 0);
	putf(f, "proc/sys/vm/overcommit_ratio", "0\n");
	struct seen seen = { 0 };
	struct restore_result rr;
	assert_int_equal(restore_all(&f->r, &f->j, &rr, on_restore, &seen), 0);
	assert_int_equal(rr.restored, 2);
	assert_int_equal(seen.n, 2); /* one report per entry */
	assert_string_equal(getf(f, "proc/sys/vm/overcommit_ratio"), "50\n");
	assert_string_equal(getf(f, "proc/sys/vm/overcommit_kbytes"), "0\n");
	assert_int_equal(f->j.n, 0);
}

/* One half of the pair cannot be written: both entries are reported failed
 * and kept (the pair is only right when both are). */
static void test_pair_restore_failure_kept(void **st)
{
	struct fx *f = *st;
	assert_int_equal(journal_record(&f->j, J_SYSCTL, "vm.overcommit_ratio", "50", 0, 0), 0);
	assert_int_equal(journal_record(&f->j, J_SYSCTL, "vm.overcommit_kbytes", "0", 0, 0), 0);
	char p[600];
	snprintf(p, sizeof(p), "%s/proc/sys/vm/overcommit_ratio", f->dir);
	assert_int_equal(unlink(p), 0);
	mkd(f, "proc/sys/vm/overcommit_ratio");
	putf(f, "proc/sys/vm/overcommit_kbytes", "5\n");
	struct restore_result rr;
	assert_int_equal(restore_all(&f->r, &f->j, &rr, NULL, NULL), 0);
	assert_int_equal(rr.failed, 2);
	assert_int_equal(f->j.n, 2);
}

/* Cgroups are written through libcgroup, which acts on the mounted
 * hierarchy only (never on a --cgroupfs tree): every cgroup action and
 * restore on a fixture fails cleanly, nothing written, nothing journaled,
 * the restore entries kept.  (The writer itself: tests/vm, v1 and v2.) */
static void test_cgroup_refused_on_fixture(void **st)
{
	struct fx *f = *st;
	struct tree orig = snap(f);
	a_attach(f, 123, START_123, "/overcommitd/redis");
	a_mem(f, ACT_MEMORY_HIGH, "/svc", "536870912");
	a_mem(f, ACT_MEMORY_MAX, "/svc", "1073741824");
	assert_int_equal(apply_plan(&f->r, &f->plan, &f->j, f->res), 3);
	for (size_t i = 0; i < 3; i++) {
		assert_status(f, i, AP_FAILED);
		if (f->res[i].err != -EXDEV && f->res[i].err != -ENODEV)
			fail_msg("action %zu: err %d (%s)", i, f->res[i].err, f->res[i].detail);
	}
	assert_int_equal(f->j.n, 0);
	assert_int_equal(journal_record(&f->j, J_CGROUP_SUBTREE, "/", "cpu pids", 0, 0), 0);
	assert_int_equal(journal_record(&f->j, J_CGROUP_CREATE, "/svc", "/user.slice", 0, 0), 0);
	assert_int_equal(journal_record(&f->j, J_CGROUP_ATTACH, "123", "/", 123, START_123), 0);
	assert_int_equal(journal_record(&f->j, J_MEMORY_HIGH, "/svc", "max", 0, 0), 0);
	struct restore_result rr;
	assert_int_equal(restore_all(&f->r, &f->j, &rr, NULL, NULL), 0);
	assert_int_equal(rr.failed, 4);
	assert_int_equal(f->j.n, 4);
	struct tree after = snap(f);
	assert_same_tree(&orig, &after);
	tree_free(&after);
	tree_free(&orig);
}

/* cgroup_mount on a fixture tree: the fixture root is no mount, so the
 * reconfigure is refused (fspick: not a mount root, or no CAP_SYS_ADMIN)
 * and nothing on this machine can change; the original was journaled
 * first and restore sorts it by what the mount shows: the same (dropped),
 * a kernel without the option (dropped), no mount seen (kept). */
static void test_cgroup_mount_on_fixture(void **st)
{
	struct fx *f = *st;
	char mi[PATH_MAX + 64];
	snprintf(mi, sizeof(mi), "1 0 0:1 / %s rw - cgroup2 cgroup2 rw,nsdelegate\n", f->r.cgroupfs);
	putf(f, "proc/self/mountinfo", mi);
	putf(f, "sys/kernel/cgroup/features", "nsdelegate\nfavordynmods\n");
	struct action *a = add(f, ACT_CGROUP_MOUNT);
	snprintf(a->target, sizeof(a->target), "favordynmods");
	snprintf(a->current, sizeof(a->current), "off");
	snprintf(a->desired, sizeof(a->desired), "on");
	assert_int_equal(apply_plan(&f->r, &f->plan, &f->j, f->res), 1);
	assert_status(f, 0, AP_FAILED);
	assert_non_null(strstr(f->res[0].detail, "fspick"));
	assert_non_null(strstr(f->res[0].detail, "(left off)"));
	const struct jentry *e = journal_find(&f->j, J_CGROUP_MOUNT, "favordynmods");
	assert_non_null(e);
	assert_string_equal(e->original, "off");
	struct restore_result rr;
	struct seen seen = { 0 };
	assert_int_equal(restore_all(&f->r, &f->j, &rr, on_restore, &seen), 0);
	assert_int_equal(seen.st[0], AP_UNCHANGED);
	assert_int_equal(journal_live(&f->j), 0);

	/* no mount seen (another mount namespace): kept for a later restore */
	assert_int_equal(journal_record(&f->j, J_CGROUP_MOUNT, "favordynmods", "off", 0, 0), 0);
	putf(f, "proc/self/mountinfo", "");
	assert_int_equal(restore_all(&f->r, &f->j, &rr, NULL, NULL), 0);
	assert_int_equal(rr.failed, 1);
	assert_int_equal(journal_live(&f->j), 1);
	/* a kernel without the option: it was never set, nothing to keep */
	putf(f, "proc/self/mountinfo", mi);
	putf(f, "sys/kernel/cgroup/features", "nsdelegate\n");
	assert_int_equal(restore_all(&f->r, &f->j, &rr, NULL, NULL), 0);
	assert_int_equal(rr.skipped, 1);
	assert_int_equal(journal_live(&f->j), 0);
}

static void test_memory_page_rounding(void **st)
{
	struct fx *f = *st;
	long ps = sysconf(_SC_PAGESIZE);
	char cur[32], want[32];
	/* the kernel keeps pages: a write of N reads back as N rounded down */
	snprintf(cur, sizeof(cur), "%ld\n", 131072L * ps);
	snprintf(want, sizeof(want), "%ld", 131072L * ps + ps - 1);
	putf(f, "cgroup/svc/memory.high", cur);
	a_mem(f, ACT_MEMORY_HIGH, "/svc", want);
	a_mem(f, ACT_MEMORY_MAX, "/svc", "max");
	assert_int_equal(apply_plan(&f->r, &f->plan, &f->j, f->res), 0);
	assert_status(f, 0, AP_UNCHANGED);
	assert_status(f, 1, AP_UNCHANGED);
	assert_int_equal(f->j.n, 0);
}

static void test_pid_reused_skipped(void **st)
{
	struct fx *f = *st;
	a_oom(f, 123, START_123 + 1, "-500");
	a_attach(f, 123, START_123 + 1, "/svc");
	assert_int_equal(apply_plan(&f->r, &f->plan, &f->j, f->res), 0);
	assert_status(f, 0, AP_SKIPPED);
	assert_status(f, 1, AP_SKIPPED);
	assert_string_equal(f->res[0].detail, "process 123 exited (pid reused)");
	assert_string_equal(getf(f, "proc/123/oom_score_adj"), "0\n");
	assert_string_equal(getf(f, "cgroup/svc/cgroup.procs"), "");
	assert_int_equal(f->j.n, 0);
}

/* A process the caller pinned (the daemon's exec read): its actions go
 * through the caller's fd - no second pin, the fd left open - and only
 * when pid and start time both match; a pinned process gone is skipped. */
static void test_caller_pin_used(void **st)
{
	struct fx *f = *st;
	char dir[400];
	snprintf(dir, sizeof(dir), "%s/proc/456", f->dir); /* stands for 123's pin */
	struct procpin pin = { .pid = 123, .start = START_123, .fd = open(dir, O_RDONLY | O_DIRECTORY) };
	assert_true(pin.fd >= 0);
	a_oom(f, 123, START_123, "-500");
	assert_int_equal(apply_plan_pinned(&f->r, &f->plan, &f->j, &pin, f->res), 0);
	assert_status(f, 0, AP_DONE);
	assert_string_equal(getf(f, "proc/456/oom_score_adj"), "-500\n");
	assert_string_equal(getf(f, "proc/123/oom_score_adj"), "0\n");
	assert_true(fcntl(pin.fd, F_GETFD) >= 0); /* the caller's: still open */
	/* another start time: not that process, pinned afresh by pid */
	pin.start = START_123 + 1;
	f->res[0] = (struct apply_result){ 0 };
	snprintf(f->plan.act[0].desired, sizeof(f->plan.act[0].desired), "-400");
	assert_int_equal(apply_plan_pinned(&f->r, &f->plan, &f->j, &pin, f->res), 0);
	assert_string_equal(getf(f, "proc/123/oom_score_adj"), "-400\n");
	assert_string_equal(getf(f, "proc/456/oom_score_adj"), "-500\n");
	assert_int_equal(close(pin.fd), 0);
	/* the pinned process exited: its files are gone, skipped */
	snprintf(dir, sizeof(dir), "%s/gone", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	pin = (struct procpin){ .pid = 123, .start = START_123, .fd = open(dir, O_RDONLY | O_DIRECTORY) };
	assert_int_equal(apply_plan_pinned(&f->r, &f->plan, &f->j, &pin, f->res), 0);
	assert_status(f, 0, AP_SKIPPED);
	assert_string_equal(f->res[0].detail, "process 123 exited");
	assert_int_equal(close(pin.fd), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void test_pid_vanished_skipped(void **st)
{
	struct fx *f = *st;
	a_oom(f, 999, 1, "-500");
	a_attach(f, 999, 1, "/svc");
	a_oom(f, 456, START_456, "800");
	assert_int_equal(apply_plan(&f->r, &f->plan, &f->j, f->res), 0);
	assert_status(f, 0, AP_SKIPPED);
	assert_status(f, 1, AP_SKIPPED);
	assert_string_equal(f->res[0].detail, "process 999 exited");
	assert_status(f, 2, AP_DONE);
	assert_string_equal(getf(f, "proc/456/oom_score_adj"), "800\n");
	assert_int_equal(f->j.n, 1);
}

/* A process that set its own oom_score_adj after the plan read it (a
 * PostgreSQL backend right after fork) keeps it: never written over. */
static void test_own_value_since_read_left_alone(void **st)
{
	struct fx *f = *st;
	putf(f, "proc/456/oom_score_adj", "0\n"); /* it wrote 0 itself */
	a_oom(f, 456, START_456, "800");
	snprintf(f->plan.act[0].current, sizeof(f->plan.act[0].current), "-500"); /* as planned */
	a_oom(f, 123, START_123, "-500");
	snprintf(f->plan.act[1].current, sizeof(f->plan.act[1].current), "0"); /* unchanged */
	assert_int_equal(apply_plan(&f->r, &f->plan, &f->j, f->res), 0);
	assert_status(f, 0, AP_SKIPPED);
	assert_non_null(strstr(f->res[0].detail, "changed from -500 to 0 since it was read"));
	assert_true(f->res[0].self_set); /* the daemon reports it as a conflict */
	assert_string_equal(getf(f, "proc/456/oom_score_adj"), "0\n");
	assert_status(f, 1, AP_DONE);
	assert_false(f->res[1].self_set);
	assert_string_equal(getf(f, "proc/123/oom_score_adj"), "-500\n");
}

/* An older process's entry under the same pid is replaced, not kept: its
 * original would otherwise be "restored" onto the new process. */
static void test_stale_pid_entry_replaced(void **st)
{
	struct fx *f = *st;
	assert_int_equal(journal_record(&f->j, J_OOM_SCORE_ADJ, "123", "-17", 123, 5), 0);
	putf(f, "proc/123/oom_score_adj", "100\n");
	a_oom(f, 123, START_123, "-500");
	assert_int_equal(apply_plan(&f->r, &f->plan, &f->j, f->res), 0);
	assert_status(f, 0, AP_DONE);
	const struct jentry *e = journal_find(&f->j, J_OOM_SCORE_ADJ, "123");
	assert_non_null(e);
	assert_string_equal(e->original, "100");
	assert_int_equal(e->start_time, START_123);
}

/* One target unreadable, one unwritable: those fail, everything else is
 * done, the count says 2, and the journal is true. */
static void test_partial_failure(void **st)
{
	struct fx *f = *st;
	char p[600];
	snprintf(p, sizeof(p), "%s/cgroup/svc/memory.high", f->dir);
	assert_int_equal(unlink(p), 0);
	mkd(f, "cgroup/svc/memory.high");          /* read fails: EISDIR */
	a_mem(f, ACT_MEMORY_HIGH, "/svc", "536870912");
	a_sysctl(f, 99, "1");                      /* not a knob */
	a_sysctl(f, VM_USER_RESERVE_KBYTES, "65536");
	a_oom(f, 123, START_123, "-500");
	assert_int_equal(apply_plan(&f->r, &f->plan, &f->j, f->res), 2);
	assert_status(f, 0, AP_FAILED);
	assert_int_equal(f->res[0].err, -EISDIR);
	assert_status(f, 1, AP_FAILED);
	assert_int_equal(f->res[1].err, -EINVAL);
	assert_status(f, 2, AP_DONE);
	assert_status(f, 3, AP_DONE);
	/* nothing read, nothing journaled */
	assert_null(journal_find(&f->j, J_MEMORY_HIGH, "/svc"));
	assert_int_equal(f->j.n, 2);

	struct restore_result rr;
	assert_int_equal(restore_all(&f->r, &f->j, &rr, NULL, NULL), 0);
	assert_int_equal(rr.restored, 2);
	assert_int_equal(f->j.n, 0);
	assert_string_equal(getf(f, "proc/sys/vm/user_reserve_kbytes"), "131072\n");
	assert_string_equal(getf(f, "proc/123/oom_score_adj"), "0\n");
}

static void test_sysctl_missing_knob(void **st)
{
	struct fx *f = *st;
	/* the knob missing (a kernel without it): read fails, nothing journaled */
	char p[600];
	snprintf(p, sizeof(p), "%s/proc/sys/vm/admin_reserve_kbytes", f->dir);
	assert_int_equal(unlink(p), 0);
	a_sysctl(f, VM_ADMIN_RESERVE_KBYTES, "4096");
	assert_int_equal(apply_plan(&f->r, &f->plan, &f->j, f->res), 1);
	assert_string_equal(f->res[0].detail,
			    "read vm.admin_reserve_kbytes: No such file or directory");
	assert_int_equal(f->j.n, 0);
}

/* The journal cannot be written: nothing is written to the kernel, the
 * rest is not attempted, and the error comes back. */
static void test_journal_failure_stops(void **st)
{
	struct fx *f = *st;
	putf(f, "state", "a file where the state directory should be");
	struct tree orig2 = snap(f);
	journal_close(&f->j);
	char sd[400];
	snprintf(sd, sizeof(sd), "%s/state/sub", f->dir);
	/* a failed open leaves an empty journal whose first write fails too */
	assert_int_equal(journal_open(sd, BOOT, 0, &f->j), -ENOTDIR);
	a_oom(f, 123, START_123, "-500");
	a_sysctl(f, VM_OVERCOMMIT_KBYTES, KB_1_5G);
	a_sysctl(f, VM_OVERCOMMIT_MEMORY, "2");
	assert_int_equal(apply_plan(&f->r, &f->plan, &f->j, f->res), -ENOTDIR);
	assert_status(f, 0, AP_FAILED);
	assert_non_null(strstr(f->res[0].detail, "journal"));
	assert_status(f, 1, AP_FAILED);
	assert_int_equal(f->res[1].err, -ECANCELED);
	assert_status(f, 2, AP_FAILED);
	struct tree after = snap(f);
	assert_same_tree(&orig2, &after);
	tree_free(&after);
	tree_free(&orig2);
}

static void test_hostile_actions(void **st)
{
	struct fx *f = *st;
	struct tree orig = snap(f);
	a_mem(f, ACT_MEMORY_HIGH, "/../../etc", "1");
	a_mem(f, ACT_MEMORY_MAX, "svc", "1");          /* not absolute */
	a_attach(f, 123, START_123, "/svc/../..");
	a_sysctl(f, 99, "1");
	a_sysctl(f, -1, "1");
	a_sysctl(f, VM_OVERCOMMIT_MEMORY, "2abc");
	a_sysctl(f, VM_OVERCOMMIT_KBYTES, "99999999999999999999");
	a_oom(f, 123, START_123, "-1001");
	a_oom(f, 0, 0, "0");
	a_oom(f, -5, 0, "0");
	a_mem(f, ACT_MEMORY_HIGH, "/svc", "-1");
	a_mem(f, ACT_MEMORY_HIGH, "/svc", "12M");      /* bytes only, as the kernel shows them */
	add(f, (enum action_kind)42);
	assert_int_equal(apply_plan(&f->r, &f->plan, &f->j, f->res), (int)f->plan.nact);
	for (size_t i = 0; i < f->plan.nact; i++)
		assert_status(f, i, AP_FAILED);
	assert_int_equal(f->j.n, 0);
	struct tree after = snap(f);
	assert_same_tree(&orig, &after);
	tree_free(&after);
	tree_free(&orig);
}

/* Restore with targets that are gone: dropped (skipped); unrestorable: kept. */
static void test_restore_gone_and_failing(void **st)
{
	struct fx *f = *st;
	assert_int_equal(journal_record(&f->j, J_OOM_SCORE_ADJ, "999", "0", 999, 1), 0);
	assert_int_equal(journal_record(&f->j, J_OOM_SCORE_ADJ, "123", "7", 123, START_123 + 1), 0);
	assert_int_equal(journal_record(&f->j, J_MEMORY_HIGH, "/gone", "max", 0, 0), 0);
	assert_int_equal(journal_record(&f->j, J_CGROUP_ATTACH, "999", "/", 999, 1), 0);
	assert_int_equal(journal_record(&f->j, J_CGROUP_ATTACH, "456", "/vanished", 456, START_456), 0);
	assert_int_equal(journal_record(&f->j, J_CGROUP_CREATE, "/never", "", 0, 0), 0);
	assert_int_equal(journal_record(&f->j, J_SYSCTL, "vm.not_a_knob", "1", 0, 0), 0);
	assert_int_equal(journal_record(&f->j, J_MEMORY_MAX, "/svc", "not a value", 0, 0), 0);
	assert_int_equal(journal_record(&f->j, J_CGROUP_CREATE, "/../etc", "", 0, 0), 0);
	struct tree orig = snap(f);
	struct restore_result rr;
	struct seen seen = { 0 };
	assert_int_equal(restore_all(&f->r, &f->j, &rr, on_restore, &seen), 0);
	/* 456's attach and /never: libcgroup refuses the fixture, kept */
	assert_int_equal(rr.skipped, 4);
	assert_int_equal(rr.failed, 5);
	assert_int_equal(rr.restored, 0);
	assert_int_equal(seen.n, 9);
	for (size_t i = 0; i < seen.n; i++)
		assert_int_equal(seen.seq[i], 9 - i); /* newest first */
	assert_int_equal(f->j.n, 5);
	assert_non_null(journal_find(&f->j, J_SYSCTL, "vm.not_a_knob"));
	assert_non_null(journal_find(&f->j, J_MEMORY_MAX, "/svc"));
	assert_non_null(journal_find(&f->j, J_CGROUP_CREATE, "/../etc"));
	struct tree after = snap(f);
	assert_same_tree(&orig, &after); /* pid reuse: 123's file untouched */
	tree_free(&after);
	tree_free(&orig);
}

static void test_pid_cgroup(void **st)
{
	struct fx *f = *st;
	char cg[256];
	assert_int_equal(apply_pid_cgroup(&f->r, 123, cg, sizeof(cg)), 0);
	assert_string_equal(cg, "/user.slice");
	assert_int_equal(apply_pid_cgroup(&f->r, 456, cg, sizeof(cg)), 0);
	assert_string_equal(cg, "/");
	assert_int_equal(apply_pid_cgroup(&f->r, 999, cg, sizeof(cg)), -ENOENT);
	putf(f, "proc/123/cgroup", "4:memory:/x\n1:cpu:/\n0::/y\n"); /* memory on v1 */
	assert_int_equal(apply_pid_cgroup(&f->r, 123, cg, sizeof(cg)), 0);
	assert_string_equal(cg, "/x");
	putf(f, "proc/123/cgroup", "1:cpu:/\n");
	assert_int_equal(apply_pid_cgroup(&f->r, 123, cg, sizeof(cg)), -ENODATA);
	assert_int_equal(apply_pid_cgroup(&f->r, 0, cg, sizeof(cg)), -EINVAL);
}

static void test_empty_plan(void **st)
{
	struct fx *f = *st;
	assert_int_equal(apply_plan(&f->r, &f->plan, &f->j, f->res), 0);
	struct restore_result rr;
	assert_int_equal(restore_all(&f->r, &f->j, &rr, NULL, NULL), 0);
	assert_int_equal(rr.restored + rr.skipped + rr.failed, 0);
	assert_false(exists(f, "state"));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_apply_again_restore),
		T(test_leaving_strict_mode_goes_first),
		T(test_pair_restore_ratio_original),
		T(test_pair_restore_failure_kept),
		T(test_cgroup_refused_on_fixture),
		T(test_cgroup_mount_on_fixture),
		T(test_memory_page_rounding),
		T(test_pid_reused_skipped),
		T(test_pid_vanished_skipped),
		T(test_own_value_since_read_left_alone),
		T(test_stale_pid_entry_replaced),
		T(test_partial_failure),
		T(test_sysctl_missing_knob),
		T(test_journal_failure_stops),
		T(test_hostile_actions),
		T(test_restore_gone_and_failing),
		T(test_pid_cgroup),
		T(test_empty_plan),
		T(test_caller_pin_used),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
