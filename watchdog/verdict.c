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
static char	 claim_why[PROTO_TEXT_LEN];
static int	 verified;	/* the verify record said so */

/* At start (a fuzzer runs main() again): nothing seen, no claim. */
void
verdict_init(void)
{
	memset(seen, 0, sizeof(seen));
	memset(soc_max, 0, sizeof(soc_max));
	claim = -1;
}

/* Every loop turn while the supervisor runs: the counters' highest. */
void
verdict_tick(int64_t now)
{
	double v;

	if (mon_phase() != PH_RUN)
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
verdict_claim(enum proto_outcome o, const char *why)
{
	char list[PROFILE_MAX_PACKS * 8 + 1] = "";
	size_t n;

	claim = (int)o;
	(void)strlcpy(claim_why, why, sizeof(claim_why));
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
	unsigned confirmed;
	int reverted, published = ctl_evidence(&confirmed, &reverted);

	if (grid && !(confirmed & 1u << SETTING_CHARGER_PRIORITY))
		return "the charger priority calibration value was never "
		    "confirmed";
	if (grid && !(confirmed & 1u << SETTING_OUTPUT_PRIORITY))
		return "the output priority calibration value was never "
		    "confirmed";
	if (grid && !reverted)
		return "no confirmed revert";
	if (!grid && published)
		return "a solar-only run published a setting";
	if (!verified)
		return "a pack's state of charge never reached "
		    "limits.verify.reanchor_pct in the watchdog's telemetry";
	return NULL;
}

/*
 * At the end of the run: if nothing the watchdog saw ended it first, the
 * claim decides the exit status (0-4: PASS to CANCELLED, in order); a PASS
 * the evidence denies is a FAIL.
 */
void
verdict_end(void)
{
	char why[PROTO_TEXT_LEN];
	const char *no;

	if (wd.exit_code >= 0 || claim < 0)
		return;
	if (claim != PROTO_OUTCOME_PASS || (no = lacking()) == NULL) {
		wd_finish(GC_EX_PASS + claim - PROTO_OUTCOME_PASS, claim_why);
		return;
	}
	log_warnx("the supervisor claimed PASS, but %s: FAIL", no);
	(void)snprintf(why, sizeof(why), "PASS claimed, not shown: %s", no);
	wd_finish(GC_EX_FAIL, why);
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
