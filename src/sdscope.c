/* sdscope.c - a fork child's transient scope through systemd's D-Bus API
 * (see sdscope.h). */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

#include "sdscope.h"

/* ---- names and paths ---------------------------------------------------- */

static bool has_suffix(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);
	return len > n && memcmp(s + len - n, suffix, n) == 0;
}

int sdscope_name(const char *unit, pid_t pid, char *out, size_t size)
{
	size_t len = unit ? strlen(unit) : 0;
	size_t stem;
	if (has_suffix(unit ? unit : "", len, ".service"))
		stem = len - strlen(".service");
	else if (has_suffix(unit ? unit : "", len, ".scope"))
		stem = len - strlen(".scope");
	else
		return -EINVAL;
	if (pid <= 0 || memchr(unit, '/', len))
		return -EINVAL;
	int n = snprintf(out, size, SDSCOPE_PREFIX "%.*s-%d.scope", (int)stem, unit, (int)pid);
	/* systemd's own bound on a unit name */
	return n < 0 || (size_t)n >= size || n > 255 ? -ENAMETOOLONG : 0;
}

/* The last component of path's parent: [*start, *len). */
static int parent_component(const char *path, const char **start, size_t *len)
{
	const char *end = path + strlen(path);
	while (end > path && end[-1] == '/')
		end--;
	while (end > path && end[-1] != '/')
		end--; /* now at the unit's own component */
	if (end == path)
		return -EINVAL; /* no leading "/": not a group path */
	while (end > path && end[-1] == '/')
		end--;
	const char *b = end;
	while (b > path && b[-1] != '/')
		b--;
	*start = b;
	*len = (size_t)(end - b);
	return 0;
}

