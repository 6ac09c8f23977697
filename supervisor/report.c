/*
 * What people read: the progress line during a run, the pre-flight and
 * `check` figures, the final report. Plain text; on a terminal the state
 * name is bold. The same figures go to the watchdog's audit log as
 * key=value events (report_final) so `gridcal-audit report` can read them.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "session.h"
#include "sm.h"
#include "sup.h"

#define BOLD(s)	((s)->tty ? "\033[1m" : "")
#define PLAIN(s) ((s)->tty ? "\033[0m" : "")

/* The latest valid value of every field whatever its age; NAN if none. */
void
report_latest(const struct tm_store *tm, int64_t now_ms, struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->at_ms = now_ms;
	s->packs = tm->pf->packs;
	s->units = tm->pf->units;
	s->ntemps = tm->pf->n_temps;
	for (int p = 0; p < s->packs; p++) {
		double *dst[PF_TEMP] = {
			&s->soc[p], &s->volt[p], &s->amps[p], &s->cell_max[p],
			&s->delta_mv[p], NULL
		};

		for (int f = 0; f < pack_nfields(tm->pf); f++) {
			const struct tm_sample *t = &tm->pack[p][f];
			double v = t->valid_at_ms != 0 ? t->num : NAN;

			if (pack_field_is_temp(f))
				s->temp[p][f - PF_TEMP] = v;
			else if (dst[f] != NULL)
				*dst[f] = v;
			else
				s->prot[p] = isnan(v) ? 0 : (uint32_t)v;
		}
	}
	for (int u = 0; u < s->units; u++) {
		(void)strlcpy(s->mode[u], tm->unit[u][UF_DEVICE_MODE].text,
		    sizeof(s->mode[u]));
		(void)strlcpy(s->out_prio[u],
		    tm->unit[u][UF_OUTPUT_PRIORITY].text, sizeof(s->out_prio[u]));
		(void)strlcpy(s->chg_prio[u],
		    tm->unit[u][UF_CHARGER_PRIORITY].text,
		    sizeof(s->chg_prio[u]));
	}
	snapshot_derive(s);
}

/* v with prec decimals, "?" if unknown. */
static void
fmt_num(char *buf, size_t sz, int prec, double v)
{
	if (isnan(v))
		(void)strlcpy(buf, "?", sz);
	else
		(void)snprintf(buf, sz, "%.*f", prec, v);
}

/* Per-pack SoC as "50,51,76" (whole percent), "?" for unknown. */
static void
soc_list(const struct tm_store *tm, int64_t now, char *buf, size_t bufsz)
{
	size_t off = 0;
	double v;
	int len;

	buf[0] = '\0';
	for (int p = 0; p < tm->pf->packs && off < bufsz; p++) {
		if (tm_pack(tm, p, PF_SOC, now, &v) == TM_VALID)
			len = snprintf(buf + off, bufsz - off, "%s%.0f",
			    p ? "," : "", v);
		else
			len = snprintf(buf + off, bufsz - off, "%s?",
			    p ? "," : "");
		if (len < 0)
			return;
		off += (size_t)len;
	}
}

/* A pack's hottest valid temperature sensor now; NAN if none. */
static double
pack_hottest(const struct tm_store *tm, int p, int64_t now)
{
	double v, hi = NAN;

	for (int f = PF_TEMP; f < pack_nfields(tm->pf); f++)
		if (tm_pack(tm, p, f, now, &v) == TM_VALID &&
		    (isnan(hi) || v > hi))
			hi = v;
	return hi;
}

/* Degrees as the site publishes them: a degrees F site reads F. */
static double
site_deg(const struct profile *pf, double c)
{
	return profile_temp_fahrenheit(pf) ? c * 9.0 / 5.0 + 32.0 : c;
}

static const char *
site_deg_unit(const struct profile *pf)
{
	return profile_temp_fahrenheit(pf) ? "F" : "C";
}

/*
 * Mean (how 0), sum (1) or max (2, which: its pack) over the packs whose
 * field is valid; NAN if none. The temperature (f PF_TEMP, how 2) is each
 * pack's hottest valid sensor.
 */
