/* jget - print one value out of a JSON document (jq-free parsing for the
 * VM scenarios, which only have busybox).  Independent of key order.
 *
 *   jget [-c] [-l] [-f FILE] PATH        (reads stdin without -f)
 *
 * PATH is '/'-separated; each component is
 *   KEY          member of an object
 *   N            element N (0-based) of an array
 *   K=V[,K=V]    the first element of an array that is an object whose member
 *                K is a scalar whose value (string unescaped, or the literal
 *                text of a number/true/false/null) equals V; all pairs must hold
 * An empty PATH (or ".") is the whole document.
 * Output: strings unescaped, numbers and literals as written, objects and
 * arrays as their JSON text.  -l: an array is printed one element per line.
 * -c: print a count instead: the number of elements of the array at PATH, or,
 * when the last component is a K=V selector, of the elements that match it.
 * Exit: 0 found; 1 not found (nothing printed; -c prints 0 and exits 0);
 *       2 usage, I/O or JSON syntax error.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64
#define MAX_INPUT (64u << 20)

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* Skip one string starting at '"'; returns the char after the closing quote. */
static const char *skip_string(const char *p)
{
	if (*p != '"')
		return NULL;
	p++;
	while (*p != '"') {
		if (*p == '\0' || (unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == '\0')
				return NULL;
		}
		p++;
	}
	return p + 1;
}

/* Skip one value of any kind; NULL on a syntax error. */
static const char *skip_value(const char *p, int depth)
{
	p = skip_ws(p);
	if (depth > MAX_DEPTH)
		return NULL;
	if (*p == '"')
		return skip_string(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		bool obj = *p == '{';
		p = skip_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (obj) {
				p = skip_string(skip_ws(p));
				if (p == NULL)
					return NULL;
				p = skip_ws(p);
				if (*p != ':')
					return NULL;
				p++;
			}
			p = skip_value(p, depth + 1);
			if (p == NULL)
				return NULL;
			p = skip_ws(p);
			if (*p == ',') {
				p++;
				continue;
			}
			if (*p == close)
				return p + 1;
			return NULL;
		}
	}
	/* number or literal */
	const char *s = p;
	while (*p != '\0' && strchr(" \t\r\n,]}", *p) == NULL)
		p++;
	if (p == s)
		return NULL;
	return p;
}

/* Unescape the string at p (at '"') into out (size outsz). */
static bool unescape(const char *p, char *out, size_t outsz)
{
	size_t n = 0;

	p++;
	while (*p != '"') {
		unsigned cp = (unsigned char)*p;
		if (*p == '\\') {
			p++;
			switch (*p) {
			case 'n': cp = '\n'; break;
			case 't': cp = '\t'; break;
			case 'r': cp = '\r'; break;
			case 'b': cp = '\b'; break;
			case 'f': cp = '\f'; break;
			case 'u': {
				char hex[5];
				memcpy(hex, p + 1, 4);
				hex[4] = '\0';
				if (strlen(hex) != 4 || strspn(hex, "0123456789abcdefABCDEF") != 4)
					return false;
				cp = (unsigned)strtoul(hex, NULL, 16);
				p += 4;
				if (cp >= 0x80)
					cp = '?'; /* tests only compare ASCII */
				break;
			}
			default: cp = (unsigned char)*p; break;
			}
		}
		if (n + 1 >= outsz)
			return false;
		out[n++] = (char)cp;
		p++;
	}
	out[n] = '\0';
	return true;
}

/* The scalar text of the value at p, for comparisons and printing. */
static bool scalar_text(const char *p, char *out, size_t outsz)
{
	p = skip_ws(p);
	if (*p == '"')
		return unescape(p, out, outsz);
	if (*p == '{' || *p == '[')
		return false;
	const char *e = skip_value(p, 0);
	if (e == NULL || (size_t)(e - p) >= outsz)
		return false;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return true;
}

/* Member `key` of the object at p, or NULL. */
static const char *member(const char *p, const char *key)
{
	char name[4096];

	p = skip_ws(p);
	if (*p != '{')
		return NULL;
	p = skip_ws(p + 1);
	if (*p == '}')
		return NULL;
	for (;;) {
		p = skip_ws(p);
		if (!unescape(p, name, sizeof name))
			return NULL;
		p = skip_string(p);
		if (p == NULL)
			return NULL;
		p = skip_ws(p);
		if (*p != ':')
			return NULL;
		p = skip_ws(p + 1);
		if (strcmp(name, key) == 0)
			return p;
		p = skip_value(p, 1);
		if (p == NULL)
			return NULL;
		p = skip_ws(p);
		if (*p != ',')
			return NULL;
		p++;
	}
}

/* Does the object at p satisfy every K=V pair of sel ("k=v,k2=v2")? */
static bool matches(const char *p, const char *sel)
{
	char buf[4096], val[4096];

	if (strlen(sel) >= sizeof buf)
		return false;
	strcpy(buf, sel);
	for (char *save = NULL, *pair = strtok_r(buf, ",", &save); pair != NULL;
	     pair = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(pair, '=');
		if (eq == NULL)
			return false;
		*eq = '\0';
		const char *m = member(p, pair);
		if (m == NULL || !scalar_text(m, val, sizeof val) || strcmp(val, eq + 1) != 0)
			return false;
	}
	return true;
}

/* Walk the array at p: call back per element (element pointer); stop when cb
 * returns true.  Returns the element it stopped at, or NULL. */
