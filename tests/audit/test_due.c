/*
 * gridcal-audit due, end to end on logs by the real writer: the answer is
 * the exit status (0 due, 1 not due, 3 cannot tell), and only a pass the
 * watchdog's own chain-covered records prove (report's rule) makes a
 * calibration recent: a supervisor's claimed pass, a watchdog pass without
 * its verify record, a pass in a forged record past a break in the chain,
 * and a "recovered" outcome never do. The cadence comes from
 * the profile's cadence.days (30 without one).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auditread.h"
#include "clirun.h"
#include "clock.h"

#define DUE_YES		0
#define DUE_NO		1
#define DUE_UNKNOWN	3

static void
run_outcome(const char *runid, const char *outcome, const char *claim)
{
	char text[128];

	cli_wopen(runid);
	cli_wd(AUDIT_EV_START, (struct audit_field[]){
	    AF_S("method", "solar"), AF_B("authorised", 0) }, 2);
	if (claim != NULL) {
		(void)snprintf(text, sizeof(text), "outcome=%s reason=x "
		    "method=solar", claim);
		cli_sup(AUDIT_EV_REPORT, text);
	}
	/* the watchdog's own evidence of a solar pass (watchdog/verdict.c) */
	if (outcome != NULL && strcmp(outcome, "pass") == 0)
		cli_wd("verify", (struct audit_field[]){ AF_B("ok", 1) }, 1);
	if (outcome != NULL)
		cli_wd(AUDIT_EV_OUTCOME, (struct audit_field[]){
		    AF_S("outcome", outcome), AF_S("reason", "x") }, 2);
	cli_wd(AUDIT_EV_END, NULL, 0);
	cli_wclose();
}

/* A UTC time days from now, as --now takes it. */
static const char *
days_ahead(int days)
{
	static char buf[32];

	utc_format(utc_ms() + (int64_t)days * 86400000, buf, sizeof(buf));
	return buf;
}

START_TEST(due_without_any_pass)
{
	/* a fresh site: no log yet */
	ck_assert_int_eq(cli_run("due", cli_log, NULL), DUE_YES);
	ck_out("due: no PASS");
	run_outcome("r1", "fail", NULL);
	ck_assert_int_eq(cli_run("due", cli_log, NULL), DUE_YES);
	ck_out("due: no PASS the watchdog's own records prove");
}
END_TEST

START_TEST(not_due_after_a_pass_then_due_by_the_calendar)
{
	run_outcome("r1", "pass", "pass");
	ck_assert_int_eq(cli_run("due", cli_log, NULL), DUE_NO);
	ck_out("not due: 0.0 day(s) since the last PASS");
	ck_out("run r1");
	ck_assert_int_eq(cli_run("due", cli_log, "--now", days_ahead(29),
	    NULL), DUE_NO);
	ck_assert_int_eq(cli_run("due", cli_log, "--now", days_ahead(31),
	    NULL), DUE_YES);
	ck_out("due: 31.0 day(s) since the last PASS");
	ck_out("cadence 30 days");
	ck_assert_int_eq(cli_run("due", cli_log, "--json", "-q", "--now",
	    days_ahead(31), NULL), DUE_YES);
	ck_out("{\"due\":true,\"answer\":\"due\",");
	ck_out("\"days_since_pass\":31,");
	ck_out("\"cadence_days\":30,");
	ck_assert_int_eq(cli_run("due", cli_log, "-q", NULL), DUE_NO);
	ck_assert_str_eq(cli_out, "");
}
END_TEST

START_TEST(a_supervisor_claim_is_no_pass)
{
	/* the supervisor says pass, the watchdog recorded fail / nothing */
	run_outcome("r1", "fail", "pass");
	run_outcome("r2", NULL, "pass");
	run_outcome("r3", "recovered", "pass");
	/* a watchdog "pass" without its verify record is unproven */
	cli_wopen("r4");
	cli_wd(AUDIT_EV_START, (struct audit_field[]){
	    AF_S("method", "solar") }, 1);
	cli_wd(AUDIT_EV_OUTCOME, (struct audit_field[]){
	    AF_S("outcome", "pass"), AF_S("reason", "x") }, 2);
	cli_wd(AUDIT_EV_END, NULL, 0);
	cli_wclose();
	ck_assert_int_eq(cli_run("due", cli_log, NULL), DUE_YES);
	ck_out("no PASS the watchdog's own records prove");
}
END_TEST

START_TEST(a_forged_pass_past_a_break_does_not_count)
{
	char *text, *at;
	size_t len;
	FILE *f;

	run_outcome("r1", "pass", NULL);
	run_outcome("r2", "pass", NULL);
	/* r2's pass edited in place: the chain breaks at it */
	ck_assert_ptr_nonnull(text = cli_slurp(cli_log, &len));
	ck_assert_ptr_nonnull(at = strstr(strstr(text, "\"run\":\"r2\""),
	    "\"reason\":\"x\""));
	at[10] = 'y';
	ck_assert_ptr_nonnull(f = fopen(cli_log, "w"));
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	free(text);
	ck_assert_int_eq(cli_run("due", cli_log, NULL), DUE_UNKNOWN);
	ck_out("cannot tell: the log is not intact");
	/* r1's pass, before the break, is still the one named */
	ck_out("run r1");
}
END_TEST

START_TEST(cadence_from_the_profile)
{
	char prof[PATH_MAX + 16], *text, *at;
	size_t len;
	FILE *f;

	run_outcome("r1", "pass", NULL);
	ck_assert_ptr_nonnull(text = cli_slurp("profiles/eg4-lp4-v2.yaml",
	    &len));
	ck_assert_ptr_nonnull(at = strstr(text, "cadence:\n  days: 30\n"));
	at[17] = '7';
	at[18] = ' ';
	(void)snprintf(prof, sizeof(prof), "%s/profile.yaml", cli_dir);
	ck_assert_ptr_nonnull(f = fopen(prof, "w"));
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	free(text);
	ck_assert_int_eq(cli_run("--profile", prof, "due", cli_log, "--now",
	    days_ahead(8), NULL), DUE_YES);
	ck_out("cadence 7 days");
	ck_assert_int_eq(cli_run("--profile", prof, "due", cli_log, "--now",
	    days_ahead(6), NULL), DUE_NO);
	/* --live and --publish need the profile and the report user */
	ck_assert_int_eq(cli_run("due", cli_log, "--live", NULL), 64);
	ck_assert_int_eq(cli_run("--profile", prof, "due", cli_log,
	    "--publish", NULL), 64);
	ck_err("report-only broker user");
	ck_assert_int_eq(cli_run("due", cli_log, "--html", NULL), 64);
}
END_TEST

static Suite *
due_suite(void)
{
	Suite *s = suite_create("gridcal-audit due");
	TCase *tc = tcase_create("due");

	tcase_add_checked_fixture(tc, cli_setup, cli_teardown);
	tcase_add_test(tc, due_without_any_pass);
	tcase_add_test(tc, not_due_after_a_pass_then_due_by_the_calendar);
	tcase_add_test(tc, a_supervisor_claim_is_no_pass);
	tcase_add_test(tc, a_forged_pass_past_a_break_does_not_count);
	tcase_add_test(tc, cadence_from_the_profile);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return cli_main("test_due", due_suite());
}
