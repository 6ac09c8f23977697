/*
 * Loading the spec. libcyaml gives the structure (unknown, missing and
 * duplicate keys, aliases and wrong node types are refused there); every
 * scalar is loaded as a string and checked here, so "yes", "1" or "True"
 * are not booleans and every name is checked against [a-z][a-z0-9_]*.
 * A second pass over the YAML with libyaml finds the line of every list
 * item, so that errors point into the file.
 */
#include <cyaml/cyaml.h>
#include <yaml.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sha2.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gen.h"

struct raw_readback {
	char	*output, *charger;
};
struct raw_state {
	char	*name, *doc, *holds_settings, *reverting, *outcome;
	char	*reanchor_watch, *refuses_unsafe;
	struct raw_readback *readback;
	char	**timers;
	unsigned timers_count;
};
struct raw_timer {
	char	*name, *doc, *duration, *event;
};
struct raw_event {
	char	*name, *doc, *source, *abort, *abort_outcome, *link_lost;
};
struct raw_guard {
	char	*name, *doc, *model;
};
struct raw_request {
	char	*setting, *value;
};
struct raw_action {
	char			*name, *doc, *outcome;
	struct raw_request	*request;
};
struct raw_outcome_map {
	char	*aborted, *cancelled, *refused;
};
struct raw_group_revert {
	char		**actions;
	unsigned	  actions_count;
	char		 *to;
};
struct raw_abort_group {
	char			*doc;
	char			**actions;
	unsigned		 actions_count;
	struct raw_group_revert	*revert;
	struct raw_outcome_map	*outcome_actions;
	struct raw_outcome_map	*outcome_states;
};
struct raw_transition {
	char		**from;
	unsigned	  from_count;
	char		 *event;
	char		**events;	/* or a group of events handled alike */
	unsigned	  events_count;
	char		**guards;
	unsigned	  guards_count;
	char		**actions;
	unsigned	  actions_count;
	char		 *to;
};
struct raw_spec {
	char			*format, *initial;
	char			**priority;
	unsigned		 priority_count;
	struct raw_state	*states;
	unsigned		 states_count;
	struct raw_event	*events;
	unsigned		 events_count;
	struct raw_guard	*guards;
	unsigned		 guards_count;
	struct raw_action	*actions;
	unsigned		 actions_count;
	struct raw_timer	*timers;
	unsigned		 timers_count;
	struct raw_abort_group	*abort_group;
	struct raw_transition	*transitions;
	unsigned		 transitions_count;
};

#define RQ	CYAML_FLAG_POINTER
#define OPT	(CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL)
#define STR(key, flags, type, member, max) \
	CYAML_FIELD_STRING_PTR(key, flags, type, member, 1, max)

static const cyaml_schema_value_t name_entry = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, GEN_NAME_MAX),
};

static const cyaml_schema_field_t readback_fields[] = {
	STR("output", RQ, struct raw_readback, output, 16),
	STR("charger", RQ, struct raw_readback, charger, 16),
	CYAML_FIELD_END
};
static const cyaml_schema_field_t state_fields[] = {
	STR("name", RQ, struct raw_state, name, GEN_NAME_MAX),
	STR("doc", RQ, struct raw_state, doc, GEN_DOC_MAX),
	STR("holds_settings", OPT, struct raw_state, holds_settings, 8),
	STR("reverting", OPT, struct raw_state, reverting, 8),
	STR("outcome", OPT, struct raw_state, outcome, 16),
	STR("reanchor_watch", OPT, struct raw_state, reanchor_watch, 8),
	STR("refuses_unsafe", OPT, struct raw_state, refuses_unsafe, 8),
	CYAML_FIELD_MAPPING_PTR("readback", OPT, struct raw_state, readback,
	    readback_fields),
	CYAML_FIELD_SEQUENCE("timers", OPT, struct raw_state, timers,
	    &name_entry, 1, GEN_MAX_TIMERS),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t state_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_state, state_fields),
};

static const cyaml_schema_field_t event_fields[] = {
	STR("name", RQ, struct raw_event, name, GEN_NAME_MAX),
	STR("doc", RQ, struct raw_event, doc, GEN_DOC_MAX),
	STR("source", RQ, struct raw_event, source, 16),
	STR("abort", OPT, struct raw_event, abort, 8),
	STR("abort_outcome", OPT, struct raw_event, abort_outcome, 16),
	STR("link_lost", OPT, struct raw_event, link_lost, 8),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t event_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_event, event_fields),
};

static const cyaml_schema_field_t guard_fields[] = {
	STR("name", RQ, struct raw_guard, name, GEN_NAME_MAX),
	STR("doc", RQ, struct raw_guard, doc, GEN_DOC_MAX),
	STR("model", OPT, struct raw_guard, model, GEN_MODEL_MAX),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t guard_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_guard, guard_fields),
};

