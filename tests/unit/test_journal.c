/* test_journal.c - the state journal: round trips, first original wins,
 * persistence before return, corrupt files refused and left untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "util.h"

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
	assert_int_equal(journal_open(t->state, &j), 0);
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
	assert_int_equal(journal_open(t->state, &j), 0);
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
	journal_close(&j);

	struct journal k;
	assert_int_equal(journal_open(t->state, &k), 0);
	assert_int_equal(k.n, 4);
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
	assert_int_equal(journal_find(&k, J_SYSCTL, "vm.overcommit_memory")->seq, 5);
	journal_close(&k);
}

static void test_first_original_wins(void **st)
{
	struct tmp *t = *st;
	struct journal j;
	assert_int_equal(journal_open(t->state, &j), 0);
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
	assert_int_equal(journal_open(t->state, &j), 0);
	assert_int_equal(journal_record(&j, J_SYSCTL, "a", "1", 0, 0), 0);
	assert_int_equal(journal_record(&j, J_SYSCTL, "b", "2", 0, 0), 0);
	assert_int_equal(journal_record(&j, J_SYSCTL, "c", "3", 0, 0), 0);
	assert_int_equal(journal_forget(&j, J_SYSCTL, "b"), 0);
	assert_int_equal(journal_forget(&j, J_SYSCTL, "b"), -ENOENT);
	journal_close(&j);
	assert_int_equal(journal_open(t->state, &j), 0);
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
	assert_int_equal(journal_open(t->state, &j), 0);
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
	assert_int_equal(journal_open(state, &j), -ENOTDIR);
	journal_close(&j);
	memset(&j, 0, sizeof(j));
	snprintf(j.path, sizeof(j.path), "%s/journal.json", state);
	j.next_seq = 1;
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
	assert_int_equal(journal_open(t->state, &j), 0);
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
	assert_int_equal(journal_open(t->state, &j), 0);
	for (int i = 0; i < 600; i++) { /* > 64 KiB of JSON: the reader must grow */
		snprintf(key, sizeof(key), "/group/%d", i);
		assert_int_equal(journal_record(&j, J_MEMORY_MAX, key, "max", 0, 0), 0);
	}
	journal_close(&j);
	struct stat sb;
	assert_int_equal(stat(t->file, &sb), 0);
	assert_true(sb.st_size > 64 * 1024);
	assert_int_equal(journal_open(t->state, &j), 0);
	assert_int_equal(j.n, 600);
	assert_int_equal(journal_find(&j, J_MEMORY_MAX, "/group/599")->seq, 600);
	assert_int_equal(j.next_seq, 601);
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
		int rc = journal_open(t->state, &j);
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
	assert_int_equal(journal_open(t->state, &j), -EINVAL);
	journal_close(&j);
	/* a good hand-written one is accepted (whitespace around is fine) */
	put(t->file, " {\"version\":1,\"entries\":[{\"kind\":\"cgroup_attach\",\"key\":\"42\",\"original\":\"/\","
		     "\"pid\":42,\"start_time\":777,\"seq\":9}]}\n");
	assert_int_equal(journal_open(t->state, &j), 0);
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
	assert_true(journal_open(t->state, &j) < 0);
	journal_close(&j);
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
