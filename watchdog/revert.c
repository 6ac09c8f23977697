/*
 * The settings: publishing them and believing only the readback of every
 * unit, newer than the publish. A monitor once logged "revert done" while
 * both units sat in SUB for 1.5 hours behind a wedged control queue: here
 * the revert is republished with backoff, a retained alarm up, until then.
 *
 * This file's state, and the two invariants that hold of it, kept here
 * and nowhere else:
 *   dirty    => the intent mark is on disk. Set only once mark_set() and
 *               the accept record are durable (ctl_calibrate), or for a
 *               mark found at start (revert_recover); cleared only by a
 *               revert confirmed on every unit, after mark_clear().
 *   latched  => no calibration value is published. Set by every revert
 *               trigger of the run (recovery's comes before it), never
 *               cleared; ctl_calibrate(), the only publisher of a
 *               calibration value, refuses first thing while it holds.
 */
#include <sys/param.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "watchdog.h"
#include "watchdog_rules.h"	/* generated from spec/watchdog.yaml */

/* Runbook order (spec/watchdog.yaml): output priority back to SBU first. */
static const enum setting order[SETTING_COUNT] = WD_REVERT_ORDER;
static const enum setting set_order[SETTING_COUNT] = WD_SET_ORDER;

static int	dirty, latched;

static struct {
	int	pending;	/* calibration value published, not confirmed */
	int	confirmed;	/* calibration value confirmed on every unit */
	int	answer;		/* supervisor asked for everyday: answer it */
	int64_t	since_ms;	/* readback must be newer than this */
	int	mid[PROFILE_MAX_UNITS];	/* calibration publishes queued in
				 * libmosquitto: they may land any time */
	int64_t	acked_ms;	/* the last of them acknowledged */
} set[SETTING_COUNT];

static struct {
	int	active;
	enum proto_revert_reason reason;
	int	step;		/* index into the revert order */
	int	attempt;	/* publishes of the current setting */
	int	attempts;	/* publishes of the whole revert */
	int	mid[PROFILE_MAX_UNITS];	/* unacknowledged publishes */
	int64_t	first_ms;	/* first publish of the current setting */
	unsigned late;		/* 1 << setting: its calibration value was
				 * published and not seen: settle it */
	int64_t	confirm_by, next_pub, trigger_ms;
	int	alarm;		/* retained alarm raised */
} rv;

/* the verdict's evidence: 1 << setting confirmed in calibration */
static unsigned	ev_confirmed;
static int	ev_published, ev_reverted;
static int	will_armed, will_applied;	/* the last will says so */

/* At start (a fuzzer runs main() again): nothing published or latched. */
void
ctl_init(void)
{
	memset(set, 0, sizeof(set));
	memset(&rv, 0, sizeof(rv));
	dirty = latched = ev_published = ev_reverted = will_armed = 0;
	ev_confirmed = 0;
}

/* The topics a value goes to: the cluster's, or each unit's ({u}). */
static int
ntopics(void)
{
	return wd.pf.control_per_unit ? wd.pf.units : 1;
}

/*
 * QoS 1: the broker acknowledges it, or libmosquitto keeps it queued. On
 * the cluster topic (lvx-control applies it to both units at once) one
 * publish; on per-unit topics one to each unit of units (1 << unit).
 * Act first: returns the units it went to, for the records after.
 */
static unsigned
publish(enum setting s, enum setting_value v, unsigned units, int *mid)
{
	const char *val = wd.pf.control[s].value[v];
	char t[PROFILE_TOPIC_MAX];
	unsigned sent = 0;

	for (int u = 0; u < ntopics(); u++) {
		if ((units & 1u << u) == 0)
			continue;
		if (topic_expand(wd.pf.control[s].topic, u + 1, t,
		    sizeof(t)) == 0 && session_publish(wd.sess, t, val,
		    strlen(val), 1, 0, mid != NULL ? &mid[u] : NULL) == 0)
			sent |= 1u << u;
		else
			log_warnx("%s", session_error(wd.sess));
	}
	if (sent != 0)
		log_info("publish %s=%s", setting_name(s), val);
	return sent;
}

/* The publish records, one per unit on per-unit topics, naming it. */
static void
publish_record(enum setting s, enum setting_value v, unsigned sent,
    int attempt)
{
	for (int u = 0; u < ntopics(); u++)
		if (sent & 1u << u)
			(void)wd_audit_sv(AUDIT_EV_PUBLISH, s, v,
			    (struct audit_field[]){ AF_I("attempt", attempt),
			    AF_I("unit", u + 1) }, wd.pf.control_per_unit ? 2 :
			    1);
}

