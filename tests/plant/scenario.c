/*
 * Scenario loader, strict in the way of the profile loader: libcyaml gives
 * the structure (unknown, missing and duplicate keys, aliases and wrong
 * node types are refused there) and every scalar is loaded as a string,
 * then parsed here fully consumed and range checked, because libcyaml 1.3
 * reads "12abc" as 12 and takes "nan". Keys a fault kind does not use are
 * refused too, so a typo cannot silently leave a fault unconfigured.
 */
#include <cyaml/cyaml.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "scenario.h"
#include "yamlcfg.h"

#define SC_FILE_MAX	(256 * 1024)

/* ---- raw form ---- */

struct raw_pack {
	char	*capacity_ah, *soc_pct, *bms_offset_pct, *bms_gain_error_pct;
	char	*r_mohm, *imbalance_pct, *temp_c, *voltage_offset_v;
};

struct raw_point {
	char	*t_s, *level;
};

struct raw_fault {
	char		*kind, *trigger, *at_s, *delay_s, *duration_s;
	char		*pack, *unit, *field, *value, *rate_per_min, *limit;
	char		*count, *setting;
	char		**payloads;
	unsigned	 payloads_count;
};

struct raw_chem { char *cells, *polarisation_r_mohm, *polarisation_tau_s; };
struct raw_thermal { char *ambient_c, *heat_capacity_j_k, *loss_w_k; };
struct raw_bms {
	char	*anchor_cell_v, *anchor_current_a, *anchor_hold_s, *hold_at_pct;
	char	*protect_cell_v, *release_cell_v, *protect_temp_c;
};
struct raw_inverter {
	char	*grid, *max_charge_a, *bulk_v, *float_v, *absorption_max_s;
	char	*rebulk_v, *critical_v, *critical_recover_v, *cutoff_v;
	char	*apply_delay_s, *fault86_latch, *fault86_after_s;
	char	*output_priority, *charger_priority;
	char	*output_readback_everyday, *output_readback_calibration;
	char	*charger_readback_everyday, *charger_readback_calibration;
};
struct raw_load { char *base_w, *noise_w; };
struct raw_solar {
	char			*peak_w, *clouds;
	struct raw_point	*irradiance;
	unsigned		 irradiance_count;
};

struct raw_scenario {
	char			*name, *description, *duration_s;
	struct raw_chem		*chemistry;
	struct raw_thermal	*thermal;
	struct raw_bms		*bms;
	struct raw_inverter	*inverter;
	struct raw_load		*load;
	struct raw_solar	*solar;
	struct raw_pack		*packs;
	unsigned		 packs_count;
	struct raw_fault	*faults;
	unsigned		 faults_count;
};

/* ---- schema ---- */

#define STR(k, st, m) \
	CYAML_FIELD_STRING_PTR(k, CYAML_FLAG_POINTER, st, m, 0, 256)
#define OSTR(k, st, m) \
	CYAML_FIELD_STRING_PTR(k, CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, \
	    st, m, 0, 256)

static const cyaml_schema_field_t pack_fields[] = {
	STR("capacity_ah", struct raw_pack, capacity_ah),
	STR("soc_pct", struct raw_pack, soc_pct),
	STR("bms_offset_pct", struct raw_pack, bms_offset_pct),
	STR("bms_gain_error_pct", struct raw_pack, bms_gain_error_pct),
	STR("r_mohm", struct raw_pack, r_mohm),
	STR("imbalance_pct", struct raw_pack, imbalance_pct),
	STR("temp_c", struct raw_pack, temp_c),
	OSTR("voltage_offset_v", struct raw_pack, voltage_offset_v),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t pack_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_pack, pack_fields),
};

static const cyaml_schema_field_t point_fields[] = {
	STR("t_s", struct raw_point, t_s),
	STR("level", struct raw_point, level),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t point_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_point, point_fields),
};

static const cyaml_schema_value_t payload_schema = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, SC_PAYLOAD_LEN - 1),
};

