/* test_forkobs.c - the on-demand smaps policy end to end on a fake /proc:
 * first sighting reads, a second pass within 10 minutes does not, later
 * cheap readings carry the correction, a VmData move over 10% reads again,
 * an unreadable smaps stays an estimate, mode 0 reads maps, exited
 * processes leave the cache. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "diag.h"
#include "forkobs.h"
#include "policy.h"
#include "tmptree.h"

/* Redis under mode 1 then 2: 600 MiB of jemalloc arena mapped MAP_NORESERVE
 * (not accounted), 252 KiB accounted (heap, stack) */
static const char SMAPS[] =
	"00400000-00439000 rw-p 00000000 00:00 0 \nSize: 228 kB\nVmFlags: rd wr mr mw me ac sd \n"
	"7f0000000000-7f0025800000 rw-p 00000000 00:00 0 \nSize: 614400 kB\nVmFlags: rd wr mr mw me nr sd \n"
	"7ffc00000000-7ffc00006000 rw-p 00000000 00:00 0 [stack]\nVmFlags: rd wr mr mw me gd ac \n";

struct fx {
	char *root;
	struct roots r;
	struct policy pol;
};

static void tree(struct fx *f, unsigned long vm_data_kb)
{
	struct tt_proc p = { .pid = 42, .comm = "redis-server", .ppid = 1, .start = 4200,
			     .uid = 0, .vm_data_kb = vm_data_kb };
	tt_add_proc(f->root, &p);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->root = tt_make();
	tt_add_host(f->root, NULL);
	tree(f, 614400 + 96);
	tt_write(f->root, "proc/42/smaps", SMAPS);
	tt_write(f->root, "sys/devices/system/cpu/present", "0-1\n");
	tt_write(f->root, "sys/devices/system/cpu/online", "0-1\n");
	snprintf(f->r.procfs, sizeof(f->r.procfs), "%s/proc", f->root);
	snprintf(f->r.sysfs, sizeof(f->r.sysfs), "%s/sys", f->root);
	snprintf(f->r.cgroupfs, sizeof(f->r.cgroupfs), "%s/cgroup", f->root);
	snprintf(f->r.etc, sizeof(f->r.etc), "%s/etc", f->root);
	struct diags d;
	diags_init(&d);
	policy_init(&f->pol);
	assert_int_equal(policy_parse_buffer("t.ini", "[service redis]\nmatch_comm = redis-server\n",
					     &f->pol, &d), 0);
	policy_finish(&f->pol, &d);
	assert_int_equal(d.n, 0);
	diags_free(&d);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	policy_free(&f->pol);
	tt_rm(f->root);
	free(f);
	return 0;
}

/* one observation pass at time now: snapshot, fork_observe; the charge */
static struct fork_charge pass(struct fx *f, struct charge_cache *c, uint64_t now,
			       struct fork_obs_stats *st)
{
	struct snapshot s;
	assert_int_equal(snapshot_take(&f->r, &f->pol, &s), 0);
	assert_true(s.svc[0].main_idx >= 0);
	assert_int_equal(fork_observe(&f->r, &s, c, now, 0, st), 0);
	struct fork_charge fc = s.svc[0].charge;
	/* the band came from the CPU lists: 2 CPUs, 2 GiB, mode 2 */
	assert_int_equal(commit_slack_kb(s.mem.mem_total_kb, &s.cpus, 2), 8192);
	snapshot_free(&s);
	return fc;
}

