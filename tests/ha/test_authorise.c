/*
 * A grid run authorised from Home Assistant (SAFETY.md H10.7), on the real
 * broker with the shipped ACL, the real plant, the real watchdog and the
 * scripted supervisor. The press is what HA would publish: the button's
 * command_template from gridcal-setup's discovery config, rendered with
 * the three values HA substitutes (the request's nonce from the button's
 * attributes, the time, the pressing user's id), published as the
 * homeassistant broker user. Accepted, the grid run proceeds and the audit
 * log names the writer and the claimed user; replayed, retained, stale,
 * wrong-site, wrong-user and missing presses are refused and recorded,
 * the supervisor never starts and nothing reaches a control topic.
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/harness/harness.h"

#define T_START		10000
#define T_SET		8000
#define T_SAFE		30000
#define T_EXIT		20000
#define SITE		"eg4-lp4-v2-sim"
#define REQUEST		"gridcal/watchdog/authorise"
#define PRESS_TOPIC	"gridcal/" SITE "/authorise"
#define HA_USER_ID	"8f3a1c2b9d4e4f5a8b7c6d5e4f3a2b1c"
#define WAIT_S		"4"	/* timing.preflight_wait_s: the bound */

struct env {
	char		 wd[PATH_MAX], profile[PATH_MAX], out[PATH_MAX];
	char		 err[PATH_MAX], log[PATH_MAX], state[PATH_MAX];
	char		 tmpl[1024];	/* the button's command_template */
	int		 runs;
	struct hbroker	 br;
	struct hobs	*obs;
	struct hproc	 plant, wdog;
};

static const char *const calib[2] = { "solar_utility_battery",
    "solar_and_utility" };	/* output, charger */

static void
wpath(char *buf, const struct env *e, const char *name)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", e->wd, name);

	ck_assert(n > 0 && n < PATH_MAX);
}

/* gridcal-setup -n --ha-discovery: the button's command_template. */
static void
button_template(struct env *e)
{
	char bin[PATH_MAX], root[PATH_MAX], dir[PATH_MAX + 32], out[PATH_MAX];
	char *argv[] = { bin, (char *)"-n", (char *)"--root", root,
	    (char *)"--ha-discovery", (char *)"none", NULL };
	char *text, *line, *json;
	struct hproc p;

	wpath(root, e, "root");
	(void)snprintf(dir, sizeof(dir), "%s/etc", root);
	ck_assert(mkdir(root, 0700) == 0 && mkdir(dir, 0755) == 0);
	(void)strlcat(dir, "/gridcal", sizeof(dir));
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	(void)strlcat(dir, "/profile.yaml", sizeof(dir));
	ck_assert_ptr_nonnull(text = harness_read_file(e->profile, NULL));
	ck_assert_int_eq(harness_write_file(dir, text, 0644), 0);
	free(text);
	ck_assert_int_eq(harness_path(bin, sizeof(bin), "build/gridcal-setup"),
	    0);
	wpath(out, e, "setup.out");
	ck_assert_int_eq(hproc_spawn(&p, argv, NULL, out, out), 0);
	ck_assert_int_eq(hproc_wait(&p, 30000), 0);
	ck_assert_int_eq(hproc_exit_code(&p), 0);
	ck_assert_ptr_nonnull(text = harness_read_file(out, NULL));
	ck_assert_ptr_nonnull(line = strstr(text, "homeassistant/button/"
	    "gridcal_" SITE "/authorise_grid/config "));
	json = strchr(line, ' ') + 1;
	*strchr(json, '\n') = '\0';
	ck_assert_int_eq(hjson_str(json, "command_template", e->tmpl,
	    sizeof(e->tmpl)), 0);
	free(text);
}

