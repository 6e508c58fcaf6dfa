/* origin.h - where in the policy a value came from, carried into every action. */
#ifndef OVERCOMMITD_ORIGIN_H
#define OVERCOMMITD_ORIGIN_H

struct origin {
	const char *file; /* owned by the policy (interned); NULL = built-in default */
	int line;         /* 1-based; 0 = built-in default */
};

#include <stddef.h>

/* "FILE:LINE", "FILE" (no line known) or "built-in default"; returns buf. */
const char *origin_fmt(const struct origin *o, char *buf, size_t size);

#endif
