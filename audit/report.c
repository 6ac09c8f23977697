/*
 * gridcal-audit report: one row per run, from the event vocabulary in
 * shared/audit.h. Runs are contiguous in the log (one watchdog at a time
 * holds the log's lock), so a row is printed as soon as its run ends and
 * memory does not grow with the log.
 *
 * Figures the watchdog records itself are preferred; supervisor-reported
 * text (the "report" and "preflight" events) is untrusted, parsed strictly
 * and only used for what the watchdog cannot know (SoC figures).
 *
 * A successful calibration is the watchdog's outcome "pass" backed by the
 * watchdog's own records in the same run, never the supervisor's word: in
 * a grid run both calibration values confirmed by readback (before the
 * first revert trigger) and a confirmed revert, in a solar run a "verify"
 * record with ok=true; a "verify" record with ok=false denies any PASS.
 * (Logs from before the verify record existed count on the settings
 * evidence alone for grid runs.) A "pass" without that evidence is shown
 * as "unproven".
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "parse.h"
#include "plot.h"

#define WORD_MAX	64
#define TEXT_MAX	256
#define EV_VERIFY	"verify"	/* watchdog/watchdog.h WD_EV_VERIFY */

struct run {
	char		id[AUDIT_RUN_MAX + 1];
	uint64_t	records;
	int		unverified;	/* some record not covered by the chain */
	char		start[32];	/* utc of the start (or first) record */
	int64_t		start_ms;
	int64_t		first_mono, last_mono, first_utc, last_utc;
	int		has_start, has_end;
	char		command[WORD_MAX];
	char		method[WORD_MAX];
	int		authorised;	/* -1 unknown */
	char		outcome[WORD_MAX];
	char		reason[TEXT_MAX];
	int		wd_outcome;	/* outcome is the watchdog's */
	unsigned	cal_confirmed;	/* 1 charger, 2 output: calibration */
	int		verify;		/* verify record: -1 none, 0 no, 1 ok */
	char		sup_outcome[WORD_MAX];
	char		sup_reason[TEXT_MAX];
	char		sup_method[WORD_MAX];
	double		spread_before, spread_after;
	double		pre_spread;	/* preflight spread= */
	char		soc_before[TEXT_MAX], soc_after[TEXT_MAX];
	char		lagging[TEXT_MAX];
	int		lagging_known;
	int		revert_triggers, revert_attempts, revert_confirmed;
	int64_t		trigger_mono;	/* first trigger, -1 none */
	int64_t		revert_ms;	/* trigger -> readback, -1 unknown */
	int		alarms_raised, alarms_cleared;
	int		refusals;
	int		repaired;	/* audit_open removed a torn record */
};

struct report {
	const struct opts	*o;
	int			 began;		/* header printed */
	struct run		 cur;
	int			 have;
	uint64_t		 nruns;
	/* last successful calibration */
	int			 ok_have;
	char			 ok_run[AUDIT_RUN_MAX + 1];
	char			 ok_start[32];
	int64_t			 ok_ms;
	struct plot		*plot;		/* --html */
	int			 silent;	/* report_last_success */
};

static void
run_init(struct run *u, const struct audit_record *r)
{
	memset(u, 0, sizeof(*u));
	(void)strlcpy(u->id, r->run, sizeof(u->id));
	(void)strlcpy(u->start, r->utc, sizeof(u->start));
	u->start_ms = r->utc_ms;
	u->first_mono = u->last_mono = r->mono_ms;
	u->first_utc = u->last_utc = r->utc_ms;
	u->authorised = -1;
	u->spread_before = u->spread_after = u->pre_spread = NAN;
	u->trigger_mono = u->revert_ms = -1;
	u->verify = -1;
}

static void
copy_str(const struct audit_record *r, const char *key, char *dst,
    size_t dstsz)
{
	const struct audit_rfield *f = audit_field(r, key);

	if (f != NULL && f->type == AF_STR && f->slen < dstsz &&
	    memchr(f->s, '\0', f->slen) == NULL)
		memcpy(dst, f->s, f->slen + 1);
}

