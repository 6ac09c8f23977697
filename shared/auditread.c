/*
 * Reading the audit log: a strict parser for exactly the canonical form
 * shared/audit.c writes, a streaming line reader, and the chain verifier.
 * Everything here handles untrusted bytes: lengths are bounded, nothing
 * recurses, and every problem names the byte or line where it was found.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "auditread.h"

/* ---------------------------------------------------------------- parser */

struct jp {
	const char		*s;
	size_t			 len, pos;
	struct audit_record	*r;
	size_t			 sbused;	/* bytes of r->strbuf in use */
	enum audit_perr		 err;
	char			*why;
	size_t			 whysz;
};

static int
jp_fail(struct jp *p, enum audit_perr kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
jp_fail(struct jp *p, enum audit_perr kind, const char *fmt, ...)
{
	char msg[AUDIT_ERR_MAX];
	va_list ap;

	if (p->err != AUDIT_PERR_NONE)
		return -1;
	p->err = kind;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->why != NULL && p->whysz > 0)
		(void)snprintf(p->why, p->whysz, "byte %zu: %s", p->pos + 1,
		    msg);
	return -1;
}

/* What is at the cursor, printable for a message. */
static const char *
jp_here(const struct jp *p, char buf[8])
{
	unsigned char c;

	if (p->pos >= p->len)
		return "end of line";
	c = (unsigned char)p->s[p->pos];
	if (c >= 0x21 && c <= 0x7e)
		(void)snprintf(buf, 8, "'%c'", c);
	else
		(void)snprintf(buf, 8, "0x%02x", c);
	return buf;
}

