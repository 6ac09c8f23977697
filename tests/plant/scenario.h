/*
 * A plant scenario: the physics of one site and the faults to inject,
 * loaded strictly from YAML (tests/scenarios/). Every time in a scenario is
 * simulated seconds.
 */
#ifndef PLANT_SCENARIO_H
#define PLANT_SCENARIO_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "profile.h"

#define SC_POINTS_MAX	64
#define SC_FAULTS_MAX	32
#define SC_PAYLOADS_MAX	8
#define SC_PAYLOAD_LEN	64

enum fault_kind {
	FK_CELL_OFFSET,		/* pack's highest cell + value V */
	FK_CELL_RAMP,		/* + rate_per_min V/min, up to limit */
	FK_TEMP_RAMP,		/* pack (or all) + rate_per_min C/min */
	FK_PROTECTION,		/* pack reports protection bits */
	FK_SILENCE,		/* pack or unit (or one field) stops publishing */
	FK_GARBAGE,		/* field publishes payloads[] in turn */
	FK_IGNORE_CONTROL,	/* units ignore control messages */
	FK_NAK,			/* ignore, and readbacks go silent */
	FK_ONE_UNIT,		/* only unit applies control messages */
	FK_SLOW_APPLY,		/* apply after value seconds */
	FK_NO_ANCHOR,		/* pack's BMS never re-anchors */
	FK_SOLAR_COLLAPSE,	/* solar drops to value x */
	FK_RETAIN,		/* telemetry published retained */
	FK_COUNT
};

enum fault_trigger {
	FT_START,		/* from the beginning */
	FT_TIME,		/* at at_s */
	FT_GRID_CHARGING,	/* first time the grid charges the bank */
	FT_CALIBRATION,		/* first time a unit holds a calibration value */
	FT_ABSORPTION,		/* first time the charger reaches absorption */
	FT_COUNT
};

struct sc_fault {
	enum fault_kind		kind;
	enum fault_trigger	trigger;
	double			at_s, delay_s, duration_s;	/* 0: forever */
	int			pack, unit;	/* 0-based, -1: none / all */
	int			field;		/* enum pack_/unit_field, -1 all */
	double			value, rate_per_min, limit;
	uint32_t		bits;
	int64_t			count;		/* 0: no limit */
	int			setting;	/* enum setting, -1 both */
	char			payloads[SC_PAYLOADS_MAX][SC_PAYLOAD_LEN];
	int			npayloads;
};

struct sc_pack {
	double	capacity_ah;
	double	soc_pct;		/* true state of charge */
	double	bms_offset_pct;		/* BMS counter - true, at start */
	double	bms_gain_error_pct;	/* counter gain error */
	double	r_mohm;			/* ohmic resistance */
	double	imbalance_pct;		/* highest cell ahead of the pack */
	double	temp_c;
	double	voltage_offset_v;	/* BMS measurement error */
};

struct scenario {
	char		path[PATH_MAX];
	char		name[64];
	double		duration_s;		/* 0: until signalled */
	struct {
		int	cells;			/* in series */
		double	pol_r_mohm, pol_tau_s;	/* polarisation branch */
	} chemistry;
	struct {
		double	ambient_c, heat_capacity_j_k, loss_w_k;
	} thermal;
	struct {
		double	anchor_cell_v, anchor_current_a, anchor_hold_s;
		double	hold_at_pct;		/* 0: counter runs to 100 */
		double	protect_cell_v, release_cell_v, protect_temp_c;
	} bms;
	struct {
		bool	grid;			/* utility available */
		double	max_charge_a, bulk_v, float_v, absorption_max_s;
		double	rebulk_v, critical_v, critical_recover_v, cutoff_v;
		double	apply_delay_s;
		bool	fault86_latch;
		double	fault86_after_s;	/* mismatch unnoticed this long */
		int	initial[SETTING_COUNT];	/* VALUE_* */
		/* the site's own readback words; "" = the profile's */
		char	readback[SETTING_COUNT][VALUE_COUNT][PROFILE_WORD_MAX];
	} inverter;
	struct {
		double	base_w, noise_w;
	} load;
	struct {
		double	peak_w;			/* per unit at level 1 */
		double	clouds;			/* 0 clear .. 1 heavy */
		double	t_s[SC_POINTS_MAX], level[SC_POINTS_MAX];
		int	npoints;
	} solar;
	struct sc_pack	packs[PROFILE_MAX_PACKS];
	int		npacks;
	struct sc_fault	faults[SC_FAULTS_MAX];
	int		nfaults;
};

/*
 * Loads path for a site with profile pf (the pack count must match). On
 * error -1 with a message naming the file and the key.
 */
int	scenario_load(const char *path, const struct profile *pf,
	    struct scenario *, char *err, size_t errsz);
const char *fault_kind_name(enum fault_kind);
const char *fault_trigger_name(enum fault_trigger);

#endif
