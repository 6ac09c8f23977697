/*
 * Glue between the runtime and the generated table (build/gen/
 * calibration_table.h) run by the table engine (supervisor/machine.h).
 * After every step it does the bookkeeping a state change needs: the
 * heartbeat's state id, a "state" audit event, the level-event latches,
 * and, at a terminal state, the outcome.
 */
#ifndef GRIDCAL_SM_H
#define GRIDCAL_SM_H

#include <stdbool.h>

#include "calibration_table.h"

struct sup;

void	sm_init(struct sup *);
/* The state has at least one row for the event. */
bool	sm_handles(int state, int event);
/* One event through the engine; bookkeeping if the state changed. */
void	sm_dispatch(struct sup *, int event);

#endif
