/* test_sdscope.c - the fork child's transient scope: scope names, slices and
 * cgroup paths (tables); the asynchronous StartTransientUnit against a
 * fake PID 1 (a server thread speaking
 * D-Bus on a unix socket named by DBUS_SYSTEM_BUS_ADDRESS), driven the way
 * the daemon's poll loop drives it: what the call carries, errors, a peer
 * that never answers (the call's own timeout), a dropped connection. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>

#include "sdscope.h"
#include "util.h"

static void name_table(void **state)
{
	(void)state;
	static const struct {
		const char *unit;
		int pid, rc;
		const char *name;
	} t[] = {
		{ "redis-server.service", 1234, 0, "overcommitd-fork-redis-server-1234.scope" },
		{ "postgresql@15-main.service", 7, 0, "overcommitd-fork-postgresql@15-main-7.scope" },
		{ "docker-4f1c.scope", 99, 0, "overcommitd-fork-docker-4f1c-99.scope" },
		{ "redis.socket", 1, -EINVAL, "" },
		{ ".service", 1, -EINVAL, "" },     /* no stem */
		{ "a/b.service", 1, -EINVAL, "" },
		{ "redis.service", 0, -EINVAL, "" },
		{ "", 1, -EINVAL, "" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		char out[256] = "";
		int rc = sdscope_name(t[i].unit, t[i].pid, out, sizeof(out));
		if (rc != t[i].rc)
			fail_msg("case %zu (%s): rc %d, want %d", i, t[i].unit, rc, t[i].rc);
		if (rc == 0)
			assert_string_equal(out, t[i].name);
	}
	char small[20];
	assert_int_equal(sdscope_name("redis-server.service", 1, small, sizeof(small)), -ENAMETOOLONG);
	char big[400], unit[300];
	memset(unit, 'a', 250);
	strcpy(unit + 250, ".service"); /* fits the buffer, not systemd's 255 */
	assert_int_equal(sdscope_name(unit, 1, big, sizeof(big)), -ENAMETOOLONG);
}

static void slice_and_cgroup_table(void **state)
{
	(void)state;
	static const struct {
		const char *cg;
		int rc;
		const char *slice, *scope_cg;
	} t[] = {
		{ "/system.slice/redis-server.service", 0, "system.slice",
		  "/system.slice/S.scope" },
		{ "/system.slice/system-postgresql.slice/postgresql@15-main.service", 0,
		  "system-postgresql.slice", "/system.slice/system-postgresql.slice/S.scope" },
		{ "/redis.service", 0, "-.slice", "/S.scope" },
		{ "/system.slice/redis-server.service/", 0, "system.slice", "/system.slice/S.scope" },
		{ "/docker/abc/redis.service", -ENOENT, "", "/docker/abc/S.scope" },
		{ "relative.service", -ENOENT, "", NULL },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		char slice[64] = "", cg[128] = "";
		int rc = sdscope_slice(t[i].cg, slice, sizeof(slice));
		if (rc != t[i].rc)
			fail_msg("case %zu (%s): rc %d, want %d", i, t[i].cg, rc, t[i].rc);
		if (rc == 0)
			assert_string_equal(slice, t[i].slice);
		rc = sdscope_cgroup(t[i].cg, "S.scope", cg, sizeof(cg));
		if (t[i].scope_cg) {
			assert_int_equal(rc, 0);
			assert_string_equal(cg, t[i].scope_cg);
		} else {
			assert_int_equal(rc, -EINVAL);
		}
	}
	char tiny[8];
	assert_int_equal(sdscope_slice("/system.slice/x.service", tiny, sizeof(tiny)), -ENAMETOOLONG);
	assert_int_equal(sdscope_cgroup("/system.slice/x.service", "S.scope", tiny, sizeof(tiny)),
			 -ENAMETOOLONG);
}

/* ---- a fake PID 1 ---- */

struct fake {
	int listen_fd;
	atomic_bool stop;
	pthread_t thread;
	atomic_int calls;
	char member[64], name[128], mode[16], slice[64], collect[64];
	uint32_t pid;
	uint64_t high;
	int mem_acct, nprops, naux;
};
static struct fake fake;

/* One (sv) of StartTransientUnit's properties into fake. */
static int fake_prop(sd_bus_message *m, const char *prop)
{
	if (strcmp(prop, "PIDs") == 0) {
		int r = sd_bus_message_enter_container(m, 'v', "au");
		if (r >= 0)
			r = sd_bus_message_read(m, "au", 1, &fake.pid);
		return r < 0 ? r : sd_bus_message_exit_container(m);
	}
	if (strcmp(prop, "MemoryHigh") == 0)
		return sd_bus_message_read(m, "v", "t", &fake.high);
	if (strcmp(prop, "MemoryAccounting") == 0)
		return sd_bus_message_read(m, "v", "b", &fake.mem_acct);
	const char *s = NULL;
	int r = sd_bus_message_read(m, "v", "s", &s);
	if (r >= 0 && strcmp(prop, "Slice") == 0)
		snprintf(fake.slice, sizeof(fake.slice), "%s", s);
	if (r >= 0 && strcmp(prop, "CollectMode") == 0)
		snprintf(fake.collect, sizeof(fake.collect), "%s", s);
	return r;
}

