/*
 * The watchdog's side of the socketpair, after OpenSSH's monitor: a table
 * of the requests the supervisor may make and the phases that permit each.
 * A frame that does not parse, a request not permitted now, or a set
 * request outside the whitelist is a violation: audited, refused, the
 * settings reverted if dirty, and the supervisor killed. Refusals for
 * operational reasons (broker down, mark not written...) are not the
 * supervisor's fault and end nothing.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "watchdog.h"

#define MON_BATCH	64	/* frames per loop iteration */
#define P(ph)		(1 << (ph))

static void	mon_hello(const struct proto_msg *, int64_t);
static void	mon_heartbeat(const struct proto_msg *, int64_t);
static void	mon_set(const struct proto_msg *, int64_t);
static void	mon_audit(const struct proto_msg *, int64_t);
static void	mon_done(const struct proto_msg *, int64_t);

/* HELLO and DONE move the phase on, so each is permitted once. */
static const struct mon_ent {
	enum proto_type	 type;
	int		 permit;	/* P(phase) it is permitted in */
	void		(*fn)(const struct proto_msg *, int64_t);
} mon_table[] = {
	{ PROTO_HELLO,		P(PH_HELLO),	mon_hello },
	{ PROTO_HEARTBEAT,	P(PH_RUN),	mon_heartbeat },
	{ PROTO_SET_REQUEST,	P(PH_RUN),	mon_set },
	{ PROTO_AUDIT,		P(PH_RUN),	mon_audit },
	{ PROTO_DONE,		P(PH_RUN),	mon_done },
};
#define NENT	(sizeof(mon_table) / sizeof(mon_table[0]))

static void
mon_send(struct proto_msg *m)
{
	if (wd.chan_open && proto_send(&wd.chan, m) == -1)
		log_warn("supervisor: %s", proto_type_name(m->type));
}

static void
mon_set_msg(struct proto_msg *m, enum proto_type t, enum setting s,
    enum setting_value v)
{
	memset(m, 0, sizeof(*m));
	m->type = t;
	m->u.set.setting = s;
	m->u.set.value = v;
}

void
mon_answer(enum proto_type t, enum setting s, enum setting_value v)
{
	struct proto_msg m;

	mon_set_msg(&m, t, s, v);
	mon_send(&m);
}

void
mon_reverted(enum proto_revert_reason why, int confirmed)
{
	struct proto_msg m = { .type = PROTO_REVERTED };

	m.u.reverted.reason = why;
	m.u.reverted.confirmed = (uint8_t)confirmed;
	if (wd.phase == PH_RUN)
		mon_send(&m);
}

/* Stops listening to the supervisor; sig (if not 0) is sent to it. */
void
mon_close(int sig)
{
	if (wd.chan_open && close(wd.chan.fd) == -1)
		log_warn("close");
	wd.chan_open = 0;
	if (sig != 0)
		child_kill(sig);
}

static void
violation(const char *why, int64_t now)
{
	log_warnx("supervisor: protocol violation: %s", why);
	(void)WD_AUDIT(AUDIT_EV_REFUSE, AF_S("reason", "violation"),
	    AF_S("detail", why));
	revert_start(PROTO_REVERT_VIOLATION, now);
	wd.exit_code = -1;	/* a violation outranks what DONE claimed */
	wd_finish(WD_EX_SUPERVISOR, why);
	mon_close(SIGKILL);
}

static void
refuse(const struct proto_msg *req, enum proto_refusal r, const char *text,
    int is_violation, int64_t now)
{
	enum setting s = req->u.set.setting;
	const char *val = wd.pf.control[s].value[req->u.set.value];
	struct proto_msg m;

	log_warnx("refused %s=%s: %s", setting_name(s), val, text);
	(void)WD_AUDIT(AUDIT_EV_REFUSE, AF_S("reason", proto_refusal_name(r)),
	    AF_S("setting", setting_name(s)), AF_S("value", val),
	    AF_S("detail", text));
	mon_set_msg(&m, PROTO_SET_REFUSED, s, req->u.set.value);
	m.u.set.reason = r;
	(void)strlcpy(m.u.set.text, text, sizeof(m.u.set.text));
	mon_send(&m);
	if (is_violation)
		violation(text, now);
}

