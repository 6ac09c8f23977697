/*
 * Telemetry judgements made while a run is under way, straight from the
 * telemetry store (field by field, with the store's freshness rules):
 * the abort conditions, "grid charging engaged", "near bulk", "tapered",
 * "verified". Each answers from valid values only; an unknown value is
 * never read as "fine", it runs the stale clock instead.
 *
 * The state machine decides what a judgement means in the current state;
 * events.c turns judgements into table events.
 */
#ifndef GRIDCAL_MONITOR_H
#define GRIDCAL_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "snapshot.h"
#include "telemetry.h"

enum alarm {
	AL_NONE,
	AL_CELL,		/* a cell above the abort voltage */
	AL_TEMP,		/* a temperature outside the abort range */
	AL_PROTECTION,		/* a BMS protection bit */
	AL_UNIT_FAULT,		/* a unit in a fault mode */
	AL_STALE,		/* a safety field unknown beyond the grace */
	AL_UNIT_MISMATCH,	/* units disagree, or a readback is not the
				   value this phase needs, beyond the grace */
	AL_COUNT
};

/* What the readbacks must show now: a value, or -1 for "in transition". */
struct expect {
	int	value[SETTING_COUNT];
};

struct monitor {
	int64_t	mismatch_since;		/* 0: no mismatch seen */
	char	mismatch_why[160];
};

/*
 * The first alarm (in enum order) at now_ms, with the figures in why.
 * Keeps the persistence clock of the mismatch check in *m.
 */
enum alarm monitor_alarm(struct monitor *, const struct tm_store *,
	    const struct expect *, int64_t now_ms, char *why, size_t whysz);
const char *alarm_name(enum alarm);	/* "cell_over_limit" */

/*
 * Grid charging engaged on every unit: device mode a grid mode, line
 * direction input, output priority readback the calibration value, and
 * the total pack current at least the engage limit.
 */
bool	monitor_engaged(const struct tm_store *, int64_t now_ms, char *why,
	    size_t whysz);
/* 1 every pack voltage in the bulk band, 0 some is out, -1 unknown. */
int	monitor_bulk_band(const struct tm_store *, int64_t now_ms);
/* Every pack voltage within the tolerance below (or above) bulk. */
bool	monitor_near_bulk(const struct tm_store *, int64_t now_ms);
/* Near bulk and the current tapered: per pack and total at the tail. */
bool	monitor_tapered(const struct tm_store *, int64_t now_ms);
/* Total pack current, false if some pack's current is unknown. */
bool	monitor_total_current(const struct tm_store *, int64_t now_ms,
	    double *amps);
/*
 * The verify rule on a fresh snapshot: every pack re-anchored, i.e. its
 * counter reads the re-anchor value (limits.verify.reanchor_pct) or was
 * seen at it during the hold (a bit in anchored, from
 * monitor_watch_anchor), and reads at least verify_soc_pct; pack voltage
 * spread and every cell delta below their limits. A counter at 99 % is
 * not re-anchored: a BMS holds there until a real termination. *lagging
 * gets a bit per pack (bit 0 = pack 1) that did not re-anchor; why then
 * says "extend the hold or investigate pack N".
 */
bool	monitor_verified(const struct profile *, const struct snapshot *,
	    uint32_t anchored, uint32_t *lagging, char *why, size_t whysz);
/*
 * During the hold: sets a bit in *anchored for every pack whose live SoC
 * reads the re-anchor value now. Returns the bits that are new.
 */
uint32_t monitor_watch_anchor(const struct tm_store *, int64_t now_ms,
	    uint32_t *anchored);
/* "6" or "2,6" from a lagging mask. */
void	monitor_lagging_list(uint32_t lagging, char *buf, size_t bufsz);

#endif
