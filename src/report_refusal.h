/* report_refusal.h - the commit-refusal part of `status` (report_refusal.c). */
#ifndef OVERCOMMITD_REPORT_REFUSAL_H
#define OVERCOMMITD_REPORT_REFUSAL_H

#include <stdio.h>
#include "refusal.h"

struct json_object;

void report_refusals_text(FILE *out, const struct refusal_book *b);
/* The book's JSON (refusal_store.c) plus "total"; NULL: no memory. */
struct json_object *report_refusals_json(const struct refusal_book *b);

#endif
