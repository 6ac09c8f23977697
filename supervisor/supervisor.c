/*
 * gridcal-supervisor: the unprivileged half of gridcal. This entry point
 * parses the command line and loads the site profile; a bad profile exits
 * 78 (EX_CONFIG) before anything else happens.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "profile.h"

#define EX_USAGE	64

static void __attribute__((noreturn))
usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f,
"usage: gridcal-supervisor [--profile FILE] [-v] check\n"
"\n"
"  check            load and validate the site profile, then exit\n"
"\n"
"  --profile FILE   site profile (default " PROFILE_DEFAULT_PATH ")\n"
"  -v, --verbose    more detail on stderr\n"
"  -h, --help       this text\n"
"\n"
"Exit status: 0 success, 64 usage error, 78 bad profile.\n");
	exit(status);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *profile_path = PROFILE_DEFAULT_PATH;
	struct profile pf;
	int ch, verbose = 0;

	log_init("gridcal-supervisor", 0);
	while ((ch = getopt_long(argc, argv, "p:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			profile_path = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(0);
		default:
			usage(EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	log_setverbose(verbose);
	if (argc != 1 || strcmp(argv[0], "check") != 0)
		usage(EX_USAGE);
	profile_load_or_die(profile_path, &pf);
	printf("profile %s: site %s, %d packs, %d units: valid\n", pf.path,
	    pf.site, pf.packs, pf.units);
	return 0;
}
