/* test_journal.c - the state journal: round trips, first original wins,
 * persistence before return, corrupt files refused and left untouched. */
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
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "util.h"

#define BOOT "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"

struct tmp {
	char dir[256];   /* mkdtemp root */
	char state[512]; /* dir/state/sub: not existing yet */
	char file[600];  /* state/journal.json */
};

static int setup(void **st)
{
	struct tmp *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "/tmp/oc-journal-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->state, sizeof(t->state), "%s/state/sub", t->dir);
	snprintf(t->file, sizeof(t->file), "%s/journal.json", t->state);
	*st = t;
	return 0;
}

static int rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

static void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int teardown(void **st)
{
	struct tmp *t = *st;
	rm_rf(t->dir);
	free(t);
	return 0;
}

static char *slurp(const char *path)
{
	static char buf[1 << 20];
	ssize_t n = read_file(path, buf, sizeof(buf));
	return n < 0 ? NULL : buf;
}

static void put(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(s, f);
	assert_int_equal(fclose(f), 0);
}

static void test_missing_is_empty(void **st)
{
	struct tmp *t = *st;
	struct journal j;
	assert_int_equal(journal_open(t->state, BOOT, 0, &j), 0);
	assert_int_equal(j.n, 0);
	assert_null(journal_find(&j, J_SYSCTL, "vm.overcommit_memory"));
	/* opening creates nothing: no write happened yet */
	assert_int_equal(access(t->state, F_OK), -1);
	journal_close(&j);
}

