/*
 * make demo: one unattended grid calibration of the reference site, end to
 * end, on this machine. A loopback mosquitto with the site's users and
 * ACL; gridcal-plant simulating 6 EG4 packs (pack 6's counter drifted
 * +24 %) and 2 LVX6048 units at 600x; gridcal-watchdog running
 * gridcal-supervisor with --method grid --confirm. Then the audit log is
 * verified and summarised, and the plant's own truth decides: exit 0 only
 * if every pack's counter re-anchored AND both units are back in their
 * everyday settings.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int
main(void)
{
	static struct rig r;
	int64_t t0 = harness_now_ms();
	bool anchored, everyday, intact;
	double before, after;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	say("starting a loopback broker (users plant, supervisor, watchdog, "
	    "observer; ACL) and the simulated site at %dx", HPLANT_DEFAULT_SPEED);
	if (rig_start(&r, "demo", "reference.yaml", NULL, 0, NULL) == -1)
		return 1;
	say("broker 127.0.0.1:%u, profile %s", (unsigned)r.br.port, r.profile);
	before = truth_line(&r, "before");
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
	say("audit report:");
	(void)rig_audit_report(&r);
	rig_stop(&r);
	say("SoC spread of the BMS counters (plant truth): %.1f %% -> %.1f %%",
	    before, after);
	say("re-anchored (plant truth): %s; everyday settings on both units "
	    "(plant truth): %s; audit log intact: %s; watchdog exit %d",
	    anchored ? "yes" : "NO", everyday ? "yes" : "NO",
	    intact ? "yes" : "NO", rc);
	say("%s in %.1f s", anchored && everyday && intact && rc == 0 ?
	    "PASS" : "FAIL", (double)(harness_now_ms() - t0) / 1000.0);
	return anchored && everyday && intact && rc == 0 ? 0 : 1;
}
