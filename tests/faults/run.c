/*
 * Plays one fault scenario: a fresh broker, the plant, an observer, then
 * the steps (start the watchdog, wait for a plant state or an observed
 * event, inject the fault, wait for the plant to be safe again), then the
 * expectations, checked against the plant's own truth, the processes'
 * exit statuses and the audit log. Runs in a child process of its own.
 */
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <unistd.h>

#include "auditread.h"
#include "faults.h"
#include "harness.h"
#include "parse.h"
#include "profile.h"
#include "run.h"

static struct run	*cur;		/* for the atexit unmount */

void
run_log(struct run *r, const char *fmt, ...)
{
	va_list ap;
	int64_t t = harness_now_ms() - r->t0;

	fprintf(r->log, "[%3lld.%03lld] ", (long long)(t / 1000),
	    (long long)(t % 1000));
	va_start(ap, fmt);
	vfprintf(r->log, fmt, ap);
	va_end(ap);
	fputc('\n', r->log);
	fflush(r->log);
}

/* Records the first failure; later ones are only logged. */
void
run_fail(struct run *r, const char *fmt, ...)
{
	char msg[sizeof(r->res->why)];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	run_log(r, "FAIL: %s", msg);
	if (!r->failed) {
		r->failed = true;
		(void)strlcpy(r->res->why, msg, sizeof(r->res->why));
	}
}

static void
skip(struct run *r, const char *why)
{
	run_log(r, "SKIP: %s", why);
	r->skipped = true;
	(void)strlcpy(r->res->why, why, sizeof(r->res->why));
}

static int
build_path(char *buf, size_t sz, const char *name)
{
	char rel[PATH_MAX];

	(void)snprintf(rel, sizeof(rel), "build/%s", name);
	return harness_path(buf, sz, rel);
}

static bool
executable(const char *path)
{
	return access(path, X_OK) == 0;
}

/* dir/name into buf; a path that does not fit fails the run. */
int
run_path(struct run *r, char *buf, size_t sz, const char *dir,
    const char *name)
{
	int n = snprintf(buf, sz, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= sz) {
		run_fail(r, "path too long: %s/%s", dir, name);
		return -1;
	}
	return 0;
}

/* ---- set-up ---- */

