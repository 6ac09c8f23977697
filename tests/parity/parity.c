/*
 * The parity test: the watchdog's profile view and telemetry intake
 * (watchdog/conf.c, intake.c) against the supervisor's full loader and
 * store (shared/profile.c, telemetry.c), which they must not drift from.
 *
 *  1. Every shipped profile (profiles/NAME.yaml), the test profile
 *     (profiles/sim.yaml.in as the harness renders it) alone and with the
 *     overrides of every fault scenario (tests/faults/NAME.fault), and the
 *     reference profile without its optional keys: loaded by both, every
 *     value the watchdog uses equal (dump.h).
 *  2. Malformed values of every key the watchdog uses: refused by both.
 *  3. The same telemetry to both stores (a corpus of good and bad text and
 *     JSON payloads, retained messages, time passing, then generated
 *     payloads): the same verdict, status and value after every message.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/harness/harness.h"
#include "side.h"

#define DUMP_MAX	8192
#define KV_MAX		16

static int npass, nfail;
static char dir[] = "/tmp/gridcal-parity.XXXXXX";

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
fail(const char *fmt, ...)
{
	va_list ap;

	nfail++;
	fprintf(stderr, "FAIL ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The first line where two dumps differ. */
static void
diff(const char *what, const char *a, const char *b)
{
	char la[512], lb[512];

	while (*a != '\0' || *b != '\0') {
		size_t na = strcspn(a, "\n"), nb = strcspn(b, "\n");

		(void)snprintf(la, sizeof(la), "%.*s", (int)na, a);
		(void)snprintf(lb, sizeof(lb), "%.*s", (int)nb, b);
		if (strcmp(la, lb) != 0) {
			fprintf(stderr, "  %s: full:  %s\n  %s: watchdog: %s\n",
			    what, la, what, lb);
			return;
		}
		a += na + (a[na] != '\0');
		b += nb + (b[nb] != '\0');
	}
}

static const char *
write_tmp(const char *name, const char *text)
{
	static char path[512];

	(void)snprintf(path, sizeof(path), "%s/%s.yaml", dir, name);
	if (harness_write_file(path, text, 0644) == -1) {
		perror(path);
		exit(1);
	}
	return path;
}

/* Both load path and agree on every value: 1; both refuse it: 0. */
static int
both(const char *what, const char *path, int want_ok)
{
	static char df[DUMP_MAX], dv[DUMP_MAX];
	char ef[512], ev[512];
	int rf = full_load(path, df, sizeof(df), ef, sizeof(ef));
	int rv = view_load(path, dv, sizeof(dv), ev, sizeof(ev));

	if (rf != rv || (want_ok != -1 && (rf == 0) != want_ok)) {
		fail("%s: the full loader and the watchdog's disagree (want %s)",
		    what, want_ok == 1 ? "accepted" : want_ok == 0 ? "refused" :
		    "the same");
		fprintf(stderr, "  full: %s\n  watchdog: %s\n", rf == 0 ?
		    "accepted" : ef, rv == 0 ? "accepted" : ev);
		return -1;
	}
	if (rf == 0 && strcmp(df, dv) != 0) {
		fail("%s: %s", what, "a value the watchdog uses differs");
		diff(what, df, dv);
		return -1;
	}
	npass++;
	return rf == 0;
}

static char *
render(const char *tmpl, const struct hprofile_kv *kv, size_t n)
{
	struct hbroker b = { .port = 18830 };
	char err[512], *out;

	(void)snprintf(b.workdir, sizeof(b.workdir), "%s/site", dir);
	if (hprofile_render(tmpl, &b, kv, n, &out, err, sizeof(err)) == -1)
		return NULL;
	return out;
}

/* The "profile KEY VALUE" lines of a fault scenario, VALUE unquoted. */
static size_t
fault_overrides(const char *text, struct hprofile_kv *kv, char buf[][1024])
{
	size_t n = 0;

	for (const char *l = text; l != NULL && *l != '\0' && n < KV_MAX;
	    l = strchr(l, '\n') != NULL ? strchr(l, '\n') + 1 : NULL) {
		char key[128], *v = buf[n], *e;

		if (strncmp(l, "profile", 7) != 0 || (l[7] != ' ' && l[7] != '\t') ||
		    sscanf(l + 7, " %127s", key) != 1)
			continue;
		l = strstr(l, key) + strlen(key);
		l += strspn(l, " \t");
		if (*l == '"') {
			for (l++, e = v; *l != '\0' && *l != '"' &&
			    e < v + 1023; l++)
				*e++ = *l == '\\' && l[1] != '\0' ? *++l : *l;
			*e = '\0';
		} else
			(void)snprintf(v, 1024, "%.*s", (int)strcspn(l, "\n"), l);
		kv[n].key = strdup(key);
		kv[n++].value = v;
	}
	return n;
}

