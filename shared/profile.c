/*
 * Site profile loader.
 *
 * libcyaml gives the structure: unknown keys, missing keys, duplicate keys,
 * aliases and wrong node types are refused there. Every scalar is loaded as
 * a string, because libcyaml 1.3 reads "12abc" as 12, "010" as 8 and takes
 * "nan" and "inf"; values are then parsed here, fully consumed and range
 * checked (shared/yamlcfg.c), and the limits are checked against each
 * other. Errors name the file, the key path and the line.
 */
#include <cyaml/cyaml.h>

#include <sha2.h>
#include <stddef.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "parse.h"
#include "profile.h"
#include "yamlcfg.h"

#define EX_CONFIG		78
#define STRINGIFY_(x)		#x
#define STRINGIFY(x)		STRINGIFY_(x)
#define CADENCE_DEFAULT		STRINGIFY(PROFILE_CADENCE_DAYS)
#define PROFILE_FILE_MAX	(256 * 1024)

#define NEED(cond, key, ...) do { \
	if (!(cond)) return ycfg_fail(c, key, __VA_ARGS__); } while (0)

/* ---- raw form: what libcyaml loads (every scalar a string) ---- */

struct raw_field {
	char	*topic, *unit, *min, *max, *empty_is_zero;
	char	*format, *pointer, *scale, *sign;
	char	*name;		/* temperatures only */
};

struct raw_control {
	char	*topic, *everyday, *calibration;
	char	*readback_everyday, *readback_calibration;
	char	*match_case;	/* "case": exact (default) or fold */
};

struct raw_profile {
	char	*site;
	struct { char *host, *port, *keepalive_s, *tls_ca, *tls_cert,
	    *tls_key; } broker;
	struct { char *watchdog, *supervisor; } credentials;
	struct { char *state_dir, *audit_log, *supervisor, *supervisor_user; } paths;
	struct { char *packs, *units; } bank;
	struct { char *days; } cadence;
	struct raw_field pack_fields[PF_TEMP];
	struct raw_field *temps;	/* pack_fields.temperatures */
	unsigned	 temps_count;
	struct raw_field unit_fields[UF_COUNT];
	struct {
		struct raw_control c[SETTING_COUNT];
		char	*status_topic, *alarm_topic;
	} control;
	struct {
		char	**grid_modes;
		unsigned grid_modes_count;
		char	**fault_modes;
		unsigned fault_modes_count;
		char	*line_input;
	} readback;
	struct {
		struct { char *pack_voltage_spread_v, *temperature_min_c,
		    *temperature_max_c, *cell_delta_max_mv,
		    *drift_soc_spread_pct; } preflight;
		struct { char *cell_voltage_max_v, *temperature_min_c,
		    *temperature_max_c; } abort;
		struct { char *cell_protect_v; } bms;
		struct { char *total_current_min_a; } engage;
		struct { char *bulk_voltage_v, *bulk_tolerance_v,
		    *tail_current_per_pack_a, *tail_current_total_a; } absorption;
		struct { char *soc_min_pct, *pack_voltage_spread_v,
		    *cell_delta_max_mv, *reanchor_pct; } verify;
		struct { char *cell_voltage_max_v, *temperature_max_c,
		    *stale_s; } envelope;
	} limits;
	struct {
		char	*telemetry_max_age_s, *telemetry_grace_s,
			*preflight_wait_s, *set_confirm_s, *engage_timeout_s,
			*absorption_hold_s, *absorption_max_s, *run_max_s,
			*heartbeat_interval_s, *heartbeat_timeout_s,
			*revert_confirm_s, *revert_retry_s, *revert_retry_max_s,
			*progress_interval_s;
	} timing;
};

/* ---- libcyaml schema ---- */

#define STR(key, st, m) \
	CYAML_FIELD_STRING_PTR(key, CYAML_FLAG_POINTER, st, m, 0, 1024)
#define OPT_STR(key, st, m) \
	CYAML_FIELD_STRING_PTR(key, CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, \
	    st, m, 0, 1024)
#define RP	struct raw_profile

static const cyaml_schema_field_t field_schema[] = {
	STR("topic", struct raw_field, topic),
	STR("unit", struct raw_field, unit),
	OPT_STR("min", struct raw_field, min),
	OPT_STR("max", struct raw_field, max),
	OPT_STR("empty_is_zero", struct raw_field, empty_is_zero),
	OPT_STR("format", struct raw_field, format),
	OPT_STR("pointer", struct raw_field, pointer),
	OPT_STR("scale", struct raw_field, scale),
	OPT_STR("sign", struct raw_field, sign),
	CYAML_FIELD_END
};

/* A temperature sensor: a field spec with an optional name. */
static const cyaml_schema_field_t temp_schema[] = {
	STR("topic", struct raw_field, topic),
	STR("unit", struct raw_field, unit),
	OPT_STR("min", struct raw_field, min),
	OPT_STR("max", struct raw_field, max),
	OPT_STR("name", struct raw_field, name),
	OPT_STR("format", struct raw_field, format),
	OPT_STR("pointer", struct raw_field, pointer),
	OPT_STR("scale", struct raw_field, scale),
	OPT_STR("sign", struct raw_field, sign),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t temp_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_field, temp_schema),
};
/* more than PROFILE_MAX_TEMPS is loaded to be refused with a count */
#define TEMPS_LOAD_MAX	64

static const cyaml_schema_field_t broker_schema[] = {
	STR("host", RP, broker.host), OPT_STR("port", RP, broker.port),
	OPT_STR("keepalive_s", RP, broker.keepalive_s),
	OPT_STR("tls_ca", RP, broker.tls_ca),
	OPT_STR("tls_cert", RP, broker.tls_cert),
	OPT_STR("tls_key", RP, broker.tls_key), CYAML_FIELD_END
};
/*
 * Nested schemas address members of struct raw_profile directly: the data
 * offset of a nested mapping is 0 and its fields carry full offsets.
 */
#define MAP(k_, f) { .key = k_, .data_offset = 0, .value = { \
	.type = CYAML_MAPPING, .flags = 0, .data_size = sizeof(RP), \
	.mapping = { .fields = f } } }
/* A section whose every key has a default may be left out whole. */
#define MAPO(k_, f) { .key = k_, .data_offset = 0, .value = { \
	.type = CYAML_MAPPING, .flags = CYAML_FLAG_OPTIONAL, \
	.data_size = sizeof(RP), .mapping = { .fields = f } } }

