/* report_refusal.c - commit refusals in `status` (text and JSON): whether
 * the capture runs, counts per service and operation, the last refusals
 * in the daemon's words (issue 14). */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>

#include "escape.h"
#include "refusal_evidence.h"
#include "refusal_store.h"
#include "report_refusal.h"

#define TEXT_LAST 5 /* refusals shown in the text report */

static void text_state(FILE *out, const struct refusal_book *b)
{
	char since[40], why[ESC_SIZE(sizeof(b->why))];
	switch (b->capture) {
	case RF_CAPTURE_ACTIVE:
		fprintf(out, "\ncommit refusals: capture active since %s, %" PRIu64 " seen",
			refusal_time_str(b->since_ms, since, sizeof(since)), refusal_book_total(b));
		if (b->lost)
			fprintf(out, " (+%" PRIu64 " counted by the kernel, not recorded)", b->lost);
		fprintf(out, "\n");
		return;
	case RF_CAPTURE_UNAVAILABLE:
		fprintf(out, "\ncommit refusals: capture unavailable: %s\n",
			esc_str(b->why, why, sizeof(why)));
		break;
	default:
		fprintf(out, "\ncommit refusals: no record (the daemon keeps one in the state "
			     "directory while it runs)\n");
		break;
	}
	if (refusal_book_total(b))
		fprintf(out, "  earlier: %" PRIu64 " seen\n", refusal_book_total(b));
}

void report_refusals_text(FILE *out, const struct refusal_book *b)
{
	char ops[96], name[ESC_SIZE(RF_NAME_MAX)], line[1024], esc[ESC_SIZE(1024)], t[40];
	text_state(out, b);
	for (size_t i = 0; i < b->ntally; i++) {
		const struct refusal_tally *ta = &b->tally[i];
		fprintf(out, "  %s: %s; last at %s\n",
			ta->service[0] ? esc_str(ta->service, name, sizeof(name)) : "(no service)",
			refusal_ops_str(ta, ops, sizeof(ops)),
			refusal_time_str(ta->last_ms, t, sizeof(t)));
	}
	for (size_t i = 0; i < TEXT_LAST; i++) {
		const struct refusal *r = refusal_book_recent(b, i);
		if (!r)
			break;
		refusal_format(r, line, sizeof(line));
		fprintf(out, "  %s %s\n", refusal_time_str(r->time_ms, t, sizeof(t)),
			esc_str(line, esc, sizeof(esc)));
	}
}

struct json_object *report_refusals_json(const struct refusal_book *b)
{
	json_object *o = refusal_book_json(b);
	if (!o)
		return NULL;
	json_object *total = json_object_new_int64((int64_t)refusal_book_total(b));
	if (!total || json_object_object_add(o, "total", total) < 0) {
		json_object_put(total);
		json_object_put(o);
		return NULL;
	}
	return o;
}
