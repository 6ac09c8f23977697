/*
 * The Promela model of the supervisor: calibration.pml.
 *
 * It defines the state, event and outcome constants, the globals the
 * properties observe (sup_state, sup_outcome, pending_outcome and the
 * ghosts cal_requested and sup_lost) and two inlines that
 * spec/watchdog.pml expands in its supervisor process:
 *
 *   sup_env_event(e)  e := an event the environment produces (every
 *                     source but the watchdog, whose answers come from
 *                     the watchdog model) that the current state handles;
 *                     SUP_ENV_READY says there is one, and
 *                     sup_env_any_event(e) picks any, handled or not
 *   sup_dispatch(e)   one step of the engine: the rows of (sup_state, e)
 *                     tried in file order, the first whose guards hold
 *                     fires; no row: the event is ignored
 *
 * The rows are emitted as a chain of if/else so that Promela's choice
 * among executable branches cannot reorder them. A guard's `model`
 * expression stands for it; a guard without one is chosen freely at each
 * evaluation. Set requests are sent on the channel to_wd (declared by
 * watchdog.pml) as {setting, value} with the wire codes of shared/proto.h.
 */
#include <stdio.h>
#include <string.h>

#include "gen.h"

static void
indent(struct out *o, int depth)
{
	int i;

	for (i = 0; i < depth; i++)
		out_printf(o, "\t");
}

static void
guard_expr(struct out *o, const struct spec *sp, const struct g_row *r)
{
	const struct g_guard *g;
	int i;

	for (i = 0; i < r->nguards; i++) {
		g = &sp->guards[r->guards[i]];
		out_printf(o, "%s", i > 0 ? " && " : "");
		if (g->model != NULL)
			out_printf(o, "(%s)", g->model);
		else
			out_printf(o, "gv_%s", g->name);
	}
}

static void
row_body(struct out *o, const struct spec *sp, const struct g_row *r,
    int depth)
{
	const struct g_action *a;
	int i;

	indent(o, depth);
	out_printf(o, "printf(\"MSC: sup %s --%s--> %s (spec line %d)\\n\");\n",
	    sp->states[r->from].name, sp->events[r->event].name,
	    sp->states[r->to].name, r->line);
	for (i = 0; i < r->nactions; i++) {
		a = &sp->actions[r->actions[i]];
		if (a->setting != SETTING_NONE) {
			indent(o, depth);
			out_printf(o, "assert(nfull(to_wd)); to_wd!%s,%s;"
			    "\t/* %s */\n",
			    a->setting == SETTING_OUTPUT ? "SET_OUTPUT" :
			    "SET_CHARGER", a->value == VALUE_EVERYDAY ?
			    "V_EVERYDAY" : "V_CALIBRATION", a->name);
			if (a->value == VALUE_CALIBRATION) {
				indent(o, depth);
				out_printf(o, "cal_requested = 1;\n");
			}
		} else if (a->outcome != OUTCOME_NONE) {
			indent(o, depth);
			out_printf(o, "pending_outcome = OUT_%s;\t/* %s */\n",
			    outcome_name(a->outcome), a->name);
		} else {
			indent(o, depth);
			out_printf(o, "/* %s: not modelled */\n", a->name);
		}
	}
	indent(o, depth);
	out_printf(o, "sup_state = S_%s", sp->states[r->to].name);
	if (sp->events[r->event].link_lost) {
		/*
		 * sup_outcome is what the supervisor reports with DONE; with
		 * the link lost nothing is reported (the watchdog reverts on
		 * EOF by itself).
		 */
		out_printf(o, ";\n");
		indent(o, depth);
		out_printf(o, "sup_lost = 1");
	} else if (sp->states[r->to].outcome != OUTCOME_NONE) {
		out_printf(o, ";\n");
		indent(o, depth);
		out_printf(o, "sup_outcome = OUT_%s",
		    outcome_name(sp->states[r->to].outcome));
	}
	out_printf(o, "\n");
}

