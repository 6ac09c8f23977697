/*
 * The watchdog's profile view (conf.h). libcyaml gives the structure of
 * the keys we name and skips the others; every scalar is loaded as a
 * string and parsed here, because libcyaml 1.3 reads "12abc" as 12, "010"
 * as 8 and takes "nan". Every key is optional to libcyaml so that a
 * missing one is named here with its path. The file is read as a
 * StrictModes daemon reads it: a regular file of root's or ours that
 * nobody else may write (sandbox.c checks the directories above, as root).
 */
#include <sys/stat.h>

#include <cyaml/cyaml.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sha2.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"
#include "cred.h"
#include "log.h"

#define FILE_MAX	(256 * 1024)
#define HELD_PCT	99.0	/* a BMS that has not terminated reads this */

struct rf { char *topic, *unit, *min, *max, *empty_is_zero, *format,
	*pointer, *scale, *sign; };
struct rc { char *topic, *word[4], *fold; };
struct raw {
	char	*site, *host, *port, *keepalive, *tls[3], *cred[2], *path[4];
	char	*packs, *units, *alarm, *reanchor, *env[3], *timing[10];
	struct rf pf[PF_TEMP + 2], uf[UF_COUNT];
	struct rc c[SETTING_COUNT];
};

#define S(k, m)	CYAML_FIELD_STRING_PTR(k, CYAML_FLAG_POINTER | \
	CYAML_FLAG_OPTIONAL, struct raw, m, 0, 1024)
#define SF(k, m) CYAML_FIELD_STRING_PTR(k, CYAML_FLAG_POINTER | \
	CYAML_FLAG_OPTIONAL, struct rf, m, 0, 1024)
#define SC(k, m) CYAML_FIELD_STRING_PTR(k, CYAML_FLAG_POINTER | \
	CYAML_FLAG_OPTIONAL, struct rc, m, 0, 1024)
/* a mapping of struct raw (fields at full offsets), or of an element */
#define MAP(k, off, type, f) { .key = k, .data_offset = off, .value = { \
	.type = CYAML_MAPPING, .flags = CYAML_FLAG_OPTIONAL, \
	.data_size = sizeof(type), .mapping = { .fields = f } } }
#define SUB(k, f)	MAP(k, 0, struct raw, f)
#define END		CYAML_FIELD_END

static const cyaml_schema_field_t field_s[] = { SF("topic", topic),
	SF("unit", unit), SF("min", min), SF("max", max),
	SF("empty_is_zero", empty_is_zero), SF("format", format),
	SF("pointer", pointer), SF("scale", scale), SF("sign", sign), END };
#define FIELD(k, arr, i) MAP(k, offsetof(struct raw, arr[i]), struct rf, \
	field_s)
static const cyaml_schema_field_t ctl_s[] = { SC("topic", topic),
	SC("everyday", word[0]), SC("calibration", word[1]),
	SC("readback_everyday", word[2]), SC("readback_calibration", word[3]),
	SC("case", fold), END };
#define CTL(k, i) MAP(k, offsetof(struct raw, c[i]), struct rc, ctl_s)

static const cyaml_schema_field_t broker_s[] = { S("host", host),
	S("port", port), S("keepalive_s", keepalive), S("tls_ca", tls[0]),
	S("tls_cert", tls[1]), S("tls_key", tls[2]), END };
static const cyaml_schema_field_t cred_s[] = { S("watchdog", cred[0]),
	S("supervisor", cred[1]), END };
static const cyaml_schema_field_t paths_s[] = { S("state_dir", path[0]),
	S("audit_log", path[1]), S("supervisor", path[2]),
	S("supervisor_user", path[3]), END };
static const cyaml_schema_field_t bank_s[] = { S("packs", packs),
	S("units", units), END };
static const cyaml_schema_field_t pack_s[] = { FIELD("soc", pf, PF_SOC),
	FIELD("cell_voltage_max", pf, PF_CELL_VOLTAGE_MAX),
	FIELD("temperature_pcb", pf, PF_TEMP),
	FIELD("temperature_cell", pf, PF_TEMP + 1), END };
static const cyaml_schema_field_t unit_s[] = {
	FIELD("output_source_priority", uf, UF_OUTPUT_PRIORITY),
	FIELD("charger_source_priority", uf, UF_CHARGER_PRIORITY), END };
