/*
 * Unit tests of the table engine (supervisor/machine.c) running the table
 * generated from the real spec. Guards and actions are the generated
 * stubs (build/gen/calibration_stubs.c): guards answer from the test's
 * context, actions are recorded in order.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "log.h"
#include "supervisor/machine.h"

/* fatalx() exits with this in the fatal tests, unlike a failed assertion. */
#define FATAL_STATUS	70

#define LOG_MAX	512

struct sup {
	bool		 guard[CAL_GUARD_COUNT];
	enum cal_action	 log[LOG_MAX];
	size_t		 nlog;
	struct machine	*m;		/* for the re-entrancy test */
	bool		 reenter;
};

/* Guards are pure, so their calls are counted outside the context. */
static unsigned guard_calls[CAL_GUARD_COUNT];
/* The clock the tests dispatch at (timers are armed from it). */
static int64_t clock_ms;

bool	stub_guard(const struct sup *, enum cal_guard);
void	stub_action(struct sup *, enum cal_action);
int64_t	stub_duration(const struct sup *, const char *);

/* Durations (ms) distinct enough to tell the timers apart. */
int64_t
stub_duration(const struct sup *s, const char *name)
{
	static const struct {
		const char	*name;
		int64_t		 ms;
	} d[] = {
		{ "run_budget", 100000 }, { "preflight_wait", 1000 },
		{ "engage_timeout", 2000 }, { "absorption_max", 50000 },
		{ "absorption_hold", 3000 },
	};

	(void)s;
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		if (strcmp(d[i].name, name) == 0)
			return d[i].ms;
	ck_abort_msg("no duration %s", name);
	return 0;
}

bool
stub_guard(const struct sup *s, enum cal_guard g)
{
	guard_calls[g]++;
	return s->guard[g];
}

void
stub_action(struct sup *s, enum cal_action a)
{
	ck_assert_uint_lt(s->nlog, LOG_MAX);
	s->log[s->nlog++] = a;
	if (s->reenter)
		(void)machine_dispatch(s->m, s, CAL_EVENT_CANCEL, clock_ms);
}

static struct sup sup;
static struct machine m;
static unsigned ignored_calls;
static enum cal_state ignored_state;
static enum cal_event ignored_event;
static unsigned step_calls;
static struct machine_step last_step;

static void
on_ignore(void *arg, enum cal_state s, enum cal_event e)
{
	ck_assert_ptr_eq(arg, &sup);
	ignored_calls++;
	ignored_state = s;
	ignored_event = e;
}

static void
on_step(void *arg, const struct machine_step *st)
{
	ck_assert_ptr_eq(arg, &sup);
	step_calls++;
	last_step = *st;
}

static void
setup(void)
{
	memset(&sup, 0, sizeof(sup));
	memset(guard_calls, 0, sizeof(guard_calls));
	ignored_calls = step_calls = 0;
	clock_ms = 1;
	machine_init(&m, on_step, on_ignore, &sup);
	machine_start(&m, &sup, clock_ms);
	sup.m = &m;
}

static bool
logged(enum cal_action a)
{
	size_t i;

	for (i = 0; i < sup.nlog; i++)
		if (sup.log[i] == a)
			return true;
	return false;
}

static bool
requested_calibration(void)
{
	return logged(CAL_ACTION_REQUEST_CHARGER_CALIBRATION) ||
	    logged(CAL_ACTION_REQUEST_OUTPUT_CALIBRATION);
}

/* Dispatches ev, which must fire and lead to want. */
static void
step(enum cal_event ev, enum cal_state want)
{
	enum cal_state from = machine_state(&m);

	ck_assert_msg(machine_dispatch(&m, &sup, ev, clock_ms), "%s: %s ignored",
	    cal_state_name[from], cal_event_name[ev]);
	ck_assert_msg(machine_state(&m) == want, "%s --%s--> %s, want %s",
	    cal_state_name[from], cal_event_name[ev],
	    cal_state_name[machine_state(&m)], cal_state_name[want]);
}

START_TEST(test_init)
{
	ck_assert_int_eq(machine_state(&m), CAL_INITIAL_STATE);
	ck_assert_int_eq(CAL_INITIAL_STATE, CAL_STATE_IDLE);
	ck_assert(!machine_terminal(&m));
	ck_assert(!machine_holds_settings(&m));
	ck_assert_int_eq(machine_outcome(&m), CAL_OUTCOME_NONE);
	ck_assert_ptr_null(machine_recent(&m, 0));
	ck_assert_uint_eq(m.steps, 0);
}
END_TEST

