/* meminfo.c - parse /proc/meminfo (see meminfo.h).
 *
 * Strictness: a key we use must look like "Key:  123 kB" exactly (the unit is
 * required: a bare number could be pages); values above MEMINFO_MAX_KB are
 * rejected so later arithmetic (x * ratio) cannot overflow.  A key we use that
 * appears twice is an error: real kernels print each once, so a duplicate
 * means a corrupted or concatenated capture and "last wins" would hide it. */
#include "meminfo.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "util.h"

#define MEMINFO_MAX_KB ((uint64_t)1 << 50) /* 1 EiB */

struct mi_key {
	const char *name;
	size_t off;
	bool required;
};

static const struct mi_key mi_keys[] = {
	{ "MemTotal", offsetof(struct meminfo, mem_total_kb), true },
	{ "MemFree", offsetof(struct meminfo, mem_free_kb), false },
	{ "MemAvailable", offsetof(struct meminfo, mem_available_kb), false },
	{ "SwapTotal", offsetof(struct meminfo, swap_total_kb), true },
	{ "SwapFree", offsetof(struct meminfo, swap_free_kb), false },
	{ "CommitLimit", offsetof(struct meminfo, commit_limit_kb), true },
	{ "Committed_AS", offsetof(struct meminfo, committed_as_kb), true },
	{ "Hugetlb", offsetof(struct meminfo, hugetlb_kb), false },
};

/* "   123 kB" (up to end of line) -> 123. */
static int parse_kb_value(const char *s, size_t len, uint64_t *out)
{
	char v[32];
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len < 3 || memcmp(s + len - 3, " kB", 3) != 0)
		return -EINVAL;
	len -= 3;
	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	if (len == 0 || len >= sizeof(v))
		return -EINVAL;
	memcpy(v, s, len);
	v[len] = '\0';
	if (parse_u64(v, MEMINFO_MAX_KB, out) < 0)
		return -EINVAL;
	return 0;
}

int meminfo_parse(const char *buf, struct meminfo *mi)
{
	bool seen[ARRAY_SIZE(mi_keys)] = { false };
	memset(mi, 0, sizeof(*mi));
	const char *line = buf;
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		const char *colon = memchr(line, ':', len);
		if (colon) {
			size_t klen = (size_t)(colon - line);
			for (size_t i = 0; i < ARRAY_SIZE(mi_keys); i++) {
				if (strlen(mi_keys[i].name) != klen ||
				    memcmp(mi_keys[i].name, line, klen) != 0)
					continue;
				uint64_t v;
				if (seen[i] || parse_kb_value(colon + 1, len - klen - 1, &v) < 0)
					return -EINVAL;
				seen[i] = true;
				memcpy((char *)mi + mi_keys[i].off, &v, sizeof(v));
				break;
			}
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(mi_keys); i++)
		if (mi_keys[i].required && !seen[i])
			return -EINVAL;
	return 0;
}

int meminfo_read(const struct roots *r, struct meminfo *mi)
{
	char buf[16384];
	ssize_t n = read_file_at(r->procfs, "meminfo", buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return meminfo_parse(buf, mi);
}
