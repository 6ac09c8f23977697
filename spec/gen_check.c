/*
 * The rules that make the spec a machine we can trust (see --help and the
 * header of spec/calibration.yaml). Each rule reports every violation it
 * finds with the spec's line, so one run shows everything to fix.
 *
 * Ordering: the rows of one (state, event) group are tried in file order
 * and the first whose guards all hold fires. A row whose guards are a
 * superset of an earlier row's in the same group can never fire (whenever
 * its guards hold, so do the earlier row's); in particular only the last
 * row of a group may be unguarded. That is the "nondeterministic rows"
 * check: with file order and no dead rows, which row fires is decided by
 * the guards alone.
 */
#include <stdbool.h>
#include <string.h>

#include "gen.h"

bool
spec_is_terminal(const struct spec *sp, int state)
{
	return sp->states[state].outcome != OUTCOME_NONE;
}

bool
spec_requests_calibration(const struct spec *sp, const struct g_row *r)
{
	int i;

	for (i = 0; i < r->nactions; i++)
		if (sp->actions[r->actions[i]].value == VALUE_CALIBRATION)
			return true;
	return false;
}

int
spec_group(const struct spec *sp, int state, int event, int *out)
{
	int i, n = 0;

	for (i = 0; i < sp->nrows; i++)
		if (sp->rows[i].from == state && sp->rows[i].event == event)
			out[n++] = i;
	return n;
}

static bool
has_guard(const struct g_row *r, int g)
{
	int i;

	for (i = 0; i < r->nguards; i++)
		if (r->guards[i] == g)
			return true;
	return false;
}

/* Every guard of a is also a guard of b. */
static bool
guards_subset(const struct g_row *a, const struct g_row *b)
{
	int i;

	for (i = 0; i < a->nguards; i++)
		if (!has_guard(b, a->guards[i]))
			return false;
	return true;
}

static void
check_states(struct spec *sp)
{
	const struct g_state *s;
	int i;

	if (spec_is_terminal(sp, sp->initial))
		spec_error(sp, sp->states[sp->initial].line, "initial state %s "
		    "is terminal", sp->states[sp->initial].name);
	for (i = 0; i < sp->nstates; i++) {
		s = &sp->states[i];
		if (s->outcome != OUTCOME_NONE && s->reanchor_watch)
			spec_error(sp, s->line, "terminal state %s cannot "
			    "watch for re-anchoring", s->name);
		if (s->outcome != OUTCOME_NONE && s->holds)
			spec_error(sp, s->line, "terminal state %s holds the "
			    "settings: a run would end in calibration mode",
			    s->name);
		if (s->reverting && !s->holds)
			spec_error(sp, s->line, "reverting state %s must hold "
			    "the settings (holds_settings: true)", s->name);
		if (s->reverting && s->outcome != OUTCOME_NONE)
			spec_error(sp, s->line, "terminal state %s cannot be "
			    "reverting", s->name);
	}
}

static void
check_unused(struct spec *sp)
{
	bool state_used[GEN_MAX_STATES] = { false };
	bool ev[GEN_MAX_EVENTS] = { false }, gd[GEN_MAX_GUARDS] = { false };
	bool ac[GEN_MAX_ACTIONS] = { false };
	const struct g_row *r;
	int i, j;

	for (i = 0; i < sp->nrows; i++) {
		r = &sp->rows[i];
		ev[r->event] = true;
		state_used[r->from] = state_used[r->to] = true;
		for (j = 0; j < r->nguards; j++)
			gd[r->guards[j]] = true;
		for (j = 0; j < r->nactions; j++)
			ac[r->actions[j]] = true;
	}
	for (i = 0; i < sp->nevents; i++)
		if (!ev[i])
			spec_error(sp, sp->events[i].line, "event %s is "
			    "declared but no transition uses it",
			    sp->events[i].name);
	for (i = 0; i < sp->nguards; i++)
		if (!gd[i])
			spec_error(sp, sp->guards[i].line, "guard %s is "
			    "declared but no transition uses it",
			    sp->guards[i].name);
	for (i = 0; i < sp->nactions; i++)
		if (!ac[i])
			spec_error(sp, sp->actions[i].line, "action %s is "
			    "declared but no transition uses it",
			    sp->actions[i].name);
}