static const cyaml_schema_field_t control_s[] = {
	CTL("output_priority", SETTING_OUTPUT_PRIORITY),
	CTL("charger_priority", SETTING_CHARGER_PRIORITY),
	S("alarm_topic", alarm), END };
static const cyaml_schema_field_t verify_s[] = {
	S("reanchor_pct", reanchor), END };
static const cyaml_schema_field_t envelope_s[] = {
	S("cell_voltage_max_v", env[0]), S("temperature_max_c", env[1]),
	S("stale_s", env[2]), END };
static const cyaml_schema_field_t limits_s[] = { SUB("verify", verify_s),
	SUB("envelope", envelope_s), END };
static const cyaml_schema_field_t timing_s[] = {
	S("telemetry_max_age_s", timing[0]), S("preflight_wait_s", timing[1]),
	S("set_confirm_s", timing[2]), S("run_max_s", timing[3]),
	S("heartbeat_interval_s", timing[4]),
	S("heartbeat_timeout_s", timing[5]), S("revert_confirm_s", timing[6]),
	S("revert_retry_s", timing[7]), S("revert_retry_max_s", timing[8]),
	S("progress_interval_s", timing[9]), END };
static const cyaml_schema_field_t top_s[] = { S("site", site),
	SUB("broker", broker_s), SUB("credentials", cred_s),
	SUB("paths", paths_s), SUB("bank", bank_s),
	SUB("pack_fields", pack_s), SUB("unit_fields", unit_s),
	SUB("control", control_s), SUB("limits", limits_s),
	SUB("timing", timing_s), END };
static const cyaml_schema_value_t top = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct raw, top_s) };

/* Timing: key, ms range, the full loader's default (gridcal.yaml(5)). */
static const struct { const char *key; int64_t min, max; const char *def; }
    tkeys[10] = {
	{ "telemetry_max_age_s", 10, 3600000, "30" },
	{ "preflight_wait_s", 10, 86400000, "120" },
	{ "set_confirm_s", 10, 3600000, "90" },
	{ "run_max_s", 10, 172800000, "28800" },
	{ "heartbeat_interval_s", 10, 60000, "1" },
	{ "heartbeat_timeout_s", 20, 600000, "10" },
	{ "revert_confirm_s", 10, 3600000, "60" },
	{ "revert_retry_s", 10, 3600000, "15" },
	{ "revert_retry_max_s", 10, 86400000, "300" },
	{ "progress_interval_s", 10, 86400000, "60" },
};

static const char *const unit_word[] = { "%", "V", "mV", "A", "C", "F",
	"W", "kW", "flags", "text" };
static const char *const pack_key[] = { "soc", "cell_voltage_max",
	"temperature_pcb", "temperature_cell" };
static const char *const unit_key[] = { "output_source_priority",
	"charger_source_priority" };

static struct {
	const char	*path;
	char		*buf, *err, cy[200];
	size_t		 len, errsz;
	int		 cy_line;
} cf;

/* The line of a dotted key in a block-style file; 0 if not found. */
static int
key_line(const char *k)
{
	const char *p = cf.buf, *q, *eol;
	int line = 1, indent = -1;
	size_t n;

	for (; p != NULL && *p != '\0'; line++, p = *eol ? eol + 1 : NULL) {
		eol = strchrnul(p, '\n');
		for (q = p; *q == ' '; q++)
			;
		if (q < eol && *q != '#' && q - p <= indent)
			return 0;	/* left the parent's block */
		n = strcspn(k, ".");
		if (q - p > indent && strncmp(q, k, n) == 0 && q[n] == ':') {
			if (k[n] == '\0')
				return line;
			k += n + 1;
			indent = (int)(q - p);
		}
	}
	return 0;
}

