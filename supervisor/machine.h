/*
 * The table-driven engine that runs the calibration machine generated
 * from spec/calibration.yaml (build/gen/calibration_table.h).
 *
 * machine_dispatch() looks up the rows of (current state, event) in
 * cal_index, tries them in spec order, and fires the first whose guards
 * all hold: its actions run in the order listed, then the machine moves to
 * the row's target. An event with no firing row is ignored: the state does
 * not change and the ignore callback (or a debug log line) reports it.
 *
 * Timers are the states': a transition into a state that owns a timer
 * (cal_state_timers) from one that does not arms it at now plus its
 * duration (cal_timer_duration), after the row's actions; a transition into
 * a state that does not own it cancels it; machine_start() arms the
 * initial state's. No guard or action arms or cancels one. The runtime
 * asks machine_timer_expired() and raises the timer's event.
 *
 * Guards, actions and callbacks must not call machine_dispatch(): events
 * they cause are queued by the runtime and dispatched after the current
 * one. A re-entrant call, or an event id outside the table, is a
 * programming error and fatal, so that the watchdog sees EOF and reverts.
 */
#ifndef GRIDCAL_MACHINE_H
#define GRIDCAL_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calibration_table.h"

#define MACHINE_HISTORY	64	/* transitions kept, for tests and reports */

/* One fired transition. */
struct machine_step {
	uint64_t	seq;		/* 1 for the first transition */
	enum cal_state	from;
	enum cal_event	event;
	enum cal_state	to;
	uint16_t	row;		/* index into cal_rows */
};

struct machine;
typedef void (*machine_step_cb)(void *arg, const struct machine_step *);
typedef void (*machine_ignore_cb)(void *arg, enum cal_state,
    enum cal_event);

struct machine_timer {
	bool		armed;
	int64_t		at_ms;		/* expires at */
};

struct machine {
	enum cal_state		state;
	struct machine_timer	timer[CAL_TIMER_COUNT + 1];
	uint64_t		steps;		/* transitions fired */
	uint64_t		ignored;	/* events ignored */
	struct machine_step	history[MACHINE_HISTORY];	/* ring */
	machine_step_cb		on_step;	/* after each transition */
	machine_ignore_cb	on_ignore;	/* NULL: log_debug */
	void			*arg;
	bool			busy;		/* inside machine_dispatch */
};

/* In the spec's initial state, with optional callbacks (may be NULL). */
void	machine_init(struct machine *, machine_step_cb, machine_ignore_cb,
	    void *arg);
/* Arms the initial state's timers; once, before the first dispatch. */
void	machine_start(struct machine *, struct sup *, int64_t now_ms);
/*
 * Dispatches one event at now_ms (the clock timers are armed with).
 * Returns true if a transition fired, false if the event was ignored.
 */
bool	machine_dispatch(struct machine *, struct sup *, enum cal_event,
	    int64_t now_ms);
/* The timer is armed and due: disarms it and returns true (once). */
bool	machine_timer_expired(struct machine *, enum cal_timer,
	    int64_t now_ms);
/* When the timer expires; 0 if it is not armed. */
int64_t	machine_timer_at(const struct machine *, enum cal_timer);
/* The earliest armed timer's expiry, 0 if none. */
int64_t	machine_next_timer(const struct machine *);

enum cal_state	 machine_state(const struct machine *);
bool		 machine_terminal(const struct machine *);
enum cal_outcome machine_outcome(const struct machine *);
bool		 machine_holds_settings(const struct machine *);
/*
 * The i-th most recent transition (0 = the latest), or NULL if fewer than
 * i + 1 are kept.
 */
const struct machine_step *machine_recent(const struct machine *, size_t i);

#endif
