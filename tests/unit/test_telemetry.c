/*
 * Telemetry store: topic mapping, strict payload parsing with a counted
 * rejection per field, unit conversion, staleness and "unknown" answers.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "telemetry.h"

#define REFERENCE	"../../profiles/eg4-lp4-v2.yaml"

static struct profile pf;
static struct tm_store tm;

static void
setup(void)
{
	char err[PROFILE_ERR_MAX];

	ck_assert_msg(profile_load(REFERENCE, &pf, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_int_eq(tm_init(&tm, &pf), 0);
}

static enum tm_ingest
put(const char *topic, const char *payload, int64_t now)
{
	return tm_ingest(&tm, topic, payload, strlen(payload), now, NULL, 0);
}

#define CELL1	"homeassistant/sensor/lifepower4_1_cell_voltage_max/state"
#define SOC6	"homeassistant/sensor/lifepower4_6_soc/state"
#define TEMP2	"homeassistant/sensor/lifepower4_2_temperature_pcb/state"
#define PROT3	"homeassistant/sensor/lifepower4_3_protection/state"
#define MODE2	"homeassistant/sensor/lvx6048_2_device_mode/state"
#define POP1	"homeassistant/sensor/lvx6048_1_output_source_priority/state"

START_TEST(maps_topics)
{
	double v;
	const char *s;

	ck_assert_int_eq(tm.ntopics, 6 * (PF_TEMP + 2) + 2 * UF_COUNT);
	ck_assert_int_eq(put(SOC6, "76", 1000), TM_STORED);
	ck_assert_int_eq(tm_pack(&tm, 5, PF_SOC, 1000, &v), TM_VALID);
	ck_assert_double_eq_tol(v, 76, 1e-9);
	ck_assert_int_eq(tm_pack(&tm, 0, PF_SOC, 1000, &v), TM_MISSING);
	ck_assert_int_eq(put(MODE2, "Hybrid", 1000), TM_STORED);
	ck_assert_int_eq(tm_unit_text(&tm, 1, UF_DEVICE_MODE, 1000, &s), TM_VALID);
	ck_assert_str_eq(s, "Hybrid");
	ck_assert_int_eq(put("homeassistant/sensor/lifepower4_7_soc/state", "50",
	    1000), TM_UNKNOWN_TOPIC);
	ck_assert_int_eq(put("homeassistant/sensor/lifepower4_1_soc/state/x",
	    "50", 1000), TM_UNKNOWN_TOPIC);
	ck_assert_uint_eq(tm.unknown_topic, 2);
	/* a text field is not a number and the other way round */
	ck_assert_int_eq(tm_unit_num(&tm, 1, UF_DEVICE_MODE, 1000, &v),
	    TM_MISSING);
}
END_TEST

START_TEST(rejects_no_value_words_and_garbage)
{
	const char *bad[] = { "", "unavailable", "unknown", "nan", "NaN", "none",
	    "inf", "3.4V", "3,4", " 3.4", "0x3", "3.4.5", "--3" };
	double v;
	char why[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(put(CELL1, "3.40", 1000), TM_STORED);
		ck_assert_msg(tm_ingest(&tm, CELL1, bad[i], strlen(bad[i]), 1001,
		    why, sizeof(why)) == TM_REJECTED, "accepted \"%s\"", bad[i]);
		ck_assert_ptr_nonnull(strstr(why, CELL1));
		/* the previous good value is not kept as if still true */
		ck_assert_int_eq(tm_pack(&tm, 0, PF_CELL_VOLTAGE_MAX, 1001, &v),
		    TM_INVALID);
	}
	ck_assert_uint_eq(tm.rejected_pack[PF_CELL_VOLTAGE_MAX],
	    sizeof(bad) / sizeof(bad[0]));
	ck_assert_uint_eq(tm.rejected_pack[PF_SOC], 0);
	/* embedded NUL and control bytes */
	ck_assert_int_eq(tm_ingest(&tm, CELL1, "3.4\0", 4, 1002, NULL, 0),
	    TM_REJECTED);
	ck_assert_int_eq(tm_ingest(&tm, CELL1, "3.4\n", 4, 1002, NULL, 0),
	    TM_REJECTED);
	ck_assert_int_eq(put(MODE2, "unavailable", 1000), TM_REJECTED);
	ck_assert_int_eq(put(MODE2, "", 1000), TM_REJECTED);
	ck_assert_uint_eq(tm.rejected_unit[UF_DEVICE_MODE], 2);
	ck_assert_uint_eq(tm_rejected_total(&tm),
	    sizeof(bad) / sizeof(bad[0]) + 4);
}
END_TEST

