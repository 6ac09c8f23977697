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

#define WD_TICK_MS	50	/* every deadline is checked this often */
#define WD_DRAIN_MS	2000	/* at exit: wait this long for PUBACKs */

struct wd wd;

static void __attribute__((noreturn))
usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	if (status != 0) {
		fprintf(f, "usage: gridcal-watchdog [-v] [-p FILE] calibrate "
		    "--method solar|grid [--confirm]\n"
		    "       gridcal-watchdog [-v] [-p FILE] recover\n"
		    "       gridcal-watchdog --help\n");
		exit(status);
	}
	fprintf(f,
"NAME\n"
"     gridcal-watchdog - privileged guardian of an LFP calibration charge\n"
"\n"
"SYNOPSIS\n"
"     gridcal-watchdog [-v] [-p FILE] calibrate --method solar|grid [--confirm]\n"
"     gridcal-watchdog [-v] [-p FILE] recover\n"
"\n"
"DESCRIPTION\n"
"     The only gridcal program that changes inverter settings, and only the\n"
"     two the runbook names: output source priority and charger source\n"
"     priority, on both units at once through the cluster control topics.\n"
"     It holds the control credentials (credentials.watchdog), writes the\n"
"     audit log (paths.audit_log) and runs gridcal-supervisor\n"
"     (paths.supervisor) as paths.supervisor_user, talking to it over a\n"
"     socketpair. Only the supervisor's requests that the run permits are\n"
"     carried out; anything else ends the supervisor.\n"
"\n"
"     Every start first looks for the intent mark in paths.state_dir: an\n"
"     earlier run may have left calibration settings applied. If it is\n"
"     there, the settings are reverted and confirmed before anything else.\n"
"\n"
"     While calibration settings may be applied, the watchdog reverts on\n"
"     its own (output priority, then charger priority) when the supervisor's\n"
"     heartbeat is older than timing.heartbeat_timeout_s, the supervisor\n"
"     exits or closes its socket, it breaks the protocol, SIGTERM, SIGINT,\n"
"     SIGHUP or SIGQUIT arrives, timing.run_max_s passes, a calibration\n"
"     value is not confirmed within timing.set_confirm_s, the audit log\n"
"     cannot be written, or a hard limit of limits.envelope trips (a cell\n"
"     above cell_voltage_max_v, a temperature above temperature_max_c, no\n"
"     fresh cell voltage from a pack for stale_s). A revert is done only\n"
"     when every unit's readback shows the everyday values; until then it\n"
"     is republished with backoff (timing.revert_*) and a retained alarm is\n"
"     kept on control.alarm_topic. The watchdog does not exit before that.\n"
"\n"
"COMMANDS\n"
"     calibrate --method solar|grid [--confirm]\n"
"             Run one calibration. solar never changes a setting. grid\n"
"             changes the two settings only with --confirm, the owner's\n"
"             authorisation for this one run.\n"
"     recover\n"
"             Run the start-up recovery only, then exit.\n"
"\n"
"OPTIONS\n"
"     -p, --profile FILE  site profile (default " PROFILE_DEFAULT_PATH ")\n"
"     -v, --verbose       more detail on stderr (twice: debug)\n"
"     -h, --help          this text\n"
"\n"
"FILES\n"
"     paths.state_dir/watchdog.intent  durable mark of applied settings\n"
"     paths.audit_log                  hash-chained JSON Lines audit log\n"
"\n"
"EXIT STATUS\n"
"     0   calibrate: PASS. recover: nothing to do, or reverted and confirmed\n"
"     1   FAIL, as reported by the supervisor\n"
"     2   ABORTED: by the supervisor, or by the watchdog's run time limit\n"
"     3   REFUSED by the supervisor's pre-flight\n"
"     4   CANCELLED by a signal\n"
"     5   the supervisor failed: crashed, hung, broke the protocol, or\n"
"         exited without reporting an outcome\n"
"     64  usage error\n"
"     69  the broker refused the control credentials (the mark is kept)\n"
"     71  system error: fork, socketpair, signals\n"
"     73  the audit log or state directory cannot be opened\n"
"     74  the audit log could not be written during the run\n"
"     77  paths.supervisor_user does not exist or is root\n"
"     78  bad profile or credentials file\n"
"     Except for 69, the settings are back to everyday, confirmed by\n"
"     readback, whenever the watchdog exits (64, 71, 73, 77 and 78 occur\n"
"     before any change).\n");
	exit(0);
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

