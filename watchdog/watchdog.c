/*
 * gridcal-watchdog: the only gridcal process that may change an inverter
 * setting. Reverts what an earlier run left, then runs gridcal-supervisor
 * unprivileged, answers its requests over a socketpair, and reverts on its
 * own whenever the run goes wrong.
 */
#include <sys/param.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmdline.h"
#include "clock.h"
#include "log.h"
#include "sigfd.h"
#include "watchdog.h"
#include "watchdog_usage.h"	/* generated from gridcal-watchdog.txt */

#define WD_IDLE_MS	1000	/* the longest poll: a check without a cause */
#define WD_DRAIN_MS	2000	/* at exit: wait this long for PUBACKs */

struct wd wd = { .exit_code = -1,	/* none yet */
    .audit_failed = 1, .profile_arg = PROFILE_DEFAULT_PATH };	/* not open */
static int sigfd;

static void __attribute__((noreturn))
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "%s: %s\n" WD_SYNOPSIS, getprogname(), why);
	else
		fputs(WD_USAGE, stdout);
	exit(why == NULL ? 0 : GC_EX_USAGE);
}

int
wd_audit(enum audit_actor who, const char *event,
    const struct audit_field *f, size_t n)
{
	/* after a failure, nothing more: the log stays at most a group of
	 * records ahead of its anchor, which audit_open() accepts */
	if (wd.audit_failed)
		return -1;
	if (audit_append(&wd.audit, who, event, f, n) == 0)
		return 0;
	wd.audit_failed = 1;
	log_warn("%s: %s not recorded", wd.pf.audit_log, event);
	if (mon_phase() != PH_RECOVERY)	/* else the run does not start */
		wd_end(PROTO_REVERT_AUDIT, GC_EX_IOERR, "the audit log cannot "
		    "be written", SIGTERM, mono_ms());
	return -1;
}

static int
commit_failed(void)
{
	wd.audit_failed = 1;
	log_warn("%s: records not made durable", wd.pf.audit_log);
	if (mon_phase() != PH_RECOVERY)
		wd_end(PROTO_REVERT_AUDIT, GC_EX_IOERR, "the audit log cannot "
		    "be written", SIGTERM, mono_ms());
	return -1;
}

/*
 * Group commit: the records of a loop turn reach the disk together, one
 * fdatasync and the anchor, never between a trigger and its publish: at
 * the end of the turn they go to the syncer thread and the loop goes on
 * (audit.h, THE SYNCER). Before a write-ahead act (ctl_calibrate()) the
 * commit is this one, which waits until they are on the disk.
 */
int
wd_commit(void)
{
	if (wd.audit_failed || audit_commit(&wd.audit) == 0)
		return wd.audit_failed ? -1 : 0;
	return commit_failed();
}

int
wd_audit_sv(const char *event, enum setting s, enum setting_value v,
    const struct audit_field *more, size_t n)
{
	struct audit_field f[5] = { AF_S("setting", setting_name(s)),
	    AF_S("value", wd.pf.control[s].value[v]) };

	n = MIN(n, 3);
	if (n > 0)
		memcpy(f + 2, more, n * sizeof(*more));
	return wd_audit(AUDIT_WATCHDOG, event, f, 2 + n);
}

/* The first cause to end the run decides the exit status: none overrides. */
void
wd_finish(int code, const char *why)
{
	if (wd.exit_code >= 0)
		return;
	wd.exit_code = code;
	(void)strlcpy(wd.why, why, sizeof(wd.why));
}

/* Ends the run: revert if dirty, signal the supervisor (0: none) to go. */
void
wd_end(enum proto_revert_reason r, int code, const char *why, int sig,
    int64_t now)
{
	revert_start(r, now);
	wd_finish(code, why);
	if (sig == SIGKILL)
		mon_close();	/* hostile or hung: hear no more */
	child_kill(sig);	/* else it may still report over the socket */
}

/* Each seal goes to the retained topic an observer keeps (auditseal.h). */
static void
seal_publish(const char *payload, size_t len)
{
	if (session_publish(wd.sess, SEAL_TOPIC, payload, len, 1, 1, NULL) ==
	    -1)
		log_warnx("seal: %s", session_error(wd.sess));
}

/* Ends the sealing epoch when due; force: the run's end. Not while a
 * revert is under way: that is never delayed by bookkeeping. The head it
 * seals must be on the disk: in the loop, in a turn when it is; at the
 * end, once it is. */
static void
seal_due(int force)
{
	if (wd.audit_failed || (force ? audit_commit(&wd.audit) == -1 :
	    revert_active() || !audit_durable(&wd.audit)))
		return;
	if (auditseal_tick(&wd.seal, &wd.audit, force) == -1)
		log_warn("%s: seal not written; no more seals this run",
		    wd.pf.audit_log);
}