static void
env_up(struct env *e, const char *tag)
{
	struct hprofile_kv kv[2];
	char err[512], sup[PATH_MAX], scen[PATH_MAX], *text, *at;
	struct hplant_opts o = { .seed = 7 };

	memset(e, 0, sizeof(*e));
	ck_assert_int_eq(harness_workdir(e->wd, sizeof(e->wd), tag), 0);
	ck_assert_int_eq(hbroker_start(&e->br, e->wd), 0);
	ck_assert_int_eq(harness_path(sup, sizeof(sup), "build/test-fakesup"),
	    0);
	kv[0] = (struct hprofile_kv){ "paths.supervisor", sup };
	kv[1] = (struct hprofile_kv){ "timing.preflight_wait_s", WAIT_S };
	ck_assert_msg(hprofile_write(&e->br, e->profile, sizeof(e->profile),
	    kv, 2, err, sizeof(err)) == 0, "profile: %s", err);
	wpath(e->log, e, "audit.jsonl");
	wpath(e->state, e, "state");
	ck_assert(mkdir(e->state, 0700) == 0 || errno == EEXIST);
	ck_assert_int_eq(harness_path(scen, sizeof(scen),
	    "tests/scenarios/reference.yaml"), 0);
	ck_assert_ptr_nonnull(text = harness_read_file(scen, NULL));
	ck_assert_ptr_nonnull(at = strstr(text, "\nfaults: []"));
	wpath(scen, e, "plant.yaml");
	ck_assert_int_eq(harness_write_file(scen, text, 0644), 0);
	free(text);
	button_template(e);
	ck_assert_ptr_nonnull(e->obs = hobs_start(&e->br, T_START));
	ck_assert_int_eq(hplant_start(&e->plant, &e->br, e->profile, scen, &o),
	    0);
	ck_assert_msg(hplant_wait_ready(e->obs, T_START) == 0,
	    "no truth from the plant (see %s)", e->plant.err_path);
}

static void
env_down(struct env *e)
{
	(void)hplant_stop(&e->plant, NULL, 0);
	hobs_stop(e->obs);
	(void)hbroker_stop(&e->br);
}

/* gridcal-watchdog calibrate --method grid --authorise ha */
static void
wd_start(struct env *e, const char *script)
{
	char bin[PATH_MAX], name[32], spath[PATH_MAX];
	char *argv[] = { bin, (char *)"-p", e->profile, (char *)"calibrate",
	    (char *)"--method", (char *)"grid", (char *)"--authorise",
	    (char *)"ha", NULL };

	ck_assert_int_eq(harness_path(bin, sizeof(bin),
	    "build/gridcal-watchdog"), 0);
	e->runs++;
	(void)snprintf(name, sizeof(name), "watchdog-%d.out", e->runs);
	wpath(e->out, e, name);
	(void)snprintf(name, sizeof(name), "watchdog-%d.err", e->runs);
	wpath(e->err, e, name);
	wpath(spath, e, "fakesup.script");
	ck_assert_int_eq(harness_write_file(spath, script, 0644), 0);
	ck_assert_int_eq(hproc_spawn(&e->wdog, argv, NULL, e->out, e->err), 0);
}

static int
wd_exit(struct env *e)
{
	ck_assert_msg(hproc_wait(&e->wdog, T_EXIT) == 0,
	    "the watchdog did not exit (see %s)", e->err);
	return hproc_exit_code(&e->wdog);
}

/* The request of run n (the n'th request seen): its nonce, 32 hex. */
static void
wait_request(struct env *e, size_t n, char *nonce, size_t noncesz)
{
	struct hobs_msg m;
	char site[64], got[256];
	size_t seen = 0, i;
	int64_t deadline = harness_now_ms() + T_START;

	for (;;) {
		for (i = 0, seen = 0; hobs_log_get(e->obs, REQUEST, i, &m) ==
		    0; i++)
			if (strstr(m.payload, "\"nonce\"") != NULL &&
			    ++seen == n)
				break;
		if (seen == n)
			break;
		ck_assert_msg(harness_now_ms() < deadline, "no request %zu "
		    "(see %s)", n, e->err);
		(void)hobs_wait_log(e->obs, REQUEST, i + 1, 100);
	}
	ck_assert_int_eq(hjson_str(m.payload, "site", site, sizeof(site)), 0);
	ck_assert_str_eq(site, SITE);
	ck_assert_int_eq(hjson_str(m.payload, "nonce", nonce, noncesz), 0);
	ck_assert_uint_eq(strlen(nonce), 32);
	/* retained while it waits: an HA that reconnects still sees it */
	ck_assert_int_eq(hbroker_retained(&e->br, REQUEST, got, sizeof(got),
	    T_START), 1);
	ck_assert_str_eq(got, m.payload);
}

/* Replaces the first needle in s (of size sz) with with. */
static void
subst(char *s, size_t sz, const char *needle, const char *with)
{
	char *at = strstr(s, needle), tail[1024];

	ck_assert_msg(at != NULL, "%s not in %s", needle, s);
	ck_assert_uint_lt(strlen(at + strlen(needle)), sizeof(tail));
	(void)strlcpy(tail, at + strlen(needle), sizeof(tail));
	ck_assert_uint_lt((size_t)(at - s) + strlen(with) + strlen(tail), sz);
	(void)strlcpy(at, with, sz - (size_t)(at - s));
	(void)strlcat(s, tail, sz);
}

