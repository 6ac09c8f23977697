/*
 * Landlock (where the kernel has it), for the sandboxes of both programs:
 * every way to change the filesystem is handled, and allowed only beneath
 * the given fds; optionally TCP connects only to given ports, and no
 * signals or abstract sockets outside the domain. Reads are not
 * restricted (the resolver reads /etc). Applies to this process and to
 * what it starts later; needs PR_SET_NO_NEW_PRIVS (or CAP_SYS_ADMIN).
 */
#ifndef GRIDCAL_LANDLOCK_H
#define GRIDCAL_LANDLOCK_H

#include <stdint.h>

struct ll_rule {
	int	fd;		/* O_PATH fd of a directory or a file */
	int	dir;		/* 1: everything beneath; 0: the file only */
};

/*
 * ports: n_ports TCP ports connect(2) may reach (n_ports -1: TCP is not
 * restricted); scoped: also no signals, no abstract unix sockets out of
 * the domain. 0 applied, 1 no Landlock in this kernel, -1 with errno.
 */
int	ll_restrict(const struct ll_rule *, int nrules, const uint16_t *ports,
	    int n_ports, int scoped);

#endif
