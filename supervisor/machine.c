/*
 * The engine of the generated calibration table (see machine.h). It holds
 * no knowledge of the procedure: every decision is a row of the table.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "log.h"
#include "machine.h"

void
machine_init(struct machine *m, machine_step_cb on_step,
    machine_ignore_cb on_ignore, void *arg)
{
	memset(m, 0, sizeof(*m));
	m->state = CAL_INITIAL_STATE;
	m->on_step = on_step;
	m->on_ignore = on_ignore;
	m->arg = arg;
}

static bool
row_enabled(const struct cal_row *r, const struct sup *s)
{
	unsigned i;

	for (i = 0; i < r->nguards; i++)
		if (!cal_guard_fns[r->guards[i]](s))
			return false;
	return true;
}

static void
fire(struct machine *m, struct sup *s, unsigned idx)
{
	const struct cal_row *r = &cal_rows[idx];
	struct machine_step *st;
	unsigned i;

	for (i = 0; i < r->nactions; i++)
		cal_action_fns[r->actions[i]](s);
	m->state = r->to;
	st = &m->history[m->steps % MACHINE_HISTORY];
	st->seq = ++m->steps;
	st->from = r->from;
	st->event = r->event;
	st->to = r->to;
	st->row = (uint16_t)idx;
	if (m->on_step != NULL)
		m->on_step(m->arg, st);
}

bool
machine_dispatch(struct machine *m, struct sup *s, enum cal_event ev)
{
	const struct cal_span *sp;
	unsigned i;

	if ((unsigned)ev >= CAL_EVENT_COUNT)
		fatalx("machine: event %d is not in the table", (int)ev);
	if ((unsigned)m->state >= CAL_STATE_COUNT)
		fatalx("machine: state %d is not in the table", (int)m->state);
	if (m->busy)
		fatalx("machine: event %s dispatched from inside a guard or "
		    "action", cal_event_name[ev]);

	m->busy = true;
	sp = &cal_index[m->state][ev];
	for (i = sp->first; i < (unsigned)sp->first + sp->count; i++)
		if (row_enabled(&cal_rows[i], s)) {
			fire(m, s, i);
			m->busy = false;
			return true;
		}
	m->busy = false;
	m->ignored++;
	if (m->on_ignore != NULL)
		m->on_ignore(m->arg, m->state, ev);
	else
		log_debug("machine: %s: event %s ignored",
		    cal_state_name[m->state], cal_event_name[ev]);
	return false;
}

enum cal_state
machine_state(const struct machine *m)
{
	return m->state;
}

bool
machine_terminal(const struct machine *m)
{
	return cal_state_outcome[m->state] != CAL_OUTCOME_NONE;
}

enum cal_outcome
machine_outcome(const struct machine *m)
{
	return cal_state_outcome[m->state];
}

bool
machine_holds_settings(const struct machine *m)
{
	return cal_state_holds_settings[m->state];
}

const struct machine_step *
machine_recent(const struct machine *m, size_t i)
{
	if (i >= m->steps || i >= MACHINE_HISTORY)
		return NULL;
	return &m->history[(m->steps - 1 - i) % MACHINE_HISTORY];
}
