/*
 * The watchdog's profile view (conf.h). libyaml's events are flattened
 * into "dotted.key[n].path = scalar (line)"; the keys we use are looked up
 * there and parsed here, fully consumed and range checked, the rest is
 * never read. Aliases, duplicate keys and keys that would make a path
 * ambiguous are refused. The file is read as a StrictModes daemon reads
 * it: a regular file of root's or ours that nobody else may write
 * (sandbox.c checks the directories above it, as root).
 */
#include <sys/stat.h>

#include <yaml.h>

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
#include "log.h"

#define FILE_MAX	(256 * 1024)
#define KEYS_MAX	1024
#define HELD_PCT	99.0	/* a BMS that has not terminated reads this */

enum kind { K_WORD, K_PATH, K_TOPIC, K_INT, K_NUM, K_SEC };

#define M(m)	offsetof(struct profile, m), sizeof(((struct profile *)0)->m)
/* def: NULL required, "" optional without a default (the full loader's) */
static const struct key {
	const char	*key;
	enum kind	 kind;
	size_t		 off, size;
	double		 min, max;
	const char	*def;
} keys[] = {
	{ "site", K_WORD, M(site), 0, 0, NULL },
	{ "broker.host", K_WORD, M(broker_host), 0, 0, NULL },
	{ "broker.port", K_INT, M(broker_port), 1, 65535, "1883" },
	{ "broker.keepalive_s", K_INT, M(broker_keepalive_s), 5, 3600, "30" },
	{ "broker.tls_ca", K_PATH, M(broker_tls_ca), 0, 0, "" },
	{ "broker.tls_cert", K_PATH, M(broker_tls_cert), 0, 0, "" },
	{ "broker.tls_key", K_PATH, M(broker_tls_key), 0, 0, "" },
	{ "credentials.watchdog", K_PATH, M(cred_watchdog), 0, 0, NULL },
	{ "credentials.supervisor", K_PATH, M(cred_supervisor), 0, 0, NULL },
	{ "paths.state_dir", K_PATH, M(state_dir), 0, 0, NULL },
	{ "paths.audit_log", K_PATH, M(audit_log), 0, 0, NULL },
	{ "paths.supervisor", K_PATH, M(supervisor_path), 0, 0, NULL },
	{ "paths.supervisor_user", K_WORD, M(supervisor_user), 0, 0, NULL },
	{ "bank.packs", K_INT, M(packs), 1, PROFILE_MAX_PACKS, NULL },
	{ "bank.units", K_INT, M(units), 1, PROFILE_MAX_UNITS, NULL },
	{ "control.alarm_topic", K_TOPIC, M(alarm_topic), 0, 0, NULL },
	{ "limits.verify.reanchor_pct", K_NUM, M(limits.verify_reanchor_pct),
	    50, 100, "100" },
	{ "limits.envelope.cell_voltage_max_v", K_NUM, M(limits.env_cell_v),
	    3.0, 4.3, NULL },
	{ "limits.envelope.temperature_max_c", K_NUM,
	    M(limits.env_temp_max_c), 0, 90, "50" },
	{ "limits.envelope.stale_s", K_SEC, M(limits.env_stale_ms), 0.01, 3600,
	    "120" },
#define T(k, m, lo, hi, def) { "timing." #k, K_SEC, M(timing.m), lo, hi, def }
	T(telemetry_max_age_s, telemetry_max_age_ms, 0.01, 3600, "30"),
	T(preflight_wait_s, preflight_wait_ms, 0.01, 86400, "120"),
	T(set_confirm_s, set_confirm_ms, 0.01, 3600, "90"),
	T(run_max_s, run_max_ms, 0.01, 172800, "28800"),
	T(heartbeat_interval_s, heartbeat_interval_ms, 0.01, 60, "1"),
	T(heartbeat_timeout_s, heartbeat_timeout_ms, 0.02, 600, "10"),
	T(revert_confirm_s, revert_confirm_ms, 0.01, 3600, "60"),
	T(revert_retry_s, revert_retry_ms, 0.01, 3600, "15"),
	T(revert_retry_max_s, revert_retry_max_ms, 0.01, 86400, "300"),
	T(progress_interval_s, progress_interval_ms, 0.01, 86400, "60"),
};

