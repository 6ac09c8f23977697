/*
 * Directories and files under --root. Nothing is followed: a symlink where
 * a gridcal file should be is an error, not something to write through. A
 * file that exists keeps its content (the site's profile, its passwords);
 * only its owner and mode are made what the watchdog's checks demand.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "setup.h"

#define SETUP_FILE_MAX	(256 * 1024)

void
note(const char *fmt, ...)
{
	va_list ap;

	su.changes++;
	(void)printf("gridcal-setup: %s", su.dry_run ? "would " : "");
	va_start(ap, fmt);
	(void)vprintf(fmt, ap);
	va_end(ap);
	(void)putchar('\n');
}

void
root_path(char *buf, size_t bufsz, const char *site_path)
{
	int n;

	if (site_path[0] != '/')
		errx(SETUP_EX_CONFIG, "%s: not an absolute path", site_path);
	n = snprintf(buf, bufsz, "%s%s", su.root, site_path);
	if (n < 0 || (size_t)n >= bufsz)
		errx(1, "%s%s: path too long", su.root, site_path);
}

/* fd's owner and mode made uid:gid and mode (uid -1: dry run). */
static void
fix(int fd, const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		err(1, "%s", path);
	if (uid != (uid_t)-1 && (st.st_uid != uid || st.st_gid != gid)) {
		note("chown %s to %ld:%ld", path, (long)uid, (long)gid);
		if (!su.dry_run && fchown(fd, uid, gid) == -1)
			err(1, "chown %s", path);
	}
	if ((st.st_mode & 07777) != mode) {
		note("chmod %s from %04o to %04o", path,
		    (unsigned)(st.st_mode & 07777), (unsigned)mode);
		if (!su.dry_run && fchmod(fd, mode) == -1)
			err(1, "chmod %s", path);
	}
}

/* Parents of path that are missing: root's, 0755 (like install -d). */
static void
parents(const char *path)
{
	char buf[PATH_MAX], *p;

	(void)strlcpy(buf, path, sizeof(buf));
	for (p = buf + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(buf, 0755) == 0) {
			note("mkdir %s", buf);
			if (chmod(buf, 0755) == -1)	/* our umask is 077 */
				err(1, "chmod %s", buf);
		} else if (errno != EEXIST)
			err(1, "mkdir %s", buf);
		*p = '/';
	}
}

void
dir_ensure(const char *site_path, uid_t uid, gid_t gid, mode_t mode)
{
	char path[PATH_MAX];
	int fd;

	root_path(path, sizeof(path), site_path);
	if (su.dry_run && access(path, F_OK) == -1) {
		note("mkdir %s (%04o)", path, (unsigned)mode);
		return;
	}
	parents(path);
	if (mkdir(path, 0700) == 0)
		note("mkdir %s", path);
	else if (errno != EEXIST)
		err(1, "mkdir %s", path);
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		err(1, "%s: not a directory", path);
	fix(fd, path, uid, gid, mode);
	(void)close(fd);
}

void
file_ensure(const char *site_path, const char *text, uid_t uid, gid_t gid,
    mode_t mode)
{
	char path[PATH_MAX];
	size_t len = strlen(text), off = 0;
	ssize_t n;
	int fd;

	root_path(path, sizeof(path), site_path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1 && errno != EEXIST && !(su.dry_run && errno == ENOENT))
		err(1, "%s", path);
	if (fd == -1) {
		if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
			if (su.dry_run && errno == ENOENT) {
				note("write %s", path);
				return;
			}
			err(1, "%s", path);
		}
	} else {
		note("write %s", path);
		for (; off < len; off += (size_t)n)
			if ((n = write(fd, text + off, len - off)) <= 0)
				err(1, "write %s", path);
		if (fsync(fd) == -1)
			err(1, "fsync %s", path);
	}
	fix(fd, path, uid, gid, mode);
	if (close(fd) == -1)
		err(1, "close %s", path);
}

void
file_copy_absent(const char *site_path, const char *src, uid_t uid, gid_t gid,
    mode_t mode)
{
	char *text;
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1)
		err(1, "%s", src);
	if (!S_ISREG(st.st_mode) || st.st_size >= SETUP_FILE_MAX)
		errx(1, "%s: not a regular file of at most %d bytes", src,
		    SETUP_FILE_MAX);
	if ((text = calloc(1, (size_t)st.st_size + 1)) == NULL)
		err(1, "%s", src);
	if ((n = read(fd, text, (size_t)st.st_size)) != st.st_size)
		errx(1, "%s: short read", src);
	(void)close(fd);
	file_ensure(site_path, text, uid, gid, mode);
	free(text);
}
