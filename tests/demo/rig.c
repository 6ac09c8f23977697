/*
 * The simulated site (see rig.h). Failures print one line on stderr and
 * return -1; the harness kills every process and removes every work
 * directory at exit.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profile.h"
#include "rig.h"

static int
fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)fputs("rig: ", stderr);
	(void)vfprintf(stderr, fmt, ap);
	(void)fputc('\n', stderr);
	va_end(ap);
	return -1;
}

/* dir/name into buf; -1 if it does not fit. */
static int
join(char *buf, size_t bufsz, const char *dir, const char *name)
{
	int n = snprintf(buf, bufsz, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= bufsz ? fail("path too long: %s/%s", dir,
	    name) : 0;
}

int
rig_scenario(struct rig *r, const char *base, const char *const *from,
    const char *const *to, size_t n, char *out, size_t outsz)
{
	char rel[PATH_MAX], src[PATH_MAX];
	char *text, *p;
	size_t len;
	int w;

	(void)snprintf(rel, sizeof(rel), "tests/scenarios/%s", base);
	if (harness_path(src, sizeof(src), rel) == -1 ||
	    (text = harness_read_file(src, &len)) == NULL)
		return fail("scenario %s: cannot read", base);
	for (size_t i = 0; i < n; i++) {
		size_t fl = strlen(from[i]), tl = strlen(to[i]), cur;
		char *nt;

		if ((p = strstr(text, from[i])) == NULL) {
			free(text);
			return fail("scenario %s: no \"%s\" to replace", base,
			    from[i]);
		}
		cur = strlen(text);
		if ((nt = malloc(cur - fl + tl + 1)) == NULL) {
			free(text);
			return fail("out of memory");
		}
		memcpy(nt, text, (size_t)(p - text));
		memcpy(nt + (p - text), to[i], tl);
		memcpy(nt + (p - text) + tl, p + fl, cur - (size_t)(p - text) -
		    fl + 1);
		free(text);
		text = nt;
	}
	w = snprintf(out, outsz, "%s/scenario-%s", r->workdir, base);
	if (w < 0 || (size_t)w >= outsz ||
	    harness_write_file(out, text, 0644) == -1) {
		free(text);
		return fail("cannot write %s", out);
	}
	free(text);
	return 0;
}

/*
 * The heartbeat timeout of the test profile (1 s) is a timing target, and
 * timing belongs to `make bench`: on a loaded machine a process can be
 * off the CPU for longer. Runs here use a wider one unless a caller sets
 * its own; heartbeat loss itself is the watchdog's and the fault suite's
 * to test.
 */
#define HB_KEY		"timing.heartbeat_timeout_s"
#define HB_TIMEOUT_S	"5"

int
rig_start(struct rig *r, const char *tag, const char *scenario,
    const struct hprofile_kv *ov, size_t nov, const struct hplant_opts *po)
{
	struct hprofile_kv all[16];
	char err[512];
	size_t n = 0;
	bool hb = true;

	if (r->workdir[0] == '\0' &&
	    harness_workdir(r->workdir, sizeof(r->workdir), tag) == -1)
		return fail("work directory");
	if (hbroker_start(&r->br, r->workdir) == -1)
		return fail("broker did not start");
	if (nov + 1 > sizeof(all) / sizeof(all[0]))
		return fail("too many profile overrides");
	for (size_t i = 0; i < nov; i++) {
		all[n++] = ov[i];
		if (strcmp(ov[i].key, HB_KEY) == 0)
			hb = false;
	}
	if (hb)
		all[n++] = (struct hprofile_kv){ HB_KEY, HB_TIMEOUT_S };
	if (hprofile_write(&r->br, r->profile, sizeof(r->profile), all, n,
	    err, sizeof(err)) == -1)
		return fail("profile: %s", err);
	/* hprofile_write gave the supervisor its credentials (0640) */
	if (join(r->audit_log, sizeof(r->audit_log), r->workdir,
	    "audit.jsonl") == -1 ||
	    join(r->state_dir, sizeof(r->state_dir), r->workdir, "state") == -1 ||
	    join(r->wd_out, sizeof(r->wd_out), r->workdir, "watchdog.out") == -1 ||
	    join(r->wd_err, sizeof(r->wd_err), r->workdir, "watchdog.err") == -1)
		return -1;
	if (mkdir(r->state_dir, 0700) == -1 && errno != EEXIST)
		return fail("mkdir %s: %s", r->state_dir, strerror(errno));
	if ((r->obs = hobs_start(&r->br, 5000)) == NULL)
		return fail("observer did not connect");
	if (hplant_start(&r->plant, &r->br, r->profile, scenario, po) == -1)
		return fail("plant did not start");
	r->plant_up = true;
	if (hplant_wait_ready(r->obs, 10000) == -1)
		return fail("no plant truth within 10 s");
	(void)strlcpy(r->scenario, scenario, sizeof(r->scenario));
	{	/* the site's bank: the reference one, or PROFILE='s */
		static struct profile pf;

		if (profile_load(r->profile, &pf, err, sizeof(err)) == -1)
			return fail("%s", err);
		r->packs = pf.packs;
		r->units = pf.units;
	}
	return 0;
}

int
rig_watchdog(struct rig *r, const char *method, bool confirm, bool show)
{
	char bin[PATH_MAX];
	char *argv[] = { bin, (char *)"--profile", r->profile, (char *)"calibrate",
	    (char *)"--method", (char *)method, confirm ? (char *)"--confirm" :
	    NULL, NULL };

	if (r->wd_bin[0] != '\0')
		(void)strlcpy(bin, r->wd_bin, sizeof(bin));
	else if (harness_path(bin, sizeof(bin), "build/gridcal-watchdog") == -1)
		return -1;
	if (hproc_spawn(&r->wd, argv, NULL, show ? NULL : r->wd_out,
	    show ? NULL : r->wd_err) == -1)
		return fail("gridcal-watchdog did not start");
	r->wd_up = true;
	return 0;
}

int
rig_watchdog_wait(struct rig *r, int64_t timeout_ms)
{
	if (hproc_wait(&r->wd, timeout_ms) == -1) {
		(void)fail("gridcal-watchdog still running after %lld ms",
		    (long long)timeout_ms);
		return -1;
	}
	r->wd_up = false;
	return hproc_exit_code(&r->wd);
}

int
rig_audit_verify(struct rig *r, bool show)
{
	char bin[PATH_MAX];
	char *argv[] = { bin, (char *)"verify", r->audit_log,
	    (char *)"--state-dir", r->state_dir, NULL };
	struct hproc p;
	char out[PATH_MAX];

	if (harness_path(bin, sizeof(bin), "build/gridcal-audit") == -1)
		return -1;
	if (join(out, sizeof(out), r->workdir, "verify.out") == -1)
		return -1;
	if (hproc_spawn(&p, argv, NULL, show ? NULL : out,
	    show ? NULL : out) == -1 || hproc_wait(&p, 20000) == -1)
		return fail("gridcal-audit verify did not finish");
	return hproc_exit_code(&p) == 0 ? 0 : -1;
}

int
rig_audit_verify_sealed(struct rig *r, const char *vk, bool show)
{
	char bin[PATH_MAX], seals[PATH_MAX], out[PATH_MAX];
	char *argv[] = { bin, (char *)"verify", r->audit_log,
	    (char *)"--state-dir", r->state_dir, (char *)"--key", (char *)vk,
	    (char *)"--seal-from", seals, NULL };
	struct hobs_msg m;
	struct hproc p;
	FILE *fp;
	size_t n = hobs_log_count(r->obs, SEAL_TOPIC);

	if (harness_path(bin, sizeof(bin), "build/gridcal-audit") == -1 ||
	    join(seals, sizeof(seals), r->workdir, "seals.txt") == -1 ||
	    join(out, sizeof(out), r->workdir, "verify.out") == -1)
		return -1;
	/* what an observer kept of the retained seal topic */
	if ((fp = fopen(seals, "w")) == NULL)
		return fail("%s: %s", seals, strerror(errno));
	for (size_t i = 0; i < n; i++)
		if (hobs_log_get(r->obs, SEAL_TOPIC, i, &m) == 0)
			(void)fprintf(fp, "%.*s\n", (int)m.len, m.payload);
	if (fclose(fp) != 0)
		return fail("%s: %s", seals, strerror(errno));
	if (n == 0)
		return fail("no seal was published on %s", SEAL_TOPIC);
	if (hproc_spawn(&p, argv, NULL, show ? NULL : out,
	    show ? NULL : out) == -1 || hproc_wait(&p, 20000) == -1)
		return fail("gridcal-audit verify did not finish");
	return hproc_exit_code(&p);
}

int
rig_make_seal_key(struct rig *r, char vk[SEALVK_TEXT])
{
	if (sealvk_keygen(r->state_dir, vk) != 0)
		return fail("%s: sealing key: %s", r->state_dir,
		    strerror(errno));
	return 0;
}

int
rig_audit_report(struct rig *r)
{
	char bin[PATH_MAX];
	char *argv[] = { bin, (char *)"--profile", r->profile,
	    (char *)"report", r->audit_log, NULL };

	if (harness_path(bin, sizeof(bin), "build/gridcal-audit") == -1)
		return -1;
	return hproc_run(argv, 20000) == 0 ? 0 : -1;
}

bool
rig_truth_everyday(struct rig *r)
{
	static struct profile pf;	/* the site's everyday values */
	char err[PROFILE_ERR_MAX], path[64], got[PROFILE_WORD_MAX];

	if (profile_load(r->profile, &pf, err, sizeof(err)) == -1) {
		(void)fail("%s", err);
		return false;
	}
	for (int u = 0; u < r->units; u++)
		for (int s = 0; s < SETTING_COUNT; s++) {
			(void)snprintf(path, sizeof(path), "units[%d].%s", u,
			    setting_name(s));
			if (hobs_truth_str(r->obs, path, got, sizeof(got)) == -1 ||
			    strcmp(got, pf.control[s].value[VALUE_EVERYDAY]) != 0)
				return false;
		}
	return true;
}

bool
rig_truth_soc_at_least(struct rig *r, double min)
{
	char path[64];
	double v;

	for (int p = 0; p < r->packs; p++) {
		(void)snprintf(path, sizeof(path), "packs[%d].bms_soc", p);
		if (hobs_truth_num(r->obs, path, &v) == -1 || v < min)
			return false;
	}
	return true;
}

size_t
rig_control_count(struct rig *r)
{
	return hobs_log_count(r->obs, "solar/control/");
}

bool
rig_audit_has(struct rig *r, const char *event, const char *needle)
{
	char key[96], *text, *line, *nl;
	bool found = false;
	size_t len;

	if ((text = harness_read_file(r->audit_log, &len)) == NULL)
		return false;
	(void)snprintf(key, sizeof(key),
	    "\"actor\":\"supervisor\",\"event\":\"%s\"", event);
	for (line = text; line != NULL && *line != '\0' && !found; line = nl) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		found = strstr(line, key) != NULL && strstr(line, needle) != NULL;
	}
	free(text);
	return found;
}

void
rig_stop(struct rig *r)
{
	if (r->wd_up) {
		(void)hproc_stop(&r->wd, 10000);
		r->wd_up = false;
	}
	if (r->plant_up) {
		(void)hplant_stop(&r->plant, r->plant_final,
		    sizeof(r->plant_final));
		r->plant_up = false;
	}
	if (r->obs != NULL) {
		hobs_stop(r->obs);
		r->obs = NULL;
	}
	(void)hbroker_stop(&r->br);
}
