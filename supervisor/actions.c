/*
 * The actions of spec/calibration.yaml: each does one small thing to the
 * run context. None dispatches an event or decides a transition, and none
 * arms or cancels a timer: timers are the states' (the engine arms them on
 * entry and cancels them on exit). The report and DONE are not actions:
 * the runtime prints the report and sends DONE once the machine has
 * reached its terminal state, whose outcome the table names.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "events.h"
#include "log.h"
#include "session.h"
#include "sm.h"
#include "sup.h"

/* Sets the reason of the run: one word, and a line for people. */
static void
note(struct sup *s, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
note(struct sup *s, const char *code, const char *fmt, ...)
{
	va_list ap;

	(void)strlcpy(s->code, code, sizeof(s->code));
	va_start(ap, fmt);
	(void)vsnprintf(s->reason, sizeof(s->reason), fmt, ap);
	va_end(ap);
	log_info("%s", s->reason);
}

/* A pre-flight gate's reason, from the same predicate the guard ran. */
static void
note_gate(struct sup *s, const char *code, bool (*gate)(const struct profile *,
    const struct snapshot *, char *, size_t))
{
	char why[256];

	if (!gate(&s->pf, &s->snap, why, sizeof(why)))
		(void)strlcpy(why, "(condition no longer holds)", sizeof(why));
	note(s, code, "pre-flight: %s", why);
}

void
action_audit_run_start(struct sup *s)
{
	const struct profile_limits *l = &s->pf.limits;

	(void)wdlink_audit(&s->wd, "run_start", "method=%s authorised=%d "
	    "profile=%.16s cell_abort_v=%.3f temp_range_c=%.1f..%.1f "
	    "run_max_s=%.0f", s->method == METHOD_GRID ? "grid" : "solar",
	    s->method == METHOD_GRID && s->confirm, s->pf.digest_hex,
	    l->abort_cell_v, l->abort_temp_min_c, l->abort_temp_max_c,
	    (double)s->pf.timing.run_max_ms / 1000.0);
}

/* Collected while the state's snapshot timer runs (events.c). */
void
action_begin_snapshot(struct sup *s)
{
	s->snap_since_ms = s->now;
}

void
action_record_before_snapshot(struct sup *s)
{
	s->before = s->snap;
	s->have_before = true;
	preflight_classify(&s->pf, &s->before, &s->pre);
}

void
action_record_after_snapshot(struct sup *s)
{
	s->after = s->snap;
	s->have_after = true;
	/* "reanchored" is the reason only when every pack did */
	if (monitor_verified(&s->pf, &s->after, s->anchored, &s->lagging,
	    s->verify_why, sizeof(s->verify_why)))
		note(s, "reanchored", "%s", s->verify_why);
}

void
action_audit_preflight(struct sup *s)
{
	report_preflight(s);
}

void
action_note_unauthorised(struct sup *s)
{
	note(s, "not_authorised", "grid-assist changes inverter settings and "
	    "needs --confirm for this run; nothing was changed");
}

void
action_note_temperature(struct sup *s)
{
	note_gate(s, "temperature", pre_temperature);
}

void
action_note_protection(struct sup *s)
{
	note_gate(s, "protection", pre_protection);
}

void
action_note_cell_delta(struct sup *s)
{
	note_gate(s, "cell_delta", pre_cell_delta);
}

void
action_note_cell_high(struct sup *s)
{
	note_gate(s, "cell_high", pre_cell_high);
}

void
action_note_units(struct sup *s)
{
	note_gate(s, "units", pre_units);
}

void
action_note_imbalance(struct sup *s)
{
	note_gate(s, "imbalance", pre_imbalance);
}

void
action_note_balanced(struct sup *s)
{
	note_gate(s, "balanced", pre_balanced);
}

void
action_note_no_snapshot(struct sup *s)
{
	char ret[160];

	/* a retained copy is not a reading: say which fields had only that */
	if (tm_retained_list(&s->tm, ret, sizeof(ret)) == 0)
		ret[0] = '\0';
	note(s, "no_snapshot", "no fresh complete snapshot within %.1f s: "
	    "%s%s%s%s%s", (double)s->pf.timing.preflight_wait_ms / 1000.0,
	    s->snap_why, ret[0] ? "; only retained, never live: " : "", ret,
	    s->broker_fatal ? "; broker: " : s->broker_up ? "" :
	    "; not connected to the broker",
	    s->broker_fatal ? session_error(s->ses) : "");
}

void
action_note_engage_timeout(struct sup *s)
{
	char why[160];

	if (monitor_engaged(&s->tm, s->now, why, sizeof(why)))
		(void)strlcpy(why, "engaged too late", sizeof(why));
	note(s, "engage_timeout", "grid charging not seen on every unit "
	    "within %.1f s: %s", (double)s->pf.timing.engage_timeout_ms /
	    1000.0, why);
}

void
action_note_lagging_packs(struct sup *s)
{
	/* lagging packs, or every pack re-anchored but a spread is wide */
	note(s, s->lagging != 0 ? "lagging" : "not_verified", "after the "
	    "longest hold (%.0f s): %s",
	    (double)s->pf.timing.absorption_max_ms / 1000.0,
	    s->verify_why[0] ? s->verify_why : "no verify snapshot");
}

void
action_note_no_absorption(struct sup *s)
{
	double pv = 0;

	for (int u = 0; u < s->pf.units; u++) {
		double w;

		if (tm_unit_num(&s->tm, u, UF_PV_POWER, s->now, &w) == TM_VALID)
			pv += w;
	}
	note(s, "no_absorption", "the run ended (run timeout) before solar "
	    "finished the absorption hold; solar input now %.0f W", pv);
}

static void
request(struct sup *s, enum setting st, enum setting_value v)
{
	if (v == VALUE_CALIBRATION)
		s->requested = true;
	/* a broken link ends the run in events.c; the watchdog reverts */
	(void)wdlink_request(&s->wd, st, v);
	log_info("asked the watchdog: %s -> %s", setting_name(st),
	    s->pf.control[st].value[v]);	/* after: act first */
}

void
action_request_charger_calibration(struct sup *s)
{
	request(s, SETTING_CHARGER_PRIORITY, VALUE_CALIBRATION);
}

void
action_request_output_calibration(struct sup *s)
{
	request(s, SETTING_OUTPUT_PRIORITY, VALUE_CALIBRATION);
}

void
action_request_output_everyday(struct sup *s)
{
	request(s, SETTING_OUTPUT_PRIORITY, VALUE_EVERYDAY);
}

void
action_request_charger_everyday(struct sup *s)
{
	request(s, SETTING_CHARGER_PRIORITY, VALUE_EVERYDAY);
}

void
action_audit_engaged(struct sup *s)
{
	char modes[96] = "", line[64] = "";
	const char *t;
	double amps = 0;

	for (int u = 0; u < s->pf.units; u++) {
		if (tm_unit_text(&s->tm, u, UF_DEVICE_MODE, s->now, &t) ==
		    TM_VALID) {
			if (u > 0)
				(void)strlcat(modes, ",", sizeof(modes));
			(void)strlcat(modes, t, sizeof(modes));
		}
		if (tm_unit_text(&s->tm, u, UF_LINE_DIRECTION, s->now, &t) ==
		    TM_VALID) {
			if (u > 0)
				(void)strlcat(line, ",", sizeof(line));
			(void)strlcat(line, t, sizeof(line));
		}
	}
	(void)monitor_total_current(&s->tm, s->now, &amps);
	log_info("grid charging engaged: modes %s, line %s, %.1f A", modes,
	    line, amps);
	(void)wdlink_audit(&s->wd, "engaged", "modes=%s line=%s current_a=%.1f",
	    modes, line, amps);
}

void
action_extend_hold(struct sup *s)
{
	uint32_t lagging;
	char why[PROTO_TEXT_LEN];

	(void)monitor_verified(&s->pf, &s->snap, s->anchored, &lagging, why,
	    sizeof(why));
	log_info("not verified yet (%s); holding absorption longer", why);
}

void
action_audit_absorption_lost(struct sup *s)
{
	double v, lo = 0;
	int pack = 0;

	for (int p = 0; p < s->pf.packs; p++)
		if (tm_pack(&s->tm, p, PF_PACK_VOLTAGE, s->now, &v) ==
		    TM_VALID && (pack == 0 || v < lo)) {
			lo = v;
			pack = p + 1;
		}
	log_info("left the bulk band: pack %d at %.2f V", pack, lo);
	(void)wdlink_audit(&s->wd, "absorption_lost", "pack=%d voltage=%.2f "
	    "bulk_v=%.2f", pack, lo, s->pf.limits.bulk_v);
}

/*
 * The judgement goes to the watchdog first: the row's request for the
 * everyday value is sent before this record (sm.c sends it after the
 * row's actions), so no bookkeeping frame queues ahead of the revert.
 */
void
action_audit_abort(struct sup *s)
{
	s->abort_due = true;	/* logged with its record, after the request */
}

void
sup_send_abort_audit(struct sup *s)
{
	if (!s->abort_due)
		return;
	s->abort_due = false;
	log_warnx("abort: %s", s->reason);
	(void)wdlink_audit(&s->wd, "abort", "reason=%s %s", s->code,
	    s->event_why);
}

void
action_set_outcome_pass(struct sup *s)
{
	s->pending = PROTO_OUTCOME_PASS;
}

void
action_set_outcome_fail(struct sup *s)
{
	s->pending = PROTO_OUTCOME_FAIL;
}

void
action_set_outcome_aborted(struct sup *s)
{
	s->pending = PROTO_OUTCOME_ABORTED;
}

void
action_set_outcome_cancelled(struct sup *s)
{
	s->pending = PROTO_OUTCOME_CANCELLED;
}

/* The link's error says why (EOF, I/O error, a broken frame). */
void
action_note_watchdog_lost(struct sup *s)
{
	(void)strlcpy(s->code, "watchdog_lost", sizeof(s->code));
	(void)strlcpy(s->reason, "watchdog link lost: ", sizeof(s->reason));
	(void)strlcat(s->reason, s->wd.error, sizeof(s->reason));
	log_warnx("%s", s->reason);
}

void
action_audit_reverted(struct sup *s)
{
	s->reverted = true;
	log_info("settings back to everyday, confirmed by the watchdog");
	(void)wdlink_audit(&s->wd, "reverted", "output=%s charger=%s",
	    s->pf.control[SETTING_OUTPUT_PRIORITY].value[VALUE_EVERYDAY],
	    s->pf.control[SETTING_CHARGER_PRIORITY].value[VALUE_EVERYDAY]);
}