static double
pack_stat(const struct tm_store *tm, int f, int64_t now, int how, int *which)
{
	double v, acc = NAN;
	int n = 0;

	for (int p = 0; p < tm->pf->packs; p++) {
		if (f == PF_TEMP ? isnan(v = pack_hottest(tm, p, now)) :
		    tm_pack(tm, p, f, now, &v) != TM_VALID)
			continue;
		if (how == 0)	/* mean */
			acc = n == 0 ? v : acc + v;
		else if (how == 1)	/* sum */
			acc = n == 0 ? v : acc + v;
		else if (n == 0 || v > acc) {	/* max */
			acc = v;
			if (which != NULL)
				*which = p + 1;
		}
		n++;
	}
	if (how == 0 && n > 0)
		acc /= n;
	return acc;
}

/*
 * The run's state on the status topic (QoS 0, not retained: a dashboard
 * sees it live, nobody mistakes an old one for the present).
 */
void
report_status(struct sup *s)
{
	char msg[512], socs[128];
	double amps = NAN;
	int n;

	if (s->ses == NULL || !s->broker_up)
		return;
	soc_list(&s->tm, s->now, socs, sizeof(socs));
	(void)monitor_total_current(&s->tm, s->now, &amps);
	n = snprintf(msg, sizeof(msg), "{\"state\":\"%s\",\"elapsed_s\":%.1f,"
	    "\"method\":\"%s\",\"soc\":\"%s\",\"current_a\":%.1f,"
	    "\"outcome\":\"%s\"}", sup_state_name(s->state),
	    (double)(s->now - s->start_ms) / 1000.0,
	    s->method == METHOD_GRID ? "grid" : "solar", socs,
	    isnan(amps) ? 0.0 : amps, s->finished ?
	    proto_outcome_name(s->outcome) : "");
	if (n < 0 || (size_t)n >= sizeof(msg))
		return;
	if (session_publish(s->ses, s->pf.status_topic, msg, (size_t)n, 0, 0,
	    NULL) == -1)
		log_debug("status: %s", session_error(s->ses));
}

/* One pack field of packs [first, last) as "a,b,c" ("?" unknown). */
static void
sample_list(const struct tm_store *tm, enum pack_field f, int prec,
    int first, int last, int64_t now, char *buf, size_t bufsz)
{
	size_t off = 0;
	double v;
	int len;

	buf[0] = '\0';
	for (int p = first; p < last && off < bufsz; p++) {
		if (tm_pack(tm, p, f, now, &v) == TM_VALID)
			len = snprintf(buf + off, bufsz - off, "%s%.*f",
			    p > first ? "," : "", prec, v);
		else
			len = snprintf(buf + off, bufsz - off, "%s?",
			    p > first ? "," : "");
		if (len < 0)
			return;
		off += (size_t)len;
	}
}

/*
 * The monitoring sample `gridcal-audit plot` draws: per pack SoC, pack
 * voltage, max cell voltage and current, valid values only ("?" else).
 * Exactly one record with each progress line, so at most one per
 * timing.progress_interval_s (an 8-hour run at 60 s: 480 records, about
 * 230 KB), within the watchdog's AUDIT rate and byte budget. A record
 * holds SAMPLE_PACKS packs (p= the first) to fit an AUDIT frame's text
 * (PROTO_TEXT_LEN); a bigger bank is sampled group by group in turn.
 */
#define SAMPLE_PACKS	6
static void
audit_sample(struct sup *s)
{
	static int first;	/* the group this interval samples */
	char soc[48], volt[48], cell[48], amps[56];
	int last;

	if (first >= s->pf.packs)
		first = 0;
	last = first + SAMPLE_PACKS < s->pf.packs ? first + SAMPLE_PACKS :
	    s->pf.packs;
	sample_list(&s->tm, PF_SOC, 1, first, last, s->now, soc, sizeof(soc));
	sample_list(&s->tm, PF_PACK_VOLTAGE, 2, first, last, s->now, volt,
	    sizeof(volt));
	sample_list(&s->tm, PF_CELL_VOLTAGE_MAX, 3, first, last, s->now, cell,
	    sizeof(cell));
	sample_list(&s->tm, PF_PACK_CURRENT, 1, first, last, s->now, amps,
	    sizeof(amps));
	(void)wdlink_audit(&s->wd, "sample", "state=%s p=%d soc=%s volt=%s "
	    "cell=%s amps=%s", sup_state_name(s->state), first + 1, soc, volt,
	    cell, amps);
	first = last;
}

