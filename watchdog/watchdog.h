/*
 * gridcal-watchdog: the privileged half. Each .c file owns one concern
 * and its state; what several read is in struct wd, written by one:
 *   watchdog.c  command line, start-up, the poll() loop, the exit code
 *   channel.c   the socketpair and the phase: request table, permits
 *   revert.c    the settings: publishing, readback confirmation, the
 *               revert, the alarm; dirty and latched
 *   envelope.c  the last-resort hard limits
 *   mark.c      the durable intent mark and the state directory's lock
 *   verdict.c   the run's outcome from the watchdog's own evidence
 *   child.c     fork, privilege drop, exec of the supervisor, its output
 *   sandbox.c   our own privilege drop, StrictModes, seccomp, Landlock
 *   notify.c    systemd readiness and liveness (sd_notify protocol)
 */
#ifndef GRIDCAL_WATCHDOG_H
#define GRIDCAL_WATCHDOG_H

#include <sys/types.h>

#include <poll.h>

#include "audit.h"
#include "auditseal.h"
#include "exitcodes.h"	/* GC_EX_*: the exit status, the supervisor's too */
#include "conf.h"
#include "intake.h"
#include "proto.h"
#include "session.h"

/* audit records of the watchdog's own, beyond shared/audit.h's */
#define WD_EV_VERIFY		"verify"	/* verdict.c */
#define WD_EV_RECOVERY		"recovery"	/* mark.c: what was found */

#define WD_FLOOD_PER_S		200	/* frames per second from the child */
#define WD_YIELD_MS		2	/* revert.c: the broker goes first */

enum wd_phase {
	PH_RECOVERY,	/* start-up: intent mark reverted before anything */
	PH_HELLO,	/* child running, HELLO not yet seen */
	PH_RUN,
	PH_DONE,	/* DONE seen: nothing more may arrive */
	PH_CLOSED	/* no child (any more) */
};

/* Written by watchdog.c (the exit code: wd_finish() only) */
struct wd {
	struct profile		 pf;
	struct tm_store		 tm;
	struct audit_log	 audit;
	struct audit_seal	 seal;	/* the epoch key, when sealing */
	int			 audit_open;
	int			 audit_failed;
	uint64_t		 audit_seq0;	/* the log's last seq at open */
	struct session		*sess;
	const char		*profile_arg;	/* --profile, passed on */
	const char		*command;	/* "calibrate" | "recover" */
	const char		*method;	/* "solar" | "grid" | "none" */
	int			 confirm;	/* --confirm */
	int			 authorised;	/* grid and --confirm */
	uid_t			 child_uid;	/* child.c */
	gid_t			 child_gid;
	int64_t			 start_ms;
	int			 exit_code;	/* first cause; -1: none yet */
	char			 why[PROTO_TEXT_LEN];
};

extern struct wd wd;

/* watchdog.c; WD_AUDIT(event, AF_S(...), AF_I(...), ...) */
#define WD_AUDIT(ev, ...)	wd_audit(AUDIT_WATCHDOG, (ev), \
	    (struct audit_field[]){ __VA_ARGS__ }, \
	    sizeof((struct audit_field[]){ __VA_ARGS__ }) / \
	    sizeof(struct audit_field))
int	wd_audit(enum audit_actor, const char *event,
	    const struct audit_field *, size_t);
/* event with fields setting, value and n (at most 3) more */
int	wd_audit_sv(const char *event, enum setting, enum setting_value,
	    const struct audit_field *more, size_t n);
int	wd_commit(void);
void	wd_finish(int code, const char *why);
void	wd_end(enum proto_revert_reason, int code, const char *why, int sig,
	    int64_t now);

/* channel.c */
void	mon_init(void);
enum wd_phase mon_phase(void);
void	mon_recovered(void);
void	mon_start(int fd, int64_t now);
void	mon_read(int64_t now);
void	mon_tick(int64_t now);
int64_t	mon_next(void);
void	mon_pollfd(struct pollfd *);
int	mon_open(void);
void	mon_answer(enum proto_type, enum setting, enum setting_value);
void	mon_reverted(enum proto_revert_reason, int confirmed);
void	mon_close(void);
void	mon_eof(const char *why, int64_t now);

/* revert.c */
void	ctl_init(void);
int	ctl_dirty(void);
const char *ctl_calibrate(enum setting, enum proto_refusal *, int64_t now);
int64_t	ctl_next(void);
void	ctl_tick(int64_t now);
void	ctl_acked(void *arg, int mid);	/* session on_publish */
int	ctl_evidence(unsigned *confirmed, int *reverted);	/* published */
void	revert_recover(int64_t now);
void	revert_start(enum proto_revert_reason, int64_t now);
void	revert_request(enum setting, int64_t now);
void	revert_tick(int64_t now);
int	revert_active(void);
void	alarm_will(int applied);
void	alarm_clear_end(void);
void	alarm_on_state(void *arg, int up);	/* session on_state */

/* envelope.c */
int	envelope_check(int64_t now);
void	envelope_record(void);
int64_t	envelope_next(int64_t now);

/* mark.c */
void	mark_lock(void);
int	mark_present(void);
void	mark_describe(void);
void	mark_note_revert(const char *reason, uint64_t seq);
int	mark_set(void);
void	mark_clear(void);

/* notify.c: systemd's notify socket, if any */
void	notify_init(void);
void	notify(const char *msg);
void	notify_tick(int64_t now);
int64_t	notify_next(void);

/* verdict.c */
void	verdict_init(void);
void	verdict_tick(int64_t now);
void	verdict_claim(enum proto_outcome, const char *reason);
const char *verdict_claim_name(void);
void	verdict_end(void);
/* Home Assistant's facts, retained (the ACL: gridcal/watchdog/#). */
#define WD_STATE_TOPIC	"gridcal/watchdog/state"
void	verdict_publish(const char *outcome);

/* authorise.c: --authorise ha */
extern int auth_ha;
int	auth_wait(int64_t now);		/* 1: not decided yet */
void	auth_message(void *, const char *topic, const void *, size_t, int);

/* child.c: it reports through return values; it calls nothing above it */
void	child_user(void);
int	child_start(void);		/* our end of the socketpair, or -1 */
int	child_running(void);
void	child_kill(int sig);
int	child_reap(void);		/* 1: reaped now */
void	child_gone(void);
void	child_tick(int64_t now);
int64_t	child_next(void);
void	child_pollfd(struct pollfd *);	/* 2 fds: its stdout, stderr */
void	child_output(void);

/* sandbox.c */
void	sandbox_init(void);
void	sandbox_drop(void);
void	sandbox_seccomp(void);
int	sandbox_dropped(void);
uid_t	sandbox_uid(void);

#endif