static const cyaml_schema_field_t request_fields[] = {
	STR("setting", RQ, struct raw_request, setting, 16),
	STR("value", RQ, struct raw_request, value, 16),
	CYAML_FIELD_END
};
static const cyaml_schema_field_t action_fields[] = {
	STR("name", RQ, struct raw_action, name, GEN_NAME_MAX),
	STR("doc", RQ, struct raw_action, doc, GEN_DOC_MAX),
	STR("outcome", OPT, struct raw_action, outcome, 16),
	CYAML_FIELD_MAPPING_PTR("request", OPT, struct raw_action, request,
	    request_fields),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t action_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_action,
	    action_fields),
};

static const cyaml_schema_field_t timer_fields[] = {
	STR("name", RQ, struct raw_timer, name, GEN_NAME_MAX),
	STR("doc", RQ, struct raw_timer, doc, GEN_DOC_MAX),
	STR("duration", RQ, struct raw_timer, duration, GEN_NAME_MAX),
	STR("event", RQ, struct raw_timer, event, GEN_NAME_MAX),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t timer_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_timer, timer_fields),
};

static const cyaml_schema_field_t outcome_map_fields[] = {
	STR("ABORTED", OPT, struct raw_outcome_map, aborted, GEN_NAME_MAX),
	STR("CANCELLED", OPT, struct raw_outcome_map, cancelled, GEN_NAME_MAX),
	STR("REFUSED", OPT, struct raw_outcome_map, refused, GEN_NAME_MAX),
	CYAML_FIELD_END
};
static const cyaml_schema_field_t group_revert_fields[] = {
	CYAML_FIELD_SEQUENCE("actions", RQ, struct raw_group_revert, actions,
	    &name_entry, 0, GEN_ROW_ACTIONS),
	STR("to", RQ, struct raw_group_revert, to, GEN_NAME_MAX),
	CYAML_FIELD_END
};
static const cyaml_schema_field_t abort_group_fields[] = {
	STR("doc", RQ, struct raw_abort_group, doc, GEN_DOC_MAX),
	CYAML_FIELD_SEQUENCE("actions", RQ, struct raw_abort_group, actions,
	    &name_entry, 0, GEN_ROW_ACTIONS),
	CYAML_FIELD_MAPPING_PTR("revert", RQ, struct raw_abort_group, revert,
	    group_revert_fields),
	CYAML_FIELD_MAPPING_PTR("outcome_actions", RQ, struct raw_abort_group,
	    outcome_actions, outcome_map_fields),
	CYAML_FIELD_MAPPING_PTR("outcome_states", RQ, struct raw_abort_group,
	    outcome_states, outcome_map_fields),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t transition_fields[] = {
	CYAML_FIELD_SEQUENCE("from", RQ, struct raw_transition, from,
	    &name_entry, 1, GEN_MAX_STATES),
	STR("event", OPT, struct raw_transition, event, GEN_NAME_MAX),
	CYAML_FIELD_SEQUENCE("events", OPT, struct raw_transition, events,
	    &name_entry, 2, GEN_MAX_EVENTS),
	CYAML_FIELD_SEQUENCE("guards", OPT, struct raw_transition, guards,
	    &name_entry, 0, GEN_ROW_GUARDS),
	CYAML_FIELD_SEQUENCE("actions", OPT, struct raw_transition, actions,
	    &name_entry, 0, GEN_ROW_ACTIONS),
	STR("to", RQ, struct raw_transition, to, GEN_NAME_MAX),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t transition_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_transition,
	    transition_fields),
};

static const cyaml_schema_field_t spec_fields[] = {
	STR("format", RQ, struct raw_spec, format, 8),
	STR("initial", RQ, struct raw_spec, initial, GEN_NAME_MAX),
	CYAML_FIELD_SEQUENCE("priority", RQ, struct raw_spec, priority,
	    &name_entry, 1, GEN_MAX_EVENTS),
	CYAML_FIELD_SEQUENCE("states", RQ, struct raw_spec, states,
	    &state_entry, 1, GEN_MAX_STATES),
	CYAML_FIELD_SEQUENCE("events", RQ, struct raw_spec, events,
	    &event_entry, 1, GEN_MAX_EVENTS),
	CYAML_FIELD_SEQUENCE("guards", RQ, struct raw_spec, guards,
	    &guard_entry, 0, GEN_MAX_GUARDS),
	CYAML_FIELD_SEQUENCE("actions", RQ, struct raw_spec, actions,
	    &action_entry, 0, GEN_MAX_ACTIONS),
	CYAML_FIELD_SEQUENCE("timers", OPT, struct raw_spec, timers,
	    &timer_entry, 0, GEN_MAX_TIMERS),
	CYAML_FIELD_MAPPING_PTR("abort_group", OPT, struct raw_spec,
	    abort_group, abort_group_fields),
	CYAML_FIELD_SEQUENCE("transitions", RQ, struct raw_spec, transitions,
	    &transition_entry, 1, GEN_MAX_ROWS),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t spec_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct raw_spec, spec_fields),
};

