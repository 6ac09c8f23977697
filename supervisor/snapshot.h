/*
 * A consistent reading of the whole bank taken from the telemetry store at
 * one instant: every field of every pack and unit, each fresh and valid,
 * plus the figures derived from them (spreads, extremes, totals). The
 * pre-flight classification, the progress line and the report all work
 * from snapshots, never from single fields.
 */
#ifndef GRIDCAL_SNAPSHOT_H
#define GRIDCAL_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "telemetry.h"

struct snapshot {
	int64_t		at_ms;		/* monotonic time it was taken */
	int		packs, units, ntemps;
	/* per pack, canonical units */
	double		soc[PROFILE_MAX_PACKS];
	double		volt[PROFILE_MAX_PACKS];
	double		amps[PROFILE_MAX_PACKS];
	double		cell_max[PROFILE_MAX_PACKS];
	double		delta_mv[PROFILE_MAX_PACKS];
	/* every sensor of pack_fields.temperatures, in its order */
	double		temp[PROFILE_MAX_PACKS][PROFILE_MAX_TEMPS];
	uint32_t	prot[PROFILE_MAX_PACKS];
	/* per unit */
	char		mode[PROFILE_MAX_UNITS][PROFILE_WORD_MAX];
	char		out_prio[PROFILE_MAX_UNITS][PROFILE_WORD_MAX];
	char		chg_prio[PROFILE_MAX_UNITS][PROFILE_WORD_MAX];
	char		line_dir[PROFILE_MAX_UNITS][PROFILE_WORD_MAX];
	double		pv_w[PROFILE_MAX_UNITS];
	double		ac_w[PROFILE_MAX_UNITS];
	/* derived (pack indexes are 0-based) */
	double		soc_lo, soc_hi, soc_spread;
	double		volt_lo, volt_hi, volt_spread, volt_avg;
	double		amps_total;
	double		cell_hi;	int cell_hi_pack;
	double		delta_hi;	int delta_hi_pack;
	double		temp_min[PROFILE_MAX_PACKS];	/* of its sensors */
	double		temp_max[PROFILE_MAX_PACKS];
	double		temp_lo;	int temp_lo_pack;	/* of them all */
	double		temp_hi;	int temp_hi_pack;
	double		pv_total_w, ac_total_w;
};

/*
 * Takes a snapshot at now_ms. Returns 0 if every field of every pack and
 * unit is valid, fresh, and arrived at or after since_ms (0: any time);
 * otherwise -1 and why names the first field that is not
 * ("pack 3 soc: stale").
 */
int	snapshot_take(const struct tm_store *, int64_t since_ms,
	    int64_t now_ms, struct snapshot *, char *why, size_t whysz);
/* Recomputes the derived figures from the per-pack/per-unit values. */
void	snapshot_derive(struct snapshot *);
/* "50.0,51.0,76.0" (one decimal) into buf. */
void	snapshot_list(const double *v, int n, char *buf, size_t bufsz);

#endif
