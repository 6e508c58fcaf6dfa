/* policy_trust.c - see policy_trust.h. */
#include "policy_trust.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool policy_trust_stat(const char *path, const struct stat *st, bool sticky_ok, struct diags *d)
{
	bool ok = true;
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		diags_add(d, path, 0, "refused: owned by uid %u, not by root", (unsigned)st->st_uid);
		ok = false;
	}
	bool sticky = S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX);
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(sticky_ok && sticky)) {
		diags_add(d, path, 0, "refused: writable by group/others (mode %04o)",
			  (unsigned)(st->st_mode & 07777));
		ok = false;
	}
	return ok;
}

/* path and each parent of it; path is absolute and canonical.  Only the
 * parents may be sticky and world-writable unless sticky_first. */
static int trust_chain(char *path, bool sticky_first, struct diags *d)
{
	bool ok = true, first = true;
	for (;;) {
		struct stat st;
		if (stat(path, &st) < 0) {
			diags_add(d, path, 0, "%s", strerror(errno));
			return -errno;
		}
		if (!S_ISDIR(st.st_mode)) {
			diags_add(d, path, 0, "not a directory");
			return -ENOTDIR;
		}
		ok &= policy_trust_stat(path, &st, !first || sticky_first, d);
		first = false;
		char *slash = strrchr(path, '/');
		if (!slash || path[1] == '\0')
			break;
		/* "/a" -> "/", "/a/b" -> "/a" */
		slash[slash == path ? 1 : 0] = '\0';
	}
	return ok ? 0 : -EPERM;
}

static int resolved_chain(const char *dir, bool sticky_first, struct diags *d)
{
	char real[PATH_MAX];
	if (!realpath(dir, real)) {
		int e = errno;
		diags_add(d, dir, 0, "%s", strerror(e));
		return -e;
	}
	return trust_chain(real, sticky_first, d);
}

int policy_trust_dir(const char *dir, struct diags *d)
{
	return resolved_chain(dir, false, d);
}

int policy_trust_parent(const char *path, struct diags *d)
{
	char dir[PATH_MAX];
	size_t n = strlen(path);
	if (n >= sizeof(dir)) {
		diags_add(d, path, 0, "path too long");
		return -ENAMETOOLONG;
	}
	memcpy(dir, path, n + 1);
	char *slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else
		slash[slash == dir ? 1 : 0] = '\0';
	/* one file is read from it, by a name nobody else can rename */
	return resolved_chain(dir, true, d);
}