/* Line of each list item, by section; 0 where unknown. */
enum section { SEC_STATES, SEC_EVENTS, SEC_GUARDS, SEC_ACTIONS,
	SEC_TIMERS, SEC_TRANSITIONS, SEC_COUNT };
static const char *const section_key[SEC_COUNT] = {
	"states", "events", "guards", "actions", "timers", "transitions"
};
struct lines {
	int	item[SEC_COUNT][GEN_MAX_ROWS];
	int	n[SEC_COUNT];
	int	key[4];		/* "format", "initial", "priority",
				   "abort_group" */
};

static const char *const outcome_names[OUTCOME_COUNT] = {
	"NONE", "PASS", "FAIL", "ABORTED", "REFUSED", "CANCELLED"
};
static const char *const source_names[SOURCE_COUNT] = {
	"runtime", "telemetry", "timer", "watchdog", "signal"
};

const char *
outcome_name(enum gen_outcome o)
{
	return (unsigned)o < OUTCOME_COUNT ? outcome_names[o] : "?";
}

const char *
source_name(enum gen_source s)
{
	return (unsigned)s < SOURCE_COUNT ? source_names[s] : "?";
}

void
spec_error(struct spec *sp, int line, const char *fmt, ...)
{
	va_list ap;

	if (line > 0)
		fprintf(stderr, "gen: %s:%d: ", sp->path, line);
	else
		fprintf(stderr, "gen: %s: ", sp->path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	sp->errors++;
}

static void
cyaml_stderr(cyaml_log_t level, void *ctx, const char *fmt, va_list ap)
{
	const struct spec *sp = ctx;

	(void)level;
	fprintf(stderr, "gen: %s: libcyaml: ", sp->path);
	vfprintf(stderr, fmt, ap);
}

/* Reads at most GEN_FILE_MAX bytes; NULL with errno set on failure. */
static char *
read_file(const char *path, size_t *lenp)
{
	char *buf;
	size_t len = 0;
	ssize_t n;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if ((buf = malloc(GEN_FILE_MAX + 1)) == NULL) {
		saved = errno;
		(void)close(fd);
		errno = saved;
		return NULL;
	}
	while ((n = read(fd, buf + len, GEN_FILE_MAX + 1 - len)) > 0) {
		len += (size_t)n;
		if (len > GEN_FILE_MAX)
			break;
	}
	saved = errno;
	(void)close(fd);
	if (n == -1 || len > GEN_FILE_MAX) {
		free(buf);
		errno = n == -1 ? saved : EFBIG;
		return NULL;
	}
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/*
 * Records the line of every mapping directly inside one of the root
 * sequences. Only called on a document libcyaml accepted.
 */
static void
find_lines(const char *buf, size_t len, struct lines *ln)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, sec = -1, done = 0;
	bool want_key = true;
	unsigned i;

	memset(ln, 0, sizeof(*ln));
	if (!yaml_parser_initialize(&p))
		return;
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (!done && yaml_parser_parse(&p, &ev)) {
		switch (ev.type) {
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (depth == 2 && sec >= 0 &&
			    ev.type == YAML_MAPPING_START_EVENT &&
			    ln->n[sec] < GEN_MAX_ROWS)
				ln->item[sec][ln->n[sec]++] =
				    (int)ev.start_mark.line + 1;
			depth++;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			if (--depth == 1) {
				sec = -1;
				want_key = true;
			}
			break;
		case YAML_SCALAR_EVENT:
			if (depth != 1)
				break;
			if (want_key) {
				const char *k = (const char *)ev.data.scalar.value;

				for (i = 0; i < SEC_COUNT; i++)
					if (strcmp(k, section_key[i]) == 0)
						sec = (int)i;
				if (strcmp(k, "format") == 0)
					ln->key[0] = (int)ev.start_mark.line + 1;
				if (strcmp(k, "initial") == 0)
					ln->key[1] = (int)ev.start_mark.line + 1;
				if (strcmp(k, "priority") == 0)
					ln->key[2] = (int)ev.start_mark.line + 1;
				if (strcmp(k, "abort_group") == 0)
					ln->key[3] = (int)ev.start_mark.line + 1;
				want_key = false;
			} else {
				sec = -1;
				want_key = true;
			}
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
}

static int
line_of(const struct lines *ln, enum section sec, unsigned i)
{
	return i < (unsigned)ln->n[sec] ? ln->item[sec][i] : 0;
}

static bool
valid_name(const char *s)
{
	const char *p;

	if (s[0] < 'a' || s[0] > 'z')
		return false;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '_'))
			return false;
	return true;
}

/* One line of printable ASCII that is safe inside C and Promela comments. */
static bool
valid_text(const char *s)
{
	const char *p;

	for (p = s; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '\\')
			return false;
	return strstr(s, "*/") == NULL && strstr(s, "/*") == NULL;
}

static int
check_name(struct spec *sp, int line, const char *what, const char *name)
{
	if (valid_name(name))
		return 0;
	spec_error(sp, line, "%s name \"%s\" is not [a-z][a-z0-9_]*", what,
	    name);
	return -1;
}

static void
check_doc(struct spec *sp, int line, const char *what, const char *name,
    const char *doc)
{
	if (!valid_text(doc))
		spec_error(sp, line, "%s %s: doc must be printable ASCII "
		    "without backslashes or comment delimiters", what, name);
}

/* "true"/"false" or absent (false); anything else is an error. */
static bool
get_bool(struct spec *sp, int line, const char *what, const char *key,
    const char *v)
{
	if (v == NULL || strcmp(v, "false") == 0)
		return false;
	if (strcmp(v, "true") == 0)
		return true;
	spec_error(sp, line, "%s: %s must be true or false, not \"%s\"",
	    what, key, v);
	return false;
}

static int
lookup(const char *const *names, int n, const char *want)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], want) == 0)
			return i;
	return -1;
}

