/* sdunit.c - runtime MemoryHigh=/MemoryMax= through systemd's D-Bus API. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#include "sdunit.h"

/* PID 1's own socket: no dbus-daemon in the way (it may be absent or stuck);
 * root only, as systemctl does it. */
#define SYSTEMD_PRIVATE_ADDRESS "unix:path=/run/systemd/private"

bool sdunit_systemd_running(void)
{
	return sd_booted() > 0;
}

static void set_err(char *err, size_t errsize, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errsize, const char *fmt, ...)
{
	if (!err || errsize == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	/* truncation is fine for a message */
	(void)vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);
	return len > n && memcmp(s + len - n, suffix, n) == 0;
}

static bool is_unit_component(const char *s, size_t len)
{
	return ends_with(s, len, ".service") || ends_with(s, len, ".scope");
}

int sdunit_unit_from_cgroup(const char *cgroup_path, char *unit, size_t size)
{
	if (!cgroup_path || !unit || size == 0)
		return -EINVAL;
	const char *p = cgroup_path;
	while (*p) {
		while (*p == '/')
			p++;
		size_t len = strcspn(p, "/");
		if (len == 0)
			break;
		/* systemd prefixes "_" to names that could clash with kernel files */
		const char *name = p[0] == '_' ? p + 1 : p;
		size_t nlen = p[0] == '_' ? len - 1 : len;
		if (is_unit_component(name, nlen)) {
			const char *rest = p + len;
			while (*rest == '/')
				rest++;
			if (*rest)
				return -ENOENT; /* delegated subtree below a unit */
			if (nlen >= size)
				return -ENAMETOOLONG;
			memcpy(unit, name, nlen);
			unit[nlen] = '\0';
			return 0;
		}
		p += len;
	}
	return -ENOENT;
}

static bool valid_unit_name(const char *unit)
{
	if (!unit || !unit[0] || strlen(unit) > 255)
		return false;
	for (const char *c = unit; *c; c++)
		if (*c == '/' || (unsigned char)*c <= ' ' || *c == 0x7f)
			return false;
	return true;
}

static int connect_bus(sd_bus **bus)
{
	/* an explicit DBUS_SYSTEM_BUS_ADDRESS names the bus to use */
	if (geteuid() == 0 && !getenv("DBUS_SYSTEM_BUS_ADDRESS")) {
		sd_bus *b = NULL;
		int r = sd_bus_new(&b);
		if (r >= 0)
			r = sd_bus_set_address(b, SYSTEMD_PRIVATE_ADDRESS);
		if (r >= 0)
			r = sd_bus_start(b);
		if (r >= 0) {
			*bus = b;
			return 0;
		}
		sd_bus_unref(b);
	}
	return sd_bus_open_system(bus);
}

struct call_state {
	bool done;
	int rc;
	char *err;
	size_t errsize;
	sd_bus_message *reply; /* kept when the caller wants it (unref it) */
	bool want_reply;
};

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct call_state *cs = userdata;
	cs->done = true;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	if (e && sd_bus_error_is_set(e)) {
		int r = sd_bus_error_get_errno(e);
		cs->rc = r > 0 ? -r : -EIO;
		set_err(cs->err, cs->errsize, "%s: %s", e->name, e->message ? e->message : "");
	} else {
		cs->rc = 0;
		if (cs->want_reply)
			cs->reply = sd_bus_message_ref(m);
	}
	return 0;
}

