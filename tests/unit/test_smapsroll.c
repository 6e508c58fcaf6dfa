/* test_smapsroll.c - /proc/PID/smaps_rollup: the fields the sampled
 * workers' private growth is read from, strict about what it uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "smapsroll.h"
#include "util.h"

/* Linux 6.1's layout (the busybox guest's kernel). */
static const char real[] =
	"55a4c6e3d000-7ffd2b1f6000 ---p 00000000 00:00 0                          [rollup]\n"
	"Rss:               34212 kB\n"
	"Pss:               33512 kB\n"
	"Pss_Dirty:         33000 kB\n"
	"Pss_Anon:          32904 kB\n"
	"Pss_File:            608 kB\n"
	"Pss_Shmem:             0 kB\n"
	"Shared_Clean:        700 kB\n"
	"Shared_Dirty:        400 kB\n"
	"Private_Clean:       180 kB\n"
	"Private_Dirty:     32932 kB\n"
	"Referenced:        34212 kB\n"
	"Anonymous:         33100 kB\n"
	"LazyFree:              0 kB\n"
	"AnonHugePages:         0 kB\n"
	"Swap:                  0 kB\n"
	"SwapPss:               0 kB\n"
	"Locked:                0 kB";

static void test_real(void **st)
{
	(void)st;
	struct smaps_rollup r;
	assert_int_equal(smaps_rollup_parse(real, strlen(real), &r), 0);
	assert_int_equal(r.rss_kb, 34212);
	assert_int_equal(r.private_dirty_kb, 32932);
	assert_int_equal(r.shared_dirty_kb, 400);
	assert_int_equal(r.anon_kb, 33100);
	/* a length, not a NUL: the first 2 lines alone lack Private_Dirty */
	assert_int_equal(smaps_rollup_parse(real, (size_t)(strstr(real, "Pss:") - real), &r),
			 -EINVAL);
}

static void test_refused(void **st)
{
	(void)st;
	static const char *const bad[] = {
		"",
		"Rss: 1 kB\n",                                      /* no Private_Dirty */
		"Private_Dirty: 1 kB\n",                            /* no Rss */
		"Rss: 1 kB\nPrivate_Dirty: x kB\n",
		"Rss: 1 kB\nPrivate_Dirty: 1 MB\n",
		"Rss: 1 kB\nPrivate_Dirty: -1 kB\n",
		"Rss: 1 kB\nPrivate_Dirty: 1 kB trailing\n",
		"Rss: 1 kB\nPrivate_Dirty: 1099511627777 kB\n",    /* > 2^40 KiB */
		"Rss: 1 kB\nPrivate_Dirty: 99999999999999999999999 kB\n",
		"Rss: 1 kB\nPrivate_Dirty: 1 kB\nPrivate_Dirty: 2 kB\n", /* which one? */
		"Rss: 1 kB\nPrivate_Dirty:  kB\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct smaps_rollup r;
		if (smaps_rollup_parse(bad[i], strlen(bad[i]), &r) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
	}
	/* unknown keys and odd lines are skipped */
	const char ok[] = "Rss: 5 kB\nWeird line\nFuture_Key: whatever\nPrivate_Dirty: 3 kB";
	struct smaps_rollup r;
	assert_int_equal(smaps_rollup_parse(ok, strlen(ok), &r), 0);
	assert_int_equal(r.private_dirty_kb, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
