/*
 * The supervisor's judgements at their boundaries, on the reference
 * profile's limits: the pre-flight gates and classes (preflight.c), the
 * abort conditions, engage, taper and verify (monitor.c), fed through the
 * real telemetry store with the payloads a site publishes. The end-to-end
 * tests (test_supervisor.c) show the same code driving a real run.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor.h"
#include "preflight.h"
#include "profile.h"
#include "snapshot.h"
#include "telemetry.h"

Suite	*supervisor_logic_suite(void);

static struct profile pf;
static struct tm_store tm;
static struct snapshot sn;

/* A drifted but otherwise healthy bank: the calibration's target. */
static void
setup(void)
{
	char err[PROFILE_ERR_MAX];
	static const double soc[6] = { 51, 54, 50, 53, 55, 76 };

	ck_assert_msg(profile_load("profiles/eg4-lp4-v2.yaml", &pf, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(tm_init(&tm, &pf), 0);
	memset(&sn, 0, sizeof(sn));
	sn.packs = 6;
	sn.units = 2;
	sn.ntemps = 2;
	for (int p = 0; p < 6; p++) {
		sn.soc[p] = soc[p];
		sn.volt[p] = 53.40;
		sn.cell_max[p] = 3.337;
		sn.delta_mv[p] = 10;
		sn.temp[p][0] = sn.temp[p][1] = 21;
	}
	for (int u = 0; u < 2; u++) {
		(void)strlcpy(sn.mode[u], "Battery", sizeof(sn.mode[u]));
		(void)strlcpy(sn.out_prio[u], "SBU", sizeof(sn.out_prio[u]));
		(void)strlcpy(sn.chg_prio[u], "Solar first",
		    sizeof(sn.chg_prio[u]));
	}
	snapshot_derive(&sn);
}

static enum pre_class
classify(const char **code)
{
	static struct preflight r;

	snapshot_derive(&sn);
	preflight_classify(&pf, &sn, &r);
	*code = r.code;
	return r.cls;
}

#define ASSERT_CLASS(cls, code) do {					\
	const char *c_;							\
	ck_assert_int_eq(classify(&c_), (cls));				\
	ck_assert_str_eq(c_, (code));					\
} while (0)

START_TEST(pre_drift_is_the_target)
{
	ASSERT_CLASS(PRE_DRIFT, "drift");
}
END_TEST

START_TEST(pre_voltage_spread_boundary)
{
	sn.volt[2] = 53.50;	/* 0.1 V: still agreeing */
	ASSERT_CLASS(PRE_DRIFT, "drift");
	sn.volt[2] = 53.52;
	ASSERT_CLASS(PRE_IMBALANCE, "imbalance");
}
END_TEST

START_TEST(pre_soc_spread_boundary)
{
	sn.soc[5] = 55.0;	/* 50..55: spread 5 %, drift */
	ASSERT_CLASS(PRE_DRIFT, "drift");
	sn.soc[2] = 50.1;	/* 4.9 %: balanced */
	ASSERT_CLASS(PRE_BALANCED, "balanced");
}
END_TEST

START_TEST(pre_temperature_window)
{
	sn.temp[3][1] = 5.0;
	ASSERT_CLASS(PRE_DRIFT, "drift");
	sn.temp[3][1] = 4.9;
	ASSERT_CLASS(PRE_UNSAFE, "temperature");
	/* the pre-flight maximum (40 C) leaves a margin below the abort
	 * limit (45 C): a pack at 44 C is not let in to warm past it */
	sn.temp[3][1] = 40.0;
	ASSERT_CLASS(PRE_DRIFT, "drift");
	sn.temp[3][0] = 40.1;
	ASSERT_CLASS(PRE_UNSAFE, "temperature");
	sn.temp[3][0] = 44.0;
	ASSERT_CLASS(PRE_UNSAFE, "temperature");
}
END_TEST

START_TEST(pre_gates_before_classes)
{
	/* an unsafe bank is never called imbalanced or balanced */
	sn.volt[2] = 54.0;
	sn.prot[4] = 0x4;
	ASSERT_CLASS(PRE_UNSAFE, "protection");
	sn.prot[4] = 0;
	sn.delta_mv[1] = 50;	/* must be below 50 */
	ASSERT_CLASS(PRE_UNSAFE, "cell_delta");
	sn.delta_mv[1] = 49;
	sn.cell_max[0] = 3.60;	/* at the abort limit */
	ASSERT_CLASS(PRE_UNSAFE, "cell_high");
	sn.cell_max[0] = 3.40;
	ASSERT_CLASS(PRE_IMBALANCE, "imbalance");
}
END_TEST

START_TEST(pre_units_gate)
{
	(void)strlcpy(sn.mode[1], "Fault", sizeof(sn.mode[1]));
	ASSERT_CLASS(PRE_UNSAFE, "units");
	(void)strlcpy(sn.mode[1], "Battery", sizeof(sn.mode[1]));
	(void)strlcpy(sn.out_prio[0], "SUB", sizeof(sn.out_prio[0]));
	ASSERT_CLASS(PRE_UNSAFE, "units");
	(void)strlcpy(sn.out_prio[0], "SBU", sizeof(sn.out_prio[0]));
	(void)strlcpy(sn.chg_prio[1], "Solar and utility",
	    sizeof(sn.chg_prio[1]));
	ASSERT_CLASS(PRE_UNSAFE, "units");
}
END_TEST

/* ---- monitor: through the telemetry store ------------------------- */

static void
put(const char *obj, const char *payload, int64_t at)
{
	char topic[128];

	(void)snprintf(topic, sizeof(topic), "homeassistant/sensor/%s/state",
	    obj);
	(void)tm_ingest(&tm, topic, payload, strlen(payload), at, NULL, 0);
}

/* Every field of a healthy bank in grid charging, at time at. */
static void
feed(int64_t at, const char *cell_max_1)
{
	char obj[64];

	for (int p = 1; p <= 6; p++) {
		static const char *const f[][2] = {
			{ "soc", "80" }, { "pack_voltage", "55.10" },
			{ "pack_current", "20.0" }, { "cell_voltage_max", "3.45" },
			{ "cell_voltage_delta_mv", "12" },
			{ "temperature_pcb", "25" }, { "temperature_cell", "24" },
			{ "protection", "" },
		};

		for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
			(void)snprintf(obj, sizeof(obj), "lifepower4_%d_%s", p,
			    f[k][0]);
			put(obj, p == 1 && k == 3 ? cell_max_1 : f[k][1], at);
		}
	}
	for (int u = 1; u <= 2; u++) {
		static const char *const f[][2] = {
			{ "device_mode", "Hybrid" },
			{ "output_source_priority", "SUB" },
			{ "charger_source_priority", "Solar and utility" },
			{ "line_power_direction", "input" },
			{ "mppt1_input_power", "300" },
			{ "ac_output_active_power", "600" },
		};

		for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
			(void)snprintf(obj, sizeof(obj), "lvx6048_%d_%s", u,
			    f[k][0]);
			put(obj, f[k][1], at);
		}
	}
}

