/* test_forkcharge.c - the exact fork charge from smaps and the mode 0
 * estimate from maps: one table per kernel rule, each row naming it; then
 * this machine's own kernel (mappings made here, read back from
 * /proc/self/smaps: reading is all this test does to the host). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "forkcharge.h"
#include "tmptree.h"

/* one smaps entry: header for a VMA of kb KiB at addr, then flags */
#define VMA(addr, end, perms, flags)                                          \
	addr "-" end " " perms " 00000000 00:00 0 \n"                          \
	"Size:               4 kB\nRss:                0 kB\n"                  \
	"VmFlags: " flags "\n"

static const struct {
	const char *rule;  /* the kernel rule the row checks */
	const char *buf;
	int rc;
	uint64_t charge, largest, dontfork, noreserve;
} smaps_rows[] = {
	{ "dup_mmap: VM_ACCOUNT VMA charged for its whole length (1 MiB heap)",
	  VMA("00400000", "00500000", "rw-p", "rd wr mr mw me ac sd "), 0, 1024, 1024, 0, 0 },
	{ "dup_mmap: VM_DONTCOPY skipped before the VM_ACCOUNT test (MADV_DONTFORK)",
	  VMA("00400000", "00500000", "rw-p", "rd wr mr mw me dc ac sd "), 0, 0, 0, 1024, 0 },
	{ "accountable_mapping: MAP_NORESERVE under mode 0/1 sets VM_NORESERVE, no VM_ACCOUNT",
	  VMA("7f0000000000", "7f0040000000", "rw-p", "rd wr mr mw me nr sd "), 0, 0, 0, 0, 1048576 },
	{ "mprotect keeps VM_ACCOUNT: RELRO / PROT_NONE arena still charged",
	  VMA("00400000", "00500000", "r--p", "rd mr mw me ac sd ")
	  VMA("00600000", "00800000", "---p", "mr mw me ac sd "), 0, 3072, 2048, 0, 0 },
	{ "accountable_mapping: VM_SHARED never charged (shmem is charged once, at mmap)",
	  VMA("00400000", "00500000", "rw-s", "rd wr sh mr mw me ms sd "), 0, 0, 0, 0, 0 },
	{ "accountable_mapping: hugetlb has its own accounting",
	  VMA("00400000", "00600000", "rw-p", "rd wr mr mw me de ht sd "), 0, 0, 0, 0, 0 },
	{ "read-only text: not VM_WRITE, not charged",
	  VMA("00400000", "00500000", "r-xp", "rd ex mr mw me sd "), 0, 0, 0, 0, 0 },
	{ "dup_mmap: each VMA charged on its own: sum and largest",
	  VMA("00400000", "00500000", "rw-p", "rd wr ac ")
	  VMA("00500000", "00d00000", "rw-p", "rd wr ac ")
	  VMA("7ffff0000000", "7ffff0021000", "rw-p", "rd wr mr mw me gd ac "), 0,
	  1024 + 8192 + 132, 8192, 0, 0 },
	{ "empty smaps (kernel thread / exited): zero", "", 0, 0, 0, 0, 0 },
	/* hostile input */
	{ "VMA without VmFlags (kernel < 3.8): refused", "00400000-00500000 rw-p 0 0:0 0\nSize: 4 kB\n",
	  -EINVAL, 0, 0, 0, 0 },
	{ "two headers in a row: refused",
	  "00400000-00500000 rw-p 0 0:0 0\n00500000-00600000 rw-p 0 0:0 0\nVmFlags: ac\n",
	  -EINVAL, 0, 0, 0, 0 },
	{ "VmFlags before any header: refused", "VmFlags: ac\n", -EINVAL, 0, 0, 0, 0 },
	{ "end below start: refused", "00500000-00400000 rw-p 0 0:0 0\nVmFlags: ac\n", -EINVAL, 0, 0,
	  0, 0 },
	{ "17 hex digits: refused", "00000000000000000-1 rw-p 0 0:0 0\nVmFlags: ac\n", -EINVAL, 0, 0,
	  0, 0 },
	{ "a three-letter flag: refused", "00400000-00500000 rw-p 0 0:0 0\nVmFlags: acc\n", -EINVAL,
	  0, 0, 0, 0 },
	{ "uppercase flag: refused", "00400000-00500000 rw-p 0 0:0 0\nVmFlags: AC\n", -EINVAL, 0, 0,
	  0, 0 },
	{ "truncated header: refused", "00400000-00500000 rw\nVmFlags: ac\n", -EINVAL, 0, 0, 0, 0 },
	{ "no trailing newline still parses", "00400000-00500000 rw-p 0 0:0 0\nVmFlags: ac", 0, 1024,
	  1024, 0, 0 },
};

