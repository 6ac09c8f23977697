/*
 * gridcal-supervisor end to end: a real mosquitto with the site's ACL,
 * gridcal-plant on a scenario, gridcal-watchdog running the real
 * supervisor. Every assertion about the plant is on the plant's own truth
 * (plant/status), every assertion about settings on what the observer saw
 * on solar/control/#, every assertion about the record on the audit log
 * the watchdog wrote. Deadlines, never fixed sleeps.
 *
 * Watchdog exit codes (gridcal-watchdog --help): 0 PASS, 1 FAIL,
 * 2 ABORTED, 3 REFUSED, 4 CANCELLED.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/demo/rig.h"

#define WD_PASS		0
#define WD_FAIL		1
#define WD_ABORTED	2
#define WD_REFUSED	3
#define WD_CANCELLED	4

#define RUN_MS		90000	/* longest a run may take here */
#define STATUS_TOPIC	"gridcal/supervisor/status"

static struct rig r;

/*
 * GRIDCAL_SUPERVISOR_BIN (check-supervisor-san: the ASan+UBSan build)
 * replaces the supervisor the watchdog runs: one more profile override.
 */
static int
with_binary(struct rig *rr, const char *tag, const char *scenario,
    const struct hprofile_kv *ov, size_t nov)
{
	struct hprofile_kv all[8];
	const char *bin = getenv("GRIDCAL_SUPERVISOR_BIN");

	ck_assert_uint_lt(nov, sizeof(all) / sizeof(all[0]));
	for (size_t i = 0; i < nov; i++)
		all[i] = ov[i];
	if (bin != NULL) {
		all[nov].key = "paths.supervisor";
		all[nov].value = bin;
		nov++;
	}
	return rig_start(rr, tag, scenario, all, nov, NULL);
}

static void
start(const char *tag, const char *scenario, const struct hprofile_kv *ov,
    size_t nov)
{
	memset(&r, 0, sizeof(r));
	ck_assert_msg(with_binary(&r, tag, scenario, ov, nov) == 0,
	    "rig for %s did not start", scenario);
}

/* Prints what the run said, for the test log. */
static void
dump(const char *path)
{
	char *t;
	size_t n;

	if ((t = harness_read_file(path, &n)) == NULL)
		return;
	(void)fprintf(stderr, "---- %s\n%s", path, t);
	free(t);
}

static int
finish_run(void)
{
	int rc = rig_watchdog_wait(&r, RUN_MS);

	if (rc == -1 || getenv("GRIDCAL_TEST_VERBOSE") != NULL) {
		dump(r.wd_out);
		dump(r.wd_err);
	}
	return rc;
}

/* True if the file holds needle. */
static bool
file_has(const char *path, const char *needle)
{
	char *t;
	size_t n;
	bool found;

	if ((t = harness_read_file(path, &n)) == NULL)
		return false;
	found = strstr(t, needle) != NULL;
	free(t);
	return found;
}

/* Waits for a plant truth newer than now: the truth after the run. */
static void
fresh_truth(void)
{
	uint64_t n = hobs_count(r.obs, HPLANT_STATUS_TOPIC);

	ck_assert_int_eq(hobs_wait_count(r.obs, HPLANT_STATUS_TOPIC, n + 2,
	    5000), 0);
}

static void
assert_everyday(void)
{
	fresh_truth();
	ck_assert_msg(rig_truth_everyday(&r),
	    "plant truth: a unit is not in its everyday settings");
}

static void
assert_audit_intact(void)
{
	ck_assert_msg(rig_audit_verify(&r, false) == 0,
	    "audit log %s does not verify", r.audit_log);
}

/* Reason in the report (stdout) and in the audited report event. */
static void
assert_reason(const char *outcome, const char *code)
{
	char want[96];

	(void)snprintf(want, sizeof(want), "outcome   %s", outcome);
	ck_assert_msg(file_has(r.wd_out, want), "report lacks \"%s\"", want);
	ck_assert_msg(file_has(r.wd_out, code), "report lacks reason %s", code);
	(void)snprintf(want, sizeof(want), "reason=%s", code);
	ck_assert_msg(rig_audit_has(&r, "report", want),
	    "audit log lacks a report with %s", want);
}

