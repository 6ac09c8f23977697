/*
 * Output files are written to a temporary file in the output directory
 * and renamed into place only when complete, so a failed or interrupted
 * run never leaves a half-written table for make to pick up.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gen.h"

int
out_open(struct out *o, const char *dir, const char *name)
{
	int fd;

	memset(o, 0, sizeof(*o));
	if ((size_t)snprintf(o->path, sizeof(o->path), "%s/%s", dir, name) >=
	    sizeof(o->path) ||
	    (size_t)snprintf(o->tmp, sizeof(o->tmp), "%s/.%s.XXXXXX", dir,
	    name) >= sizeof(o->tmp)) {
		fprintf(stderr, "gen: %s/%s: path too long\n", dir, name);
		return -1;
	}
	if ((fd = mkstemp(o->tmp)) == -1) {
		fprintf(stderr, "gen: %s: %s\n", o->tmp, strerror(errno));
		return -1;
	}
	/* mkstemp makes 0600; generated sources are ordinary files. */
	if (fchmod(fd, 0644) == -1 || (o->f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "gen: %s: %s\n", o->tmp, strerror(errno));
		(void)close(fd);
		(void)unlink(o->tmp);
		return -1;
	}
	return 0;
}

void
out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vfprintf(o->f, fmt, ap) < 0)
		o->failed = true;
	va_end(ap);
}

void
out_abandon(struct out *o)
{
	if (o->f != NULL)
		(void)fclose(o->f);
	o->f = NULL;
	(void)unlink(o->tmp);
}

int
out_close(struct out *o)
{
	int saved;

	if (o->failed || ferror(o->f) || fflush(o->f) != 0) {
		saved = errno;
		out_abandon(o);
		fprintf(stderr, "gen: %s: %s\n", o->path, strerror(saved));
		return -1;
	}
	if (fclose(o->f) != 0) {
		saved = errno;
		o->f = NULL;
		(void)unlink(o->tmp);
		fprintf(stderr, "gen: %s: %s\n", o->path, strerror(saved));
		return -1;
	}
	o->f = NULL;
	if (rename(o->tmp, o->path) == -1) {
		fprintf(stderr, "gen: %s: %s\n", o->path, strerror(errno));
		(void)unlink(o->tmp);
		return -1;
	}
	return 0;
}

const char *
upper(const char *prefix, const char *name, char *buf, size_t bufsz)
{
	size_t i, n;

	n = strlcpy(buf, prefix, bufsz);
	for (i = 0; name[i] != '\0' && n + 1 < bufsz; i++, n++) {
		char c = name[i];

		buf[n] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
	}
	buf[n < bufsz ? n : bufsz - 1] = '\0';
	return buf;
}
