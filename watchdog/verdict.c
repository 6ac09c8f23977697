/*
 * The run's outcome from the watchdog's own evidence. The supervisor's
 * DONE is a claim: a supervisor that set only the charger priority and
 * sent DONE PASS once got "outcome: pass". Here PASS needs, besides the
 * claim, what the watchdog itself saw:
 *   grid   both calibration values confirmed by readback, the revert
 *          confirmed, and the verify record below
 *   solar  nothing published (the whitelist sees to it) and the verify
 *          record below
 * The verify record is the watchdog's snapshot at DONE of the highest
 * state of charge it read itself (fresh, valid telemetry) from each pack
 * since HELLO: every pack must have reached limits.verify.reanchor_pct.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "watchdog.h"

static double	 soc_max[PROFILE_MAX_PACKS];
static double	 soc_first[PROFILE_MAX_PACKS], soc_last[PROFILE_MAX_PACKS];
static int	 seen[PROFILE_MAX_PACKS];
static int	 claim = -1;	/* proto_outcome of DONE, -1 none */
static int	 verified;	/* the verify record said so */

/* Every loop turn while the supervisor runs: the counters' highest. */
void
verdict_tick(int64_t now)
{
	double v;

	if (wd.phase != PH_RUN)
		return;
	for (int p = 0; p < wd.pf.packs; p++)
		if (tm_pack(&wd.tm, p, PF_SOC, now, &v) == TM_VALID) {
			soc_max[p] = v > soc_max[p] ? v : soc_max[p];
			soc_first[p] = seen[p]++ ? soc_first[p] : v;
			soc_last[p] = v;
		}
}

/* DONE arrived: record the claim and the watchdog's verify snapshot. */
void
verdict_claim(enum proto_outcome o)
{
	char list[PROFILE_MAX_PACKS * 8 + 1] = "";
	size_t n;

	claim = (int)o;
	verified = wd.pf.packs > 0;
	for (int p = 0; p < wd.pf.packs; p++) {
		verified &= soc_max[p] >= wd.pf.limits.verify_reanchor_pct;
		n = strlen(list);
		(void)snprintf(list + n, sizeof(list) - n, "%s%.1f",
		    p > 0 ? "," : "", soc_max[p]);
	}
	(void)WD_AUDIT(WD_EV_VERIFY, AF_S("soc_max", list),
	    AF_D("reanchor_pct", wd.pf.limits.verify_reanchor_pct),
	    AF_B("ok", verified));
}

const char *
verdict_claim_name(void)
{
	return claim < 0 ? "none" : proto_outcome_name((enum proto_outcome)
	    claim);
}

/* What the evidence lacks for a PASS; NULL if it agrees. */
static const char *
lacking(void)
{
	int grid = wd.method != NULL && strcmp(wd.method, "grid") == 0;

	if (grid && !(wd.ev_confirmed & 1u << SETTING_CHARGER_PRIORITY))
		return "the charger priority calibration value was never "
		    "confirmed";
	if (grid && !(wd.ev_confirmed & 1u << SETTING_OUTPUT_PRIORITY))
		return "the output priority calibration value was never "
		    "confirmed";
	if (grid && !wd.ev_reverted)
		return "no confirmed revert";
	if (!grid && wd.ev_published)
		return "a solar-only run published a setting";
	if (!verified)
		return "a pack's state of charge never reached "
		    "limits.verify.reanchor_pct in the watchdog's telemetry";
	return NULL;
}

/* At the end of a calibrate run: a PASS the evidence denies is a FAIL. */
void
verdict_end(void)
{
	const char *no;

	if (strcmp(wd.command, "calibrate") != 0 ||
	    wd.exit_code != WD_EX_PASS || (no = lacking()) == NULL)
		return;
	log_warnx("the supervisor claimed PASS, but %s: FAIL", no);
	wd.exit_code = WD_EX_FAIL;
	(void)snprintf(wd.why, sizeof(wd.why), "PASS claimed, not shown: %s",
	    no);
}

/* max - min of what we read ourselves; NAN if a pack was never read. */
static double
spread(const double *v)
{
	double lo = INFINITY, hi = -INFINITY;

	for (int p = 0; p < wd.pf.packs; p++) {
		if (!seen[p])
			return NAN;
		lo = v[p] < lo ? v[p] : lo;
		hi = v[p] > hi ? v[p] : hi;
	}
	return wd.pf.packs > 0 ? hi - lo : NAN;
}

/*
 * Home Assistant's facts (gridcal-setup publishes the discovery configs),
 * retained on WD_STATE_TOPIC: "running" at the start, then the outcome we
 * found (outcome NULL: running), its reason, and the SoC spread first ->
 * last and the packs short of the re-anchor value, all from our own
 * telemetry; never the supervisor's word.
 */
void
verdict_publish(const char *outcome)
{
	char msg[1024], why[2 * PROTO_TEXT_LEN], b[AUDIT_NUM_MAX];
	char a[AUDIT_NUM_MAX], lag[PROFILE_MAX_PACKS * 3 + 1] = "";
	int n;

	for (int p = 0; p < wd.pf.packs; p++)
		if (seen[p] && soc_max[p] < wd.pf.limits.verify_reanchor_pct)
			(void)snprintf(lag + strlen(lag), sizeof(lag) -
			    strlen(lag), "%s%d", lag[0] ? "," : "", p + 1);
	(void)audit_escape((const unsigned char *)wd.why, strlen(wd.why), why,
	    sizeof(why) - 1);
	audit_format_num(spread(soc_first), b);
	audit_format_num(spread(soc_last), a);
	n = snprintf(msg, sizeof(msg), "{\"state\":\"%s\",\"run\":\"%s\","
	    "\"command\":\"%s\",\"method\":\"%s\",\"outcome\":\"%s\","
	    "\"reason\":\"%s\",\"soc_spread_before\":%s,"
	    "\"soc_spread_after\":%s,\"lagging\":\"%s\"}", outcome ? "idle" :
	    "running", wd.audit.run, wd.command, wd.method ? wd.method :
	    "none", outcome ? outcome : "", outcome ? why : "", outcome ? b :
	    "null", outcome ? a : "null", outcome ? lag : "");
	if (n < 0 || (size_t)n >= sizeof(msg) || session_publish(wd.sess,
	    WD_STATE_TOPIC, msg, (size_t)n, 1, 1, NULL) == -1)
		log_warnx("state not published: %s", session_error(wd.sess));
}
