/*
 * gridcal-watchdog: the only gridcal process that may change an inverter
 * setting. Loads the profile, opens the audit log, connects with the
 * control credentials, reverts whatever an earlier run left behind, then
 * runs gridcal-supervisor unprivileged and answers its requests over a
 * socketpair, reverting on its own whenever that run goes wrong.
 */
#include <sys/signalfd.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "watchdog.h"
#include "watchdog_usage.h"	/* generated from gridcal-watchdog.txt */

#define WD_TICK_MS	50	/* every deadline is checked this often */
#define WD_DRAIN_MS	2000	/* at exit: wait this long for PUBACKs */

struct wd wd;

static void __attribute__((noreturn))
usage(const char *why)
{
	if (why == NULL) {
		fputs(WATCHDOG_USAGE, stdout);
		exit(0);
	}
	fprintf(stderr, "gridcal-watchdog: %s\nusage: gridcal-watchdog [-v] "
	    "[-p FILE] calibrate --method solar|grid [--confirm]\n"
	    "       gridcal-watchdog [-v] [-p FILE] recover\n", why);
	exit(WD_EX_USAGE);
}

int
wd_audit_as(enum audit_actor who, const char *event,
    const struct audit_field *f, size_t n)
{
	if (wd.audit_open && audit_append(&wd.audit, who, event, f, n) == 0)
		return 0;
	if (!wd.audit_failed)
		log_warn("audit log %s: %s not recorded", wd.pf.audit_log, event);
	wd.audit_failed = 1;
	return -1;
}

int
wd_audit(const char *event, const struct audit_field *f, size_t n)
{
	return wd_audit_as(AUDIT_WATCHDOG, event, f, n);
}

/* The first cause to end the run decides the exit status. */
void
wd_finish(int code, const char *why)
{
	if (wd.exit_code >= 0)
		return;
	wd.exit_code = code;
	(void)strlcpy(wd.why, why, sizeof(wd.why));
}

static void
on_message(void *arg, const char *topic, const void *payload, size_t len)
{
	char why[128];

	(void)arg;
	if (tm_ingest(&wd.tm, topic, payload, len, mono_ms(), why,
	    sizeof(why)) == TM_REJECTED)
		log_debug("%s: %s", topic, why);
}

static void
on_publish(void *arg, int mid)
{
	(void)arg;
	ctl_acked(mid, mono_ms());
}

