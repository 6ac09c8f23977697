/*
 * Expectations: what the plant says happened to it (its truth), how the
 * processes ended, what crossed the broker, and what the audit log
 * recorded. Every scenario also checks two invariants the suite exists
 * for: every unit ends in everyday settings, and no cell reached the BMS
 * protection voltage.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auditread.h"
#include "faults.h"
#include "harness.h"
#include "parse.h"
#include "run.h"

/*
 * The plant's truth (tests/plant): per unit the settings it actually
 * runs with, and the highest cell voltage it ever had.
 */
#define T_UNIT_SETTING	"units[%d].%s"
#define T_CELL_MAX_SEEN	"max_cell_v"
#define T_CTL_RECEIVED	"control.received"
#define IN_FLIGHT_MS	250	/* a truth already sent when a revert confirmed */

static const char *const truth_setting[SETTING_COUNT] = {
	[SETTING_OUTPUT_PRIORITY] = "output_priority",
	[SETTING_CHARGER_PRIORITY] = "charger_priority",
};

/*
 * The value a unit really runs with for a setting, as VALUE_EVERYDAY /
 * VALUE_CALIBRATION; -1 if unknown or anything else. The plant may report
 * the published word or the readback string: both are the profile's.
 */
static int
unit_value(struct run *r, const char *json, int u, enum setting s)
{
	char path[64], val[64];
	const struct control_spec *cs = &r->pf.control[s];

	(void)snprintf(path, sizeof(path), T_UNIT_SETTING, u, truth_setting[s]);
	if (hjson_str(json, path, val, sizeof(val)) == -1)
		return -1;
	for (int v = 0; v < VALUE_COUNT; v++)
		if (strcmp(val, cs->value[v]) == 0 ||
		    strcmp(val, cs->readback[v]) == 0)
			return v;
	return -1;
}

static bool
all_units(struct run *r, const char *json, int want)
{
	for (int u = 0; u < r->pf.units; u++)
		for (int s = 0; s < SETTING_COUNT; s++)
			if (unit_value(r, json, u, (enum setting)s) != want)
				return false;
	return true;
}

bool
truth_everyday(struct run *r, const char *json)
{
	return all_units(r, json, VALUE_EVERYDAY);
}

bool
truth_calibrating(struct run *r, const char *json)
{
	return all_units(r, json, VALUE_CALIBRATION);
}

bool
final_everyday(struct run *r, char *why, size_t whysz)
{
	char path[64], val[64];

	if (!r->have_final) {
		if (why != NULL)
			(void)snprintf(why, whysz, "the plant gave no final "
			    "truth");
		return false;
	}
	if (truth_everyday(r, r->final))
		return true;
	if (why != NULL) {
		why[0] = '\0';
		for (int u = 0; u < r->pf.units; u++)
			for (int s = 0; s < SETTING_COUNT; s++) {
				(void)snprintf(path, sizeof(path),
				    T_UNIT_SETTING, u, truth_setting[s]);
				if (hjson_str(r->final, path, val,
				    sizeof(val)) == -1)
					(void)strlcpy(val, "?", sizeof(val));
				(void)strlcat(why, path, whysz);
				(void)strlcat(why, "=", whysz);
				(void)strlcat(why, val, whysz);
				(void)strlcat(why, " ", whysz);
			}
	}
	return false;
}

/*
 * Compares the truth value at path with value: numerically when value is
 * a number, else as strings (== and != only). 1 holds, 0 does not, -1 no
 * such value (got says what was there).
 */
int
compare(const char *json, const char *path, const char *op,
    const char *value, char *got, size_t gotsz)
{
	const char *why;
	double want, have;
	char s[256];
	int cmp;

	if (parse_double(value, -1e12, 1e12, &want, &why) == 0) {
		if (hjson_num(json, path, &have) == -1) {
			(void)snprintf(got, gotsz, "(no number at %s)", path);
			return -1;
		}
		(void)snprintf(got, gotsz, "%g", have);
		cmp = have < want ? -1 : have > want ? 1 : 0;
	} else {
		if (hjson_str(json, path, s, sizeof(s)) == -1) {
			(void)snprintf(got, gotsz, "(no string at %s)", path);
			return -1;
		}
		(void)snprintf(got, gotsz, "\"%s\"", s);
		cmp = strcmp(s, value) == 0 ? 0 : 2;
		if (strcmp(op, "==") != 0 && strcmp(op, "!=") != 0)
			return -1;
	}
	if (strcmp(op, "==") == 0)
		return cmp == 0;
	if (strcmp(op, "!=") == 0)
		return cmp != 0;
	if (strcmp(op, "<") == 0)
		return cmp < 0;
	if (strcmp(op, "<=") == 0)
		return cmp <= 0;
	if (strcmp(op, ">") == 0)
		return cmp == 1;
	return cmp >= 0 && cmp != 2;
}

