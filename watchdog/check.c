/*
 * gridcal-watchdog-check: gridcal-watchdog -n, as sshd -t, in a program of
 * its own so that none of it is in the privileged binary (which execs us
 * under its name, conf.c). It loads the profile with the watchdog's own
 * view, checks the modes of the files the watchdog would open, and prints
 * every key read as it was taken. No broker, no root, nothing written.
 */
#include <sys/stat.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"
#include "cred.h"
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

int
main(int argc, char *argv[])
{
	const char *path = PROFILE_DEFAULT_PATH;
	int ch, verbose = 0;

	log_init(getprogname(), 0);
	opterr = 0;	/* the usage says it, under our name */
	while ((ch = getopt(argc, argv, "p:v")) != -1)
		if (ch == 'p')
			path = optarg;
		else if (ch == 'v')
			verbose++;
		else
			break;
	if (ch != -1 || optind != argc) {
		fprintf(stderr, "usage: %s [-v] [-p FILE]\n", getprogname());
		return 64;
	}
	return check(path, verbose);
}