/* Subscribes only to what the revert and the envelope read. */
static void
broker_open(void)
{
	struct session_params sp = {
		.client_prefix = "gridcal-watchdog", .host = wd.pf.broker_host,
		.port = wd.pf.broker_port,
		.keepalive_s = wd.pf.broker_keepalive_s,
		.cred_path = wd.pf.cred_watchdog, .backoff_min_ms = 250,
		.backoff_max_ms = 5000, .connect_timeout_ms = 5000,
		.on_message = on_message, .on_publish = on_publish,
	};
	const struct tm_topic *t;
	char err[256];

	if (tm_init(&wd.tm, &wd.pf) == -1)
		fatalx("%s: bad telemetry topics", wd.pf.path);
	if ((wd.sess = session_new(&sp, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	for (t = wd.tm.topics; t < wd.tm.topics + wd.tm.ntopics; t++)
		if ((t->unit >= 0 ? t->field == UF_OUTPUT_PRIORITY ||
		    t->field == UF_CHARGER_PRIORITY : t->field ==
		    PF_CELL_VOLTAGE_MAX || t->field == PF_TEMP_PCB ||
		    t->field == PF_TEMP_CELL) &&
		    session_subscribe(wd.sess, t->topic, 0) == -1)
			fatalx("cannot subscribe to %s", t->topic);
}

/* Every signal that would end us by default is turned into a revert. */
static void
signals_open(void)
{
	static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT };
	sigset_t set;

	if (sigemptyset(&set) == -1)
		fatal("signals");
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaddset(&set, sigs[i]) == -1)
			fatal("signals");
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (wd.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1 ||
	    signal(SIGPIPE, SIG_IGN) == SIG_ERR ||
	    signal(SIGXFSZ, SIG_IGN) == SIG_ERR)	/* a full disk: EFBIG */
		fatal("signals");
}

static void
signals(int64_t now)
{
	struct signalfd_siginfo si;

	while (read(wd.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			child_reap(now);
			continue;
		}
		log_warnx("%s: cancelling the run%s", strsignal((int)si.ssi_signo),
		    wd.dirty ? ", reverting first" : "");
		revert_start(PROTO_REVERT_SIGNAL, now);
		wd_finish(WD_EX_CANCELLED, "cancelled by a signal");
		child_kill(SIGTERM);	/* it may still report over the socket */
	}
}

static void
audit_start(int64_t now)
{
	char err[AUDIT_ERR_MAX], run[AUDIT_RUN_MAX + 1];

	if (audit_open(&wd.audit, wd.pf.audit_log, wd.pf.state_dir, err,
	    sizeof(err)) == -1) {
		log_warnx("%s", err);
		wd.audit_failed = 1;
		return;
	}
	wd.audit_open = 1;
	utc_format(utc_ms(), run, sizeof(run));
	(void)snprintf(run + strlen(run), sizeof(run) - strlen(run), "-%ld",
	    (long)getpid());
	(void)audit_set_run(&wd.audit, run);
	(void)WD_AUDIT(AUDIT_EV_START, AF_S("profile_digest", wd.pf.digest_hex),
	    AF_S("method", wd.method), AF_B("authorised", wd.authorised),
	    AF_I("watchdog_uid", getuid()), AF_I("supervisor_uid", wd.child_uid),
	    AF_S("command", wd.command), AF_S("version", "1"),
	    AF_I("start_mono_ms", now));
}

static void
audit_end(void)
{
	static const char *const words[] = {
		"pass", "fail", "aborted", "refused", "cancelled"
	};
	const char *o = wd.exit_code >= 0 && wd.exit_code <= 4 ?
	    words[wd.exit_code] : "error";

	if (strcmp(wd.command, "recover") == 0)
		o = wd.exit_code == 0 ? "recovered" : "error";
	(void)WD_AUDIT(AUDIT_EV_OUTCOME, AF_S("outcome", o),
	    AF_S("reason", wd.why), AF_I("exit", wd.exit_code));
	(void)wd_audit(AUDIT_EV_END, NULL, 0);
	if (wd.audit_open)
		audit_close(&wd.audit);
}

/* Recovery is over (and the broker reachable): run the supervisor. */
static void
recovered(void)
{
	wd.latched = 0;
	memset(&wd.rv, 0, sizeof(wd.rv));
	wd.phase = PH_CLOSED;
	if (!wd.audit_open)
		wd_finish(WD_EX_CANTCREAT, "the audit log cannot be opened");
	else if (strcmp(wd.command, "recover") == 0)
		wd_finish(WD_EX_PASS, "recovery complete");
	else if (wd.exit_code < 0 && child_start(wd.profile_arg,
	    wd.confirm) == -1)
		wd_finish(WD_EX_OSERR, "cannot start the supervisor");
}

static void
tick(int64_t now)
{
	mon_tick(now);
	if (wd.audit_failed && !wd.audit_handled && wd.phase != PH_RECOVERY) {
		wd.audit_handled = 1;
		revert_start(PROTO_REVERT_AUDIT, now);
		wd_finish(WD_EX_IOERR, "the audit log cannot be written");
		mon_close(SIGTERM);
	}
	ctl_tick(now);
	if (wd.dirty && !wd.rv.active && envelope_check(now))
		revert_start(PROTO_REVERT_ENVELOPE, now);
	revert_tick(now);
	if (wd.phase == PH_RECOVERY && !wd.rv.active &&
	    (session_connects(wd.sess) > 0 || wd.exit_code >= 0 ||
	    strcmp(wd.command, "recover") == 0))
		recovered();
}

/* Until the run is over, nothing is dirty and the broker has our PUBACKs. */
static void
loop(void)
{
	struct pollfd pfd[3];
	int64_t now, drain_until = 0;
	int timeout;

	for (;;) {
		now = mono_ms();
		if (wd.phase != PH_RECOVERY && wd.child == 0 && !wd.chan_open &&
		    !wd.rv.active && !wd.dirty) {
			if (drain_until == 0)
				drain_until = now + WD_DRAIN_MS;
			if (wd.unacked <= 0 || now >= drain_until)
				return;
		}
		pfd[0] = (struct pollfd){ .fd = wd.sigfd, .events = POLLIN };
		session_pollfd(wd.sess, &pfd[1]);
		pfd[2] = (struct pollfd){ .fd = wd.chan_open ? wd.chan.fd : -1,
		    .events = POLLIN };
		timeout = session_next_ms(wd.sess, now);
		if (poll(pfd, 3, timeout < WD_TICK_MS ? timeout : WD_TICK_MS) ==
		    -1 && errno != EINTR)
			fatal("poll");
		now = mono_ms();
		if (pfd[0].revents & POLLIN)
			signals(now);
		if (session_handle(wd.sess, pfd[1].revents, now) == -1) {
			child_kill(SIGKILL);
			wd.exit_code = -1;
			wd_finish(WD_EX_BROKER, session_error(wd.sess));
			audit_end();
			log_setfatalstatus(WD_EX_BROKER);
			fatalx("broker: %s%s", session_error(wd.sess), wd.dirty ?
			    "; settings NOT reverted, intent mark kept" : "");
		}
		if (wd.chan_open && pfd[2].revents != 0)
			mon_read(now);
		tick(now);
	}
}

static void
parse_command(int argc, char *argv[])
{
	wd.method = "none";
	wd.command = argc > 0 ? argv[0] : "";
	if (strcmp(wd.command, "recover") == 0 && argc == 1)
		return;
	if (strcmp(wd.command, "calibrate") != 0)
		usage(argc == 0 ? "no command" : "unknown command or arguments");
	wd.method = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--confirm") == 0 && !wd.confirm)
			wd.confirm = 1;
		else if (strcmp(argv[i], "--method") == 0 && i + 1 < argc &&
		    wd.method == NULL)
			wd.method = argv[++i];
		else
			usage("calibrate: unknown or repeated argument");
	}
	if (wd.method == NULL || (strcmp(wd.method, "solar") != 0 &&
	    strcmp(wd.method, "grid") != 0))
		usage("calibrate: --method must be solar or grid");
	wd.authorised = strcmp(wd.method, "grid") == 0 && wd.confirm;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "profile", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, verbose = 0;

	log_init("gridcal-watchdog", 0);
	opterr = 0;
	wd.exit_code = -1;
	wd.profile_arg = PROFILE_DEFAULT_PATH;
	while ((ch = getopt_long(argc, argv, "+hp:v", longopts, NULL)) != -1) {
		if (ch == 'h')
			usage(NULL);
		else if (ch == 'p')
			wd.profile_arg = optarg;
		else if (ch == 'v')
			verbose++;
		else
			usage("unknown option or missing argument");
	}
	parse_command(argc - optind, argv + optind);
	log_setverbose(verbose);
	profile_load_or_die(wd.profile_arg, &wd.pf);
	if (strcmp(wd.command, "calibrate") == 0)
		child_user();
	log_setfatalstatus(WD_EX_OSERR);
	signals_open();
	log_setfatalstatus(WD_EX_CONFIG);
	broker_open();
	log_setfatalstatus(WD_EX_OSERR);
	audit_start(wd.start_ms = mono_ms());
	wd.phase = PH_RECOVERY;
	if (mark_present()) {
		log_warnx("intent mark found: reverting before anything else");
		wd.dirty = 1;
		revert_start(PROTO_REVERT_RECOVERY, wd.start_ms);
	}
	loop();
	audit_end();
	log_info("%s (exit %d)", wd.why, wd.exit_code);
	session_free(wd.sess);
	return wd.exit_code;
}