bool
file_contains(const char *path, const char *text)
{
	char *buf;
	bool found;

	if (access(path, R_OK) == -1 || (buf = harness_read_file(path,
	    NULL)) == NULL)
		return false;
	found = strstr(buf, text) != NULL;
	free(buf);
	return found;
}

/* ---- the audit log ---- */

static bool
field_matches(const struct audit_record *rec, const char *kv)
{
	const struct audit_rfield *f;
	char key[AUDIT_NAME_MAX + 1], val[512];
	const char *eq = strchr(kv, '=');
	size_t klen = (size_t)(eq - kv);

	if (klen >= sizeof(key))
		return false;
	memcpy(key, kv, klen);
	key[klen] = '\0';
	if ((f = audit_field(rec, key)) == NULL)
		return false;
	switch (f->type) {
	case AF_STR:
	case AF_BYTES:
		(void)strlcpy(val, f->s, sizeof(val));
		break;
	case AF_INT:
		(void)snprintf(val, sizeof(val), "%lld", (long long)f->i);
		break;
	case AF_NUM:
		if (f->is_null)
			(void)strlcpy(val, "null", sizeof(val));
		else
			(void)snprintf(val, sizeof(val), "%g", f->d);
		break;
	case AF_BOOL:
		(void)strlcpy(val, f->b ? "true" : "false", sizeof(val));
		break;
	}
	return fnmatch(eq + 1, val, 0) == 0;
}

/*
 * Calls fn for every record that parses; stops early when fn returns
 * nonzero and returns that. -1 if the log cannot be read.
 */
static int
audit_each(struct run *r, int (*fn)(const struct audit_record *, void *),
    void *arg)
{
	static struct audit_reader rd;
	static struct audit_record rec;
	const char *line;
	size_t len;
	char why[AUDIT_ERR_MAX];
	enum audit_rd e;
	int rc = 0;

	if (access(r->audit_log, R_OK) == -1)
		return -1;
	if (audit_reader_open(&rd, r->audit_log) == -1)
		return -1;
	while ((e = audit_reader_next(&rd, &line, &len)) == AUDIT_RD_LINE) {
		if (audit_parse(line, len, &rec, why, sizeof(why)) !=
		    AUDIT_PERR_NONE)
			continue;
		if ((rc = fn(&rec, arg)) != 0)
			break;
	}
	audit_reader_close(&rd);
	return rc;
}

struct has_arg {
	const char	*event;
	char *const	*kv;
	int		 nkv;
	int64_t		 mono;
};

static int
has_fn(const struct audit_record *rec, void *arg)
{
	const struct has_arg *a = arg;

	if (strcmp(rec->event, a->event) != 0)
		return 0;
	for (int i = 0; i < a->nkv; i++)
		if (!field_matches(rec, a->kv[i]))
			return 0;
	((struct has_arg *)arg)->mono = rec->mono_ms;
	return 1;
}

int
audit_has(struct run *r, const char *event, char *const kv[], int nkv)
{
	struct has_arg a = { event, kv, nkv, -1 };

	return audit_each(r, has_fn, &a);
}

int
audit_first_mono(struct run *r, const char *event, char *const kv[], int nkv,
    int64_t *mono)
{
	struct has_arg a = { event, kv, nkv, -1 };

	if (audit_each(r, has_fn, &a) <= 0)
		return -1;
	*mono = a.mono;
	return 0;
}

struct reasons_arg {
	char	*buf;
	size_t	 sz;
};

static int
reasons_fn(const struct audit_record *rec, void *arg)
{
	struct reasons_arg *a = arg;
	const char *why;
	char tok[40];

	if (strcmp(rec->event, AUDIT_EV_REVERT_TRIGGER) != 0 ||
	    (why = audit_field_str(rec, "reason")) == NULL)
		return 0;
	(void)snprintf(tok, sizeof(tok), "%s,", why);
	if (strstr(a->buf, tok) == NULL)
		(void)strlcat(a->buf, tok, a->sz);
	return 0;
}

