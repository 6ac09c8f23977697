/*
 * Small state files that must survive a crash or a power loss whole or not
 * at all (the watchdog's intent mark): written to a temporary file,
 * fsync(2)ed, renamed over the old one, and the directory fsync(2)ed.
 * Names are plain file names inside dir, never paths.
 */
#ifndef GRIDCAL_DURABLE_H
#define GRIDCAL_DURABLE_H

#include <stddef.h>

/* Replaces dir/name with len bytes of buf; -1 with errno on failure. */
int	durable_write(const char *dir, const char *name, const void *buf,
	    size_t len);
/* Removes dir/name durably; a missing file is fine. -1 with errno. */
int	durable_remove(const char *dir, const char *name);
/*
 * 0 only if dir/name certainly does not exist; 1 if it exists or if that
 * cannot be told (fail safe: callers treat it as present).
 */
int	durable_exists(const char *dir, const char *name);

#endif
