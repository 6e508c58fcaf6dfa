/* fuzz_procconn.c - libFuzzer target for the proc connector parser and the
 * per-CPU sequence tracker.  The input is read two ways: as one netlink
 * payload, and as a stream of cn_msg-framed messages (header + cn_msg.len
 * bytes, like the captured seeds concatenated) whose cpu/seq go through
 * pc_seq_gap() as procconn_drain() would feed them. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/connector.h>

#include "procconn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_event(int rc, const struct pc_event *ev, size_t len)
{
	if (rc != 0 && rc != -EINVAL)
		abort();
	if (rc != 0)
		return;
	if (len < sizeof(struct cn_msg) + 16) /* cn_msg + what, cpu, timestamp */
		abort();
	if (ev->type != PC_NONE && ev->type != PC_FORK && ev->type != PC_EXEC &&
	    ev->type != PC_EXIT && ev->type != PC_OTHER)
		abort();
	if (ev->type != PC_FORK && ev->type != PC_EXIT && (ev->ppid != 0 || ev->ptgid != 0))
		abort();
	if (ev->type != PC_EXIT && ev->exit_code != 0)
		abort();
}

static void track(struct pc_seq *s, const struct pc_event *ev)
{
	unsigned cpu = ev->cpu;
	bool was_seen = cpu < PC_MAX_CPUS && s->seen[cpu];
	uint32_t before = cpu < PC_MAX_CPUS ? s->next[cpu] : 0;
	bool gap = pc_seq_gap(s, cpu, ev->seq);

	if (cpu >= PC_MAX_CPUS) {
		if (gap)
			abort();
		return;
	}
	if (!s->seen[cpu])
		abort();
	if (!was_seen && gap)
		abort(); /* the first message never shows a gap */
	if (gap && s->next[cpu] != ev->seq + 1)
		abort(); /* after a gap the tracker follows the new number */
	if (!gap && s->next[cpu] != ev->seq + 1 && s->next[cpu] != before)
		abort(); /* otherwise it advanced by one or waited (late) */
	if (was_seen && ev->seq == before && (gap || s->next[cpu] != before + 1))
		abort(); /* the expected number is never a gap */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_event ev;
	int rc = procconn_parse(data, size, &ev);
	check_event(rc, &ev, size);

	struct pc_seq *s = calloc(1, sizeof(*s));
	if (!s)
		return 0;
	size_t off = 0;
	while (size - off >= sizeof(struct cn_msg)) {
		struct cn_msg cn;
		memcpy(&cn, data + off, sizeof(cn));
		size_t len = sizeof(cn) + cn.len;
		if (len > size - off)
			len = size - off; /* the parser must refuse the overrun */
		rc = procconn_parse(data + off, len, &ev);
		check_event(rc, &ev, len);
		if (rc == 0)
			track(s, &ev);
		off += len;
	}
	free(s);
	return 0;
}