/* Rows grp[i..n-1] as an if/else chain: file order, first match wins. */
static void
row_chain(struct out *o, const struct spec *sp, const int *grp, int i,
    int n, int depth)
{
	const struct g_row *r;

	if (i == n) {
		indent(o, depth);
		out_printf(o, "skip\t/* no row's guards hold: ignored */\n");
		return;
	}
	r = &sp->rows[grp[i]];
	if (r->nguards == 0) {
		row_body(o, sp, r, depth);
		return;
	}
	indent(o, depth);
	out_printf(o, "if\n");
	indent(o, depth);
	out_printf(o, ":: ");
	guard_expr(o, sp, r);
	out_printf(o, " ->\n");
	row_body(o, sp, r, depth + 1);
	indent(o, depth);
	out_printf(o, ":: else ->\n");
	row_chain(o, sp, grp, i + 1, n, depth + 1);
	indent(o, depth);
	out_printf(o, "fi\n");
}

/* Free guards of a group get a fresh arbitrary value before it runs. */
static void
choose_free(struct out *o, const struct spec *sp, const int *grp, int n)
{
	bool done[GEN_MAX_GUARDS] = { false };
	const struct g_row *r;
	int i, k, g;

	for (i = 0; i < n; i++) {
		r = &sp->rows[grp[i]];
		for (k = 0; k < r->nguards; k++) {
			g = r->guards[k];
			if (sp->guards[g].model != NULL || done[g])
				continue;
			done[g] = true;
			out_printf(o, "\t\tif :: gv_%s = 1 :: gv_%s = 0 fi;\n",
			    sp->guards[g].name, sp->guards[g].name);
		}
	}
}

static void
defines(struct out *o, const struct spec *sp)
{
	int i, first;

	out_printf(o, "/* states */\n");
	for (i = 0; i < sp->nstates; i++)
		out_printf(o, "#define S_%s\t%d\t/* %s */\n",
		    sp->states[i].name, i, sp->states[i].doc);
	out_printf(o, "#define SUP_NSTATES\t%d\n\n/* events (0: none) */\n",
	    sp->nstates);
	for (i = 0; i < sp->nevents; i++)
		out_printf(o, "#define EV_%s\t%d\t/* %s%s */\n",
		    sp->events[i].name, i + 1, source_name(sp->events[i].source),
		    sp->events[i].abort ? ", abort" : "");
	out_printf(o, "#define SUP_NEVENTS\t%d\n\n", sp->nevents);
	for (i = 0; i < OUTCOME_COUNT; i++)
		out_printf(o, "#define OUT_%s\t%d\n",
		    outcome_name((enum gen_outcome)i), i);
	out_printf(o, "\n/* shared/proto.h wire codes */\n"
	    "#define SET_OUTPUT\t1\n#define SET_CHARGER\t2\n"
	    "#define V_EVERYDAY\t1\n#define V_CALIBRATION\t2\n\n");

	out_printf(o, "#define IS_TERMINAL(s)\t(");
	for (i = 0, first = 1; i < sp->nstates; i++)
		if (sp->states[i].outcome != OUTCOME_NONE) {
			out_printf(o, "%s(s) == S_%s", first ? "" : " || ",
			    sp->states[i].name);
			first = 0;
		}
	out_printf(o, "%s)\n#define HOLDS_SETTINGS(s)\t(", first ? "false" : "");
	for (i = 0, first = 1; i < sp->nstates; i++)
		if (sp->states[i].holds) {
			out_printf(o, "%s(s) == S_%s", first ? "" : " || ",
			    sp->states[i].name);
			first = 0;
		}
	out_printf(o, "%s)\n#define IS_REVERTING(s)\t(", first ? "false" : "");
	for (i = 0, first = 1; i < sp->nstates; i++)
		if (sp->states[i].reverting) {
			out_printf(o, "%s(s) == S_%s", first ? "" : " || ",
			    sp->states[i].name);
			first = 0;
		}
	out_printf(o, "%s)\n\n", first ? "false" : "");
}

static void
globals(struct out *o, const struct spec *sp)
{
	int i;

	out_printf(o, "byte sup_state = S_%s;\n"
	    "byte sup_outcome = OUT_NONE;\t/* reported: set on entering a "
	    "terminal state, not on a link_lost event */\n"
	    "byte pending_outcome = OUT_NONE;\t/* set by outcome actions */\n"
	    "bit cal_requested = 0;\t/* ghost: the machine asked for a "
	    "calibration value */\n"
	    "bit sup_lost = 0;\t/* ghost: ended on a link_lost event, "
	    "nothing reported */\n", sp->states[sp->initial].name);
	for (i = 0; i < sp->nguards; i++)
		if (sp->guards[i].model == NULL)
			out_printf(o, "bit gv_%s = 0;\t/* free guard: %s */\n",
			    sp->guards[i].name, sp->guards[i].doc);
	out_printf(o, "\n");
}