static const char *const unit_word[] = { "%", "V", "mV", "A", "C", "F",
	"W", "kW", "flags", "text" };

static struct {
	const char	*path;
	char		*buf, *err, key[128];	/* key: the last get() */
	size_t		 len, errsz;
	int		 n, failed;	/* failed: err holds the first error */
	struct kv { char *key, *val; int line, shown; } kv[KEYS_MAX];
} cf;

FILE *conf_shown;

static struct kv *
find(const char *key)
{
	for (int i = 0; i < cf.n; i++)
		if (strcmp(cf.kv[i].key, key) == 0)
			return &cf.kv[i];
	return NULL;
}

static int
bad(const char *key, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "file:line: key: why" on one line whatever the file held; -1. */
static int
bad(const char *key, const char *fmt, ...)
{
	const struct kv *e = key != NULL ? find(key) : NULL;
	char msg[300];
	va_list ap;

	if (cf.failed++)
		return -1;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)snprintf(cf.err, cf.errsz, "%s%s%.0d: %s%s%s", cf.path,
	    e != NULL ? ":" : "", e != NULL ? e->line : 0, key != NULL ? key :
	    "", key != NULL ? ": " : "", msg);
	for (char *p = cf.err; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -1;
}

/* One scalar, or the start of a collection (val NULL), at path. */
static int
add(const char *path, const char *val, int line)
{
	if (find(path) != NULL)
		return bad(path, "duplicate key");
	if (cf.n == KEYS_MAX || (cf.kv[cf.n].key = strdup(path)) == NULL ||
	    (val != NULL && (cf.kv[cf.n].val = strdup(val)) == NULL))
		return bad(NULL, "too many keys, or out of memory");
	cf.kv[cf.n++].line = line;
	return 0;
}

/*
 * Node n at path, and what is under it. libyaml resolves an alias into a
 * second reference to its anchor's node: a node seen twice is refused.
 */
static int
walk(yaml_document_t *doc, int n, char *path, size_t len, int depth,
    unsigned char *seen)
{
	yaml_node_t *node = yaml_document_get_node(doc, n);
	int line = (int)node->start_mark.line + 1, i = 0;

	if (seen[n - 1]++ || depth > 16)
		return bad(NULL, "line %d: an alias, or nested too deep", line);
	if (node->type == YAML_SCALAR_NODE || len > 0)
		if (add(path, node->type == YAML_SCALAR_NODE ?
		    (char *)node->data.scalar.value : NULL, line) == -1)
			return -1;
	if (node->type == YAML_SEQUENCE_NODE)
		for (yaml_node_item_t *it = node->data.sequence.items.start;
		    it < node->data.sequence.items.top; it++) {
			(void)snprintf(path + len, 256 - len, "[%d]", i++);
			if (walk(doc, *it, path, strlen(path), depth + 1, seen) == -1)
				return -1;
		}
	for (yaml_node_pair_t *p = node->type == YAML_MAPPING_NODE ?
	    node->data.mapping.pairs.start : NULL; p != NULL &&
	    p < node->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		const char *v = (const char *)k->data.scalar.value;

		if (k->type != YAML_SCALAR_NODE || v[0] == '\0' ||
		    v[strcspn(v, ".[]")] != '\0' || strlen(v) + len + 2 > 256)
			return bad(NULL, "line %d: a key must be a word (no '.', "
			    "'[' or ']')", (int)k->start_mark.line + 1);
		(void)snprintf(path + len, 256 - len, "%s%s", len ? "." : "", v);
		if (walk(doc, p->value, path, strlen(path), depth + 1, seen) == -1)
			return -1;
	}
	return 0;
}

/* The first document as dotted paths; its root must be a mapping. */
static int
flatten(void)
{
	yaml_parser_t p;
	yaml_document_t doc;
	yaml_node_t *root;
	unsigned char *seen = NULL;
	char path[256] = "";
	int rc;

	if (!yaml_parser_initialize(&p))
		return bad(NULL, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)cf.buf, cf.len);
	if (!yaml_parser_load(&p, &doc))
		rc = bad(NULL, "line %zu: %s", p.problem_mark.line + 1,
		    p.problem != NULL ? p.problem : "not YAML");
	else {
		if ((root = yaml_document_get_root_node(&doc)) == NULL ||
		    root->type != YAML_MAPPING_NODE)
			rc = bad(NULL, root == NULL ? "no document" : "not a mapping");
		else if ((seen = calloc((size_t)(doc.nodes.top - doc.nodes.start),
		    1)) == NULL)
			rc = bad(NULL, "out of memory");
		else
			rc = walk(&doc, 1, path, 0, 0, seen);
		free(seen);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&p);
	return rc;
}