static const struct expect calib = {
	{ [SETTING_OUTPUT_PRIORITY] = VALUE_CALIBRATION,
	  [SETTING_CHARGER_PRIORITY] = VALUE_CALIBRATION }
};

static enum alarm
alarm_at(int64_t now)
{
	static struct monitor m;
	char why[200];

	return monitor_alarm(&m, &tm, &calib, now, why, sizeof(why));
}

START_TEST(mon_cell_limit)
{
	feed(1000, "3.600");
	ck_assert_int_eq(alarm_at(1000), AL_NONE);
	feed(1100, "3.601");
	ck_assert_int_eq(alarm_at(1100), AL_CELL);
}
END_TEST

START_TEST(mon_temperature_and_protection)
{
	feed(1000, "3.45");
	put("lifepower4_4_temperature_cell", "-0.5", 1000);
	ck_assert_int_eq(alarm_at(1000), AL_TEMP);
	put("lifepower4_4_temperature_cell", "45.5", 1000);
	ck_assert_int_eq(alarm_at(1000), AL_TEMP);
	put("lifepower4_4_temperature_cell", "44", 1000);
	ck_assert_int_eq(alarm_at(1000), AL_NONE);
	put("lifepower4_5_protection", "0x0004", 1000);
	ck_assert_int_eq(alarm_at(1000), AL_PROTECTION);
}
END_TEST

