/*
 * Run-time judgements on the telemetry store. Abort checks read valid
 * values only; a value that is not valid is covered by the stale check,
 * which fires once the field has been unknown longer than the grace.
 */
#include <stdio.h>
#include <string.h>

#include "monitor.h"

#define EPS	1e-9

static const char *const alarm_names[AL_COUNT] = {
	"none", "cell_over_limit", "temperature", "protection", "unit_fault",
	"stale_telemetry", "unit_mismatch"
};

const char *
alarm_name(enum alarm a)
{
	return (unsigned)a < AL_COUNT ? alarm_names[a] : "?";
}

static enum alarm
pack_alarm(const struct tm_store *tm, int p, int64_t now, char *why,
    size_t whysz)
{
	const struct profile_limits *l = &tm->pf->limits;
	double v;

	if (tm_pack(tm, p, PF_CELL_VOLTAGE_MAX, now, &v) == TM_VALID &&
	    v > l->abort_cell_v + EPS) {
		(void)snprintf(why, whysz, "pack=%d cell_max=%.3f limit=%.3f",
		    p + 1, v, l->abort_cell_v);
		return AL_CELL;
	}
	/* every sensor: one hot spot is enough */
	for (int f = PF_TEMP; f < pack_nfields(tm->pf); f++)
		if (tm_pack(tm, p, f, now, &v) == TM_VALID &&
		    (v > l->abort_temp_max_c + EPS ||
		    v < l->abort_temp_min_c - EPS)) {
			(void)snprintf(why, whysz,
			    "pack=%d %s=%.1f range=%.1f..%.1f", p + 1,
			    pack_field_name(tm->pf, f), v, l->abort_temp_min_c,
			    l->abort_temp_max_c);
			return AL_TEMP;
		}
	if (tm_pack(tm, p, PF_PROTECTION, now, &v) == TM_VALID && v != 0) {
		(void)snprintf(why, whysz, "pack=%d protection=0x%x", p + 1,
		    (unsigned)v);
		return AL_PROTECTION;
	}
	return AL_NONE;
}

/* The unit fields a run depends on; power figures are for the record. */
static const enum unit_field unit_safety_fields[] = {
	UF_DEVICE_MODE, UF_OUTPUT_PRIORITY, UF_CHARGER_PRIORITY,
	UF_LINE_DIRECTION
};
#define N_UNIT_SAFETY	(sizeof(unit_safety_fields) / sizeof(unit_safety_fields[0]))

/*
 * A field that was valid once and has been unknown (stale, rejected)
 * longer than the grace. A field never seen at all is the pre-flight's
 * business (no complete snapshot); after pre-flight every field has been.
 */
static bool
stale(int64_t unknown_ms, int64_t grace)
{
	return unknown_ms != INT64_MAX && unknown_ms > grace;
}

static enum alarm
stale_alarm(const struct tm_store *tm, int64_t now, char *why, size_t whysz)
{
	int64_t grace = tm->pf->timing.telemetry_grace_ms, t;

	for (int p = 0; p < tm->pf->packs; p++)
		for (int f = 0; f < pack_nfields(tm->pf); f++)
			if (stale(t = tm_pack_unknown_for(tm, p, f, now),
			    grace)) {
				(void)snprintf(why, whysz,
				    "pack=%d field=%s unknown_ms=%lld", p + 1,
				    pack_field_name(tm->pf, f), (long long)t);
				return AL_STALE;
			}
	for (int u = 0; u < tm->pf->units; u++)
		for (size_t k = 0; k < N_UNIT_SAFETY; k++)
			if (stale(t = tm_unit_unknown_for(tm, u,
			    unit_safety_fields[k], now), grace)) {
				(void)snprintf(why, whysz,
				    "unit=%d field=%s unknown_ms=%lld", u + 1,
				    unit_field_name(unit_safety_fields[k]),
				    (long long)t);
				return AL_STALE;
			}
	return AL_NONE;
}

