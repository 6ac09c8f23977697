/*
 * gridcal-audit due: is a calibration due, and why.
 *
 * Two reasons, either suffices:
 *   - the calendar: cadence.days (profile) have passed since the last
 *     successful calibration in the audit log, or there is none, by
 *     exactly report's rule (report_last_success): the watchdog's own
 *     outcome "pass", backed by its own records of the run, where the
 *     hash chain covers it; the supervisor's "report" is a claim and
 *     never makes a PASS;
 *   - with --live, the drift signature on the bank now: the supervisor's
 *     own pre-flight classification (supervisor/preflight.c, linked in,
 *     not copied) on a fresh complete snapshot says "drift" (pack voltages
 *     agree, the SoC spread is over limits.preflight.drift_soc_spread_pct).
 * A live "imbalance" or "unsafe" overrides: do not calibrate now.
 *
 * The answer is the exit status, for a timer (gridcal-due.timer runs a
 * solar-only attempt on 0; systemd's ExecCondition skips on 1..254):
 *   0 due, 1 not due, 2 due or not, do not calibrate now (live: unsafe or
 *   imbalance), 3 cannot tell (the log is not intact), 64.. errors.
 *
 * --publish puts the answer, retained, on the "due" topic for Home
 * Assistant with a report-only broker user (--cred): it may read
 * telemetry and write that topic, nothing else (the shipped ACL).
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "preflight.h"
#include "sessionpf.h"
#include "snapshot.h"
#include "telemetry.h"

#define DUE_YES		0
#define DUE_NO		1
#define DUE_HOLD	2
#define DUE_UNKNOWN	3

/* ---- the live snapshot ---- */

struct live {
	struct tm_store	 tm;
	struct session	*ses;
	struct snapshot	 snap;
	struct preflight pre;
	int		 have;
	char		 why[256];
};

static int
live_open(const struct opts *o, const struct profile *pf, struct live *l)
{
	struct session_params sp;
	char err[SESSION_ERR_MAX];

	if (tm_init(&l->tm, pf) == -1) {
		warnx("%s: a telemetry topic template does not expand",
		    pf->path);
		return -1;
	}
	session_params_init(&sp, pf, o->cred, "gridcal-due");
	sp.on_message = session_store_message;
	sp.arg = &l->tm;
	if ((l->ses = session_new(&sp, err, sizeof(err))) == NULL) {
		warnx("broker session: %s", err);
		return -1;
	}
	if (session_subscribe_store(l->ses, &l->tm, ~0u, ~0u) == -1) {
		warnx("subscribe: %s", session_error(l->ses));
		return -1;
	}
	return 0;
}

/* Bounded by timing.preflight_wait_s, like the supervisor's check. */
static int
live_classify(const struct profile *pf, struct live *l)
{
	int64_t now = mono_ms(), deadline = now + pf->timing.preflight_wait_ms;
	struct pollfd pfd;
	int t;

	(void)strlcpy(l->why, "no telemetry yet", sizeof(l->why));
	while (now < deadline) {
		session_pollfd(l->ses, &pfd);
		pfd.revents = 0;
		t = session_next_ms(l->ses, now);
		if (t > deadline - now)
			t = (int)(deadline - now);
		if (pfd.fd != -1 && poll(&pfd, 1, t) == -1)
			pfd.revents = 0;
		now = mono_ms();
		if (session_handle(l->ses, pfd.revents, now) == -1) {
			warnx("broker: %s", session_error(l->ses));
			return -1;
		}
		if (snapshot_take(&l->tm, 0, now, &l->snap, l->why,
		    sizeof(l->why)) == 0) {
			l->have = 1;
			preflight_classify(pf, &l->snap, &l->pre);
			return 0;
		}
	}
	return 0;
}

/* ---- the answer ---- */

struct answer {
	int	code;
	char	reason[800];
	double	days;		/* since the last PASS; NAN none */
};

static void
decide(const struct opts *o, const struct profile *pf,
    const struct last_success *d,
    const struct live *l, int intact, struct answer *a)
{
	int by_cal;
	char cal[200];

	a->days = d->have ? (double)(o->now_ms - d->start_ms) / 86400000.0 :
	    NAN;
	by_cal = !d->have || a->days >= pf->cadence_days;
	if (d->have)
		(void)snprintf(cal, sizeof(cal), "%.1f day(s) since the last "
		    "PASS (run %s), cadence %.0f days", a->days, d->run,
		    pf->cadence_days);
	else
		(void)snprintf(cal, sizeof(cal), "no PASS the watchdog's own "
		    "records prove in the log, cadence %.0f days",
		    pf->cadence_days);
	if (!intact) {
		a->code = DUE_UNKNOWN;
		(void)snprintf(a->reason, sizeof(a->reason), "cannot tell: the "
		    "log is not intact (gridcal-audit verify); %s", cal);
		return;
	}
	if (l != NULL && l->have && (l->pre.cls == PRE_UNSAFE ||
	    l->pre.cls == PRE_IMBALANCE)) {
		a->code = DUE_HOLD;
		(void)snprintf(a->reason, sizeof(a->reason), "do not calibrate "
		    "now: the bank is %s (%s: %s); %s",
		    preflight_class_name(l->pre.cls), l->pre.code, l->pre.why,
		    cal);
		return;
	}
	if (l != NULL && l->have && l->pre.cls == PRE_DRIFT) {
		a->code = DUE_YES;
		(void)snprintf(a->reason, sizeof(a->reason), "drift: %s; %s",
		    l->pre.why, cal);
		return;
	}
	a->code = by_cal ? DUE_YES : DUE_NO;
	(void)snprintf(a->reason, sizeof(a->reason), "%s%s%s", cal,
	    l == NULL ? "" : l->have ? "; live: balanced (SoC readings "
	    "agree)" : "; live: no complete snapshot: ", l != NULL &&
	    !l->have ? l->why : "");
}