static void test_record_persists_and_round_trips(void **st)
{
	struct tmp *t = *st;
	struct journal j;
	assert_int_equal(journal_open(t->state, BOOT, 0, &j), 0);
	assert_int_equal(journal_record(&j, J_SYSCTL, "vm.overcommit_kbytes", "0", 0, 0), 0);
	/* on disk before the call returned, directory 0700, file 0600 */
	struct stat sb;
	assert_int_equal(stat(t->state, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	assert_int_equal(stat(t->file, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_non_null(strstr(slurp(t->file), "\"vm.overcommit_kbytes\""));

	assert_int_equal(journal_record(&j, J_OOM_SCORE_ADJ, "123", "-17", 123, UINT64_MAX), 0);
	/* hostile text survives JSON escaping */
	assert_int_equal(journal_record(&j, J_MEMORY_HIGH, "/a \"b\"\\c\n/d", "max", 0, 0), 0);
	assert_int_equal(journal_record(&j, J_CGROUP_CREATE, "/overcommitd/redis", "", 0, 0), 0);
	assert_int_equal(journal_record(&j, J_CGROUP_SUBTREE, "/", "cpu pids", 0, 0), 0);
	journal_close(&j);

	struct journal k;
	assert_int_equal(journal_open(t->state, BOOT, 0, &k), 0);
	assert_int_equal(k.n, 5);
	assert_string_equal(journal_find(&k, J_CGROUP_SUBTREE, "/")->original, "cpu pids");
	assert_string_equal(journal_kind_name(J_CGROUP_SUBTREE), "cgroup_subtree");
	const struct jentry *e = journal_find(&k, J_SYSCTL, "vm.overcommit_kbytes");
	assert_non_null(e);
	assert_string_equal(e->original, "0");
	assert_int_equal(e->seq, 1);
	e = journal_find(&k, J_OOM_SCORE_ADJ, "123");
	assert_non_null(e);
	assert_string_equal(e->original, "-17");
	assert_int_equal(e->pid, 123);
	assert_true(e->start_time == UINT64_MAX);
	assert_int_equal(e->seq, 2);
	e = journal_find(&k, J_MEMORY_HIGH, "/a \"b\"\\c\n/d");
	assert_non_null(e);
	assert_string_equal(e->original, "max");
	e = journal_find(&k, J_CGROUP_CREATE, "/overcommitd/redis");
	assert_non_null(e);
	assert_string_equal(e->original, "");
	/* sequence continues after a reload */
	assert_int_equal(journal_record(&k, J_SYSCTL, "vm.overcommit_memory", "0", 0, 0), 0);
	assert_int_equal(journal_find(&k, J_SYSCTL, "vm.overcommit_memory")->seq, 6);
	journal_close(&k);
}

static void test_first_original_wins(void **st)
{
	struct tmp *t = *st;
	struct journal j;
	assert_int_equal(journal_open(t->state, BOOT, 0, &j), 0);
	assert_int_equal(journal_record(&j, J_SYSCTL, "vm.overcommit_memory", "0", 0, 0), 0);
	char *before = strdup(slurp(t->file));
	assert_non_null(before);
	/* our own later value must never replace the real original */
	assert_int_equal(journal_record(&j, J_SYSCTL, "vm.overcommit_memory", "2", 0, 0), 0);
	assert_int_equal(j.n, 1);
	assert_string_equal(journal_find(&j, J_SYSCTL, "vm.overcommit_memory")->original, "0");
	assert_string_equal(slurp(t->file), before);
	free(before);
	/* same key, other kind: a different target */
	assert_int_equal(journal_record(&j, J_MEMORY_HIGH, "vm.overcommit_memory", "max", 0, 0), 0);
	assert_int_equal(j.n, 2);
	journal_close(&j);
}

static void test_forget(void **st)
{
	struct tmp *t = *st;
	struct journal j;
	assert_int_equal(journal_open(t->state, BOOT, 0, &j), 0);
	assert_int_equal(journal_record(&j, J_SYSCTL, "a", "1", 0, 0), 0);
	assert_int_equal(journal_record(&j, J_SYSCTL, "b", "2", 0, 0), 0);
	assert_int_equal(journal_record(&j, J_SYSCTL, "c", "3", 0, 0), 0);
	assert_int_equal(journal_forget(&j, J_SYSCTL, "b"), 0);
	assert_int_equal(journal_forget(&j, J_SYSCTL, "b"), -ENOENT);
	journal_close(&j);
	assert_int_equal(journal_open(t->state, BOOT, 0, &j), 0);
	assert_int_equal(j.n, 2);
	assert_null(journal_find(&j, J_SYSCTL, "b"));
	assert_string_equal(journal_find(&j, J_SYSCTL, "c")->original, "3");
	/* a forgotten target can be recorded again, with a new sequence */
	assert_int_equal(journal_record(&j, J_SYSCTL, "b", "9", 0, 0), 0);
	assert_int_equal(journal_find(&j, J_SYSCTL, "b")->seq, 4);
	journal_close(&j);
}

static void test_persist_failure_keeps_memory_true(void **st)
{
	struct tmp *t = *st;
	struct journal j;
	assert_int_equal(journal_open(t->state, BOOT, 0, &j), 0);
	assert_int_equal(journal_record(&j, J_SYSCTL, "a", "1", 0, 0), 0);
	/* journal.json replaced by a non-empty directory: rename must fail */
	char sub[700];
	assert_int_equal(unlink(t->file), 0);
	assert_int_equal(mkdir(t->file, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/x", t->file);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_true(journal_record(&j, J_SYSCTL, "b", "2", 0, 0) < 0);
	assert_int_equal(j.n, 1);
	assert_null(journal_find(&j, J_SYSCTL, "b"));
	assert_true(journal_forget(&j, J_SYSCTL, "a") < 0);
	assert_int_equal(j.n, 1);
	assert_non_null(journal_find(&j, J_SYSCTL, "a"));
	journal_close(&j);
}

static void test_state_dir_not_a_dir(void **st)
{
	struct tmp *t = *st;
	char file[300], state[400];
	snprintf(file, sizeof(file), "%s/plainfile", t->dir);
	put(file, "x");
	snprintf(state, sizeof(state), "%s/state", file);
	struct journal j;
	assert_int_equal(journal_open(state, BOOT, 0, &j), -ENOTDIR);
	journal_close(&j);
	/* the directory cannot be created at the first write either */
	assert_int_equal(journal_open(state, BOOT, 0, &j), -ENOTDIR);
	assert_int_equal(journal_record(&j, J_SYSCTL, "a", "1", 0, 0), -ENOTDIR);
	assert_int_equal(j.n, 0);
	journal_close(&j);
}

static void test_bad_arguments(void **st)
{
	struct tmp *t = *st;
	struct journal j;
	char big[600];
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(journal_open(t->state, BOOT, 0, &j), 0);
	assert_int_equal(journal_record(&j, J_SYSCTL, big, "1", 0, 0), -ENAMETOOLONG);
	assert_int_equal(journal_record(&j, J_SYSCTL, "k", big, 0, 0), -ENAMETOOLONG);
	assert_int_equal(journal_record(&j, J_SYSCTL, "", "1", 0, 0), -EINVAL);
	assert_int_equal(journal_record(&j, (enum jkind)99, "k", "1", 0, 0), -EINVAL);
	assert_int_equal(journal_record(&j, J_OOM_SCORE_ADJ, "k", "1", -1, 0), -EINVAL);
	assert_int_equal(j.n, 0);
	assert_int_equal(access(t->file, F_OK), -1);
	journal_close(&j);
}

static void test_many_entries(void **st)
{
	struct tmp *t = *st;
	struct journal j;
	char key[32];
	assert_int_equal(journal_open(t->state, BOOT, 0, &j), 0);
	for (int i = 0; i < 1000; i++) { /* > 64 KiB of JSON: the reader must grow */
		snprintf(key, sizeof(key), "/group/%d", i);
		assert_int_equal(journal_record(&j, J_MEMORY_MAX, key, "max", 0, 0), 0);
	}
	journal_close(&j);
	struct stat sb;
	assert_int_equal(stat(t->file, &sb), 0);
	assert_true(sb.st_size > 64 * 1024);
	assert_int_equal(journal_open(t->state, BOOT, 0, &j), 0);
	assert_int_equal(j.n, 1000);
	assert_int_equal(journal_find(&j, J_MEMORY_MAX, "/group/999")->seq, 1000);
	assert_int_equal(j.next_seq, 1001);
	journal_close(&j);
}

/* Each of these is refused with -EINVAL and left byte for byte as it was. */
static const char *const corrupt[] = {
	"",
	"\n",
	"{",
	"[]",
	"null",
	"{\"version\":1}",
	"{\"entries\":[]}",
	"{\"version\":2,\"entries\":[]}",
	"{\"version\":\"1\",\"entries\":[]}",
	"{\"version\":1,\"entries\":{}}",
	"{\"version\":1,\"entries\":[]} trailing",
	"{\"version\":1,\"entries\":[]}{}",
	"{\"version\":1,\"entries\":[1]}",
	"{\"version\":1,\"entries\":[{\"kind\":\"bogus\",\"key\":\"k\",\"original\":\"0\",\"pid\":0,\"start_time\":0,\"seq\":1}]}",
	"{\"version\":1,\"entries\":[{\"kind\":\"sysctl\",\"key\":\"\",\"original\":\"0\",\"pid\":0,\"start_time\":0,\"seq\":1}]}",
	"{\"version\":1,\"entries\":[{\"kind\":\"sysctl\",\"original\":\"0\",\"pid\":0,\"start_time\":0,\"seq\":1}]}",
	"{\"version\":1,\"entries\":[{\"kind\":\"sysctl\",\"key\":\"k\",\"pid\":0,\"start_time\":0,\"seq\":1}]}",
	"{\"version\":1,\"entries\":[{\"kind\":\"sysctl\",\"key\":\"k\",\"original\":0,\"pid\":0,\"start_time\":0,\"seq\":1}]}",
	"{\"version\":1,\"entries\":[{\"kind\":\"sysctl\",\"key\":\"k\",\"original\":\"0\",\"pid\":-1,\"start_time\":0,\"seq\":1}]}",
	"{\"version\":1,\"entries\":[{\"kind\":\"sysctl\",\"key\":\"k\",\"original\":\"0\",\"pid\":4294967296,\"start_time\":0,\"seq\":1}]}",
	"{\"version\":1,\"entries\":[{\"kind\":\"sysctl\",\"key\":\"k\",\"original\":\"0\",\"pid\":\"1\",\"start_time\":0,\"seq\":1}]}",
	"{\"version\":1,\"entries\":[{\"kind\":\"sysctl\",\"key\":\"k\",\"original\":\"0\",\"pid\":0,\"start_time\":-5,\"seq\":1}]}",
	"{\"version\":1,\"entries\":[{\"kind\":\"sysctl\",\"key\":\"k\",\"original\":\"0\",\"pid\":0,\"start_time\":1.5,\"seq\":1}]}",
	"{\"version\":1,\"entries\":[{\"kind\":\"sysctl\",\"key\":\"k\",\"original\":\"0\",\"pid\":0,\"start_time\":0,\"seq\":0}]}",
	"{\"version\":1,\"entries\":[{\"kind\":\"sysctl\",\"key\":\"k\",\"original\":\"0\",\"pid\":0,\"start_time\":0}]}",
	"{\"version\":1,\"entries\":[{\"kind\":\"sysctl\",\"key\":\"k\\u0000x\",\"original\":\"0\",\"pid\":0,\"start_time\":0,\"seq\":1}]}",
	/* the same target twice: which original is the true one? */
	"{\"version\":1,\"entries\":[{\"kind\":\"sysctl\",\"key\":\"k\",\"original\":\"0\",\"pid\":0,\"start_time\":0,\"seq\":1},"
	"{\"kind\":\"sysctl\",\"key\":\"k\",\"original\":\"2\",\"pid\":0,\"start_time\":0,\"seq\":2}]}",
	/* strict JSON only (json-c 0.16 strict mode still takes 'single quotes') */
	"{\"version\":1,\"entries\":[],}",
};

static void test_corrupt_refused_untouched(void **st)
{
	struct tmp *t = *st;
	char parent[300];
	snprintf(parent, sizeof(parent), "%s/state", t->dir);
	assert_int_equal(mkdir(parent, 0700), 0);
	assert_int_equal(mkdir(t->state, 0700), 0);
	for (size_t i = 0; i < ARRAY_SIZE(corrupt); i++) {
		put(t->file, corrupt[i]);
		struct journal j;
		int rc = journal_open(t->state, BOOT, 0, &j);
		if (rc != -EINVAL)
			fail_msg("case %zu (%s): rc %d, want -EINVAL", i, corrupt[i], rc);
		assert_int_equal(j.n, 0);
		journal_close(&j);
		assert_string_equal(slurp(t->file), corrupt[i]);
	}
	/* a key longer than the struct holds is refused, never truncated */
	char doc[2048], key[600];
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	snprintf(doc, sizeof(doc),
		 "{\"version\":1,\"entries\":[{\"kind\":\"sysctl\",\"key\":\"%s\",\"original\":\"0\","
		 "\"pid\":0,\"start_time\":0,\"seq\":1}]}", key);
	put(t->file, doc);
	struct journal j;
	assert_int_equal(journal_open(t->state, BOOT, 0, &j), -EINVAL);
	journal_close(&j);
	/* a good hand-written one is accepted (whitespace around is fine) */
	put(t->file, " {\"version\":1,\"boot_id\":\"" BOOT "\",\"entries\":[{\"kind\":\"cgroup_attach\",\"key\":\"42\",\"original\":\"/\","
		     "\"pid\":42,\"start_time\":777,\"seq\":9}]}\n");
	assert_int_equal(journal_open(t->state, BOOT, 0, &j), 0);
	assert_int_equal(j.n, 1);
	assert_int_equal(j.e[0].kind, J_CGROUP_ATTACH);
	assert_int_equal(j.e[0].start_time, 777);
	assert_int_equal(j.next_seq, 10);
	journal_close(&j);
}

static void test_unreadable_is_error(void **st)
{
	struct tmp *t = *st;
	char parent[300];
	snprintf(parent, sizeof(parent), "%s/state", t->dir);
	assert_int_equal(mkdir(parent, 0700), 0);
	assert_int_equal(mkdir(t->state, 0700), 0);
	assert_int_equal(mkdir(t->file, 0700), 0); /* journal.json is a directory */
	struct journal j;
	assert_true(journal_open(t->state, BOOT, 0, &j) < 0);
	journal_close(&j);
}


/* issue 13 item 2: a journal of another boot never restores per-process
 * entries; host entries stay, marked, until a write in this boot renews
 * them with the value in force now. */
static void test_earlier_boot(void **st)
{
	struct tmp *t = *st;
	struct journal j;
	assert_int_equal(journal_open(t->state, "old-boot-0000000000000000000000000000", 0, &j), 0);
	assert_int_equal(journal_record(&j, J_SYSCTL, "vm.overcommit_ratio", "50", 0, 0), 0);
	assert_int_equal(journal_record(&j, J_SYSCTL, "vm.overcommit_memory", "0", 0, 0), 0);
	assert_int_equal(journal_record(&j, J_OOM_SCORE_ADJ, "123", "0", 123, 77), 0);
	assert_int_equal(journal_record(&j, J_CGROUP_ATTACH, "123", "/", 123, 77), 0);
	journal_close(&j);

	assert_int_equal(journal_open(t->state, BOOT, 0, &j), 0);
	assert_int_equal(j.earlier_boot_pid, 2);
	assert_int_equal(j.earlier_boot_host, 2);
	assert_null(journal_find(&j, J_OOM_SCORE_ADJ, "123"));
	assert_null(journal_find(&j, J_CGROUP_ATTACH, "123"));
	const struct jentry *e = journal_find(&j, J_SYSCTL, "vm.overcommit_ratio");
	assert_non_null(e);
	assert_true(e->earlier_boot);
	/* the reboot put 80 in force; apply writes the ratio again: 80 is
	 * the original now, not the 50 of the earlier boot */
	assert_int_equal(journal_record(&j, J_SYSCTL, "vm.overcommit_ratio", "80", 0, 0), 0);
	e = journal_find(&j, J_SYSCTL, "vm.overcommit_ratio");
	assert_string_equal(e->original, "80");
	assert_false(e->earlier_boot);
	assert_int_equal(j.earlier_boot_host, 1);
	/* and later values of this boot never replace it */
	assert_int_equal(journal_record(&j, J_SYSCTL, "vm.overcommit_ratio", "90", 0, 0), 0);
	assert_string_equal(journal_find(&j, J_SYSCTL, "vm.overcommit_ratio")->original, "80");
	journal_close(&j);

	/* on disk: this boot's id, the untouched host entry still marked */
	char *doc = slurp(t->file);
	assert_non_null(strstr(doc, "\"boot_id\": \"" BOOT "\""));
	assert_non_null(strstr(doc, "\"earlier_boot\":true"));
	assert_null(strstr(doc, "oom_score_adj"));
	assert_int_equal(journal_open(t->state, BOOT, 0, &j), 0);
	assert_int_equal(j.earlier_boot_host, 1);
	assert_true(journal_find(&j, J_SYSCTL, "vm.overcommit_memory")->earlier_boot);
	assert_false(journal_find(&j, J_SYSCTL, "vm.overcommit_ratio")->earlier_boot);
	journal_close(&j);

	/* a journal without a boot id (written before it was kept) is another boot */
	put(t->file, "{\"version\":1,\"entries\":[{\"kind\":\"oom_score_adj\",\"key\":\"9\","
		     "\"original\":\"0\",\"pid\":9,\"start_time\":1,\"seq\":1}]}");
	assert_int_equal(journal_open(t->state, BOOT, 0, &j), 0);
	assert_int_equal(j.n, 0);
	assert_int_equal(j.earlier_boot_pid, 1);
	assert_true(j.dirty);
	assert_int_equal(journal_save(&j), 0);
	journal_close(&j);
	assert_null(strstr(slurp(t->file), "oom_score_adj"));
}

/* issue 13 item 4: the per-process cap fails with -EDQUOT and never keeps a
 * host value from being journaled. */
static void test_cap_never_blocks_host(void **st)
{
	struct tmp *t = *st;
	struct journal j;
	assert_int_equal(journal_open(t->state, BOOT, JOURNAL_CREATE, &j), 0);
	journal_close(&j);
	/* a journal on disk with the per-process cap reached */
	FILE *f = fopen(t->file, "w");
	assert_non_null(f);
	fprintf(f, "{\"version\":1,\"boot_id\":\"%s\",\"entries\":[", BOOT);
	for (int i = 1; i <= JOURNAL_MAX_PROCESS_ENTRIES; i++)
		fprintf(f, "%s{\"kind\":\"oom_score_adj\",\"key\":\"%d\",\"original\":\"0\",\"pid\":%d,"
			   "\"start_time\":1,\"seq\":%d}", i > 1 ? "," : "", i, i, i);
	fputs("]}\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(journal_open(t->state, BOOT, 0, &j), 0);
	assert_int_equal(j.n, JOURNAL_MAX_PROCESS_ENTRIES);
	assert_int_equal(journal_record(&j, J_OOM_SCORE_ADJ, "999999", "0", 999999, 1), -EDQUOT);
	assert_int_equal(journal_record(&j, J_CGROUP_ATTACH, "999999", "/", 999999, 1), -EDQUOT);
	assert_int_equal(journal_record(&j, J_SYSCTL, "vm.overcommit_memory", "0", 0, 0), 0);
	assert_int_equal(journal_record(&j, J_MEMORY_HIGH, "/svc", "max", 0, 0), 0);
	/* a dropped process makes room again */
	assert_int_equal(journal_drop(&j, J_OOM_SCORE_ADJ, "5"), 0);
	assert_int_equal(journal_record(&j, J_OOM_SCORE_ADJ, "999999", "0", 999999, 1), 0);
	journal_close(&j);
}

/* A journal of n per-process entries; seconds to load it, drop every
 * other entry and save. */
static double load_drop_save(struct tmp *t, int n)
{
	FILE *f = fopen(t->file, "w");
	assert_non_null(f);
	fprintf(f, "{\"version\":1,\"boot_id\":\"%s\",\"entries\":[", BOOT);
	for (int i = 1; i <= n; i++)
		fprintf(f, "%s{\"kind\":\"oom_score_adj\",\"key\":\"%d\",\"original\":\"0\",\"pid\":%d,"
			   "\"start_time\":1,\"seq\":%d}", i > 1 ? "," : "", i, i, i);
	fputs("]}\n", f);
	assert_int_equal(fclose(f), 0);
	struct timespec a, b;
	/* CPU time: the fsync of the save and other processes' load do not
	 * count, the work that is O(n) or O(n^2) does */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	struct journal j;
	assert_int_equal(journal_open(t->state, BOOT, 0, &j), 0);
	assert_int_equal(j.n, (size_t)n);
	for (int i = 1; i <= n; i += 2) {
		char key[16];
		snprintf(key, sizeof(key), "%d", i);
		assert_int_equal(journal_drop(&j, J_OOM_SCORE_ADJ, key), 0);
	}
	assert_int_equal(journal_save(&j), 0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	assert_int_equal(j.n, (size_t)n / 2);
	assert_non_null(journal_find(&j, J_OOM_SCORE_ADJ, "2"));
	assert_null(journal_find(&j, J_OOM_SCORE_ADJ, "1"));
	journal_close(&j);
	return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

/* issue 13 item 4: load, drop and save are O(n) (a hash, not a scan per
 * entry: 65,536 entries took 7.7 s before).  8 times the entries must
 * cost about 8 times as much, far from the 64 of a quadratic. */
static void test_load_linear(void **st)
{
	struct tmp *t = *st;
	char parent[300];
	snprintf(parent, sizeof(parent), "%s/state", t->dir);
	assert_int_equal(mkdir(parent, 0700), 0);
	assert_int_equal(mkdir(t->state, 0700), 0);
	/* the best of three each: a stall of the machine is not the journal's */
	double small = 1e9, big = 1e9;
	for (int r = 0; r < 3; r++) {
		double s4 = load_drop_save(t, 4096), s32 = load_drop_save(t, 32768);
		small = s4 < small ? s4 : small;
		big = s32 < big ? s32 : big;
	}
	print_message("load + drop half + save: 4,096 entries %.3f s, 32,768 %.3f s (x%.1f)\n",
		      small, big, big / small);
	assert_true(big / small < 24.0);
}

/* A one-shot command replaced the file while the daemon held the journal
 * unlocked: relock reads it again, so the daemon never writes over an
 * original another process recorded (issue 13, the state-directory lock). */
static void test_relock_sees_other_writer(void **st)
{
	struct tmp *t = *st;
	struct journal d, c;
	assert_int_equal(journal_open(t->state, BOOT, JOURNAL_CREATE, &d), 0);
	assert_int_equal(journal_record(&d, J_SYSCTL, "vm.overcommit_memory", "0", 0, 0), 0);
	journal_unlock(&d);
	assert_int_equal(journal_open(t->state, BOOT, 0, &c), 0);
	assert_int_equal(journal_record(&c, J_SYSCTL, "vm.overcommit_ratio", "50", 0, 0), 0);
	journal_close(&c);
	assert_int_equal(journal_relock(&d), 0);
	assert_non_null(journal_find(&d, J_SYSCTL, "vm.overcommit_ratio"));
	assert_int_equal(journal_record(&d, J_SYSCTL, "vm.user_reserve_kbytes", "131072", 0, 0), 0);
	journal_close(&d);
	assert_int_equal(journal_open(t->state, BOOT, 0, &c), 0);
	assert_int_equal(c.n, 3);
	journal_close(&c);
}

/* The daemon's kept lock: between its locks the lock fd stays open; one
 * fstat of it tells whether another process locked exclusively since (the
 * one-shot grew the lock file by one); a relock with nobody else in
 * between reads no file; a lock file removed meanwhile is replaced by the
 * one the name leads to, and so still excludes the others. */
static void test_kept_lock_generation(void **st)
{
	struct tmp *t = *st;
	struct journal d, c;
	char lock[700];
	struct stat sb;
	assert_int_equal(journal_open(t->state, BOOT, JOURNAL_CREATE, &d), 0);
	assert_int_equal(journal_record(&d, J_SYSCTL, "vm.overcommit_memory", "0", 0, 0), 0);
	journal_unlock(&d);
	statedir_keep_lock(&d.sd);
	snprintf(lock, sizeof(lock), "%s/lock", t->state);
	assert_int_equal(stat(lock, &sb), 0);
	assert_int_equal(sb.st_size, 1); /* the one exclusive lock so far: the open's */
	assert_int_equal(journal_relock(&d), 0);
	assert_true(d.sd.lockfd >= 0 && d.sd.locked);
	journal_unlock(&d);
	int kept = d.sd.lockfd;
	assert_true(kept >= 0 && !d.sd.locked); /* open, not locked */
	/* nobody else: the same fd, and one fstat says so */
	assert_int_equal(journal_relock(&d), 0);
	assert_int_equal(d.sd.lockfd, kept);
	assert_int_equal(statedir_others_wrote(&d.sd), 0);
	journal_unlock(&d);
	/* a one-shot writes under its own lock: seen at the next relock */
	assert_int_equal(journal_open(t->state, BOOT, 0, &c), 0);
	assert_int_equal(journal_record(&c, J_SYSCTL, "vm.overcommit_ratio", "50", 0, 0), 0);
	journal_close(&c);
	assert_int_equal(stat(lock, &sb), 0);
	assert_int_equal(sb.st_size, 2);
	assert_int_equal(journal_relock(&d), 0);
	assert_non_null(journal_find(&d, J_SYSCTL, "vm.overcommit_ratio"));
	journal_unlock(&d);
	/* the lock file removed: the daemon locks the new one, which a
	 * one-shot's lock then waits for */
	assert_int_equal(unlink(lock), 0);
	assert_int_equal(journal_open(t->state, BOOT, 0, &c), 0); /* makes a new one */
	journal_close(&c);
	assert_int_equal(journal_relock(&d), 0);
	int fd = open(lock, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	journal_unlock(&d);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	close(fd);
	assert_int_equal(journal_close(&d), 0);
	assert_int_equal(journal_open(t->state, BOOT, 0, &c), 0);
	assert_int_equal(c.n, 2);
	journal_close(&c);
}

/* issue 13 items 6, 10: refusals (nothing written), planted symlinks never
 * followed, a killed writer's temp files removed. */
static void test_trust_and_leftovers(void **st)
{
	struct tmp *t = *st;
	struct journal j;
	char victim[400], tmp[700], other[700];
	assert_int_equal(journal_open(t->state, BOOT, JOURNAL_CREATE, &j), 0);
	assert_int_equal(journal_record(&j, J_SYSCTL, "vm.overcommit_memory", "0", 0, 0), 0);
	journal_close(&j);
	char *good = strdup(slurp(t->file));
	assert_non_null(good);

	/* the file another user's, or writable by others: refused, untouched */
	assert_int_equal(chown(t->file, 1000, 1000), 0);
	assert_int_equal(journal_open(t->state, BOOT, 0, &j), -EPERM);
	assert_non_null(strstr(j.sd.why, "owned by uid 1000"));
	journal_close(&j);
	assert_int_equal(chown(t->file, 0, 0), 0);
	assert_int_equal(chmod(t->file, 0666), 0);
	assert_int_equal(journal_open(t->state, BOOT, 0, &j), -EPERM);
	assert_non_null(strstr(j.sd.why, "writable by group or others"));
	journal_close(&j);
	assert_int_equal(chmod(t->file, 0600), 0);
	/* the directory writable by others */
	assert_int_equal(chmod(t->state, 0777), 0);
	assert_int_equal(journal_open(t->state, BOOT, 0, &j), -EPERM);
	assert_non_null(strstr(j.sd.why, "writable by group or others"));
	journal_close(&j);
	assert_int_equal(chmod(t->state, 0700), 0);
	assert_string_equal(slurp(t->file), good);

	/* journal.json a symlink to a victim: refused, victim untouched */
	snprintf(victim, sizeof(victim), "%s/victim", t->dir);
	put(victim, "precious\n");
	snprintf(other, sizeof(other), "%s.real", t->file);
	assert_int_equal(rename(t->file, other), 0);
	assert_int_equal(symlink(victim, t->file), 0);
	assert_int_equal(journal_open(t->state, BOOT, 0, &j), -EPERM);
	assert_non_null(strstr(j.sd.why, "symbolic link"));
	journal_close(&j);
	assert_int_equal(unlink(t->file), 0);
	assert_int_equal(rename(other, t->file), 0);

	/* leftovers of a kill -9 go; our own temp name planted as a symlink
	 * is removed, never followed; look-alikes stay */
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", t->file, 424242);
	put(tmp, "half a journal");
	snprintf(other, sizeof(other), "%s.tmp.12x", t->file);
	put(other, "not ours");
	assert_int_equal(journal_open(t->state, BOOT, 0, &j), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(access(other, F_OK), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", t->file, (long)getpid());
	assert_int_equal(symlink(victim, tmp), 0);
	assert_int_equal(journal_record(&j, J_SYSCTL, "vm.overcommit_ratio", "50", 0, 0), 0);
	journal_close(&j);
	assert_string_equal(slurp(victim), "precious\n");
	struct stat sb;
	assert_int_equal(lstat(t->file, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(lstat(tmp, &sb), -1);
	free(good);
}

/* A daemon killed while replacing learned.json or refusals.json (written
 * without the lock) left name.tmp.PID: found by the fault-injection level
 * (SIGKILL at the daemon's first fchmod, then a plain restore: the temp
 * stayed).  Any one-shot command's open removes a dead writer's; a live
 * writer's (the running daemon's) stays. */
static void test_daemon_leftovers(void **st)
{
	struct tmp *t = *st;
	struct journal j;
	char dead[700], live[700], other[700];
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	snprintf(dead, sizeof(dead), "%s/refusals.json.tmp.%d", t->state, (int)pid);
	snprintf(live, sizeof(live), "%s/learned.json.tmp.%ld", t->state, (long)getppid());
	snprintf(other, sizeof(other), "%s/learned.json.tmp.%dx", t->state, (int)pid);
	assert_int_equal(journal_open(t->state, BOOT, JOURNAL_CREATE, &j), 0);
	journal_close(&j);
	put(dead, "half a book");
	put(live, "being written");
	put(other, "not ours");
	assert_int_equal(journal_open(t->state, BOOT, 0, &j), 0);
	journal_close(&j);
	assert_int_equal(access(dead, F_OK), -1);
	assert_int_equal(access(live, F_OK), 0);
	assert_int_equal(access(other, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing_is_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_persists_and_round_trips, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_original_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persist_failure_keeps_memory_true, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_dir_not_a_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_refused_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_is_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_earlier_boot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap_never_blocks_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_linear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relock_sees_other_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kept_lock_generation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trust_and_leftovers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_daemon_leftovers, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
