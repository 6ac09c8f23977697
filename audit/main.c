/*
 * gridcal-audit: the owner's and installer's view of the audit log.
 * Read-only, except rotate (audit/rotate.c), which closes the log as a
 * segment and starts the next, chained to it.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmdline.h"
#include "clock.h"
#include "parse.h"
#include "profile.h"

static const char usage_text[] =
"usage: gridcal-audit [--profile FILE] verify [LOG] [--state-dir DIR]\n"
"                     [--key VERIFY_KEY] [--seal-from FILE]\n"
"                     [--utc-slack SECONDS] [--quiet]\n"
"       gridcal-audit [--profile FILE] show [LOG] [--run ID] [--since T]\n"
"                     [--json]\n"
"       gridcal-audit [--profile FILE] report [LOG] [--json | --html]\n"
"                     [--run ID] [--now T]\n"
"       gridcal-audit [--profile FILE] rotate [LOG] [--state-dir DIR]\n"
"       gridcal-audit [--profile FILE] plot [LOG] [--run ID] -o FILE\n"
"       gridcal-audit [--profile FILE] due [LOG] [--live] [--publish]\n"
"                     [--cred FILE] [--topic T] [--json] [--quiet] [--now T]\n"
"       gridcal-audit --help\n";

static const char help_text[] =
"\n"
"NAME\n"
"     gridcal-audit - verify, show and report the gridcal audit log\n"
"\n"
"DESCRIPTION\n"
"     gridcal-watchdog records every calibration run in a hash-chained\n"
"     JSON Lines log (one record per line; format in shared/audit.h). Each\n"
"     record carries a sequence number, UTC and monotonic time, the run id,\n"
"     the actor (watchdog, or supervisor for events the unprivileged\n"
"     supervisor reported), the event, its fields, the previous record's\n"
"     hash and its own SHA-256 hash. The watchdog also keeps the last\n"
"     sequence number and hash in STATE_DIR/audit.anchor, so removing\n"
"     records from the end is detectable. gridcal-audit only reads, but\n"
"     for rotate.\n"
"\n"
"     LOG may be \"-\" for standard input. With --profile, LOG defaults to\n"
"     the profile's audit_log and --state-dir to its state_dir.\n"
"\n"
"COMMANDS\n"
"     verify  Recomputes the chain from the first record and reports the\n"
"             FIRST bad record, by line and sequence number, and why:\n"
"               hash mismatch        the record was altered\n"
"               chain broken         prev is not the hash of the record\n"
"                                    before (replaced, or altered and\n"
"                                    re-hashed: the record the rest of\n"
"                                    the chain does not continue from)\n"
"               sequence gap         records deleted\n"
"               sequence out of order  records swapped, duplicated or a\n"
"                                    forged record inserted\n"
"               broken JSON, missing or unknown field, bad value\n"
"                                    not the writer's canonical form\n"
"               torn line            the last line has no newline\n"
"               monotonic time went backwards  within one run\n"
"               wall-clock time went backwards by more than the slack\n"
"               truncated            (--state-dir) the anchor records a\n"
"                                    later sequence number than the log\n"
"               anchor mismatch      (--state-dir) the anchored record\n"
"                                    differs, or records were appended\n"
"                                    after it by something else\n"
"             The anchor may lag the log by one record only if it\n"
"             announced that record (a crash between the log and the\n"
"             anchor write, or a watchdog running); that is reported, and\n"
"             the watchdog catches up on its next start. An unannounced\n"
"             record after the anchor is an anchor mismatch.\n"
"             A chain alone is no proof against whoever can write the log\n"
"             (root can recompute it): without --key, verify says that\n"
"             only the chain was checked. With --key it checks every seal\n"
"             (the watchdog ends each epoch, every run and every 256\n"
"             records, with a MAC over the chain head under a key that\n"
"             evolves one way and is erased):\n"
"               seal                 a seal does not verify (forged, or\n"
"                                    records before it rewritten), an\n"
"                                    epoch is missing or repeated, or the\n"
"                                    log contradicts a published seal or\n"
"                                    the one in STATE_DIR/audit.key (cut,\n"
"                                    rewritten, or an older log replayed)\n"
"             and reports seq 1..S as sealed and the records after the\n"
"             last seal as the UNSEALED TAIL (exit status 2): intact as a\n"
"             chain, but not proven. Memory use does not grow with the\n"
"             log.\n"
"\n"
"     show    A readable timeline: UTC time, time into the run, sequence\n"
"             number, actor, event and every field. Strings, and above all\n"
"             supervisor-reported text, are escaped with strvis(3), so a\n"
"             hostile string cannot control the terminal. The chain is\n"
"             checked on the way; records after the first problem are\n"
"             marked with '!'.\n"
"\n"
"     rotate  Closes the log (it must verify with its anchor; not while a\n"
"             run writes it) as the segment LOG.<seq>, ending with a\n"
"             segment_end record, and starts a new LOG whose first record,\n"
"             segment_start, is chained to it; the anchor follows. verify\n"
"             then checks every earlier segment back to seq 1.\n"
"\n"
"     report  One row per run: start, duration, method, authorisation,\n"
"             outcome and reason, SoC spread before -> after, packs that\n"
"             did not re-anchor, revert attempts, time from the revert\n"
"             trigger to its readback confirmation, and alarms; then the\n"
"             last successful calibration and the days since (the\n"
"             calibration is due about monthly). Successful means the\n"
"             watchdog's outcome pass backed by its own records of that\n"
"             run (grid: both calibration values confirmed and the\n"
"             revert confirmed; its verify record, required for solar,\n"
"             never ok=false); a pass without them is shown as\n"
"             \"unproven\", and the supervisor's word alone never counts.\n"
"             The chain is checked too.\n"
"             With --html, a self-contained HTML page: the same table and\n"
"             the plot of one run (--run ID, default the last) embedded.\n"
"\n"
"     plot    A picture of one run (--run ID, default the last) from the\n"
"             log alone, drawn with cairo to FILE: SVG if its name ends in\n"
"             .svg, PNG otherwise. Four panels over the time into the run:\n"
"             each pack's SoC, max cell voltage with the abort limit, pack\n"
"             (bus) voltage and current, from the supervisor's \"sample\"\n"
"             records (one per progress interval); the absorption hold\n"
"             shaded; every setting change the watchdog confirmed by\n"
"             readback, each revert trigger and envelope trip marked and\n"
"             listed. Prints one summary line.\n"
"\n"
"     due     Whether a calibration is due, and why; the answer is the exit\n"
"             status (below), for a timer. Due when cadence.days (profile;\n"
"             30 without one) have passed since the last PASS, or there is\n"
"             none: only the watchdog's own outcome record counts, where the\n"
"             chain covers it, never the supervisor's report. With --live\n"
"             (needs --profile and --cred) also when the bank shows the\n"
"             drift signature now: the supervisor's pre-flight\n"
"             classification on a fresh snapshot says drift (pack voltages\n"
"             agree, the SoC spread is over the limit); a live imbalance or\n"
"             unsafe bank answers \"do not calibrate now\". --publish puts\n"
"             the answer as JSON, retained, on the due topic (--topic,\n"
"             default gridcal/SITE/due) for Home Assistant, with the\n"
"             report-only broker user of --cred.\n"
"\n"
"OPTIONS\n"
"     -p, --profile FILE site profile supplying default paths and, for\n"
"                      report, the SoC a pack must reach (verify.soc)\n"
"     --state-dir DIR  verify: also check DIR/audit.anchor and, with\n"
"                      --key, DIR/audit.key: its key must derive from\n"
"                      VERIFY_KEY and its last seal must be in the log\n"
"     --key VERIFY_KEY verify: the verification key gridcal-setup printed\n"
"                      (kept off the host); checks every seal. \"-\" reads\n"
"                      it from standard input, out of sight of ps(1)\n"
"     --seal-from FILE verify: seals an observer kept from the retained\n"
"                      topic gridcal/audit/seal, one payload a line\n"
"                      (mosquitto_sub -t gridcal/audit/seal >> FILE); the\n"
"                      log must contain each: a log that ends before one,\n"
"                      or differs at it, was cut or replaced. Without\n"
"                      --key they are unauthenticated claims\n"
"     --utc-slack S    backward wall-clock step tolerated between records\n"
"                      (NTP, boards without a clock); default 300 seconds.\n"
"                      Smaller steps are counted in verify's summary.\n"
"                      mono_ms may never go backwards within a run.\n"
"     --quiet, -q      verify: no output when intact; due: no output\n"
"     --run ID         show: only records of run ID; plot, report --html:\n"
"                      the run to draw\n"
"     --output, -o F   plot: the file to write (.svg or .png)\n"
"     --html           report: an HTML page with the plot\n"
"     --live           due: also classify the bank now (broker)\n"
"     --publish        due: the answer, retained, on the due topic\n"
"     --cred FILE      due: the report-only user's \"user:password\" file\n"
"     --topic T        due: the topic to publish on\n"
"     --since T        show: only records at or after T: a UTC time\n"
"                      2026-11-25[T08:24[:00[.000]]][Z], or a time before\n"
"                      now: 7d, 12h, 30m\n"
"     --json           show: the selected records as JSON Lines, exactly\n"
"                      as stored; report, due: one JSON object\n"
"     --now T          report, due: the reference time for \"days since\"\n"
"                      (default: now)\n"
"     --help, -h       this text\n"
"     -V, --version    the release\n"
"\n"
"EXIT STATUS\n"
"     0   success; for verify: the log is intact (with --key: and every\n"
"         record is sealed)\n"
"     1   the log is not intact (verify, and show/report after output)\n"
"     2   verify --key: the chain and every seal verify, but records\n"
"         after the last seal are unsealed\n"
"     64  bad usage\n"
"     66  the log or the state directory cannot be opened\n"
"     74  read error\n"
"     78  bad profile\n"
"   due answers: 0 due, 1 not due, 2 do not calibrate now (live: the\n"
"     bank is unsafe or imbalanced), 3 cannot tell (the log is not\n"
"     intact); 69 the broker could not be used (--live, --publish)\n"
"\n"
"EXAMPLES\n"
"     gridcal-audit verify /var/lib/gridcal/audit.jsonl \\\n"
"         --state-dir /var/lib/gridcal\n"
"     gridcal-audit --profile /etc/gridcal/profile.yaml verify \\\n"
"         --key 1a2b3c4d-... --seal-from seals.txt\n"
"     gridcal-audit --profile /etc/gridcal/profile.yaml report\n"
"     gridcal-audit show audit.log --since 7d\n"
"     gridcal-audit plot audit.log -o run.svg\n"
"     gridcal-audit --profile /etc/gridcal/profile.yaml due --live \\\n"
"         --cred /etc/gridcal/report.cred\n";

static void __attribute__((noreturn))
usage(void)
{
	(void)fputs(usage_text, stderr);
	exit(AX_USAGE);
}

enum { O_PROFILE = 256, O_STATE, O_SLACK, O_RUN, O_SINCE, O_JSON, O_NOW,
    O_HTML, O_LIVE, O_PUBLISH, O_CRED, O_TOPIC, O_KEY, O_SEALS };

static const struct option global_opts[] = {
	{ "profile", required_argument, NULL, 'p' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static const struct option cmd_opts[] = {
	{ "state-dir", required_argument, NULL, O_STATE },
	{ "key", required_argument, NULL, O_KEY },
	{ "seal-from", required_argument, NULL, O_SEALS },
	{ "utc-slack", required_argument, NULL, O_SLACK },
	{ "quiet", no_argument, NULL, 'q' },
	{ "run", required_argument, NULL, O_RUN },
	{ "since", required_argument, NULL, O_SINCE },
	{ "json", no_argument, NULL, O_JSON },
	{ "now", required_argument, NULL, O_NOW },
	{ "output", required_argument, NULL, 'o' },
	{ "html", no_argument, NULL, O_HTML },
	{ "live", no_argument, NULL, O_LIVE },
	{ "publish", no_argument, NULL, O_PUBLISH },
	{ "cred", required_argument, NULL, O_CRED },
	{ "topic", required_argument, NULL, O_TOPIC },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Which command takes which option. */
