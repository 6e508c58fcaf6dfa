/* test_journal_pids.c - per-process originals appended to journal.pids:
 * never a journal.json rewrite for them, a replay that ends in the true
 * state, torn tails tolerated, foreign lines refused, folding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "journal_pids.h"
#include "tmptree.h"
#include "util.h"

#define BOOT "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
#define BL "boot " BOOT "\n"

struct tmp {
	char dir[256], json[320], pids[320];
};

static int setup(void **st)
{
	struct tmp *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "/tmp/oc-jpids-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->json, sizeof(t->json), "%s/journal.json", t->dir);
	snprintf(t->pids, sizeof(t->pids), "%s/journal.pids", t->dir);
	*st = t;
	return 0;
}

static int teardown(void **st)
{
	struct tmp *t = *st;
	char lock[320];
	snprintf(lock, sizeof(lock), "%s/lock", t->dir);
	unlink(t->json);
	unlink(t->pids);
	unlink(lock);
	rmdir(t->dir);
	free(t);
	return 0;
}

static const char *slurp(const char *path)
{
	static char buf[65536];
	return read_file(path, buf, sizeof(buf)) < 0 ? NULL : buf;
}

static void put(const char *path, const char *s, size_t len)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(s, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_pid_kinds_append_only(void **st)
{
	struct tmp *t = *st;
	struct journal j;
	assert_int_equal(journal_open(t->dir, BOOT, 0, &j), 0);
	assert_int_equal(journal_record(&j, J_OOM_SCORE_ADJ, "100", "-17", 100, 777), 0);
	assert_int_equal(journal_record(&j, J_CGROUP_ATTACH, "100", "/system.slice/a b", 100, 777), 0);
	/* no journal.json rewrite for a process: only the appended lines */
	assert_int_equal(access(t->json, F_OK), -1);
	assert_string_equal(slurp(t->pids), BL "+ oom_score_adj 100 777 1 -17\n"
					    "+ cgroup_attach 100 777 2 /system.slice/a b\n");
	assert_int_equal(journal_forget(&j, J_OOM_SCORE_ADJ, "100"), 0);
	assert_non_null(strstr(slurp(t->pids), "- oom_score_adj 100\n"));
	journal_close(&j);

	assert_int_equal(journal_open(t->dir, BOOT, 0, &j), 0);
	assert_int_equal(j.n, 1);
	const struct jentry *e = journal_find(&j, J_CGROUP_ATTACH, "100");
	assert_non_null(e);
	assert_string_equal(e->original, "/system.slice/a b");
	assert_int_equal(e->start_time, 777);
	assert_int_equal(j.next_seq, 3);
	journal_close(&j);
}

static void test_host_write_folds_pids(void **st)
{
	struct tmp *t = *st;
	struct journal j;
	assert_int_equal(journal_open(t->dir, BOOT, 0, &j), 0);
	assert_int_equal(journal_record(&j, J_OOM_SCORE_ADJ, "5", "0", 5, 1), 0);
	assert_int_equal(journal_record(&j, J_SYSCTL, "vm.overcommit_memory", "0", 0, 0), 0);
	/* the fsync'd rewrite holds every entry; the appended lines are gone */
	assert_string_equal(slurp(t->pids), "");
	assert_int_equal(j.pids_size, 0);
	assert_non_null(strstr(slurp(t->json), "\"oom_score_adj\""));
	/* a forget after the fold: replay over journal.json removes it */
	assert_int_equal(journal_forget(&j, J_OOM_SCORE_ADJ, "5"), 0);
	journal_close(&j);
	assert_int_equal(journal_open(t->dir, BOOT, 0, &j), 0);
	assert_int_equal(j.n, 1);
	assert_null(journal_find(&j, J_OOM_SCORE_ADJ, "5"));
	journal_close(&j);
}

static void test_replay_last_word_wins(void **st)
{
	struct tmp *t = *st;
	/* journal.json already has pid 9 (a fold whose truncate failed) and the
	 * lines repeat its history: the end state is the last line's */
	const char *doc = "{\"version\":1,\"boot_id\":\"" BOOT "\",\"entries\":[{\"kind\":\"oom_score_adj\",\"key\":\"9\","
			  "\"original\":\"3\",\"pid\":9,\"start_time\":2,\"seq\":4}]}\n";
	put(t->json, doc, strlen(doc));
	const char *log = BL "+ oom_score_adj 9 1 2 1\n- oom_score_adj 9\n+ oom_score_adj 9 2 4 3\n"
			  "+ oom_score_adj 10 5 6 0\n- oom_score_adj 10\n- oom_score_adj 11\n";
	put(t->pids, log, strlen(log));
	struct journal j;
	assert_int_equal(journal_open(t->dir, BOOT, 0, &j), 0);
	assert_int_equal(j.n, 1);
	assert_string_equal(journal_find(&j, J_OOM_SCORE_ADJ, "9")->original, "3");
	assert_int_equal(j.next_seq, 7);
	journal_close(&j);
}