static const cyaml_schema_field_t fault_fields[] = {
	STR("kind", struct raw_fault, kind),
	OSTR("trigger", struct raw_fault, trigger),
	OSTR("at_s", struct raw_fault, at_s),
	OSTR("delay_s", struct raw_fault, delay_s),
	OSTR("duration_s", struct raw_fault, duration_s),
	OSTR("pack", struct raw_fault, pack),
	OSTR("unit", struct raw_fault, unit),
	OSTR("field", struct raw_fault, field),
	OSTR("value", struct raw_fault, value),
	OSTR("rate_per_min", struct raw_fault, rate_per_min),
	OSTR("limit", struct raw_fault, limit),
	OSTR("count", struct raw_fault, count),
	OSTR("setting", struct raw_fault, setting),
	CYAML_FIELD_SEQUENCE("payloads",
	    CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct raw_fault,
	    payloads, &payload_schema, 1, SC_PAYLOADS_MAX),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t fault_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_fault, fault_fields),
};

static const cyaml_schema_field_t chem_fields[] = {
	STR("cells", struct raw_chem, cells),
	STR("polarisation_r_mohm", struct raw_chem, polarisation_r_mohm),
	STR("polarisation_tau_s", struct raw_chem, polarisation_tau_s),
	CYAML_FIELD_END
};
static const cyaml_schema_field_t thermal_fields[] = {
	STR("ambient_c", struct raw_thermal, ambient_c),
	STR("heat_capacity_j_k", struct raw_thermal, heat_capacity_j_k),
	STR("loss_w_k", struct raw_thermal, loss_w_k),
	CYAML_FIELD_END
};
static const cyaml_schema_field_t bms_fields[] = {
	STR("anchor_cell_v", struct raw_bms, anchor_cell_v),
	STR("anchor_current_a", struct raw_bms, anchor_current_a),
	STR("anchor_hold_s", struct raw_bms, anchor_hold_s),
	OSTR("hold_at_pct", struct raw_bms, hold_at_pct),
	STR("protect_cell_v", struct raw_bms, protect_cell_v),
	STR("release_cell_v", struct raw_bms, release_cell_v),
	STR("protect_temp_c", struct raw_bms, protect_temp_c),
	CYAML_FIELD_END
};
static const cyaml_schema_field_t inverter_fields[] = {
	STR("grid", struct raw_inverter, grid),
	STR("max_charge_a", struct raw_inverter, max_charge_a),
	STR("bulk_v", struct raw_inverter, bulk_v),
	STR("float_v", struct raw_inverter, float_v),
	STR("absorption_max_s", struct raw_inverter, absorption_max_s),
	STR("rebulk_v", struct raw_inverter, rebulk_v),
	STR("critical_v", struct raw_inverter, critical_v),
	STR("critical_recover_v", struct raw_inverter, critical_recover_v),
	STR("cutoff_v", struct raw_inverter, cutoff_v),
	STR("apply_delay_s", struct raw_inverter, apply_delay_s),
	STR("fault86_latch", struct raw_inverter, fault86_latch),
	OSTR("fault86_after_s", struct raw_inverter, fault86_after_s),
	STR("output_priority", struct raw_inverter, output_priority),
	STR("charger_priority", struct raw_inverter, charger_priority),
	OSTR("output_readback_everyday", struct raw_inverter,
	    output_readback_everyday),
	OSTR("output_readback_calibration", struct raw_inverter,
	    output_readback_calibration),
	OSTR("charger_readback_everyday", struct raw_inverter,
	    charger_readback_everyday),
	OSTR("charger_readback_calibration", struct raw_inverter,
	    charger_readback_calibration),
	CYAML_FIELD_END
};
static const cyaml_schema_field_t load_fields[] = {
	STR("base_w", struct raw_load, base_w),
	STR("noise_w", struct raw_load, noise_w),
	CYAML_FIELD_END
};
static const cyaml_schema_field_t solar_fields[] = {
	STR("peak_w", struct raw_solar, peak_w),
	STR("clouds", struct raw_solar, clouds),
	CYAML_FIELD_SEQUENCE("irradiance", CYAML_FLAG_POINTER,
	    struct raw_solar, irradiance, &point_schema, 1, SC_POINTS_MAX),
	CYAML_FIELD_END
};