/* The value of k0.k, NULL if absent; cf.key names it for bad(). */
static const char *
get(const char *k0, const char *k)
{
	struct kv *e;

	(void)snprintf(cf.key, sizeof(cf.key), "%s%s%s", k0,
	    k0[0] != '\0' && k[0] != '\0' ? "." : "", k);
	if ((e = find(cf.key)) != NULL && e->val == NULL)
		(void)bad(cf.key, "a list or a mapping where a value belongs");
	if (conf_shown != NULL && e != NULL && !e->shown++)
		fprintf(conf_shown, "  %s %s\n", cf.key, e->val);
	return e != NULL ? e->val : NULL;
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

/* Parses s as kind into dst; key names it. */
static int
value(const char *key, const char *s, enum kind kind, double min,
    double max, void *dst, size_t size)
{
	const char *why = "not an integer", *d = s + (*s == '-' || *s == '+');
	double v;

	if (kind <= K_TOPIC) {
		if (s[0] == '\0')
			return bad(key, "empty");
		for (const char *p = s; *p != '\0'; p++)
			if (*p < 0x20 || *p > 0x7e)
				return bad(key, "non-printable character");
		if (strlcpy(dst, s, size) >= size)
			return bad(key, "\"%s\": longer than %zu characters", s,
			    size - 1);
		if (kind == K_PATH && s[0] != '/')
			return bad(key, "\"%s\": must be an absolute path", s);
		return 0;
	}
	if (kind == K_INT) {
		if (*d != '\0' && d[strspn(d, "0123456789")] == '\0' &&
		    (d[0] != '0' || d[1] == '\0'))
			*(int *)dst = (int)strtonum(s, (long long)min,
			    (long long)max, &why);
		return why == NULL ? 0 : bad(key, "\"%s\": %s (expected an "
		    "integer in %g..%g)", s, why, min, max);
	}
	if (conf_number(s, kind == K_SEC ? 0 : min, kind == K_SEC ? 1e9 : max,
	    &v, &why) == -1)
		return bad(key, "\"%s\": %s (expected %s in %g..%g)", s, why,
		    kind == K_SEC ? "seconds" : "a number", min, max);
	if (kind == K_NUM)
		*(double *)dst = v;
	else if ((*(int64_t *)dst = (int64_t)round(v * 1000.0)) <
	    (int64_t)(min * 1000) || *(int64_t *)dst > (int64_t)(max * 1000))
		return bad(key, "\"%s\": out of range (expected seconds in "
		    "%g..%g)", s, min, max);
	return 0;
}

/* k0.k as kind: required (def NULL), or def said with -v. */
static int
need(const char *k0, const char *k, enum kind kind, double min, double max,
    const char *def, void *dst, size_t size)
{
	const char *s = get(k0, k);

	if (s == NULL && def == NULL)
		return bad(cf.key, "missing (no default: the site must say)");
	if (s == NULL && def[0] != '\0') {
		log_debug("%s: %s not set: default %s", cf.path, cf.key, def);
		if (conf_shown != NULL)
			fprintf(conf_shown, "  %s %s (default)\n", cf.key, def);
	}
	return s == NULL && def[0] == '\0' ? 0 : value(cf.key, s != NULL ? s :
	    def, kind, min, max, dst, size);
}

/* An exact topic: no wildcards, no empty level, ph ({i}, {u}) once. */
static int
topic(const char *key, const char *s, const char *ph)
{
	const char *hit = ph != NULL ? strstr(s, ph) : NULL;
	size_t braces = 0;

	for (const char *p = s; *p != '\0'; p++)
		braces += (*p == '{' || *p == '}');
	if (strpbrk(s, "+# ") != NULL)
		return bad(key, "\"%s\": wildcards and spaces are not allowed "
		    "in a topic", s);
	if (s[0] == '/' || strstr(s, "//") != NULL || s[strlen(s) - 1] == '/')
		return bad(key, "\"%s\": empty topic level", s);
	if (ph != NULL && (hit == NULL || strstr(hit + 1, ph) != NULL))
		return bad(key, "\"%s\": must contain %s exactly once", s, ph);
	if (braces != (ph != NULL ? 2 : 0))
		return bad(key, "\"%s\": %s", s, ph != NULL ? "stray brace" :
		    "no placeholder allowed here");
	return 0;
}

#define NEED(cond, key, ...) do { \
	if (!(cond)) return bad(key, __VA_ARGS__); } while (0)