/* What HA renders for a press: the template with its three values. */
static void
render(const struct env *e, const char *nonce, long long ts, char *out,
    size_t outsz)
{
	char t[32];

	(void)strlcpy(out, e->tmpl, outsz);
	(void)snprintf(t, sizeof(t), "%lld", ts);
	subst(out, outsz, "{{ this.attributes.nonce | default('') }}", nonce);
	subst(out, outsz, "{{ now().timestamp() | int }}", t);
	subst(out, outsz, "{{ this.context.user_id }}", HA_USER_ID);
	ck_assert_ptr_null(strstr(out, "{{"));
}

static void
press(struct env *e, const char *user, const char *payload, bool retain)
{
	struct hclient *c;

	ck_assert_ptr_nonnull(c = hclient_connect(&e->br, user, false,
	    T_START));
	ck_assert_int_eq(hclient_publish(c, PRESS_TOPIC, payload, 1, retain,
	    T_START, NULL), 0);
	hclient_close(c);
}

static bool
file_has(const char *path, const char *needle)
{
	char *text = harness_read_file(path, NULL);
	bool found = text != NULL && strstr(text, needle) != NULL;

	free(text);
	return found;
}

#define ASSERT_HAS(path, s) \
	ck_assert_msg(file_has((path), (s)), "%s lacks \"%s\"", (path), (s))

static void
audit_verifies(struct env *e)
{
	char bin[PATH_MAX];
	char *argv[] = { bin, (char *)"verify", e->log, (char *)"--state-dir",
	    e->state, NULL };

	ck_assert_int_eq(harness_path(bin, sizeof(bin), "build/gridcal-audit"),
	    0);
	ck_assert_msg(hproc_run(argv, 10000) == 0, "%s does not verify",
	    e->log);
}

/* gridcal-audit report --json: the run's authorisation as it counts it */
static void
report_authorised(struct env *e, const char *want)
{
	char bin[PATH_MAX], out[PATH_MAX], needle[64], *text;
	char *argv[] = { bin, (char *)"report", e->log, (char *)"--json", NULL };
	struct hproc p;

	ck_assert_int_eq(harness_path(bin, sizeof(bin), "build/gridcal-audit"),
	    0);
	wpath(out, e, "report.json");
	ck_assert_int_eq(hproc_spawn(&p, argv, NULL, out, NULL), 0);
	ck_assert_int_eq(hproc_wait(&p, 10000), 0);
	ck_assert_ptr_nonnull(text = harness_read_file(out, NULL));
	(void)snprintf(needle, sizeof(needle), "\"authorised\":%s", want);
	ck_assert_msg(strstr(text, needle) != NULL, "report: %s", text);
	free(text);
}

/*
 * Refused: exit 3, the reason audited, no authorisation accepted, the
 * supervisor never started, nothing on a control topic, the plant in its
 * everyday settings, the request withdrawn.
 */
static void
assert_refused(struct env *e, const char *reason)
{
	char want[256], got[64];

	ck_assert_int_eq(wd_exit(e), 3);
	(void)snprintf(want, sizeof(want), "\"event\":\"authorise\","
	    "\"fields\":{\"result\":\"refused\",\"reason\":\"%s", reason);
	ASSERT_HAS(e->log, want);
	ASSERT_HAS(e->log, "\"acl_writer\":\"homeassistant\"");
	ck_assert(!file_has(e->log, "\"result\":\"accepted\""));
	ck_assert(!file_has(e->log, "\"event\":\"child_exit\""));
	ASSERT_HAS(e->log, "\"outcome\":\"refused\"");
	ck_assert_uint_eq(hobs_log_count(e->obs, "solar/control/"), 0);
	ck_assert_int_eq(hobs_truth_str(e->obs, "units[0].charger_priority",
	    got, sizeof(got)), 0);
	ck_assert_str_eq(got, "solar_first");
	ck_assert_int_eq(hbroker_retained(&e->br, REQUEST, got, sizeof(got),
	    T_START), 1);
	ck_assert_str_eq(got, "{}");
	audit_verifies(e);
	report_authorised(e, "false");
}

