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
	char buf[CRED_USER_MAX + CRED_PASS_MAX + 2], mode[16] = "";
	char *colon, *nl;
	const char *why = NULL;
	struct stat st;
	ssize_t n = 0;
	int fd;

	memset(c, 0, sizeof(*c));
	/* O_NONBLOCK: a FIFO in its place must not hang us in open() */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		(void)snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (st.st_mode & (S_IWGRP | S_IXGRP | S_IRWXO)) {
		why = "open to others or writable by group";
		(void)snprintf(mode, sizeof(mode), " (mode %03o)",
		    (unsigned)(st.st_mode & 0777));
	} else if ((n = read(fd, buf, sizeof(buf) - 1)) <= 0)
		why = "empty or unreadable";
	(void)close(fd);
	/* one exit from here on: the buffer is wiped whatever happened */
	buf[n > 0 ? n : 0] = '\0';
	if ((nl = strchr(buf, '\n')) != NULL && nl[1] != '\0' && why == NULL)
		why = "more than one line";
	if (nl != NULL)
		*nl = '\0';
	colon = strchr(buf, ':');
	if (why == NULL && (colon == NULL || colon == buf || colon[1] == '\0' ||
	    (size_t)(colon - buf) >= sizeof(c->user) ||
	    strlen(colon + 1) >= sizeof(c->pass)))
		why = "expected one line user:password";
	if (why == NULL) {
		*colon = '\0';
		(void)strlcpy(c->user, buf, sizeof(c->user));
		(void)strlcpy(c->pass, colon + 1, sizeof(c->pass));
	} else
		(void)snprintf(err, errsz, "%s: %s%s", path, why, mode);
	explicit_bzero(buf, sizeof(buf));
	return why == NULL ? 0 : -1;
}

void
cred_clear(struct credentials *c)
{
	explicit_bzero(c, sizeof(*c));
}