#define U(x)	(1u << (x))

/* A telemetry field at k0 in one of the units allowed. */
static int
field(const char *k0, unsigned allowed, const char *ph, struct field_spec *fs)
{
	char k[96];
	const char *s;
	size_t i;
	int sign = 1;
	bool ranged;

	(void)strlcpy(k, k0, sizeof(k));
	if (need(k, "topic", K_TOPIC, 0, 0, NULL, fs->topic,
	    sizeof(fs->topic)) == -1 || topic(cf.key, fs->topic, ph) == -1)
		return -1;
	if ((s = get(k, "unit")) == NULL)
		return bad(cf.key, "missing");
	for (i = 0; i < sizeof(unit_word) / sizeof(unit_word[0]); i++)
		if (strcmp(s, unit_word[i]) == 0 && (allowed & U(i)))
			break;
	NEED(i < sizeof(unit_word) / sizeof(unit_word[0]), cf.key,
	    "\"%s\": not a unit this field can have", s);
	fs->unit = (enum field_unit)i;
	ranged = fs->unit != FU_TEXT;
	NEED(ranged == (get(k, "min") != NULL) && ranged == (get(k, "max") !=
	    NULL), k, ranged ? "needs min and max" : "min and max are only for "
	    "numeric fields");
	if (ranged && (need(k, "min", K_NUM, -1e6, 1e6, NULL, &fs->min, 0) ==
	    -1 || need(k, "max", K_NUM, -1e6, 1e6, NULL, &fs->max, 0) == -1))
		return -1;
	NEED(!ranged || fs->min < fs->max, cf.key, "max must be above min");
	NEED(get(k, "empty_is_zero") == NULL, cf.key, "only for flags fields");
	s = (s = get(k, "format")) != NULL ? s : "text";
	NEED(strcmp(s, "text") == 0 || strcmp(s, "json") == 0, cf.key,
	    "\"%s\": must be text or json", s);
	fs->format = strcmp(s, "json") == 0 ? PL_JSON : PL_TEXT;
	s = get(k, "pointer");
	NEED((fs->format == PL_JSON) == (s != NULL), cf.key, fs->format ==
	    PL_JSON ? "format json needs a JSON pointer (\"/value\")" : "only "
	    "with format json");
	if (s != NULL && value(cf.key, s, K_WORD, 0, 0, fs->pointer,
	    sizeof(fs->pointer)) == -1)
		return -1;
	for (s = s != NULL ? strchr(s, '~') : NULL; s != NULL && (s[1] == '0' ||
	    s[1] == '1'); s = strchr(s + 1, '~'))
		;	/* ~ only as ~0 or ~1 */
	NEED(fs->format == PL_TEXT || (fs->pointer[0] == '/' && s == NULL),
	    cf.key, "\"%s\": not a JSON pointer (\"/a/b\", ~0 and ~1 escapes)",
	    fs->pointer);
	NEED(ranged || (get(k, "scale") == NULL && get(k, "sign") == NULL), cf.key,
	    "scale and sign are only for numeric fields");
	if (need(k, "scale", K_NUM, 1e-6, 1e6, "", &fs->scale, 0) == -1 ||
	    need(k, "sign", K_INT, -1, 1, "", &sign, 0) == -1)
		return -1;
	fs->scale = get(k, "scale") != NULL ? fs->scale : 1;
	fs->sign = get(k, "sign") != NULL ? (int)sign : 1;
	NEED(fs->sign != 0, cf.key, "must be 1 or -1");
	return 0;
}

