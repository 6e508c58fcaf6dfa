/* origin.c - how a policy origin is written in messages and reports. */
#include "origin.h"

#include <stdio.h>

const char *origin_fmt(const struct origin *o, char *buf, size_t size)
{
	if (o->file && o->line > 0)
		snprintf(buf, size, "%s:%d", o->file, o->line);
	else if (o->file)
		snprintf(buf, size, "%s", o->file);
	else
		snprintf(buf, size, "built-in default");
	return buf;
}
