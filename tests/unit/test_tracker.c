/* test_tracker.c - the daemon's process tracking fed with synthetic event
 * sequences: normal life, threads, out-of-order and late events, pid reuse,
 * lost events repaired by a resync. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracker.h"

static struct policy pol;
static struct pol_service svcs[2];
static char n_redis[] = "redis", m_redis[] = "redis-server", n_pg[] = "pg", m_pg[] = "postgres";

static int setup(void **state)
{
	(void)state;
	memset(&pol, 0, sizeof(pol));
	memset(svcs, 0, sizeof(svcs));
	svcs[0].name = n_redis;
	svcs[0].match_comm.v = m_redis;
	svcs[1].name = n_pg;
	svcs[1].match_comm.v = m_pg;
	pol.svc = svcs;
	pol.nsvc = 2;
	return 0;
}

static struct proc_info proc(int pid, int ppid, const char *comm, uint64_t start)
{
	struct proc_info p;
	memset(&p, 0, sizeof(p));
	p.pid = pid;
	p.st.ppid = ppid;
	p.st.start_time = start;
	snprintf(p.st.comm, sizeof(p.st.comm), "%s", comm);
	p.status.tgid = pid;
	return p;
}

static void exec_main_fork_child_exit(void **state)
{
	(void)state;
	struct tracker t;
	struct tr_out o;
	assert_int_equal(tracker_init(&t, 2), 0);
	struct proc_info shell = proc(50, 1, "bash", 10);
	assert_int_equal(tracker_exec(&t, &pol, 1000, &shell, 100, &o), 0);
	assert_false(o.added);
	/* bash forks 60, 60 execs redis-server: main */
	tracker_fork(&t, 50, 60, 60, 200, &o);
	assert_false(o.added); /* parent untracked */
	struct proc_info r = proc(60, 50, "redis-server", 20);
	assert_int_equal(tracker_exec(&t, &pol, 1000, &r, 300, &o), 0);
	assert_true(o.added);
	assert_int_equal(o.svc, 0);
	assert_int_equal(o.role, ROLE_MAIN);
	/* a thread of redis: ignored */
	tracker_fork(&t, 60, 61, 60, 350, &o);
	assert_false(o.added);
	assert_null(tracker_find(&t, 61));
	/* BGSAVE: fork of main -> child + episode */
	tracker_fork(&t, 60, 70, 70, 400, &o);
	assert_true(o.added);
	assert_int_equal(o.role, ROLE_CHILD);
	assert_true(o.episode_start);
	/* thread exit: ignored */
	tracker_exit(&t, 62, 60, 460, &o);
	assert_false(o.removed);
	tracker_exit(&t, 70, 70, 500, &o);
	assert_true(o.removed);
	assert_true(o.episode_end);
	assert_int_equal(o.pid, 70);
	/* a second fork during an episode: a worker pool, the episode is
	 * cancelled (nothing to learn, no child to judge) */
	tracker_fork(&t, 60, 70, 70, 510, &o);
	assert_true(o.episode_start);
	tracker_fork(&t, 60, 71, 71, 520, &o);
	assert_int_equal(o.role, ROLE_CHILD);
	assert_false(o.episode_start);
	assert_true(o.episode_cancel);
	assert_false(t.svc[0].ep_active);
	tracker_exit(&t, 71, 71, 530, &o);
	assert_true(o.removed);
	assert_false(o.episode_end);
	tracker_exit(&t, 70, 70, 540, &o);
	assert_false(o.episode_end);
	/* the next fork starts a new episode */
	tracker_fork(&t, 60, 72, 72, 600, &o);
	assert_true(o.episode_start);
	tracker_exit(&t, 60, 60, 700, &o);
	assert_true(o.main_gone);
	assert_true(o.orphans); /* 72 is still tracked, its parent gone */
	tracker_free(&t);
}

