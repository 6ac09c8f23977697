/*
 * Logging in the style of OpenBSD daemons: one line per message to stderr,
 * prefixed with the program name; fatal() and fatalx() log and exit.
 */
#ifndef GRIDCAL_LOG_H
#define GRIDCAL_LOG_H

#include <stdarg.h>

void	log_init(const char *progname, int verbose);
void	log_setverbose(int verbose);
int	log_getverbose(void);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
/* Exit status used by fatal()/fatalx(); defaults to 1. */
void	log_setfatalstatus(int status);

#endif
