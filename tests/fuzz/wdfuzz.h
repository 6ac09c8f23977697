/*
 * The watchdog harness (fuzz_watchdog.c) and the stubs that replace, at
 * link time, what the watchdog reaches outside itself: the MQTT session
 * (stub_session.c), the clocks (stub_clock.c), signals (stub_sigfd.c),
 * logging (stub_log.c), the audit log writer (stub_audit.c), the child
 * process (stub_child.c) and the intent mark's file (stub_durable.c; the
 * real watchdog/mark.c runs). Every stub
 * calls into the harness, which plays broker, plant and supervisor from
 * the fuzz input and checks the oracles.
 */
#ifndef GRIDCAL_WDFUZZ_H
#define GRIDCAL_WDFUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "session.h"

int64_t	wdf_now(void);
/* session */
void	wdf_session_params(const struct session_params *);
void	wdf_step(void);			/* session_handle: the world moves */
int	wdf_publish(const char *topic, const void *payload, size_t len,
	    int qos, int retain, int *mid);
int	wdf_connected(void);
int	wdf_set_will(const char *topic, const char *payload);
unsigned wdf_connects(void);
/* signals: the next one for the watchdog, 0 if none */
int	wdf_next_signal(void);
/* fatal()/fatalx(): never returns */
void	wdf_fatal(const char *msg) __attribute__((noreturn));
/* audit: 0 appended, -1 the log failed */
int	wdf_audit(enum audit_actor, const char *event,
	    const struct audit_field *, size_t);
void	wdf_audit_commit(void);	/* the records so far are durable */
/* child: the harness holds the supervisor's end */
int	wdf_child_start(int fd);
void	wdf_child_signal(int sig);
int	wdf_child_exited(void);
/* the intent mark's file */
int	wdf_mark_present(void);
int	wdf_mark_set(void);
void	wdf_mark_clear(void);
/* watchdog/intake.c's strcmp()/strcasecmp() without libFuzzer's hook
 * (stub_string.c) */
int	wdf_strcmp(const char *, const char *);
int	wdf_strcasecmp(const char *, const char *);

#endif