/*
 * An installer's wrong-case string was once invisible: say what arrived
 * next to what was expected, once per setting and string.
 */
static void
mismatch(int u, enum setting s, enum setting_value v, const char *got)
{
	static char last[SETTING_COUNT][PROFILE_WORD_MAX];

	if (profile_readback_value(&wd.pf, s, got) != -1 ||
	    strcmp(last[s], got) == 0)
		return;
	(void)strlcpy(last[s], got, sizeof(last[s]));
	log_warnx("unit %d %s readback \"%s\" is neither \"%s\" nor \"%s\" "
	    "(waiting for \"%s\")", u + 1, setting_name(s), got,
	    wd.pf.control[s].readback[VALUE_EVERYDAY],
	    wd.pf.control[s].readback[VALUE_CALIBRATION],
	    wd.pf.control[s].readback[v]);
}

/* The units (1 << unit) whose valid readback newer than since is not v. */
static unsigned
unconfirmed(enum setting s, enum setting_value v, int64_t since,
    const char **text)
{
	enum unit_field f = s == SETTING_OUTPUT_PRIORITY ? UF_OUTPUT_PRIORITY :
	    UF_CHARGER_PRIORITY;
	unsigned not = 0;

	for (int u = 0; u < wd.pf.units; u++)
		if (tm_unit_text(&wd.tm, u, f, mono_ms(), text) != TM_VALID ||
		    wd.tm.unit[u][f].valid_at_ms <= since)
			not |= 1u << u;
		else if (profile_readback_value(&wd.pf, s, *text) != (int)v) {
			mismatch(u, s, v, *text);
			not |= 1u << u;
		}
	return not;
}

/* The order rule: 1 while every unit's current readback shows s at v. */
static int
holds(enum setting s, enum setting_value v)
{
	const char *rb;

	return unconfirmed(s, v, INT64_MIN, &rb) == 0;
}

int
ctl_dirty(void)
{
	return dirty;
}

int
revert_active(void)
{
	return rv.active;
}

/* What the verdict needs; returns whether a calibration value went out. */
int
ctl_evidence(unsigned *confirmed, int *reverted)
{
	*confirmed = ev_confirmed;
	*reverted = ev_reverted;
	return ev_published;
}

/*
 * A calibration value, write ahead: in set order (spec/watchdog.yaml), one
 * request at a time, each value once, not latched, connected, inside the
 * envelope, the mark and the accept record durable; then dirty, and only
 * then the publish to every unit. NULL, or why not (*r: the refusal).
 */
const char *
ctl_calibrate(enum setting s, enum proto_refusal *r, int64_t now)
{
	static char why[128];
	unsigned sent;
	char *u;

	*r = PROTO_REFUSE_PHASE;
	if (set[0].pending || set[1].pending || set[s].confirmed)
		return "one request at a time, each value once";
	/* not "was confirmed once": a second operator may have set it back */
	*r = PROTO_REFUSE_ORDER;
	for (int i = 0; i < SETTING_COUNT && set_order[i] != s; i++)
		if (!set[set_order[i]].confirmed ||
		    !holds(set_order[i], VALUE_CALIBRATION)) {
			/* confirmed, but read back otherwise now: someone
			 * else set it back, which the supervisor may not have
			 * seen yet; refused, but not the supervisor's fault */
			if (set[set_order[i]].confirmed)
				*r = PROTO_REFUSE_NOT_HELD;
			(void)snprintf(why, sizeof(why), "%s %s",
			    setting_name(set_order[i]), *r == PROTO_REFUSE_ORDER ?
			    "must be confirmed first, and read back in "
			    "calibration on every unit now" : "was confirmed, "
			    "but no longer reads back in calibration on every "
			    "unit (set back by someone else?)");
			if ((u = strchr(why, '_')) != NULL)
				*u = ' ';	/* "charger priority" */
			return why;
		}
	*r = PROTO_REFUSE_REVERTING;
	if (latched)
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
		if (!dirty)	/* nothing was published */
			mark_clear();
		return "the audit log cannot be written";
	}
	dirty = 1;		/* the mark is down: from here on, revert */
	*r = PROTO_REFUSE_BROKER;
	if ((sent = publish(s, VALUE_CALIBRATION, ~0u, set[s].mid)) == 0)
		return "publish failed";
	set[s].pending = 1;
	set[s].since_ms = now;
	ev_published = 1;
	publish_record(s, VALUE_CALIBRATION, sent, 1);
	return NULL;
}

