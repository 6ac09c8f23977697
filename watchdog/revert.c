/*
 * Publishing a setting and believing only the readback. A value counts as
 * applied when every unit reports it in a sample that arrived after we
 * published; a revert is done only then. On the reference site a monitor
 * once logged "revert done" while both units sat in SUB for 1.5 hours
 * behind a wedged control queue: here the revert is republished with
 * backoff, with a retained alarm up, until the readback agrees.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "watchdog.h"

/* Runbook order: output priority back to SBU first, then the charger. */
static const enum setting revert_order[] = {
	SETTING_OUTPUT_PRIORITY, SETTING_CHARGER_PRIORITY
};
#define NORDER	(int)(sizeof(revert_order) / sizeof(revert_order[0]))

static enum unit_field
readback_field(enum setting s)
{
	return s == SETTING_OUTPUT_PRIORITY ? UF_OUTPUT_PRIORITY :
	    UF_CHARGER_PRIORITY;
}

/* Every publish is QoS 1; the count of unacknowledged ones lets exit wait. */
static int
pub(const char *topic, const char *payload, size_t len, int retain, int *mid)
{
	if (session_publish(wd.sess, topic, payload, len, 1, retain, mid) ==
	    -1) {
		log_warnx("%s", session_error(wd.sess));
		return -1;
	}
	wd.unacked++;
	return 0;
}

/* On the cluster topic: lvx-control applies it to both units at once. */
int
ctl_publish(enum setting s, enum setting_value v, int *mid)
{
	const char *val = wd.pf.control[s].value[v];

	if (pub(wd.pf.control[s].topic, val, strlen(val), 0, mid) == -1)
		return -1;
	log_info("published %s=%s", setting_name(s), val);
	return 0;
}

/* 1 if every unit's fresh readback (newer than since) shows v. */
int
ctl_readback(enum setting s, enum setting_value v, int64_t since,
    const char **text)
{
	enum unit_field f = readback_field(s);
	int64_t now = mono_ms();

	for (int u = 0; u < wd.pf.units; u++) {
		if (tm_unit_text(&wd.tm, u, f, now, text) != TM_VALID ||
		    wd.tm.unit[u][f].valid_at_ms <= since ||
		    profile_readback_value(&wd.pf, s, *text) != (int)v)
			return 0;
	}
	return wd.pf.units > 0;
}

/* Calibration values awaiting their readback. */
void
ctl_tick(int64_t now)
{
	const char *rb;

	for (int s = 0; s < SETTING_COUNT; s++) {
		struct wd_set *ws = &wd.set[s];

		if (!ws->pending)
			continue;
		if (ctl_readback(s, VALUE_CALIBRATION, ws->since_ms, &rb)) {
			ws->pending = 0;
			ws->confirmed = 1;
			(void)wd_audit(AUDIT_EV_CONFIRMED, (struct audit_field[]){
			    AF_S("setting", setting_name(s)),
			    AF_S("value", wd.pf.control[s].value[VALUE_CALIBRATION]),
			    AF_S("readback", rb) }, 3);
			mon_answer(PROTO_SET_CONFIRMED, s, VALUE_CALIBRATION, 0,
			    NULL);
		} else if (now - ws->since_ms > wd.pf.timing.set_confirm_ms) {
			log_warnx("%s: no readback of the calibration value in "
			    "%lld ms", setting_name(s),
			    (long long)wd.pf.timing.set_confirm_ms);
			revert_start(PROTO_REVERT_CONFIRM_TIMEOUT, now);
		}
	}
}

static void
alarm_set(int raise, int64_t now)
{
	char msg[384], ts[32];
	int n = 0;

	if (raise) {
		utc_format(utc_ms(), ts, sizeof(ts));
		n = snprintf(msg, sizeof(msg), "{\"alarm\":\"revert_unconfirmed\","
		    "\"site\":\"%s\",\"reason\":\"%s\",\"setting\":\"%s\","
		    "\"attempts\":%d,\"since_ms\":%lld,\"utc\":\"%s\"}", wd.pf.site,
		    proto_revert_name(wd.rv.reason),
		    setting_name(revert_order[wd.rv.step]), wd.rv.attempts,
		    (long long)(now - wd.rv.trigger_ms), ts);
		if (n < 0 || (size_t)n >= sizeof(msg))
			n = 0;
	}
	/* an empty retained message removes the retained alarm */
	(void)pub(wd.pf.alarm_topic, msg, (size_t)n, 1, NULL);
	wd.rv.alarm = raise;
	if (raise) {
		log_warnx("ALARM: revert not confirmed after %d attempts",
		    wd.rv.attempts);
		(void)wd_audit(AUDIT_EV_ALARM_RAISED, (struct audit_field[]){
		    AF_S("reason", "revert_unconfirmed"),
		    AF_S("setting", setting_name(revert_order[wd.rv.step])),
		    AF_I("attempts", wd.rv.attempts) }, 3);
	} else
		(void)wd_audit(AUDIT_EV_ALARM_CLEARED, NULL, 0);
}

/*
 * Starts the revert if calibration values may be applied. Any trigger
 * also latches the run: no calibration value is accepted afterwards.
 */