START_TEST(authorised_press_runs_grid)
{
	struct env e;
	char nonce[64], msg[512], got[64];

	env_up(&e, "ha-auth-ok");
	/* the wait keeps the run open for the second press below */
	wd_start(&e, "hello; set charger calibration; expect confirmed; "
	    "set output calibration; expect confirmed; wait 5; "
	    "done FAIL test; exit 0");
	wait_request(&e, 1, nonce, sizeof(nonce));
	render(&e, nonce, (long long)time(NULL), msg, sizeof(msg));
	press(&e, "homeassistant", msg, false);
	ck_assert_msg(hobs_wait_truth_str(e.obs, "units[1].output_priority",
	    calib[0], T_SET) == 0, "grid did not proceed (see %s)", e.err);
	/*
	 * Pressed again, once the run is under way: used. Not at once after
	 * the first: the watchdog reconnects to arm its last will before the
	 * first calibration value, and a press in that gap is not delivered
	 * (it could only have been refused).
	 */
	press(&e, "homeassistant", msg, false);
	ck_assert_int_eq(hobs_truth_str(e.obs, "units[1].charger_priority",
	    got, sizeof(got)), 0);
	ck_assert_str_eq(got, calib[1]);
	ck_assert_int_eq(wd_exit(&e), 1);	/* the script's FAIL */
	ck_assert_int_eq(hobs_wait_truth_str(e.obs, "units[0].output_priority",
	    "solar_battery_utility", T_SAFE), 0);
	ASSERT_HAS(e.log, "\"event\":\"authorise\",\"fields\":{\"result\":"
	    "\"accepted\"");
	ASSERT_HAS(e.log, "\"acl_writer\":\"homeassistant\",\"claim_user\":\""
	    HA_USER_ID "\"");
	ASSERT_HAS(e.log, "\"reason\":\"authorisation after the decision");
	ck_assert_int_eq(hbroker_retained(&e.br, REQUEST, got, sizeof(got),
	    T_START), 1);
	ck_assert_str_eq(got, "{}");	/* withdrawn once decided */
	audit_verifies(&e);
	report_authorised(&e, "true");
	env_down(&e);
}
END_TEST

/*
 * A press captured in an earlier run, kept retained on the broker and
 * sent again live: the retained copy is refused (the run goes on waiting),
 * the live replay lacks this run's nonce and ends it.
 */
START_TEST(replayed_press_is_refused)
{
	struct env e;
	char nonce[64], msg[512];

	env_up(&e, "ha-auth-replay");
	wd_start(&e, "hello; exit 0");
	wait_request(&e, 1, nonce, sizeof(nonce));
	ck_assert_int_eq(wd_exit(&e), 3);	/* missing: no press */
	render(&e, nonce, (long long)time(NULL), msg, sizeof(msg));
	press(&e, "homeassistant", msg, true);	/* captured, retained */
	wd_start(&e, "hello; exit 0");
	wait_request(&e, 2, nonce, sizeof(nonce));
	ck_assert_msg(strstr(msg, nonce) == NULL, "the same nonce twice");
	press(&e, "homeassistant", msg, false);	/* the replay, live */
	assert_refused(&e, "authorisation without this run's nonce");
	ASSERT_HAS(e.log, "\"reason\":\"authorisation retained");
	env_down(&e);
}
END_TEST

START_TEST(stale_press_is_refused)
{
	struct env e;
	char nonce[64], msg[512];

	env_up(&e, "ha-auth-stale");
	wd_start(&e, "hello; exit 0");
	wait_request(&e, 1, nonce, sizeof(nonce));
	render(&e, nonce, (long long)time(NULL) - 600, msg, sizeof(msg));
	press(&e, "homeassistant", msg, false);
	assert_refused(&e, "authorisation stale");
	env_down(&e);
}
END_TEST

/* A press from a clock a quarter of an hour ahead: refused too. */
START_TEST(future_press_is_refused)
{
	struct env e;
	char nonce[64], msg[512];

	env_up(&e, "ha-auth-future");
	wd_start(&e, "hello; exit 0");
	wait_request(&e, 1, nonce, sizeof(nonce));
	render(&e, nonce, (long long)time(NULL) + 900, msg, sizeof(msg));
	press(&e, "homeassistant", msg, false);
	assert_refused(&e, "authorisation stale");
	env_down(&e);
}
END_TEST