/* The index covers every row once, each under its own state and event. */
START_TEST(test_table_index)
{
	unsigned seen[CAL_ROW_COUNT] = { 0 };
	unsigned s, e, i, n = 0;

	for (s = 0; s < CAL_STATE_COUNT; s++)
		for (e = 0; e < CAL_EVENT_COUNT; e++) {
			const struct cal_span *sp = &cal_index[s][e];

			ck_assert_uint_le((unsigned)sp->first + sp->count,
			    CAL_ROW_COUNT);
			for (i = sp->first; i < (unsigned)sp->first + sp->count;
			    i++) {
				ck_assert_int_eq(cal_rows[i].from, s);
				ck_assert_int_eq(cal_rows[i].event, e);
				seen[i]++;
				n++;
			}
			if (cal_state_outcome[s] != CAL_OUTCOME_NONE)
				ck_assert_uint_eq(sp->count, 0);
		}
	ck_assert_uint_eq(n, CAL_ROW_COUNT);
	for (i = 0; i < CAL_ROW_COUNT; i++)
		ck_assert_uint_eq(seen[i], 1);
	for (s = 0; s < CAL_STATE_COUNT; s++) {
		ck_assert_ptr_nonnull(cal_state_name[s]);
		ck_assert(!(cal_state_outcome[s] != CAL_OUTCOME_NONE &&
		    cal_state_holds_settings[s]));
		ck_assert(!cal_state_reverting[s] ||
		    cal_state_holds_settings[s]);
	}
	for (i = 0; i < CAL_GUARD_COUNT; i++)
		ck_assert_ptr_nonnull(cal_guard_fns[i]);
	for (i = 0; i < CAL_ACTION_COUNT; i++)
		ck_assert_ptr_nonnull(cal_action_fns[i]);
	ck_assert_str_eq(cal_outcome_name[CAL_OUTCOME_PASS], "PASS");
}
END_TEST

START_TEST(test_grid_pass)
{
	sup.guard[CAL_GUARD_METHOD_GRID] = true;
	sup.guard[CAL_GUARD_RUN_AUTHORISED] = true;
	step(CAL_EVENT_START, CAL_STATE_PREFLIGHT);
	ck_assert(!requested_calibration());
	step(CAL_EVENT_SNAPSHOT_READY, CAL_STATE_ENABLE_CHARGER);
	ck_assert_uint_eq(sup.nlog, 2 + 3);
	ck_assert_int_eq(sup.log[sup.nlog - 1],
	    CAL_ACTION_REQUEST_CHARGER_CALIBRATION);
	ck_assert(!logged(CAL_ACTION_REQUEST_OUTPUT_CALIBRATION));
	ck_assert(machine_holds_settings(&m));
	step(CAL_EVENT_CHARGER_CALIBRATION_CONFIRMED, CAL_STATE_ENABLE_OUTPUT);
	ck_assert_int_eq(sup.log[sup.nlog - 1],
	    CAL_ACTION_REQUEST_OUTPUT_CALIBRATION);
	step(CAL_EVENT_OUTPUT_CALIBRATION_CONFIRMED, CAL_STATE_ENGAGING);
	step(CAL_EVENT_GRID_CHARGE_ENGAGED, CAL_STATE_GRID_CHARGING);
	step(CAL_EVENT_ABSORPTION_REACHED, CAL_STATE_GRID_ABSORPTION);
	step(CAL_EVENT_TAPERED, CAL_STATE_GRID_ABSORPTION_HOLD);
	step(CAL_EVENT_TAPER_HELD, CAL_STATE_GRID_VERIFY);
	sup.guard[CAL_GUARD_PACKS_REANCHORED] = true;
	step(CAL_EVENT_SNAPSHOT_READY, CAL_STATE_REVERT_OUTPUT);
	ck_assert_int_eq(sup.log[sup.nlog - 2], CAL_ACTION_SET_OUTCOME_PASS);
	ck_assert_int_eq(sup.log[sup.nlog - 1],
	    CAL_ACTION_REQUEST_OUTPUT_EVERYDAY);
	ck_assert(!machine_terminal(&m));
	step(CAL_EVENT_OUTPUT_EVERYDAY_CONFIRMED, CAL_STATE_REVERT_CHARGER);
	ck_assert_int_eq(sup.log[sup.nlog - 1],
	    CAL_ACTION_REQUEST_CHARGER_EVERYDAY);
	sup.guard[CAL_GUARD_OUTCOME_IS_PASS] = true;
	step(CAL_EVENT_CHARGER_EVERYDAY_CONFIRMED, CAL_STATE_PASSED);
	ck_assert(machine_terminal(&m));
	ck_assert(!machine_holds_settings(&m));
	ck_assert_int_eq(machine_outcome(&m), CAL_OUTCOME_PASS);
	ck_assert_int_eq(sup.log[sup.nlog - 1], CAL_ACTION_AUDIT_REVERTED);
	ck_assert_uint_eq(m.steps, 11);
	ck_assert_uint_eq(step_calls, 11);
	ck_assert_int_eq(last_step.from, CAL_STATE_REVERT_CHARGER);
	ck_assert_int_eq(last_step.to, CAL_STATE_PASSED);
	ck_assert_uint_eq(last_step.seq, 11);
	ck_assert_int_eq(machine_recent(&m, 10)->event, CAL_EVENT_START);
	ck_assert_ptr_null(machine_recent(&m, 11));
	/* Nothing moves a terminal state. */
	ck_assert(!machine_dispatch(&m, &sup, CAL_EVENT_CANCEL, clock_ms));
	ck_assert_int_eq(machine_state(&m), CAL_STATE_PASSED);
}
END_TEST

