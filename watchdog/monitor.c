/*
 * The socketpair, after OpenSSH's monitor: a table of the requests the
 * supervisor may make and the phases that permit each. A frame that does
 * not parse, is not permitted now, or asks outside the whitelist is a
 * violation: audited, refused, reverted if dirty, the supervisor killed.
 * Operational refusals (broker down, no mark...) end nothing.
 */
#include <sys/param.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "watchdog.h"
#include "watchdog_rules.h"	/* generated from spec/watchdog.yaml */

#define MON_BATCH	64	/* frames per read; more waiting is a flood */
#define P(ph)		(1 << (ph))

static void
mon_send(struct proto_msg *m)
{
	if (wd.chan_open && proto_send(&wd.chan, m) == -1)
		log_warn("supervisor: %s", proto_type_name(m->type));
}

void
mon_answer(enum proto_type t, enum setting s, enum setting_value v)
{
	struct proto_msg m;

	proto_set_answer(&m, t, s, v);
	mon_send(&m);
}

/* The watchdog's own revert (not one the supervisor asked for). */
void
mon_reverted(enum proto_revert_reason why, int confirmed)
{
	struct proto_msg m;

	proto_set_reverted(&m, why, confirmed);
	if (wd.phase == PH_RUN && why != PROTO_REVERT_REQUESTED)
		mon_send(&m);
}

/* Stops listening to the supervisor. */
void
mon_close(void)
{
	if (wd.chan_open && close(wd.chan.fd) == -1)
		log_warn("close");
	wd.chan_open = 0;
}

static void
violation(const char *why, int64_t now)
{
	wd.exit_code = -1;	/* a violation outranks what DONE claimed */
	wd_end(PROTO_REVERT_VIOLATION, WD_EX_SUPERVISOR, why, SIGKILL, now);
	log_warnx("supervisor: protocol violation: %s", why);	/* after */
	(void)WD_AUDIT(AUDIT_EV_REFUSE, AF_S("reason", "violation"),
	    AF_S("detail", why));
}

static void
refuse(const struct proto_msg *req, enum proto_refusal r, const char *text,
    int is_violation, int64_t now)
{
	enum setting s = req->u.set.setting;
	enum setting_value v = req->u.set.value;
	struct proto_msg m;

	log_warnx("refused %s=%s: %s", setting_name(s),
	    wd.pf.control[s].value[v], text);
	(void)wd_audit_sv(AUDIT_EV_REFUSE, s, v, (struct audit_field[]){
	    AF_S("reason", proto_refusal_name(r)), AF_S("detail", text) }, 2);
	proto_set_refused(&m, s, v, r, text);
	mon_send(&m);
	if (is_violation)
		violation(text, now);
}

static void
mon_hello(const struct proto_msg *m, int64_t now)
{
	if (memcmp(m->u.hello.digest, wd.pf.digest, PROTO_DIGEST_LEN) == 0) {
		wd.phase = PH_RUN;
		wd.last_hb_ms = now;
	} else
		violation("HELLO: the supervisor runs another profile", now);
}

static void
mon_heartbeat(const struct proto_msg *m, int64_t now)
{
	wd.last_state = m->u.heartbeat.state;
	wd.last_hb_ms = now;
}

/*
 * Every AUDIT frame is an fsync'd record: frames come at most
 * MON_AUDIT_PER_PI per progress interval (after a burst), and a run may
 * record MON_AUDIT_BASE bytes plus MON_AUDIT_PER_PB per progress interval
 * of run_max (each record counted with MON_AUDIT_OVERHEAD for its JSON,
 * hashes and times). Past either the supervisor fills our disk: violator.
 */
#define MON_AUDIT_PER_PI	4
#define MON_AUDIT_BURST		64
#define MON_AUDIT_BASE		(16 * 1024)
#define MON_AUDIT_PER_PB	600
#define MON_AUDIT_OVERHEAD	200

static void
mon_audit(const struct proto_msg *m, int64_t now)
{
	static int64_t tat;	/* GCRA: theoretical arrival time */
	static int64_t bytes;
	const struct profile_timing *t = &wd.pf.timing;
	int64_t gap = t->progress_interval_ms / MON_AUDIT_PER_PI + 1;
	int64_t budget = MON_AUDIT_BASE + (t->run_max_ms /
	    (t->progress_interval_ms + 1) + 1) * MON_AUDIT_PER_PB;

	tat = (tat > now ? tat : now) + gap;
	bytes += (int64_t)(strlen(m->u.audit.event) + strlen(m->u.audit.text)) +
	    MON_AUDIT_OVERHEAD;
	if (tat - now > MON_AUDIT_BURST * gap)
		violation("AUDIT frames faster than the progress interval "
		    "allows", now);
	else if (bytes > budget)
		violation("AUDIT: over the run's byte budget", now);
	else
		(void)wd_audit(AUDIT_SUPERVISOR, m->u.audit.event,
		    &AF_S(AUDIT_F_TEXT, m->u.audit.text), 1);
}

