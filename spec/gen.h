/*
 * spec/gen: the calibration spec (YAML) -> transition table (C), Promela
 * model and Graphviz picture. Internal interfaces of the generator.
 *
 * gen_load.c reads and resolves the spec, gen_check.c enforces the rules
 * that make it a safe machine, gen_c.c / gen_pml.c / gen_dot.c write the
 * outputs through gen_out.c.
 */
#ifndef GRIDCAL_GEN_H
#define GRIDCAL_GEN_H

#include <stdbool.h>
#include <stdio.h>

#define EX_USAGE	64
#define EX_DATAERR	65	/* the spec is rejected */
#define EX_NOINPUT	66
#define EX_SOFTWARE	70
#define EX_CANTCREAT	73

#define GEN_NAME_MAX	40	/* characters in a name */
#define GEN_DOC_MAX	200	/* characters in a doc line */
#define GEN_MODEL_MAX	200	/* characters in a guard's Promela model */
#define GEN_FILE_MAX	(1024 * 1024)
#define GEN_MAX_STATES	64
#define GEN_MAX_EVENTS	64
#define GEN_MAX_GUARDS	64
#define GEN_MAX_ACTIONS	128
#define GEN_MAX_ROWS	1024	/* after expanding `from` lists */
#define GEN_MAX_TIMERS	16	/* a bit each in cal_state_timers */
#define GEN_ROW_GUARDS	8
#define GEN_ROW_ACTIONS	16

enum gen_outcome {
	OUTCOME_NONE, OUTCOME_PASS, OUTCOME_FAIL, OUTCOME_ABORTED,
	OUTCOME_REFUSED, OUTCOME_CANCELLED, OUTCOME_COUNT
};

enum gen_source {
	SOURCE_RUNTIME, SOURCE_TELEMETRY, SOURCE_TIMER, SOURCE_WATCHDOG,
	SOURCE_SIGNAL, SOURCE_COUNT
};

enum gen_setting { SETTING_NONE, SETTING_OUTPUT, SETTING_CHARGER };
/* What a state expects the readback of a setting to show. */
enum gen_expect { EXPECT_UNDECLARED, EXPECT_ANY, EXPECT_EVERYDAY,
	EXPECT_CALIBRATION };
enum gen_value { VALUE_NONE, VALUE_EVERYDAY, VALUE_CALIBRATION };

struct g_state {
	const char		*name, *doc;
	int			 line;
	bool			 holds;		/* may hold calibration settings */
	bool			 reverting;	/* part of the revert sequence */
	enum gen_outcome	 outcome;	/* != NONE: terminal */
	enum gen_expect		 expect[2];	/* readback: output, charger */
	unsigned		 timers;	/* bit per timer it owns */
	bool			 reanchor_watch;	/* counters watched */
	bool			 refuses_unsafe;	/* abort group: REFUSED */
};

/* A timer owned by states: armed on entering them, cancelled on leaving. */
struct g_timer {
	const char		*name, *doc;
	const char		*duration;	/* duration_<name>() */
	int			 line;
	int			 event;		/* raised on expiry */
};

struct g_event {
	const char		*name, *doc;
	int			 line;
	enum gen_source		 source;
	bool			 abort;
	enum gen_outcome	 abort_outcome;	/* in the abort group */
	bool			 link_lost;	/* the watchdog link is gone */
};

struct g_guard {
	const char		*name, *doc;
	const char		*model;		/* Promela expression or NULL */
	int			 line;
};

struct g_action {
	const char		*name, *doc;
	int			 line;
	enum gen_setting	 setting;	/* a set request, or NONE */
	enum gen_value		 value;
	enum gen_outcome	 outcome;	/* pending outcome, or NONE */
};

/* One row: a transition entry expanded for one of its `from` states. */
struct g_row {
	int	from, event, to;
	int	nguards, guards[GEN_ROW_GUARDS];
	int	nactions, actions[GEN_ROW_ACTIONS];
	int	line;		/* of the transition entry in the spec */
	int	order;		/* position in file order */
};

