/*
 * Bank snapshots. A snapshot is all or nothing: one unknown field and the
 * caller learns which, so that a decision is never made on a partial view.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "snapshot.h"

/* Only values that arrived at or after this count (begin_snapshot). */
static int64_t snap_since;

static int
not_since(int64_t valid_at)
{
	return valid_at < snap_since;
}

static int
pack_value(const struct tm_store *tm, int p, int f,
    int64_t now, double *out, char *why, size_t whysz)
{
	enum tm_status st;

	if ((st = tm_pack(tm, p, f, now, out)) != TM_VALID) {
		(void)snprintf(why, whysz, "pack %d %s: %s", p + 1,
		    pack_field_name(tm->pf, f), tm_status_name(st));
		return -1;
	}
	if (not_since(tm->pack[p][f].valid_at_ms)) {
		(void)snprintf(why, whysz, "pack %d %s: no new value yet",
		    p + 1, pack_field_name(tm->pf, f));
		return -1;
	}
	return 0;
}

static int
unit_text(const struct tm_store *tm, int u, enum unit_field f, int64_t now,
    char *dst, char *why, size_t whysz)
{
	enum tm_status st;
	const char *s;

	if ((st = tm_unit_text(tm, u, f, now, &s)) != TM_VALID) {
		(void)snprintf(why, whysz, "unit %d %s: %s", u + 1,
		    unit_field_name(f), tm_status_name(st));
		return -1;
	}
	if (not_since(tm->unit[u][f].valid_at_ms)) {
		(void)snprintf(why, whysz, "unit %d %s: no new value yet",
		    u + 1, unit_field_name(f));
		return -1;
	}
	(void)strlcpy(dst, s, PROFILE_WORD_MAX);
	return 0;
}

static int
unit_num(const struct tm_store *tm, int u, enum unit_field f, int64_t now,
    double *out, char *why, size_t whysz)
{
	enum tm_status st;

	if ((st = tm_unit_num(tm, u, f, now, out)) != TM_VALID) {
		(void)snprintf(why, whysz, "unit %d %s: %s", u + 1,
		    unit_field_name(f), tm_status_name(st));
		return -1;
	}
	if (not_since(tm->unit[u][f].valid_at_ms)) {
		(void)snprintf(why, whysz, "unit %d %s: no new value yet",
		    u + 1, unit_field_name(f));
		return -1;
	}
	return 0;
}

static int
take_pack(const struct tm_store *tm, int p, int64_t now, struct snapshot *s,
    char *why, size_t whysz)
{
	double prot;

	if (pack_value(tm, p, PF_SOC, now, &s->soc[p], why, whysz) == -1 ||
	    pack_value(tm, p, PF_PACK_VOLTAGE, now, &s->volt[p], why,
	    whysz) == -1 ||
	    pack_value(tm, p, PF_PACK_CURRENT, now, &s->amps[p], why,
	    whysz) == -1 ||
	    pack_value(tm, p, PF_CELL_VOLTAGE_MAX, now, &s->cell_max[p], why,
	    whysz) == -1 ||
	    pack_value(tm, p, PF_CELL_DELTA_MV, now, &s->delta_mv[p], why,
	    whysz) == -1 ||
	    pack_value(tm, p, PF_PROTECTION, now, &prot, why, whysz) == -1)
		return -1;
	for (int k = 0; k < s->ntemps; k++)
		if (pack_value(tm, p, PF_TEMP + k, now, &s->temp[p][k], why,
		    whysz) == -1)
			return -1;
	/* the store parsed it as a uint32_t bit field */
	s->prot[p] = (uint32_t)prot;
	return 0;
}