static int
allowed(const char *cmd, int opt)
{
	switch (opt) {
	case O_KEY:
	case O_SEALS:
		return strcmp(cmd, "verify") == 0;
	case O_STATE:
	case O_SLACK:
		return strcmp(cmd, "verify") == 0 || strcmp(cmd, "rotate") == 0;
	case 'q':
		return strcmp(cmd, "verify") == 0 || strcmp(cmd, "due") == 0;
	case O_LIVE:
	case O_PUBLISH:
	case O_CRED:
	case O_TOPIC:
		return strcmp(cmd, "due") == 0;
	case O_RUN:
		return strcmp(cmd, "show") == 0 || strcmp(cmd, "plot") == 0 ||
		    strcmp(cmd, "report") == 0;
	case O_SINCE:
		return strcmp(cmd, "show") == 0;
	case 'o':
		return strcmp(cmd, "plot") == 0;
	case O_HTML:
		return strcmp(cmd, "report") == 0;
	case O_JSON:
		return strcmp(cmd, "show") == 0 || strcmp(cmd, "report") == 0 ||
		    strcmp(cmd, "due") == 0;
	case O_NOW:
		return strcmp(cmd, "report") == 0 || strcmp(cmd, "due") == 0;
	}
	return 0;
}

/* due: what --live and --publish need, the profile's cadence or 30 days. */
static int
due(struct opts *o, struct profile *pf)
{
	static struct profile none;
	static char topic[PROFILE_TOPIC_MAX];

	if ((o->live || o->publish) && (pf == NULL || o->cred == NULL))
		errx(AX_USAGE, "due: --live and --publish need --profile and "
		    "--cred (the report-only broker user)");
	if (pf == NULL) {
		none.cadence_days = PROFILE_CADENCE_DAYS;
		pf = &none;
	}
	if (o->publish && o->due_topic == NULL) {
		if (snprintf(topic, sizeof(topic), "gridcal/%s/due", pf->site) >=
		    (int)sizeof(topic))
			errx(AX_CONFIG, "due: site name too long for a topic");
		o->due_topic = topic;
	}
	if (o->due_topic != NULL && (o->due_topic[0] == '\0' ||
	    strpbrk(o->due_topic, "+#") != NULL))
		errx(AX_USAGE, "--topic %s: an exact topic, no wildcards",
		    o->due_topic);
	return cmd_due(o, pf);
}

