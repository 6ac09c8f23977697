/*
 * The fault-injection suite (build/test-faults): scenario files, their
 * strict parser, and the runner that plays one scenario against a real
 * broker, gridcal-plant, gridcal-watchdog and a supervisor. The scenario
 * language is documented in tests/faults/README.md.
 */
#ifndef GRIDCAL_FAULTS_H
#define GRIDCAL_FAULTS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SC_TOK_MAX	256	/* bytes per token, NUL included */
#define SC_ARGS_MAX	12	/* tokens per line */
#define SC_STEPS_MAX	32
#define SC_EXPECT_MAX	32
#define SC_PROFILE_MAX	24
#define SC_PLANT_MAX	16	/* faults added to the plant scenario */
#define SC_HAZARDS_MAX	8
#define SC_NAME_MAX	48
#define SC_EXPECTED_MAX	48	/* the table's column */

/* One tokenised line of a scenario file. */
struct sc_cmd {
	int	lineno;
	int	argc;
	char	argv[SC_ARGS_MAX][SC_TOK_MAX];
};

enum sc_sup { SUP_REAL, SUP_HOSTILE, SUP_FAKESUP };

enum sc_ratio { RATIO_NONE, RATIO_HEARTBEAT, RATIO_REVERT, RATIO_SET_CONFIRM };

struct scenario {
	char		path[PATH_MAX];
	char		name[SC_NAME_MAX];
	char		title[SC_TOK_MAX];	/* what is injected */
	char		expected[SC_TOK_MAX];	/* the outcome, in words */
	char		hazards[SC_HAZARDS_MAX][16];
	int		nhazards;

	char		plant[SC_TOK_MAX];	/* base plant scenario */
	char		plant_text[SC_PLANT_MAX][SC_TOK_MAX];
	int		nplant_text;
	double		plant_speed;		/* 0: harness default */

	char		prof_key[SC_PROFILE_MAX][SC_TOK_MAX];
	char		prof_val[SC_PROFILE_MAX][SC_TOK_MAX];
	int		nprof;

	enum sc_sup	sup;
	char		sup_arg[SC_TOK_MAX];	/* hostile.conf / fakesup args */

	/* set-up needing root */
	int64_t		tmpfs_kb;		/* state+audit on a tmpfs */
	bool		audit_dir_ro;		/* audit log dir read-only */
	bool		bad_sup_cred;		/* supervisor's password wrong */
	bool		wd_fsize_set;		/* watchdogs start with ... */
	int64_t		wd_fsize;		/* ... this RLIMIT_FSIZE */
	int64_t		wd_slowsync_ms;		/* fdatasync this much slower */
	bool		need_root;

	enum sc_ratio	ratio;
	char		must_fail[SC_TOK_MAX];	/* self-test: the reason */

	struct sc_cmd	steps[SC_STEPS_MAX];
	int		nsteps;
	struct sc_cmd	expects[SC_EXPECT_MAX];
	int		nexpects;
};

/* Parses path strictly; -1 with "file:line: reason" in err. */
int	scenario_load(const char *path, struct scenario *, char *err,
	    size_t errsz);

/* The result of one run, as the runner's child reports it to the parent. */
enum sc_verdict { V_PASS, V_FAIL, V_SKIP };

struct sc_result {
	enum sc_verdict	verdict;
	char		observed[160];
	int64_t		ttsafe_ms;	/* -1: no fault, or never unsafe */
	double		ratio;		/* ttsafe / reference timeout, or 0 */
	char		ratio_ref[24];	/* "hb 1.0 s" */
	char		why[400];	/* first failure, or skip reason */
	int64_t		wall_ms;
};

/*
 * Runs one scenario; detailed progress goes to the FILE. Always fills res.
 * Must run in a process of its own (the harness registers cleanup at
 * exit, and a scenario leaves mounts and processes to that cleanup).
 */
void	scenario_run(const struct scenario *, FILE *log, struct sc_result *res);

#endif
