/* test_model.c - commit accounting arithmetic against the kernel's formulas
 * (mm/util.c vm_commit_limit, __vm_enough_memory), boundary by boundary. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model.h"
#include "tmptree.h"
#include "util.h"

/* The seed host: 2 GiB, no swap, Committed_AS 900 MiB, strict, ratio 50. */
#define SEED_MEM { .mem_total_kb = 2097152, .committed_as_kb = 921600 }
#define SEED_VM(mode, ratio, kbytes) { { mode, ratio, kbytes, 65536, 8192 } }

static const struct {
	const char *name;
	struct meminfo mi;
	struct vm_sysctls vm;
	uint64_t limit_kb;
} limits[] = {
	{ "ratio 50", SEED_MEM, SEED_VM(2, 50, 0), 1048576 },
	{ "kbytes wins over ratio", SEED_MEM, SEED_VM(2, 50, 1500000), 1500000 },
	{ "kbytes rounded down to a page", SEED_MEM, SEED_VM(2, 50, 1500003), 1500000 },
	{ "kbytes + swap", { .mem_total_kb = 2097152, .swap_total_kb = 1048576 }, SEED_VM(2, 50, 1500000), 2548576 },
	{ "ratio 100 + swap", { .mem_total_kb = 2097152, .swap_total_kb = 1048576 }, SEED_VM(2, 100, 0), 3145728 },
	{ "hugetlb excluded", { .mem_total_kb = 2097152, .hugetlb_kb = 524288 }, SEED_VM(2, 50, 0), 786432 },
	{ "hugetlb above RAM", { .mem_total_kb = 2097152, .hugetlb_kb = 4194304 }, SEED_VM(2, 50, 0), 0 },
	{ "ratio 0: swap only", { .mem_total_kb = 2097152, .swap_total_kb = 4096 }, SEED_VM(2, 0, 0), 4096 },
	{ "ratio 150", SEED_MEM, SEED_VM(2, 150, 0), 3145728 },
	{ "negative ratio counts as 0", SEED_MEM, SEED_VM(2, -5, 0), 0 },
	{ "pages truncate (odd page count)", { .mem_total_kb = 24684092 }, SEED_VM(2, 50, 0), 12342044 },
	{ "partial page of MemTotal ignored", { .mem_total_kb = 2097154 }, SEED_VM(2, 50, 0), 1048576 },
};

static void commit_limit_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(limits); i++) {
		uint64_t got = model_commit_limit_kb(&limits[i].mi, &limits[i].vm);
		if (got != limits[i].limit_kb)
			fail_msg("%s: %llu, want %llu", limits[i].name, (unsigned long long)got,
				 (unsigned long long)limits[i].limit_kb);
	}
}

/* The kernel's own CommitLimit, captured and live, must match the model. */
static void commit_limit_real(void **state)
{
	(void)state;
	char buf[16384];
	struct meminfo mi;
	struct vm_sysctls vm = SEED_VM(0, 50, 0); /* this machine: ratio 50, kbytes 0 */
	assert_true(read_file(FIXTURES "/captures/meminfo", buf, sizeof(buf)) > 0);
	assert_int_equal(meminfo_parse(buf, &mi), 0);
	assert_int_equal(model_commit_limit_kb(&mi, &vm), mi.commit_limit_kb);

	struct roots r;
	roots_default(&r);
	assert_int_equal(meminfo_read(&r, &mi), 0);
	assert_int_equal(vm_sysctls_read(&r, &vm), 0);
	assert_int_equal(model_commit_limit_kb(&mi, &vm), mi.commit_limit_kb);
}

struct pspec {
	uint64_t data, stk, size;
	bool admin;
};