typedef bool (*elem_cb)(const char *elem, void *ctx);
static const char *each_elem(const char *p, elem_cb cb, void *ctx)
{
	p = skip_ws(p);
	if (*p != '[')
		return NULL;
	p = skip_ws(p + 1);
	if (*p == ']')
		return NULL;
	for (;;) {
		p = skip_ws(p);
		if (cb(p, ctx))
			return p;
		p = skip_value(p, 1);
		if (p == NULL)
			return NULL;
		p = skip_ws(p);
		if (*p != ',')
			return NULL;
		p++;
	}
}

struct sel_ctx {
	const char *sel;
	long index;    /* for N: countdown */
	long count;
	bool count_all;
};

static bool cb_index(const char *elem, void *ctx)
{
	struct sel_ctx *c = ctx;
	(void)elem;
	return c->index-- == 0;
}

static bool cb_select(const char *elem, void *ctx)
{
	struct sel_ctx *c = ctx;
	if (c->sel != NULL && !matches(elem, c->sel))
		return false;
	c->count++;
	return !c->count_all;
}

static bool is_index(const char *s)
{
	return s[0] != '\0' && strspn(s, "0123456789") == strlen(s);
}

static void print_value(const char *p)
{
	char buf[1 << 16];
	p = skip_ws(p);
	if (scalar_text(p, buf, sizeof buf)) {
		printf("%s\n", buf);
		return;
	}
	const char *e = skip_value(p, 0);
	if (e != NULL)
		printf("%.*s\n", (int)(e - p), p);
}

static bool cb_print(const char *elem, void *ctx)
{
	(void)ctx;
	print_value(elem);
	return false;
}

static char *read_all(FILE *f)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);

	if (buf == NULL)
		return NULL;
	for (;;) {
		size_t n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
		if (len + 1 == cap) {
			if (cap >= MAX_INPUT) {
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			char *nb = realloc(buf, cap * 2);
			if (nb == NULL) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (ferror(f)) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

int main(int argc, char **argv)
{
	bool count = false, lines = false;
	const char *file = NULL;
	int i = 1;

	for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (strcmp(argv[i], "-c") == 0)
			count = true;
		else if (strcmp(argv[i], "-l") == 0)
			lines = true;
		else if (strcmp(argv[i], "-f") == 0 && i + 1 < argc)
			file = argv[++i];
		else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else {
			fputs("usage: jget [-c] [-l] [-f FILE] PATH\n", stderr);
			return 2;
		}
	}
	if (i != argc - 1) {
		fputs("usage: jget [-c] [-l] [-f FILE] PATH\n", stderr);
		return 2;
	}
	FILE *f = stdin;
	if (file != NULL && (f = fopen(file, "r")) == NULL) {
		fprintf(stderr, "jget: %s: %s\n", file, strerror(errno));
		return 2;
	}
	char *doc = read_all(f);
	if (doc == NULL) {
		fprintf(stderr, "jget: read: %s\n", strerror(errno));
		return 2;
	}
	if (f != stdin && fclose(f) != 0) {
		fprintf(stderr, "jget: %s: %s\n", file, strerror(errno));
		return 2;
	}
	const char *root = skip_ws(doc);
	const char *end = skip_value(root, 0);
	if (end == NULL || *skip_ws(end) != '\0') {
		fputs("jget: input is not one JSON value\n", stderr);
		free(doc);
		return 2;
	}

	char path[4096];
	if (strlen(argv[i]) >= sizeof path) {
		fputs("jget: path too long\n", stderr);
		free(doc);
		return 2;
	}
	strcpy(path, strcmp(argv[i], ".") == 0 ? "" : argv[i]);

	/* split the path */
	char *comp[256];
	int ncomp = 0;
	for (char *save = NULL, *c = strtok_r(path, "/", &save); c != NULL;
	     c = strtok_r(NULL, "/", &save)) {
		if (ncomp == 256) {
			fputs("jget: path too deep\n", stderr);
			free(doc);
			return 2;
		}
		comp[ncomp++] = c;
	}

	const char *cur = root;
	int rc = 0;
	for (int k = 0; k < ncomp && cur != NULL; k++) {
		const char *c = comp[k];
		if (*skip_ws(cur) == '[' && is_index(c)) {
			struct sel_ctx sc = { .index = strtol(c, NULL, 10) };
			cur = each_elem(cur, cb_index, &sc);
		} else if (*skip_ws(cur) == '[' && strchr(c, '=') != NULL) {
			struct sel_ctx sc = { .sel = c };
			if (count && k == ncomp - 1) {
				sc.count_all = true;
				(void)each_elem(cur, cb_select, &sc);
				printf("%ld\n", sc.count);
				free(doc);
				return 0;
			}
			cur = each_elem(cur, cb_select, &sc);
		} else {
			cur = member(cur, c);
		}
	}
	if (cur == NULL) {
		if (count)
			printf("0\n");
		rc = count ? 0 : 1;
	} else if (count) {
		struct sel_ctx sc = { .count_all = true };
		if (*skip_ws(cur) == '[')
			(void)each_elem(cur, cb_select, &sc);
		printf("%ld\n", sc.count);
	} else if (lines && *skip_ws(cur) == '[') {
		(void)each_elem(cur, cb_print, NULL);
	} else {
		print_value(cur);
	}
	free(doc);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fputs("jget: write error\n", stderr);
		return 2;
	}
	return rc;
}
