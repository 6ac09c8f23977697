/*
 * Telemetry, timers, signals and watchdog answers -> table events.
 *
 * Which event goes first when several are due is the spec's priority
 * (cal_event_priority, generated from spec/calibration.yaml), not the
 * order of this file: every pass tries the events in that order, each
 * through the poll function of its input (poll_of), dispatches the first
 * that is due, and starts again from the top.
 *
 * Level conditions (an alarm, "near bulk", a complete snapshot) are raised
 * at most once per state visit: the latch is cleared whenever the machine
 * moves. Edge inputs (a watchdog answer, a timer expiry, a signal) are
 * raised once each. An event is raised only if the current state has a row
 * for it (sm_handles), so an ignored condition costs nothing and is not
 * logged over and over.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "events.h"
#include "log.h"
#include "sm.h"
#include "sup.h"

/* Events dispatched per loop iteration, at most: the machine has no
 * cycles without inputs, this only bounds the work of one iteration. */
#define MAX_STEPS	16

/*
 * What the readbacks must show in each state, for the unit_mismatch check:
 * the spec's readback: of the state (cal_state_expect), -1 for "any" while
 * a setting is in transition. Every state that is not terminal declares it
 * (the generator refuses one that does not).
 */
static int
expect_value(enum cal_expect x)
{
	return x == CAL_EXPECT_EVERYDAY ? VALUE_EVERYDAY :
	    x == CAL_EXPECT_CALIBRATION ? VALUE_CALIBRATION : -1;
}

static void
expect_for(int state, struct expect *ex)
{
	ex->value[SETTING_OUTPUT_PRIORITY] =
	    expect_value(cal_state_expect[state][0]);
	ex->value[SETTING_CHARGER_PRIORITY] =
	    expect_value(cal_state_expect[state][1]);
}

/*
 * What one pass over the priority list computes once: the alarm (the
 * monitor reports one at a time) and the bulk band.
 */
struct round {
	bool		alarm_known;
	enum alarm	alarm;
	char		why[200];
	bool		band_known;
	int		band;
	bool		taper_known;
	bool		tapered;
};

/* Dispatches ev if the state has rows for it; true if it did. */
static bool
raise_ev(struct sup *s, int ev)
{
	if (!sm_handles(s->state, ev))
		return false;
	sm_dispatch(s, ev);
	return true;
}

/* A level condition: once per state visit. */
static bool
raise_level(struct sup *s, int ev)
{
	uint64_t bit = 1ULL << ev;

	if ((s->latched & bit) || !sm_handles(s->state, ev))
		return false;
	s->latched |= bit;
	sm_dispatch(s, ev);
	return true;
}