static void smaps_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(smaps_rows) / sizeof(smaps_rows[0]); i++) {
		struct smaps_charge c;
		memset(&c, 0xa5, sizeof(c));
		int rc = smaps_charge_parse(smaps_rows[i].buf, strlen(smaps_rows[i].buf), &c);
		if (rc != smaps_rows[i].rc)
			fail_msg("%s: rc %d", smaps_rows[i].rule, rc);
		if (rc)
			continue;
		if (c.charge_kb != smaps_rows[i].charge || c.largest_kb != smaps_rows[i].largest ||
		    c.dontfork_kb != smaps_rows[i].dontfork || c.noreserve_kb != smaps_rows[i].noreserve)
			fail_msg("%s: charge %llu largest %llu dontfork %llu noreserve %llu",
				 smaps_rows[i].rule, (unsigned long long)c.charge_kb,
				 (unsigned long long)c.largest_kb, (unsigned long long)c.dontfork_kb,
				 (unsigned long long)c.noreserve_kb);
	}
}

static const struct {
	const char *rule;
	const char *buf;
	int rc;
	uint64_t largest, sum;
} maps_rows[] = {
	{ "accountable_mapping: private writable is a candidate (largest of three)",
	  "00400000-00500000 rw-p 00000000 00:00 0 \n"
	  "00500000-00600000 r-xp 00000000 08:01 12 /bin/x\n"
	  "7f0000000000-7f0040000000 rw-p 00000000 00:00 0 \n",
	  0, 1048576, 1048576 + 1024 },
	{ "accountable_mapping: VM_SHARED never", "00400000-00500000 rw-s 00000000 00:05 9 /dev/zero (deleted)\n",
	  0, 0, 0 },
	{ "accountable_mapping: hugetlb excluded",
	  "00400000-00600000 rw-p 00000000 00:0f 9 /anon_hugepage (deleted)\n", 0, 0, 0 },
	{ "a path with spaces", "00400000-00500000 rw-p 00000000 08:01 12 /a b/c d\n", 0, 1024, 1024 },
	{ "junk line: refused", "hello\n", -EINVAL, 0, 0 },
	{ "no perms: refused", "00400000-00500000\n", -EINVAL, 0, 0 },
};

static void maps_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(maps_rows) / sizeof(maps_rows[0]); i++) {
		struct maps_estimate m;
		int rc = maps_estimate_parse(maps_rows[i].buf, strlen(maps_rows[i].buf), &m);
		if (rc != maps_rows[i].rc)
			fail_msg("%s: rc %d", maps_rows[i].rule, rc);
		if (rc == 0 && (m.largest_kb != maps_rows[i].largest ||
				m.private_write_kb != maps_rows[i].sum))
			fail_msg("%s: largest %llu sum %llu", maps_rows[i].rule,
				 (unsigned long long)m.largest_kb, (unsigned long long)m.private_write_kb);
	}
}

/* The kernel this test runs on: three mappings of known size and kind. */
static void this_kernel(void **state)
{
	(void)state;
	struct roots r;
	roots_default(&r);
	struct smaps_charge before, after;
	assert_int_equal(smaps_charge_read(&r, (int)getpid(), &before), 0);
	size_t mb = 1 << 20;
	/* 5 MiB accounted, then 1 MiB of it read-only: still charged (mprotect
	 * keeps VM_ACCOUNT) */
	char *acc = mmap(NULL, 5 * mb, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *dnf = mmap(NULL, 3 * mb, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(acc != MAP_FAILED && dnf != MAP_FAILED);
	acc[0] = 1;
	assert_int_equal(mprotect(acc, mb, PROT_READ), 0);
	assert_int_equal(madvise(dnf, 3 * mb, MADV_DONTFORK), 0);
	assert_int_equal(smaps_charge_read(&r, (int)getpid(), &after), 0);
	long long d = (long long)after.charge_kb - (long long)before.charge_kb;
	/* other allocations of the test itself may move by a few pages */
	assert_in_range(d, 5 * 1024, 5 * 1024 + 256);
	assert_true(after.dontfork_kb >= before.dontfork_kb + 3 * 1024);
	struct maps_estimate m;
	assert_int_equal(maps_estimate_read(&r, (int)getpid(), &m), 0);
	assert_true(m.largest_kb >= 4 * 1024);
	munmap(acc, 5 * mb);
	munmap(dnf, 3 * mb);
	assert_int_equal(smaps_charge_read(&r, 999999999, &after), -ENOENT);
}

/* A fixture tree: the reader streams a file larger than any buffer. */
static void big_file(void **state)
{
	(void)state;
	char *root = tt_make();
	size_t n = 20000, cap = n * 128;
	char *buf = malloc(cap), *p = buf;
	assert_non_null(buf);
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%08zx-%08zx rw-p 00000000 00:00 0 \nVmFlags: rd wr ac \n",
			     i * 0x2000, i * 0x2000 + 0x1000);
	tt_write_n(root, "proc/42/smaps", buf, (size_t)(p - buf));
	struct roots r = { 0 };
	snprintf(r.procfs, sizeof(r.procfs), "%s/proc", root);
	struct smaps_charge c;
	assert_int_equal(smaps_charge_read(&r, 42, &c), 0);
	assert_int_equal(c.nvma, n);
	assert_int_equal(c.charge_kb, n * 4);
	assert_int_equal(smaps_charge_parse(buf, (size_t)(p - buf), &c), 0);
	assert_int_equal(c.charge_kb, n * 4);
	free(buf);
	tt_rm(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(smaps_table),
		cmocka_unit_test(maps_table),
		cmocka_unit_test(this_kernel),
		cmocka_unit_test(big_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
