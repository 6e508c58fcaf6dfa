/* fuzz_learn.c - libFuzzer target for the learned.json parser: arbitrary
 * bytes as the file's content.  Whatever is accepted must be a well-formed
 * set of records (bounded rings, NUL-terminated unique names), give a finite
 * estimate, and survive format -> parse unchanged. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "learn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_record(const struct svc_learning *l)
{
	size_t len = strnlen(l->name, sizeof(l->name));
	if (len == 0 || len == sizeof(l->name) || l->n > LEARN_WINDOW ||
	    l->head >= LEARN_WINDOW || l->episodes_total < l->n || !wg_valid(&l->workers))
		abort();
	size_t nl;
	if (wg_estimate(&l->workers, NULL, &nl) > WG_MAX_KB || nl > WG_RING)
		abort();
	struct learn_estimate e = learn_estimate(l, 1700000000, 3600);
	if (!isfinite(e.growth) || e.growth < 0 || e.episodes > l->n ||
	    (e.learning && e.growth != LEARN_DEFAULT_GROWTH))
		abort();
	e = learn_estimate(l, 0, 0);
	if (!isfinite(e.growth) || e.growth < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	struct svc_learning *l;
	size_t n;
	if (learn_parse(text, &l, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			check_record(&l[i]);
			for (size_t j = 0; j < i; j++)
				if (strcmp(l[i].name, l[j].name) == 0)
					abort();
		}
		/* what was accepted must format, and parse back the same */
		char *doc;
		if (learn_format(l, n, &doc) != 0)
			abort();
		struct svc_learning *back;
		size_t nb;
		if (learn_parse(doc, &back, &nb) != 0 || nb != n)
			abort();
		for (size_t i = 0; i < n; i++) {
			if (strcmp(l[i].name, back[i].name) != 0 ||
			    l[i].episodes_total != back[i].episodes_total || l[i].n != back[i].n)
				abort();
			for (size_t k = 0; k < l[i].n; k++) {
				size_t a = (l[i].head + LEARN_WINDOW - l[i].n + k) % LEARN_WINDOW;
				size_t b = (back[i].head + LEARN_WINDOW - back[i].n + k) % LEARN_WINDOW;
				if (memcmp(&l[i].ep[a], &back[i].ep[b], sizeof(l[i].ep[a])) != 0)
					abort();
			}
		}
		free(back);
		free(doc);
		free(l);
	}
	free(text);
	return 0;
}