static int
child_fn(const struct audit_record *rec, void *arg)
{
	struct reasons_arg *a = arg;
	const char *st;
	int n;

	if (strcmp(rec->event, AUDIT_EV_CHILD_EXIT) != 0 ||
	    (st = audit_field_str(rec, "status")) == NULL)
		return 0;
	if (sscanf(st, "exit %d", &n) == 1)
		(void)snprintf(a->buf, a->sz, "%d", n);
	else if (sscanf(st, "signal %d", &n) == 1)
		(void)snprintf(a->buf, a->sz, "sig%d", n);
	else
		(void)strlcpy(a->buf, "?", a->sz);
	return 0;
}

/* How the last supervisor ended, per the watchdog: "3", "sig9", "-". */
void
audit_child_status(struct run *r, char *buf, size_t bufsz)
{
	struct reasons_arg a = { buf, bufsz };

	(void)strlcpy(buf, "-", bufsz);
	(void)audit_each(r, child_fn, &a);
}

/* "eof,recovery" : the distinct revert triggers the watchdog recorded. */
void
audit_revert_reasons(struct run *r, char *buf, size_t bufsz)
{
	struct reasons_arg a = { buf, bufsz };
	size_t n;

	buf[0] = '\0';
	(void)audit_each(r, reasons_fn, &a);
	if ((n = strlen(buf)) > 0)
		buf[n - 1] = '\0';
}

/* gridcal-audit verify when it is built; the shared verifier otherwise. */
static void
expect_audit_verify(struct run *r, const struct sc_cmd *c)
{
	char bin[PATH_MAX];
	struct audit_verifier v;
	int rc;

	if (access(r->audit_log, R_OK) == -1) {
		run_fail(r, "line %d: no audit log at %s", c->lineno,
		    r->audit_log);
		return;
	}
	if (harness_path(bin, sizeof(bin), "build/gridcal-audit") == 0 &&
	    access(bin, X_OK) == 0) {
		char *argv[] = { bin, (char *)(uintptr_t)"verify", r->audit_log,
		    (char *)(uintptr_t)"--state-dir", r->state_dir, NULL };

		fflush(r->log);
		rc = hproc_run(argv, 30000);
		if (rc != 0)
			run_fail(r, "line %d: gridcal-audit verify exit %d",
			    c->lineno, rc);
		else
			run_log(r, "gridcal-audit verify: intact");
		return;
	}
	if (audit_verify_file(r->audit_log, r->state_dir, &v) == -1)
		run_fail(r, "line %d: audit log does not verify: line %llu: "
		    "%s: %s", c->lineno, (unsigned long long)v.bad_line,
		    audit_bad_name(v.bad), v.why);
	else
		run_log(r, "audit log verifies (%llu records; shared "
		    "verifier, gridcal-audit not built)",
		    (unsigned long long)v.records);
}

/* ---- expectations ---- */

static struct wdproc *
wd_named(struct run *r, const char *name)
{
	for (int i = 0; i < RUN_WATCHDOGS; i++)
		if (strcmp(r->wd_[i].name, name) == 0)
			return &r->wd_[i];
	return NULL;
}

static void
expect_exit(struct run *r, const struct sc_cmd *c)
{
	struct wdproc *w = wd_named(r, c->argv[2]);
	int code, sig;

	if (w == NULL || !w->started) {
		run_fail(r, "line %d: %s never started", c->lineno, c->argv[2]);
		return;
	}
	if (!w->p.exited) {
		run_fail(r, "line %d: %s had not exited", c->lineno, w->name);
		return;
	}
	code = hproc_exit_code(&w->p);
	sig = hproc_term_signal(&w->p);
	if (strcmp(c->argv[3], "signal") == 0) {
		int want = strcmp(c->argv[4], "KILL") == 0 ? SIGKILL :
		    strcmp(c->argv[4], "TERM") == 0 ? SIGTERM :
		    strcmp(c->argv[4], "INT") == 0 ? SIGINT : -1;

		if (sig != want)
			run_fail(r, "line %d: %s: exit %d signal %d, want "
			    "signal %s", c->lineno, w->name, code, sig,
			    c->argv[4]);
		return;
	}
	if (strcmp(c->argv[3], "nonzero") == 0) {
		if (code <= 0)
			run_fail(r, "line %d: %s: exit %d signal %d, want a "
			    "nonzero exit", c->lineno, w->name, code, sig);
		return;
	}
	if (code != atoi(c->argv[3]))
		run_fail(r, "line %d: %s: exit %d signal %d, want exit %s",
		    c->lineno, w->name, code, sig, c->argv[3]);
}