START_TEST(mon_fault_mode)
{
	feed(1000, "3.45");
	put("lvx6048_2_device_mode", "Fault", 1000);
	ck_assert_int_eq(alarm_at(1000), AL_UNIT_FAULT);
}
END_TEST

/* Unknown (garbage or silence) is not "fine": it is stale after the grace. */
START_TEST(mon_stale_after_grace)
{
	const struct profile_timing *t = &pf.timing;
	int64_t t0 = 1000;

	feed(t0, "3.45");
	put("lifepower4_2_cell_voltage_max", "nan", t0 + 10);
	/* rejected at t0 + 10: unknown since then */
	ck_assert_int_eq(alarm_at(t0 + 10 + t->telemetry_grace_ms), AL_NONE);
	ck_assert_int_eq(alarm_at(t0 + 11 + t->telemetry_grace_ms),
	    AL_STALE);
	/* a fresh valid value clears it */
	feed(t0 + 20 + t->telemetry_grace_ms, "3.45");
	ck_assert_int_eq(alarm_at(t0 + 20 + t->telemetry_grace_ms), AL_NONE);
}
END_TEST

START_TEST(mon_mismatch_needs_to_persist)
{
	static struct monitor m;
	int64_t g = pf.timing.telemetry_grace_ms;
	const int64_t at[] = { 1000, 1000 + g, 1001 + g };
	const enum alarm want[] = { AL_NONE, AL_NONE, AL_UNIT_MISMATCH };
	char why[200];

	/* readbacks that are not what the state needs, then disagree */
	for (size_t i = 0; i < 3; i++) {
		feed(at[i], "3.45");
		put("lvx6048_1_output_source_priority", "SBU", at[i]);
		put("lvx6048_2_output_source_priority", i < 2 ? "SBU" : "SUB",
		    at[i]);
		ck_assert_int_eq(monitor_alarm(&m, &tm, &calib, at[i], why,
		    sizeof(why)), want[i]);
	}
	ck_assert_msg(strstr(why, "setting=output_priority") != NULL, "%s", why);
	/* the string that arrived next to the one expected, quoted */
	ck_assert_msg(strstr(why, "readback=\"SBU\" expected=\"SUB\"") !=
	    NULL, "%s", why);
	/* units that disagree, whatever the state needs */
	{
		static struct monitor m2;
		const struct expect any = { { -1, -1 } };

		feed(3000, "3.45");
		put("lvx6048_2_output_source_priority", "SBU", 3000);
		(void)monitor_alarm(&m2, &tm, &any, 3000, why, sizeof(why));
		feed(3001 + g, "3.45");
		put("lvx6048_2_output_source_priority", "SBU", 3001 + g);
		ck_assert_int_eq(monitor_alarm(&m2, &tm, &any, 3001 + g, why,
		    sizeof(why)), AL_UNIT_MISMATCH);
		ck_assert_msg(strstr(why, "unit1=\"SUB\" unit2=\"SBU\"") != NULL, "%s",
		    why);
	}
	/* back to what the state needs: the clock resets */
	feed(2000 + g, "3.45");
	ck_assert_int_eq(monitor_alarm(&m, &tm, &calib, 2000 + g, why,
	    sizeof(why)), AL_NONE);
	ck_assert_int_eq(m.mismatch_since, 0);
}
END_TEST

