/* refusal_bpf.c - load bpf/refusal.bpf.c (its skeleton is generated at
 * build time, CO-RE: relocated against the running kernel's BTF at load)
 * and read its ring buffer (refusal_bpf.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../bpf/refusal_abi.h"
#include "refusal_bpf.h"
#include "util.h"

/* the generated skeleton casts its embedded object's const away */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#include "refusal.skel.h"
#pragma GCC diagnostic pop

struct refusal_capture {
	struct refusal_bpf *skel;
	struct ring_buffer *rb;
	void (*cb)(const struct rf_event *e, void *arg);
	void *arg;
	size_t max, handled;
};

/* libbpf's last warning, for the reason given when loading fails */
static char libbpf_last[256];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN) {
		vsnprintf(libbpf_last, sizeof(libbpf_last), fmt, ap);
		libbpf_last[strcspn(libbpf_last, "\n")] = '\0';
	}
	return 0;
}

/* "[none] integrity confidentiality": the bracketed one is in force */
static bool locked_down(const struct roots *r)
{
	char buf[128];
	if (read_file_at(r->sysfs, "kernel/security/lockdown", buf, sizeof(buf)) < 0)
		return false;
	return strstr(buf, "[confidentiality]") != NULL;
}

static int explain(const struct roots *r, int err, const char *stage, char *why, size_t size)
{
	if (locked_down(r))
		snprintf(why, size, "kernel lockdown (confidentiality) forbids BPF programs that read "
				    "kernel memory");
	else if (err == -EPERM || err == -EACCES)
		snprintf(why, size, "not permitted to load BPF: needs CAP_BPF and CAP_PERFMON (or "
				    "CAP_SYS_ADMIN) in the initial namespace; a container must be "
				    "granted them");
	else
		snprintf(why, size, "the kernel refused the BPF program at %s: %s%s%s (needs x86_64 "
				    "Linux 5.15+ with BTF: fexit, ring buffer, bpf_task_pt_regs)",
			 stage, strerror(-err), libbpf_last[0] ? "; libbpf: " : "", libbpf_last);
	return err;
}

static int on_sample(void *ctx, void *data, size_t len)
{
	struct refusal_capture *c = ctx;
	if (len >= sizeof(struct rf_event))
		c->cb(data, c->arg);
	/* a negative return stops libbpf after this record, consumed */
	return ++c->handled >= c->max ? -EAGAIN : 0;
}

static int load(const struct roots *r, struct refusal_capture *c, char *why, size_t size)
{
	c->skel = refusal_bpf__open();
	if (!c->skel)
		return explain(r, -errno, "open", why, size);
	int rc = refusal_bpf__load(c->skel);
	if (rc < 0)
		return explain(r, rc, "load", why, size);
	rc = refusal_bpf__attach(c->skel);
	if (rc < 0)
		return explain(r, rc, "attach (__vm_enough_memory, kernel_clone)", why, size);
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events), on_sample, c, NULL);
	if (!c->rb)
		return explain(r, -errno, "ring buffer", why, size);
	return 0;
}

int refusal_capture_open(const struct roots *r, struct refusal_capture **out, char *why,
			 size_t why_size)
{
	*out = NULL;
	why[0] = '\0';
	char btf[PATH_BUF];
	int rc = path_join(btf, sizeof(btf), r->sysfs, "kernel/btf/vmlinux");
	if (rc == 0 && access(btf, R_OK) < 0) {
		snprintf(why, why_size, "the kernel has no BTF (%s: %s; CONFIG_DEBUG_INFO_BTF)", btf,
			 strerror(errno));
		return -ENOTSUP;
	}
	struct refusal_capture *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	libbpf_last[0] = '\0';
	libbpf_print_fn_t old = libbpf_set_print(libbpf_print);
	rc = load(r, c, why, why_size);
	libbpf_set_print(old);
	if (rc < 0) {
		refusal_capture_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

int refusal_capture_fd(const struct refusal_capture *c)
{
	return ring_buffer__epoll_fd(c->rb);
}

int refusal_capture_drain(struct refusal_capture *c, size_t max,
			  void (*cb)(const struct rf_event *e, void *arg), void *arg)
{
	if (max == 0)
		return 0;
	c->cb = cb;
	c->arg = arg;
	c->max = max;
	c->handled = 0;
	int rc = ring_buffer__consume(c->rb);
	if (rc < 0 && rc != -EAGAIN)
		return rc;
	return (int)c->handled;
}

int refusal_capture_counts(const struct refusal_capture *c, uint64_t *refused, uint64_t *dropped)
{
	int ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	uint64_t *v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	int fd = bpf_map__fd(c->skel->maps.stats);
	uint64_t sum[RF_ST_NSTATS] = { 0 };
	int rc = 0;
	for (uint32_t k = 0; k < RF_ST_NSTATS && rc == 0; k++) {
		if (bpf_map_lookup_elem(fd, &k, v) < 0) {
			rc = -errno;
			break;
		}
		for (int i = 0; i < ncpu; i++)
			sum[k] += v[i];
	}
	free(v);
	*refused = sum[RF_ST_REFUSED];
	*dropped = sum[RF_ST_DROPPED];
	return rc;
}

void refusal_capture_close(struct refusal_capture *c)
{
	if (!c)
		return;
	ring_buffer__free(c->rb);
	refusal_bpf__destroy(c->skel);
	free(c);
}
