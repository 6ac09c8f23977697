/*
 * make demo: one unattended grid calibration of the reference site, end to
 * end, on this machine. A loopback mosquitto with the site's users and
 * ACL; gridcal-plant simulating 6 EG4 packs (pack 6's counter drifted
 * +24 %) and 2 LVX6048 units at 600x; gridcal-watchdog running
 * gridcal-supervisor with --method grid --confirm. Then the audit log is
 * verified and summarised, and the plant's own truth decides: exit 0 only
 * if every pack's counter re-anchored AND both units are back in their
 * everyday settings AND every record of the audit log is sealed: the
 * sealing key is made as gridcal-setup makes it, its verification key
 * printed, and the log verified with it and with the seals the observer
 * kept from the retained topic gridcal/audit/seal.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profile.h"
#include "rig.h"

#define RUN_TIMEOUT_MS	100000	/* the demo must finish in two minutes */

static void
say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)fputs("demo: ", stdout);
	(void)vfprintf(stdout, fmt, ap);
	(void)fputc('\n', stdout);
	(void)fflush(stdout);
	va_end(ap);
}

/* Prints the plant's truth; returns the spread of the BMS counters. */
static double
truth_line(struct rig *r, const char *when)
{
	char path[64], buf[256] = "", op[64], cp[64];
	double v, lo = 0, hi = 0;

	for (int p = 0; p < r->packs; p++) {
		char one[16];

		(void)snprintf(path, sizeof(path), "packs[%d].bms_soc", p);
		if (hobs_truth_num(r->obs, path, &v) == -1)
			(void)strlcpy(one, "?", sizeof(one));
		else {
			(void)snprintf(one, sizeof(one), "%.1f", v);
			lo = p == 0 || v < lo ? v : lo;
			hi = p == 0 || v > hi ? v : hi;
		}
		(void)strlcat(buf, p ? " " : "", sizeof(buf));
		(void)strlcat(buf, one, sizeof(buf));
	}
	say("plant truth %s: BMS SoC %s %%", when, buf);
	for (int u = 0; u < r->units; u++) {
		(void)snprintf(path, sizeof(path), "units[%d].output_priority", u);
		if (hobs_truth_str(r->obs, path, op, sizeof(op)) == -1)
			(void)strlcpy(op, "?", sizeof(op));
		(void)snprintf(path, sizeof(path), "units[%d].charger_priority",
		    u);
		if (hobs_truth_str(r->obs, path, cp, sizeof(cp)) == -1)
			(void)strlcpy(cp, "?", sizeof(cp));
		say("plant truth %s: unit %d output %s, charger %s", when, u + 1,
		    op, cp);
	}
	return hi - lo;
}

/*
 * gridcal-audit due --live --publish on the demo's broker with the
 * report-only user: its answer into build/demo/NAME, on the terminal and,
 * retained, on the due topic; the exit status is the answer.
 */
static int
due_answer(struct rig *r, const char *name)
{
	char bin[PATH_MAX], dir[PATH_MAX], out[PATH_MAX + 16], cred[PATH_MAX];
	char *argv[] = { bin, (char *)"--profile", r->profile, (char *)"due",
	    r->audit_log, (char *)"--live", (char *)"--publish",
	    (char *)"--cred", cred, NULL };
	struct hproc p;
	char *text;
	size_t len;

	if (harness_path(bin, sizeof(bin), "build/gridcal-audit") == -1 ||
	    harness_path(dir, sizeof(dir), "build/demo") == -1 ||
	    hbroker_cred_path(&r->br, "report", cred, sizeof(cred)) == -1)
		return -1;
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		return -1;
	(void)snprintf(out, sizeof(out), "%s/%s", dir, name);
	(void)unlink(out);	/* hproc_spawn appends */
	if (hproc_spawn(&p, argv, NULL, out, NULL) == -1 ||
	    hproc_wait(&p, 30000) == -1)
		return -1;
	if ((text = harness_read_file(out, &len)) != NULL) {
		say("gridcal-audit due --live: %.*s", (int)strcspn(text, "\n"),
		    text);
		free(text);
	}
	return hproc_exit_code(&p);
}

/*
 * What the demo leaves in build/demo/ for people to look at: the picture
 * of the run (run.svg, run.png) and the HTML report, all made by
 * gridcal-audit from the audit log alone. `make docs-images` copies the
 * pictures into docs/ for the README.
 */
