/*
 * Telemetry store: the supervisor's and the watchdog's view of the plant.
 * Maps an MQTT topic to (pack | unit, field) through the profile's topic
 * templates, parses the payload strictly, converts units and keeps the
 * value with its monotonic arrival time.
 *
 * A query answers TM_VALID with a value, or why there is none. There is no
 * default value: a field that was never seen, went stale, or whose latest
 * payload was rejected is "unknown" and callers must treat it as such.
 *
 * RETAINED MESSAGES never make a field fresh. The broker hands a new
 * subscriber the last retained message of a topic however old it is: a
 * pack that stopped reporting an hour ago still "publishes" its last value
 * to every (re)subscription. Such a message is only noted (the field reads
 * TM_RETAINED until a live message arrives, and tm_retained_list() names
 * it); it never sets a value, an arrival time or the freshness of a field
 * that has a live value already. The same store serves the supervisor's
 * pre-flight and monitoring and the watchdog's envelope.
 */
#ifndef GRIDCAL_TELEMETRY_H
#define GRIDCAL_TELEMETRY_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"

enum tm_status {
	TM_VALID,
	TM_MISSING,	/* never received */
	TM_STALE,	/* older than timing.telemetry_max_age_ms */
	TM_INVALID,	/* the latest payload was rejected */
	TM_RETAINED	/* never received live, only a retained message */
};

enum tm_ingest {
	TM_STORED,
	TM_UNKNOWN_TOPIC,	/* not one of ours: ignored, counted */
	TM_REJECTED,		/* ours, but the payload was refused */
	TM_RETAINED_ONLY	/* ours, retained: noted, never fresh */
};

struct tm_sample {
	int64_t	at_ms;		/* arrival of the latest payload, 0 = never */
	int64_t	valid_at_ms;	/* arrival of the latest valid payload */
	int64_t	invalid_at_ms;	/* first rejection after the latest valid one */
	int64_t	retained_at_ms;	/* latest retained message, 0 = none */
	int	valid;		/* latest payload accepted */
	double	num;		/* numeric fields, canonical unit */
	char	text[PROFILE_WORD_MAX];	/* text fields */
};

struct tm_topic {
	char	topic[PROFILE_TOPIC_MAX];
	int8_t	pack;		/* 0-based, -1 for unit fields */
	int8_t	unit;		/* 0-based, -1 for pack fields */
	int8_t	field;		/* enum pack_field or enum unit_field */
};

#define TM_TOPICS_MAX	(PROFILE_MAX_PACKS * PF_COUNT + PROFILE_MAX_UNITS * UF_COUNT)

struct tm_store {
	const struct profile	*pf;
	struct tm_sample	 pack[PROFILE_MAX_PACKS][PF_COUNT];
	struct tm_sample	 unit[PROFILE_MAX_UNITS][UF_COUNT];
	struct tm_topic		 topics[TM_TOPICS_MAX];	/* sorted by topic */
	int			 ntopics;
	uint64_t		 stored, unknown_topic, retained;
	const struct tm_topic	*last;	/* of the latest TM_STORED message */
	uint64_t		 rejected_pack[PF_COUNT];
	uint64_t		 rejected_unit[UF_COUNT];
};

/* Builds the topic index from the profile; -1 if a template is bad. */
int	tm_init(struct tm_store *, const struct profile *);
/*
 * Ingests one message. On TM_REJECTED the field becomes TM_INVALID and
 * why (if not NULL) says what was wrong with the payload.
 */
enum tm_ingest tm_ingest(struct tm_store *, const char *topic,
	    const void *payload, size_t len, int64_t now_ms,
	    char *why, size_t whysz);

/*
 * A retained message on topic (the MQTT retain flag was set): counted and
 * noted on the field, nothing else (see above). TM_UNKNOWN_TOPIC or
 * TM_RETAINED_ONLY.
 */
enum tm_ingest tm_ingest_retained(struct tm_store *, const char *topic,
	    int64_t now_ms);

enum tm_status tm_pack(const struct tm_store *, int pack, int pack_field,
	    int64_t now_ms, double *out);
enum tm_status tm_unit_num(const struct tm_store *, int unit,
	    enum unit_field, int64_t now_ms, double *out);
enum tm_status tm_unit_text(const struct tm_store *, int unit,
	    enum unit_field, int64_t now_ms, const char **out);
/* Milliseconds since the field last held a valid value; INT64_MAX if never. */
int64_t	tm_pack_unknown_for(const struct tm_store *, int pack,
	    int pack_field, int64_t now_ms);
int64_t	tm_unit_unknown_for(const struct tm_store *, int unit,
	    enum unit_field, int64_t now_ms);
const char *tm_status_name(enum tm_status);
/*
 * The fields that have had a retained message but never a live one, as
 * "pack 2 (all fields), unit 1 device_mode" into buf ("" if none).
 * Returns how many fields that is.
 */
int	tm_retained_list(const struct tm_store *, char *buf, size_t bufsz);
/* Total payloads rejected on every field. */
uint64_t tm_rejected_total(const struct tm_store *);

#endif
