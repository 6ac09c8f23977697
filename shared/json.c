/*
 * A strict JSON reader for one value at a JSON pointer. Recursive descent
 * over the whole document: a payload that is not JSON throughout is
 * refused even when the value itself would parse (a truncated or
 * concatenated message says nothing reliable).
 */
#include <stdbool.h>
#include <string.h>

#include "json.h"

struct jr {
	const char	*p, *end;
	const char	*why;
	const char	*vp, *ve;	/* the value at the pointer */
	enum json_kind	 kind;
	int		 hits, depth;
};

static int	value(struct jr *, const char *ptr);

static int
bad(struct jr *j, const char *why)
{
	if (j->why == NULL)
		j->why = why;
	return -1;
}

static void
ws(struct jr *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool
digit(const struct jr *j)
{
	return j->p < j->end && *j->p >= '0' && *j->p <= '9';
}

static int
number(struct jr *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (!digit(j))
		return bad(j, "not JSON: bad number");
	if (*j->p++ != '0')
		while (digit(j))
			j->p++;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!digit(j))
			return bad(j, "not JSON: bad number");
		while (digit(j))
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!digit(j))
			return bad(j, "not JSON: bad number");
		while (digit(j))
			j->p++;
	}
	return 0;
}

/* Past a string's closing quote; *s..*e its raw contents. */
static int
string(struct jr *j, const char **s, const char **e)
{
	if (j->p >= j->end || *j->p != '"')
		return bad(j, "not JSON: string expected");
	*s = ++j->p;
	while (j->p < j->end && *j->p != '"') {
		if (*j->p == '\\') {
			if (++j->p >= j->end || strchr("\"\\/bfnrtu", *j->p) ==
			    NULL)
				return bad(j, "not JSON: bad escape");
			if (*j->p == 'u')
				for (int i = 0; i < 4; i++)
					if (++j->p >= j->end ||
					    strchr("0123456789abcdefABCDEF",
					    *j->p) == NULL)
						return bad(j, "not JSON: bad "
						    "escape");
		}
		j->p++;
	}
	if (j->p >= j->end)
		return bad(j, "not JSON: unterminated string");
	*e = j->p++;
	return 0;
}

/* Does the raw key s..e equal the pointer's next token? Then *next. */
static bool
token_is(const char *s, const char *e, const char *ptr, const char **next)
{
	const char *t = ptr + 1;

	for (; s < e; s++, t++) {
		char c = *t;

		if (*s == '\\' || c == '\0' || c == '/')
			return false;	/* an escaped key is never ours */
		if (c == '~') {		/* ~0 is ~, ~1 is / */
			c = t[1] == '0' ? '~' : '/';
			t++;
		}
		if (c != *s)
			return false;
	}
	if (*t != '\0' && *t != '/')
		return false;
	*next = t;
	return true;
}

static int
object(struct jr *j, const char *ptr)
{
	const char *ks, *ke, *next;

	j->p++;
	ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return 0;
	}
	for (;;) {
		ws(j);
		if (string(j, &ks, &ke) == -1)
			return -1;
		ws(j);
		if (j->p >= j->end || *j->p++ != ':')
			return bad(j, "not JSON: ':' expected");
		if (value(j, ptr != NULL && *ptr == '/' &&
		    token_is(ks, ke, ptr, &next) ? next : NULL) == -1)
			return -1;
		ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			return 0;
		}
		return bad(j, "not JSON: ',' or '}' expected");
	}
}

static int
array(struct jr *j, const char *ptr)
{
	const char *next = NULL;
	long want = -1;

	/* a decimal index, no leading zero */
	if (ptr != NULL && *ptr == '/' && ptr[1] >= '0' && ptr[1] <= '9' &&
	    (ptr[1] != '0' || ptr[2] == '\0' || ptr[2] == '/')) {
		want = 0;
		for (next = ptr + 1; *next >= '0' && *next <= '9' &&
		    want < 100000; next++)
			want = want * 10 + (*next - '0');
		if (*next != '\0' && *next != '/')
			want = -1;
	}
	j->p++;
	ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return 0;
	}
	for (long i = 0;; i++) {
		if (value(j, i == want ? next : NULL) == -1)
			return -1;
		ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return 0;
		}
		return bad(j, "not JSON: ',' or ']' expected");
	}
}

