/*
 * Telemetry store. Payloads come from the site's monitoring daemon through
 * the broker: untrusted, messy, sometimes garbage. A payload is stored only
 * if it parses completely, is finite and lies in the profile's plausible
 * range after unit conversion; otherwise the field becomes invalid (not
 * "last good value") and the rejection is counted. A retained message is
 * not a reading at all: it only marks the field as "heard of, not heard"
 * (telemetry.h).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "parse.h"
#include "telemetry.h"

#define TM_PAYLOAD_MAX	512	/* a json payload; text fits a word */

static int
topic_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tm_topic *)a)->topic,
	    ((const struct tm_topic *)b)->topic);
}

int
tm_init(struct tm_store *tm, const struct profile *pf)
{
	memset(tm, 0, sizeof(*tm));
	tm->pf = pf;
	for (int i = 0; i < pf->packs; i++)
		for (int f = 0; f < pack_nfields(pf); f++) {
			struct tm_topic *t = &tm->topics[tm->ntopics++];
			if (topic_expand(pf->pack_field[f].topic, i + 1, t->topic,
			    sizeof(t->topic)) == -1)
				return -1;
			t->pack = (int8_t)i;
			t->unit = -1;
			t->field = (int8_t)f;
		}
	for (int u = 0; u < pf->units; u++)
		for (int f = 0; f < UF_COUNT; f++) {
			struct tm_topic *t = &tm->topics[tm->ntopics++];
			if (topic_expand(pf->unit_field[f].topic, u + 1, t->topic,
			    sizeof(t->topic)) == -1)
				return -1;
			t->pack = -1;
			t->unit = (int8_t)u;
			t->field = (int8_t)f;
		}
	qsort(tm->topics, (size_t)tm->ntopics, sizeof(tm->topics[0]), topic_cmp);
	for (int i = 1; i < tm->ntopics; i++)
		if (strcmp(tm->topics[i - 1].topic, tm->topics[i].topic) == 0)
			return -1;
	return 0;
}

/* Converts a published value to the field's canonical unit. */
static double
to_canonical(enum field_unit unit, bool millivolt_field, double v)
{
	switch (unit) {
	case FU_MILLIVOLT:
		return millivolt_field ? v : v / 1000.0;
	case FU_VOLT:
		return millivolt_field ? v * 1000.0 : v;
	case FU_FAHRENHEIT:
		return (v - 32.0) * 5.0 / 9.0;
	case FU_KILOWATT:
		return v * 1000.0;
	default:
		return v;
	}
}

/*
 * Parses text into s (canonical). Returns -1 with *why set when the
 * payload must be rejected.
 */
static int
parse_value(const struct field_spec *fs, bool millivolt_field,
    const char *text, struct tm_sample *s, const char **why)
{
	double v;

	if (fs->unit == FU_TEXT) {
		if (is_no_value_word(text)) {
			*why = "no value";
			return -1;
		}
		if (strlcpy(s->text, text, sizeof(s->text)) >= sizeof(s->text)) {
			*why = "too long";
			return -1;
		}
		return 0;
	}
	if (fs->unit == FU_FLAGS) {
		uint32_t bits;

		if (text[0] == '\0' && fs->empty_is_zero)
			bits = 0;
		else if (is_no_value_word(text)) {
			*why = "no value";
			return -1;
		} else if (parse_flags(text, &bits, why) == -1)
			return -1;
		s->num = bits;
		return 0;
	}
	if (is_no_value_word(text)) {
		*why = "no value";
		return -1;
	}
	/* the range check comes after conversion, so parse unbounded first */
	if (parse_double(text, -1e12, 1e12, &v, why) == -1)
		return -1;
	v = to_canonical(fs->unit, millivolt_field, v * fs->scale * fs->sign);
	if (v < fs->min || v > fs->max) {
		*why = "implausible (outside the profile's range)";
		return -1;
	}
	s->num = v;
	return 0;
}

/*
 * The text to parse: the whole payload (format text: a word's length), or
 * the one value at the field's JSON pointer (format json). A JSON string
 * for a numeric field is parsed as strictly as a text payload; JSON null
 * is "no value".
 */
static int
payload_text(const struct field_spec *fs, const void *payload, size_t len,
    char *text, size_t textsz, const char **why)
{
	enum json_kind kind;

	if (fs->format == PL_TEXT)
		return payload_to_string(payload, len, text, textsz <
		    PROFILE_WORD_MAX ? textsz : PROFILE_WORD_MAX, why);
	if (len >= TM_PAYLOAD_MAX) {
		*why = "too long";
		return -1;
	}
	if (json_pointer_get(payload, len, fs->pointer, text, textsz, &kind,
	    why) == -1)
		return -1;
	if (kind == JSON_NULL) {
		*why = "no value (JSON null)";
		return -1;
	}
	if (kind == JSON_NUMBER && (fs->unit == FU_TEXT)) {
		*why = "a number where the field is text";
		return -1;
	}
	return 0;
}