/* sup_state == S_a || ... for every state with a row on event e. */
static int
handled_in(struct out *o, const struct spec *sp, int e)
{
	bool seen[GEN_MAX_STATES] = { false };
	int i, n = 0;

	for (i = 0; i < sp->nrows; i++) {
		if (sp->rows[i].event != e || seen[sp->rows[i].from])
			continue;
		seen[sp->rows[i].from] = true;
		out_printf(o, "%ssup_state == S_%s", n++ > 0 ? " || " : "",
		    sp->states[sp->rows[i].from].name);
	}
	return n;
}

/*
 * sup_env_event(e): an environment event that some row of the current
 * state handles (an ignored event changes nothing, and the engine's
 * ignoring is tested in C). SUP_ENV_READY: the current state handles
 * some environment event. sup_env_any_event(e): any environment event.
 */
static void
env_inline(struct out *o, const struct spec *sp)
{
	int i, k, n = 0;

	out_printf(o, "inline sup_env_event(e) {\n\tif\n");
	for (i = 0; i < sp->nevents; i++) {
		if (sp->events[i].source == SOURCE_WATCHDOG)
			continue;
		out_printf(o, "\t:: ");
		if (handled_in(o, sp, i) == 0)
			out_printf(o, "false");
		out_printf(o, " -> e = EV_%s\n", sp->events[i].name);
	}
	out_printf(o, "\tfi\n}\n\n#define SUP_ENV_READY\t(");
	for (i = 0; i < sp->nstates; i++) {
		for (k = 0; k < sp->nrows; k++)
			if (sp->rows[k].from == i && sp->events[
			    sp->rows[k].event].source != SOURCE_WATCHDOG)
				break;
		if (k < sp->nrows)
			out_printf(o, "%ssup_state == S_%s", n++ > 0 ?
			    " || \\\n\t" : "", sp->states[i].name);
	}
	out_printf(o, "%s)\n\ninline sup_env_any_event(e) {\n\tif\n",
	    n == 0 ? "false" : "");
	for (i = 0; i < sp->nevents; i++)
		if (sp->events[i].source != SOURCE_WATCHDOG)
			out_printf(o, "\t:: e = EV_%s\n", sp->events[i].name);
	out_printf(o, "\tfi\n}\n\n");
}

static void
dispatch_inline(struct out *o, const struct spec *sp)
{
	int grp[GEN_MAX_ROWS], n, s, e, i;

	out_printf(o, "inline sup_dispatch(e) {\n\tif\n");
	for (s = 0; s < sp->nstates; s++)
		for (e = 0; e < sp->nevents; e++) {
			if ((n = spec_group(sp, s, e, grp)) == 0)
				continue;
			out_printf(o, "\t:: sup_state == S_%s && e == EV_%s ->\n",
			    sp->states[s].name, sp->events[e].name);
			choose_free(o, sp, grp, n);
			row_chain(o, sp, grp, 0, n, 2);
		}
	out_printf(o, "\t:: else ->\n\t\tprintf(\"MSC: sup ignores event %%d "
	    "in state %%d\\n\", e, sup_state)\n\tfi");
	for (i = 0; i < sp->nguards; i++)
		if (sp->guards[i].model == NULL)
			out_printf(o, ";\n\tgv_%s = 0", sp->guards[i].name);
	out_printf(o, "\n}\n");
}

int
emit_pml(const struct spec *sp, const char *dir)
{
	struct out o;

	if (out_open(&o, dir, "calibration.pml") == -1)
		return -1;
	out_printf(&o, "/*\n * Generated by spec/gen from %s\n"
	    " * (sha256 %s). Do not edit: change the spec.\n"
	    " * Composed with spec/watchdog.pml and spec/properties.pml by "
	    "`make model`.\n */\n\n", sp->path, sp->sha256);
	defines(&o, sp);
	globals(&o, sp);
	env_inline(&o, sp);
	dispatch_inline(&o, sp);
	return out_close(&o);
}
