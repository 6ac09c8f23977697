/*
 * The command-line convention every gridcal program follows: -p/--profile,
 * -h/--help, -V/--version, -v; --opt=value and --opt value; messages
 * prefixed with getprogname(), never argv[0]'s path; a bad option named.
 * Header only: each program's main() parses with getopt_long(3), opterr
 * 0 and ':' leading its optstring (after any '+'), and asks this for the
 * words of its usage error.
 */
#ifndef GRIDCAL_CMDLINE_H
#define GRIDCAL_CMDLINE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "version.h"

/* "unknown option --bogus" or "option --profile needs a value" */
static inline const char *
cli_badopt(int ch, char *const argv[], int ind, int opt, char *buf,
    size_t len)
{
	const char *a = ind > 0 ? argv[ind - 1] : "";

	if (opt > 0 && opt < 256 && (a[0] != '-' || a[1] != '-'))
		(void)snprintf(buf, len, "-%c", opt);
	else
		(void)snprintf(buf, len, "%.*s", (int)strcspn(a, "="), a);
	if (ch == ':')
		(void)snprintf(buf + strlen(buf), len - strlen(buf),
		    ": option needs a value");
	else
		(void)snprintf(buf + strlen(buf), len - strlen(buf),
		    ": unknown option");
	return buf;
}

static inline int
cli_version(void)
{
	return printf("%s %s\n", getprogname(), GRIDCAL_VERSION) < 0 ||
	    fflush(stdout) == EOF;
}

#endif
