/*
 * The socketpair to the supervisor and the run's phase, after OpenSSH's
 * monitor: a table of the requests the supervisor may make and the phases
 * that permit each. A frame that does not parse, is not permitted now, or
 * asks outside the whitelist is a violation: audited, refused, reverted if
 * dirty, the supervisor killed. Operational refusals (broker down, no
 * mark...) end nothing.
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

static enum wd_phase	 phase = PH_RECOVERY;
static struct proto_chan chan;
static int		 chan_open;
static int64_t		 run_start_ms, last_hb_ms;
static unsigned		 last_state;	/* from the last heartbeat */

/* At start (a fuzzer runs main() again): recovery, no channel. */
void
mon_init(void)
{
	phase = PH_RECOVERY;
	chan_open = 0;
}

enum wd_phase
mon_phase(void)
{
	return phase;
}

/* The start-up recovery is over: no child yet. */
void
mon_recovered(void)
{
	phase = PH_CLOSED;
}

/* The supervisor runs: fd is our end of the socketpair. */
void
mon_start(int fd, int64_t now)
{
	proto_chan_init(&chan, fd, &proto_watchdog);
	chan.rx_per_s = WD_FLOOD_PER_S;
	chan_open = 1;
	phase = PH_HELLO;
	run_start_ms = last_hb_ms = now;
}

int
mon_open(void)
{
	return chan_open;
}

void
mon_pollfd(struct pollfd *pfd)
{
	*pfd = (struct pollfd){ .fd = chan_open ? chan.fd : -1,
	    .events = POLLIN };
}

static void
mon_send(struct proto_msg *m)
{
	if (chan_open && proto_send(&chan, m) == -1)
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
	if (phase == PH_RUN && why != PROTO_REVERT_REQUESTED)
		mon_send(&m);
}

/* Stops listening to the supervisor. */
void
mon_close(void)
{
	if (chan_open && close(chan.fd) == -1)
		log_warn("close");
	chan_open = 0;
}

static void
violation(const char *why, int64_t now)
{
	wd_end(PROTO_REVERT_VIOLATION, GC_EX_SUPERVISOR, why, SIGKILL, now);
	log_warnx("supervisor: protocol violation: %s", why);	/* after */
	(void)WD_AUDIT(AUDIT_EV_REFUSE, AF_S("reason", "violation"),
	    AF_S("detail", why));
}

static void
refuse(const struct proto_msg *req, enum proto_refusal r, const char *text,
    int64_t now)
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
	if (PROTO_REFUSE_IS_VIOLATION(r))
		violation(text, now);
}

static void
mon_hello(const struct proto_msg *m, int64_t now)
{
	if (memcmp(m->u.hello.digest, wd.pf.digest, PROTO_DIGEST_LEN) == 0) {
		phase = PH_RUN;
		last_hb_ms = now;
	} else
		violation("HELLO: the supervisor runs another profile", now);
}

