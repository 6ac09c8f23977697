/* Link-time stand-in for shared/clock.c: time is what the input says. */
#include <stdio.h>
#include <time.h>

#include "clock.h"
#include "wdfuzz.h"

#define EPOCH_MS	1795000000000LL	/* late 2026 */

int64_t
mono_ms(void)
{
	return wdf_now();
}

int64_t
utc_ms(void)
{
	return EPOCH_MS + wdf_now();
}

void
utc_format(int64_t ms, char *buf, unsigned long bufsz)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		(void)snprintf(buf, bufsz, "?");
	else
		(void)snprintf(buf, bufsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}
