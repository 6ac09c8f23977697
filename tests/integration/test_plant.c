/*
 * gridcal-plant and the harness, driven by hand through a real mosquitto:
 * control messages are published as the watchdog (or, to prove the ACL, as
 * the supervisor) and the plant's telemetry and truth are watched by the
 * observer. Every wait polls with a deadline.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "tests/harness/harness.h"

#define T_START		10000	/* broker, clients, plant start */
#define T_SET		5000	/* a setting reaches the readbacks */

#define HA		"homeassistant/sensor/"
#define CTL_OUT		"solar/control/lvx6048/output_priority"
#define CTL_CHG		"solar/control/lvx6048/charger_priority"
#define SBU		"solar_battery_utility"
#define SUB		"solar_utility_battery"
#define SOLAR_FIRST	"solar_first"
#define SOLAR_UTIL	"solar_and_utility"

struct env {
	char		 wd[PATH_MAX];
	char		 profile[PATH_MAX];
	struct hbroker	 br;
	struct hobs	*obs;
	struct hproc	 plant;
	struct hclient	*watchdog;
	bool		 plant_up;
};

static void
env_broker_kv(struct env *e, const char *tag, const struct hprofile_kv *kv,
    size_t nkv)
{
	char err[512];

	memset(e, 0, sizeof(*e));
	ck_assert_int_eq(harness_workdir(e->wd, sizeof(e->wd), tag), 0);
	ck_assert_int_eq(hbroker_start(&e->br, e->wd), 0);
	ck_assert_msg(hprofile_write(&e->br, e->profile, sizeof(e->profile),
	    kv, nkv, err, sizeof(err)) == 0, "profile: %s", err);
	ck_assert_ptr_nonnull(e->obs = hobs_start(&e->br, T_START));
}

static void
env_broker(struct env *e, const char *tag)
{
	env_broker_kv(e, tag, NULL, 0);
}

/* The plant on a test profile with overrides. */
static void
env_up_kv(struct env *e, const char *tag, const char *scenario, double speed,
    const struct hprofile_kv *kv, size_t nkv)
{
	struct hplant_opts o = { .speed = speed, .seed = 7 };

	env_broker_kv(e, tag, kv, nkv);
	ck_assert_int_eq(hplant_start(&e->plant, &e->br, e->profile, scenario,
	    &o), 0);
	ck_assert_msg(hplant_wait_ready(e->obs, T_START) == 0,
	    "no truth from gridcal-plant (see %s)", e->plant.err_path);
	e->plant_up = true;
	ck_assert_ptr_nonnull(e->watchdog = hclient_connect(&e->br,
	    "watchdog", true, T_START));
}

static void
env_up(struct env *e, const char *tag, const char *scenario, double speed)
{
	struct hplant_opts o = { .speed = speed, .seed = 7 };

	env_broker(e, tag);
	ck_assert_int_eq(hplant_start(&e->plant, &e->br, e->profile, scenario,
	    &o), 0);
	ck_assert_msg(hplant_wait_ready(e->obs, T_START) == 0,
	    "no truth from gridcal-plant (see %s)", e->plant.err_path);
	e->plant_up = true;
	ck_assert_ptr_nonnull(e->watchdog = hclient_connect(&e->br,
	    "watchdog", true, T_START));
}

/* Stops everything; the plant's final JSON line into final if not NULL. */
static void
env_down(struct env *e, char *final, size_t finalsz)
{
	if (e->plant_up)
		ck_assert_msg(hplant_stop(&e->plant, final, finalsz) == 0,
		    "gridcal-plant did not exit cleanly");
	hclient_close(e->watchdog);
	hobs_stop(e->obs);
	ck_assert_int_eq(hbroker_stop(&e->br), 0);
}

static void
set(struct env *e, const char *topic, const char *value)
{
	int reason = -1;

	ck_assert_int_eq(hclient_publish(e->watchdog, topic, value, 1, false,
	    T_SET, &reason), 0);
	ck_assert_int_eq(reason, 0);
}

static void
topic(char *buf, size_t sz, const char *object, int n, const char *field)
{
	(void)snprintf(buf, sz, HA "%s_%d_%s/state", object, n, field);
}

static void
wait_topic(struct env *e, const char *object, int n, const char *field,
    const char *want, int64_t timeout)
{
	char t[128], got[128];

	topic(t, sizeof(t), object, n, field);
	if (hobs_wait_payload(e->obs, t, want, timeout) == 0)
		return;
	(void)hobs_latest(e->obs, t, got, sizeof(got));
	ck_abort_msg("%s: \"%s\", wanted \"%s\"", t, got, want);
}

static double
truth(struct env *e, const char *path)
{
	double v;

	ck_assert_msg(hobs_truth_num(e->obs, path, &v) == 0, "no truth %s",
	    path);
	return v;
}

static void
truth_str(struct env *e, const char *path, char *buf, size_t sz)
{
	ck_assert_msg(hobs_truth_str(e->obs, path, buf, sz) == 0,
	    "no truth %s", path);
}

static void
wait_truth_ge(struct env *e, const char *path, double min, int64_t timeout)
{
	double v = NAN;

	if (hobs_wait_truth_ge(e->obs, path, min, timeout) == 0)
		return;
	(void)hobs_truth_num(e->obs, path, &v);
	ck_abort_msg("truth %s = %g, wanted >= %g", path, v, min);
}

static void
wait_truth_str(struct env *e, const char *path, const char *want,
    int64_t timeout)
{
	char got[128] = "";

	if (hobs_wait_truth_str(e->obs, path, want, timeout) == 0)
		return;
	(void)hobs_truth_str(e->obs, path, got, sizeof(got));
	ck_abort_msg("truth %s = \"%s\", wanted \"%s\"", path, got, want);
}

/* Until the plant has published n more truths: it has run n more ticks. */
static void
wait_ticks(struct env *e, uint64_t n)
{
	uint64_t now = hobs_count(e->obs, HPLANT_STATUS_TOPIC);

	ck_assert_int_eq(hobs_wait_count(e->obs, HPLANT_STATUS_TOPIC, now + n,
	    T_START), 0);
}

static double
telemetry_num(struct env *e, const char *object, int n, const char *field)
{
	char t[128], v[64], *end;
	double d;

	topic(t, sizeof(t), object, n, field);
	ck_assert_msg(hobs_latest(e->obs, t, v, sizeof(v)) > 0, "no %s", t);
	d = strtod(v, &end);
	ck_assert_msg(end != v && *end == '\0', "%s: \"%s\"", t, v);
	return d;
}

struct total {
	double	min, max;	/* bounds on the summed pack currents */
	double	vmin;		/* every pack voltage at least */
};