static void test_torn_tail(void **st)
{
	struct tmp *t = *st;
	/* a daemon killed mid-line, then zeros a host crash left: both ignored */
	static const char log[] = BL "+ oom_score_adj 1 1 1 5\n\0\0\0\0\n+ cgroup_attach 2 1 2 /x";
	put(t->pids, log, sizeof(log) - 1);
	struct journal j;
	assert_int_equal(journal_open(t->dir, BOOT, 0, &j), 0);
	assert_int_equal(j.n, 1);
	assert_true(j.pids_whole < j.pids_size);
	/* the torn line is cut off before the next one: never glued to it */
	assert_int_equal(journal_record(&j, J_OOM_SCORE_ADJ, "3", "7", 3, 9), 0);
	journal_close(&j);
	assert_int_equal(journal_open(t->dir, BOOT, 0, &j), 0);
	assert_int_equal(j.n, 2);
	assert_null(journal_find(&j, J_CGROUP_ATTACH, "2"));
	assert_string_equal(journal_find(&j, J_OOM_SCORE_ADJ, "3")->original, "7");
	assert_int_equal(j.pids_whole, j.pids_size);
	journal_close(&j);
}

static void test_other_boot_not_loaded(void **st)
{
	struct tmp *t = *st;
	const char *log = "boot 11111111-2222-3333-4444-555555555555\n+ oom_score_adj 9 1 2 1\n";
	put(t->pids, log, strlen(log));
	struct journal j;
	assert_int_equal(journal_open(t->dir, BOOT, 0, &j), 0);
	assert_int_equal(j.n, 0);
	assert_int_equal(j.earlier_boot_pid, 1);
	/* the next line starts the file afresh, for this boot */
	assert_int_equal(journal_record(&j, J_OOM_SCORE_ADJ, "3", "7", 3, 9), 0);
	journal_close(&j);
	assert_string_equal(slurp(t->pids), BL "+ oom_score_adj 3 9 1 7\n");
	/* a per-process entry is keyed by its pid, or refused */
	assert_int_equal(journal_open(t->dir, BOOT, 0, &j), 0);
	assert_int_equal(journal_record(&j, J_OOM_SCORE_ADJ, "4", "7", 5, 9), -EINVAL);
	assert_int_equal(j.n, 1);
	journal_close(&j);
}

static const char *const foreign[] = {
	"x oom_score_adj 1 1 1 5\n",
	"+ sysctl 1 1 1 5\n",            /* host kinds are never appended */
	"+ oom_score_adj 0 1 1 5\n",
	"+ oom_score_adj -4 1 1 5\n",
	"+ oom_score_adj 1 1 0 5\n",     /* seq 0 */
	"+ oom_score_adj 1 x 1 5\n",
	"+ oom_score_adj 1 1\n",
	"- oom_score_adj 1 extra\n",
	"- oom_score_adj 1 \n",
	"+  oom_score_adj 1 1 1 5\n",
	"+ oom_score_adj 099 1 1 5\n",   /* not as written: refused */
	"+ oom_score_adj +9 1 1 5\n",
	"+ oom_score_adj 9 1 1\n",       /* no original */
	"+ oom_score_adj 9 1 1 \n",
	"\n",
};

static void test_foreign_lines_refused(void **st)
{
	struct tmp *t = *st;
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
		char doc[256];
		snprintf(doc, sizeof(doc), "%s%s", BL, foreign[i]);
		put(t->pids, doc, strlen(doc));
		struct journal j;
		if (journal_open(t->dir, BOOT, 0, &j) != -EINVAL)
			fail_msg("case %zu (%s) accepted", i, foreign[i]);
		journal_close(&j);
		assert_string_equal(slurp(t->pids), doc); /* untouched */
	}
}

static void test_newline_in_original(void **st)
{
	struct tmp *t = *st;
	struct journal j;
	assert_int_equal(journal_open(t->dir, BOOT, 0, &j), 0);
	assert_int_equal(journal_record(&j, J_CGROUP_ATTACH, "4", "/a\n+ oom_score_adj 1 1 1 5", 4, 1),
			 -EINVAL);
	assert_int_equal(j.n, 0);
	assert_int_equal(access(t->pids, F_OK), -1);
	journal_close(&j);
}

static void test_compact_threshold(void **st)
{
	struct tmp *t = *st;
	struct journal j;
	char key[16];
	assert_int_equal(journal_open(t->dir, BOOT, 0, &j), 0);
	for (int pid = 1; pid <= 20; pid++) {
		snprintf(key, sizeof(key), "%d", pid);
		assert_int_equal(journal_record(&j, J_OOM_SCORE_ADJ, key, "0", pid, 1), 0);
	}
	size_t bytes = j.pids_size;
	assert_true(bytes > 0);
	assert_int_equal(journal_fold(&j, bytes), 0); /* not past the limit */
	assert_int_equal(access(t->json, F_OK), -1);
	assert_int_equal(journal_fold(&j, bytes - 1), 0);
	assert_int_equal(j.pids_size, 0);
	journal_close(&j);
	assert_int_equal(journal_open(t->dir, BOOT, 0, &j), 0);
	assert_int_equal(j.n, 20);
	journal_close(&j);
}