static int
artefacts(struct rig *r)
{
	static const char *const pics[] = { "run.svg", "run.png" };
	char bin[PATH_MAX], dir[PATH_MAX], out[PATH_MAX + 16];
	char *argv[8];
	struct hproc p;

	if (harness_path(bin, sizeof(bin), "build/gridcal-audit") == -1 ||
	    harness_path(dir, sizeof(dir), "build/demo") == -1)
		return -1;
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		say("mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof(pics) / sizeof(pics[0]); i++) {
		(void)snprintf(out, sizeof(out), "%s/%s", dir, pics[i]);
		argv[0] = bin;
		argv[1] = (char *)"plot";
		argv[2] = r->audit_log;
		argv[3] = (char *)"-o";
		argv[4] = out;
		argv[5] = NULL;
		if (hproc_run(argv, 20000) != 0)
			return -1;
	}
	(void)snprintf(out, sizeof(out), "%s/report.html", dir);
	argv[1] = (char *)"--profile";
	argv[2] = r->profile;
	argv[3] = (char *)"report";
	argv[4] = r->audit_log;
	argv[5] = (char *)"--html";
	argv[6] = NULL;
	(void)unlink(out);	/* hproc_spawn appends */
	if (hproc_spawn(&p, argv, NULL, out, NULL) == -1 ||
	    hproc_wait(&p, 20000) == -1 || hproc_exit_code(&p) != 0) {
		say("gridcal-audit report --html failed");
		return -1;
	}
	say("left in %s: run.svg, run.png, report.html", dir);
	return 0;
}

/* dir/name with text in it. */
static int
leave(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX + 64];

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	return harness_write_file(path, text, 0644);
}

/*
 * Home Assistant: gridcal-setup --ha-discovery publishes the discovery
 * configs (retained) with the report user; the payloads, the watchdog's
 * retained state and the due answer the sensors read are left in
 * build/demo/ha/. The watchdog's state must say what it found: pass.
 */
static int
home_assistant(struct rig *r)
{
	char bin[PATH_MAX], dir[PATH_MAX], root[PATH_MAX + 32], cred[PATH_MAX];
	char path[PATH_MAX + 64], state[1024], due[1024], out[PATH_MAX + 64];
	char perr[PROFILE_ERR_MAX];
	static struct profile pf;
	char *argv[] = { bin, (char *)"-n", (char *)"--root", root,
	    (char *)"--ha-discovery", cred, NULL };
	struct hproc p;
	char *text;
	size_t len;

	if (harness_path(bin, sizeof(bin), "build/gridcal-setup") == -1 ||
	    harness_path(dir, sizeof(dir), "build/demo/ha") == -1 ||
	    hbroker_cred_path(&r->br, "report", cred, sizeof(cred)) == -1)
		return -1;
	(void)mkdir(dir, 0755);
	/* gridcal-setup reads ROOT/etc/gridcal/profile.yaml */
	(void)snprintf(root, sizeof(root), "%s/haroot", r->workdir);
	(void)snprintf(path, sizeof(path), "%s/etc", root);
	(void)mkdir(root, 0700);
	(void)mkdir(path, 0755);
	(void)strlcat(path, "/gridcal", sizeof(path));
	(void)mkdir(path, 0755);
	(void)strlcat(path, "/profile.yaml", sizeof(path));
	if ((text = harness_read_file(r->profile, &len)) == NULL ||
	    harness_write_file(path, text, 0644) == -1) {
		free(text);
		return -1;
	}
	free(text);
	(void)snprintf(out, sizeof(out), "%s/discovery.txt", dir);
	(void)unlink(out);	/* hproc_spawn appends */
	if (hproc_spawn(&p, argv, NULL, out, NULL) == -1 ||
	    hproc_wait(&p, 20000) == -1 || hproc_exit_code(&p) != 0)
		return -1;
	argv[1] = (char *)"--root";	/* now for real, on the broker */
	argv[2] = root;
	argv[3] = (char *)"--ha-discovery";
	argv[4] = cred;
	argv[5] = NULL;
	if (hproc_run(argv, 20000) != 0)
		return -1;
	(void)hobs_wait_count(r->obs, "gridcal/watchdog/state", 1, 5000);
	(void)hobs_latest(r->obs, "gridcal/watchdog/state", state,
	    sizeof(state));
	if (profile_load(r->profile, &pf, perr, sizeof(perr)) == -1) {
		say("%s", perr);
		return -1;
	}
	(void)snprintf(path, sizeof(path), "gridcal/%s/due", pf.site);
	(void)hobs_latest(r->obs, path, due, sizeof(due));
	(void)strlcat(state, "\n", sizeof(state));
	(void)strlcat(due, "\n", sizeof(due));
	if (leave(dir, "state.json", state) == -1 ||
	    leave(dir, "due.json", due) == -1)
		return -1;
	say("Home Assistant: discovery configs in %s/discovery.txt; the "
	    "watchdog's state: %.*s", dir, (int)strcspn(state, "\n"), state);
	return strstr(state, "\"outcome\":\"pass\"") != NULL &&
	    strstr(due, "\"answer\":\"not_due\"") != NULL ? 0 : -1;
}