START_TEST(test_solar_never_requests)
{
	sup.guard[CAL_GUARD_METHOD_SOLAR] = true;
	sup.guard[CAL_GUARD_RUN_AUTHORISED] = true;	/* still nothing */
	step(CAL_EVENT_START, CAL_STATE_PREFLIGHT);
	step(CAL_EVENT_SNAPSHOT_READY, CAL_STATE_SOLAR_CHARGING);
	step(CAL_EVENT_ABSORPTION_REACHED, CAL_STATE_SOLAR_ABSORPTION);
	step(CAL_EVENT_ABSORPTION_TIMEOUT, CAL_STATE_SOLAR_VERIFY);
	sup.guard[CAL_GUARD_HOLD_TIME_LEFT] = true;
	step(CAL_EVENT_SNAPSHOT_READY, CAL_STATE_SOLAR_ABSORPTION);
	ck_assert_int_eq(sup.log[sup.nlog - 1], CAL_ACTION_EXTEND_HOLD);
	/* the taper hold is a state: a break in the taper leaves it */
	step(CAL_EVENT_TAPERED, CAL_STATE_SOLAR_ABSORPTION_HOLD);
	step(CAL_EVENT_TAPER_LOST, CAL_STATE_SOLAR_ABSORPTION);
	ck_assert(!machine_dispatch(&m, &sup, CAL_EVENT_TAPER_HELD, clock_ms));
	step(CAL_EVENT_TAPERED, CAL_STATE_SOLAR_ABSORPTION_HOLD);
	step(CAL_EVENT_TAPER_HELD, CAL_STATE_SOLAR_VERIFY);
	sup.guard[CAL_GUARD_HOLD_TIME_LEFT] = false;
	step(CAL_EVENT_SNAPSHOT_READY, CAL_STATE_FAILED);
	ck_assert(logged(CAL_ACTION_NOTE_LAGGING_PACKS));
	ck_assert_int_eq(machine_outcome(&m), CAL_OUTCOME_FAIL);
	ck_assert(!requested_calibration());
	ck_assert(!logged(CAL_ACTION_REQUEST_OUTPUT_EVERYDAY));
}
END_TEST