static void
check_terminal_rows(struct spec *sp)
{
	const struct g_row *r;
	int i;

	for (i = 0; i < sp->nrows; i++) {
		r = &sp->rows[i];
		if (spec_is_terminal(sp, r->from))
			spec_error(sp, r->line, "terminal state %s has a "
			    "transition (on %s)", sp->states[r->from].name,
			    sp->events[r->event].name);
	}
}

/*
 * Every state that is not terminal declares what the readback of each
 * setting must show there (the unit_mismatch check): a state without a
 * declaration would expect nothing and so fail open. A state that does
 * not hold the settings expects everyday on both.
 */
static void
check_readback(struct spec *sp)
{
	for (int i = 0; i < sp->nstates; i++) {
		const struct g_state *s = &sp->states[i];

		if (s->outcome != OUTCOME_NONE)
			continue;
		if (s->expect[0] == EXPECT_UNDECLARED ||
		    s->expect[1] == EXPECT_UNDECLARED)
			spec_error(sp, s->line, "state %s declares no readback "
			    "expectation (readback: {output: ..., charger: ...})",
			    s->name);
		else if (!s->holds && (s->expect[0] != EXPECT_EVERYDAY ||
		    s->expect[1] != EXPECT_EVERYDAY))
			spec_error(sp, s->line, "state %s does not hold the "
			    "settings: its readback must be everyday for both",
			    s->name);
	}
}

/* No row can be shadowed by an earlier row of its group. */
static void
check_order(struct spec *sp)
{
	int grp[GEN_MAX_ROWS], n, s, e, i, j;
	const struct g_row *a, *b;

	for (s = 0; s < sp->nstates; s++)
		for (e = 0; e < sp->nevents; e++) {
			n = spec_group(sp, s, e, grp);
			for (j = 1; j < n; j++)
				for (i = 0; i < j; i++) {
					a = &sp->rows[grp[i]];
					b = &sp->rows[grp[j]];
					if (!guards_subset(a, b))
						continue;
					if (a->nguards == 0)
						spec_error(sp, b->line, "state "
						    "%s, event %s: row can "
						    "never fire: it comes "
						    "after the unguarded row "
						    "at line %d (only the last "
						    "row of a state and event "
						    "may be unguarded)",
						    sp->states[s].name,
						    sp->events[e].name,
						    a->line);
					else
						spec_error(sp, b->line, "state "
						    "%s, event %s: row can "
						    "never fire: its guards "
						    "include every guard of "
						    "the earlier row at line "
						    "%d", sp->states[s].name,
						    sp->events[e].name,
						    a->line);
					break;
				}
		}
}

/* Marks every state reachable from start over rows (guards ignored). */
static void
reach(const struct spec *sp, int start, bool *seen)
{
	int stack[GEN_MAX_STATES], top = 0, s, i;

	memset(seen, 0, sizeof(bool) * GEN_MAX_STATES);
	seen[start] = true;
	stack[top++] = start;
	while (top > 0) {
		s = stack[--top];
		for (i = 0; i < sp->nrows; i++)
			if (sp->rows[i].from == s && !seen[sp->rows[i].to]) {
				seen[sp->rows[i].to] = true;
				stack[top++] = sp->rows[i].to;
			}
	}
}

static void
check_graph(struct spec *sp)
{
	bool seen[GEN_MAX_STATES], out[GEN_MAX_STATES] = { false };
	bool done[GEN_MAX_STATES] = { false }, changed = true;
	int i, s;

	reach(sp, sp->initial, seen);
	for (i = 0; i < sp->nrows; i++)
		out[sp->rows[i].from] = true;
	for (s = 0; s < sp->nstates; s++) {
		if (!seen[s])
			spec_error(sp, sp->states[s].line, "state %s is "
			    "unreachable from the initial state %s",
			    sp->states[s].name,
			    sp->states[sp->initial].name);
		if (!spec_is_terminal(sp, s) && !out[s])
			spec_error(sp, sp->states[s].line, "state %s is a "
			    "dead end: not terminal and no transition leaves "
			    "it", sp->states[s].name);
		done[s] = spec_is_terminal(sp, s);
	}
	/* Backwards from the terminal states: who can still finish? */
	while (changed) {
		changed = false;
		for (i = 0; i < sp->nrows; i++)
			if (done[sp->rows[i].to] && !done[sp->rows[i].from]) {
				done[sp->rows[i].from] = true;
				changed = true;
			}
	}
	for (s = 0; s < sp->nstates; s++)
		if (!done[s] && out[s])
			spec_error(sp, sp->states[s].line, "state %s cannot "
			    "reach any terminal state", sp->states[s].name);
}