int
main(void)
{
	static struct rig r;
	char vk[SEALVK_TEXT];
	int64_t t0 = harness_now_ms();
	bool anchored, everyday, intact, made, sealed;
	double before, after;
	int rc, due_before, due_after;

	setvbuf(stdout, NULL, _IOLBF, 0);
	say("starting a loopback broker (users plant, supervisor, watchdog, "
	    "observer; ACL) and the simulated site at %dx", HPLANT_DEFAULT_SPEED);
	if (rig_start(&r, "demo", "reference.yaml", NULL, 0, NULL) == -1)
		return 1;
	say("broker 127.0.0.1:%u, profile %s", (unsigned)r.br.port, r.profile);
	if (rig_make_seal_key(&r, vk) == -1) {
		rig_stop(&r);
		return 1;
	}
	say("sealing key made in %s (as gridcal-setup does); verification "
	    "key, to keep off the host:", r.state_dir);
	say("    %s", vk);
	before = truth_line(&r, "before");
	/* pack 6's counter drifted: due now (0), and it says why */
	due_before = due_answer(&r, "due-before.txt");
	say("running: gridcal-watchdog --profile %s calibrate --method grid "
	    "--confirm", r.profile);
	say("----------------------------------------------------------------");
	if (rig_watchdog(&r, "grid", true, true) == -1) {
		rig_stop(&r);
		return 1;
	}
	rc = rig_watchdog_wait(&r, RUN_TIMEOUT_MS);
	say("----------------------------------------------------------------");
	say("gridcal-watchdog exited %d", rc);
	/* the truth is published every plant tick: wait for a fresh one */
	(void)hobs_wait_count(r.obs, HPLANT_STATUS_TOPIC,
	    hobs_count(r.obs, HPLANT_STATUS_TOPIC) + 2, 5000);
	after = truth_line(&r, "after");
	anchored = rig_truth_soc_at_least(&r, 99.0);
	everyday = rig_truth_everyday(&r);
	say("verifying the audit log: gridcal-audit verify %s --state-dir %s",
	    r.audit_log, r.state_dir);
	intact = rig_audit_verify(&r, true) == 0;
	say("verifying its seals: gridcal-audit verify %s --state-dir %s "
	    "--key %s --seal-from seals.txt (the seals the observer kept)",
	    r.audit_log, r.state_dir, vk);
	sealed = rig_audit_verify_sealed(&r, vk, true) == 0;
	say("audit report:");
	(void)rig_audit_report(&r);
	say("drawing the run: gridcal-audit plot %s -o build/demo/run.svg",
	    r.audit_log);
	made = artefacts(&r) == 0;
	/* just re-anchored: not due (1) */
	due_after = due_answer(&r, "due.txt");
	if (due_before != 0 || due_after != 1) {
		say("gridcal-audit due answered %d before and %d after the run "
		    "(want 0: due, then 1: not due)", due_before, due_after);
		made = false;
	}
	if (home_assistant(&r) == -1) {
		say("Home Assistant: discovery, state or due answer missing");
		made = false;
	}
	rig_stop(&r);
	say("SoC spread of the BMS counters (plant truth): %.1f %% -> %.1f %%",
	    before, after);
	say("re-anchored (plant truth): %s; everyday settings on both units "
	    "(plant truth): %s; audit log intact: %s, every record sealed: "
	    "%s; watchdog exit %d", anchored ? "yes" : "NO",
	    everyday ? "yes" : "NO", intact ? "yes" : "NO",
	    sealed ? "yes" : "NO", rc);
	intact = intact && sealed;
	explicit_bzero(vk, sizeof(vk));
	say("%s in %.1f s", anchored && everyday && intact && made &&
	    rc == 0 ? "PASS" : "FAIL", (double)(harness_now_ms() - t0) /
	    1000.0);
	return anchored && everyday && intact && made && rc == 0 ? 0 : 1;
}
