/* cgroupopt.c - see cgroupopt.h. */
#include "cgroupopt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "util.h"

static const char *const state_names[] = {
	[CGOPT_UNKNOWN] = "unknown",
	[CGOPT_UNSUPPORTED] = "unsupported",
	[CGOPT_OFF] = "off",
	[CGOPT_ON] = "on",
};

const char *cgopt_state_name(enum cgopt_state s)
{
	return (unsigned)s < ARRAY_SIZE(state_names) ? state_names[s] : "unknown";
}

int cgopt_state_parse(const char *name, enum cgopt_state *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(state_names); i++)
		if (strcmp(name, state_names[i]) == 0) {
			*out = (enum cgopt_state)i;
			return 0;
		}
	return -EINVAL;
}

const char *cgopt_onoff(bool on)
{
	return state_names[on ? CGOPT_ON : CGOPT_OFF];
}

int cgopt_onoff_parse(const char *s, bool *on)
{
	enum cgopt_state st;
	if (cgopt_state_parse(s, &st) < 0 || (st != CGOPT_ON && st != CGOPT_OFF))
		return -EINVAL;
	*on = st == CGOPT_ON;
	return 0;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static bool octal(char c)
{
	return c >= '0' && c <= '7';
}

static void unescape(const char *in, size_t n, char *out, size_t size)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < size; i++) {
		if (in[i] == '\\' && i + 3 < n && octal(in[i + 1]) && octal(in[i + 2]) &&
		    octal(in[i + 3])) {
			out[o++] = (char)((in[i + 1] - '0') * 64 + (in[i + 2] - '0') * 8 + (in[i + 3] - '0'));
			i += 3;
		} else {
			out[o++] = in[i];
		}
	}
	out[o] = '\0';
}

/* The n-th (0-based) space-separated field of [s, end): its start and length. */
static const char *field(const char *s, const char *end, int n, size_t *len)
{
	for (int k = 0; s < end; k++) {
		const char *e = memchr(s, ' ', (size_t)(end - s));
		if (!e)
			e = end;
		if (k == n) {
			*len = (size_t)(e - s);
			return s;
		}
		s = e + 1;
	}
	return NULL;
}

int cgopt_parse_mountinfo(const char *text, const char *mnt, char *opts, size_t size)
{
	int rc = -ENOENT;
	for (const char *l = text; *l;) {
		const char *end = strchr(l, '\n');
		if (!end)
			end = l + strlen(l);
		size_t mlen, tlen, olen;
		char mp[4096];
		const char *m = field(l, end, 4, &mlen);
		const char *sep = strstr(l, " - ");
		if (m && sep && sep < end) {
			const char *t = field(sep + 3, end, 0, &tlen);
			const char *o = field(sep + 3, end, 2, &olen);
			unescape(m, mlen, mp, sizeof(mp));
			if (t && o && tlen == 7 && memcmp(t, "cgroup2", 7) == 0 && strcmp(mp, mnt) == 0) {
				/* the last one wins: a later mount stacks on top */
				if (olen >= size) {
					rc = -ENAMETOOLONG;
				} else {
					memcpy(opts, o, olen);
					opts[olen] = '\0';
					rc = 0;
				}
			}
		}
		l = *end ? end + 1 : end;
	}
	return rc;
}

enum cgopt_state cgopt_read(const struct roots *r, char *opts, size_t size)
{
	char path[PATH_MAX + 64], feat[512], own[CGOPT_OPTS_MAX], *text = NULL;
	if (!opts) {
		opts = own;
		size = sizeof(own);
	}
	opts[0] = '\0';
	snprintf(path, sizeof(path), "%s/self/mountinfo", r->procfs);
	/* a host with thousands of mounts (containers) has a long mountinfo */
	int rc = read_file_alloc(path, 16u << 20, &text) < 0 ? -1
		 : cgopt_parse_mountinfo(text, r->cgroupfs, opts, size);
	free(text);
	if (rc < 0)
		return CGOPT_UNKNOWN;
	snprintf(path, sizeof(path), "%s/kernel/cgroup/features", r->sysfs);
	if (read_file(path, feat, sizeof(feat)) < 0 || !list_has_word(feat, CGOPT_FLAG))
		return CGOPT_UNSUPPORTED;
	return list_has_word(opts, CGOPT_FLAG) ? CGOPT_ON : CGOPT_OFF;
}

int cgopt_set(const struct roots *r, const char *opts, bool on, const char **why)
{
	char copy[CGOPT_OPTS_MAX], *save = NULL;
	if (strlen(opts) >= sizeof(copy)) {
		*why = "options too long";
		return -ENAMETOOLONG;
	}
	snprintf(copy, sizeof(copy), "%s", opts);
	*why = "fspick";
	int fd = fspick(AT_FDCWD, r->cgroupfs, FSPICK_CLOEXEC | FSPICK_NO_AUTOMOUNT);
	if (fd < 0)
		return -errno;
	int rc = 0;
	for (char *w = strtok_r(copy, ",", &save); w && rc == 0; w = strtok_r(NULL, ",", &save)) {
		if (strcmp(w, "rw") == 0 || strcmp(w, "ro") == 0 || strcmp(w, CGOPT_FLAG) == 0)
			continue;
		*why = "fsconfig: repeat an option the mount has";
		if (fsconfig(fd, FSCONFIG_SET_FLAG, w, NULL, 0) < 0)
			rc = -errno;
	}
	if (rc == 0 && on) {
		*why = "fsconfig: " CGOPT_FLAG;
		if (fsconfig(fd, FSCONFIG_SET_FLAG, CGOPT_FLAG, NULL, 0) < 0)
			rc = -errno;
	}
	if (rc == 0) {
		*why = "fsconfig: reconfigure";
		if (fsconfig(fd, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0) < 0)
			rc = -errno;
	}
	if (close(fd) < 0 && rc == 0) {
		*why = "close";
		rc = -errno;
	}
	return rc;
}
