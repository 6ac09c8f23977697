/* Internal to the fault runner (tests/faults). */
#ifndef GRIDCAL_FAULTS_RUN_H
#define GRIDCAL_FAULTS_RUN_H

#include <sys/types.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "faults.h"
#include "harness.h"
#include "profile.h"

#define RUN_WATCHDOGS		2
#define RUN_MOUNTS_MAX		4
#define RUN_OVERRIDES_MAX	(SC_PROFILE_MAX + 8)
#define RUN_FINAL_MAX		32768

#define TRACK_MAX		512
enum { TRUTH_EVERYDAY, TRUTH_CALIBRATING, TRUTH_OTHER };

/* Changes of the plant's truth class, with their arrival times. */
struct tracker {
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	volatile int	 stop;
	bool		 running, overflow;
	uint64_t	 statuses;
	int		 n;
	struct { int64_t at_ms; int cls; } ev[TRACK_MAX];
};

struct wdproc {
	char		name[16];	/* "watchdog", "watchdog2" */
	bool		started;
	struct hproc	p;
	pid_t		sup;		/* its supervisor, last seen */
};

struct run {
	const struct scenario	*sc;
	FILE			*log;
	struct sc_result	*res;
	int64_t			 t0;
	bool			 failed, skipped;

	char		wd[PATH_MAX];
	char		prof[PATH_MAX];
	char		plant_scen[PATH_MAX];
	char		state_dir[PATH_MAX];
	char		audit_log[PATH_MAX];
	char		vol[PATH_MAX];
	char		mounts[RUN_MOUNTS_MAX][PATH_MAX];
	int		nmounts;

	char		ovk[RUN_OVERRIDES_MAX][SC_TOK_MAX];
	char		ovv[RUN_OVERRIDES_MAX][PATH_MAX];
	int		nov;

	struct hbroker	br;
	struct hobs	*obs;
	struct hproc	plant;
	bool		plant_up;
	struct profile	pf;
	struct wdproc	wd_[RUN_WATCHDOGS];
	pid_t		strays[8];	/* supervisors seen, for the end */
	int		nstrays;

	struct tracker	track;
	int64_t		t_fault;	/* last "fault" step or mark, 0 if none */
	int64_t		ttsafe;		/* -1 until measured */
	bool		never_unsafe;	/* everyday at the fault and after */
	size_t		ctl_count;	/* messages on solar/control/# */
	char		final[RUN_FINAL_MAX];
	bool		have_final;
};

void	run_log(struct run *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	run_fail(struct run *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	plant_start(struct run *);
int	run_path(struct run *, char *, size_t, const char *, const char *);

/* tracker.c */
int	tracker_start(struct run *);
void	tracker_stop(struct run *);
int64_t	tracker_safe_at(struct run *, int64_t since, bool *never_unsafe);
/* The ratio directive's timeout in ms (0: none), *what "hb", "rc", "sc". */
int64_t	run_ratio_ref_ms(const struct run *, const char **what);
int64_t	tracker_unsafe_ms(struct run *, int64_t end);
int64_t	tracker_unsafe_since(struct run *);
int64_t	tracker_unsafe_after(struct run *, int64_t since);
void	tracker_log(struct run *);

/* steps.c */
void	run_steps(struct run *);
void	kill_children(struct run *, pid_t parent, int sig);
void	reap_strays(struct run *);

/* check.c */
void	run_expectations(struct run *);
/* Both units in everyday settings per a truth JSON (NULL: the final). */
bool	truth_everyday(struct run *, const char *json);
bool	truth_calibrating(struct run *, const char *json);
bool	final_everyday(struct run *, char *why, size_t whysz);
/* A record with event and every key=value (fnmatch patterns) exists. */
int	audit_has(struct run *, const char *event, char *const kv[], int nkv);
/* Its mono_ms (the watchdog's CLOCK_MONOTONIC); -1 if there is none. */
int	audit_first_mono(struct run *, const char *event, char *const kv[],
	    int nkv, int64_t *mono);
void	audit_revert_reasons(struct run *, char *buf, size_t bufsz);
void	audit_child_status(struct run *, char *buf, size_t bufsz);
int	compare(const char *json, const char *path, const char *op,
	    const char *value, char *got, size_t gotsz);
bool	file_contains(const char *path, const char *text);

#endif