/* h:mm:ss of a duration in ms; "?" if negative. */
static void
fmt_dur(char *buf, size_t sz, int64_t ms)
{
	int64_t t = (ms + 500) / 1000;

	if (ms < 0)
		(void)strlcpy(buf, "?", sz);
	else
		(void)snprintf(buf, sz, "%lld:%02lld:%02lld",
		    (long long)(t / 3600), (long long)(t / 60 % 60),
		    (long long)(t % 60));
}

/* The mean SoC of the packs with a valid one now; NAN if none. */
static double
soc_mean(const struct tm_store *tm, int64_t now)
{
	double sum = 0, v;
	int n = 0;

	for (int p = 0; p < tm->pf->packs; p++)
		if (tm_pack(tm, p, PF_SOC, now, &v) == TM_VALID) {
			sum += v;
			n++;
		}
	return n > 0 ? sum / n : NAN;
}

/*
 * What is left, in words a person can plan by: before absorption, the
 * time to bulk at the rate the bank has been charging since it began to
 * (the remaining capacity, 100 % less the mean SoC, over the SoC gained
 * per hour at this current: no capacity figure needed, none trusted);
 * in absorption, the countdown of the hold once the current tapered.
 */
static void
fmt_left(struct sup *s, double amps, char *buf, size_t sz)
{
	static int64_t t0;	/* first progress line while charging */
	static double soc0;
	double soc = soc_mean(&s->tm, s->now), rate;
	int64_t at;
	char d[24];

	buf[0] = '\0';
	/* the states' timers: hold in the taper hold, absorption in it */
	if ((at = sm_timer_at(CAL_TIMER_HOLD)) != 0) {
		fmt_dur(d, sizeof(d), at - s->now);
		(void)snprintf(buf, sz, " | hold %s left", d);
		return;
	}
	if ((at = sm_timer_at(CAL_TIMER_ABSORPTION)) != 0) {
		fmt_dur(d, sizeof(d), at - s->now);
		(void)snprintf(buf, sz, " | absorption: waiting for the "
		    "taper (at most %s)", d);
		return;
	}
	if (isnan(soc) || isnan(amps) || amps <= 0) {
		t0 = 0;		/* not charging: start over */
		return;
	}
	if (t0 == 0) {
		t0 = s->now;
		soc0 = soc;
	}
	rate = s->now > t0 ? (soc - soc0) / (double)(s->now - t0) : 0;
	if (rate <= 0) {
		(void)snprintf(buf, sz, " | bulk: ETA once the SoC moves");
		return;
	}
	fmt_dur(d, sizeof(d), (int64_t)((100.0 - soc) / rate));
	(void)snprintf(buf, sz, " | bulk in ~%s (%.1f %%/h)", d,
	    rate * 3600000.0);
}