/* Only what the revert and the envelope read: less untrusted input. */
static int
wanted(const struct tm_topic *t)
{
	if (t->unit >= 0)
		return t->field == UF_OUTPUT_PRIORITY ||
		    t->field == UF_CHARGER_PRIORITY;
	return t->field == PF_CELL_VOLTAGE_MAX || t->field == PF_TEMP_PCB ||
	    t->field == PF_TEMP_CELL;
}

static void
broker_open(void)
{
	struct session_params sp = {
		.client_prefix = "gridcal-watchdog",
		.host = wd.pf.broker_host,
		.port = wd.pf.broker_port,
		.keepalive_s = wd.pf.broker_keepalive_s,
		.cred_path = wd.pf.cred_watchdog,
		.backoff_min_ms = 250,
		.backoff_max_ms = 5000,
		.connect_timeout_ms = 5000,
		.on_message = on_message,
		.on_publish = on_publish,
	};
	char err[256];

	if (tm_init(&wd.tm, &wd.pf) == -1)
		fatalx("%s: bad telemetry topics", wd.pf.path);
	if ((wd.sess = session_new(&sp, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	for (int i = 0; i < wd.tm.ntopics; i++)
		if (wanted(&wd.tm.topics[i]) &&
		    session_subscribe(wd.sess, wd.tm.topics[i].topic, 0) == -1)
			fatalx("cannot subscribe to %s", wd.tm.topics[i].topic);
}

static void
signals_open(void)
{
	sigset_t set;

	if (sigemptyset(&set) == -1 || sigaddset(&set, SIGCHLD) == -1 ||
	    sigaddset(&set, SIGTERM) == -1 || sigaddset(&set, SIGINT) == -1 ||
	    sigaddset(&set, SIGHUP) == -1 || sigaddset(&set, SIGQUIT) == -1 ||
	    sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (wd.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1 ||
	    signal(SIGPIPE, SIG_IGN) == SIG_ERR)
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
	(void)wd_audit(AUDIT_EV_START, (struct audit_field[]){
	    AF_S("profile_digest", wd.pf.digest_hex), AF_S("method", wd.method),
	    AF_B("authorised", wd.authorised), AF_I("watchdog_uid", getuid()),
	    AF_I("supervisor_uid", wd.child_uid), AF_S("command", wd.command),
	    AF_S("version", "1"), AF_I("start_mono_ms", now) }, 8);
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
	(void)wd_audit(AUDIT_EV_OUTCOME, (struct audit_field[]){
	    AF_S("outcome", o), AF_S("reason", wd.why),
	    AF_I("exit", wd.exit_code) }, 3);
	(void)wd_audit(AUDIT_EV_END, NULL, 0);
	if (wd.audit_open)
		audit_close(&wd.audit);
}

/* Recovery is over: run the supervisor, or stop. */
static void
recovered(const char *profile_path, int confirm)
{
	wd.latched = 0;
	memset(&wd.rv, 0, sizeof(wd.rv));
	wd.phase = PH_CLOSED;
	if (!wd.audit_open)
		wd_finish(WD_EX_CANTCREAT, "the audit log cannot be opened");
	else if (strcmp(wd.command, "recover") == 0)
		wd_finish(WD_EX_PASS, "recovery complete");
	else if (wd.exit_code < 0 && child_start(profile_path, confirm) == -1)
		wd_finish(WD_EX_OSERR, "cannot start the supervisor");
}

static void
tick(int64_t now, const char *profile_path, int confirm)
{
	static int audit_handled;

	mon_tick(now);
	if (wd.audit_failed && !audit_handled && wd.phase != PH_RECOVERY) {
		audit_handled = 1;
		revert_start(PROTO_REVERT_AUDIT, now);
		wd_finish(WD_EX_IOERR, "the audit log cannot be written");
		mon_close(SIGTERM);
	}
	ctl_tick(now);
	if (wd.dirty && !wd.rv.active && envelope_check(now))
		revert_start(PROTO_REVERT_ENVELOPE, now);
	revert_tick(now);
	/* the supervisor starts once we can act for it */
	if (wd.phase == PH_RECOVERY && !wd.rv.active &&
	    (session_connects(wd.sess) > 0 || strcmp(wd.command, "recover") == 0
	    || wd.exit_code >= 0))
		recovered(profile_path, confirm);
}

static void
loop(const char *profile_path, int confirm)
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
		if (timeout > WD_TICK_MS)
			timeout = WD_TICK_MS;
		if (poll(pfd, 3, timeout) == -1 && errno != EINTR)
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
		if (wd.chan_open && (pfd[2].revents & (POLLIN | POLLHUP |
		    POLLERR)))
			mon_read(now);
		tick(now, profile_path, confirm);
	}
}

static int
parse_command(int argc, char *argv[], int *confirm)
{
	*confirm = 0;
	wd.method = "none";
	if (argc == 1 && strcmp(argv[0], "recover") == 0) {
		wd.command = "recover";
		return 0;
	}
	if (argc < 1 || strcmp(argv[0], "calibrate") != 0)
		return -1;
	wd.command = "calibrate";
	wd.method = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--confirm") == 0 && !*confirm)
			*confirm = 1;
		else if (strcmp(argv[i], "--method") == 0 && i + 1 < argc &&
		    wd.method == NULL)
			wd.method = argv[++i];
		else if (strncmp(argv[i], "--method=", 9) == 0 &&
		    wd.method == NULL)
			wd.method = argv[i] + 9;
		else
			return -1;
	}
	if (wd.method == NULL || (strcmp(wd.method, "solar") != 0 &&
	    strcmp(wd.method, "grid") != 0))
		return -1;
	wd.authorised = strcmp(wd.method, "grid") == 0 && *confirm;
	return 0;
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
	const char *profile_path = PROFILE_DEFAULT_PATH;
	int ch, verbose = 0, confirm;

	log_init("gridcal-watchdog", 0);
	wd.exit_code = -1;
	while ((ch = getopt_long(argc, argv, "+hp:v", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(0);
		case 'p':
			profile_path = optarg;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage(WD_EX_USAGE);
		}
	}
	if (parse_command(argc - optind, argv + optind, &confirm) == -1)
		usage(WD_EX_USAGE);
	log_setverbose(verbose);
	profile_load_or_die(profile_path, &wd.pf);
	if (strcmp(wd.command, "calibrate") == 0)
		child_user();
	log_setfatalstatus(WD_EX_OSERR);
	signals_open();
	log_setfatalstatus(WD_EX_CONFIG);
	broker_open();
	log_setfatalstatus(WD_EX_OSERR);
	wd.start_ms = mono_ms();
	audit_start(wd.start_ms);
	wd.phase = PH_RECOVERY;
	if (mark_present()) {
		log_warnx("intent mark found: reverting before anything else");
		wd.dirty = 1;
		revert_start(PROTO_REVERT_RECOVERY, wd.start_ms);
	}
	loop(profile_path, confirm);
	audit_end();
	log_info("%s (exit %d)", wd.why, wd.exit_code);
	session_free(wd.sess);
	return wd.exit_code;
}
