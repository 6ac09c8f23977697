/*
 * The watchdog's side of the socketpair, after OpenSSH's monitor: a table
 * of the requests the supervisor may make, each with permit flags that
 * follow the run's phase. A frame that does not parse, a request that is
 * not permitted now, or a set request the whitelist refuses is a
 * violation: audited, refused, the settings reverted if dirty, and the
 * supervisor killed. Refusals for operational reasons (broker down, mark
 * not written, ...) are not the supervisor's fault and end nothing.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "watchdog.h"

#define MON_ONCE	0x01	/* permitted at most once */
#define MON_PERMIT	0x02	/* permitted now */
#define MON_BATCH	64	/* frames per loop iteration */

struct mon_ent {
	enum proto_type	 type;
	int		 flags;
	void		(*fn)(const struct proto_msg *, int64_t);
};

static void	mon_hello(const struct proto_msg *, int64_t);
static void	mon_heartbeat(const struct proto_msg *, int64_t);
static void	mon_set(const struct proto_msg *, int64_t);
static void	mon_audit(const struct proto_msg *, int64_t);
static void	mon_done(const struct proto_msg *, int64_t);

static struct mon_ent mon_table[] = {
	{ PROTO_HELLO,		MON_ONCE | MON_PERMIT,	mon_hello },
	{ PROTO_HEARTBEAT,	0,			mon_heartbeat },
	{ PROTO_SET_REQUEST,	0,			mon_set },
	{ PROTO_AUDIT,		0,			mon_audit },
	{ PROTO_DONE,		MON_ONCE,		mon_done },
};
#define NENT	(sizeof(mon_table) / sizeof(mon_table[0]))

static void
permit(enum proto_type t, int on)
{
	for (size_t i = 0; i < NENT; i++)
		if (t == 0 || mon_table[i].type == t)
			mon_table[i].flags = on ? mon_table[i].flags | MON_PERMIT :
			    mon_table[i].flags & ~MON_PERMIT;
}

void
mon_answer(enum proto_type t, enum setting s, enum setting_value v,
    enum proto_refusal r, const char *text)
{
	struct proto_msg m;

	if (!wd.chan_open)
		return;
	memset(&m, 0, sizeof(m));
	m.type = t;
	m.u.set.setting = s;
	m.u.set.value = v;
	m.u.set.reason = r;
	if (text != NULL)
		(void)strlcpy(m.u.set.text, text, sizeof(m.u.set.text));
	if (proto_send(&wd.chan, &m) == -1)
		log_warn("supervisor: %s", proto_type_name(t));
}

void
mon_reverted(enum proto_revert_reason why, int confirmed)
{
	struct proto_msg m;

	if (!wd.chan_open || wd.phase != PH_RUN)
		return;
	memset(&m, 0, sizeof(m));
	m.type = PROTO_REVERTED;
	m.u.reverted.reason = why;
	m.u.reverted.confirmed = (uint8_t)confirmed;
	if (proto_send(&wd.chan, &m) == -1)
		log_warn("supervisor: REVERTED");
}

/* Stops listening to the supervisor; sig (if not 0) is sent to it. */
void
mon_close(int sig)
{
	if (wd.chan_open) {
		(void)close(wd.chan.fd);
		wd.chan_open = 0;
	}
	permit(0, 0);
	if (sig != 0)
		child_kill(sig);
}

static void
violation(const char *why, int64_t now)
{
	log_warnx("supervisor: protocol violation: %s", why);
	(void)wd_audit(AUDIT_EV_REFUSE, (struct audit_field[]){
	    AF_S("reason", "violation"), AF_S("detail", why) }, 2);
	revert_start(PROTO_REVERT_VIOLATION, now);
	wd.exit_code = -1;	/* a violation outranks what DONE claimed */
	wd_finish(WD_EX_SUPERVISOR, why);
	mon_close(SIGKILL);
}

static void
refuse(const struct proto_msg *m, enum proto_refusal r, const char *text,
    int is_violation, int64_t now)
{
	enum setting s = m->u.set.setting;
	enum setting_value v = m->u.set.value;

	log_warnx("refused %s=%s: %s", setting_name(s),
	    wd.pf.control[s].value[v], text);
	(void)wd_audit(AUDIT_EV_REFUSE, (struct audit_field[]){
	    AF_S("reason", proto_refusal_name(r)),
	    AF_S("setting", setting_name(s)),
	    AF_S("value", wd.pf.control[s].value[v]), AF_S("detail", text) }, 4);
	mon_answer(PROTO_SET_REFUSED, s, v, r, text);
	if (is_violation)
		violation(text, now);
}