#define RS	struct raw_scenario
static const cyaml_schema_field_t top_fields[] = {
	STR("name", RS, name),
	OSTR("description", RS, description),
	OSTR("duration_s", RS, duration_s),
	CYAML_FIELD_MAPPING_PTR("chemistry", CYAML_FLAG_POINTER, RS, chemistry,
	    chem_fields),
	CYAML_FIELD_MAPPING_PTR("thermal", CYAML_FLAG_POINTER, RS, thermal,
	    thermal_fields),
	CYAML_FIELD_MAPPING_PTR("bms", CYAML_FLAG_POINTER, RS, bms,
	    bms_fields),
	CYAML_FIELD_MAPPING_PTR("inverter", CYAML_FLAG_POINTER, RS, inverter,
	    inverter_fields),
	CYAML_FIELD_MAPPING_PTR("load", CYAML_FLAG_POINTER, RS, load,
	    load_fields),
	CYAML_FIELD_MAPPING_PTR("solar", CYAML_FLAG_POINTER, RS, solar,
	    solar_fields),
	CYAML_FIELD_SEQUENCE("packs", CYAML_FLAG_POINTER, RS, packs,
	    &pack_schema, 1, PROFILE_MAX_PACKS),
	CYAML_FIELD_SEQUENCE("faults", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
	    RS, faults, &fault_schema, 0, SC_FAULTS_MAX),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t top_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, RS, top_fields),
};

/* ---- values (shared/yamlcfg.h does the strict parsing) ---- */

/* Optional number: def if absent. */
static int
onum(struct ycfg *c, const char *key, const char *s, double min, double max,
    double def, double *out)
{
	if (s == NULL) {
		*out = def;
		return 0;
	}
	return ycfg_double(c, key, s, min, max, out);
}

static int
setting_value(struct ycfg *c, const char *key, const char *s, int *out)
{
	if (strcmp(s, "everyday") == 0)
		*out = VALUE_EVERYDAY;
	else if (strcmp(s, "calibration") == 0)
		*out = VALUE_CALIBRATION;
	else
		return ycfg_fail(c, key, "\"%s\": expected everyday or calibration",
		    s);
	return 0;
}

/* ---- sections ---- */

#define KEY(buf, ...)	((void)snprintf(buf, sizeof(buf), __VA_ARGS__), buf)

static int
load_physics(struct ycfg *c, const struct raw_scenario *r, struct scenario *s)
{
	const struct raw_chem *ch = r->chemistry;
	const struct raw_thermal *th = r->thermal;
	const struct raw_bms *b = r->bms;
	const struct raw_load *l = r->load;
	int64_t cells;

	if (ycfg_int(c, "chemistry.cells", ch->cells, 1, 32, &cells) == -1)
		return -1;
	s->chemistry.cells = (int)cells;
	if (ycfg_double(c, "chemistry.polarisation_r_mohm", ch->polarisation_r_mohm,
	    0, 10000, &s->chemistry.pol_r_mohm) == -1 ||
	    ycfg_double(c, "chemistry.polarisation_tau_s", ch->polarisation_tau_s, 1,
	    86400, &s->chemistry.pol_tau_s) == -1 ||
	    ycfg_double(c, "thermal.ambient_c", th->ambient_c, -40, 60,
	    &s->thermal.ambient_c) == -1 ||
	    ycfg_double(c, "thermal.heat_capacity_j_k", th->heat_capacity_j_k, 100,
	    1e7, &s->thermal.heat_capacity_j_k) == -1 ||
	    ycfg_double(c, "thermal.loss_w_k", th->loss_w_k, 0.01, 1000,
	    &s->thermal.loss_w_k) == -1 ||
	    ycfg_double(c, "bms.anchor_cell_v", b->anchor_cell_v, 3.0, 4.0,
	    &s->bms.anchor_cell_v) == -1 ||
	    ycfg_double(c, "bms.anchor_current_a", b->anchor_current_a, 0.01, 100,
	    &s->bms.anchor_current_a) == -1 ||
	    ycfg_double(c, "bms.anchor_hold_s", b->anchor_hold_s, 0, 86400,
	    &s->bms.anchor_hold_s) == -1 ||
	    onum(c, "bms.hold_at_pct", b->hold_at_pct, 50, 99.9, 0,
	    &s->bms.hold_at_pct) == -1 ||
	    ycfg_double(c, "bms.protect_cell_v", b->protect_cell_v, 3.0, 4.3,
	    &s->bms.protect_cell_v) == -1 ||
	    ycfg_double(c, "bms.release_cell_v", b->release_cell_v, 2.5, 4.3,
	    &s->bms.release_cell_v) == -1 ||
	    ycfg_double(c, "bms.protect_temp_c", b->protect_temp_c, 0, 120,
	    &s->bms.protect_temp_c) == -1 ||
	    ycfg_double(c, "load.base_w", l->base_w, 0, 50000, &s->load.base_w) == -1 ||
	    ycfg_double(c, "load.noise_w", l->noise_w, 0, 50000,
	    &s->load.noise_w) == -1)
		return -1;
	if (s->bms.release_cell_v >= s->bms.protect_cell_v)
		return ycfg_fail(c, "bms.release_cell_v", "must be below "
		    "bms.protect_cell_v");
	if (s->bms.anchor_cell_v >= s->bms.protect_cell_v)
		return ycfg_fail(c, "bms.anchor_cell_v", "must be below "
		    "bms.protect_cell_v");
	return 0;
}

