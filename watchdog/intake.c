/*
 * The watchdog's telemetry intake (intake.h). Payloads come from the
 * site's monitoring daemon through the broker: untrusted. The rules are
 * shared/telemetry.c's and shared/json.c's for the fields we read; the
 * JSON reader is a strict recursive descent over the whole payload (a
 * truncated or concatenated message says nothing reliable), RFC 8259
 * throughout and an RFC 6901 pointer that must name exactly one number,
 * string or null.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "intake.h"
#include "log.h"
#include "session.h"

#define PAYLOAD_MAX	512	/* a json payload; text fits a word */
#define JSON_DEPTH	16

struct jr {
	const char	*p, *e, *why, *vs, *ve;
	int		 kind, hits, depth;	/* kind: 's' 'n', 0 null */
};

static int	jval(struct jr *, const char *ptr);

static int
jbad(struct jr *j, const char *why)
{
	j->why = j->why != NULL ? j->why : why;
	return -1;
}

static int
jmore(const struct jr *j, const char *set)
{
	return j->p < j->e && strchr(set, *j->p) != NULL;
}

/* Past the bytes of set: how many. */
static int
jskip(struct jr *j, const char *set)
{
	const char *p = j->p;

	while (jmore(j, set))
		j->p++;
	return (int)(j->p - p);
}

static int
jnum(struct jr *j)
{
	j->p += jmore(j, "-");
	if (jmore(j, "0"))
		j->p++;
	else if (!jskip(j, "0123456789"))
		return jbad(j, "not JSON: bad number");
	if (jmore(j, ".") && (j->p++, !jskip(j, "0123456789")))
		return jbad(j, "not JSON: bad number");
	if (jmore(j, "eE")) {
		j->p++;
		j->p += jmore(j, "+-");
		if (!jskip(j, "0123456789"))
			return jbad(j, "not JSON: bad number");
	}
	return 0;
}

/* Past a string's closing quote; *s..*e its raw contents. */
static int
jstr(struct jr *j, const char **s, const char **e)
{
	if (!jmore(j, "\""))
		return jbad(j, "not JSON: string expected");
	for (*s = ++j->p; j->p < j->e && *j->p != '"'; j->p++)
		if (*j->p == '\\') {
			if (++j->p >= j->e || strchr("\"\\/bfnrtu", *j->p) == NULL)
				return jbad(j, "not JSON: bad escape");
			for (int i = 0, u = *j->p == 'u'; u && i < 4; i++)
				if (++j->p >= j->e || !isxdigit((unsigned char)*j->p))
					return jbad(j, "not JSON: bad escape");
		}
	if (j->p >= j->e)
		return jbad(j, "not JSON: unterminated string");
	*e = j->p++;
	return 0;
}

/* The raw key s..e is the pointer's next token: then *next past it. */
static int
token_is(const char *s, const char *e, const char *ptr, const char **next)
{
	const char *t = ptr + 1;

	for (; s < e; s++, t++) {
		char c = *t;

		if (*s == '\\' || c == '\0' || c == '/')
			return 0;	/* an escaped key is never ours */
		if (c == '~')		/* ~0 is ~, ~1 is / */
			c = *++t == '0' ? '~' : '/';
		if (c != *s)
			return 0;
	}
	if (*t != '\0' && *t != '/')
		return 0;
	*next = t;
	return 1;
}

/* An object or an array; ptr: what is left of the pointer, or NULL. */
static int
jcoll(struct jr *j, const char *ptr)
{
	char close = *j->p == '{' ? '}' : ']';
	const char *ks, *ke, *next = NULL, *at;
	long want = -1;

	/* an array index: decimal, no leading zero */
	if (close == ']' && ptr != NULL && *ptr == '/' &&
	    isdigit((unsigned char)ptr[1]) && (ptr[1] != '0' ||
	    ptr[2] == '\0' || ptr[2] == '/')) {
		for (want = 0, next = ptr + 1; isdigit((unsigned char)*next) &&
		    want < 100000; next++)
			want = want * 10 + (*next - '0');
		want = *next == '\0' || *next == '/' ? want : -1;
	}
	j->p++;
	(void)jskip(j, " \t\n\r");
	if (jmore(j, close == '}' ? "}" : "]")) {
		j->p++;
		return 0;
	}
	for (long i = 0;; i++) {
		at = close == ']' && i == want ? next : NULL;
		if (close == '}') {
			(void)jskip(j, " \t\n\r");
			if (jstr(j, &ks, &ke) == -1)
				return -1;
			(void)jskip(j, " \t\n\r");
			if (!jmore(j, ":"))
				return jbad(j, "not JSON: ':' expected");
			j->p++;
			at = ptr != NULL && *ptr == '/' && token_is(ks, ke, ptr,
			    &next) ? next : NULL;
		}
		if (jval(j, at) == -1)
			return -1;
		(void)jskip(j, " \t\n\r");
		if (!jmore(j, close == '}' ? ",}" : ",]"))
			return jbad(j, "not JSON: ',' or the end expected");
		if (*j->p++ == close)
			return 0;
	}
}

