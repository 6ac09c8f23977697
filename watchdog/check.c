/*
 * gridcal-watchdog-check: gridcal-watchdog -n, as sshd -t, in a program of
 * its own so that none of it is in the privileged binary (which execs us
 * under its name, conf.c). It loads the profile with the watchdog's own
 * view, checks the modes of the files the watchdog would open, and prints
 * every key read as it was taken. No broker, no root, nothing written.
 */
#include <sys/stat.h>

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmdline.h"
#include "conf.h"
#include "cred.h"
#include "exitcodes.h"
#include "log.h"

/* conf.c's StrictModes rule (mode_ok), for a program: executable too. */
static int
exec_ok(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & (S_IWGRP | S_IWOTH)) == 0 && (st.st_uid == 0 ||
	    st.st_uid == geteuid()) && (st.st_mode & S_IXUSR) != 0;
}

static int
check(const char *path, int verbose)
{
	static struct profile pf;	/* large */
	struct credentials c;
	char msg[PROFILE_ERR_MAX], *text = NULL;
	size_t len;
	int rc;

	log_setverbose(verbose);	/* -v: the defaults used */
	if ((conf_shown = open_memstream(&text, &len)) == NULL)
		err(78, "open_memstream");
	rc = conf_load(path, &pf, msg, sizeof(msg));
	(void)fclose(conf_shown);
	conf_shown = NULL;
	if (rc == -1) {
		free(text);
		errx(78, "%s", msg);
	}
	if (cred_load(pf.cred_watchdog, &c, msg, sizeof(msg)) == -1) {
		warnx("credentials %s", msg);
		rc = 78;
	}
	cred_clear(&c);
	if (!exec_ok(pf.supervisor_path)) {
		warnx("paths.supervisor %s: missing, or a bad owner or mode (want "
		    "an executable of root's or ours, not writable by group or "
		    "others)", pf.supervisor_path);
		rc = 78;
	}
	printf("profile %s\n  sha256 %s\nwhat the watchdog reads, as it "
	    "took it:\n%s%s\n", path, pf.digest_hex, text,
	    rc == 0 ? "profile OK" : "profile NOT OK");
	free(text);
	return rc;
}

static void __attribute__((noreturn))
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "%s: %s\n", getprogname(), why);
	fprintf(why != NULL ? stderr : stdout, "usage: %s [-v] [-p FILE]\n%s",
	    getprogname(), why != NULL ? "" : "The offline check of "
	    "gridcal-watchdog -n: the profile as the watchdog reads it, the\n"
	    "modes of the files it names; exit 0 or 78. See gridcal-watchdog(8).\n");
	exit(why != NULL ? GC_EX_USAGE : 0);
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
	const char *path = PROFILE_DEFAULT_PATH;
	char msg[128];
	int ch, verbose = 0;

	log_init(getprogname(), 0);
	opterr = 0;	/* cli_badopt() words it, under our name */
	while ((ch = getopt_long(argc, argv, ":hp:vV", longopts, NULL)) != -1)
		if (ch == 'h')
			usage(NULL);
		else if (ch == 'p')
			path = optarg;
		else if (ch == 'v')
			verbose++;
		else if (ch == 'V')
			return cli_version() ? GC_EX_OSERR : 0;
		else
			usage(cli_badopt(ch, argv, optind, optopt, msg,
			    sizeof(msg)));
	if (optind != argc)
		usage("takes no command");
	return check(path, verbose);
}
