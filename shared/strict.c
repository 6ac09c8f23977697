/*
 * StrictModes: see strict.h. Checked with lstat(2) from the top down, so
 * a link anywhere is refused rather than followed.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "strict.h"

static int
refuse(char *err, size_t errsz, const char *path, const char *rule)
{
	(void)snprintf(err, errsz, "%s: %s", path, rule);
	return -1;
}

/* One path component (a directory above, or the object itself). */
static int
check_one(const char *path, const struct stat *st, int flags, uid_t owner,
    gid_t gid, char *err, size_t errsz)
{
	int dir = S_ISDIR(st->st_mode);

	if (S_ISLNK(st->st_mode))
		return refuse(err, errsz, path, "is a symbolic link");
	if (flags & STRICT_DIR ? !dir : !S_ISREG(st->st_mode))
		return refuse(err, errsz, path, flags & STRICT_DIR ?
		    "not a directory" : "not a regular file");
	if (st->st_uid != 0 && st->st_uid != owner)
		return refuse(err, errsz, path, "not owned by root or the "
		    "watchdog user");
	if (dir && (st->st_mode & S_ISVTX) && st->st_uid == 0 &&
	    (flags & STRICT_SECRET) == 0)
		return 0;	/* /tmp: others cannot rename our entries */
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return refuse(err, errsz, path, "writable by group or others");
	if ((flags & STRICT_SECRET) && ((st->st_mode & (S_IRWXO | S_IXGRP)) ||
	    ((st->st_mode & S_IRGRP) && st->st_gid != gid)))
		return refuse(err, errsz, path, "readable by others (mode "
		    "must be 0600, or 0640 for the supervisor's group)");
	return 0;
}

int
strict_check(const char *path, int flags, uid_t owner, gid_t gid, char *err,
    size_t errsz)
{
	char buf[PATH_MAX];
	struct stat st;
	char *p;

	if (path[0] != '/')
		return refuse(err, errsz, path, "not an absolute path");
	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		return refuse(err, errsz, path, "path too long");
	/* every directory above, from "/" down */
	for (p = buf; (p = strchr(p + 1, '/')) != NULL;) {
		*p = '\0';
		if (lstat(buf[0] != '\0' ? buf : "/", &st) == -1)
			return errno == ENOENT && (flags & STRICT_MAYBE) ? 0 :
			    refuse(err, errsz, buf, strerror(errno));
		if (check_one(buf[0] != '\0' ? buf : "/", &st, STRICT_DIR,
		    owner, gid, err, errsz) == -1)
			return -1;
		*p = '/';
	}
	if (lstat(path, &st) == -1)
		return errno == ENOENT && (flags & STRICT_MAYBE) ? 0 :
		    refuse(err, errsz, path, strerror(errno));
	return check_one(path, &st, flags, owner, gid, err, errsz);
}
