/*
 * Glue between the runtime and the generated table (build/gen/
 * calibration_table.h) run by the table engine (supervisor/machine.h).
 * After every step it does the bookkeeping a state change needs: the
 * heartbeat's state id, a "state" audit event, the level-event latches,
 * and, at a terminal state, the outcome. The engine keeps the states'
 * timers; these functions let the runtime see them.
 */
#ifndef GRIDCAL_SM_H
#define GRIDCAL_SM_H

#include <stdbool.h>
#include <stdint.h>

#include "calibration_table.h"

struct sup;

/* The initial state, its timers armed at s->now. */
void	sm_init(struct sup *);
/* The state's timer is due at s->now: disarmed, true once. */
bool	sm_timer_expired(const struct sup *, int timer);
/* When the timer expires, 0 if not armed. */
int64_t	sm_timer_at(int timer);
/* The earliest armed timer, 0 if none: the loop wakes up for it. */
int64_t	sm_next_timer(void);
/* The state has at least one row for the event. */
bool	sm_handles(int state, int event);
/* One event through the engine; bookkeeping if the state changed. */
void	sm_dispatch(struct sup *, int event);

#endif
