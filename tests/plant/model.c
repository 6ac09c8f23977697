/*
 * Physics of the simulated site.
 *
 * Packs: open-circuit voltage from an LFP curve (flat in the middle, steep
 * near full) plus an ohmic resistance and one polarisation branch (R1 with
 * time constant tau), all in parallel on one bus. The bus voltage follows
 * from the current the inverters push in or draw out; each pack takes its
 * share through its own resistance, so paralleled packs stay at the same
 * charge whatever their BMS counters say.
 *
 * BMS: a coulomb counter with an offset and a gain error, re-anchored to
 * 100 % only on a real termination: highest cell at or above the anchor
 * voltage while the pack current stays below the tail current for the
 * hold time. With bms.hold_at_pct (EG4 and many others) the counter stops
 * at that value until the termination, however much charge it counts:
 * only the termination shows 100 %. Over-voltage and temperature
 * protection open the charge path.
 *
 * Inverters (paralleled, one cluster): output source priority SBU runs the
 * loads from solar and battery and touches the grid only when the bank is
 * critically low (then it also grid-charges if the charger priority allows
 * utility); SUB runs the loads from solar and grid and, with charger
 * priority solar_and_utility, charges the bank from the grid. The charger
 * is CC/CV: bulk at the current limit up to the bulk voltage, absorption
 * at the bulk voltage (current tapers) for at most absorption_max_s, then
 * float. Units whose settings differ raise fault 86 and stop.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "parse.h"

#define STEP_MAX_S	1.0
#define WEATHER_S	120.0
#define CLOUD_TAU_S	300.0

/* LFP open-circuit voltage per cell against state of charge. */
static const double ocv_soc[] = {
	0, 2, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 97, 98, 99, 99.5, 100
};
static const double ocv_v[] = {
	2.80, 3.00, 3.12, 3.20, 3.25, 3.28, 3.30, 3.315, 3.322, 3.328, 3.335,
	3.345, 3.37, 3.40, 3.43, 3.47, 3.50, 3.60
};
#define OCV_N	(sizeof(ocv_soc) / sizeof(ocv_soc[0]))

static double
lfp_ocv(double soc)
{
	if (soc <= ocv_soc[0])
		return ocv_v[0];
	for (size_t i = 1; i < OCV_N; i++) {
		if (soc <= ocv_soc[i]) {
			double f = (soc - ocv_soc[i - 1]) /
			    (ocv_soc[i] - ocv_soc[i - 1]);
			return ocv_v[i - 1] + f * (ocv_v[i] - ocv_v[i - 1]);
		}
	}
	return ocv_v[OCV_N - 1];
}

static double
clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* splitmix64: small, seedable, and the same on every platform. */
double
rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (double)(z >> 11) / 9007199254740992.0;
}

const char *
unit_mode_name(enum unit_mode m)
{
	static const char *const n[] = {
		"Standby", "Line", "Battery", "Hybrid", "Fault"
	};

	return (unsigned)m < sizeof(n) / sizeof(n[0]) ? n[m] : "?";
}

