/* bootid.c - see bootid.h. */
#include "bootid.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "util.h"

int boot_id_parse(const char *buf, char *out, size_t size)
{
	size_t len = strcspn(buf, "\n");
	if (len < 32 || len > 36 || len >= size || (buf[len] && buf[len + 1]))
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)buf[i]) && buf[i] != '-')
			return -EINVAL;
	memcpy(out, buf, len);
	out[len] = '\0';
	return 0;
}

int boot_id_read(const struct roots *r, char *out, size_t size)
{
	char buf[128];
	ssize_t n = read_file_at(r->procfs, BOOT_ID_REL, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return boot_id_parse(buf, out, size);
}
