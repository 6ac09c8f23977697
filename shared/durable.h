/*
 * Small state files that must survive a crash or a power loss whole or not
 * at all (the watchdog's intent mark, the audit anchor, the seal key):
 * written to a temporary file, fsync(2)ed, renamed over the old one, and
 * the directory fsync(2)ed. Read back as a StrictModes daemon would. Names
 * are plain file names inside the directory, never paths.
 */
#ifndef GRIDCAL_DURABLE_H
#define GRIDCAL_DURABLE_H

#include <sys/types.h>

/* Replaces dir/name with len bytes of buf; -1 with errno on failure. */
int	durable_write(const char *dir, const char *name, const void *buf,
	    size_t len);
/* The same in the directory dfd; sync 0 (tests, benches) skips fsync. */
int	durable_writeat(int dfd, const char *name, const void *buf, size_t len,
	    int sync);
/* Removes dir/name durably; a missing file is fine. -1 with errno. */
int	durable_remove(const char *dir, const char *name);
/*
 * 0 only if dir/name certainly does not exist; 1 if it exists or if that
 * cannot be told (fail safe: callers treat it as present).
 */
int	durable_exists(const char *dir, const char *name);
/*
 * Reads dfd/name, a regular file (never through a link, never blocking),
 * into buf: its length (< sz), or -1 with errno (ENOENT: missing) and the
 * reason, naming the file, in why. strict: also owned by us or by the
 * directory's owner, no group or other permission bits.
 */
ssize_t	durable_read(int dfd, const char *name, char *buf, size_t sz,
	    int strict, char *why, size_t whysz);

#endif