static int
literal(struct jr *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return bad(j, "not JSON");
	j->p += n;
	return 0;
}

/* ptr: what is left of the pointer here, "" the value itself, NULL off it */
static int
value(struct jr *j, const char *ptr)
{
	const char *s = NULL, *e = NULL, *start;
	enum json_kind kind = JSON_NULL;
	int rc;

	ws(j);
	if (j->p >= j->end)
		return bad(j, "not JSON: value expected");
	if (++j->depth > JSON_DEPTH_MAX)
		return bad(j, "JSON nested too deep");
	start = j->p;
	switch (*j->p) {
	case '{':
		rc = object(j, ptr);
		break;
	case '[':
		rc = array(j, ptr);
		break;
	case '"':
		rc = string(j, &s, &e);
		kind = JSON_STRING;
		break;
	case 't':
		rc = literal(j, "true");
		break;
	case 'f':
		rc = literal(j, "false");
		break;
	case 'n':
		rc = literal(j, "null");
		break;
	default:
		rc = number(j);
		kind = JSON_NUMBER;
		s = start;
		e = j->p;
	}
	j->depth--;
	if (rc == 0 && ptr != NULL && *ptr == '\0') {
		if (j->hits++ > 0)
			return bad(j, "the pointer names more than one value");
		if (*start == '{' || *start == '[' || *start == 't' ||
		    *start == 'f')
			return bad(j, "not a number or a string at the pointer");
		j->vp = s;
		j->ve = e;
		j->kind = kind;
	}
	return rc;
}

static int
unescape(const char *s, const char *e, char *out, size_t outsz,
    const char **why)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	size_t n = 0;

	for (; s < e; s++) {
		char c = *s;

		if (c == '\\') {
			if (*++s == 'u') {
				*why = "\\u escape in the value";
				return -1;
			}
			c = to[strchr(from, *s) - from];
		}
		if (n + 1 >= outsz) {
			*why = "too long";
			return -1;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	return 0;
}

int
json_pointer_get(const void *doc, size_t len, const char *pointer,
    char *out, size_t outsz, enum json_kind *kind, const char **why)
{
	struct jr j = { .p = doc, .end = (const char *)doc + len };

	for (size_t i = 0; i < len; i++)
		if ((j.p[i] < 0x20 || j.p[i] > 0x7e) && j.p[i] != '\t' &&
		    j.p[i] != '\n' && j.p[i] != '\r') {
			*why = "non-printable byte";
			return -1;
		}
	if (value(&j, pointer) == 0) {
		ws(&j);
		if (j.p != j.end)
			(void)bad(&j, "not JSON: more after the value");
		else if (j.hits == 0)
			(void)bad(&j, "no value at the JSON pointer");
	}
	if (j.why != NULL) {
		*why = j.why;
		return -1;
	}
	*kind = j.kind;
	if (j.kind == JSON_NULL) {
		out[0] = '\0';
		return 0;
	}
	if (j.kind == JSON_STRING)
		return unescape(j.vp, j.ve, out, outsz, why);
	if ((size_t)(j.ve - j.vp) >= outsz) {
		*why = "too long";
		return -1;
	}
	memcpy(out, j.vp, (size_t)(j.ve - j.vp));
	out[j.ve - j.vp] = '\0';
	return 0;
}

int
json_pointer_valid(const char *s)
{
	if (s[0] != '/')
		return -1;
	for (; *s != '\0'; s++)
		if (*s == '~' && s[1] != '0' && s[1] != '1')
			return -1;
		else if (*s < 0x20 || *s > 0x7e)
			return -1;
	return 0;
}
