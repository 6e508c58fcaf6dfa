/* trust.c - see trust.h. */
#include "trust.h"

#include <errno.h>
#include <pwd.h>
#include <stdint.h>
#include <string.h>

#include "util.h"

/* One "UID_MIN value" line?  1 with *v set, 0 for another line, -EINVAL. */
static int uid_min_line(const char *line, size_t len, uint64_t *v)
{
	char buf[128];
	size_t skip = strspn(line, " \t");
	if (skip >= len || len - skip >= sizeof(buf))
		return 0;
	memcpy(buf, line + skip, len - skip);
	buf[len - skip] = '\0';
	char *hash = strchr(buf, '#');
	if (hash)
		*hash = '\0';
	if (strncmp(buf, "UID_MIN", 7) != 0 || (buf[7] != ' ' && buf[7] != '\t'))
		return 0;
	/* shadow reads it as a number; we accept plain decimal only */
	return parse_u64(buf + 7, UINT32_MAX - 1, v) < 0 ? -EINVAL : 1;
}

int uid_min_parse(const char *buf, uid_t *out)
{
	*out = UID_MIN_DEFAULT;
	for (const char *line = buf; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		uint64_t v;
		int rc = uid_min_line(line, len, &v);
		if (rc < 0) {
			*out = UID_MIN_DEFAULT;
			return rc;
		}
		if (rc == 1)
			*out = (uid_t)v;
		if (!nl)
			break;
		line = nl + 1;
	}
	return 0;
}

int uid_min_read(const struct roots *r, uid_t *out)
{
	char buf[32768];
	*out = UID_MIN_DEFAULT;
	ssize_t n = read_file_at(r->etc, "login.defs", buf, sizeof(buf));
	if (n == -ENOENT)
		return 0;
	if (n < 0)
		return (int)n;
	return uid_min_parse(buf, out);
}

/* NSS answers kept USER_KEEP_NS (per thread: no lock).  The event paths
 * match every exec of a service's comm against each service's match_user:
 * without this, each was a getpwnam_r (/etc/passwd opened and read, or a
 * round trip to sssd) on the exec -> enforced path.  A user made or
 * removed meanwhile is seen at most that late. */
#define USER_KEEP_NS (10ull * 1000000000ull)
#define USER_KEEP_N 8
static _Thread_local struct {
	char name[64];
	struct user_key k;
	uint64_t at_ns;
} user_kept[USER_KEEP_N];
static _Thread_local unsigned user_next;
static _Thread_local uint64_t nss_lookups;

uint64_t user_key_lookups(void)
{
	return nss_lookups;
}

struct user_key user_key_resolve(const char *name)
{
	struct user_key k = { .set = name != NULL };
	uint64_t v;
	if (!name)
		return k;
	if (parse_u64(name, UINT32_MAX - 1, &v) == 0) {
		k.ok = true;
		k.uid = (uid_t)v;
		return k;
	}
	uint64_t now = mono_coarse_ns();
	size_t len = strlen(name);
	unsigned slot = user_next % USER_KEEP_N; /* a new name: the oldest entry */
	bool known = false;
	for (unsigned i = 0; i < USER_KEEP_N && !known; i++) {
		if (!user_kept[i].at_ns || strcmp(user_kept[i].name, name) != 0)
			continue;
		if (now - user_kept[i].at_ns < USER_KEEP_NS)
			return user_kept[i].k;
		slot = i; /* expired: asked again, kept in its own place */
		known = true;
	}
	struct passwd pw, *res = NULL;
	char buf[16384];
	/* an unknown user (or an NSS failure) matches nothing */
	nss_lookups++;
	if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) == 0 && res) {
		k.ok = true;
		k.uid = res->pw_uid;
	}
	if (len < sizeof(user_kept[0].name)) { /* longer names: asked each time */
		if (!known)
			user_next++;
		memcpy(user_kept[slot].name, name, len + 1);
		user_kept[slot].k = k;
		user_kept[slot].at_ns = now ? now : 1;
	}
	return k;
}

bool trust_uid(const struct user_key *u, uid_t uid_min, uid_t ruid, uid_t euid)
{
	if (u && u->set)
		return u->ok && ruid == u->uid && euid == u->uid;
	return ruid < uid_min && euid < uid_min;
}

bool trust_proc(const struct user_key *u, uid_t uid_min, const struct proc_info *p)
{
	return trust_uid(u, uid_min, p->status.uid, p->status.euid);
}

bool trust_child(const struct user_key *u, uid_t uid_min, const struct proc_info *p)
{
	return trust_proc(u, uid_min, p) || trust_uid(NULL, uid_min, p->status.uid, p->status.euid);
}
