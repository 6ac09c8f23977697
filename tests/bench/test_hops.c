/*
 * check-bench-hops: the bench's decomposition of an abort (hops.c) on
 * hand-made shim files, so that what it says of a slow trip stays true:
 * each hop from the right pair of stamps, the repeat that was read, and
 * the verdict of the largest hop. No timing is measured here.
 */
#include <err.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "hops.h"

static int failed;
static char dir[] = "/tmp/gridcal-test-hops-XXXXXX";
static char sup[64], wd[64];
/* the supervisor's run delay at R, as the bench reads it (at P: 1000) */
static long long sup_delay1 = 1200;

#define MS	1000000LL	/* ns */
#define T0	(1000000LL * MS)

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0)
		err(1, "%s", path);
}

static void
expect(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "FAIL: %s\n", what);
		failed++;
	}
}

static bool
near(double a, double b)
{
	return fabs(a - b) < 1e-6;
}

/* One trip from its two files; the probe published at T0 (+100 ms per
 * repeat) and got the revert at got. */
static void
trip(const char *s, const char *w, int npub, long long got,
    struct trip_hops *h)
{
	static const char *const vals[] = { "3.610", "3.611", "3.612" };
	struct trip_ctx c = { .seq = 7, .npub = npub, .got_ns = got,
	    .sup_delay0 = 1000, .wd_delay0 = 2000, .sup_delay1 = sup_delay1,
	    .wd_delay1 = 2500 };

	for (int i = 0; i < npub; i++) {
		c.pub_ns[i] = T0 + i * 100 * MS;
		c.values[i] = vals[i];
	}
	write_file(sup, s);
	write_file(wd, w);
	if (hops_read(sup, wd, &c, h) == -1)
		memset(h, 0, sizeof(*h));
}

static char *
fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

static char *
fmt(const char *f, ...)
{
	static char buf[8][1024];
	static int k;
	va_list ap;
	char *b = buf[k++ % 8];

	va_start(ap, f);
	(void)vsnprintf(b, sizeof(buf[0]), f, ap);
	va_end(ap);
	return b;
}