static int
jp_expect(struct jp *p, char c)
{
	char b[8];

	if (p->pos < p->len && p->s[p->pos] == c) {
		p->pos++;
		return 0;
	}
	return jp_fail(p, AUDIT_PERR_JSON, "expected '%c', found %s", c,
	    jp_here(p, b));
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * A string in canonical form, decoded into the record's string buffer.
 * Only the escapes the writer produces are accepted.
 */
static int
jp_string(struct jp *p, const char **out, size_t *outlen)
{
	char *dst = p->r->strbuf + p->sbused;
	size_t room = sizeof(p->r->strbuf) - p->sbused, n = 0;
	char b[8];

	if (jp_expect(p, '"') == -1)
		return -1;
	for (;;) {
		unsigned char c;

		if (p->pos >= p->len)
			return jp_fail(p, AUDIT_PERR_JSON, "unterminated string");
		c = (unsigned char)p->s[p->pos];
		if (c == '"')
			break;
		if (c < 0x20 || c > 0x7e)
			return jp_fail(p, AUDIT_PERR_JSON,
			    "raw byte %s in a string", jp_here(p, b));
		if (c == '\\') {
			const char *e = p->s + p->pos + 1;
			size_t left = p->len - p->pos - 1;

			if (left >= 1 && (e[0] == '"' || e[0] == '\\')) {
				c = (unsigned char)e[0];
				p->pos += 2;
			} else if (left >= 5 && e[0] == 'u' && e[1] == '0' &&
			    e[2] == '0' && hexval(e[3]) >= 0 &&
			    hexval(e[4]) >= 0) {
				c = (unsigned char)(hexval(e[3]) << 4 |
				    hexval(e[4]));
				if (c >= 0x20 && c <= 0x7e)
					return jp_fail(p, AUDIT_PERR_JSON,
					    "needless escape of '%c'", c);
				p->pos += 6;
			} else
				return jp_fail(p, AUDIT_PERR_JSON,
				    "non-canonical escape in a string");
		} else
			p->pos++;
		if (n + 1 >= room)
			return jp_fail(p, AUDIT_PERR_JSON, "strings too long");
		dst[n++] = (char)c;
	}
	p->pos++;
	dst[n] = '\0';
	p->sbused += n + 1;
	*out = dst;
	*outlen = n;
	return 0;
}

/* A string that must fit a fixed buffer and contain no NUL. */
static int
jp_string_into(struct jp *p, const char *key, char *buf, size_t bufsz)
{
	const char *s;
	size_t n;

	if (p->pos < p->len && p->s[p->pos] != '"')
		return jp_fail(p, AUDIT_PERR_VALUE, "\"%s\" is not a string",
		    key);
	if (jp_string(p, &s, &n) == -1)
		return -1;
	if (n >= bufsz || memchr(s, '\0', n) != NULL)
		return jp_fail(p, AUDIT_PERR_VALUE, "\"%s\" too long", key);
	memcpy(buf, s, n + 1);
	return 0;
}

/*
 * A number in canonical form: -?(0|[1-9][0-9]*)(\.[0-9]{0,5}[1-9])?
 * Without a fraction it is an integer (int64), with one a double.
 */
static int
jp_number(struct jp *p, struct audit_rfield *f)
{
	char tmp[AUDIT_NUM_MAX + 8], *end;
	size_t start = p->pos, i = p->pos, frac = 0;
	int neg = 0;

	if (i < p->len && p->s[i] == '-') {
		neg = 1;
		i++;
	}
	if (i >= p->len || !isdigit((unsigned char)p->s[i]))
		return jp_fail(p, AUDIT_PERR_JSON, "malformed number");
	if (p->s[i] == '0' && i + 1 < p->len &&
	    isdigit((unsigned char)p->s[i + 1]))
		return jp_fail(p, AUDIT_PERR_JSON, "number with a leading zero");
	while (i < p->len && isdigit((unsigned char)p->s[i]))
		i++;
	if (i < p->len && p->s[i] == '.') {
		i++;
		while (i < p->len && isdigit((unsigned char)p->s[i])) {
			i++;
			frac++;
		}
		if (frac == 0 || frac > 6 || p->s[i - 1] == '0')
			return jp_fail(p, AUDIT_PERR_JSON,
			    "non-canonical fraction");
	}
	if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E'))
		return jp_fail(p, AUDIT_PERR_JSON, "exponent in a number");
	if (i - start >= sizeof(tmp))
		return jp_fail(p, AUDIT_PERR_VALUE, "number too long");
	memcpy(tmp, p->s + start, i - start);
	tmp[i - start] = '\0';
	errno = 0;
	if (frac == 0) {
		long long v;

		if (neg && strcmp(tmp, "-0") == 0)
			return jp_fail(p, AUDIT_PERR_JSON, "negative zero");
		v = strtoll(tmp, &end, 10);
		if (errno == ERANGE || *end != '\0')
			return jp_fail(p, AUDIT_PERR_VALUE,
			    "integer out of range");
		f->type = AF_INT;
		f->i = v;
		f->d = (double)v;
	} else {
		double d = strtod(tmp, &end);

		if (errno == ERANGE || *end != '\0' || d >= 1e15 || d <= -1e15)
			return jp_fail(p, AUDIT_PERR_VALUE,
			    "number out of range");
		f->type = AF_NUM;
		f->d = d;
	}
	p->pos = i;
	return 0;
}

static int
jp_word(struct jp *p, const char *w)
{
	size_t n = strlen(w);

	if (p->len - p->pos >= n && memcmp(p->s + p->pos, w, n) == 0) {
		p->pos += n;
		return 1;
	}
	return 0;
}

/* A field value: string, number, true, false or null. */
static int
jp_scalar(struct jp *p, struct audit_rfield *f)
{
	char b[8];

	if (p->pos >= p->len)
		return jp_fail(p, AUDIT_PERR_JSON, "value missing");
	switch (p->s[p->pos]) {
	case '"':
		f->type = AF_STR;
		return jp_string(p, &f->s, &f->slen);
	case 't':
	case 'f':
		f->type = AF_BOOL;
		if (jp_word(p, "true"))
			f->b = 1;
		else if (!jp_word(p, "false"))
			break;
		return 0;
	case 'n':
		if (!jp_word(p, "null"))
			break;
		f->type = AF_NUM;
		f->is_null = 1;
		return 0;
	case '{':
	case '[':
		return jp_fail(p, AUDIT_PERR_VALUE, "nested value in fields");
	default:
		return jp_number(p, f);
	}
	return jp_fail(p, AUDIT_PERR_JSON, "bad literal at %s", jp_here(p, b));
}

static int
jp_fields(struct jp *p)
{
	struct audit_record *r = p->r;

	if (jp_expect(p, '{') == -1)
		return -1;
	if (p->pos < p->len && p->s[p->pos] == '}') {
		p->pos++;
		return 0;
	}
	for (;;) {
		struct audit_rfield *f;

		if (r->nfields == AUDIT_FIELDS_MAX)
			return jp_fail(p, AUDIT_PERR_VALUE,
			    "more than %d fields", AUDIT_FIELDS_MAX);
		f = &r->f[r->nfields];
		memset(f, 0, sizeof(*f));
		if (jp_string_into(p, "fields", f->key, sizeof(f->key)) == -1)
			return -1;
		if (!audit_valid_name(f->key))
			return jp_fail(p, AUDIT_PERR_VALUE,
			    "field key is not [a-z0-9_]{1,32}");
		for (size_t i = 0; i < r->nfields; i++)
			if (strcmp(r->f[i].key, f->key) == 0)
				return jp_fail(p, AUDIT_PERR_FIELDS,
				    "duplicate field \"%s\"", f->key);
		if (jp_expect(p, ':') == -1 || jp_scalar(p, f) == -1)
			return -1;
		r->nfields++;
		if (p->pos < p->len && p->s[p->pos] == '}') {
			p->pos++;
			return 0;
		}
		if (jp_expect(p, ',') == -1)
			return -1;
	}
}

static int
jp_uint(struct jp *p, const char *key, uint64_t min, uint64_t *out)
{
	struct audit_rfield f;

	memset(&f, 0, sizeof(f));
	if (p->pos < p->len && !isdigit((unsigned char)p->s[p->pos]) &&
	    p->s[p->pos] != '-')
		return jp_fail(p, AUDIT_PERR_VALUE, "\"%s\" is not a number",
		    key);
	if (jp_number(p, &f) == -1)
		return -1;
	if (f.type != AF_INT || f.i < 0 || (uint64_t)f.i < min)
		return jp_fail(p, AUDIT_PERR_VALUE, "\"%s\" out of range",
		    key);
	*out = (uint64_t)f.i;
	return 0;
}

enum tkey { K_SEQ, K_UTC, K_MONO, K_RUN, K_ACTOR, K_EVENT, K_FIELDS, K_PREV,
	K_HASH, K_COUNT };
static const char *const top_keys[K_COUNT] = {
	"seq", "utc", "mono_ms", "run", "actor", "event", "fields", "prev",
	"hash",
};

static int
jp_value(struct jp *p, enum tkey k)
{
	struct audit_record *r = p->r;
	char actor[16];
	uint64_t u;

	switch (k) {
	case K_SEQ:
		return jp_uint(p, "seq", 1, &r->seq);
	case K_UTC:
		if (jp_string_into(p, "utc", r->utc, sizeof(r->utc)) == -1)
			return -1;
		if (audit_parse_utc(r->utc, &r->utc_ms) == -1)
			return jp_fail(p, AUDIT_PERR_VALUE,
			    "\"utc\" is not YYYY-MM-DDTHH:MM:SS.mmmZ");
		return 0;
	case K_MONO:
		if (jp_uint(p, "mono_ms", 0, &u) == -1)
			return -1;
		r->mono_ms = (int64_t)u;
		return 0;
	case K_RUN:
		if (jp_string_into(p, "run", r->run, sizeof(r->run)) == -1)
			return -1;
		if (r->run[0] != '\0' && !audit_valid_run(r->run))
			return jp_fail(p, AUDIT_PERR_VALUE, "bad \"run\"");
		return 0;
	case K_ACTOR:
		if (jp_string_into(p, "actor", actor, sizeof(actor)) == -1)
			return -1;
		if (strcmp(actor, "watchdog") == 0)
			r->actor = AUDIT_WATCHDOG;
		else if (strcmp(actor, "supervisor") == 0)
			r->actor = AUDIT_SUPERVISOR;
		else if (strcmp(actor, "operator") == 0)
			r->actor = AUDIT_OPERATOR;
		else
			return jp_fail(p, AUDIT_PERR_VALUE, "bad \"actor\"");
		return 0;
	case K_EVENT:
		if (jp_string_into(p, "event", r->event, sizeof(r->event)) ==
		    -1)
			return -1;
		if (!audit_valid_name(r->event))
			return jp_fail(p, AUDIT_PERR_VALUE, "bad \"event\"");
		return 0;
	case K_FIELDS:
		return jp_fields(p);
	case K_PREV:
	case K_HASH: {
		char *dst = k == K_PREV ? r->prev : r->hash;

		if (jp_string_into(p, top_keys[k], dst, AUDIT_HASH_HEX + 1) ==
		    -1)
			return -1;
		if (!audit_is_hash(dst, strlen(dst)))
			return jp_fail(p, AUDIT_PERR_VALUE,
			    "\"%s\" is not 64 lowercase hex digits",
			    top_keys[k]);
		return 0;
	}
	case K_COUNT:
		break;
	}
	return -1;
}

static int
jp_record(struct jp *p)
{
	char key[AUDIT_NAME_MAX + 1], b[8];
	const char *s;
	size_t n;

	if (jp_expect(p, '{') == -1)
		return -1;
	for (int k = 0; k < K_COUNT; k++) {
		if (k > 0) {
			if (p->pos < p->len && p->s[p->pos] == '}')
				return jp_fail(p, AUDIT_PERR_FIELDS,
				    "missing \"%s\"", top_keys[k]);
			if (k == K_HASH)
				p->r->hashed_len = p->pos;
			if (jp_expect(p, ',') == -1)
				return -1;
		}
		if (p->pos < p->len && p->s[p->pos] != '"')
			return jp_fail(p, AUDIT_PERR_JSON,
			    "expected a key, found %s", jp_here(p, b));
		if (jp_string(p, &s, &n) == -1)
			return -1;
		p->sbused -= n + 1;	/* keys are not kept */
		if (n >= sizeof(key) || memchr(s, '\0', n) != NULL)
			return jp_fail(p, AUDIT_PERR_FIELDS, "unknown key");
		memcpy(key, s, n + 1);
		if (strcmp(key, top_keys[k]) != 0) {
			for (int j = k + 1; j < K_COUNT; j++)
				if (strcmp(key, top_keys[j]) == 0)
					return jp_fail(p, AUDIT_PERR_FIELDS,
					    "missing \"%s\"", top_keys[k]);
			return jp_fail(p, AUDIT_PERR_FIELDS,
			    "unexpected key \"%s\" (expected \"%s\")", key,
			    top_keys[k]);
		}
		if (jp_expect(p, ':') == -1 || jp_value(p, k) == -1)
			return -1;
	}
	if (p->pos < p->len && p->s[p->pos] == ',')
		return jp_fail(p, AUDIT_PERR_FIELDS, "extra key after \"hash\"");
	if (jp_expect(p, '}') == -1)
		return -1;
	if (p->pos != p->len)
		return jp_fail(p, AUDIT_PERR_JSON, "trailing bytes");
	return 0;
}

enum audit_perr
audit_parse(const char *line, size_t len, struct audit_record *r, char *why,
    size_t whysz)
{
	struct jp p = { line, len, 0, r, 0, AUDIT_PERR_NONE, why, whysz };

	r->seq = 0;
	r->nfields = 0;
	r->hashed_len = 0;
	r->utc[0] = r->run[0] = r->event[0] = '\0';
	r->prev[0] = r->hash[0] = '\0';
	if (len >= AUDIT_RECORD_MAX) {
		(void)jp_fail(&p, AUDIT_PERR_JSON, "line longer than %d bytes",
		    AUDIT_RECORD_MAX - 1);
		return p.err;
	}
	if (jp_record(&p) == -1 && p.err == AUDIT_PERR_NONE)
		p.err = AUDIT_PERR_JSON;
	return p.err;
}

const struct audit_rfield *
audit_field(const struct audit_record *r, const char *key)
{
	for (size_t i = 0; i < r->nfields; i++)
		if (strcmp(r->f[i].key, key) == 0)
			return &r->f[i];
	return NULL;
}

const char *
audit_field_str(const struct audit_record *r, const char *key)
{
	const struct audit_rfield *f = audit_field(r, key);

	return f != NULL && f->type == AF_STR ? f->s : NULL;
}

int
audit_field_num(const struct audit_record *r, const char *key, double *out)
{
	const struct audit_rfield *f = audit_field(r, key);

	if (f == NULL || (f->type != AF_INT && f->type != AF_NUM) || f->is_null)
		return -1;
	*out = f->d;
	return 0;
}

int
audit_field_bool(const struct audit_record *r, const char *key, int *out)
{
	const struct audit_rfield *f = audit_field(r, key);

	if (f == NULL || f->type != AF_BOOL)
		return -1;
	*out = f->b;
	return 0;
}

static int
digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant). */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
audit_parse_utc(const char *s, int64_t *ms)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	int y, mo, d, h, mi, sec, milli, leap;

	if (strlen(s) != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != '.' || s[23] != 'Z')
		return -1;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) ||
	    digits(s + 8, 2, &d) || digits(s + 11, 2, &h) ||
	    digits(s + 14, 2, &mi) || digits(s + 17, 2, &sec) ||
	    digits(s + 20, 3, &milli))
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 59)
		return -1;
	*ms = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 +
	    (int64_t)sec * 1000 + milli;
	return 0;
}