static int fake_start_unit(sd_bus_message *m)
{
	const char *name, *mode, *prop;
	int r = sd_bus_message_read(m, "ss", &name, &mode);
	if (r < 0)
		return r;
	snprintf(fake.name, sizeof(fake.name), "%s", name);
	snprintf(fake.mode, sizeof(fake.mode), "%s", mode);
	fake.nprops = 0;
	if ((r = sd_bus_message_enter_container(m, 'a', "(sv)")) < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'r', "sv")) > 0) {
		if ((r = sd_bus_message_read(m, "s", &prop)) < 0 || (r = fake_prop(m, prop)) < 0 ||
		    (r = sd_bus_message_exit_container(m)) < 0)
			return r;
		fake.nprops++;
	}
	if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
		return r;
	if ((r = sd_bus_message_enter_container(m, 'a', "(sa(sv))")) < 0)
		return r;
	fake.naux = 0;
	while ((r = sd_bus_message_skip(m, "(sa(sv))")) > 0)
		fake.naux++;
	return r < 0 ? r : sd_bus_message_exit_container(m);
}

static int fake_filter(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	(void)userdata;
	(void)ret_error;
	if (sd_bus_message_is_method_call(m, "org.freedesktop.DBus", "Hello"))
		return sd_bus_reply_method_return(m, "s", ":1.42");
	const char *member = sd_bus_message_get_member(m);
	if (!member)
		return 0;
	snprintf(fake.member, sizeof(fake.member), "%s", member);
	int r;
	if (strcmp(member, "StartTransientUnit") == 0) {
		r = fake_start_unit(m);
	} else {
		return 0;
	}
	atomic_fetch_add(&fake.calls, 1);
	if (r < 0)
		return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS, "bad arguments");
	if (strstr(fake.name, "-666.scope") || fake.pid == 666)
		return sd_bus_reply_method_errorf(m, "org.freedesktop.systemd1.UnitExists",
						  "Unit %s already exists.", fake.name);
	if (fake.pid == 777)
		return 1; /* never answered */
	if (fake.pid == 888)
		return -ECONNRESET; /* the connection dropped unanswered */
	return sd_bus_reply_method_return(m, "o", "/org/freedesktop/systemd1/job/42");
}

static void fake_serve(int fd)
{
	sd_bus *b = NULL;
	sd_id128_t id;
	if (sd_id128_randomize(&id) < 0 || sd_bus_new(&b) < 0 || sd_bus_set_fd(b, fd, fd) < 0 ||
	    sd_bus_set_server(b, 1, id) < 0 || sd_bus_add_filter(b, NULL, fake_filter, NULL) < 0 ||
	    sd_bus_start(b) < 0) {
		close(fd);
		sd_bus_unref(b);
		return;
	}
	while (!atomic_load(&fake.stop)) {
		int r = sd_bus_process(b, NULL);
		if (r < 0 || !sd_bus_is_open(b))
			break;
		if (r == 0 && sd_bus_wait(b, 100 * 1000) < 0)
			break;
	}
	sd_bus_close_unref(b);
}

static void *fake_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&fake.stop)) {
		struct pollfd p = { .fd = fake.listen_fd, .events = POLLIN };
		if (poll(&p, 1, 50) <= 0)
			continue;
		int fd = accept4(fake.listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			fake_serve(fd);
	}
	return NULL;
}

static char fake_dir[] = "/tmp/oc-sdscope-XXXXXX";

static int fake_up(void **state)
{
	(void)state;
	if (!mkdtemp(fake_dir))
		return -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/bus", fake_dir);
	fake.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fake.listen_fd < 0 || bind(fake.listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fake.listen_fd, 4) < 0)
		return -1;
	char addr[160];
	snprintf(addr, sizeof(addr), "unix:path=%s", sa.sun_path);
	if (setenv("DBUS_SYSTEM_BUS_ADDRESS", addr, 1) < 0)
		return -1;
	atomic_init(&fake.stop, false);
	return pthread_create(&fake.thread, NULL, fake_main, NULL) == 0 ? 0 : -1;
}

static int fake_down(void **state)
{
	(void)state;
	atomic_store(&fake.stop, true);
	pthread_join(fake.thread, NULL);
	close(fake.listen_fd);
	char p[64];
	snprintf(p, sizeof(p), "%s/bus", fake_dir);
	unlink(p);
	rmdir(fake_dir);
	unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
	return 0;
}

/* ---- the daemon's side, in small ---- */

struct answer {
	int n, rc;
	char err[256];
};