static enum gen_outcome
get_outcome(struct spec *sp, int line, const char *what, const char *v)
{
	int i;

	if (v == NULL)
		return OUTCOME_NONE;
	i = lookup(outcome_names + 1, OUTCOME_COUNT - 1, v);
	if (i < 0) {
		spec_error(sp, line, "%s: outcome \"%s\" is not one of PASS, "
		    "FAIL, ABORTED, REFUSED, CANCELLED", what, v);
		return OUTCOME_NONE;
	}
	return (enum gen_outcome)(i + 1);
}

static enum gen_expect
get_expect(struct spec *sp, int line, const char *state, const char *key,
    const char *v)
{
	static const char *const names[] = { "any", "everyday", "calibration" };

	for (int i = 0; i < 3; i++)
		if (strcmp(v, names[i]) == 0)
			return (enum gen_expect)(EXPECT_ANY + i);
	spec_error(sp, line, "state %s: readback.%s \"%s\" is not any, "
	    "everyday or calibration", state, key, v);
	return EXPECT_UNDECLARED;
}

static void
load_states(struct spec *sp, const struct raw_spec *r, const struct lines *ln)
{
	unsigned i;
	int j;

	for (i = 0; i < r->states_count; i++) {
		const struct raw_state *rs = &r->states[i];
		struct g_state *s = &sp->states[sp->nstates];

		s->line = line_of(ln, SEC_STATES, i);
		s->name = rs->name;
		s->doc = rs->doc;
		if (check_name(sp, s->line, "state", rs->name) == -1)
			continue;
		check_doc(sp, s->line, "state", rs->name, rs->doc);
		for (j = 0; j < sp->nstates; j++)
			if (strcmp(sp->states[j].name, rs->name) == 0)
				spec_error(sp, s->line, "state %s is declared "
				    "twice (first at line %d)", rs->name,
				    sp->states[j].line);
		s->holds = get_bool(sp, s->line, rs->name, "holds_settings",
		    rs->holds_settings);
		s->reverting = get_bool(sp, s->line, rs->name, "reverting",
		    rs->reverting);
		s->outcome = get_outcome(sp, s->line, rs->name, rs->outcome);
		s->reanchor_watch = get_bool(sp, s->line, rs->name,
		    "reanchor_watch", rs->reanchor_watch);
		s->refuses_unsafe = get_bool(sp, s->line, rs->name,
		    "refuses_unsafe", rs->refuses_unsafe);
		if (rs->readback != NULL) {
			s->expect[0] = get_expect(sp, s->line, rs->name,
			    "output", rs->readback->output);
			s->expect[1] = get_expect(sp, s->line, rs->name,
			    "charger", rs->readback->charger);
		}
		sp->nstates++;
	}
}