/* the EXIT of a pid's previous owner arrives after the new owner's FORK */
static void late_exit_of_reused_pid_is_ignored(void **state)
{
	(void)state;
	struct tracker t;
	struct tr_out o;
	tracker_init(&t, 2);
	struct proc_info r = proc(60, 1, "redis-server", 20);
	tracker_exec(&t, &pol, 1000, &r, 100, &o);
	tracker_fork(&t, 60, 80, 80, 1000, &o); /* new child 80 at t=1000 */
	assert_true(o.added);
	tracker_exit(&t, 80, 80, 900, &o);      /* an older 80 exited at t=900 */
	assert_false(o.removed);
	assert_non_null(tracker_find(&t, 80));
	tracker_exit(&t, 80, 80, 1100, &o);
	assert_true(o.removed);
	tracker_free(&t);
}

/* an untracked parent forks a pid we still hold (its exit was lost): the
 * stale entry goes */
static void reused_pid_from_untracked_parent_drops_stale(void **state)
{
	(void)state;
	struct tracker t;
	struct tr_out o;
	tracker_init(&t, 2);
	struct proc_info r = proc(60, 1, "redis-server", 20);
	tracker_exec(&t, &pol, 1000, &r, 100, &o);
	tracker_fork(&t, 60, 80, 80, 200, &o);
	tracker_fork(&t, 999, 80, 80, 300, &o); /* 80 reused by someone else */
	assert_false(o.added);
	assert_null(tracker_find(&t, 80));
	assert_false(t.svc[0].ep_active);
	tracker_free(&t);
}

/* exec of something else: a main leaves, a child of main stays a child */
static void exec_changes_membership(void **state)
{
	(void)state;
	struct tracker t;
	struct tr_out o;
	tracker_init(&t, 2);
	struct proc_info r = proc(60, 1, "redis-server", 20);
	tracker_exec(&t, &pol, 1000, &r, 100, &o);
	tracker_fork(&t, 60, 70, 70, 200, &o);
	struct proc_info sh = proc(70, 60, "sh", 30);
	tracker_exec(&t, &pol, 1000, &sh, 300, &o);
	assert_false(o.removed);
	assert_int_equal(tracker_find(&t, 70)->role, ROLE_CHILD);
	struct proc_info other = proc(60, 1, "python3", 20);
	tracker_exec(&t, &pol, 1000, &other, 400, &o);
	assert_true(o.removed);
	assert_true(o.main_gone);
	tracker_free(&t);
}

/* two instances, each its own main; a postgres backend is a child of its
 * main, the backend's own child a member */
static void second_instance_and_prefork(void **state)
{
	(void)state;
	struct tracker t;
	struct tr_out o;
	tracker_init(&t, 2);
	struct proc_info a = proc(60, 1, "redis-server", 20);
	struct proc_info b = proc(90, 1, "redis-server", 25);
	tracker_exec(&t, &pol, 1000, &a, 100, &o);
	tracker_exec(&t, &pol, 1000, &b, 110, &o);
	assert_int_equal(o.role, ROLE_MAIN);
	assert_int_equal(o.inst, 90);
	assert_int_equal(tracker_find(&t, 60)->role, ROLE_MAIN);
	assert_true(tracker_other_main(&t, 0, 90)); /* 60 runs beside it */
	assert_false(tracker_other_main(&t, 1, 90));
	/* each instance's fork is a child of its own main */
	tracker_fork(&t, 90, 95, 95, 115, &o);
	assert_int_equal(o.role, ROLE_CHILD);
	assert_int_equal(o.inst, 90);
	assert_true(o.episode_start);
	assert_int_equal(t.svc[0].ep_inst, 90);
	tracker_exit(&t, 95, 95, 116, &o);
	struct proc_info pm = proc(300, 1, "postgres", 40);
	tracker_exec(&t, &pol, 1000, &pm, 120, &o);
	assert_int_equal(o.svc, 1);
	assert_int_equal(o.role, ROLE_MAIN);
	tracker_fork(&t, 300, 301, 301, 130, &o); /* backend: child of main */
	assert_int_equal(o.role, ROLE_CHILD);
	assert_true(o.episode_start); /* the first child: it may be a snapshot */
	tracker_fork(&t, 301, 302, 302, 140, &o); /* grandchild: member */
	assert_int_equal(o.role, ROLE_MEMBER);
	assert_false(o.episode_start);
	assert_false(o.episode_cancel);
	tracker_fork(&t, 300, 303, 303, 150, &o); /* a second backend: workers */
	assert_true(o.episode_cancel);
	tracker_exit(&t, 303, 303, 160, &o);
	tracker_fork(&t, 300, 304, 304, 170, &o); /* 301 lives: never an episode */
	assert_int_equal(o.role, ROLE_CHILD);
	assert_false(o.episode_start);
	assert_false(o.episode_cancel);
	assert_false(t.svc[1].ep_active);
	int pids[8];
	size_t n = tracker_pids(&t, pids, 8);
	assert_int_equal(n, 6);
	for (size_t i = 1; i < n; i++)
		assert_true(pids[i - 1] < pids[i]);
	tracker_free(&t);
}