/*
 * Every abort event is handled, whatever the guards say, in every active
 * state but the reverting ones (which are already on their way back); in
 * a state that holds the settings every such row leads into the revert.
 */
static void
check_aborts(struct spec *sp)
{
	int grp[GEN_MAX_ROWS], n, s, e, i;
	const struct g_state *st;
	const struct g_row *r;

	for (s = 0; s < sp->nstates; s++) {
		st = &sp->states[s];
		if (spec_is_terminal(sp, s) || st->reverting)
			continue;
		for (e = 0; e < sp->nevents; e++) {
			if (!sp->events[e].abort)
				continue;
			n = spec_group(sp, s, e, grp);
			if (n == 0) {
				spec_error(sp, st->line, "%sstate %s does not "
				    "handle abort event %s",
				    st->holds ? "settings-holding " : "",
				    st->name, sp->events[e].name);
				continue;
			}
			r = &sp->rows[grp[n - 1]];
			if (r->nguards != 0)
				spec_error(sp, r->line, "state %s handles "
				    "abort event %s only when guards hold: "
				    "its last row for it must be unguarded",
				    st->name, sp->events[e].name);
			if (!st->holds)
				continue;
			for (i = 0; i < n; i++) {
				r = &sp->rows[grp[i]];
				if (!sp->states[r->to].reverting)
					spec_error(sp, r->line, "settings-"
					    "holding state %s: abort event %s "
					    "leads to %s, which is not a "
					    "reverting state", st->name,
					    sp->events[e].name,
					    sp->states[r->to].name);
			}
		}
	}
}

/*
 * The watchdog link lost: every state that is not terminal, the reverting
 * ones included, ends the run on it whatever the guards say, into a
 * terminal state, and asks nothing (there is nobody to ask; the watchdog
 * reverts on EOF by itself). Such rows are the only ones that may leave
 * the settings-holding states without the revert (check_settings).
 */
static void
check_link_lost(struct spec *sp)
{
	int grp[GEN_MAX_ROWS], n, s, e, i, k;
	const struct g_row *r;

	for (e = 0; e < sp->nevents; e++) {
		if (!sp->events[e].link_lost)
			continue;
		for (s = 0; s < sp->nstates; s++) {
			if (spec_is_terminal(sp, s))
				continue;
			n = spec_group(sp, s, e, grp);
			if (n == 0) {
				spec_error(sp, sp->states[s].line, "state %s "
				    "does not handle link_lost event %s",
				    sp->states[s].name, sp->events[e].name);
				continue;
			}
			if (sp->rows[grp[n - 1]].nguards != 0)
				spec_error(sp, sp->rows[grp[n - 1]].line,
				    "state %s handles link_lost event %s only "
				    "when guards hold: its last row for it "
				    "must be unguarded", sp->states[s].name,
				    sp->events[e].name);
			for (i = 0; i < n; i++) {
				r = &sp->rows[grp[i]];
				if (!spec_is_terminal(sp, r->to))
					spec_error(sp, r->line, "state %s: "
					    "link_lost event %s leads to %s, "
					    "which is not terminal",
					    sp->states[s].name,
					    sp->events[e].name,
					    sp->states[r->to].name);
				for (k = 0; k < r->nactions; k++)
					if (sp->actions[r->actions[k]].setting
					    != SETTING_NONE)
						spec_error(sp, r->line, "state "
						    "%s: link_lost event %s "
						    "runs request action %s: "
						    "there is no watchdog to "
						    "ask", sp->states[s].name,
						    sp->events[e].name,
						    sp->actions[
						    r->actions[k]].name);
			}
		}
	}
}

/*
 * State-owned timers: the engine arms a timer on entering a state that
 * owns it from one that does not and cancels it on entering one that does
 * not; no action does either. So a timer event can only come in a state
 * owning a timer that raises it: a row on it anywhere else could never
 * fire. Every timer is owned by some state, every timer event raised by
 * some timer, and a terminal state owns none (the run is over).
 */
