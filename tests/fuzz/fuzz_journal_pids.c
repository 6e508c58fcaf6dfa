/* fuzz_journal_pids.c - libFuzzer target for the journal.pids line reader:
 * arbitrary bytes as the file's content.  Every accepted line must format
 * back to exactly the bytes it was read from, and the whole-line length
 * never passes the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "journal_pids.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	const char *buf;
	size_t off, len;
};

static int check(const struct jpids_op *op, void *arg)
{
	struct seen *s = arg;
	char line[JPIDS_LINE_MAX];
	int n = jpids_format(op, line, sizeof(line));
	if (n <= 0 || op->pid <= 0 || (op->add && op->seq == 0))
		abort();
	/* skip NUL-holding lines the reader ignored, then compare */
	while (s->off < s->len) {
		const char *nl = memchr(s->buf + s->off, '\n', s->len - s->off);
		if (!nl)
			abort();
		size_t ll = (size_t)(nl + 1 - (s->buf + s->off));
		if (!memchr(s->buf + s->off, '\0', ll)) {
			if (ll != (size_t)n || memcmp(line, s->buf + s->off, ll) != 0)
				abort();
			s->off += ll;
			return 0;
		}
		s->off += ll;
	}
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen s = { (const char *)data, 0, size };
	const char *nl = memchr(data, '\n', size);
	char boot[JPIDS_BOOT_MAX];
	size_t whole;
	s.off = nl ? (size_t)(nl + 1 - (const char *)data) : size; /* the boot line */
	if (jpids_parse((const char *)data, size, boot, sizeof(boot), &whole, check, &s) == 0 &&
	    (whole > size || (whole && !boot[0])))
		abort();
	return 0;
}
