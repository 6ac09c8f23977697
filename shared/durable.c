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

/*
 * A new temporary file in dfd: O_EXCL (nothing planted under its name is
 * opened), never following a link, never blocking, a regular file.
 */
static int
open_tmp(int dfd, const char *name)
{
	struct stat st;
	int fd, saved;

	if ((fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC, 0600)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		saved = errno;
	else if (!S_ISREG(st.st_mode))
		saved = EINVAL;
	else
		return fd;
	(void)close(fd);
	errno = saved;
	return -1;
}

/* The directory itself is never reached through a link. */
static int
open_dir(const char *dir)
{
	return open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
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

/*
 * The temporary file is created O_EXCL (open_tmp) after a stale one is
 * removed: whatever was planted under its name (a FIFO, a link) is never
 * opened, only unlinked.
 */
int
durable_write(const char *dir, const char *name, const void *buf, size_t len)
{
	char tmp[PATH_MAX];
	int dfd, fd, ok, saved;

	if (join(tmp, "", name, ".tmp") == -1 || (dfd = open_dir(dir)) == -1)
		return -1;
	if ((unlinkat(dfd, tmp + 1, 0) == -1 && errno != ENOENT) ||
	    (fd = open_tmp(dfd, tmp + 1)) == -1) {
		saved = errno;
		(void)close(dfd);
		errno = saved;
		return -1;
	}
	errno = EIO;		/* a short write sets none */
	ok = write(fd, buf, len) == (ssize_t)len && fsync(fd) == 0;
	saved = errno;
	if (close(fd) == -1 && ok) {
		ok = 0;
		saved = errno;
	}
	if (ok && renameat(dfd, tmp + 1, dfd, name) == 0 && fsync(dfd) == 0) {
		(void)close(dfd);
		return 0;
	}
	if (ok)
		saved = errno;
	(void)unlinkat(dfd, tmp + 1, 0);
	(void)close(dfd);
	errno = saved;
	return -1;
}

int
durable_remove(const char *dir, const char *name)
{
	int dfd, rc, saved;

	if ((dfd = open_dir(dir)) == -1)
		return -1;
	rc = (unlinkat(dfd, name, 0) == -1 && errno != ENOENT) ? -1 :
	    fsync(dfd);
	saved = errno;
	(void)close(dfd);
	errno = saved;
	return rc;
}

int
durable_exists(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	return join(path, dir, name, "") == -1 || lstat(path, &st) == 0 ||
	    errno != ENOENT;
}