START_TEST(mon_engaged)
{
	char why[160];

	feed(1000, "3.45");
	/* 6 x 20 A = 120 A, both units Hybrid, input, SUB */
	ck_assert(monitor_engaged(&tm, 1000, why, sizeof(why)));
	put("lvx6048_2_line_power_direction", "idle", 1000);
	ck_assert(!monitor_engaged(&tm, 1000, why, sizeof(why)));
	/* what arrived, next to what was expected */
	ck_assert_str_eq(why, "unit 2 line direction \"idle\", expected "
	    "\"input\"");
	put("lvx6048_2_line_power_direction", "input", 1000);
	put("lvx6048_2_output_source_priority", "Sub", 1000);
	ck_assert(!monitor_engaged(&tm, 1000, why, sizeof(why)));
	ck_assert_str_eq(why, "unit 2 output priority reads \"Sub\", "
	    "expected \"SUB\"");
}
END_TEST

START_TEST(mon_taper)
{
	char obj[64];

	feed(1000, "3.45");
	ck_assert_int_eq(monitor_bulk_band(&tm, 1000), 0);
	for (int p = 1; p <= 6; p++) {
		(void)snprintf(obj, sizeof(obj), "lifepower4_%d_pack_voltage", p);
		put(obj, "56.30", 1000);
		(void)snprintf(obj, sizeof(obj), "lifepower4_%d_pack_current", p);
		put(obj, "5.0", 1000);
	}
	ck_assert_int_eq(monitor_bulk_band(&tm, 1000), 1);
	/* 6 x 5 A = 30 A: at both tails */
	ck_assert(monitor_tapered(&tm, 1000));
	put("lifepower4_3_pack_current", "5.5", 1000);
	ck_assert(!monitor_tapered(&tm, 1000));
	put("lifepower4_3_pack_current", "garbage", 1000);
	ck_assert(!monitor_tapered(&tm, 1000));
	ck_assert_int_eq(monitor_bulk_band(&tm, 1000), 1);
	put("lifepower4_3_pack_voltage", "unavailable", 1000);
	ck_assert_int_eq(monitor_bulk_band(&tm, 1000), -1);
}
END_TEST

START_TEST(verify_names_lagging_packs)
{
	uint32_t lag;
	char why[256];

	for (int p = 0; p < 6; p++) {
		sn.soc[p] = 100;
		sn.volt[p] = 56.40;
	}
	ck_assert(monitor_verified(&pf, &sn, 0, &lag, why, sizeof(why)));
	ck_assert_uint_eq(lag, 0);
	ck_assert_ptr_nonnull(strstr(why, "every pack re-anchored"));
	sn.soc[3] = 98.9;
	sn.soc[5] = 92;
	snapshot_derive(&sn);
	ck_assert(!monitor_verified(&pf, &sn, 0, &lag, why, sizeof(why)));
	ck_assert_uint_eq(lag, (1u << 3) | (1u << 5));
	ck_assert_ptr_nonnull(strstr(why, "investigate pack 4,6"));
	ck_assert_ptr_null(strstr(why, "re-anchored ("));
	/* 99 % is where a BMS holds before its termination: not re-anchored */
	sn.soc[3] = sn.soc[5] = 99;
	snapshot_derive(&sn);
	ck_assert(!monitor_verified(&pf, &sn, 0, &lag, why, sizeof(why)));
	ck_assert_uint_eq(lag, (1u << 3) | (1u << 5));
	ck_assert_ptr_nonnull(strstr(why, "pack 4 at 99 %, pack 6 at 99 %"));
	ck_assert_ptr_nonnull(strstr(why, "extend the hold or investigate "
	    "pack 4,6"));
	/* a jump to 100 % seen during the hold is a re-anchor */
	ck_assert(!monitor_verified(&pf, &sn, 1u << 3, &lag, why,
	    sizeof(why)));
	ck_assert_uint_eq(lag, 1u << 5);
	ck_assert(monitor_verified(&pf, &sn, (1u << 3) | (1u << 5), &lag, why,
	    sizeof(why)));
	/* but not if it then reads below the verify minimum */
	sn.soc[5] = 97;
	snapshot_derive(&sn);
	ck_assert(!monitor_verified(&pf, &sn, (1u << 3) | (1u << 5), &lag,
	    why, sizeof(why)));
	ck_assert_uint_eq(lag, 1u << 5);
	sn.soc[3] = sn.soc[5] = 100;
	sn.volt[0] = 56.50;	/* spread 0.1 V: must be below */
	snapshot_derive(&sn);
	ck_assert(!monitor_verified(&pf, &sn, 0, &lag, why, sizeof(why)));
	ck_assert_uint_eq(lag, 0);
}
END_TEST