/* Records why an abort event is raised, for audit_abort and the report. */
static void
note_abort(struct sup *s, int ev, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
note_abort(struct sup *s, int ev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(s->event_why, sizeof(s->event_why), fmt, ap);
	va_end(ap);
	(void)strlcpy(s->code, cal_event_name[ev], sizeof(s->code));
	(void)snprintf(s->reason, sizeof(s->reason), "%s: %s",
	    cal_event_name[ev], s->event_why);
}

static bool
abort_level(struct sup *s, int ev, const char *why)
{
	uint64_t bit = 1ULL << ev;

	if ((s->latched & bit) || !sm_handles(s->state, ev))
		return false;
	note_abort(s, ev, "%s", why);
	return raise_level(s, ev);
}

/*
 * Each poll_*() looks at the input behind one event: true if it consumed
 * an input or dispatched (the loop then starts again from the top of the
 * priority list), false if the event is not due (or latched, or not
 * handled by a level condition).
 */

/*
 * The watchdog link is gone and every answer it sent has been dispatched:
 * watchdog_lost, whose rows (one in every state that is not terminal) end
 * the run. Nothing can be asked or reported any more; the watchdog
 * reverts on EOF by itself.
 */
static bool
poll_link(struct sup *s, int ev, struct round *rd)
{
	(void)rd;
	if (wdlink_is_up(&s->wd) || s->wd.ansq_len != 0 || s->have_answer)
		return false;
	if (!raise_ev(s, ev))
		fatalx("state %s does not end the run on %s",
		    sup_state_name(s->state), cal_event_name[ev]);
	return true;
}

static bool
poll_cancel(struct sup *s, int ev, struct round *rd)
{
	char why[32];

	(void)rd;
	if (s->signal == 0)
		return false;
	(void)snprintf(why, sizeof(why), "signal=%d", s->signal);
	return abort_level(s, ev, why);
}

static int
answer_event(const struct wd_answer *a)
{
	static const int confirmed[SETTING_COUNT][VALUE_COUNT] = {
		[SETTING_OUTPUT_PRIORITY] = {
			[VALUE_EVERYDAY] = CAL_EVENT_OUTPUT_EVERYDAY_CONFIRMED,
			[VALUE_CALIBRATION] = CAL_EVENT_OUTPUT_CALIBRATION_CONFIRMED,
		},
		[SETTING_CHARGER_PRIORITY] = {
			[VALUE_EVERYDAY] = CAL_EVENT_CHARGER_EVERYDAY_CONFIRMED,
			[VALUE_CALIBRATION] = CAL_EVENT_CHARGER_CALIBRATION_CONFIRMED,
		},
	};

	switch (a->type) {
	case PROTO_SET_CONFIRMED:
		return confirmed[a->setting][a->value];
	case PROTO_SET_REFUSED:
		return CAL_EVENT_WATCHDOG_REFUSED;
	case PROTO_REVERTED:
		return CAL_EVENT_WATCHDOG_REVERTED;
	default:	/* SET_ACCEPTED: published, wait for the readback */
		return -1;
	}
}

/*
 * The watchdog's answers are a queue: only its head is due, as the event
 * it stands for, so answers keep their order among themselves. An answer
 * the state has no row for is consumed and logged.
 */
static bool
poll_answer(struct sup *s, int ev, struct round *rd)
{
	struct wd_answer *a = &s->answer;
	int aev;

	(void)rd;
	if (!s->have_answer) {
		if (!wdlink_next_answer(&s->wd, a))
			return false;
		s->have_answer = true;
		if (a->type == PROTO_REVERTED && a->confirmed)
			s->reverted = true;
	}
	aev = answer_event(a);
	if (aev >= 0 && aev != ev)
		return false;		/* its own event's turn */
	s->have_answer = false;
	if (aev < 0 || !sm_handles(s->state, aev)) {
		log_debug("watchdog answer %s ignored in state %s",
		    proto_type_name(a->type), sup_state_name(s->state));
		return true;	/* consumed: look at the next one */
	}
	if (a->type == PROTO_SET_REFUSED)
		note_abort(s, ev, "setting=%s value=%s refusal=%s text=\"%s\"",
		    setting_name(a->setting), a->value == VALUE_EVERYDAY ?
		    "everyday" : "calibration", proto_refusal_name(a->refusal),
		    a->text);
	else if (a->type == PROTO_REVERTED)
		note_abort(s, ev, "revert_reason=%s confirmed=%d",
		    proto_revert_name(a->revert), a->confirmed);
	sm_dispatch(s, ev);
	return true;
}

/* The monitor's alarm (one at a time), computed once per pass. */
static bool
poll_alarm(struct sup *s, int ev, struct round *rd)
{
	static const int ev_of[AL_COUNT] = {
		[AL_NONE] = -1,
		[AL_CELL] = CAL_EVENT_CELL_OVER_LIMIT,
		[AL_TEMP] = CAL_EVENT_TEMPERATURE_OUT_OF_RANGE,
		[AL_PROTECTION] = CAL_EVENT_PROTECTION_SET,
		[AL_UNIT_FAULT] = CAL_EVENT_UNIT_FAULT,
		[AL_STALE] = CAL_EVENT_TELEMETRY_STALE,
		[AL_UNIT_MISMATCH] = CAL_EVENT_UNIT_MISMATCH,
	};
	struct expect ex;

	if (!rd->alarm_known) {
		expect_for(s->state, &ex);
		rd->alarm = monitor_alarm(&s->mon, &s->tm, &ex, s->now,
		    rd->why, sizeof(rd->why));
		rd->alarm_known = true;
	}
	if (rd->alarm == AL_NONE || ev_of[rd->alarm] != ev)
		return false;
	return abort_level(s, ev, rd->why);
}

/*
 * A state-owned timer expired (the engine armed it on entering the state
 * and cancels it on leaving): its event, if the state has a row for it.
 * Several timers may raise one event (idle_run and run: run_timeout).
 */
static bool
poll_timer(struct sup *s, int ev, struct round *rd)
{
	(void)rd;
	for (int t = 0; t < CAL_TIMER_COUNT; t++) {
		if ((int)cal_timer_event[t] != ev || !sm_timer_expired(s, t))
			continue;
		if (cal_event_abort[ev] && sm_handles(s->state, ev)) {
			if (ev == CAL_EVENT_RUN_TIMEOUT)
				note_abort(s, ev, "run_max_ms=%lld",
				    (long long)s->pf.timing.run_max_ms);
			else
				note_abort(s, ev, "timer=%s",
				    cal_timer_name[t]);
		}
		(void)raise_ev(s, ev);
		return true;
	}
	return false;
}

/*
 * The snapshot begun by begin_snapshot, collected while the state's
 * snapshot timer runs (it bounds the wait; its expiry is
 * snapshot_timeout).
 */
static bool
poll_snapshot_ready(struct sup *s, int ev, struct round *rd)
{
	(void)rd;
	if (sm_timer_at(CAL_TIMER_SNAPSHOT) == 0 ||
	    snapshot_take(&s->tm, s->snap_since_ms, s->now, &s->snap,
	    s->snap_why, sizeof(s->snap_why)) != 0)
		return false;
	return raise_ev(s, ev);
}

/* The taper (voltage at bulk, currents at the tail), computed once. */
static bool
tapered(struct sup *s, struct round *rd)
{
	if (!rd->taper_known) {
		rd->tapered = monitor_tapered(&s->tm, s->now);
		rd->taper_known = true;
	}
	return rd->tapered;
}

static bool
poll_tapered(struct sup *s, int ev, struct round *rd)
{
	return sm_handles(s->state, ev) && tapered(s, rd) &&
	    raise_level(s, ev);
}

static bool
poll_taper_lost(struct sup *s, int ev, struct round *rd)
{
	return sm_handles(s->state, ev) && !tapered(s, rd) &&
	    raise_level(s, ev);
}

static bool
poll_engaged(struct sup *s, int ev, struct round *rd)
{
	char why[160];

	(void)rd;
	return sm_handles(s->state, ev) &&
	    monitor_engaged(&s->tm, s->now, why, sizeof(why)) &&
	    raise_level(s, ev);
}

/* absorption_reached in the bulk band (1), absorption_lost out of it (0). */
static bool
poll_band(struct sup *s, int ev, struct round *rd)
{
	if (!rd->band_known) {
		rd->band = monitor_bulk_band(&s->tm, s->now);
		rd->band_known = true;
	}
	if (rd->band != (ev == CAL_EVENT_ABSORPTION_REACHED ? 1 : 0))
		return false;
	return raise_level(s, ev);
}

static bool
poll_start(struct sup *s, int ev, struct round *rd)
{
	(void)rd;
	/* the broker first; if it never comes (or refused us), pre-flight
	 * says so */
	if (!s->broker_up && !s->broker_fatal &&
	    s->now - s->start_ms < s->pf.timing.preflight_wait_ms)
		return false;
	return raise_level(s, ev);
}

/* The input behind every event of the spec; events_start checks it. */
static bool (*const poll_of[CAL_EVENT_COUNT])(struct sup *, int,
    struct round *) = {
	[CAL_EVENT_WATCHDOG_LOST] = poll_link,
	[CAL_EVENT_CANCEL] = poll_cancel,
	[CAL_EVENT_CHARGER_CALIBRATION_CONFIRMED] = poll_answer,
	[CAL_EVENT_OUTPUT_CALIBRATION_CONFIRMED] = poll_answer,
	[CAL_EVENT_OUTPUT_EVERYDAY_CONFIRMED] = poll_answer,
	[CAL_EVENT_CHARGER_EVERYDAY_CONFIRMED] = poll_answer,
	[CAL_EVENT_WATCHDOG_REFUSED] = poll_answer,
	[CAL_EVENT_WATCHDOG_REVERTED] = poll_answer,
	[CAL_EVENT_CELL_OVER_LIMIT] = poll_alarm,
	[CAL_EVENT_TEMPERATURE_OUT_OF_RANGE] = poll_alarm,
	[CAL_EVENT_PROTECTION_SET] = poll_alarm,
	[CAL_EVENT_UNIT_FAULT] = poll_alarm,
	[CAL_EVENT_TELEMETRY_STALE] = poll_alarm,
	[CAL_EVENT_UNIT_MISMATCH] = poll_alarm,
	[CAL_EVENT_RUN_TIMEOUT] = poll_timer,
	[CAL_EVENT_ENGAGE_TIMEOUT] = poll_timer,
	[CAL_EVENT_ABSORPTION_TIMEOUT] = poll_timer,
	[CAL_EVENT_SNAPSHOT_READY] = poll_snapshot_ready,
	[CAL_EVENT_SNAPSHOT_TIMEOUT] = poll_timer,
	[CAL_EVENT_TAPER_HELD] = poll_timer,
	[CAL_EVENT_TAPERED] = poll_tapered,
	[CAL_EVENT_TAPER_LOST] = poll_taper_lost,
	[CAL_EVENT_GRID_CHARGE_ENGAGED] = poll_engaged,
	[CAL_EVENT_ABSORPTION_REACHED] = poll_band,
	[CAL_EVENT_ABSORPTION_LOST] = poll_band,
	[CAL_EVENT_START] = poll_start,
};

/*
 * In the hold, a counter that jumps to the re-anchor value re-anchored,
 * even if the verify snapshot later reads it a little lower (float, load):
 * in the states the spec marks reanchor_watch.
 */
static void
watch_anchor(struct sup *s)
{
	uint32_t fresh;
	double v;

	if (!cal_state_reanchor_watch[s->state])
		return;
	if ((fresh = monitor_watch_anchor(&s->tm, s->now, &s->anchored)) == 0)
		return;
	for (int p = 0; p < s->pf.packs; p++)
		if ((fresh & (1u << p)) &&
		    tm_pack(&s->tm, p, PF_SOC, s->now, &v) == TM_VALID) {
			log_info("pack %d re-anchored: its counter reads "
			    "%.0f %%", p + 1, v);
			(void)wdlink_audit(&s->wd, "reanchor", "pack=%d "
			    "soc=%.0f", p + 1, v);
		}
}

/*
 * One event at a time, the first due in the spec's priority
 * (cal_event_priority), then the list is looked at again from the top:
 * what fired may have changed what is due.
 */
void
events_dispatch(struct sup *s)
{
	int steps = 0;

	watch_anchor(s);
	while (!s->finished && steps < MAX_STEPS) {
		struct round rd = { .alarm_known = false };
		unsigned i;

		for (i = 0; i < CAL_EVENT_COUNT; i++) {
			int ev = (int)cal_event_priority[i];

			if (poll_of[ev](s, ev, &rd))
				break;
		}
		if (i == CAL_EVENT_COUNT)
			return;
		steps++;
	}
}

int64_t
events_run_budget_ms(const struct sup *s)
{
	const struct profile_timing *t = &s->pf.timing;
	int64_t margin = 2 * t->revert_confirm_ms + t->heartbeat_timeout_ms;

	if (margin > t->run_max_ms / 4)
		margin = t->run_max_ms / 4;
	return t->run_max_ms - margin;
}

void
events_start(struct sup *s)
{
	for (unsigned e = 0; e < CAL_EVENT_COUNT; e++)
		if (poll_of[e] == NULL)
			fatalx("event %s of the spec has no input in events.c",
			    cal_event_name[e]);
	/* idle is bounded too: its idle_run timer runs from the process
	 * start (s->now == s->start_ms here) */
	sm_init(s);
}

/* The timers' durations (spec timers: duration:), from the profile. */
int64_t
duration_run_budget(const struct sup *s)
{
	return events_run_budget_ms(s);
}

int64_t
duration_preflight_wait(const struct sup *s)
{
	return s->pf.timing.preflight_wait_ms;
}

int64_t
duration_engage_timeout(const struct sup *s)
{
	return s->pf.timing.engage_timeout_ms;
}

int64_t
duration_absorption_max(const struct sup *s)
{
	return s->pf.timing.absorption_max_ms;
}

int64_t
duration_absorption_hold(const struct sup *s)
{
	return s->pf.timing.absorption_hold_ms;
}

int64_t
events_wake_ms(const struct sup *s)
{
	(void)s;
	return sm_next_timer();
}