/* 1: every profile a site or a test uses, loaded by both. */
static void
good_profiles(const char *root, const char *sim, char paths[][1200],
    int *npaths)
{
	static char buf[KV_MAX][1024];
	struct hprofile_kv kv[KV_MAX];
	char path[900], *text, *r;
	struct dirent *de;
	DIR *d;

	(void)snprintf(path, sizeof(path), "%s/profiles", root);
	if ((d = opendir(path)) == NULL) {
		perror(path);
		exit(1);
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);

		if (n < 6 || strcmp(de->d_name + n - 5, ".yaml") != 0)
			continue;
		(void)snprintf(paths[*npaths], 1200, "%s/%s", path, de->d_name);
		if (both(de->d_name, paths[*npaths], 1) == 1)
			(*npaths)++;
	}
	(void)closedir(d);
	if ((r = render(sim, NULL, 0)) == NULL)
		fail("%s%s: does not render", "profiles/sim.yaml.in", "");
	else if (both("sim.yaml.in", strcpy(paths[*npaths], write_tmp("sim",
	    r)), 1) == 1)
		(*npaths)++;
	free(r);
	(void)snprintf(path, sizeof(path), "%s/tests/faults", root);
	if ((d = opendir(path)) == NULL) {
		perror(path);
		exit(1);
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name), k;
		char fpath[1200];

		if (n < 7 || strcmp(de->d_name + n - 6, ".fault") != 0)
			continue;
		(void)snprintf(fpath, sizeof(fpath), "%s/%s", path, de->d_name);
		if ((text = harness_read_file(fpath, NULL)) == NULL ||
		    (k = fault_overrides(text, kv, buf)) == 0) {
			free(text);
			continue;
		}
		if ((r = render(sim, kv, k)) == NULL)
			fail("%s: its profile overrides do not render%s",
			    de->d_name, "");
		else if (both(de->d_name, strcpy(paths[*npaths],
		    write_tmp(de->d_name, r)), 1) == 1 && *npaths < 63)
			(*npaths)++;
		for (size_t i = 0; i < k; i++)
			free((char *)kv[i].key);
		free(r);
		free(text);
	}
	(void)closedir(d);
}

/* The reference profile without the keys that have defaults. */
static void
defaults(const char *root)
{
	static const char *const drop[] = { "  port: 1883\n",
	    "  keepalive_s: 30\n", "    reanchor_pct: 100\n",
	    "    temperature_max_c: 50\n", "    stale_s: 120\n" };
	char path[1024], *text, *p, *t;

	(void)snprintf(path, sizeof(path), "%s/profiles/eg4-lp4-v2.yaml", root);
	if ((text = harness_read_file(path, NULL)) == NULL) {
		perror(path);
		exit(1);
	}
	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		if ((p = strstr(text, drop[i])) != NULL)
			memmove(p, p + strlen(drop[i]), strlen(p + strlen(drop[i])) +
			    1);
	if ((t = strstr(text, "\ntiming:\n")) != NULL)
		t[1] = '\0';	/* the last section */
	(void)both("eg4-lp4-v2.yaml without its optional keys",
	    write_tmp("defaults", text), 1);
	free(text);
}