/* events lost: a resync from a snapshot restores the truth and keeps an
 * episode whose child still runs */
static void resync_from_snapshot(void **state)
{
	(void)state;
	struct tracker t;
	struct tr_out o;
	tracker_init(&t, 2);
	struct proc_info r = proc(60, 1, "redis-server", 20);
	tracker_exec(&t, &pol, 1000, &r, 100, &o);
	tracker_fork(&t, 60, 70, 70, 200, &o);
	assert_true(t.svc[0].ep_active);
	tracker_set_oom_time(&t, 60, 150); /* overcommitd wrote the main's value */
	/* lost: 60 exited, a new redis 65 started with child 70 gone; but say
	 * the episode child 70 is still there under the old main */
	struct proc_info procs[3] = { proc(60, 1, "redis-server", 20), proc(70, 60, "redis-rdb-bgsave", 30),
				      proc(75, 60, "redis-rdb-bgsave", 35) };
	struct svc_obs obs[2];
	memset(obs, 0, sizeof(obs));
	obs[0].procs = procs;
	obs[0].nprocs = 3;
	obs[0].nmatched = 1;
	assert_int_equal(svc_obs_index(&obs[0]), 0);
	obs[1].main_idx = -1;
	struct snapshot s = { .svc = obs, .nsvc = 2 };
	assert_int_equal(tracker_load(&t, &s), 0);
	assert_true(t.svc[0].ep_active);
	assert_int_equal(tracker_find(&t, 75)->role, ROLE_CHILD);
	assert_int_equal(tracker_find(&t, 60)->role, ROLE_MAIN);
	/* the write time survives the rebuild (same pid, same start time) */
	assert_int_equal(tracker_find(&t, 60)->oom_set_ns, 150);
	assert_int_equal(tracker_find(&t, 75)->oom_set_ns, 0);
	/* now the child is gone in the next snapshot: the episode is dropped */
	obs[0].nprocs = 1;
	assert_int_equal(svc_obs_index(&obs[0]), 0);
	assert_int_equal(tracker_load(&t, &s), 0);
	assert_false(t.svc[0].ep_active);
	assert_null(tracker_find(&t, 70));
	svc_obs_index_free(&obs[0]);
	tracker_free(&t);
}

/* redis --daemonize yes: 60 (main) forks 61 and exits; 61 matches, so it
 * is promoted to main at 60's exit, its episode cancelled (a daemonizing
 * fork, not a BGSAVE), and its own fork 62 made before the promotion
 * becomes its child */
