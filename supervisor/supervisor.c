/*
 * gridcal-supervisor: the unprivileged half of gridcal. Parses the command
 * line, loads the site profile (a bad profile exits 78, EX_CONFIG, before
 * anything else happens) and runs one command:
 *
 *   check      read-only pre-flight classification, standalone
 *   calibrate  the calibration run, only as the watchdog's child
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmdline.h"
#include "pfcheck.h"
#include "log.h"
#include "sandbox.h"
#include "sup.h"

static void __attribute__((noreturn))
usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f,
"usage: gridcal-supervisor [-v] [-p FILE] check\n"
"       gridcal-supervisor [-v] [-p FILE] --check-profile\n"
"       gridcal-supervisor [-v] [-p FILE] --watchdog-fd N \\\n"
"           calibrate [--method solar|grid] [--confirm]\n");
	if (status != 0)
		exit(status);
	fprintf(f,
"\n"
"gridcal-supervisor runs the unattended calibration of the LFP bank's state-\n"
"of-charge counters as the state machine generated from spec/. It reads\n"
"telemetry with its own read-only broker credentials and never publishes a\n"
"setting: it asks gridcal-watchdog over the socketpair, and the watchdog\n"
"decides, publishes, and reverts on its own if the supervisor dies.\n"
"\n"
"COMMANDS\n"
"  check      Connect with the supervisor's credentials, wait (at most\n"
"             timing.preflight_wait_s) for a fresh value of every field of\n"
"             every pack and unit, and print the pre-flight classification\n"
"             with its figures: drift (pack voltages agree, SoC readings do\n"
"             not: calibrate), balanced (nothing to do), imbalance (voltages\n"
"             diverge: investigate the battery), unsafe (temperature,\n"
"             protection bits, cell delta or voltage, units not everyday).\n"
"             Read-only: no watchdog, no setting. Exits per class.\n"
"  calibrate  One calibration run. Only started by gridcal-watchdog, which\n"
"             passes --watchdog-fd; refused without it. Pre-flight, then:\n"
"             --method solar (default): no setting is ever requested; solar\n"
"               must bring the bank through bulk and absorption by itself.\n"
"             --method grid --confirm: asks the watchdog for charger priority\n"
"               then output priority at their calibration values, confirms\n"
"               grid charging engaged, holds absorption, verifies, reverts.\n"
"               Without --confirm the run is refused and nothing is touched.\n"
"             Aborts (always through the revert) on a cell over the limit,\n"
"             a temperature out of range, a protection bit, stale or invalid\n"
"             telemetry beyond the grace, unit fault or mismatch, a watchdog\n"
"             refusal, the run timeout; SIGTERM/SIGINT cancel the run.\n"
"             A progress line every timing.progress_interval_s (wall\n"
"             clock, elapsed, state, figures in the site's units, ETA to\n"
"             bulk, countdown of the absorption hold) and a final\n"
"             report (per-pack SoC before -> after, spreads, and next:\n"
"             what the person must do, if anything) go to stdout\n"
"             and, as audit events, to the watchdog's audit log.\n"
"\n"
"OPTIONS\n"
"  -p, --profile FILE site profile (default " PROFILE_DEFAULT_PATH ")\n"
"  --check-profile    offline: load and cross-check the profile and its\n"
"                     files, print the effective values; no broker\n"
"  --watchdog-fd N    the supervisor's end of the watchdog socketpair\n"
"  --method M         solar (default) or grid\n"
"  --confirm          authorise the setting changes of a grid run\n"
"  -v, --verbose      more detail on stderr (repeatable)\n"
"  -h, --help         this text\n"
"  -V, --version      the release\n"
"  Options take their value as --opt value or --opt=value.\n"
"\n"
"EXIT STATUS\n"
"  One table with gridcal-watchdog's (shared/exitcodes.h):\n"
"  calibrate: 0 PASS, 1 FAIL, 2 ABORTED, 3 REFUSED, 4 CANCELLED\n"
"  check:     0 balanced, 10 drift, 11 imbalance, 12 unsafe,\n"
"             13 no complete snapshot in time, 4 cancelled by a signal\n"
"  --check-profile: 0 the profile and its files are good, 78 not\n"
"  all:       64 usage error, 69 broker refused the credentials,\n"
"             70 internal error, 78 bad profile or credentials file\n");
	exit(0);
}

static int
parse_fd(const char *s)
{
	const char *errstr;
	long long n;
	int type;
	socklen_t len = sizeof(type);

	n = strtonum(s, 3, 1024, &errstr);
	if (errstr != NULL) {
		warnx("--watchdog-fd %s: %s", s, errstr);
		usage(SUP_EXIT_USAGE);
	}
	if (getsockopt((int)n, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    type != SOCK_SEQPACKET) {
		warnx("--watchdog-fd %s: not a SOCK_SEQPACKET socket", s);
		usage(SUP_EXIT_USAGE);
	}
	return (int)n;
}

int
main(int argc, char *argv[])
{
	enum { O_CHECKPF = 256, O_WDFD, O_METHOD, O_CONFIRM };
	static const struct option longopts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "check-profile", no_argument, NULL, O_CHECKPF },
		{ "watchdog-fd", required_argument, NULL, O_WDFD },
		{ "method", required_argument, NULL, O_METHOD },
		{ "confirm", no_argument, NULL, O_CONFIRM },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *profile_path = PROFILE_DEFAULT_PATH, *wdfd = NULL;
	const char *method = NULL;
	static struct sup s;	/* large: keep it off the stack */
	char msg[128];
	int ch, verbose = 0, fd = -1;
	bool confirm = false, checkpf = false;

	log_init("gridcal-supervisor", 0);
	log_setfatalstatus(SUP_EXIT_ERROR);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":hp:vV", longopts, NULL)) != -1) {
		switch (ch) {
		case O_CHECKPF:
			checkpf = true;
			break;
		case 'p':
			profile_path = optarg;
			break;
		case O_WDFD:
			wdfd = optarg;
			break;
		case O_METHOD:
			method = optarg;
			break;
		case O_CONFIRM:
			confirm = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(0);
		case 'V':
			return cli_version() ? SUP_EXIT_ERROR : 0;
		default:
			warnx("%s", cli_badopt(ch, argv, optind, optopt, msg,
			    sizeof(msg)));
			usage(SUP_EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	log_setverbose(verbose);
	if (checkpf) {
		if (argc != 0 || wdfd != NULL || method != NULL || confirm) {
			warnx("--check-profile takes no command or other option");
			usage(SUP_EXIT_USAGE);
		}
		return profile_check_offline(profile_path, PF_CHECK_SUPERVISOR,
		    verbose) == 0 ? 0 : SUP_EXIT_CONFIG;
	}
	if (argc != 1)
		usage(SUP_EXIT_USAGE);
	if (strcmp(argv[0], "check") == 0) {
		if (wdfd != NULL || method != NULL || confirm) {
			warnx("check takes no --watchdog-fd, --method or "
			    "--confirm");
			usage(SUP_EXIT_USAGE);
		}
	} else if (strcmp(argv[0], "calibrate") == 0) {
		if (method != NULL && strcmp(method, "solar") != 0 &&
		    strcmp(method, "grid") != 0) {
			warnx("--method %s: must be solar or grid", method);
			usage(SUP_EXIT_USAGE);
		}
		if (wdfd == NULL) {
			warnx("calibrate is started by gridcal-watchdog "
			    "(--watchdog-fd missing); run gridcal-watchdog "
			    "calibrate instead");
			usage(SUP_EXIT_USAGE);
		}
		fd = parse_fd(wdfd);
	} else {
		warnx("%s: unknown command", argv[0]);
		usage(SUP_EXIT_USAGE);
	}

	/* a bad profile is EX_CONFIG before anything else happens */
	log_setfatalstatus(SUP_EXIT_CONFIG);
	profile_load_or_die(profile_path, &s.pf);
	log_setfatalstatus(SUP_EXIT_ERROR);
	sandbox_enter(&s.pf);	/* before the broker or the watchdog speak */
	s.out = stdout;
	s.tty = isatty(STDOUT_FILENO) == 1;
	if (fd == -1)
		return sup_check(&s);
	s.method = method != NULL && strcmp(method, "grid") == 0 ?
	    METHOD_GRID : METHOD_SOLAR;
	s.confirm = confirm;
	return sup_calibrate(&s, fd);
}
