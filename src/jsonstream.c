/* jsonstream.c - see jsonstream.h. */
#include "jsonstream.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MEMBERS 16

struct walk {
	const char *buf;
	size_t len, off;
	struct json_tokener *tok;
	bool found; /* the array member was there */
};

static void skip_ws(struct walk *w)
{
	while (w->off < w->len && strchr(" \t\n\r", w->buf[w->off]) && w->buf[w->off])
		w->off++;
}

/* The next character, after whitespace, is c: consume it. */
static bool take(struct walk *w, char c)
{
	skip_ws(w);
	if (w->off >= w->len || w->buf[w->off] != c)
		return false;
	w->off++;
	return true;
}

/* Length of the value starting at b (strings and nesting skipped by their
 * punctuation; json-c judges the content); 0 when it does not end. */
static size_t extent(const char *b, size_t len)
{
	size_t depth = 0, i = 0;
	bool str = false;
	if (b[0] != '"' && b[0] != '{' && b[0] != '[') {
		while (i < len && !strchr(",}] \t\n\r", b[i]))
			i++;
		return i;
	}
	for (; i < len; i++) {
		char c = b[i];
		if (str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				str = false;
			if (!str && depth == 0)
				return i + 1;
			continue;
		}
		if (c == '"')
			str = true;
		else if (c == '{' || c == '[')
			depth++;
		else if ((c == '}' || c == ']') && depth > 0 && --depth == 0)
			return i + 1;
	}
	return 0;
}

/* One complete JSON value at the current offset (NULL: none).  json-c's
 * strict mode refuses anything after a value, so it gets exactly the
 * value's bytes, NUL-terminated (which also ends a bare number). */
static struct json_object *value(struct walk *w)
{
	skip_ws(w);
	size_t n = w->off < w->len ? extent(w->buf + w->off, w->len - w->off) : 0;
	if (n == 0)
		return NULL;
	char small[256], *copy = n < sizeof(small) ? small : malloc(n + 1);
	if (!copy)
		return NULL;
	memcpy(copy, w->buf + w->off, n);
	copy[n] = '\0';
	json_tokener_reset(w->tok);
	struct json_object *v = json_tokener_parse_ex(w->tok, copy, (int)n + 1);
	bool ok = v && json_tokener_get_error(w->tok) == json_tokener_success &&
		  json_tokener_get_parse_end(w->tok) == n;
	if (copy != small)
		free(copy);
	if (!ok) {
		json_object_put(v);
		return NULL;
	}
	w->off += n;
	return v;
}

static int array(struct walk *w, int (*element)(struct json_object *, void *), void *arg)
{
	if (!take(w, '['))
		return -EINVAL;
	if (take(w, ']'))
		return 0;
	do {
		struct json_object *v = value(w);
		if (!v)
			return -EINVAL;
		int rc = element(v, arg);
		json_object_put(v);
		if (rc < 0)
			return rc;
	} while (take(w, ','));
	return take(w, ']') ? 0 : -EINVAL;
}

static int walk_members(struct walk *w, const char *array_name,
			int (*member)(const char *, struct json_object *, void *),
			int (*element)(struct json_object *, void *), void *arg)
{
	char seen[MAX_MEMBERS][64];
	size_t nseen = 0;
	if (!take(w, '{'))
		return -EINVAL;
	if (take(w, '}'))
		return 0;
	do {
		skip_ws(w);
		struct json_object *k = w->off < w->len && w->buf[w->off] == '"' ? value(w) : NULL;
		const char *name = k ? json_object_get_string(k) : NULL;
		bool ok = name && strlen(name) < sizeof(seen[0]) && nseen < MAX_MEMBERS;
		for (size_t i = 0; ok && i < nseen; i++)
			ok = strcmp(seen[i], name) != 0;
		if (ok)
			strcpy(seen[nseen++], name);
		json_object_put(k);
		if (!ok || !take(w, ':'))
			return -EINVAL;
		int rc;
		if (strcmp(seen[nseen - 1], array_name) == 0) {
			w->found = true;
			rc = array(w, element, arg);
		} else {
			struct json_object *v = value(w);
			rc = v ? member(seen[nseen - 1], v, arg) : -EINVAL;
			json_object_put(v);
		}
		if (rc < 0)
			return rc;
	} while (take(w, ','));
	return take(w, '}') ? 0 : -EINVAL;
}

int jsonstream_object(const char *buf, size_t len, const char *array_name,
		      int (*member)(const char *name, struct json_object *v, void *arg),
		      int (*element)(struct json_object *v, void *arg), void *arg)
{
	struct walk w = { .buf = buf, .len = len, .tok = json_tokener_new() };
	if (!w.tok)
		return -ENOMEM;
	json_tokener_set_flags(w.tok, JSON_TOKENER_STRICT);
	int rc = walk_members(&w, array_name, member, element, arg);
	skip_ws(&w);
	if (rc == 0 && w.off != len)
		rc = -EINVAL; /* only whitespace may follow the document */
	json_tokener_free(w.tok);
	return rc < 0 ? rc : w.found ? 1 : 0;
}
