/*
 * The simulated site: LFP packs in parallel on one bus, their BMSes, and
 * paralleled inverters with their source priorities, charger and solar.
 * Everything advances in simulated seconds; nothing here knows about MQTT
 * or wall-clock time.
 */
#ifndef PLANT_MODEL_H
#define PLANT_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "profile.h"
#include "scenario.h"

/* BMS protection bits the model raises on its own. */
#define PROT_CELL_OV	0x0001u
#define PROT_TEMP_HIGH	0x0010u
#define PROT_TEMP_LOW	0x0020u

struct pack {
	/* physics */
	double		cap_ah, soc, r0, r1, tau, v1, temp;
	double		imb, voff;
	/* derived each step */
	double		current, voltage, cell_max, delta_mv, temp_pcb;
	/* BMS */
	double		bms_soc, bms_gain;
	double		anchor_timer;
	unsigned	anchors;
	double		last_anchor_s;	/* -1: never */
	bool		full;		/* terminated; until it drops below
					   bms.hold_at_pct again */
	uint32_t	bms_prot;	/* protection the BMS raised */
	bool		chg_blocked;
	/* faults: temp_offset heats every sensor, sensor_offset[k] one */
	double		cell_offset, temp_offset;
	double		sensor_offset[PROFILE_MAX_TEMPS];
	uint32_t	fault_prot;
	bool		no_anchor;
	/* truth */
	double		max_cell_seen, max_temp_seen;
	double		start_soc, start_bms_soc;
};

#define PENDING_MAX	16

struct pending {
	int	setting, value;
	double	at_s;
};

enum unit_mode { UM_STANDBY, UM_LINE, UM_BATTERY, UM_HYBRID, UM_FAULT };

struct unit {
	int		setting[SETTING_COUNT];		/* VALUE_* */
	struct pending	pend[PENDING_MAX];
	int		npend;
	enum unit_mode	mode;
	bool		line_input;
	double		pv_w, ac_w;
	uint64_t	applied;	/* settings applied */
	bool		nak_silent;	/* readbacks withheld after a NAK */
};

enum charge_stage { CS_BULK, CS_ABSORPTION, CS_FLOAT };

struct fault_rt {
	bool		fired;		/* trigger seen */
	double		fired_s;
	bool		active;
	int64_t		used;		/* messages / publications used */
	uint64_t	publications;	/* garbage: next payload index */
};

struct control_stats {
	uint64_t	received;	/* messages on a control topic */
	uint64_t	accepted;	/* scheduled on at least one unit */
	uint64_t	ignored;	/* applied to no unit */
	uint64_t	invalid;	/* not a control value of the profile */
	uint64_t	nak;		/* refused by a NAK fault */
	uint64_t	partial;	/* applied to some units only */
};

struct plant {
	const struct profile	*pf;
	const struct scenario	*sc;
	int			 npacks, nunits;
	struct pack		 packs[PROFILE_MAX_PACKS];
	struct unit		 units[PROFILE_MAX_UNITS];
	double			 t;		/* simulated seconds */

	/* cluster state */
	enum charge_stage	 stage;
	double			 stage_s;	/* time in stage */
	bool			 grid_mode;	/* settings say grid-charge */
	bool			 grid_charging;	/* grid power into the bank */
	bool			 loads_on_grid, sbu_low;
	bool			 fault86, fault86_latched;
	double			 mismatch_s;	/* units' settings differ */
	double			 bus_v, bus_i;
	double			 pv_avail_w, pv_used_w, load_w, grid_w;
	double			 cloud, cloud_target, solar_factor;
	double			 load_noise;
	double			 next_weather_s;

	/* truth */
	double			 grid_charge_s, calibration_s, absorption_s;
	double			 fault86_s, max_cell_seen, max_temp_seen;
	double			 max_mismatch_s;
	double			 grid_start_s;	/* -1: never */
	double			 grid_kwh, max_bus_i;
	uint64_t		 fault86_count;
	struct control_stats	 ctl;

	struct fault_rt		 frt[SC_FAULTS_MAX];
	uint64_t		 rng;		/* weather and load */
	uint64_t		 rng_pub;	/* measurement noise */
	uint64_t		 published, publish_errors;
};

void	plant_init(struct plant *, const struct profile *,
	    const struct scenario *, uint64_t seed);
/* Advances the physics by dt simulated seconds (in steps of <= 1 s). */
void	plant_advance(struct plant *, double dt);
/*
 * A control message on topic: applied per the profile's control values and
 * the active faults. Returns what happened, for the log.
 */
const char *plant_control(struct plant *, const char *topic,
	    const void *payload, size_t len);
/*
 * The setting a control topic is for, -1 if none; *unit the unit a
 * per-unit topic (control_per_unit) addresses, -1 for the cluster topic.
 */
int	plant_control_topic(const struct plant *, const char *topic,
	    int *unit);

/*
 * What temperature sensor k (pack_fields.temperatures[k]) of a pack reads,
 * degrees C, faults applied: the first is on the BMS board (warmer by the
 * current it carries), the others on the cells, each a little warmer
 * towards the middle of the pack.
 */
double	pack_sensor_c(const struct pack *, int k);
/* The hottest of the profile's n sensors. */
double	pack_hottest_c(const struct pack *, int n);
const char *unit_mode_name(enum unit_mode);
/* What a unit reports for setting at value: the scenario's word, or the
 * profile's readback string. */
const char *plant_readback(const struct plant *, int setting, int value);
const char *charge_stage_name(enum charge_stage);
/* Uniform in [0, 1) from a seeded generator state. */
double	rng_next(uint64_t *state);
/* Is fault i active and aimed at this pack / unit (-1 = any)? */
bool	fault_hits_pack(const struct plant *, int i, int pack);
bool	fault_hits_unit(const struct plant *, int i, int unit);

#endif