static bool
pred_current(struct hobs *o, void *arg)
{
	const struct total *w = arg;
	char t[128], v[64];
	double sum = 0;

	for (int i = 1; i <= 6; i++) {
		topic(t, sizeof(t), "lifepower4", i, "pack_current");
		if (hobs_latest(o, t, v, sizeof(v)) == 0)
			return false;
		sum += strtod(v, NULL);
		topic(t, sizeof(t), "lifepower4", i, "pack_voltage");
		if (hobs_latest(o, t, v, sizeof(v)) == 0 ||
		    strtod(v, NULL) < w->vmin)
			return false;
	}
	return sum >= w->min && sum <= w->max;
}

/* ---- the harness itself ---- */

START_TEST(test_broker_acl)
{
	struct env e;
	struct hclient *c;
	int reason, g;
	static const struct {
		const char	*user, *topic;
		int		 reason;
	} cases[] = {
		{ "supervisor", CTL_OUT, 135 },
		{ "supervisor", CTL_CHG, 135 },
		{ "supervisor", HA "lifepower4_1_soc/state", 135 },
		{ "supervisor", "gridcal/alarm", 135 },
		{ "supervisor", "gridcal/supervisor/status", 0 },
		{ "watchdog", CTL_OUT, 0 },
		{ "watchdog", "gridcal/alarm", 0 },
		{ "watchdog", "gridcal/watchdog/heartbeat", 0 },
		{ "watchdog", "gridcal/supervisor/status", 135 },
		{ "watchdog", HA "lifepower4_1_soc/state", 135 },
		{ "plant", HA "lifepower4_1_soc/state", 0 },
		{ "plant", "plant/status", 0 },
		{ "plant", CTL_OUT, 135 },
		{ "observer", CTL_OUT, 135 },
		{ "observer", HA "lifepower4_1_soc/state", 135 },
	};

	env_broker(&e, "acl");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_ptr_nonnull(c = hclient_connect(&e.br, cases[i].user,
		    true, T_START));
		ck_assert_int_eq(hclient_publish(c, cases[i].topic, "x", 1,
		    false, T_SET, &reason), 0);
		ck_assert_msg(reason == cases[i].reason,
		    "%s publishing %s: reason %d, wanted %d", cases[i].user,
		    cases[i].topic, reason, cases[i].reason);
		hclient_close(c);
	}
	/* Only the allowed ones reached the observer (plant/status is the
	 * last allowed publish; the broker delivers in order). */
	ck_assert_int_eq(hobs_wait_count(e.obs, "plant/status", 1, T_SET), 0);
	ck_assert_uint_eq(hobs_count(e.obs, "gridcal/supervisor/status"), 1);
	ck_assert_uint_eq(hobs_count(e.obs, "gridcal/alarm"), 1);
	ck_assert_uint_eq(hobs_log_count(e.obs, "solar/control/"), 1);
	ck_assert_uint_eq(hobs_count(e.obs, CTL_CHG), 0);

	/* The supervisor may read telemetry, the plant may read control. */
	ck_assert_ptr_nonnull(c = hclient_connect(&e.br, "supervisor", true,
	    T_START));
	ck_assert_int_eq(hclient_subscribe(c, "homeassistant/#", 1, T_SET, &g),
	    0);
	ck_assert_int_le(g, 2);
	hclient_close(c);

	/* Credential files: one line user:password, mode 0600. */
	char path[PATH_MAX], line[128], want[128];
	ck_assert_int_eq(hbroker_cred_path(&e.br, "supervisor", path,
	    sizeof(path)), 0);
	ck_assert_int_eq(harness_last_line(path, line, sizeof(line)), 0);
	(void)snprintf(want, sizeof(want), "%s:%s",
	    hbroker_mqtt_user("supervisor"), hbroker_password(&e.br,
	    "supervisor"));
	ck_assert_str_eq(line, want);
	env_down(&e, NULL, 0);
}
END_TEST

START_TEST(test_broker_restart)
{
	struct env e;
	uint16_t port;
	uint64_t before;

	env_up(&e, "restart", "reference.yaml", 600);
	port = e.br.port;
	ck_assert_int_eq(hbroker_restart(&e.br), 0);
	ck_assert_uint_eq(e.br.port, port);
	/* The plant and the observer both come back on their own. */
	before = hobs_count(e.obs, HPLANT_STATUS_TOPIC);
	ck_assert_int_eq(hobs_wait_count(e.obs, HPLANT_STATUS_TOPIC,
	    before + 5, T_START), 0);
	/* And control still reaches the plant through the new broker. */
	ck_assert_int_eq(hbroker_kill(&e.br), 0);
	ck_assert_int_eq(hbroker_restart(&e.br), 0);
	before = hobs_count(e.obs, HPLANT_STATUS_TOPIC);
	ck_assert_int_eq(hobs_wait_count(e.obs, HPLANT_STATUS_TOPIC,
	    before + 2, T_START), 0);
	for (int64_t end = harness_now_ms() + T_START;
	    !hclient_connected(e.watchdog) && harness_now_ms() < end;)
		wait_ticks(&e, 1);
	set(&e, CTL_CHG, SOLAR_UTIL);
	wait_truth_str(&e, "units[1].charger_priority", SOLAR_UTIL, T_SET);
	env_down(&e, NULL, 0);
}
END_TEST