static const cyaml_schema_field_t cred_schema[] = {
	STR("watchdog", RP, credentials.watchdog),
	STR("supervisor", RP, credentials.supervisor), CYAML_FIELD_END
};
static const cyaml_schema_field_t paths_schema[] = {
	STR("state_dir", RP, paths.state_dir),
	STR("audit_log", RP, paths.audit_log),
	STR("supervisor", RP, paths.supervisor),
	STR("supervisor_user", RP, paths.supervisor_user), CYAML_FIELD_END
};
/* Optional: gridcal-audit due's calendar (PROFILE_CADENCE_DAYS if absent). */
static const cyaml_schema_field_t cadence_schema[] = {
	OPT_STR("days", RP, cadence.days), CYAML_FIELD_END
};
static const cyaml_schema_field_t bank_schema[] = {
	STR("packs", RP, bank.packs), STR("units", RP, bank.units),
	CYAML_FIELD_END
};

#define FIELD(k_, arr, idx) { .key = k_, \
	.data_offset = offsetof(RP, arr[idx]), .value = { \
	.type = CYAML_MAPPING, .flags = 0, \
	.data_size = sizeof(struct raw_field), \
	.mapping = { .fields = field_schema } } }

static const cyaml_schema_field_t pack_fields_schema[] = {
	FIELD("soc", pack_fields, PF_SOC),
	FIELD("pack_voltage", pack_fields, PF_PACK_VOLTAGE),
	FIELD("pack_current", pack_fields, PF_PACK_CURRENT),
	FIELD("cell_voltage_max", pack_fields, PF_CELL_VOLTAGE_MAX),
	FIELD("cell_voltage_delta_mv", pack_fields, PF_CELL_DELTA_MV),
	FIELD("protection", pack_fields, PF_PROTECTION),
	CYAML_FIELD_SEQUENCE("temperatures", CYAML_FLAG_POINTER, RP, temps,
	    &temp_entry, 0, TEMPS_LOAD_MAX),
	CYAML_FIELD_END
};
static const cyaml_schema_field_t unit_fields_schema[] = {
	FIELD("device_mode", unit_fields, UF_DEVICE_MODE),
	FIELD("output_source_priority", unit_fields, UF_OUTPUT_PRIORITY),
	FIELD("charger_source_priority", unit_fields, UF_CHARGER_PRIORITY),
	FIELD("line_power_direction", unit_fields, UF_LINE_DIRECTION),
	FIELD("mppt1_input_power", unit_fields, UF_PV_POWER),
	FIELD("ac_output_active_power", unit_fields, UF_AC_OUTPUT_POWER),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t one_control_schema[] = {
	STR("topic", struct raw_control, topic),
	STR("everyday", struct raw_control, everyday),
	STR("calibration", struct raw_control, calibration),
	STR("readback_everyday", struct raw_control, readback_everyday),
	STR("readback_calibration", struct raw_control, readback_calibration),
	OPT_STR("case", struct raw_control, match_case),
	CYAML_FIELD_END
};
#define CONTROL(k_, idx) { .key = k_, \
	.data_offset = offsetof(RP, control.c[idx]), .value = { \
	.type = CYAML_MAPPING, .flags = 0, \
	.data_size = sizeof(struct raw_control), \
	.mapping = { .fields = one_control_schema } } }
static const cyaml_schema_field_t control_schema[] = {
	CONTROL("output_priority", SETTING_OUTPUT_PRIORITY),
	CONTROL("charger_priority", SETTING_CHARGER_PRIORITY),
	STR("status_topic", RP, control.status_topic),
	STR("alarm_topic", RP, control.alarm_topic),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t word_entry = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, PROFILE_WORD_MAX - 1),
};
static const cyaml_schema_field_t readback_schema[] = {
	CYAML_FIELD_SEQUENCE("grid_modes", CYAML_FLAG_POINTER, RP,
	    readback.grid_modes, &word_entry, 1, PROFILE_MODES_MAX),
	CYAML_FIELD_SEQUENCE("fault_modes", CYAML_FLAG_POINTER, RP,
	    readback.fault_modes, &word_entry, 1, PROFILE_MODES_MAX),
	STR("line_input", RP, readback.line_input),
	CYAML_FIELD_END
};

#define L(sec, key)	STR(#key, RP, limits.sec.key)
#define LO(sec, key)	OPT_STR(#key, RP, limits.sec.key)	/* has a default */
static const cyaml_schema_field_t preflight_schema[] = {
	LO(preflight, pack_voltage_spread_v), LO(preflight, temperature_min_c),
	LO(preflight, temperature_max_c), LO(preflight, cell_delta_max_mv),
	LO(preflight, drift_soc_spread_pct), CYAML_FIELD_END
};
static const cyaml_schema_field_t abort_schema[] = {
	L(abort, cell_voltage_max_v), LO(abort, temperature_min_c),
	LO(abort, temperature_max_c), CYAML_FIELD_END
};
static const cyaml_schema_field_t bms_schema[] = {
	L(bms, cell_protect_v), CYAML_FIELD_END
};
static const cyaml_schema_field_t engage_schema[] = {
	L(engage, total_current_min_a), CYAML_FIELD_END
};
static const cyaml_schema_field_t absorption_schema[] = {
	L(absorption, bulk_voltage_v), L(absorption, bulk_tolerance_v),
	L(absorption, tail_current_per_pack_a),
	L(absorption, tail_current_total_a), CYAML_FIELD_END
};
static const cyaml_schema_field_t verify_schema[] = {
	LO(verify, soc_min_pct), LO(verify, pack_voltage_spread_v),
	LO(verify, cell_delta_max_mv),
	OPT_STR("reanchor_pct", RP, limits.verify.reanchor_pct), CYAML_FIELD_END
};
static const cyaml_schema_field_t envelope_schema[] = {
	L(envelope, cell_voltage_max_v), LO(envelope, temperature_max_c),
	LO(envelope, stale_s), CYAML_FIELD_END
};
static const cyaml_schema_field_t limits_schema[] = {
	MAPO("preflight", preflight_schema), MAP("abort", abort_schema),
	MAP("bms", bms_schema), MAP("engage", engage_schema),
	MAP("absorption", absorption_schema), MAPO("verify", verify_schema),
	MAP("envelope", envelope_schema), CYAML_FIELD_END
};