/* The fields the watchdog reads, the temperature sensors as a list. */
static int
load_fields(struct profile *pf)
{
	static const char *const taken[] = { "soc", "pack_voltage",
	    "pack_current", "cell_voltage_max", "cell_voltage_delta_mv",
	    "protection" };
	static const char *const uf[UF_COUNT] = { "output_source_priority",
	    "charger_source_priority" };
	char k[64];
	const char *s;

	NEED(get("pack_fields", "temperature_pcb") == NULL &&
	    get("pack_fields", "temperature_cell") == NULL, cf.key, "replaced "
	    "by pack_fields.temperatures, a list of 1 to 8 sensors: - { topic, "
	    "unit: C|F, min, max, name }");
	for (int f = 0; f < PF_TEMP; f++) {
		s = f == PF_SOC ? "soc" : "cell_voltage_max";
		(void)snprintf(k, sizeof(k), "pack_fields.%s", s);
		(void)strlcpy(pf->pack_field[f].name, s, 32);
		if (field(k, f == PF_SOC ? U(FU_PERCENT) : U(FU_VOLT) |
		    U(FU_MILLIVOLT), "{i}", &pf->pack_field[f]) == -1)
			return -1;
	}
	for (pf->n_temps = 0; pf->n_temps <= PROFILE_MAX_TEMPS; pf->n_temps++) {
		(void)snprintf(k, sizeof(k), "pack_fields.temperatures[%d]",
		    pf->n_temps);
		if (find(k) == NULL)
			break;
	}
	NEED(pf->n_temps >= 1 && pf->n_temps <= PROFILE_MAX_TEMPS,
	    "pack_fields.temperatures", "%d sensors: a list of 1 to %d ({topic,"
	    " unit: C|F, min, max, name})", pf->n_temps, PROFILE_MAX_TEMPS);
	for (int t = 0; t < pf->n_temps; t++) {
		struct field_spec *fs = &pf->pack_field[PF_TEMP + t];

		(void)snprintf(k, sizeof(k), "pack_fields.temperatures[%d]", t);
		if (field(k, U(FU_CELSIUS) | U(FU_FAHRENHEIT), "{i}", fs) == -1)
			return -1;
		(void)snprintf(fs->name, sizeof(fs->name), "temperature_%d", t + 1);
		if ((s = get(k, "name")) != NULL && value(cf.key, s, K_WORD, 0, 0,
		    fs->name, sizeof(fs->name)) == -1)
			return -1;
		NEED(strspn(fs->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
		    "QRSTUVWXYZ0123456789_-") == strlen(fs->name), cf.key,
		    "\"%s\": letters, digits, _ and - only", fs->name);
		for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++)
			NEED(strcmp(taken[i], fs->name) != 0, cf.key, "\"%s\" names "
			    "another pack field too", fs->name);
		for (int o = 0; o < t; o++)
			NEED(strcmp(pf->pack_field[PF_TEMP + o].name, fs->name) != 0,
			    cf.key, "\"%s\" names another pack field too", fs->name);
	}
	for (int f = 0; f < UF_COUNT; f++) {
		(void)snprintf(k, sizeof(k), "unit_fields.%s", uf[f]);
		(void)strlcpy(pf->unit_field[f].name, uf[f], 32);
		if (field(k, U(FU_TEXT), "{u}", &pf->unit_field[f]) == -1)
			return -1;
	}
	return 0;
}

