/*
 * The watchdog's own telemetry: the fields its envelope, its readback
 * confirmation and its verdict read (conf.h), under the rules of
 * shared/telemetry.h for them. A payload is stored only if it parses
 * completely (text, or the one value at a JSON pointer), is finite and
 * lies in the field's range after scale, sign and unit conversion;
 * otherwise the field is invalid, never "last good value". A RETAINED
 * message never makes a field fresh: it is only noted (TM_RETAINED until
 * a live one arrives). A field older than timing.telemetry_max_age_s is
 * stale. There is no default value.
 */
#ifndef GRIDCAL_WD_INTAKE_H
#define GRIDCAL_WD_INTAKE_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

struct session;

enum tm_status { TM_VALID, TM_MISSING, TM_STALE, TM_INVALID, TM_RETAINED };

struct tm_sample {
	int64_t	at_ms;		/* the latest payload, 0 = never */
	int64_t	valid_at_ms;	/* the latest valid payload */
	int64_t	invalid_at_ms;	/* first rejection after the latest valid */
	int64_t	retained_at_ms;	/* the latest retained message */
	int	valid;
	double	num;		/* canonical unit */
	char	text[PROFILE_WORD_MAX];
};

#define TM_TOPICS_MAX	(PROFILE_MAX_PACKS * PF_COUNT + \
	PROFILE_MAX_UNITS * UF_COUNT)

struct tm_store {
	const struct profile	*pf;
	struct tm_sample	 pack[PROFILE_MAX_PACKS][PF_COUNT];
	struct tm_sample	 unit[PROFILE_MAX_UNITS][UF_COUNT];
	struct { char topic[PROFILE_TOPIC_MAX]; int8_t pack, unit, field; }
				 topics[TM_TOPICS_MAX];
	int			 ntopics;
	uint64_t		 rejected;
};

/* The topic index from the profile; -1 if a template does not expand. */
int	tm_init(struct tm_store *, const struct profile *);
/* Subscribes to every topic of the index. */
int	tm_subscribe(struct tm_store *, struct session *);
/* One message: 0 stored, 1 not ours or retained (noted), -1 refused. */
int	tm_ingest(struct tm_store *, const char *topic, const void *payload,
	    size_t len, int retained, int64_t now_ms, const char **why);
/* session on_message (arg: the store), arrival on CLOCK_MONOTONIC. */
void	tm_message(void *arg, const char *topic, const void *payload,
	    size_t len, int retained);
enum tm_status tm_pack(const struct tm_store *, int pack, int field,
	    int64_t now_ms, double *out);
enum tm_status tm_unit_text(const struct tm_store *, int unit,
	    enum unit_field, int64_t now_ms, const char **out);
/* Milliseconds since the field last held a valid value; INT64_MAX never. */
int64_t	tm_pack_unknown_for(const struct tm_store *, int pack, int field,
	    int64_t now_ms);

#endif