static int
take_unit(const struct tm_store *tm, int u, int64_t now, struct snapshot *s,
    char *why, size_t whysz)
{
	if (unit_text(tm, u, UF_DEVICE_MODE, now, s->mode[u], why,
	    whysz) == -1 ||
	    unit_text(tm, u, UF_OUTPUT_PRIORITY, now, s->out_prio[u], why,
	    whysz) == -1 ||
	    unit_text(tm, u, UF_CHARGER_PRIORITY, now, s->chg_prio[u], why,
	    whysz) == -1 ||
	    unit_text(tm, u, UF_LINE_DIRECTION, now, s->line_dir[u], why,
	    whysz) == -1 ||
	    unit_num(tm, u, UF_PV_POWER, now, &s->pv_w[u], why, whysz) == -1 ||
	    unit_num(tm, u, UF_AC_OUTPUT_POWER, now, &s->ac_w[u], why,
	    whysz) == -1)
		return -1;
	return 0;
}

int
snapshot_take(const struct tm_store *tm, int64_t since_ms, int64_t now_ms,
    struct snapshot *s, char *why, size_t whysz)
{
	snap_since = since_ms;
	memset(s, 0, sizeof(*s));
	s->at_ms = now_ms;
	s->packs = tm->pf->packs;
	s->units = tm->pf->units;
	s->ntemps = tm->pf->n_temps;
	for (int p = 0; p < s->packs; p++)
		if (take_pack(tm, p, now_ms, s, why, whysz) == -1)
			return -1;
	for (int u = 0; u < s->units; u++)
		if (take_unit(tm, u, now_ms, s, why, whysz) == -1)
			return -1;
	snapshot_derive(s);
	return 0;
}

/* Lowest and highest of the known values (a report may hold NAN). */
static void
extremes(const double *v, int n, double *lo, double *hi, int *ilo, int *ihi)
{
	int a = -1, b = -1;

	for (int i = 0; i < n; i++) {
		if (isnan(v[i]))
			continue;
		if (a < 0 || v[i] < v[a])
			a = i;
		if (b < 0 || v[i] > v[b])
			b = i;
	}
	*lo = a < 0 ? NAN : v[a];
	*hi = b < 0 ? NAN : v[b];
	if (ilo != NULL)
		*ilo = a < 0 ? 0 : a;
	if (ihi != NULL)
		*ihi = b < 0 ? 0 : b;
}

void
snapshot_derive(struct snapshot *s)
{
	double tlo, sum = 0;

	if (s->packs < 1)
		return;
	extremes(s->soc, s->packs, &s->soc_lo, &s->soc_hi, NULL, NULL);
	s->soc_spread = s->soc_hi - s->soc_lo;
	extremes(s->volt, s->packs, &s->volt_lo, &s->volt_hi, NULL, NULL);
	s->volt_spread = s->volt_hi - s->volt_lo;
	extremes(s->cell_max, s->packs, &tlo, &s->cell_hi, NULL,
	    &s->cell_hi_pack);
	extremes(s->delta_mv, s->packs, &tlo, &s->delta_hi, NULL,
	    &s->delta_hi_pack);
	/* temperatures: each pack's coldest and hottest sensor, then the
	 * bank's */
	for (int p = 0; p < s->packs; p++)
		extremes(s->temp[p], s->ntemps, &s->temp_min[p],
		    &s->temp_max[p], NULL, NULL);
	extremes(s->temp_min, s->packs, &s->temp_lo, &tlo, &s->temp_lo_pack,
	    NULL);
	extremes(s->temp_max, s->packs, &tlo, &s->temp_hi, NULL,
	    &s->temp_hi_pack);
	s->amps_total = 0;
	for (int p = 0; p < s->packs; p++) {
		s->amps_total += s->amps[p];
		sum += s->volt[p];
	}
	s->volt_avg = sum / s->packs;
	s->pv_total_w = s->ac_total_w = 0;
	for (int u = 0; u < s->units; u++) {
		s->pv_total_w += s->pv_w[u];
		s->ac_total_w += s->ac_w[u];
	}
}

void
snapshot_list(const double *v, int n, char *buf, size_t bufsz)
{
	size_t off = 0;
	int len;

	if (bufsz == 0)
		return;
	buf[0] = '\0';
	for (int i = 0; i < n && off < bufsz; i++) {
		len = snprintf(buf + off, bufsz - off, "%s%.1f", i ? "," : "",
		    v[i]);
		if (len < 0)
			return;
		off += (size_t)len;
	}
}