struct status_want {
	const char	*state;
};

static bool
status_is(struct hobs *o, void *arg)
{
	const struct status_want *w = arg;
	char buf[512], key[96];

	(void)snprintf(key, sizeof(key), "\"state\":\"%s\"", w->state);
	return hobs_latest(o, STATUS_TOPIC, buf, sizeof(buf)) > 0 &&
	    strstr(buf, key) != NULL;
}

/* Until the supervisor says it is in state (its status topic). */
static void
wait_state(const char *state, int64_t timeout_ms)
{
	struct status_want w = { state };

	ck_assert_msg(hobs_wait(r.obs, status_is, &w, timeout_ms) == 0,
	    "supervisor never reached %s", state);
}

/* The watchdog's child: the supervisor. */
static pid_t
supervisor_pid(void)
{
	char path[64], buf[64];
	FILE *f;
	long pid = 0;

	(void)snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children",
	    (long)r.wd.pid, (long)r.wd.pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) == NULL || sscanf(buf, "%ld", &pid) != 1)
		pid = -1;
	(void)fclose(f);
	return (pid_t)pid;
}

static bool
any_calibration_published(void)
{
	struct hobs_msg m;

	for (size_t i = 0; i < rig_control_count(&r); i++)
		if (hobs_log_get(r.obs, "solar/control/", i, &m) == 0 &&
		    (strcmp(m.payload, "solar_utility_battery") == 0 ||
		    strcmp(m.payload, "solar_and_utility") == 0))
			return true;
	return false;
}

/* ---- PASS ---------------------------------------------------------- */

START_TEST(grid_pass)
{
	start("sup-grid", "reference.yaml", NULL, 0);
	ck_assert_int_eq(rig_watchdog(&r, "grid", true, false), 0);
	ck_assert_int_eq(finish_run(), WD_PASS);
	fresh_truth();
	ck_assert_msg(rig_truth_soc_at_least(&r, 99.0),
	    "plant truth: a pack's counter did not re-anchor");
	ck_assert(rig_truth_everyday(&r));
	/* both settings went to calibration and came back */
	ck_assert(hobs_seen_payload(r.obs,
	    "solar/control/lvx6048/output_priority", "solar_utility_battery"));
	ck_assert(hobs_seen_payload(r.obs,
	    "solar/control/lvx6048/charger_priority", "solar_and_utility"));
	ck_assert(hobs_seen_payload(r.obs,
	    "solar/control/lvx6048/output_priority", "solar_battery_utility"));
	ck_assert(hobs_seen_payload(r.obs,
	    "solar/control/lvx6048/charger_priority", "solar_first"));
	assert_reason("PASS", "reanchored");
	ck_assert(file_has(r.wd_out, "confirmed by readback"));
	/* progress a person can follow: the hold counted down, what next */
	ck_assert(file_has(r.wd_out, " left\n"));
	ck_assert(file_has(r.wd_out, "| hold 0:00:0"));
	ck_assert(file_has(r.wd_out, "temp max "));
	ck_assert(file_has(r.wd_out, "next: nothing; the counters are "
	    "re-anchored"));
	ck_assert(rig_audit_has(&r, "preflight", "class=drift"));
	ck_assert(rig_audit_has(&r, "report", "soc_after=100.0,100.0"));
	assert_audit_intact();
	rig_stop(&r);
}
END_TEST

START_TEST(solar_pass)
{
	start("sup-solar", "sunny.yaml", NULL, 0);
	ck_assert_int_eq(rig_watchdog(&r, "solar", false, false), 0);
	ck_assert_int_eq(finish_run(), WD_PASS);
	fresh_truth();
	ck_assert(rig_truth_soc_at_least(&r, 99.0));
	ck_assert(rig_truth_everyday(&r));
	/* the observer logged every control message since before the run */
	ck_assert_uint_eq(rig_control_count(&r), 0);
	assert_reason("PASS", "reanchored");
	ck_assert(file_has(r.wd_out, "never changed"));
	assert_audit_intact();
	rig_stop(&r);
}
END_TEST