static void
parse_cmd_opts(const char *cmd, int argc, char **argv, struct opts *o,
    const char **since, const char **now)
{
	const char *why;
	char msg[128];
	int64_t secs;
	int ch;

	optind = 0;	/* glibc: full re-initialisation */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":qho:", cmd_opts, NULL)) != -1) {
		if (ch == 'h') {
			(void)fputs(usage_text, stdout);
			(void)fputs(help_text, stdout);
			exit(AX_OK);
		}
		if (ch == '?' || ch == ':' || !allowed(cmd, ch)) {
			if (ch == '?' || ch == ':')
				warnx("%s: %s", cmd, cli_badopt(ch, argv,
				    optind, optopt, msg, sizeof(msg)));
			else
				warnx("%s: option %s does not apply", cmd,
				    argv[optind - 1]);
			usage();
		}
		switch (ch) {
		case O_STATE:
			o->state_dir = optarg;
			break;
		case O_KEY:
			o->key = optarg;
			break;
		case O_SEALS:
			o->seal_from = optarg;
			break;
		case O_SLACK:
			if (parse_int64(optarg, 0, 366LL * 86400, &secs, &why)
			    == -1)
				errx(AX_USAGE, "--utc-slack %s: %s", optarg,
				    why);
			o->utc_slack_ms = secs * 1000;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case O_RUN:
			o->run = optarg;
			break;
		case O_SINCE:
			*since = optarg;
			break;
		case O_JSON:
			o->json = 1;
			break;
		case O_NOW:
			*now = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case O_HTML:
			o->html = 1;
			break;
		case O_LIVE:
			o->live = 1;
			break;
		case O_PUBLISH:
			o->publish = 1;
			break;
		case O_CRED:
			o->cred = optarg;
			break;
		case O_TOPIC:
			o->due_topic = optarg;
			break;
		}
	}
	if (optind < argc)
		o->log = argv[optind++];
	if (optind < argc) {
		warnx("%s: unexpected argument %s", cmd, argv[optind]);
		usage();
	}
}

