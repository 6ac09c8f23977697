/*
 * Site profile: everything that differs between sites, loaded strictly
 * from YAML (profiles/eg4-lp4-v2.yaml is the reference site). Programs call
 * profile_load() once at start; a bad profile is fatal with EX_CONFIG (78).
 *
 * All quantities are stored in canonical units: V, mV (cell delta), A, %,
 * degrees Celsius, W; all durations in milliseconds.
 */
#ifndef GRIDCAL_PROFILE_H
#define GRIDCAL_PROFILE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "settings.h"

#define PROFILE_DEFAULT_PATH	"/etc/gridcal/profile.yaml"
#define PROFILE_MAX_TEMPS	8	/* pack_fields.temperatures: 1..8 */
#define PROFILE_NAME_MAX	32	/* a field's name in messages */
#define PROFILE_CADENCE_DAYS	30	/* cadence.days when absent */
#define PROFILE_MODES_MAX	4

enum pack_field {
	PF_SOC,			/* %            */
	PF_PACK_VOLTAGE,	/* V            */
	PF_PACK_CURRENT,	/* A, + = charging */
	PF_CELL_VOLTAGE_MAX,	/* V            */
	PF_CELL_DELTA_MV,	/* mV           */
	PF_PROTECTION,		/* bit field    */
	/*
	 * degrees C: pack_fields.temperatures[k] is PF_TEMP + k, for k below
	 * the profile's n_temps; the slots after those are unused.
	 */
	PF_TEMP,
	PF_COUNT = PF_TEMP + PROFILE_MAX_TEMPS	/* slots, not fields in use */
};

enum unit_field {
	UF_DEVICE_MODE,		/* text */
	UF_OUTPUT_PRIORITY,	/* text readback */
	UF_CHARGER_PRIORITY,	/* text readback */
	UF_LINE_DIRECTION,	/* text */
	UF_PV_POWER,		/* W    */
	UF_AC_OUTPUT_POWER,	/* W    */
	UF_COUNT
};

/* The unit a site publishes a field in; converted on ingest. */
enum field_unit {
	FU_PERCENT, FU_VOLT, FU_MILLIVOLT, FU_AMPERE, FU_CELSIUS,
	FU_FAHRENHEIT, FU_WATT, FU_KILOWATT, FU_FLAGS, FU_TEXT
};

/* How a payload carries its value: the whole payload, or JSON. */
enum payload_format { PL_TEXT, PL_JSON };

struct field_spec {
	char		name[PROFILE_NAME_MAX];	/* its key, or a sensor's name */
	char		topic[PROFILE_TOPIC_MAX];	/* template: {i} pack, {u} unit */
	enum field_unit	unit;
	double		min, max;	/* plausible range, canonical unit */
	bool		empty_is_zero;	/* flags only: "" means no bits set */
	enum payload_format format;
	char		pointer[PROFILE_POINTER_MAX];	/* json: "/value" */
	double		scale;		/* numeric: published x scale x sign */
	int		sign;		/* +1, or -1 (a discharge-positive BMS) */
};

struct control_spec {
	/* the cluster's topic, or with control_per_unit a {u} template */
	char	topic[PROFILE_TOPIC_MAX];
	char	value[VALUE_COUNT][PROFILE_WORD_MAX];	/* what is published */
	char	readback[VALUE_COUNT][PROFILE_WORD_MAX];/* what units report */
	bool	fold;		/* case: fold; readbacks compared ignoring case */
};

struct profile_limits {
	/* pre-flight */
	double	pre_voltage_spread_v;	/* packs agree: drift, not imbalance */
	double	pre_temp_min_c, pre_temp_max_c;
	double	pre_cell_delta_mv;	/* every pack strictly below */
	double	pre_drift_soc_spread_pct; /* SoC spread at or above: drift */
	/* abort while charging (supervisor) */
	double	abort_cell_v;
	double	abort_temp_min_c, abort_temp_max_c;
	double	bms_protect_cell_v;	/* abort_cell_v must be below */
	/* grid charge engaged: total pack current at least */
	double	engage_current_a;
	/* absorption / taper */
	double	bulk_v, bulk_tolerance_v;
	double	tail_per_pack_a, tail_total_a;
	/* verify */
	double	verify_soc_pct, verify_voltage_spread_v, verify_cell_delta_mv;
	/*
	 * What a counter reads once it re-anchored (limits.verify.reanchor_pct,
	 * default 100): a BMS that has not seen a termination may hold at 99,
	 * so PASS needs this on every pack (or a jump to it seen in the hold).
	 */
	double	verify_reanchor_pct;
	/* watchdog last-resort envelope: wider than the supervisor's */
	double	env_cell_v, env_temp_max_c;
	int64_t	env_stale_ms;
};