/* ---------------------------------------------------------------- reader */

int
audit_reader_open(struct audit_reader *rd, const char *path)
{
	memset(rd, 0, sizeof(*rd));
	if (strcmp(path, "-") == 0) {
		rd->fd = STDIN_FILENO;
		return 0;
	}
	rd->fd = open(path, O_RDONLY | O_CLOEXEC);
	return rd->fd == -1 ? -1 : 0;
}

void
audit_reader_close(struct audit_reader *rd)
{
	if (rd->fd > STDERR_FILENO)
		(void)close(rd->fd);
	rd->fd = -1;
}

enum audit_rd
audit_reader_next(struct audit_reader *rd, const char **line, size_t *len)
{
	for (;;) {
		char *nl = memchr(rd->buf + rd->start, '\n',
		    rd->end - rd->start);
		size_t have;
		ssize_t n;

		if (nl != NULL) {
			*line = rd->buf + rd->start;
			*len = (size_t)(nl - *line);
			rd->lineno++;
			rd->off = rd->next_off;
			rd->next_off += (off_t)*len + 1;
			rd->start += *len + 1;
			if (*len >= AUDIT_RECORD_MAX) {
				(void)snprintf(rd->why, sizeof(rd->why),
				    "line %" PRIu64 " longer than %d bytes",
				    rd->lineno, AUDIT_RECORD_MAX - 1);
				return AUDIT_RD_LONG;
			}
			return AUDIT_RD_LINE;
		}
		have = rd->end - rd->start;
		if (have >= AUDIT_RECORD_MAX) {
			rd->lineno++;
			rd->off = rd->next_off;
			(void)snprintf(rd->why, sizeof(rd->why),
			    "line %" PRIu64 " longer than %d bytes",
			    rd->lineno, AUDIT_RECORD_MAX - 1);
			return AUDIT_RD_LONG;
		}
		if (rd->eof) {
			if (have == 0)
				return AUDIT_RD_EOF;
			*line = rd->buf + rd->start;
			*len = have;
			rd->lineno++;
			rd->off = rd->next_off;
			rd->start = rd->end;
			(void)snprintf(rd->why, sizeof(rd->why),
			    "line %" PRIu64 " has no newline (torn record, "
			    "%zu bytes)", rd->lineno, have);
			return AUDIT_RD_TORN;
		}
		if (rd->start > 0) {
			memmove(rd->buf, rd->buf + rd->start, have);
			rd->start = 0;
			rd->end = have;
		}
		n = read(rd->fd, rd->buf + rd->end, sizeof(rd->buf) - rd->end);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			(void)snprintf(rd->why, sizeof(rd->why), "read: %s",
			    strerror(errno));
			return AUDIT_RD_IO;
		}
		if (n == 0)
			rd->eof = 1;
		rd->end += (size_t)n;
	}
}

