/*
 * What the site's monitoring daemon would publish: every pack and unit
 * field of the profile, as plain text in the unit the profile says the
 * site uses, with a little measurement noise, and with the telemetry
 * faults applied (silence, garbage, readbacks withheld after a NAK).
 * Also the plant's truth as one JSON object.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plant.h"

static double
noise(struct plant *p, double amplitude)
{
	return amplitude * (2.0 * rng_next(&p->rng_pub) - 1.0);
}

#define PL_JSON_MAX	256	/* a json payload the plant publishes */

/* Avoids "-0.00" for values that round to zero. */
static void
fmt_num(char *buf, size_t sz, int decimals, double v)
{
	double unit = pow(10, -decimals) / 2;

	if (fabs(v) < unit)
		v = 0;
	(void)snprintf(buf, sz, "%.*f", decimals, v);
}

/* Canonical value of a field in the site's unit, before its scale and sign. */
static void
fmt_field(const struct field_spec *fs, double canon, bool canon_is_mv,
    int decimals, char *buf, size_t sz)
{
	canon /= fs->scale * fs->sign;	/* the loader multiplies it back */
	if (fs->scale < 1)
		decimals = 0;	/* deciamperes are whole numbers */
	switch (fs->unit) {
	case FU_VOLT:
		fmt_num(buf, sz, canon_is_mv ? 3 : decimals,
		    canon_is_mv ? canon / 1000.0 : canon);
		break;
	case FU_MILLIVOLT:
		fmt_num(buf, sz, 0, canon_is_mv ? canon : canon * 1000.0);
		break;
	case FU_FAHRENHEIT:
		fmt_num(buf, sz, 1, canon * 9.0 / 5.0 + 32.0);
		break;
	case FU_KILOWATT:
		fmt_num(buf, sz, 3, canon / 1000.0);
		break;
	default:
		fmt_num(buf, sz, decimals, canon);
		break;
	}
}

static void
pack_value(struct plant *p, int k, int f, char *buf, size_t sz)
{
	const struct field_spec *fs = &p->pf->pack_field[f];
	const struct pack *pk = &p->packs[k];

	switch (f) {
	case PF_SOC:
		fmt_field(fs, round(pk->bms_soc), false, 0, buf, sz);
		break;
	case PF_PACK_VOLTAGE:
		fmt_field(fs, pk->voltage + pk->voff + noise(p, 0.005), false,
		    2, buf, sz);
		break;
	case PF_PACK_CURRENT:
		fmt_field(fs, pk->current + noise(p, 0.05), false, 2, buf, sz);
		break;
	case PF_CELL_VOLTAGE_MAX:
		fmt_field(fs, pk->cell_max, false, 3, buf, sz);
		break;
	case PF_CELL_DELTA_MV:
		fmt_field(fs, pk->delta_mv, true, 0, buf, sz);
		break;
	case PF_PROTECTION:
		(void)snprintf(buf, sz, "%u",
		    (unsigned)(pk->bms_prot | pk->fault_prot));
		break;
	default:
		if (pack_field_is_temp(f))
			fmt_field(fs, pack_sensor_c(pk, f - PF_TEMP), false, 1,
			    buf, sz);
		else
			buf[0] = '\0';
		break;
	}
}

static void
unit_value(struct plant *p, int u, int f, char *buf, size_t sz)
{
	const struct profile *pf = p->pf;
	const struct unit *un = &p->units[u];

	switch (f) {
	case UF_DEVICE_MODE:
		(void)strlcpy(buf, unit_mode_name(un->mode), sz);
		break;
	case UF_OUTPUT_PRIORITY:
		(void)strlcpy(buf, plant_readback(p, SETTING_OUTPUT_PRIORITY,
		    un->setting[SETTING_OUTPUT_PRIORITY]), sz);
		break;
	case UF_CHARGER_PRIORITY:
		(void)strlcpy(buf, plant_readback(p, SETTING_CHARGER_PRIORITY,
		    un->setting[SETTING_CHARGER_PRIORITY]), sz);
		break;
	case UF_LINE_DIRECTION:
		(void)strlcpy(buf, un->line_input ? pf->line_input : "idle", sz);
		break;
	case UF_PV_POWER:
		fmt_field(&pf->unit_field[f], un->pv_w, false, 0, buf, sz);
		break;
	case UF_AC_OUTPUT_POWER:
		fmt_field(&pf->unit_field[f], un->ac_w, false, 0, buf, sz);
		break;
	default:
		buf[0] = '\0';
		break;
	}
}