int
main(int argc, char **argv)
{
	static struct profile pf;
	struct opts o;
	const char *profile = NULL, *cmd, *since = NULL, *now = NULL;
	char err[PROFILE_ERR_MAX];
	char msg[128];
	int ch;

	memset(&o, 0, sizeof(o));
	o.utc_slack_ms = AUDIT_UTC_SLACK_MS;
	o.verify_soc_pct = 99.0;
	o.now_ms = utc_ms();
	/* "+": stop at the command; its options are parsed separately. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:hp:vV", global_opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'p':
			profile = optarg;
			break;
		case 'v':	/* accepted by every gridcal program */
			break;
		case 'h':
			(void)fputs(usage_text, stdout);
			(void)fputs(help_text, stdout);
			return AX_OK;
		case 'V':
			return cli_version() ? AX_USAGE : AX_OK;
		default:
			warnx("%s", cli_badopt(ch, argv, optind, optopt, msg,
			    sizeof(msg)));
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	cmd = argv[0];
	if (strcmp(cmd, "verify") != 0 && strcmp(cmd, "show") != 0 &&
	    strcmp(cmd, "report") != 0 && strcmp(cmd, "rotate") != 0 &&
	    strcmp(cmd, "plot") != 0 && strcmp(cmd, "due") != 0) {
		warnx("unknown command %s", cmd);
		usage();
	}
	parse_cmd_opts(cmd, argc, argv, &o, &since, &now);
	if (profile != NULL) {
		if (profile_load(profile, &pf, err, sizeof(err)) == -1)
			errx(AX_CONFIG, "%s", err);
		if (o.log == NULL)
			o.log = pf.audit_log;
		if (o.state_dir == NULL && (strcmp(cmd, "verify") == 0 ||
		    strcmp(cmd, "rotate") == 0))
			o.state_dir = pf.state_dir;
		o.verify_soc_pct = pf.limits.verify_soc_pct;
	}
	if (o.log == NULL) {
		warnx("%s: no LOG given (and no --profile)", cmd);
		usage();
	}
	if (now != NULL && parse_since(now, o.now_ms, &o.now_ms) == -1)
		errx(AX_USAGE, "--now %s: not a time", now);
	if (since != NULL) {
		if (parse_since(since, o.now_ms, &o.since_ms) == -1)
			errx(AX_USAGE, "--since %s: not a time (2026-11-25, "
			    "2026-11-25T08:24, 7d, 12h, 30m)", since);
		o.has_since = 1;
	}
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(&o);
	if (strcmp(cmd, "show") == 0)
		return cmd_show(&o);
	if (strcmp(cmd, "rotate") == 0)
		return cmd_rotate(&o);
	if (strcmp(cmd, "plot") == 0)
		return cmd_plot(&o);
	if (strcmp(cmd, "due") == 0)
		return due(&o, profile != NULL ? &pf : NULL);
	if (o.json && o.html)
		errx(AX_USAGE, "report: --json and --html exclude each other");
	if (o.run != NULL && !o.html)
		errx(AX_USAGE, "report: --run only applies with --html");
	return cmd_report(&o);
}