/* -------------------------------------------------------------- verifier */

const char *
audit_bad_name(enum audit_bad b)
{
	static const char *const names[] = {
		[AUDIT_BAD_NONE] = "intact",
		[AUDIT_BAD_IO] = "read error",
		[AUDIT_BAD_TORN] = "torn line",
		[AUDIT_BAD_LONG] = "line too long",
		[AUDIT_BAD_JSON] = "broken JSON",
		[AUDIT_BAD_FIELDS] = "missing or unknown field",
		[AUDIT_BAD_VALUE] = "bad value",
		[AUDIT_BAD_HASH] = "hash mismatch",
		[AUDIT_BAD_SEQ_GAP] = "sequence gap",
		[AUDIT_BAD_SEQ_ORDER] = "sequence out of order",
		[AUDIT_BAD_CHAIN] = "chain broken",
		[AUDIT_BAD_MONO] = "monotonic time went backwards",
		[AUDIT_BAD_UTC] = "wall-clock time went backwards",
		[AUDIT_BAD_ANCHOR] = "anchor mismatch",
		[AUDIT_BAD_TRUNCATED] = "truncated",
		[AUDIT_BAD_SEAL] = "seal",
	};

	if ((unsigned)b < sizeof(names) / sizeof(names[0]) && names[b] != NULL)
		return names[b];
	return "unknown";
}

