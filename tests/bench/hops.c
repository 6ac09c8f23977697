/*
 * The hops of a gridcal abort (hops.h): read from the shim's files after
 * the run, matched to the probe's trip, summed up per hop, and the slowest
 * trips explained one by one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "hops.h"

const char *const hop_name[HOP_N] = {
	[HOP_UNDELIVERED] = "publishes not read",
	[HOP_BROKER_IN] = "probe -> supervisor wakes",
	[HOP_SUP_QUEUE] = "supervisor reads its queue",
	[HOP_SUP] = "supervisor judges, sends",
	[HOP_TO_WD] = "watchdog reads the request",
	[HOP_WD] = "watchdog acts, publishes",
	[HOP_BROKER_OUT] = "broker -> probe",
};

/* Short column heads of the same, for the worst-trip lines. */
static const char *const hop_short[HOP_N] = {
	"lost", "in", "queue", "judge", "to-wd", "wd", "out"
};

long long
proc_run_delay_ns(int pid)
{
	char path[64];
	long long run, delay;
	FILE *f;
	int n;

	(void)snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", pid,
	    pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fscanf(f, "%lld %lld", &run, &delay);
	(void)fclose(f);
	return n == 2 ? delay : -1;
}

struct line {
	char	 tag[3];
	long long a, b, c;	/* ns (fs: start, end, main), per tag */
	long long d, e;
	long long own;		/* the shim's own time so far, -1 */
	char	 val[24];
};

/* One line of a shim file by its tag (hbshim.c); 0, or -1 to skip it. */
static int
parse_line(const char *buf, struct line *l)
{
	const char *p = buf + 3;

	memset(l, 0, sizeof(*l));
	l->c = l->d = l->e = l->own = -1;
	if (buf[0] == '\0' || buf[1] == '\0' || buf[2] != ' ')
		return -1;
	l->tag[0] = buf[0];
	l->tag[1] = buf[1];
	if (strcmp(l->tag, "sr") == 0 || strcmp(l->tag, "wt") == 0)
		/* NS WAKE VAL OWN: c wake */
		return sscanf(p, "%lld %lld %23s %lld", &l->a, &l->c, l->val,
		    &l->own) >= 3 ? 0 : -1;
	if (strcmp(l->tag, "ss") == 0)
		/* NS SETTING VALUE OWN: d value */
		return sscanf(p, "%lld %lld %lld %lld", &l->a, &l->c, &l->d,
		    &l->own) >= 3 ? 0 : -1;
	if (strcmp(l->tag, "wr") == 0)
		/* NS WAKE SETTING VALUE OWN: c wake, e value */
		return sscanf(p, "%lld %lld %lld %lld %lld", &l->a, &l->c,
		    &l->d, &l->e, &l->own) >= 4 ? 0 : -1;
	if (strcmp(l->tag, "wp") == 0)
		/* NS OWN */
		return sscanf(p, "%lld %lld", &l->a, &l->own) >= 1 ? 0 : -1;
	if (strcmp(l->tag, "fs") == 0)
		/* START END [MAIN] */
		return sscanf(p, "%lld %lld %lld", &l->a, &l->b, &l->c) >= 2 ?
		    0 : -1;
	if (strcmp(l->tag, "hs") == 0)
		return sscanf(p, "%lld", &l->a) == 1 ? 0 : -1;
	return -1;
}

/* All lines of a shim file (malloc'd), their count, or -1. */
static long
read_lines(const char *path, struct line **out)
{
	char buf[256];
	struct line *v = NULL, *nv;
	long n = 0, cap = 0;
	FILE *f;

	*out = NULL;
	if ((f = fopen(path, "r")) == NULL)
		return errno == ENOENT ? 0 : -1;
	while (fgets(buf, sizeof(buf), f) != NULL) {
		struct line l;

		if (parse_line(buf, &l) == -1)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			if ((nv = reallocarray(v, (size_t)cap, sizeof(*v))) ==
			    NULL) {
				free(v);
				(void)fclose(f);
				return -1;
			}
			v = nv;
		}
		v[n++] = l;
	}
	(void)fclose(f);
	*out = v;
	return n;
}

