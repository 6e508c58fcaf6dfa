/* textbuf.h - bounded text built piece by piece, without printf.
 *
 * For the exec -> enforced path only: in the TCG guest of the VM tiers one
 * vsnprintf costs ~6 us, and that path formatted ~25 of them (its plan's
 * texts, its journal lines, its pin path) before the move (round 9,
 * BENCHMARKS.md).  Everywhere else snprintf is clearer and stays.
 * Like snprintf: the text is always NUL-terminated and cut at the size;
 * tb_cut says whether it was. */
#ifndef OC_TEXTBUF_H
#define OC_TEXTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tbuf {
	char *p;   /* the NUL ending the text so far */
	char *end; /* the last byte of the buffer: room for the NUL */
	bool cut;  /* something did not fit */
};

/* An empty text in buf[size] (size > 0). */
void tb_init(struct tbuf *b, char *buf, size_t size);
/* %s */
void tb_str(struct tbuf *b, const char *s);
/* %.*s: at most max bytes of s */
void tb_strn(struct tbuf *b, const char *s, size_t max);
/* %c */
void tb_chr(struct tbuf *b, char c);
/* %lld, %llu */
void tb_i64(struct tbuf *b, int64_t v);
void tb_u64(struct tbuf *b, uint64_t v);
/* The length of the text; -1 when it was cut (as snprintf's n >= size). */
int tb_len(const struct tbuf *b, const char *buf);
/* The whole text in one piece, as snprintf(buf, size, "%lld" or "%s"):
 * its length, -1 when cut. */
int tb_set_i64(char *buf, size_t size, int64_t v);
int tb_set_str(char *buf, size_t size, const char *s);

#endif