static int
bad(const char *key, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "file:line: key: why", one line whatever the file held; -1. */
static int
bad(const char *key, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	int line = key != NULL ? key_line(key) : cf.cy_line;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)snprintf(cf.err, cf.errsz, "%s%s%.0d: %s%s%s", cf.path,
	    line > 0 ? ":" : "", line, key != NULL ? key : "",
	    key != NULL ? ": " : "", msg);
	for (char *p = cf.err; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -1;
}

/* libcyaml's first error, and the first line its backtrace names. */
static void
cy_log(cyaml_log_t level, void *ctx, const char *fmt, va_list ap)
{
	char line[256], *p = line, *q;

	(void)ctx;
	if (level < CYAML_LOG_ERROR)
		return;
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	if (cf.cy_line == 0 && (q = strstr(line, "(line: ")) != NULL)
		cf.cy_line = atoi(q + 7);
	while (*p == ' ')
		p++;
	if (strncmp(p, "Load: ", 6) == 0)
		p += 6;
	if (cf.cy[0] == '\0' && strncmp(p, "in ", 3) != 0 &&
	    strcmp(p, "Backtrace:") != 0)
		(void)strlcpy(cf.cy, p, sizeof(cf.cy));
}

int
conf_number(const char *s, double min, double max, double *out,
    const char **why)
{
	const char *d = s + (*s == '-' || *s == '+');
	char *end;
	double v = 0;

	*why = NULL;
	if (*s == '\0')
		*why = "empty";
	else if (d[0] == '0' && isdigit((unsigned char)d[1]))
		*why = "leading zero";
	else if (s[strspn(s, "0123456789+-.eE")] != '\0')
		*why = "not a decimal number";	/* no hex, inf, nan, space */
	else {
		errno = 0;
		v = strtod(s, &end);
		if (end == s || *end != '\0')
			*why = "not a number";
		else if (errno == ERANGE || !isfinite(v))
			*why = "not finite";
		else if (v < min || v > max)
			*why = "out of range";
	}
	if (*why == NULL)
		*out = v;
	return *why == NULL ? 0 : -1;
}

/* An optional key's value, or its default (said with -v). */
static const char *
opt(const char *key, const char *s, const char *def)
{
	if (s == NULL && def != NULL)
		log_debug("%s: %s not set: default %s", cf.path, key, def);
	return s != NULL ? s : def;
}

static int
number(const char *key, const char *s, double min, double max, double *out)
{
	const char *why;

	if (s == NULL)
		return bad(key, "missing (no default: the site must say)");
	if (conf_number(s, min, max, out, &why) == -1)
		return bad(key, "\"%s\": %s (expected a number in %g..%g)", s,
		    why, min, max);
	return 0;
}

static int
integer(const char *key, const char *s, int64_t min, int64_t max,
    int64_t *out)
{
	const char *d, *why = "not an integer";

	if (s == NULL)
		return bad(key, "missing (no default: the site must say)");
	d = s + (*s == '-' || *s == '+');
	if (*d != '\0' && d[strspn(d, "0123456789")] == '\0' &&
	    (d[0] != '0' || d[1] == '\0'))
		*out = strtonum(s, min, max, &why);
	if (why != NULL)
		return bad(key, "\"%s\": %s (expected an integer in %lld..%lld)",
		    s, why, (long long)min, (long long)max);
	return 0;
}

static int
seconds(const char *key, const char *s, int64_t min, int64_t max,
    int64_t *out)
{
	double secs;

	if (number(key, s, 0, 1e9, &secs) == -1)
		return -1;
	*out = (int64_t)round(secs * 1000.0);
	if (*out < min || *out > max)
		return bad(key, "\"%s\": out of range (expected seconds in "
		    "%g..%g)", s, min / 1000.0, max / 1000.0);
	return 0;
}

/* A non-empty printable-ASCII word that fits. */
static int
word(const char *key, const char *s, char *dst, size_t dstsz)
{
	if (s == NULL)
		return bad(key, "missing (no default: the site must say)");
	if (s[0] == '\0')
		return bad(key, "empty");
	for (const char *p = s; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			return bad(key, "non-printable character");
	if (strlcpy(dst, s, dstsz) >= dstsz)
		return bad(key, "\"%s\": longer than %zu characters", s,
		    dstsz - 1);
	return 0;
}

static int
abspath(const char *key, const char *s, char *dst)
{
	if (word(key, s, dst, PATH_MAX) == -1)
		return -1;
	return dst[0] == '/' ? 0 : bad(key, "\"%s\": must be an absolute "
	    "path", s);
}

/* An exact topic: no wildcards, no empty level, ph ({i}, {u}) once. */
static int
topic(const char *key, const char *s, char *dst, const char *ph)
{
	const char *hit;
	size_t braces = 0;

	if (word(key, s, dst, PROFILE_TOPIC_MAX) == -1)
		return -1;
	if (strpbrk(s, "+# ") != NULL)
		return bad(key, "\"%s\": wildcards and spaces are not allowed "
		    "in a topic", s);
	if (s[0] == '/' || strstr(s, "//") != NULL || s[strlen(s) - 1] == '/')
		return bad(key, "\"%s\": empty topic level", s);
	for (const char *p = s; *p != '\0'; p++)
		braces += (*p == '{' || *p == '}');
	hit = ph != NULL ? strstr(s, ph) : NULL;
	if (ph != NULL && (hit == NULL || strstr(hit + 1, ph) != NULL))
		return bad(key, "\"%s\": must contain %s exactly once", s, ph);
	if (braces != (ph != NULL ? 2 : 0))
		return bad(key, "\"%s\": %s", s, ph != NULL ? "stray brace" :
		    "no placeholder allowed here");
	return 0;
}

/* format, pointer (json only), scale and sign (numbers only). */
static int
format(const char *k0, const struct rf *r, bool numeric, struct field_spec *fs)
{
	char key[160];
	const char *s = r->format != NULL ? r->format : "text", *p;
	int64_t sign;

	(void)snprintf(key, sizeof(key), "%s.format", k0);
	if (strcmp(s, "text") != 0 && strcmp(s, "json") != 0)
		return bad(key, "\"%s\": must be text or json", s);
	fs->format = strcmp(s, "json") == 0 ? PL_JSON : PL_TEXT;
	(void)snprintf(key, sizeof(key), "%s.pointer", k0);
	if ((fs->format == PL_JSON) != (r->pointer != NULL))
		return bad(key, fs->format == PL_JSON ? "format json needs a "
		    "JSON pointer (\"/value\")" : "only with format json");
	if ((p = r->pointer) != NULL) {
		if (word(key, p, fs->pointer, sizeof(fs->pointer)) == -1)
			return -1;
		while ((p = strchr(p, '~')) != NULL && (p[1] == '0' || p[1] == '1'))
			p++;	/* ~ only as ~0 or ~1 */
		if (fs->pointer[0] != '/' || p != NULL)
			return bad(key, "\"%s\": not a JSON pointer (\"/a/b\", ~0 "
			    "and ~1 escapes)", r->pointer);
	}
	(void)snprintf(key, sizeof(key), "%s.scale", k0);
	if (!numeric && (r->scale != NULL || r->sign != NULL))
		return bad(key, "scale and sign are only for numeric fields");
	if (number(key, r->scale != NULL ? r->scale : "1", 1e-6, 1e6,
	    &fs->scale) == -1)
		return -1;
	(void)snprintf(key, sizeof(key), "%s.sign", k0);
	if (integer(key, r->sign != NULL ? r->sign : "1", -1, 1, &sign) == -1)
		return -1;
	fs->sign = (int)sign;
	return sign != 0 ? 0 : bad(key, "must be 1 or -1");
}

/* One telemetry field of the section, in one of the units allowed. */
static int
field(const char *sec, const char *name, const struct rf *r, unsigned allowed,
    const char *ph, struct field_spec *fs)
{
	char key[128], k0[96];
	size_t i;
	bool ranged;

	(void)snprintf(k0, sizeof(k0), "%s.%s", sec, name);
	(void)strlcpy(fs->name, name, sizeof(fs->name));
	(void)snprintf(key, sizeof(key), "%s.topic", k0);
	if (topic(key, r->topic, fs->topic, ph) == -1)
		return -1;
	(void)snprintf(key, sizeof(key), "%s.unit", k0);
	for (i = 0; r->unit != NULL && i < sizeof(unit_word) /
	    sizeof(unit_word[0]); i++)
		if (strcmp(r->unit, unit_word[i]) == 0 && (allowed >> i & 1))
			break;
	if (r->unit == NULL || i == sizeof(unit_word) / sizeof(unit_word[0]))
		return r->unit == NULL ? bad(key, "missing") : bad(key, "\"%s\": "
		    "not a unit this field can have", r->unit);
	fs->unit = (enum field_unit)i;
	ranged = fs->unit != FU_TEXT;
	if (ranged != (r->min != NULL) || ranged != (r->max != NULL))
		return bad(k0, ranged ? "needs min and max" : "min and max are "
		    "only for numeric fields");
	(void)snprintf(key, sizeof(key), "%s.min", k0);
	if (ranged && number(key, r->min, -1e6, 1e6, &fs->min) == -1)
		return -1;
	(void)snprintf(key, sizeof(key), "%s.max", k0);
	if (ranged && number(key, r->max, -1e6, 1e6, &fs->max) == -1)
		return -1;
	if (ranged && fs->min >= fs->max)
		return bad(key, "max must be above min");
	(void)snprintf(key, sizeof(key), "%s.empty_is_zero", k0);
	if (r->empty_is_zero != NULL)
		return bad(key, "only for flags fields");
	return format(k0, r, ranged, fs);
}

#define NEED(cond, key, ...) do { \
	if (!(cond)) return bad(key, __VA_ARGS__); } while (0)

static int
load_site(const struct raw *r, struct profile *pf)
{
	static const char *const pk[4] = { "paths.state_dir", "paths.audit_log",
	    "paths.supervisor", "paths.supervisor_user" };
	char *const pd[4] = { pf->state_dir, pf->audit_log, pf->supervisor_path,
	    pf->supervisor_user };
	static const char *const tk[3] = { "broker.tls_ca", "broker.tls_cert",
	    "broker.tls_key" };
	char *const td[3] = { pf->broker_tls_ca, pf->broker_tls_cert,
	    pf->broker_tls_key };
	int64_t v;

	if (word("site", r->site, pf->site, sizeof(pf->site)) == -1 ||
	    word("broker.host", r->host, pf->broker_host,
	    sizeof(pf->broker_host)) == -1 || integer("broker.port",
	    opt("broker.port", r->port, "1883"), 1, 65535, &v) == -1)
		return -1;
	pf->broker_port = (uint16_t)v;
	if (integer("broker.keepalive_s", opt("broker.keepalive_s",
	    r->keepalive, "30"), 5, 3600, &v) == -1)
		return -1;
	pf->broker_keepalive_s = (int)v;
	for (int i = 0; i < 3; i++)
		if (r->tls[i] != NULL && abspath(tk[i], r->tls[i], td[i]) == -1)
			return -1;
	NEED((td[1][0] == '\0') == (td[2][0] == '\0'), "broker.tls_cert",
	    "tls_cert and tls_key go together");
	NEED(td[1][0] == '\0' || td[0][0] != '\0', "broker.tls_cert",
	    "a client certificate needs broker.tls_ca");
	if (abspath("credentials.watchdog", r->cred[0], pf->cred_watchdog) ==
	    -1 || abspath("credentials.supervisor", r->cred[1],
	    pf->cred_supervisor) == -1)
		return -1;
	for (int i = 0; i < 4; i++)
		if (i < 3 ? abspath(pk[i], r->path[i], pd[i]) == -1 :
		    word(pk[i], r->path[i], pd[i], PROFILE_WORD_MAX) == -1)
			return -1;
	NEED(strcmp(pf->cred_watchdog, pf->cred_supervisor) != 0,
	    "credentials.supervisor", "must not be the watchdog's file");
	NEED(strcmp(pf->supervisor_user, "root") != 0, "paths.supervisor_user",
	    "the supervisor never runs as root");
	if (integer("bank.packs", r->packs, 1, PROFILE_MAX_PACKS, &v) == -1)
		return -1;
	pf->packs = (int)v;
	if (integer("bank.units", r->units, 1, PROFILE_MAX_UNITS, &v) == -1)
		return -1;
	pf->units = (int)v;
	return 0;
}

#define U(x)	(1u << (x))

static int
load_fields(const struct raw *r, struct profile *pf)
{
	static const unsigned units[4] = { U(FU_PERCENT),
	    U(FU_VOLT) | U(FU_MILLIVOLT), U(FU_CELSIUS) | U(FU_FAHRENHEIT),
	    U(FU_CELSIUS) | U(FU_FAHRENHEIT) };

	pf->n_temps = 2;
	for (int f = 0; f < PF_TEMP + pf->n_temps; f++)
		if (field("pack_fields", pack_key[f], &r->pf[f], units[f], "{i}",
		    &pf->pack_field[f]) == -1)
			return -1;
	for (int f = 0; f < UF_COUNT; f++)
		if (field("unit_fields", unit_key[f], &r->uf[f], U(FU_TEXT), "{u}",
		    &pf->unit_field[f]) == -1)
			return -1;
	return 0;
}

static int
load_control(const struct raw *r, struct profile *pf)
{
	static const char *const sub[4] = { "everyday", "calibration",
	    "readback_everyday", "readback_calibration" };
	char key[128];
	const char *s;

	for (int i = 0; i < SETTING_COUNT; i++) {
		const struct rc *rc = &r->c[i];
		struct control_spec *cs = &pf->control[i];

		(void)snprintf(key, sizeof(key), "control.%s.topic",
		    setting_name(i));
		if (topic(key, rc->topic, cs->topic, NULL) == -1)
			return -1;
		for (int w = 0; w < 4; w++) {
			(void)snprintf(key, sizeof(key), "control.%s.%s",
			    setting_name(i), sub[w]);
			if (word(key, rc->word[w], w < 2 ? cs->value[w] :
			    cs->readback[w - 2], PROFILE_WORD_MAX) == -1)
				return -1;
		}
		(void)snprintf(key, sizeof(key), "control.%s.calibration",
		    setting_name(i));
		NEED(strcmp(cs->value[0], cs->value[1]) != 0, key,
		    "must differ from the everyday value");
		(void)snprintf(key, sizeof(key), "control.%s.case",
		    setting_name(i));
		s = opt(key, rc->fold, "exact");
		NEED(strcmp(s, "exact") == 0 || strcmp(s, "fold") == 0, key,
		    "\"%s\": must be exact or fold", s);
		cs->fold = strcmp(s, "fold") == 0;
		(void)snprintf(key, sizeof(key),
		    "control.%s.readback_calibration", setting_name(i));
		NEED((cs->fold ? strcasecmp : strcmp)(cs->readback[0],
		    cs->readback[1]) != 0, key, "must differ from the everyday "
		    "readback%s", cs->fold ? ", ignoring case" : "");
	}
	NEED(strcmp(pf->control[0].topic, pf->control[1].topic) != 0,
	    "control.charger_priority.topic", "must differ from "
	    "control.output_priority.topic");
	return topic("control.alarm_topic", r->alarm, pf->alarm_topic, NULL);
}

static int
load_numbers(const struct raw *r, struct profile *pf)
{
	struct profile_limits *l = &pf->limits;
	struct profile_timing *t = &pf->timing;
	int64_t *ms = &t->telemetry_max_age_ms;	/* tkeys' order */
	char key[64];

	if (number("limits.verify.reanchor_pct", opt("limits.verify."
	    "reanchor_pct", r->reanchor, "100"), 50, 100,
	    &l->verify_reanchor_pct) == -1 ||
	    number("limits.envelope.cell_voltage_max_v", r->env[0], 3.0, 4.3,
	    &l->env_cell_v) == -1 ||
	    number("limits.envelope.temperature_max_c", opt("limits.envelope."
	    "temperature_max_c", r->env[1], "50"), 0, 90,
	    &l->env_temp_max_c) == -1 ||
	    seconds("limits.envelope.stale_s", opt("limits.envelope.stale_s",
	    r->env[2], "120"), 10, 3600000, &l->env_stale_ms) == -1)
		return -1;
	NEED(l->verify_reanchor_pct > HELD_PCT, "limits.verify.reanchor_pct",
	    "%.1f %% is not a re-anchor: a BMS that has not terminated may "
	    "hold at %.0f %%; use the value its counter jumps to (100)",
	    l->verify_reanchor_pct, HELD_PCT);
	for (int i = 0; i < 10; i++) {
		(void)snprintf(key, sizeof(key), "timing.%s", tkeys[i].key);
		if (seconds(key, opt(key, r->timing[i], tkeys[i].def),
		    tkeys[i].min, tkeys[i].max, &ms[i]) == -1)
			return -1;
	}
	NEED(t->heartbeat_timeout_ms >= 2 * t->heartbeat_interval_ms,
	    "timing.heartbeat_timeout_s", "must be at least twice "
	    "timing.heartbeat_interval_s");
	NEED(t->revert_retry_max_ms >= t->revert_retry_ms,
	    "timing.revert_retry_max_s", "must be at least "
	    "timing.revert_retry_s");
	return 0;
}

/* Every topic the watchdog subscribes or publishes to is distinct. */
static int
check_topics(const struct profile *pf)
{
	static char all[PROFILE_MAX_PACKS * PF_COUNT + PROFILE_MAX_UNITS *
	    (UF_COUNT + SETTING_COUNT) + 1][PROFILE_TOPIC_MAX];
	int n = 0;

	for (int i = 1; i <= pf->packs; i++)
		for (int f = 0; f < PF_TEMP + pf->n_temps; f++)
			NEED(topic_expand(pf->pack_field[f].topic, i, all[n++],
			    PROFILE_TOPIC_MAX) == 0, "pack_fields", "topic of %s "
			    "too long for pack %d", pf->pack_field[f].name, i);
	for (int u = 1; u <= pf->units; u++)
		for (int f = 0; f < UF_COUNT; f++)
			NEED(topic_expand(pf->unit_field[f].topic, u, all[n++],
			    PROFILE_TOPIC_MAX) == 0, "unit_fields", "topic of %s "
			    "too long for unit %d", unit_key[f], u);
	for (int s = 0; s < SETTING_COUNT; s++)
		(void)strlcpy(all[n++], pf->control[s].topic, PROFILE_TOPIC_MAX);
	(void)strlcpy(all[n++], pf->alarm_topic, PROFILE_TOPIC_MAX);
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			NEED(strcmp(all[i], all[j]) != 0, NULL, "topic \"%s\" is "
			    "used twice", all[i]);
	return 0;
}

/* StrictModes: a file anyone else may write could say anything. */
static int
mode_ok(const struct stat *st, bool exec)
{
	return S_ISREG(st->st_mode) && (st->st_mode & (S_IWGRP | S_IWOTH)) ==
	    0 && (st->st_uid == 0 || st->st_uid == geteuid()) &&
	    (!exec || (st->st_mode & S_IXUSR));
}

static int
read_file(void)
{
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(cf.path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return bad(NULL, "%s", strerror(errno));
	if (fstat(fd, &st) == -1 || !mode_ok(&st, false) || st.st_size == 0 ||
	    st.st_size > FILE_MAX || (cf.buf = malloc((size_t)st.st_size +
	    1)) == NULL) {
		(void)close(fd);
		return bad(NULL, !mode_ok(&st, false) ? "bad owner or mode (uid "
		    "%u, mode %03o; want a regular file of root's or ours, not "
		    "writable by group or others)" : "empty, over 256 KiB, or "
		    "out of memory (uid %u, mode %03o)", (unsigned)st.st_uid,
		    (unsigned)(st.st_mode & 0777));
	}
	n = read(fd, cf.buf, (size_t)st.st_size);
	(void)close(fd);
	if (n != st.st_size)
		return bad(NULL, "short read");
	cf.buf[n] = '\0';
	cf.len = (size_t)n;
	return memchr(cf.buf, '\0', cf.len) == NULL ? 0 :
	    bad(NULL, "contains a NUL byte");
}

int
conf_load(const char *path, struct profile *pf, char *err, size_t errsz)
{
	cyaml_config_t cfg = { .log_fn = cy_log, .mem_fn = cyaml_mem,
	    .log_level = CYAML_LOG_ERROR,
	    .flags = CYAML_CFG_NO_ALIAS | CYAML_CFG_IGNORE_UNKNOWN_KEYS };
	struct raw *r = NULL;
	cyaml_err_t e;
	int rc = -1;

	memset(pf, 0, sizeof(*pf));
	memset(&cf, 0, sizeof(cf));
	cf.path = path;
	cf.err = err;
	cf.errsz = errsz;
	if (read_file() == 0) {
		e = cyaml_load_data((const uint8_t *)cf.buf, cf.len, &cfg, &top,
		    (cyaml_data_t **)&r, NULL);
		if (e != CYAML_OK)
			(void)bad(NULL, "%s", cf.cy[0] != '\0' ? cf.cy :
			    cyaml_strerror(e));
		else if (r == NULL)
			(void)bad(NULL, "no document");
		else
			rc = (load_site(r, pf) == -1 || load_fields(r, pf) == -1 ||
			    load_control(r, pf) == -1 ||
			    load_numbers(r, pf) == -1 || check_topics(pf) == -1) ?
			    -1 : 0;
	}
	if (rc == 0) {
		(void)strlcpy(pf->path, path, sizeof(pf->path));
		/* the digest covers exactly the bytes that were parsed */
		SHA256Data((const uint8_t *)cf.buf, cf.len, pf->digest_hex);
		for (int i = 0; i < PROFILE_DIGEST_LEN; i++)
			(void)sscanf(pf->digest_hex + 2 * i, "%2hhx",
			    &pf->digest[i]);
	}
	if (r != NULL)
		(void)cyaml_free(&cfg, &top, r, 0);
	free(cf.buf);
	cf.buf = NULL;
	return rc;
}

void
conf_load_or_die(const char *path, struct profile *pf)
{
	char err[PROFILE_ERR_MAX];

	if (conf_load(path, pf, err, sizeof(err)) == -1) {
		log_setfatalstatus(78);
		fatalx("%s", err);
	}
}

const char *
setting_name(enum setting s)
{
	return s == SETTING_OUTPUT_PRIORITY ? "output_priority" :
	    s == SETTING_CHARGER_PRIORITY ? "charger_priority" : "?";
}

int
topic_expand(const char *tmpl, int n, char *out, unsigned long outsz)
{
	const char *p = strchr(tmpl, '{');
	int len;

	if (p == NULL || (p[1] != 'i' && p[1] != 'u') || p[2] != '}')
		len = snprintf(out, outsz, "%s", tmpl);
	else
		len = snprintf(out, outsz, "%.*s%d%s", (int)(p - tmpl), tmpl, n,
		    p + 3);
	return (len < 0 || (unsigned long)len >= outsz) ? -1 : 0;
}

int
profile_readback_value(const struct profile *pf, enum setting s,
    const char *readback)
{
	for (int v = 0; (unsigned)s < SETTING_COUNT && v < VALUE_COUNT; v++)
		if ((pf->control[s].fold ? strcasecmp : strcmp)(
		    pf->control[s].readback[v], readback) == 0)
			return v;
	return -1;
}

static void
print(const struct profile *pf)
{
	const struct profile_timing *t = &pf->timing;

	printf("profile %s\n  sha256 %s\n  site %s\nbroker %s:%u keepalive "
	    "%ds%s%s\n", pf->path, pf->digest_hex, pf->site, pf->broker_host,
	    (unsigned)pf->broker_port, pf->broker_keepalive_s,
	    pf->broker_tls_ca[0] != '\0' ? " tls ca " : "", pf->broker_tls_ca);
	printf("credentials watchdog %s\npaths state_dir %s audit_log %s "
	    "supervisor %s (user %s)\nbank packs %d units %d\npack telemetry:\n",
	    pf->cred_watchdog, pf->state_dir, pf->audit_log, pf->supervisor_path,
	    pf->supervisor_user, pf->packs, pf->units);
	for (int i = 0; i < PF_TEMP + pf->n_temps + UF_COUNT; i++) {
		const struct field_spec *f = i < PF_TEMP + pf->n_temps ?
		    &pf->pack_field[i] : &pf->unit_field[i - PF_TEMP - pf->n_temps];

		printf("%s  %-24s %s [%s]", i == PF_TEMP + pf->n_temps ?
		    "unit telemetry:\n" : "", f->name, f->topic,
		    unit_word[f->unit]);
		if (f->unit != FU_TEXT)
			printf(" %g..%g x %g", f->min, f->max, f->scale * f->sign);
		printf("%s%s\n", f->format == PL_JSON ? " json " : "", f->pointer);
	}
	for (int s = 0; s < SETTING_COUNT; s++)
		printf("control %s %s: everyday %s (readback %s), calibration %s "
		    "(readback %s)%s\n", setting_name(s), pf->control[s].topic,
		    pf->control[s].value[0], pf->control[s].readback[0],
		    pf->control[s].value[1], pf->control[s].readback[1],
		    pf->control[s].fold ? ", case fold" : "");
	printf("alarm %s\nlimits verify re-anchor %g %%; envelope: cell %g V, "
	    "temperature %g C, stale %gs\n", pf->alarm_topic,
	    pf->limits.verify_reanchor_pct, pf->limits.env_cell_v,
	    pf->limits.env_temp_max_c, pf->limits.env_stale_ms / 1e3);
	printf("timing (s):");
	for (int i = 0; i < 10; i++)
		printf(" %.*s %g", (int)strlen(tkeys[i].key) - 2, tkeys[i].key,
		    (&t->telemetry_max_age_ms)[i] / 1e3);
	printf("\n");
}

int
conf_check_offline(const char *path, int verbose)
{
	static struct profile pf;	/* large */
	struct credentials c;
	struct stat st;
	char err[PROFILE_ERR_MAX];
	int rc = 0;

	log_setverbose(verbose);	/* -v: the defaults used */
	if (conf_load(path, &pf, err, sizeof(err)) == -1) {
		warnx("%s", err);
		return 78;
	}
	if (cred_load(pf.cred_watchdog, &c, err, sizeof(err)) == -1) {
		warnx("credentials %s", err);
		rc = 78;
	}
	cred_clear(&c);
	if (stat(pf.supervisor_path, &st) == -1 || !mode_ok(&st, true)) {
		warnx("paths.supervisor %s: missing, or a bad owner or mode (want "
		    "an executable of root's or ours, not writable by group or "
		    "others)", pf.supervisor_path);
		rc = 78;
	}
	print(&pf);
	printf("%s\n", rc == 0 ? "profile OK" : "profile NOT OK");
	return rc;
}