START_TEST(flag_bits_cell_voltage_is_implausible)
{
	double v;
	char why[128];

	/*
	 * EG4 packs flag a cell reading with high bits; decoded naively it
	 * reads 19.845 V. That is not an overvoltage: it is not a voltage.
	 */
	ck_assert_int_eq(tm_ingest(&tm, CELL1, "19.845", 6, 1000, why,
	    sizeof(why)), TM_REJECTED);
	ck_assert_ptr_nonnull(strstr(why, "implausible"));
	ck_assert_int_eq(tm_pack(&tm, 0, PF_CELL_VOLTAGE_MAX, 1000, &v),
	    TM_INVALID);
	ck_assert_int_eq(put(SOC6, "101", 1000), TM_REJECTED);
	ck_assert_int_eq(put(SOC6, "-1", 1000), TM_REJECTED);
}
END_TEST

START_TEST(converts_units)
{
	struct profile pf2 = pf;
	double v;

	pf2.pack_field[PF_TEMP].unit = FU_FAHRENHEIT;
	pf2.pack_field[PF_CELL_VOLTAGE_MAX].unit = FU_MILLIVOLT;
	pf2.pack_field[PF_CELL_DELTA_MV].unit = FU_VOLT;
	ck_assert_int_eq(tm_init(&tm, &pf2), 0);
	ck_assert_int_eq(put(TEMP2, "113", 1000), TM_STORED);
	ck_assert_int_eq(tm_pack(&tm, 1, PF_TEMP, 1000, &v), TM_VALID);
	ck_assert_double_eq_tol(v, 45.0, 1e-9);
	/* 32 F is 0 C: in range; -50 F is -45.6 C: below the plausible -40 */
	ck_assert_int_eq(put(TEMP2, "-50", 1000), TM_REJECTED);
	ck_assert_int_eq(put(CELL1, "3525", 1000), TM_STORED);
	ck_assert_int_eq(tm_pack(&tm, 0, PF_CELL_VOLTAGE_MAX, 1000, &v), TM_VALID);
	ck_assert_double_eq_tol(v, 3.525, 1e-9);
	ck_assert_int_eq(put("homeassistant/sensor/lifepower4_1_cell_voltage_delta_mv/state",
	    "0.012", 1000), TM_STORED);
	ck_assert_int_eq(tm_pack(&tm, 0, PF_CELL_DELTA_MV, 1000, &v), TM_VALID);
	ck_assert_double_eq_tol(v, 12.0, 1e-9);
}
END_TEST

/*
 * Every sensor of pack_fields.temperatures is a field of its own: stored,
 * stale and named on its own; a slot the profile does not use is none.
 */
START_TEST(every_temperature_sensor)
{
	struct profile pf3 = pf;
	char ret[256];
	double v;

	pf3.n_temps = 3;
	pf3.pack_field[PF_TEMP + 2] = pf.pack_field[PF_TEMP + 1];
	(void)strlcpy(pf3.pack_field[PF_TEMP + 2].name, "temperature_mid",
	    sizeof(pf3.pack_field[0].name));
	(void)strlcpy(pf3.pack_field[PF_TEMP + 2].topic, "site/pack{i}/mid",
	    sizeof(pf3.pack_field[0].topic));
	pf3.pack_field[PF_TEMP + 2].unit = FU_FAHRENHEIT;
	ck_assert_int_eq(tm_init(&tm, &pf3), 0);
	ck_assert_int_eq(tm.ntopics, 6 * (PF_TEMP + 3) + 2 * UF_COUNT);
	ck_assert_int_eq(put("site/pack4/mid", "122", 1000), TM_STORED);
	ck_assert_int_eq(tm_pack(&tm, 3, PF_TEMP + 2, 1000, &v), TM_VALID);
	ck_assert_double_eq_tol(v, 50.0, 1e-9);
	ck_assert_int_eq(tm_pack(&tm, 3, PF_TEMP + 1, 1000, &v), TM_MISSING);
	ck_assert_int_eq(tm_pack(&tm, 3, PF_TEMP + 3, 1000, &v), TM_MISSING);
	ck_assert_int_eq(tm_pack_unknown_for(&tm, 3, PF_TEMP + 3, 1000),
	    INT64_MAX);
	ck_assert_int_eq(put("site/pack4/mid", "x", 1500), TM_REJECTED);
	ck_assert_int_eq(tm_pack_unknown_for(&tm, 3, PF_TEMP + 2, 1750), 250);
	ck_assert_int_eq(tm_ingest_retained(&tm, "site/pack2/mid", 1000),
	    TM_RETAINED_ONLY);
	ck_assert_int_eq(tm_retained_list(&tm, ret, sizeof(ret)), 1);
	ck_assert_str_eq(ret, "pack 2 temperature_mid");
}
END_TEST