int sdscope_slice(const char *unit_cgroup, char *out, size_t size)
{
	const char *p;
	size_t len;
	if (!unit_cgroup || parent_component(unit_cgroup, &p, &len) < 0)
		return -ENOENT;
	if (len == 0) {
		p = "-.slice"; /* the root */
		len = strlen(p);
	} else if (!has_suffix(p, len, ".slice")) {
		return -ENOENT;
	}
	if (len >= size)
		return -ENAMETOOLONG;
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

int sdscope_cgroup(const char *unit_cgroup, const char *scope, char *out, size_t size)
{
	const char *p;
	size_t len;
	if (!unit_cgroup || !scope || !scope[0] || parent_component(unit_cgroup, &p, &len) < 0)
		return -EINVAL;
	size_t dir = (size_t)(p + len - unit_cgroup); /* up to the parent's end */
	int n = snprintf(out, size, "%.*s/%s", (int)dir, unit_cgroup, scope);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* ---- the bus --------------------------------------------------------------- */

#define SYSTEMD_PRIVATE_ADDRESS "unix:path=/run/systemd/private"

struct sdscope_bus {
	sd_bus *bus;
};

int sdscope_open(struct sdscope_bus **out)
{
	struct sdscope_bus *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	int r;
	/* an explicit DBUS_SYSTEM_BUS_ADDRESS names the bus to use */
	if (geteuid() == 0 && !getenv("DBUS_SYSTEM_BUS_ADDRESS")) {
		r = sd_bus_new(&b->bus);
		if (r >= 0)
			r = sd_bus_set_address(b->bus, SYSTEMD_PRIVATE_ADDRESS);
		if (r >= 0)
			r = sd_bus_start(b->bus);
		if (r >= 0) {
			*out = b;
			return 0;
		}
		b->bus = sd_bus_unref(b->bus);
	}
	r = sd_bus_open_system(&b->bus);
	if (r < 0) {
		free(b);
		return r;
	}
	*out = b;
	return 0;
}

void sdscope_close(struct sdscope_bus *b)
{
	if (!b)
		return;
	/* pending calls' slots are freed: their destroy callbacks report them */
	sd_bus_close_unref(b->bus);
	free(b);
}

int sdscope_fd(const struct sdscope_bus *b)
{
	return sd_bus_get_fd(b->bus);
}

short sdscope_events(const struct sdscope_bus *b)
{
	int e = sd_bus_get_events(b->bus);
	return e < 0 ? 0 : (short)e;
}

int sdscope_timeout_ms(const struct sdscope_bus *b)
{
	uint64_t until;
	if (sd_bus_get_timeout(b->bus, &until) < 0 || until == UINT64_MAX)
		return -1;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	if (until <= now)
		return 0;
	uint64_t ms = (until - now + 999) / 1000;
	return ms > 60000 ? 60000 : (int)ms;
}

int sdscope_process(struct sdscope_bus *b)
{
	int r;
	while ((r = sd_bus_process(b->bus, NULL)) > 0)
		;
	return r < 0 ? r : 0;
}

/* One call in flight: done runs once, from the reply or, when the bus
 * drops the call unanswered, from the slot's destruction. */
struct call {
	sdscope_done_fn done;
	void *arg;
	bool reported;
};

static void report(struct call *c, int rc, const char *err)
{
	if (c->reported)
		return;
	c->reported = true;
	c->done(c->arg, rc, err);
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	(void)ret_error;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	if (e && sd_bus_error_is_set(e)) {
		char err[256];
		int r = sd_bus_error_get_errno(e);
		snprintf(err, sizeof(err), "%s: %s", e->name, e->message ? e->message : "");
		report(userdata, r > 0 ? -r : -EIO, err);
	} else {
		report(userdata, 0, "");
	}
	return 0;
}

static void on_destroy(void *userdata)
{
	report(userdata, -ECONNRESET, "the connection to systemd closed before it answered");
	free(userdata);
}

/* Send m; done reports its end.  The slot floats: the bus owns it. */
static int send_call(struct sdscope_bus *b, sd_bus_message *m, sdscope_done_fn done, void *arg)
{
	struct call *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	*c = (struct call){ .done = done, .arg = arg };
	sd_bus_slot *slot = NULL;
	int r = sd_bus_call_async(b->bus, &slot, m, on_reply, c, SDSCOPE_TIMEOUT_USEC);
	if (r < 0) {
		free(c);
		return r;
	}
	sd_bus_slot_set_destroy_callback(slot, on_destroy);
	sd_bus_slot_set_floating(slot, 1);
	sd_bus_slot_unref(slot);
	return 0;
}

static sd_bus_message *manager_call(struct sdscope_bus *b, const char *member, int *r)
{
	sd_bus_message *m = NULL;
	*r = sd_bus_message_new_method_call(b->bus, &m, "org.freedesktop.systemd1",
					    "/org/freedesktop/systemd1",
					    "org.freedesktop.systemd1.Manager", member);
	return *r < 0 ? NULL : m;
}

static int append_scope_props(sd_bus_message *m, const struct sdscope_req *q)
{
	int r = sd_bus_message_open_container(m, 'a', "(sv)");
	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)", "PIDs", "au", 1, (uint32_t)q->pid);
	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)", "MemoryAccounting", "b", 1);
	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)", "MemoryHigh", "t", q->memory_high);
	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)", "Slice", "s", q->slice);
	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)", "CollectMode", "s", "inactive-or-failed");
	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)", "Description", "s",
					  q->description ? q->description : q->scope);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

int sdscope_start(struct sdscope_bus *b, const struct sdscope_req *req, sdscope_done_fn done,
		  void *arg)
{
	if (!req->scope || !req->slice || req->pid <= 0)
		return -EINVAL;
	int r;
	sd_bus_message *m = manager_call(b, "StartTransientUnit", &r);
	if (r >= 0)
		r = sd_bus_message_append(m, "ss", req->scope, "fail");
	if (r >= 0)
		r = append_scope_props(m, req);
	if (r >= 0)
		r = sd_bus_message_append(m, "a(sa(sv))", 0); /* no auxiliary units */
	if (r >= 0)
		r = send_call(b, m, done, arg);
	sd_bus_message_unref(m);
	return r;
}