static void
confirmed(enum setting s, enum setting_value v, const char *rb, int answer)
{
	(void)wd_audit_sv(AUDIT_EV_CONFIRMED, s, v, (struct audit_field[]){
	    AF_S("readback", rb), AF_I("units", wd.pf.units) }, 2);
	if (answer)
		mon_answer(PROTO_SET_CONFIRMED, s, v);
}

/* Calibration values awaiting every unit's readback. */
void
ctl_tick(int64_t now)
{
	const char *rb;

	for (int s = 0; s < SETTING_COUNT; s++)
		if (set[s].pending && unconfirmed(s, VALUE_CALIBRATION,
		    set[s].since_ms, &rb) == 0) {
			set[s].pending = 0;
			set[s].confirmed = 1;
			ev_confirmed |= 1u << s;
			confirmed(s, VALUE_CALIBRATION, rb, 1);
		} else if (set[s].pending && now - set[s].since_ms >
		    wd.pf.timing.set_confirm_ms) {
			revert_start(PROTO_REVERT_CONFIRM_TIMEOUT, now);
			log_warnx("%s=%s not confirmed within %lld ms",
			    setting_name(s), wd.pf.control[s].value[
			    VALUE_CALIBRATION], (long long)
			    wd.pf.timing.set_confirm_ms);
		}
}

/* Retained, so whoever looks later still sees it; "" removes it. */
static void
alarm_publish(int raise, int64_t now)
{
	char msg[256] = "";	/* fits: site is at most 63 bytes */

	if (raise)
		(void)snprintf(msg, sizeof(msg), "{\"alarm\":\"revert_"
		    "unconfirmed\",\"site\":\"%s\",\"reason\":\"%s\","
		    "\"attempts\":%d,\"for_ms\":%lld}", wd.pf.site,
		    proto_revert_name(rv.reason), rv.attempts,
		    (long long)(now - rv.trigger_ms));
	if (session_publish(wd.sess, wd.pf.alarm_topic, msg, strlen(msg), 1, 1,
	    NULL) == -1)
		log_warnx("%s", session_error(wd.sess));
}

static void
alarm_set(int raise, int64_t now)
{
	alarm_publish(raise, now);
	if ((rv.alarm = raise))
		log_warnx("ALARM: revert not confirmed after %d attempts",
		    rv.attempts);
	(void)WD_AUDIT(raise ? AUDIT_EV_ALARM_RAISED : AUDIT_EV_ALARM_CLEARED,
	    AF_S("reason", "revert_unconfirmed"), AF_I("attempts", rv.attempts));
}

/*
 * The last will on the alarm topic: what the site must know if we die -
 * that we did, in which run and state, and whether calibration settings
 * may be applied (then someone must run recover). Armed at start with what
 * the mark says, re-armed once before the first calibration value goes out
 * (write ahead: the will says "applied" before anything is). Never
 * re-armed on the way back: it stays "may be applied" until the clean end
 * replaces it.
 */
void
alarm_will(int applied)
{
	char msg[384];

	if (will_armed && will_applied >= applied)
		return;
	(void)snprintf(msg, sizeof(msg), "{\"alarm\":\"watchdog_died\","
	    "\"site\":\"%s\",\"run\":\"%s\",\"command\":\"%s\","
	    "\"method\":\"%s\",\"state\":\"%s\","
	    "\"settings_may_be_applied\":%s,\"do\":\"%s\"}", wd.pf.site,
	    wd.audit.run, wd.command, wd.method != NULL ? wd.method : "none",
	    !applied ? "running" : mon_phase() == PH_RECOVERY ? "recovery" :
	    "calibration", applied ? "true" : "false", applied ?
	    "revert now: gridcal-watchdog recover" : "none");
	if (session_set_will(wd.sess, wd.pf.alarm_topic, msg) == -1)
		log_warnx("%s", session_error(wd.sess));
	else {
		will_armed = 1;
		will_applied = applied;
	}
}

/*
 * Session on_state: back on the broker after a lost connection, which may
 * have fired the will while we lived (mosquitto also fires every will when
 * it shuts down). We guard again: say what is true now (no alarm, or the
 * unconfirmed revert's). The first connection leaves a dead predecessor's
 * will standing until our recovery is confirmed.
 */
void
alarm_on_state(void *arg, int up)
{
	(void)arg;
	if (!up || session_connects(wd.sess) < 2)
		return;
	if (rv.alarm)	/* what is true now, not "died" */
		alarm_publish(1, mono_ms());
	else if (!dirty || mon_phase() != PH_RECOVERY)
		alarm_clear_end();
}