/* 2: a malformed value of each key the watchdog uses, refused by both. */
static void
malformed(const char *sim)
{
	static const char *const num[] = { "12abc", "nan", ".nan", "inf",
	    "1e999", "0x10", "010", "''", "' 5'", "[1]", "{a: 1}", "999999999",
	    "-999999999", "1.5.2", "5e", "--1" };
	static const char *const word[] = { "''", "\"a\\tb\"", "[a]", "{a: b}",
	    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'"
	};
	static const char *const path[] = { "relative/path", "''", "[a]" };
	static const char *const topic[] = { "a/+/b", "a/#", "a//b", "/a",
	    "a/", "'a b'", "'a/{i}/{i}'", "'a/{u}/{u}'", "'a/{x}'", "'a}'", "''",
	    "[a]" };
	static const struct { const char *key; const char *const *bad;
	    size_t n; } keys[] = {
#define K(k, set) { k, set, sizeof(set) / sizeof(set[0]) }
		K("site", word), K("broker.host", word), K("broker.port", num),
		K("broker.keepalive_s", num), K("credentials.watchdog", path),
		K("credentials.supervisor", path), K("paths.state_dir", path),
		K("paths.audit_log", path), K("paths.supervisor", path),
		K("paths.supervisor_user", word), K("bank.packs", num),
		K("bank.units", num), K("control.alarm_topic", topic),
		K("limits.verify.reanchor_pct", num),
		K("limits.envelope.cell_voltage_max_v", num),
		K("limits.envelope.temperature_max_c", num),
		K("limits.envelope.stale_s", num),
		K("timing.telemetry_max_age_s", num),
		K("timing.preflight_wait_s", num),
		K("timing.set_confirm_s", num), K("timing.run_max_s", num),
		K("timing.heartbeat_interval_s", num),
		K("timing.heartbeat_timeout_s", num),
		K("timing.revert_confirm_s", num),
		K("timing.revert_retry_s", num),
		K("timing.revert_retry_max_s", num),
		K("timing.progress_interval_s", num),
		K("pack_fields.soc.topic", topic), K("pack_fields.soc.min", num),
		K("pack_fields.soc.max", num),
		K("pack_fields.cell_voltage_max.topic", topic),
		K("pack_fields.cell_voltage_max.min", num),
		K("pack_fields.cell_voltage_max.max", num),
		K("unit_fields.output_source_priority.topic", topic),
		K("unit_fields.charger_source_priority.topic", topic),
		K("control.output_priority.topic", topic),
		K("control.charger_priority.topic", topic),
		K("control.output_priority.everyday", word),
		K("control.output_priority.calibration", word),
		K("control.output_priority.readback_everyday", word),
		K("control.output_priority.readback_calibration", word),
		K("control.charger_priority.everyday", word),
		K("control.charger_priority.readback_calibration", word),
	};
	/* relations between the watchdog's keys, and field specs */
	static const struct hprofile_kv rel[][2] = {
		{ { "timing.heartbeat_interval_s", "1" },
		    { "timing.heartbeat_timeout_s", "1.5" } },
		{ { "timing.revert_retry_s", "10" },
		    { "timing.revert_retry_max_s", "5" } },
		{ { "limits.verify.reanchor_pct", "99" }, { NULL, NULL } },
		{ { "pack_fields.soc.min", "100" }, { NULL, NULL } },
		{ { "pack_fields.soc.unit", "V" }, { NULL, NULL } },
		{ { "pack_fields.cell_voltage_max.unit", "C" }, { NULL, NULL } },
		{ { "unit_fields.output_source_priority.unit", "W" },
		    { NULL, NULL } },
		{ { "control.output_priority.calibration", "SBU" },
		    { "control.output_priority.everyday", "SBU" } },
		{ { "control.output_priority.readback_everyday", "X" },
		    { "control.output_priority.readback_calibration", "X" } },
		{ { "control.output_priority.topic", "a/b" },
		    { "control.charger_priority.topic", "a/b" } },
		{ { "control.output_priority.topic", "a/{u}/set" },
		    { NULL, NULL } },
		{ { "control.alarm_topic", "a/b" },
		    { "control.charger_priority.topic", "a/b" } },
		{ { "credentials.supervisor", "/w.cred" },
		    { "credentials.watchdog", "/w.cred" } },
		{ { "paths.supervisor_user", "root" }, { NULL, NULL } },
		{ { "site", "&a eg4" }, { "broker.host", "*a" } },
		{ { "broker.host", "&a localhost" }, { "site", "*a" } },
		{ { "pack_fields.temperatures", "&t [{topic: t/{i}, unit: C, min: 0,"
		    " max: 9}]" }, { "control.alarm_topic", "*t" } },
		{ { "pack_fields.temperatures", "[]" }, { NULL, NULL } },
		{ { "pack_fields.temperatures", "[{topic: t/{i}, unit: K, min: 0,"
		    " max: 9}]" }, { NULL, NULL } },
		{ { "pack_fields.temperatures", "[{topic: t/{i}, unit: C, min: 0,"
		    " max: 9, name: soc}]" }, { NULL, NULL } },
		{ { "pack_fields.temperatures", "[{topic: t/{i}, unit: C, min: 0,"
		    " max: 9, format: json}]" }, { NULL, NULL } },
		{ { "pack_fields.temperatures", "[{topic: t/{i}, unit: C, min: 0,"
		    " max: 9, format: json, pointer: v}]" }, { NULL, NULL } },
		{ { "pack_fields.temperatures", "[{topic: t/{i}, unit: C, min: 0,"
		    " max: 9, format: json, pointer: /a~2}]" }, { NULL, NULL } },
		{ { "pack_fields.temperatures", "[{topic: t/{i}, unit: C, min: 0,"
		    " max: 9, sign: 0}]" }, { NULL, NULL } },
		{ { "pack_fields.temperatures", "[{topic: t/{i}, unit: C, min: 0,"
		    " max: 9, scale: 0}]" }, { NULL, NULL } },
		{ { "pack_fields.temperatures", "[{topic: t/{i}, unit: C, min: 0,"
		    " max: 9, pointer: /v}]" }, { NULL, NULL } },
		{ { "pack_fields.temperatures", "[{topic: t/{i}, unit: C, min: 0,"
		    " max: 9}, {topic: t/{i}, unit: C, min: 0, max: 9}]" },
		    { NULL, NULL } },
		{ { "pack_fields.temperatures", "[{topic: t, unit: C, min: 0,"
		    " max: 9}]" }, { NULL, NULL } },
	};
	char what[256], *r;
	int refused = 0;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		for (size_t j = 0; j < keys[i].n; j++) {
			struct hprofile_kv kv = { keys[i].key, keys[i].bad[j] };

			if ((r = render(sim, &kv, 1)) == NULL) {
				fail("%s: not in the test profile (%s)", keys[i].key,
				    keys[i].bad[j]);
				continue;
			}
			(void)snprintf(what, sizeof(what), "%s: %.40s", keys[i].key,
			    keys[i].bad[j]);
			refused += both(what, write_tmp("bad", r), 0) == 0;
			free(r);
		}
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		if ((r = render(sim, rel[i], rel[i][1].key != NULL ? 2 : 1)) ==
		    NULL) {
			fail("%s: does not render (%s)", rel[i][0].key,
			    rel[i][0].value);
			continue;
		}
		(void)snprintf(what, sizeof(what), "%s: %.60s", rel[i][0].key,
		    rel[i][0].value);
		refused += both(what, write_tmp("bad", r), 0) == 0;
		free(r);
	}
	printf("parity: %d malformed profiles refused by both\n", refused);
}