/* The answer as JSON (the HA sensor's state topic; --json). */
static int
answer_json(const struct opts *o, const struct profile *pf,
    const struct last_success *d, const struct answer *a, char *buf, size_t bufsz)
{
	char reason[2 * sizeof(a->reason)], days[AUDIT_NUM_MAX];
	char when[32] = "", now[32];
	int n;

	(void)audit_escape((const unsigned char *)a->reason, strlen(a->reason),
	    reason, sizeof(reason) - 1);
	audit_format_num(isnan(a->days) ? NAN : floor(a->days * 10) / 10,
	    days);
	if (d->have)
		(void)strlcpy(when, d->start, sizeof(when));
	utc_format(o->now_ms, now, sizeof(now));
	n = snprintf(buf, bufsz, "{\"due\":%s,\"answer\":\"%s\",\"reason\":"
	    "\"%s\",\"days_since_pass\":%s,\"last_pass\":%s%s%s,"
	    "\"cadence_days\":%.0f,\"checked\":\"%s\"}",
	    a->code == DUE_YES ? "true" : "false", a->code == DUE_YES ? "due" :
	    a->code == DUE_NO ? "not_due" : a->code == DUE_HOLD ? "hold" :
	    "unknown", reason, days, d->have ? "\"" : "", d->have ? when :
	    "null", d->have ? "\"" : "", pf->cadence_days, now);
	return n < 0 || (size_t)n >= bufsz ? -1 : n;
}

static int
publish(const struct opts *o, const struct profile *pf, struct live *l,
    const char *msg, size_t len)
{
	int64_t deadline;
	struct pollfd pfd;
	int mid;

	if (l->ses == NULL && live_open(o, pf, l) == -1)
		return -1;
	/* connect first: a retained QoS 1 message, acknowledged */
	deadline = mono_ms() + 10000;
	while (!session_connected(l->ses) && mono_ms() < deadline) {
		session_pollfd(l->ses, &pfd);
		pfd.revents = 0;
		if (pfd.fd != -1 && poll(&pfd, 1, 100) == -1)
			pfd.revents = 0;
		if (session_handle(l->ses, pfd.revents, mono_ms()) == -1)
			break;
	}
	if (session_publish(l->ses, o->due_topic, msg, len, 1, 1, &mid) ==
	    -1 || session_drain(l->ses, 10000) == -1) {
		warnx("publish %s: %s", o->due_topic, session_error(l->ses));
		return -1;
	}
	return 0;
}

int
cmd_due(const struct opts *o, const struct profile *pf)
{
	struct last_success d;
	struct answer a;
	struct live *l = NULL;
	char json[4096];
	int rc, n;

	/* a site that never ran a calibration has no log yet: no PASS */
	if (strcmp(o->log, "-") != 0 && access(o->log, F_OK) == -1 &&
	    errno == ENOENT) {
		memset(&d, 0, sizeof(d));
		rc = AX_OK;
	} else
		rc = report_last_success(o, &d);
	if (o->live || o->publish) {
		if ((l = calloc(1, sizeof(*l))) == NULL)
			err(AX_IOERR, "malloc");
		if (o->live && (live_open(o, pf, l) == -1 ||
		    live_classify(pf, l) == -1)) {
			session_free(l->ses);
			free(l);
			return AX_UNAVAILABLE;
		}
	}
	decide(o, pf, &d, o->live ? l : NULL, rc == AX_OK, &a);
	if ((n = answer_json(o, pf, &d, &a, json, sizeof(json))) == -1)
		errx(AX_IOERR, "due: the answer does not fit");
	if (o->json)
		(void)printf("%s\n", json);
	else if (!o->quiet)
		(void)printf("%s: %s\n", a.code == DUE_YES ? "due" :
		    a.code == DUE_NO ? "not due" : a.code == DUE_HOLD ? "hold" :
		    "unknown", a.reason);
	if (o->publish && publish(o, pf, l, json, (size_t)n) == -1)
		a.code = AX_UNAVAILABLE;
	if (l != NULL) {
		session_free(l->ses);
		free(l);
	}
	if (fflush(stdout) == EOF)
		return AX_IOERR;
	return a.code;
}
