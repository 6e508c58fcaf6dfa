/* refusal_bpf.h - the capture of commit-check refusals: a BPF
 * program on __vm_enough_memory's exit (bpf/refusal.bpf.c), loaded with
 * libbpf, read through its ring buffer.  The only module that talks BPF. */
#ifndef OVERCOMMITD_REFUSAL_BPF_H
#define OVERCOMMITD_REFUSAL_BPF_H

#include <stddef.h>
#include <stdint.h>
#include "roots.h"

struct rf_event;
struct refusal_capture;

/* Load and attach.  Needs CAP_BPF + CAP_PERFMON (or CAP_SYS_ADMIN) now;
 * the attached program and its ring buffer keep working after they are
 * dropped.  On failure returns -errno and says why in `why`, in words
 * (no BTF, lockdown, not permitted, kernel too old). */
int refusal_capture_open(const struct roots *r, struct refusal_capture **out, char *why,
			 size_t why_size);
/* Readable (POLLIN) when records wait. */
int refusal_capture_fd(const struct refusal_capture *c);
/* Hand at most max waiting records to cb; the rest stay for the next
 * call (bounded work per wake).  Returns the number handled or -errno. */
int refusal_capture_drain(struct refusal_capture *c, size_t max,
			  void (*cb)(const struct rf_event *e, void *arg), void *arg);
/* The kernel side's counters: every refusal, and those the ring had no room for. */
int refusal_capture_counts(const struct refusal_capture *c, uint64_t *refused, uint64_t *dropped);
void refusal_capture_close(struct refusal_capture *c);

#endif