/*
 * A site whose inverters report other words than the profile's defaults
 * (an installer then configures the profile to match): a readback word is
 * a non-empty word without blanks at either end, and the two values of a
 * setting differ.
 */
static int
load_readbacks(struct ycfg *c, const struct raw_inverter *r,
    struct scenario *s)
{
	static const char *const keys[SETTING_COUNT][VALUE_COUNT] = {
		[SETTING_OUTPUT_PRIORITY] = {
			[VALUE_EVERYDAY] = "inverter.output_readback_everyday",
			[VALUE_CALIBRATION] =
			    "inverter.output_readback_calibration",
		},
		[SETTING_CHARGER_PRIORITY] = {
			[VALUE_EVERYDAY] = "inverter.charger_readback_everyday",
			[VALUE_CALIBRATION] =
			    "inverter.charger_readback_calibration",
		},
	};
	const char *raw[SETTING_COUNT][VALUE_COUNT] = {
		[SETTING_OUTPUT_PRIORITY] = { r->output_readback_everyday,
		    r->output_readback_calibration },
		[SETTING_CHARGER_PRIORITY] = { r->charger_readback_everyday,
		    r->charger_readback_calibration },
	};

	for (int st = 0; st < SETTING_COUNT; st++) {
		char (*w)[PROFILE_WORD_MAX] = s->inverter.readback[st];

		for (int v = 0; v < VALUE_COUNT; v++) {
			const char *t = raw[st][v];
			size_t n;

			if (t == NULL)
				continue;
			n = strlen(t);
			if (n == 0 || t[0] == ' ' || t[n - 1] == ' ' ||
			    n >= sizeof(w[v]))
				return ycfg_fail(c, keys[st][v], "\"%s\": not "
				    "a readback word", t);
			(void)strlcpy(w[v], t, sizeof(w[v]));
		}
		if (w[0][0] != '\0' && strcmp(w[0], w[1]) == 0)
			return ycfg_fail(c, keys[st][VALUE_CALIBRATION],
			    "must differ from the everyday readback");
	}
	return 0;
}

