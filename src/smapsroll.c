/* smapsroll.c - see smapsroll.h. */
#include "smapsroll.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>

#include "privsep.h"
#include "util.h"

#define ROLLUP_MAX_BYTES 4096 /* ~1 KiB today, 25 lines */
#define ROLLUP_MAX_KB ((uint64_t)1 << 40)

/* "  1234 kB" -> 1234; -EINVAL for anything else. */
static int parse_kb(const char *s, size_t len, uint64_t *out)
{
	size_t i = 0;
	while (i < len && s[i] == ' ')
		i++;
	uint64_t v = 0;
	size_t digits = 0;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > ROLLUP_MAX_KB)
			return -EINVAL;
	}
	if (digits == 0 || len - i != 3 || memcmp(s + i, " kB", 3) != 0)
		return -EINVAL;
	*out = v;
	return 0;
}

struct rollup_key {
	const char *name;
	size_t off;
};

static const struct rollup_key rollup_keys[] = {
	{ "Rss", offsetof(struct smaps_rollup, rss_kb) },
	{ "Anonymous", offsetof(struct smaps_rollup, anon_kb) },
	{ "Private_Dirty", offsetof(struct smaps_rollup, private_dirty_kb) },
	{ "Shared_Dirty", offsetof(struct smaps_rollup, shared_dirty_kb) },
};

/* One line; *seen gets the key's bit.  0 for a line that is not ours. */
static int parse_line(const char *line, size_t len, struct smaps_rollup *out, unsigned *seen)
{
	const char *colon = memchr(line, ':', len);
	if (!colon)
		return 0; /* the header line "ADDR-ADDR ---p ... [rollup]" */
	size_t klen = (size_t)(colon - line);
	for (size_t k = 0; k < ARRAY_SIZE(rollup_keys); k++) {
		if (strlen(rollup_keys[k].name) != klen || memcmp(line, rollup_keys[k].name, klen))
			continue;
		if (*seen & (1u << k))
			return -EINVAL;
		*seen |= 1u << k;
		return parse_kb(colon + 1, len - klen - 1,
				(uint64_t *)(void *)((char *)out + rollup_keys[k].off));
	}
	return 0;
}

int smaps_rollup_parse(const char *buf, size_t len, struct smaps_rollup *out)
{
	memset(out, 0, sizeof(*out));
	unsigned seen = 0;
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (buf + i)) : len - i;
		if (parse_line(buf + i, n, out, &seen) < 0)
			return -EINVAL;
		i += n + 1;
	}
	return (seen & 1u) && (seen & 4u) ? 0 : -EINVAL; /* Rss and Private_Dirty */
}

int smaps_rollup_read(const struct roots *r, int pid, struct smaps_rollup *out)
{
	char buf[ROLLUP_MAX_BYTES];
	ssize_t n = privsep_read_file(r, pid, "smaps_rollup", buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return smaps_rollup_parse(buf, (size_t)n, out);
}
