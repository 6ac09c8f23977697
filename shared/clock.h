#ifndef GRIDCAL_CLOCK_H
#define GRIDCAL_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds: every deadline in gridcal uses it. */
int64_t	mono_ms(void);
/* Wall-clock UTC in milliseconds since the epoch, for records only. */
int64_t	utc_ms(void);
/* "2026-11-25T08:24:00.123Z" into buf (at least 25 bytes). */
void	utc_format(int64_t ms, char *buf, unsigned long bufsz);

#endif