START_TEST(staleness_and_unknown_for)
{
	int64_t age = pf.timing.telemetry_max_age_ms;
	double v;

	ck_assert_int_eq(tm_pack_unknown_for(&tm, 5, PF_SOC, 1000), INT64_MAX);
	ck_assert_int_eq(put(SOC6, "55", 1000), TM_STORED);
	ck_assert_int_eq(tm_pack(&tm, 5, PF_SOC, 1000 + age, &v), TM_VALID);
	ck_assert_int_eq(tm_pack(&tm, 5, PF_SOC, 1000 + age + 1, &v), TM_STALE);
	ck_assert_int_eq(tm_pack_unknown_for(&tm, 5, PF_SOC, 1000 + age), 0);
	ck_assert_int_eq(tm_pack_unknown_for(&tm, 5, PF_SOC, 1000 + age + 500),
	    500);
	/* a rejection makes it unknown at once, counted from the rejection */
	ck_assert_int_eq(put(SOC6, "55", 5000), TM_STORED);
	ck_assert_int_eq(put(SOC6, "garbage", 6000), TM_REJECTED);
	ck_assert_int_eq(tm_pack_unknown_for(&tm, 5, PF_SOC, 6250), 250);
	ck_assert_int_eq(put(SOC6, "56", 7000), TM_STORED);
	ck_assert_int_eq(tm_pack_unknown_for(&tm, 5, PF_SOC, 7000), 0);
}
END_TEST

START_TEST(protection_bits)
{
	double v;

	ck_assert_int_eq(put(PROT3, "0", 1000), TM_STORED);
	ck_assert_int_eq(tm_pack(&tm, 2, PF_PROTECTION, 1000, &v), TM_VALID);
	ck_assert_double_eq(v, 0);
	/* the reference site publishes "" for no protection (profile says so) */
	ck_assert_int_eq(put(PROT3, "", 1000), TM_STORED);
	ck_assert_int_eq(tm_pack(&tm, 2, PF_PROTECTION, 1000, &v), TM_VALID);
	ck_assert_double_eq(v, 0);
	ck_assert_int_eq(put(PROT3, "0x0004", 1000), TM_STORED);
	ck_assert_int_eq(tm_pack(&tm, 2, PF_PROTECTION, 1000, &v), TM_VALID);
	ck_assert_double_eq(v, 4);
	ck_assert_int_eq(put(PROT3, "unavailable", 1000), TM_REJECTED);
	ck_assert_int_eq(put(PROT3, "bits", 1000), TM_REJECTED);
	/* where the profile does not say so, "" is no value */
	pf.pack_field[PF_PROTECTION].empty_is_zero = false;
	ck_assert_int_eq(put(PROT3, "", 1000), TM_REJECTED);
}
END_TEST

START_TEST(readback_text)
{
	const char *s;

	ck_assert_int_eq(put(POP1, "SUB", 1000), TM_STORED);
	ck_assert_int_eq(tm_unit_text(&tm, 0, UF_OUTPUT_PRIORITY, 1000, &s),
	    TM_VALID);
	ck_assert_int_eq(profile_readback_value(&pf, SETTING_OUTPUT_PRIORITY, s),
	    VALUE_CALIBRATION);
	/* readbacks up to 63 characters; one longer is refused */
	ck_assert_int_eq(put(POP1, "Solar and utility simultaneously, with "
	    "the grid charging too...", 1000), TM_STORED);
	ck_assert_int_eq(put(POP1, "a string far too long to be any readback word "
	    "even at sixty-three", 1000), TM_REJECTED);
	ck_assert_int_eq(tm_unit_text(&tm, 0, UF_OUTPUT_PRIORITY, 1000, &s),
	    TM_INVALID);
}
END_TEST

