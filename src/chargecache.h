/* chargecache.h - exact fork charges read from smaps, kept per process
 * (pid + start time, DESIGN §7.8) as a correction on top of the cheap
 * VmData + VmStk readings that follow, and the rule for when to read smaps
 * again.  No I/O and no clock: the caller passes "now" in seconds. */
#ifndef OVERCOMMITD_CHARGECACHE_H
#define OVERCOMMITD_CHARGECACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "forkcharge.h"

/* smaps costs ~9 ms per GiB under the process's mmap lock: at most once per
 * this many seconds per process, whatever asks. */
#define CHARGE_REREAD_MIN_S 600
/* VmData moving by more than this (basis points) since the read asks again. */
#define CHARGE_VMDATA_MOVE_BP 1000

struct charge_entry {
	int pid;
	uint64_t start_time;
	struct smaps_charge exact;
	uint64_t cheap_kb;      /* VmData + VmStk when smaps was read */
	uint64_t vm_data_kb;    /* VmData then */
	int64_t mode;           /* vm.overcommit_memory then */
	uint64_t read_at_s;     /* the caller's clock then */
};

struct charge_cache {
	struct charge_entry *e;
	size_t n, cap;
};

enum charge_read_why {
	CHARGE_KEEP = 0,        /* no read: nothing asks, or read too recently */
	CHARGE_FIRST,           /* first sighting of this main process */
	CHARGE_IN_BAND,         /* the cheap verdict lies inside the uncertainty band */
	CHARGE_VMDATA_MOVED,    /* VmData moved by more than 10% since the read */
	CHARGE_MODE_CHANGED,    /* vm.overcommit_memory changed since the read */
};
const char *charge_read_why_name(enum charge_read_why w);

const struct charge_entry *charge_cache_find(const struct charge_cache *c, int pid,
					     uint64_t start_time);
/* Should smaps of this main process be read now? */
enum charge_read_why charge_cache_why(const struct charge_cache *c, int pid, uint64_t start_time,
				      uint64_t vm_data_kb, int64_t mode, bool in_band,
				      uint64_t now_s);
/* Record a read (replaces the entry of the same pid).  0 or -ENOMEM. */
int charge_cache_put(struct charge_cache *c, int pid, uint64_t start_time,
		     const struct smaps_charge *exact, uint64_t cheap_kb, uint64_t vm_data_kb,
		     int64_t mode, uint64_t now_s);
/* Drop the entry of this pid (the process exited). */
void charge_cache_forget(struct charge_cache *c, int pid);
void charge_cache_free(struct charge_cache *c);

/* The charge a verdict uses for a process whose VmData + VmStk is cheap_kb
 * now: the entry's correction when there is one (e may be NULL), else the
 * estimate, with maps' largest private writable VMA when maps was read
 * (me may be NULL). */
struct fork_charge fork_charge_from(const struct charge_entry *e, uint64_t cheap_kb,
				    const struct maps_estimate *me);

#endif
