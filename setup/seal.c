/*
 * The sealing seed (shared/auditseal.h): made once, in the state directory
 * as the watchdog's epoch-0 key, and its verification key printed once for
 * the owner to keep off the host. It is not stored anywhere else: a lost
 * verification key cannot be recovered, only replaced with a new seed
 * (move audit.key, the log and its anchor aside, run gridcal-setup again).
 */
#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sealvk.h"
#include "setup.h"

void
step_seal(void)
{
	char dir[PATH_MAX], path[PATH_MAX + sizeof(SEAL_KEY_NAME) + 1];
	char vk[SEALVK_TEXT];
	int rc, fd;

	root_path(dir, sizeof(dir), su.pf.state_dir);
	(void)snprintf(path, sizeof(path), "%s/%s", dir, SEAL_KEY_NAME);
	if (su.dry_run) {
		if (access(path, F_OK) == -1)
			note("generate the sealing key %s", path);
		return;
	}
	if ((rc = sealvk_keygen(dir, vk)) == -1)
		err(1, "%s", path);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		err(1, "%s", path);
	/* the watchdog's strict check: owned by the user it runs as (root,
	 * like its intent mark), no group or other bits */
	if (fchown(fd, 0, 0) == -1 || fchmod(fd, 0600) == -1)
		err(1, "%s", path);
	(void)close(fd);
	if (rc == 1)
		return;		/* its verification key was printed then */
	note("generate the sealing key %s", path);
	(void)printf("\nVERIFICATION KEY (printed this once; keep it off this "
	    "host, e.g. on paper):\n\n    %s\n\n"
	    "    gridcal-audit verify --key KEY --state-dir %s\n"
	    "checks every seal of the audit log with it.\n\n", vk,
	    su.pf.state_dir);
	explicit_bzero(vk, sizeof(vk));
}