int
main(void)
{
	struct trip_hops h;

	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp");
	(void)snprintf(sup, sizeof(sup), "%s/sup", dir);
	(void)snprintf(wd, sizeof(wd), "%s/wd", dir);

	/* a quiet trip: every hop from its own pair of stamps; an earlier
	 * request (the charger's calibration) and heartbeats ignored */
	trip(fmt("hs %lld\nss %lld 2 2\n"
	    "sr %lld %lld 3.610\nss %lld 1 1\n",
	    T0 - 50 * MS, T0 - 40 * MS, T0 + 2 * MS, T0 + 1 * MS,
	    T0 + 3 * MS),
	    fmt("wr %lld 0 2 2\nwp %lld\nwt %lld 0 3.610\n"
	    "wr %lld %lld 1 1\nfs %lld %lld\nwp %lld\n",
	    T0 - 39 * MS, T0 - 38 * MS, T0 + 1 * MS, T0 + 4 * MS,
	    T0 + 3 * MS, T0 + 4 * MS, T0 + 4 * MS + 500000, T0 + 6 * MS),
	    1, T0 + 7 * MS, &h);
	expect(h.complete, "quiet: traced");
	expect(h.which == 0, "quiet: the first publish read");
	expect(near(h.hop_ms[HOP_UNDELIVERED], 0), "quiet: nothing lost");
	expect(near(h.hop_ms[HOP_BROKER_IN], 1), "quiet: in = wake - P");
	expect(near(h.hop_ms[HOP_SUP_QUEUE], 1), "quiet: queue = sr - wake");
	expect(near(h.hop_ms[HOP_SUP], 1), "quiet: judge = ss - sr");
	expect(near(h.hop_ms[HOP_TO_WD], 1), "quiet: to-wd = wr - ss");
	expect(near(h.hop_ms[HOP_WD], 2), "quiet: wd = wp - wr");
	expect(near(h.hop_ms[HOP_BROKER_OUT], 1), "quiet: out = R - wp");
	expect(near(h.fsync_ms, 0.5), "quiet: fsync between request, publish");
	expect(near(h.wd_trip_ms, 1), "quiet: the watchdog's own read");
	expect(near(h.sup_delay_ms, 0.0002), "quiet: supervisor run delay");
	expect(strncmp(h.why, "watchdog", 8) == 0,
	    fmt("quiet: verdict on the watchdog's hop: %s", h.why));

	/* the shim's own time between two stamps of one process is taken
	 * out of that hop and reported */
	trip(fmt("sr %lld %lld 3.610 1000\nss %lld 1 1 301000\n",
	    T0 + 2 * MS, T0 + 1 * MS, T0 + 3 * MS),
	    fmt("wr %lld %lld 1 1 5000\nwp %lld 205000\n",
	    T0 + 4 * MS, T0 + 3 * MS, T0 + 6 * MS), 1, T0 + 7 * MS, &h);
	expect(near(h.hop_ms[HOP_SUP], 0.7), "own: judge less the shim's");
	expect(near(h.hop_ms[HOP_WD], 1.8), "own: act less the shim's");
	expect(near(h.shim_ms, 0.5), "own: the shim's time reported");
	expect(near(h.total_ms, 7), "own: the total as the probe saw it");

	/* the supervisor read only the third publish: the first two never
	 * reached it */
	trip(fmt("sr %lld %lld 3.612\nss %lld 1 1\n",
	    T0 + 201 * MS, T0 + 200 * MS, T0 + 202 * MS),
	    fmt("wr %lld %lld 1 1\nwp %lld\n", T0 + 203 * MS,
	    T0 + 100 * MS, T0 + 204 * MS), 3, T0 + 205 * MS, &h);
	expect(h.complete, "undelivered: traced");
	expect(h.which == 2, "undelivered: the third publish read");
	expect(near(h.hop_ms[HOP_UNDELIVERED], 200), "undelivered: 200 ms");
	expect(strncmp(h.why, "trip not delivered", 18) == 0,
	    fmt("undelivered: verdict: %s", h.why));

	/* busy since before the publish: all of it is the queue ahead */
	trip(fmt("sr %lld %lld 3.610\nss %lld 1 1\n",
	    T0 + 50 * MS, T0 - 10 * MS, T0 + 51 * MS),
	    fmt("wr %lld 0 1 1\nwp %lld\n", T0 + 52 * MS,
	    T0 + 53 * MS), 1, T0 + 54 * MS, &h);
	expect(near(h.hop_ms[HOP_BROKER_IN], 0), "backlog: no wait in poll");
	expect(near(h.hop_ms[HOP_SUP_QUEUE], 50), "backlog: 50 ms of queue");
	expect(strncmp(h.why, "supervisor backlog", 18) == 0,
	    fmt("backlog: verdict: %s", h.why));

	/* the request waits behind a 40 ms fsync of the watchdog */
	trip(fmt("sr %lld %lld 3.610\nss %lld 1 1\n",
	    T0 + 1 * MS, T0 + 1 * MS, T0 + 2 * MS),
	    fmt("fs %lld %lld 1\nwr %lld %lld 1 1\nwp %lld\n",
	    T0, T0 + 42 * MS, T0 + 42 * MS, T0 - 1 * MS, T0 + 43 * MS), 1,
	    T0 + 44 * MS, &h);
	expect(near(h.hop_ms[HOP_TO_WD], 40), "fsync: 40 ms to the watchdog");
	expect(near(h.fsync_ms, 40), "fsync: 40 ms of it in fsync");
	expect(near(h.fsync_max_ms, 42), "fsync: the longest");
	expect(strncmp(h.why, "watchdog fsync", 14) == 0,
	    fmt("fsync: verdict: %s", h.why));

	/* the same fsync on a syncer thread: it does not hold the loop up,
	 * so it is not the verdict (but still counted within the trip) */
	trip(fmt("sr %lld %lld 3.610\nss %lld 1 1\n",
	    T0 + 1 * MS, T0 + 1 * MS, T0 + 2 * MS),
	    fmt("fs %lld %lld 0\nwr %lld %lld 1 1\nwp %lld\n",
	    T0, T0 + 42 * MS, T0 + 42 * MS, T0 - 1 * MS, T0 + 43 * MS), 1,
	    T0 + 44 * MS, &h);
	expect(near(h.fsync_ms, 0), "syncer: not the loop's");
	expect(near(h.fsync_trip_ms, 42), "syncer: within the trip");
	expect(strncmp(h.why, "watchdog loop", 13) == 0,
	    fmt("syncer: verdict: %s", h.why));

	/* the supervisor woke late, and its run delay covers it */
	sup_delay1 = 30001000;
	trip(fmt("sr %lld %lld 3.610\nss %lld 1 1\n",
	    T0 + 31 * MS, T0 + 30 * MS, T0 + 32 * MS),
	    fmt("wr %lld 0 1 1\nwp %lld\n", T0 + 33 * MS,
	    T0 + 34 * MS), 1, T0 + 35 * MS, &h);
	expect(strncmp(h.why, "scheduling", 10) == 0,
	    fmt("scheduling: verdict: %s", h.why));
	sup_delay1 = 1200;

	/* no revert publish in the files: not traced, never made up */
	trip(fmt("sr %lld 0 3.610\nss %lld 1 1\n", T0 + 1 * MS,
	    T0 + 2 * MS), fmt("wr %lld 0 1 1\n", T0 + 3 * MS), 1,
	    T0 + 5 * MS, &h);
	expect(!h.complete, "incomplete: not traced");

	(void)unlink(sup);
	(void)unlink(wd);
	(void)rmdir(dir);
	if (failed == 0)
		printf("check-bench-hops: all passed\n");
	return failed == 0 ? 0 : 1;
}