static void
audit_start(void)
{
	char err[AUDIT_ERR_MAX], run[AUDIT_RUN_MAX + 1];
	int rc;

	if (audit_open(&wd.audit, wd.pf.audit_log, wd.pf.state_dir, err,
	    sizeof(err)) == -1) {
		log_warnx("%s", err);
		return;
	}
	wd.audit_open = 1;
	wd.seal.publish = seal_publish;
	if ((rc = auditseal_open(&wd.seal, &wd.audit, err,
	    sizeof(err))) == -1) {
		log_warnx("%s", err);	/* the log is not ours to extend */
		return;
	}
	if (rc == 1)
		log_warnx("%s/%s missing: the audit log is not sealed (run "
		    "gridcal-setup)", wd.pf.state_dir, SEAL_KEY_NAME);
	wd.audit_failed = 0;
	wd.audit_seq0 = wd.audit.seq;	/* where the last run's log ends */
	(void)audit_set_group(&wd.audit, 1);
	utc_format(utc_ms(), run, sizeof(run));
	(void)snprintf(run + strlen(run), sizeof(run) - strlen(run), "-%ld",
	    (long)getpid());
	(void)audit_set_run(&wd.audit, run);
	(void)WD_AUDIT(AUDIT_EV_START, AF_S("profile_digest", wd.pf.digest_hex),
	    AF_S("method", wd.method != NULL ? wd.method : "none"),
	    AF_B("authorised", wd.authorised), AF_I("watchdog_uid", sandbox_uid()),
	    AF_I("supervisor_uid", wd.child_uid), AF_S("command", wd.command),
	    AF_S("version", "1"));
	(void)wd_commit();	/* the anchor exists from the first record */
}

static const char *
outcome_word(void)
{
	static const char *const words[] = {	/* exit status 0-4 */
	    "pass", "fail", "aborted", "refused", "cancelled" };

	if (strcmp(wd.command, "recover") == 0)
		return wd.exit_code == 0 ? "recovered" : "error";
	return wd.exit_code >= 0 && wd.exit_code <= 4 ?
	    words[wd.exit_code] : "error";
}

static void
audit_end(void)
{
	const char *o = outcome_word();

	/* claim: what the supervisor's DONE said; outcome: what we found */
	(void)WD_AUDIT(AUDIT_EV_OUTCOME, AF_S("outcome", o),
	    AF_S("reason", wd.why), AF_I("exit", wd.exit_code),
	    AF_S("claim", verdict_claim_name()));
	(void)wd_audit(AUDIT_WATCHDOG, AUDIT_EV_END, NULL, 0);
	seal_due(1);	/* every run is an epoch */
	auditseal_close(&wd.seal);
	if (wd.audit_open)
		audit_close(&wd.audit);
}

static void
tick(int64_t now)
{
	int fd;

	mon_tick(now);
	child_tick(now);
	ctl_tick(now);
	verdict_tick(now);
	if (ctl_dirty() && !revert_active() && envelope_check(now)) {
		revert_start(PROTO_REVERT_ENVELOPE, now);
		envelope_record();	/* after the act */
	}
	revert_tick(now);
	/* no broker in time, nothing to revert: refused, nothing changed */
	if (mon_phase() == PH_RECOVERY && !ctl_dirty() && wd.exit_code < 0 &&
	    session_connects(wd.sess) == 0 &&
	    now - wd.start_ms > wd.pf.timing.preflight_wait_ms)
		wd_finish(GC_EX_REFUSED, "no broker within "
		    "timing.preflight_wait_s");
	/* recovery is over and we can act for the supervisor: start it */
	if (mon_phase() != PH_RECOVERY || revert_active() ||
	    (session_connects(wd.sess) == 0 && wd.exit_code < 0 &&
	    strcmp(wd.command, "recover") != 0))
		return;
	if (!wd.audit_failed && auth_wait(now))	/* --authorise ha */
		return;
	mon_recovered();
	notify("READY=1");	/* recovered: a run may begin */
	if (wd.audit_failed)
		wd_finish(wd.audit_open ? GC_EX_IOERR : GC_EX_CANTCREAT,
		    "the audit log cannot be written");
	else if (strcmp(wd.command, "recover") == 0)
		wd_finish(GC_EX_PASS, "recovery complete");
	else if (wd.exit_code < 0 && (fd = child_start()) == -1)
		wd_finish(GC_EX_OSERR, "cannot start the supervisor");
	else if (wd.exit_code < 0)
		mon_start(fd, now);
	sandbox_seccomp();	/* nothing more to start */
}

