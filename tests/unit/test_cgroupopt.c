/* test_cgroupopt.c - the cgroup2 mount's favordynmods: which mountinfo line
 * is the cgroup root's, what the kernel supports, and the state read
 * through fixture roots.  (cgopt_set reconfigures a real superblock: the
 * VM tier, tests/vm/scenarios/97-favordynmods.sh.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cgroupopt.h"
#include "tmptree.h"

static const char *MOUNTINFO =
	"22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
	"30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
	"rw,nsdelegate,memory_recursiveprot\n"
	"31 24 0:27 / /sys/fs/cgroup/un\\040ified rw shared:10 - cgroup2 cgroup2 rw,favordynmods\n"
	"32 24 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
	"33 24 0:29 / /mnt/tmpfs rw - tmpfs none rw,size=10k\n";

static void mountinfo_line_of_the_root(void **state)
{
	(void)state;
	char o[CGOPT_OPTS_MAX];
	assert_int_equal(cgopt_parse_mountinfo(MOUNTINFO, "/sys/fs/cgroup", o, sizeof(o)), 0);
	assert_string_equal(o, "rw,nsdelegate,memory_recursiveprot");
	/* an escaped mount point */
	assert_int_equal(cgopt_parse_mountinfo(MOUNTINFO, "/sys/fs/cgroup/un ified", o, sizeof(o)), 0);
	assert_string_equal(o, "rw,favordynmods");
	/* a v1 hierarchy or another file system at the path is not it */
	assert_int_equal(cgopt_parse_mountinfo(MOUNTINFO, "/sys/fs/cgroup/memory", o, sizeof(o)),
			 -ENOENT);
	assert_int_equal(cgopt_parse_mountinfo(MOUNTINFO, "/mnt/tmpfs", o, sizeof(o)), -ENOENT);
	assert_int_equal(cgopt_parse_mountinfo(MOUNTINFO, "/sys/fs", o, sizeof(o)), -ENOENT);
	/* a mount stacked later on the same point is the one that counts */
	char stacked[1024];
	snprintf(stacked, sizeof(stacked), "%s%s", MOUNTINFO,
		 "40 30 0:40 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,favordynmods\n");
	assert_int_equal(cgopt_parse_mountinfo(stacked, "/sys/fs/cgroup", o, sizeof(o)), 0);
	assert_string_equal(o, "rw,favordynmods");
	/* optional fields of any number, a last line without a newline */
	assert_int_equal(cgopt_parse_mountinfo("9 1 0:9 / /cg rw shared:1 master:2 - cgroup2 none rw",
					       "/cg", o, sizeof(o)), 0);
	assert_string_equal(o, "rw");
	assert_int_equal(cgopt_parse_mountinfo(MOUNTINFO, "/sys/fs/cgroup", o, 8), -ENAMETOOLONG);
	assert_int_equal(cgopt_parse_mountinfo("", "/sys/fs/cgroup", o, sizeof(o)), -ENOENT);
	assert_int_equal(cgopt_parse_mountinfo("garbage\nmore garbage", "/x", o, sizeof(o)), -ENOENT);
}

static enum cgopt_state state_of(const char *mountinfo, const char *features, char *opts)
{
	char *t = tt_make();
	struct roots r;
	roots_default(&r);
	snprintf(r.procfs, sizeof(r.procfs), "%s/proc", t);
	snprintf(r.sysfs, sizeof(r.sysfs), "%s/sys", t);
	snprintf(r.cgroupfs, sizeof(r.cgroupfs), "/sys/fs/cgroup");
	if (mountinfo)
		tt_write(t, "proc/self/mountinfo", mountinfo);
	if (features)
		tt_write(t, "sys/kernel/cgroup/features", features);
	enum cgopt_state s = cgopt_read(&r, opts, CGOPT_OPTS_MAX);
	tt_rm(t);
	return s;
}

static void state_through_the_roots(void **state)
{
	(void)state;
	char o[CGOPT_OPTS_MAX];
	const char *feat = "nsdelegate\nfavordynmods\nmemory_localevents\nmemory_recursiveprot\n";
	assert_int_equal(state_of(MOUNTINFO, feat, o), CGOPT_OFF);
	assert_string_equal(o, "rw,nsdelegate,memory_recursiveprot");
	assert_int_equal(state_of("1 0 0:1 / /sys/fs/cgroup rw - cgroup2 c rw,favordynmods\n", feat, o),
			 CGOPT_ON);
	/* a kernel before 6.0: the option is not in its features */
	assert_int_equal(state_of(MOUNTINFO, "nsdelegate\nmemory_localevents\n", o), CGOPT_UNSUPPORTED);
	assert_int_equal(state_of(MOUNTINFO, NULL, o), CGOPT_UNSUPPORTED);
	/* no mountinfo (a fixture tree), or no cgroup2 at the root */
	assert_int_equal(state_of(NULL, feat, o), CGOPT_UNKNOWN);
	assert_int_equal(state_of("32 24 0:28 / /sys/fs/cgroup rw - tmpfs t rw\n", feat, o),
			 CGOPT_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mountinfo_line_of_the_root),
		cmocka_unit_test(state_through_the_roots),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
