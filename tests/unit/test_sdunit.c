/* test_sdunit.c - cgroup path -> unit name table (systemd layouts, escaping,
 * delegated subtrees, hostile paths); sd_booted agreement; errors without a
 * reachable bus; and the whole D-Bus path against a fake PID 1: a server
 * thread speaking D-Bus (sd-bus in server mode) on a unix socket named by
 * DBUS_SYSTEM_BUS_ADDRESS, which records the SetUnitProperties arguments and
 * answers like systemd (success, NoSuchUnit, or a dropped connection). */
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

#include "sdunit.h"
#include "util.h"

static void unit_table(void **state)
{
	(void)state;
	static const struct {
		const char *path;
		int rc;
		const char *unit;
	} t[] = {
		{ "/system.slice/redis-server.service", 0, "redis-server.service" },
		{ "/system.slice/system-postgresql.slice/postgresql@15-main.service", 0, "postgresql@15-main.service" },
		{ "/system.slice/docker-4f1c2a.scope", 0, "docker-4f1c2a.scope" },
		{ "/user.slice/user-1000.slice/session-3.scope", 0, "session-3.scope" },
		{ "/init.scope", 0, "init.scope" },
		{ "system.slice/cron.service", 0, "cron.service" },            /* no leading slash */
		{ "//system.slice//cron.service", 0, "cron.service" },
		{ "/system.slice/_cpu.service", 0, "cpu.service" },             /* cg_escape()d name */
		{ "/system.slice/__x.service", 0, "_x.service" },
		/* not a unit's own cgroup */
		{ "/", -ENOENT, NULL },
		{ "", -ENOENT, NULL },
		{ "/system.slice", -ENOENT, NULL },
		{ "/overcommitd/redis", -ENOENT, NULL },
		{ "/system.slice/redis.service/", 0, "redis.service" },        /* trailing slash */
		{ "/system.slice/foo.service/payload", -ENOENT, NULL },         /* Delegate=yes subtree */
		{ "/user.slice/user-1000.slice/user@1000.service/app.slice/x.service", -ENOENT, NULL },
		{ "/system.slice/.service", -ENOENT, NULL },
		{ "/system.slice/_.scope", -ENOENT, NULL },
		{ "/system.slice/x.services", -ENOENT, NULL },
		{ "/system.slice/x.service.d", -ENOENT, NULL },
		{ "/system.slice/x.Service", -ENOENT, NULL },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		char unit[64] = "junk";
		int rc = sdunit_unit_from_cgroup(t[i].path, unit, sizeof(unit));
		if (rc != t[i].rc)
			fail_msg("case %zu (%s): rc %d, want %d", i, t[i].path, rc, t[i].rc);
		if (rc == 0)
			assert_string_equal(unit, t[i].unit);
	}
	char small[12];
	assert_int_equal(sdunit_unit_from_cgroup("/a/redis-server.service", small, sizeof(small)), -ENAMETOOLONG);
	assert_int_equal(sdunit_unit_from_cgroup("/a/abc.service", small, sizeof(small)), 0);
	assert_string_equal(small, "abc.service");
	assert_int_equal(sdunit_unit_from_cgroup("/a/abcd.service", small, sizeof(small)), -ENAMETOOLONG);
	assert_int_equal(sdunit_unit_from_cgroup(NULL, small, sizeof(small)), -EINVAL);
	assert_int_equal(sdunit_unit_from_cgroup("/a.service", small, 0), -EINVAL);
}

static void systemd_detection(void **state)
{
	(void)state;
	/* sd_booted(): /run/systemd/system is a directory */
	assert_int_equal(sdunit_systemd_running(), access("/run/systemd/system/", F_OK) == 0);
}

static void bad_arguments(void **state)
{
	(void)state;
	char err[128];
	static const char *const units[] = { NULL, "", "a/b.service", "a b.service", "x\n.service" };
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		err[0] = 'x';
		assert_int_equal(sdunit_set_memory(units[i], "MemoryHigh", 1, err, sizeof(err)), -EINVAL);
		assert_true(err[0] != '\0' && err[0] != 'x');
	}
	assert_int_equal(sdunit_set_memory("a.service", "MemoryLow", 1, err, sizeof(err)), -EINVAL);
	assert_int_equal(sdunit_set_memory("a.service", "memoryhigh", 1, err, sizeof(err)), -EINVAL);
	assert_int_equal(sdunit_set_memory("a.service", NULL, 1, NULL, 0), -EINVAL);
}