static int
load_control(struct profile *pf)
{
	static const char *const sub[4] = { "everyday", "calibration",
	    "readback_everyday", "readback_calibration" };
	bool per_unit[SETTING_COUNT];
	char k[64];
	const char *s;

	for (int i = 0; i < SETTING_COUNT; i++) {
		struct control_spec *cs = &pf->control[i];

		(void)snprintf(k, sizeof(k), "control.%s", setting_name(i));
		if (need(k, "topic", K_TOPIC, 0, 0, NULL, cs->topic,
		    sizeof(cs->topic)) == -1 || topic(cf.key, cs->topic,
		    (per_unit[i] = strstr(cs->topic, "{u}") != NULL) ? "{u}" :
		    NULL) == -1)
			return -1;
		for (int w = 0; w < 4; w++)
			if (need(k, sub[w], K_WORD, 0, 0, NULL, w < 2 ?
			    cs->value[w] : cs->readback[w - 2],
			    PROFILE_WORD_MAX) == -1)
				return -1;
		(void)get(k, "calibration");
		NEED(strcmp(cs->value[0], cs->value[1]) != 0, cf.key, "must "
		    "differ from the everyday value");
		s = (s = get(k, "case")) != NULL ? s : "exact";
		NEED(strcmp(s, "exact") == 0 || strcmp(s, "fold") == 0, cf.key,
		    "\"%s\": must be exact or fold", s);
		cs->fold = strcmp(s, "fold") == 0;
		(void)get(k, "readback_calibration");
		NEED((cs->fold ? strcasecmp : strcmp)(cs->readback[0],
		    cs->readback[1]) != 0, cf.key, "must differ from the everyday "
		    "readback%s", cs->fold ? ", ignoring case" : "");
	}
	NEED(strcmp(pf->control[0].topic, pf->control[1].topic) != 0,
	    "control.charger_priority.topic", "must differ from "
	    "control.output_priority.topic");
	/* one unit set apart from the other setting would be fault 86 */
	NEED(per_unit[0] == per_unit[1], "control.charger_priority.topic",
	    "both settings per unit ({u}) or both for the whole cluster, never "
	    "one of each");
	pf->control_per_unit = per_unit[0];
	return 0;
}

/* Relations between the keys; every topic used is distinct. */
static int
check(const struct profile *pf)
{
	static char all[PROFILE_MAX_PACKS * PF_COUNT + PROFILE_MAX_UNITS *
	    (UF_COUNT + SETTING_COUNT) + 1][PROFILE_TOPIC_MAX];
	const struct profile_timing *t = &pf->timing;
	int n = 0;

	NEED((pf->broker_tls_cert[0] == '\0') == (pf->broker_tls_key[0] ==
	    '\0'), "broker.tls_cert", "tls_cert and tls_key go together");
	NEED(pf->broker_tls_cert[0] == '\0' || pf->broker_tls_ca[0] != '\0',
	    "broker.tls_cert", "a client certificate needs broker.tls_ca");
	NEED(strcmp(pf->cred_watchdog, pf->cred_supervisor) != 0,
	    "credentials.supervisor", "must not be the watchdog's file");
	NEED(strcmp(pf->supervisor_user, "root") != 0, "paths.supervisor_user",
	    "the supervisor never runs as root");
	NEED(pf->limits.verify_reanchor_pct > HELD_PCT,
	    "limits.verify.reanchor_pct", "%.1f %% is not a re-anchor: a BMS "
	    "that has not terminated may hold at %.0f %%",
	    pf->limits.verify_reanchor_pct, HELD_PCT);
	NEED(t->heartbeat_timeout_ms >= 2 * t->heartbeat_interval_ms,
	    "timing.heartbeat_timeout_s", "must be at least twice "
	    "timing.heartbeat_interval_s");
	NEED(t->revert_retry_max_ms >= t->revert_retry_ms,
	    "timing.revert_retry_max_s", "must be at least timing.revert_retry_s");
	for (int i = 1; i <= pf->packs; i++)
		for (int f = 0; f < pack_nfields(pf); f++)
			NEED(topic_expand(pf->pack_field[f].topic, i, all[n++],
			    PROFILE_TOPIC_MAX) == 0, "pack_fields", "topic of %s "
			    "too long for pack %d", pf->pack_field[f].name, i);
	for (int u = 1; u <= pf->units; u++) {
		for (int f = 0; f < UF_COUNT; f++)
			NEED(topic_expand(pf->unit_field[f].topic, u, all[n++],
			    PROFILE_TOPIC_MAX) == 0, "unit_fields", "topic of %s "
			    "too long for unit %d", pf->unit_field[f].name, u);
		for (int c = 0; c < SETTING_COUNT && (u == 1 ||
		    pf->control_per_unit); c++)
			NEED(topic_expand(pf->control[c].topic, u, all[n++],
			    PROFILE_TOPIC_MAX) == 0, "control", "topic of %s too "
			    "long for unit %d", setting_name(c), u);
	}
	(void)strlcpy(all[n++], pf->alarm_topic, PROFILE_TOPIC_MAX);
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			NEED(strcmp(all[i], all[j]) != 0, NULL, "topic \"%s\" is "
			    "used twice", all[i]);
	return 0;
}