struct profile_timing {
	int64_t	telemetry_max_age_ms;	/* older values are "unknown" */
	int64_t	telemetry_grace_ms;	/* unknown this long while charging: abort */
	int64_t	preflight_wait_ms;	/* bounded wait for a full snapshot */
	int64_t	set_confirm_ms;		/* watchdog: readback after a set */
	int64_t	engage_timeout_ms;	/* supervisor: grid charge seen */
	int64_t	absorption_hold_ms;	/* taper held this long: done */
	int64_t	absorption_max_ms;	/* longest hold before FAIL */
	int64_t	run_max_ms;		/* whole run */
	int64_t	heartbeat_interval_ms;
	int64_t	heartbeat_timeout_ms;
	int64_t	revert_confirm_ms;	/* readback wait per revert attempt */
	int64_t	revert_retry_ms;	/* first republish delay, doubles */
	int64_t	revert_retry_max_ms;	/* backoff cap */
	int64_t	progress_interval_ms;
};

struct profile {
	char		path[PATH_MAX];
	uint8_t		digest[PROFILE_DIGEST_LEN];
	char		digest_hex[2 * PROFILE_DIGEST_LEN + 1];
	char		site[64];

	char		broker_host[256];
	uint16_t	broker_port;
	int		broker_keepalive_s;
	char		broker_tls_ca[PATH_MAX];	/* "": plain MQTT */
	char		broker_tls_cert[PATH_MAX];	/* "": none */
	char		broker_tls_key[PATH_MAX];

	char		cred_watchdog[PATH_MAX];	/* "user:password" files */
	char		cred_supervisor[PATH_MAX];

	char		state_dir[PATH_MAX];
	char		audit_log[PATH_MAX];
	char		supervisor_path[PATH_MAX];	/* exec'd by the watchdog */
	char		supervisor_user[PROFILE_WORD_MAX];

	int		packs, units;
	double		cadence_days;	/* gridcal-audit due: calendar */
	int		n_temps;	/* temperature sensors per pack, 1.. */
	struct field_spec pack_field[PF_COUNT];	/* pack_nfields() in use */
	struct field_spec unit_field[UF_COUNT];

	struct control_spec control[SETTING_COUNT];
	/*
	 * Both control topics hold {u}: a value is published to each unit's
	 * topic (1..units) and each unit's readback confirmed, for sites
	 * whose inverters are not driven atomically. Never one of each.
	 */
	bool		control_per_unit;
	char		status_topic[PROFILE_TOPIC_MAX];	/* supervisor */
	char		alarm_topic[PROFILE_TOPIC_MAX];		/* watchdog, retained */

	char		grid_modes[PROFILE_MODES_MAX][PROFILE_WORD_MAX];
	int		n_grid_modes;	/* device_mode while grid-charging */
	char		fault_modes[PROFILE_MODES_MAX][PROFILE_WORD_MAX];
	int		n_fault_modes;
	char		line_input[PROFILE_WORD_MAX];	/* line_power_direction */

	struct profile_limits	limits;
	struct profile_timing	timing;
};

/*
 * Loads and validates path into *pf. On error returns -1 with a one-line
 * message in err naming the file, the key path and, where known, the line.
 */
int	profile_load(const char *path, struct profile *pf, char *err,
	    unsigned long errsz);
/* profile_load() or fatalx with exit status 78 (EX_CONFIG). */
void	profile_load_or_die(const char *path, struct profile *pf);

/* Pack fields in use: the fixed ones, then the n_temps sensors. */
static inline int
pack_nfields(const struct profile *pf)
{
	return PF_TEMP + pf->n_temps;
}
static inline bool
pack_field_is_temp(int f)
{
	return f >= PF_TEMP && f < PF_COUNT;
}
/* The field's name: its key ("soc"), or the sensor's ("temperature_1"). */
const char *pack_field_name(const struct profile *, int f);
/* Any temperature sensor published in degrees F: the site reads F. */
bool	profile_temp_fahrenheit(const struct profile *);
const char *unit_field_name(enum unit_field);
const char *setting_name(enum setting);		/* "output_priority" ... */
/*
 * Expands a template's {i}/{u} with n; -1 if the result does not fit.
 * A per-unit control topic: topic_expand(pf->control[s].topic, u, ...).
 */
int	topic_expand(const char *tmpl, int n, char *out, unsigned long outsz);

bool	profile_is_grid_mode(const struct profile *, const char *mode);
bool	profile_is_fault_mode(const struct profile *, const char *mode);
/* VALUE_EVERYDAY/VALUE_CALIBRATION for a readback string, -1 otherwise. */
int	profile_readback_value(const struct profile *, enum setting,
	    const char *readback);

#endif
