/*
 * gridcal-bench: the driver of `make bench`. Internal to tests/bench.
 *
 * Every timing is taken in nanoseconds on CLOCK_MONOTONIC, which every
 * process on the machine shares, so a time stamp taken in the probe, in the
 * heartbeat shim inside the watchdog and in the audit log's mono_ms can be
 * compared directly.
 */
#ifndef GRIDCAL_BENCH_H
#define GRIDCAL_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct hbroker;

/* ---- clock ---- */
int64_t	now_ns(void);
void	sleep_ms(int64_t);

/* ---- samples and statistics ---- */

struct samples {
	double	*v;		/* milliseconds */
	size_t	 n, cap;
	unsigned lost;		/* no answer within the deadline */
	unsigned repeats;	/* trip values published again: the first
				   was not acted on within repeat_ms */
	unsigned late;		/* samples that needed a repeat */
};

void	samples_add(struct samples *, double ms);
void	samples_free(struct samples *);

struct stats {
	size_t	n;
	unsigned lost;
	double	min, median, p90, p99, max, mean;
};

/* Nearest-rank percentiles over a sorted copy; n == 0 gives all zeros. */
void	stats_of(const struct samples *, struct stats *);

/* ---- the probe: one publisher and one subscriber connection ---- */

#define PROBE_LATEST	16
#define PROBE_PUBS	16	/* publishes of one trip remembered */

struct probe_latest {
	char	 topic[128];
	char	 payload[256];
	uint64_t count;
	int64_t	 at_ns;
};

struct probe {
	struct mosquitto *pub;		/* writes telemetry */
	struct mosquitto *sub;		/* reads the reactors' outputs */
	bool	 pub_up, sub_up;
	int	 sub_mid;		/* SUBACK awaited */
	bool	 subscribed;
	/* the message one trip waits for */
	char	 want_topic[128];
	char	 want_payload[64];
	int64_t	 got_ns;		/* 0: not yet */
	/* the latest message of every topic seen (first PROBE_LATEST) */
	struct probe_latest latest[PROBE_LATEST];
	int	 nlatest;
	uint64_t received;
	uint64_t trips;		/* trip values published (probe_trip) */
	/* the last trip's publishes: when (before each), how many */
	int64_t	 pub_ns[PROBE_PUBS];
	int	 npub;
	/* if set, the k-th repeat (k >= 1) publishes repeat_vals[k - 1]
	 * (the last one once they run out), so a reader can tell which of
	 * the trip's publishes it got */
	const char *const *repeat_vals;
	int	 nrepeat_vals;
};

/*
 * Connects the publisher as pub_user and the subscriber as "observer",
 * subscribed to the given exact topics or patterns at QoS 1; both with
 * TCP_NODELAY. Returns once both are connected and subscribed.
 */
int	probe_open(struct probe *, const struct hbroker *, const char *pub_user,
	    const char *const *subs, int nsubs, int64_t timeout_ms);
void	probe_close(struct probe *);
/* Runs both connections' I/O for up to timeout_ms (0: what is ready). */
int	probe_pump(struct probe *, int timeout_ms);
/* Publishes payload on topic (QoS 0, like the site's telemetry). */
int	probe_publish(struct probe *, const char *topic, const char *payload);
/*
 * One trip: waits for (want_topic, want_payload) on the subscriber after
 * publishing payload on topic, and publishes it again every repeat_ms (0:
 * never) while no answer has come, counting those in *repeats (may be
 * NULL). The time is taken just before the first publish and in the
 * message callback. Latency in ms, or -1 if nothing came within
 * timeout_ms.
 */
double	probe_trip(struct probe *, const char *topic, const char *payload,
	    const char *want_topic, const char *want_payload,
	    int64_t timeout_ms, int64_t repeat_ms, unsigned *repeats);
/* Latest payload of topic into buf; its message count (0: never seen). */
uint64_t probe_latest(struct probe *, const char *topic, char *buf,
	    size_t bufsz, int64_t *at_ns);

/* ---- process CPU and memory, from /proc ---- */

/* utime + stime of pid in seconds; -1 if gone. */
double	proc_cpu_s(int pid);
/* VmHWM and VmRSS of pid in KiB; -1 if gone. */
long	proc_hwm_kb(int pid);
/* The first child of pid (from /proc/<pid>/task/<pid>/children); 0 none. */
int	proc_first_child(int pid);

/* ---- the heartbeat shim's record (hbshim.c) ---- */

/*
 * Reads the monotonic nanosecond time stamps of the HEARTBEAT frames the
 * watchdog received, as written by libgridcal-hbshim.so, into *out
 * (malloc'd). Returns the count, -1 on error.
 */
long	hb_read(const char *path, int64_t **out);

#endif