/* The first line of tag at or after t. */
static const struct line *
first(const struct line *v, long n, const char *tag, long long t)
{
	for (long i = 0; i < n; i++)
		if (strcmp(v[i].tag, tag) == 0 && v[i].a >= t)
			return &v[i];
	return NULL;
}

static double
ms(long long a, long long b)
{
	return (double)(b - a) / 1e6;
}

/* fsync time (ms) of the watchdog within [t0, t1]; the longest one. */
static double
fsync_within(const struct line *v, long n, long long t0, long long t1,
    bool loop_only, double *longest)
{
	double sum = 0;

	for (long i = 0; i < n; i++) {
		long long a, b;

		/* c: 1 the loop's thread, 0 a syncer's (never blocks the
		 * loop), -1 an older shim that did not say (the loop's) */
		if (strcmp(v[i].tag, "fs") != 0 || v[i].b < t0 || v[i].a > t1 ||
		    (loop_only && v[i].c == 0))
			continue;
		a = v[i].a > t0 ? v[i].a : t0;
		b = v[i].b < t1 ? v[i].b : t1;
		sum += ms(a, b);
		if (longest != NULL && ms(v[i].a, v[i].b) > *longest)
			*longest = ms(v[i].a, v[i].b);
	}
	return sum;
}

/* The verdict: the largest hop, and what the side readings say of it. */
static void
explain(struct trip_hops *h)
{
	int big = 0;
	double t;

	for (int i = 1; i < HOP_N; i++)
		if (h->hop_ms[i] > h->hop_ms[big])
			big = i;
	t = h->hop_ms[big];
	switch (big) {
	case HOP_UNDELIVERED:
		(void)snprintf(h->why, sizeof(h->why), "trip not delivered: "
		    "the supervisor read publish %d of %d; the earlier ones "
		    "never reached it (broker dropped them?)", h->which + 1,
		    h->npub);
		break;
	case HOP_BROKER_IN:
		if (h->sup_delay_ms >= t / 2)
			(void)snprintf(h->why, sizeof(h->why), "scheduling: "
			    "the supervisor waited %.1f ms for a core",
			    h->sup_delay_ms);
		else
			(void)snprintf(h->why, sizeof(h->why), "broker: the "
			    "supervisor sat in poll() %.1f ms after the "
			    "publish", t);
		break;
	case HOP_SUP_QUEUE:
		(void)snprintf(h->why, sizeof(h->why), "supervisor backlog: "
		    "reading ahead of the trip for %.1f ms (run delay %.1f ms)",
		    t, h->sup_delay_ms);
		break;
	case HOP_SUP:
		(void)snprintf(h->why, sizeof(h->why), "supervisor: %.1f ms "
		    "from reading the trip to the request (run delay %.1f ms)",
		    t, h->sup_delay_ms);
		break;
	case HOP_TO_WD:
	case HOP_WD:
		if (h->fsync_ms >= t / 2)
			(void)snprintf(h->why, sizeof(h->why), "watchdog "
			    "fsync: %.1f ms of fsync between the request and "
			    "the publish (longest %.1f ms)", h->fsync_ms,
			    h->fsync_max_ms);
		else if (h->wd_delay_ms >= t / 2)
			(void)snprintf(h->why, sizeof(h->why), "scheduling: "
			    "the watchdog waited %.1f ms for a core",
			    h->wd_delay_ms);
		else
			(void)snprintf(h->why, sizeof(h->why), "watchdog "
			    "loop: %.1f ms (%s), not fsync (%.1f ms) nor run "
			    "delay (%.1f ms)", t, big == HOP_TO_WD ?
			    "before reading the request" : "request to publish",
			    h->fsync_ms, h->wd_delay_ms);
		break;
	default:
		(void)snprintf(h->why, sizeof(h->why), "broker: %.1f ms from "
		    "the watchdog's write to the probe", t);
		break;
	}
}