static void
check_timers(struct spec *sp)
{
	unsigned owned = 0;
	int s, e, t, i;

	for (s = 0; s < sp->nstates; s++) {
		owned |= sp->states[s].timers;
		if (spec_is_terminal(sp, s) && sp->states[s].timers != 0)
			spec_error(sp, sp->states[s].line, "terminal state %s "
			    "owns a timer", sp->states[s].name);
	}
	for (t = 0; t < sp->ntimers; t++)
		if (!(owned & (1u << t)))
			spec_error(sp, sp->timers[t].line, "timer %s is "
			    "declared but no state owns it",
			    sp->timers[t].name);
	for (e = 0; e < sp->nevents; e++) {
		if (sp->events[e].source != SOURCE_TIMER)
			continue;
		for (t = 0; t < sp->ntimers; t++)
			if (sp->timers[t].event == e)
				break;
		if (t == sp->ntimers)
			spec_error(sp, sp->events[e].line, "timer event %s is "
			    "raised by no timer", sp->events[e].name);
	}
	for (i = 0; i < sp->nrows; i++) {
		const struct g_row *r = &sp->rows[i];

		if (sp->events[r->event].source != SOURCE_TIMER)
			continue;
		for (t = 0; t < sp->ntimers; t++)
			if (sp->timers[t].event == r->event &&
			    (sp->states[r->from].timers & (1u << t)))
				break;
		if (t == sp->ntimers)
			spec_error(sp, r->line, "state %s handles timer event "
			    "%s but owns no timer that raises it",
			    sp->states[r->from].name,
			    sp->events[r->event].name);
	}
}

/* The holds_settings flags agree with what the rows do. */
static void
check_settings(struct spec *sp)
{
	const struct g_state *from, *to;
	const struct g_row *r;
	int i;

	for (i = 0; i < sp->nrows; i++) {
		r = &sp->rows[i];
		from = &sp->states[r->from];
		to = &sp->states[r->to];
		if (spec_requests_calibration(sp, r) && !to->holds)
			spec_error(sp, r->line, "%s -> %s on %s requests a "
			    "calibration value but %s does not hold the "
			    "settings", from->name, to->name,
			    sp->events[r->event].name, to->name);
		if (spec_requests_calibration(sp, r) && from->reverting)
			spec_error(sp, r->line, "%s -> %s on %s requests a "
			    "calibration value during the revert",
			    from->name, to->name, sp->events[r->event].name);
		if (from->holds && !to->holds && !from->reverting &&
		    !sp->events[r->event].link_lost)
			spec_error(sp, r->line, "%s -> %s on %s leaves the "
			    "settings-holding states without the revert: "
			    "the settings would stay in calibration",
			    from->name, to->name, sp->events[r->event].name);
		if (from->reverting && to->holds && !to->reverting)
			spec_error(sp, r->line, "%s -> %s on %s leaves the "
			    "revert for a state that holds the settings",
			    from->name, to->name, sp->events[r->event].name);
	}
}

/* From every reverting state the revert can finish. */
static void
check_revert_completes(struct spec *sp)
{
	bool seen[GEN_MAX_STATES], ok;
	int stack[GEN_MAX_STATES], top, s, t, i;
	const struct g_row *r;

	for (s = 0; s < sp->nstates; s++) {
		if (!sp->states[s].reverting)
			continue;
		memset(seen, 0, sizeof(seen));
		top = 0;
		ok = false;
		seen[s] = true;
		stack[top++] = s;
		while (top > 0 && !ok) {
			t = stack[--top];
			for (i = 0; i < sp->nrows; i++) {
				r = &sp->rows[i];
				if (r->from != t)
					continue;
				if (!sp->states[r->to].holds)
					ok = true;
				else if (sp->states[r->to].reverting &&
				    !seen[r->to]) {
					seen[r->to] = true;
					stack[top++] = r->to;
				}
			}
		}
		if (!ok)
			spec_error(sp, sp->states[s].line, "reverting state %s "
			    "cannot complete the revert: no path through "
			    "reverting states to a state that does not hold "
			    "the settings", sp->states[s].name);
	}
}

int
spec_check(struct spec *sp)
{
	int before = sp->errors;

	check_states(sp);
	check_unused(sp);
	check_terminal_rows(sp);
	check_readback(sp);
	check_order(sp);
	check_graph(sp);
	check_aborts(sp);
	check_link_lost(sp);
	check_timers(sp);
	check_settings(sp);
	check_revert_completes(sp);
	return sp->errors - before;
}
