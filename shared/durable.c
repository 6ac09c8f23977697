/*
 * Durable small state files: see durable.h. The rename is atomic, the
 * fsyncs make both the contents and the directory entry survive power loss.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "durable.h"

/* The directory itself is never reached through a link. */
static int
open_dir(const char *dir)
{
	return open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/*
 * The temporary file is created O_EXCL after a stale one is removed:
 * whatever was planted under its name (a FIFO, a link) is never opened,
 * only unlinked.
 */
int
durable_writeat(int dfd, const char *name, const void *buf, size_t len,
    int sync)
{
	char tmp[NAME_MAX + 1];
	int fd, ok, saved;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((unlinkat(dfd, tmp, 0) == -1 && errno != ENOENT) ||
	    (fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC, 0600)) == -1)
		return -1;
	errno = EIO;		/* a short write sets none */
	ok = write(fd, buf, len) == (ssize_t)len && (!sync || fsync(fd) == 0);
	ok = close(fd) == 0 && ok;
	if (ok && renameat(dfd, tmp, dfd, name) == 0 &&
	    (!sync || fsync(dfd) == 0))
		return 0;
	saved = errno;
	(void)unlinkat(dfd, tmp, 0);
	errno = saved;
	return -1;
}

int
durable_write(const char *dir, const char *name, const void *buf, size_t len)
{
	int dfd, rc, saved;

	if ((dfd = open_dir(dir)) == -1)
		return -1;
	rc = durable_writeat(dfd, name, buf, len, 1);
	saved = errno;
	(void)close(dfd);
	errno = saved;
	return rc;
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
	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);

	return n < 0 || (size_t)n >= sizeof(path) || lstat(path, &st) == 0 ||
	    errno != ENOENT;
}

ssize_t
durable_read(int dfd, const char *name, char *buf, size_t sz, int strict,
    char *why, size_t whysz)
{
	struct stat st, ds;
	ssize_t n = -1;
	int fd, e = 0;

	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1 || fstat(fd, &st) == -1 || fstat(dfd, &ds) == -1)
		e = errno;
	else if (!S_ISREG(st.st_mode) || (strict && ((st.st_uid != geteuid() &&
	    st.st_uid != ds.st_uid) || (st.st_mode & 077) != 0)))
		e = -1;		/* not the file it must be */
	else if ((n = read(fd, buf, sz)) == -1 || (size_t)n >= sz)
		e = n == -1 ? errno : EFBIG;
	if (e == -1 && strict)
		(void)snprintf(why, whysz, "%s: not a regular file owned by uid "
		    "%ld or %ld with mode 0600", name, (long)geteuid(),
		    (long)ds.st_uid);
	else if (e == -1)
		(void)snprintf(why, whysz, "%s: not a regular file", name);
	else if (e != 0)
		(void)snprintf(why, whysz, "%s: %s", name, strerror(e));
	if (fd != -1)
		(void)close(fd);
	errno = e == -1 ? EPERM : e;
	return e == 0 ? n : -1;
}