/* ---- refusals: nothing published ----------------------------------- */

static void
refusal(const char *tag, const char *scenario, bool confirm, const char *code)
{
	start(tag, scenario, NULL, 0);
	ck_assert_int_eq(rig_watchdog(&r, "grid", confirm, false), 0);
	ck_assert_int_eq(finish_run(), WD_REFUSED);
	ck_assert_uint_eq(rig_control_count(&r), 0);
	assert_everyday();
	assert_reason("REFUSED", code);
	assert_audit_intact();
	rig_stop(&r);
}

START_TEST(refuse_imbalance)
{
	refusal("sup-imbalance", "imbalance.yaml", true, "imbalance");
	ck_assert(file_has(r.wd_out, "investigate the battery"));
}
END_TEST

START_TEST(refuse_cold)
{
	refusal("sup-cold", "cold.yaml", true, "temperature");
}
END_TEST

START_TEST(refuse_unconfirmed)
{
	refusal("sup-noconfirm", "reference.yaml", false, "not_authorised");
}
END_TEST

/* ---- aborts: through the revert ------------------------------------ */

/* The run ended with outcome for reason code; settings everyday per the
 * plant and the revert recorded. */
static void
assert_aborted(int want_exit, const char *outcome, const char *code)
{
	ck_assert_int_eq(finish_run(), want_exit);
	assert_everyday();
	assert_reason(outcome, code);
	assert_audit_intact();
}

static void
abort_run(const char *tag, const char *scenario, const char *code)
{
	start(tag, scenario, NULL, 0);
	ck_assert_int_eq(rig_watchdog(&r, "grid", true, false), 0);
	assert_aborted(WD_ABORTED, "ABORTED", code);
	ck_assert(any_calibration_published());
	ck_assert(rig_audit_has(&r, "abort", code));
	rig_stop(&r);
}

START_TEST(abort_cell)
{
	abort_run("sup-cell", "abort-cell.yaml", "cell_over_limit");
}
END_TEST

START_TEST(abort_temperature)
{
	abort_run("sup-hot", "hot-pack.yaml", "temperature_out_of_range");
}
END_TEST

START_TEST(abort_protection)
{
	abort_run("sup-prot", "protection-on-charge.yaml", "protection_set");
}
END_TEST

START_TEST(abort_stale)
{
	abort_run("sup-stale", "stall-on-charge.yaml", "telemetry_stale");
}
END_TEST

START_TEST(abort_unit_fault)
{
	abort_run("sup-fault86", "fault86.yaml", "unit_fault");
}
END_TEST

/* Someone else sets output priority back to SBU mid-charge. */
START_TEST(abort_unit_mismatch)
{
	struct hclient *c;

	start("sup-mismatch", "reference.yaml", NULL, 0);
	ck_assert_int_eq(rig_watchdog(&r, "grid", true, false), 0);
	wait_state("grid_charging", 30000);
	ck_assert_ptr_nonnull(c = hclient_connect(&r.br, "watchdog", false,
	    5000));
	ck_assert_int_eq(hclient_publish(c, "solar/control/lvx6048/"
	    "output_priority", "solar_battery_utility", 1, false, 5000,
	    NULL), 0);
	hclient_close(c);
	assert_aborted(WD_ABORTED, "ABORTED", "unit_mismatch");
	rig_stop(&r);
}
END_TEST

/* The watchdog cannot write its intent mark: it refuses the first set. */
START_TEST(abort_watchdog_refused)
{
	char tmp[PATH_MAX];

	start("sup-refused", "reference.yaml", NULL, 0);
	ck_assert_int_lt(snprintf(tmp, sizeof(tmp), "%s/watchdog.intent.tmp",
	    r.state_dir), (int)sizeof(tmp));
	ck_assert_int_eq(mkdir(tmp, 0700), 0);
	ck_assert_int_eq(rig_watchdog(&r, "grid", true, false), 0);
	assert_aborted(WD_ABORTED, "ABORTED", "watchdog_refused");
	ck_assert(file_has(r.wd_out, "refusal=mark"));
	ck_assert(!any_calibration_published());
	rig_stop(&r);
}
END_TEST

