/*
 * The supervisor's single-threaded poll() loop: the broker socket, the
 * watchdog socket, a signalfd for SIGTERM/SIGINT/SIGHUP, and a timer.
 * Nothing in here decides anything about the calibration: inputs are
 * latched into struct sup and events.c turns them into table events each
 * iteration.
 *
 * The heartbeat is due-checked first in every iteration and after every
 * broker packet read, and the poll timeout never exceeds the time to the
 * next one, so a flood of telemetry cannot hold it back by more than one
 * packet's work.
 */
#include <sys/signalfd.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "sessionpf.h"
#include "sup.h"
#include "events.h"

/* Longest sleep of the loop: timers are checked at least this often. */
#define TICK_MS		50
/* Broker packets read per iteration at most, before judging. */
#define DRAIN_MAX	512

/*
 * A field an abort judges (cell voltage, a temperature, the protection
 * bits): once one is stored, the limits are judged before the next packet
 * is read, so a flood of other telemetry never queues in front of it.
 */
static bool
limit_field(const struct tm_topic *t)
{
	return t != NULL && t->pack >= 0 && (t->field == PF_CELL_VOLTAGE_MAX ||
	    t->field == PF_PROTECTION || pack_field_is_temp(t->field));
}

static void
on_message(void *arg, const char *topic, const void *payload, size_t len,
    int retained)
{
	struct sup *s = arg;
	enum tm_ingest r;
	char why[256];

	/* the broker's old copy: never a fresh value (telemetry.h) */
	if (retained) {
		if (tm_ingest_retained(&s->tm, topic, mono_ms()) ==
		    TM_RETAINED_ONLY)
			log_debug("retained (not a fresh value): %s", topic);
		return;
	}
	r = tm_ingest(&s->tm, topic, payload, len, mono_ms(), why, sizeof(why));
	if (r == TM_STORED && limit_field(s->tm.last))
		s->limit_ingested = true;
	if (r != TM_REJECTED)
		return;
	/* counted by the store; logged, rate-limited by verbosity */
	s->bad_telemetry++;
	if (s->bad_telemetry <= 20 || log_getverbose() > 0)
		log_warnx("telemetry rejected: %s", why);
}

static void
on_state(void *arg, int up)
{
	struct sup *s = arg;

	s->broker_up = up != 0;
	if (!up)
		log_warnx("broker connection lost; reconnecting");
}

static int
open_session(struct sup *s)
{
	struct session_params p;
	char err[SESSION_ERR_MAX];

	/* the profile's broker, TLS files included, as every tool's */
	session_params_init(&p, &s->pf, s->pf.cred_supervisor,
	    "gridcal-supervisor");
	p.on_message = on_message;
	p.on_state = on_state;
	p.arg = s;
	if (tm_init(&s->tm, &s->pf) == -1) {
		log_warnx("%s: a telemetry topic template does not expand",
		    s->pf.path);
		return -1;
	}
	if ((s->ses = session_new(&p, err, sizeof(err))) == NULL) {
		log_warnx("broker session: %s", err);
		return -1;
	}
	for (int i = 0; i < s->tm.ntopics; i++)
		if (session_subscribe(s->ses, s->tm.topics[i].topic, 0) == -1) {
			log_warnx("subscribe %s: %s", s->tm.topics[i].topic,
			    session_error(s->ses));
			return -1;
		}
	return 0;
}

