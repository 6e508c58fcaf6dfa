/* unitcache.c - see unitcache.h.  A handful of units: a plain array. */
#include "unitcache.h"

#include <stdio.h>
#include <string.h>

void unitcache_expire(struct unit_cache *c)
{
	c->gen++;
}

/* index of unit's entry, or c->n */
static size_t slot(const struct unit_cache *c, const char *unit)
{
	size_t i = 0;
	while (i < c->n && strcmp(c->e[i].unit, unit) != 0)
		i++;
	return i;
}

const struct unit_entry *unitcache_find(const struct unit_cache *c, const char *unit)
{
	size_t i = slot(c, unit);
	return i < c->n && c->e[i].gen == c->gen ? &c->e[i] : NULL;
}

void unitcache_put(struct unit_cache *c, const char *unit, const char *policy, int rc)
{
	size_t i = slot(c, unit);
	struct unit_entry *e = i < c->n ? &c->e[i] : NULL;
	if (!e && c->n < UNITCACHE_MAX)
		e = &c->e[c->n++];
	if (!e) { /* full: the entry read longest ago goes */
		e = &c->e[0];
		for (size_t k = 1; k < c->n; k++)
			if (c->e[k].gen < e->gen)
				e = &c->e[k];
	}
	snprintf(e->unit, sizeof(e->unit), "%s", unit);
	snprintf(e->policy, sizeof(e->policy), "%s", rc < 0 ? "" : policy);
	e->rc = rc;
	e->gen = c->gen;
}