/* ptr: what is left of the pointer here, "" the value itself, NULL off */
static int
jval(struct jr *j, const char *ptr)
{
	const char *s = NULL, *e = NULL, *start;
	int kind = 0, rc;

	(void)jskip(j, " \t\n\r");
	if (j->p >= j->e)
		return jbad(j, "not JSON: value expected");
	if (++j->depth > JSON_DEPTH)
		return jbad(j, "JSON nested too deep");
	start = j->p;
	if (jmore(j, "{["))
		rc = jcoll(j, ptr);
	else if (jmore(j, "\"")) {
		rc = jstr(j, &s, &e);
		kind = 's';
	} else if (jmore(j, "tfn")) {
		const char *w = *j->p == 't' ? "true" : *j->p == 'f' ?
		    "false" : "null";

		rc = (size_t)(j->e - j->p) < strlen(w) || memcmp(j->p, w,
		    strlen(w)) != 0 ? jbad(j, "not JSON") : 0;
		j->p += rc == 0 ? strlen(w) : 0;
	} else {
		rc = jnum(j);
		kind = 'n';
		s = start;
		e = j->p;
	}
	j->depth--;
	if (rc == 0 && ptr != NULL && *ptr == '\0') {
		if (j->hits++ > 0)
			return jbad(j, "the pointer names more than one value");
		if (strchr("{[tf", *start) != NULL)
			return jbad(j, "not a number or a string at the pointer");
		j->vs = s;
		j->ve = e;
		j->kind = kind;
	}
	return rc;
}

/* The one value at ptr as text in out (a string unescaped); *kind. */
static int
json_get(const char *doc, size_t len, const char *ptr, char *out,
    size_t outsz, int *kind, const char **why)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	struct jr j = { .p = doc, .e = doc + len };
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)doc[i] < 0x20 || (unsigned char)doc[i] > 0x7e) &&
		    strchr("\t\n\r", doc[i]) == NULL)
			return (*why = "non-printable byte", -1);
	if (jval(&j, ptr) == 0) {
		(void)jskip(&j, " \t\n\r");
		(void)(j.p != j.e ? jbad(&j, "not JSON: more after the value") :
		    j.hits == 0 ? jbad(&j, "no value at the JSON pointer") : 0);
	}
	if ((*why = j.why) != NULL)
		return -1;
	*kind = j.kind;
	for (const char *p = j.vs; p != NULL && p < j.ve; p++) {
		char c = *p;

		if (c == '\\' && j.kind == 's' && *++p == 'u')
			return (*why = "\\u escape in the value", -1);
		if (c == '\\' && j.kind == 's')
			c = to[strchr(from, *p) - from];
		if (n + 1 >= outsz)
			return (*why = "too long", -1);
		out[n++] = c;
	}
	out[n] = '\0';
	return 0;
}

/* The payload's value into s, canonical; -1 with *why when refused. */
static int
parse(const struct field_spec *fs, const char *payload, size_t len,
    struct tm_sample *s, const char **why)
{
	static const char *const none[] = { "", "unavailable", "unknown",
	    "nan", "none", "null", "n/a", "inf", "-inf", "+inf", "infinity" };
	char text[PAYLOAD_MAX];
	double v;
	int kind = 0;

	if (fs->format == PL_TEXT) {
		if (len >= PROFILE_WORD_MAX)
			return (*why = "too long", -1);
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)payload[i] < 0x20 ||
			    (unsigned char)payload[i] > 0x7e)
				return (*why = "non-printable byte", -1);
		memcpy(text, payload, len);
		text[len] = '\0';
	} else if (len >= PAYLOAD_MAX)
		return (*why = "too long", -1);
	else if (json_get(payload, len, fs->pointer, text, sizeof(text), &kind,
	    why) == -1)
		return -1;
	if (fs->format == PL_JSON && kind == 0)
		return (*why = "no value (JSON null)", -1);
	if (kind == 'n' && fs->unit == FU_TEXT)
		return (*why = "a number where the field is text", -1);
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		if (strcasecmp(text, none[i]) == 0)
			return (*why = "no value", -1);
	if (fs->unit == FU_TEXT)
		return strlcpy(s->text, text, sizeof(s->text)) < sizeof(s->text) ?
		    0 : (*why = "too long", -1);
	/* the range check comes after conversion: parse unbounded first */
	if (conf_number(text, -1e12, 1e12, &v, why) == -1)
		return -1;
	v = v * fs->scale * fs->sign;
	v = fs->unit == FU_MILLIVOLT ? v / 1000.0 : fs->unit ==
	    FU_FAHRENHEIT ? (v - 32.0) * 5.0 / 9.0 : v;
	if (v < fs->min || v > fs->max)
		return (*why = "implausible (outside the profile's range)", -1);
	s->num = v;
	return 0;
}

