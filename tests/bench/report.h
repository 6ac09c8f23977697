/*
 * What the bench measured, and how it is printed (the table) and kept
 * (build/bench.json). Internal to tests/bench.
 */
#ifndef GRIDCAL_BENCH_REPORT_H
#define GRIDCAL_BENCH_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "bench.h"
#include "hops.h"

struct hbroker;
struct hproc;
struct profile;

struct opts {
	int		 runs;		/* gridcal abort runs */
	int		 hb_runs;	/* heartbeat-loss runs */
	int		 flood_runs;	/* gridcal abort runs under the flood */
	int		 reactor_per_run; /* floor/peer trips per gridcal run */
	int		 flood_window;	/* unacknowledged flood messages */
	double		 plant_speed;	/* 0: the harness default */
	bool		 peer;
	bool		 reactors_only;	/* no gridcal runs (debugging) */
	const char	*scenario;
	const char	*json;
	unsigned	 phases;	/* PH_*: the parts that run */
};

#define PH_ABORT	0x01
#define PH_HB		0x02
#define PH_FULL		0x04
#define PH_FLOOD	0x08
#define PH_COST		0x10
#define PH_AUDIT	0x20
#define PH_ALL		0x3f

/* lines of a failed run's stderr printed in the report */
#define FAIL_TAIL_LINES	8

struct binsize {
	long	file, text, data, bss;
};

struct results {
	/* what ran */
	bool	 gridcal_available, gridcal_gave_up, peer_ran;
	char	 peer_version[32];
	char	 broker_version[64];
	const char *trip_value;
	double	 abort_limit, hb_timeout_ms, hb_interval_ms;
	char	 started[32];		/* UTC */
	double	 wall_s;

	/* 1. abort reaction latency, quiet broker */
	struct samples abort_floor, abort_gc, abort_peer;
	struct samples abort_gc_tmpfs;	/* audit log and state on tmpfs */
	struct samples abort_gc_crowd;	/* floor and peer react too */
	bool probe_rt;			/* the probe runs SCHED_FIFO */
	/* 2. heartbeat loss: overshoot past the timeout; total */
	struct samples hb_over, hb_total;
	struct samples hb_detect;	/* heartbeat_lost age_ms - timeout */
	/* 3. under the flood */
	struct samples flood_floor, flood_gc, flood_peer;
	struct samples hb_gaps_quiet, hb_gaps_flood;	/* as read */
	struct samples hb_sent_quiet, hb_sent_flood;	/* as sent */
	unsigned hb_lost_quiet, hb_lost_flood;
	struct samples fsync_quiet, fsync_flood;	/* the watchdog's, ms */
	struct hopset hops_quiet, hops_flood;	/* each abort's hops */
	double	 flood_rate, flood_msgs;
	struct {
		int	window;
		double	rate, delivered;	/* msg/s; share the floor got */
	} flood_try[5];

	/* 4. cost */
	double	 e2e_rate;		/* flood rate during the CPU window */
	double	 e2e_util[5];		/* supervisor, floor, peer, broker,
					   flooder: share of one core */
	double	 e2e_per_cpu_s[5];	/* messages per CPU second */
	double	 tm_ns[2];		/* ingest, floor: ns per message */
	double	 tm_ir[2];		/* ingest, floor: instructions */
	long	 rss_kb[5];		/* watchdog, supervisor, floor, peer,
					   broker */
	double	 full_cpu_s[2];		/* watchdog, supervisor */
	double	 full_s;
	int	 full_exit;
	struct samples startup;		/* spawn to first heartbeat */
	struct binsize size[3];		/* watchdog, supervisor, floor */

	/* 5. audit */
	struct {
		double	record_bytes, floor_fsync, fsync, nosync, hash, verify;
		double	group;		/* group commit, every record durable */
		double	cli_s;
		unsigned cli_records;
	} audit;

	/* what went wrong or was left out */
	char	 notes[32][256];
	int	 nnotes;
	/* gridcal runs that failed: their whole stderr is kept in a file */
	struct {
		int	 seq, exit;
		unsigned hb_lost;	/* heartbeat_lost records of the run */
		char	 what[64];
		char	 path[256];	/* the kept stderr and audit records */
		char	 tail[FAIL_TAIL_LINES][160];	/* its last lines */
		int	 ntail;
	} fails[8];
	int	 nfails;
};

/* 6. the goals of issue 14: how many missed (0: all met or not run) */
int	report_goals(FILE *);

extern struct opts o;
extern struct results R;

void	note(const char *, ...) __attribute__((format(printf, 1, 2)));
int	kv_num(const char *text, const char *key, double *out);

void	report_begin(void);
void	report_print(FILE *);
int	report_json(const char *path);

/* peer.c: Node-RED with the guard flow, logged in as "watchdog". */
int	peer_start(const struct hbroker *, const struct profile *,
	    const char *workdir, const char *out_topic, struct hproc *);

#endif