static int
open_signals(void)
{
	sigset_t set;
	int fd;

	if (sigemptyset(&set) == -1 || sigaddset(&set, SIGTERM) == -1 ||
	    sigaddset(&set, SIGINT) == -1 || sigaddset(&set, SIGHUP) == -1 ||
	    sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		fatal("sigprocmask");
	if ((fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	return fd;
}

static void
read_signals(struct sup *s, int fd)
{
	struct signalfd_siginfo si;
	ssize_t n;

	while ((n = read(fd, &si, sizeof(si))) == (ssize_t)sizeof(si)) {
		if (s->signal == 0)
			log_info("signal %d: cancelling the run", si.ssi_signo);
		s->signal = (int)si.ssi_signo;
	}
	if (n == -1 && errno != EAGAIN && errno != EINTR)
		fatal("signalfd read");
}

enum { FD_BROKER, FD_WATCHDOG, FD_SIGNAL, NFDS };

/*
 * Reads what the broker has for us before anything is judged: libmosquitto
 * takes one packet per call, and after a stall (a loaded machine, a slow
 * disk) the newest values of many fields may still sit in the socket. A
 * judgement made after the first packet would see the others as older
 * than they are. Bounded, and the heartbeat keeps its cadence meanwhile.
 * A limit field ends the drain at once: it is judged on ingest.
 */
static int
drain_broker(struct sup *s, struct pollfd *pfd)
{
	s->limit_ingested = false;
	for (int n = 0; n < DRAIN_MAX; n++) {
		if (session_handle(s->ses, pfd->revents, s->now) == -1)
			return -1;
		s->now = mono_ms();
		if (!s->check_only)
			(void)wdlink_tick(&s->wd, s->now);
		if (!(pfd->revents & POLLIN) || s->limit_ingested)
			return 0;
		session_pollfd(s->ses, pfd);
		if (pfd->fd == -1 || poll(pfd, 1, 0) < 1)
			return 0;
	}
	return 0;
}

/* One poll() round; returns once inputs have been latched into s. */
static int
loop_once(struct sup *s, int sigfd, int64_t wake_ms)
{
	struct pollfd pfd[NFDS];
	int64_t timeout = TICK_MS, t;

	s->now = mono_ms();
	/* a broken link ends the run in events.c */
	if (!s->check_only)
		(void)wdlink_tick(&s->wd, s->now);
	session_pollfd(s->ses, &pfd[FD_BROKER]);
	if ((t = session_next_ms(s->ses, s->now)) < timeout)
		timeout = t;
	if (!s->check_only && (t = wdlink_next_ms(&s->wd, s->now)) < timeout)
		timeout = t;
	if (wake_ms > 0 && (t = wake_ms - s->now) < timeout)
		timeout = t;
	if (timeout < 0)
		timeout = 0;
	pfd[FD_WATCHDOG].fd = s->check_only || !wdlink_is_up(&s->wd) ? -1 :
	    s->wd.ch.fd;
	pfd[FD_WATCHDOG].events = POLLIN |
	    (wdlink_want_write(&s->wd) ? POLLOUT : 0);
	pfd[FD_SIGNAL].fd = sigfd;
	pfd[FD_SIGNAL].events = POLLIN;
	for (int i = 0; i < NFDS; i++)
		pfd[i].revents = 0;
	if (poll(pfd, NFDS, (int)timeout) == -1) {
		if (errno != EINTR)
			fatal("poll");
		return 0;
	}
	s->now = mono_ms();
	if (pfd[FD_SIGNAL].revents & POLLIN)
		read_signals(s, sigfd);
	if (drain_broker(s, &pfd[FD_BROKER]) == -1) {
		/* refused credentials: telemetry goes stale, which aborts */
		if (!s->broker_fatal)
			log_warnx("broker: %s", session_error(s->ses));
		s->broker_fatal = true;
		return -1;
	}
	if (!s->check_only && pfd[FD_WATCHDOG].revents != 0)
		(void)wdlink_read(&s->wd);
	s->now = mono_ms();
	return 0;
}

/*
 * `check`: connect with the supervisor's credentials, wait (bounded) for
 * a complete snapshot, classify, print. No watchdog, no setting.
 */
int
sup_check(struct sup *s)
{
	int64_t deadline;
	int sigfd, have = 0;

	s->check_only = true;
	if (open_session(s) == -1)
		return SUP_EXIT_CONFIG;
	sigfd = open_signals();
	s->start_ms = s->now = mono_ms();
	deadline = s->start_ms + s->pf.timing.preflight_wait_ms;
	(void)strlcpy(s->snap_why, "no telemetry yet", sizeof(s->snap_why));
	while (s->now < deadline && s->signal == 0) {
		if (loop_once(s, sigfd, deadline) == -1)
			return SUP_EXIT_UNAVAILABLE;
		if (snapshot_take(&s->tm, 0, s->now, &s->before, s->snap_why,
		    sizeof(s->snap_why)) == 0) {
			have = 1;
			break;
		}
	}
	session_free(s->ses);
	(void)close(sigfd);
	if (s->signal != 0) {
		log_warnx("check interrupted by signal %d", s->signal);
		return SUP_EXIT_CANCELLED;
	}
	if (have) {
		s->have_before = true;
		preflight_classify(&s->pf, &s->before, &s->pre);
	}
	report_check(s, have);
	if (!have)
		return SUP_EXIT_NODATA;
	switch (s->pre.cls) {
	case PRE_DRIFT:
		return SUP_EXIT_DRIFT;
	case PRE_IMBALANCE:
		return SUP_EXIT_IMBALANCE;
	case PRE_UNSAFE:
		return SUP_EXIT_UNSAFE;
	default:
		return SUP_EXIT_BALANCED;
	}
}

int
sup_exit_code(enum proto_outcome o)
{
	switch (o) {
	case PROTO_OUTCOME_PASS:
		return SUP_EXIT_PASS;
	case PROTO_OUTCOME_FAIL:
		return SUP_EXIT_FAIL;
	case PROTO_OUTCOME_ABORTED:
		return SUP_EXIT_ABORTED;
	case PROTO_OUTCOME_REFUSED:
		return SUP_EXIT_REFUSED;
	case PROTO_OUTCOME_CANCELLED:
		return SUP_EXIT_CANCELLED;
	}
	return SUP_EXIT_ERROR;
}

/*
 * `calibrate`: the run. The table drives everything; this loop only
 * gathers inputs, lets events.c dispatch them, and prints progress.
 */
int
sup_calibrate(struct sup *s, int wd_fd)
{
	int sigfd;

	sigfd = open_signals();
	s->start_ms = s->now = mono_ms();
	s->utc_start_ms = utc_ms();
	if (wdlink_open(&s->wd, wd_fd, s->pf.digest,
	    s->pf.timing.heartbeat_interval_ms, s->now) == -1)
		fatalx("watchdog link on fd %d: %s", wd_fd, s->wd.error);
	if (open_session(s) == -1) {
		/* nothing was asked yet, nothing changed: say so and leave */
		(void)wdlink_done(&s->wd, PROTO_OUTCOME_REFUSED,
		    "broker session could not be set up (credentials file?)");
		(void)wdlink_drain(&s->wd, 1000);
		return SUP_EXIT_CONFIG;
	}
	s->next_progress_ms = s->now + s->pf.timing.progress_interval_ms;
	events_start(s);
	while (!s->finished) {
		int64_t t0 = mono_ms(), t1, t2;

		(void)loop_once(s, sigfd, events_wake_ms(s));
		t1 = mono_ms();
		events_dispatch(s);
		t2 = mono_ms();
		if (t2 - t0 > 150)
			log_warnx("slow iteration: loop %lld ms, dispatch %lld ms",
			    (long long)(t1 - t0), (long long)(t2 - t1));
		if (!s->finished && s->now >= s->next_progress_ms) {
			report_progress(s);
			s->next_progress_ms = s->now +
			    s->pf.timing.progress_interval_ms;
		}
	}
	report_final(s);
	if (wdlink_is_up(&s->wd)) {
		char why[PROTO_TEXT_LEN + 40];

		report_reason(s, why, sizeof(why));
		(void)wdlink_done(&s->wd, s->outcome, why);
		if (wdlink_drain(&s->wd, 2000) == -1)
			log_warnx("watchdog did not take the final frames");
	}
	session_free(s->ses);
	(void)close(sigfd);
	return sup_exit_code(s->outcome);
}
