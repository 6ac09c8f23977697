/*
 * The watchdog's own view of the site profile: only the keys it uses,
 * each parsed as strictly as shared/profile.c parses it (fully consumed,
 * range checked, errors naming the file, the line and the key path), with
 * the same defaults. Sections and keys it does not use are skipped
 * unread (the supervisor's full loader refuses what is wrong there, and a
 * run needs both). It stands in for shared/profile.h in the watchdog
 * (same names for what both have): never include the two in one file.
 * tests/parity holds the two loaders to the same values.
 */
#ifndef GRIDCAL_WD_CONF_H
#define GRIDCAL_WD_CONF_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "settings.h"

#define PROFILE_DEFAULT_PATH	"/etc/gridcal/profile.yaml"
#define PROFILE_MAX_TEMPS	8

/* The pack fields the watchdog reads: PF_TEMP + k, k < n_temps. */
enum pack_field { PF_SOC, PF_CELL_VOLTAGE_MAX, PF_TEMP,
	PF_COUNT = PF_TEMP + PROFILE_MAX_TEMPS };
/* The readbacks of the two settings (enum setting order). */
enum unit_field { UF_OUTPUT_PRIORITY, UF_CHARGER_PRIORITY, UF_COUNT };

enum field_unit {
	FU_PERCENT, FU_VOLT, FU_MILLIVOLT, FU_AMPERE, FU_CELSIUS,
	FU_FAHRENHEIT, FU_WATT, FU_KILOWATT, FU_FLAGS, FU_TEXT
};
enum payload_format { PL_TEXT, PL_JSON };

struct field_spec {
	char		name[32];
	char		topic[PROFILE_TOPIC_MAX];	/* {i} pack, {u} unit */
	enum field_unit	unit;
	double		min, max;	/* canonical unit */
	enum payload_format format;
	char		pointer[PROFILE_POINTER_MAX];	/* json: "/value" */
	double		scale;		/* published x scale x sign */
	int		sign;
};

struct control_spec {
	char	topic[PROFILE_TOPIC_MAX];	/* per_unit: a {u} template */
	char	value[VALUE_COUNT][PROFILE_WORD_MAX];	/* published */
	char	readback[VALUE_COUNT][PROFILE_WORD_MAX];/* reported */
	bool	fold;		/* case: fold */
};

struct profile_limits {
	double	verify_reanchor_pct;
	double	env_cell_v, env_temp_max_c;
	int64_t	env_stale_ms;
};

struct profile_timing {
	int64_t	telemetry_max_age_ms, preflight_wait_ms, set_confirm_ms;
	int64_t	run_max_ms, heartbeat_interval_ms, heartbeat_timeout_ms;
	int64_t	revert_confirm_ms, revert_retry_ms, revert_retry_max_ms;
	int64_t	progress_interval_ms;
};

struct profile {
	char		path[PATH_MAX];
	uint8_t		digest[PROFILE_DIGEST_LEN];
	char		digest_hex[2 * PROFILE_DIGEST_LEN + 1];
	char		site[64];
	char		broker_host[256];
	int		broker_port, broker_keepalive_s;
	char		broker_tls_ca[PATH_MAX], broker_tls_cert[PATH_MAX];
	char		broker_tls_key[PATH_MAX];
	char		cred_watchdog[PATH_MAX], cred_supervisor[PATH_MAX];
	char		state_dir[PATH_MAX], audit_log[PATH_MAX];
	char		supervisor_path[PATH_MAX];
	char		supervisor_user[PROFILE_WORD_MAX];
	int		packs, units, n_temps;
	struct field_spec pack_field[PF_COUNT];
	struct field_spec unit_field[UF_COUNT];
	struct control_spec control[SETTING_COUNT];
	bool		control_per_unit;	/* both topics hold {u} */
	char		alarm_topic[PROFILE_TOPIC_MAX];
	struct profile_limits	limits;
	struct profile_timing	timing;
};

/* 0, or -1 with "file:line: key: why" in err. */
int	conf_load(const char *path, struct profile *, char *err, size_t errsz);
/* conf_load() or fatalx with exit status 78. */
void	conf_load_or_die(const char *path, struct profile *);
/* gridcal-watchdog -n: execs CONF_CHECK_PROG (check.c) beside us, or 78. */
#define CONF_CHECK_PROG	"gridcal-watchdog-check"
int	conf_check_offline(const char *path, int verbose);
/* check.c: every key conf_load() reads, as it took it (NULL: none). */
extern FILE *conf_shown;
/* A whole decimal number in [min, max]: no "12abc", "010", nan, inf. */
int	conf_number(const char *s, double min, double max, double *out,
	    const char **why);
const char *setting_name(enum setting);
/* Pack fields in use: soc, cell_voltage_max, then the n_temps sensors. */
static inline int
pack_nfields(const struct profile *pf)
{
	return PF_TEMP + pf->n_temps;
}
/* Expands a template's {i}/{u} with n; -1 if it does not fit. */
int	topic_expand(const char *tmpl, int n, char *out, unsigned long outsz);
/* VALUE_EVERYDAY/VALUE_CALIBRATION for a readback, -1 for neither. */
int	profile_readback_value(const struct profile *, enum setting,
	    const char *readback);

#endif