/* The index entry of topic; NULL (counted) if it is not one of ours. */
static const struct tm_topic *
lookup(struct tm_store *tm, const char *topic)
{
	struct tm_topic key;
	const struct tm_topic *t = NULL;

	if (strlcpy(key.topic, topic, sizeof(key.topic)) < sizeof(key.topic))
		t = bsearch(&key, tm->topics, (size_t)tm->ntopics,
		    sizeof(tm->topics[0]), topic_cmp);
	if (t == NULL)
		tm->unknown_topic++;
	return t;
}

static struct tm_sample *
sample_of(struct tm_store *tm, const struct tm_topic *t)
{
	return t->pack >= 0 ? &tm->pack[t->pack][t->field] :
	    &tm->unit[t->unit][t->field];
}

enum tm_ingest
tm_ingest_retained(struct tm_store *tm, const char *topic, int64_t now_ms)
{
	const struct tm_topic *t;

	if ((t = lookup(tm, topic)) == NULL)
		return TM_UNKNOWN_TOPIC;
	/* whatever it says, it says nothing about now */
	sample_of(tm, t)->retained_at_ms = now_ms;
	tm->retained++;
	return TM_RETAINED_ONLY;
}

enum tm_ingest
tm_ingest(struct tm_store *tm, const char *topic, const void *payload,
    size_t len, int64_t now_ms, char *why, size_t whysz)
{
	const struct tm_topic *t;
	const struct field_spec *fs;
	struct tm_sample *s, next;
	char text[TM_PAYLOAD_MAX];
	const char *reason = NULL;
	uint64_t *rejected;

	if ((t = lookup(tm, topic)) == NULL)
		return TM_UNKNOWN_TOPIC;
	if (t->pack >= 0) {
		s = &tm->pack[t->pack][t->field];
		fs = &tm->pf->pack_field[t->field];
		rejected = &tm->rejected_pack[t->field];
	} else {
		s = &tm->unit[t->unit][t->field];
		fs = &tm->pf->unit_field[t->field];
		rejected = &tm->rejected_unit[t->field];
	}
	next = *s;
	if (payload_text(fs, payload, len, text, sizeof(text), &reason) == 0)
		(void)parse_value(fs, t->pack >= 0 && t->field == PF_CELL_DELTA_MV,
		    text, &next, &reason);
	s->at_ms = now_ms;
	if (reason != NULL) {
		if (s->valid || s->invalid_at_ms == 0)
			s->invalid_at_ms = now_ms;
		s->valid = 0;
		(*rejected)++;
		if (why != NULL)
			(void)snprintf(why, whysz, "%s: %s", topic, reason);
		return TM_REJECTED;
	}
	next.at_ms = now_ms;
	next.valid_at_ms = now_ms;
	next.valid = 1;
	*s = next;
	tm->stored++;
	tm->last = t;
	return TM_STORED;
}

static enum tm_status
sample_status(const struct tm_store *tm, const struct tm_sample *s,
    int64_t now_ms)
{
	if (s->at_ms == 0)
		return s->retained_at_ms != 0 ? TM_RETAINED : TM_MISSING;
	if (!s->valid)
		return TM_INVALID;
	if (now_ms - s->at_ms > tm->pf->timing.telemetry_max_age_ms)
		return TM_STALE;
	return TM_VALID;
}

enum tm_status
tm_pack(const struct tm_store *tm, int pack, int f,
    int64_t now_ms, double *out)
{
	const struct tm_sample *s;
	enum tm_status st;

	if (pack < 0 || pack >= tm->pf->packs || f < 0 ||
	    f >= pack_nfields(tm->pf))
		return TM_MISSING;
	s = &tm->pack[pack][f];
	if ((st = sample_status(tm, s, now_ms)) == TM_VALID)
		*out = s->num;
	return st;
}

enum tm_status
tm_unit_num(const struct tm_store *tm, int unit, enum unit_field f,
    int64_t now_ms, double *out)
{
	const struct tm_sample *s;
	enum tm_status st;

	if (unit < 0 || unit >= tm->pf->units || (unsigned)f >= UF_COUNT ||
	    tm->pf->unit_field[f].unit == FU_TEXT)
		return TM_MISSING;
	s = &tm->unit[unit][f];
	if ((st = sample_status(tm, s, now_ms)) == TM_VALID)
		*out = s->num;
	return st;
}