void
audit_verifier_init(struct audit_verifier *v, int64_t utc_slack_ms)
{
	memset(v, 0, sizeof(*v));
	v->utc_slack_ms = utc_slack_ms;
	(void)strlcpy(v->last_hash, AUDIT_ZERO_HASH, sizeof(v->last_hash));
	(void)strlcpy(v->last_prev, AUDIT_ZERO_HASH, sizeof(v->last_prev));
}

static int
vbad(struct audit_verifier *v, enum audit_bad bad, uint64_t line,
    uint64_t seq, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int
vbad(struct audit_verifier *v, enum audit_bad bad, uint64_t line,
    uint64_t seq, const char *fmt, ...)
{
	va_list ap;

	v->bad = bad;
	v->bad_line = line;
	v->bad_seq = seq;
	va_start(ap, fmt);
	(void)vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
	return -1;
}

int
audit_verifier_line(struct audit_verifier *v, uint64_t lineno,
    const char *line, size_t len, struct audit_record *r)
{
	char why[AUDIT_ERR_MAX], hash[AUDIT_HASH_HEX + 1];
	enum audit_perr pe;
	uint64_t expect = v->last_seq + 1;

	if (v->bad != AUDIT_BAD_NONE)
		return -1;
	v->cur_ok = 0;
	if ((pe = audit_parse(line, len, r, why, sizeof(why))) !=
	    AUDIT_PERR_NONE)
		return vbad(v, pe == AUDIT_PERR_FIELDS ? AUDIT_BAD_FIELDS :
		    pe == AUDIT_PERR_VALUE ? AUDIT_BAD_VALUE : AUDIT_BAD_JSON,
		    lineno, r->seq, "%s", why);
	audit_hash(line, r->hashed_len, hash);
	if (strcmp(hash, r->hash) != 0)
		return vbad(v, AUDIT_BAD_HASH, lineno, r->seq,
		    "stored hash %.12s... but the record hashes to %.12s...: "
		    "record altered", r->hash, hash);
	/* gridcal-audit rotate: this segment continues an earlier one; the
	 * caller checks that one (audit_verifier.continues) */
	if (v->records == 0 && r->seq > 1 && r->actor == AUDIT_OPERATOR &&
	    strcmp(r->event, "segment_start") == 0) {
		const char *prev_seg = audit_field_str(r, "previous");

		if (prev_seg == NULL || prev_seg[0] == '\0' ||
		    strchr(prev_seg, '/') != NULL ||
		    strlen(prev_seg) >= sizeof(v->continues))
			return vbad(v, AUDIT_BAD_VALUE, lineno, r->seq,
			    "segment_start without a previous segment name");
		(void)strlcpy(v->continues, prev_seg, sizeof(v->continues));
		v->first_seq = r->seq;
		(void)strlcpy(v->last_hash_at_start, r->prev,
		    sizeof(v->last_hash_at_start));
		v->last_seq = r->seq - 1;
		(void)strlcpy(v->last_hash, r->prev, sizeof(v->last_hash));
		expect = r->seq;
	}
	v->cur_ok = 1;
	v->cur_seq = r->seq;
	(void)strlcpy(v->cur_hash, r->hash, sizeof(v->cur_hash));
	(void)strlcpy(v->cur_prev, r->prev, sizeof(v->cur_prev));
	if (r->seq > expect)
		return vbad(v, AUDIT_BAD_SEQ_GAP, lineno, r->seq,
		    "expected seq %" PRIu64 ", found %" PRIu64 ": %" PRIu64
		    " record(s) missing", expect, r->seq, r->seq - expect);
	if (r->seq < expect)
		return vbad(v, AUDIT_BAD_SEQ_ORDER, lineno, r->seq,
		    "seq %" PRIu64 " after seq %" PRIu64 ": reordered, "
		    "duplicated or inserted record", r->seq, v->last_seq);
	if (strcmp(r->prev, v->last_hash) != 0)
		return vbad(v, AUDIT_BAD_CHAIN, lineno, r->seq,
		    "prev %.12s... is not the hash of seq %" PRIu64 " "
		    "(%.12s...): record replaced or inserted", r->prev,
		    v->last_seq, v->last_hash);
	if (r->run[0] != '\0' && strcmp(r->run, v->last_run) == 0 &&
	    r->mono_ms < v->last_mono_ms)
		return vbad(v, AUDIT_BAD_MONO, lineno, r->seq,
		    "mono_ms %" PRId64 " < %" PRId64 " of seq %" PRIu64
		    " in run %s", r->mono_ms, v->last_mono_ms, v->last_seq,
		    r->run);
	if (v->records > 0 && r->utc_ms < v->last_utc_ms) {
		if (v->last_utc_ms - r->utc_ms > v->utc_slack_ms)
			return vbad(v, AUDIT_BAD_UTC, lineno, r->seq,
			    "utc %s is %" PRId64 " ms before seq %" PRIu64
			    " (more than the %" PRId64 " ms allowed)", r->utc,
			    v->last_utc_ms - r->utc_ms, v->last_seq,
			    v->utc_slack_ms);
		v->utc_steps++;
	}
	if (v->on_record != NULL)
		v->on_record(v->on_arg, lineno, r);
	v->records++;
	v->last_line = lineno;
	v->last_seq = r->seq;
	(void)strlcpy(v->last_hash, r->hash, sizeof(v->last_hash));
	(void)strlcpy(v->last_prev, r->prev, sizeof(v->last_prev));
	v->last_utc_ms = r->utc_ms;
	v->last_mono_ms = r->mono_ms;
	(void)strlcpy(v->last_run, r->run, sizeof(v->last_run));
	return 0;
}

/* What the line after a problem says, when it parses and hashes right. */
struct peek {
	int		ok;
	uint64_t	seq;
	char		hash[AUDIT_HASH_HEX + 1];
	char		prev[AUDIT_HASH_HEX + 1];
};

static void
peek_next(struct audit_reader *rd, struct audit_record *r, struct peek *pk)
{
	char why[AUDIT_ERR_MAX], hash[AUDIT_HASH_HEX + 1];
	const char *line;
	size_t len;

	memset(pk, 0, sizeof(*pk));
	if (audit_reader_next(rd, &line, &len) != AUDIT_RD_LINE ||
	    audit_parse(line, len, r, why, sizeof(why)) != AUDIT_PERR_NONE)
		return;
	audit_hash(line, r->hashed_len, hash);
	if (strcmp(hash, r->hash) != 0)
		return;
	pk->ok = 1;
	pk->seq = r->seq;
	(void)strlcpy(pk->hash, r->hash, sizeof(pk->hash));
	(void)strlcpy(pk->prev, r->prev, sizeof(pk->prev));
}

/* "seq 7" or "seq 7 to 9" */
static void
seq_range(uint64_t from, uint64_t to, char *buf, size_t sz)
{
	if (to > from)
		(void)snprintf(buf, sz, "seq %" PRIu64 " to %" PRIu64, from, to);
	else
		(void)snprintf(buf, sz, "seq %" PRIu64, from);
}

/*
 * A sequence or chain problem is first seen at the record after the one
 * that was tampered with in some cases. The record that follows (or the
 * anchor, at the end of the log) tells which record the genuine chain
 * continues from, so the report can name the right one.
 */
static void
refine(struct audit_verifier *v, const struct peek *nx, int have_anchor,
    uint64_t aseq, const char *ahash)
{
	uint64_t L = v->bad_line, expect = v->last_seq + 1;
	/* Does the genuine chain continue from the current record? */
	int cont = (nx->ok && strcmp(nx->prev, v->cur_hash) == 0) ||
	    (!nx->ok && have_anchor && aseq == v->cur_seq &&
	    strcmp(ahash, v->cur_hash) == 0);

	if (!v->cur_ok)
		return;
	switch (v->bad) {
	case AUDIT_BAD_SEQ_GAP:
		if (nx->ok && nx->seq == expect &&
		    strcmp(nx->prev, v->last_hash) == 0) {
			if (strcmp(v->cur_prev, nx->hash) == 0)
				(void)vbad(v, AUDIT_BAD_SEQ_ORDER, L, v->cur_seq,
				    "reordered: seq %" PRIu64 " (line %" PRIu64
				    ") comes before seq %" PRIu64 " (line %"
				    PRIu64 ")", v->cur_seq, L, nx->seq, L + 1);
			else
				(void)vbad(v, AUDIT_BAD_SEQ_ORDER, L, v->cur_seq,
				    "inserted record: seq %" PRIu64 " does not "
				    "belong here, the chain continues with seq %"
				    PRIu64 " at line %" PRIu64, v->cur_seq,
				    nx->seq, L + 1);
		} else if (cont || !nx->ok) {
			char range[64];

			seq_range(expect, v->cur_seq - 1, range, sizeof(range));
			(void)vbad(v, AUDIT_BAD_SEQ_GAP, L, expect,
			    "%s missing (deleted): line %" PRIu64 " holds seq %"
			    PRIu64, range, L, v->cur_seq);
		}
		break;
	case AUDIT_BAD_SEQ_ORDER:
		if (v->cur_seq == v->last_seq &&
		    strcmp(v->cur_prev, v->last_prev) == 0) {
			if (cont)
				(void)vbad(v, AUDIT_BAD_SEQ_ORDER, v->last_line,
				    v->last_seq, "forged record inserted: seq %"
				    PRIu64 " appears at lines %" PRIu64 " and %"
				    PRIu64 ", the chain continues from line %"
				    PRIu64, v->cur_seq, v->last_line, L, L);
			else
				(void)vbad(v, AUDIT_BAD_SEQ_ORDER, L, v->cur_seq,
				    "seq %" PRIu64 " appears twice (lines %"
				    PRIu64 " and %" PRIu64 ")", v->cur_seq,
				    v->last_line, L);
		}
		break;
	case AUDIT_BAD_CHAIN:
		if (cont && v->records > 0)
			(void)vbad(v, AUDIT_BAD_CHAIN, v->last_line,
			    v->last_seq, "record altered and re-hashed: seq %"
			    PRIu64 " (line %" PRIu64 ") chains to a different "
			    "seq %" PRIu64, v->cur_seq, L, v->last_seq);
		break;
	default:
		break;
	}
}

/* The first bytes of a torn line, for its seq if they hold one. */
static uint64_t
torn_seq(const char *line, size_t len)
{
	uint64_t seq = 0;
	size_t i = sizeof(AUDIT_HEAD) - 1;

	if (len <= i || memcmp(line, AUDIT_HEAD, i) != 0)
		return 0;
	for (; i < len && isdigit((unsigned char)line[i]); i++) {
		if (seq > (UINT64_MAX - 9) / 10)
			return 0;
		seq = seq * 10 + (uint64_t)(line[i] - '0');
	}
	return seq;
}

static int
check_anchor_end(struct audit_verifier *v, uint64_t aseq, const char *ahash,
    uint64_t ann, int arc)
{
	char range[64];

	seq_range(v->last_seq + 1, aseq, range, sizeof(range));
	if (v->last_seq < aseq)
		return vbad(v, AUDIT_BAD_TRUNCATED, v->last_line + 1,
		    v->last_seq + 1, "log ends at seq %" PRIu64 " but the "
		    "anchor records seq %" PRIu64 ": %s missing", v->last_seq,
		    aseq, range);
	if (v->last_seq == aseq && strcmp(v->last_hash, ahash) != 0)
		return vbad(v, AUDIT_BAD_ANCHOR, v->last_line, v->last_seq,
		    "seq %" PRIu64 " hashes to %.12s... but the anchor "
		    "records %.12s...: record altered", v->last_seq,
		    v->last_hash, ahash);
	if (v->last_seq > aseq && v->last_seq - aseq <= ann) {
		v->anchor_lag = 1;	/* crash window; the writer catches up */
		return 0;
	}
	if (v->last_seq > aseq)
		return vbad(v, AUDIT_BAD_ANCHOR,
		    v->last_line - (v->last_seq - (aseq + ann + 1)),
		    aseq + ann + 1, "%s records seq %" PRIu64 " and announces %"
		    PRIu64 " more, but the log goes on to seq %" PRIu64 ": "
		    "records appended without the writer",
		    arc == 1 ? "anchor missing: an empty log" : "the anchor",
		    aseq, ann, v->last_seq);
	return 0;
}

int
audit_verify_file(const char *path, const char *state_dir,
    struct audit_verifier *v)
{
	struct audit_reader *rd = NULL;
	struct audit_record *r = NULL;
	char ahash[AUDIT_HASH_HEX + 1], why[AUDIT_ERR_MAX];
	uint64_t aseq = 0, ann = 0;
	int arc = 1, rc = -1, dfd;
	const char *line;
	size_t len;
	enum audit_rd rr;
	struct peek nx;

	if ((rd = malloc(sizeof(*rd))) == NULL ||
	    (r = malloc(sizeof(*r))) == NULL) {
		(void)vbad(v, AUDIT_BAD_IO, 0, 0, "malloc: %s",
		    strerror(errno));
		goto out;
	}
	if (state_dir != NULL) {
		if ((dfd = open(state_dir, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1) {
			(void)vbad(v, AUDIT_BAD_IO, 0, 0, "%s: %s", state_dir,
			    strerror(errno));
			goto out;
		}
		arc = audit_anchor_read(dfd, &aseq, ahash, &ann, why,
		    sizeof(why));
		(void)close(dfd);
		if (arc == -1) {
			(void)vbad(v, AUDIT_BAD_ANCHOR, 0, 0, "%s", why);
			goto out;
		}
	}
	if (audit_reader_open(rd, path) == -1) {
		(void)vbad(v, AUDIT_BAD_IO, 0, 0, "%s: %s", path,
		    strerror(errno));
		free(rd);
		rd = NULL;
		goto out;
	}
	while ((rr = audit_reader_next(rd, &line, &len)) == AUDIT_RD_LINE) {
		if (audit_verifier_line(v, rd->lineno, line, len, r) == 0) {
			if (state_dir != NULL && r->seq == aseq &&
			    strcmp(r->hash, ahash) != 0) {
				(void)vbad(v, AUDIT_BAD_ANCHOR, rd->lineno,
				    r->seq, "seq %" PRIu64 " hashes to %.12s... "
				    "but the anchor records %.12s...: record "
				    "altered", r->seq, r->hash, ahash);
				goto out;
			}
			continue;
		}
		peek_next(rd, r, &nx);
		refine(v, &nx, state_dir != NULL, aseq, ahash);
		goto out;
	}
	switch (rr) {
	case AUDIT_RD_EOF:
		break;
	case AUDIT_RD_TORN:
		(void)vbad(v, AUDIT_BAD_TORN, rd->lineno, torn_seq(line, len),
		    "%s", rd->why);
		goto out;
	case AUDIT_RD_LONG:
		(void)vbad(v, AUDIT_BAD_LONG, rd->lineno, 0, "%s", rd->why);
		goto out;
	default:
		(void)vbad(v, AUDIT_BAD_IO, rd->lineno + 1, 0, "%s: %s", path,
		    rd->why);
		goto out;
	}
	if (state_dir != NULL && check_anchor_end(v, aseq, ahash, ann, arc) ==
	    -1)
		goto out;
	rc = 0;
out:
	if (rd != NULL)
		audit_reader_close(rd);
	free(rd);
	free(r);
	return rc;
}
