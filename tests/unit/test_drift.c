/* test_drift.c - the daemon never flaps: rate limits, drift detection,
 * back-off, reapply with a limit, recommendations logged once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "drift.h"

static struct action act(enum action_kind k, const char *target, const char *cur,
			 const char *want)
{
	struct action a;
	memset(&a, 0, sizeof(a));
	a.kind = k;
	snprintf(a.target, sizeof(a.target), "%s", target);
	snprintf(a.current, sizeof(a.current), "%s", cur);
	snprintf(a.desired, sizeof(a.desired), "%s", want);
	return a;
}

static size_t filter1(struct drift *d, const struct action *a, bool reapply, uint64_t now,
		      int *reports)
{
	struct action one = *a;
	struct plan p = { .act = &one, .nact = 1 };
	drift_filter(d, &p, reapply, now, NULL, NULL);
	if (reports)
		*reports = (int)d->drifts_total;
	return p.nact;
}

static void done(struct drift *d, const struct action *a, uint64_t now)
{
	struct apply_result r = { .status = AP_DONE };
	drift_record(d, a, &r, now);
}

static void first_write_then_rate_limited(void **state)
{
	(void)state;
	struct drift d = { 0 };
	struct action a = act(ACT_MEMORY_HIGH, "/overcommitd/redis", "max", "1000");
	assert_int_equal(filter1(&d, &a, false, 1000, NULL), 1);
	done(&d, &a, 1000);
	/* the planner lowers it 30 s later: too soon for a cgroup limit */
	struct action b = act(ACT_MEMORY_HIGH, "/overcommitd/redis", "1000", "500");
	assert_int_equal(filter1(&d, &b, false, 31000, NULL), 0);
	assert_int_equal(filter1(&d, &b, false, 1000 + DRIFT_MEMORY_MS, NULL), 1);
	/* but a raise (usage grew) goes at once: invariant 2 cannot wait */
	struct action up = act(ACT_MEMORY_HIGH, "/overcommitd/redis", "1000", "2000");
	assert_int_equal(filter1(&d, &up, false, 31000, NULL), 1);
	struct action upmax = act(ACT_MEMORY_MAX, "/overcommitd/redis", "1000", "max");
	done(&d, &upmax, 1000);
	upmax = act(ACT_MEMORY_MAX, "/overcommitd/redis", "max", "3000");
	assert_int_equal(filter1(&d, &upmax, false, 2000, NULL), 0); /* max -> size lowers */
	/* sysctls: 60 s */
	struct action s = act(ACT_SYSCTL, "vm.overcommit_kbytes", "0", "5");
	done(&d, &s, 0);
	struct action s2 = act(ACT_SYSCTL, "vm.overcommit_kbytes", "5", "6");
	assert_int_equal(filter1(&d, &s2, false, DRIFT_SYSCTL_MS - 1, NULL), 0);
	assert_int_equal(filter1(&d, &s2, false, DRIFT_SYSCTL_MS, NULL), 1);
	drift_free(&d);
}

static void drift_backs_off_by_default(void **state)
{
	(void)state;
	struct drift d = { 0 };
	struct action a = act(ACT_SYSCTL, "vm.overcommit_kbytes", "0", "1600000");
	done(&d, &a, 0);
	/* config management wrote 0 back: the next plan wants 1600000 again */
	struct action again = act(ACT_SYSCTL, "vm.overcommit_kbytes", "0", "1600000");
	int drifts;
	assert_int_equal(filter1(&d, &again, false, 10 * DRIFT_SYSCTL_MS, &drifts), 0);
	assert_int_equal(drifts, 1);
	assert_int_equal(d.backoffs_total, 1);
	/* and it stays backed off: no flapping */
	for (int i = 0; i < 10; i++)
		assert_int_equal(filter1(&d, &again, false, (20 + (uint64_t)i) * DRIFT_SYSCTL_MS, NULL), 0);
	/* a reload forgets */
	drift_reset(&d);
	assert_int_equal(filter1(&d, &again, false, 0, NULL), 1);
	drift_free(&d);
}

static void reapply_is_bounded(void **state)
{
	(void)state;
	struct drift d = { 0 };
	struct action a = act(ACT_CGROUP_ATTACH, "pid 100 (redis-server)", "/", "/overcommitd/redis");
	a.pid = 100;
	a.start_time = 77;
	done(&d, &a, 0);
	uint64_t t = 1000;
	for (int i = 1; i <= DRIFT_MAX_REAPPLY; i++, t += 1000) {
		assert_int_equal(filter1(&d, &a, true, t, NULL), 1); /* someone set 0 again */
		done(&d, &a, t);
	}
	/* one more within the hour: back off */
	assert_int_equal(filter1(&d, &a, true, t, NULL), 0);
	assert_int_equal(d.backoffs_total, 1);
	/* a different process with the same pid is another target */
	struct action b = a;
	b.start_time = 78;
	assert_int_equal(filter1(&d, &b, true, t, NULL), 1);
	drift_free(&d);
}

static int nreports;
static char last_report[700];
static void count_report(const char *text, void *arg)
{
	(void)arg;
	nreports++;
	snprintf(last_report, sizeof(last_report), "%s", text);
}

static struct action oom_act(int pid, const char *cur, const char *want, enum proc_role role)
{
	char target[64];
	snprintf(target, sizeof(target), "pid %d (postgres)", pid);
	struct action a = act(ACT_OOM_SCORE_ADJ, target, cur, want);
	a.pid = pid;
	a.start_time = 1000 + (uint64_t)pid;
	a.service = "postgresql";
	a.role = role;
	return a;
}

static size_t filter_report(struct drift *d, const struct action *a, bool reapply)
{
	struct action one = *a;
	struct plan p = { .act = &one, .nact = 1 };
	drift_filter(d, &p, reapply, 5000, count_report, NULL);
	return p.nact;
}

