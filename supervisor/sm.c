/*
 * Runtime glue around the table engine: the engine fires rows, this file
 * keeps the rest of the process in step with the state it reached.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "machine.h"
#include "sm.h"
#include "sup.h"

static struct machine machine;

const char *
sup_state_name(int state)
{
	return (unsigned)state < CAL_STATE_COUNT ? cal_state_name[state] : "?";
}

static enum proto_outcome
outcome_of(enum cal_outcome o)
{
	switch (o) {
	case CAL_OUTCOME_PASS:
		return PROTO_OUTCOME_PASS;
	case CAL_OUTCOME_FAIL:
		return PROTO_OUTCOME_FAIL;
	case CAL_OUTCOME_REFUSED:
		return PROTO_OUTCOME_REFUSED;
	case CAL_OUTCOME_CANCELLED:
		return PROTO_OUTCOME_CANCELLED;
	default:
		return PROTO_OUTCOME_ABORTED;
	}
}

static void
on_step(void *arg, const struct machine_step *st)
{
	struct sup *s = arg;

	sup_send_abort_audit(s);	/* after the row's request */
	s->state = (int)st->to;
	s->transitions++;
	s->latched = 0;
	wdlink_set_state(&s->wd, (unsigned)st->to);
	log_info("state %s -> %s (%s)", cal_state_name[st->from],
	    cal_state_name[st->to], cal_event_name[st->event]);
	(void)wdlink_audit(&s->wd, "state", "from=%s to=%s event=%s",
	    cal_state_name[st->from], cal_state_name[st->to],
	    cal_event_name[st->event]);
	if (cal_state_outcome[st->to] != CAL_OUTCOME_NONE) {
		s->outcome = outcome_of(cal_state_outcome[st->to]);
		s->finished = true;
	}
	report_status(s);
}

static void
on_ignore(void *arg, enum cal_state st, enum cal_event ev)
{
	(void)arg;
	log_debug("state %s: %s changes nothing", cal_state_name[st],
	    cal_event_name[ev]);
}

void
sm_init(struct sup *s)
{
	machine_init(&machine, on_step, on_ignore, s);
	s->state = (int)machine_state(&machine);
	wdlink_set_state(&s->wd, (unsigned)s->state);
	machine_start(&machine, s, s->now);
}

bool
sm_timer_expired(const struct sup *s, int timer)
{
	return machine_timer_expired(&machine, (enum cal_timer)timer, s->now);
}

int64_t
sm_timer_at(int timer)
{
	return machine_timer_at(&machine, (enum cal_timer)timer);
}

int64_t
sm_next_timer(void)
{
	return machine_next_timer(&machine);
}

bool
sm_handles(int state, int event)
{
	if ((unsigned)state >= CAL_STATE_COUNT ||
	    (unsigned)event >= CAL_EVENT_COUNT)
		return false;
	return cal_index[state][event].count > 0;
}

void
sm_dispatch(struct sup *s, int event)
{
	(void)machine_dispatch(&machine, s, (enum cal_event)event, s->now);
	sup_send_abort_audit(s);
}