#define T(key)	OPT_STR(#key, RP, timing.key)	/* every one has a default */
static const cyaml_schema_field_t timing_schema[] = {
	T(telemetry_max_age_s), T(telemetry_grace_s), T(preflight_wait_s),
	T(set_confirm_s), T(engage_timeout_s), T(absorption_hold_s),
	T(absorption_max_s), T(run_max_s), T(heartbeat_interval_s),
	T(heartbeat_timeout_s), T(revert_confirm_s), T(revert_retry_s),
	T(revert_retry_max_s), T(progress_interval_s), CYAML_FIELD_END
};

static const cyaml_schema_field_t top_schema[] = {
	STR("site", RP, site),
	MAP("broker", broker_schema), MAP("credentials", cred_schema),
	MAP("paths", paths_schema), MAP("bank", bank_schema),
	{ .key = "cadence", .data_offset = 0, .value = {
	    .type = CYAML_MAPPING, .flags = CYAML_FLAG_OPTIONAL,
	    .data_size = sizeof(RP), .mapping = { .fields = cadence_schema } } },
	MAP("pack_fields", pack_fields_schema),
	MAP("unit_fields", unit_fields_schema),
	MAP("control", control_schema), MAP("readback", readback_schema),
	MAP("limits", limits_schema), MAPO("timing", timing_schema),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t profile_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, RP, top_schema),
};

static int
get_path(struct ycfg *c, const char *key, const char *s, char *dst,
    size_t dstsz)
{
	if (ycfg_word(c, key, s, dst, dstsz) == -1)
		return -1;
	if (dst[0] != '/')
		return ycfg_fail(c, key, "\"%s\": must be an absolute path", s);
	return 0;
}

/* Topics are exact names: no MQTT wildcards, no empty levels. */
static int
get_topic(struct ycfg *c, const char *key, const char *s, char *dst,
    const char *placeholder)
{
	const char *hit;

	if (ycfg_word(c, key, s, dst, PROFILE_TOPIC_MAX) == -1)
		return -1;
	if (strpbrk(s, "+# ") != NULL)
		return ycfg_fail(c, key, "\"%s\": wildcards and spaces are not "
		    "allowed in a topic", s);
	if (s[0] == '/' || strstr(s, "//") != NULL || s[strlen(s) - 1] == '/')
		return ycfg_fail(c, key, "\"%s\": empty topic level", s);
	if (placeholder == NULL) {
		if (strchr(s, '{') != NULL || strchr(s, '}') != NULL)
			return ycfg_fail(c, key, "\"%s\": no placeholder allowed here",
			    s);
		return 0;
	}
	hit = strstr(s, placeholder);
	if (hit == NULL || strstr(hit + 1, placeholder) != NULL)
		return ycfg_fail(c, key, "\"%s\": must contain %s exactly once", s,
		    placeholder);
	/* no other braces than the placeholder's */
	size_t braces = 0;
	for (const char *p = s; *p != '\0'; p++)
		braces += (*p == '{' || *p == '}');
	if (braces != 2)
		return ycfg_fail(c, key, "\"%s\": stray brace", s);
	return 0;
}

/* ---- fields ---- */

struct unit_name {
	const char	*name;
	enum field_unit	 unit;
};

static const struct unit_name unit_names[] = {
	{ "%", FU_PERCENT }, { "V", FU_VOLT }, { "mV", FU_MILLIVOLT },
	{ "A", FU_AMPERE }, { "C", FU_CELSIUS }, { "F", FU_FAHRENHEIT },
	{ "W", FU_WATT }, { "kW", FU_KILOWATT }, { "flags", FU_FLAGS },
	{ "text", FU_TEXT },
};

/* Which published units each field may use (bit per enum field_unit). */
#define U(x)	(1u << (x))
static const unsigned pack_units[PF_COUNT] = {
	[PF_SOC] = U(FU_PERCENT),
	[PF_PACK_VOLTAGE] = U(FU_VOLT) | U(FU_MILLIVOLT),
	[PF_PACK_CURRENT] = U(FU_AMPERE),
	[PF_CELL_VOLTAGE_MAX] = U(FU_VOLT) | U(FU_MILLIVOLT),
	[PF_CELL_DELTA_MV] = U(FU_MILLIVOLT) | U(FU_VOLT),
	[PF_PROTECTION] = U(FU_FLAGS),
};
#define TEMP_UNITS	(U(FU_CELSIUS) | U(FU_FAHRENHEIT))
static const unsigned unit_units[UF_COUNT] = {
	[UF_DEVICE_MODE] = U(FU_TEXT),
	[UF_OUTPUT_PRIORITY] = U(FU_TEXT),
	[UF_CHARGER_PRIORITY] = U(FU_TEXT),
	[UF_LINE_DIRECTION] = U(FU_TEXT),
	[UF_PV_POWER] = U(FU_WATT) | U(FU_KILOWATT),
	[UF_AC_OUTPUT_POWER] = U(FU_WATT) | U(FU_KILOWATT),
};

static const char *const pack_names[PF_TEMP] = {
	"soc", "pack_voltage", "pack_current", "cell_voltage_max",
	"cell_voltage_delta_mv", "protection",
};
static const char *const unit_names_f[UF_COUNT] = {
	"device_mode", "output_source_priority", "charger_source_priority",
	"line_power_direction", "mppt1_input_power", "ac_output_active_power",
};

const char *
pack_field_name(const struct profile *pf, int f)
{
	return f >= 0 && f < pack_nfields(pf) ? pf->pack_field[f].name : "?";
}

bool
profile_temp_fahrenheit(const struct profile *pf)
{
	for (int k = 0; k < pf->n_temps; k++)
		if (pf->pack_field[PF_TEMP + k].unit == FU_FAHRENHEIT)
			return true;
	return false;
}

const char *
unit_field_name(enum unit_field f)
{
	return (unsigned)f < UF_COUNT ? unit_names_f[f] : "?";
}

const char *
setting_name(enum setting s)
{
	static const char *const names[SETTING_COUNT] = {
		"output_priority", "charger_priority",
	};

	return (unsigned)s < SETTING_COUNT ? names[s] : "?";
}

