/*
 * Where the time of one gridcal abort went: the trip's hops, each time on
 * CLOCK_MONOTONIC, from the probe and from the shim preloaded into the
 * watchdog and its supervisor (hbshim.c). Internal to tests/bench.
 *
 *   P   the probe publishes the trip (P1.. its repeats, one a telemetry
 *       period, each with its own value so the reader can be told apart)
 *   sr  the supervisor reads the packet of one of them (Pk: which)
 *   ss  the supervisor sends SET_REQUEST everyday
 *   wr  the watchdog receives that frame
 *   wp  the watchdog writes the PUBLISH of the everyday value
 *   R   the probe receives it on the control topic
 *
 * with the run delay (runnable, waiting for a core) of each process over
 * the trip, and the fsyncs of the watchdog overlapping the trip.
 */
#ifndef GRIDCAL_BENCH_HOPS_H
#define GRIDCAL_BENCH_HOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum hop {
	HOP_UNDELIVERED,	/* P .. Pk: publishes the supervisor never read */
	HOP_BROKER_IN,		/* Pk .. its wake: the supervisor sat in poll()
				   (broker, or no core: see the run delay) */
	HOP_SUP_QUEUE,		/* wake .. sr: reading what was queued ahead */
	HOP_SUP,		/* sr .. ss: the supervisor's judgement */
	HOP_TO_WD,		/* ss .. wr: the socketpair and the watchdog */
	HOP_WD,			/* wr .. wp: the watchdog's act */
	HOP_BROKER_OUT,		/* wp .. R: broker to the probe */
	HOP_N
};

extern const char *const hop_name[HOP_N];

struct trip_hops {
	int	 seq;		/* gridcal run */
	bool	 complete;	/* every hop found */
	int	 npub;		/* publishes of the trip */
	int	 which;		/* the one the supervisor read (0 first), -1 */
	double	 total_ms;	/* P .. R, as the latency row has it */
	double	 hop_ms[HOP_N];
	double	 sup_delay_ms;	/* supervisor's run delay over P .. R */
	double	 wd_delay_ms;	/* watchdog's run delay over P .. R */
	double	 sup_busy_ms;	/* sr - its last blocking poll's return */
	double	 wd_busy_ms;	/* wr - its last blocking poll's return */
	double	 fsync_ms;	/* fsync of the watchdog's loop thread
				   within ss .. wp: what holds it up */
	double	 fsync_trip_ms;	/* any watchdog fsync within P .. R */
	double	 fsync_max_ms;	/* the longest fsync overlapping P .. R */
	double	 wd_trip_ms;	/* Pk .. the watchdog's own read of it, -1 */
	double	 shim_ms;	/* the shim's own time taken out of the
				   judge and act hops (in total_ms still) */
	char	 why[160];	/* the verdict: where the time went */
};

struct hopset {
	struct trip_hops *v;
	size_t	 n, cap;
};

/* What the bench knew at the trip. */
struct trip_ctx {
	int	 seq;
	int64_t	 pub_ns[16];
	int	 npub;
	const char *values[16];	/* the value of each publish */
	int64_t	 got_ns;	/* R, 0: no answer */
	long long sup_delay0, wd_delay0;	/* run delays at P, -1 */
	long long sup_delay1, wd_delay1;	/* ... and at R (read by the
						   bench, not the shim) */
};

/* Reads the shim's files of one run into *h; -1 if nothing usable. */
int	hops_read(const char *suptrip, const char *wdtrip,
	    const struct trip_ctx *, struct trip_hops *h);
void	hopset_add(struct hopset *, const struct trip_hops *);
/* The per-hop table and the slowest `worst` trips, each explained. */
void	hops_print(FILE *, const char *title, const struct hopset *,
	    int worst);
void	hops_json(FILE *, const char *key, const struct hopset *);

/* A process's main-thread run delay so far in ns (schedstat), -1. */
long long proc_run_delay_ns(int pid);

#endif