int
hops_read(const char *suptrip, const char *wdtrip, const struct trip_ctx *c,
    struct trip_hops *h)
{
	struct line *sv = NULL, *wv = NULL;
	long ns = read_lines(suptrip, &sv), nw = read_lines(wdtrip, &wv);
	const struct line *sr, *ss = NULL, *wr = NULL, *wp = NULL;
	long long P, Pk, R, wake;
	int rc = -1;

	memset(h, 0, sizeof(*h));
	h->seq = c->seq;
	h->which = -1;
	h->npub = c->npub;
	if (ns <= 0 || nw < 0 || c->npub == 0) {
		if (getenv("GRIDCAL_BENCH_DEBUG") != NULL)
			fprintf(stderr, "hops %d: %ld %ld lines, %d publishes\n",
			    c->seq, ns, nw, c->npub);
		goto out;
	}
	P = c->pub_ns[0];
	R = c->got_ns;
	h->total_ms = R > 0 ? ms(P, R) : -1;
	if ((sr = first(sv, ns, "sr", P)) == NULL)
		goto out;
	/* which publish it read: the latest one before sr with its value */
	for (int i = c->npub - 1; i >= 0; i--)
		if (c->pub_ns[i] <= sr->a && c->values[i] != NULL &&
		    strcmp(c->values[i], sr->val) == 0) {
			h->which = i;
			break;
		}
	Pk = h->which >= 0 ? c->pub_ns[h->which] : P;
	for (long i = 0; i < ns && ss == NULL; i++)
		if (strcmp(sv[i].tag, "ss") == 0 && sv[i].a >= sr->a &&
		    sv[i].d == 1)	/* value everyday */
			ss = &sv[i];
	for (long i = 0; ss != NULL && i < nw && wr == NULL; i++)
		if (strcmp(wv[i].tag, "wr") == 0 && wv[i].a >= ss->a &&
		    wv[i].e == 1)
			wr = &wv[i];
	if (wr != NULL)
		wp = first(wv, nw, "wp", wr->a);
	if (ss == NULL || wr == NULL || wp == NULL || R <= 0 || wp->a > R) {
		if (getenv("GRIDCAL_BENCH_DEBUG") != NULL)
			fprintf(stderr, "hops %d: P %lld R %lld sr %lld ss %p "
			    "wr %p wp %p\n", c->seq, P, R, sr->a, (const void *)ss,
			    (const void *)wr, (const void *)wp);
		goto out;
	}
	wake = sr->c;
	if (wake < Pk)
		wake = Pk;	/* awake since before: all of it is queue */
	if (wake > sr->a)
		wake = sr->a;
	h->hop_ms[HOP_UNDELIVERED] = ms(P, Pk);
	h->hop_ms[HOP_BROKER_IN] = ms(Pk, wake);
	h->hop_ms[HOP_SUP_QUEUE] = ms(wake, sr->a);
	h->hop_ms[HOP_SUP] = ms(sr->a, ss->a);
	h->hop_ms[HOP_TO_WD] = ms(ss->a, wr->a);
	h->hop_ms[HOP_WD] = ms(wr->a, wp->a);
	/* the shim's own time within one process's hop is not the
	 * process's: taken out, and reported */
	h->shim_ms = 0;
	if (sr->own >= 0 && ss->own >= sr->own) {
		h->hop_ms[HOP_SUP] -= ms(sr->own, ss->own);
		h->shim_ms += ms(sr->own, ss->own);
	}
	if (wr->own >= 0 && wp->own >= wr->own) {
		h->hop_ms[HOP_WD] -= ms(wr->own, wp->own);
		h->shim_ms += ms(wr->own, wp->own);
	}
	h->hop_ms[HOP_BROKER_OUT] = ms(wp->a, R);
	h->sup_delay_ms = c->sup_delay0 >= 0 && c->sup_delay1 >= 0 ?
	    ms(c->sup_delay0, c->sup_delay1) : -1;
	h->wd_delay_ms = c->wd_delay0 >= 0 && c->wd_delay1 >= 0 ?
	    ms(c->wd_delay0, c->wd_delay1) : -1;
	h->sup_busy_ms = sr->c > 0 ? ms(sr->c, sr->a) : -1;
	h->wd_busy_ms = wr->c > 0 ? ms(wr->c, wr->a) : -1;
	/* the watchdog's own read of the same publish (its envelope) */
	h->wd_trip_ms = -1;
	for (long i = 0; i < nw; i++)
		if (strcmp(wv[i].tag, "wt") == 0 && wv[i].a >= Pk &&
		    strcmp(wv[i].val, sr->val) == 0) {
			h->wd_trip_ms = ms(Pk, wv[i].a);
			break;
		}
	h->fsync_max_ms = 0;
	/* any thread's within the trip; the loop's between request and
	 * publish: only those hold the revert up */
	h->fsync_trip_ms = fsync_within(wv, nw, P, R, false, &h->fsync_max_ms);
	h->fsync_ms = fsync_within(wv, nw, ss->a, wp->a, true, NULL);
	h->complete = true;
	explain(h);
	rc = 0;
out:
	free(sv);
	free(wv);
	return rc;
}