static const struct {
	const char *name;
	struct meminfo mi;
	struct vm_sysctls vm;
	struct pspec p;
	bool fits;
	int64_t allowed, headroom;
	int mode;
} forks[] = {
	/* pages: allowed = 262144 - 2048 (admin) - min(165536/32 = 5173, 16384) = 254923,
	 * Committed_AS 230400; headroom = allowed - committed - need */
	{ "seed: redis 600 MiB does not fit", SEED_MEM, SEED_VM(2, 50, 0),
	  { 614400, 132, 662144, false }, false, 1019692, -516440, 2 },
	{ "exactly equal: refused (strict <)", SEED_MEM, SEED_VM(2, 50, 0),
	  { 97960, 132, 662144, false }, false, 1019692, 0, 2 },
	{ "one page less: fits", SEED_MEM, SEED_VM(2, 50, 0),
	  { 97956, 132, 662144, false }, true, 1019692, 4, 2 },
	{ "CAP_SYS_ADMIN skips admin reserve", SEED_MEM, SEED_VM(2, 50, 0),
	  { 97960, 132, 662144, true }, true, 1027884, 8192, 2 },
	{ "user reserve: min() takes the reserve", SEED_MEM, SEED_VM(2, 50, 0),
	  { 4096, 132, 4194304, false }, true, 974848, 49020, 2 },
	{ "user reserve: min() takes total_vm/32", SEED_MEM, SEED_VM(2, 50, 0),
	  { 4096, 132, 262144, false }, true, 1032192, 106364, 2 },
	{ "user reserve 0", SEED_MEM, { { 2, 50, 0, 0, 8192 } },
	  { 4096, 132, 4194304, false }, true, 1040384, 114556, 2 },
	{ "total_vm/32 rounds down in pages", SEED_MEM, SEED_VM(2, 50, 0),
	  { 4096, 132, 124, false }, true, 1040384, 114556, 2 },
	{ "kbytes raised: the seed fork fits", SEED_MEM, SEED_VM(2, 50, 1600000),
	  { 614400, 132, 662144, false }, true, 1571116, 34984, 2 },
	{ "hugetlb shrinks the limit", { .mem_total_kb = 2097152, .hugetlb_kb = 524288, .committed_as_kb = 921600 },
	  SEED_VM(2, 50, 0), { 4096, 132, 0, false }, false, 778240, -147588, 2 },
	{ "reserves above the limit: allowed < 0", { .mem_total_kb = 8192 }, SEED_VM(2, 50, 0),
	  { 0, 0, 0, false }, false, -4096, -4096, 2 },
	{ "unknown mode is strict", SEED_MEM, SEED_VM(7, 50, 0),
	  { 614400, 132, 662144, false }, false, 1019692, -516440, 2 },
	{ "mode 0: the seed fork fits", SEED_MEM, SEED_VM(0, 50, 0),
	  { 614400, 132, 662144, false }, true, 2097152, 1482620, 0 },
	{ "mode 0: need == RAM + swap fits", SEED_MEM, SEED_VM(0, 50, 0),
	  { 2097020, 132, 0, false }, true, 2097152, 0, 0 },
	{ "mode 0: one page more is refused", SEED_MEM, SEED_VM(0, 50, 0),
	  { 2097024, 132, 0, false }, false, 2097152, -4, 0 },
	{ "mode 0: swap counts", { .mem_total_kb = 2097152, .swap_total_kb = 1048576 }, SEED_VM(0, 50, 0),
	  { 3000000, 0, 0, false }, true, 3145728, 145728, 0 },
	{ "mode 1: never refused", SEED_MEM, SEED_VM(1, 50, 0),
	  { 1ULL << 40, 132, 1ULL << 41, false }, true, 2097152, 2097152, 1 },
};

static void fork_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(forks); i++) {
		struct proc_info p = { 0 };
		p.status.vm_data_kb = forks[i].p.data;
		p.status.vm_stk_kb = forks[i].p.stk;
		p.status.vm_size_kb = forks[i].p.size;
		p.status.cap_eff = forks[i].p.admin ? 1ULL << 21 : 0;
		struct fork_check fc = model_fork_check(&forks[i].mi, &forks[i].vm, &p);
		if (fc.fits != forks[i].fits || fc.allowed_kb != forks[i].allowed ||
		    fc.headroom_kb != forks[i].headroom || fc.mode != forks[i].mode ||
		    fc.need_kb != forks[i].p.data + forks[i].p.stk)
			fail_msg("%s: fits %d allowed %lld headroom %lld mode %d", forks[i].name,
				 fc.fits, (long long)fc.allowed_kb, (long long)fc.headroom_kb, fc.mode);
	}
}

/* issue 10: the verdict from an observed charge, three-way; one row per
 * kernel rule.  2 GiB, no swap, CommitLimit 1 GiB (ratio 50), user reserve
 * 64 MiB, admin reserve 8 MiB; Committed_AS 512 MiB; VmSize 0 (no user
 * reserve term) unless stated. */
