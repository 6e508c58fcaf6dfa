/* adminreserve.c - the admin reserve exemption (rules in the header). */
#include "adminreserve.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "privsep.h"
#include "util.h"

#define CAP_SYS_ADMIN_BIT 21

int userns_link_parse(const char *link, uint64_t *ino)
{
	static const char pre[] = "user:[";
	size_t n = strlen(link);
	if (n < sizeof(pre) + 1 || memcmp(link, pre, sizeof(pre) - 1) != 0 || link[n - 1] != ']')
		return -EINVAL;
	char num[24];
	size_t len = n - (sizeof(pre) - 1) - 1;
	if (len == 0 || len >= sizeof(num))
		return -EINVAL;
	memcpy(num, link + sizeof(pre) - 1, len);
	num[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (num[i] < '0' || num[i] > '9')
			return -EINVAL;
	uint64_t v;
	if (parse_u64(num, UINT64_MAX, &v) < 0 || v == 0)
		return -EINVAL;
	*ino = v;
	return 0;
}

int proc_userns_read(const struct roots *r, int pid, uint64_t *ino)
{
	char link[64];
	/* another user's ns link needs CAP_SYS_PTRACE: the daemon's reader */
	ssize_t n = privsep_readlink_pid(r, pid, "ns/user", link, sizeof(link));
	if (n < 0)
		return (int)n;
	return userns_link_parse(link, ino);
}

int selinux_enforce_parse(const char *buf, bool *enforcing)
{
	if ((buf[0] != '0' && buf[0] != '1') || (buf[1] != '\0' && strcmp(buf + 1, "\n") != 0))
		return -EINVAL;
	*enforcing = buf[0] == '1';
	return 0;
}

void admin_facts_read(const struct roots *r, struct admin_facts *f)
{
	memset(f, 0, sizeof(*f));
	if (proc_userns_read(r, 1, &f->init_userns) < 0)
		f->init_userns = 0;
	char buf[16];
	bool enf = false;
	if (read_file_at(r->sysfs, "fs/selinux/enforce", buf, sizeof(buf)) > 0 &&
	    selinux_enforce_parse(buf, &enf) == 0)
		f->selinux_enforcing = enf;
}

enum admin_why admin_exemption(uint64_t cap_eff, uint64_t userns, const struct admin_facts *f)
{
	if (!(cap_eff >> CAP_SYS_ADMIN_BIT & 1))
		return ADM_NO_CAP;
	if (userns == 0 || f->init_userns == 0)
		return ADM_USERNS_UNKNOWN;
	if (userns != f->init_userns)
		return ADM_USERNS;
	if (f->selinux_enforcing)
		return ADM_SELINUX;
	return ADM_EXEMPT;
}

const char *admin_why_text(enum admin_why w)
{
	switch (w) {
	case ADM_EXEMPT: return "exempt (CAP_SYS_ADMIN in the initial user namespace)";
	case ADM_NO_CAP: return "pays it (no CAP_SYS_ADMIN)";
	case ADM_USERNS: return "pays it (root in a user namespace has no CAP_SYS_ADMIN in the initial one)";
	case ADM_USERNS_UNKNOWN: return "assumed to pay it (its user namespace could not be read)";
	case ADM_SELINUX: return "assumed to pay it (SELinux enforcing may deny sys_admin)";
	}
	return "unknown";
}
