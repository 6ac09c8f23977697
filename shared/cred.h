/*
 * Broker credentials: a file holding one line "user:password". The file
 * must be a regular file, not readable or writable by group or others.
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