enum tm_status
tm_unit_text(const struct tm_store *tm, int unit, enum unit_field f,
    int64_t now_ms, const char **out)
{
	const struct tm_sample *s;
	enum tm_status st;

	if (unit < 0 || unit >= tm->pf->units || (unsigned)f >= UF_COUNT ||
	    tm->pf->unit_field[f].unit != FU_TEXT)
		return TM_MISSING;
	s = &tm->unit[unit][f];
	if ((st = sample_status(tm, s, now_ms)) == TM_VALID)
		*out = s->text;
	return st;
}

static int64_t
unknown_for(const struct tm_store *tm, const struct tm_sample *s,
    int64_t now_ms)
{
	int64_t since;

	if (s->valid_at_ms == 0)
		return INT64_MAX;
	if (sample_status(tm, s, now_ms) == TM_VALID)
		return 0;
	/* unknown from whichever came first: staleness or a rejection */
	since = s->valid_at_ms + tm->pf->timing.telemetry_max_age_ms;
	if (!s->valid && s->invalid_at_ms < since)
		since = s->invalid_at_ms;
	return now_ms > since ? now_ms - since : 0;
}

int64_t
tm_pack_unknown_for(const struct tm_store *tm, int pack, int f,
    int64_t now_ms)
{
	if (pack < 0 || pack >= tm->pf->packs || f < 0 ||
	    f >= pack_nfields(tm->pf))
		return INT64_MAX;
	return unknown_for(tm, &tm->pack[pack][f], now_ms);
}

int64_t
tm_unit_unknown_for(const struct tm_store *tm, int unit, enum unit_field f,
    int64_t now_ms)
{
	if (unit < 0 || unit >= tm->pf->units || (unsigned)f >= UF_COUNT)
		return INT64_MAX;
	return unknown_for(tm, &tm->unit[unit][f], now_ms);
}

const char *
tm_status_name(enum tm_status st)
{
	static const char *const names[] = {
		"valid", "missing", "stale", "invalid",
		"only a retained message (not live)",
	};

	return (unsigned)st < sizeof(names) / sizeof(names[0]) ?
	    names[st] : "?";
}

static bool
retained_only(const struct tm_sample *s)
{
	return s->at_ms == 0 && s->retained_at_ms != 0;
}

/* Appends to buf; a full buffer ends the list with "...". */
static void
list_add(char *buf, size_t bufsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
list_add(char *buf, size_t bufsz, const char *fmt, ...)
{
	size_t off = strlen(buf);
	va_list ap;
	int n;

	if (off + 1 >= bufsz)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + off, bufsz - off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= bufsz - off) {
		buf[off] = '\0';
		if (off + 4 <= bufsz)
			(void)strlcat(buf, "...", bufsz);
	}
}

/* One pack's or unit's retained-only fields: "pack 2 (all fields)". */
static int
list_one(char *buf, size_t bufsz, const char *what, int n,
    const struct tm_sample *s, int count, const struct field_spec *fs)
{
	int only = 0;

	for (int f = 0; f < count; f++)
		only += retained_only(&s[f]);
	if (only == 0)
		return 0;
	list_add(buf, bufsz, "%s%s %d", buf[0] ? ", " : "", what, n + 1);
	if (only == count) {
		list_add(buf, bufsz, " (all fields)");
		return only;
	}
	for (int f = 0, k = 0; f < count; f++)
		if (retained_only(&s[f]))
			list_add(buf, bufsz, "%s%s", k++ ? "+" : " ", fs[f].name);
	return only;
}

int
tm_retained_list(const struct tm_store *tm, char *buf, size_t bufsz)
{
	int n = 0;

	if (bufsz == 0)
		return 0;
	buf[0] = '\0';
	for (int p = 0; p < tm->pf->packs; p++)
		n += list_one(buf, bufsz, "pack", p, tm->pack[p],
		    pack_nfields(tm->pf), tm->pf->pack_field);
	for (int u = 0; u < tm->pf->units; u++)
		n += list_one(buf, bufsz, "unit", u, tm->unit[u], UF_COUNT,
		    tm->pf->unit_field);
	return n;
}

uint64_t
tm_rejected_total(const struct tm_store *tm)
{
	uint64_t n = 0;

	for (int f = 0; f < PF_COUNT; f++)
		n += tm->rejected_pack[f];
	for (int f = 0; f < UF_COUNT; f++)
		n += tm->rejected_unit[f];
	return n;
}
