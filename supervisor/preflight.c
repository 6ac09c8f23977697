/*
 * Pre-flight judgements. Pure: a snapshot and the profile's limits in, a
 * verdict and its figures out, so `check` and a run agree by construction.
 */
#include <stdio.h>
#include <string.h>

#include "preflight.h"

/* Limits are compared with a little slack so 53.5 - 53.4 counts as 0.1. */
#define EPS	1e-9

static const char *const class_names[PRE_CLASS_COUNT] = {
	"balanced", "drift", "imbalance", "unsafe"
};

const char *
preflight_class_name(enum pre_class c)
{
	return (unsigned)c < PRE_CLASS_COUNT ? class_names[c] : "?";
}

bool
pre_temperature(const struct profile *pf, const struct snapshot *s,
    char *why, size_t whysz)
{
	const struct profile_limits *l = &pf->limits;

	/* every sensor of every pack: the coldest cell must not charge */
	for (int p = 0; p < s->packs; p++)
		for (int k = 0; k < s->ntemps; k++) {
			double t = s->temp[p][k];

			if (t < l->pre_temp_min_c - EPS ||
			    t > l->pre_temp_max_c + EPS) {
				(void)snprintf(why, whysz,
				    "pack %d %s %.1f C outside the charge "
				    "window %.1f..%.1f C", p + 1,
				    pack_field_name(pf, PF_TEMP + k), t,
				    l->pre_temp_min_c, l->pre_temp_max_c);
				return true;
			}
		}
	return false;
}

bool
pre_protection(const struct profile *pf, const struct snapshot *s,
    char *why, size_t whysz)
{
	(void)pf;
	for (int p = 0; p < s->packs; p++)
		if (s->prot[p] != 0) {
			(void)snprintf(why, whysz,
			    "pack %d protection bits 0x%x set", p + 1,
			    (unsigned)s->prot[p]);
			return true;
		}
	return false;
}

bool
pre_cell_delta(const struct profile *pf, const struct snapshot *s,
    char *why, size_t whysz)
{
	double lim = pf->limits.pre_cell_delta_mv;

	for (int p = 0; p < s->packs; p++)
		if (s->delta_mv[p] >= lim - EPS) {
			(void)snprintf(why, whysz, "pack %d cell delta %.0f mV, "
			    "must be below %.0f mV", p + 1, s->delta_mv[p], lim);
			return true;
		}
	return false;
}

bool
pre_cell_high(const struct profile *pf, const struct snapshot *s,
    char *why, size_t whysz)
{
	double lim = pf->limits.abort_cell_v;

	for (int p = 0; p < s->packs; p++)
		if (s->cell_max[p] >= lim - EPS) {
			(void)snprintf(why, whysz, "pack %d cell %.3f V at or "
			    "above the abort limit %.3f V", p + 1,
			    s->cell_max[p], lim);
			return true;
		}
	return false;
}

static bool
setting_not_everyday(const struct profile *pf, enum setting st, int u,
    const char *readback, char *why, size_t whysz)
{
	if (profile_readback_value(pf, st, readback) == VALUE_EVERYDAY)
		return false;
	(void)snprintf(why, whysz, "unit %d %s reads \"%s\", not the everyday "
	    "\"%s\"", u + 1, setting_name(st), readback,
	    pf->control[st].readback[VALUE_EVERYDAY]);
	return true;
}

bool
pre_units(const struct profile *pf, const struct snapshot *s, char *why,
    size_t whysz)
{
	for (int u = 0; u < s->units; u++) {
		if (profile_is_fault_mode(pf, s->mode[u])) {
			(void)snprintf(why, whysz, "unit %d device mode \"%s\" "
			    "is a fault", u + 1, s->mode[u]);
			return true;
		}
		/* not everyday also covers units that disagree */
		if (setting_not_everyday(pf, SETTING_OUTPUT_PRIORITY, u,
		    s->out_prio[u], why, whysz) ||
		    setting_not_everyday(pf, SETTING_CHARGER_PRIORITY, u,
		    s->chg_prio[u], why, whysz))
			return true;
	}
	return false;
}

bool
pre_imbalance(const struct profile *pf, const struct snapshot *s, char *why,
    size_t whysz)
{
	double lim = pf->limits.pre_voltage_spread_v;

	if (s->volt_spread <= lim + EPS)
		return false;
	(void)snprintf(why, whysz, "pack voltages diverge: spread %.3f V > "
	    "%.3f V (%.2f..%.2f V): real imbalance, investigate the battery",
	    s->volt_spread, lim, s->volt_lo, s->volt_hi);
	return true;
}

bool
pre_balanced(const struct profile *pf, const struct snapshot *s, char *why,
    size_t whysz)
{
	double lim = pf->limits.pre_drift_soc_spread_pct;

	if (s->soc_spread >= lim - EPS)
		return false;
	(void)snprintf(why, whysz, "SoC spread %.1f %% below %.1f %% at "
	    "voltage spread %.3f V: nothing to re-anchor", s->soc_spread, lim,
	    s->volt_spread);
	return true;
}

void
pre_drift(const struct profile *pf, const struct snapshot *s, char *why,
    size_t whysz)
{
	(void)snprintf(why, whysz, "SoC spread %.1f %% (%.1f..%.1f %%) at "
	    "voltage spread %.3f V: counter drift", s->soc_spread, s->soc_lo,
	    s->soc_hi, s->volt_spread);
	(void)pf;
}

void
preflight_classify(const struct profile *pf, const struct snapshot *s,
    struct preflight *r)
{
	static const struct {
		bool		(*gate)(const struct profile *,
				    const struct snapshot *, char *, size_t);
		enum pre_class	cls;
		const char	*code;
	} gates[] = {
		{ pre_temperature,	PRE_UNSAFE,	"temperature" },
		{ pre_protection,	PRE_UNSAFE,	"protection" },
		{ pre_cell_delta,	PRE_UNSAFE,	"cell_delta" },
		{ pre_cell_high,	PRE_UNSAFE,	"cell_high" },
		{ pre_units,		PRE_UNSAFE,	"units" },
		{ pre_imbalance,	PRE_IMBALANCE,	"imbalance" },
		{ pre_balanced,		PRE_BALANCED,	"balanced" },
	};

	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < sizeof(gates) / sizeof(gates[0]); i++)
		if (gates[i].gate(pf, s, r->why, sizeof(r->why))) {
			r->cls = gates[i].cls;
			(void)strlcpy(r->code, gates[i].code, sizeof(r->code));
			return;
		}
	r->cls = PRE_DRIFT;
	(void)strlcpy(r->code, "drift", sizeof(r->code));
	pre_drift(pf, s, r->why, sizeof(r->why));
}