static void
mon_heartbeat(const struct proto_msg *m, int64_t now)
{
	last_state = m->u.heartbeat.state;
	last_hb_ms = now;
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

/*
 * DONE is a claim (verdict.c): it decides the exit status only if nothing
 * the watchdog saw ends the run first. The supervisor has a grace period
 * to exit.
 */
static void
mon_done(const struct proto_msg *m, int64_t now)
{
	phase = PH_DONE;
	verdict_claim(m->u.done.outcome, m->u.done.reason);
	revert_start(PROTO_REVERT_DONE, now);
	child_kill(0);
}

/*
 * A request for everyday values is always permitted: it is the revert.
 * Calibration values: the permit is spec/watchdog.yaml's; the settings'
 * own rules are revert.c's (ctl_calibrate).
 */
static void
mon_set_request(const struct proto_msg *m, int64_t now)
{
	static const int permit[VALUE_COUNT] = WD_VALUE_PERMITS;
	enum setting s = m->u.set.setting;
	enum setting_value v = m->u.set.value;
	enum proto_refusal r = PROTO_REFUSE_SCOPE;
	const char *no = "single-unit writes are never permitted";
	int all = m->u.set.scope == PROTO_SCOPE_ALL;

	if (all && v == VALUE_EVERYDAY) {
		revert_request(s, now);		/* act first, record after */
		mon_answer(PROTO_SET_ACCEPTED, s, v);
	}
	(void)wd_audit_sv(AUDIT_EV_REQUEST, s, v,
	    &AF_I("scope", m->u.set.scope), 1);
	if (all && v == VALUE_EVERYDAY) {
		(void)wd_audit_sv(AUDIT_EV_ACCEPT, s, v, NULL, 0);
		return;
	}
	if (all && permit[v] == WD_PERMIT_AUTHORISED && !wd.authorised) {
		r = PROTO_REFUSE_NOT_AUTHORISED;
		no = "calibration values need --method grid --confirm";
	} else if (all)
		no = ctl_calibrate(s, &r, now);
	if (no != NULL)
		refuse(m, r, no, now);
	else
		mon_answer(PROTO_SET_ACCEPTED, s, v);
}

void
mon_eof(const char *why, int64_t now)
{
	mon_close();
	if (phase != PH_DONE)	/* it ended without its report */
		wd_end(PROTO_REVERT_EOF, GC_EX_SUPERVISOR, why, SIGTERM, now);
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
	struct pollfd p = { .fd = chan.fd, .events = POLLRDHUP };

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

	for (n = 0; n < MON_BATCH && chan_open; n++) {
		if ((err = proto_recv(&chan, &m, why, sizeof(why))) ==
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
		else if (e == mon_table + NENT || !(e->permit & P(phase)))
			(void)snprintf(buf, sizeof(buf), "%s not permitted now",
			    proto_type_name(m.type));
		else if (e->fn == mon_audit) {	/* permitted: recorded later */
			later[nlater++] = m;
			continue;
		} else {
			e->fn(&m, now);
			continue;
		}
		if (err == PROTO_OK && m.type == PROTO_SET_REQUEST)
			refuse(&m, PROTO_REFUSE_PHASE, buf, now);
		else
			violation(buf, now);
	}
	/* more than a supervisor ever queues */
	if (n == MON_BATCH && err != PROTO_E_AGAIN && chan_open)
		violation("flood: the socket does not drain", now);
	for (int i = 0; i < nlater; i++)
		mon_audit(&later[i], now);
}

/* HELLO or the run awaited: the heartbeat and the run time are watched. */
static int
watching(void)
{
	return chan_open && (phase == PH_HELLO || phase == PH_RUN);
}

void
mon_tick(int64_t now)
{
	const struct profile_timing *t = &wd.pf.timing;

	if (!watching())
		return;
	if (now - last_hb_ms > t->heartbeat_timeout_ms) {
		wd_end(PROTO_REVERT_HEARTBEAT, GC_EX_SUPERVISOR,
		    "heartbeat lost", SIGKILL, now);	/* act first */
		(void)WD_AUDIT(AUDIT_EV_HEARTBEAT_LOST, AF_I("age_ms", now -
		    last_hb_ms), AF_I("last_state", last_state));
	}
	if (wd.exit_code < 0 && now - run_start_ms > t->run_max_ms)
		wd_end(PROTO_REVERT_RUN_MAX, GC_EX_ABORTED,
		    "run exceeded its maximum time", SIGTERM, now);
}

/* The first of mon_tick's deadlines, to the millisecond; INT64_MAX. */
int64_t
mon_next(void)
{
	const struct profile_timing *t = &wd.pf.timing;

	if (!watching())
		return INT64_MAX;
	return MIN(last_hb_ms + t->heartbeat_timeout_ms, wd.exit_code < 0 ?
	    run_start_ms + t->run_max_ms : INT64_MAX) + 1;
}