static void
mon_hello(const struct proto_msg *m, int64_t now)
{
	if (memcmp(m->u.hello.digest, wd.pf.digest, PROTO_DIGEST_LEN) != 0) {
		violation("HELLO: the supervisor runs another profile", now);
		return;
	}
	log_debug("supervisor: hello");
	wd.phase = PH_RUN;
	wd.last_hb_ms = now;
	permit(PROTO_HEARTBEAT, 1);
	permit(PROTO_SET_REQUEST, 1);
	permit(PROTO_AUDIT, 1);
	permit(PROTO_DONE, 1);
}

static void
mon_heartbeat(const struct proto_msg *m, int64_t now)
{
	(void)m;
	wd.last_hb_ms = now;
}

static void
mon_audit(const struct proto_msg *m, int64_t now)
{
	(void)now;
	(void)wd_audit_as(AUDIT_SUPERVISOR, m->u.audit.event,
	    (struct audit_field[]){ AF_S(AUDIT_F_TEXT, m->u.audit.text) }, 1);
}

static void
mon_done(const struct proto_msg *m, int64_t now)
{
	static const int codes[] = { WD_EX_SUPERVISOR, WD_EX_PASS, WD_EX_FAIL,
	    WD_EX_ABORTED, WD_EX_REFUSED, WD_EX_CANCELLED };

	log_info("supervisor: done: %s %s",
	    proto_outcome_name(m->u.done.outcome), m->u.done.reason);
	wd.phase = PH_DONE;
	permit(0, 0);
	revert_start(PROTO_REVERT_DONE, now);
	wd_finish(codes[m->u.done.outcome], m->u.done.reason);
	wd.kill_at_ms = now + wd.pf.timing.heartbeat_timeout_ms;
}

/* The whitelist for calibration values: a refusal here is a violation. */
static const char *
whitelist(enum setting s, enum proto_refusal *r)
{
	enum setting other = s == SETTING_OUTPUT_PRIORITY ?
	    SETTING_CHARGER_PRIORITY : SETTING_OUTPUT_PRIORITY;

	*r = PROTO_REFUSE_NOT_AUTHORISED;
	if (!wd.authorised)
		return "calibration values need --method grid --confirm";
	*r = PROTO_REFUSE_PHASE;
	if (wd.set[s].pending || wd.set[s].confirmed || wd.set[other].pending)
		return "one request at a time, each value once";
	*r = PROTO_REFUSE_ORDER;
	if (s == SETTING_OUTPUT_PRIORITY &&
	    !wd.set[SETTING_CHARGER_PRIORITY].confirmed)
		return "charger priority must be confirmed before output priority";
	return NULL;
}

/* What must hold before any change; a refusal here ends nothing. */
static const char *
ready(enum setting s, enum proto_refusal *r, int64_t now)
{
	*r = PROTO_REFUSE_REVERTING;
	if (wd.latched)
		return "a revert has started in this run";
	*r = PROTO_REFUSE_AUDIT;
	if (wd.audit_failed)
		return "the audit log cannot be written";
	*r = PROTO_REFUSE_BROKER;
	if (!session_connected(wd.sess))
		return "not connected to the broker";
	*r = PROTO_REFUSE_ENVELOPE;
	if (envelope_check(now))
		return "a hard limit is exceeded";
	*r = PROTO_REFUSE_MARK;
	if (mark_set() == -1)
		return "the intent mark cannot be written";
	*r = PROTO_REFUSE_AUDIT;
	if (wd_audit(AUDIT_EV_ACCEPT, (struct audit_field[]){
	    AF_S("setting", setting_name(s)),
	    AF_S("value", wd.pf.control[s].value[VALUE_CALIBRATION]) },
	    2) == -1) {
		(void)mark_clear();	/* nothing was published */
		return "the audit log cannot be written";
	}
	return NULL;
}

static void
mon_set_calibration(const struct proto_msg *m, int64_t now)
{
	enum setting s = m->u.set.setting;
	enum proto_refusal r;
	const char *no;

	if ((no = whitelist(s, &r)) != NULL) {
		refuse(m, r, no, 1, now);
		return;
	}
	if ((no = ready(s, &r, now)) != NULL) {
		refuse(m, r, no, 0, now);
		return;
	}
	wd.dirty = 1;
	if (ctl_publish(s, VALUE_CALIBRATION, NULL) == -1) {
		refuse(m, PROTO_REFUSE_BROKER, "publish failed", 0, now);
		return;
	}
	wd.set[s].pending = 1;
	wd.set[s].since_ms = now;
	(void)wd_audit(AUDIT_EV_PUBLISH, (struct audit_field[]){
	    AF_S("setting", setting_name(s)),
	    AF_S("value", wd.pf.control[s].value[VALUE_CALIBRATION]),
	    AF_I("attempt", 1) }, 3);
	mon_answer(PROTO_SET_ACCEPTED, s, VALUE_CALIBRATION, 0, NULL);
}