static void
load_events(struct spec *sp, const struct raw_spec *r, const struct lines *ln)
{
	unsigned i;
	int j;

	for (i = 0; i < r->events_count; i++) {
		const struct raw_event *re = &r->events[i];
		struct g_event *e = &sp->events[sp->nevents];

		e->line = line_of(ln, SEC_EVENTS, i);
		e->name = re->name;
		e->doc = re->doc;
		if (check_name(sp, e->line, "event", re->name) == -1)
			continue;
		check_doc(sp, e->line, "event", re->name, re->doc);
		for (j = 0; j < sp->nevents; j++)
			if (strcmp(sp->events[j].name, re->name) == 0)
				spec_error(sp, e->line, "event %s is declared "
				    "twice (first at line %d)", re->name,
				    sp->events[j].line);
		j = lookup(source_names, SOURCE_COUNT, re->source);
		if (j < 0)
			spec_error(sp, e->line, "event %s: source \"%s\" is "
			    "not one of runtime, telemetry, timer, watchdog, "
			    "signal", re->name, re->source);
		e->source = j < 0 ? SOURCE_RUNTIME : (enum gen_source)j;
		e->abort = get_bool(sp, e->line, re->name, "abort", re->abort);
		e->link_lost = get_bool(sp, e->line, re->name, "link_lost",
		    re->link_lost);
		e->abort_outcome = e->abort ? OUTCOME_ABORTED : OUTCOME_NONE;
		if (re->abort_outcome != NULL) {
			if (!e->abort)
				spec_error(sp, e->line, "event %s: "
				    "abort_outcome without abort: true",
				    re->name);
			else
				e->abort_outcome = get_outcome(sp, e->line,
				    re->name, re->abort_outcome);
		}
		if (e->abort && e->link_lost)
			spec_error(sp, e->line, "event %s: abort and "
			    "link_lost exclude each other (an abort asks the "
			    "watchdog to revert; with the link lost nobody "
			    "can be asked)", re->name);
		sp->nevents++;
	}
}

static void
load_guards(struct spec *sp, const struct raw_spec *r, const struct lines *ln)
{
	unsigned i;
	int j;

	for (i = 0; i < r->guards_count; i++) {
		const struct raw_guard *rg = &r->guards[i];
		struct g_guard *g = &sp->guards[sp->nguards];

		g->line = line_of(ln, SEC_GUARDS, i);
		g->name = rg->name;
		g->doc = rg->doc;
		g->model = rg->model;
		if (check_name(sp, g->line, "guard", rg->name) == -1)
			continue;
		check_doc(sp, g->line, "guard", rg->name, rg->doc);
		if (rg->model != NULL && (!valid_text(rg->model) ||
		    strchr(rg->model, ';') != NULL))
			spec_error(sp, g->line, "guard %s: model must be one "
			    "Promela expression on one line", rg->name);
		for (j = 0; j < sp->nguards; j++)
			if (strcmp(sp->guards[j].name, rg->name) == 0)
				spec_error(sp, g->line, "guard %s is declared "
				    "twice (first at line %d)", rg->name,
				    sp->guards[j].line);
		sp->nguards++;
	}
}

static void
load_actions(struct spec *sp, const struct raw_spec *r,
    const struct lines *ln)
{
	unsigned i;
	int j;

	for (i = 0; i < r->actions_count; i++) {
		const struct raw_action *ra = &r->actions[i];
		struct g_action *a = &sp->actions[sp->nactions];

		a->line = line_of(ln, SEC_ACTIONS, i);
		a->name = ra->name;
		a->doc = ra->doc;
		if (check_name(sp, a->line, "action", ra->name) == -1)
			continue;
		check_doc(sp, a->line, "action", ra->name, ra->doc);
		for (j = 0; j < sp->nactions; j++)
			if (strcmp(sp->actions[j].name, ra->name) == 0)
				spec_error(sp, a->line, "action %s is declared "
				    "twice (first at line %d)", ra->name,
				    sp->actions[j].line);
		a->outcome = get_outcome(sp, a->line, ra->name, ra->outcome);
		if (ra->request != NULL) {
			const struct raw_request *rq = ra->request;

			if (strcmp(rq->setting, "output") == 0)
				a->setting = SETTING_OUTPUT;
			else if (strcmp(rq->setting, "charger") == 0)
				a->setting = SETTING_CHARGER;
			else
				spec_error(sp, a->line, "action %s: request "
				    "setting \"%s\" is not output or charger",
				    ra->name, rq->setting);
			if (strcmp(rq->value, "everyday") == 0)
				a->value = VALUE_EVERYDAY;
			else if (strcmp(rq->value, "calibration") == 0)
				a->value = VALUE_CALIBRATION;
			else
				spec_error(sp, a->line, "action %s: request "
				    "value \"%s\" is not everyday or "
				    "calibration", ra->name, rq->value);
			if (ra->outcome != NULL)
				spec_error(sp, a->line, "action %s: one "
				    "concern per action: request or outcome, "
				    "not both", ra->name);
		}
		sp->nactions++;
	}
}

