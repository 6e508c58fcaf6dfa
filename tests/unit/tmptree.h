/* tmptree.h - build small fake /proc and cgroup trees in a temp directory
 * for tests that need shapes the static fixtures do not have.  Failures
 * abort(): a test cannot continue without its tree. */
#ifndef OVERCOMMITD_TMPTREE_H
#define OVERCOMMITD_TMPTREE_H

#define _XOPEN_SOURCE_EXTENDED 1
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIXTURES "tests/fixtures"

static inline char *tt_make(void)
{
	char tmpl[] = "/tmp/oc-test-XXXXXX";
	if (!mkdtemp(tmpl))
		abort();
	char *s = strdup(tmpl);
	if (!s)
		abort();
	return s;
}

static inline void tt_mkdirs(const char *path)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s", path);
	for (char *c = p + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			abort();
		*c = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		abort();
}

/* Write len bytes (len == (size_t)-1: strlen) to root/rel, creating dirs. */
static inline void tt_write_n(const char *root, const char *rel, const char *data, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	tt_mkdirs(path);
	*slash = '/';
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	if (len == (size_t)-1)
		len = strlen(data);
	if (fwrite(data, 1, len, f) != len || fclose(f) != 0)
		abort();
}

static inline void tt_write(const char *root, const char *rel, const char *data)
{
	tt_write_n(root, rel, data, (size_t)-1);
}

static inline void tt_symlink(const char *root, const char *rel, const char *target)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	unlink(path);
	if (symlink(target, path) < 0)
		abort();
}

static inline int tt_rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static inline void tt_rm(char *root)
{
	nftw(root, tt_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(root);
}

/* One fake /proc/PID under root/proc (stat, status, oom_score_adj, cgroup). */
struct tt_proc {
	int pid;
	const char *comm;
	int ppid;
	unsigned long long start;
	unsigned uid;
	const char *cgroup; /* "/x.service"; NULL: "/" */
	unsigned long vm_data_kb;
};

static inline void tt_add_proc(const char *root, const struct tt_proc *p)
{
	char rel[128], buf[1024];
	snprintf(rel, sizeof(rel), "proc/%d/stat", p->pid);
	snprintf(buf, sizeof(buf),
		 "%d (%s) S %d %d %d 0 -1 4194560 10 0 0 0 1 1 0 0 20 0 1 0 %llu 1000 100 "
		 "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
		 p->pid, p->comm, p->ppid, p->pid, p->pid, p->start);
	tt_write(root, rel, buf);
	snprintf(rel, sizeof(rel), "proc/%d/status", p->pid);
	snprintf(buf, sizeof(buf),
		 "Name:\t%s\nTgid:\t%d\nPid:\t%d\nPPid:\t%d\nUid:\t%u\t%u\t%u\t%u\n"
		 "VmSize:\t%8lu kB\nVmData:\t%8lu kB\nVmStk:\t     132 kB\nRssAnon:\t    1000 kB\n"
		 "CapEff:\t0000000000000000\n",
		 p->comm, p->pid, p->pid, p->ppid, p->uid, p->uid, p->uid, p->uid,
		 p->vm_data_kb + 8000, p->vm_data_kb);
	tt_write(root, rel, buf);
	snprintf(rel, sizeof(rel), "proc/%d/oom_score_adj", p->pid);
	tt_write(root, rel, "0\n");
	snprintf(rel, sizeof(rel), "proc/%d/cgroup", p->pid);
	snprintf(buf, sizeof(buf), "0::%s\n", p->cgroup ? p->cgroup : "/");
	tt_write(root, rel, buf);
	snprintf(rel, sizeof(rel), "proc/%d/cmdline", p->pid);
	tt_write_n(root, rel, p->comm, strlen(p->comm) + 1);
}

/* Host files every snapshot needs: meminfo, the five sysctls, controllers. */
static inline void tt_add_host(const char *root, const char *controllers)
{
	tt_write(root, "proc/meminfo",
		 "MemTotal:        2097152 kB\nMemFree:         1363148 kB\n"
		 "SwapTotal:             0 kB\nCommitLimit:     1048576 kB\n"
		 "Committed_AS:     921600 kB\n");
	tt_write(root, "proc/sys/vm/overcommit_memory", "2\n");
	tt_write(root, "proc/sys/vm/overcommit_ratio", "50\n");
	tt_write(root, "proc/sys/vm/overcommit_kbytes", "0\n");
	tt_write(root, "proc/sys/vm/user_reserve_kbytes", "65536\n");
	tt_write(root, "proc/sys/vm/admin_reserve_kbytes", "8192\n");
	if (controllers)
		tt_write(root, "cgroup/cgroup.controllers", controllers);
}

#endif