/* format: text|json, pointer (json only), scale and sign (numbers only). */
static int
load_format(struct ycfg *c, const char *field, const struct raw_field *raw,
    bool numeric, struct field_spec *fs)
{
	char key[160];
	const char *s;
	int64_t sign;

	(void)snprintf(key, sizeof(key), "%s.format", field);
	/* per-field defaults go unsaid with -v: a line for every field */
	s = raw->format != NULL ? raw->format : "text";
	if (strcmp(s, "text") != 0 && strcmp(s, "json") != 0)
		return ycfg_fail(c, key, "\"%s\": must be text or json", s);
	fs->format = strcmp(s, "json") == 0 ? PL_JSON : PL_TEXT;
	(void)snprintf(key, sizeof(key), "%s.pointer", field);
	if ((fs->format == PL_JSON) != (raw->pointer != NULL))
		return ycfg_fail(c, key, fs->format == PL_JSON ? "format json "
		    "needs a JSON pointer (\"/value\")" : "only with format "
		    "json");
	if (raw->pointer != NULL && (ycfg_word(c, key, raw->pointer,
	    fs->pointer, sizeof(fs->pointer)) == -1 ||
	    json_pointer_valid(fs->pointer) == -1))
		return ycfg_fail(c, key, "\"%s\": not a JSON pointer (\"/a/b\","
		    " ~0 and ~1 escapes)", raw->pointer);
	(void)snprintf(key, sizeof(key), "%s.scale", field);
	if (!numeric && (raw->scale != NULL || raw->sign != NULL))
		return ycfg_fail(c, key, "scale and sign are only for numeric "
		    "fields");
	if (ycfg_double(c, key, raw->scale != NULL ? raw->scale : "1", 1e-6,
	    1e6, &fs->scale) == -1)
		return -1;
	(void)snprintf(key, sizeof(key), "%s.sign", field);
	if (ycfg_int(c, key, raw->sign != NULL ? raw->sign : "1", -1, 1,
	    &sign) == -1)
		return -1;
	if (sign == 0)
		return ycfg_fail(c, key, "must be 1 or -1");
	fs->sign = (int)sign;
	return 0;
}

static int
load_field(struct ycfg *c, const char *section, const char *name,
    const struct raw_field *raw, unsigned allowed, const char *placeholder,
    struct field_spec *fs)
{
	char key[128];
	size_t i;

	(void)snprintf(key, sizeof(key), "%s.%s.topic", section, name);
	if (get_topic(c, key, raw->topic, fs->topic, placeholder) == -1)
		return -1;
	(void)snprintf(key, sizeof(key), "%s.%s.unit", section, name);
	for (i = 0; i < sizeof(unit_names) / sizeof(unit_names[0]); i++)
		if (strcmp(raw->unit, unit_names[i].name) == 0)
			break;
	if (i == sizeof(unit_names) / sizeof(unit_names[0]) ||
	    (allowed & U(unit_names[i].unit)) == 0)
		return ycfg_fail(c, key, "\"%s\": not a unit this field can have",
		    raw->unit);
	fs->unit = unit_names[i].unit;

	bool ranged = fs->unit != FU_TEXT && fs->unit != FU_FLAGS;
	if (ranged != (raw->min != NULL) || ranged != (raw->max != NULL)) {
		(void)snprintf(key, sizeof(key), "%s.%s", section, name);
		return ycfg_fail(c, key, ranged ? "needs min and max" :
		    "min and max are only for numeric fields");
	}
	if (ranged) {
		(void)snprintf(key, sizeof(key), "%s.%s.min", section, name);
		if (ycfg_double(c, key, raw->min, -1e6, 1e6, &fs->min) == -1)
			return -1;
		(void)snprintf(key, sizeof(key), "%s.%s.max", section, name);
		if (ycfg_double(c, key, raw->max, -1e6, 1e6, &fs->max) == -1)
			return -1;
		if (fs->min >= fs->max)
			return ycfg_fail(c, key, "max must be above min");
	} else if (fs->unit == FU_FLAGS) {
		fs->min = 0;
		fs->max = UINT32_MAX;
	}
	fs->empty_is_zero = false;
	if (raw->empty_is_zero != NULL) {
		(void)snprintf(key, sizeof(key), "%s.%s.empty_is_zero", section,
		    name);
		if (fs->unit != FU_FLAGS)
			return ycfg_fail(c, key, "only for flags fields");
		if (ycfg_bool(c, key, raw->empty_is_zero, &fs->empty_is_zero) == -1)
			return -1;
	}
	(void)snprintf(key, sizeof(key), "%s.%s", section, name);
	return load_format(c, key, raw, ranged, fs);
}

/* A sensor's name: a word of letters, digits, '_' and '-'. */
static int
temp_name(struct ycfg *c, const char *key, const char *s, int k,
    struct profile *pf)
{
	char *dst = pf->pack_field[PF_TEMP + k].name;

	if (s == NULL) {
		(void)snprintf(dst, PROFILE_NAME_MAX, "temperature_%d", k + 1);
		return 0;
	}
	if (ycfg_word(c, key, s, dst, PROFILE_NAME_MAX) == -1)
		return -1;
	if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-") != strlen(s))
		return ycfg_fail(c, key, "\"%s\": letters, digits, _ and - only",
		    s);
	return 0;
}

static int
load_temps(struct ycfg *c, const struct raw_profile *r, struct profile *pf)
{
	char key[96], name[32];

	if (r->temps == NULL || r->temps_count < 1 ||
	    r->temps_count > PROFILE_MAX_TEMPS)
		return ycfg_fail(c, "pack_fields.temperatures", "%u sensors: a "
		    "list of 1 to %d ({topic, unit: C|F, min, max, name})",
		    r->temps_count, PROFILE_MAX_TEMPS);
	pf->n_temps = (int)r->temps_count;
	for (int k = 0; k < pf->n_temps; k++) {
		(void)snprintf(name, sizeof(name), "temperatures[%d]", k);
		(void)snprintf(key, sizeof(key), "pack_fields.%s.name", name);
		if (load_field(c, "pack_fields", name, &r->temps[k], TEMP_UNITS,
		    "{i}", &pf->pack_field[PF_TEMP + k]) == -1 ||
		    temp_name(c, key, r->temps[k].name, k, pf) == -1)
			return -1;
		/* a name says which sensor: it must say only one */
		for (int f = 0; f < PF_TEMP + k; f++)
			NEED(strcmp(pf->pack_field[f].name,
			    pf->pack_field[PF_TEMP + k].name) != 0, key,
			    "\"%s\" names another pack field too",
			    pf->pack_field[f].name);
	}
	return 0;
}

