/* roots.h - where the kernel's filesystems are.  Every reader and the applier
 * take this, so tests point them at fixture trees (--procfs/--sysfs/--cgroupfs). */
#ifndef OVERCOMMITD_ROOTS_H
#define OVERCOMMITD_ROOTS_H

#include <limits.h>

struct roots {
	char procfs[PATH_MAX];   /* default /proc */
	char sysfs[PATH_MAX];    /* default /sys */
	char cgroupfs[PATH_MAX]; /* default /sys/fs/cgroup (the cgroup2 mount) */
	char etc[PATH_MAX];      /* default /etc (login.defs: UID_MIN) */
};

void roots_default(struct roots *r);

#endif
