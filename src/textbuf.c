/* textbuf.c - see textbuf.h. */
#include "textbuf.h"

#include <string.h>

void tb_init(struct tbuf *b, char *buf, size_t size)
{
	b->p = buf;
	b->end = buf + size - 1;
	b->cut = false;
	*buf = '\0';
}

void tb_strn(struct tbuf *b, const char *s, size_t max)
{
	size_t room = (size_t)(b->end - b->p), n = 0;
	while (n < max && s[n] != '\0')
		n++;
	if (n > room) {
		n = room;
		b->cut = true;
	}
	memcpy(b->p, s, n);
	b->p += n;
	*b->p = '\0';
}

void tb_str(struct tbuf *b, const char *s)
{
	tb_strn(b, s, SIZE_MAX);
}

void tb_chr(struct tbuf *b, char c)
{
	tb_strn(b, &c, 1);
}

void tb_u64(struct tbuf *b, uint64_t v)
{
	char d[24], *q = d + sizeof(d);
	*--q = '\0';
	do
		*--q = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	tb_str(b, q);
}

void tb_i64(struct tbuf *b, int64_t v)
{
	if (v < 0) {
		tb_chr(b, '-');
		tb_u64(b, (uint64_t)0 - (uint64_t)v); /* INT64_MIN too */
		return;
	}
	tb_u64(b, (uint64_t)v);
}

int tb_len(const struct tbuf *b, const char *buf)
{
	return b->cut ? -1 : (int)(b->p - buf);
}

int tb_set_i64(char *buf, size_t size, int64_t v)
{
	struct tbuf b;
	tb_init(&b, buf, size);
	tb_i64(&b, v);
	return tb_len(&b, buf);
}

int tb_set_str(char *buf, size_t size, const char *s)
{
	struct tbuf b;
	tb_init(&b, buf, size);
	tb_str(&b, s);
	return tb_len(&b, buf);
}