/* 3: one message to both stores, then both stores read back. */
static void
one(const char *profile, int f, const char *p, size_t len, int retained,
    int64_t now)
{
	struct side_value a, b;
	int rf = full_ingest(f, p, len, retained, now);
	int rv = view_ingest(f, p, len, retained, now);

	full_value(f, now, &a);
	view_value(f, now, &b);
	if (rf != rv || a.status != b.status || memcmp(&a.num, &b.num,
	    sizeof(a.num)) != 0 || strcmp(a.text, b.text) != 0 ||
	    a.unknown_for != b.unknown_for) {
		char msg[640];

		(void)snprintf(msg, sizeof(msg), "field %d payload \"%.*s\"%s: "
		    "full %d/%d/%a/%s/%lld, watchdog %d/%d/%a/%s/%lld", f,
		    (int)(len > 80 ? 80 : len), p, retained ? " (retained)" : "",
		    rf, a.status, a.num, a.text, (long long)a.unknown_for, rv,
		    b.status, b.num, b.text, (long long)b.unknown_for);
		fail("%s: %s", profile, msg);
	} else
		npass++;
}

static uint32_t
lcg(void)
{
	static uint32_t x = 0x9e3779b9;

	x = x * 1664525u + 1013904223u;
	return x >> 8;
}