static int
load_fields(struct ycfg *c, const struct raw_profile *r, struct profile *pf)
{
	for (int f = 0; f < PF_TEMP; f++) {
		(void)strlcpy(pf->pack_field[f].name, pack_names[f],
		    sizeof(pf->pack_field[f].name));
		if (load_field(c, "pack_fields", pack_names[f],
		    &r->pack_fields[f], pack_units[f], "{i}",
		    &pf->pack_field[f]) == -1)
			return -1;
	}
	if (load_temps(c, r, pf) == -1)
		return -1;
	for (int f = 0; f < UF_COUNT; f++) {
		(void)strlcpy(pf->unit_field[f].name, unit_names_f[f],
		    sizeof(pf->unit_field[f].name));
		if (load_field(c, "unit_fields", unit_names_f[f],
		    &r->unit_fields[f], unit_units[f], "{u}",
		    &pf->unit_field[f]) == -1)
			return -1;
	}
	return 0;
}

/* An optional key's value, or its default, said with -v. */
static const char *
opt_default(const struct ycfg *c, const char *key, const char *s,
    const char *def)
{
	if (s != NULL)
		return s;
	log_debug("%s: %s not set: default %s", c->path, key, def);
	return def;
}

/* ---- numeric keys, by table ---- */

enum num_kind { K_DOUBLE, K_MS };

struct num_key {
	const char	*key;
	size_t		 raw;		/* offset in struct raw_profile */
	size_t		 dst;		/* offset in struct profile */
	enum num_kind	 kind;
	double		 min, max;	/* in the key's unit (s for K_MS) */
	const char	*def;		/* when absent; NULL: required */
};

/*
 * Defaults are the reference site's values (profiles/eg4-lp4-v2.yaml):
 * timing, and the limits LFP chemistry sets rather than the site. What
 * the pack, the BMS and the charger decide (cell voltages, bulk voltage,
 * currents) has none: a site must say it.
 */
#define NL(sec, k, d, lo, hi) { "limits." #sec "." #k, \
	offsetof(RP, limits.sec.k), offsetof(struct profile, limits.d), \
	K_DOUBLE, lo, hi, NULL }
#define NLD(sec, k, d, lo, hi, def) { "limits." #sec "." #k, \
	offsetof(RP, limits.sec.k), offsetof(struct profile, limits.d), \
	K_DOUBLE, lo, hi, def }
#define NT(k, d, lo, hi, def) { "timing." #k, offsetof(RP, timing.k), \
	offsetof(struct profile, timing.d), K_MS, lo, hi, def }

static const struct num_key num_keys[] = {
	NLD(preflight, pack_voltage_spread_v, pre_voltage_spread_v, 0.001, 5, "0.1"),
	NLD(preflight, temperature_min_c, pre_temp_min_c, -40, 80, "5"),
	NLD(preflight, temperature_max_c, pre_temp_max_c, -40, 80, "40"),
	NLD(preflight, cell_delta_max_mv, pre_cell_delta_mv, 1, 1000, "50"),
	NLD(preflight, drift_soc_spread_pct, pre_drift_soc_spread_pct, 0.5, 100, "5"),
	NL(abort, cell_voltage_max_v, abort_cell_v, 3.0, 4.2),
	NLD(abort, temperature_min_c, abort_temp_min_c, 0, 80, "0"),
	NLD(abort, temperature_max_c, abort_temp_max_c, 0, 80, "45"),
	NL(bms, cell_protect_v, bms_protect_cell_v, 3.0, 4.3),
	NL(engage, total_current_min_a, engage_current_a, 0.1, 5000),
	NL(absorption, bulk_voltage_v, bulk_v, 10, 1000),
	NL(absorption, bulk_tolerance_v, bulk_tolerance_v, 0.01, 10),
	NL(absorption, tail_current_per_pack_a, tail_per_pack_a, 0.1, 500),
	NL(absorption, tail_current_total_a, tail_total_a, 0.1, 5000),
	NLD(verify, soc_min_pct, verify_soc_pct, 50, 100, "99"),
	NLD(verify, pack_voltage_spread_v, verify_voltage_spread_v, 0.001, 5, "0.1"),
	NLD(verify, cell_delta_max_mv, verify_cell_delta_mv, 1, 1000, "50"),
	NL(envelope, cell_voltage_max_v, env_cell_v, 3.0, 4.3),
	NLD(envelope, temperature_max_c, env_temp_max_c, 0, 90, "50"),
	{ "limits.envelope.stale_s", offsetof(RP, limits.envelope.stale_s),
	    offsetof(struct profile, limits.env_stale_ms), K_MS, 0.01, 3600, "120" },
	NT(telemetry_max_age_s, telemetry_max_age_ms, 0.01, 3600, "30"),
	NT(telemetry_grace_s, telemetry_grace_ms, 0.01, 3600, "60"),
	NT(preflight_wait_s, preflight_wait_ms, 0.01, 86400, "120"),
	NT(set_confirm_s, set_confirm_ms, 0.01, 3600, "90"),
	NT(engage_timeout_s, engage_timeout_ms, 0.01, 3600, "120"),
	NT(absorption_hold_s, absorption_hold_ms, 0.01, 86400, "1800"),
	NT(absorption_max_s, absorption_max_ms, 0.01, 86400, "7200"),
	NT(run_max_s, run_max_ms, 0.01, 172800, "28800"),
	NT(heartbeat_interval_s, heartbeat_interval_ms, 0.01, 60, "1"),
	NT(heartbeat_timeout_s, heartbeat_timeout_ms, 0.02, 600, "10"),
	NT(revert_confirm_s, revert_confirm_ms, 0.01, 3600, "60"),
	NT(revert_retry_s, revert_retry_ms, 0.01, 3600, "15"),
	NT(revert_retry_max_s, revert_retry_max_ms, 0.01, 86400, "300"),
	NT(progress_interval_s, progress_interval_ms, 0.01, 86400, "60"),
};

/* Re-anchored reads 100 % unless the profile says otherwise. */
#define REANCHOR_DEFAULT	"100"
/* A BMS that has not terminated may read this much: never "re-anchored". */
#define HELD_PCT		99.0

