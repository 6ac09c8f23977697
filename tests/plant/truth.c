/*
 * The truth: what really happened to the plant, as one JSON object, so
 * tests assert on the physics rather than on what gridcal claims. Keys are
 * documented in gridcal-plant --help.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plant.h"

struct jbuf {
	char	*s;
	size_t	 len, cap;
	int	 oom;
};

static void jadd(struct jbuf *, const char *, ...)
	__attribute__((format(printf, 2, 3)));

static void
jadd(struct jbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t ncap = b->cap * 2 + (size_t)n + 1;
		char *ns = realloc(b->s, ncap);
		if (ns == NULL) {
			b->oom = 1;
			return;
		}
		b->s = ns;
		b->cap = ncap;
	}
}

/* Strings here come from the profile and our own tables: plain words, but
 * escape the two characters JSON needs anyway. */
static void
jstr(struct jbuf *b, const char *s)
{
	jadd(b, "\"");
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			jadd(b, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			jadd(b, "\\u%04x", (unsigned)(unsigned char)*s);
		else
			jadd(b, "%c", *s);
	}
	jadd(b, "\"");
}

static const char *
tf(bool v)
{
	return v ? "true" : "false";
}

static void
units_json(struct jbuf *b, const struct plant *p)
{
	const struct profile *pf = p->pf;

	jadd(b, "\"units\":[");
	for (int u = 0; u < p->nunits; u++) {
		const struct unit *un = &p->units[u];
		int op = un->setting[SETTING_OUTPUT_PRIORITY];
		int cp = un->setting[SETTING_CHARGER_PRIORITY];

		jadd(b, "%s{\"unit\":%d,\"output_priority\":", u ? "," : "",
		    u + 1);
		jstr(b, pf->control[SETTING_OUTPUT_PRIORITY].value[op]);
		jadd(b, ",\"charger_priority\":");
		jstr(b, pf->control[SETTING_CHARGER_PRIORITY].value[cp]);
		jadd(b, ",\"output_readback\":");
		jstr(b, plant_readback(p, SETTING_OUTPUT_PRIORITY, op));
		jadd(b, ",\"charger_readback\":");
		jstr(b, plant_readback(p, SETTING_CHARGER_PRIORITY, cp));
		jadd(b, ",\"calibration\":%s,\"mode\":",
		    tf(op == VALUE_CALIBRATION || cp == VALUE_CALIBRATION));
		jstr(b, unit_mode_name(un->mode));
		jadd(b, ",\"line\":");
		jstr(b, un->line_input ? pf->line_input : "idle");
		jadd(b, ",\"pv_w\":%.0f,\"ac_w\":%.0f,\"applied\":%llu,"
		    "\"pending\":%d,\"nak_silent\":%s}", un->pv_w, un->ac_w,
		    (unsigned long long)un->applied, un->npend,
		    tf(un->nak_silent));
	}
	jadd(b, "]");
}

static void
packs_json(struct jbuf *b, const struct plant *p)
{
	jadd(b, "\"packs\":[");
	for (int k = 0; k < p->npacks; k++) {
		const struct pack *pk = &p->packs[k];

		jadd(b, "%s{\"pack\":%d,\"soc\":%.3f,\"bms_soc\":%.3f,"
		    "\"start_soc\":%.3f,\"start_bms_soc\":%.3f,"
		    "\"voltage\":%.3f,\"current\":%.3f,\"cell_max_v\":%.4f,"
		    "\"max_cell_v\":%.4f,\"cell_delta_mv\":%.1f,"
		    "\"temp_c\":%.2f,\"max_temp_c\":%.2f,\"protection\":%u,"
		    "\"charge_blocked\":%s,\"anchors\":%u,"
		    "\"last_anchor_s\":%.0f,\"no_anchor\":%s",
		    k ? "," : "", k + 1, pk->soc, pk->bms_soc, pk->start_soc,
		    pk->start_bms_soc, pk->voltage, pk->current, pk->cell_max,
		    pk->max_cell_seen, pk->delta_mv, pk->temp + pk->temp_offset,
		    pk->max_temp_seen, (unsigned)(pk->bms_prot | pk->fault_prot),
		    tf(pk->chg_blocked), pk->anchors, pk->last_anchor_s,
		    tf(pk->no_anchor));
		/* every sensor as it reads now, in the profile's order */
		jadd(b, ",\"sensors_c\":[");
		for (int i = 0; i < p->pf->n_temps; i++)
			jadd(b, "%s%.2f", i ? "," : "", pack_sensor_c(pk, i));
		jadd(b, "]}");
	}
	jadd(b, "]");
}