/* The clean end: settings everyday and confirmed, the will replaced. */
void
alarm_clear_end(void)
{
	if (session_publish(wd.sess, wd.pf.alarm_topic, "", 0, 1, 1, NULL) ==
	    -1)
		log_warnx("%s", session_error(wd.sess));
}

/*
 * An unconfirmed calibration value may still land: that setting's
 * readback must then be later than that could take (set_confirm_s) and
 * then some. A setting whose value was confirmed, or never published,
 * has nothing in flight: its readback counts at once.
 */
static int64_t
settle(enum setting s)
{
	return rv.late & (1u << s) ? wd.pf.timing.set_confirm_ms +
	    wd.pf.timing.revert_confirm_ms : 0;
}

/*
 * The time s's everyday readback must be newer than; INT64_MAX while a
 * calibration publish of s is still queued (the broker has not got it, so
 * it can land after any readback), then settled from its acknowledgement.
 */
static int64_t
readback_after(enum setting s)
{
	for (int u = 0; u < PROFILE_MAX_UNITS; u++)
		if (set[s].mid[u] != 0)
			return INT64_MAX;
	return MAX(rv.first_ms, set[s].acked_ms) + settle(s);
}

/* Doubles from revert_retry_s with each attempt, up to revert_retry_max_s. */
static int64_t
backoff(int attempt)
{
	return MIN(wd.pf.timing.revert_retry_ms << MIN(MAX(attempt, 1) - 1, 20),
	    wd.pf.timing.revert_retry_max_ms);
}

/*
 * Publishes the revert's current step: the act, nothing recorded yet. A
 * republish goes to the units whose readback does not show it yet.
 */
static unsigned
revert_publish(enum setting s, int64_t now)
{
	const char *rb;
	unsigned units = ~0u;

	if (++rv.attempt == 1)
		rv.first_ms = now;
	else if (wd.pf.control_per_unit)
		units = unconfirmed(s, VALUE_EVERYDAY, readback_after(s), &rb);
	rv.attempts++;
	units = publish(s, VALUE_EVERYDAY, units, rv.mid);
	rv.confirm_by = now + wd.pf.timing.revert_confirm_ms + settle(s);
	rv.next_pub = rv.confirm_by + backoff(rv.attempt);
	return units;
}

/* ... and its records, right after. */
static void
revert_record(enum setting s, unsigned sent)
{
	(void)WD_AUDIT(AUDIT_EV_REVERT_ATTEMPT, AF_I("attempt", rv.attempts),
	    AF_S("setting", setting_name(s)));
	publish_record(s, VALUE_EVERYDAY, sent, rv.attempt);
}

/*
 * Starts the revert if calibration values may be applied, or if the
 * supervisor asked. Any trigger latches the run: no calibration after it.
 */
/*
 * Act first, all the way to the wire. Our publish wakes the broker, but on
 * a small machine it can wait for a core while this process does its
 * bookkeeping (the note, the records, the answer that wakes the
 * supervisor). Sleeping until the broker's PUBACK, which it sends once it
 * has handed the value on, or WD_YIELD_MS, gives it the core first.
 */
static void
broker_first(void)
{
	struct pollfd p;

	session_pollfd(wd.sess, &p);
	p.events = POLLIN;
	if (p.fd != -1 && poll(&p, 1, WD_YIELD_MS) == -1 && errno != EINTR)
		log_warn("poll");
}

void
revert_start(enum proto_revert_reason why, int64_t now)
{
	const char *rb;
	unsigned late = 0, sent;

	for (int s = 0; s < SETTING_COUNT; s++)	/* published, not yet seen */
		if (set[s].pending && unconfirmed(s, VALUE_CALIBRATION,
		    set[s].since_ms, &rb) != 0)
			late |= 1u << s;
	latched |= why != PROTO_REVERT_RECOVERY;	/* before the run */
	set[0].pending = set[1].pending = 0;
	if (rv.active || (!dirty && why != PROTO_REVERT_REQUESTED))
		return;
	memset(&rv, 0, sizeof(rv));
	rv.active = 1;
	rv.reason = why;
	rv.trigger_ms = rv.next_pub = now;
	rv.late = late;
	/*
	 * Act first, record after: the first publish goes out before any
	 * bookkeeping; a note (no fsync) lets recovery tell a revert that
	 * was published but never recorded; then the records, made durable
	 * with the rest of this loop turn's (group commit).
	 */
	if ((sent = revert_publish(order[0], now)) != 0)
		broker_first();
	if (dirty)
		mark_note_revert(proto_revert_name(why), wd.audit.seq + 1);
	(void)WD_AUDIT(AUDIT_EV_REVERT_TRIGGER,
	    AF_S("reason", proto_revert_name(why)), AF_B("published", sent != 0));
	revert_record(order[0], sent);
	mon_reverted(why, 0);
}