START_TEST(test_profile_overrides)
{
	static const char tmpl[] =
	    "# @PORT@ stays in comments\n"
	    "broker:\n  host: 127.0.0.1\n  port: @PORT@\n"
	    "limits:\n  abort:\n    cell_voltage_max_v: 3.60\n"
	    "  envelope:\n    cell_voltage_max_v: 3.62\n"
	    "paths:\n  state_dir: @WORKDIR@/state\n"
	    "pack_fields:\n  temperatures:\n    - topic: a/{i}\n      unit: C\n"
	    "    # the cells\n    - topic: b/{i}\n      unit: C\n"
	    "  protection:\n    topic: p/{i}\n";
	const struct hprofile_kv ok[] = {
		{ "limits.abort.cell_voltage_max_v", "3.55" },
	};
	/* a block list goes whole, the keys after it stay */
	const struct hprofile_kv list[] = {
		{ "pack_fields.temperatures", "[{topic: \"c/{i}\", unit: F}]" },
	};
	const struct hprofile_kv bad[] = { { "limits.abort.nope", "1" } };
	const struct hprofile_kv notscalar[] = { { "limits.abort", "1" } };
	struct hbroker b = { .port = 4242 };
	char err[256], *out, want[PATH_MAX + 64];

	(void)strlcpy(b.workdir, "/tmp/wd", sizeof(b.workdir));
	ck_assert_int_eq(hprofile_render(tmpl, &b, ok, 1, &out, err,
	    sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(out, "# @PORT@ stays in comments\n"));
	ck_assert_ptr_nonnull(strstr(out, "  port: 4242\n"));
	ck_assert_ptr_nonnull(strstr(out,
	    "  abort:\n    cell_voltage_max_v: 3.55\n"));
	ck_assert_ptr_nonnull(strstr(out,
	    "  envelope:\n    cell_voltage_max_v: 3.62\n"));
	(void)snprintf(want, sizeof(want), "state_dir: /tmp/wd/state\n");
	ck_assert_ptr_nonnull(strstr(out, want));
	free(out);
	ck_assert_int_eq(hprofile_render(tmpl, &b, list, 1, &out, err,
	    sizeof(err)), 0);
	ck_assert_msg(strstr(out, "pack_fields:\n  temperatures: [{topic: \"c/{i}\", "
	    "unit: F}]\n  protection:\n    topic: p/{i}\n") != NULL, "%s", out);
	ck_assert_ptr_null(strstr(out, "a/{i}"));
	free(out);
	ck_assert_int_eq(hprofile_render(tmpl, &b, bad, 1, &out, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "limits.abort.nope"));
	ck_assert_int_eq(hprofile_render(tmpl, &b, notscalar, 1, &out, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(hprofile_render("x: @NOPE@\n", &b, NULL, 0, &out,
	    err, sizeof(err)), -1);
}
END_TEST

/* The real template renders into a profile the plant accepts. */
START_TEST(test_sim_profile_loads)
{
	struct env e;
	char bin[PATH_MAX], scen[PATH_MAX], err[512];
	const struct hprofile_kv kv[] = {
		{ "limits.abort.cell_voltage_max_v", "3.55" },
		{ "timing.absorption_hold_s", "3" },
	};

	env_broker(&e, "simprof");
	ck_assert_msg(hprofile_write(&e.br, e.profile, sizeof(e.profile), kv,
	    2, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(hplant_binary(bin, sizeof(bin)), 0);
	ck_assert_int_eq(harness_path(scen, sizeof(scen),
	    "tests/scenarios/reference.yaml"), 0);
	char *argv[] = { bin, (char *)"--profile", e.profile,
	    (char *)"--scenario", scen, (char *)"--check", NULL };
	ck_assert_int_eq(hproc_run(argv, T_START), 0);
	env_down(&e, NULL, 0);
}
END_TEST

/* ---- scenarios are loaded strictly ---- */

START_TEST(test_scenario_strict)
{
	static const struct {
		const char	*from, *to;
	} bad[] = {
		{ "  cells: 16\n", "  cells: 16\n  colour: blue\n" },
		{ "  ambient_c: 20\n", "  ambient_c: nan\n" },
		{ "  ambient_c: 20\n", "  ambient_c: 20abc\n" },
		{ "  bulk_v: 56.4\n", "  bulk_v: 0x38\n" },
		{ "  loss_w_k: 3\n", "" },
		{ "  grid: true\n", "  grid: yes\n" },
		{ "  output_priority: everyday\n", "  output_priority: SUB\n" },
		{ "  - { capacity_ah: 100, soc_pct: 52.0,",
		  "  - { capacity_ah: 100, soc_pct: 152.0," },
		{ "faults: []\n", "faults:\n  - kind: melt\n" },
		{ "faults: []\n", "faults:\n  - kind: cell_offset\n    pack: 3\n" },
		{ "faults: []\n", "faults:\n  - kind: cell_offset\n    pack: 7\n"
		  "    value: 0.1\n" },
		{ "faults: []\n", "faults:\n  - kind: no_anchor\n    pack: 1\n"
		  "    value: 1\n" },
		{ "faults: []\n", "faults:\n  - kind: nak\n    trigger: time\n" },
		{ "faults: []\n", "faults:\n  - kind: silence\n    pack: 1\n"
		  "    unit: 1\n" },
		{ "faults: []\n", "faults:\n  - kind: silence\n    pack: 1\n"
		  "    field: device_mode\n" },
		{ "faults: []\n", "faults:\n  - kind: protection\n    pack: 1\n"
		  "    value: \"0\"\n" },
	};
	char wd[PATH_MAX], ref[PATH_MAX], bin[PATH_MAX], prof[PATH_MAX];
	char path[PATH_MAX + 16];
	char *text;

	ck_assert_int_eq(harness_workdir(wd, sizeof(wd), "strict"), 0);
	ck_assert_int_eq(harness_path(ref, sizeof(ref),
	    "tests/scenarios/reference.yaml"), 0);
	ck_assert_int_eq(hplant_binary(bin, sizeof(bin)), 0);
	ck_assert_int_eq(harness_path(prof, sizeof(prof),
	    "profiles/eg4-lp4-v2.yaml"), 0);
	ck_assert_ptr_nonnull(text = harness_read_file(ref, NULL));
	(void)snprintf(path, sizeof(path), "%s/s.yaml", wd);
	char *argv[] = { bin, (char *)"--profile", prof, (char *)"--scenario",
	    path, (char *)"--check", NULL };

	/* The unchanged copy loads: the failures below are the edits. */
	ck_assert_int_eq(harness_write_file(path, text, 0644), 0);
	ck_assert_int_eq(hproc_run(argv, T_START), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *at = strstr(text, bad[i].from), *edited;
		size_t n;

		ck_assert_msg(at != NULL, "case %zu: \"%s\" not in reference",
		    i, bad[i].from);
		n = strlen(text) - strlen(bad[i].from) + strlen(bad[i].to) + 1;
		ck_assert_ptr_nonnull(edited = malloc(n));
		(void)snprintf(edited, n, "%.*s%s%s", (int)(at - text), text,
		    bad[i].to, at + strlen(bad[i].from));
		ck_assert_int_eq(harness_write_file(path, edited, 0644), 0);
		free(edited);
		ck_assert_msg(hproc_run(argv, T_START) == 78,
		    "case %zu (%s) was not refused with 78", i, bad[i].to);
	}
	free(text);
	/*
	 * libcyaml loads an empty or comment-only document as success with a
	 * NULL result: it must be refused, not dereferenced.
	 */
	ck_assert_int_eq(harness_write_file(path, "", 0644), 0);
	ck_assert_int_eq(hproc_run(argv, T_START), 78);
	ck_assert_int_eq(harness_write_file(path, "# nothing\n", 0644), 0);
	ck_assert_int_eq(hproc_run(argv, T_START), 78);
}
END_TEST

/* Same seed, same physics; another seed, other weather. */
START_TEST(test_plant_deterministic)
{
	char wd[PATH_MAX], bin[PATH_MAX], prof[PATH_MAX], scen[PATH_MAX];
	char out[3][PATH_MAX + 16], *text[3];
	const char *seeds[3] = { "5", "5", "6" };

	ck_assert_int_eq(harness_workdir(wd, sizeof(wd), "determ"), 0);
	ck_assert_int_eq(hplant_binary(bin, sizeof(bin)), 0);
	ck_assert_int_eq(harness_path(prof, sizeof(prof),
	    "profiles/eg4-lp4-v2.yaml"), 0);
	ck_assert_int_eq(harness_path(scen, sizeof(scen),
	    "tests/scenarios/reference.yaml"), 0);
	for (int i = 0; i < 3; i++) {
		struct hproc p;
		char *argv[] = { bin, (char *)"--profile", prof,
		    (char *)"--scenario", scen, (char *)"--offline",
		    (char *)"--duration", (char *)"7200", (char *)"--trace",
		    (char *)"600", (char *)"--seed", (char *)seeds[i], NULL };

		(void)snprintf(out[i], sizeof(out[i]), "%s/run%d", wd, i);
		ck_assert_int_eq(hproc_spawn(&p, argv, NULL, out[i], NULL), 0);
		ck_assert_int_eq(hproc_wait(&p, T_START), 0);
		ck_assert_int_eq(hproc_exit_code(&p), 0);
		ck_assert_ptr_nonnull(text[i] = harness_read_file(out[i],
		    NULL));
	}
	ck_assert_uint_gt(strlen(text[0]), 1000);
	ck_assert_str_eq(text[0], text[1]);
	ck_assert_str_ne(text[0], text[2]);
	for (int i = 0; i < 3; i++)
		free(text[i]);
}
END_TEST

/* ---- physics, offline (no broker: the scenario's settings hold) ---- */

/* Runs gridcal-plant --offline; its final truth into final. */
static void
offline(const char *wd, const char *scenario, const char *duration,
    char *final, size_t finalsz)
{
	char bin[PATH_MAX], prof[PATH_MAX], scen[PATH_MAX], out[PATH_MAX + 16];
	struct hproc p;

	ck_assert_int_eq(hplant_binary(bin, sizeof(bin)), 0);
	ck_assert_int_eq(harness_path(prof, sizeof(prof),
	    "profiles/eg4-lp4-v2.yaml"), 0);
	if (strchr(scenario, '/') != NULL)
		(void)strlcpy(scen, scenario, sizeof(scen));
	else
		(void)snprintf(scen, sizeof(scen), "%s/tests/scenarios/%s",
		    harness_root(), scenario);
	(void)snprintf(out, sizeof(out), "%s/offline.out", wd);
	(void)unlink(out);
	char *argv[] = { bin, (char *)"--profile", prof, (char *)"--scenario",
	    scen, (char *)"--offline", (char *)"--duration", (char *)duration,
	    (char *)"--trace", (char *)"100000", NULL };
	ck_assert_int_eq(hproc_spawn(&p, argv, NULL, out, NULL), 0);
	ck_assert_int_eq(hproc_wait(&p, T_START), 0);
	ck_assert_int_eq(hproc_exit_code(&p), 0);
	ck_assert_int_eq(harness_last_line(out, final, finalsz), 0);
}

static double
jnum(const char *json, const char *path)
{
	double v;

	ck_assert_msg(hjson_num(json, path, &v) == 0, "no %s", path);
	return v;
}

/* A sunny day takes the bank to absorption on solar alone; a cloudy one
 * does not. */
START_TEST(test_solar_only)
{
	char wd[PATH_MAX], final[16384], stage[32];

	ck_assert_int_eq(harness_workdir(wd, sizeof(wd), "solar"), 0);
	offline(wd, "sunny.yaml", "14400", final, sizeof(final));
	ck_assert_double_gt(jnum(final, "absorption_s"), 1800);
	for (int i = 0; i < 6; i++) {
		char path[64];

		(void)snprintf(path, sizeof(path), "packs[%d].anchors", i);
		ck_assert_double_ge(jnum(final, path), 1);
	}
	ck_assert_double_eq(jnum(final, "grid_charge_s"), 0);
	ck_assert_double_eq(jnum(final, "calibration_s"), 0);
	ck_assert_double_lt(jnum(final, "max_cell_v"), 3.60);

	offline(wd, "reference.yaml", "14400", final, sizeof(final));
	ck_assert_int_eq(hjson_str(final, "stage", stage, sizeof(stage)), 0);
	ck_assert_str_eq(stage, "bulk");
	ck_assert_double_eq(jnum(final, "absorption_s"), 0);
	ck_assert_double_eq(jnum(final, "packs[0].anchors"), 0);
}
END_TEST

/* SBU touches the grid only when the bank is critically low, and charges
 * from it then only if the charger priority allows utility. */
START_TEST(test_sbu_critical)
{
	char wd[PATH_MAX], final[16384], ref[PATH_MAX], path[PATH_MAX + 16];
	char *text, *at;
	static const char chg[] = "  charger_priority: calibration\n";

	ck_assert_int_eq(harness_workdir(wd, sizeof(wd), "critical"), 0);
	offline(wd, "critical.yaml", "14400", final, sizeof(final));
	ck_assert_double_gt(jnum(final, "grid_charge_s"), 600);
	ck_assert_double_gt(jnum(final, "packs[0].soc"), 8);
	ck_assert_double_eq(jnum(final, "calibration_s"), 14400);

	/* The same night with the everyday charger priority. */
	ck_assert_int_eq(harness_path(ref, sizeof(ref),
	    "tests/scenarios/critical.yaml"), 0);
	ck_assert_ptr_nonnull(text = harness_read_file(ref, NULL));
	ck_assert_ptr_nonnull(at = strstr(text, chg));
	memcpy(at, "  charger_priority: everyday   \n", sizeof(chg) - 1);
	(void)snprintf(path, sizeof(path), "%s/everyday.yaml", wd);
	ck_assert_int_eq(harness_write_file(path, text, 0644), 0);
	free(text);
	offline(wd, path, "14400", final, sizeof(final));
	ck_assert_double_eq(jnum(final, "grid_charge_s"), 0);
	ck_assert_double_eq(jnum(final, "loads_on_grid"), 1);
	ck_assert_double_lt(jnum(final, "packs[0].soc"), 4);
}
END_TEST

/* ---- inverter semantics ---- */

START_TEST(test_sbu_no_grid_charge)
{
	struct env e;
	double t0;
	char final[16384], mode[32];

	/* An hour of simulated time per wall second. */
	env_up(&e, "sbu", "reference.yaml", 3600);
	/* charger priority alone, in SBU: nothing may change. */
	set(&e, CTL_CHG, SOLAR_UTIL);
	wait_topic(&e, "lvx6048", 1, "charger_source_priority",
	    "Solar and utility", T_SET);
	wait_topic(&e, "lvx6048", 2, "charger_source_priority",
	    "Solar and utility", T_SET);
	t0 = truth(&e, "sim_s");
	wait_truth_ge(&e, "sim_s", t0 + 3 * 3600, T_START);
	for (int u = 1; u <= 2; u++) {
		wait_topic(&e, "lvx6048", u, "output_source_priority", "SBU",
		    T_SET);
		wait_topic(&e, "lvx6048", u, "device_mode", "Battery", T_SET);
		wait_topic(&e, "lvx6048", u, "line_power_direction", "idle",
		    T_SET);
	}
	ck_assert_double_eq(truth(&e, "grid_charge_s"), 0);
	ck_assert_double_eq(truth(&e, "grid_kwh"), 0);
	ck_assert_double_eq(truth(&e, "fault86_count"), 0);
	truth_str(&e, "units[0].mode", mode, sizeof(mode));
	ck_assert_str_eq(mode, "Battery");
	ck_assert(!hobs_seen_payload(e.obs,
	    HA "lvx6048_1_line_power_direction/state", "input"));
	ck_assert(!hobs_seen_payload(e.obs, HA "lvx6048_1_device_mode/state",
	    "Line"));
	/* The bank stayed in the middle: no charge happened. */
	ck_assert_double_lt(truth(&e, "packs[0].soc"), 70);
	env_down(&e, final, sizeof(final));
	double gs = -1;
	ck_assert_int_eq(hjson_num(final, "grid_charge_s", &gs), 0);
	ck_assert_double_eq(gs, 0);
}
END_TEST

START_TEST(test_grid_calibration)
{
	struct env e;
	struct total engaged = { 100, 125, 0 }, tapered = { -1, 30, 56.0 };
	char final[16384];
	double v, soc, bms;

	/* Two simulated hours per wall-clock minute... times 10. */
	env_up(&e, "grid", "reference.yaml", 1200);
	/* Before: pack 6's counter reads 24 % above the truth. */
	ck_assert_double_eq_tol(truth(&e, "packs[5].bms_soc") -
	    truth(&e, "packs[5].soc"), 24, 0.5);
	ck_assert_double_eq_tol(telemetry_num(&e, "lifepower4", 6, "soc"), 76,
	    1);

	/* Enable order: charger priority first, then output priority. */
	set(&e, CTL_CHG, SOLAR_UTIL);
	wait_topic(&e, "lvx6048", 1, "charger_source_priority",
	    "Solar and utility", T_SET);
	set(&e, CTL_OUT, SUB);
	for (int u = 1; u <= 2; u++) {
		wait_topic(&e, "lvx6048", u, "output_source_priority", "SUB",
		    T_SET);
		wait_topic(&e, "lvx6048", u, "line_power_direction", "input",
		    T_SET);
	}
	ck_assert_msg(hobs_wait(e.obs, pred_current, &engaged, T_SET) == 0,
	    "total pack current never reached 100..125 A");
	for (int u = 1; u <= 2; u++) {
		char t[128], mode[32];

		topic(t, sizeof(t), "lvx6048", u, "device_mode");
		(void)hobs_latest(e.obs, t, mode, sizeof(mode));
		ck_assert_msg(strcmp(mode, "Hybrid") == 0 ||
		    strcmp(mode, "Line") == 0, "unit %d in %s while grid "
		    "charging", u, mode);
	}

	/* CC/CV to absorption, then the current tapers below the tail. */
	wait_truth_str(&e, "stage", "absorption", 30000);
	ck_assert_msg(hobs_wait(e.obs, pred_current, &tapered, 20000) == 0,
	    "current did not taper below 30 A at the bulk voltage");
	/* Every BMS terminated and re-anchored, the drifted one included. */
	for (int i = 0; i < 6; i++) {
		char path[64];

		(void)snprintf(path, sizeof(path), "packs[%d].anchors", i);
		wait_truth_ge(&e, path, 1, 20000);
	}
	wait_topic(&e, "lifepower4", 6, "soc", "100", T_SET);

	/* Revert: output priority first, then charger priority. */
	set(&e, CTL_OUT, SBU);
	wait_topic(&e, "lvx6048", 2, "output_source_priority", "SBU", T_SET);
	set(&e, CTL_CHG, SOLAR_FIRST);
	wait_truth_str(&e, "units[1].charger_priority", SOLAR_FIRST, T_SET);
	wait_topic(&e, "lvx6048", 1, "device_mode", "Battery", T_SET);

	env_down(&e, final, sizeof(final));
	/* The truth, from the plant's last word. */
	ck_assert_int_eq(hjson_num(final, "grid_charge_s", &v), 0);
	ck_assert_double_gt(v, 2 * 3600);	/* a few simulated hours */
	ck_assert_int_eq(hjson_num(final, "max_bus_a", &v), 0);
	ck_assert_double_le(v, 120.5);		/* the inverters' limit */
	ck_assert_int_eq(hjson_num(final, "max_cell_v", &v), 0);
	ck_assert_double_lt(v, 3.60);		/* never near the abort */
	ck_assert_int_eq(hjson_num(final, "fault86_count", &v), 0);
	ck_assert_double_eq(v, 0);
	ck_assert_int_eq(hjson_num(final, "control.received", &v), 0);
	ck_assert_double_eq(v, 4);
	ck_assert_int_eq(hjson_num(final, "control.accepted", &v), 0);
	ck_assert_double_eq(v, 4);
	for (int i = 0; i < 6; i++) {
		char p1[64], p2[64];

		(void)snprintf(p1, sizeof(p1), "packs[%d].soc", i);
		(void)snprintf(p2, sizeof(p2), "packs[%d].bms_soc", i);
		ck_assert_int_eq(hjson_num(final, p1, &soc), 0);
		ck_assert_int_eq(hjson_num(final, p2, &bms), 0);
		ck_assert_double_gt(soc, 99);
		ck_assert_msg(fabs(bms - soc) < 1, "pack %d: BMS %.2f, true "
		    "%.2f", i + 1, bms, soc);
	}
}
END_TEST

START_TEST(test_fault86)
{
	struct env e;
	char final[16384];
	double v;

	env_up(&e, "f86", "fault86.yaml", 600);
	/* lvx-control would set both units; here only unit 1 takes it. */
	set(&e, CTL_CHG, SOLAR_UTIL);
	wait_topic(&e, "lvx6048", 1, "charger_source_priority",
	    "Solar and utility", T_SET);
	wait_topic(&e, "lvx6048", 2, "charger_source_priority", "Solar first",
	    T_SET);
	wait_topic(&e, "lvx6048", 1, "device_mode", "Fault", T_SET);
	wait_topic(&e, "lvx6048", 2, "device_mode", "Fault", T_SET);
	wait_truth_ge(&e, "fault86", 1, T_SET);
	ck_assert_double_eq(truth(&e, "control.partial"), 1);
	/* No power flows while the cluster is faulted. */
	ck_assert_double_eq(telemetry_num(&e, "lvx6048", 1,
	    "ac_output_active_power"), 0);
	/* Back in step: the fault clears. */
	set(&e, CTL_CHG, SOLAR_FIRST);
	wait_topic(&e, "lvx6048", 1, "device_mode", "Battery", T_SET);
	wait_topic(&e, "lvx6048", 2, "device_mode", "Battery", T_SET);
	env_down(&e, final, sizeof(final));
	ck_assert_int_eq(hjson_num(final, "fault86_count", &v), 0);
	ck_assert_double_eq(v, 1);
	ck_assert_int_eq(hjson_num(final, "fault86", &v), 0);
	ck_assert_double_eq(v, 0);
	ck_assert_int_eq(hjson_num(final, "grid_charge_s", &v), 0);
	ck_assert_double_eq(v, 0);
}
END_TEST

/*
 * Per-unit control topics ({u} in both): the plant subscribes to each
 * unit's topic and applies a value to that unit only, with its own delay;
 * values for both units back to back (what a watchdog does) apply without
 * fault 86; one unit's alone desyncs the cluster once the mismatch lasts
 * longer than inverter.fault86_after_s.
 */
#define PU_OUT	"solar/control/lvx6048_%d/output_priority"
#define PU_CHG	"solar/control/lvx6048_%d/charger_priority"

START_TEST(test_per_unit_control)
{
	const struct hprofile_kv kv[] = {
		{ "control.output_priority.topic", "solar/control/lvx6048_{u}/"
		    "output_priority" },
		{ "control.charger_priority.topic", "solar/control/lvx6048_{u}/"
		    "charger_priority" },
	};
	struct env e;
	char t[128], final[16384];
	double v;

	env_up_kv(&e, "perunit", "reference.yaml", 600, kv, 2);
	/* the cluster's topic is no longer one the plant obeys */
	set(&e, CTL_CHG, SOLAR_UTIL);
	for (int u = 1; u <= 2; u++) {
		(void)snprintf(t, sizeof(t), PU_CHG, u);
		set(&e, t, SOLAR_UTIL);
	}
	wait_topic(&e, "lvx6048", 1, "charger_source_priority",
	    "Solar and utility", T_SET);
	wait_topic(&e, "lvx6048", 2, "charger_source_priority",
	    "Solar and utility", T_SET);
	ck_assert_double_eq(truth(&e, "control.received"), 2);
	ck_assert_double_eq(truth(&e, "control.accepted"), 2);
	ck_assert_double_eq(truth(&e, "control.partial"), 0);
	ck_assert_double_eq(truth(&e, "fault86_count"), 0);
	/* unit 2 alone: unit 1 keeps its value, the cluster faults */
	(void)snprintf(t, sizeof(t), PU_OUT, 2);
	set(&e, t, SUB);
	wait_truth_str(&e, "units[1].output_priority", SUB, T_SET);
	wait_truth_ge(&e, "fault86_count", 1, T_SET);
	ck_assert_double_ge(truth(&e, "max_mismatch_s"), 90);
	wait_topic(&e, "lvx6048", 1, "output_source_priority", "SBU", T_SET);
	ck_assert_double_eq(truth(&e, "control.partial"), 0);
	(void)snprintf(t, sizeof(t), PU_OUT, 2);
	set(&e, t, SBU);
	for (int u = 1; u <= 2; u++) {
		(void)snprintf(t, sizeof(t), PU_CHG, u);
		set(&e, t, SOLAR_FIRST);
	}
	wait_topic(&e, "lvx6048", 2, "output_source_priority", "SBU", T_SET);
	wait_topic(&e, "lvx6048", 1, "device_mode", "Battery", T_SET);
	env_down(&e, final, sizeof(final));
	ck_assert_int_eq(hjson_num(final, "fault86", &v), 0);
	ck_assert_double_eq(v, 0);
}
END_TEST

/*
 * Three sensors per pack (a profile's pack_fields.temperatures): each is
 * published on its own topic, and temp_ramp with field heats that sensor
 * of that pack only.
 */
START_TEST(test_three_sensors_one_heats)
{
	const struct hprofile_kv kv[] = {
		/* flow style: a topic's {i} needs quotes there */
		{ "pack_fields.temperatures", "[{name: temperature_pcb, topic: \""
		    HA "lifepower4_{i}_temperature_pcb/state\", unit: C, min: -40, "
		    "max: 120}, {name: temperature_cell, topic: \"" HA
		    "lifepower4_{i}_temperature_cell/state\", unit: C, min: -40, "
		    "max: 120}, {name: temperature_mid, topic: \"" HA
		    "lifepower4_{i}_temperature_mid/state\", unit: F, min: -40, "
		    "max: 120}]" },
	};
	char path[PATH_MAX], *base, *at;
	struct env e;
	FILE *f;
	double mid;

	ck_assert_int_eq(harness_path(path, sizeof(path),
	    "tests/scenarios/reference.yaml"), 0);
	ck_assert_ptr_nonnull(base = harness_read_file(path, NULL));
	ck_assert_ptr_nonnull(at = strstr(base, "faults: []"));
	*at = '\0';
	(void)snprintf(path, sizeof(path), "/tmp/gridcal-plant-hot-mid-%ld.yaml",
	    (long)getpid());
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f, "%sfaults:\n  - { kind: temp_ramp, pack: 2, field: "
	    "temperature_mid, rate_per_min: 2, limit: 30 }\n", base);
	ck_assert_int_eq(fclose(f), 0);
	free(base);
	env_up_kv(&e, "three", path, 600, kv, 1);
	/* pack 2's mid sensor runs 30 C above its own cells */
	wait_truth_ge(&e, "packs[1].sensors_c[2]", 50, T_START);
	ck_assert_double_lt(truth(&e, "packs[1].sensors_c[1]"), 30);
	ck_assert_double_lt(truth(&e, "packs[0].sensors_c[2]"), 30);
	ck_assert_double_ge(truth(&e, "packs[1].max_temp_c"), 50);
	/* published in F, as the profile says */
	wait_ticks(&e, 2);
	mid = telemetry_num(&e, "lifepower4", 2, "temperature_mid");
	ck_assert_double_ge(mid, 122);
	ck_assert_double_lt(telemetry_num(&e, "lifepower4", 1,
	    "temperature_mid"), 86);
	ck_assert_double_lt(telemetry_num(&e, "lifepower4", 2,
	    "temperature_cell"), 30);
	env_down(&e, NULL, 0);
	(void)unlink(path);
}
END_TEST

/* ---- fault injection, observed on the topics ---- */

struct stale {
	const char	*topic, *fresh;
	int64_t		 ms;
};

/* topic silent for ms while fresh keeps coming */
static bool
pred_stale(struct hobs *o, void *arg)
{
	const struct stale *s = arg;
	int64_t now = harness_now_ms();

	return now - hobs_last_at(o, s->topic) >= s->ms &&
	    now - hobs_last_at(o, s->fresh) < 500;
}

START_TEST(test_faults_telemetry)
{
	struct env e;
	struct stale pack5 = { HA "lifepower4_5_soc/state",
	    HA "lifepower4_4_soc/state", 1500 };
	char got[64];

	env_up(&e, "ftel", "faults-telemetry.yaml", 600);
	/* pack 1: garbage and flag-bit payloads on cell_voltage_max */
	const char *garbage[] = { "nan", "", "unavailable", "19.845" };
	for (size_t i = 0; i < 4; i++) {
		struct { const char *t, *p; } w;

		w.t = HA "lifepower4_1_cell_voltage_max/state";
		w.p = garbage[i];
		for (int64_t end = harness_now_ms() + T_SET;
		    !hobs_seen_payload(e.obs, w.t, w.p) &&
		    harness_now_ms() < end;)
			wait_ticks(&e, 1);
		ck_assert_msg(hobs_seen_payload(e.obs, w.t, w.p),
		    "pack 1 never published \"%s\"", w.p);
	}
	/* unit 1: device_mode "unavailable", exactly 5 times */
	wait_truth_ge(&e, "faults[5].used", 5, T_SET);
	ck_assert(hobs_seen_payload(e.obs, HA "lvx6048_1_device_mode/state",
	    "unavailable"));
	wait_topic(&e, "lvx6048", 1, "device_mode", "Battery", T_SET);
	/* unit 2: ac power never published; its other fields are */
	ck_assert_uint_gt(hobs_count(e.obs, HA "lvx6048_2_device_mode/state"),
	    0);
	ck_assert_uint_eq(hobs_count(e.obs,
	    HA "lvx6048_2_ac_output_active_power/state"), 0);
	/* pack 3: the cell runs past the abort limit into BMS protection */
	ck_assert_int_eq(hobs_wait_truth_ge(e.obs, "packs[2].max_cell_v",
	    3.65, T_START), 0);
	wait_topic(&e, "lifepower4", 3, "protection", "1", T_SET);
	ck_assert_double_ge(telemetry_num(&e, "lifepower4", 3,
	    "cell_voltage_max"), 3.60);
	ck_assert_double_lt(telemetry_num(&e, "lifepower4", 2,
	    "cell_voltage_max"), 3.40);
	/* pack 4: protection bits */
	wait_topic(&e, "lifepower4", 4, "protection", "4", T_SET);
	/* pack 5: goes silent while pack 4 keeps publishing */
	ck_assert_msg(hobs_wait(e.obs, pred_stale, &pack5, T_START) == 0,
	    "pack 5 did not go silent");
	/* pack 2: temperature ramps past the 45 C abort limit */
	wait_truth_ge(&e, "packs[1].temp_c", 46, T_START);
	ck_assert_double_gt(telemetry_num(&e, "lifepower4", 2,
	    "temperature_cell"), 45);
	ck_assert_double_lt(telemetry_num(&e, "lifepower4", 1,
	    "temperature_cell"), 30);
	/* solar collapses */
	wait_truth_ge(&e, "faults[7].active", 1, T_START);
	wait_topic(&e, "lvx6048", 1, "mppt1_input_power", "0", T_SET);
	wait_topic(&e, "lvx6048", 2, "mppt1_input_power", "0", T_SET);
	(void)hobs_latest(e.obs, HA "lifepower4_4_soc/state", got, sizeof(got));
	ck_assert_str_ne(got, "");
	env_down(&e, NULL, 0);
}
END_TEST

START_TEST(test_faults_control)
{
	struct env e;
	struct stale chg = { HA "lvx6048_1_charger_source_priority/state",
	    HA "lvx6048_1_device_mode/state", 1000 };
	double t_sent, t_applied;

	env_up(&e, "fctl", "faults-control.yaml", 600);
	/* NAK: ignored, and the priority readbacks go silent */
	set(&e, CTL_CHG, SOLAR_UTIL);
	wait_truth_ge(&e, "control.nak", 1, T_SET);
	ck_assert_msg(hobs_wait(e.obs, pred_stale, &chg, T_START) == 0,
	    "charger readback kept publishing after a NAK");
	ck_assert_double_eq(truth(&e, "units[0].applied"), 0);
	/* the next one is applied and the readbacks come back */
	set(&e, CTL_CHG, SOLAR_UTIL);
	wait_topic(&e, "lvx6048", 1, "charger_source_priority",
	    "Solar and utility", T_SET);
	wait_topic(&e, "lvx6048", 2, "charger_source_priority",
	    "Solar and utility", T_SET);
	/* ignored once: received, not applied, readback unchanged */
	set(&e, CTL_OUT, SUB);
	wait_truth_ge(&e, "control.ignored", 2, T_SET);
	wait_ticks(&e, 3);
	wait_topic(&e, "lvx6048", 1, "output_source_priority", "SBU", T_SET);
	ck_assert_double_eq(truth(&e, "units[0].pending"), 0);
	/* applied slowly: 600 simulated seconds after arrival */
	t_sent = truth(&e, "sim_s");
	set(&e, CTL_OUT, SUB);
	wait_truth_ge(&e, "units[0].pending", 1, T_SET);
	/* The first truth with the value applied: telemetry can be a tick
	 * ahead of the latest truth the observer holds. */
	wait_truth_str(&e, "units[0].output_priority", SUB, T_START);
	t_applied = truth(&e, "sim_s");
	wait_topic(&e, "lvx6048", 1, "output_source_priority", "SUB", T_SET);
	ck_assert_double_ge(t_applied - t_sent, 600);
	/* not a control value: ignored and counted */
	set(&e, CTL_OUT, "SBU");
	wait_truth_ge(&e, "control.invalid", 1, T_SET);
	wait_ticks(&e, 3);
	wait_topic(&e, "lvx6048", 2, "output_source_priority", "SUB", T_SET);
	ck_assert_double_eq(truth(&e, "control.received"), 5);
	ck_assert_double_eq(truth(&e, "control.accepted"), 2);
	ck_assert_double_eq(truth(&e, "control.ignored"), 3);
	env_down(&e, NULL, 0);
}
END_TEST

START_TEST(test_lagging_pack)
{
	struct env e;
	struct total tapered = { -1, 30, 56.0 };
	char final[16384];
	double v;

	env_up(&e, "lag", "lagging.yaml", 1200);
	set(&e, CTL_CHG, SOLAR_UTIL);
	set(&e, CTL_OUT, SUB);
	wait_truth_str(&e, "stage", "absorption", T_START);
	ck_assert_msg(hobs_wait(e.obs, pred_current, &tapered, 20000) == 0,
	    "no taper");
	for (int i = 0; i < 6; i++) {
		char path[64];

		if (i == 3)
			continue;
		(void)snprintf(path, sizeof(path), "packs[%d].anchors", i);
		wait_truth_ge(&e, path, 1, 20000);
	}
	/* Well past the others' anchoring, pack 4 still lags. */
	wait_truth_ge(&e, "absorption_s", 3600, T_START);
	ck_assert_double_eq(truth(&e, "packs[3].anchors"), 0);
	ck_assert_double_lt(telemetry_num(&e, "lifepower4", 4, "soc"), 95);
	set(&e, CTL_OUT, SBU);
	set(&e, CTL_CHG, SOLAR_FIRST);
	wait_truth_str(&e, "units[1].output_priority", SBU, T_SET);
	env_down(&e, final, sizeof(final));
	ck_assert_int_eq(hjson_num(final, "packs[3].soc", &v), 0);
	ck_assert_double_gt(v, 99);
	ck_assert_int_eq(hjson_num(final, "packs[3].bms_soc", &v), 0);
	ck_assert_double_lt(v, 95);
}
END_TEST

/* ---- the supervisor cannot change a setting ---- */

START_TEST(test_supervisor_cannot_set)
{
	struct env e;
	struct hclient *sup, *sup5;
	int reason = -1;
	double before;

	env_up(&e, "supset", "reference.yaml", 600);
	ck_assert_ptr_nonnull(sup = hclient_connect(&e.br, "supervisor", false,
	    T_START));
	ck_assert_ptr_nonnull(sup5 = hclient_connect(&e.br, "supervisor", true,
	    T_START));

	/* MQTT 5: the broker says no. */
	ck_assert_int_eq(hclient_publish(sup5, CTL_OUT, SUB, 1, false, T_SET,
	    &reason), 0);
	ck_assert_int_eq(reason, 135);
	ck_assert_int_eq(hclient_publish(sup5, CTL_CHG, SOLAR_UTIL, 1, false,
	    T_SET, &reason), 0);
	ck_assert_int_eq(reason, 135);

	/* MQTT 3.1.1: the PUBACK says nothing, so watch what arrives. The
	 * marker is allowed and published after the attempts: once it is
	 * through, so would they have been. */
	ck_assert_int_eq(hclient_publish(sup, CTL_OUT, SUB, 1, false, T_SET,
	    NULL), 0);
	ck_assert_int_eq(hclient_publish(sup, CTL_CHG, SOLAR_UTIL, 1, false,
	    T_SET, NULL), 0);
	ck_assert_int_eq(hclient_publish(sup, "gridcal/supervisor/marker", "1",
	    1, false, T_SET, NULL), 0);
	ck_assert_int_eq(hobs_wait_count(e.obs, "gridcal/supervisor/marker", 1,
	    T_SET), 0);
	wait_ticks(&e, 5);
	ck_assert_double_eq(truth(&e, "control.received"), 0);
	ck_assert_uint_eq(hobs_log_count(e.obs, "solar/control/"), 0);
	ck_assert_double_eq(truth(&e, "calibration_s"), 0);
	wait_topic(&e, "lvx6048", 1, "output_source_priority", "SBU", T_SET);

	/* The same publish as the watchdog does arrive: the check works. */
	before = truth(&e, "control.received");
	set(&e, CTL_CHG, SOLAR_FIRST);
	wait_truth_ge(&e, "control.received", before + 1, T_SET);
	ck_assert_uint_eq(hobs_log_count(e.obs, "solar/control/"), 1);

	hclient_close(sup);
	hclient_close(sup5);
	env_down(&e, NULL, 0);
}
END_TEST

/* ---- the plant's own contract ---- */

START_TEST(test_plant_exit)
{
	struct env e;
	char final[16384], name[64];
	double v;

	env_up(&e, "exit", "reference.yaml", 600);
	wait_ticks(&e, 3);
	/* SIGINT too ends it cleanly with its final truth. */
	ck_assert_int_eq(hproc_signal(&e.plant, SIGINT), 0);
	ck_assert_int_eq(hproc_wait(&e.plant, T_START), 0);
	ck_assert_int_eq(hproc_exit_code(&e.plant), 0);
	ck_assert_int_eq(harness_last_line(e.plant.out_path, final,
	    sizeof(final)), 0);
	ck_assert_int_eq(hjson_str(final, "scenario", name, sizeof(name)), 0);
	ck_assert_str_eq(name, "reference");
	ck_assert_int_eq(hjson_num(final, "sim_s", &v), 0);
	ck_assert_double_gt(v, 0);
	e.plant_up = false;
	/* Nothing was retained: a new subscriber gets no telemetry before a
	 * marker published after it subscribed. */
	struct hobs *late = hobs_start(&e.br, T_START);
	ck_assert_ptr_nonnull(late);
	ck_assert_int_eq(hclient_publish(e.watchdog, "gridcal/watchdog/marker",
	    "1", 1, false, T_SET, NULL), 0);
	ck_assert_int_eq(hobs_wait_count(late, "gridcal/watchdog/marker", 1,
	    T_SET), 0);
	ck_assert_uint_eq(hobs_count(late, HA "lifepower4_1_soc/state"), 0);
	ck_assert_uint_eq(hobs_count(late, HPLANT_STATUS_TOPIC), 0);
	ck_assert_uint_gt(hobs_count(e.obs, HA "lifepower4_1_soc/state"), 0);
	hobs_stop(late);
	env_down(&e, NULL, 0);
}
END_TEST

static Suite *
plant_suite(void)
{
	Suite *s = suite_create("plant");
	TCase *harness = tcase_create("harness");
	TCase *plant = tcase_create("plant");
	TCase *faults = tcase_create("faults");
	TCase *acl = tcase_create("acl");

	tcase_set_timeout(harness, 60);
	tcase_add_test(harness, test_broker_acl);
	tcase_add_test(harness, test_broker_restart);
	tcase_add_test(harness, test_profile_overrides);
	tcase_add_test(harness, test_sim_profile_loads);
	tcase_add_test(harness, test_scenario_strict);
	tcase_add_test(harness, test_plant_deterministic);
	tcase_add_test(harness, test_solar_only);
	tcase_add_test(harness, test_sbu_critical);
	suite_add_tcase(s, harness);

	tcase_set_timeout(plant, 90);
	tcase_add_test(plant, test_plant_exit);
	tcase_add_test(plant, test_sbu_no_grid_charge);
	tcase_add_test(plant, test_grid_calibration);
	tcase_add_test(plant, test_fault86);
	tcase_add_test(plant, test_per_unit_control);
	tcase_add_test(plant, test_three_sensors_one_heats);
	suite_add_tcase(s, plant);

	tcase_set_timeout(faults, 90);
	tcase_add_test(faults, test_faults_telemetry);
	tcase_add_test(faults, test_faults_control);
	tcase_add_test(faults, test_lagging_pack);
	suite_add_tcase(s, faults);

	tcase_set_timeout(acl, 60);
	tcase_add_test(acl, test_supervisor_cannot_set);
	suite_add_tcase(s, acl);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(plant_suite());
	int64_t t0 = harness_now_ms();
	int run, failed;

	srunner_run_all(sr, CK_NORMAL);
	run = srunner_ntests_run(sr);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	printf("check-plant: %d tests, %d failed, %.1f s\n", run, failed,
	    (double)(harness_now_ms() - t0) / 1000.0);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