static void no_bus(void **state)
{
	(void)state;
	char err[256];
	/* nothing at the address */
	assert_int_equal(setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/oc-test-bus", 1), 0);
	int rc = sdunit_set_memory("oc-test-nonexistent.service", "MemoryHigh", 1 << 20, err, sizeof(err));
	print_message("missing socket: %d %s\n", rc, err);
	assert_true(rc < 0);
	assert_true(err[0] != '\0');

	/* a socket file nobody listens on */
	char dir[] = "/tmp/oc-sdunit-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/bus", dir);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd); /* bound, never listened: connect() is refused */
	char addr[160];
	snprintf(addr, sizeof(addr), "unix:path=%s", sa.sun_path);
	assert_int_equal(setenv("DBUS_SYSTEM_BUS_ADDRESS", addr, 1), 0);
	rc = sdunit_set_memory("oc-test-nonexistent.service", "MemoryMax", UINT64_MAX, err, sizeof(err));
	print_message("refused: %d %s\n", rc, err);
	assert_true(rc < 0);
	assert_true(err[0] != '\0');
	unlink(sa.sun_path);

	/* a peer that accepts (backlog) and never answers the authentication:
	 * one deadline bounds the whole exchange (sd_bus_call alone waits 90 s) */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = sdunit_set_memory("oc-test-nonexistent.service", "MemoryHigh", 1 << 20, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("silent peer: %d %s after %.2f s\n", rc, err, secs);
	assert_int_equal(rc, -ETIMEDOUT);
	assert_true(secs >= 4.9 && secs < 8.0);
	close(fd);
	unlink(sa.sun_path);
	rmdir(dir);

	/* no override: this host's own bus (none here; on a systemd host the
	 * unit does not exist): an error either way, never a crash */
	assert_int_equal(unsetenv("DBUS_SYSTEM_BUS_ADDRESS"), 0);
	rc = sdunit_set_memory("oc-test-nonexistent.service", "MemoryHigh", 1 << 20, NULL, 0);
	assert_true(rc < 0);
}

/* ---- a fake PID 1 ---- */

struct fake {
	int listen_fd;
	atomic_bool stop;
	pthread_t thread;
	/* what the last SetUnitProperties carried */
	int calls;
	char dest[64], path[64], iface[64], member[64];
	char unit[64], prop[32], vsig[8];
	int runtime, nprops;
	uint64_t value;
};

static int fake_record(sd_bus_message *m, struct fake *f)
{
	const char *unit, *prop, *contents;
	int runtime;
	char type;
	int r = sd_bus_message_read(m, "sb", &unit, &runtime);
	if (r < 0)
		return r;
	snprintf(f->unit, sizeof(f->unit), "%s", unit);
	f->runtime = runtime;
	f->nprops = 0;
	if ((r = sd_bus_message_enter_container(m, 'a', "(sv)")) < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'r', "sv")) > 0) {
		if ((r = sd_bus_message_read(m, "s", &prop)) < 0 ||
		    (r = sd_bus_message_peek_type(m, &type, &contents)) < 0)
			return r;
		snprintf(f->prop, sizeof(f->prop), "%s", prop);
		snprintf(f->vsig, sizeof(f->vsig), "%s", contents);
		if (strcmp(contents, "t") == 0)
			r = sd_bus_message_read(m, "v", "t", &f->value);
		else
			r = sd_bus_message_skip(m, "v");
		if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
			return r;
		f->nprops++;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

static int fake_filter(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct fake *f = userdata;
	if (sd_bus_message_is_method_call(m, "org.freedesktop.DBus", "Hello"))
		return sd_bus_reply_method_return(m, "s", ":1.42");
	if (!sd_bus_message_is_method_call(m, NULL, "SetUnitProperties"))
		return 0;
	f->calls++;
	snprintf(f->dest, sizeof(f->dest), "%s", sd_bus_message_get_destination(m) ?: "");
	snprintf(f->path, sizeof(f->path), "%s", sd_bus_message_get_path(m) ?: "");
	snprintf(f->iface, sizeof(f->iface), "%s", sd_bus_message_get_interface(m) ?: "");
	snprintf(f->member, sizeof(f->member), "%s", sd_bus_message_get_member(m));
	if (fake_record(m, f) < 0)
		return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS, "bad arguments");
	if (strcmp(f->unit, "missing.service") == 0)
		return sd_bus_reply_method_errorf(m, "org.freedesktop.systemd1.NoSuchUnit", "Unit %s not loaded.",
						  f->unit);
	if (strcmp(f->unit, "denied.service") == 0)
		return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_ACCESS_DENIED, "Access denied");
	if (strcmp(f->unit, "crash.service") == 0)
		return -ECONNRESET; /* the server drops the connection unanswered */
	return sd_bus_reply_method_return(m, "");
}

