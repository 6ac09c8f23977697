/*
 * Follows the plant's truth for the whole scenario, in a thread of its
 * own: every plant/status message is classified (every unit everyday,
 * every unit in calibration, anything else) and each change of class is
 * kept with the observer's arrival time. Time-to-safe is then read off this
 * history, whenever the runner's own waits happened to look.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "run.h"

#define TRACK_POLL_MS	2

static char	track_buf[RUN_FINAL_MAX];

static void
nap(void)
{
	struct timespec ts = { 0, TRACK_POLL_MS * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void *
track_main(void *arg)
{
	struct run *r = arg;
	struct tracker *t = &r->track;
	uint64_t seen = 0, n;
	int64_t a, b;
	int cls;

	while (!t->stop) {
		n = hobs_count(r->obs, HPLANT_STATUS_TOPIC);
		if (n == seen) {
			nap();
			continue;
		}
		seen = n;
		do {
			a = hobs_last_at(r->obs, HPLANT_STATUS_TOPIC);
			(void)hobs_latest(r->obs, HPLANT_STATUS_TOPIC, track_buf,
			    sizeof(track_buf));
			b = hobs_last_at(r->obs, HPLANT_STATUS_TOPIC);
		} while (a != b);
		cls = truth_everyday(r, track_buf) ? TRUTH_EVERYDAY :
		    truth_calibrating(r, track_buf) ? TRUTH_CALIBRATING :
		    TRUTH_OTHER;
		(void)pthread_mutex_lock(&t->lock);
		if (t->n == 0 || t->ev[t->n - 1].cls != cls) {
			if (t->n < TRACK_MAX) {
				t->ev[t->n].at_ms = b;
				t->ev[t->n].cls = cls;
				t->n++;
			} else
				t->overflow = true;
		}
		t->statuses++;
		(void)pthread_mutex_unlock(&t->lock);
	}
	return NULL;
}

int
tracker_start(struct run *r)
{
	(void)pthread_mutex_init(&r->track.lock, NULL);
	r->track.stop = 0;
	if (pthread_create(&r->track.thread, NULL, track_main, r) != 0) {
		run_fail(r, "tracker thread");
		return -1;
	}
	r->track.running = true;
	return 0;
}

void
tracker_stop(struct run *r)
{
	if (!r->track.running)
		return;
	r->track.stop = 1;
	(void)pthread_join(r->track.thread, NULL);
	r->track.running = false;
}

/*
 * The first arrival at or after since of a truth with every unit
 * everyday, following one that was not; -1 if the plant was everyday at
 * since and stayed so (never unsafe), or never got back.
 */
int64_t
tracker_safe_at(struct run *r, int64_t since, bool *never_unsafe)
{
	struct tracker *t = &r->track;
	int64_t at = -1;
	int before = TRUTH_OTHER;
	bool unsafe_seen = false;

	(void)pthread_mutex_lock(&t->lock);
	for (int i = 0; i < t->n; i++) {
		if (t->ev[i].at_ms <= since) {
			before = t->ev[i].cls;
			continue;
		}
		if (t->ev[i].cls != TRUTH_EVERYDAY) {
			unsafe_seen = true;
			continue;
		}
		if (before != TRUTH_EVERYDAY || unsafe_seen) {
			at = t->ev[i].at_ms;
			break;
		}
	}
	(void)pthread_mutex_unlock(&t->lock);
	*never_unsafe = at == -1 && before == TRUTH_EVERYDAY && !unsafe_seen;
	return at;
}

/* The first truth after since that is not everyday; -1 if none. */
int64_t
tracker_unsafe_after(struct run *r, int64_t since)
{
	struct tracker *t = &r->track;
	int64_t at = -1;

	(void)pthread_mutex_lock(&t->lock);
	for (int i = 0; i < t->n; i++)
		if (t->ev[i].at_ms > since && t->ev[i].cls != TRUTH_EVERYDAY) {
			at = t->ev[i].at_ms;
			break;
		}
	(void)pthread_mutex_unlock(&t->lock);
	return at;
}

/* When the plant first left everyday settings; -1 if it never did. */
int64_t
tracker_unsafe_since(struct run *r)
{
	struct tracker *t = &r->track;
	int64_t at = -1;

	(void)pthread_mutex_lock(&t->lock);
	for (int i = 0; i < t->n; i++)
		if (t->ev[i].cls != TRUTH_EVERYDAY) {
			at = t->ev[i].at_ms;
			break;
		}
	(void)pthread_mutex_unlock(&t->lock);
	return at;
}

/* Total time the plant spent out of everyday settings, in ms. */
int64_t
tracker_unsafe_ms(struct run *r, int64_t end)
{
	struct tracker *t = &r->track;
	int64_t total = 0;

	(void)pthread_mutex_lock(&t->lock);
	for (int i = 0; i < t->n; i++) {
		int64_t until = i + 1 < t->n ? t->ev[i + 1].at_ms : end;

		if (t->ev[i].cls != TRUTH_EVERYDAY && until > t->ev[i].at_ms)
			total += until - t->ev[i].at_ms;
	}
	(void)pthread_mutex_unlock(&t->lock);
	return total;
}

void
tracker_log(struct run *r)
{
	static const char *const names[] = { "everyday", "calibration",
	    "mixed" };
	struct tracker *t = &r->track;

	(void)pthread_mutex_lock(&t->lock);
	run_log(r, "plant truth: %llu statuses, %d changes%s",
	    (unsigned long long)t->statuses, t->n,
	    t->overflow ? " (history full)" : "");
	for (int i = 0; i < t->n; i++)
		fprintf(r->log, "    %+9.3f s  %s\n",
		    (double)(t->ev[i].at_ms - r->t0) / 1000.0,
		    names[t->ev[i].cls]);
	(void)pthread_mutex_unlock(&t->lock);
}