static int
load_inverter(struct ycfg *c, const struct raw_inverter *r, struct scenario *s)
{
	if (ycfg_bool(c, "inverter.grid", r->grid, &s->inverter.grid) == -1 ||
	    ycfg_double(c, "inverter.max_charge_a", r->max_charge_a, 1, 2000,
	    &s->inverter.max_charge_a) == -1 ||
	    ycfg_double(c, "inverter.bulk_v", r->bulk_v, 10, 1000,
	    &s->inverter.bulk_v) == -1 ||
	    ycfg_double(c, "inverter.float_v", r->float_v, 10, 1000,
	    &s->inverter.float_v) == -1 ||
	    ycfg_double(c, "inverter.absorption_max_s", r->absorption_max_s, 1, 86400,
	    &s->inverter.absorption_max_s) == -1 ||
	    ycfg_double(c, "inverter.rebulk_v", r->rebulk_v, 10, 1000,
	    &s->inverter.rebulk_v) == -1 ||
	    ycfg_double(c, "inverter.critical_v", r->critical_v, 10, 1000,
	    &s->inverter.critical_v) == -1 ||
	    ycfg_double(c, "inverter.critical_recover_v", r->critical_recover_v, 10,
	    1000, &s->inverter.critical_recover_v) == -1 ||
	    ycfg_double(c, "inverter.cutoff_v", r->cutoff_v, 10, 1000,
	    &s->inverter.cutoff_v) == -1 ||
	    ycfg_double(c, "inverter.apply_delay_s", r->apply_delay_s, 0, 86400,
	    &s->inverter.apply_delay_s) == -1 ||
	    ycfg_bool(c, "inverter.fault86_latch", r->fault86_latch,
	    &s->inverter.fault86_latch) == -1 ||
	    onum(c, "inverter.fault86_after_s", r->fault86_after_s, 0, 3600, 0,
	    &s->inverter.fault86_after_s) == -1 ||
	    setting_value(c, "inverter.output_priority", r->output_priority,
	    &s->inverter.initial[SETTING_OUTPUT_PRIORITY]) == -1 ||
	    setting_value(c, "inverter.charger_priority", r->charger_priority,
	    &s->inverter.initial[SETTING_CHARGER_PRIORITY]) == -1)
		return -1;
	if (load_readbacks(c, r, s) == -1)
		return -1;
	if (s->inverter.float_v >= s->inverter.bulk_v)
		return ycfg_fail(c, "inverter.float_v", "must be below "
		    "inverter.bulk_v");
	if (s->inverter.cutoff_v >= s->inverter.critical_v ||
	    s->inverter.critical_v >= s->inverter.critical_recover_v)
		return ycfg_fail(c, "inverter.critical_v", "need cutoff_v < "
		    "critical_v < critical_recover_v");
	return 0;
}

static int
load_solar(struct ycfg *c, const struct raw_solar *r, struct scenario *s)
{
	char key[64];

	if (ycfg_double(c, "solar.peak_w", r->peak_w, 0, 50000, &s->solar.peak_w) ==
	    -1 || ycfg_double(c, "solar.clouds", r->clouds, 0, 1,
	    &s->solar.clouds) == -1)
		return -1;
	s->solar.npoints = (int)r->irradiance_count;
	for (int i = 0; i < s->solar.npoints; i++) {
		if (ycfg_double(c, KEY(key, "solar.irradiance[%d].t_s", i),
		    r->irradiance[i].t_s, 0, 1e7, &s->solar.t_s[i]) == -1 ||
		    ycfg_double(c, KEY(key, "solar.irradiance[%d].level", i),
		    r->irradiance[i].level, 0, 1.2, &s->solar.level[i]) == -1)
			return -1;
		if (i > 0 && s->solar.t_s[i] <= s->solar.t_s[i - 1])
			return ycfg_fail(c, key, "times must increase");
	}
	return 0;
}

