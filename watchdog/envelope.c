/*
 * The last-resort envelope (Simplex): hard limits a little wider than the
 * supervisor's, from the same telemetry and the same strict parser. It
 * catches what a broken supervisor missed; it is not a second supervisor.
 */
#include <sys/param.h>

#include <stdio.h>

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

/*
 * How long the longest unknown of a pack's envelope fields (its cell
 * voltage, every temperature sensor) has been unknown; a field never seen
 * counts from our own start, not from the epoch. *f: which.
 */
static int64_t
unknown_for(int p, int64_t now, int *f)
{
	int64_t age = -1, a;

	for (int i = PF_CELL_VOLTAGE_MAX; i < pack_nfields(&wd.pf); i++)
		if ((a = MIN(now - wd.start_ms, tm_pack_unknown_for(&wd.tm, p,
		    i, now))) > age) {
			age = a;
			*f = i;
		}
	return age;
}

/* When a pack's field will have been unknown too long; INT64_MAX. */
int64_t
envelope_next(int64_t now)
{
	int64_t at = INT64_MAX;
	int f;

	for (int p = 0; p < wd.pf.packs; p++)
		at = MIN(at, now + MAX(wd.pf.limits.env_stale_ms -
		    unknown_for(p, now, &f) + 1, 0));
	return at;
}

/* 1 if a hard limit is exceeded now (envelope_record() says which). */
int
envelope_check(int64_t now)
{
	static char what[PROFILE_MAX_TEMPS + 2][48];
	const struct profile_limits *l = &wd.pf.limits;
	int64_t age;
	double v;
	int f;

	for (int p = 0; p < wd.pf.packs; p++) {
		if (tm_pack(&wd.tm, p, PF_CELL_VOLTAGE_MAX, now, &v) ==
		    TM_VALID && v > l->env_cell_v)
			return trip("cell_voltage_max", p, v);
		/* the hottest of every sensor (pack_fields.temperatures) */
		for (f = PF_TEMP; f < pack_nfields(&wd.pf); f++)
			if (tm_pack(&wd.tm, p, f, now, &v) == TM_VALID &&
			    v > l->env_temp_max_c)
				return trip(wd.pf.pack_field[f].name, p, v);
		/* any one unknown too long: the bank is not seen */
		if ((age = unknown_for(p, now, &f)) > l->env_stale_ms) {
			(void)snprintf(what[f - 1], sizeof(what[0]), "%s_stale_ms",
			    wd.pf.pack_field[f].name);
			return trip(what[f - 1], p, (double)age);
		}
	}
	return 0;
}