/* Serve one client connection until it goes away. */
static void fake_serve(struct fake *f, int fd)
{
	sd_bus *b = NULL;
	sd_id128_t id;
	if (sd_id128_randomize(&id) < 0 || sd_bus_new(&b) < 0 || sd_bus_set_fd(b, fd, fd) < 0 ||
	    sd_bus_set_server(b, 1, id) < 0 || sd_bus_add_filter(b, NULL, fake_filter, f) < 0 || sd_bus_start(b) < 0) {
		close(fd);
		sd_bus_unref(b);
		return;
	}
	while (!atomic_load(&f->stop)) {
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
	struct fake *f = arg;
	while (!atomic_load(&f->stop)) {
		struct pollfd p = { .fd = f->listen_fd, .events = POLLIN };
		if (poll(&p, 1, 50) <= 0)
			continue;
		int fd = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			fake_serve(f, fd);
	}
	return NULL;
}

static char fake_dir[] = "/tmp/oc-sdunit-XXXXXX";
static struct fake fake;

static int fake_start(void **state)
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
	return pthread_create(&fake.thread, NULL, fake_main, &fake) == 0 ? 0 : -1;
}

static int fake_stop(void **state)
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

static void fake_set_properties(void **state)
{
	(void)state;
	static const struct {
		const char *unit, *prop;
		uint64_t bytes;
	} t[] = {
		{ "redis-server.service", "MemoryHigh", 805306368 },
		{ "docker-4f1c2a.scope", "MemoryMax", 1 },
		{ "redis-server.service", "MemoryHigh", UINT64_MAX }, /* infinity */
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		char err[256] = "";
		int before = fake.calls;
		int rc = sdunit_set_memory(t[i].unit, t[i].prop, t[i].bytes, err, sizeof(err));
		if (rc != 0)
			fail_msg("case %zu: %d %s", i, rc, err);
		assert_string_equal(err, "");
		/* the server has answered, so it has recorded the call */
		assert_int_equal(fake.calls, before + 1);
		assert_string_equal(fake.dest, "org.freedesktop.systemd1");
		assert_string_equal(fake.path, "/org/freedesktop/systemd1");
		assert_string_equal(fake.iface, "org.freedesktop.systemd1.Manager");
		assert_string_equal(fake.member, "SetUnitProperties");
		assert_string_equal(fake.unit, t[i].unit);
		assert_int_equal(fake.runtime, 1);
		assert_int_equal(fake.nprops, 1);
		assert_string_equal(fake.prop, t[i].prop);
		assert_string_equal(fake.vsig, "t");
		assert_int_equal(fake.value, t[i].bytes);
	}
}

static void fake_errors(void **state)
{
	(void)state;
	char err[256];
	int rc = sdunit_set_memory("missing.service", "MemoryHigh", 4096, err, sizeof(err));
	assert_int_equal(rc, -ENOENT);
	assert_string_equal(err, "org.freedesktop.systemd1.NoSuchUnit: Unit missing.service not loaded.");

	rc = sdunit_set_memory("denied.service", "MemoryMax", 4096, err, sizeof(err));
	assert_int_equal(rc, -EACCES);
	assert_string_equal(err, "org.freedesktop.DBus.Error.AccessDenied: Access denied");

	/* a short err buffer truncates the message, never overflows */
	char tiny[8];
	rc = sdunit_set_memory("missing.service", "MemoryHigh", 4096, tiny, sizeof(tiny));
	assert_int_equal(rc, -ENOENT);
	assert_string_equal(tiny, "org.fre");

	/* the peer goes away without answering */
	rc = sdunit_set_memory("crash.service", "MemoryHigh", 4096, err, sizeof(err));
	print_message("dropped: %d %s\n", rc, err);
	assert_true(rc < 0);
	assert_true(err[0] != '\0');

	/* and the next call works again */
	assert_int_equal(sdunit_set_memory("redis-server.service", "MemoryHigh", 8192, err, sizeof(err)), 0);
	assert_int_equal(fake.value, 8192);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unit_table),
		cmocka_unit_test(systemd_detection),
		cmocka_unit_test(bad_arguments),
		cmocka_unit_test(no_bus),
	};
	const struct CMUnitTest fake_tests[] = {
		cmocka_unit_test(fake_set_properties),
		cmocka_unit_test(fake_errors),
	};
	int fails = cmocka_run_group_tests(tests, NULL, NULL);
	return fails + cmocka_run_group_tests_name("fake_pid1", fake_tests, fake_start, fake_stop);
}