static void on_demand(void **state)
{
	struct fx *f = *state;
	struct charge_cache c = { 0 };
	struct fork_obs_stats st;
	/* first sighting: read, exact (the estimate would say 600 MiB) */
	struct fork_charge fc = pass(f, &c, 1000, &st);
	assert_int_equal(st.smaps_reads, 1);
	assert_int_equal(fc.basis, CHARGE_EXACT);
	assert_int_equal(fc.kb, 252);
	assert_int_equal(fc.noreserve_kb, 614400);
	/* 5 minutes later, 5% more VmData: no read, the correction carries */
	tree(f, 614400 + 96 + 30720);
	fc = pass(f, &c, 1300, &st);
	assert_int_equal(st.smaps_reads, 0);
	assert_int_equal(fc.basis, CHARGE_CORRECTED);
	assert_int_equal(fc.kb, 252 + 30720);
	/* VmData moved by more than 10%, but within 10 minutes: still no read */
	tree(f, 614400 * 2);
	fc = pass(f, &c, 1500, &st);
	assert_int_equal(st.smaps_reads, 0);
	/* after 10 minutes: read again */
	fc = pass(f, &c, 1600, &st);
	assert_int_equal(st.smaps_reads, 1);
	assert_int_equal(fc.basis, CHARGE_EXACT);
	assert_int_equal(c.n, 1);
	/* the process exits: its entry goes */
	tt_write(f->root, "proc/42/stat", "42 (redis-server) S 1 42 42 0 -1 4194560 10 0 0 0 1 1 0 0 "
		 "20 0 1 0 9999 1000 100 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n");
	fc = pass(f, &c, 1700, &st); /* pid 42 again, another start time: a new process */
	assert_int_equal(st.smaps_reads, 1);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.e[0].start_time, 9999);
	charge_cache_free(&c);
}

/* the daemon's cap: one read per call; the second main due a read waits
 * for the next call (first sighting still) */
static void one_read_per_pass(void **state)
{
	struct fx *f = *state;
	struct tt_proc pg = { .pid = 43, .comm = "postgres", .ppid = 1, .start = 4300,
			      .uid = 0, .vm_data_kb = 1024 };
	tt_add_proc(f->root, &pg);
	tt_write(f->root, "proc/43/smaps", SMAPS);
	struct policy two;
	struct diags d;
	diags_init(&d);
	policy_init(&two);
	assert_int_equal(policy_parse_buffer("t.ini", "[service redis]\nmatch_comm = redis-server\n"
					     "[service pg]\nmatch_comm = postgres\n", &two, &d), 0);
	policy_finish(&two, &d);
	diags_free(&d);
	struct charge_cache c = { 0 };
	struct fork_obs_stats st;
	for (int call = 0; call < 3; call++) {
		struct snapshot s;
		assert_int_equal(snapshot_take(&f->r, &two, &s), 0);
		assert_int_equal(fork_observe(&f->r, &s, &c, 100 + (uint64_t)call, 1, &st), 0);
		snapshot_free(&s);
		assert_int_equal(st.smaps_reads, call < 2 ? 1 : 0);
		assert_int_equal(st.deferred, call == 0 ? 1 : 0);
	}
	assert_int_equal(c.n, 2);
	charge_cache_free(&c);
	policy_free(&two);
}

static void unreadable_and_mode0(void **state)
{
	struct fx *f = *state;
	struct charge_cache c = { 0 };
	struct fork_obs_stats st;
	char p[4096];
	snprintf(p, sizeof(p), "%s/proc/42/smaps", f->root);
	assert_int_equal(unlink(p), 0);
	struct fork_charge fc = pass(f, &c, 10, &st);
	assert_int_equal(st.smaps_failed, 1);
	assert_int_equal(fc.basis, CHARGE_ESTIMATE);
	assert_int_equal(fc.kb, 614400 + 96 + 132);
	assert_false(fc.largest_known);
	/* mode 0: maps gives the largest private writable VMA */
	tt_write(f->root, "proc/sys/vm/overcommit_memory", "0\n");
	tt_write(f->root, "proc/42/maps",
		 "00400000-00439000 rw-p 00000000 00:00 0 \n"
		 "7f0000000000-7f0025800000 rw-p 00000000 00:00 0 \n");
	fc = pass(f, &c, 20, &st);
	assert_int_equal(st.maps_reads, 1);
	assert_true(fc.largest_known);
	assert_int_equal(fc.largest_kb, 614400);
	charge_cache_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(on_demand, setup, teardown),
		cmocka_unit_test_setup_teardown(unreadable_and_mode0, setup, teardown),
		cmocka_unit_test_setup_teardown(one_read_per_pass, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