/*
 * Timers to the millisecond: poll sleeps until the nearest deadline
 * (heartbeat, run time, a confirmation, the revert's next step, a pack's
 * telemetry going stale, the broker, systemd's ping), not a fixed tick.
 */
static int
next_timeout(int64_t now)
{
	int64_t at = MIN(MIN(mon_next(), ctl_next()), notify_next());

	at = MIN(at, child_next());
	if (ctl_dirty() && !revert_active())
		at = MIN(at, envelope_next(now));
	if (mon_phase() == PH_RECOVERY)
		at = MIN(at, wd.start_ms + wd.pf.timing.preflight_wait_ms + 1);
	at = MIN(MIN(at, now + WD_IDLE_MS),
	    now + session_next_ms(wd.sess, now));
	return (int)MAX(at - now, 0);
}

static void
loop(void)
{
	struct pollfd pfd[6];
	int64_t now = mono_ms();
	int sig;

	while (mon_phase() == PH_RECOVERY || child_running() || mon_open() ||
	    revert_active() || ctl_dirty()) {
		pfd[0] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
		session_pollfd(wd.sess, &pfd[1]);
		mon_pollfd(&pfd[2]);
		child_pollfd(&pfd[3]);
		pfd[5] = (struct pollfd){ .fd = wd.audit.sync_done[0],
		    .events = POLLIN };
		if (poll(pfd, 6, next_timeout(now)) == -1 && errno != EINTR)
			fatal("poll");
		now = mono_ms();
		while ((sig = sigfd_next(sigfd)) > 0)
			if (sig == SIGCHLD && child_reap()) {
				mon_read(now);	/* what it sent before it went */
				child_gone();
				if (mon_open())
					mon_eof("supervisor exited", now);
			} else if (sig != SIGCHLD)	/* cancelled: the reason is the signal's name */
				wd_end(PROTO_REVERT_SIGNAL, GC_EX_CANCELLED,
				    strsignal(sig), SIGTERM, now);
		/* the supervisor first: a request for everyday values */
		if (pfd[2].revents != 0)
			mon_read(now);
		if (session_handle(wd.sess, pfd[1].revents, now) == -1) {
			child_kill(SIGKILL);
			wd_finish(GC_EX_BROKER, session_error(wd.sess));
			audit_end();
			log_setfatalstatus(wd.exit_code);
			fatalx("broker: %s%s", session_error(wd.sess),
			    ctl_dirty() ? "; NOT reverted, mark kept" : "");
		}
		if (pfd[3].revents != 0 || pfd[4].revents != 0)
			child_output();
		tick(now);
		/* the syncer's answer: read even after a failure, or it
		 * stays readable */
		if (pfd[5].revents != 0 && audit_commit_done(&wd.audit) ==
		    -1 && !wd.audit_failed)
			(void)commit_failed();
		seal_due(0);
		notify_tick(now);
		/* this turn's records, to the syncer */
		if (!wd.audit_failed && audit_commit_start(&wd.audit) == -1)
			(void)commit_failed();
	}
}

static void
parse_command(int argc, char *argv[])
{
	char msg[128];

	wd.command = argc > 0 ? argv[0] : "";
	if (strcmp(wd.command, "recover") == 0 && argc == 1)
		return;
	if (strcmp(wd.command, "calibrate") != 0)
		usage("expected the command calibrate or recover");
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--confirm") == 0 && !wd.confirm)
			wd.confirm = 1;
		else if (strcmp(argv[i], "--method") == 0 && i + 1 < argc &&
		    wd.method == NULL)
			wd.method = argv[++i];
		else if (strncmp(argv[i], "--method=", 9) == 0 &&
		    wd.method == NULL)
			wd.method = argv[i] + 9;
		else if (strcmp(argv[i], "--authorise") == 0 && i + 1 < argc &&
		    strcmp(argv[i + 1], "ha") == 0 && !auth_ha)
			auth_ha = ++i;
		else {
			(void)snprintf(msg, sizeof(msg), "calibrate: %.64s: "
			    "unknown or repeated argument", argv[i]);
			usage(msg);
		}
	if (wd.method == NULL || (strcmp(wd.method, "solar") != 0 &&
	    strcmp(wd.method, "grid") != 0))
		usage("calibrate: --method must be solar or grid");
	if (auth_ha && (wd.confirm || strcmp(wd.method, "grid") != 0))
		usage("calibrate: --authorise ha is for grid, not with --confirm");
	wd.authorised = strcmp(wd.method, "grid") == 0 && wd.confirm;
}

