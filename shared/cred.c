#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cred.h"

int
cred_load(const char *path, struct credentials *c, char *err,
    unsigned long errsz)
{
	char buf[CRED_USER_MAX + CRED_PASS_MAX + 2];
	struct stat st;
	ssize_t n;
	char *colon, *nl;
	int fd;

	memset(c, 0, sizeof(*c));
	/* O_NONBLOCK: a FIFO in its place must not hang us in open() */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		(void)snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		(void)snprintf(err, errsz, "%s: not a regular file", path);
		(void)close(fd);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IXGRP | S_IRWXO)) {
		(void)snprintf(err, errsz,
		    "%s: open to others or writable by group (mode %03o)", path,
		    (unsigned)(st.st_mode & 0777));
		(void)close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0) {
		(void)snprintf(err, errsz, "%s: empty or unreadable", path);
		explicit_bzero(buf, sizeof(buf));
		return -1;
	}
	buf[n] = '\0';
	if ((nl = strchr(buf, '\n')) != NULL) {
		if (nl[1] != '\0') {
			(void)snprintf(err, errsz, "%s: more than one line", path);
			explicit_bzero(buf, sizeof(buf));
			return -1;
		}
		*nl = '\0';
	}
	colon = strchr(buf, ':');
	if (colon == NULL || colon == buf || colon[1] == '\0' ||
	    (size_t)(colon - buf) >= sizeof(c->user) ||
	    strlen(colon + 1) >= sizeof(c->pass)) {
		(void)snprintf(err, errsz, "%s: expected one line user:password",
		    path);
		explicit_bzero(buf, sizeof(buf));
		return -1;
	}
	*colon = '\0';
	(void)strlcpy(c->user, buf, sizeof(c->user));
	(void)strlcpy(c->pass, colon + 1, sizeof(c->pass));
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

void
cred_clear(struct credentials *c)
{
	explicit_bzero(c, sizeof(*c));
}