const char *
charge_stage_name(enum charge_stage s)
{
	static const char *const n[] = { "bulk", "absorption", "float" };

	return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

static double
pack_emf(const struct plant *p, const struct pack *k)
{
	return p->sc->chemistry.cells * lfp_ocv(k->soc) + k->v1;
}

static double
mean_emf(const struct plant *p)
{
	double s = 0;

	for (int i = 0; i < p->npacks; i++)
		s += pack_emf(p, &p->packs[i]);
	return s / p->npacks;
}

double
pack_sensor_c(const struct pack *k, int i)
{
	double t = i == 0 ? k->temp_pcb : k->temp + 0.3 * (i - 1);

	return t + k->temp_offset + (i >= 0 && i < PROFILE_MAX_TEMPS ?
	    k->sensor_offset[i] : 0);
}

double
pack_hottest_c(const struct pack *k, int n)
{
	double t = pack_sensor_c(k, 0);

	for (int i = 1; i < n; i++)
		t = fmax(t, pack_sensor_c(k, i));
	return t;
}

/* Cell voltages and the BMS's view, from the bus and the pack state. */
static void
derive_pack(struct plant *p, struct pack *k)
{
	int cells = p->sc->chemistry.cells;
	double avg = k->voltage / cells;
	double lead = lfp_ocv(fmin(100, k->soc + k->imb)) - lfp_ocv(k->soc);
	double lag = lfp_ocv(k->soc) - lfp_ocv(fmax(0, k->soc - k->imb));

	k->cell_max = avg + lead + k->cell_offset;
	k->delta_mv = (lead + lag + fmax(0, k->cell_offset)) * 1000.0 + 2.0 +
	    fabs(k->current) * 0.15;
	k->temp_pcb = k->temp + 1.5 + fabs(k->current) * 0.03;
	if (k->cell_max > k->max_cell_seen)
		k->max_cell_seen = k->cell_max;
	if (k->cell_max > p->max_cell_seen)
		p->max_cell_seen = k->cell_max;
	double t = pack_hottest_c(k, p->pf->n_temps);
	if (t > k->max_temp_seen)
		k->max_temp_seen = t;
	if (t > p->max_temp_seen)
		p->max_temp_seen = t;
}

void
plant_init(struct plant *p, const struct profile *pf,
    const struct scenario *sc, uint64_t seed)
{
	memset(p, 0, sizeof(*p));
	p->pf = pf;
	p->sc = sc;
	p->npacks = sc->npacks;
	p->nunits = pf->units;
	p->rng = seed;
	p->rng_pub = seed ^ 0x5bd1e9955bd1e995ULL;
	p->grid_start_s = -1;
	p->solar_factor = 1;
	p->stage = CS_BULK;
	p->max_cell_seen = 0;
	p->max_temp_seen = -100;
	for (int i = 0; i < p->npacks; i++) {
		const struct sc_pack *s = &sc->packs[i];
		struct pack *k = &p->packs[i];

		k->cap_ah = s->capacity_ah;
		k->soc = s->soc_pct;
		k->r0 = s->r_mohm / 1000.0;
		k->r1 = sc->chemistry.pol_r_mohm / 1000.0;
		k->tau = sc->chemistry.pol_tau_s;
		k->temp = s->temp_c;
		k->imb = s->imbalance_pct;
		k->voff = s->voltage_offset_v;
		k->bms_soc = clamp(s->soc_pct + s->bms_offset_pct, 0, 100);
		if (sc->bms.hold_at_pct > 0)
			k->bms_soc = fmin(k->bms_soc, sc->bms.hold_at_pct);
		k->bms_gain = s->bms_gain_error_pct / 100.0;
		k->last_anchor_s = -1;
		k->max_temp_seen = -100;
		k->start_soc = k->soc;
		k->start_bms_soc = k->bms_soc;
		k->voltage = pack_emf(p, k);
	}
	for (int u = 0; u < p->nunits; u++)
		for (int s = 0; s < SETTING_COUNT; s++)
			p->units[u].setting[s] = sc->inverter.initial[s];
	p->bus_v = mean_emf(p);
	for (int i = 0; i < p->npacks; i++)
		derive_pack(p, &p->packs[i]);
	p->cloud = sc->solar.clouds * rng_next(&p->rng);
	p->cloud_target = p->cloud;
	plant_advance(p, 0);
}

const char *
plant_readback(const struct plant *p, int setting, int value)
{
	const char *w = p->sc->inverter.readback[setting][value];

	return w[0] != '\0' ? w : p->pf->control[setting].readback[value];
}

/* ---- faults ---- */

bool
fault_hits_pack(const struct plant *p, int i, int pack)
{
	const struct sc_fault *f = &p->sc->faults[i];

	return p->frt[i].active && (f->pack == -1 || f->pack == pack);
}

/* Active, and not used up by messages handled since the last step. */
static bool
fault_live(const struct plant *p, int i)
{
	const struct sc_fault *f = &p->sc->faults[i];

	return p->frt[i].active && (f->count == 0 || p->frt[i].used < f->count);
}

bool
fault_hits_unit(const struct plant *p, int i, int unit)
{
	const struct sc_fault *f = &p->sc->faults[i];

	return fault_live(p, i) && (f->unit == -1 || f->unit == unit);
}

static bool
any_calibration(const struct plant *p)
{
	for (int u = 0; u < p->nunits; u++)
		for (int s = 0; s < SETTING_COUNT; s++)
			if (p->units[u].setting[s] == VALUE_CALIBRATION)
				return true;
	return false;
}

static void
update_faults(struct plant *p)
{
	for (int i = 0; i < p->npacks; i++) {
		p->packs[i].cell_offset = 0;
		p->packs[i].temp_offset = 0;
		memset(p->packs[i].sensor_offset, 0,
		    sizeof(p->packs[i].sensor_offset));
		p->packs[i].fault_prot = 0;
		p->packs[i].no_anchor = false;
	}
	p->solar_factor = 1;
	for (int i = 0; i < p->sc->nfaults; i++) {
		const struct sc_fault *f = &p->sc->faults[i];
		struct fault_rt *rt = &p->frt[i];
		bool fire = false;

		if (!rt->fired) {
			switch (f->trigger) {
			case FT_START:
				fire = true;
				break;
			case FT_TIME:
				fire = p->t >= f->at_s;
				break;
			case FT_GRID_CHARGING:
				fire = p->grid_charging;
				break;
			case FT_CALIBRATION:
				fire = any_calibration(p);
				break;
			case FT_ABSORPTION:
				fire = p->stage == CS_ABSORPTION;
				break;
			case FT_COUNT:
				break;
			}
			if (fire) {
				rt->fired = true;
				rt->fired_s = p->t;
			}
		}
		double start = rt->fired_s + f->delay_s;
		rt->active = rt->fired && p->t >= start &&
		    (f->duration_s == 0 || p->t < start + f->duration_s) &&
		    (f->count == 0 || rt->used < f->count);
		if (!rt->active)
			continue;
		double ramp = fmin(f->limit, fabs(f->rate_per_min) *
		    (p->t - start) / 60.0);
		ramp = f->rate_per_min < 0 ? -ramp : ramp;
		for (int k = 0; k < p->npacks; k++) {
			struct pack *pk = &p->packs[k];

			if (f->pack != -1 && f->pack != k)
				continue;
			switch (f->kind) {
			case FK_CELL_OFFSET:
				pk->cell_offset += f->value;
				break;
			case FK_CELL_RAMP:
				pk->cell_offset += ramp;
				break;
			case FK_TEMP_RAMP:	/* one sensor, or the pack */
				if (f->field >= PF_TEMP)
					pk->sensor_offset[f->field - PF_TEMP] +=
					    ramp;
				else
					pk->temp_offset += ramp;
				break;
			case FK_PROTECTION:
				pk->fault_prot |= f->bits;
				break;
			case FK_NO_ANCHOR:
				pk->no_anchor = true;
				break;
			default:
				break;
			}
		}
		if (f->kind == FK_SOLAR_COLLAPSE)
			p->solar_factor = fmin(p->solar_factor, f->value);
	}
}

/* ---- settings ---- */

static void
apply_pending(struct plant *p)
{
	for (int u = 0; u < p->nunits; u++) {
		struct unit *un = &p->units[u];
		int kept = 0;

		for (int j = 0; j < un->npend; j++) {
			struct pending *q = &un->pend[j];

			if (q->at_s <= p->t) {
				un->setting[q->setting] = q->value;
				un->applied++;
				un->nak_silent = false;
			} else
				un->pend[kept++] = *q;
		}
		un->npend = kept;
	}
}

static void
schedule(struct unit *un, int setting, int value, double at_s)
{
	if (un->npend == PENDING_MAX) {
		memmove(&un->pend[0], &un->pend[1],
		    sizeof(un->pend[0]) * (PENDING_MAX - 1));
		un->npend--;
	}
	un->pend[un->npend].setting = setting;
	un->pend[un->npend].value = value;
	un->pend[un->npend].at_s = at_s;
	un->npend++;
}

int
plant_control_topic(const struct plant *p, const char *topic, int *unit)
{
	const struct profile *pf = p->pf;
	char t[PROFILE_TOPIC_MAX];

	*unit = -1;
	for (int s = 0; s < SETTING_COUNT; s++) {
		if (!pf->control_per_unit) {
			if (strcmp(topic, pf->control[s].topic) == 0)
				return s;
			continue;
		}
		for (int u = 0; u < p->nunits; u++)
			if (topic_expand(pf->control[s].topic, u + 1, t,
			    sizeof(t)) == 0 && strcmp(topic, t) == 0) {
				*unit = u;
				return s;
			}
	}
	return -1;
}

const char *
plant_control(struct plant *p, const char *topic, const void *payload,
    size_t len)
{
	const struct profile *pf = p->pf;
	bool used[SC_FAULTS_MAX] = { false }, naked = false;
	char buf[PROFILE_WORD_MAX];
	const char *why;
	int s, v, napplied = 0, only = -1, addressed;

	p->ctl.received++;
	s = plant_control_topic(p, topic, &only);
	if (s == -1) {
		p->ctl.invalid++;
		p->ctl.ignored++;
		return "ignored: not a control topic";
	}
	if (payload_to_string(payload, len, buf, sizeof(buf), &why) == -1) {
		p->ctl.invalid++;
		p->ctl.ignored++;
		return "ignored: payload not text";
	}
	for (v = 0; v < VALUE_COUNT; v++)
		if (strcmp(buf, pf->control[s].value[v]) == 0)
			break;
	if (v == VALUE_COUNT) {
		p->ctl.invalid++;
		p->ctl.ignored++;
		return "ignored: not a control value";
	}
	/* a per-unit topic addresses its unit only, with its own latency */
	addressed = only >= 0 ? 1 : p->nunits;
	for (int u = 0; u < p->nunits; u++) {
		double delay = p->sc->inverter.apply_delay_s;
		bool skip = only >= 0 && u != only;

		/* First whether the unit takes the message at all ... */
		for (int i = 0; i < p->sc->nfaults; i++) {
			const struct sc_fault *f = &p->sc->faults[i];

			if (!fault_live(p, i) ||
			    (f->setting != -1 && f->setting != s))
				continue;
			switch (f->kind) {
			case FK_NAK:
				if (fault_hits_unit(p, i, u)) {
					skip = naked = used[i] = true;
					p->units[u].nak_silent = true;
				}
				break;
			case FK_IGNORE_CONTROL:
				if (fault_hits_unit(p, i, u))
					skip = used[i] = true;
				break;
			case FK_ONE_UNIT:
				used[i] = true;
				if (u != f->unit)
					skip = true;
				break;
			default:
				break;
			}
		}
		if (skip)
			continue;
		/* ... then how slowly it applies it. */
		for (int i = 0; i < p->sc->nfaults; i++) {
			const struct sc_fault *f = &p->sc->faults[i];

			if (f->kind == FK_SLOW_APPLY && fault_live(p, i) &&
			    (f->setting == -1 || f->setting == s) &&
			    fault_hits_unit(p, i, u)) {
				delay = fmax(delay, f->value);
				used[i] = true;
			}
		}
		schedule(&p->units[u], s, v, p->t + delay);
		napplied++;
	}
	for (int i = 0; i < p->sc->nfaults; i++)
		if (used[i])
			p->frt[i].used++;
	if (napplied == 0) {
		p->ctl.ignored++;
		if (naked)
			p->ctl.nak++;
		return naked ? "refused (NAK)" : "ignored by every unit";
	}
	p->ctl.accepted++;
	if (napplied < addressed) {
		p->ctl.partial++;
		return "accepted by some units only";
	}
	return "accepted";
}

/* ---- weather and load ---- */

static double
irradiance(const struct plant *p)
{
	const struct scenario *sc = p->sc;
	int n = sc->solar.npoints;

	if (p->t <= sc->solar.t_s[0])
		return sc->solar.level[0];
	for (int i = 1; i < n; i++) {
		if (p->t <= sc->solar.t_s[i]) {
			double f = (p->t - sc->solar.t_s[i - 1]) /
			    (sc->solar.t_s[i] - sc->solar.t_s[i - 1]);
			return sc->solar.level[i - 1] + f *
			    (sc->solar.level[i] - sc->solar.level[i - 1]);
		}
	}
	return sc->solar.level[n - 1];
}

static void
weather(struct plant *p, double dt)
{
	if (p->t >= p->next_weather_s) {
		p->next_weather_s = p->t + WEATHER_S;
		p->cloud_target = p->sc->solar.clouds * rng_next(&p->rng);
		p->load_noise = p->sc->load.noise_w *
		    (2.0 * rng_next(&p->rng) - 1.0);
	}
	p->cloud += (p->cloud_target - p->cloud) * (1.0 - exp(-dt /
	    CLOUD_TAU_S));
}

/* ---- the bus ---- */

/*
 * Sets every pack's current and the bus voltage. cv: hold the bus at v_t
 * unless that would take more than i_cap (then constant current i_cap);
 * otherwise push exactly i_cap (negative: discharge). A pack whose BMS
 * opened the charge path takes no charge current. Returns true if the
 * charger is voltage-limited.
 */
static bool
solve_bus(struct plant *p, bool cv, double v_t, double i_cap)
{
	double e[PROFILE_MAX_PACKS], sum = 0, v;
	bool in[PROFILE_MAX_PACKS];

	for (int k = 0; k < p->npacks; k++)
		e[k] = pack_emf(p, &p->packs[k]);
	if (cv) {
		for (int k = 0; k < p->npacks; k++) {
			double i = (v_t - e[k]) / p->packs[k].r0;

			if (p->packs[k].chg_blocked && i > 0)
				i = 0;
			sum += i;
		}
		if (sum >= 0 && sum <= i_cap) {
			for (int k = 0; k < p->npacks; k++) {
				double i = (v_t - e[k]) / p->packs[k].r0;

				if (p->packs[k].chg_blocked && i > 0)
					i = 0;
				p->packs[k].current = i;
			}
			p->bus_v = v_t;
			p->bus_i = sum;
			return true;
		}
		/* Above the voltage: the charger does not sink current. */
		if (sum < 0)
			i_cap = 0;
	}
	for (int k = 0; k < p->npacks; k++)
		in[k] = true;
	v = 0;
	for (int iter = 0; iter <= p->npacks; iter++) {
		double g = 0, ge = 0;
		bool changed = false;

		for (int k = 0; k < p->npacks; k++) {
			if (!in[k])
				continue;
			g += 1.0 / p->packs[k].r0;
			ge += e[k] / p->packs[k].r0;
		}
		if (g == 0) {
			v = mean_emf(p);
			break;
		}
		v = (i_cap + ge) / g;
		for (int k = 0; k < p->npacks; k++) {
			if (in[k] && p->packs[k].chg_blocked &&
			    v - e[k] > 0) {
				in[k] = false;
				changed = true;
			}
		}
		if (!changed)
			break;
	}
	sum = 0;
	for (int k = 0; k < p->npacks; k++) {
		p->packs[k].current = in[k] ? (v - e[k]) / p->packs[k].r0 : 0;
		sum += p->packs[k].current;
	}
	p->bus_v = v;
	p->bus_i = sum;
	return false;
}

/* ---- one step ---- */

static void
bms(struct plant *p, struct pack *k, double dt)
{
	const struct scenario *sc = p->sc;
	/* the BMS reads its own sensors: the hottest one protects */
	double t = pack_hottest_c(k, p->pf->n_temps);
	bool cond;

	if (k->cell_max >= sc->bms.protect_cell_v)
		k->bms_prot |= PROT_CELL_OV;
	else if (k->cell_max < sc->bms.release_cell_v)
		k->bms_prot &= ~PROT_CELL_OV;
	if (t >= sc->bms.protect_temp_c)
		k->bms_prot |= PROT_TEMP_HIGH;
	else if (t < sc->bms.protect_temp_c - 5)
		k->bms_prot &= ~PROT_TEMP_HIGH;
	if (t < 0 && k->current > 0)
		k->bms_prot |= PROT_TEMP_LOW;
	else if (t >= 2)
		k->bms_prot &= ~PROT_TEMP_LOW;
	k->chg_blocked = k->bms_prot != 0;

	k->bms_soc = clamp(k->bms_soc + k->current * dt / 3600.0 /
	    k->cap_ah * 100.0 * (1.0 + k->bms_gain), 0, 100);
	/* a holding BMS shows 100 % only after a termination */
	if (sc->bms.hold_at_pct > 0) {
		if (k->full && k->bms_soc < sc->bms.hold_at_pct)
			k->full = false;
		if (!k->full)
			k->bms_soc = fmin(k->bms_soc, sc->bms.hold_at_pct);
	}
	cond = !k->no_anchor && k->cell_max >= sc->bms.anchor_cell_v &&
	    fabs(k->current) < sc->bms.anchor_current_a;
	if (!cond) {
		k->anchor_timer = 0;
		return;
	}
	if (k->anchor_timer < 0)
		return;		/* anchored; wait for the condition to end */
	k->anchor_timer += dt;
	if (k->anchor_timer >= sc->bms.anchor_hold_s) {
		k->bms_soc = 100;
		k->full = true;
		k->anchors++;
		k->last_anchor_s = p->t;
		k->anchor_timer = -1;
	}
}

static void
integrate_pack(struct plant *p, struct pack *k, double dt)
{
	const struct scenario *sc = p->sc;
	double i = k->current;

	k->voltage = p->bus_v;
	k->soc = clamp(k->soc + i * dt / 3600.0 / k->cap_ah * 100.0, 0, 100);
	if (dt > 0)
		k->v1 += (i * k->r1 - k->v1) * (1.0 - exp(-dt / k->tau));
	k->temp += (i * i * (k->r0 + k->r1) - sc->thermal.loss_w_k *
	    (k->temp - sc->thermal.ambient_c)) * dt /
	    sc->thermal.heat_capacity_j_k;
	derive_pack(p, k);
	bms(p, k, dt);
}

static void
update_units(struct plant *p, bool fault, bool standby, bool grid_charge)
{
	for (int u = 0; u < p->nunits; u++) {
		struct unit *un = &p->units[u];

		un->pv_w = fault ? 0 : p->pv_used_w / p->nunits;
		un->ac_w = fault || standby ? 0 : p->load_w / p->nunits;
		if (fault) {
			un->mode = UM_FAULT;
			un->line_input = false;
		} else if (grid_charge) {
			un->mode = un->pv_w > 50 ? UM_HYBRID : UM_LINE;
			un->line_input = true;
		} else if (p->loads_on_grid) {
			un->mode = UM_LINE;
			un->line_input = true;
		} else if (standby) {
			un->mode = UM_STANDBY;
			un->line_input = false;
		} else {
			un->mode = UM_BATTERY;
			un->line_input = false;
		}
	}
}

static void
step(struct plant *p, double dt)
{
	const struct scenario *sc = p->sc;
	const struct unit *u0 = &p->units[0];
	bool fault86 = false, fault, sub, chg_util, grid_charge, standby;
	bool cv_limited = false;
	double emf, pv, load, pv_to_load, deficit, surplus, v_t, i_cap;
	double grid_to_batt = 0;

	apply_pending(p);
	update_faults(p);
	weather(p, dt);

	for (int u = 1; u < p->nunits; u++)
		for (int s = 0; s < SETTING_COUNT; s++)
			if (p->units[u].setting[s] != u0->setting[s])
				fault86 = true;
	/* the units compare their settings every so often: a mismatch shorter
	 * than inverter.fault86_after_s (per-unit writes landing one after
	 * the other) goes unnoticed */
	p->mismatch_s = fault86 ? p->mismatch_s + dt : 0;
	if (p->mismatch_s > p->max_mismatch_s)
		p->max_mismatch_s = p->mismatch_s;
	fault86 = fault86 && p->mismatch_s > sc->inverter.fault86_after_s;
	if (fault86 && !p->fault86)
		p->fault86_count++;
	p->fault86 = fault86;
	if (fault86 && sc->inverter.fault86_latch)
		p->fault86_latched = true;
	fault = p->fault86 || p->fault86_latched;

	sub = u0->setting[SETTING_OUTPUT_PRIORITY] == VALUE_CALIBRATION;
	chg_util = u0->setting[SETTING_CHARGER_PRIORITY] == VALUE_CALIBRATION;
	emf = mean_emf(p);
	if (emf < sc->inverter.critical_v)
		p->sbu_low = true;
	else if (emf >= sc->inverter.critical_recover_v)
		p->sbu_low = false;
	p->loads_on_grid = !fault && sc->inverter.grid && (sub || p->sbu_low);
	grid_charge = !fault && sc->inverter.grid && chg_util &&
	    (sub || p->sbu_low);
	standby = !fault && !p->loads_on_grid && emf < sc->inverter.cutoff_v;

	pv = fault ? 0 : p->nunits * sc->solar.peak_w * irradiance(p) *
	    (1.0 - p->cloud) * p->solar_factor;
	load = fmax(0, sc->load.base_w + p->load_noise);
	p->pv_avail_w = pv;
	p->load_w = fault || standby ? 0 : load;
	pv_to_load = fmin(pv, p->load_w);
	deficit = p->load_w - pv_to_load;
	surplus = pv - pv_to_load;

	/* A new grid charge starts a new charge cycle. */
	if (grid_charge && !p->grid_mode)
		p->stage = CS_BULK, p->stage_s = 0;
	p->grid_mode = grid_charge;
	if (p->stage == CS_FLOAT && emf < sc->inverter.rebulk_v)
		p->stage = CS_BULK, p->stage_s = 0;
	v_t = p->stage == CS_FLOAT ? sc->inverter.float_v : sc->inverter.bulk_v;
	i_cap = grid_charge ? sc->inverter.max_charge_a :
	    fmin(sc->inverter.max_charge_a, surplus / fmax(p->bus_v, 1.0));

	if (fault)
		(void)solve_bus(p, false, 0, 0);
	else if (!p->loads_on_grid && deficit > 0)
		(void)solve_bus(p, false, 0, -deficit / fmax(p->bus_v, 1.0));
	else if (i_cap > 0.01)
		cv_limited = solve_bus(p, true, v_t, i_cap);
	else
		(void)solve_bus(p, false, 0, 0);

	double batt_w = p->bus_i * p->bus_v;
	if (batt_w > 0) {
		p->pv_used_w = pv_to_load + fmin(surplus, batt_w);
		grid_to_batt = fmax(0, batt_w - surplus);
	} else
		p->pv_used_w = pv_to_load;
	p->grid_w = (p->loads_on_grid ? deficit : 0) + grid_to_batt;
	p->grid_charging = grid_charge && grid_to_batt > 50;
	if (p->bus_i > p->max_bus_i)
		p->max_bus_i = p->bus_i;

	/* charger stages */
	bool source = i_cap > 0.01 && !fault;
	if (p->stage == CS_BULK && cv_limited && source)
		p->stage = CS_ABSORPTION, p->stage_s = 0;
	else if (p->stage == CS_ABSORPTION && source) {
		p->stage_s += dt;
		p->absorption_s += dt;
		if (p->stage_s >= sc->inverter.absorption_max_s)
			p->stage = CS_FLOAT, p->stage_s = 0;
	}

	for (int k = 0; k < p->npacks; k++)
		integrate_pack(p, &p->packs[k], dt);
	update_units(p, fault, standby, grid_charge);

	if (p->grid_charging) {
		if (p->grid_start_s < 0)
			p->grid_start_s = p->t;
		p->grid_charge_s += dt;
		p->grid_kwh += grid_to_batt * dt / 3.6e6;
	}
	if (any_calibration(p))
		p->calibration_s += dt;
	if (fault)
		p->fault86_s += dt;
	p->t += dt;
}

void
plant_advance(struct plant *p, double dt)
{
	int n = (int)ceil(dt / STEP_MAX_S);

	if (n < 1) {
		step(p, 0);
		return;
	}
	for (int i = 0; i < n; i++)
		step(p, dt / n);
}
