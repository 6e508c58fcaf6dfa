/* escape.c - see escape.h. */
#include "escape.h"

#include <stdio.h>
#include <string.h>

/* The escaped form of byte c into out (at most 4 bytes + NUL); its length. */
static size_t esc_byte(unsigned char c, char out[5])
{
	if (c >= 0x20 && c < 0x7f) {
		out[0] = (char)c;
		out[1] = '\0';
		return 1;
	}
	const char *s = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : NULL;
	if (s) {
		memcpy(out, s, 3);
		return 2;
	}
	snprintf(out, 5, "\\x%02x", c);
	return 4;
}

const char *esc_str(const char *in, char *buf, size_t size)
{
	if (size == 0)
		return buf;
	size_t n = 0, cut = 0; /* cut: the last escape boundary "..." fits after */
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		char e[5];
		size_t len = esc_byte(*p, e);
		if (n + 4 <= size)
			cut = n;
		if (n + len >= size) {
			if (size < 4)
				buf[0] = '\0'; /* no room even for "..." */
			else
				memcpy(buf + cut, "...", 4);
			return buf;
		}
		memcpy(buf + n, e, len);
		n += len;
	}
	buf[n] = '\0';
	return buf;
}