static enum alarm
fault_alarm(const struct tm_store *tm, int64_t now, char *why, size_t whysz)
{
	const char *mode;

	for (int u = 0; u < tm->pf->units; u++)
		if (tm_unit_text(tm, u, UF_DEVICE_MODE, now, &mode) == TM_VALID &&
		    profile_is_fault_mode(tm->pf, mode)) {
			(void)snprintf(why, whysz, "unit=%d device_mode=%s",
			    u + 1, mode);
			return AL_UNIT_FAULT;
		}
	return AL_NONE;
}

/* Is there a mismatch right now? Describes it in why. */
static bool
mismatch_now(const struct tm_store *tm, const struct expect *ex, int64_t now,
    char *why, size_t whysz)
{
	static const enum unit_field fld[SETTING_COUNT] = {
		[SETTING_OUTPUT_PRIORITY] = UF_OUTPUT_PRIORITY,
		[SETTING_CHARGER_PRIORITY] = UF_CHARGER_PRIORITY,
	};
	const char *rb, *first;
	int ufirst;

	for (int s = 0; s < SETTING_COUNT; s++) {
		first = NULL;
		ufirst = 0;
		for (int u = 0; u < tm->pf->units; u++) {
			if (tm_unit_text(tm, u, fld[s], now, &rb) != TM_VALID)
				continue;
			if (first == NULL) {
				first = rb;
				ufirst = u;
			} else if (strcmp(first, rb) != 0) {
				(void)snprintf(why, whysz,
				    "setting=%s unit%d=\"%s\" unit%d=\"%s\"",
				    setting_name(s), ufirst + 1, first, u + 1,
				    rb);
				return true;
			}
			if (ex->value[s] >= 0 && profile_readback_value(tm->pf,
			    s, rb) != ex->value[s]) {
				/* quoted: a wrong case or a stray blank
				 * must be visible */
				(void)snprintf(why, whysz,
				    "setting=%s unit=%d readback=\"%s\" "
				    "expected=\"%s\"", setting_name(s), u + 1,
				    rb, tm->pf->control[s].readback[ex->value[s]]);
				return true;
			}
		}
	}
	return false;
}

enum alarm
monitor_alarm(struct monitor *m, const struct tm_store *tm,
    const struct expect *ex, int64_t now_ms, char *why, size_t whysz)
{
	enum alarm a;
	char mwhy[sizeof(m->mismatch_why)];

	for (int p = 0; p < tm->pf->packs; p++)
		if ((a = pack_alarm(tm, p, now_ms, why, whysz)) != AL_NONE)
			return a;
	if ((a = fault_alarm(tm, now_ms, why, whysz)) != AL_NONE ||
	    (a = stale_alarm(tm, now_ms, why, whysz)) != AL_NONE)
		return a;
	if (!mismatch_now(tm, ex, now_ms, mwhy, sizeof(mwhy))) {
		m->mismatch_since = 0;
		return AL_NONE;
	}
	/* readbacks of paralleled units settle at slightly different times */
	if (m->mismatch_since == 0)
		m->mismatch_since = now_ms;
	(void)strlcpy(m->mismatch_why, mwhy, sizeof(m->mismatch_why));
	if (now_ms - m->mismatch_since <= tm->pf->timing.telemetry_grace_ms)
		return AL_NONE;
	(void)snprintf(why, whysz, "%s for_ms=%lld", mwhy,
	    (long long)(now_ms - m->mismatch_since));
	return AL_UNIT_MISMATCH;
}

bool
monitor_total_current(const struct tm_store *tm, int64_t now_ms, double *amps)
{
	double a, sum = 0;

	for (int p = 0; p < tm->pf->packs; p++) {
		if (tm_pack(tm, p, PF_PACK_CURRENT, now_ms, &a) != TM_VALID)
			return false;
		sum += a;
	}
	*amps = sum;
	return true;
}