/* Every broker message: telemetry (intake.c), the HA press (authorise.c). */
static void
on_message(void *arg, const char *topic, const void *payload, size_t len,
    int retained)
{
	tm_message(&wd.tm, topic, payload, len, retained);
	auth_message(arg, topic, payload, len, retained);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "profile", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct session_params sp;
	char err[SESSION_ERR_MAX];
	char msg[128];
	int ch, verbose = 0, offline = 0;

	log_init("gridcal-watchdog", 0);
	mon_init();
	ctl_init();
	verdict_init();
	notify_init();
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:hnp:vV", longopts, NULL)) != -1) {
		if (ch == 'h')
			usage(NULL);
		else if (ch == 'p')
			wd.profile_arg = optarg;
		else if (ch == 'v')
			verbose++;
		else if (ch == 'n')
			offline = 1;
		else if (ch == 'V')
			return cli_version() ? GC_EX_OSERR : 0;
		else
			usage(cli_badopt(ch, argv, optind, optopt, msg,
			    sizeof(msg)));
	}
	if (offline && optind != argc)
		usage("-n takes no command");
	if (offline)	/* as sshd -t: no broker, no root, nothing written */
		return conf_check_offline(wd.profile_arg, verbose);
	parse_command(argc - optind, argv + optind);
	log_setverbose(verbose);
	/* no silent loss of privilege separation; tests say so in words */
	if (geteuid() != 0 && getenv("GRIDCAL_TEST_UNPRIVILEGED") == NULL) {
		log_setfatalstatus(GC_EX_NOPERM);
		fatalx("not started as root: refusing to run without privilege "
		    "separation");
	}
	conf_load_or_die(wd.profile_arg, &wd.pf);	/* exit 78 */
	if (strcmp(wd.command, "calibrate") == 0)
		child_user();				/* exit 77 */
	sandbox_init();				/* exit 77, 78 */
	log_setfatalstatus(GC_EX_CONFIG);
	sp = (struct session_params){ .client_prefix = "gridcal-watchdog",
	    .host = wd.pf.broker_host, .port = (uint16_t)wd.pf.broker_port,
	    .cred_path = wd.pf.cred_watchdog, .tls_ca = wd.pf.broker_tls_ca,
	    .tls_cert = wd.pf.broker_tls_cert, .tls_key = wd.pf.broker_tls_key,
	    .backoff_min_ms = 100, .connect_timeout_ms = 5000,
	    .on_publish = ctl_acked, .on_state = alarm_on_state,
	    .on_message = on_message };
	sp.backoff_max_ms = 1000;	/* a revert may be waiting */
	/* the broker fires our will 1.5 keepalives after our last packet,
	 * which is up to one keepalive old: at half of broker.keepalive_s
	 * (libmosquitto's least is 5 s) the will is out within 1.25 x
	 * broker.keepalive_s of a hang */
	sp.keepalive_s = MAX(5, (wd.pf.broker_keepalive_s + 1) / 2);
	/* only what the revert, the envelope and the verdict read */
	(void)strlcpy(err, "bad telemetry topics", sizeof(err));
	if (tm_init(&wd.tm, &wd.pf) == -1 ||
	    (wd.sess = session_new(&sp, err, sizeof(err))) == NULL ||
	    tm_subscribe(&wd.tm, wd.sess) == -1)
		fatalx("%s", wd.sess == NULL ? err : session_error(wd.sess));
	log_setfatalstatus(GC_EX_OSERR);
	/* every signal that would end us by default becomes a revert */
	if ((sigfd = sigfd_open((const int[]){ SIGCHLD, SIGTERM, SIGINT,
	    SIGHUP, SIGQUIT, 0 })) == -1 ||
	    signal(SIGPIPE, SIG_IGN) == SIG_ERR ||	/* stderr: a pipe */
	    signal(SIGXFSZ, SIG_IGN) == SIG_ERR)	/* a full disk: EFBIG */
		fatal("signals");
	wd.start_ms = mono_ms();
	mark_lock();	/* exit 75 before the mark, the log or the broker */
	audit_start();
	if (mark_present()) {
		mark_describe();
		revert_recover(wd.start_ms);
	}
	alarm_will(ctl_dirty());
	verdict_publish(NULL);
	sandbox_drop();		/* all that needs root is open */
	/* after Landlock, which binds the threads started later only;
	 * seccomp binds it too (TSYNC) */
	if (wd.audit_open && audit_syncer_start(&wd.audit) == -1)
		log_warn("audit syncer; every commit waits for the disk");
	loop();
	notify("STOPPING=1");
	if (!ctl_dirty())	/* everyday, confirmed: replace the will */
		alarm_clear_end();
	verdict_end();
	verdict_publish(outcome_word());
	audit_end();	/* its seal is published with the alarm */
	(void)session_drain(wd.sess, WD_DRAIN_MS);	/* alarm, seal, state */
	log_info("%s (exit %d)", wd.why, wd.exit_code);
	session_free(wd.sess);
	return wd.exit_code;
}
