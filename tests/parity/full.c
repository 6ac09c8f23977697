/* The supervisor's side of the parity test (side.h). */
#include <stdio.h>
#include <string.h>

#include "profile.h"
#include "side.h"
#include "telemetry.h"

#include "dump.h"

static struct profile pf;
static struct tm_store tm;

/* The watchdog's field number as this loader's pack or unit field. */
static int
field_of(int i, int *unit)
{
	*unit = i >= 2 + pf.n_temps;
	if (*unit)
		return i - 2 - pf.n_temps == 0 ? UF_OUTPUT_PRIORITY :
		    UF_CHARGER_PRIORITY;
	return i == 0 ? PF_SOC : i == 1 ? PF_CELL_VOLTAGE_MAX :
	    PF_TEMP + i - 2;
}

int
full_load(const char *path, char *out, size_t outsz, char *err,
    size_t errsz)
{
	FILE *fp;

	if (profile_load(path, &pf, err, errsz) == -1)
		return -1;
	if (tm_init(&tm, &pf) == -1 || (fp = fmemopen(out, outsz, "w")) ==
	    NULL) {
		(void)snprintf(err, errsz, "%s: tm_init or fmemopen", path);
		return -1;
	}
	dump(fp, &pf);
	return fclose(fp) == 0 ? 0 : -1;
}

int
full_nfields(void)
{
	return 2 + pf.n_temps + 2;
}

int
full_ingest(int i, const void *payload, size_t len, int retained,
    int64_t now)
{
	char topic[PROFILE_TOPIC_MAX];
	int unit, f = field_of(i, &unit);

	(void)topic_expand(unit ? pf.unit_field[f].topic :
	    pf.pack_field[f].topic, 1, topic, sizeof(topic));
	if (retained)
		return tm_ingest_retained(&tm, topic, now) == TM_RETAINED_ONLY ?
		    1 : -2;
	switch (tm_ingest(&tm, topic, payload, len, now, NULL, 0)) {
	case TM_STORED:
		return 0;
	case TM_REJECTED:
		return -1;
	default:
		return 1;
	}
}

void
full_value(int i, int64_t now, struct side_value *v)
{
	const char *text = "";
	int unit, f = field_of(i, &unit);

	memset(v, 0, sizeof(*v));
	if (unit)
		v->status = (int)tm_unit_text(&tm, 0, f, now, &text);
	else {
		v->status = (int)tm_pack(&tm, 0, f, now, &v->num);
		v->unknown_for = tm_pack_unknown_for(&tm, 0, f, now);
	}
	(void)strlcpy(v->text, v->status == TM_VALID ? text : "",
	    sizeof(v->text));
}