START_TEST(watch_anchor_sees_the_jump)
{
	uint32_t anchored = 0;
	char obj[64];

	for (int p = 1; p <= 6; p++) {
		(void)snprintf(obj, sizeof(obj), "lifepower4_%d_soc", p);
		put(obj, "99", 1000);
	}
	ck_assert_uint_eq(monitor_watch_anchor(&tm, 1000, &anchored), 0);
	put("lifepower4_2_soc", "100", 1100);
	ck_assert_uint_eq(monitor_watch_anchor(&tm, 1100, &anchored), 1u << 1);
	ck_assert_uint_eq(monitor_watch_anchor(&tm, 1100, &anchored), 0);
	put("lifepower4_2_soc", "99", 1200);
	ck_assert_uint_eq(monitor_watch_anchor(&tm, 1200, &anchored), 0);
	ck_assert_uint_eq(anchored, 1u << 1);
	/* a retained 100 % is not a jump */
	ck_assert_int_eq(tm_ingest_retained(&tm,
	    "homeassistant/sensor/lifepower4_5_soc/state", 1300),
	    TM_RETAINED_ONLY);
	ck_assert_uint_eq(monitor_watch_anchor(&tm, 1300, &anchored), 0);
}
END_TEST

START_TEST(snapshot_needs_every_field_fresh)
{
	struct snapshot s;
	char why[160];

	feed(1000, "3.45");
	ck_assert_int_eq(snapshot_take(&tm, 0, 1000, &s, why, sizeof(why)), 0);
	ck_assert_double_eq_tol(s.amps_total, 120.0, 1e-9);
	/* only values that arrived since the snapshot began */
	ck_assert_int_eq(snapshot_take(&tm, 1001, 1001, &s, why, sizeof(why)),
	    -1);
	ck_assert_ptr_nonnull(strstr(why, "no new value"));
	put("lvx6048_2_mppt1_input_power", "unknown", 1000);
	ck_assert_int_eq(snapshot_take(&tm, 0, 1000, &s, why, sizeof(why)), -1);
	ck_assert_str_eq(why, "unit 2 mppt1_input_power: invalid");
}
END_TEST

/*
 * Three sensors per pack (pack_fields.temperatures): the third, which the
 * two fixed keys of the first schema could not name, counts as much as
 * the others in the pre-flight window, the abort limits, the stale check
 * and the snapshot.
 */
#define THREE	"/tmp/gridcal-logic-three-sensors.yaml"
#define TERM(p)	"lifepower4_" #p "_temperature_terminal"