static int
load_packs(struct ycfg *c, const struct raw_scenario *r,
    const struct profile *pf, struct scenario *s)
{
	char key[64];

	if ((int)r->packs_count != pf->packs)
		return ycfg_fail(c, "packs", "%u packs, but the profile %s has %d",
		    r->packs_count, pf->path, pf->packs);
	s->npacks = (int)r->packs_count;
	for (int i = 0; i < s->npacks; i++) {
		const struct raw_pack *rp = &r->packs[i];
		struct sc_pack *p = &s->packs[i];

		if (ycfg_double(c, KEY(key, "packs[%d].capacity_ah", i),
		    rp->capacity_ah, 1, 10000, &p->capacity_ah) == -1 ||
		    ycfg_double(c, KEY(key, "packs[%d].soc_pct", i), rp->soc_pct, 0,
		    100, &p->soc_pct) == -1 ||
		    ycfg_double(c, KEY(key, "packs[%d].bms_offset_pct", i),
		    rp->bms_offset_pct, -100, 100, &p->bms_offset_pct) == -1 ||
		    ycfg_double(c, KEY(key, "packs[%d].bms_gain_error_pct", i),
		    rp->bms_gain_error_pct, -50, 50,
		    &p->bms_gain_error_pct) == -1 ||
		    ycfg_double(c, KEY(key, "packs[%d].r_mohm", i), rp->r_mohm, 0.1,
		    10000, &p->r_mohm) == -1 ||
		    ycfg_double(c, KEY(key, "packs[%d].imbalance_pct", i),
		    rp->imbalance_pct, 0, 50, &p->imbalance_pct) == -1 ||
		    ycfg_double(c, KEY(key, "packs[%d].temp_c", i), rp->temp_c, -40,
		    90, &p->temp_c) == -1 ||
		    onum(c, KEY(key, "packs[%d].voltage_offset_v", i),
		    rp->voltage_offset_v, -1, 1, 0, &p->voltage_offset_v) == -1)
			return -1;
	}
	return 0;
}

/* ---- faults ---- */

static const char *const kind_names[FK_COUNT] = {
	"cell_offset", "cell_ramp", "temp_ramp", "protection", "silence",
	"garbage", "ignore_control", "nak", "one_unit", "slow_apply",
	"no_anchor", "solar_collapse", "retain",
};
static const char *const trigger_names[FT_COUNT] = {
	"start", "time", "grid_charging", "calibration_settings", "absorption",
};

const char *
fault_kind_name(enum fault_kind k)
{
	return (unsigned)k < FK_COUNT ? kind_names[k] : "?";
}

const char *
fault_trigger_name(enum fault_trigger t)
{
	return (unsigned)t < FT_COUNT ? trigger_names[t] : "?";
}

/* Which optional keys each kind takes; R_ = required. */
enum {
	O_PACK = 1 << 0, O_UNIT = 1 << 1, O_FIELD = 1 << 2, O_VALUE = 1 << 3,
	O_RATE = 1 << 4, O_LIMIT = 1 << 5, O_COUNT = 1 << 6,
	O_SETTING = 1 << 7, O_PAYLOADS = 1 << 8,
	R_PACK = 1 << 9, R_UNIT = 1 << 10, R_FIELD = 1 << 11,
	R_VALUE = 1 << 12, R_RATE = 1 << 13, R_PAYLOADS = 1 << 14,
	R_TARGET = 1 << 15	/* exactly one of pack, unit */
};

static const unsigned kind_keys[FK_COUNT] = {
	[FK_CELL_OFFSET] = R_PACK | R_VALUE,
	[FK_CELL_RAMP] = R_PACK | R_RATE | O_LIMIT,
	[FK_TEMP_RAMP] = O_PACK | O_FIELD | R_RATE | O_LIMIT,
	[FK_PROTECTION] = R_PACK | R_VALUE,
	[FK_SILENCE] = R_TARGET | O_PACK | O_UNIT | O_FIELD,
	[FK_GARBAGE] = R_TARGET | O_PACK | O_UNIT | R_FIELD | R_PAYLOADS |
	    O_COUNT,
	[FK_IGNORE_CONTROL] = O_UNIT | O_COUNT | O_SETTING,
	[FK_NAK] = O_UNIT | O_COUNT | O_SETTING,
	[FK_ONE_UNIT] = R_UNIT | O_COUNT | O_SETTING,
	[FK_SLOW_APPLY] = O_UNIT | R_VALUE | O_COUNT | O_SETTING,
	[FK_NO_ANCHOR] = R_PACK,
	[FK_SOLAR_COLLAPSE] = O_VALUE,
	[FK_RETAIN] = O_PACK | O_UNIT | O_FIELD,
};

static int
check_key(struct ycfg *c, const char *base, const char *name, const void *v,
    unsigned keys, unsigned opt, unsigned req, const char *kind)
{
	char key[64];

	(void)snprintf(key, sizeof(key), "%s.%s", base, name);
	if (v == NULL && (keys & req))
		return ycfg_fail(c, key, "required by kind %s", kind);
	if (v != NULL && !(keys & (opt | req)))
		return ycfg_fail(c, key, "not used by kind %s", kind);
	return 0;
}