/* The units ignore every control message: the watchdog's confirm timer
 * reverts on its own and tells the supervisor. */
START_TEST(abort_watchdog_reverted)
{
	abort_run("sup-ignored", "ignore-forever.yaml", "watchdog_reverted");
}
END_TEST

START_TEST(abort_run_timeout)
{
	static const struct hprofile_kv ov[] = {
		{ "timing.run_max_s", "9" },
		{ "timing.absorption_max_s", "8" },
	};

	start("sup-timeout", "reference.yaml", ov, 2);
	ck_assert_int_eq(rig_watchdog(&r, "grid", true, false), 0);
	assert_aborted(WD_ABORTED, "ABORTED", "run_timeout");
	rig_stop(&r);
}
END_TEST

START_TEST(cancel_sigterm)
{
	pid_t pid;

	start("sup-cancel", "reference.yaml", NULL, 0);
	ck_assert_int_eq(rig_watchdog(&r, "grid", true, false), 0);
	wait_state("grid_charging", 30000);
	ck_assert_int_gt(pid = supervisor_pid(), 0);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	assert_aborted(WD_CANCELLED, "CANCELLED", "cancel");
	rig_stop(&r);
}
END_TEST

/* Grid-assist settings confirmed, but the grid is down: nothing engages. */
START_TEST(abort_engage_timeout)
{
	static const char *const from[] = { "grid: true" };
	static const char *const to[] = { "grid: false" };
	char scen[PATH_MAX];

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(harness_workdir(r.workdir, sizeof(r.workdir),
	    "sup-nogrid"), 0);
	ck_assert_int_eq(rig_scenario(&r, "reference.yaml", from, to, 1, scen,
	    sizeof(scen)), 0);
	ck_assert_int_eq(with_binary(&r, "sup-nogrid", scen, NULL, 0), 0);
	ck_assert_int_eq(rig_watchdog(&r, "grid", true, false), 0);
	assert_aborted(WD_ABORTED, "ABORTED", "engage_timeout");
	ck_assert(any_calibration_published());
	rig_stop(&r);
}
END_TEST

/* ---- FAIL: the charge ran but a counter did not re-anchor ---------- */

/* Pack 4's BMS never re-anchors: named after the longest hold. */
START_TEST(fail_lagging_pack)
{
	static const struct hprofile_kv ov[] = {
		{ "timing.absorption_max_s", "6" },
	};

	start("sup-lagging", "lagging.yaml", ov, 1);
	ck_assert_int_eq(rig_watchdog(&r, "grid", true, false), 0);
	ck_assert_int_eq(finish_run(), WD_FAIL);
	assert_everyday();
	assert_reason("FAIL", "lagging");
	ck_assert(file_has(r.wd_out, "(lagging)"));
	ck_assert(file_has(r.wd_out, "next: extend timing.absorption_max_s or "
	    "investigate pack(s) "));
	ck_assert(rig_audit_has(&r, "report", "lagging=4 "));
	assert_audit_intact();
	rig_stop(&r);
}
END_TEST

/* Solar-only on a day whose sun collapses: FAIL at the run's end, and
 * still nothing published. */
START_TEST(solar_fail_collapse)
{
	static const char *const from[] = { "faults: []" };
	static const char *const to[] = { "faults:\n"
	    "  - { kind: solar_collapse, trigger: time, at_s: 60 }\n" };
	static const struct hprofile_kv ov[] = {
		{ "timing.run_max_s", "12" },
		{ "timing.absorption_max_s", "8" },
	};
	char scen[PATH_MAX];

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(harness_workdir(r.workdir, sizeof(r.workdir),
	    "sup-collapse"), 0);
	ck_assert_int_eq(rig_scenario(&r, "sunny.yaml", from, to, 1, scen,
	    sizeof(scen)), 0);
	ck_assert_int_eq(with_binary(&r, "sup-collapse", scen, ov, 2), 0);
	ck_assert_int_eq(rig_watchdog(&r, "solar", false, false), 0);
	ck_assert_int_eq(finish_run(), WD_FAIL);
	ck_assert_uint_eq(rig_control_count(&r), 0);
	assert_reason("FAIL", "no_absorption");
	assert_audit_intact();
	rig_stop(&r);
}
END_TEST