static int find_event(const struct spec *, const char *);

static void
load_timers(struct spec *sp, const struct raw_spec *r, const struct lines *ln)
{
	unsigned i;
	int j;

	for (i = 0; i < r->timers_count; i++) {
		const struct raw_timer *rt = &r->timers[i];
		struct g_timer *t = &sp->timers[sp->ntimers];

		t->line = line_of(ln, SEC_TIMERS, i);
		t->name = rt->name;
		t->doc = rt->doc;
		t->duration = rt->duration;
		if (check_name(sp, t->line, "timer", rt->name) == -1 ||
		    check_name(sp, t->line, "duration", rt->duration) == -1)
			continue;
		check_doc(sp, t->line, "timer", rt->name, rt->doc);
		for (j = 0; j < sp->ntimers; j++)
			if (strcmp(sp->timers[j].name, rt->name) == 0)
				spec_error(sp, t->line, "timer %s is declared "
				    "twice (first at line %d)", rt->name,
				    sp->timers[j].line);
		if ((t->event = find_event(sp, rt->event)) < 0)
			spec_error(sp, t->line, "timer %s: unknown event "
			    "\"%s\"", rt->name, rt->event);
		else if (sp->events[t->event].source != SOURCE_TIMER)
			spec_error(sp, t->line, "timer %s: event %s is not a "
			    "timer event (source: timer)", rt->name,
			    rt->event);
		sp->ntimers++;
	}
}

/* The timers a state owns (after load_timers). */
static void
load_state_timers(struct spec *sp, const struct raw_spec *r)
{
	for (int i = 0; i < sp->nstates && (unsigned)i < r->states_count;
	    i++) {
		const struct raw_state *rs = &r->states[i];
		struct g_state *s = &sp->states[i];

		for (unsigned k = 0; k < rs->timers_count; k++) {
			int t;

			for (t = 0; t < sp->ntimers; t++)
				if (strcmp(sp->timers[t].name,
				    rs->timers[k]) == 0)
					break;
			if (t == sp->ntimers) {
				spec_error(sp, s->line, "state %s: unknown "
				    "timer \"%s\"", s->name, rs->timers[k]);
				continue;
			}
			if (s->timers & (1u << t))
				spec_error(sp, s->line, "state %s: timer %s "
				    "is listed twice", s->name,
				    rs->timers[k]);
			s->timers |= 1u << t;
		}
	}
}

static int
find_state(const struct spec *sp, const char *name)
{
	int i;

	for (i = 0; i < sp->nstates; i++)
		if (strcmp(sp->states[i].name, name) == 0)
			return i;
	return -1;
}

static int
find_event(const struct spec *sp, const char *name)
{
	int i;

	for (i = 0; i < sp->nevents; i++)
		if (strcmp(sp->events[i].name, name) == 0)
			return i;
	return -1;
}

static int
find_guard(const struct spec *sp, const char *name)
{
	int i;

	for (i = 0; i < sp->nguards; i++)
		if (strcmp(sp->guards[i].name, name) == 0)
			return i;
	return -1;
}

static int
find_action(const struct spec *sp, const char *name)
{
	int i;

	for (i = 0; i < sp->nactions; i++)
		if (strcmp(sp->actions[i].name, name) == 0)
			return i;
	return -1;
}

/*
 * The priority list: every event once, first first. The runtime
 * dispatches, of the events due at one time, the first in this order.
 */
static void
load_priority(struct spec *sp, const struct raw_spec *r, int line)
{
	bool seen[GEN_MAX_EVENTS] = { false };
	unsigned i;
	int e;

	sp->priority_line = line;
	for (i = 0; i < r->priority_count; i++) {
		if ((e = find_event(sp, r->priority[i])) < 0) {
			spec_error(sp, line, "priority: unknown event \"%s\"",
			    r->priority[i]);
			continue;
		}
		if (seen[e]) {
			spec_error(sp, line, "priority: event %s is listed "
			    "twice", r->priority[i]);
			continue;
		}
		seen[e] = true;
		sp->priority[sp->npriority++] = e;
	}
	for (e = 0; e < sp->nevents; e++)
		if (!seen[e])
			spec_error(sp, line, "priority: event %s is not "
			    "listed (every event has a declared priority)",
			    sp->events[e].name);
}