/*
 * A retained message (the broker's copy, any age) never makes a field
 * fresh: not valid, not "since" anything, unknown for the stale clock, and
 * a live value it arrives after keeps its own age.
 */
/*
 * Payload format json: the one value at the field's JSON pointer, the
 * whole payload valid JSON, nothing guessed; scale and sign per field.
 */
#define CUR1	"homeassistant/sensor/lifepower4_1_pack_current/state"
#define SOC1	"homeassistant/sensor/lifepower4_1_soc/state"

START_TEST(json_pointer_scale_sign)
{
	struct field_spec *soc = &pf.pack_field[PF_SOC];
	double v;
	const char *s;

	soc->format = PL_JSON;
	(void)strlcpy(soc->pointer, "/value", sizeof(soc->pointer));
	ck_assert_int_eq(put(SOC1, "{\"value\": 52.5, \"unit\": \"%\"}", 1000),
	    TM_STORED);
	ck_assert_int_eq(tm_pack(&tm, 0, PF_SOC, 1000, &v), TM_VALID);
	ck_assert_double_eq_tol(v, 52.5, 1e-9);
	/* a string is parsed as strictly as a text payload */
	ck_assert_int_eq(put(SOC1, "{\"value\":\"53\"}", 1000), TM_STORED);
	ck_assert_int_eq(tm_pack(&tm, 0, PF_SOC, 1000, &v), TM_VALID);
	ck_assert_double_eq_tol(v, 53, 1e-9);
	static const char *const refused[] = {
		"{\"value\":\"53abc\"}",		/* garbage in the string */
		"{\"value\":53",			/* truncated */
		"{\"value\":53}{\"value\":54}",	/* two documents */
		"{\"value\":53,\"value\":54}",	/* two values */
		"{\"value\":null}", "{\"other\":53}", "53", "",
		"{\"value\":053}", "{\"value\":5e}", "{\"value\":.5}",
		"{\"value\":NaN}", "{\"value\":[53]}", "{\"value\":{\"v\":1}}",
		"{\"value\":true}", "{\"value\":53,}", "{'value':53}",
		"{\"value\":\"unavailable\"}", "{\"value\":1e400}",
		"{\"value\":101}",			/* outside min..max */
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		ck_assert_msg(put(SOC1, refused[i], 1000) == TM_REJECTED,
		    "accepted %s", refused[i]);
		ck_assert_int_eq(tm_pack(&tm, 0, PF_SOC, 1000, &v), TM_INVALID);
	}
	/* a payload of 512 bytes or more is refused before it is read */
	char big[600];
	memset(big, ' ', sizeof(big));
	memcpy(big, "{\"value\":50}", 12);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(put(SOC1, big, 1000), TM_REJECTED);
	big[510] = '\0';
	ck_assert_int_eq(put(SOC1, big, 1000), TM_STORED);
	/* nested, an array index, escapes in the pointer */
	(void)strlcpy(soc->pointer, "/bms/packs/1/s~1o~0c", sizeof(soc->pointer));
	ck_assert_int_eq(put(SOC1, "{\"bms\":{\"packs\":[{\"s/o~c\":1},"
	    "{\"s/o~c\":61.25}]},\"ts\":\"12:00\"}", 1000), TM_STORED);
	ck_assert_int_eq(tm_pack(&tm, 0, PF_SOC, 1000, &v), TM_VALID);
	ck_assert_double_eq_tol(v, 61.25, 1e-9);
	/* a text field from a JSON string, not from a number */
	struct field_spec *op = &pf.unit_field[UF_OUTPUT_PRIORITY];
	op->format = PL_JSON;
	(void)strlcpy(op->pointer, "/state", sizeof(op->pointer));
	ck_assert_int_eq(put(POP1, "{\"state\":\"SUB\"}", 1000), TM_STORED);
	ck_assert_int_eq(tm_unit_text(&tm, 0, UF_OUTPUT_PRIORITY, 1000, &s),
	    TM_VALID);
	ck_assert_str_eq(s, "SUB");
	ck_assert_int_eq(put(POP1, "{\"state\":3}", 1000), TM_REJECTED);
	/* sign -1: a BMS that counts discharge positive; scale 0.1: deciamps */
	pf.pack_field[PF_PACK_CURRENT].sign = -1;
	pf.pack_field[PF_PACK_CURRENT].scale = 0.1;
	ck_assert_int_eq(put(CUR1, "455", 1000), TM_STORED);
	ck_assert_int_eq(tm_pack(&tm, 0, PF_PACK_CURRENT, 1000, &v), TM_VALID);
	ck_assert_double_eq_tol(v, -45.5, 1e-9);
	ck_assert_int_eq(put(CUR1, "4000", 1000), TM_REJECTED);  /* -400 A */
}
END_TEST

