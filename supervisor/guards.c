/*
 * The guards of spec/calibration.yaml: pure predicates on the run context.
 * The pre-flight gates and the verify rule are the same functions `check`
 * and the report use (preflight.c, monitor.c); they read the snapshot the
 * runtime took when it raised snapshot_ready.
 */
#include <stdbool.h>

#include "sm.h"
#include "sup.h"

bool
guard_grid_without_authorisation(const struct sup *s)
{
	return s->method == METHOD_GRID && !s->confirm;
}

bool
guard_temperature_outside_charge_window(const struct sup *s)
{
	char why[256];

	return pre_temperature(&s->pf, &s->snap, why, sizeof(why));
}

bool
guard_protection_bits_set(const struct sup *s)
{
	char why[256];

	return pre_protection(&s->pf, &s->snap, why, sizeof(why));
}

bool
guard_cell_delta_too_wide(const struct sup *s)
{
	char why[256];

	return pre_cell_delta(&s->pf, &s->snap, why, sizeof(why));
}

bool
guard_cell_at_abort_voltage(const struct sup *s)
{
	char why[256];

	return pre_cell_high(&s->pf, &s->snap, why, sizeof(why));
}

bool
guard_units_not_everyday(const struct sup *s)
{
	char why[256];

	return pre_units(&s->pf, &s->snap, why, sizeof(why));
}

bool
guard_packs_disagree(const struct sup *s)
{
	char why[256];

	return pre_imbalance(&s->pf, &s->snap, why, sizeof(why));
}

bool
guard_soc_already_agrees(const struct sup *s)
{
	char why[256];

	return pre_balanced(&s->pf, &s->snap, why, sizeof(why));
}

bool
guard_method_solar(const struct sup *s)
{
	return s->method == METHOD_SOLAR;
}

bool
guard_method_grid(const struct sup *s)
{
	return s->method == METHOD_GRID;
}

bool
guard_run_authorised(const struct sup *s)
{
	return s->confirm;
}

bool
guard_packs_reanchored(const struct sup *s)
{
	uint32_t lagging;
	char why[PROTO_TEXT_LEN];

	return monitor_verified(&s->pf, &s->snap, s->anchored, &lagging, why,
	    sizeof(why));
}

bool
guard_hold_time_left(const struct sup *s)
{
	int64_t at = sm_timer_at(CAL_TIMER_ABSORPTION);

	/* the state's absorption timer: armed on entering absorption */
	return at != 0 && s->now < at;
}

bool
guard_outcome_is_pass(const struct sup *s)
{
	return s->pending == PROTO_OUTCOME_PASS;
}

bool
guard_outcome_is_fail(const struct sup *s)
{
	return s->pending == PROTO_OUTCOME_FAIL;
}

bool
guard_outcome_is_cancelled(const struct sup *s)
{
	return s->pending == PROTO_OUTCOME_CANCELLED;
}