/* Rows of a group are tried in spec order; the first that holds wins. */
START_TEST(test_first_match)
{
	step(CAL_EVENT_START, CAL_STATE_PREFLIGHT);
	sup.nlog = 0;
	memset(guard_calls, 0, sizeof(guard_calls));
	sup.guard[CAL_GUARD_TEMPERATURE_OUTSIDE_CHARGE_WINDOW] = true;
	sup.guard[CAL_GUARD_PROTECTION_BITS_SET] = true;
	sup.guard[CAL_GUARD_PACKS_DISAGREE] = true;
	sup.guard[CAL_GUARD_METHOD_GRID] = true;
	sup.guard[CAL_GUARD_RUN_AUTHORISED] = true;
	step(CAL_EVENT_SNAPSHOT_READY, CAL_STATE_REFUSED);
	ck_assert(logged(CAL_ACTION_NOTE_TEMPERATURE));
	ck_assert(!logged(CAL_ACTION_NOTE_PROTECTION));
	ck_assert(!logged(CAL_ACTION_NOTE_IMBALANCE));
	ck_assert(!requested_calibration());
	/* The later rows were never even asked. */
	ck_assert_uint_eq(guard_calls[CAL_GUARD_TEMPERATURE_OUTSIDE_CHARGE_WINDOW], 1);
	ck_assert_uint_eq(guard_calls[CAL_GUARD_PROTECTION_BITS_SET], 0);
	ck_assert_uint_eq(guard_calls[CAL_GUARD_RUN_AUTHORISED], 0);
	ck_assert_int_eq(machine_outcome(&m), CAL_OUTCOME_REFUSED);
}
END_TEST

/* Guards of one row are evaluated in order and stop at the first false. */
START_TEST(test_guard_short_circuit)
{
	step(CAL_EVENT_START, CAL_STATE_PREFLIGHT);
	memset(guard_calls, 0, sizeof(guard_calls));
	sup.guard[CAL_GUARD_RUN_AUTHORISED] = true;	/* method neither */
	step(CAL_EVENT_SNAPSHOT_READY, CAL_STATE_REFUSED);
	ck_assert_uint_eq(guard_calls[CAL_GUARD_METHOD_GRID], 1);
	ck_assert_uint_eq(guard_calls[CAL_GUARD_RUN_AUTHORISED], 0);
	/* The unguarded last row: refuse, never request. */
	ck_assert(logged(CAL_ACTION_NOTE_UNAUTHORISED));
	ck_assert(!requested_calibration());
}
END_TEST

START_TEST(test_unauthorised_grid_refused_at_start)
{
	sup.guard[CAL_GUARD_GRID_WITHOUT_AUTHORISATION] = true;
	step(CAL_EVENT_START, CAL_STATE_REFUSED);
	ck_assert(logged(CAL_ACTION_NOTE_UNAUTHORISED));
	ck_assert(!requested_calibration());
}
END_TEST

/*
 * Every combination of the pre-flight guards: a calibration value is
 * requested exactly when every gate passed, the bank drifted, and the run
 * is an authorised grid run.
 */
START_TEST(test_preflight_all_combinations)
{
	static const enum cal_guard g[] = {
		CAL_GUARD_TEMPERATURE_OUTSIDE_CHARGE_WINDOW,
		CAL_GUARD_PROTECTION_BITS_SET, CAL_GUARD_CELL_DELTA_TOO_WIDE,
		CAL_GUARD_CELL_AT_ABORT_VOLTAGE, CAL_GUARD_UNITS_NOT_EVERYDAY,
		CAL_GUARD_PACKS_DISAGREE, CAL_GUARD_SOC_ALREADY_AGREES,
		CAL_GUARD_METHOD_SOLAR, CAL_GUARD_METHOD_GRID,
		CAL_GUARD_RUN_AUTHORISED,
	};
	const unsigned n = sizeof(g) / sizeof(g[0]);
	unsigned bits, i, requests = 0;
	bool unsafe, want;

	for (bits = 0; bits < (1u << n); bits++) {
		setup();
		step(CAL_EVENT_START, CAL_STATE_PREFLIGHT);
		for (i = 0; i < n; i++)
			sup.guard[g[i]] = (bits >> i) & 1;
		ck_assert(machine_dispatch(&m, &sup,
		    CAL_EVENT_SNAPSHOT_READY, clock_ms));
		unsafe = false;
		for (i = 0; i < 7; i++)
			unsafe |= sup.guard[g[i]];
		want = !unsafe && !sup.guard[CAL_GUARD_METHOD_SOLAR] &&
		    sup.guard[CAL_GUARD_METHOD_GRID] &&
		    sup.guard[CAL_GUARD_RUN_AUTHORISED];
		ck_assert_msg(requested_calibration() == want,
		    "guards 0x%x: requested %d", bits, requested_calibration());
		ck_assert_int_eq(machine_holds_settings(&m), want);
		if (!want && !(!unsafe && sup.guard[CAL_GUARD_METHOD_SOLAR]))
			ck_assert_int_eq(machine_state(&m), CAL_STATE_REFUSED);
		requests += want;
	}
	ck_assert_uint_eq(requests, 1);	/* one combination of all 2^n */
}
END_TEST

