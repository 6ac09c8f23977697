/*
 * Link-time stand-in for shared/log.c: silent (the harness runs the
 * watchdog millions of times); fatal() hands the message to the harness,
 * which decides whether dying there was allowed. FUZZ_VERBOSE=1 prints.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "wdfuzz.h"

static int verbose = -1;

static void
say(const char *fmt, va_list ap)
{
	if (verbose == -1)
		verbose = getenv("FUZZ_VERBOSE") != NULL;
	if (verbose) {
		fprintf(stderr, "[%lld] ", (long long)wdf_now());
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
}

#define SAY(fmt) do { va_list ap; va_start(ap, fmt); say(fmt, ap); \
	va_end(ap); } while (0)

void
log_init(const char *progname, int v)
{
	(void)progname;
	(void)v;
}

void
log_setverbose(int v)
{
	(void)v;
}

int
log_getverbose(void)
{
	return 0;
}

void
log_setfatalstatus(int status)
{
	(void)status;
}

void
log_warn(const char *fmt, ...)
{
	SAY(fmt);
}

void
log_warnx(const char *fmt, ...)
{
	SAY(fmt);
}

void
log_info(const char *fmt, ...)
{
	SAY(fmt);
}

void
log_debug(const char *fmt, ...)
{
	SAY(fmt);
}

void
fatal(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wdf_fatal(msg);
}

void
fatalx(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wdf_fatal(msg);
}