static void
three_sensors(void)
{
	char err[PROFILE_ERR_MAX], *text, *at;
	FILE *f;
	long n;

	ck_assert_ptr_nonnull(f = fopen("profiles/eg4-lp4-v2.yaml", "r"));
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	ck_assert_int_gt(n = ftell(f), 0);
	rewind(f);
	ck_assert_ptr_nonnull(text = calloc(1, (size_t)n + 1));
	ck_assert_uint_eq(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	/* the last of the list, which ends where protection begins */
	ck_assert_ptr_nonnull(at = strstr(text, "  protection:\n"));
	ck_assert_ptr_nonnull(f = fopen(THREE, "w"));
	fprintf(f, "%.*s    - name: temperature_terminal\n      topic: "
	    "homeassistant/sensor/lifepower4_{i}_temperature_terminal/state\n"
	    "      unit: C\n      min: -40\n      max: 120\n%s",
	    (int)(at - text), text, at);
	ck_assert_int_eq(fclose(f), 0);
	free(text);
	ck_assert_msg(profile_load(THREE, &pf, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_int_eq(pf.n_temps, 3);
	ck_assert_int_eq(tm_init(&tm, &pf), 0);
	(void)unlink(THREE);
}

static void
feed3(int64_t at, const char *terminal_3)
{
	char obj[64];

	feed(at, "3.45");
	for (int p = 1; p <= 6; p++) {
		(void)snprintf(obj, sizeof(obj), "lifepower4_%d_temperature_"
		    "terminal", p);
		put(obj, p == 3 ? terminal_3 : "26", at);
	}
}

START_TEST(three_sensors_every_one_counts)
{
	static struct monitor m;
	struct snapshot s;
	struct preflight r;
	int64_t g;
	char why[200];

	three_sensors();
	g = pf.timing.telemetry_grace_ms;
	feed3(1000, "44");
	ck_assert_int_eq(monitor_alarm(&m, &tm, &calib, 1000, why,
	    sizeof(why)), AL_NONE);
	/* the snapshot holds it; it is the hottest of pack 3 and the bank */
	ck_assert_int_eq(snapshot_take(&tm, 0, 1000, &s, why, sizeof(why)), 0);
	ck_assert_int_eq(s.ntemps, 3);
	ck_assert_double_eq_tol(s.temp[2][2], 44, 1e-9);
	ck_assert_double_eq_tol(s.temp_max[2], 44, 1e-9);
	ck_assert_double_eq_tol(s.temp_min[2], 24, 1e-9);
	ck_assert_double_eq_tol(s.temp_hi, 44, 1e-9);
	ck_assert_int_eq(s.temp_hi_pack, 2);
	/* pre-flight: 44 C is outside the 5..40 C window on that sensor */
	preflight_classify(&pf, &s, &r);
	ck_assert_int_eq(r.cls, PRE_UNSAFE);
	ck_assert_msg(strstr(r.why, "pack 3 temperature_terminal 44.0 C "
	    "outside the charge window") != NULL, "%s", r.why);
	/* while charging: above the 45 C abort limit on that sensor alone */
	feed3(1100, "45.5");
	ck_assert_int_eq(monitor_alarm(&m, &tm, &calib, 1100, why,
	    sizeof(why)), AL_TEMP);
	ck_assert_msg(strstr(why, "pack=3 temperature_terminal=45.5") != NULL,
	    "%s", why);
	/* unknown longer than the grace on that sensor alone: stale */
	feed3(1200, "garbage");
	ck_assert_int_eq(monitor_alarm(&m, &tm, &calib, 1200 + g, why,
	    sizeof(why)), AL_NONE);
	ck_assert_int_eq(monitor_alarm(&m, &tm, &calib, 1201 + g, why,
	    sizeof(why)), AL_STALE);
	ck_assert_msg(strstr(why, "pack=3 field=temperature_terminal") != NULL,
	    "%s", why);
}
END_TEST

Suite *
supervisor_logic_suite(void)
{
	Suite *s = suite_create("supervisor_logic");
	TCase *tc = tcase_create("logic");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, pre_drift_is_the_target);
	tcase_add_test(tc, pre_voltage_spread_boundary);
	tcase_add_test(tc, pre_soc_spread_boundary);
	tcase_add_test(tc, pre_temperature_window);
	tcase_add_test(tc, pre_gates_before_classes);
	tcase_add_test(tc, pre_units_gate);
	tcase_add_test(tc, mon_cell_limit);
	tcase_add_test(tc, mon_temperature_and_protection);
	tcase_add_test(tc, mon_fault_mode);
	tcase_add_test(tc, mon_stale_after_grace);
	tcase_add_test(tc, mon_mismatch_needs_to_persist);
	tcase_add_test(tc, mon_engaged);
	tcase_add_test(tc, mon_taper);
	tcase_add_test(tc, verify_names_lagging_packs);
	tcase_add_test(tc, watch_anchor_sees_the_jump);
	tcase_add_test(tc, snapshot_needs_every_field_fresh);
	tcase_add_test(tc, three_sensors_every_one_counts);
	suite_add_tcase(s, tc);
	return s;
}