static size_t file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (size_t)st.st_size;
}

/* One fd for every line (no open/fstat/close per append), the size known
 * without asking; a journal.pids replaced or removed by another process
 * is never written through the old fd: the relock drops it, and the next
 * line lands in the file the name leads to. */
static void test_kept_fd_follows_the_name(void **st)
{
	struct tmp *t = *st;
	struct journal j;
	assert_int_equal(journal_open(t->dir, BOOT, 0, &j), 0);
	assert_int_equal(j.pids_fd, -1);
	assert_int_equal(journal_record(&j, J_OOM_SCORE_ADJ, "7", "0", 7, 1), 0);
	int fd = j.pids_fd;
	assert_true(fd >= 0);
	assert_int_equal(journal_record(&j, J_CGROUP_ATTACH, "7", "/a", 7, 1), 0);
	assert_int_equal(j.pids_fd, fd);
	assert_int_equal(j.pids_size, file_size(t->pids));
	assert_int_equal(j.pids_whole, j.pids_size);
	journal_unlock(&j);
	/* another process replaces the file (same content, another inode) */
	char tmp[340];
	const char *was = slurp(t->pids);
	snprintf(tmp, sizeof(tmp), "%s.new", t->pids);
	put(tmp, was, strlen(was));
	assert_int_equal(rename(tmp, t->pids), 0);
	assert_int_equal(journal_relock(&j), 0);
	assert_int_equal(j.pids_fd, -1);
	assert_int_equal(journal_forget(&j, J_OOM_SCORE_ADJ, "7"), 0);
	assert_non_null(strstr(slurp(t->pids), "- oom_score_adj 7\n"));
	assert_int_equal(j.pids_size, file_size(t->pids));
	journal_unlock(&j);
	/* removed: dropped too, the next line creates it afresh */
	assert_int_equal(unlink(t->pids), 0);
	assert_int_equal(journal_relock(&j), 0);
	assert_int_equal(j.pids_fd, -1);
	assert_int_equal(journal_record(&j, J_OOM_SCORE_ADJ, "8", "5", 8, 2), 0);
	assert_string_equal(slurp(t->pids), BL "+ oom_score_adj 8 2 1 5\n");
	assert_int_equal(journal_close(&j), 0);
}

/* A process's two entries forgotten in one write, in one piece. */
static void test_forget_process_both(void **st)
{
	struct tmp *t = *st;
	struct journal j;
	assert_int_equal(journal_open(t->dir, BOOT, 0, &j), 0);
	assert_int_equal(journal_record(&j, J_OOM_SCORE_ADJ, "100", "0", 100, 1), 0);
	assert_int_equal(journal_record(&j, J_CGROUP_ATTACH, "100", "/a", 100, 1), 0);
	assert_int_equal(journal_record(&j, J_CGROUP_ATTACH, "200", "/b", 200, 2), 0);
	size_t before = strlen(slurp(t->pids));
	assert_int_equal(journal_forget_process(&j, "100"), 0);
	assert_string_equal(slurp(t->pids) + before, "- oom_score_adj 100\n- cgroup_attach 100\n");
	assert_int_equal(j.pids_size, file_size(t->pids));
	assert_int_equal(journal_forget_process(&j, "300"), -ENOENT);
	assert_int_equal(journal_forget_process(&j, "100"), -ENOENT); /* already */
	before = strlen(slurp(t->pids));
	assert_int_equal(journal_forget_process(&j, "200"), 0);
	assert_string_equal(slurp(t->pids) + before, "- cgroup_attach 200\n");
	assert_int_equal(journal_close(&j), 0);
	assert_int_equal(journal_open(t->dir, BOOT, 0, &j), 0);
	assert_int_equal(journal_live(&j), 0);
	journal_close(&j);
}

static void test_format_round_trip(void **st)
{
	(void)st;
	struct jpids_op op = { .add = true };
	char buf[JPIDS_LINE_MAX];
	op.kind = J_SYSCTL;
	op.pid = 1;
	assert_int_equal(jpids_format(&op, buf, sizeof(buf)), -EINVAL);
	op.kind = J_OOM_SCORE_ADJ;
	op.pid = 0;
	assert_int_equal(jpids_format(&op, buf, sizeof(buf)), -EINVAL);
	op.pid = 2147483647;
	op.start_time = UINT64_MAX;
	op.seq = UINT64_MAX - 1;
	strcpy(op.original, "-1000");
	int n = jpids_format(&op, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(jpids_format(&op, buf, 10), -EINVAL); /* never truncated */
	assert_int_equal(jpids_format(&op, buf, sizeof(buf)), n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pid_kinds_append_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_write_folds_pids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_last_word_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_lines_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_boot_not_loaded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newline_in_original, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compact_threshold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kept_fd_follows_the_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_process_both, setup, teardown),
		cmocka_unit_test(test_format_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
