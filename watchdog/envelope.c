/*
 * The last-resort envelope (Simplex): hard limits a little wider than the
 * supervisor's, from the same telemetry and the same strict parser. It
 * catches what a broken supervisor missed; it is not a second supervisor.
 */
#include <sys/param.h>

#include "log.h"
#include "watchdog.h"

static const enum pack_field temps[] = { PF_TEMP_PCB, PF_TEMP_CELL };

static int
trip(const char *what, int pack, double value)
{
	log_warnx("envelope: pack %d %s %.3f", pack + 1, what, value);
	(void)WD_AUDIT(AUDIT_EV_ENVELOPE, AF_S("what", what),
	    AF_I("pack", pack + 1), AF_D("value", value));
	return 1;
}

/* 1 if a hard limit is exceeded now (and audits which). */
int
envelope_check(int64_t now)
{
	const struct profile_limits *l = &wd.pf.limits;
	int64_t age, since_start = now - wd.start_ms;
	double v;

	for (int p = 0; p < wd.pf.packs; p++) {
		if (tm_pack(&wd.tm, p, PF_CELL_VOLTAGE_MAX, now, &v) ==
		    TM_VALID && v > l->env_cell_v)
			return trip("cell_voltage_max", p, v);
		for (size_t i = 0; i < sizeof(temps) / sizeof(temps[0]); i++)
			if (tm_pack(&wd.tm, p, temps[i], now, &v) == TM_VALID &&
			    v > l->env_temp_max_c)
				return trip(pack_field_name(temps[i]), p, v);
		/* never seen: count from our own start, not from the epoch */
		if ((age = MIN(since_start, tm_pack_unknown_for(&wd.tm, p,
		    PF_CELL_VOLTAGE_MAX, now))) > l->env_stale_ms)
			return trip("cell_voltage_stale_ms", p, (double)age);
	}
	return 0;
}