static void daemonizing_server_promoted(void **state)
{
	(void)state;
	struct tracker t;
	struct tr_out o;
	tracker_init(&t, 2);
	struct proc_info a = proc(60, 50, "redis-server", 20);
	tracker_exec(&t, &pol, 1000, &a, 100, &o);
	tracker_fork(&t, 60, 61, 61, 110, &o);
	assert_int_equal(o.role, ROLE_CHILD);
	assert_true(o.episode_start);
	tracker_fork(&t, 61, 62, 62, 115, &o);
	assert_int_equal(o.role, ROLE_MEMBER);
	tracker_exit(&t, 60, 60, 120, &o);
	assert_true(o.main_gone);
	assert_true(o.orphans);
	int orph[4];
	assert_int_equal(tracker_orphans(&t, 60, orph, 4), 1);
	assert_int_equal(orph[0], 61);
	struct proc_info b = proc(61, 1, "redis-server", 21);
	int re[4];
	size_t nre = 0;
	assert_int_equal(tracker_promote(&t, &b, re, 4, &nre, &o), 0);
	assert_int_equal(o.role, ROLE_MAIN);
	assert_true(o.episode_cancel);
	assert_false(t.svc[0].ep_active);
	assert_int_equal(nre, 1);
	assert_int_equal(re[0], 62);
	assert_int_equal(tracker_find(&t, 62)->role, ROLE_CHILD);
	assert_int_equal(tracker_find(&t, 62)->inst, 61);
	/* with 62 gone, the next fork of the promoted main is a real episode
	 * (while 62 lived it would be a second worker's) */
	tracker_fork(&t, 61, 64, 64, 125, &o);
	assert_false(o.episode_start);
	tracker_exit(&t, 64, 64, 126, &o);
	tracker_exit(&t, 62, 62, 127, &o);
	tracker_fork(&t, 61, 63, 63, 130, &o);
	assert_true(o.episode_start);
	assert_int_equal(t.svc[0].ep_inst, 61);
	/* a start time that differs is another process: refused */
	b.st.start_time = 99;
	assert_int_equal(tracker_promote(&t, &b, re, 4, &nre, &o), -ESRCH);
	tracker_free(&t);
}

/* issue 13: a login user's process named like the service never joins it,
 * before or after the real one, and never becomes main */
static void login_user_never_joins(void **state)
{
	(void)state;
	struct tracker t;
	struct tr_out o;
	tracker_init(&t, 2);
	struct proc_info fake = proc(40, 30, "redis-server", 5);
	fake.status.uid = fake.status.euid = 1000;
	tracker_exec(&t, &pol, 1000, &fake, 100, &o);
	assert_false(o.added);
	assert_null(tracker_find(&t, 40));
	struct proc_info real = proc(60, 1, "redis-server", 20);
	real.status.uid = real.status.euid = 999;
	tracker_exec(&t, &pol, 1000, &real, 110, &o);
	assert_true(o.added);
	assert_int_equal(o.role, ROLE_MAIN);
	/* setuid-root binary run by a login user: euid 0, real uid 1000 */
	struct proc_info suid = proc(45, 30, "redis-server", 25);
	suid.status.uid = 1000;
	tracker_exec(&t, &pol, 1000, &suid, 120, &o);
	assert_false(o.added);
	/* a site with UID_MIN 500: uid 999 is a login user there */
	struct proc_info other = proc(70, 1, "redis-server", 30);
	other.status.uid = other.status.euid = 999;
	tracker_exec(&t, &pol, 500, &other, 130, &o);
	assert_false(o.added);
	tracker_free(&t);
}

/* many processes: the sorted array stays sorted through inserts/removals */
static void many_processes(void **state)
{
	(void)state;
	struct tracker t;
	struct tr_out o;
	tracker_init(&t, 2);
	struct proc_info r = proc(5000, 1, "redis-server", 20);
	tracker_exec(&t, &pol, 1000, &r, 1, &o);
	for (int i = 0; i < 3000; i++) {
		int pid = (i * 7919) % 30000 + 6000;
		tracker_fork(&t, 5000, pid, pid, 10 + (uint64_t)i, &o);
	}
	for (int i = 0; i < 3000; i += 2) {
		int pid = (i * 7919) % 30000 + 6000;
		tracker_exit(&t, pid, pid, 100000, &o);
	}
	int *pids = calloc(4000, sizeof(int));
	size_t n = tracker_pids(&t, pids, 4000);
	assert_int_equal(n, 1 + 1500);
	for (size_t i = 1; i < n; i++)
		assert_true(pids[i - 1] < pids[i]);
	free(pids);
	tracker_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(exec_main_fork_child_exit, setup),
		cmocka_unit_test_setup(late_exit_of_reused_pid_is_ignored, setup),
		cmocka_unit_test_setup(reused_pid_from_untracked_parent_drops_stale, setup),
		cmocka_unit_test_setup(exec_changes_membership, setup),
		cmocka_unit_test_setup(second_instance_and_prefork, setup),
		cmocka_unit_test_setup(daemonizing_server_promoted, setup),
		cmocka_unit_test_setup(login_user_never_joins, setup),
		cmocka_unit_test_setup(resync_from_snapshot, setup),
		cmocka_unit_test_setup(many_processes, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