static int
load_numbers(struct ycfg *c, const struct raw_profile *r,
    struct profile *pf)
{
	if (ycfg_double(c, "limits.verify.reanchor_pct", opt_default(c,
	    "limits.verify.reanchor_pct", r->limits.verify.reanchor_pct,
	    REANCHOR_DEFAULT), 50, 100, &pf->limits.verify_reanchor_pct) == -1)
		return -1;
	for (size_t i = 0; i < sizeof(num_keys) / sizeof(num_keys[0]); i++) {
		const struct num_key *k = &num_keys[i];
		const char *s = *(char *const *)((const char *)r + k->raw);
		void *dst = (char *)pf + k->dst;

		if (s == NULL && k->def == NULL)	/* its section is optional */
			return ycfg_fail(c, k->key, "missing (no default: the "
			    "site must say)");
		s = opt_default(c, k->key, s, k->def);
		if (k->kind == K_DOUBLE) {
			if (ycfg_double(c, k->key, s, k->min, k->max, dst) == -1)
				return -1;
		} else if (ycfg_ms(c, k->key, s, (int64_t)(k->min * 1000),
		    (int64_t)(k->max * 1000), dst) == -1)
			return -1;
	}
	return 0;
}

/* ---- consistency between keys ---- */

static int
check_limits(struct ycfg *c, const struct profile *pf)
{
	const struct profile_limits *l = &pf->limits;
	const struct profile_timing *t = &pf->timing;

	NEED(l->abort_cell_v < l->bms_protect_cell_v,
	    "limits.abort.cell_voltage_max_v", "%.3f V must be below "
	    "limits.bms.cell_protect_v (%.3f V)", l->abort_cell_v,
	    l->bms_protect_cell_v);
	NEED(l->env_cell_v > l->abort_cell_v && l->env_cell_v <
	    l->bms_protect_cell_v, "limits.envelope.cell_voltage_max_v",
	    "%.3f V must lie above limits.abort.cell_voltage_max_v and below "
	    "limits.bms.cell_protect_v", l->env_cell_v);
	NEED(l->pre_temp_min_c < l->pre_temp_max_c,
	    "limits.preflight.temperature_min_c", "must be below "
	    "limits.preflight.temperature_max_c");
	NEED(l->abort_temp_min_c < l->abort_temp_max_c,
	    "limits.abort.temperature_min_c", "must be below "
	    "limits.abort.temperature_max_c");
	NEED(l->pre_temp_min_c >= l->abort_temp_min_c,
	    "limits.preflight.temperature_min_c", "the pre-flight range must "
	    "lie within the abort range");
	/* charging warms the pack: a pack let in at the abort limit aborts */
	NEED(l->pre_temp_max_c < l->abort_temp_max_c,
	    "limits.preflight.temperature_max_c", "%.1f C must be below "
	    "limits.abort.temperature_max_c (%.1f C): leave a margin for the "
	    "charge to warm the pack", l->pre_temp_max_c, l->abort_temp_max_c);
	NEED(l->verify_reanchor_pct > HELD_PCT,
	    "limits.verify.reanchor_pct", "%.1f %% is not a re-anchor: a BMS "
	    "that has not terminated may hold at %.0f %%; use the value its "
	    "counter jumps to (100)", l->verify_reanchor_pct, HELD_PCT);
	NEED(l->verify_reanchor_pct >= l->verify_soc_pct,
	    "limits.verify.reanchor_pct", "%.1f %% must be at least "
	    "limits.verify.soc_min_pct (%.1f %%)", l->verify_reanchor_pct,
	    l->verify_soc_pct);
	NEED(l->env_temp_max_c > l->abort_temp_max_c,
	    "limits.envelope.temperature_max_c", "must be above "
	    "limits.abort.temperature_max_c");
	NEED(l->tail_total_a >= l->tail_per_pack_a,
	    "limits.absorption.tail_current_total_a", "must be at least "
	    "limits.absorption.tail_current_per_pack_a");
	NEED(l->bulk_v > pf->pack_field[PF_PACK_VOLTAGE].min &&
	    l->bulk_v < pf->pack_field[PF_PACK_VOLTAGE].max,
	    "limits.absorption.bulk_voltage_v", "must lie within "
	    "pack_fields.pack_voltage min..max");
	NEED(l->engage_current_a > l->tail_total_a,
	    "limits.engage.total_current_min_a", "must be above "
	    "limits.absorption.tail_current_total_a");
	NEED(t->heartbeat_timeout_ms >= 2 * t->heartbeat_interval_ms,
	    "timing.heartbeat_timeout_s", "must be at least twice "
	    "timing.heartbeat_interval_s");
	NEED(t->revert_retry_max_ms >= t->revert_retry_ms,
	    "timing.revert_retry_max_s", "must be at least "
	    "timing.revert_retry_s");
	NEED(t->absorption_hold_ms < t->absorption_max_ms,
	    "timing.absorption_hold_s", "must be below timing.absorption_max_s");
	NEED(t->absorption_max_ms < t->run_max_ms, "timing.absorption_max_s",
	    "must be below timing.run_max_s");
	NEED(t->telemetry_grace_ms >= t->telemetry_max_age_ms,
	    "timing.telemetry_grace_s", "must be at least "
	    "timing.telemetry_max_age_s");
	NEED(l->env_stale_ms > t->telemetry_grace_ms, "limits.envelope.stale_s",
	    "must be above timing.telemetry_grace_s");
	return 0;
}

static int
load_control(struct ycfg *c, const struct raw_profile *r,
    struct profile *pf)
{
	char key[128];
	const char *s_case;
	bool per_unit[SETTING_COUNT];

