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

/* Arms what the new state owns and the old did not; cancels the reverse. */
static void
enter_timers(struct machine *m, struct sup *s, uint32_t was, uint32_t is,
    int64_t now_ms)
{
	for (unsigned t = 0; t < CAL_TIMER_COUNT; t++) {
		uint32_t bit = 1u << t;

		if ((is & bit) && !(was & bit)) {
			m->timer[t].armed = true;
			m->timer[t].at_ms = now_ms + cal_timer_duration[t](s);
		} else if (!(is & bit))
			m->timer[t].armed = false;
	}
}

void
machine_start(struct machine *m, struct sup *s, int64_t now_ms)
{
	enter_timers(m, s, 0, cal_state_timers[m->state], now_ms);
}

static void
fire(struct machine *m, struct sup *s, unsigned idx, int64_t now_ms)
{
	const struct cal_row *r = &cal_rows[idx];
	struct machine_step *st;
	unsigned i;

	for (i = 0; i < r->nactions; i++)
		cal_action_fns[r->actions[i]](s);
	m->state = r->to;
	enter_timers(m, s, cal_state_timers[r->from], cal_state_timers[r->to],
	    now_ms);
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
machine_dispatch(struct machine *m, struct sup *s, enum cal_event ev,
    int64_t now_ms)
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
			fire(m, s, i, now_ms);
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

bool
machine_timer_expired(struct machine *m, enum cal_timer t, int64_t now_ms)
{
	if ((unsigned)t >= CAL_TIMER_COUNT)
		fatalx("machine: timer %d is not in the table", (int)t);
	if (!m->timer[t].armed || now_ms < m->timer[t].at_ms)
		return false;
	m->timer[t].armed = false;
	return true;
}

int64_t
machine_timer_at(const struct machine *m, enum cal_timer t)
{
	if ((unsigned)t >= CAL_TIMER_COUNT)
		fatalx("machine: timer %d is not in the table", (int)t);
	return m->timer[t].armed ? m->timer[t].at_ms : 0;
}

int64_t
machine_next_timer(const struct machine *m)
{
	int64_t w = 0;

	for (unsigned t = 0; t < CAL_TIMER_COUNT; t++)
		if (m->timer[t].armed && (w == 0 || m->timer[t].at_ms < w))
			w = m->timer[t].at_ms;
	return w;
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