static void
mon_hello(const struct proto_msg *m, int64_t now)
{
	if (memcmp(m->u.hello.digest, wd.pf.digest, PROTO_DIGEST_LEN) != 0)
		violation("HELLO: the supervisor runs another profile", now);
	else {
		wd.phase = PH_RUN;
		wd.last_hb_ms = now;
	}
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
	struct audit_field f = AF_S(AUDIT_F_TEXT, m->u.audit.text);

	(void)now;
	(void)wd_audit_as(AUDIT_SUPERVISOR, m->u.audit.event, &f, 1);
}

static void
mon_done(const struct proto_msg *m, int64_t now)
{
	static const int codes[] = { WD_EX_SUPERVISOR, WD_EX_PASS, WD_EX_FAIL,
	    WD_EX_ABORTED, WD_EX_REFUSED, WD_EX_CANCELLED };

	log_info("supervisor: done: %s %s",
	    proto_outcome_name(m->u.done.outcome), m->u.done.reason);
	wd.phase = PH_DONE;
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
	if (wd.audit_failed || WD_AUDIT(AUDIT_EV_ACCEPT,
	    AF_S("setting", setting_name(s)),
	    AF_S("value", wd.pf.control[s].value[VALUE_CALIBRATION])) == -1) {
		(void)mark_clear();	/* nothing was published */
		return "the audit log cannot be written";
	}
	return NULL;
}

static void
mon_set(const struct proto_msg *m, int64_t now)
{
	enum setting s = m->u.set.setting;
	enum setting_value v = m->u.set.value;
	enum proto_refusal r = PROTO_REFUSE_SCOPE;
	const char *no = NULL;

	(void)WD_AUDIT(AUDIT_EV_REQUEST, AF_S("setting", setting_name(s)),
	    AF_S("value", wd.pf.control[s].value[v]),
	    AF_I("scope", m->u.set.scope));
	if (m->u.set.scope != PROTO_SCOPE_ALL)
		no = "single-unit writes are never permitted";
	else if (v == VALUE_EVERYDAY) {
		/* always permitted: it is the revert */
		(void)WD_AUDIT(AUDIT_EV_ACCEPT, AF_S("setting", setting_name(s)),
		    AF_S("value", wd.pf.control[s].value[v]));
		wd.set[s].answer = 1;
		revert_start(PROTO_REVERT_REQUESTED, now);
		mon_answer(PROTO_SET_ACCEPTED, s, v);
		return;
	} else
		no = whitelist(s, &r);
	if (no != NULL) {
		refuse(m, r, no, 1, now);
		return;
	}
	if ((no = ready(s, &r, now)) != NULL) {
		refuse(m, r, no, 0, now);
		return;
	}
	wd.dirty = 1;		/* the mark is down: from here on, revert */
	if (ctl_publish(s, v, NULL) == -1) {
		refuse(m, PROTO_REFUSE_BROKER, "publish failed", 0, now);
		return;
	}
	wd.set[s].pending = 1;
	wd.set[s].since_ms = now;
	(void)WD_AUDIT(AUDIT_EV_PUBLISH, AF_S("setting", setting_name(s)),
	    AF_S("value", wd.pf.control[s].value[v]), AF_I("attempt", 1));
	mon_answer(PROTO_SET_ACCEPTED, s, v);
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
	const struct mon_ent *e;
	struct proto_msg m;
	char why[128], buf[160];
	enum proto_err err;

	for (int n = 0; n < MON_BATCH && wd.chan_open; n++) {
		if ((err = proto_recv(&wd.chan, &m, why, sizeof(why))) ==
		    PROTO_E_AGAIN)
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
		for (e = mon_table; e < mon_table + NENT && e->type != m.type;
		    e++)
			;
		if (err != PROTO_OK)
			(void)snprintf(buf, sizeof(buf), "%s: %s",
			    proto_err_name(err), why);
		else if (++wd.frames > WD_FLOOD_PER_S)
			(void)snprintf(buf, sizeof(buf), "flood: more than %d "
			    "frames a second", WD_FLOOD_PER_S);
		else if (e == mon_table + NENT || !(e->permit & P(wd.phase)))
			(void)snprintf(buf, sizeof(buf), "%s not permitted now",
			    proto_type_name(m.type));
		else {
			e->fn(&m, now);
			continue;
		}
		if (err == PROTO_OK && m.type == PROTO_SET_REQUEST)
			refuse(&m, PROTO_REFUSE_PHASE, buf, 1, now);
		else
			violation(buf, now);
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
		(void)WD_AUDIT(AUDIT_EV_HEARTBEAT_LOST,
		    AF_I("age_ms", now - wd.last_hb_ms));
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
