/*
 * The last-resort envelope (Simplex): hard limits a little wider than the
 * supervisor's, from the same telemetry and the same strict parser. It
 * catches what a broken supervisor missed; it is not a second supervisor.
 */
#include <sys/param.h>

#include "log.h"
#include "watchdog.h"

static struct {		/* the last trip, for envelope_record() */
	const char	*what;
	int		 pack;
	double		 value;
} last;

static int
trip(const char *what, int pack, double value)
{
	last.what = what;
	last.pack = pack;
	last.value = value;
	return 1;
}

/* Says and records the last trip: after the revert it started went out. */
void
envelope_record(void)
{
	if (last.what == NULL)
		return;
	log_warnx("envelope: pack %d %s %.3f", last.pack + 1, last.what,
	    last.value);
	(void)WD_AUDIT(AUDIT_EV_ENVELOPE, AF_S("what", last.what),
	    AF_I("pack", last.pack + 1), AF_D("value", last.value));
	last.what = NULL;
}

/* When a pack's cell voltage will have been unknown too long; INT64_MAX. */
int64_t
envelope_next(int64_t now)
{
	int64_t at = INT64_MAX, age;

	for (int p = 0; p < wd.pf.packs; p++) {
		age = MIN(now - wd.start_ms, tm_pack_unknown_for(&wd.tm, p,
		    PF_CELL_VOLTAGE_MAX, now));
		at = MIN(at, now + MAX(wd.pf.limits.env_stale_ms - age + 1,
		    0));
	}
	return at;
}

/* 1 if a hard limit is exceeded now (envelope_record() says which). */
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
		/* the hottest of every sensor (pack_fields.temperatures) */
		for (int f = PF_TEMP; f < pack_nfields(&wd.pf); f++)
			if (tm_pack(&wd.tm, p, f, now, &v) == TM_VALID &&
			    v > l->env_temp_max_c)
				return trip(pack_field_name(&wd.pf, f), p, v);
		/* never seen: count from our own start, not from the epoch */
		if ((age = MIN(since_start, tm_pack_unknown_for(&wd.tm, p,
		    PF_CELL_VOLTAGE_MAX, now))) > l->env_stale_ms)
			return trip("cell_voltage_stale_ms", p, (double)age);
	}
	return 0;
}
