/*
 * (b) Telemetry ingest: a sequence of MQTT messages into the store the
 * watchdog and the supervisor judge the plant by.
 *
 * Input: records of [topic u8][dt u8][len u8][payload len bytes]. topic
 * below the store's topic count names one of ours; 0xff takes the topic
 * from the input (len-prefixed), 0xfe is a retained copy (the MQTT retain
 * flag) of one of ours, anything else is a near miss of one of ours (a
 * byte changed or appended).
 *
 * Oracles after every message: the result and the counters agree; a stored
 * numeric value is finite and within the profile's range in its canonical
 * unit; a stored text is printable; a rejected field reads TM_INVALID and
 * never keeps a value an earlier payload gave; an unknown topic changes
 * nothing; a retained copy never makes a field valid nor changes its
 * value.
 */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "telemetry.h"

static struct profile pf;
static struct tm_store tm;
/* tm_init() once: every input starts from a copy of this store (tm_init
 * sorts the topics, a fifth of an execution when done per input) */
static struct tm_store tm0;

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_reference_profile(&pf);
	if (tm_init(&tm0, &pf) == -1)
		abort();
	return 0;
}

/*
 * strcmp() by hand: libFuzzer hooks every strcmp() call (a fifth of an
 * execution was this harness's own look-ups); the ones that matter, in
 * tm_ingest()'s look-up, still go through it.
 */
static int
topic_cmp(const void *key, const void *t)
{
	const unsigned char *a = key;
	const unsigned char *b = (const unsigned char *)
	    ((const struct tm_topic *)t)->topic;

	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return (*a > *b) - (*a < *b);
}

static const struct field_spec *
spec_of(const struct tm_topic *t)
{
	return t->pack >= 0 ? &pf.pack_field[t->field] :
	    &pf.unit_field[t->field];
}

static const struct tm_sample *
sample_of(const struct tm_topic *t)
{
	return t->pack >= 0 ? &tm.pack[t->pack][t->field] :
	    &tm.unit[t->unit][t->field];
}

static enum tm_status
query(const struct tm_topic *t, int64_t now, double *num, const char **txt)
{
	*txt = NULL;
	if (t->pack >= 0)
		return tm_pack(&tm, t->pack, (enum pack_field)t->field, now, num);
	if (pf.unit_field[t->field].unit == FU_TEXT)
		return tm_unit_text(&tm, t->unit, (enum unit_field)t->field, now,
		    txt);
	return tm_unit_num(&tm, t->unit, (enum unit_field)t->field, now, num);
}

static void
check_stored(const struct tm_topic *t, int64_t now)
{
	const struct field_spec *fs = spec_of(t);
	const char *txt;
	double v = NAN;

	FUZZ_ASSERT(query(t, now, &v, &txt) == TM_VALID, "%s", t->topic);
	FUZZ_ASSERT(tm_pack_unknown_for(&tm, t->pack, t->field, now) == 0 ||
	    t->pack < 0, "%s", t->topic);
	if (fs->unit == FU_TEXT) {
		FUZZ_ASSERT(txt != NULL && strlen(txt) < PROFILE_WORD_MAX, "%s",
		    t->topic);
		for (const char *c = txt; *c != '\0'; c++)
			FUZZ_ASSERT(*c >= 0x20 && *c < 0x7f, "%s: byte %#x",
			    t->topic, (unsigned char)*c);
		return;
	}
	FUZZ_ASSERT(isfinite(v), "%s", t->topic);
	if (fs->unit != FU_FLAGS)
		FUZZ_ASSERT(v >= fs->min && v <= fs->max, "%s: %g not in %g..%g",
		    t->topic, v, fs->min, fs->max);
	else
		FUZZ_ASSERT(v >= 0 && v == floor(v), "%s: flags %g", t->topic, v);
}