	for (int s = 0; s < SETTING_COUNT; s++) {
		const struct raw_control *rc = &r->control.c[s];
		struct control_spec *cs = &pf->control[s];
		const char *name = setting_name(s);
		const char *src[4] = { rc->everyday, rc->calibration,
		    rc->readback_everyday, rc->readback_calibration };
		char *dst[4] = { cs->value[VALUE_EVERYDAY],
		    cs->value[VALUE_CALIBRATION], cs->readback[VALUE_EVERYDAY],
		    cs->readback[VALUE_CALIBRATION] };
		const char *sub[4] = { "everyday", "calibration",
		    "readback_everyday", "readback_calibration" };

		(void)snprintf(key, sizeof(key), "control.%s.topic", name);
		per_unit[s] = strstr(rc->topic, "{u}") != NULL;
		if (get_topic(c, key, rc->topic, cs->topic, per_unit[s] ?
		    "{u}" : NULL) == -1)
			return -1;
		for (int i = 0; i < 4; i++) {
			(void)snprintf(key, sizeof(key), "control.%s.%s", name,
			    sub[i]);
			if (ycfg_word(c, key, src[i], dst[i],
			    PROFILE_WORD_MAX) == -1)
				return -1;
		}
		(void)snprintf(key, sizeof(key), "control.%s.calibration", name);
		NEED(strcmp(cs->value[0], cs->value[1]) != 0, key,
		    "must differ from the everyday value");
		(void)snprintf(key, sizeof(key), "control.%s.case", name);
		s_case = opt_default(c, key, rc->match_case, "exact");
		if (strcmp(s_case, "exact") != 0 && strcmp(s_case, "fold") != 0)
			return ycfg_fail(c, key, "\"%s\": must be exact or fold",
			    s_case);
		cs->fold = strcmp(s_case, "fold") == 0;
		(void)snprintf(key, sizeof(key),
		    "control.%s.readback_calibration", name);
		NEED((cs->fold ? strcasecmp : strcmp)(cs->readback[0],
		    cs->readback[1]) != 0, key, cs->fold ? "must differ from "
		    "the everyday readback, ignoring case" : "must differ from "
		    "the everyday readback");
	}
	NEED(strcmp(pf->control[0].topic, pf->control[1].topic) != 0,
	    "control.charger_priority.topic", "must differ from "
	    "control.output_priority.topic");
	/* one unit set apart from the other setting would be fault 86 */
	NEED(per_unit[0] == per_unit[1], "control.charger_priority.topic",
	    "control.%s.topic is per unit ({u}) and control.%s.topic is not: "
	    "both settings per unit or both for the whole cluster, never one "
	    "of each", setting_name(per_unit[0] ? 0 : 1),
	    setting_name(per_unit[0] ? 1 : 0));
	pf->control_per_unit = per_unit[0];
	if (get_topic(c, "control.status_topic", r->control.status_topic,
	    pf->status_topic, NULL) == -1 ||
	    get_topic(c, "control.alarm_topic", r->control.alarm_topic,
	    pf->alarm_topic, NULL) == -1)
		return -1;
	return 0;
}

static int
load_modes(struct ycfg *c, const char *key, char **src, unsigned n,
    char dst[][PROFILE_WORD_MAX], int *ndst)
{
	for (unsigned i = 0; i < n; i++)
		if (ycfg_word(c, key, src[i], dst[i], PROFILE_WORD_MAX) == -1)
			return -1;
	*ndst = (int)n;
	return 0;
}

static int
load_readback(struct ycfg *c, const struct raw_profile *r,
    struct profile *pf)
{
	if (load_modes(c, "readback.grid_modes", r->readback.grid_modes,
	    r->readback.grid_modes_count, pf->grid_modes,
	    &pf->n_grid_modes) == -1 ||
	    load_modes(c, "readback.fault_modes", r->readback.fault_modes,
	    r->readback.fault_modes_count, pf->fault_modes,
	    &pf->n_fault_modes) == -1 ||
	    ycfg_word(c, "readback.line_input", r->readback.line_input,
	    pf->line_input, sizeof(pf->line_input)) == -1)
		return -1;
	for (int i = 0; i < pf->n_fault_modes; i++)
		NEED(!profile_is_grid_mode(pf, pf->fault_modes[i]),
		    "readback.fault_modes", "\"%s\" is also a grid mode",
		    pf->fault_modes[i]);
	return 0;
}

static int
load_site(struct ycfg *c, const struct raw_profile *r, struct profile *pf)
{
	int64_t v;

	if (ycfg_word(c, "site", r->site, pf->site, sizeof(pf->site)) == -1 ||
	    ycfg_word(c, "broker.host", r->broker.host, pf->broker_host,
	    sizeof(pf->broker_host)) == -1)
		return -1;
	if (ycfg_int(c, "broker.port", opt_default(c, "broker.port",
	    r->broker.port, "1883"), 1, 65535, &v) == -1)
		return -1;
	pf->broker_port = (uint16_t)v;
	if (ycfg_int(c, "broker.keepalive_s", opt_default(c,
	    "broker.keepalive_s", r->broker.keepalive_s, "30"), 5, 3600,
	    &v) == -1)
		return -1;
	pf->broker_keepalive_s = (int)v;
	/* TLS (optional): a CA file; a client certificate and key, both */
	if ((r->broker.tls_ca != NULL && get_path(c, "broker.tls_ca",
	    r->broker.tls_ca, pf->broker_tls_ca, sizeof(pf->broker_tls_ca)) ==
	    -1) || (r->broker.tls_cert != NULL && get_path(c,
	    "broker.tls_cert", r->broker.tls_cert, pf->broker_tls_cert,
	    sizeof(pf->broker_tls_cert)) == -1) || (r->broker.tls_key != NULL &&
	    get_path(c, "broker.tls_key", r->broker.tls_key, pf->broker_tls_key,
	    sizeof(pf->broker_tls_key)) == -1))
		return -1;
	NEED((pf->broker_tls_cert[0] == '\0') == (pf->broker_tls_key[0] ==
	    '\0'), "broker.tls_cert", "tls_cert and tls_key go together");
	NEED(pf->broker_tls_cert[0] == '\0' || pf->broker_tls_ca[0] != '\0',
	    "broker.tls_cert", "a client certificate needs broker.tls_ca");
	if (get_path(c, "credentials.watchdog", r->credentials.watchdog,
	    pf->cred_watchdog, sizeof(pf->cred_watchdog)) == -1 ||
	    get_path(c, "credentials.supervisor", r->credentials.supervisor,
	    pf->cred_supervisor, sizeof(pf->cred_supervisor)) == -1 ||
	    get_path(c, "paths.state_dir", r->paths.state_dir, pf->state_dir,
	    sizeof(pf->state_dir)) == -1 ||
	    get_path(c, "paths.audit_log", r->paths.audit_log, pf->audit_log,
	    sizeof(pf->audit_log)) == -1 ||
	    get_path(c, "paths.supervisor", r->paths.supervisor,
	    pf->supervisor_path, sizeof(pf->supervisor_path)) == -1 ||
	    ycfg_word(c, "paths.supervisor_user", r->paths.supervisor_user,
	    pf->supervisor_user, sizeof(pf->supervisor_user)) == -1)
		return -1;
	NEED(strcmp(pf->cred_watchdog, pf->cred_supervisor) != 0,
	    "credentials.supervisor", "must not be the watchdog's file");
	NEED(strcmp(pf->supervisor_user, "root") != 0, "paths.supervisor_user",
	    "the supervisor never runs as root");
	if (ycfg_int(c, "bank.packs", r->bank.packs, 1, PROFILE_MAX_PACKS,
	    &v) == -1)
		return -1;
	pf->packs = (int)v;
	if (ycfg_int(c, "bank.units", r->bank.units, 1, PROFILE_MAX_UNITS,
	    &v) == -1)
		return -1;
	pf->units = (int)v;
	if (ycfg_double(c, "cadence.days", opt_default(c, "cadence.days",
	    r->cadence.days, CADENCE_DEFAULT), 1, 365, &pf->cadence_days) == -1)
		return -1;
	return 0;
}

