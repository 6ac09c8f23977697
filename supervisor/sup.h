/*
 * gridcal-supervisor: the run context every guard and action works on.
 *
 * One struct sup per process. The poll loop (run.c) feeds broker messages
 * into the telemetry store, answers from the watchdog into wdlink, signals
 * and timers into flags; events.c turns all of that into table events;
 * the generated table (machine.c) picks the row, calls the guards
 * (guards.c) and actions (actions.c) and moves to the next state.
 */
#ifndef GRIDCAL_SUP_H
#define GRIDCAL_SUP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "monitor.h"
#include "preflight.h"
#include "profile.h"
#include "exitcodes.h"
#include "proto.h"
#include "snapshot.h"
#include "telemetry.h"
#include "wdlink.h"

/* Exit status of gridcal-supervisor: documented in --help and README. */
/* shared/exitcodes.h: the watchdog's numbers for the same outcomes */
#define SUP_EXIT_PASS		GC_EX_PASS
#define SUP_EXIT_ERROR		GC_EX_SOFTWARE	/* internal error */
#define SUP_EXIT_FAIL		GC_EX_FAIL
#define SUP_EXIT_ABORTED	GC_EX_ABORTED
#define SUP_EXIT_REFUSED	GC_EX_REFUSED
#define SUP_EXIT_CANCELLED	GC_EX_CANCELLED

#define SUP_EXIT_BALANCED	GC_EX_PASS
#define SUP_EXIT_DRIFT		GC_EX_DRIFT
#define SUP_EXIT_IMBALANCE	GC_EX_IMBALANCE
#define SUP_EXIT_UNSAFE		GC_EX_UNSAFE
#define SUP_EXIT_NODATA		GC_EX_NODATA
#define SUP_EXIT_USAGE		GC_EX_USAGE
#define SUP_EXIT_UNAVAILABLE	GC_EX_BROKER
#define SUP_EXIT_CONFIG		GC_EX_CONFIG

enum sup_method { METHOD_SOLAR, METHOD_GRID };

struct session;

struct sup {
	struct profile		pf;
	struct tm_store		tm;
	struct session		*ses;
	struct wdlink		wd;
	struct monitor		mon;

	/* the run's parameters */
	enum sup_method		method;
	bool			confirm;	/* --confirm given */
	bool			check_only;	/* `check`: no watchdog */

	/* clocks (CLOCK_MONOTONIC ms) */
	int64_t			now;
	int64_t			start_ms;	/* process start */
	int64_t			utc_start_ms;
	int64_t			next_progress_ms;

	/* timers are the states': supervisor/machine.c keeps them */

	/* the state machine */
	int			state;
	unsigned		transitions;
	uint64_t		latched;	/* level events raised in this state */

	/* inputs latched by the loop until events.c consumes them */
	int			signal;		/* SIGTERM/SIGINT seen, 0 = no */
	struct wd_answer	answer;		/* the head of the watchdog's */
	bool			have_answer;	/* answers, taken from wdlink */
	bool			broker_up;
	bool			broker_fatal;
	bool			limit_ingested;	/* judge before reading on */

	/* snapshots: begin_snapshot begins, snapshot_ready delivers, while
	 * the state's snapshot timer runs */
	int64_t			snap_since_ms;
	struct snapshot		snap;		/* the latest complete one */
	char			snap_why[160];	/* why none yet */
	struct snapshot		before, after;
	bool			have_before, have_after;
	struct preflight	pre;
	uint32_t		lagging;
	uint32_t		anchored;	/* seen at the re-anchor value
						   during the hold (bit per pack) */
	char			verify_why[PROTO_TEXT_LEN];

	/* outcome and reason */
	enum proto_outcome	pending;	/* set_outcome_*, 0 = none */
	enum proto_outcome	outcome;	/* of the terminal state */
	char			code[32];	/* reason as one word */
	char			reason[PROTO_TEXT_LEN];	/* for people */
	char			event_why[200];	/* figures of the last abort */
	bool			abort_due;	/* its AUDIT frame, after the row */
	bool			requested;	/* a calibration value was asked */
	bool			reverted;	/* everyday confirmed (watchdog) */
	bool			finished;	/* terminal state reached */

	/* output */
	FILE			*out;		/* progress and report */
	bool			tty;
	uint64_t		bad_telemetry;	/* rejected payloads logged */
};

/* run.c */
int	sup_calibrate(struct sup *, int wd_fd);
int	sup_check(struct sup *);
int	sup_exit_code(enum proto_outcome);

/* glue.c: the generated table's names */
const char *sup_state_name(int state);

/* report.c */
void	report_progress(struct sup *);
void	report_status(struct sup *);
/* actions.c: the abort record the row deferred (after its request) */
void	sup_send_abort_audit(struct sup *);
void	report_final(struct sup *);
/* "code: reason" for people, the report and DONE. */
void	report_reason(const struct sup *, char *buf, size_t bufsz);
void	report_preflight(struct sup *);
void	report_check(struct sup *, int have_snapshot);
void	report_latest(const struct tm_store *, int64_t now_ms,
	    struct snapshot *);

#endif
