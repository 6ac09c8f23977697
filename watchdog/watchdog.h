/*
 * gridcal-watchdog: the privileged half. One process-wide state, as in
 * OpenBSD daemons; each .c file owns one concern:
 *   watchdog.c  command line, start-up, the poll() loop, the run's end
 *   monitor.c   the socketpair: request table, permits, answers
 *   revert.c    publishing, readback confirmation, the revert, the alarm
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
#include "exitcodes.h"
#include "conf.h"
#include "intake.h"
#include "proto.h"
#include "session.h"

/* Exit status (shared/exitcodes.h, the supervisor's table too) */
#define WD_EX_PASS		GC_EX_PASS
#define WD_EX_FAIL		GC_EX_FAIL
#define WD_EX_ABORTED		GC_EX_ABORTED
#define WD_EX_REFUSED		GC_EX_REFUSED
#define WD_EX_CANCELLED		GC_EX_CANCELLED
#define WD_EX_SUPERVISOR	GC_EX_SUPERVISOR
#define WD_EX_USAGE		GC_EX_USAGE
#define WD_EX_BROKER		GC_EX_BROKER
#define WD_EX_OSERR		GC_EX_OSERR
#define WD_EX_CANTCREAT		GC_EX_CANTCREAT
#define WD_EX_IOERR		GC_EX_IOERR
#define WD_EX_NOPERM		GC_EX_NOPERM
#define WD_EX_CONFIG		GC_EX_CONFIG
#define WD_EX_LOCKED		GC_EX_LOCKED	/* another watchdog: state_dir */

/* audit records of the watchdog's own, beyond shared/audit.h's */
#define WD_EV_VERIFY		"verify"	/* verdict.c */
#define WD_EV_RECOVERY		"recovery"	/* mark.c: what was found */

#define WD_FLOOD_PER_S		200	/* frames per second from the child */

enum wd_phase {
	PH_RECOVERY,	/* start-up: intent mark reverted before anything */
	PH_HELLO,	/* child running, HELLO not yet seen */
	PH_RUN,
	PH_DONE,	/* DONE seen: nothing more may arrive */
	PH_CLOSED	/* no child (any more) */
};

struct wd_set {
	int	pending;	/* calibration value published, not confirmed */
	int	confirmed;	/* calibration value confirmed on every unit */
	int	answer;		/* supervisor asked for everyday: answer it */
	int64_t	since_ms;	/* readback must be newer than this */
};

struct wd_revert {
	int	active;
	enum proto_revert_reason reason;
	int	step;		/* index into the revert order */
	int	attempt;	/* publishes of the current setting */
	int	attempts;	/* publishes of the whole revert */
	int	mid;		/* unacknowledged publish, 0 = none */
	int64_t	first_ms;	/* first publish of the current setting */
	unsigned late;		/* 1 << setting: its calibration value was
				 * published and not seen: settle it */
	int64_t	confirm_by, next_pub, trigger_ms;
	int	alarm;		/* retained alarm raised */
};

struct wd {
	struct profile		 pf;
	struct tm_store		 tm;
	struct audit_log	 audit;
	struct audit_seal	 seal;	/* the epoch key, when sealing */
	int			 audit_open;
	int			 audit_failed;
	uint64_t		 audit_seq0;	/* the log's last seq at open */
	struct session		*sess;
	struct proto_chan	 chan;
	int			 chan_open;
	int			 sigfd;
	const char		*profile_arg;	/* --profile, passed on */
	const char		*command;	/* "calibrate" | "recover" */
	const char		*method;	/* "solar" | "grid" | "none" */
	int			 confirm;	/* --confirm */
	int			 authorised;	/* grid and --confirm */
	pid_t			 child;		/* 0: none or reaped */
	uid_t			 child_uid;
	gid_t			 child_gid;
	enum wd_phase		 phase;
	int64_t			 start_ms, run_start_ms, last_hb_ms;
	int64_t			 kill_at_ms;	/* SIGKILL a lingering child */
	unsigned		 last_state;	/* from the last heartbeat */
	int			 dirty;		/* calibration may be applied */
	int			 will_armed, will_applied;	/* last will */
	int			 latched;	/* no calibration any more */
	int			 exit_code;	/* first cause to end the run */
	char			 why[PROTO_TEXT_LEN];
	struct wd_set		 set[SETTING_COUNT];
	struct wd_revert	 rv;
	/* evidence for the verdict (verdict.c) */
	unsigned		 ev_confirmed;	/* 1 << setting: calibration */
	int			 ev_published;	/* a calibration value went out */
	int			 ev_reverted;	/* a revert was confirmed */
};

extern struct wd wd;

/* watchdog.c; WD_AUDIT(event, AF_S(...), AF_I(...), ...) */
#define WD_AUDIT(ev, ...)	wd_audit(AUDIT_WATCHDOG, (ev), \
	    (struct audit_field[]){ __VA_ARGS__ }, \
	    sizeof((struct audit_field[]){ __VA_ARGS__ }) / \
	    sizeof(struct audit_field))
int	wd_audit(enum audit_actor, const char *event,
	    const struct audit_field *, size_t);
/* event with fields setting, value and n more */
int	wd_audit_sv(const char *event, enum setting, enum setting_value,
	    const struct audit_field *more, size_t n);
int	wd_commit(void);
void	wd_finish(int code, const char *why);
void	wd_end(enum proto_revert_reason, int code, const char *why, int sig,
	    int64_t now);

/* monitor.c */
void	mon_read(int64_t now);
void	mon_tick(int64_t now);
int64_t	mon_next(void);
void	mon_answer(enum proto_type, enum setting, enum setting_value);
void	mon_reverted(enum proto_revert_reason, int confirmed);
void	mon_close(void);
void	mon_eof(const char *why, int64_t now);

/* revert.c */
int	ctl_publish(enum setting, enum setting_value, int *mid);
int	ctl_holds(enum setting, enum setting_value);
int64_t	ctl_next(void);
void	ctl_tick(int64_t now);
void	ctl_acked(void *arg, int mid);	/* session on_publish */
void	revert_start(enum proto_revert_reason, int64_t now);
void	revert_request(enum setting, int64_t now);
void	revert_tick(int64_t now);
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
void	verdict_tick(int64_t now);
void	verdict_claim(enum proto_outcome);
const char *verdict_claim_name(void);
void	verdict_end(void);
/* Home Assistant's facts, retained (the ACL: gridcal/watchdog/#). */
#define WD_STATE_TOPIC	"gridcal/watchdog/state"
void	verdict_publish(const char *outcome);

/* authorise.c: --authorise ha */
extern int auth_ha;
int	auth_wait(int64_t now);		/* 1: not decided yet */
void	auth_message(void *, const char *topic, const void *, size_t, int);

/* child.c */
void	child_user(void);
int	child_start(void);
void	child_kill(int sig);
void	child_reap(int64_t now);
void	child_pollfd(struct pollfd *);	/* 2 fds: its stdout, stderr */
void	child_output(void);

/* sandbox.c */
void	sandbox_init(void);
void	sandbox_drop(void);
void	sandbox_seccomp(void);
int	sandbox_dropped(void);
uid_t	sandbox_uid(void);

#endif