/* A supervisor percentage: strict, finite, 0..100; NAN if not. */
static double
pct(const char *s)
{
	const char *why;
	double d;

	if (is_no_value_word(s) || parse_double(s, 0, 100, &d, &why) == -1)
		return NAN;
	return d;
}

/* max - min of a comma-separated SoC list; NAN if any value is bad. */
static double
list_spread(const char *list)
{
	char buf[TEXT_MAX], *p = buf, *tok;
	double lo = INFINITY, hi = -INFINITY;

	if (strlcpy(buf, list, sizeof(buf)) >= sizeof(buf) || buf[0] == '\0')
		return NAN;
	while ((tok = strsep(&p, ",")) != NULL) {
		double d = pct(tok);

		if (isnan(d))
			return NAN;
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	return hi - lo;
}

/* 1-based pack numbers below the verify threshold. */
static int
list_lagging(const char *list, double min, char *out, size_t outsz)
{
	char buf[TEXT_MAX], *p = buf, *tok;
	int pack = 0;

	out[0] = '\0';
	if (strlcpy(buf, list, sizeof(buf)) >= sizeof(buf) || buf[0] == '\0')
		return -1;
	while ((tok = strsep(&p, ",")) != NULL) {
		double d = pct(tok);
		char n[16];

		pack++;
		if (isnan(d))
			return -1;
		if (d < min) {
			(void)snprintf(n, sizeof(n), "%s%d", out[0] ? "," : "",
			    pack);
			(void)strlcat(out, n, outsz);
		}
	}
	return 0;
}

/* lagging=6,3 from the supervisor: digits and commas only. */
static int
valid_pack_list(const char *s)
{
	return strspn(s, "0123456789,") == strlen(s);
}

static void
supervisor_event(struct run *u, const struct audit_record *r)
{
	const struct audit_rfield *f = audit_field(r, AUDIT_F_TEXT);
	char v[TEXT_MAX];

	if (f == NULL || f->type != AF_STR)
		return;
	if (strcmp(r->event, AUDIT_EV_PREFLIGHT) == 0) {
		if (kv_get(f->s, f->slen, "spread", v, sizeof(v)) == 0)
			u->pre_spread = pct(v);
		if (kv_get(f->s, f->slen, "soc", v, sizeof(v)) == 0 &&
		    u->soc_before[0] == '\0')
			(void)strlcpy(u->soc_before, v, sizeof(u->soc_before));
		return;
	}
	if (strcmp(r->event, AUDIT_EV_REPORT) != 0)
		return;
	(void)kv_get(f->s, f->slen, "outcome", u->sup_outcome,
	    sizeof(u->sup_outcome));
	(void)kv_get(f->s, f->slen, "reason", u->sup_reason,
	    sizeof(u->sup_reason));
	(void)kv_get(f->s, f->slen, "method", u->sup_method,
	    sizeof(u->sup_method));
	if (kv_get(f->s, f->slen, "spread_before", v, sizeof(v)) == 0)
		u->spread_before = pct(v);
	if (kv_get(f->s, f->slen, "spread_after", v, sizeof(v)) == 0)
		u->spread_after = pct(v);
	if (kv_get(f->s, f->slen, "soc_before", v, sizeof(v)) == 0)
		(void)strlcpy(u->soc_before, v, sizeof(u->soc_before));
	if (kv_get(f->s, f->slen, "soc_after", v, sizeof(v)) == 0)
		(void)strlcpy(u->soc_after, v, sizeof(u->soc_after));
	if (kv_get(f->s, f->slen, "lagging", v, sizeof(v)) == 0 &&
	    valid_pack_list(v)) {
		(void)strlcpy(u->lagging, v, sizeof(u->lagging));
		u->lagging_known = 1;
	}
}

static void
watchdog_event(struct run *u, const struct audit_record *r)
{
	const char *e = r->event;
	double d;

	if (strcmp(e, AUDIT_EV_START) == 0) {
		u->has_start = 1;
		(void)strlcpy(u->start, r->utc, sizeof(u->start));
		u->start_ms = r->utc_ms;
		copy_str(r, "command", u->command, sizeof(u->command));
		copy_str(r, "method", u->method, sizeof(u->method));
		(void)audit_field_bool(r, "authorised", &u->authorised);
	} else if (strcmp(e, AUDIT_EV_END) == 0)
		u->has_end = 1;
	else if (strcmp(e, AUDIT_EV_AUTHORISE) == 0) {	/* --authorise ha */
		char res[WORD_MAX] = "";

		copy_str(r, "result", res, sizeof(res));
		if (strcmp(res, "accepted") == 0)
			u->authorised = 1;
	}
	else if (strcmp(e, AUDIT_EV_OUTCOME) == 0) {
		u->outcome[0] = '\0';
		copy_str(r, "outcome", u->outcome, sizeof(u->outcome));
		copy_str(r, "reason", u->reason, sizeof(u->reason));
		u->wd_outcome = u->outcome[0] != '\0';
	} else if (strcmp(e, AUDIT_EV_CONFIRMED) == 0 &&
	    u->revert_triggers == 0) {	/* before any revert: calibration */
		char set[WORD_MAX] = "";

		copy_str(r, "setting", set, sizeof(set));
		u->cal_confirmed |= strcmp(set, "charger_priority") == 0 ? 1 :
		    strcmp(set, "output_priority") == 0 ? 2 : 0;
	} else if (strcmp(e, EV_VERIFY) == 0) {
		int ok = 0;

		u->verify = audit_field_bool(r, "ok", &ok) == 0 && ok &&
		    u->verify != 0;
	} else if (strcmp(e, AUDIT_EV_REFUSE) == 0)
		u->refusals++;
	else if (strcmp(e, AUDIT_EV_REVERT_TRIGGER) == 0) {
		if (u->revert_triggers++ == 0)
			u->trigger_mono = r->mono_ms;
	} else if (strcmp(e, AUDIT_EV_REVERT_ATTEMPT) == 0)
		u->revert_attempts++;
	else if (strcmp(e, AUDIT_EV_REVERT_CONFIRMED) == 0) {
		/* the first confirmation answers the first trigger */
		if (u->revert_confirmed++ == 0 && u->trigger_mono >= 0)
			u->revert_ms = audit_field_num(r, "ms", &d) == 0 &&
			    d >= 0 ? (int64_t)d : r->mono_ms - u->trigger_mono;
	} else if (strcmp(e, AUDIT_EV_ALARM_RAISED) == 0)
		u->alarms_raised++;
	else if (strcmp(e, AUDIT_EV_ALARM_CLEARED) == 0)
		u->alarms_cleared++;
	else if (strcmp(e, AUDIT_EV_LOG_REPAIRED) == 0)
		u->repaired = 1;
}

/* What the watchdog's records lack for its "pass"; NULL if nothing. */
static const char *
unproven(const struct run *u)
{
	if (u->verify == 0)
		return "the watchdog's verify record denies it";
	if (strcmp(u->method, "grid") == 0) {
		if (u->cal_confirmed != 3)
			return "a calibration value was never confirmed";
		if (u->revert_confirmed == 0)
			return "no confirmed revert";
		return NULL;
	}
	if (strcmp(u->method, "solar") == 0 && u->verify == 1)
		return NULL;
	return "no verify record of the watchdog";
}

/* Final figures of a run, filling in from what the supervisor reported. */
static void
run_finish(struct report *rp, struct run *u)
{
	const char *no;

	if (u->wd_outcome && strcasecmp(u->outcome, "pass") == 0 &&
	    (no = unproven(u)) != NULL) {
		(void)strlcpy(u->outcome, "unproven", sizeof(u->outcome));
		(void)snprintf(u->reason, sizeof(u->reason), "pass claimed; "
		    "%s", no);
	}
	if (u->outcome[0] == '\0' && u->sup_outcome[0] != '\0') {
		(void)strlcpy(u->outcome, u->sup_outcome, sizeof(u->outcome));
		(void)strlcpy(u->reason, u->sup_reason, sizeof(u->reason));
	}
	if (u->outcome[0] == '\0')
		(void)strlcpy(u->outcome, u->has_start && !u->has_end ?
		    "incomplete" : "-", sizeof(u->outcome));
	if (u->repaired && u->reason[0] == '\0')
		(void)strlcpy(u->reason, "log repaired: a torn record from a "
		    "crash was removed (see show)", sizeof(u->reason));
	if (u->method[0] == '\0')
		(void)strlcpy(u->method, u->sup_method[0] != '\0' ?
		    u->sup_method : u->command[0] != '\0' ? u->command : "-",
		    sizeof(u->method));
	if (isnan(u->spread_before))
		u->spread_before = u->soc_before[0] != '\0' ?
		    list_spread(u->soc_before) : u->pre_spread;
	if (isnan(u->spread_after) && u->soc_after[0] != '\0')
		u->spread_after = list_spread(u->soc_after);
	if (!u->lagging_known && u->soc_after[0] != '\0' &&
	    list_lagging(u->soc_after, rp->o->verify_soc_pct, u->lagging,
	    sizeof(u->lagging)) == 0)
		u->lagging_known = 1;
	if (u->wd_outcome && strcasecmp(u->outcome, "pass") == 0 &&
	    !u->unverified &&
	    (!rp->ok_have || u->start_ms >= rp->ok_ms)) {
		rp->ok_have = 1;
		rp->ok_ms = u->start_ms;
		(void)strlcpy(rp->ok_run, u->id, sizeof(rp->ok_run));
		(void)strlcpy(rp->ok_start, u->start, sizeof(rp->ok_start));
	}
}

static void
fmt_duration(int64_t ms, char *buf, size_t sz)
{
	if (ms < 0)
		(void)snprintf(buf, sz, "-");
	else if (ms < 60000)
		(void)snprintf(buf, sz, "%.1fs", (double)ms / 1000.0);
	else
		(void)snprintf(buf, sz, "%" PRId64 "h%02" PRId64 "m%02" PRId64
		    "s", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60);
}

static void
fmt_pct(double d, char *buf, size_t sz)
{
	if (isnan(d))
		(void)snprintf(buf, sz, "?");
	else
		(void)snprintf(buf, sz, "%.1f", d);
}

static int64_t
run_duration(const struct run *u)
{
	return u->id[0] != '\0' ? u->last_mono - u->first_mono :
	    u->last_utc - u->first_utc;
}

static void
print_header(struct report *rp)
{
	if (rp->began)
		return;
	rp->began = 1;
	if (rp->silent)
		return;
	if (rp->o->html) {
		html_begin();
		return;
	}
	if (rp->o->json) {
		(void)printf("{\"runs\":[");
		return;
	}
	(void)printf("%-24s %-9s %-6s %-4s %-10s %-15s %-7s %-7s %-10s "
	    "%-7s %-31s %s\n", "START", "DURATION", "METHOD", "AUTH",
	    "OUTCOME", "SOC SPREAD", "LAGGING", "REVERTS", "REVERT->OK",
	    "ALARMS", "RUN", "REASON");
}

static void
print_row(const struct run *u)
{
	char dur[32], b[16], a[16], sp[40], rv[32], al[16];

	fmt_duration(run_duration(u), dur, sizeof(dur));
	fmt_pct(u->spread_before, b, sizeof(b));
	fmt_pct(u->spread_after, a, sizeof(a));
	(void)snprintf(sp, sizeof(sp), "%s -> %s", b, a);
	if (u->revert_triggers == 0)
		(void)snprintf(rv, sizeof(rv), "-");
	else if (u->revert_ms < 0)
		(void)snprintf(rv, sizeof(rv), "UNCONFIRMED");
	else
		fmt_duration(u->revert_ms, rv, sizeof(rv));
	(void)snprintf(al, sizeof(al), "%d%s", u->alarms_raised,
	    u->alarms_raised > u->alarms_cleared ? "!" : "");
	(void)printf("%s%-24s %-9s ", u->unverified ? "!" : "", u->start, dur);
	vis_put(stdout, u->method, strlen(u->method), 0);
	(void)printf("%*s %-4s ", (int)(6 - (strlen(u->method) < 6 ?
	    strlen(u->method) : 6)), "", u->authorised == 1 ? "yes" :
	    u->authorised == 0 ? "no" : "-");
	vis_put(stdout, u->outcome, strlen(u->outcome), 0);
	(void)printf("%*s %-15s ", (int)(10 - (strlen(u->outcome) < 10 ?
	    strlen(u->outcome) : 10)), "", sp);
	if (!u->lagging_known)
		(void)printf("%-7s ", "?");
	else
		(void)printf("%-7s ", u->lagging[0] != '\0' ? u->lagging :
		    "none");
	(void)printf("%-7d %-10s %-7s %-31s ", u->revert_attempts, rv, al,
	    u->id[0] != '\0' ? u->id : "-");
	vis_put(stdout, u->reason, strlen(u->reason), 0);
	(void)putchar('\n');
}

/* A JSON string in the log's own canonical escaping: pure ASCII. */
static void
json_str(const char *s)
{
	char buf[2 * TEXT_MAX * 6 + 1];

	(void)audit_escape((const unsigned char *)s, strlen(s), buf,
	    sizeof(buf) - 1);
	(void)printf("\"%s\"", buf);
}

static void
json_num(double d)
{
	char buf[AUDIT_NUM_MAX];

	audit_format_num(d, buf);
	(void)printf("%s", buf);
}

static void
print_json(const struct report *rp, const struct run *u)
{
	(void)printf("%s\n  {\"run\":", rp->nruns > 0 ? "," : "");
	json_str(u->id);
	(void)printf(",\"start\":");
	json_str(u->start);
	(void)printf(",\"duration_s\":");
	json_num((double)run_duration(u) / 1000.0);
	(void)printf(",\"method\":");
	json_str(u->method);
	(void)printf(",\"authorised\":%s", u->authorised == 1 ? "true" :
	    u->authorised == 0 ? "false" : "null");
	(void)printf(",\"outcome\":");
	json_str(u->outcome);
	(void)printf(",\"reason\":");
	json_str(u->reason);
	(void)printf(",\"soc_spread_before\":");
	json_num(u->spread_before);
	(void)printf(",\"soc_spread_after\":");
	json_num(u->spread_after);
	(void)printf(",\"lagging\":");
	if (u->lagging_known)
		json_str(u->lagging);
	else
		(void)printf("null");
	(void)printf(",\"refusals\":%d,\"revert_triggers\":%d,"
	    "\"revert_attempts\":%d,\"revert_confirm_s\":", u->refusals,
	    u->revert_triggers, u->revert_attempts);
	json_num(u->revert_ms < 0 ? NAN : (double)u->revert_ms / 1000.0);
	(void)printf(",\"alarms_raised\":%d,\"alarms_cleared\":%d,"
	    "\"records\":%" PRIu64 ",\"verified\":%s}", u->alarms_raised,
	    u->alarms_cleared, u->records, u->unverified ? "false" : "true");
}

static void
html_put(const struct run *u)
{
	struct html_row h;
	char dur[32];

	fmt_duration(run_duration(u), dur, sizeof(dur));
	h.start = u->start;
	h.duration = dur;
	h.method = u->method;
	h.outcome = u->outcome;
	h.reason = u->reason;
	h.run = u->id[0] != '\0' ? u->id : "-";
	h.lagging = u->lagging_known ? u->lagging : NULL;
	h.before = u->spread_before;
	h.after = u->spread_after;
	h.authorised = u->authorised;
	h.revert_attempts = u->revert_attempts;
	h.verified = !u->unverified;
	html_row(&h);
}

static void
flush_run(struct report *rp)
{
	if (!rp->have)
		return;
	run_finish(rp, &rp->cur);
	if (rp->silent)
		;
	else if (rp->o->json)
		print_json(rp, &rp->cur);
	else if (rp->o->html)
		html_put(&rp->cur);
	else
		print_row(&rp->cur);
	rp->nruns++;
	rp->have = 0;
}

static void
report_one(const struct audit_record *r, const char *line, size_t len,
    struct walk *w, void *arg)
{
	struct report *rp = arg;
	struct run *u = &rp->cur;

	(void)line;
	(void)len;
	print_header(rp);
	if (rp->plot != NULL)
		plot_feed(rp->plot, r, w->verified);
	if (r == NULL) {
		if (rp->have)
			u->unverified = 1;
		return;
	}
	/* a new run, or a second "start" under the same id */
	if (!rp->have || strcmp(r->run, u->id) != 0 ||
	    (strcmp(r->event, AUDIT_EV_START) == 0 &&
	    r->actor == AUDIT_WATCHDOG && u->has_start)) {
		flush_run(rp);
		run_init(u, r);
		rp->have = 1;
	}
	u->records++;
	if (!w->verified)
		u->unverified = 1;
	u->last_mono = r->mono_ms;
	u->last_utc = r->utc_ms;
	if (r->actor == AUDIT_WATCHDOG)
		watchdog_event(u, r);
	else
		supervisor_event(u, r);
}

/*
 * The last successful calibration by the rule above, without a word of
 * output (gridcal-audit due). Returns walk_verdict()'s code.
 */
int
report_last_success(const struct opts *o, struct last_success *ls)
{
	struct report *rp = calloc(1, sizeof(*rp));
	struct walk w;
	int rc;

	if (rp == NULL)
		return AX_IOERR;
	rp->o = o;
	rp->silent = 1;
	(void)walk_log(o, &w, report_one, rp);
	flush_run(rp);
	rc = walk_verdict(o, &w);
	memset(ls, 0, sizeof(*ls));
	if ((ls->have = rp->ok_have)) {
		ls->start_ms = rp->ok_ms;
		(void)strlcpy(ls->run, rp->ok_run, sizeof(ls->run));
		(void)strlcpy(ls->start, rp->ok_start, sizeof(ls->start));
	}
	free(rp);
	return rc;
}

int
cmd_report(const struct opts *o)
{
	struct report *rp = calloc(1, sizeof(*rp));
	struct walk w;
	int rc;

	if (rp == NULL)
		return AX_IOERR;
	rp->o = o;
	if (o->html)
		rp->plot = plot_new(o->run);
	/* The header waits for the log to open: errors come alone. */
	(void)walk_log(o, &w, report_one, rp);
	print_header(rp);
	flush_run(rp);
	rc = walk_verdict(o, &w);
	if (o->html) {
		char sum[256];

		if (rp->ok_have)
			(void)snprintf(sum, sizeof(sum), "%" PRIu64 " run(s). "
			    "Last successful calibration: %s (run %s), %" PRId64
			    " day(s) ago.", rp->nruns, rp->ok_start, rp->ok_run,
			    (o->now_ms - rp->ok_ms) / 86400000);
		else
			(void)snprintf(sum, sizeof(sum), "%" PRIu64 " run(s). "
			    "No successful calibration in the log.", rp->nruns);
		if (html_end(sum, rc == AX_OK, rp->plot) == -1 && rc == AX_OK)
			rc = AX_IOERR;
		plot_free(rp->plot);
	} else if (o->json) {
		(void)printf("%s],\n \"last_success\":", rp->nruns > 0 ? "\n" :
		    "");
		if (rp->ok_have) {
			(void)printf("{\"run\":");
			json_str(rp->ok_run);
			(void)printf(",\"start\":");
			json_str(rp->ok_start);
			(void)printf(",\"days_since\":%" PRId64 "}",
			    (o->now_ms - rp->ok_ms) / 86400000);
		} else
			(void)printf("null");
		(void)printf(",\n \"intact\":%s}\n", rc == AX_OK ? "true" :
		    "false");
	} else {
		(void)printf("\n%" PRIu64 " run(s). ", rp->nruns);
		if (rp->ok_have)
			(void)printf("Last successful calibration: %s (run "
			    "%s), %" PRId64 " day(s) ago.\n", rp->ok_start,
			    rp->ok_run, (o->now_ms - rp->ok_ms) / 86400000);
		else
			(void)printf("No successful calibration in the "
			    "log.\n");
		if (rc != AX_OK)
			(void)printf("Rows marked '!' hold records the chain "
			    "does not cover; they are not counted as "
			    "successful.\n");
	}
	free(rp);
	if (fflush(stdout) == EOF)
		return AX_IOERR;
	return rc;
}