static int
mkdir_p1(struct run *r, const char *path, mode_t mode)
{
	if (mkdir(path, mode) == -1 && errno != EEXIST) {
		run_fail(r, "mkdir %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void
unmount_all(void)
{
	if (cur == NULL)
		return;
	for (int i = 0; i < cur->nmounts; i++) {
		if (umount2(cur->mounts[i], MNT_DETACH) == -1)
			fprintf(stderr, "test-faults: umount %s: %s\n",
			    cur->mounts[i], strerror(errno));
	}
	cur->nmounts = 0;
}

static int
mount_tmpfs(struct run *r, const char *dir, const char *opts)
{
	if (mkdir_p1(r, dir, 0711) == -1)
		return -1;
	if (mount("tmpfs", dir, "tmpfs", 0, opts) == -1) {
		run_fail(r, "mount tmpfs on %s (%s): %s", dir, opts,
		    strerror(errno));
		return -1;
	}
	if (r->nmounts < RUN_MOUNTS_MAX)
		(void)strlcpy(r->mounts[r->nmounts++], dir,
		    sizeof(r->mounts[0]));
	run_log(r, "mounted tmpfs %s on %s", opts, dir);
	return 0;
}

static int
add_override(struct run *r, const char *key, const char *val)
{
	if (r->nov == RUN_OVERRIDES_MAX) {
		run_fail(r, "too many profile overrides");
		return -1;
	}
	(void)strlcpy(r->ovk[r->nov], key, sizeof(r->ovk[0]));
	(void)strlcpy(r->ovv[r->nov], val, sizeof(r->ovv[0]));
	r->nov++;
	return 0;
}

/* The supervisor reads its credential file as itself (root:group 0640). */
static int
give_to_supervisor(struct run *r, const char *path)
{
	if (huser_give_cred(path, r->pf.supervisor_user) == -1) {
		run_fail(r, "credentials %s for %s", path,
		    r->pf.supervisor_user);
		return -1;
	}
	return 0;
}

/* A credential file like the real one but with a wrong password. */
static int
bad_credentials(struct run *r)
{
	char bad[PATH_MAX];

	if (run_path(r, bad, sizeof(bad), r->wd, "supervisor-bad.cred") == -1)
		return -1;
	if (harness_write_file(bad, "supervisor:not-the-password\n", 0600) ==
	    -1) {
		run_fail(r, "write %s: %s", bad, strerror(errno));
		return -1;
	}
	return add_override(r, "credentials.supervisor", bad);
}

/* Where the state and the audit log go, and the supervisor to run. */
static int
layout(struct run *r)
{
	const struct scenario *sc = r->sc;
	char opts[64], conf[PATH_MAX], bin[PATH_MAX];

	if (run_path(r, r->state_dir, sizeof(r->state_dir), r->wd, "state") ==
	    -1 || run_path(r, r->audit_log, sizeof(r->audit_log), r->wd,
	    "audit.jsonl") == -1)
		return -1;
	if (mkdir_p1(r, r->state_dir, 0700) == -1)
		return -1;
	if (sc->tmpfs_kb > 0) {
		(void)snprintf(opts, sizeof(opts), "size=%lldk,mode=0711",
		    (long long)sc->tmpfs_kb);
		if (run_path(r, r->vol, sizeof(r->vol), r->wd, "vol") == -1 ||
		    mount_tmpfs(r, r->vol, opts) == -1 ||
		    run_path(r, r->state_dir, sizeof(r->state_dir), r->vol,
		    "state") == -1 ||
		    run_path(r, r->audit_log, sizeof(r->audit_log), r->vol,
		    "audit.jsonl") == -1 ||
		    mkdir_p1(r, r->state_dir, 0700) == -1)
			return -1;
	}
	if (sc->audit_dir_ro) {
		if (run_path(r, r->vol, sizeof(r->vol), r->wd, "ro") == -1)
			return -1;
		if (mount_tmpfs(r, r->vol, "size=64k,mode=0755") == -1 ||
		    mount("tmpfs", r->vol, "tmpfs", MS_REMOUNT | MS_RDONLY,
		    "size=64k,mode=0755") == -1) {
			run_fail(r, "read-only tmpfs: %s", strerror(errno));
			return -1;
		}
		if (run_path(r, r->audit_log, sizeof(r->audit_log), r->vol,
		    "audit.jsonl") == -1)
			return -1;
	}
	if (add_override(r, "paths.state_dir", r->state_dir) == -1 ||
	    add_override(r, "paths.audit_log", r->audit_log) == -1)
		return -1;
	if (sc->bad_sup_cred && bad_credentials(r) == -1)
		return -1;
	/* the sanitizer runs (mk/97-san.mk) name their supervisor build */
	if (sc->sup == SUP_REAL && getenv("GRIDCAL_SUPERVISOR_BIN") != NULL &&
	    add_override(r, "paths.supervisor",
	    getenv("GRIDCAL_SUPERVISOR_BIN")) == -1)
		return -1;
	if (sc->sup == SUP_HOSTILE) {
		if (build_path(bin, sizeof(bin), "test-hostile") == -1 ||
		    add_override(r, "paths.supervisor", bin) == -1)
			return -1;
		char text[SC_TOK_MAX + 2];

		(void)snprintf(text, sizeof(text), "%s\n", sc->sup_arg);
		if (run_path(r, conf, sizeof(conf), r->wd, "hostile.conf") == -1)
			return -1;
		if (harness_write_file(conf, text, 0644) == -1) {
			run_fail(r, "write %s", conf);
			return -1;
		}
	}
	return 0;
}

static int
write_profile(struct run *r)
{
	struct hprofile_kv kv[RUN_OVERRIDES_MAX];
	char err[PROFILE_ERR_MAX];
	size_t n = 0;

	for (int i = 0; i < r->sc->nprof; i++)
		if (add_override(r, r->sc->prof_key[i], r->sc->prof_val[i]) == -1)
			return -1;
	for (int i = 0; i < r->nov; i++) {
		kv[n].key = r->ovk[i];
		kv[n].value = r->ovv[i];
		n++;
	}
	if (hprofile_write(&r->br, r->prof, sizeof(r->prof), kv, n, err,
	    sizeof(err)) == -1) {
		run_fail(r, "test profile: %s", err);
		return -1;
	}
	/* The supervisor runs unprivileged and must read the profile. */
	if (chmod(r->prof, 0644) == -1) {
		run_fail(r, "chmod %s: %s", r->prof, strerror(errno));
		return -1;
	}
	if (profile_load(r->prof, &r->pf, err, sizeof(err)) == -1) {
		run_fail(r, "test profile does not load: %s", err);
		return -1;
	}
	for (int i = 0; i < r->nov; i++)
		run_log(r, "profile %s = %s", r->ovk[i], r->ovv[i]);
	return r->sc->bad_sup_cred ? give_to_supervisor(r,
	    r->pf.cred_supervisor) : 0;
}

/*
 * The base plant scenario with this scenario's faults: the base's empty
 * "faults: []" is replaced by the list. A base with faults of its own
 * cannot take more (its list is not necessarily last).
 */
static int
write_plant_scenario(struct run *r)
{
	char base[PATH_MAX], rel[PATH_MAX], *text, *out, *line, *next;
	size_t len, cap;
	bool had_faults = false;
	int rc;

	if (strchr(r->sc->plant, '/') != NULL)
		(void)strlcpy(base, r->sc->plant, sizeof(base));
	else {
		(void)snprintf(rel, sizeof(rel), "tests/scenarios/%s",
		    r->sc->plant);
		if (harness_path(base, sizeof(base), rel) == -1)
			return -1;
	}
	if ((text = harness_read_file(base, &len)) == NULL) {
		run_fail(r, "plant scenario %s: %s", base, strerror(errno));
		return -1;
	}
	cap = len + 16 + (size_t)r->sc->nplant_text * (SC_TOK_MAX + 8);
	if ((out = malloc(cap)) == NULL) {
		free(text);
		run_fail(r, "malloc");
		return -1;
	}
	out[0] = '\0';
	for (line = text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strncmp(line, "faults:", 7) == 0) {
			if (strcmp(line, "faults: []") != 0 &&
			    r->sc->nplant_text > 0) {
				run_fail(r, "%s has faults of its own", base);
				free(text);
				free(out);
				return -1;
			}
			had_faults = true;
			if (r->sc->nplant_text > 0)
				continue;
		}
		(void)strlcat(out, line, cap);
		(void)strlcat(out, "\n", cap);
	}
	free(text);
	if (r->sc->nplant_text > 0 || !had_faults)
		(void)strlcat(out, r->sc->nplant_text > 0 ? "faults:\n" :
		    "faults: []\n", cap);
	for (int i = 0; i < r->sc->nplant_text; i++) {
		(void)strlcat(out, "  - ", cap);
		(void)strlcat(out, r->sc->plant_text[i], cap);
		(void)strlcat(out, "\n", cap);
	}
	if (run_path(r, r->plant_scen, sizeof(r->plant_scen), r->wd,
	    "plant-scenario.yaml") == -1) {
		free(out);
		return -1;
	}
	rc = harness_write_file(r->plant_scen, out, 0644);
	free(out);
	if (rc == -1)
		run_fail(r, "write %s", r->plant_scen);
	return rc;
}

static int
requirements(struct run *r)
{
	const struct scenario *sc = r->sc;
	const char *need[4] = { "gridcal-watchdog", "gridcal-plant", NULL,
	    NULL };
	char path[PATH_MAX], why[PATH_MAX + 32];

	if (sc->need_root && geteuid() != 0) {
		skip(r, "needs root (mount)");
		return -1;
	}
	need[2] = sc->sup == SUP_REAL ? "gridcal-supervisor" :
	    sc->sup == SUP_HOSTILE ? "test-hostile" : "test-fakesup";
	for (int i = 0; need[i] != NULL; i++) {
		if (build_path(path, sizeof(path), need[i]) == -1)
			return -1;
		if (!executable(path)) {
			(void)snprintf(why, sizeof(why), "missing build/%s",
			    need[i]);
			skip(r, why);
			return -1;
		}
	}
	return 0;
}

static int
setup(struct run *r)
{
	char tag[64];

	if (requirements(r) == -1)
		return -1;
	(void)snprintf(tag, sizeof(tag), "fault-%.40s", r->sc->name);
	if (harness_workdir(r->wd, sizeof(r->wd), tag) == -1) {
		run_fail(r, "workdir");
		return -1;
	}
	cur = r;
	if (atexit(unmount_all) != 0) {
		run_fail(r, "atexit");
		return -1;
	}
	run_log(r, "workdir %s", r->wd);
	if (hbroker_start(&r->br, r->wd) == -1) {
		run_fail(r, "broker did not start");
		return -1;
	}
	run_log(r, "broker on port %u", (unsigned)r->br.port);
	if (layout(r) == -1 || write_profile(r) == -1 ||
	    write_plant_scenario(r) == -1)
		return -1;
	if ((r->obs = hobs_start(&r->br, 5000)) == NULL) {
		run_fail(r, "observer did not connect");
		return -1;
	}
	return plant_start(r);
}

int
plant_start(struct run *r)
{
	struct hplant_opts po;

	memset(&po, 0, sizeof(po));
	po.speed = r->sc->plant_speed;
	if (hplant_start(&r->plant, &r->br, r->prof, r->plant_scen, &po) == -1) {
		run_fail(r, "plant did not start");
		return -1;
	}
	r->plant_up = true;
	if (hplant_wait_ready(r->obs, 10000) == -1) {
		run_fail(r, "plant published no truth within 10 s");
		return -1;
	}
	run_log(r, "plant ready (pid %d)", (int)r->plant.pid);
	return r->track.running ? 0 : tracker_start(r);
}

/* ---- teardown ---- */

static void
dump_file(struct run *r, const char *label, const char *path, int maxlines)
{
	char *text, *p, *start;
	size_t len;
	int lines = 0;

	if (path[0] == '\0' || access(path, R_OK) == -1)
		return;
	if ((text = harness_read_file(path, &len)) == NULL)
		return;
	/* The last maxlines lines. */
	start = text;
	for (p = text + len; p > text; p--) {
		if (p[-1] == '\n' && p != text + len && ++lines >= maxlines) {
			start = p;
			break;
		}
	}
	fprintf(r->log, "---- %s (%s)%s ----\n", label, path,
	    start != text ? ", tail" : "");
	fputs(start, r->log);
	if (len > 0 && text[len - 1] != '\n')
		fputc('\n', r->log);
	free(text);
}

/* Stops every process still running; the plant last, for its truth. */
static void
teardown(struct run *r)
{
	for (int i = 0; i < RUN_WATCHDOGS; i++) {
		struct wdproc *w = &r->wd_[i];

		if (!w->started || hproc_poll(&w->p))
			continue;
		run_log(r, "%s still running at the end: SIGKILL", w->name);
		kill_children(r, w->p.pid, SIGKILL);
		(void)hproc_signal(&w->p, SIGKILL);
		(void)hproc_wait(&w->p, 5000);
	}
	reap_strays(r);
	if (r->plant_up) {
		if (hplant_stop(&r->plant, r->final, sizeof(r->final)) == 0)
			r->have_final = r->final[0] != '\0';
		else
			run_log(r, "plant did not stop cleanly");
		r->plant_up = false;
		run_log(r, "plant final: %s", r->have_final ? r->final : "(none)");
	}
}

static void
shutdown_rest(struct run *r)
{
	char path[PATH_MAX];

	for (int i = 0; i < RUN_WATCHDOGS; i++) {
		if (!r->wd_[i].started)
			continue;
		dump_file(r, r->wd_[i].name, r->wd_[i].p.err_path, 80);
		dump_file(r, r->wd_[i].name, r->wd_[i].p.out_path, 40);
	}
	if (run_path(r, path, sizeof(path), r->wd, "plant.err") == 0)
		dump_file(r, "plant stderr", path, 20);
	dump_file(r, "audit log", r->audit_log, 60);
	if (r->obs != NULL) {
		hobs_stop(r->obs);
		r->obs = NULL;
	}
	if (r->br.running)
		(void)hbroker_stop(&r->br);
	unmount_all();
}

/* ---- the result ---- */

/* What the plant says it went through, for the log. */
static void
log_truth_figures(struct run *r)
{
	double cal = -1, grid = -1, cell = -1, temp = -1;

	if (!r->have_final)
		return;
	(void)hjson_num(r->final, "calibration_s", &cal);
	(void)hjson_num(r->final, "grid_charge_s", &grid);
	(void)hjson_num(r->final, "max_cell_v", &cell);
	(void)hjson_num(r->final, "max_temp_c", &temp);
	run_log(r, "plant truth: %.0f simulated s in calibration settings, "
	    "%.0f s grid-charging, max cell %.4f V, max temperature %.1f C; "
	    "%.3f s (wall) out of everyday settings", cal, grid, cell, temp,
	    (double)tracker_unsafe_ms(r, harness_now_ms()) / 1000.0);
}

/* The scenario's reference timeout (ratio) in ms and its short name. */
int64_t
run_ratio_ref_ms(const struct run *r, const char **what)
{
	const struct profile_timing *t = &r->pf.timing;

	*what = "";
	switch (r->sc->ratio) {
	case RATIO_NONE:
		break;
	case RATIO_HEARTBEAT:
		*what = "hb";
		return t->heartbeat_timeout_ms;
	case RATIO_REVERT:
		*what = "rc";
		return t->revert_confirm_ms;
	case RATIO_SET_CONFIRM:
		*what = "sc";
		return t->set_confirm_ms;
	}
	return 0;
}

static void
summarise(struct run *r)
{
	struct sc_result *res = r->res;
	char reasons[64] = "", wd[32] = "-", end[16] = "?", sup[16];
	int code, sig;

	audit_revert_reasons(r, reasons, sizeof(reasons));
	audit_child_status(r, sup, sizeof(sup));
	log_truth_figures(r);
	if (r->t_fault > 0) {
		int64_t at = tracker_safe_at(r, r->t_fault, &r->never_unsafe);

		if (at >= 0)
			r->ttsafe = at - r->t_fault;
		run_log(r, "time-to-safe: %s%.3f s", at >= 0 ? "" :
		    r->never_unsafe ? "never unsafe, " : "NOT SAFE, ",
		    at >= 0 ? (double)r->ttsafe / 1000.0 : 0.0);
	}
	if (r->wd_[0].started) {
		if (!r->wd_[0].p.exited)
			(void)strlcpy(wd, "running", sizeof(wd));
		else if ((sig = hproc_term_signal(&r->wd_[0].p)) != 0)
			(void)snprintf(wd, sizeof(wd), "sig%d", sig);
		else if ((code = hproc_exit_code(&r->wd_[0].p)) >= 0)
			(void)snprintf(wd, sizeof(wd), "%d", code);
	}
	if (r->have_final)
		(void)strlcpy(end, final_everyday(r, NULL, 0) ? "everyday" :
		    "NOT-everyday", sizeof(end));
	(void)snprintf(res->observed, sizeof(res->observed),
	    "revert=%s wd=%s sup=%s ctl=%zu end=%s", reasons[0] ? reasons :
	    "-", wd, sup, r->ctl_count, end);
	res->ttsafe_ms = r->ttsafe;
	res->ratio = 0;
	if (r->ttsafe >= 0) {
		const char *what;
		int64_t ref = run_ratio_ref_ms(r, &what);

		if (ref > 0) {
			res->ratio = (double)r->ttsafe / (double)ref;
			(void)snprintf(res->ratio_ref, sizeof(res->ratio_ref),
			    "%s %.1fs", what, (double)ref / 1000.0);
		}
	}
}

/*
 * A self-test of the suite: the scenario is built to break a check, and
 * passes only if that check failed, for the reason it names.
 */
static void
self_test_verdict(struct run *r)
{
	struct sc_result *res = r->res;

	if (res->verdict == V_FAIL && strstr(res->why, r->sc->must_fail) !=
	    NULL) {
		run_log(r, "self-test: failed as it must (%s)", res->why);
		res->verdict = V_PASS;
		(void)snprintf(res->observed, sizeof(res->observed),
		    "caught: %.140s", r->sc->must_fail);
		return;
	}
	if (res->verdict == V_PASS)
		(void)strlcpy(res->why, "self-test: the broken case passed",
		    sizeof(res->why));
	else {
		char why[sizeof(res->why)];

		(void)strlcpy(why, "self-test: failed for another reason: ",
		    sizeof(why));
		(void)strlcat(why, res->why, sizeof(why));
		(void)strlcpy(res->why, why, sizeof(res->why));
	}
	res->verdict = V_FAIL;
	run_log(r, "%s", res->why);
}

void
scenario_run(const struct scenario *sc, FILE *log, struct sc_result *res)
{
	static struct run r;	/* big: the plant's final line, overrides */

	memset(&r, 0, sizeof(r));
	memset(res, 0, sizeof(*res));
	r.sc = sc;
	r.log = log;
	r.res = res;
	r.t0 = harness_now_ms();
	r.ttsafe = -1;
	(void)snprintf(r.wd_[0].name, sizeof(r.wd_[0].name), "watchdog");
	(void)snprintf(r.wd_[1].name, sizeof(r.wd_[1].name), "watchdog2");
	run_log(&r, "scenario %s: %s", sc->name, sc->title);

	if (setup(&r) == 0)
		run_steps(&r);
	r.ctl_count = r.obs != NULL ? hobs_log_count(r.obs, "solar/control/") :
	    0;
	teardown(&r);
	tracker_stop(&r);
	tracker_log(&r);
	if (!r.skipped)
		run_expectations(&r);
	summarise(&r);
	shutdown_rest(&r);
	res->verdict = r.skipped ? V_SKIP : r.failed ? V_FAIL : V_PASS;
	if (sc->must_fail[0] != '\0' && !r.skipped)
		self_test_verdict(&r);
	res->wall_ms = harness_now_ms() - r.t0;
	run_log(&r, "%s in %.1f s", res->verdict == V_PASS ? "PASS" :
	    res->verdict == V_SKIP ? "SKIP" : "FAIL",
	    (double)res->wall_ms / 1000.0);
}