/* StrictModes: a file anyone else may write could say anything. */
static bool
mode_ok(const struct stat *st)
{
	return S_ISREG(st->st_mode) && (st->st_mode & (S_IWGRP | S_IWOTH)) ==
	    0 && (st->st_uid == 0 || st->st_uid == geteuid());
}

static int
read_file(void)
{
	struct stat st;
	ssize_t n = -1;
	int fd;

	if ((fd = open(cf.path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1 ||
	    fstat(fd, &st) == -1) {
		(void)bad(NULL, "%s", strerror(errno));
		if (fd != -1)
			(void)close(fd);
		return -1;
	}
	if (mode_ok(&st) && st.st_size > 0 && st.st_size <= FILE_MAX &&
	    (cf.buf = malloc((size_t)st.st_size + 1)) != NULL)
		n = read(fd, cf.buf, (size_t)st.st_size);
	(void)close(fd);
	if (!mode_ok(&st))
		return bad(NULL, "bad owner or mode (uid %u, mode %03o; want a "
		    "regular file of root's or ours, not writable by group or "
		    "others)", (unsigned)st.st_uid, (unsigned)st.st_mode & 0777);
	if (n != st.st_size || n == 0)
		return bad(NULL, "empty, over %d bytes, or unreadable", FILE_MAX);
	cf.buf[n] = '\0';
	cf.len = (size_t)n;
	return memchr(cf.buf, '\0', cf.len) == NULL ? 0 :
	    bad(NULL, "contains a NUL byte");
}

int
conf_load(const char *path, struct profile *pf, char *err, size_t errsz)
{
	int rc = -1;

	memset(pf, 0, sizeof(*pf));
	memset(&cf, 0, sizeof(cf));
	cf.path = path;
	cf.err = err;
	cf.errsz = errsz;
	if (read_file() == 0 && flatten() == 0) {
		rc = 0;
		for (size_t i = 0; rc == 0 && i < sizeof(keys) / sizeof(keys[0]);
		    i++)
			rc = need("", keys[i].key, keys[i].kind, keys[i].min,
			    keys[i].max, keys[i].def, (char *)pf + keys[i].off,
			    keys[i].size);
		if (rc == 0 && (topic("control.alarm_topic", pf->alarm_topic,
		    NULL) == -1 || load_fields(pf) == -1 ||
		    load_control(pf) == -1 || check(pf) == -1 || cf.failed))
			rc = -1;
	}
	if (rc == 0) {
		(void)strlcpy(pf->path, path, sizeof(pf->path));
		/* the digest covers exactly the bytes that were parsed */
		SHA256Data((const uint8_t *)cf.buf, cf.len, pf->digest_hex);
		for (int i = 0; i < PROFILE_DIGEST_LEN; i++)
			(void)sscanf(pf->digest_hex + 2 * i, "%2hhx",
			    &pf->digest[i]);
	}
	for (int i = 0; i < cf.n; i++) {
		free(cf.kv[i].key);
		free(cf.kv[i].val);
	}
	free(cf.buf);
	memset(&cf, 0, sizeof(cf));
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

/*
 * -n, as sshd -t, is gridcal-watchdog-check (check.c), a program of its
 * own installed beside this one: what the check opens and prints is no
 * part of the privileged binary. It runs under our name.
 */
int
conf_check_offline(const char *path, int verbose)
{
	char self[PATH_MAX], *dir = NULL;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self));
	size_t left;

	if (n > 0 && n < (ssize_t)sizeof(self))
		dir = memrchr(self, '/', (size_t)n);
	left = dir != NULL ? sizeof(self) - (size_t)(dir + 1 - self) : 0;
	if (dir == NULL || strlcpy(dir + 1, CONF_CHECK_PROG, left) >= left)
		errx(78, "/proc/self/exe: cannot find " CONF_CHECK_PROG);
	(void)execl(self, getprogname(), "-p", path, verbose > 0 ? "-v" : NULL,
	    (char *)NULL);
	err(78, "%s", self);
}
