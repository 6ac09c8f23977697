/*
 * Telemetry, timers, signals and watchdog answers -> table events.
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

static bool
do_cancel(struct sup *s)
{
	char why[32];

	if (s->signal == 0)
		return false;
	(void)snprintf(why, sizeof(why), "signal=%d", s->signal);
	return abort_level(s, CAL_EVENT_CANCEL, why);
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

static bool
do_answer(struct sup *s)
{
	struct wd_answer a;
	int ev;

	if (!wdlink_next_answer(&s->wd, &a))
		return false;
	if (a.type == PROTO_REVERTED && a.confirmed)
		s->reverted = true;
	if ((ev = answer_event(&a)) < 0 || !sm_handles(s->state, ev)) {
		log_debug("watchdog answer %s ignored in state %s",
		    proto_type_name(a.type), sup_state_name(s->state));
		return true;	/* consumed: look at the next one */
	}
	if (a.type == PROTO_SET_REFUSED)
		note_abort(s, ev, "setting=%s value=%s refusal=%s text=\"%s\"",
		    setting_name(a.setting), a.value == VALUE_EVERYDAY ?
		    "everyday" : "calibration", proto_refusal_name(a.refusal),
		    a.text);
	else if (a.type == PROTO_REVERTED)
		note_abort(s, ev, "revert_reason=%s confirmed=%d",
		    proto_revert_name(a.revert), a.confirmed);
	sm_dispatch(s, ev);
	return true;
}

static bool
do_alarm(struct sup *s)
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
	enum alarm al;
	char why[200];

	expect_for(s->state, &ex);
	al = monitor_alarm(&s->mon, &s->tm, &ex, s->now, why, sizeof(why));
	if (al == AL_NONE)
		return false;
	return abort_level(s, ev_of[al], why);
}

/* A one-shot timer that expired: disarmed and raised. */
static bool
timer_due(const struct sup *s, const struct sup_timer *t)
{
	return t->armed && s->now >= t->at_ms;
}

static bool
do_timers(struct sup *s)
{
	char why[64];

	if (timer_due(s, &s->run_timer)) {
		s->run_timer.armed = false;
		(void)snprintf(why, sizeof(why), "run_max_ms=%lld",
		    (long long)s->pf.timing.run_max_ms);
		if (sm_handles(s->state, CAL_EVENT_RUN_TIMEOUT)) {
			note_abort(s, CAL_EVENT_RUN_TIMEOUT, "%s", why);
			sm_dispatch(s, CAL_EVENT_RUN_TIMEOUT);
		}
		return true;
	}
	if (timer_due(s, &s->engage_timer)) {
		s->engage_timer.armed = false;
		(void)raise_ev(s, CAL_EVENT_ENGAGE_TIMEOUT);
		return true;
	}
	if (timer_due(s, &s->absorb_timer)) {
		s->absorb_timer.armed = false;
		s->hold_armed = false;
		(void)raise_ev(s, CAL_EVENT_ABSORPTION_TIMEOUT);
		return true;
	}
	return false;
}

/* Snapshot collection started by begin_snapshot. */
static bool
do_snapshot(struct sup *s)
{
	if (!s->snap_active)
		return false;
	if (snapshot_take(&s->tm, s->snap_since_ms, s->now, &s->snap,
	    s->snap_why, sizeof(s->snap_why)) == 0) {
		s->snap_active = false;
		s->snap_timer.armed = false;
		(void)raise_ev(s, CAL_EVENT_SNAPSHOT_READY);
		return true;
	}
	if (timer_due(s, &s->snap_timer)) {
		s->snap_active = false;
		s->snap_timer.armed = false;
		(void)raise_ev(s, CAL_EVENT_SNAPSHOT_TIMEOUT);
		return true;
	}
	return false;
}

/* The taper hold: voltage at bulk and currents at the tail, held. */
static bool
do_taper(struct sup *s)
{
	if (!s->hold_armed)
		return false;
	if (!monitor_tapered(&s->tm, s->now)) {
		s->taper_since_ms = 0;
		return false;
	}
	if (s->taper_since_ms == 0)
		s->taper_since_ms = s->now;
	if (s->now - s->taper_since_ms < s->pf.timing.absorption_hold_ms)
		return false;
	s->hold_armed = false;
	(void)raise_ev(s, CAL_EVENT_TAPER_HELD);
	return true;
}

static bool
do_progress(struct sup *s)
{
	char why[160];
	int band;

	if (sm_handles(s->state, CAL_EVENT_GRID_CHARGE_ENGAGED) &&
	    monitor_engaged(&s->tm, s->now, why, sizeof(why)) &&
	    raise_level(s, CAL_EVENT_GRID_CHARGE_ENGAGED))
		return true;
	band = monitor_bulk_band(&s->tm, s->now);
	if (band == 1 && raise_level(s, CAL_EVENT_ABSORPTION_REACHED))
		return true;
	if (band == 0 && raise_level(s, CAL_EVENT_ABSORPTION_LOST))
		return true;
	return false;
}

static bool
do_start(struct sup *s)
{
	/* the broker first; if it never comes (or refused us), pre-flight
	 * says so */
	if (!s->broker_up && !s->broker_fatal &&
	    s->now - s->start_ms < s->pf.timing.preflight_wait_ms)
		return false;
	return raise_level(s, CAL_EVENT_START);
}

/* Ends the process's part when the watchdog link is gone. */
static void
link_lost(struct sup *s)
{
	/*
	 * Not a table transition: without the link nothing can be asked or
	 * reported to the watchdog, which reverts on EOF by itself. Stop
	 * and say so.
	 */
	s->outcome = PROTO_OUTCOME_ABORTED;
	(void)strlcpy(s->code, "watchdog_lost", sizeof(s->code));
	(void)strlcpy(s->reason, "watchdog link lost: ", sizeof(s->reason));
	(void)strlcat(s->reason, s->wd.error, sizeof(s->reason));
	log_warnx("%s", s->reason);
	s->finished = true;
}

/*
 * In the hold, a counter that jumps to the re-anchor value re-anchored,
 * even if the verify snapshot later reads it a little lower (float, load).
 */
static void
watch_anchor(struct sup *s)
{
	uint32_t fresh;
	double v;

	switch (s->state) {
	case CAL_STATE_SOLAR_ABSORPTION:
	case CAL_STATE_SOLAR_VERIFY:
	case CAL_STATE_GRID_ABSORPTION:
	case CAL_STATE_GRID_VERIFY:
		break;
	default:
		return;
	}
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

void
events_dispatch(struct sup *s)
{
	bool (*const sources[])(struct sup *) = {
		do_cancel, do_answer, do_alarm, do_timers, do_snapshot,
		do_taper, do_progress, do_start,
	};
	int steps = 0;

	watch_anchor(s);
	while (!s->finished && steps < MAX_STEPS) {
		size_t i;

		if (!wdlink_is_up(&s->wd) && s->wd.ansq_len == 0) {
			link_lost(s);
			return;
		}
		for (i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
			if (sources[i](s))
				break;
		if (i == sizeof(sources) / sizeof(sources[0]))
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
	sm_init(s);
	/* idle is bounded too: the run timer runs from the process start */
	s->run_timer.armed = true;
	s->run_timer.at_ms = s->start_ms + events_run_budget_ms(s);
}

int64_t
events_wake_ms(const struct sup *s)
{
	const struct sup_timer *t[] = {
		&s->run_timer, &s->snap_timer, &s->engage_timer,
		&s->absorb_timer,
	};
	int64_t w = 0;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i]->armed && (w == 0 || t[i]->at_ms < w))
			w = t[i]->at_ms;
	return w;
}
