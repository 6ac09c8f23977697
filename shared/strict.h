/*
 * StrictModes, after OpenSSH's secure_filename(): before a root daemon
 * trusts a file, the file and every directory above it must be owned by
 * root or by the daemon's own user and not be writable by anyone else, so
 * nobody else (the supervisor's user above all) can replace, edit or
 * redirect it. A world-writable directory is accepted only with the sticky
 * bit and owned by root (/tmp): its entries cannot be renamed by others.
 * Symbolic links are refused anywhere in the path.
 */
#ifndef GRIDCAL_STRICT_H
#define GRIDCAL_STRICT_H

#include <sys/types.h>

#include <stddef.h>

#define STRICT_DIR	0x1	/* must be a directory (else a regular file) */
#define STRICT_SECRET	0x2	/* no access for others; group read only by
				   gid (a credential file) */
#define STRICT_MAYBE	0x4	/* a missing file (or directory above it)
				   is fine: it is created, or fails, later */

/*
 * 0 if path (absolute) and its parents pass; -1 with "path: rule" in err.
 * owner: the one non-root user allowed to own them ((uid_t)-1: none);
 * gid: the group a STRICT_SECRET file may be readable by ((gid_t)-1: none).
 */
int	strict_check(const char *path, int flags, uid_t owner, gid_t gid,
	    char *err, size_t errsz);

#endif