static void
expect_truth(struct run *r, const struct sc_cmd *c)
{
	char got[300];
	int rc;

	if (!r->have_final) {
		run_fail(r, "line %d: no final plant truth", c->lineno);
		return;
	}
	rc = compare(r->final, c->argv[2], c->argv[3], c->argv[4],
	    got, sizeof(got));
	if (rc != 1)
		run_fail(r, "line %d: plant truth %s %s %s: got %s", c->lineno,
		    c->argv[2], c->argv[3], c->argv[4], got);
}

static void
expect_audit(struct run *r, const struct sc_cmd *c, bool want)
{
	char *kv[SC_ARGS_MAX];
	int n = 0, rc;

	for (int i = 3; i < c->argc; i++)
		kv[n++] = (char *)(uintptr_t)c->argv[i];
	rc = audit_has(r, c->argv[2], kv, n);
	if (rc == -1 && want) {
		run_fail(r, "line %d: audit log %s unreadable", c->lineno,
		    r->audit_log);
		return;
	}
	if ((rc > 0) != want)
		run_fail(r, "line %d: audit log %s a record '%s'%s%s",
		    c->lineno, want ? "lacks" : "has", c->argv[2],
		    n > 0 ? " with " : "", n > 0 ? c->argv[3] : "");
}

static void
expect_control(struct run *r, const struct sc_cmd *c)
{
	struct hobs_msg m;
	char n[32], got[64];

	(void)snprintf(n, sizeof(n), "%zu", r->ctl_count);
	if (strcmp(c->argv[1], "no-control") == 0) {
		double rx;

		/* Both sides: the broker routed nothing, the plant got nothing. */
		if (r->have_final && (hjson_num(r->final, T_CTL_RECEIVED,
		    &rx) == -1 || rx != 0))
			run_fail(r, "line %d: the plant received control "
			    "messages (%s)", c->lineno, T_CTL_RECEIVED);
		if (r->ctl_count != 0) {
			if (hobs_log_get(r->obs, "solar/control/", 0, &m) == 0)
				run_fail(r, "line %d: %zu control messages, "
				    "first %s '%s'", c->lineno, r->ctl_count,
				    m.topic, m.payload);
			else
				run_fail(r, "line %d: %zu control messages",
				    c->lineno, r->ctl_count);
		}
		return;
	}
	/* control-count OP N: reuse the comparison on a tiny JSON text. */
	{
		char json[64];

		(void)snprintf(json, sizeof(json), "{\"n\":%s}", n);
		if (compare(json, "n", c->argv[2], c->argv[3], got,
		    sizeof(got)) != 1)
			run_fail(r, "line %d: %s control messages, want %s %s",
			    c->lineno, n, c->argv[2], c->argv[3]);
	}
}

static void
expect_stderr(struct run *r, const struct sc_cmd *c, bool want)
{
	char path[PATH_MAX];
	struct wdproc *w;
	const char *f = NULL;

	if (strcmp(c->argv[2], "plant") == 0) {
		if (run_path(r, path, sizeof(path), r->wd, "plant.err") == 0)
			f = path;
	} else if (strcmp(c->argv[2], "supervisor") == 0) {
		f = r->wd_[0].p.err_path;
	} else if ((w = wd_named(r, c->argv[2])) != NULL && w->started)
		f = w->p.err_path;
	if (f == NULL || f[0] == '\0') {
		run_fail(r, "line %d: no stderr for %s", c->lineno, c->argv[2]);
		return;
	}
	if (file_contains(f, c->argv[3]) != want)
		run_fail(r, "line %d: %s stderr %s \"%s\"", c->lineno,
		    c->argv[2], want ? "lacks" : "has", c->argv[3]);
}

/*
 * The retained alarm is gone or says it is clear: what a subscriber that
 * arrives now (Home Assistant after a restart) is given. The observer's
 * own latest copy can be stale: a broker stopped while the watchdog lived
 * sends the watchdog's will to it, and after the restart the clear may
 * come before the observer is back.
 */
static void
expect_alarm_clear(struct run *r, const struct sc_cmd *c)
{
	char buf[256];
	int n;

	if ((n = hbroker_retained(&r->br, r->pf.alarm_topic, buf, sizeof(buf),
	    10000)) == -1) {
		run_fail(r, "line %d: cannot read the retained alarm",
		    c->lineno);
		return;
	}
	if (n == 1 && strstr(buf, "clear") == NULL)
		run_fail(r, "line %d: alarm still raised: %s", c->lineno, buf);
}