/* Resolves one transition entry and expands it into rows. */
static void
load_transition(struct spec *sp, const struct raw_transition *rt, int line)
{
	struct g_row proto;
	unsigned i, j, nev;
	int k, bad = 0, ev[GEN_MAX_EVENTS];

	memset(&proto, 0, sizeof(proto));
	proto.line = line;
	if ((rt->event == NULL) == (rt->events == NULL)) {
		spec_error(sp, line, "a transition has either event or events");
		return;
	}
	nev = rt->event != NULL ? 1 : rt->events_count;
	for (i = 0; i < nev; i++) {
		const char *name = rt->event != NULL ? rt->event :
		    rt->events[i];

		if ((ev[i] = find_event(sp, name)) < 0) {
			spec_error(sp, line, "unknown event \"%s\"", name);
			bad = 1;
		}
		for (j = 0; j < i; j++)
			if (ev[j] == ev[i] && ev[i] >= 0) {
				spec_error(sp, line, "event %s is listed "
				    "twice in events", name);
				bad = 1;
			}
	}
	if ((proto.to = find_state(sp, rt->to)) < 0) {
		spec_error(sp, line, "unknown state \"%s\" in to", rt->to);
		bad = 1;
	}
	for (i = 0; i < rt->guards_count; i++) {
		if ((k = find_guard(sp, rt->guards[i])) < 0) {
			spec_error(sp, line, "unknown guard \"%s\"",
			    rt->guards[i]);
			bad = 1;
			continue;
		}
		for (j = 0; j < i; j++)
			if (strcmp(rt->guards[j], rt->guards[i]) == 0) {
				spec_error(sp, line, "guard %s is listed "
				    "twice", rt->guards[i]);
				bad = 1;
			}
		proto.guards[proto.nguards++] = k;
	}
	for (i = 0; i < rt->actions_count; i++) {
		if ((k = find_action(sp, rt->actions[i])) < 0) {
			spec_error(sp, line, "unknown action \"%s\"",
			    rt->actions[i]);
			bad = 1;
			continue;
		}
		proto.actions[proto.nactions++] = k;
	}
	for (i = 0; i < rt->from_count; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(rt->from[j], rt->from[i]) == 0) {
				spec_error(sp, line, "state %s is listed "
				    "twice in from", rt->from[i]);
				bad = 1;
			}
		if ((k = find_state(sp, rt->from[i])) < 0) {
			spec_error(sp, line, "unknown state \"%s\" in from",
			    rt->from[i]);
			bad = 1;
			continue;
		}
		if (bad)
			continue;
		for (j = 0; j < nev; j++) {
			if (sp->nrows == GEN_MAX_ROWS) {
				spec_error(sp, line, "more than %d rows after "
				    "expanding from and events lists",
				    GEN_MAX_ROWS);
				return;
			}
			proto.from = k;
			proto.event = ev[j];
			proto.order = sp->nrows;
			sp->rows[sp->nrows++] = proto;
		}
	}
}

static int find_action(const struct spec *, const char *);

/* Resolves a list of action names into out; -1 if one is unknown. */
static int
group_actions(struct spec *sp, int line, char **names, unsigned n, int *out,
    int *nout)
{
	int k, bad = 0;

	for (unsigned i = 0; i < n; i++) {
		if ((k = find_action(sp, names[i])) < 0) {
			spec_error(sp, line, "abort_group: unknown action "
			    "\"%s\"", names[i]);
			bad = 1;
			continue;
		}
		if (*nout == GEN_ROW_ACTIONS) {
			spec_error(sp, line, "abort_group: more than %d "
			    "actions in a row", GEN_ROW_ACTIONS);
			return -1;
		}
		out[(*nout)++] = k;
	}
	return bad ? -1 : 0;
}

static const char *
outcome_entry(const struct raw_outcome_map *m, enum gen_outcome o)
{
	if (m == NULL)
		return NULL;
	return o == OUTCOME_ABORTED ? m->aborted :
	    o == OUTCOME_CANCELLED ? m->cancelled :
	    o == OUTCOME_REFUSED ? m->refused : NULL;
}

/*
 * The abort group: one declaration for every abort event in every state
 * that is neither terminal nor reverting, expanded here into one
 * unguarded row per (state, event) that the transitions do not already
 * handle (a state's own row for an abort event comes first and stands).
 * The outcome is the event's abort_outcome (ABORTED unless declared),
 * REFUSED for a telemetry event in a state with refuses_unsafe (before
 * any charging an unsafe plant is a refusal). In a state that holds the
 * settings the row runs the group's actions, the outcome's action and
 * revert.actions and goes to revert.to; elsewhere it runs the group's
 * actions and goes to the outcome's state. The model and the table see
 * every expanded row.
 */