/* Exit status 0-4 are the outcomes PASS to CANCELLED, in order. */
static void
mon_done(const struct proto_msg *m, int64_t now)
{
	wd.phase = PH_DONE;	/* it has a grace period to exit */
	verdict_claim(m->u.done.outcome);
	wd_end(PROTO_REVERT_DONE, WD_EX_PASS + (int)m->u.done.outcome -
	    PROTO_OUTCOME_PASS, m->u.done.reason, 0, now);
}

/*
 * The whitelist for calibration values: a refusal here is a violation.
 * The permit and the set order are spec/watchdog.yaml's.
 */
static const char *
whitelist(enum setting s, enum proto_refusal *r)
{
	static const enum setting order[SETTING_COUNT] = WD_SET_ORDER;
	static const int permit[VALUE_COUNT] = WD_VALUE_PERMITS;
	static char why[128];
	char *u;

	*r = PROTO_REFUSE_NOT_AUTHORISED;
	if (permit[VALUE_CALIBRATION] == WD_PERMIT_AUTHORISED && !wd.authorised)
		return "calibration values need --method grid --confirm";
	*r = PROTO_REFUSE_PHASE;
	if (wd.set[0].pending || wd.set[1].pending || wd.set[s].confirmed)
		return "one request at a time, each value once";
	/* not "was confirmed once": a second operator may have set it back */
	*r = PROTO_REFUSE_ORDER;
	for (int i = 0; i < SETTING_COUNT && order[i] != s; i++)
		if (!wd.set[order[i]].confirmed ||
		    !ctl_holds(order[i], VALUE_CALIBRATION)) {
			(void)snprintf(why, sizeof(why), "%s must be confirmed "
			    "first, and read back in calibration on every unit "
			    "now", setting_name(order[i]));
			if ((u = strchr(why, '_')) != NULL)
				*u = ' ';	/* "charger priority" */
			return why;
		}
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
	if (envelope_check(now)) {
		envelope_record();
		return "a hard limit is exceeded";
	}
	*r = PROTO_REFUSE_MARK;
	if (mark_set() == -1)
		return "the intent mark cannot be written";
	*r = PROTO_REFUSE_AUDIT;
	/* write-ahead: away from safety only once it is durable */
	if (wd.audit_failed ||
	    wd_audit_sv(AUDIT_EV_ACCEPT, s, VALUE_CALIBRATION, NULL, 0) == -1 ||
	    wd_commit() == -1) {
		if (!wd.dirty)	/* nothing was published */
			mark_clear();
		return "the audit log cannot be written";
	}
	return NULL;
}

static void
mon_set_request(const struct proto_msg *m, int64_t now)
{
	enum setting s = m->u.set.setting;
	enum setting_value v = m->u.set.value;
	enum proto_refusal r = PROTO_REFUSE_SCOPE;
	const char *no = NULL;

	if (m->u.set.scope == PROTO_SCOPE_ALL && v == VALUE_EVERYDAY) {
		/* always: it is the revert; act first, record after */
		revert_request(s, now);
		mon_answer(PROTO_SET_ACCEPTED, s, v);
		(void)wd_audit_sv(AUDIT_EV_REQUEST, s, v,
		    &AF_I("scope", m->u.set.scope), 1);
		(void)wd_audit_sv(AUDIT_EV_ACCEPT, s, v, NULL, 0);
		return;
	}
	(void)wd_audit_sv(AUDIT_EV_REQUEST, s, v,
	    &AF_I("scope", m->u.set.scope), 1);
	if (m->u.set.scope != PROTO_SCOPE_ALL)
		no = "single-unit writes are never permitted";
	else
		no = whitelist(s, &r);
	if (no != NULL || (no = ready(s, &r, now)) != NULL) {
		refuse(m, r, no, PROTO_REFUSE_IS_VIOLATION(r), now);
		return;
	}
	wd.dirty = 1;		/* the mark is down: from here on, revert */
	if (ctl_publish(s, v, NULL) == -1) {
		refuse(m, PROTO_REFUSE_BROKER, "publish failed", 0, now);
		return;
	}
	wd.set[s].pending = 1;
	wd.set[s].since_ms = now;
	wd.ev_published = 1;
	(void)wd_audit_sv(AUDIT_EV_PUBLISH, s, v, &AF_I("attempt", 1), 1);
	mon_answer(PROTO_SET_ACCEPTED, s, v);
}

void
mon_eof(const char *why, int64_t now)
{
	mon_close();
	if (wd.phase != PH_DONE)	/* it ended without its report */
		wd_end(PROTO_REVERT_EOF, WD_EX_SUPERVISOR, why, SIGTERM, now);
}