/* Not the button's line (the nonce in capitals): refused. */
START_TEST(press_not_in_the_buttons_format_is_refused)
{
	struct env e;
	char nonce[64], msg[512], upper[64];

	env_up(&e, "ha-auth-format");
	wd_start(&e, "hello; exit 0");
	wait_request(&e, 1, nonce, sizeof(nonce));
	for (size_t i = 0; i <= strlen(nonce); i++)
		upper[i] = (char)(nonce[i] >= 'a' && nonce[i] <= 'f' ?
		    nonce[i] - 'a' + 'A' : nonce[i]);
	render(&e, upper, (long long)time(NULL), msg, sizeof(msg));
	press(&e, "homeassistant", msg, false);
	assert_refused(&e, "authorisation malformed");
	env_down(&e);
}
END_TEST

START_TEST(press_for_another_site_is_refused)
{
	struct env e;
	char nonce[64], msg[512];

	env_up(&e, "ha-auth-site");
	wd_start(&e, "hello; exit 0");
	wait_request(&e, 1, nonce, sizeof(nonce));
	render(&e, nonce, (long long)time(NULL), msg, sizeof(msg));
	subst(msg, sizeof(msg), "\"site\":\"" SITE "\"",
	    "\"site\":\"the-neighbours\"");
	press(&e, "homeassistant", msg, false);
	assert_refused(&e, "authorisation names another site");
	env_down(&e);
}
END_TEST

/*
 * The right press from users the ACL forbids on the topic (the
 * supervisor's: the attacker's; the report user; the watchdog's own): the
 * broker drops each, nothing reaches the watchdog, the wait runs out.
 */
START_TEST(press_by_another_broker_user_is_dropped)
{
	static const char *const users[] = { "supervisor", "report",
	    "watchdog", "plant" };
	struct env e;
	char nonce[64], msg[512];

	env_up(&e, "ha-auth-user");
	wd_start(&e, "hello; exit 0");
	wait_request(&e, 1, nonce, sizeof(nonce));
	render(&e, nonce, (long long)time(NULL), msg, sizeof(msg));
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++)
		press(&e, users[i], msg, false);
	assert_refused(&e, "authorisation missing");
	ck_assert_uint_eq(hobs_count(e.obs, PRESS_TOPIC), 0);
	env_down(&e);
}
END_TEST

START_TEST(no_press_within_the_bound_is_refused)
{
	struct env e;
	char nonce[64];
	int64_t t0;

	env_up(&e, "ha-auth-none");
	t0 = harness_now_ms();
	wd_start(&e, "hello; exit 0");
	wait_request(&e, 1, nonce, sizeof(nonce));
	assert_refused(&e, "authorisation missing: no press within "
	    "timing.preflight_wait_s");
	/* bounded: the wait, plus start-up, well inside 2x */
	ck_assert_int_lt(harness_now_ms() - t0, 2 * atoi(WAIT_S) * 1000 +
	    T_START);
	env_down(&e);
}
END_TEST

/* --authorise ha is for grid, and is not --confirm as well. */
START_TEST(authorise_usage)
{
	char bin[PATH_MAX];
	char *a[] = { bin, (char *)"calibrate", (char *)"--method",
	    (char *)"solar", (char *)"--authorise", (char *)"ha", NULL };
	char *b[] = { bin, (char *)"calibrate", (char *)"--method",
	    (char *)"grid", (char *)"--authorise", (char *)"ha",
	    (char *)"--confirm", NULL };
	char *c[] = { bin, (char *)"calibrate", (char *)"--method",
	    (char *)"grid", (char *)"--authorise", (char *)"terminal", NULL };

	ck_assert_int_eq(harness_path(bin, sizeof(bin),
	    "build/gridcal-watchdog"), 0);
	ck_assert_int_eq(hproc_run(a, 10000), 64);
	ck_assert_int_eq(hproc_run(b, 10000), 64);
	ck_assert_int_eq(hproc_run(c, 10000), 64);
}
END_TEST

Suite *authorise_suite(void);

Suite *
authorise_suite(void)
{
	Suite *s = suite_create("home assistant authorisation");
	TCase *tc = tcase_create("authorise");

	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, authorise_usage);
	tcase_add_test(tc, authorised_press_runs_grid);
	tcase_add_test(tc, replayed_press_is_refused);
	tcase_add_test(tc, stale_press_is_refused);
	tcase_add_test(tc, future_press_is_refused);
	tcase_add_test(tc, press_not_in_the_buttons_format_is_refused);
	tcase_add_test(tc, press_for_another_site_is_refused);
	tcase_add_test(tc, press_by_another_broker_user_is_dropped);
	tcase_add_test(tc, no_press_within_the_bound_is_refused);
	suite_add_tcase(s, tc);
	return s;
}