struct spec {
	const char	*path;
	char		 sha256[65];	/* hex digest of the spec's bytes */
	int		 initial;
	struct g_state	 states[GEN_MAX_STATES];
	int		 nstates;
	struct g_event	 events[GEN_MAX_EVENTS];
	int		 nevents;
	struct g_guard	 guards[GEN_MAX_GUARDS];
	int		 nguards;
	struct g_action	 actions[GEN_MAX_ACTIONS];
	int		 nactions;
	struct g_timer	 timers[GEN_MAX_TIMERS];
	int		 ntimers;
	struct g_row	 rows[GEN_MAX_ROWS];	/* file order */
	int		 nrows;
	int		 priority[GEN_MAX_EVENTS];	/* events, first first */
	int		 npriority;
	int		 priority_line;
	int		 errors;
	void		*raw;		/* what libcyaml loaded; owns strings */
};

/* gen_load.c: 0 if loaded and every name resolved; errors are printed. */
int	spec_load(struct spec *, const char *path);
void	spec_free(struct spec *);
/* Prints "gen: FILE:LINE: message" (no line if line <= 0), counts it. */
void	spec_error(struct spec *, int line, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* gen_check.c: the safety rules; returns the number of violations. */
int	spec_check(struct spec *);
/* Rows of (state, event) in file order into out; returns the count. */
int	spec_group(const struct spec *, int state, int event, int *out);
bool	spec_is_terminal(const struct spec *, int state);
bool	spec_requests_calibration(const struct spec *, const struct g_row *);

const char *outcome_name(enum gen_outcome);	/* "PASS" */
const char *source_name(enum gen_source);	/* "telemetry" */

/* gen_out.c: atomic output files (temporary file, then rename). */
struct out {
	FILE	*f;
	char	 tmp[4096];
	char	 path[4096];
	bool	 failed;
};
int	out_open(struct out *, const char *dir, const char *name);
void	out_printf(struct out *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	out_close(struct out *);	/* renames into place; -1 on error */
void	out_abandon(struct out *);
/* "CAL_STATE_" + upper(name) into buf. */
const char *upper(const char *prefix, const char *name, char *buf,
	    size_t bufsz);

/* gen_wd.c: the watchdog's rules (spec/watchdog.yaml). */
#define WD_SETTINGS	2	/* output, charger: shared/proto.h wire order */
#define WD_VALUES	2	/* everyday, calibration */
#define WD_REQUESTS	5	/* hello, heartbeat, set_request, audit, done */
#define WD_MAX_PHASES	8
enum wd_permit { WD_PERMIT_ALWAYS, WD_PERMIT_AUTHORISED };

struct wd_spec {
	const char	*path;
	struct {
		const char *name, *profile, *model;
	}		 settings[WD_SETTINGS];
	int		 permit[WD_VALUES];	/* enum wd_permit */
	int		 set_order[WD_SETTINGS];	/* indices into settings */
	int		 revert_order[WD_SETTINGS];
	struct {
		const char *name;
		unsigned    permits;		/* bit per request */
	}		 phases[WD_MAX_PHASES];
	int		 nphases;
	int		 errors;
	void		*raw;
};
int	wd_load(struct wd_spec *, const char *path);
void	wd_free(struct wd_spec *);
/* The supervisor's request actions against the rules; error count. */
int	wd_check(const struct spec *, struct wd_spec *);
int	emit_wd_c(const struct wd_spec *, const char *dir);
int	emit_wd_pml(const struct wd_spec *, const char *dir);

int	emit_c(const struct spec *, const char *dir);
int	emit_stubs(const struct spec *, const char *dir);
int	emit_pml(const struct spec *, const char *dir);
int	emit_dot(const struct spec *, const char *dir);

#endif
