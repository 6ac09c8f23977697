/*
 * Durable small state files: see durable.h. The rename is atomic, the
 * fsyncs make both the contents and the directory entry survive power loss.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "durable.h"

static int
sync_dir(const char *dir)
{
	int fd, rc, saved;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	saved = errno;
	(void)close(fd);
	errno = saved;
	return rc;
}

static int
join(char *buf, const char *dir, const char *name, const char *suffix)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s%s", dir, name, suffix);

	if (n < 0 || n >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
durable_write(const char *dir, const char *name, const void *buf, size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd, ok, saved;

	if (join(path, dir, name, "") == -1 || join(tmp, dir, name, ".tmp") ==
	    -1)
		return -1;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		return -1;
	errno = EIO;		/* a short write sets none */
	ok = write(fd, buf, len) == (ssize_t)len && fsync(fd) == 0;
	saved = errno;
	if (close(fd) == -1 && ok) {
		ok = 0;
		saved = errno;
	}
	if (ok) {
		if (rename(tmp, path) == 0 && sync_dir(dir) == 0)
			return 0;
		saved = errno;
	}
	(void)unlink(tmp);
	errno = saved;
	return -1;
}

int
durable_remove(const char *dir, const char *name)
{
	char path[PATH_MAX];

	if (join(path, dir, name, "") == -1 ||
	    (unlink(path) == -1 && errno != ENOENT))
		return -1;
	return sync_dir(dir);
}

int
durable_exists(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	return join(path, dir, name, "") == -1 || lstat(path, &st) == 0 ||
	    errno != ENOENT;
}
