/*
 * For tests and benchmarks only, never the watchdog: a log whose records
 * are written but never fsync'ed. gridcal-watchdog does not link
 * shared/audittest.c (mk/50-watchdog.mk), so nothing in it can turn the
 * audit log's durability off.
 */
#ifndef GRIDCAL_AUDITTEST_H
#define GRIDCAL_AUDITTEST_H

#include "audit.h"

/* Skip every fsync of the log, the anchor and the seal key. */
void	audit_set_nosync(struct audit_log *, int);

#endif
