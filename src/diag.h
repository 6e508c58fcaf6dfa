/* diag.h - a list of "FILE:LINE: message" problems, collected, then reported
 * together by the agent (all of them, never only the first). */
#ifndef OVERCOMMITD_DIAG_H
#define OVERCOMMITD_DIAG_H

#include <stddef.h>

struct diags {
	char **msg;  /* each already formatted "FILE:LINE: message" or "FILE: message" */
	size_t n, cap;
};

void diags_init(struct diags *d);
/* line <= 0 omits the line number.  Allocation failure is recorded as a
 * generic message so that an error is never lost silently. */
void diags_add(struct diags *d, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void diags_free(struct diags *d);

#endif