void
hopset_add(struct hopset *s, const struct trip_hops *h)
{
	if (s->n == s->cap) {
		size_t cap = s->cap == 0 ? 64 : s->cap * 2;
		struct trip_hops *v = reallocarray(s->v, cap, sizeof(*v));

		if (v == NULL)
			abort();
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = *h;
}

static int
by_total_desc(const void *a, const void *b)
{
	const struct trip_hops *x = a, *y = b;

	return (x->total_ms < y->total_ms) - (x->total_ms > y->total_ms);
}

static void
row(FILE *f, const char *name, const struct samples *s)
{
	struct stats st;

	stats_of(s, &st);
	fprintf(f, "    %-30s %5zu %8.3f %8.3f %8.3f %8.3f\n", name, st.n,
	    st.median, st.p90, st.p99, st.max);
}

void
hops_print(FILE *f, const char *title, const struct hopset *s, int worst)
{
	struct samples col[HOP_N + 7];
	struct trip_hops *v;
	size_t complete = 0;

	if (s->n == 0)
		return;
	memset(col, 0, sizeof(col));
	for (size_t i = 0; i < s->n; i++) {
		const struct trip_hops *h = &s->v[i];

		if (!h->complete)
			continue;
		complete++;
		for (int k = 0; k < HOP_N; k++)
			samples_add(&col[k], h->hop_ms[k]);
		if (h->sup_delay_ms >= 0)
			samples_add(&col[HOP_N], h->sup_delay_ms);
		if (h->wd_delay_ms >= 0)
			samples_add(&col[HOP_N + 1], h->wd_delay_ms);
		samples_add(&col[HOP_N + 2], h->fsync_trip_ms);
		samples_add(&col[HOP_N + 3], h->fsync_ms);
		samples_add(&col[HOP_N + 6], h->shim_ms);
		if (h->wd_trip_ms >= 0) {
			samples_add(&col[HOP_N + 4], h->wd_trip_ms);
			samples_add(&col[HOP_N + 5], h->hop_ms[HOP_BROKER_IN] +
			    h->hop_ms[HOP_SUP_QUEUE]);
		}
	}
	fprintf(f, "   %s: where the time went, %zu of %zu trips traced "
	    "(CLOCK_MONOTONIC)\n", title, complete, s->n);
	if (complete == 0)
		return;
	fprintf(f, "    %-30s %5s %8s %8s %8s %8s\n", "hop (ms)", "n",
	    "median", "p90", "p99", "max");
	for (int k = 0; k < HOP_N; k++)
		row(f, hop_name[k], &col[k]);
	row(f, "run delay, supervisor", &col[HOP_N]);
	row(f, "run delay, watchdog", &col[HOP_N + 1]);
	row(f, "watchdog fsync within the trip", &col[HOP_N + 2]);
	row(f, "... in the loop, req->publish", &col[HOP_N + 3]);
	/* the broker hands the trip to each subscriber in turn: the
	 * watchdog (its envelope) too, and the two share the cores */
	row(f, "trip read by the watchdog too", &col[HOP_N + 4]);
	row(f, "... and by the supervisor", &col[HOP_N + 5]);
	/* in the latency rows, not in the hops above */
	row(f, "shim bookkeeping (taken out)", &col[HOP_N + 6]);
	for (int k = 0; k < HOP_N + 7; k++)
		samples_free(&col[k]);
	if ((v = malloc(s->n * sizeof(*v))) == NULL)
		return;
	memcpy(v, s->v, s->n * sizeof(*v));
	qsort(v, s->n, sizeof(*v), by_total_desc);
	fprintf(f, "    slowest trips (ms):");
	for (int k = 0; k < HOP_N; k++)
		fprintf(f, " %s", hop_short[k]);
	fputc('\n', f);
	for (size_t i = 0, shown = 0; i < s->n && (int)shown < worst; i++) {
		const struct trip_hops *h = &v[i];

		if (!h->complete)
			continue;
		shown++;
		fprintf(f, "    run %d: %.3f =", h->seq, h->total_ms);
		for (int k = 0; k < HOP_N; k++)
			fprintf(f, " %.3f", h->hop_ms[k]);
		fprintf(f, "; run delay sup %.1f wd %.1f; fsync %.1f "
		    "(longest %.1f); read %d/%d; at the watchdog %.3f\n",
		    h->sup_delay_ms, h->wd_delay_ms, h->fsync_trip_ms,
		    h->fsync_max_ms, h->which + 1, h->npub, h->wd_trip_ms);
		fprintf(f, "      -> %s\n", h->why);
	}
	for (size_t i = 0; i < s->n; i++)
		if (!s->v[i].complete)
			fprintf(f, "    run %d: %.3f ms, not traced (a hop "
			    "missing in the shim's files)\n", s->v[i].seq,
			    s->v[i].total_ms);
	free(v);
}

void
hops_json(FILE *f, const char *key, const struct hopset *s)
{
	fprintf(f, "  \"%s\": [", key);
	for (size_t i = 0; i < s->n; i++) {
		const struct trip_hops *h = &s->v[i];

		fprintf(f, "%s\n    {\"run\": %d, \"complete\": %s, "
		    "\"total_ms\": %.4f, \"publishes\": %d, \"read\": %d, "
		    "\"hops_ms\": [", i > 0 ? "," : "", h->seq,
		    h->complete ? "true" : "false", h->total_ms, h->npub,
		    h->which + 1);
		for (int k = 0; k < HOP_N; k++)
			fprintf(f, "%s%.4f", k > 0 ? ", " : "", h->hop_ms[k]);
		fprintf(f, "], \"run_delay_sup_ms\": %.4f, "
		    "\"run_delay_wd_ms\": %.4f, \"fsync_trip_ms\": %.4f, "
		    "\"fsync_max_ms\": %.4f, "
		    "\"watchdog_read_trip_ms\": %.4f, \"shim_ms\": %.4f}",
		    h->sup_delay_ms, h->wd_delay_ms, h->fsync_trip_ms,
		    h->fsync_max_ms, h->wd_trip_ms, h->shim_ms);
	}
	fprintf(f, "%s],\n", s->n > 0 ? "\n  " : "");
}