static void
load_abort_group(struct spec *sp, const struct raw_abort_group *g, int line)
{
	int s, e, grp[GEN_MAX_ROWS];

	check_doc(sp, line, "abort_group", "", g->doc);
	for (s = 0; s < sp->nstates; s++) {
		const struct g_state *st = &sp->states[s];

		if (st->outcome != OUTCOME_NONE || st->reverting)
			continue;
		for (e = 0; e < sp->nevents; e++) {
			const struct g_event *ev = &sp->events[e];
			enum gen_outcome o = ev->abort_outcome;
			const char *name;
			struct g_row r;

			if (!ev->abort || spec_group(sp, s, e, grp) > 0)
				continue;
			if (st->refuses_unsafe && ev->source ==
			    SOURCE_TELEMETRY)
				o = OUTCOME_REFUSED;
			memset(&r, 0, sizeof(r));
			r.from = s;
			r.event = e;
			r.line = line;
			if (group_actions(sp, line, g->actions,
			    g->actions_count, r.actions, &r.nactions) == -1)
				return;
			if (st->holds) {
				name = outcome_entry(g->outcome_actions, o);
				if (name == NULL) {
					spec_error(sp, line, "abort_group: no "
					    "outcome_actions entry for %s "
					    "(state %s holds the settings, "
					    "event %s)", outcome_name(o),
					    st->name, ev->name);
					return;
				}
				if (group_actions(sp, line, (char **)&name, 1,
				    r.actions, &r.nactions) == -1 ||
				    group_actions(sp, line,
				    g->revert->actions, g->revert->actions_count,
				    r.actions, &r.nactions) == -1)
					return;
				name = g->revert->to;
			} else if ((name = outcome_entry(g->outcome_states,
			    o)) == NULL) {
				spec_error(sp, line, "abort_group: no "
				    "outcome_states entry for %s (state %s, "
				    "event %s)", outcome_name(o), st->name,
				    ev->name);
				return;
			}
			if ((r.to = find_state(sp, name)) < 0) {
				spec_error(sp, line, "abort_group: unknown "
				    "state \"%s\"", name);
				return;
			}
			if (sp->nrows == GEN_MAX_ROWS) {
				spec_error(sp, line, "more than %d rows after "
				    "expanding the abort group", GEN_MAX_ROWS);
				return;
			}
			r.order = sp->nrows;
			sp->rows[sp->nrows++] = r;
		}
	}
}

int
spec_load(struct spec *sp, const char *path)
{
	cyaml_config_t cfg = {
		.log_fn = cyaml_stderr, .log_ctx = sp, .mem_fn = cyaml_mem,
		.log_level = CYAML_LOG_ERROR, .flags = CYAML_CFG_NO_ALIAS,
	};
	struct raw_spec *r = NULL;
	struct lines *ln;
	cyaml_err_t e;
	char *buf;
	size_t len;
	unsigned i;

	memset(sp, 0, sizeof(*sp));
	sp->path = path;
	sp->initial = -1;
	if ((buf = read_file(path, &len)) == NULL) {
		fprintf(stderr, "gen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	(void)SHA256Data((const uint8_t *)buf, len, sp->sha256);
	e = cyaml_load_data((const uint8_t *)buf, len, &cfg, &spec_schema,
	    (cyaml_data_t **)&r, NULL);
	if (e != CYAML_OK) {
		spec_error(sp, 0, "%s", cyaml_strerror(e));
		free(buf);
		return -1;
	}
	sp->raw = r;
	if ((ln = malloc(sizeof(*ln))) == NULL) {
		free(buf);
		fprintf(stderr, "gen: %s\n", strerror(errno));
		return -1;
	}
	find_lines(buf, len, ln);
	free(buf);

	if (strcmp(r->format, "1") != 0)
		spec_error(sp, ln->key[0], "format \"%s\" is not 1",
		    r->format);
	load_states(sp, r, ln);
	load_events(sp, r, ln);
	load_guards(sp, r, ln);
	load_actions(sp, r, ln);
	if (sp->errors == 0) {
		load_timers(sp, r, ln);
		load_state_timers(sp, r);
		if ((sp->initial = find_state(sp, r->initial)) < 0)
			spec_error(sp, ln->key[1], "initial state \"%s\" is "
			    "not declared", r->initial);
		load_priority(sp, r, ln->key[2]);
		for (i = 0; i < r->transitions_count; i++)
			load_transition(sp, &r->transitions[i],
			    line_of(ln, SEC_TRANSITIONS, i));
		if (r->abort_group != NULL && sp->errors == 0)
			load_abort_group(sp, r->abort_group, ln->key[3]);
	}
	free(ln);
	return sp->errors == 0 ? 0 : -1;
}

void
spec_free(struct spec *sp)
{
	cyaml_config_t cfg = {
		.log_fn = cyaml_log, .mem_fn = cyaml_mem,
		.log_level = CYAML_LOG_ERROR,
	};

	if (sp->raw != NULL)
		(void)cyaml_free(&cfg, &spec_schema, sp->raw, 0);
	sp->raw = NULL;
}
