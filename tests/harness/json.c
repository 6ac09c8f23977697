/*
 * Just enough JSON to read the plant's truth: walk a path ("a.b[2].c")
 * through objects and arrays, skipping everything else, and read the
 * number, boolean or string found there.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "harness_int.h"

#define MAX_DEPTH	32

struct cur {
	const char	*p;
	int		 depth;
};

static void
ws(struct cur *c)
{
	while (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' ||
	    *c->p == '\r')
		c->p++;
}

/* A string at c->p; its unescaped text into out (may be NULL). */
static int
str(struct cur *c, char *out, size_t outsz)
{
	size_t n = 0;

	if (*c->p != '"')
		return -1;
	c->p++;
	while (*c->p != '"') {
		char ch = *c->p;

		if (ch == '\0' || (unsigned char)ch < 0x20)
			return -1;
		if (ch == '\\') {
			c->p++;
			switch (*c->p) {
			case '"': ch = '"'; break;
			case '\\': ch = '\\'; break;
			case '/': ch = '/'; break;
			case 'b': ch = '\b'; break;
			case 'f': ch = '\f'; break;
			case 'n': ch = '\n'; break;
			case 'r': ch = '\r'; break;
			case 't': ch = '\t'; break;
			case 'u':
				for (int i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char)c->p[i]))
						return -1;
				c->p += 4;
				ch = '?';	/* not needed by the truth */
				break;
			default:
				return -1;
			}
		}
		if (out != NULL && n + 1 < outsz)
			out[n++] = ch;
		c->p++;
	}
	c->p++;
	if (out != NULL && outsz > 0)
		out[n] = '\0';
	return 0;
}

static int
num(struct cur *c, double *out)
{
	const char *s = c->p;
	char buf[64], *end;
	size_t n;

	if (*c->p == '-')
		c->p++;
	if (!isdigit((unsigned char)*c->p))
		return -1;
	while (isdigit((unsigned char)*c->p) || strchr(".eE+-", *c->p) != NULL)
		c->p++;
	n = (size_t)(c->p - s);
	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	double v = strtod(buf, &end);
	if (*end != '\0' || errno == ERANGE || !isfinite(v))
		return -1;
	if (out != NULL)
		*out = v;
	return 0;
}

static int
word(struct cur *c, const char *w)
{
	size_t n = strlen(w);

	if (strncmp(c->p, w, n) != 0)
		return -1;
	c->p += n;
	return 0;
}

static int skip(struct cur *);

static int
skip_container(struct cur *c, char close, bool keys)
{
	if (++c->depth > MAX_DEPTH)
		return -1;
	c->p++;
	ws(c);
	if (*c->p == close) {
		c->p++;
		c->depth--;
		return 0;
	}
	for (;;) {
		ws(c);
		if (keys) {
			if (str(c, NULL, 0) == -1)
				return -1;
			ws(c);
			if (*c->p++ != ':')
				return -1;
		}
		if (skip(c) == -1)
			return -1;
		ws(c);
		if (*c->p == ',') {
			c->p++;
			continue;
		}
		if (*c->p != close)
			return -1;
		c->p++;
		c->depth--;
		return 0;
	}
}

static int
skip(struct cur *c)
{
	ws(c);
	switch (*c->p) {
	case '{':
		return skip_container(c, '}', true);
	case '[':
		return skip_container(c, ']', false);
	case '"':
		return str(c, NULL, 0);
	case 't':
		return word(c, "true");
	case 'f':
		return word(c, "false");
	case 'n':
		return word(c, "null");
	default:
		return num(c, NULL);
	}
}

/* Moves c to the value of member key of the object at c. */
static int
member(struct cur *c, const char *key, size_t klen)
{
	char name[128];

	ws(c);
	if (*c->p != '{')
		return -1;
	c->p++;
	for (;;) {
		ws(c);
		if (*c->p == '}')
			return -1;
		if (str(c, name, sizeof(name)) == -1)
			return -1;
		ws(c);
		if (*c->p++ != ':')
			return -1;
		ws(c);
		if (strlen(name) == klen && strncmp(name, key, klen) == 0)
			return 0;
		if (skip(c) == -1)
			return -1;
		ws(c);
		if (*c->p == ',')
			c->p++;
		else
			return -1;
	}
}

/* Moves c to element idx of the array at c. */
static int
element(struct cur *c, long idx)
{
	ws(c);
	if (*c->p != '[')
		return -1;
	c->p++;
	for (long i = 0;; i++) {
		ws(c);
		if (*c->p == ']')
			return -1;
		if (i == idx)
			return 0;
		if (skip(c) == -1)
			return -1;
		ws(c);
		if (*c->p == ',')
			c->p++;
		else
			return -1;
	}
}

static int
walk(struct cur *c, const char *path)
{
	const char *p = path;

	while (*p != '\0') {
		if (*p == '[') {
			char *end;
			long idx = strtol(p + 1, &end, 10);

			if (end == p + 1 || *end != ']' || idx < 0 ||
			    element(c, idx) == -1)
				return -1;
			p = end + 1;
		} else {
			size_t n = strcspn(p, ".[");

			if (n == 0 || member(c, p, n) == -1)
				return -1;
			p += n;
		}
		if (*p == '.')
			p++;
	}
	ws(c);
	return 0;
}

int
hjson_num(const char *json, const char *path, double *out)
{
	struct cur c = { json, 0 };

	if (walk(&c, path) == -1)
		return -1;
	if (word(&c, "true") == 0) {
		*out = 1;
		return 0;
	}
	if (word(&c, "false") == 0) {
		*out = 0;
		return 0;
	}
	return num(&c, out);
}

int
hjson_str(const char *json, const char *path, char *buf, size_t bufsz)
{
	struct cur c = { json, 0 };

	if (walk(&c, path) == -1)
		return -1;
	return str(&c, buf, bufsz);
}