/* Every expanded telemetry and control topic must be distinct. */
static int
check_topics(struct ycfg *c, const struct profile *pf)
{
	char (*all)[PROFILE_TOPIC_MAX];
	size_t n = 0, cap = (size_t)pf->packs * PF_COUNT +
	    (size_t)pf->units * (UF_COUNT + SETTING_COUNT) + SETTING_COUNT + 2;
	int rc = 0;

	if ((all = calloc(cap, sizeof(*all))) == NULL)
		return ycfg_fail(c, NULL, "out of memory");
	for (int i = 1; i <= pf->packs && rc == 0; i++)
		for (int f = 0; f < pack_nfields(pf) && rc == 0; f++)
			if (topic_expand(pf->pack_field[f].topic, i, all[n++],
			    PROFILE_TOPIC_MAX) == -1)
				rc = ycfg_fail(c, "pack_fields", "topic of %s too long "
				    "for pack %d", pf->pack_field[f].name, i);
	for (int u = 1; u <= pf->units && rc == 0; u++)
		for (int f = 0; f < UF_COUNT && rc == 0; f++)
			if (topic_expand(pf->unit_field[f].topic, u, all[n++],
			    PROFILE_TOPIC_MAX) == -1)
				rc = ycfg_fail(c, "unit_fields", "topic of %s too long "
				    "for unit %d", unit_names_f[f], u);
	for (int s = 0; s < SETTING_COUNT && rc == 0; s++)
		for (int u = 1; u <= (pf->control_per_unit ? pf->units : 1) &&
		    rc == 0; u++)
			if (topic_expand(pf->control[s].topic, u, all[n++],
			    PROFILE_TOPIC_MAX) == -1)
				rc = ycfg_fail(c, "control", "topic of %s too long "
				    "for unit %d", setting_name(s), u);
	if (rc == 0) {
		(void)strlcpy(all[n++], pf->status_topic, PROFILE_TOPIC_MAX);
		(void)strlcpy(all[n++], pf->alarm_topic, PROFILE_TOPIC_MAX);
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		for (size_t j = i + 1; j < n && rc == 0; j++)
			if (strcmp(all[i], all[j]) == 0)
				rc = ycfg_fail(c, NULL, "topic \"%s\" is used twice",
				    all[i]);
	free(all);
	return rc;
}

/* The two fixed temperatures of the first schema: a list since issue 19. */
#define TEMPS_HINT	"replaced by pack_fields.temperatures, a list of 1 " \
	"to 8 sensors: - { topic, unit: C|F, min, max, name }"
static const char *const renamed_keys[] = {
	"pack_fields.temperature_pcb", TEMPS_HINT,
	"pack_fields.temperature_cell", TEMPS_HINT,
	NULL
};

/* ---- public ---- */

int
topic_expand(const char *tmpl, int n, char *out, unsigned long outsz)
{
	const char *p = strchr(tmpl, '{');
	int len;

	if (p == NULL || (p[1] != 'i' && p[1] != 'u') || p[2] != '}')
		len = snprintf(out, outsz, "%s", tmpl);
	else
		len = snprintf(out, outsz, "%.*s%d%s", (int)(p - tmpl), tmpl, n,
		    p + 3);
	return (len < 0 || (unsigned long)len >= outsz) ? -1 : 0;
}

bool
profile_is_grid_mode(const struct profile *pf, const char *mode)
{
	for (int i = 0; i < pf->n_grid_modes; i++)
		if (strcmp(pf->grid_modes[i], mode) == 0)
			return true;
	return false;
}

bool
profile_is_fault_mode(const struct profile *pf, const char *mode)
{
	for (int i = 0; i < pf->n_fault_modes; i++)
		if (strcmp(pf->fault_modes[i], mode) == 0)
			return true;
	return false;
}

int
profile_readback_value(const struct profile *pf, enum setting s,
    const char *readback)
{
	if ((unsigned)s >= SETTING_COUNT)
		return -1;
	for (int v = 0; v < VALUE_COUNT; v++)
		if ((pf->control[s].fold ? strcasecmp : strcmp)(
		    pf->control[s].readback[v], readback) == 0)
			return v;
	return -1;
}

int
profile_load(const char *path, struct profile *pf, char *err,
    unsigned long errsz)
{
	struct raw_profile *raw = NULL;
	struct ycfg c;
	int rc;

	memset(pf, 0, sizeof(*pf));
	ycfg_init(&c, path, err, errsz);
	c.renamed = renamed_keys;
	rc = ycfg_load(&c, &profile_schema, (void **)&raw, PROFILE_FILE_MAX);
	if (rc == 0)
		rc = (load_site(&c, raw, pf) == -1 ||
		    load_fields(&c, raw, pf) == -1 ||
		    load_control(&c, raw, pf) == -1 ||
		    load_readback(&c, raw, pf) == -1 ||
		    load_numbers(&c, raw, pf) == -1 ||
		    check_limits(&c, pf) == -1 ||
		    check_topics(&c, pf) == -1) ? -1 : 0;
	if (rc == 0) {
		(void)strlcpy(pf->path, path, sizeof(pf->path));
		/* the digest covers exactly the bytes that were parsed */
		SHA256Data((const uint8_t *)c.buf, c.len, pf->digest_hex);
		for (int i = 0; i < PROFILE_DIGEST_LEN; i++)
			(void)sscanf(pf->digest_hex + 2 * i, "%2hhx",
			    &pf->digest[i]);
	}
	ycfg_free(&c, &profile_schema, raw);
	return rc;
}

void
profile_load_or_die(const char *path, struct profile *pf)
{
	char err[PROFILE_ERR_MAX];

	if (profile_load(path, pf, err, sizeof(err)) == -1) {
		log_setfatalstatus(EX_CONFIG);
		fatalx("%s", err);
	}
}