static void
telemetry(const char *path)
{
	static const char *const corpus[] = {
		"3.4", "3.40", "3400", "55", "-3.4", "+3.4", "12abc", "nan", "inf",
		"-inf", "", " 3.4", "3.4 ", "0x10", "1e3", "1e-3", "-0", "010",
		"0.5", ".5", "3.", "1e999", "1e-999", "unknown", "None", "N/A",
		"unavailable", "Solar first", "SOLAR FIRST", "Utility first",
		"Solar/Battery/Utility", "SBU", "sbu", "\"3.4\"", "3.4\n",
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		"{\"value\": 3.4}", "{\"value\":\"3.4\"}", "{\"value\":null}",
		"{\"value\":3.4,\"value\":3.5}", "{\"value\": 3.4}x", "[3.4]",
		"{\"a\":{\"value\":1}}", "{\"value\": 3.4", "{\"v\\u0061lue\": 1}",
		"{\"value\":\"Solar first\"}", "{\"value\":true}",
		"{\"value\":[1]}", "{\"value\":1e400}", "{\"value\":\"3.4 \"}",
		"{\"value\":\"\\u0033\"}", "{\"value\":\"a\\nb\"}",
		"{\"value\":\"SBU\"}", "{\"value\":\"sbu\"}", "{\"value\":01}",
		"{\"value\":-}", "{\"value\":1.}", "{\"value\":1.5e+2}",
		"{ \"x\": [1, {\"y\": 2}], \"value\" : 25 }", "{\"value\":25,}",
		"{\"value\" 25}", "{,}", "{}", "[]", "null", "\"SBU\"",
		"{\"value\":\"\\\"SBU\\\"\"}", "{\"val\\\"ue\":1}",
		"[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]", "{\"value\":\"\\x\"}",
		"{\"value\":\"\\/\"}", "\t{\"value\":3.4}\r\n", "{\"value\":0}",
		"{\"value\":-0.0}", "{\"value\":1E2}", "{\"value\":\"1E2\"}",
	};
	static const char alpha[] = "0123456789.-+eE \"{}[]:,/\\ntrufalsvxu~SB";
	char p[96];
	int64_t now = 1000;

	for (int f = 0; f < full_nfields(); f++) {
		one(path, f, "3.4", 3, 1, now += 10);	/* retained: not fresh */
		for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
			one(path, f, corpus[i], strlen(corpus[i]), 0, now += 10);
			if (i % 7 == 0)		/* the value ages */
				now += 40000;
			if (i % 11 == 0)
				one(path, f, corpus[i], strlen(corpus[i]), 1,
				    now += 5);
		}
		for (int i = 0; i < 3000; i++) {
			size_t n = lcg() % 40;

			if (i % 2 == 0) {	/* a corpus entry, mutated */
				const char *c = corpus[lcg() % (sizeof(corpus) /
				    sizeof(corpus[0]))];
				n = strlen(c) < sizeof(p) - 1 ? strlen(c) : 0;
				memcpy(p, c, n);
				if (n > 0)
					p[lcg() % n] = alpha[lcg() % (sizeof(alpha) -
					    1)];
			} else
				for (size_t k = 0; k < n; k++)
					p[k] = alpha[lcg() % (sizeof(alpha) - 1)];
			one(path, f, p, n, lcg() % 50 == 0, now += lcg() % 3000);
		}
	}
}

int
main(void)
{
	char paths[64][1200], path[1024], *sim, *root;
	int n = 0;

	(void)setenv("GRIDCAL_SUPERVISOR_USER", "gridcal", 0);
	root = getenv("GRIDCAL_ROOT") != NULL ? getenv("GRIDCAL_ROOT") : ".";
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		return 1;
	}
	(void)snprintf(path, sizeof(path), "%s/profiles/sim.yaml.in", root);
	if ((sim = harness_read_file(path, NULL)) == NULL) {
		perror(path);
		return 1;
	}
	good_profiles(root, sim, paths, &n);
	defaults(root);
	printf("parity: %d profiles, every value the watchdog uses equal\n", n);
	malformed(sim);
	for (int i = 0; i < n; i++) {
		char df[DUMP_MAX], err[512];

		if (full_load(paths[i], df, sizeof(df), err, sizeof(err)) == -1 ||
		    view_load(paths[i], df, sizeof(df), err, sizeof(err)) == -1)
			continue;
		telemetry(paths[i]);
	}
	free(sim);
	(void)snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		fprintf(stderr, "parity: %s failed\n", path);
	printf("parity: %d checks passed, %d failed\n", npass, nfail);
	return nfail == 0 ? 0 : 1;
}