#define V_MEM { .mem_total_kb = 2097152, .committed_as_kb = 524288 }
#define V_VM(mode) { { mode, 50, 0, 65536, 8192 } }
#define CH(kb, largest, known, basis) { kb, largest, 0, basis, known, true }
static const struct {
	const char *rule;
	struct meminfo mi;
	struct vm_sysctls vm;
	struct fork_input in;
	enum fork_verdict want;
	int64_t headroom;
} verdicts[] = {
	/* allowed = 1 GiB - 8 MiB = 1040384; headroom = 1040384 - 524288 - need */
	{ "__vm_enough_memory: fits by more than the per-CPU slack", V_MEM, V_VM(2),
	  { CH(400000, 1024, true, CHARGE_EXACT), 0, false, 8192, 0 }, FORK_FITS, 116096 },
	{ "percpu_counter_read_positive: within the slack above 0 is uncertain", V_MEM, V_VM(2),
	  { CH(512000, 1024, true, CHARGE_EXACT), 0, false, 8192, 0 }, FORK_UNCERTAIN, 4096 },
	{ "percpu_counter_read_positive: within the slack below 0 is uncertain", V_MEM, V_VM(2),
	  { CH(520192, 1024, true, CHARGE_EXACT), 0, false, 8192, 0 }, FORK_UNCERTAIN, -4096 },
	{ "strict '<': exactly -slack fails", V_MEM, V_VM(2),
	  { CH(524288, 1024, true, CHARGE_EXACT), 0, false, 8192, 0 }, FORK_FAILS, -8192 },
	{ "no band known: the exact test (headroom 0 fails)", V_MEM, V_VM(2),
	  { CH(516096, 1024, true, CHARGE_EXACT), 0, false, 0, 0 }, FORK_FAILS, 0 },
	{ "cap_vm_enough_memory: exempt from the admin reserve", V_MEM, V_VM(2),
	  { CH(516096, 1024, true, CHARGE_EXACT), 0, true, 0, 0 }, FORK_FITS, 8192 },
	{ "__vm_enough_memory: min(total_vm/32, user_reserve) is subtracted", V_MEM, V_VM(2),
	  { CH(400000, 1024, true, CHARGE_EXACT), 1048576, false, 0, 0 }, FORK_FITS, 83328 },
	{ "CommitLimit now from meminfo, not the formula (swapoff in progress)", V_MEM, V_VM(2),
	  { CH(400000, 1024, true, CHARGE_EXACT), 0, false, 0, 1048576 + 262144 }, FORK_FITS,
	  378240 },
	{ "dup_mmap charges ac without dc: MAP_NORESERVE memory is not in the charge", V_MEM,
	  V_VM(2), { CH(252, 132, true, CHARGE_EXACT), 0, false, 8192, 0 }, FORK_FITS, 515844 },
	{ "OVERCOMMIT_GUESS: one VMA above RAM + swap fails", V_MEM, V_VM(0),
	  { CH(3000000, 2200000, true, CHARGE_EXACT), 0, false, 0, 0 }, FORK_FAILS, -102848 },
	{ "OVERCOMMIT_GUESS: never a sum: many VMAs above RAM + swap in total fit", V_MEM, V_VM(0),
	  { CH(3000000, 1048576, true, CHARGE_EXACT), 0, false, 0, 0 }, FORK_FITS, 1048576 },
	{ "OVERCOMMIT_GUESS: only the sum known and above RAM + swap: uncertain", V_MEM, V_VM(0),
	  { CH(3000000, 3000000, false, CHARGE_ESTIMATE), 0, false, 0, 0 }, FORK_UNCERTAIN,
	  -902848 },
	{ "OVERCOMMIT_GUESS: the per-CPU counter is not read: no band", V_MEM, V_VM(0),
	  { CH(2097152, 2097152, true, CHARGE_EXACT), 0, false, 1 << 20, 0 }, FORK_FITS, 0 },
	{ "OVERCOMMIT_ALWAYS: never refused", V_MEM, V_VM(1),
	  { CH(1ull << 40, 1ull << 40, true, CHARGE_EXACT), 0, false, 0, 0 }, FORK_FITS, 2097152 },
};

static void verdict_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(verdicts); i++) {
		struct fork_check fc = model_fork_verdict(&verdicts[i].mi, &verdicts[i].vm, &verdicts[i].in);
		if (fc.verdict != verdicts[i].want || fc.headroom_kb != verdicts[i].headroom ||
		    fc.fits != (verdicts[i].want == FORK_FITS) || fc.basis != verdicts[i].in.charge.basis)
			fail_msg("%s: %s headroom %lld", verdicts[i].rule, fork_verdict_name(fc.verdict),
				 (long long)fc.headroom_kb);
	}
	assert_string_equal(fork_verdict_name(FORK_UNCERTAIN), "uncertain");
}

/* The seed fixture end to end: files -> structs -> verdict. */
static void seed_fixture(void **state)
{
	(void)state;
	struct roots r = { .procfs = FIXTURES "/seed-strict/proc" };
	struct meminfo mi;
	struct vm_sysctls vm;
	struct proc_info p;
	assert_int_equal(meminfo_read(&r, &mi), 0);
	assert_int_equal(vm_sysctls_read(&r, &vm), 0);
	assert_int_equal(proc_read(&r, 100, &p), 0);
	assert_int_equal(model_commit_limit_kb(&mi, &vm), mi.commit_limit_kb);
	struct fork_check fc = model_fork_check(&mi, &vm, &p);
	assert_false(fc.fits);
	assert_int_equal(fc.need_kb, 614532);
	assert_int_equal(fc.headroom_kb, -516440);
	assert_true(mi.mem_free_kb > fc.need_kb); /* the point: RAM is free */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(commit_limit_table),
		cmocka_unit_test(commit_limit_real),
		cmocka_unit_test(fork_table),
		cmocka_unit_test(verdict_table),
		cmocka_unit_test(seed_fixture),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
