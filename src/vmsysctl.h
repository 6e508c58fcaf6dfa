/* vmsysctl.h - the five vm.* sysctls overcommitd reads and plans. */
#ifndef OVERCOMMITD_VMSYSCTL_H
#define OVERCOMMITD_VMSYSCTL_H

#include <stdint.h>
#include "roots.h"

enum vm_knob {
	VM_OVERCOMMIT_MEMORY = 0,
	VM_OVERCOMMIT_RATIO,
	VM_OVERCOMMIT_KBYTES,
	VM_USER_RESERVE_KBYTES,
	VM_ADMIN_RESERVE_KBYTES,
	VM_NKNOBS
};

/* vm.overcommit_memory's values (Documentation/mm/overcommit-accounting). */
enum vm_mode {
	VM_MODE_HEURISTIC = 0, /* OVERCOMMIT_GUESS */
	VM_MODE_ALWAYS = 1,    /* OVERCOMMIT_ALWAYS */
	VM_MODE_STRICT = 2,    /* OVERCOMMIT_NEVER */
};

/* "heuristic", "always", "strict"; "unknown" for any other value. */
const char *vm_mode_name(int64_t mode);

struct vm_sysctls {
	int64_t v[VM_NKNOBS];
};

/* The steps a batch of sysctl writes runs in, in this order: the reserves,
 * then the overcommit_ratio / overcommit_kbytes pair (the one written to 0
 * first, the one that sets a value last, so the kernel keeps it), then the
 * mode, so strict accounting never starts with the old, too small
 * CommitLimit; a batch that leaves strict mode writes the mode first. */
enum vm_step { VM_STEP_RESERVE = 0, VM_STEP_SIZE, VM_STEP_MODE };

const char *vm_knob_name(enum vm_knob k);   /* "vm.overcommit_memory" */
const char *vm_knob_relpath(enum vm_knob k); /* "sys/vm/overcommit_memory" (under procfs) */
/* The knob a write of k zeroes in the kernel (ratio <-> kbytes), else VM_NKNOBS. */
enum vm_knob vm_knob_pair(enum vm_knob k);
enum vm_step vm_knob_step(enum vm_knob k);
int vm_knob_by_name(const char *name);      /* enum vm_knob, or -1 */
/* Parse one sysctl file's content (a single integer, newline optional). */
int vm_value_parse(const char *buf, int64_t *v);
int vm_sysctls_read(const struct roots *r, struct vm_sysctls *s);

#endif