static void
enter(enum cal_state s)
{
	/* Tests only: put the machine in a state without walking there. */
	m.state = s;
	sup.nlog = 0;
}

/* From every state holding the settings, every abort starts the revert. */
START_TEST(test_aborts_revert_from_holding_states)
{
	unsigned s, e, n = 0;

	for (s = 0; s < CAL_STATE_COUNT; s++) {
		if (!cal_state_holds_settings[s] || cal_state_reverting[s])
			continue;
		for (e = 0; e < CAL_EVENT_COUNT; e++) {
			if (!cal_event_abort[e])
				continue;
			setup();
			enter((enum cal_state)s);
			step((enum cal_event)e, CAL_STATE_REVERT_OUTPUT);
			ck_assert(logged(CAL_ACTION_AUDIT_ABORT));
			ck_assert_int_eq(sup.log[sup.nlog - 1],
			    CAL_ACTION_REQUEST_OUTPUT_EVERYDAY);
			ck_assert(logged(e == CAL_EVENT_CANCEL ?
			    CAL_ACTION_SET_OUTCOME_CANCELLED :
			    CAL_ACTION_SET_OUTCOME_ABORTED));
			n++;
		}
	}
	ck_assert_uint_eq(n, 7 * 10);
}
END_TEST

/*
 * The abort group, expanded for every state that holds nothing: a
 * telemetry abort before any charging is a refusal, a cancel is
 * cancelled, anything else aborted, except where the state has its own
 * row (solar run_timeout: the day ended, FAIL). Each is audited.
 */
START_TEST(test_abort_group_outside_the_settings)
{
	unsigned s, e, n = 0;

	for (s = 0; s < CAL_STATE_COUNT; s++) {
		bool before = s == CAL_STATE_IDLE || s == CAL_STATE_PREFLIGHT;

		if (cal_state_holds_settings[s] ||
		    cal_state_outcome[s] != CAL_OUTCOME_NONE)
			continue;
		for (e = 0; e < CAL_EVENT_COUNT; e++) {
			enum cal_state want = CAL_STATE_ABORTED;

			if (!cal_event_abort[e])
				continue;
			if (e == CAL_EVENT_CANCEL)
				want = CAL_STATE_CANCELLED;
			else if (before &&
			    cal_event_source[e] == CAL_SOURCE_TELEMETRY)
				want = CAL_STATE_REFUSED;
			else if (!before && e == CAL_EVENT_RUN_TIMEOUT)
				want = CAL_STATE_FAILED;
			setup();
			enter((enum cal_state)s);
			step((enum cal_event)e, want);
			ck_assert(!requested_calibration());
			ck_assert(!logged(CAL_ACTION_REQUEST_OUTPUT_EVERYDAY));
			ck_assert(want == CAL_STATE_FAILED ?
			    logged(CAL_ACTION_NOTE_NO_ABSORPTION) :
			    sup.nlog == 1 && sup.log[0] == CAL_ACTION_AUDIT_ABORT);
			n++;
		}
	}
	ck_assert_uint_eq(n, 6 * 10);
}
END_TEST

/* Aborts during the revert change nothing: the revert carries on. */
START_TEST(test_aborts_ignored_while_reverting)
{
	unsigned e;

	for (e = 0; e < CAL_EVENT_COUNT; e++) {
		if (!cal_event_abort[e])
			continue;
		setup();
		enter(CAL_STATE_REVERT_CHARGER);
		ck_assert(!machine_dispatch(&m, &sup, (enum cal_event)e, clock_ms));
		ck_assert_int_eq(machine_state(&m), CAL_STATE_REVERT_CHARGER);
		ck_assert_uint_eq(sup.nlog, 0);
		ck_assert_uint_eq(ignored_calls, 1);
		ck_assert_int_eq(ignored_event, e);
	}
}
END_TEST

/*
 * The watchdog link lost ends the run from every state that is not
 * terminal, the reverting ones included, and asks nothing: a row of the
 * table, not code beside it.
 */
