/*
 * Publishing a setting and believing only the readback of every unit,
 * newer than the publish. A monitor once logged "revert done" while both
 * units sat in SUB for 1.5 hours behind a wedged control queue: here the
 * revert is republished with backoff, a retained alarm up, until then.
 */
#include <sys/param.h>

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "watchdog.h"
#include "watchdog_rules.h"	/* generated from spec/watchdog.yaml */

/* Runbook order (spec/watchdog.yaml): output priority back to SBU first. */
static const enum setting order[SETTING_COUNT] = WD_REVERT_ORDER;

static int	revert_publish(enum setting, int64_t);
static void	revert_record(enum setting, int);

/*
 * QoS 1 on the cluster topic (lvx-control applies it to both units at
 * once): the broker acknowledges it, or libmosquitto keeps it queued.
 */
int
ctl_publish(enum setting s, enum setting_value v, int *mid)
{
	const char *val = wd.pf.control[s].value[v];
	int rc;

	/* act first, say so after */
	rc = session_publish(wd.sess, wd.pf.control[s].topic, val, strlen(val),
	    1, 0, mid);
	if (rc == 0)
		log_info("publish %s=%s", setting_name(s), val);
	else
		log_warnx("%s", session_error(wd.sess));
	return rc == 0 ? 0 : -1;
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

/* 1 if every unit's valid readback, newer than since, shows v. */
static int
readback(enum setting s, enum setting_value v, int64_t since,
    const char **text)
{
	enum unit_field f = s == SETTING_OUTPUT_PRIORITY ? UF_OUTPUT_PRIORITY :
	    UF_CHARGER_PRIORITY;

	for (int u = 0; u < wd.pf.units; u++) {
		if (tm_unit_text(&wd.tm, u, f, mono_ms(), text) != TM_VALID ||
		    wd.tm.unit[u][f].valid_at_ms <= since)
			return 0;
		if (profile_readback_value(&wd.pf, s, *text) != (int)v) {
			mismatch(u, s, v, *text);
			return 0;
		}
	}
	return wd.pf.units > 0;
}

/* The order rule: 1 while every unit's current readback shows s at v. */
int
ctl_holds(enum setting s, enum setting_value v)
{
	const char *rb;

	return readback(s, v, INT64_MIN, &rb);
}

static void
confirmed(enum setting s, enum setting_value v, const char *rb, int answer)
{
	(void)wd_audit_sv(AUDIT_EV_CONFIRMED, s, v, &AF_S("readback", rb), 1);
	if (answer)
		mon_answer(PROTO_SET_CONFIRMED, s, v);
}

/* Calibration values awaiting their readback. */
void
ctl_tick(int64_t now)
{
	const char *rb;

	for (int s = 0; s < SETTING_COUNT; s++)
		if (wd.set[s].pending &&
		    readback(s, VALUE_CALIBRATION, wd.set[s].since_ms, &rb)) {
			wd.set[s].pending = 0;
			wd.set[s].confirmed = 1;
			wd.ev_confirmed |= 1u << s;
			confirmed(s, VALUE_CALIBRATION, rb, 1);
		} else if (wd.set[s].pending && now - wd.set[s].since_ms >
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
		    proto_revert_name(wd.rv.reason), wd.rv.attempts,
		    (long long)(now - wd.rv.trigger_ms));
	if (session_publish(wd.sess, wd.pf.alarm_topic, msg, strlen(msg), 1, 1,
	    NULL) == -1)
		log_warnx("%s", session_error(wd.sess));
}

static void
alarm_set(int raise, int64_t now)
{
	alarm_publish(raise, now);
	if ((wd.rv.alarm = raise))
		log_warnx("ALARM: revert not confirmed after %d attempts",
		    wd.rv.attempts);
	(void)WD_AUDIT(raise ? AUDIT_EV_ALARM_RAISED : AUDIT_EV_ALARM_CLEARED,
	    AF_S("reason", "revert_unconfirmed"),
	    AF_I("attempts", wd.rv.attempts));
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

	if (wd.will_armed && wd.will_applied >= applied)
		return;
	(void)snprintf(msg, sizeof(msg), "{\"alarm\":\"watchdog_died\","
	    "\"site\":\"%s\",\"run\":\"%s\",\"command\":\"%s\","
	    "\"method\":\"%s\",\"state\":\"%s\","
	    "\"settings_may_be_applied\":%s,\"do\":\"%s\"}", wd.pf.site,
	    wd.audit.run, wd.command, wd.method != NULL ? wd.method : "none",
	    applied ? (wd.phase == PH_RECOVERY ? "recovery" : "calibration") :
	    "running", applied ? "true" : "false", applied ?
	    "revert now: gridcal-watchdog recover" : "none");
	if (session_set_will(wd.sess, wd.pf.alarm_topic, msg) == -1)
		log_warnx("%s", session_error(wd.sess));
	else {
		wd.will_armed = 1;
		wd.will_applied = applied;
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
	if (wd.rv.alarm)	/* what is true now, not "died" */
		alarm_publish(1, mono_ms());
	else if (!wd.dirty || wd.phase != PH_RECOVERY)
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
 * Starts the revert if calibration values may be applied, or if the
 * supervisor asked. Any trigger latches the run: no calibration after it.
 */
void
revert_start(enum proto_revert_reason why, int64_t now)
{
	const char *rb;
	unsigned late = 0;
	int ok;

	for (int s = 0; s < SETTING_COUNT; s++)	/* published, not yet seen */
		if (wd.set[s].pending && !readback(s, VALUE_CALIBRATION,
		    wd.set[s].since_ms, &rb))
			late |= 1u << s;
	wd.latched |= why != PROTO_REVERT_RECOVERY;	/* before the run */
	wd.set[0].pending = wd.set[1].pending = 0;
	if (wd.rv.active || (!wd.dirty && why != PROTO_REVERT_REQUESTED))
		return;
	memset(&wd.rv, 0, sizeof(wd.rv));
	wd.rv.active = 1;
	wd.rv.reason = why;
	wd.rv.trigger_ms = wd.rv.next_pub = now;
	wd.rv.late = late;
	/*
	 * Act first, record after: the first publish goes out before any
	 * bookkeeping; a note (no fsync) lets recovery tell a revert that
	 * was published but never recorded; then the records, made durable
	 * with the rest of this loop turn's (group commit).
	 */
	ok = revert_publish(order[0], now);
	if (wd.dirty)
		mark_note_revert(proto_revert_name(why), wd.audit.seq + 1);
	(void)WD_AUDIT(AUDIT_EV_REVERT_TRIGGER,
	    AF_S("reason", proto_revert_name(why)), AF_B("published", ok));
	revert_record(order[0], ok);
	mon_reverted(why, 0);
}

/* The supervisor asked for s's everyday value: SET_CONFIRMED when it is. */
void
revert_request(enum setting s, int64_t now)
{
	int step = 0;

	while (step < SETTING_COUNT - 1 && order[step] != s)
		step++;
	revert_start(PROTO_REVERT_REQUESTED, now);
	if (wd.rv.step > step)
		mon_answer(PROTO_SET_CONFIRMED, s, VALUE_EVERYDAY);
	else
		wd.set[s].answer = 1;
}

static void
step_confirmed(enum setting s, const char *rb, int64_t now)
{
	confirmed(s, VALUE_EVERYDAY, rb, wd.set[s].answer);
	wd.set[s].answer = wd.set[s].confirmed = 0;
	wd.rv.attempt = wd.rv.mid = 0;
	wd.rv.next_pub = now;
	if (++wd.rv.step < SETTING_COUNT)
		return;
	log_info("revert confirmed on every unit: %d attempts, %lld ms",
	    wd.rv.attempts, (long long)(now - wd.rv.trigger_ms));
	(void)WD_AUDIT(AUDIT_EV_REVERT_CONFIRMED, AF_I("attempts",
	    wd.rv.attempts), AF_I("ms", now - wd.rv.trigger_ms));
	if (wd.rv.alarm)
		alarm_set(0, now);
	mark_clear();
	wd.ev_reverted = 1;
	wd.rv.active = wd.dirty = 0;
	mon_reverted(wd.rv.reason, 1);
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
	return wd.rv.late & (1u << s) ? wd.pf.timing.set_confirm_ms +
	    wd.pf.timing.revert_confirm_ms : 0;
}

/* Doubles from revert_retry_s with each attempt, up to revert_retry_max_s. */
static int64_t
backoff(int attempt)
{
	return MIN(wd.pf.timing.revert_retry_ms << MIN(MAX(attempt, 1) - 1, 20),
	    wd.pf.timing.revert_retry_max_ms);
}

/* Publishes the revert's current step: the act, nothing recorded yet. */
static int
revert_publish(enum setting s, int64_t now)
{
	int ok;

	if (++wd.rv.attempt == 1)
		wd.rv.first_ms = now;
	wd.rv.attempts++;
	ok = ctl_publish(s, VALUE_EVERYDAY, &wd.rv.mid) == 0;
	wd.rv.confirm_by = now + wd.pf.timing.revert_confirm_ms + settle(s);
	wd.rv.next_pub = wd.rv.confirm_by + backoff(wd.rv.attempt);
	return ok;
}

/* ... and its records, right after. */
static void
revert_record(enum setting s, int published)
{
	(void)WD_AUDIT(AUDIT_EV_REVERT_ATTEMPT, AF_I("attempt",
	    wd.rv.attempts), AF_S("setting", setting_name(s)));
	if (published)
		(void)wd_audit_sv(AUDIT_EV_PUBLISH, s, VALUE_EVERYDAY,
		    &AF_I("attempt", wd.rv.attempt), 1);
}

/* The broker has the revert's publish: its confirm window starts now. */
void
ctl_acked(void *arg, int mid)
{
	(void)arg;
	if (!wd.rv.active || mid == 0 || mid != wd.rv.mid)
		return;
	wd.rv.mid = 0;
	wd.rv.confirm_by = MAX(wd.rv.confirm_by, mono_ms() +
	    wd.pf.timing.revert_confirm_ms + settle(order[wd.rv.step %
	    SETTING_COUNT]));
	wd.rv.next_pub = MAX(wd.rv.next_pub,
	    wd.rv.confirm_by + backoff(wd.rv.attempt));
}

void
revert_tick(int64_t now)
{
	enum setting s = order[wd.rv.step % SETTING_COUNT];
	const char *rb;

	if (!wd.rv.active)
		return;
	if (wd.rv.attempt > 0 && readback(s, VALUE_EVERYDAY, wd.rv.first_ms +
	    settle(s), &rb)) {
		step_confirmed(s, rb, now);
		return;
	}
	if (wd.rv.attempt > 0 && now >= wd.rv.confirm_by && !wd.rv.alarm)
		alarm_set(1, now);
	/* still queued in libmosquitto: publishing again would double it */
	if (now < wd.rv.next_pub || wd.rv.mid != 0)
		return;
	revert_record(s, revert_publish(s, now));
}

/* The next deadline of the revert and the calibration values; INT64_MAX. */
int64_t
ctl_next(void)
{
	int64_t at = INT64_MAX;

	for (int s = 0; s < SETTING_COUNT; s++)
		if (wd.set[s].pending)
			at = MIN(at, wd.set[s].since_ms +
			    wd.pf.timing.set_confirm_ms + 1);
	if (wd.rv.active && wd.rv.mid == 0)
		at = MIN(at, wd.rv.next_pub);
	if (wd.rv.active && wd.rv.attempt > 0 && !wd.rv.alarm)
		at = MIN(at, wd.rv.confirm_by);
	return at;
}