static int
field_index(const struct profile *pf, const char *name, bool unit)
{
	int n = unit ? UF_COUNT : pack_nfields(pf);

	for (int f = 0; f < n; f++)
		if (strcmp(name, unit ? unit_field_name(f) :
		    pack_field_name(pf, f)) == 0)
			return f;
	return -1;
}

static int
load_fault(struct ycfg *c, int i, const struct raw_fault *r,
    const struct profile *pf, struct sc_fault *f)
{
	char base[32], key[64];
	unsigned keys;
	int64_t v;
	int k;
	const char *kn;

	(void)snprintf(base, sizeof(base), "faults[%d]", i);
	memset(f, 0, sizeof(*f));
	f->pack = f->unit = f->field = f->setting = -1;
	for (k = 0; k < FK_COUNT; k++)
		if (strcmp(r->kind, kind_names[k]) == 0)
			break;
	if (k == FK_COUNT)
		return ycfg_fail(c, KEY(key, "%s.kind", base), "unknown kind \"%s\"",
		    r->kind);
	f->kind = (enum fault_kind)k;
	kn = kind_names[k];
	keys = kind_keys[k];
	if (check_key(c, base, "pack", r->pack, keys, O_PACK, R_PACK, kn) ||
	    check_key(c, base, "unit", r->unit, keys, O_UNIT, R_UNIT, kn) ||
	    check_key(c, base, "field", r->field, keys, O_FIELD, R_FIELD, kn) ||
	    check_key(c, base, "value", r->value, keys, O_VALUE, R_VALUE, kn) ||
	    check_key(c, base, "rate_per_min", r->rate_per_min, keys, O_RATE,
	    R_RATE, kn) ||
	    check_key(c, base, "limit", r->limit, keys, O_LIMIT, 0, kn) ||
	    check_key(c, base, "count", r->count, keys, O_COUNT, 0, kn) ||
	    check_key(c, base, "setting", r->setting, keys, O_SETTING, 0, kn) ||
	    check_key(c, base, "payloads", r->payloads, keys, O_PAYLOADS,
	    R_PAYLOADS, kn))
		return -1;
	if ((keys & R_TARGET) && (r->pack == NULL) == (r->unit == NULL))
		return ycfg_fail(c, base, "kind %s needs exactly one of pack, unit",
		    kn);

	/* trigger */
	f->trigger = FT_START;
	if (r->trigger != NULL) {
		int t;

		for (t = 0; t < FT_COUNT; t++)
			if (strcmp(r->trigger, trigger_names[t]) == 0)
				break;
		if (t == FT_COUNT)
			return ycfg_fail(c, KEY(key, "%s.trigger", base),
			    "unknown trigger \"%s\"", r->trigger);
		f->trigger = (enum fault_trigger)t;
	}
	if ((f->trigger == FT_TIME) != (r->at_s != NULL))
		return ycfg_fail(c, KEY(key, "%s.at_s", base), "at_s goes with "
		    "trigger: time, and only with it");
	if (onum(c, KEY(key, "%s.at_s", base), r->at_s, 0, 1e7, 0,
	    &f->at_s) == -1 ||
	    onum(c, KEY(key, "%s.delay_s", base), r->delay_s, 0, 1e7, 0,
	    &f->delay_s) == -1 ||
	    onum(c, KEY(key, "%s.duration_s", base), r->duration_s, 0, 1e7, 0,
	    &f->duration_s) == -1)
		return -1;

	if (r->pack != NULL) {
		if (ycfg_int(c, KEY(key, "%s.pack", base), r->pack, 1, pf->packs,
		    &v) == -1)
			return -1;
		f->pack = (int)v - 1;
	}
	if (r->unit != NULL) {
		if (ycfg_int(c, KEY(key, "%s.unit", base), r->unit, 1, pf->units,
		    &v) == -1)
			return -1;
		f->unit = (int)v - 1;
	}
	if (r->field != NULL &&
	    (f->field = field_index(pf, r->field, f->unit >= 0)) == -1)
		return ycfg_fail(c, KEY(key, "%s.field", base), "\"%s\" is not a "
		    "%s field of the profile", r->field,
		    f->unit >= 0 ? "unit" : "pack");
	/* temp_ramp heats one sensor (a name of pack_fields.temperatures) */
	if (f->kind == FK_TEMP_RAMP && r->field != NULL &&
	    !pack_field_is_temp(f->field))
		return ycfg_fail(c, KEY(key, "%s.field", base), "\"%s\" is not a "
		    "temperature sensor of the profile", r->field);
	if (r->setting != NULL) {
		for (int s = 0; s < SETTING_COUNT; s++)
			if (strcmp(r->setting, setting_name(s)) == 0)
				f->setting = s;
		if (f->setting == -1)
			return ycfg_fail(c, KEY(key, "%s.setting", base),
			    "\"%s\": expected output_priority or "
			    "charger_priority", r->setting);
	}
	if (r->count != NULL) {
		if (ycfg_int(c, KEY(key, "%s.count", base), r->count, 1,
		    1000000, &f->count) == -1)
			return -1;
	}
	if (r->rate_per_min != NULL && ycfg_double(c, KEY(key, "%s.rate_per_min", base),
	    r->rate_per_min, -100, 100, &f->rate_per_min) == -1)
		return -1;
	if (onum(c, KEY(key, "%s.limit", base), r->limit, 0, 1000,
	    f->kind == FK_CELL_RAMP ? 1.0 : 100.0, &f->limit) == -1)
		return -1;
	KEY(key, "%s.value", base);
	switch (f->kind) {
	case FK_CELL_OFFSET:
		if (ycfg_double(c, key, r->value, -1, 20, &f->value) == -1)
			return -1;
		break;
	case FK_PROTECTION: {
		const char *why;

		if (parse_flags(r->value, &f->bits, &why) == -1)
			return ycfg_fail(c, key, "\"%s\": %s (decimal or 0x...)",
			    r->value, why);
		if (f->bits == 0)
			return ycfg_fail(c, key, "no bit set");
		break;
	}
	case FK_SLOW_APPLY:
		if (ycfg_double(c, key, r->value, 0, 1e6, &f->value) == -1)
			return -1;
		break;
	case FK_SOLAR_COLLAPSE:
		if (onum(c, key, r->value, 0, 1, 0, &f->value) == -1)
			return -1;
		break;
	default:
		break;
	}
	f->npayloads = (int)r->payloads_count;
	for (int p = 0; p < f->npayloads; p++)
		(void)strlcpy(f->payloads[p], r->payloads[p],
		    sizeof(f->payloads[p]));
	return 0;
}

