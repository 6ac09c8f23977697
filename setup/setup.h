/*
 * gridcal-setup: prepares a host for gridcal, as root, idempotently. One
 * file per concern, as the daemons:
 *   setup.c  command line and the ordered steps
 *   users.c  the system users (useradd)
 *   files.c  directories and files under --root, with owners and modes
 *            the watchdog's strict checks demand
 *   broker.c the broker credentials and the mosquitto lines to add
 * A later step (Home Assistant discovery, a sealing seed) is one more row
 * in the step table of setup.c and one more file here: none of it is ever
 * linked into gridcal-watchdog.
 */
#ifndef GRIDCAL_SETUP_H
#define GRIDCAL_SETUP_H

#include <sys/types.h>

#include <limits.h>
#include <stdbool.h>

#include "profile.h"

#define SETUP_EX_USAGE	64
#define SETUP_EX_CONFIG	78

struct setup_user {
	const char	*name;
	const char	*comment;
	uid_t		 uid;
	gid_t		 gid;
};

struct setup {
	const char	*root;		/* --root: "" for / */
	const char	*datadir;	/* example profile, broker files */
	const char	*profile_rel;	/* profile path, as the site sees it */
	bool		 dry_run;	/* --dry-run: say, change nothing */
	int		 changes;	/* what this run changed */
	struct setup_user supervisor;	/* paths.supervisor_user */
	struct setup_user watchdog;	/* owns the state directory */
	struct profile	 pf;
};

extern struct setup su;

/* users.c: creates the user (system, no home, no login) unless present. */
void	user_ensure(struct setup_user *);

/* files.c: every path is the site's path; --root is prefixed here. */
void	root_path(char *buf, size_t bufsz, const char *site_path);
void	dir_ensure(const char *site_path, uid_t, gid_t, mode_t);
/* Copies src (an installed file, already under --root) unless present. */
void	file_copy_absent(const char *site_path, const char *src, uid_t, gid_t,
	    mode_t);
/* Writes text unless present; then owner and mode are made right. */
void	file_ensure(const char *site_path, const char *text, uid_t, gid_t,
	    mode_t);
void	note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* seal.c: the sealing seed; prints the verification key once */
void	step_seal(void);

/* broker.c */
void	broker_credentials(void);
void	broker_print_lines(void);

/* discovery.c: Home Assistant MQTT discovery configs, retained */
#define REPORT_CRED	"/etc/gridcal/report.cred"	/* gridcal-due.service */
void	discovery_publish(const char *cred);
/* gridcal_<site> in HA's [a-zA-Z0-9_-] */
void	discovery_node(char *buf, size_t bufsz);

#endif