/* t: the index entry of topic if the caller knows it, else NULL */
static void
one(const struct tm_topic *t, const char *topic, const uint8_t *payload,
    size_t len, int64_t now)
{
	struct tm_sample before[PROFILE_MAX_PACKS][PF_COUNT];
	struct tm_sample ubefore[PROFILE_MAX_UNITS][UF_COUNT];
	uint64_t stored = tm.stored, unknown = tm.unknown_topic;
	uint64_t rejected = tm_rejected_total(&tm);
	char why[256] = "";
	enum tm_ingest r;

	/* the index is sorted (fuzz-profile checks it of every profile) */
	if (t == NULL)
		t = bsearch(topic, tm.topics, (size_t)tm.ntopics,
		    sizeof(tm.topics[0]), topic_cmp);
	if (t == NULL) {	/* what must not change */
		memcpy(before, tm.pack, sizeof(before));
		memcpy(ubefore, tm.unit, sizeof(ubefore));
	}
	r = tm_ingest(&tm, topic, payload, len, now, why, sizeof(why));
	if (t == NULL) {
		FUZZ_ASSERT(r == TM_UNKNOWN_TOPIC, "%s: %d", topic, r);
		FUZZ_ASSERT(tm.unknown_topic == unknown + 1, "%s", topic);
		FUZZ_ASSERT(memcmp(before, tm.pack, sizeof(before)) == 0 &&
		    memcmp(ubefore, tm.unit, sizeof(ubefore)) == 0,
		    "unknown topic %s changed the store", topic);
		return;
	}
	FUZZ_ASSERT(r == TM_STORED || r == TM_REJECTED, "%s: %d", topic, r);
	if (r == TM_STORED) {
		FUZZ_ASSERT(tm.stored == stored + 1, "%s", topic);
		check_stored(t, now);
		return;
	}
	FUZZ_ASSERT(tm_rejected_total(&tm) == rejected + 1, "%s", topic);
	FUZZ_ASSERT(why[0] != '\0', "rejection of %s without a reason", topic);
	{
		const char *txt;
		double v;

		FUZZ_ASSERT(query(t, now, &v, &txt) == TM_INVALID, "%s", topic);
	}
	FUZZ_ASSERT(sample_of(t)->at_ms == now, "%s", topic);
}

static void
retained(const struct tm_topic *t, int64_t now)
{
	const struct tm_sample was = *sample_of(t);
	uint64_t stored = tm.stored;
	const char *txt;
	double v;
	enum tm_status before = query(t, now, &v, &txt);

	(void)tm_ingest_retained(&tm, t->topic, now);
	FUZZ_ASSERT(tm.stored == stored, "%s: retained counted as stored",
	    t->topic);
	FUZZ_ASSERT(before == TM_VALID || query(t, now, &v, &txt) != TM_VALID,
	    "%s: a retained copy made it valid", t->topic);
	FUZZ_ASSERT(sample_of(t)->valid_at_ms == was.valid_at_ms &&
	    memcmp(&sample_of(t)->num, &was.num, sizeof(was.num)) == 0 &&
	    strcmp(sample_of(t)->text, was.text) == 0,
	    "%s: a retained copy changed the value", t->topic);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	char topic[PROFILE_TOPIC_MAX + 8];
	int64_t now = 1000;
	uint64_t sent = 0;

	memcpy(&tm, &tm0, sizeof(tm));
	while (fuzz_more(&in)) {
		uint8_t sel = fuzz_u8(&in);
		const struct tm_topic *t = NULL;
		const uint8_t *p;
		size_t len;

		now += fuzz_u8(&in) * 250;	/* up to ~64 s between messages */
		if (sel == 0xfe) {
			retained(&tm.topics[fuzz_u8(&in) % tm.ntopics], now);
			continue;
		}
		if (sel == 0xff) {
			p = fuzz_bytes(&in, fuzz_u8(&in) % sizeof(topic), &len);
			memcpy(topic, p, len);
			topic[len] = '\0';
		} else if (sel < tm.ntopics) {
			t = &tm.topics[sel];	/* what a look-up would find */
			(void)strlcpy(topic, t->topic, sizeof(topic));
		} else {		/* a near miss of one of ours */
			const char *base = tm.topics[sel % tm.ntopics].topic;
			size_t bl = strlen(base), at = fuzz_u8(&in) % (bl + 1);

			(void)strlcpy(topic, base, sizeof(topic));
			topic[at] = (char)fuzz_u8(&in);
			if (at == bl)
				topic[at + 1] = '\0';
		}
		p = fuzz_bytes(&in, fuzz_u8(&in), &len);
		one(t, topic, p, len, now);
		sent++;
		/* time passes: every value ages the same way */
		for (int i = 0; i < tm.ntopics; i++) {
			const char *txt;
			double v;
			enum tm_status st = query(&tm.topics[i], now, &v, &txt);
			const struct tm_sample *s = sample_of(&tm.topics[i]);

			FUZZ_ASSERT(st != TM_VALID || (s->valid &&
			    now - s->at_ms <= pf.timing.telemetry_max_age_ms),
			    "%s valid at age %lld", tm.topics[i].topic,
			    (long long)(now - s->at_ms));
		}
	}
	FUZZ_ASSERT(tm.stored + tm.unknown_topic + tm_rejected_total(&tm) ==
	    sent, "%llu messages, %llu counted", (unsigned long long)sent,
	    (unsigned long long)(tm.stored + tm.unknown_topic +
	    tm_rejected_total(&tm)));
	return 0;
}
