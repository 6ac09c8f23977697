/*
 * The supervisor's event runtime (supervisor/events.c, sm.c) on the real
 * table: what it dispatches when several events are due at once (the
 * spec's priority, not the order of events.c) and the watchdog link lost
 * as a row of the table. A real profile and telemetry store, a wdlink on
 * a socketpair nobody answers; no broker, no watchdog process.
 */
#include <sys/socket.h>

#include <check.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "log.h"
#include "machine.h"
#include "sup.h"

static struct sup s;
static int sv[2] = { -1, -1 };

static void
setup(void)
{
	char err[PROFILE_ERR_MAX];

	memset(&s, 0, sizeof(s));
	ck_assert_msg(profile_load("profiles/eg4-lp4-v2.yaml", &s.pf, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(tm_init(&s.tm, &s.pf), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	s.start_ms = s.now = 1000;
	ck_assert_int_eq(wdlink_open(&s.wd, sv[0], s.pf.digest,
	    s.pf.timing.heartbeat_interval_ms, s.now), 0);
	s.method = METHOD_GRID;
	s.out = fopen("/dev/null", "w");
	ck_assert_ptr_nonnull(s.out);
	events_start(&s);
	ck_assert_int_eq(s.state, CAL_STATE_IDLE);
}

static void
teardown(void)
{
	if (s.out != NULL)
		(void)fclose(s.out);
	(void)close(sv[0]);
	(void)close(sv[1]);
}

/*
 * start (the broker is up) and cancel (a signal) due in one turn: the
 * spec ranks cancel above start, so the run is cancelled from idle in one
 * step; in any other order it would pass through preflight first.
 */
START_TEST(cancel_outranks_start)
{
	ck_assert_uint_lt(cal_event_rank[CAL_EVENT_CANCEL],
	    cal_event_rank[CAL_EVENT_START]);
	s.broker_up = true;
	s.signal = SIGTERM;
	events_dispatch(&s);
	ck_assert(s.finished);
	ck_assert_int_eq(s.state, CAL_STATE_CANCELLED);
	ck_assert_uint_eq(s.transitions, 1);
	ck_assert_int_eq(s.outcome, PROTO_OUTCOME_CANCELLED);
	ck_assert_str_eq(s.code, "cancel");
}
END_TEST

/* Only start due: it fires (the test above is not vacuous). */
START_TEST(start_alone)
{
	s.broker_up = true;
	events_dispatch(&s);
	ck_assert_uint_ge(s.transitions, 1);
	ck_assert(s.state != CAL_STATE_IDLE);
	ck_assert(s.state != CAL_STATE_CANCELLED);
}
END_TEST

/*
 * The link lost with nothing queued: the row watchdog_lost (first in the
 * priority, above the signal due in the same turn) ends the run ABORTED
 * with the link's error as the reason, through the table.
 */
START_TEST(link_lost_is_a_row)
{
	ck_assert_int_eq(cal_event_priority[0], CAL_EVENT_WATCHDOG_LOST);
	s.wd.up = false;
	(void)strlcpy(s.wd.error, "EOF from the watchdog", sizeof(s.wd.error));
	s.signal = SIGTERM;
	events_dispatch(&s);
	ck_assert(s.finished);
	ck_assert_int_eq(s.state, CAL_STATE_ABORTED);
	ck_assert_uint_eq(s.transitions, 1);
	ck_assert_int_eq(s.outcome, PROTO_OUTCOME_ABORTED);
	ck_assert_str_eq(s.code, "watchdog_lost");
	ck_assert_str_eq(s.reason, "watchdog link lost: EOF from the watchdog");
}
END_TEST

/*
 * An answer still queued when the link goes: it is dispatched first (the
 * watchdog said it before it went), then the link's loss ends the run if
 * the answer did not.
 */
START_TEST(queued_answer_before_link_lost)
{
	struct wd_answer *a = &s.wd.ansq[0];

	memset(a, 0, sizeof(*a));
	a->type = PROTO_SET_REFUSED;
	a->setting = SETTING_CHARGER_PRIORITY;
	a->value = VALUE_CALIBRATION;
	s.wd.ansq_head = 0;
	s.wd.ansq_len = 1;
	s.wd.up = false;
	events_dispatch(&s);
	ck_assert(s.finished);
	ck_assert_int_eq(s.state, CAL_STATE_ABORTED);
	ck_assert_str_eq(s.code, "watchdog_refused");
}
END_TEST

static Suite *
events_suite(void)
{
	Suite *su = suite_create("events");
	TCase *tc = tcase_create("runtime");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, cancel_outranks_start);
	tcase_add_test(tc, start_alone);
	tcase_add_test(tc, link_lost_is_a_row);
	tcase_add_test(tc, queued_answer_before_link_lost);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	SRunner *sr = srunner_create(events_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
