/*
 * Profile loader: the reference profile loads; each malformed variant is
 * refused with an error that names the file, the key path and the line.
 * Variants are made from the reference profile by one textual edit, so they
 * stay valid in every other respect as the profile evolves.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profile.h"

#define REFERENCE	"../../profiles/eg4-lp4-v2.yaml"

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_gt(n, 0);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

/* Writes the reference with `find` replaced by `repl` (must occur once). */
static void
write_variant(const char *path, const char *find, const char *repl)
{
	char *ref = slurp(REFERENCE), *hit;
	FILE *f;

	hit = strstr(ref, find);
	ck_assert_msg(hit != NULL, "fixture text not in reference: %s", find);
	ck_assert_msg(strstr(hit + 1, find) == NULL, "ambiguous: %s", find);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%.*s%s%s", (int)(hit - ref), ref, repl, hit + strlen(find));
	ck_assert_int_eq(fclose(f), 0);
	free(ref);
}

START_TEST(reference_loads)
{
	struct profile pf;
	char err[PROFILE_ERR_MAX];

	ck_assert_msg(profile_load(REFERENCE, &pf, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_int_eq(pf.packs, 6);
	ck_assert_int_eq(pf.units, 2);
	ck_assert_double_eq_tol(pf.limits.abort_cell_v, 3.60, 1e-9);
	ck_assert_double_eq_tol(pf.limits.bulk_v, 56.4, 1e-9);
	ck_assert_int_eq(pf.timing.heartbeat_interval_ms, 1000);
	ck_assert_int_eq(pf.timing.absorption_hold_ms, 1800000);
	ck_assert_str_eq(pf.control[SETTING_OUTPUT_PRIORITY].value[VALUE_EVERYDAY],
	    "solar_battery_utility");
	ck_assert_str_eq(pf.control[SETTING_CHARGER_PRIORITY].value[VALUE_CALIBRATION],
	    "solar_and_utility");
	ck_assert_int_eq(profile_readback_value(&pf, SETTING_OUTPUT_PRIORITY,
	    "SUB"), VALUE_CALIBRATION);
	ck_assert_int_eq(profile_readback_value(&pf, SETTING_OUTPUT_PRIORITY,
	    "USB"), -1);
	ck_assert(profile_is_grid_mode(&pf, "Hybrid"));
	ck_assert(profile_is_fault_mode(&pf, "Fault"));
	ck_assert(!profile_is_grid_mode(&pf, "Battery"));
	ck_assert_int_eq(strlen(pf.digest_hex), 64);
	ck_assert(pf.pack_field[PF_PROTECTION].empty_is_zero);
	ck_assert_double_eq_tol(pf.limits.verify_reanchor_pct, 100, 1e-9);
	ck_assert(pf.limits.pre_temp_max_c < pf.limits.abort_temp_max_c);
}
END_TEST

START_TEST(fahrenheit_and_millivolts)
{
	struct profile pf;
	char err[PROFILE_ERR_MAX];
	const char *path = "/tmp/gridcal-unit-profile-units.yaml";

	write_variant(path, "lifepower4_{i}_temperature_pcb/state\n      unit: C",
	    "lifepower4_{i}_temperature_pcb/state\n      unit: F");
	ck_assert_msg(profile_load(path, &pf, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(pf.pack_field[PF_TEMP].unit, FU_FAHRENHEIT);
	ck_assert(profile_temp_fahrenheit(&pf));
	unlink(path);
}
END_TEST

/* The reference's temperature list, and one more sensor for it. */
#define LIST	"  temperatures:\n"
#define REFLIST	LIST "    - name: temperature_pcb\n      topic: homeassistant/" \
	"sensor/lifepower4_{i}_temperature_pcb/state\n      unit: C\n" \
	"      min: -40\n      max: 120\n    - name: temperature_cell\n" \
	"      topic: homeassistant/sensor/lifepower4_{i}_temperature_cell/" \
	"state\n      unit: C\n      min: -40\n      max: 120\n"
#define SENSOR(n) "    - topic: t/{i}/t" #n "\n      unit: C\n" \
	"      min: -40\n      max: 120\n"

struct bad_case {
	const char	*find, *repl;
	const char	*expect;	/* substring of the error */
};

static const struct bad_case bad_cases[] = {
	{ "  port: 1883", "  port: 12abc", ":15: broker.port: \"12abc\": not an integer" },
	{ "  packs: 6", "  packs: 010", "bank.packs: \"010\": leading zero" },
	{ "bulk_voltage_v: 56.4", "bulk_voltage_v: nan", "limits.absorption.bulk_voltage_v: \"nan\"" },
	{ "bulk_voltage_v: 56.4", "bulk_voltage_v: .inf", "limits.absorption.bulk_voltage_v" },
	{ "  keepalive_s: 30", "  keepalive_s: 30\n  bogus: 1", ":16: broker.bogus: unknown key" },
	{ "  keepalive_s: 30", "  keepalive_s: 30\n  tls_cert: /etc/c.crt",
	  "broker.tls_cert: tls_cert and tls_key go together" },
	{ "  keepalive_s: 30", "  keepalive_s: 30\n  tls_cert: /c\n  tls_key: /k",
	  "broker.tls_cert: a client certificate needs broker.tls_ca" },
	{ "  keepalive_s: 30", "  keepalive_s: 30\n  tls_ca: ca.crt",
	  "broker.tls_ca: \"ca.crt\": must be an absolute path" },
	/* what the pack, the BMS and the charger decide has no default */
	{ "    bulk_voltage_v: 56.4\n", "", "limits.absorption.bulk_voltage_v: missing required key" },
	{ "  host: 127.0.0.1\n", "", "broker.host: missing required key" },
	{ "  heartbeat_timeout_s: 10\n", "  heartbeat_timeout_s: 10\n  heartbeat_timeout: 10\n",
	  "timing.heartbeat_timeout: unknown key" },
	{ "  cell_voltage_max_v: 3.60", "  cell_voltage_max_v: 3.70",
	  "limits.abort.cell_voltage_max_v: 3.700 V must be below limits.bms.cell_protect_v" },
	{ "    temperature_min_c: 5\n", "    temperature_min_c: 46\n",
	  "limits.preflight.temperature_min_c: must be below" },
	{ "heartbeat_timeout_s: 10", "heartbeat_timeout_s: 1",
	  "timing.heartbeat_timeout_s: must be at least twice" },
	{ "  units: 2", "  units: 5", "bank.units: \"5\": out of range" },
	{ "  units: 2", "  units: [2]", "bank.units: Expecting STRING" },
	{ "    unit: \"%\"", "    unit: V", "pack_fields.soc.unit: \"V\": not a unit" },
	{ "lifepower4_{i}_soc/state", "lifepower4_soc/state",
	  "pack_fields.soc.topic: \"homeassistant/sensor/lifepower4_soc/state\": must contain {i}" },
	{ "lifepower4_{i}_soc/state", "lifepower4_{i}_+/state", "wildcards" },
	{ "    calibration: solar_utility_battery", "    calibration: solar_battery_utility",
	  "control.output_priority.calibration: must differ" },
	{ "  supervisor_user: gridcal", "  supervisor_user: root",
	  "paths.supervisor_user: the supervisor never runs as root" },
	{ "  state_dir: /var/lib/gridcal", "  state_dir: var/lib/gridcal",
	  "paths.state_dir: \"var/lib/gridcal\": must be an absolute path" },
	{ "    temperature_min_c: 0\n", "    temperature_min_c: -5\n",
	  "limits.abort.temperature_min_c: \"-5\": out of range" },
	{ "site: eg4-lp4-v2\n\nbroker:\n  host: 127.0.0.1",
	  "site: &a eg4-lp4-v2\n\nbroker:\n  host: *a", "alias" },
	{ "  fault_modes: [Fault]", "  fault_modes: [Line]", "readback.fault_modes: \"Line\" is also a grid mode" },
	{ "    empty_is_zero: true", "    empty_is_zero: yes", "pack_fields.protection.empty_is_zero: \"yes\"" },
	{ "    unit: mV\n    min: 0\n    max: 1500", "    unit: mV\n    min: 1500\n    max: 0",
	  "pack_fields.cell_voltage_delta_mv.max: max must be above min" },
	{ "  alarm_topic: gridcal/alarm", "  alarm_topic: solar/control/lvx6048/output_priority",
	  "topic \"solar/control/lvx6048/output_priority\" is used twice" },
	{ "  stale_s: 120", "  stale_s: 30", "limits.envelope.stale_s: must be above" },
	{ "site: eg4-lp4-v2", "site: eg4-lp4-v2\nsite: again", "Mapping field already seen" },
	/* a pack let in at the abort temperature aborts as soon as it warms */
	{ "    temperature_max_c: 40\n", "    temperature_max_c: 45\n",
	  "limits.preflight.temperature_max_c: 45.0 C must be below "
	  "limits.abort.temperature_max_c (45.0 C)" },
	{ "    temperature_max_c: 40\n", "    temperature_max_c: 47\n",
	  "limits.preflight.temperature_max_c: 47.0 C must be below" },
	/* 99 % is where a BMS holds before its termination */
	{ "reanchor_pct: 100", "reanchor_pct: 99",
	  "limits.verify.reanchor_pct: 99.0 % is not a re-anchor" },
	{ "reanchor_pct: 100", "reanchor_pct: 100.5",
	  "limits.verify.reanchor_pct: \"100.5\": out of range" },
	{ "soc_min_pct: 99\n", "soc_min_pct: 99.8\n    bogus_pct: 1\n",
	  "limits.verify.bogus_pct: unknown key" },
	/* payload formats, scale and sign */
	{ "    unit: \"%\"", "    unit: \"%\"\n    format: json",
	  "pack_fields.soc.pointer: format json needs a JSON pointer" },
	{ "    unit: \"%\"", "    unit: \"%\"\n    pointer: /value",
	  "pack_fields.soc.pointer: only with format json" },
	{ "    unit: \"%\"", "    unit: \"%\"\n    format: xml",
	  "pack_fields.soc.format: \"xml\": must be text or json" },
	{ "    unit: \"%\"", "    unit: \"%\"\n    format: json\n    pointer: value",
	  "pack_fields.soc.pointer: \"value\": not a JSON pointer" },
	{ "    unit: \"%\"", "    unit: \"%\"\n    format: json\n    pointer: /a~2",
	  "pack_fields.soc.pointer: \"/a~2\": not a JSON pointer" },
	{ "device_mode/state\n    unit: text", "device_mode/state\n    unit: text\n    scale: 2",
	  "unit_fields.device_mode.scale: scale and sign are only for numeric fields" },
	{ "    unit: \"%\"", "    unit: \"%\"\n    sign: 0",
	  "pack_fields.soc.sign: must be 1 or -1" },
	{ "    unit: \"%\"", "    unit: \"%\"\n    sign: 2", "pack_fields.soc.sign: \"2\": out of range" },
	{ "    unit: \"%\"", "    unit: \"%\"\n    scale: 0", "pack_fields.soc.scale: \"0\": out of range" },
	{ "    unit: \"%\"", "    unit: \"%\"\n    scale: 1x", "pack_fields.soc.scale: \"1x\"" },
	/* temperatures: a list of 1..8 sensors (issue 19) */
	{ REFLIST, "  temperatures: []\n", "pack_fields.temperatures: 0 sensors: "
	  "a list of 1 to 8" },
	{ LIST, LIST SENSOR(3) SENSOR(4) SENSOR(5) SENSOR(6) SENSOR(7)
	  SENSOR(8) SENSOR(9), ":75: pack_fields.temperatures: 9 sensors: "
	  "a list of 1 to 8" },
	{ REFLIST, "  temperatures:\n", "pack_fields.temperatures: Expecting "
	  "SEQUENCE" },
	{ REFLIST, "  temperatures: 25\n", "pack_fields.temperatures: Expecting "
	  "SEQUENCE" },
	{ "cell/state\n      unit: C", "cell/state\n      unit: K",
	  ":83: pack_fields.temperatures[1].unit: \"K\": not a unit" },
	{ "cell/state\n      unit: C", "cell/state\n      unit: V",
	  "pack_fields.temperatures[1].unit: \"V\": not a unit" },
	{ "    - name: temperature_cell\n", "    - name: soc\n",
	  ":81: pack_fields.temperatures[1].name: \"soc\" names another "
	  "pack field too" },
	{ "    - name: temperature_cell\n", "    - name: temperature_pcb\n",
	  "pack_fields.temperatures[1].name: \"temperature_pcb\" names "
	  "another pack field too" },
	{ "    - name: temperature_cell\n", "    - name: cell mid\n",
	  "pack_fields.temperatures[1].name: \"cell mid\": letters, digits" },
	{ "    - name: temperature_cell\n", "    - name: temperature_cell\n"
	  "      emtpy: 1\n", "pack_fields.temperatures.emtpy: unknown key" },
	{ "lifepower4_{i}_temperature_cell/state", "lifepower4_temperature_cell"
	  "/state", "pack_fields.temperatures[1].topic: \"homeassistant/sensor/"
	  "lifepower4_temperature_cell/state\": must contain {i}" },
	{ "cell/state\n      unit: C\n      min: -40\n      max: 120",
	  "cell/state\n      unit: C\n      min: -40", "pack_fields.temperatures[1]: "
	  "needs min and max" },
	/* the two fixed keys of the first schema: refused, naming the list */
	{ LIST, "  temperature_pcb:\n    topic: t/{i}/pcb\n    unit: C\n"
	  "    min: -40\n    max: 120\n" LIST, ":75: pack_fields.temperature_pcb: "
	  "replaced by pack_fields.temperatures, a list of 1 to 8 sensors" },
	{ LIST, "  temperature_cell:\n    topic: t/{i}/cell\n    unit: C\n"
	  "    min: -40\n    max: 120\n" LIST, "pack_fields.temperature_cell: "
	  "replaced by pack_fields.temperatures" },
	/* both: the first in the file is named, at its line */
	{ LIST, "  temperature_cell:\n    topic: t/{i}/cell\n    unit: C\n"
	  "  temperature_pcb:\n    topic: t/{i}/pcb\n    unit: C\n" LIST,
	  ":75: pack_fields.temperature_cell: replaced by" },
	/* named even when the load fails on something else first */
	{ LIST, "  soc_pct: [1]\n  temperature_pcb: 25\n" LIST,
	  ":76: pack_fields.temperature_pcb: replaced by" },
	/* per-unit control: both settings or neither */
	{ "    topic: solar/control/lvx6048/output_priority\n",
	  "    topic: solar/control/lvx6048_{u}/output_priority\n",
	  ":125: control.charger_priority.topic: control.output_priority.topic "
	  "is per unit ({u}) and control.charger_priority.topic is not: both "
	  "settings per unit or both for the whole cluster" },
	{ "    topic: solar/control/lvx6048/charger_priority\n",
	  "    topic: solar/control/lvx6048_{u}/charger_priority\n",
	  "control.charger_priority.topic is per unit ({u}) and "
	  "control.output_priority.topic is not" },
	{ "    topic: solar/control/lvx6048/charger_priority\n",
	  "    topic: solar/control/lvx6048_{i}/charger_priority\n",
	  "control.charger_priority.topic: \"solar/control/lvx6048_{i}/"
	  "charger_priority\": no placeholder allowed here" },
	{ "    topic: solar/control/lvx6048/charger_priority\n",
	  "    topic: solar/control/lvx6048_{u}/{u}/charger_priority\n",
	  "control.charger_priority.topic: \"solar/control/lvx6048_{u}/{u}/"
	  "charger_priority\": must contain {u} exactly once" },
};

START_TEST(malformed_refused)
{
	const struct bad_case *bc = &bad_cases[_i];
	struct profile pf;
	char err[PROFILE_ERR_MAX], path[64];

	(void)snprintf(path, sizeof(path), "/tmp/gridcal-unit-bad-%d.yaml", _i);
	write_variant(path, bc->find, bc->repl);
	ck_assert_msg(profile_load(path, &pf, err, sizeof(err)) == -1,
	    "case %d accepted", _i);
	ck_assert_msg(strncmp(err, path, strlen(path)) == 0,
	    "case %d: error does not name the file: %s", _i, err);
	ck_assert_msg(strstr(err, bc->expect) != NULL,
	    "case %d: expected \"%s\" in: %s", _i, bc->expect, err);
	unlink(path);
}
END_TEST

/* limits.verify.reanchor_pct: 100 when absent; never below soc_min_pct. */
START_TEST(reanchor_default_and_order)
{
	struct profile pf;
	char err[PROFILE_ERR_MAX];
	const char *path = "/tmp/gridcal-unit-profile-reanchor.yaml";

	write_variant(path, "    reanchor_pct: 100\n", "");
	ck_assert_msg(profile_load(path, &pf, err, sizeof(err)) == 0, "%s", err);
	ck_assert_double_eq_tol(pf.limits.verify_reanchor_pct, 100, 1e-9);
	write_variant(path, "    reanchor_pct: 100\n",
	    "    reanchor_pct: 99.5\n");
	ck_assert_msg(profile_load(path, &pf, err, sizeof(err)) == 0, "%s", err);
	ck_assert_double_eq_tol(pf.limits.verify_reanchor_pct, 99.5, 1e-9);
	write_variant(path, "    soc_min_pct: 99\n", "    soc_min_pct: 100\n");
	ck_assert_msg(profile_load(path, &pf, err, sizeof(err)) == 0, "%s", err);
	/* soc_min_pct 100 with the default re-anchor value of 100: fine;
	 * a re-anchor value below the verify minimum is refused */
	write_variant(path, "    soc_min_pct: 99\n"
	    "    # PASS needs every pack's counter at this value (or seen "
	    "jumping to\n"
	    "    # it during the hold): the BMS holds at 99 until a real "
	    "termination\n"
	    "    reanchor_pct: 100\n",
	    "    soc_min_pct: 99.8\n    reanchor_pct: 99.5\n");
	ck_assert_int_eq(profile_load(path, &pf, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "limits.verify.reanchor_pct: 99.5 % must be "
	    "at least limits.verify.soc_min_pct (99.8 %)") != NULL, "%s", err);
	unlink(path);
}
END_TEST

/*
 * Optional keys: a site profile may leave out the timing section, the
 * pre-flight limits and the broker's port and keepalive; the loader then
 * uses the reference site's values (the documented defaults), and says so
 * only with -v. Unknown keys stay refused (malformed_refused).
 */
START_TEST(defaults_for_optional_keys)
{
	static struct profile ref, pf;
	char err[PROFILE_ERR_MAX], *text, *cut, *pre, *end;
	const char *path = "/tmp/gridcal-unit-profile-defaults.yaml";
	FILE *f;

	ck_assert_msg(profile_load(REFERENCE, &ref, err, sizeof(err)) == 0,
	    "%s", err);
	text = slurp(REFERENCE);
	ck_assert_ptr_nonnull(cut = strstr(text, "\ntiming:\n"));
	cut[1] = '\0';		/* timing is the last section */
	ck_assert_ptr_nonnull(pre = strstr(text, "  preflight:\n"));
	ck_assert_ptr_nonnull(end = strstr(pre, "  abort:\n"));
	memmove(pre, end, strlen(end) + 1);
	ck_assert_ptr_nonnull(cut = strstr(text, "  port: 1883\n"));
	memmove(cut, cut + 13, strlen(cut + 13) + 1);
	ck_assert_ptr_nonnull(cut = strstr(text, "  keepalive_s: 30\n"));
	memmove(cut, cut + 18, strlen(cut + 18) + 1);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	free(text);
	ck_assert_msg(profile_load(path, &pf, err, sizeof(err)) == 0, "%s", err);
	ck_assert_mem_eq(&pf.timing, &ref.timing, sizeof(pf.timing));
	ck_assert_mem_eq(&pf.limits, &ref.limits, sizeof(pf.limits));
	ck_assert_uint_eq(pf.broker_port, 1883);
	ck_assert_int_eq(pf.broker_keepalive_s, 30);
	/* a default still has to agree with the site's own values */
	ck_assert_ptr_nonnull(f = fopen(path, "a"));
	fputs("timing:\n  absorption_max_s: 60\n", f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(profile_load(path, &pf, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "timing.absorption_hold_s: must be below "
	    "timing.absorption_max_s") != NULL, "%s", err);
	unlink(path);
}
END_TEST

/*
 * Readbacks up to 63 characters (Solar Assistant's "Solar and utility
 * simultaneously" is 32), compared exactly unless control.*.case: fold.
 */
START_TEST(readback_long_and_case)
{
	static struct profile pf;
	char err[PROFILE_ERR_MAX];
	const char *path = "/tmp/gridcal-unit-profile-readback.yaml";
	const char *l63 = "Solar and utility simultaneously (grid charging, PV "
	    "first).....";

	ck_assert_uint_eq(strlen(l63), 63);
	write_variant(path, "  readback_calibration: Solar and utility\n",
	    "  readback_calibration: Solar and utility simultaneously\n");
	ck_assert_msg(profile_load(path, &pf, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(pf.control[SETTING_CHARGER_PRIORITY].readback[
	    VALUE_CALIBRATION], "Solar and utility simultaneously");
	ck_assert(!pf.control[SETTING_CHARGER_PRIORITY].fold);
	ck_assert_int_eq(profile_readback_value(&pf, SETTING_CHARGER_PRIORITY,
	    "Solar and utility simultaneously"), VALUE_CALIBRATION);
	ck_assert_int_eq(profile_readback_value(&pf, SETTING_CHARGER_PRIORITY,
	    "solar first"), -1);		/* exact by default */
	ck_assert_int_eq(profile_readback_value(&pf, SETTING_CHARGER_PRIORITY,
	    "Solar first"), VALUE_EVERYDAY);

	char repl[256];
	(void)snprintf(repl, sizeof(repl), "  readback_calibration: %s\n"
	    "    case: fold\n", l63);
	write_variant(path, "  readback_calibration: Solar and utility\n",
	    repl);
	ck_assert_msg(profile_load(path, &pf, err, sizeof(err)) == 0, "%s", err);
	ck_assert(pf.control[SETTING_CHARGER_PRIORITY].fold);
	ck_assert(!pf.control[SETTING_OUTPUT_PRIORITY].fold);
	ck_assert_int_eq(profile_readback_value(&pf, SETTING_CHARGER_PRIORITY,
	    "SOLAR FIRST"), VALUE_EVERYDAY);
	ck_assert_int_eq(profile_readback_value(&pf, SETTING_CHARGER_PRIORITY,
	    l63), VALUE_CALIBRATION);
	ck_assert_int_eq(profile_readback_value(&pf, SETTING_CHARGER_PRIORITY,
	    "Solar firs"), -1);
	ck_assert_int_eq(profile_readback_value(&pf, SETTING_OUTPUT_PRIORITY,
	    "sbu"), -1);			/* the other setting: exact */

	(void)snprintf(repl, sizeof(repl), "  readback_calibration: %sX\n", l63);
	write_variant(path, "  readback_calibration: Solar and utility\n",
	    repl);
	ck_assert_int_eq(profile_load(path, &pf, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "control.charger_priority."
	    "readback_calibration") != NULL, "%s", err);
	write_variant(path, "  readback_calibration: Solar and utility\n",
	    "  readback_calibration: SOLAR FIRST\n    case: fold\n");
	ck_assert_int_eq(profile_load(path, &pf, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "must differ from the everyday readback, "
	    "ignoring case") != NULL, "%s", err);
	write_variant(path, "  readback_calibration: Solar and utility\n",
	    "  readback_calibration: Solar and utility\n    case: Fold\n");
	ck_assert_int_eq(profile_load(path, &pf, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "control.charger_priority.case: \"Fold\": "
	    "must be exact or fold") != NULL, "%s", err);
	unlink(path);
}
END_TEST

/* The site profiles shipped beside the reference one load as they say. */
START_TEST(shipped_site_profiles)
{
	static struct profile pf;
	char err[PROFILE_ERR_MAX];

	ck_assert_msg(profile_load("../../profiles/solar-assistant.yaml", &pf,
	    err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(pf.units, 2);
	ck_assert_int_eq(pf.n_temps, 2);
	ck_assert_int_eq(pf.pack_field[PF_TEMP + 1].unit, FU_FAHRENHEIT);
	ck_assert_str_eq(pf.pack_field[PF_SOC].topic,
	    "solar_assistant/battery_{i}/state_of_charge/state");
	ck_assert(pf.control[SETTING_CHARGER_PRIORITY].fold);
	ck_assert_int_eq(profile_readback_value(&pf, SETTING_CHARGER_PRIORITY,
	    "solar and utility SIMULTANEOUSLY"), VALUE_CALIBRATION);
	ck_assert_int_eq(pf.timing.absorption_hold_ms, 1800000);  /* default */
	ck_assert_msg(profile_load("../../profiles/one-inverter.yaml", &pf,
	    err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(pf.units, 1);
	ck_assert_int_eq(pf.n_temps, 3);	/* three sensors per pack */
	ck_assert_str_eq(pack_field_name(&pf, PF_TEMP + 2), "temp_cells_mid");
	ck_assert_int_eq(pf.pack_field[PF_PACK_VOLTAGE].unit, FU_MILLIVOLT);
	ck_assert_int_eq(pf.unit_field[UF_PV_POWER].unit, FU_KILOWATT);
	ck_assert_int_eq(pf.timing.absorption_hold_ms, 2400000);  /* its own */
	ck_assert_int_eq(pf.timing.run_max_ms, 28800000);	  /* default */
	ck_assert_double_eq_tol(pf.limits.pre_temp_min_c, 10, 1e-9);
	ck_assert_double_eq_tol(pf.limits.pre_temp_max_c, 40, 1e-9);
}
END_TEST

/* format json with its pointer, scale and sign: loaded as written. */
START_TEST(payload_format_scale_sign)
{
	static struct profile pf;
	char err[PROFILE_ERR_MAX];
	const char *path = "/tmp/gridcal-unit-profile-format.yaml";

	ck_assert_msg(profile_load(REFERENCE, &pf, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_int_eq(pf.pack_field[PF_SOC].format, PL_TEXT);
	ck_assert_double_eq_tol(pf.pack_field[PF_SOC].scale, 1, 1e-12);
	ck_assert_int_eq(pf.pack_field[PF_SOC].sign, 1);
	write_variant(path, "    unit: A\n", "    unit: A\n    format: json\n"
	    "    pointer: /bms/current\n    scale: 0.1\n    sign: -1\n");
	ck_assert_msg(profile_load(path, &pf, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(pf.pack_field[PF_PACK_CURRENT].format, PL_JSON);
	ck_assert_str_eq(pf.pack_field[PF_PACK_CURRENT].pointer, "/bms/current");
	ck_assert_double_eq_tol(pf.pack_field[PF_PACK_CURRENT].scale, 0.1, 1e-12);
	ck_assert_int_eq(pf.pack_field[PF_PACK_CURRENT].sign, -1);
	unlink(path);
}
END_TEST

/* Writes the reference with each find[k] replaced by repl[k] (once each). */
static void
write_variants(const char *path, int n, const char *const *find,
    const char *const *repl)
{
	char *text = slurp(REFERENCE), *hit, *next;
	FILE *f;

	for (int k = 0; k < n; k++) {
		ck_assert_msg((hit = strstr(text, find[k])) != NULL, "%s",
		    find[k]);
		ck_assert_msg(strstr(hit + 1, find[k]) == NULL, "ambiguous: %s",
		    find[k]);
		ck_assert_ptr_nonnull(next = calloc(1, strlen(text) +
		    strlen(repl[k]) + 1));
		(void)sprintf(next, "%.*s%s%s", (int)(hit - text), text,
		    repl[k], hit + strlen(find[k]));
		free(text);
		text = next;
	}
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	free(text);
}

/*
 * pack_fields.temperatures: every sensor is a pack field of its own, after
 * the fixed ones, with its name (or temperature_N) and topic.
 */
START_TEST(temperature_list)
{
	static struct profile pf;
	char err[PROFILE_ERR_MAX];
	const char *path = "/tmp/gridcal-unit-profile-temps.yaml";

	ck_assert_msg(profile_load(REFERENCE, &pf, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_int_eq(pf.n_temps, 2);
	ck_assert_int_eq(pack_nfields(&pf), PF_TEMP + 2);
	ck_assert_str_eq(pack_field_name(&pf, PF_TEMP), "temperature_pcb");
	ck_assert_str_eq(pack_field_name(&pf, PF_TEMP + 1), "temperature_cell");
	ck_assert_str_eq(pack_field_name(&pf, PF_SOC), "soc");
	ck_assert_str_eq(pack_field_name(&pf, PF_TEMP + 2), "?");
	ck_assert(!profile_temp_fahrenheit(&pf));
	/* three sensors, the third unnamed and in F; eight is the most */
	write_variant(path, LIST, LIST "    - topic: t/{i}/mid\n      unit: F\n"
	    "      min: -40\n      max: 120\n");
	ck_assert_msg(profile_load(path, &pf, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(pf.n_temps, 3);
	ck_assert_str_eq(pack_field_name(&pf, PF_TEMP), "temperature_1");
	ck_assert_str_eq(pack_field_name(&pf, PF_TEMP + 1), "temperature_pcb");
	ck_assert_str_eq(pf.pack_field[PF_TEMP].topic, "t/{i}/mid");
	ck_assert_int_eq(pf.pack_field[PF_TEMP].unit, FU_FAHRENHEIT);
	ck_assert(profile_temp_fahrenheit(&pf));
	write_variant(path, LIST, LIST SENSOR(3) SENSOR(4) SENSOR(5) SENSOR(6)
	    SENSOR(7) SENSOR(8));
	ck_assert_msg(profile_load(path, &pf, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(pf.n_temps, 8);
	ck_assert_int_eq(pack_nfields(&pf), PF_COUNT);
	ck_assert_str_eq(pack_field_name(&pf, PF_COUNT - 1), "temperature_cell");
	/* one sensor is enough */
	write_variant(path, LIST "    - name: temperature_pcb\n"
	    "      topic: homeassistant/sensor/lifepower4_{i}_temperature_pcb/"
	    "state\n      unit: C\n      min: -40\n      max: 120\n", LIST);
	ck_assert_msg(profile_load(path, &pf, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(pf.n_temps, 1);
	ck_assert_str_eq(pack_field_name(&pf, PF_TEMP), "temperature_cell");
	unlink(path);
}
END_TEST

/*
 * control.*.topic with {u} in both: one topic per unit, every expanded one
 * distinct from the telemetry topics; the cluster form stays the default.
 */
START_TEST(per_unit_control)
{
	static struct profile pf;
	char err[PROFILE_ERR_MAX], t[PROFILE_TOPIC_MAX];
	const char *path = "/tmp/gridcal-unit-profile-perunit.yaml";
	const char *find[] = {
		"    topic: solar/control/lvx6048/output_priority\n",
		"    topic: solar/control/lvx6048/charger_priority\n",
	};
	const char *pu[] = {
		"    topic: solar/control/lvx6048_{u}/output_priority\n",
		"    topic: solar/control/lvx6048_{u}/charger_priority\n",
	};
	const char *dup[] = {
		"    topic: homeassistant/sensor/lvx6048_{u}_device_mode/state\n",
		"    topic: solar/control/lvx6048_{u}/charger_priority\n",
	};

	ck_assert_msg(profile_load(REFERENCE, &pf, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert(!pf.control_per_unit);
	write_variants(path, 2, find, pu);
	ck_assert_msg(profile_load(path, &pf, err, sizeof(err)) == 0, "%s", err);
	ck_assert(pf.control_per_unit);
	ck_assert_int_eq(topic_expand(pf.control[SETTING_CHARGER_PRIORITY].topic,
	    2, t, sizeof(t)), 0);
	ck_assert_str_eq(t, "solar/control/lvx6048_2/charger_priority");
	/* a unit's control topic is not also one of its telemetry topics */
	write_variants(path, 2, find, dup);
	ck_assert_int_eq(profile_load(path, &pf, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "topic \"homeassistant/sensor/lvx6048_1_"
	    "device_mode/state\" is used twice") != NULL, "%s", err);
	/* Solar Assistant's layout is per inverter */
	ck_assert_msg(profile_load("../../profiles/solar-assistant.yaml", &pf,
	    err, sizeof(err)) == 0, "%s", err);
	ck_assert(pf.control_per_unit);
	ck_assert_str_eq(pf.control[SETTING_OUTPUT_PRIORITY].topic,
	    "solar_assistant/inverter_{u}/output_source_priority/set");
	unlink(path);
}
END_TEST

START_TEST(empty_and_missing_files)
{
	struct profile pf;
	char err[PROFILE_ERR_MAX];
	const char *path = "/tmp/gridcal-unit-empty.yaml";
	FILE *f;

	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fclose(f);
	ck_assert_int_eq(profile_load(path, &pf, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "empty file"));
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("# a comment and nothing else\n", f);
	fclose(f);
	ck_assert_int_eq(profile_load(path, &pf, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "no document"));
	unlink(path);
	ck_assert_int_eq(profile_load("/nonexistent/profile.yaml", &pf, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/profile.yaml"));
}
END_TEST

Suite *profile_suite(void);

Suite *
profile_suite(void)
{
	Suite *s = suite_create("profile");
	TCase *tc = tcase_create("load");

	tcase_add_test(tc, reference_loads);
	tcase_add_test(tc, fahrenheit_and_millivolts);
	tcase_add_test(tc, reanchor_default_and_order);
	tcase_add_test(tc, defaults_for_optional_keys);
	tcase_add_test(tc, readback_long_and_case);
	tcase_add_test(tc, shipped_site_profiles);
	tcase_add_test(tc, payload_format_scale_sign);
	tcase_add_test(tc, temperature_list);
	tcase_add_test(tc, per_unit_control);
	tcase_add_loop_test(tc, malformed_refused, 0,
	    (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, empty_and_missing_files);
	suite_add_tcase(s, tc);
	return s;
}