START_TEST(test_watchdog_lost_ends_every_state)
{
	unsigned s, n = 0;

	for (s = 0; s < CAL_STATE_COUNT; s++) {
		if (cal_state_outcome[s] != CAL_OUTCOME_NONE)
			continue;
		setup();
		enter((enum cal_state)s);
		step(CAL_EVENT_WATCHDOG_LOST, CAL_STATE_ABORTED);
		ck_assert_uint_eq(sup.nlog, 1);
		ck_assert_int_eq(sup.log[0], CAL_ACTION_NOTE_WATCHDOG_LOST);
		ck_assert(!requested_calibration());
		ck_assert(!logged(CAL_ACTION_REQUEST_OUTPUT_EVERYDAY));
		n++;
	}
	ck_assert_uint_eq(n, CAL_STATE_COUNT - 5);
	ck_assert(cal_event_link_lost[CAL_EVENT_WATCHDOG_LOST]);
	ck_assert(!cal_event_abort[CAL_EVENT_WATCHDOG_LOST]);
}
END_TEST

/*
 * The priority events.c dispatches in is the spec's: every event once,
 * cal_event_rank its inverse; the link lost first (nothing else can be
 * acted on without it), the watchdog's answers together (a queue: only
 * its head is due, so they keep their order only if nothing else sits
 * between them).
 */
START_TEST(test_priority_is_a_permutation)
{
	unsigned seen[CAL_EVENT_COUNT] = { 0 };
	unsigned i, first = CAL_EVENT_COUNT, last = 0, n = 0;

	for (i = 0; i < CAL_EVENT_COUNT; i++) {
		enum cal_event e = cal_event_priority[i];

		ck_assert_uint_lt(e, CAL_EVENT_COUNT);
		seen[e]++;
		ck_assert_uint_eq(cal_event_rank[e], i);
		if (cal_event_source[e] == CAL_SOURCE_WATCHDOG &&
		    !cal_event_link_lost[e]) {
			if (first == CAL_EVENT_COUNT)
				first = i;
			last = i;
			n++;
		}
	}
	for (i = 0; i < CAL_EVENT_COUNT; i++)
		ck_assert_uint_eq(seen[i], 1);
	ck_assert_int_eq(cal_event_priority[0], CAL_EVENT_WATCHDOG_LOST);
	ck_assert_uint_eq(last - first + 1, n);
	ck_assert_uint_lt(cal_event_rank[CAL_EVENT_CANCEL],
	    cal_event_rank[CAL_EVENT_CELL_OVER_LIMIT]);
}
END_TEST

/* The armed timers: bit t set if timer t is armed. */
static uint32_t
armed(void)
{
	uint32_t b = 0;

	for (unsigned t = 0; t < CAL_TIMER_COUNT; t++)
		if (machine_timer_at(&m, (enum cal_timer)t) != 0)
			b |= 1u << t;
	return b;
}

#define T(x)	(1u << CAL_TIMER_##x)

/* Steps at clock now and checks the armed timers are the state's. */
static void
step_at(int64_t now, enum cal_event ev, enum cal_state want)
{
	clock_ms = now;
	step(ev, want);
	ck_assert_msg(armed() == cal_state_timers[want], "%s: timers %#x, "
	    "want %#x", cal_state_name[want], armed(),
	    cal_state_timers[want]);
}

/*
 * Timers are the states': armed on entering a state that owns them from
 * one that does not (at that clock plus the duration), kept while moving
 * between states that own them, cancelled on entering one that does not.
 * No action is involved (the stubs do nothing).
 */
