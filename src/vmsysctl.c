/* vmsysctl.c - read the five vm.* sysctls from PROCFS/sys/vm (see vmsysctl.h). */
#include "vmsysctl.h"

#include <errno.h>
#include <string.h>

#include "util.h"

/* Each knob with the knob a write of it zeroes in the kernel and the step
 * it is written in (the model is bpftune's tunables table). */
static const struct {
	const char *name;
	const char *relpath;
	enum vm_knob pair;  /* VM_NKNOBS: none */
	enum vm_step step;
} knobs[VM_NKNOBS] = {
	[VM_OVERCOMMIT_MEMORY] = { "vm.overcommit_memory", "sys/vm/overcommit_memory", VM_NKNOBS,
				   VM_STEP_MODE },
	[VM_OVERCOMMIT_RATIO] = { "vm.overcommit_ratio", "sys/vm/overcommit_ratio",
				  VM_OVERCOMMIT_KBYTES, VM_STEP_SIZE },
	[VM_OVERCOMMIT_KBYTES] = { "vm.overcommit_kbytes", "sys/vm/overcommit_kbytes",
				   VM_OVERCOMMIT_RATIO, VM_STEP_SIZE },
	[VM_USER_RESERVE_KBYTES] = { "vm.user_reserve_kbytes", "sys/vm/user_reserve_kbytes",
				     VM_NKNOBS, VM_STEP_RESERVE },
	[VM_ADMIN_RESERVE_KBYTES] = { "vm.admin_reserve_kbytes", "sys/vm/admin_reserve_kbytes",
				      VM_NKNOBS, VM_STEP_RESERVE },
};

const char *vm_knob_name(enum vm_knob k)
{
	return (unsigned)k < VM_NKNOBS ? knobs[k].name : NULL;
}

const char *vm_knob_relpath(enum vm_knob k)
{
	return (unsigned)k < VM_NKNOBS ? knobs[k].relpath : NULL;
}

enum vm_knob vm_knob_pair(enum vm_knob k)
{
	return (unsigned)k < VM_NKNOBS ? knobs[k].pair : VM_NKNOBS;
}

enum vm_step vm_knob_step(enum vm_knob k)
{
	return (unsigned)k < VM_NKNOBS ? knobs[k].step : VM_STEP_RESERVE;
}

int vm_knob_by_name(const char *name)
{
	for (int k = 0; k < VM_NKNOBS; k++)
		if (strcmp(knobs[k].name, name) == 0)
			return k;
	return -1;
}

const char *vm_mode_name(int64_t mode)
{
	switch (mode) {
	case VM_MODE_HEURISTIC: return "heuristic";
	case VM_MODE_ALWAYS: return "always";
	case VM_MODE_STRICT: return "strict";
	default: return "unknown";
	}
}

int vm_value_parse(const char *buf, int64_t *v)
{
	/* parse_i64 allows the trailing newline and rejects "1 2" or "" */
	return parse_i64(buf, INT64_MIN, INT64_MAX, v) < 0 ? -EINVAL : 0;
}

int vm_sysctls_read(const struct roots *r, struct vm_sysctls *s)
{
	for (int k = 0; k < VM_NKNOBS; k++) {
		char buf[64];
		ssize_t n = read_file_at(r->procfs, knobs[k].relpath, buf, sizeof(buf));
		if (n < 0)
			return (int)n;
		int rc = vm_value_parse(buf, &s->v[k]);
		if (rc < 0)
			return rc;
	}
	return 0;
}
