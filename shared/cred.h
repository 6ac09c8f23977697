/*
 * Broker credentials: a file holding one line "user:password". The file
 * must be a regular file, with no access for others and at most read
 * access for its group (0640: root-owned, readable by the supervisor's
 * group). The watchdog holds both files to its StrictModes first
 * (shared/strict.h): its own must be 0600.
 */
#ifndef GRIDCAL_CRED_H
#define GRIDCAL_CRED_H

#define CRED_USER_MAX	64
#define CRED_PASS_MAX	256

struct credentials {
	char	user[CRED_USER_MAX];
	char	pass[CRED_PASS_MAX];
};

/* -1 with err set if the file is missing, unsafe or malformed. */
int	cred_load(const char *path, struct credentials *, char *err,
	    unsigned long errsz);
/* Wipes the secret from memory. */
void	cred_clear(struct credentials *);

#endif