/* A service that writes its own oom_score_adj over overcommitd's is a
 * conflict: never written back (not even with reapply_on_drift = yes),
 * said once per service and role, and that role is written no more. */
static void own_oom_value_is_a_conflict_once(void **state)
{
	(void)state;
	struct drift d = { 0 };
	nreports = 0;
	for (int pid = 200; pid < 210; pid++) {
		struct action w = oom_act(pid, "-1000", "700", ROLE_CHILD);
		if (pid == 200 || !drift_oom_yielded(&d, "postgresql", ROLE_CHILD))
			done(&d, &w, 0);
		/* the backend wrote 0 itself; the next pass wants 700 again */
		struct action again = oom_act(pid, "0", "700", ROLE_CHILD);
		assert_int_equal(filter_report(&d, &again, true), 0);
		assert_int_equal(filter_report(&d, &again, true), 0);
	}
	assert_int_equal(nreports, 1);
	assert_non_null(strstr(last_report, "conflict: postgresql sets its own oom_score_adj"));
	assert_non_null(strstr(last_report, "children of the main"));
	assert_true(drift_oom_yielded(&d, "postgresql", ROLE_CHILD));
	assert_false(drift_oom_yielded(&d, "postgresql", ROLE_MAIN));
	/* a new child is not written at all: its action is dropped */
	struct action fresh = oom_act(300, "-1000", "700", ROLE_CHILD);
	assert_int_equal(filter_report(&d, &fresh, true), 0);
	/* the main is still managed */
	struct action main = oom_act(100, "-900", "-1000", ROLE_MAIN);
	assert_int_equal(filter_report(&d, &main, true), 1);
	assert_int_equal(nreports, 1);
	/* the event path: the first conflict of another role says so once */
	assert_true(drift_oom_conflict(&d, "redis", ROLE_CHILD));
	assert_false(drift_oom_conflict(&d, "redis", ROLE_CHILD));
	/* a reload forgets */
	drift_reset(&d);
	assert_int_equal(filter_report(&d, &fresh, true), 1);
	drift_free(&d);
}

static void unchanged_and_failed_results(void **state)
{
	(void)state;
	struct drift d = { 0 };
	struct action a = act(ACT_MEMORY_MAX, "/g", "max", "5000");
	struct apply_result failed = { .status = AP_FAILED };
	drift_record(&d, &a, &failed, 0);
	assert_int_equal(d.n, 0); /* nothing written: nothing to defend */
	struct apply_result same = { .status = AP_UNCHANGED };
	drift_record(&d, &a, &same, 0);
	assert_int_equal(d.n, 1);
	/* found in place, not written: no rate limit on the next change */
	struct action b = act(ACT_MEMORY_MAX, "/g", "5000", "6000");
	assert_int_equal(filter1(&d, &b, false, 1, NULL), 1);
	drift_free(&d);
}

static void recommendations_logged_once(void **state)
{
	(void)state;
	struct drift d = { 0 };
	struct action a = act(ACT_SYSCTL, "vm.overcommit_kbytes", "0", "5");
	assert_true(drift_note_recommended(&d, &a));
	assert_false(drift_note_recommended(&d, &a));
	struct action b = act(ACT_SYSCTL, "vm.overcommit_kbytes", "0", "6");
	assert_true(drift_note_recommended(&d, &b));
	drift_free(&d);
}


static bool alive_if_even(int pid, uint64_t start, const void *arg)
{
	(void)start;
	(void)arg;
	return pid % 2 == 0;
}

/* issue 13 item 4: the table is bounded and processes leave it (1.7 KB per
 * process ever written stayed until SIGHUP: 35 MB at 20k) */
static void bounded_and_processes_leave(void **state)
{
	(void)state;
	struct drift d = { 0 };
	struct action s = act(ACT_SYSCTL, "vm.overcommit_kbytes", "0", "5");
	done(&d, &s, 1);
	for (int pid = 1; pid <= 3 * DRIFT_MAX_MANAGED; pid++) {
		struct action a = act(ACT_OOM_SCORE_ADJ, "pid", "0", "-500");
		a.pid = pid;
		a.start_time = 7;
		done(&d, &a, (uint64_t)pid + 1);
	}
	assert_true(d.n <= DRIFT_MAX_MANAGED);
	/* the host target was never evicted; the newest process is there */
	int hosts = 0, newest = 0;
	for (size_t i = 0; i < d.n; i++) {
		hosts += d.m[i].pid == 0;
		newest += d.m[i].pid == 3 * DRIFT_MAX_MANAGED;
	}
	assert_int_equal(hosts, 1);
	assert_int_equal(newest, 1);
	/* an exit removes its targets; a prune removes processes gone unseen */
	drift_forget_pid(&d, 3 * DRIFT_MAX_MANAGED);
	for (size_t i = 0; i < d.n; i++)
		assert_int_not_equal(d.m[i].pid, 3 * DRIFT_MAX_MANAGED);
	size_t before = d.n;
	size_t dropped = drift_prune(&d, alive_if_even, NULL);
	assert_true(dropped > 0);
	assert_int_equal(d.n, before - dropped);
	for (size_t i = 0; i < d.n; i++)
		assert_true(d.m[i].pid % 2 == 0);
	drift_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(first_write_then_rate_limited),
		cmocka_unit_test(drift_backs_off_by_default),
		cmocka_unit_test(reapply_is_bounded),
		cmocka_unit_test(own_oom_value_is_a_conflict_once),
		cmocka_unit_test(unchanged_and_failed_results),
		cmocka_unit_test(recommendations_logged_once),
		cmocka_unit_test(bounded_and_processes_leave),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