/* A mark found at start: it is on disk, so dirty holds; revert first. */
void
revert_recover(int64_t now)
{
	dirty = 1;
	revert_start(PROTO_REVERT_RECOVERY, now);
}

/* The supervisor asked for s's everyday value: SET_CONFIRMED when it is. */
void
revert_request(enum setting s, int64_t now)
{
	int step = 0;

	while (step < SETTING_COUNT - 1 && order[step] != s)
		step++;
	revert_start(PROTO_REVERT_REQUESTED, now);
	if (rv.step > step)
		mon_answer(PROTO_SET_CONFIRMED, s, VALUE_EVERYDAY);
	else
		set[s].answer = 1;
}

static void
step_confirmed(enum setting s, const char *rb, int64_t now)
{
	confirmed(s, VALUE_EVERYDAY, rb, set[s].answer);
	set[s].answer = set[s].confirmed = 0;
	rv.attempt = 0;
	memset(rv.mid, 0, sizeof(rv.mid));
	rv.next_pub = now;
	if (++rv.step < SETTING_COUNT)
		return;
	log_info("revert confirmed on every unit: %d attempts, %lld ms",
	    rv.attempts, (long long)(now - rv.trigger_ms));
	(void)WD_AUDIT(AUDIT_EV_REVERT_CONFIRMED, AF_I("attempts",
	    rv.attempts), AF_I("ms", now - rv.trigger_ms));
	if (rv.alarm)
		alarm_set(0, now);
	mark_clear();	/* then dirty goes */
	ev_reverted = 1;
	rv.active = dirty = 0;
	mon_reverted(rv.reason, 1);
}

/* 1 while a publish of the revert is still queued in libmosquitto. */
static int
queued(void)
{
	for (int u = 0; u < PROFILE_MAX_UNITS; u++)
		if (rv.mid[u] != 0)
			return 1;
	return 0;
}

/*
 * The broker has a revert's publish: its confirm window starts now. Or a
 * calibration value: a revert's readback counts once that has settled.
 */
void
ctl_acked(void *arg, int mid)
{
	(void)arg;
	for (int s = 0; mid != 0 && s < SETTING_COUNT; s++)
		for (int u = 0; u < PROFILE_MAX_UNITS; u++)
			if (set[s].mid[u] == mid) {
				set[s].mid[u] = 0;
				set[s].acked_ms = mono_ms();
			}
	for (int u = 0; rv.active && mid != 0 && u < PROFILE_MAX_UNITS; u++)
		if (rv.mid[u] == mid) {
			rv.mid[u] = 0;
			rv.confirm_by = MAX(rv.confirm_by, mono_ms() +
			    wd.pf.timing.revert_confirm_ms +
			    settle(order[rv.step % SETTING_COUNT]));
			rv.next_pub = MAX(rv.next_pub,
			    rv.confirm_by + backoff(rv.attempt));
		}
}

void
revert_tick(int64_t now)
{
	enum setting s = order[rv.step % SETTING_COUNT];
	const char *rb;

	if (!rv.active)
		return;
	if (rv.attempt > 0 && unconfirmed(s, VALUE_EVERYDAY, readback_after(s),
	    &rb) == 0) {
		step_confirmed(s, rb, now);
		return;
	}
	if (rv.attempt > 0 && now >= rv.confirm_by && !rv.alarm)
		alarm_set(1, now);
	/* still queued in libmosquitto: publishing again would double it */
	if (now < rv.next_pub || queued())
		return;
	revert_record(s, revert_publish(s, now));
}

/* The next deadline of the revert and the calibration values; INT64_MAX. */
int64_t
ctl_next(void)
{
	int64_t at = INT64_MAX;

	for (int s = 0; s < SETTING_COUNT; s++)
		if (set[s].pending)
			at = MIN(at, set[s].since_ms +
			    wd.pf.timing.set_confirm_ms + 1);
	if (rv.active && !queued())
		at = MIN(at, rv.next_pub);
	if (rv.active && rv.attempt > 0 && !rv.alarm)
		at = MIN(at, rv.confirm_by);
	return at;
}