static void
faults_json(struct jbuf *b, const struct plant *p)
{
	jadd(b, "\"faults\":[");
	for (int i = 0; i < p->sc->nfaults; i++) {
		const struct sc_fault *f = &p->sc->faults[i];
		const struct fault_rt *rt = &p->frt[i];

		jadd(b, "%s{\"kind\":\"%s\",\"trigger\":\"%s\",\"fired\":%s,"
		    "\"fired_s\":%.0f,\"active\":%s,\"used\":%lld}",
		    i ? "," : "", fault_kind_name(f->kind),
		    fault_trigger_name(f->trigger), tf(rt->fired),
		    rt->fired ? rt->fired_s : -1.0, tf(rt->active),
		    (long long)rt->used);
	}
	jadd(b, "]");
}

char *
truth_json(const struct plant *p, const struct run_info *ri)
{
	struct jbuf b = { .s = malloc(4096), .cap = 4096 };
	double tot_i = 0, min_bms = 100, max_bms = 0, min_v = 1e9, max_v = 0;

	if (b.s == NULL)
		return NULL;
	for (int k = 0; k < p->npacks; k++) {
		const struct pack *pk = &p->packs[k];

		tot_i += pk->current;
		if (pk->bms_soc < min_bms)
			min_bms = pk->bms_soc;
		if (pk->bms_soc > max_bms)
			max_bms = pk->bms_soc;
		if (pk->voltage + pk->voff < min_v)
			min_v = pk->voltage + pk->voff;
		if (pk->voltage + pk->voff > max_v)
			max_v = pk->voltage + pk->voff;
	}
	jadd(&b, "{\"plant\":\"gridcal-plant\",\"scenario\":");
	jstr(&b, p->sc->name);
	jadd(&b, ",\"sim_s\":%.1f,\"speed\":%g,\"seed\":%llu,\"ticks\":%llu,"
	    "\"late_ticks\":%llu,\"stage\":\"%s\",\"grid_mode\":%s,"
	    "\"grid_charging\":%s,\"loads_on_grid\":%s,\"fault86\":%s,"
	    "\"fault86_count\":%llu,\"bus_v\":%.3f,\"bus_a\":%.2f,"
	    "\"total_current_a\":%.2f,\"max_bus_a\":%.2f,\"pv_w\":%.0f,"
	    "\"pv_avail_w\":%.0f,\"load_w\":%.0f,\"grid_w\":%.0f,"
	    "\"grid_charge_s\":%.1f,\"grid_start_s\":%.1f,"
	    "\"grid_kwh\":%.3f,\"calibration_s\":%.1f,"
	    "\"absorption_s\":%.1f,\"fault86_s\":%.1f,\"max_mismatch_s\":%.1f,"
	    "\"max_cell_v\":%.4f,"
	    "\"max_temp_c\":%.2f,\"bms_soc_min\":%.3f,\"bms_soc_max\":%.3f,"
	    "\"pack_voltage_spread_v\":%.4f,\"published\":%llu,"
	    "\"publish_errors\":%llu,",
	    p->t, ri->speed, (unsigned long long)ri->seed,
	    (unsigned long long)ri->ticks, (unsigned long long)ri->late_ticks,
	    charge_stage_name(p->stage), tf(p->grid_mode), tf(p->grid_charging),
	    tf(p->loads_on_grid), tf(p->fault86 || p->fault86_latched),
	    (unsigned long long)p->fault86_count, p->bus_v, p->bus_i, tot_i,
	    p->max_bus_i, p->pv_used_w, p->pv_avail_w, p->load_w, p->grid_w,
	    p->grid_charge_s, p->grid_start_s, p->grid_kwh, p->calibration_s,
	    p->absorption_s, p->fault86_s, p->max_mismatch_s, p->max_cell_seen,
	    p->max_temp_seen,
	    min_bms, max_bms, max_v - min_v,
	    (unsigned long long)p->published,
	    (unsigned long long)p->publish_errors);
	jadd(&b, "\"control\":{\"received\":%llu,\"accepted\":%llu,"
	    "\"ignored\":%llu,\"invalid\":%llu,\"nak\":%llu,\"partial\":%llu},",
	    (unsigned long long)p->ctl.received,
	    (unsigned long long)p->ctl.accepted,
	    (unsigned long long)p->ctl.ignored,
	    (unsigned long long)p->ctl.invalid,
	    (unsigned long long)p->ctl.nak,
	    (unsigned long long)p->ctl.partial);
	units_json(&b, p);
	jadd(&b, ",");
	packs_json(&b, p);
	jadd(&b, ",");
	faults_json(&b, p);
	jadd(&b, "}");
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}
