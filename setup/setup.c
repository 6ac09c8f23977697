/*
 * gridcal-setup: makes a host ready for gridcal (see setup.h and
 * gridcal-setup(8)). Idempotent: a second run changes nothing and says so.
 */
#include <sys/stat.h>

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "setup.h"
#include "cmdline.h"

#ifndef GRIDCAL_DATADIR
#define GRIDCAL_DATADIR	"/usr/local/share/gridcal"
#endif
#define EXAMPLE_PROFILE	"eg4-lp4-v2.yaml"

struct setup su = {
	.root = "", .datadir = GRIDCAL_DATADIR,
	.profile_rel = PROFILE_DEFAULT_PATH,
	.watchdog = { .name = "gridcal-watchdog",
	    .comment = "gridcal watchdog (state directory, audit log)" },
	.supervisor = { .comment = "gridcal supervisor (unprivileged)" },
};

static const char usage_text[] =
"usage: gridcal-setup [-n] [--root DIR] [--watchdog-user NAME]\n"
"       gridcal-setup [-n] [--root DIR] --ha-discovery CRED\n"
"\n"
"Prepares this host for gridcal, as root; running it again changes nothing\n"
"that is already right:\n"
"  - /etc/gridcal (root's, 0755) and profile.yaml copied from\n"
"    " GRIDCAL_DATADIR "/" EXAMPLE_PROFILE " if absent (0644)\n"
"  - the system users paths.supervisor_user (the supervisor) and\n"
"    gridcal-watchdog (the watchdog once it has dropped root)\n"
"  - paths.state_dir (gridcal-watchdog's, 0700), which holds the audit log\n"
"  - the audit log's sealing key audit.key there (root's, 0600, as the\n"
"    watchdog runs) if absent; its VERIFICATION KEY is printed once, to be kept\n"
"    off this host (gridcal-audit verify --key)\n"
"  - credentials.watchdog (gridcal-watchdog's, 0600) and\n"
"    credentials.supervisor (root:<supervisor group>, 0640) and\n"
"    " REPORT_CRED " (root's, 0600: the report-only user of\n"
"    gridcal-due.service and --ha-discovery), each with a random broker\n"
"    password if absent\n"
"then prints the mosquitto lines to add for the three broker users and the\n"
"stanza of Home Assistant's (homeassistant: it may write only\n"
"gridcal/SITE/authorise, the button that authorises one grid run).\n"
"\n"
"  -n, --dry-run         say what would change, change nothing\n"
"      --root DIR        make the files under DIR instead of / (tests,\n"
"                        images); users are still made on this host\n"
"      --watchdog-user NAME\n"
"                        the state directory's owner (gridcal-watchdog)\n"
"      --ha-discovery CRED\n"
"                        only publish the Home Assistant MQTT discovery\n"
"                        configs (retained, homeassistant/+/gridcal_SITE/:\n"
"                        sensors, the button Authorise grid calibration)\n"
"                        with the broker user in CRED (\"user:password\",\n"
"                        one that may write homeassistant/#); -n prints\n"
"                        them instead\n"
"  -h, --help            this text\n"
"  -p, --profile FILE    the profile to install and check, under --root\n"
"                        (default " PROFILE_DEFAULT_PATH ")\n"
"  -v, --verbose         more detail on stderr\n"
"  -V, --version         the release\n"
"\n"
"Exit status: 0 done (or nothing to do), 1 failed, 64 usage, 78 bad\n"
"profile.\n";

static void __attribute__((noreturn))
usage(const char *why)
{
	if (why == NULL) {
		(void)fputs(usage_text, stdout);
		exit(0);
	}
	(void)fprintf(stderr, "%s: %s\n%.*s", getprogname(), why,
	    (int)strcspn(usage_text, "\n") + 1, usage_text);
	exit(SETUP_EX_USAGE);
}

