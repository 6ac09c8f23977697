/*
 * Inputs to table events. Every iteration of the poll loop, events.c looks
 * at what the loop latched (signals, watchdog answers, timers, telemetry)
 * and dispatches the events the current state has rows for, one at a
 * time, in the priority the spec declares (priority: in
 * spec/calibration.yaml). Nothing here moves the machine except through
 * the generated table.
 */
#ifndef GRIDCAL_EVENTS_H
#define GRIDCAL_EVENTS_H

#include <stdint.h>

struct sup;

/* Puts the machine in its initial state and arms that state's timers. */
void	events_start(struct sup *);
/* Dispatches every event that is due; sets s->finished at a terminal. */
void	events_dispatch(struct sup *);
/* The earliest armed timer (0 if none): the loop wakes up for it. */
int64_t	events_wake_ms(const struct sup *);
/* The supervisor's own run deadline: run_max_ms less a margin for the
 * revert, so it ends the run before the watchdog's run_max does. */
int64_t	events_run_budget_ms(const struct sup *);

#endif