void
report_progress(struct sup *s)
{
	const struct tm_store *tm = &s->tm;
	char socs[128], bus[16], amps[16], cell[16], temp[16], clock[16];
	char el[24], left[96];
	double a;
	int cp = 0, tp = 0;
	time_t now = time(NULL);
	struct tm lt;

	soc_list(tm, s->now, socs, sizeof(socs));
	fmt_num(bus, sizeof(bus), 2, pack_stat(tm, PF_PACK_VOLTAGE,
	    s->now, 0, NULL));
	a = pack_stat(tm, PF_PACK_CURRENT, s->now, 1, NULL);
	fmt_num(amps, sizeof(amps), 1, a);
	fmt_num(cell, sizeof(cell), 3, pack_stat(tm, PF_CELL_VOLTAGE_MAX,
	    s->now, 2, &cp));
	/* the hottest sensor of the bank, as the site publishes it */
	fmt_num(temp, sizeof(temp), 1, site_deg(tm->pf, pack_stat(tm, PF_TEMP,
	    s->now, 2, &tp)));
	if (localtime_r(&now, &lt) == NULL ||
	    strftime(clock, sizeof(clock), "%H:%M:%S", &lt) == 0)
		(void)strlcpy(clock, "?", sizeof(clock));
	fmt_dur(el, sizeof(el), s->now - s->start_ms);
	fmt_left(s, a, left, sizeof(left));
	(void)fprintf(s->out, "%s +%s %s%-12s%s soc %s %% | bus %s V | "
	    "%s A | cell max %s V (pack %d) | temp max %s %s (pack %d)%s\n",
	    clock, el, BOLD(s), sup_state_name(s->state), PLAIN(s), socs,
	    bus, amps, cell, cp, temp, site_deg_unit(tm->pf), tp, left);
	(void)fflush(s->out);
	report_status(s);
	audit_sample(s);
}

/*
 * One row per pack: the figures a pre-flight decision was made on; the
 * temperatures are the pack's coldest..hottest sensor, in the site's unit.
 */
static void
print_packs(FILE *f, const struct profile *pf, const struct snapshot *n)
{
	const char *du = site_deg_unit(pf);

	(void)fprintf(f, "  pack    soc   voltage  current  cell max  delta"
	    "  temp min..max %s  prot\n", du);
	for (int p = 0; p < n->packs; p++)
		(void)fprintf(f, "  %4d  %5.1f  %7.2f  %7.1f  %8.3f  %5.0f"
		    "  %6.1f..%-6.1f   0x%x\n", p + 1, n->soc[p], n->volt[p],
		    n->amps[p], n->cell_max[p], n->delta_mv[p],
		    site_deg(pf, n->temp_min[p]), site_deg(pf, n->temp_max[p]),
		    (unsigned)n->prot[p]);
	for (int u = 0; u < n->units; u++)
		(void)fprintf(f, "  unit %d: mode %s, output %s, charger %s, "
		    "line %s\n", u + 1, n->mode[u], n->out_prio[u],
		    n->chg_prio[u], n->line_dir[u]);
	(void)fprintf(f, "  SoC %.1f..%.1f %% (spread %.1f %%), voltage "
	    "%.2f..%.2f V (spread %.3f V), max cell delta %.0f mV, "
	    "temperature %.1f..%.1f %s (%d sensors per pack)\n", n->soc_lo,
	    n->soc_hi, n->soc_spread, n->volt_lo, n->volt_hi, n->volt_spread,
	    n->delta_hi, site_deg(pf, n->temp_lo), site_deg(pf, n->temp_hi),
	    du, n->ntemps);
}

void
report_preflight(struct sup *s)
{
	char socs[160];

	(void)fprintf(s->out, "pre-flight: %s%s%s: %s\n", BOLD(s),
	    preflight_class_name(s->pre.cls), PLAIN(s), s->pre.why);
	print_packs(s->out, &s->pf, &s->before);
	(void)fflush(s->out);
	if (s->check_only)
		return;
	snapshot_list(s->before.soc, s->before.packs, socs, sizeof(socs));
	(void)wdlink_audit(&s->wd, "preflight", "class=%s soc=%s spread=%.1f "
	    "vspread=%.3f", preflight_class_name(s->pre.cls), socs,
	    s->before.soc_spread, s->before.volt_spread);
}

