/* roots.c - default filesystem roots. */
#include "roots.h"

#include <stdio.h>

void roots_default(struct roots *r)
{
	snprintf(r->procfs, sizeof(r->procfs), "/proc");
	snprintf(r->sysfs, sizeof(r->sysfs), "/sys");
	snprintf(r->cgroupfs, sizeof(r->cgroupfs), "/sys/fs/cgroup");
	snprintf(r->etc, sizeof(r->etc), "/etc");
}