static uint64_t now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Run the call with one deadline covering authentication, Hello and the
 * reply (sd_bus_call alone would wait up to 90 s for a stuck peer's auth). */
static int call_bounded(sd_bus *bus, sd_bus_message *m, struct call_state *cs)
{
	sd_bus_slot *slot = NULL;
	int r = sd_bus_call_async(bus, &slot, m, on_reply, cs, SDUNIT_TIMEOUT_USEC);
	if (r < 0) {
		set_err(cs->err, cs->errsize, "sending the call to systemd: %s", strerror(-r));
		return r;
	}
	uint64_t deadline = now_usec() + SDUNIT_TIMEOUT_USEC;
	while (!cs->done) {
		r = sd_bus_process(bus, NULL);
		if (r < 0) {
			set_err(cs->err, cs->errsize, "talking to systemd: %s", strerror(-r));
			break;
		}
		if (r > 0)
			continue;
		uint64_t now = now_usec();
		if (now >= deadline) {
			r = -ETIMEDOUT;
			set_err(cs->err, cs->errsize, "no answer from systemd within %llu ms",
				(unsigned long long)(SDUNIT_TIMEOUT_USEC / 1000));
			break;
		}
		r = sd_bus_wait(bus, deadline - now);
		if (r < 0 && r != -EINTR) {
			set_err(cs->err, cs->errsize, "waiting for systemd: %s", strerror(-r));
			break;
		}
	}
	sd_bus_slot_unref(slot);
	return cs->done ? cs->rc : (r < 0 ? r : -EIO);
}

int sdunit_set_memory(const char *unit, const char *property, uint64_t bytes, char *err, size_t errsize)
{
	if (err && errsize)
		err[0] = '\0';
	if (!valid_unit_name(unit) || !property ||
	    (strcmp(property, "MemoryHigh") != 0 && strcmp(property, "MemoryMax") != 0)) {
		set_err(err, errsize, "invalid unit or property");
		return -EINVAL;
	}
	sd_bus *bus = NULL;
	sd_bus_message *m = NULL;
	int r = connect_bus(&bus);
	if (r < 0) {
		set_err(err, errsize, "connecting to the system bus: %s", strerror(-r));
		return r;
	}
	r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
					   "org.freedesktop.systemd1.Manager", "SetUnitProperties");
	if (r >= 0)
		r = sd_bus_message_append(m, "sb", unit, 1);
	if (r >= 0)
		r = sd_bus_message_append(m, "a(sv)", 1, property, "t", bytes);
	if (r < 0) {
		set_err(err, errsize, "building SetUnitProperties: %s", strerror(-r));
	} else {
		struct call_state cs = { .done = false, .rc = 0, .err = err, .errsize = errsize };
		r = call_bounded(bus, m, &cs);
	}
	sd_bus_message_unref(m);
	sd_bus_close_unref(bus); /* no flush: it could wait for a stuck peer */
	return r;
}

/* Properties.Get(interface, "OOMPolicy") on the unit's object path. */
static int get_oom_policy(sd_bus *bus, const char *unit, char *out, size_t size, char *err,
			  size_t errsize)
{
	char *path = NULL;
	sd_bus_message *m = NULL;
	size_t len = strlen(unit);
	bool scope = len > 6 && strcmp(unit + len - 6, ".scope") == 0;
	int r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &path);
	if (r >= 0)
		r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", path,
						   "org.freedesktop.DBus.Properties", "Get");
	if (r >= 0)
		r = sd_bus_message_append(m, "ss", scope ? "org.freedesktop.systemd1.Scope"
							 : "org.freedesktop.systemd1.Service",
					  "OOMPolicy");
	free(path);
	if (r < 0) {
		sd_bus_message_unref(m);
		set_err(err, errsize, "building Properties.Get: %s", strerror(-r));
		return r;
	}
	struct call_state cs = { .err = err, .errsize = errsize, .want_reply = true };
	r = call_bounded(bus, m, &cs);
	sd_bus_message_unref(m);
	const char *v = NULL;
	if (r >= 0 && cs.reply && (r = sd_bus_message_read(cs.reply, "v", "s", &v)) >= 0) {
		if (!v || strlen(v) >= size)
			r = -ENAMETOOLONG;
		else
			snprintf(out, size, "%s", v);
	}
	sd_bus_message_unref(cs.reply);
	return r < 0 ? r : 0;
}

int sdunit_oom_policy(const char *unit, char *out, size_t size, char *err, size_t errsize)
{
	if (err && errsize)
		err[0] = '\0';
	if (!valid_unit_name(unit) || !out || size == 0)
		return -EINVAL;
	out[0] = '\0';
	if (!sdunit_systemd_running())
		return -ENOENT; /* no systemd: no claim */
	sd_bus *bus = NULL;
	int r = connect_bus(&bus);
	if (r < 0) {
		set_err(err, errsize, "connecting to the system bus: %s", strerror(-r));
		return r;
	}
	r = get_oom_policy(bus, unit, out, size, err, errsize);
	sd_bus_close_unref(bus);
	return r;
}