/* Until the file holds needle (a process's log). */
static void
wait_file(const char *path, const char *needle, int64_t timeout_ms)
{
	int64_t end = harness_now_ms() + timeout_ms;
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	while (!file_has(path, needle)) {
		ck_assert_msg(harness_now_ms() < end, "%s: no \"%s\" within "
		    "%lld ms", path, needle, (long long)timeout_ms);
		(void)nanosleep(&ts, NULL);
	}
}

/*
 * The broker dies mid-charge: the supervisor's telemetry goes stale and it
 * aborts into the revert, which the watchdog completes once the broker is
 * back. (The watchdog's own stale envelope is set wide so that the
 * supervisor's abort is the one under test.)
 */
START_TEST(abort_broker_lost)
{
	static const struct hprofile_kv ov[] = {
		{ "limits.envelope.stale_s", "30" },
	};

	start("sup-brokerlost", "reference.yaml", ov, 1);
	ck_assert_int_eq(rig_watchdog(&r, "grid", true, false), 0);
	wait_state("grid_charging", 30000);
	ck_assert_int_eq(hbroker_kill(&r.br), 0);
	wait_file(r.wd_err, "abort: telemetry_stale", 20000);
	ck_assert_int_eq(hbroker_restart(&r.br), 0);
	assert_aborted(WD_ABORTED, "ABORTED", "telemetry_stale");
	rig_stop(&r);
}
END_TEST

/* A bank whose SoC readings already agree: refused, nothing published. */
START_TEST(refuse_balanced)
{
	static const char *const from[] = { "bms_offset_pct: 24.0",
	    "bms_offset_pct: 2.5" };
	static const char *const to[] = { "bms_offset_pct: 0.0",
	    "bms_offset_pct: 1.0" };
	char scen[PATH_MAX];

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(harness_workdir(r.workdir, sizeof(r.workdir),
	    "sup-refbal"), 0);
	ck_assert_int_eq(rig_scenario(&r, "reference.yaml", from, to, 2, scen,
	    sizeof(scen)), 0);
	ck_assert_int_eq(with_binary(&r, "sup-refbal", scen, NULL, 0), 0);
	ck_assert_int_eq(rig_watchdog(&r, "grid", true, false), 0);
	ck_assert_int_eq(finish_run(), WD_REFUSED);
	ck_assert_uint_eq(rig_control_count(&r), 0);
	assert_everyday();
	assert_reason("REFUSED", "balanced");
	ck_assert(rig_audit_has(&r, "preflight", "class=balanced"));
	assert_audit_intact();
	rig_stop(&r);
}
END_TEST

/* ---- check: read-only classification ------------------------------- */

static int
run_check(char *out, size_t outsz)
{
	char bin[PATH_MAX], path[PATH_MAX];
	char *argv[] = { bin, (char *)"--profile", r.profile, (char *)"check",
	    NULL };
	struct hproc p;
	char *t;
	size_t n;

	if (getenv("GRIDCAL_SUPERVISOR_BIN") != NULL)
		(void)strlcpy(bin, getenv("GRIDCAL_SUPERVISOR_BIN"), sizeof(bin));
	else
		ck_assert_int_eq(harness_path(bin, sizeof(bin),
		    "build/gridcal-supervisor"), 0);
	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/check.out",
	    r.workdir), (int)sizeof(path));
	ck_assert_int_eq(hproc_spawn(&p, argv, NULL, path, NULL), 0);
	ck_assert_int_eq(hproc_wait(&p, 30000), 0);
	out[0] = '\0';
	if ((t = harness_read_file(path, &n)) != NULL) {
		(void)strlcpy(out, t, outsz);
		free(t);
	}
	return hproc_exit_code(&p);
}

