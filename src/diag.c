/* diag.c - collected "FILE:LINE: message" problems (see diag.h). */
#include "diag.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Used when memory runs out: a problem must never vanish silently, so the
 * list then holds (or ends with) this static text.  Never freed. */
static char oom_text[] = "out of memory while recording a problem";
static char *oom_list[1] = { oom_text };

void diags_init(struct diags *d)
{
	d->msg = NULL;
	d->n = 0;
	d->cap = 0;
}

static int diags_grow(struct diags *d)
{
	size_t cap = d->cap ? d->cap * 2 : 8;
	if (cap > SIZE_MAX / sizeof(*d->msg))
		return -1;
	char **m;
	if (d->msg == oom_list) {
		m = malloc(cap * sizeof(*m));
		if (m)
			memcpy(m, d->msg, d->n * sizeof(*m));
	} else {
		m = realloc(d->msg, cap * sizeof(*m));
	}
	if (!m)
		return -1;
	d->msg = m;
	d->cap = cap;
	return 0;
}

static char *format_msg(const char *file, int line, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static char *format_msg(const char *file, int line, const char *fmt, va_list ap)
{
	char *body = NULL, *out = NULL;
	if (vasprintf(&body, fmt, ap) < 0)
		return NULL;
	int rc;
	if (file && line > 0)
		rc = asprintf(&out, "%s:%d: %s", file, line, body);
	else if (file)
		rc = asprintf(&out, "%s: %s", file, body);
	else
		rc = asprintf(&out, "%s", body);
	free(body);
	return rc < 0 ? NULL : out;
}

void diags_add(struct diags *d, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m = format_msg(file, line, fmt, ap);
	va_end(ap);
	if (!m)
		m = oom_text;
	if (d->n == d->cap && diags_grow(d) < 0) {
		if (m != oom_text)
			free(m);
		if (d->n == 0) {
			d->msg = oom_list;
			d->n = d->cap = 1;
			return;
		}
		/* no room: the last slot now says that something was lost */
		if (d->msg[d->n - 1] != oom_text)
			free(d->msg[d->n - 1]);
		d->msg[d->n - 1] = oom_text;
		return;
	}
	d->msg[d->n++] = m;
}

void diags_free(struct diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->msg[i] != oom_text)
			free(d->msg[i]);
	if (d->msg != oom_list)
		free(d->msg);
	diags_init(d);
}
