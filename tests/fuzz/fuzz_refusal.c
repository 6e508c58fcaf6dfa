/* fuzz_refusal.c - libFuzzer target for the refusals.json parser (the book
 * the daemon keeps for `status` and `recommend`): arbitrary bytes as the
 * file's content.  What is accepted must stay within the book's bounds,
 * format into the log line without overflow, and survive format -> parse
 * unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "refusal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct refusal_book a, b;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	int rc = refusal_book_parse(buf, &a);
	free(buf);
	if (rc < 0)
		return 0;
	if (a.nrecent > RF_RECENT || a.ntally > RF_TALLIES || a.head != 0)
		abort();
	char line[1024];
	for (size_t i = 0; i < a.nrecent; i++) {
		const struct refusal *r = refusal_book_recent(&a, i);
		if (!r || strnlen(r->comm, sizeof(r->comm)) == sizeof(r->comm))
			abort();
		refusal_format(r, line, sizeof(line));
	}
	(void)refusal_book_total(&a);
	char *doc;
	if (refusal_book_format(&a, &doc) < 0)
		return 0;
	if (refusal_book_parse(doc, &b) < 0 || memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	free(doc);
	return 0;
}
