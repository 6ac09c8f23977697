/*
 * The watchdog's rules (spec/watchdog.yaml, gridcal-spec-gen -w): loaded
 * strictly, checked against the supervisor's machine, and written out as
 * data only: build/gen/watchdog_rules.h for watchdog/monitor.c and
 * watchdog/revert.c, build/gen/watchdog_rules.pml for spec/watchdog.pml.
 * The watchdog's engine stays hand-written; what it permits is declared
 * once.
 */
#include <cyaml/cyaml.h>

#include <sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

/* The requests of shared/proto.h, in wire order. */
static const char *const requests[WD_REQUESTS] = {
	"hello", "heartbeat", "set_request", "audit", "done"
};
static const char *const permit_names[] = { "always", "authorised" };

struct raw_setting { char *name, *profile, *model; };
struct raw_value { char *name, *permit; };
struct raw_phase {
	char		*name;
	char		**permits;
	unsigned	  permits_count;
};
struct raw_wd {
	char			*format;
	struct raw_setting	*settings;
	unsigned		 settings_count;
	struct raw_value	*values;
	unsigned		 values_count;
	char			**set_order;
	unsigned		  set_order_count;
	char			**revert_order;
	unsigned		  revert_order_count;
	struct raw_phase	*phases;
	unsigned		 phases_count;
};

#define RQ	CYAML_FLAG_POINTER
#define STR(key, type, member) \
	CYAML_FIELD_STRING_PTR(key, RQ, type, member, 1, GEN_NAME_MAX)

static const cyaml_schema_value_t name_entry = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, GEN_NAME_MAX),
};
static const cyaml_schema_field_t setting_fields[] = {
	STR("name", struct raw_setting, name),
	STR("profile", struct raw_setting, profile),
	STR("model", struct raw_setting, model), CYAML_FIELD_END
};
static const cyaml_schema_value_t setting_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_setting,
	    setting_fields),
};
static const cyaml_schema_field_t value_fields[] = {
	STR("name", struct raw_value, name),
	STR("permit", struct raw_value, permit), CYAML_FIELD_END
};
static const cyaml_schema_value_t value_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_value, value_fields),
};
static const cyaml_schema_field_t phase_fields[] = {
	STR("name", struct raw_phase, name),
	CYAML_FIELD_SEQUENCE("permits", RQ, struct raw_phase, permits,
	    &name_entry, 0, WD_REQUESTS), CYAML_FIELD_END
};
static const cyaml_schema_value_t phase_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_phase, phase_fields),
};
static const cyaml_schema_field_t wd_fields[] = {
	STR("format", struct raw_wd, format),
	CYAML_FIELD_SEQUENCE("settings", RQ, struct raw_wd, settings,
	    &setting_entry, WD_SETTINGS, WD_SETTINGS),
	CYAML_FIELD_SEQUENCE("values", RQ, struct raw_wd, values,
	    &value_entry, WD_VALUES, WD_VALUES),
	CYAML_FIELD_SEQUENCE("set_order", RQ, struct raw_wd, set_order,
	    &name_entry, WD_SETTINGS, WD_SETTINGS),
	CYAML_FIELD_SEQUENCE("revert_order", RQ, struct raw_wd, revert_order,
	    &name_entry, WD_SETTINGS, WD_SETTINGS),
	CYAML_FIELD_SEQUENCE("phases", RQ, struct raw_wd, phases,
	    &phase_entry, 1, WD_MAX_PHASES), CYAML_FIELD_END
};
static const cyaml_schema_value_t wd_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct raw_wd, wd_fields),
};