/*
 * Applies silence and garbage faults to one field of a pack (unit < 0) or
 * a unit (pack < 0). false: publish nothing.
 */
static bool
telemetry_fault(struct plant *p, int pack, int unit, int field, char *buf,
    size_t sz)
{
	for (int i = 0; i < p->sc->nfaults; i++) {
		const struct sc_fault *f = &p->sc->faults[i];
		struct fault_rt *rt = &p->frt[i];

		if (!rt->active || (f->kind != FK_SILENCE &&
		    f->kind != FK_GARBAGE))
			continue;
		if (pack >= 0 ? f->pack != pack : f->unit != unit)
			continue;
		if (f->field != -1 && f->field != field)
			continue;
		if (f->kind == FK_SILENCE)
			return false;
		if (f->count != 0 && rt->used >= f->count)
			continue;
		(void)strlcpy(buf, f->payloads[rt->publications %
		    (uint64_t)f->npayloads], sz);
		rt->publications++;
		rt->used++;
	}
	return true;
}

/* Does an active retain fault cover this field? */
static bool
retained(const struct plant *p, int pack, int unit, int field)
{
	for (int i = 0; i < p->sc->nfaults; i++) {
		const struct sc_fault *f = &p->sc->faults[i];

		if (!p->frt[i].active || f->kind != FK_RETAIN)
			continue;
		if (f->pack == -1 && f->unit == -1)
			return f->field == -1 || (pack >= 0 && f->field == field);
		if ((pack >= 0 && f->pack == pack) ||
		    (unit >= 0 && f->unit == unit))
			if (f->field == -1 || f->field == field)
				return true;
	}
	return false;
}

/*
 * Format json: the value at the field's pointer, in nested objects (the
 * plant writes no arrays), beside a second member as a daemon would:
 * /value -> {"value":52,"ts":1}. Text is a JSON string.
 */
static void
json_wrap(const struct field_spec *fs, char *buf, size_t sz)
{
	char out[PL_JSON_MAX] = "";
	const char *t;
	int depth = 0;

	for (t = fs->pointer; *t == '/'; depth++) {
		(void)strlcat(out, "{\"", sizeof(out));
		for (t++; *t != '\0' && *t != '/'; t++) {
			char c[2] = { *t, '\0' };

			if (*t == '~')
				c[0] = *++t == '0' ? '~' : '/';
			(void)strlcat(out, c, sizeof(out));
		}
		(void)strlcat(out, "\":", sizeof(out));
	}
	/* readbacks hold no quote or backslash */
	(void)strlcat(out, fs->unit == FU_TEXT ? "\"" : "", sizeof(out));
	(void)strlcat(out, buf, sizeof(out));
	(void)strlcat(out, fs->unit == FU_TEXT ? "\"" : "", sizeof(out));
	while (depth-- > 0)
		(void)strlcat(out, ",\"ts\":1}", sizeof(out));
	(void)strlcpy(buf, out, sz);
}

void
publish_telemetry(struct plant *p, emit_fn emit, void *arg)
{
	const struct profile *pf = p->pf;
	char topic[PROFILE_TOPIC_MAX], val[PL_JSON_MAX];

	for (int k = 0; k < p->npacks; k++) {
		for (int f = 0; f < pack_nfields(pf); f++) {
			if (topic_expand(pf->pack_field[f].topic, k + 1, topic,
			    sizeof(topic)) == -1)
				continue;
			pack_value(p, k, f, val, sizeof(val));
			if (pf->pack_field[f].format == PL_JSON)
				json_wrap(&pf->pack_field[f], val, sizeof(val));
			if (telemetry_fault(p, k, -1, f, val, sizeof(val)))
				emit(arg, topic, val, retained(p, k, -1, f));
		}
	}
	for (int u = 0; u < p->nunits; u++) {
		for (int f = 0; f < UF_COUNT; f++) {
			if ((f == UF_OUTPUT_PRIORITY ||
			    f == UF_CHARGER_PRIORITY) && p->units[u].nak_silent)
				continue;
			if (topic_expand(pf->unit_field[f].topic, u + 1, topic,
			    sizeof(topic)) == -1)
				continue;
			unit_value(p, u, f, val, sizeof(val));
			if (pf->unit_field[f].format == PL_JSON)
				json_wrap(&pf->unit_field[f], val, sizeof(val));
			if (telemetry_fault(p, -1, u, f, val, sizeof(val)))
				emit(arg, topic, val, retained(p, -1, u, f));
		}
	}
}