/* ---- public ---- */

int
scenario_load(const char *path, const struct profile *pf, struct scenario *s,
    char *err, size_t errsz)
{
	struct raw_scenario *r = NULL;
	struct ycfg c;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	ycfg_init(&c, path, err, errsz);
	if (strlcpy(s->path, path, sizeof(s->path)) >= sizeof(s->path))
		return ycfg_fail(&c, NULL, "path too long");
	if (ycfg_load(&c, &top_schema, (void **)&r, SC_FILE_MAX) == -1)
		goto out;
	if (strlcpy(s->name, r->name, sizeof(s->name)) >= sizeof(s->name)) {
		(void)ycfg_fail(&c, "name", "too long");
		goto out;
	}
	if (onum(&c, "duration_s", r->duration_s, 0, 1e8, 0,
	    &s->duration_s) == -1 ||
	    load_physics(&c, r, s) == -1 ||
	    load_inverter(&c, r->inverter, s) == -1 ||
	    load_solar(&c, r->solar, s) == -1 ||
	    load_packs(&c, r, pf, s) == -1)
		goto out;
	s->nfaults = (int)r->faults_count;
	for (int i = 0; i < s->nfaults; i++)
		if (load_fault(&c, i, &r->faults[i], pf, &s->faults[i]) == -1)
			goto out;
	rc = 0;
out:
	ycfg_free(&c, &top_schema, r);
	return rc;
}