START_TEST(retained_is_never_fresh)
{
	int64_t age = pf.timing.telemetry_max_age_ms;
	char list[128];
	double v;

	ck_assert_int_eq(tm_retained_list(&tm, list, sizeof(list)), 0);
	ck_assert_str_eq(list, "");
	ck_assert_int_eq(tm_ingest_retained(&tm, SOC6, 1000), TM_RETAINED_ONLY);
	ck_assert_int_eq(tm_pack(&tm, 5, PF_SOC, 1000, &v), TM_RETAINED);
	ck_assert_str_eq(tm_status_name(TM_RETAINED),
	    "only a retained message (not live)");
	ck_assert_int_eq(tm.pack[5][PF_SOC].valid_at_ms, 0);
	ck_assert_int_eq(tm_pack_unknown_for(&tm, 5, PF_SOC, 1000), INT64_MAX);
	ck_assert_uint_eq(tm.retained, 1);
	ck_assert_uint_eq(tm.stored, 0);
	ck_assert_int_eq(tm_ingest_retained(&tm,
	    "homeassistant/sensor/lifepower4_7_soc/state", 1000),
	    TM_UNKNOWN_TOPIC);
	/* which fields were only retained: one of pack 6, all of unit 2 */
	for (int f = 0; f < UF_COUNT; f++) {
		char t[PROFILE_TOPIC_MAX];

		ck_assert_int_eq(topic_expand(pf.unit_field[f].topic, 2, t,
		    sizeof(t)), 0);
		ck_assert_int_eq(tm_ingest_retained(&tm, t, 1000),
		    TM_RETAINED_ONLY);
	}
	ck_assert_int_eq(tm_retained_list(&tm, list, sizeof(list)),
	    1 + UF_COUNT);
	ck_assert_str_eq(list, "pack 6 soc, unit 2 (all fields)");
	/* a bounded list is cut at a whole entry */
	ck_assert_int_eq(tm_retained_list(&tm, list, 12), 1 + UF_COUNT);
	ck_assert_str_eq(list, "pack 6 soc");
	/* a live value makes it valid; a later retained copy changes nothing */
	ck_assert_int_eq(put(SOC6, "55", 2000), TM_STORED);
	ck_assert_int_eq(tm_ingest_retained(&tm, SOC6, 2000 + age), TM_RETAINED_ONLY);
	ck_assert_int_eq(tm_pack(&tm, 5, PF_SOC, 2000 + age + 1, &v), TM_STALE);
	ck_assert_int_eq(tm.pack[5][PF_SOC].valid_at_ms, 2000);
	ck_assert_int_eq(tm_pack_unknown_for(&tm, 5, PF_SOC, 2000 + age + 100),
	    100);
	ck_assert_int_eq(tm_retained_list(&tm, list, sizeof(list)), UF_COUNT);
}
END_TEST

Suite *telemetry_suite(void);

Suite *
telemetry_suite(void)
{
	Suite *s = suite_create("telemetry");
	TCase *tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, maps_topics);
	tcase_add_test(tc, rejects_no_value_words_and_garbage);
	tcase_add_test(tc, flag_bits_cell_voltage_is_implausible);
	tcase_add_test(tc, converts_units);
	tcase_add_test(tc, every_temperature_sensor);
	tcase_add_test(tc, staleness_and_unknown_for);
	tcase_add_test(tc, protection_bits);
	tcase_add_test(tc, readback_text);
	tcase_add_test(tc, retained_is_never_fresh);
	tcase_add_test(tc, json_pointer_scale_sign);
	suite_add_tcase(s, tc);
	return s;
}