void
report_check(struct sup *s, int have_snapshot)
{
	char ret[256];

	if (!have_snapshot) {
		(void)fprintf(s->out, "check: no complete snapshot within "
		    "%.1f s: %s%s\n", (double)s->pf.timing.preflight_wait_ms /
		    1000.0, s->snap_why, s->broker_up ? "" :
		    " (not connected to the broker)");
		if (tm_retained_list(&s->tm, ret, sizeof(ret)) > 0)
			(void)fprintf(s->out, "check: only a retained message, "
			    "never a live one (not fresh): %s\n", ret);
		return;
	}
	report_preflight(s);
	switch (s->pre.cls) {
	case PRE_DRIFT:
		(void)fprintf(s->out, "recommendation: calibrate (solar-only "
		    "on a sunny day, or grid-assist)\n");
		break;
	case PRE_IMBALANCE:
		(void)fprintf(s->out, "recommendation: do not calibrate; "
		    "investigate the battery (real imbalance)\n");
		break;
	case PRE_UNSAFE:
		(void)fprintf(s->out, "recommendation: do not charge; fix the "
		    "condition above first\n");
		break;
	default:
		(void)fprintf(s->out, "recommendation: nothing to do\n");
		break;
	}
}

static const char *
method_name(enum sup_method m)
{
	return m == METHOD_GRID ? "grid" : "solar";
}

static void
lower(char *dst, const char *src, size_t sz)
{
	size_t i;

	for (i = 0; i + 1 < sz && src[i] != '\0'; i++)
		dst[i] = (char)(src[i] >= 'A' && src[i] <= 'Z' ?
		    src[i] - 'A' + 'a' : src[i]);
	dst[i] = '\0';
}

static void
audit_report(struct sup *s, const struct snapshot *a)
{
	char out[16], before[160], after[160], lag[64];

	lower(out, proto_outcome_name(s->outcome), sizeof(out));
	snapshot_list(s->before.soc, s->have_before ? s->before.packs : 0,
	    before, sizeof(before));
	/* no figure at all (refused before any telemetry): an empty list */
	snapshot_list(a->soc, isnan(a->soc_lo) && isnan(a->soc_hi) ? 0 :
	    a->packs, after, sizeof(after));
	monitor_lagging_list(s->lagging, lag, sizeof(lag));
	(void)wdlink_audit(&s->wd, "report", "outcome=%s reason=%s "
	    "method=%s soc_before=%s soc_after=%s spread_before=%.1f "
	    "spread_after=%.1f lagging=%s duration_s=%.1f", out, s->code,
	    method_name(s->method), before, after,
	    s->have_before ? s->before.soc_spread : NAN, a->soc_spread, lag,
	    (double)(s->now - s->start_ms) / 1000.0);
}

/* The after figure of a pack is current (or from the verify snapshot). */
static bool
fresh(const struct sup *s, int p)
{
	double v;

	return s->have_after || tm_pack(&s->tm, p, PF_SOC, s->now, &v) ==
	    TM_VALID;
}

void
report_reason(const struct sup *s, char *buf, size_t bufsz)
{
	/* the one-word code first, unless the text starts with it */
	if (s->code[0] == '\0' ||
	    strncmp(s->reason, s->code, strlen(s->code)) == 0)
		(void)strlcpy(buf, s->reason, bufsz);
	else if (snprintf(buf, bufsz, "%s: %s", s->code, s->reason) < 0)
		(void)strlcpy(buf, s->reason, bufsz);
}

/* The last line: what the person must do now, if anything. */
static const char *
next_step(const struct sup *s, const char *lag)
{
	static char buf[160];

	if (s->requested && !s->reverted)
		return "check the inverters' output and charger priority now: "
		    "the revert is not confirmed (gridcal-watchdog keeps "
		    "trying; its alarm stays on control.alarm_topic)";
	switch (s->outcome) {
	case PROTO_OUTCOME_PASS:
		(void)snprintf(buf, sizeof(buf), "nothing; the counters are "
		    "re-anchored. The next calibration is due in %g days "
		    "(gridcal-audit due)", s->pf.cadence_days);
		return buf;
	case PROTO_OUTCOME_FAIL:
		if (lag[0] != '\0') {
			(void)snprintf(buf, sizeof(buf), "extend "
			    "timing.absorption_max_s or investigate pack(s) "
			    "%s, then run again", lag);
			return buf;
		}
		return "run again on a day with more sun, or with --method grid "
		    "--confirm";
	case PROTO_OUTCOME_ABORTED:
		return "read the reason above and fix its cause before the "
		    "next run; the settings are back to everyday";
	case PROTO_OUTCOME_REFUSED:
		return "nothing was changed; act on the reason above (gridcal-"
		    "supervisor check says what the bank needs)";
	case PROTO_OUTCOME_CANCELLED:
		return "nothing; the run was cancelled and the settings are "
		    "back to everyday. Run again when you are ready";
	default:
		return "see the reason above";
	}
}