void
revert_start(enum proto_revert_reason why, int64_t now)
{
	wd.latched = 1;
	for (int s = 0; s < SETTING_COUNT; s++)
		wd.set[s].pending = 0;
	if (wd.rv.active || (!wd.dirty && why != PROTO_REVERT_REQUESTED))
		return;
	log_info("revert: %s", proto_revert_name(why));
	(void)wd_audit(AUDIT_EV_REVERT_TRIGGER, (struct audit_field[]){
	    AF_S("reason", proto_revert_name(why)) }, 1);
	memset(&wd.rv, 0, sizeof(wd.rv));
	wd.rv.active = 1;
	wd.rv.reason = why;
	wd.rv.trigger_ms = wd.rv.next_pub = now;
	if (why != PROTO_REVERT_REQUESTED)
		mon_reverted(why, 0);
}

static void
revert_done(int64_t now)
{
	log_info("revert confirmed on every unit after %d attempts, %lld ms",
	    wd.rv.attempts, (long long)(now - wd.rv.trigger_ms));
	(void)wd_audit(AUDIT_EV_REVERT_CONFIRMED, (struct audit_field[]){
	    AF_I("attempts", wd.rv.attempts),
	    AF_I("ms", now - wd.rv.trigger_ms) }, 2);
	if (wd.rv.alarm)
		alarm_set(0, now);
	/* a mark that cannot be removed only costs a revert at next start */
	(void)mark_clear();
	wd.rv.active = 0;
	wd.dirty = 0;
	if (wd.rv.reason != PROTO_REVERT_REQUESTED)
		mon_reverted(wd.rv.reason, 1);
}

static void
step_confirmed(enum setting s, const char *rb, int64_t now)
{
	(void)wd_audit(AUDIT_EV_CONFIRMED, (struct audit_field[]){
	    AF_S("setting", setting_name(s)),
	    AF_S("value", wd.pf.control[s].value[VALUE_EVERYDAY]),
	    AF_S("readback", rb) }, 3);
	if (wd.set[s].answer)
		mon_answer(PROTO_SET_CONFIRMED, s, VALUE_EVERYDAY, 0, NULL);
	wd.set[s].answer = 0;
	wd.set[s].confirmed = 0;
	wd.rv.step++;
	wd.rv.attempt = 0;
	wd.rv.mid = 0;
	wd.rv.next_pub = now;
	if (wd.rv.step == NORDER)
		revert_done(now);
}

static int64_t
backoff(int attempt)
{
	int64_t d = wd.pf.timing.revert_retry_ms;

	for (int i = 1; i < attempt && d < wd.pf.timing.revert_retry_max_ms; i++)
		d *= 2;
	return d < wd.pf.timing.revert_retry_max_ms ? d :
	    wd.pf.timing.revert_retry_max_ms;
}

/* The broker has the revert publish: its confirm window starts now. */
void
ctl_acked(int mid, int64_t now)
{
	wd.unacked--;
	if (!wd.rv.active || mid == 0 || mid != wd.rv.mid)
		return;
	wd.rv.mid = 0;
	if (wd.rv.confirm_by < now + wd.pf.timing.revert_confirm_ms)
		wd.rv.confirm_by = now + wd.pf.timing.revert_confirm_ms;
	if (wd.rv.next_pub < wd.rv.confirm_by + backoff(wd.rv.attempt))
		wd.rv.next_pub = wd.rv.confirm_by + backoff(wd.rv.attempt);
}

void
revert_tick(int64_t now)
{
	enum setting s;
	const char *rb;
	int mid;

	if (!wd.rv.active)
		return;
	s = revert_order[wd.rv.step];
	if (wd.rv.attempt > 0 && ctl_readback(s, VALUE_EVERYDAY,
	    wd.rv.first_ms, &rb)) {
		step_confirmed(s, rb, now);
		return;
	}
	if (wd.rv.attempt > 0 && now >= wd.rv.confirm_by && !wd.rv.alarm)
		alarm_set(1, now);
	/* still queued in libmosquitto: publishing again would double it */
	if (now < wd.rv.next_pub || wd.rv.mid != 0)
		return;
	wd.rv.attempt++;
	wd.rv.attempts++;
	(void)wd_audit(AUDIT_EV_REVERT_ATTEMPT, (struct audit_field[]){
	    AF_I("attempt", wd.rv.attempts), AF_S("setting", setting_name(s)) },
	    2);
	if (ctl_publish(s, VALUE_EVERYDAY, &mid) == 0) {
		wd.rv.mid = mid;
		(void)wd_audit(AUDIT_EV_PUBLISH, (struct audit_field[]){
		    AF_S("setting", setting_name(s)),
		    AF_S("value", wd.pf.control[s].value[VALUE_EVERYDAY]),
		    AF_I("attempt", wd.rv.attempt) }, 3);
	}
	if (wd.rv.attempt == 1)
		wd.rv.first_ms = now;
	wd.rv.confirm_by = now + wd.pf.timing.revert_confirm_ms;
	wd.rv.next_pub = wd.rv.confirm_by + backoff(wd.rv.attempt);
}