static void on_done(void *arg, int rc, const char *err)
{
	struct answer *a = arg;
	a->n++;
	a->rc = rc;
	snprintf(a->err, sizeof(a->err), "%s", err);
}

/* Poll the bus as the daemon's loop does until a answered or limit_ms;
 * returns the ms it took. */
static long pump(struct sdscope_bus *b, struct answer *a, long limit_ms)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long ms = 0;
	while (a->n == 0 && ms < limit_ms) {
		struct pollfd p = { .fd = sdscope_fd(b), .events = sdscope_events(b) };
		int to = sdscope_timeout_ms(b);
		assert_true(poll(&p, 1, to < 0 || to > 200 ? 200 : to) >= 0);
		if (sdscope_process(b) < 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	}
	return ms;
}

static void start_scope(void **state)
{
	(void)state;
	struct sdscope_bus *b = NULL;
	assert_int_equal(sdscope_open(&b), 0);
	struct answer a = { 0 };
	struct sdscope_req q = { .scope = "overcommitd-fork-redis-server-1234.scope",
				 .slice = "system.slice", .description = "d", .pid = 1234,
				 .memory_high = 13 << 20 };
	assert_int_equal(sdscope_start(b, &q, on_done, &a), 0);
	assert_int_equal(a.n, 0); /* asynchronous: nothing waited for */
	pump(b, &a, 3000);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.rc, 0);
	assert_string_equal(a.err, "");
	assert_string_equal(fake.member, "StartTransientUnit");
	assert_string_equal(fake.name, q.scope);
	assert_string_equal(fake.mode, "fail");
	assert_int_equal(fake.pid, 1234);
	assert_int_equal(fake.high, 13 << 20);
	assert_int_equal(fake.mem_acct, 1);
	assert_string_equal(fake.slice, "system.slice");
	assert_string_equal(fake.collect, "inactive-or-failed");
	assert_int_equal(fake.nprops, 6); /* and no MemoryMax among them */
	assert_int_equal(fake.naux, 0);

	/* systemd refuses: its error, once */
	struct answer e = { 0 };
	q.scope = "overcommitd-fork-redis-server-666.scope";
	q.pid = 666;
	assert_int_equal(sdscope_start(b, &q, on_done, &e), 0);
	pump(b, &e, 3000);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.rc, -EEXIST);
	assert_string_equal(e.err, "org.freedesktop.systemd1.UnitExists: Unit "
				   "overcommitd-fork-redis-server-666.scope already exists.");
	assert_int_equal(sdscope_start(b, &(struct sdscope_req){ .scope = "x" }, on_done, &e),
			 -EINVAL);
	sdscope_close(b);
	assert_int_equal(e.n, 1);
}

static void silent_and_dropped(void **state)
{
	(void)state;
	struct sdscope_bus *b = NULL;
	assert_int_equal(sdscope_open(&b), 0);
	struct sdscope_req q = { .scope = "overcommitd-fork-x-777.scope", .slice = "system.slice",
				 .pid = 777, .memory_high = 1 << 20 };
	/* never answered: the call's own timeout ends it */
	struct answer a = { 0 };
	assert_int_equal(sdscope_start(b, &q, on_done, &a), 0);
	long ms = pump(b, &a, 8000);
	print_message("silent PID 1: rc %d after %ld ms: %s\n", a.rc, ms, a.err);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.rc, -ETIMEDOUT);
	assert_true(ms >= 4900 && ms < 7000);
	/* closed with a call in flight: answered once, by the close */
	struct answer c = { 0 };
	assert_int_equal(sdscope_start(b, &q, on_done, &c), 0);
	sdscope_close(b);
	assert_int_equal(c.n, 1);
	assert_true(c.rc < 0);
	/* the connection drops: answered with an error, the bus reports it */
	assert_int_equal(sdscope_open(&b), 0);
	struct answer d = { 0 };
	q.pid = 888;
	assert_int_equal(sdscope_start(b, &q, on_done, &d), 0);
	pump(b, &d, 3000);
	assert_int_equal(d.n, 1);
	assert_true(d.rc < 0);
	sdscope_close(b);
	assert_int_equal(d.n, 1);
}

static void no_bus(void **state)
{
	(void)state;
	assert_int_equal(setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/oc-bus", 1), 0);
	struct sdscope_bus *b = NULL;
	assert_true(sdscope_open(&b) < 0);
	assert_int_equal(unsetenv("DBUS_SYSTEM_BUS_ADDRESS"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(name_table),
		cmocka_unit_test(slice_and_cgroup_table),
		cmocka_unit_test(no_bus),
	};
	const struct CMUnitTest fake_tests[] = {
		cmocka_unit_test(start_scope),
		cmocka_unit_test(silent_and_dropped),
	};
	int fails = cmocka_run_group_tests(tests, NULL, NULL);
	return fails + cmocka_run_group_tests_name("fake_pid1", fake_tests, fake_up, fake_down);
}