void
report_final(struct sup *s)
{
	char why[PROTO_TEXT_LEN + 40];
	bool stale = false;
	struct snapshot a;
	char ts[32], lag[64], sb[16], vb[16], db[16], sa[16], va[16], da[16];
	FILE *f = s->out;

	/* the after figures: the verified snapshot, or the latest known */
	if (s->have_after)
		a = s->after;
	else
		report_latest(&s->tm, s->now, &a);
	utc_format(s->utc_start_ms, ts, sizeof(ts));
	monitor_lagging_list(s->lagging, lag, sizeof(lag));
	(void)fprintf(f, "\n%sgridcal calibration report%s\n", BOLD(s),
	    PLAIN(s));
	report_reason(s, why, sizeof(why));
	(void)fprintf(f, "  site      %s\n  method    %s\n  started   %s\n"
	    "  duration  %.1f s\n  outcome   %s%s%s\n  reason    %s\n",
	    s->pf.site, method_name(s->method), ts,
	    (double)(s->now - s->start_ms) / 1000.0, BOLD(s),
	    proto_outcome_name(s->outcome), PLAIN(s), why);
	(void)fprintf(f, "  pack   SoC before -> after    voltage  cell delta"
	    "  temp max %s\n", site_deg_unit(&s->pf));
	for (int p = 0; p < a.packs; p++) {
		char b[16], av[16], v[16], d[16], t[16];

		fmt_num(b, sizeof(b), 1, s->have_before ?
		    s->before.soc[p] : NAN);
		fmt_num(av, sizeof(av), 1, a.soc[p]);
		fmt_num(v, sizeof(v), 2, a.volt[p]);
		fmt_num(d, sizeof(d), 0, a.delta_mv[p]);
		/* the pack's hottest sensor, as the site publishes it */
		fmt_num(t, sizeof(t), 1, site_deg(&s->pf, a.temp_max[p]));
		(void)fprintf(f, "  %4d   %5s %% -> %5s %%%s  %7s V  %6s mV  %8s%s\n",
		    p + 1, b, av, fresh(s, p) ? " " : "*", v, d, t,
		    s->lagging & (1u << p) ? "   (lagging)" :
		    s->have_after ? "   (re-anchored)" : "");
		if (!fresh(s, p))
			stale = true;
	}
	if (stale)
		(void)fprintf(f, "  * last value received; the pack's telemetry "
		    "is not fresh now\n");
	fmt_num(sb, sizeof(sb), 1, s->have_before ?
	    s->before.soc_spread : NAN);
	fmt_num(vb, sizeof(vb), 3, s->have_before ?
	    s->before.volt_spread : NAN);
	fmt_num(db, sizeof(db), 0, s->have_before ?
	    s->before.delta_hi : NAN);
	fmt_num(sa, sizeof(sa), 1, a.soc_spread);
	fmt_num(va, sizeof(va), 3, a.volt_spread);
	fmt_num(da, sizeof(da), 0, a.delta_hi);
	(void)fprintf(f, "  SoC spread       %s %% -> %s %%\n"
	    "  voltage spread   %s V -> %s V\n"
	    "  max cell delta   %s mV -> %s mV\n"
	    "  lagging packs    %s\n", sb, sa, vb, va, db, da,
	    lag[0] ? lag : "none");
	(void)fprintf(f, "  settings         %s\n", !s->requested ?
	    "never changed" : s->reverted ?
	    "everyday on every unit, confirmed by readback" :
	    "revert NOT confirmed to the supervisor: the watchdog keeps "
	    "reverting (see its log and the alarm topic)");
	(void)fprintf(f, "%snext:%s %s\n", BOLD(s), PLAIN(s), next_step(s, lag));
	(void)fflush(f);
	audit_report(s, &a);
}
