/* The offline profile check: gridcal-watchdog -n, -supervisor --check-profile. */
#ifndef GRIDCAL_PFCHECK_H
#define GRIDCAL_PFCHECK_H

enum pf_check { PF_CHECK_WATCHDOG, PF_CHECK_SUPERVISOR };

/* 0: the profile loads and the files it names are safe to open; the
 * effective values on stdout, what is wrong on stderr. */
int	profile_check_offline(const char *path, enum pf_check who,
	    int verbose);

#endif