/*
 * The phases that permit each request: spec/watchdog.yaml. HELLO and DONE
 * move the phase on, so each is permitted once.
 */
#define ROW(t, phases, fn)	{ t, phases, fn },
static const struct mon_ent {
	enum proto_type	 type;
	int		 permit;	/* P(phase) it is permitted in */
	void		(*fn)(const struct proto_msg *, int64_t);
} mon_table[] = { WD_REQUEST_ROWS(ROW) };
#define NENT	(sizeof(mon_table) / sizeof(mon_table[0]))

/*
 * recv() returns 0 for end of file and for a zero-length frame alike; only
 * a peer that has really shut its end down leaves the socket hung up.
 */
static int
peer_gone(void)
{
	struct pollfd p = { .fd = wd.chan.fd, .events = POLLRDHUP };

	return poll(&p, 1, 0) == -1 || (p.revents & (POLLRDHUP | POLLHUP |
	    POLLERR)) != 0;
}

/*
 * Reads what the supervisor sent, a bounded batch per loop iteration.
 * Act first, record after: every frame of the batch is judged and acted
 * on in order (a request for everyday values, a violation, DONE), and the
 * AUDIT frames it held are recorded only then, so a revert never waits
 * behind the supervisor's bookkeeping.
 */
void
mon_read(int64_t now)
{
	static struct proto_msg later[MON_BATCH];
	const struct mon_ent *e;
	struct proto_msg m;
	char why[128], buf[160];
	enum proto_err err = PROTO_OK;
	int n, nlater = 0;

	for (n = 0; n < MON_BATCH && wd.chan_open; n++) {
		if ((err = proto_recv(&wd.chan, &m, why, sizeof(why))) ==
		    PROTO_E_AGAIN)
			break;
		if (err == PROTO_E_EOF && !peer_gone()) {
			violation("zero-length frame", now);
			break;
		}
		if (err == PROTO_E_EOF || err == PROTO_E_SYS) {	/* gone */
			mon_eof("socket closed", now);
			break;
		}
		for (e = mon_table; e < mon_table + NENT && e->type != m.type;
		    e++)
			;
		if (err != PROTO_OK)
			(void)snprintf(buf, sizeof(buf), "%s: %s",
			    proto_err_name(err), why);
		else if (e == mon_table + NENT || !(e->permit & P(wd.phase)))
			(void)snprintf(buf, sizeof(buf), "%s not permitted now",
			    proto_type_name(m.type));
		else {
			if (e->fn == mon_audit)	/* permitted: recorded later */
				later[nlater++] = m;
			else
				e->fn(&m, now);
			continue;
		}
		if (err == PROTO_OK && m.type == PROTO_SET_REQUEST)
			refuse(&m, PROTO_REFUSE_PHASE, buf, 1, now);
		else
			violation(buf, now);
	}
	/* more than a supervisor ever queues */
	if (n == MON_BATCH && err != PROTO_E_AGAIN && wd.chan_open)
		violation("flood: the socket does not drain", now);
	for (int i = 0; i < nlater; i++)
		mon_audit(&later[i], now);
}

void
mon_tick(int64_t now)
{
	const struct profile_timing *t = &wd.pf.timing;

	if (wd.chan_open && (wd.phase == PH_HELLO || wd.phase == PH_RUN) &&
	    now - wd.last_hb_ms > t->heartbeat_timeout_ms) {
		wd_end(PROTO_REVERT_HEARTBEAT, WD_EX_SUPERVISOR,
		    "heartbeat lost", SIGKILL, now);	/* act first */
		(void)WD_AUDIT(AUDIT_EV_HEARTBEAT_LOST, AF_I("age_ms", now -
		    wd.last_hb_ms), AF_I("last_state", wd.last_state));
	}
	if (wd.child != 0 && wd.exit_code < 0 &&
	    now - wd.run_start_ms > t->run_max_ms)
		wd_end(PROTO_REVERT_RUN_MAX, WD_EX_ABORTED,
		    "run exceeded its maximum time", SIGTERM, now);
	if (wd.child != 0 && wd.kill_at_ms != 0 && now >= wd.kill_at_ms)
		child_kill(SIGKILL);
}

/* The first of mon_tick's deadlines, to the millisecond; INT64_MAX. */
int64_t
mon_next(void)
{
	const struct profile_timing *t = &wd.pf.timing;
	int64_t at = INT64_MAX;

	if (wd.chan_open && (wd.phase == PH_HELLO || wd.phase == PH_RUN))
		at = wd.last_hb_ms + t->heartbeat_timeout_ms + 1;
	if (wd.child != 0 && wd.exit_code < 0)
		at = MIN(at, wd.run_start_ms + t->run_max_ms + 1);
	if (wd.child != 0 && wd.kill_at_ms != 0)
		at = MIN(at, wd.kill_at_ms);
	return at;
}