static void
step_etc(void)
{
	char src[PATH_MAX];
	int n;

	dir_ensure("/etc/gridcal", 0, 0, 0755);
	n = snprintf(src, sizeof(src), "%s%s/" EXAMPLE_PROFILE, su.root,
	    su.datadir);
	if (n < 0 || (size_t)n >= sizeof(src))
		errx(1, "%s: path too long", su.datadir);
	/* the supervisor reads it; only root may change it */
	file_copy_absent(su.profile_rel, src, 0, 0, 0644);
}

static void
step_profile(void)
{
	char path[PATH_MAX], err[512];

	root_path(path, sizeof(path), su.profile_rel);
	if (su.dry_run && access(path, F_OK) == -1)
		(void)snprintf(path, sizeof(path), "%s%s/" EXAMPLE_PROFILE,
		    su.root, su.datadir);
	if (profile_load(path, &su.pf, err, sizeof(err)) == -1)
		errx(SETUP_EX_CONFIG, "%s", err);
	su.supervisor.name = su.pf.supervisor_user;
	if (strcmp(su.supervisor.name, su.watchdog.name) == 0)
		errx(SETUP_EX_CONFIG, "%s: paths.supervisor_user must not be "
		    "the watchdog's user %s", path, su.watchdog.name);
}

static void
step_users(void)
{
	user_ensure(&su.supervisor);
	user_ensure(&su.watchdog);
}

/*
 * The audit log belongs in the state directory: logrotate would break its
 * chain and log2ram would make its fsync reach RAM only.
 */
static void
step_state(void)
{
	const char *sd = su.pf.state_dir, *al = su.pf.audit_log;
	size_t n = strlen(sd);

	dir_ensure(sd, su.watchdog.uid, su.watchdog.gid, 0700);
	if (strncmp(al, sd, n) != 0 || al[n] != '/' ||
	    strchr(al + n + 1, '/') != NULL)
		warnx("%s: paths.audit_log %s is not in paths.state_dir %s: "
		    "logrotate or log2ram there would break the audit chain",
		    su.pf.path, al, sd);
}

static void
step_broker(void)
{
	dir_ensure("/etc/gridcal", 0, 0, 0755);
	broker_credentials();
}

/* In order; a later issue's step (HA discovery, sealing seed) goes here. */
static const struct { const char *name; void (*fn)(void); } steps[] = {
	{ "etc", step_etc },
	{ "profile", step_profile },
	{ "users", step_users },
	{ "state", step_state },
	{ "seal", step_seal },
	{ "credentials", step_broker },
	{ "mosquitto", broker_print_lines },
};

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "root", required_argument, NULL, 'r' },
		{ "watchdog-user", required_argument, NULL, 'w' },
		{ "ha-discovery", required_argument, NULL, 'D' },
		{ "profile", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *discovery = NULL;
	char msg[128];
	int ch, verbose = 0;

	log_init("gridcal-setup", 0);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":hnp:vV", longopts, NULL)) != -1)
		switch (ch) {
		case 'n':
			su.dry_run = true;
			break;
		case 'r':
			if (optarg[0] != '/' || strcmp(optarg, "/") == 0)
				usage("--root needs an absolute directory "
				    "other than /");
			su.root = optarg;
			break;
		case 'p':
			if (optarg[0] != '/')
				usage("--profile needs an absolute path "
				    "(under --root)");
			su.profile_rel = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'w':
			su.watchdog.name = optarg;
			break;
		case 'D':
			discovery = optarg;
			break;
		case 'h':
			usage(NULL);
		case 'V':
			return cli_version();
		default:
			usage(cli_badopt(ch, argv, optind, optopt, msg,
			    sizeof(msg)));
		}
	log_setverbose(verbose);
	if (optind != argc)
		usage("no arguments expected");
	if (discovery != NULL) {	/* a step of its own: needs the broker */
		step_profile();
		discovery_publish(discovery);
		return 0;
	}
	if (!su.dry_run && geteuid() != 0)
		errx(1, "must run as root (or with --dry-run)");
	(void)umask(077);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		steps[i].fn();
	(void)printf("gridcal-setup: %s\n", su.changes == 0 ?
	    "nothing to change" : su.dry_run ? "dry run: nothing changed" :
	    "done");
	return 0;
}
