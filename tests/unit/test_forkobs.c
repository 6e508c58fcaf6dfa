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
#include "plan.h"
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
	assert_int_equal(fork_observe(&f->r, &s, c, now, NULL, st), 0);
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

/* the daemon's way: due reads are handed back (async), marked pending (not
 * asked again while they run), and land through fork_observe_done(); every
 * instance's main is asked, not only the largest, and each carries its own
 * charge */
static void async_every_instance(void **state)
{
	struct fx *f = *state;
	/* a second instance of the same service (parent not a match): 1 MiB */
	struct tt_proc r2 = { .pid = 43, .comm = "redis-server", .ppid = 1, .start = 4300,
			      .uid = 0, .vm_data_kb = 1024 };
	tt_add_proc(f->root, &r2);
	tt_write(f->root, "proc/43/smaps",
		 "00400000-00500000 rw-p 00000000 00:00 0 \nVmFlags: rd wr mr mw me ac \n"
		 "00600000-00700000 rw-p 00000000 00:00 0 \nVmFlags: rd wr mr mw me ac dc \n");
	struct charge_cache c = { 0 };
	struct fork_obs_stats st;
	struct snapshot s;
	assert_int_equal(snapshot_take(&f->r, &f->pol, &s), 0);
	assert_int_equal(s.svc[0].ninst, 2);
	/* the caller's cap: one now, the other stays due */
	struct charge_reqs q = { .capped = true, .max = 1 };
	assert_int_equal(fork_observe(&f->r, &s, &c, 99, &q, &st), 0);
	assert_int_equal(q.n, 1);
	assert_int_equal(st.deferred, 1);
	q.capped = false;
	assert_int_equal(fork_observe(&f->r, &s, &c, 100, &q, &st), 0);
	assert_int_equal(st.smaps_reads, 0); /* nothing read here */
	assert_int_equal(st.queued, 1); /* the one the cap left */
	assert_int_equal(q.n, 2);
	assert_int_equal(s.svc[0].inst[0].charge.basis, CHARGE_ESTIMATE);
	snapshot_free(&s);
	/* while pending: not asked again */
	struct charge_reqs q2 = { 0 };
	assert_int_equal(snapshot_take(&f->r, &f->pol, &s), 0);
	assert_int_equal(fork_observe(&f->r, &s, &c, 101, &q2, &st), 0);
	assert_int_equal(q2.n, 0);
	snapshot_free(&s);
	/* the reads land (as the daemon's thread does them) */
	for (size_t i = 0; i < q.n; i++) {
		struct smaps_charge sc;
		char rel[64];
		snprintf(rel, sizeof(rel), "%d", q.r[i].pid);
		assert_int_equal(smaps_charge_read(&f->r, q.r[i].pid, &sc), 0);
		assert_int_equal(fork_observe_done(&c, &q.r[i], 0, &sc, 102), 0);
	}
	assert_int_equal(snapshot_take(&f->r, &f->pol, &s), 0);
	assert_int_equal(fork_observe(&f->r, &s, &c, 103, &q2, &st), 0);
	assert_int_equal(q2.n, 0);
	for (size_t k = 0; k < s.svc[0].ninst; k++) {
		const struct svc_inst *in = &s.svc[0].inst[k];
		int pid = s.svc[0].procs[in->main].pid;
		assert_int_equal(in->charge.basis, CHARGE_EXACT);
		/* 42: the jemalloc Redis (252 KiB); 43: 1 MiB charged, 1 MiB DONTFORK */
		assert_int_equal(in->charge.kb, pid == 42 ? 252 : 1024);
	}
	/* the service's verdict is the fork that needs most: pid 43's now,
	 * though 42 is the largest by VmData + VmStk (main_idx) */
	struct plan p;
	assert_int_equal(plan_build(&f->pol, &s, NULL, &p), 0);
	assert_int_equal(s.svc[0].procs[s.svc[0].inst[p.eval[0].fork_inst].main].pid, 43);
	assert_int_equal(p.eval[0].fork.need_kb, 1024);
	plan_free(&p);
	snapshot_free(&s);
	/* a failed read is not asked again for 10 minutes */
	charge_cache_failed(&c, 42, 4200, 200);
	assert_int_equal(snapshot_take(&f->r, &f->pol, &s), 0);
	assert_int_equal(fork_observe(&f->r, &s, &c, 201, &q2, &st), 0);
	assert_int_equal(q2.n, 0);
	snapshot_free(&s);
	charge_reqs_free(&q);
	charge_reqs_free(&q2);
	charge_cache_free(&c);
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
		cmocka_unit_test_setup_teardown(async_every_instance, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