struct last_arg {
	const char	*event;
	int64_t		 mono;
};

static int
last_fn(const struct audit_record *rec, void *arg)
{
	struct last_arg *a = arg;

	if (strcmp(rec->event, a->event) == 0)
		a->mono = rec->mono_ms;
	return 0;
}

/*
 * Once the watchdog has recorded a revert as confirmed, no unit may leave
 * everyday settings again unless a new calibration value was accepted
 * after it: a late apply of an old value, arriving after the watchdog
 * believed it was done, is a plant left in calibration settings without a
 * guardian. A truth that was already on its way when the revert was
 * confirmed is allowed for (one plant period and some).
 */
static void
safe_after_confirm(struct run *r)
{
	struct last_arg conf = { AUDIT_EV_REVERT_CONFIRMED, -1 };
	struct last_arg acc = { AUDIT_EV_ACCEPT, -1 };
	int64_t at;

	(void)audit_each(r, last_fn, &conf);
	(void)audit_each(r, last_fn, &acc);
	if (conf.mono < 0 || acc.mono > conf.mono)
		return;
	if ((at = tracker_unsafe_after(r, conf.mono + IN_FLIGHT_MS)) >= 0)
		run_fail(r, "a unit left everyday settings %.3f s after the "
		    "watchdog recorded the revert as confirmed",
		    (double)(at - conf.mono) / 1000.0);
}

static void
invariants(struct run *r)
{
	char why[512];
	double v;

	if (!final_everyday(r, why, sizeof(why))) {
		run_fail(r, "the plant did not end in everyday settings: %s",
		    why);
		return;
	}
	if (hjson_num(r->final, T_CELL_MAX_SEEN, &v) == 0 &&
	    v >= r->pf.limits.bms_protect_cell_v)
		run_fail(r, "a cell reached %.3f V (BMS protects at %.3f V)",
		    v, r->pf.limits.bms_protect_cell_v);
	safe_after_confirm(r);
}

/*
 * A safety deadline as a property: the plant's truth is everyday within
 * FACTOR x the scenario's reference timeout of the last fault or mark.
 */
static void
expect_safe_within(struct run *r, const struct sc_cmd *c)
{
	double k = strtod(c->argv[2], NULL);
	const char *what;
	int64_t ref = run_ratio_ref_ms(r, &what), at;
	bool never;

	if (r->t_fault <= 0 || ref <= 0) {
		run_fail(r, "line %d: safe-within needs a fault or mark step "
		    "and a ratio", c->lineno);
		return;
	}
	if ((at = tracker_safe_at(r, r->t_fault, &never)) < 0) {
		if (!never)
			run_fail(r, "line %d: never safe again", c->lineno);
		return;
	}
	if ((double)(at - r->t_fault) > k * (double)ref)
		run_fail(r, "line %d: safe after %.3f s, over %g x %s %.1f s",
		    c->lineno, (double)(at - r->t_fault) / 1000.0, k, what,
		    (double)ref / 1000.0);
}

void
run_expectations(struct run *r)
{
	const struct sc_cmd *c;
	const char *w;

	invariants(r);
	for (int i = 0; i < r->sc->nexpects; i++) {
		c = &r->sc->expects[i];
		w = c->argv[1];
		if (strcmp(w, "exit") == 0)
			expect_exit(r, c);
		else if (strcmp(w, "final") == 0)
			;	/* an invariant of every scenario */
		else if (strcmp(w, "truth") == 0)
			expect_truth(r, c);
		else if (strcmp(w, "no-control") == 0 ||
		    strcmp(w, "control-count") == 0)
			expect_control(r, c);
		else if (strcmp(w, "audit-verify") == 0)
			expect_audit_verify(r, c);
		else if (strcmp(w, "audit") == 0)
			expect_audit(r, c, true);
		else if (strcmp(w, "no-audit") == 0)
			expect_audit(r, c, false);
		else if (strcmp(w, "stderr") == 0)
			expect_stderr(r, c, true);
		else if (strcmp(w, "no-stderr") == 0)
			expect_stderr(r, c, false);
		else if (strcmp(w, "alarm-clear") == 0)
			expect_alarm_clear(r, c);
		else if (strcmp(w, "safe-within") == 0)
			expect_safe_within(r, c);
	}
}