/* The unit's text field, or why there is none ("stale"). */
static const char *
text_or_status(const struct tm_store *tm, int u, enum unit_field f,
    int64_t now, bool *valid)
{
	const char *t;
	enum tm_status st;

	st = tm_unit_text(tm, u, f, now, &t);
	*valid = st == TM_VALID;
	return *valid ? t : tm_status_name(st);
}

/* Each reason shows the string that arrived next to the one expected. */
static bool
unit_engaged(const struct tm_store *tm, int u, int64_t now, char *why,
    size_t whysz)
{
	const struct profile *pf = tm->pf;
	const char *mode, *dir, *op;
	bool ok;

	mode = text_or_status(tm, u, UF_DEVICE_MODE, now, &ok);
	if (!ok || !profile_is_grid_mode(pf, mode)) {
		(void)snprintf(why, whysz, "unit %d device mode %s%s%s not a "
		    "grid mode", u + 1, ok ? "\"" : "", mode, ok ? "\"" : "");
		return false;
	}
	dir = text_or_status(tm, u, UF_LINE_DIRECTION, now, &ok);
	if (!ok || strcmp(dir, pf->line_input) != 0) {
		(void)snprintf(why, whysz, "unit %d line direction %s%s%s, "
		    "expected \"%s\"", u + 1, ok ? "\"" : "", dir,
		    ok ? "\"" : "", pf->line_input);
		return false;
	}
	op = text_or_status(tm, u, UF_OUTPUT_PRIORITY, now, &ok);
	if (!ok || profile_readback_value(pf, SETTING_OUTPUT_PRIORITY, op) !=
	    VALUE_CALIBRATION) {
		(void)snprintf(why, whysz, "unit %d output priority reads "
		    "%s%s%s, expected \"%s\"", u + 1, ok ? "\"" : "", op,
		    ok ? "\"" : "", pf->control[SETTING_OUTPUT_PRIORITY].readback[
		    VALUE_CALIBRATION]);
		return false;
	}
	return true;
}

bool
monitor_engaged(const struct tm_store *tm, int64_t now_ms, char *why,
    size_t whysz)
{
	double amps;

	for (int u = 0; u < tm->pf->units; u++)
		if (!unit_engaged(tm, u, now_ms, why, whysz))
			return false;
	if (!monitor_total_current(tm, now_ms, &amps) ||
	    amps < tm->pf->limits.engage_current_a) {
		(void)snprintf(why, whysz, "total pack current below %.0f A",
		    tm->pf->limits.engage_current_a);
		return false;
	}
	return true;
}

int
monitor_bulk_band(const struct tm_store *tm, int64_t now_ms)
{
	const struct profile_limits *l = &tm->pf->limits;
	int in = 1;
	double v;

	for (int p = 0; p < tm->pf->packs; p++) {
		if (tm_pack(tm, p, PF_PACK_VOLTAGE, now_ms, &v) != TM_VALID)
			return -1;
		if (v < l->bulk_v - l->bulk_tolerance_v - EPS ||
		    v > l->bulk_v + l->bulk_tolerance_v + EPS)
			in = 0;
	}
	return in;
}

bool
monitor_near_bulk(const struct tm_store *tm, int64_t now_ms)
{
	const struct profile_limits *l = &tm->pf->limits;
	double v;

	for (int p = 0; p < tm->pf->packs; p++)
		if (tm_pack(tm, p, PF_PACK_VOLTAGE, now_ms, &v) != TM_VALID ||
		    v < l->bulk_v - l->bulk_tolerance_v - EPS ||
		    v > l->bulk_v + l->bulk_tolerance_v + EPS)
			return false;
	return true;
}