START_TEST(test_timers_follow_states)
{
	ck_assert_uint_eq(armed(), T(IDLE_RUN));
	ck_assert_int_eq(machine_timer_at(&m, CAL_TIMER_IDLE_RUN), 1 + 100000);
	sup.guard[CAL_GUARD_METHOD_GRID] = true;
	sup.guard[CAL_GUARD_RUN_AUTHORISED] = true;
	step_at(10, CAL_EVENT_START, CAL_STATE_PREFLIGHT);
	ck_assert_int_eq(machine_timer_at(&m, CAL_TIMER_RUN), 10 + 100000);
	ck_assert_int_eq(machine_timer_at(&m, CAL_TIMER_SNAPSHOT), 10 + 1000);
	step_at(20, CAL_EVENT_SNAPSHOT_READY, CAL_STATE_ENABLE_CHARGER);
	step_at(30, CAL_EVENT_CHARGER_CALIBRATION_CONFIRMED,
	    CAL_STATE_ENABLE_OUTPUT);
	step_at(40, CAL_EVENT_OUTPUT_CALIBRATION_CONFIRMED, CAL_STATE_ENGAGING);
	ck_assert_int_eq(machine_timer_at(&m, CAL_TIMER_ENGAGE), 40 + 2000);
	step_at(50, CAL_EVENT_GRID_CHARGE_ENGAGED, CAL_STATE_GRID_CHARGING);
	step_at(60, CAL_EVENT_ABSORPTION_REACHED, CAL_STATE_GRID_ABSORPTION);
	ck_assert_int_eq(machine_timer_at(&m, CAL_TIMER_ABSORPTION),
	    60 + 50000);
	step_at(70, CAL_EVENT_TAPERED, CAL_STATE_GRID_ABSORPTION_HOLD);
	ck_assert_int_eq(machine_timer_at(&m, CAL_TIMER_HOLD), 70 + 3000);
	step_at(80, CAL_EVENT_TAPER_LOST, CAL_STATE_GRID_ABSORPTION);
	step_at(90, CAL_EVENT_TAPERED, CAL_STATE_GRID_ABSORPTION_HOLD);
	ck_assert_int_eq(machine_timer_at(&m, CAL_TIMER_HOLD), 90 + 3000);
	/* the hold expires: once */
	ck_assert(!machine_timer_expired(&m, CAL_TIMER_HOLD, 90 + 2999));
	ck_assert(machine_timer_expired(&m, CAL_TIMER_HOLD, 90 + 3000));
	ck_assert(!machine_timer_expired(&m, CAL_TIMER_HOLD, 90 + 3001));
	ck_assert_int_eq(machine_timer_at(&m, CAL_TIMER_HOLD), 0);
	clock_ms = 3090;
	step(CAL_EVENT_TAPER_HELD, CAL_STATE_GRID_VERIFY);
	ck_assert_uint_eq(armed(), cal_state_timers[CAL_STATE_GRID_VERIFY]);
	ck_assert_int_eq(machine_timer_at(&m, CAL_TIMER_SNAPSHOT), 3090 + 1000);
	/* verify and absorption share the absorption timer: it runs on */
	ck_assert_int_eq(machine_timer_at(&m, CAL_TIMER_ABSORPTION),
	    60 + 50000);
	sup.guard[CAL_GUARD_HOLD_TIME_LEFT] = true;
	step_at(4000, CAL_EVENT_SNAPSHOT_READY, CAL_STATE_GRID_ABSORPTION);
	ck_assert_int_eq(machine_timer_at(&m, CAL_TIMER_ABSORPTION),
	    60 + 50000);
	ck_assert_int_eq(machine_timer_at(&m, CAL_TIMER_RUN), 10 + 100000);
	ck_assert_int_eq(machine_next_timer(&m), 60 + 50000);
	/* into the revert: none of the run's timers is left */
	step_at(5000, CAL_EVENT_CELL_OVER_LIMIT, CAL_STATE_REVERT_OUTPUT);
	ck_assert_uint_eq(armed(), 0);
	ck_assert_int_eq(machine_next_timer(&m), 0);
}
END_TEST

/* The revert ends in the outcome recorded before it; aborted otherwise. */
START_TEST(test_revert_outcomes)
{
	static const struct {
		enum cal_guard	g;
		enum cal_state	want;
	} c[] = {
		{ CAL_GUARD_OUTCOME_IS_PASS, CAL_STATE_PASSED },
		{ CAL_GUARD_OUTCOME_IS_FAIL, CAL_STATE_FAILED },
		{ CAL_GUARD_OUTCOME_IS_CANCELLED, CAL_STATE_CANCELLED },
		{ CAL_GUARD_COUNT, CAL_STATE_ABORTED },
	};
	unsigned i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		setup();
		enter(CAL_STATE_REVERT_CHARGER);
		if (c[i].g != CAL_GUARD_COUNT)
			sup.guard[c[i].g] = true;
		step(CAL_EVENT_CHARGER_EVERYDAY_CONFIRMED, c[i].want);
		ck_assert(logged(CAL_ACTION_AUDIT_REVERTED));
		ck_assert(!machine_holds_settings(&m));
	}
	/* Only the confirmation of the charger's everyday value ends it. */
	setup();
	enter(CAL_STATE_REVERT_CHARGER);
	ck_assert(!machine_dispatch(&m, &sup,
	    CAL_EVENT_OUTPUT_EVERYDAY_CONFIRMED, clock_ms));
	ck_assert(!machine_dispatch(&m, &sup,
	    CAL_EVENT_CHARGER_CALIBRATION_CONFIRMED, clock_ms));
	ck_assert_int_eq(machine_state(&m), CAL_STATE_REVERT_CHARGER);
}
END_TEST