static void
check_class(const char *scenario, int want, const char *cls)
{
	static char out[8192];
	char key[64];

	start("sup-check", scenario, NULL, 0);
	ck_assert_int_eq(run_check(out, sizeof(out)), want);
	(void)snprintf(key, sizeof(key), "pre-flight: %s", cls);
	ck_assert_msg(strstr(out, key) != NULL, "check said:\n%s", out);
	ck_assert_msg(strstr(out, "SoC ") != NULL, "no figures:\n%s", out);
	ck_assert_uint_eq(rig_control_count(&r), 0);
	rig_stop(&r);
}

START_TEST(check_drift)
{
	check_class("reference.yaml", 10, "drift");
}
END_TEST

START_TEST(check_imbalance)
{
	check_class("imbalance.yaml", 11, "imbalance");
}
END_TEST

START_TEST(check_unsafe)
{
	check_class("cold.yaml", 12, "unsafe");
}
END_TEST

START_TEST(check_balanced)
{
	/* pack 6 not drifted, pack 5 less: SoC readings within 5 % */
	static const char *const from[] = { "bms_offset_pct: 24.0",
	    "bms_offset_pct: 2.5" };
	static const char *const to[] = { "bms_offset_pct: 0.0",
	    "bms_offset_pct: 1.0" };
	static char out[8192];
	char scen[PATH_MAX];

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(harness_workdir(r.workdir, sizeof(r.workdir),
	    "sup-balanced"), 0);
	ck_assert_int_eq(rig_scenario(&r, "reference.yaml", from, to, 2, scen,
	    sizeof(scen)), 0);
	ck_assert_int_eq(with_binary(&r, "sup-balanced", scen, NULL, 0), 0);
	ck_assert_int_eq(run_check(out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "pre-flight: balanced") != NULL, "%s", out);
	rig_stop(&r);
}
END_TEST

/* No broker at the profile's port: no snapshot, exit 13, nothing else. */
START_TEST(check_no_broker)
{
	static char out[8192];
	static const struct hprofile_kv ov[] = {
		{ "timing.preflight_wait_s", "1" },
	};

	start("sup-nobroker", "reference.yaml", ov, 1);
	ck_assert_int_eq(hbroker_stop(&r.br), 0);
	ck_assert_int_eq(run_check(out, sizeof(out)), 13);
	ck_assert_msg(strstr(out, "no complete snapshot") != NULL, "%s", out);
	rig_stop(&r);
}
END_TEST

/*
 * Every field published retained (as many daemons do) and pack 3 silent
 * after its first publication: the broker's retained copies of pack 3 are
 * not fresh values. No snapshot (13), and check names what was only
 * retained.
 */
START_TEST(check_retained_not_fresh)
{
	static const char *const from[] = { "faults: []" };
	static const char *const to[] = { "faults:\n"
	    "  - { kind: retain }\n"
	    "  - { kind: silence, pack: 3, trigger: time, at_s: 1 }\n" };
	static const struct hprofile_kv ov[] = {
		{ "timing.preflight_wait_s", "2" },
	};
	static char out[8192];
	char scen[PATH_MAX];

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(harness_workdir(r.workdir, sizeof(r.workdir),
	    "sup-retained"), 0);
	ck_assert_int_eq(rig_scenario(&r, "reference.yaml", from, to, 1, scen,
	    sizeof(scen)), 0);
	ck_assert_int_eq(with_binary(&r, "sup-retained", scen, ov, 1), 0);
	ck_assert_int_eq(run_check(out, sizeof(out)), 13);
	ck_assert_msg(strstr(out, "pack 3 soc: only a retained message") !=
	    NULL, "%s", out);
	ck_assert_msg(strstr(out, "never a live one (not fresh): pack 3 (all "
	    "fields)") != NULL, "%s", out);
	rig_stop(&r);
}
END_TEST