bool
monitor_tapered(const struct tm_store *tm, int64_t now_ms)
{
	const struct profile_limits *l = &tm->pf->limits;
	double a, sum = 0;

	if (!monitor_near_bulk(tm, now_ms))
		return false;
	for (int p = 0; p < tm->pf->packs; p++) {
		if (tm_pack(tm, p, PF_PACK_CURRENT, now_ms, &a) != TM_VALID ||
		    a > l->tail_per_pack_a + EPS)
			return false;
		sum += a;
	}
	return sum <= l->tail_total_a + EPS;
}

uint32_t
monitor_watch_anchor(const struct tm_store *tm, int64_t now_ms,
    uint32_t *anchored)
{
	double v, at = tm->pf->limits.verify_reanchor_pct;
	uint32_t was = *anchored;

	for (int p = 0; p < tm->pf->packs; p++)
		if (tm_pack(tm, p, PF_SOC, now_ms, &v) == TM_VALID &&
		    v >= at - EPS)
			*anchored |= 1u << p;
	return *anchored & ~was;
}

/* "pack 6 at 99 %, pack 4 at 97 %" for the packs in mask. */
static void
lagging_figures(const struct snapshot *n, uint32_t mask, char *buf,
    size_t bufsz)
{
	size_t off = 0;
	int len;

	buf[0] = '\0';
	for (int p = 0; p < n->packs && off < bufsz; p++)
		if (mask & (1u << p)) {
			len = snprintf(buf + off, bufsz - off, "%spack %d at "
			    "%.0f %%", off ? ", " : "", p + 1, n->soc[p]);
			if (len < 0)
				return;
			off += (size_t)len;
		}
}

bool
monitor_verified(const struct profile *pf, const struct snapshot *n,
    uint32_t anchored, uint32_t *lagging, char *why, size_t whysz)
{
	const struct profile_limits *l = &pf->limits;
	char list[64], figs[120];

	*lagging = 0;
	for (int p = 0; p < n->packs; p++) {
		bool reanchored = n->soc[p] >= l->verify_reanchor_pct - EPS ||
		    (anchored & (1u << p));

		if (!reanchored || n->soc[p] < l->verify_soc_pct - EPS)
			*lagging |= 1u << p;
	}
	if (*lagging != 0) {
		monitor_lagging_list(*lagging, list, sizeof(list));
		lagging_figures(n, *lagging, figs, sizeof(figs));
		(void)snprintf(why, whysz, "not re-anchored: %s (a re-anchor "
		    "reads %.0f %%; no jump to it was seen during the hold); "
		    "extend the hold or investigate pack %s", figs,
		    l->verify_reanchor_pct, list);
		return false;
	}
	if (n->volt_spread >= l->verify_voltage_spread_v - EPS) {
		(void)snprintf(why, whysz, "pack voltage spread %.3f V not below "
		    "%.3f V", n->volt_spread, l->verify_voltage_spread_v);
		return false;
	}
	if (n->delta_hi >= l->verify_cell_delta_mv - EPS) {
		(void)snprintf(why, whysz, "pack %d cell delta %.0f mV not below "
		    "%.0f mV", n->delta_hi_pack + 1, n->delta_hi,
		    l->verify_cell_delta_mv);
		return false;
	}
	(void)snprintf(why, whysz, "every pack re-anchored (read %.0f %% or "
	    "seen jumping to it in the hold; SoC now %.1f..%.1f %%), voltage "
	    "spread %.3f V, max cell delta %.0f mV", l->verify_reanchor_pct,
	    n->soc_lo, n->soc_hi, n->volt_spread, n->delta_hi);
	return true;
}

void
monitor_lagging_list(uint32_t lagging, char *buf, size_t bufsz)
{
	size_t off = 0;
	int len;

	if (bufsz == 0)
		return;
	buf[0] = '\0';
	for (int p = 0; p < 32 && off < bufsz; p++)
		if (lagging & (1u << p)) {
			len = snprintf(buf + off, bufsz - off, "%s%d",
			    off ? "," : "", p + 1);
			if (len < 0)
				return;
			off += (size_t)len;
		}
}