static void
wd_error(struct wd_spec *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
wd_error(struct wd_spec *w, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "gen: %s: ", w->path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	w->errors++;
}

static void
wd_cyaml_log(cyaml_log_t level, void *ctx, const char *fmt, va_list ap)
{
	(void)level;
	fprintf(stderr, "gen: %s: libcyaml: ", ((struct wd_spec *)ctx)->path);
	vfprintf(stderr, fmt, ap);
}

static bool
ident(const char *s)
{
	if (*s < 'a' || *s > 'z')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_'))
			return false;
	return true;
}

static int
lookup(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/* An order: every setting exactly once, as indices into settings. */
static void
load_order(struct wd_spec *w, const char *key, char **names, int *out)
{
	const char *decl[WD_SETTINGS];
	unsigned seen = 0;

	for (int i = 0; i < WD_SETTINGS; i++)
		decl[i] = w->settings[i].name;
	for (int i = 0; i < WD_SETTINGS; i++)
		if ((out[i] = lookup(decl, WD_SETTINGS, names[i])) < 0)
			wd_error(w, "%s: \"%s\" is not a declared setting", key,
			    names[i]);
		else if (seen & (1u << out[i]))
			wd_error(w, "%s: \"%s\" twice", key, names[i]);
		else
			seen |= 1u << out[i];
}

static void
load_settings(struct wd_spec *w, const struct raw_wd *r)
{
	static const char *const wire[WD_SETTINGS] = { "output", "charger" };
	static const char *const values[WD_VALUES] = { "everyday",
	    "calibration" };

	for (int i = 0; i < WD_SETTINGS; i++) {
		const struct raw_setting *s = &r->settings[i];

		if (strcmp(s->name, wire[i]) != 0)
			wd_error(w, "settings[%d]: \"%s\", want \"%s\" (wire "
			    "code %d of shared/proto.h)", i, s->name, wire[i],
			    i + 1);
		if (!ident(s->profile) || !ident(s->model))
			wd_error(w, "settings[%d]: profile and model must be "
			    "[a-z][a-z0-9_]*", i);
		w->settings[i].name = s->name;
		w->settings[i].profile = s->profile;
		w->settings[i].model = s->model;
	}
	for (int i = 0; i < WD_VALUES; i++) {
		if (strcmp(r->values[i].name, values[i]) != 0)
			wd_error(w, "values[%d]: \"%s\", want \"%s\" (wire "
			    "code %d)", i, r->values[i].name, values[i], i + 1);
		if ((w->permit[i] = lookup(permit_names, 2,
		    r->values[i].permit)) < 0)
			wd_error(w, "values[%d]: permit \"%s\" is not always "
			    "or authorised", i, r->values[i].permit);
	}
	/* everyday is the revert: refusing it would keep calibration in */
	if (w->permit[0] != WD_PERMIT_ALWAYS)
		wd_error(w, "values: everyday must be permitted always");
}

static void
load_phases(struct wd_spec *w, const struct raw_wd *r)
{
	unsigned any = 0;

	w->nphases = (int)r->phases_count;
	for (int i = 0; i < w->nphases; i++) {
		const struct raw_phase *p = &r->phases[i];

		w->phases[i].name = p->name;
		if (!ident(p->name))
			wd_error(w, "phases[%d]: name \"%s\" is not "
			    "[a-z][a-z0-9_]*", i, p->name);
		for (int j = 0; j < i; j++)
			if (strcmp(w->phases[j].name, p->name) == 0)
				wd_error(w, "phase %s declared twice", p->name);
		for (unsigned k = 0; k < p->permits_count; k++) {
			int q = lookup(requests, WD_REQUESTS, p->permits[k]);

			if (q < 0)
				wd_error(w, "phase %s: \"%s\" is not a request "
				    "of shared/proto.h", p->name, p->permits[k]);
			else
				w->phases[i].permits |= 1u << q;
		}
		any |= w->phases[i].permits;
	}
	for (int q = 0; q < WD_REQUESTS; q++)
		if (!(any & (1u << q)))
			wd_error(w, "request %s is permitted in no phase",
			    requests[q]);
}

int
wd_load(struct wd_spec *w, const char *path)
{
	cyaml_config_t cfg = {
		.log_fn = wd_cyaml_log, .log_ctx = w, .mem_fn = cyaml_mem,
		.log_level = CYAML_LOG_ERROR, .flags = CYAML_CFG_NO_ALIAS,
	};
	struct raw_wd *r = NULL;
	cyaml_err_t e;

	memset(w, 0, sizeof(*w));
	w->path = path;
	e = cyaml_load_file(path, &cfg, &wd_schema, (cyaml_data_t **)&r, NULL);
	if (e != CYAML_OK) {
		wd_error(w, "%s", cyaml_strerror(e));
		return -1;
	}
	w->raw = r;
	if (strcmp(r->format, "1") != 0)
		wd_error(w, "format \"%s\" is not 1", r->format);
	load_settings(w, r);
	if (w->errors == 0) {
		load_order(w, "set_order", r->set_order, w->set_order);
		load_order(w, "revert_order", r->revert_order, w->revert_order);
	}
	load_phases(w, r);
	return w->errors == 0 ? 0 : -1;
}

void
wd_free(struct wd_spec *w)
{
	cyaml_config_t cfg = { .log_fn = wd_cyaml_log, .log_ctx = w,
	    .mem_fn = cyaml_mem, .log_level = CYAML_LOG_ERROR };

	if (w->raw != NULL)
		(void)cyaml_free(&cfg, &wd_schema, w->raw, 0);
	w->raw = NULL;
}

/* ---- the supervisor's requests against the rules ---- */

/* Index into settings of a gen_setting (output 0, charger 1). */
static int
wd_index(enum gen_setting s)
{
	return s == SETTING_OUTPUT ? 0 : 1;
}

/* The settings an event confirms in calibration (a bit per index). */
static unsigned
confirms(const struct spec *sp, const struct wd_spec *w, int event)
{
	char want[GEN_NAME_MAX + 32];
	unsigned m = 0;

	for (int i = 0; i < WD_SETTINGS; i++) {
		(void)snprintf(want, sizeof(want), "%s_calibration_confirmed",
		    w->settings[i].name);
		if (strcmp(sp->events[event].name, want) == 0)
			m |= 1u << i;
	}
	return m;
}

/*
 * What every path to each state has seen confirmed (a must-analysis over
 * the rows, from the initial state), then every row that requests a
 * calibration value: the value must be permitted by the watchdog, from a
 * state that is not reverting (the watchdog permits none after a revert
 * has started), and every setting before it in set_order confirmed.
 */
int
wd_check(const struct spec *sp, struct wd_spec *w)
{
	unsigned seen[GEN_MAX_STATES], all = (1u << WD_SETTINGS) - 1;
	bool changed = true;

	for (int s = 0; s < sp->nstates; s++)
		seen[s] = s == sp->initial ? 0 : all;
	while (changed) {
		changed = false;
		for (int i = 0; i < sp->nrows; i++) {
			const struct g_row *r = &sp->rows[i];
			unsigned to = seen[r->to] & (seen[r->from] |
			    confirms(sp, w, r->event));

			if (to != seen[r->to]) {
				seen[r->to] = to;
				changed = true;
			}
		}
	}
	for (int i = 0; i < sp->nrows; i++) {
		const struct g_row *r = &sp->rows[i];
		unsigned have = seen[r->from] | confirms(sp, w, r->event);

		for (int k = 0; k < r->nactions; k++) {
			const struct g_action *a = &sp->actions[r->actions[k]];
			int pos = 0;

			if (a->setting == SETTING_NONE ||
			    a->value != VALUE_CALIBRATION)
				continue;
			while (w->set_order[pos] != wd_index(a->setting))
				pos++;
			if (sp->states[r->from].reverting)
				wd_error(w, "%s:%d: %s from reverting state %s: "
				    "the watchdog permits no calibration value "
				    "after a revert has started", sp->path,
				    r->line, a->name, sp->states[r->from].name);
			for (int j = 0; j < pos; j++)
				if (!(have & (1u << w->set_order[j])))
					wd_error(w, "%s:%d: %s in state %s: the "
					    "watchdog permits it only once %s "
					    "calibration is confirmed (set_order)",
					    sp->path, r->line, a->name,
					    sp->states[r->from].name,
					    w->settings[w->set_order[j]].name);
		}
	}
	return w->errors;
}

/* ---- outputs: data only ---- */

int
emit_wd_c(const struct wd_spec *w, const char *dir)
{
	char up[64], up2[64];
	struct out o;

	if (out_open(&o, dir, "watchdog_rules.h") == -1)
		return -1;
	out_printf(&o, "/* Generated by gridcal-spec-gen from %s; do not "
	    "edit. */\n#ifndef GRIDCAL_WATCHDOG_RULES_H\n"
	    "#define GRIDCAL_WATCHDOG_RULES_H\n\n", w->path);
	out_printf(&o, "/* X(type, phases, handler): each request and the "
	    "phases (1 << PH_*) that\n * permit it */\n"
	    "#define WD_REQUEST_ROWS(X) \\\n");
	for (int q = 0; q < WD_REQUESTS; q++) {
		out_printf(&o, "\tX(%s, 0", upper("PROTO_", requests[q], up,
		    sizeof(up)));
		for (int p = 0; p < w->nphases; p++)
			if (w->phases[p].permits & (1u << q))
				out_printf(&o, " | 1 << %s", upper("PH_",
				    w->phases[p].name, up, sizeof(up)));
		out_printf(&o, ", mon_%s) \\\n", requests[q]);
	}
	out_printf(&o, "\t/* end */\n\n/* calibration values: each once "
	    "the one before is confirmed */\n#define WD_SET_ORDER\t{ ");
	for (int i = 0; i < WD_SETTINGS; i++)
		out_printf(&o, "%s%s", i > 0 ? ", " : "", upper("SETTING_",
		    w->settings[w->set_order[i]].profile, up, sizeof(up)));
	out_printf(&o, " }\n/* the revert publishes and confirms in this "
	    "order */\n#define WD_REVERT_ORDER\t{ ");
	for (int i = 0; i < WD_SETTINGS; i++)
		out_printf(&o, "%s%s", i > 0 ? ", " : "", upper("SETTING_",
		    w->settings[w->revert_order[i]].profile, up, sizeof(up)));
	out_printf(&o, " }\n/* when a set request for each value (enum "
	    "setting_value) is permitted */\n#define WD_PERMIT_ALWAYS\t0\n"
	    "#define WD_PERMIT_AUTHORISED\t1\n#define WD_VALUE_PERMITS\t{ ");
	for (int v = 0; v < WD_VALUES; v++)
		out_printf(&o, "%s%s", v > 0 ? ", " : "", upper("WD_PERMIT_",
		    permit_names[w->permit[v]], up2, sizeof(up2)));
	out_printf(&o, " }\n\n#endif\n");
	return out_close(&o);
}

int
emit_wd_pml(const struct wd_spec *w, const char *dir)
{
	char up[64];
	struct out o;

	if (out_open(&o, dir, "watchdog_rules.pml") == -1)
		return -1;
	out_printf(&o, "/* Generated by gridcal-spec-gen from %s; do not "
	    "edit. */\n\n", w->path);
	out_printf(&o, "/* What the whitelist permits for a calibration "
	    "value of setting s:\n * values.calibration.permit, set_order, "
	    "each value once. */\n#define PERMITTED(s)\t(%s && (",
	    w->permit[1] == WD_PERMIT_AUTHORISED ?
	    "method == M_GRID && authorised" : "true");
	for (int i = 0; i < WD_SETTINGS; i++) {
		const char *m = w->settings[w->set_order[i]].model;

		out_printf(&o, "%s\\\n\t (s == %s && !cal_confirmed_%s && "
		    "!dirty_%s", i > 0 ? " ||" : "", upper("SET_",
		    w->settings[w->set_order[i]].name, up, sizeof(up)), m, m);
		/* confirmed once, and still read back in calibration now */
		for (int j = 0; j < i; j++)
			out_printf(&o, " && cal_confirmed_%s && plant_%s == "
			    "V_CALIBRATION", w->settings[w->set_order[j]].model,
			    w->settings[w->set_order[j]].model);
		out_printf(&o, ")");
	}
	out_printf(&o, "))\n\n/* The watchdog's revert, in revert_order (a "
	    "macro: it uses the inline\n * confirm_everyday() of "
	    "spec/watchdog.pml). */\n#define WD_REVERT_STEPS");
	for (int i = 0; i < WD_SETTINGS; i++) {
		const char *m = w->settings[w->revert_order[i]].model;

		out_printf(&o, "%s \\\n\tconfirm_everyday(slot_%s, "
		    "plant_%s); \\\n\tdirty_%s = 0", i > 0 ? ";" : "", m, m,
		    m);
	}
	out_printf(&o, "\n");
	return out_close(&o);
}