static void
mon_set(const struct proto_msg *m, int64_t now)
{
	enum setting s = m->u.set.setting;
	enum setting_value v = m->u.set.value;

	(void)wd_audit(AUDIT_EV_REQUEST, (struct audit_field[]){
	    AF_S("setting", setting_name(s)),
	    AF_S("value", wd.pf.control[s].value[v]),
	    AF_I("scope", m->u.set.scope) }, 3);
	if (m->u.set.scope != PROTO_SCOPE_ALL) {
		refuse(m, PROTO_REFUSE_SCOPE, "single-unit writes are never "
		    "permitted", 1, now);
		return;
	}
	if (v == VALUE_CALIBRATION) {
		mon_set_calibration(m, now);
		return;
	}
	/* everyday: always permitted, and it is the revert */
	(void)wd_audit(AUDIT_EV_ACCEPT, (struct audit_field[]){
	    AF_S("setting", setting_name(s)),
	    AF_S("value", wd.pf.control[s].value[v]) }, 2);
	wd.set[s].answer = 1;
	revert_start(PROTO_REVERT_REQUESTED, now);
	mon_answer(PROTO_SET_ACCEPTED, s, v, 0, NULL);
}

void
mon_eof(const char *why, int64_t now)
{
	mon_close(0);
	if (wd.phase == PH_DONE)
		return;
	log_warnx("supervisor: %s before DONE", why);
	revert_start(PROTO_REVERT_EOF, now);
	wd_finish(WD_EX_SUPERVISOR, why);
	child_kill(SIGTERM);
}

/* Reads what the supervisor sent, a bounded batch per loop iteration. */
void
mon_read(int64_t now)
{
	struct proto_msg m;
	struct mon_ent *e;
	char why[128], buf[160];
	enum proto_err err;

	for (int n = 0; n < MON_BATCH && wd.chan_open; n++) {
		err = proto_recv(&wd.chan, &m, why, sizeof(why));
		if (err == PROTO_E_AGAIN)
			return;
		if (err == PROTO_E_EOF || (err == PROTO_E_SYS &&
		    errno == ECONNRESET)) {
			mon_eof("socket closed", now);
			return;
		}
		if (now - wd.frame_win_ms >= 1000) {
			wd.frame_win_ms = now;
			wd.frames = 0;
		}
		if (err != PROTO_OK)
			(void)snprintf(buf, sizeof(buf), "%s: %s",
			    proto_err_name(err), why);
		else if (++wd.frames > WD_FLOOD_PER_S)
			(void)snprintf(buf, sizeof(buf), "flood: more than %d "
			    "frames a second", WD_FLOOD_PER_S);
		if (err != PROTO_OK || wd.frames > WD_FLOOD_PER_S) {
			violation(buf, now);
			return;
		}
		for (e = mon_table; e < mon_table + NENT && e->type != m.type;
		    e++)
			;
		if (e == mon_table + NENT || !(e->flags & MON_PERMIT)) {
			(void)snprintf(buf, sizeof(buf), "%s not permitted now",
			    proto_type_name(m.type));
			if (m.type == PROTO_SET_REQUEST)
				refuse(&m, PROTO_REFUSE_PHASE, buf, 1, now);
			else
				violation(buf, now);
			return;
		}
		if (e->flags & MON_ONCE)
			e->flags &= ~MON_PERMIT;
		e->fn(&m, now);
	}
}

void
mon_tick(int64_t now)
{
	const struct profile_timing *t = &wd.pf.timing;

	if (wd.chan_open && (wd.phase == PH_HELLO || wd.phase == PH_RUN) &&
	    now - wd.last_hb_ms > t->heartbeat_timeout_ms) {
		log_warnx("supervisor: no heartbeat for %lld ms",
		    (long long)(now - wd.last_hb_ms));
		(void)wd_audit(AUDIT_EV_HEARTBEAT_LOST, (struct audit_field[]){
		    AF_I("age_ms", now - wd.last_hb_ms) }, 1);
		revert_start(PROTO_REVERT_HEARTBEAT, now);
		wd_finish(WD_EX_SUPERVISOR, "heartbeat lost");
		mon_close(SIGKILL);
	}
	if (wd.child != 0 && wd.phase != PH_DONE &&
	    now - wd.run_start_ms > t->run_max_ms) {
		log_warnx("run exceeded %lld ms", (long long)t->run_max_ms);
		revert_start(PROTO_REVERT_RUN_MAX, now);
		wd_finish(WD_EX_ABORTED, "run exceeded its maximum time");
		wd.phase = PH_DONE;
		mon_close(SIGTERM);
	}
	if (wd.child != 0 && wd.kill_at_ms != 0 && now >= wd.kill_at_ms) {
		wd.kill_at_ms = 0;
		child_kill(SIGKILL);
	}
}