int
tm_init(struct tm_store *tm, const struct profile *pf)
{
	memset(tm, 0, sizeof(*tm));
	tm->pf = pf;
	for (int i = 0; i < pf->packs + pf->units; i++)
		for (int f = 0; f < (i < pf->packs ? pack_nfields(pf) :
		    UF_COUNT); f++) {
			int pk = i < pf->packs;

			if (topic_expand(pk ? pf->pack_field[f].topic :
			    pf->unit_field[f].topic, pk ? i + 1 : i - pf->packs + 1,
			    tm->topics[tm->ntopics].topic, PROFILE_TOPIC_MAX) == -1)
				return -1;
			tm->topics[tm->ntopics].pack = (int8_t)(pk ? i : -1);
			tm->topics[tm->ntopics].unit = (int8_t)(pk ? -1 :
			    i - pf->packs);
			tm->topics[tm->ntopics++].field = (int8_t)f;
		}
	return 0;
}

int
tm_subscribe(struct tm_store *tm, struct session *s)
{
	for (int i = 0; i < tm->ntopics; i++)
		if (session_subscribe(s, tm->topics[i].topic, 0) == -1)
			return -1;
	return 0;
}

int
tm_ingest(struct tm_store *tm, const char *topic, const void *payload,
    size_t len, int retained, int64_t now, const char **why)
{
	struct tm_sample *s, next;
	int i, pk;

	for (i = 0; i < tm->ntopics && strcmp(tm->topics[i].topic, topic); i++)
		;
	if (i == tm->ntopics)
		return 1;
	pk = tm->topics[i].pack >= 0;
	s = pk ? &tm->pack[tm->topics[i].pack][tm->topics[i].field] :
	    &tm->unit[tm->topics[i].unit][tm->topics[i].field];
	if (retained) {		/* it says nothing about now */
		s->retained_at_ms = now;
		return 1;
	}
	next = *s;
	s->at_ms = now;
	if (parse(pk ? &tm->pf->pack_field[tm->topics[i].field] :
	    &tm->pf->unit_field[tm->topics[i].field], payload, len, &next,
	    why) == -1) {
		if (s->valid || s->invalid_at_ms == 0)
			s->invalid_at_ms = now;
		s->valid = 0;
		tm->rejected++;
		return -1;
	}
	next.at_ms = next.valid_at_ms = now;
	next.valid = 1;
	*s = next;
	return 0;
}

void
tm_message(void *arg, const char *topic, const void *payload, size_t len,
    int retained)
{
	const char *why;

	if (tm_ingest(arg, topic, payload, len, retained, mono_ms(), &why) ==
	    -1)
		log_debug("%s: %s", topic, why);
}

static enum tm_status
status(const struct tm_store *tm, const struct tm_sample *s, int64_t now)
{
	if (s->at_ms == 0)
		return s->retained_at_ms != 0 ? TM_RETAINED : TM_MISSING;
	if (!s->valid)
		return TM_INVALID;
	return now - s->at_ms > tm->pf->timing.telemetry_max_age_ms ?
	    TM_STALE : TM_VALID;
}

enum tm_status
tm_pack(const struct tm_store *tm, int pack, int f, int64_t now, double *out)
{
	enum tm_status st;

	if (pack < 0 || pack >= tm->pf->packs || f < 0 ||
	    f >= pack_nfields(tm->pf))
		return TM_MISSING;
	if ((st = status(tm, &tm->pack[pack][f], now)) == TM_VALID)
		*out = tm->pack[pack][f].num;
	return st;
}

enum tm_status
tm_unit_text(const struct tm_store *tm, int unit, enum unit_field f,
    int64_t now, const char **out)
{
	enum tm_status st;

	if (unit < 0 || unit >= tm->pf->units || (unsigned)f >= UF_COUNT)
		return TM_MISSING;
	if ((st = status(tm, &tm->unit[unit][f], now)) == TM_VALID)
		*out = tm->unit[unit][f].text;
	return st;
}

int64_t
tm_pack_unknown_for(const struct tm_store *tm, int pack, int f, int64_t now)
{
	const struct tm_sample *s;
	int64_t since;

	if (pack < 0 || pack >= tm->pf->packs || f < 0 ||
	    f >= pack_nfields(tm->pf) || tm->pack[pack][f].valid_at_ms == 0)
		return INT64_MAX;
	s = &tm->pack[pack][f];
	if (status(tm, s, now) == TM_VALID)
		return 0;
	/* unknown from whichever came first: staleness or a rejection */
	since = s->valid_at_ms + tm->pf->timing.telemetry_max_age_ms;
	if (!s->valid && s->invalid_at_ms < since)
		since = s->invalid_at_ms;
	return now > since ? now - since : 0;
}