START_TEST(test_ignored_event)
{
	ck_assert(!machine_dispatch(&m, &sup, CAL_EVENT_TAPER_HELD, clock_ms));
	ck_assert_int_eq(machine_state(&m), CAL_STATE_IDLE);
	ck_assert_uint_eq(ignored_calls, 1);
	ck_assert_int_eq(ignored_state, CAL_STATE_IDLE);
	ck_assert_int_eq(ignored_event, CAL_EVENT_TAPER_HELD);
	ck_assert_uint_eq(m.ignored, 1);
	ck_assert_uint_eq(m.steps, 0);
	ck_assert_uint_eq(sup.nlog, 0);
	ck_assert_uint_eq(step_calls, 0);
	/* Without a callback it is only logged. */
	machine_init(&m, NULL, NULL, NULL);
	ck_assert(!machine_dispatch(&m, &sup, CAL_EVENT_TAPER_HELD, clock_ms));
	ck_assert_uint_eq(m.ignored, 1);
}
END_TEST

/* The history keeps the last MACHINE_HISTORY steps, newest first. */
START_TEST(test_history_wraps)
{
	unsigned i, total = MACHINE_HISTORY * 2 + 5;
	const struct machine_step *st;

	sup.guard[CAL_GUARD_METHOD_SOLAR] = true;
	step(CAL_EVENT_START, CAL_STATE_PREFLIGHT);
	step(CAL_EVENT_SNAPSHOT_READY, CAL_STATE_SOLAR_CHARGING);
	for (i = 2; i < total; i++)
		step(i % 2 == 0 ? CAL_EVENT_ABSORPTION_REACHED :
		    CAL_EVENT_ABSORPTION_LOST, i % 2 == 0 ?
		    CAL_STATE_SOLAR_ABSORPTION : CAL_STATE_SOLAR_CHARGING);
	ck_assert_uint_eq(m.steps, total);
	for (i = 0; i < MACHINE_HISTORY; i++) {
		st = machine_recent(&m, i);
		ck_assert_ptr_nonnull(st);
		ck_assert_uint_eq(st->seq, total - i);
		ck_assert_int_eq(st->to, (total - 1 - i) % 2 == 0 ?
		    CAL_STATE_SOLAR_ABSORPTION : CAL_STATE_SOLAR_CHARGING);
		ck_assert_int_eq(cal_rows[st->row].to, st->to);
	}
	ck_assert_ptr_null(machine_recent(&m, MACHINE_HISTORY));
}
END_TEST

/* An action that dispatches is a programming error: fatal. */
START_TEST(test_reentry_is_fatal)
{
	log_setfatalstatus(FATAL_STATUS);
	sup.reenter = true;
	(void)machine_dispatch(&m, &sup, CAL_EVENT_START, clock_ms);
}
END_TEST

START_TEST(test_bad_event_is_fatal)
{
	log_setfatalstatus(FATAL_STATUS);
	(void)machine_dispatch(&m, &sup, CAL_EVENT_COUNT, clock_ms);
}
END_TEST

static Suite *
machine_suite(void)
{
	Suite *s = suite_create("machine");
	TCase *tc = tcase_create("engine");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_init);
	tcase_add_test(tc, test_table_index);
	tcase_add_test(tc, test_grid_pass);
	tcase_add_test(tc, test_solar_never_requests);
	tcase_add_test(tc, test_first_match);
	tcase_add_test(tc, test_guard_short_circuit);
	tcase_add_test(tc, test_unauthorised_grid_refused_at_start);
	tcase_add_test(tc, test_preflight_all_combinations);
	tcase_add_test(tc, test_aborts_revert_from_holding_states);
	tcase_add_test(tc, test_aborts_ignored_while_reverting);
	tcase_add_test(tc, test_abort_group_outside_the_settings);
	tcase_add_test(tc, test_watchdog_lost_ends_every_state);
	tcase_add_test(tc, test_priority_is_a_permutation);
	tcase_add_test(tc, test_timers_follow_states);
	tcase_add_test(tc, test_revert_outcomes);
	tcase_add_test(tc, test_ignored_event);
	tcase_add_test(tc, test_history_wraps);
	tcase_add_exit_test(tc, test_reentry_is_fatal, FATAL_STATUS);
	tcase_add_exit_test(tc, test_bad_event_is_fatal, FATAL_STATUS);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(machine_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