/*
 * An installer's profile says "Solar first", the site reports "Solar
 * First": check refuses (a unit not at its everyday settings) and shows
 * the string that arrived next to the one expected.
 */
START_TEST(check_readback_wrong_case)
{
	static const char *const from[] = { "  charger_priority: everyday\n" };
	static const char *const to[] = { "  charger_priority: everyday\n"
	    "  charger_readback_everyday: Solar First\n" };
	static char out[8192];
	char scen[PATH_MAX];

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(harness_workdir(r.workdir, sizeof(r.workdir),
	    "sup-case"), 0);
	ck_assert_int_eq(rig_scenario(&r, "reference.yaml", from, to, 1, scen,
	    sizeof(scen)), 0);
	ck_assert_int_eq(with_binary(&r, "sup-case", scen, NULL, 0), 0);
	ck_assert_int_eq(run_check(out, sizeof(out)), 12);
	ck_assert_msg(strstr(out, "charger_priority reads \"Solar First\", "
	    "not the everyday \"Solar first\"") != NULL, "%s", out);
	ck_assert_uint_eq(rig_control_count(&r), 0);
	rig_stop(&r);
}
END_TEST

Suite	*supervisor_logic_suite(void);	/* test_supervisor_logic.c */

static Suite *
supervisor_suite(void)
{
	Suite *s = suite_create("supervisor");
	/* "san": also run with the ASan+UBSan supervisor (check-supervisor-san) */
	struct {
		const char	*name;
		const TTest	*fn;
		const char	*tags;
	} cases[] = {
		{ "grid_pass", grid_pass, "san" },
		{ "solar_pass", solar_pass, NULL },
		{ "refuse_imbalance", refuse_imbalance, NULL },
		{ "refuse_cold", refuse_cold, NULL },
		{ "refuse_unconfirmed", refuse_unconfirmed, "san" },
		{ "refuse_balanced", refuse_balanced, NULL },
		{ "abort_cell", abort_cell, NULL },
		{ "abort_temperature", abort_temperature, NULL },
		{ "abort_protection", abort_protection, NULL },
		{ "abort_stale", abort_stale, "san" },
		{ "abort_unit_fault", abort_unit_fault, NULL },
		{ "abort_unit_mismatch", abort_unit_mismatch, NULL },
		{ "abort_watchdog_refused", abort_watchdog_refused, NULL },
		/*
		 * Not in the sanitized subset: with an ASan supervisor the
		 * watchdog sometimes records exit 5 (no DONE) instead of 2
		 * after its own confirm-timeout revert, although the plant
		 * is reverted and the report is right. A known race in the
		 * outcome bookkeeping, open; the plain run keeps the case.
		 */
		{ "abort_watchdog_reverted", abort_watchdog_reverted, "san" },
		{ "abort_run_timeout", abort_run_timeout, NULL },
		{ "cancel_sigterm", cancel_sigterm, "san" },
		{ "abort_engage_timeout", abort_engage_timeout, NULL },
		{ "abort_broker_lost", abort_broker_lost, NULL },
		{ "fail_lagging_pack", fail_lagging_pack, NULL },
		{ "solar_fail_collapse", solar_fail_collapse, NULL },
		{ "check_drift", check_drift, "san" },
		{ "check_imbalance", check_imbalance, NULL },
		{ "check_unsafe", check_unsafe, NULL },
		{ "check_balanced", check_balanced, NULL },
		{ "check_no_broker", check_no_broker, NULL },
		{ "check_retained_not_fresh", check_retained_not_fresh, NULL },
		{ "check_readback_wrong_case", check_readback_wrong_case,
		    NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *tc = tcase_create(cases[i].name);

		tcase_set_timeout(tc, 150);
		if (cases[i].tags != NULL)
			tcase_set_tags(tc, cases[i].tags);
		tcase_add_test(tc, cases[i].fn);
		suite_add_tcase(s, tc);
	}
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(supervisor_logic_suite());
	int failed;

	srunner_add_suite(sr, supervisor_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
