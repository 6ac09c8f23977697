/*
 * gridcal-audit, end to end: logs written by the real writer
 * (shared/audit.c), tampered with the way an attacker or a crash would,
 * then read by the real binary ($GRIDCAL_AUDIT) in a child process. Each
 * test asserts the exit status and the record and reason in the output.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "auditread.h"
#include "audittest.h"
#include "auditseal.h"
#include "clock.h"
#include "sealvk.h"

#define MAXLINES	256
#define OUT_MAX		(1 << 20)

static const char *bin;
static const char *stdin_path;	/* run(): the child's standard input */
static char dir[64], logp[PATH_MAX], statep[PATH_MAX];
static char out[OUT_MAX], errout[OUT_MAX];

static void
setup(void)
{
	(void)strlcpy(dir, "/tmp/gridcal-audit-cli.XXXXXX", sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	(void)snprintf(logp, sizeof(logp), "%s/audit.log", dir);
	(void)snprintf(statep, sizeof(statep), "%s/state", dir);
	ck_assert_int_eq(mkdir(statep, 0700), 0);
}

/* Every file the test made in d (the seal tests make several). */
static void
rm_files(const char *d)
{
	char p[PATH_MAX + 300];
	struct dirent *e;
	DIR *dp = opendir(d);

	if (dp == NULL)
		return;
	while ((e = readdir(dp)) != NULL)
		if (e->d_type != DT_DIR) {
			(void)snprintf(p, sizeof(p), "%s/%s", d, e->d_name);
			(void)unlink(p);
		}
	(void)closedir(dp);
}

static void
teardown(void)
{
	rm_files(statep);
	rm_files(dir);
	(void)rmdir(statep);
	(void)rmdir(dir);
}

/* Reads both pipes to EOF without deadlocking on either. */
static void
drain(int ofd, int efd)
{
	struct pollfd p[2] = { { ofd, POLLIN, 0 }, { efd, POLLIN, 0 } };
	size_t n[2] = { 0, 0 };
	char *buf[2] = { out, errout };
	int open = 2;

	while (open > 0) {
		ck_assert_int_ge(poll(p, 2, 10000), 1);
		for (int i = 0; i < 2; i++) {
			ssize_t r;

			if (p[i].fd == -1 || p[i].revents == 0)
				continue;
			r = read(p[i].fd, buf[i] + n[i], OUT_MAX - 1 - n[i]);
			if (r <= 0) {
				(void)close(p[i].fd);
				p[i].fd = -1;
				open--;
				continue;
			}
			n[i] += (size_t)r;
			ck_assert_uint_lt(n[i], OUT_MAX - 1);
		}
	}
	out[n[0]] = '\0';
	errout[n[1]] = '\0';
}

/* Runs gridcal-audit with the NULL-terminated arguments; exit status. */
static int
run(const char *arg, ...)
{
	const char *argv[32];
	int o[2], e[2], st, i = 1;
	va_list ap;
	pid_t pid;

	argv[0] = bin;
	va_start(ap, arg);
	for (const char *a = arg; a != NULL; a = va_arg(ap, const char *)) {
		ck_assert_int_lt(i, 31);
		argv[i++] = a;
	}
	va_end(ap);
	argv[i] = NULL;
	ck_assert_int_eq(pipe(o), 0);
	ck_assert_int_eq(pipe(e), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		int in = stdin_path != NULL ? open(stdin_path, O_RDONLY) : -1;

		if (in != -1)
			(void)dup2(in, STDIN_FILENO);
		(void)dup2(o[1], STDOUT_FILENO);
		(void)dup2(e[1], STDERR_FILENO);
		(void)closefrom(STDERR_FILENO + 1);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	(void)close(o[1]);
	(void)close(e[1]);
	drain(o[0], e[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	/* under check-audit-san the binary is instrumented */
	ck_assert_msg(strstr(errout, "Sanitizer") == NULL &&
	    strstr(errout, "runtime error") == NULL, "%s", errout);
	return WEXITSTATUS(st);
}

#define ck_out(s) ck_assert_msg(strstr(out, (s)) != NULL,		\
	"stdout lacks \"%s\":\n%.3000s\nstderr:\n%.1000s", (s), out, errout)
#define ck_err(s) ck_assert_msg(strstr(errout, (s)) != NULL,		\
	"stderr lacks \"%s\":\n%.3000s", (s), errout)

/* ------------------------------------------------- logs by the writer */

static struct audit_log al;

static void
wopen(const char *runid)
{
	char err[AUDIT_ERR_MAX];

	ck_assert_msg(audit_open(&al, logp, statep, err, sizeof(err)) == 0,
	    "%s", err);
	audit_set_nosync(&al, 1);
	if (runid != NULL)
		ck_assert_int_eq(audit_set_run(&al, runid), 0);
}

static void
wd(const char *event, const struct audit_field *f, size_t nf)
{
	ck_assert_int_eq(audit_append(&al, AUDIT_WATCHDOG, event, f, nf), 0);
}

static void
sup(const char *event, const char *text)
{
	struct audit_field f = AF_S(AUDIT_F_TEXT, text);

	ck_assert_int_eq(audit_append(&al, AUDIT_SUPERVISOR, event, &f, 1), 0);
}

static void
set_pair(const char *setting, const char *value, const char *readback)
{
	wd(AUDIT_EV_REQUEST, (struct audit_field[]){ AF_S("setting", setting),
	    AF_S("value", value) }, 2);
	wd(AUDIT_EV_ACCEPT, (struct audit_field[]){ AF_S("setting", setting),
	    AF_S("value", value) }, 2);
	wd(AUDIT_EV_PUBLISH, (struct audit_field[]){ AF_S("setting", setting),
	    AF_S("value", value), AF_I("attempt", 1) }, 3);
	wd(AUDIT_EV_CONFIRMED, (struct audit_field[]){ AF_S("setting",
	    setting), AF_S("value", value), AF_S("readback", readback) }, 3);
}

static void
start(const char *method, int authorised)
{
	wd(AUDIT_EV_START, (struct audit_field[]){
	    AF_S("profile_digest", "3f1c"), AF_S("command", "calibrate"),
	    AF_S("method", method), AF_B("authorised", authorised),
	    AF_I("watchdog_uid", 0), AF_I("supervisor_uid", 998) }, 6);
}

/* A grid-assist run that passes: the reference site's drift case. */
static void
run_grid_pass(const char *runid)
{
	wopen(runid);
	start("grid", 1);
	sup(AUDIT_EV_PREFLIGHT, "class=drift soc=51.0,52.0,50.0,55.0,53.0,"
	    "76.0 spread=26.0 vspread=0.04");
	set_pair("charger_priority", "solar_and_utility", "Solar + Utility");
	set_pair("output_priority", "solar_utility_battery", "SUB");
	sup("state", "from=engage to=absorption");
	sup(AUDIT_EV_REPORT, "outcome=pass reason=verified method=grid "
	    "soc_before=51.0,52.0,50.0,55.0,53.0,76.0 soc_after=100.0,100.0,"
	    "99.5,100.0,100.0,100.0 spread_before=26.0 spread_after=0.5 "
	    "lagging= duration_s=7200.0");
	wd(AUDIT_EV_REVERT_TRIGGER, (struct audit_field[]){
	    AF_S("reason", "done") }, 1);
	for (int i = 1; i <= 2; i++)
		wd(AUDIT_EV_REVERT_ATTEMPT, (struct audit_field[]){
		    AF_I("attempt", i), AF_S("setting", "output_priority") },
		    2);
	wd(AUDIT_EV_REVERT_CONFIRMED, (struct audit_field[]){
	    AF_I("attempts", 2), AF_I("ms", 41200) }, 2);
	wd(AUDIT_EV_CHILD_EXIT, (struct audit_field[]){
	    AF_S("status", "exit 0") }, 1);
	wd(AUDIT_EV_OUTCOME, (struct audit_field[]){ AF_S("outcome", "pass"),
	    AF_S("reason", "verified") }, 2);
	wd(AUDIT_EV_END, NULL, 0);
	audit_close(&al);
}

/* A solar run that fails with a lagging pack and an alarm. */
static void
run_solar_fail(const char *runid, const char *hostile)
{
	char text[512];

	wopen(runid);
	start("solar", 0);
	(void)snprintf(text, sizeof(text), "outcome=fail reason=%s "
	    "soc_after=100.0,100.0,100.0,100.0,100.0,97.0 lagging=6", hostile);
	sup(AUDIT_EV_REPORT, text);
	wd(AUDIT_EV_HEARTBEAT_LOST, (struct audit_field[]){
	    AF_I("age_ms", 5200) }, 1);
	wd(AUDIT_EV_ALARM_RAISED, (struct audit_field[]){
	    AF_S("reason", "revert_unconfirmed") }, 1);
	wd(AUDIT_EV_ALARM_CLEARED, NULL, 0);
	wd(AUDIT_EV_OUTCOME, (struct audit_field[]){ AF_S("outcome", "fail"),
	    AF_S("reason", "taper_timeout") }, 2);
	wd(AUDIT_EV_END, NULL, 0);
	audit_close(&al);
}

/* n simple records in one run, for tampering. */
static void
write_n(int n)
{
	wopen("run-t");
	for (int i = 0; i < n; i++)
		wd(AUDIT_EV_PUBLISH, (struct audit_field[]){ AF_I("i", i),
		    AF_S("setting", "output_priority") }, 2);
	audit_close(&al);
}

/* ------------------------------------------------------- tampering */

static char *lines[MAXLINES];
static size_t nlines;
static char tail[AUDIT_RECORD_MAX];

static void
load(void)
{
	FILE *fp = fopen(logp, "r");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	ck_assert_ptr_nonnull(fp);
	nlines = 0;
	tail[0] = '\0';
	while ((n = getline(&buf, &cap, fp)) > 0) {
		if (buf[n - 1] != '\n') {
			(void)strlcpy(tail, buf, sizeof(tail));
			break;
		}
		buf[n - 1] = '\0';
		ck_assert_uint_lt(nlines, MAXLINES);
		lines[nlines++] = strdup(buf);
	}
	free(buf);
	(void)fclose(fp);
}

static void
save(void)
{
	FILE *fp = fopen(logp, "w");

	ck_assert_ptr_nonnull(fp);
	for (size_t i = 0; i < nlines; i++) {
		if (lines[i] != NULL)
			(void)fprintf(fp, "%s\n", lines[i]);
		free(lines[i]);
	}
	(void)fputs(tail, fp);
	ck_assert_int_eq(fclose(fp), 0);
	nlines = 0;
}

static void
edit(size_t i, const char *from, const char *to)
{
	char buf[2 * AUDIT_RECORD_MAX], *p = strstr(lines[i], from);

	ck_assert_ptr_nonnull(p);
	(void)snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - lines[i]),
	    lines[i], to, p + strlen(from));
	free(lines[i]);
	lines[i] = strdup(buf);
}

static void
rehash(size_t i)
{
	char *h = strstr(lines[i], ",\"hash\":\""), hex[AUDIT_HASH_HEX + 1];

	ck_assert_ptr_nonnull(h);
	audit_hash(lines[i], (size_t)(h - lines[i]), hex);
	memcpy(h + 9, hex, AUDIT_HASH_HEX);
}

static int
verify_state(void)
{
	return run("verify", logp, "--state-dir", statep, NULL);
}

START_TEST(intact_log_verifies)
{
	run_grid_pass("run-a");
	run_solar_fail("run-b", "x");
	ck_assert_int_eq(verify_state(), 0);
	ck_out("intact: 26 records, seq 1..26");
	ck_out("anchor matches");
	ck_assert_int_eq(run("verify", logp, NULL), 0);
	ck_out("anchor not checked");
	ck_assert_int_eq(run("verify", "-q", logp, "--state-dir", statep,
	    NULL), 0);
	ck_assert_str_eq(out, "");
	/* an empty log, but the anchor remembers 26 records */
	ck_assert_int_eq(run("verify", "/dev/null", "--state-dir", statep,
	    NULL), 1);
	ck_out("truncated");
}
END_TEST

START_TEST(edit_value_detected)
{
	write_n(10);
	load();
	edit(4, "\"i\":4", "\"i\":5");
	save();
	ck_assert_int_eq(verify_state(), 1);
	ck_out("NOT INTACT");
	ck_out("line 5, seq 5: hash mismatch");
	ck_out("4 record(s) before it verified");
}
END_TEST

START_TEST(edit_and_rehash_detected)
{
	write_n(10);
	load();
	edit(4, "\"i\":4", "\"i\":5");
	rehash(4);
	save();
	ck_assert_int_eq(verify_state(), 1);
	ck_out("line 5, seq 5: chain broken: record altered and re-hashed");
}
END_TEST

START_TEST(delete_line_detected)
{
	write_n(10);
	load();
	free(lines[6]);
	lines[6] = NULL;
	save();
	ck_assert_int_eq(verify_state(), 1);
	ck_out("line 7, seq 7: sequence gap: seq 7 missing (deleted)");
}
END_TEST

START_TEST(forged_insert_detected)
{
	write_n(10);
	load();
	for (size_t i = nlines; i > 5; i--)
		lines[i] = lines[i - 1];
	nlines++;
	lines[5] = strdup(lines[6]);	/* a copy of seq 6 ... */
	edit(5, "\"i\":5", "\"i\":500");	/* ... altered ... */
	rehash(5);			/* ... with its own hash redone */
	save();
	ck_assert_int_eq(verify_state(), 1);
	ck_out("line 6, seq 6: sequence out of order: forged record inserted");
}
END_TEST

START_TEST(swap_detected)
{
	char *t;

	write_n(10);
	load();
	t = lines[2];
	lines[2] = lines[3];
	lines[3] = t;
	save();
	ck_assert_int_eq(verify_state(), 1);
	ck_out("line 3, seq 4: sequence out of order: reordered");
}
END_TEST

START_TEST(truncated_tail_detected)
{
	write_n(10);
	load();
	for (size_t i = 7; i < 10; i++)
		free(lines[i]);
	nlines = 7;
	save();
	/* the chain alone cannot tell ... */
	ck_assert_int_eq(run("verify", logp, NULL), 0);
	/* ... the anchor can */
	ck_assert_int_eq(verify_state(), 1);
	ck_out("line 8, seq 8: truncated: log ends at seq 7 but the anchor "
	    "records seq 10");
}
END_TEST

START_TEST(truncated_mid_line_detected)
{
	write_n(10);
	load();
	(void)strlcpy(tail, lines[9], 100);
	free(lines[9]);
	nlines = 9;
	save();
	ck_assert_int_eq(verify_state(), 1);
	ck_out("line 10, seq 10: torn line");
}
END_TEST

START_TEST(appended_forgery_detected)
{
	/* records appended with a valid chain, but not by the writer */
	write_n(5);
	load();
	for (int i = 5; i < 7; i++) {
		char seq[16], nseq[16], prev[AUDIT_HASH_HEX + 1];
		const char *h = strstr(lines[i - 1], ",\"hash\":\"") + 9;
		const char *p = strstr(lines[i - 1], "\"prev\":\"") + 8;

		lines[i] = strdup(lines[i - 1]);
		(void)snprintf(seq, sizeof(seq), "{\"seq\":%d,", i);
		(void)snprintf(nseq, sizeof(nseq), "{\"seq\":%d,", i + 1);
		edit((size_t)i, seq, nseq);
		(void)snprintf(prev, sizeof(prev), "%.64s", p);
		{
			char nh[AUDIT_HASH_HEX + 1];

			(void)snprintf(nh, sizeof(nh), "%.64s", h);
			edit((size_t)i, prev, nh);
		}
		rehash((size_t)i);
		nlines++;
	}
	save();
	ck_assert_int_eq(run("verify", logp, NULL), 0);
	ck_assert_int_eq(verify_state(), 1);
	/* the anchor announced nothing: the first forged record is named */
	ck_out("line 6, seq 6: anchor mismatch");
	ck_out("announces 0 more");
}
END_TEST

START_TEST(broken_json_detected)
{
	write_n(6);
	load();
	edit(3, "\"fields\":{", "\"fields\":");
	save();
	ck_assert_int_eq(verify_state(), 1);
	ck_out("line 4, seq 4: broken JSON: byte ");
	teardown();
	setup();
	write_n(6);
	load();
	edit(2, "\"utc\":", "\"time\":");
	save();
	ck_assert_int_eq(verify_state(), 1);
	ck_out("line 3, seq 3: missing or unknown field");
}
END_TEST

START_TEST(show_escapes_hostile_text)
{
	static const char hostile[] = "x\x1b[2J\x1b]0;owned\x07\r\nfake "
	    "2026-01-01T00:00:00.000Z #1 watchdog outcome pass\xc3\xa9\x9b";
	const char *p;
	int nl = 0;

	wopen("run-h");
	start("solar", 0);
	sup("abort", hostile);
	audit_close(&al);
	ck_assert_int_eq(run("show", logp, NULL), 0);
	for (p = out; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		ck_assert_msg(c == '\n' || (c >= 0x20 && c <= 0x7e),
		    "byte 0x%02x reached the terminal:\n%s", c, out);
		nl += c == '\n';
	}
	/* header, run separator, two records: no injected line */
	ck_assert_int_eq(nl, 4);
	ck_out("supervisor abort            text=\"x\\033[2J\\033]0;owned"
	    "\\a\\r\\nfake 2026-01-01T00:00:00.000Z #1 watchdog outcome "
	    "pass\\303\\251\\233\"");
	/* --json gives the stored lines: printable ASCII as well */
	ck_assert_int_eq(run("show", "--json", logp, NULL), 0);
	ck_out("\\u001b[2J\\u001b]0;owned\\u0007\\u000d\\u000afake");
	for (p = out; *p != '\0'; p++)
		ck_assert(*p == '\n' || (*p >= 0x20 && *p <= 0x7e));
}
END_TEST

START_TEST(show_filters_and_marks)
{
	char since[32];

	run_grid_pass("run-a");
	run_solar_fail("run-b", "x");
	ck_assert_int_eq(run("show", logp, "--run", "run-b", NULL), 0);
	ck_assert(strstr(out, "run-a") == NULL);
	ck_out("-- run run-b --");
	ck_out("watchdog   heartbeat_lost   age_ms=5200");
	utc_format(utc_ms() + 3600000, since, sizeof(since));
	ck_assert_int_eq(run("show", logp, "--since", since, NULL), 0);
	ck_assert(strstr(out, "-- run") == NULL);
	ck_assert_int_eq(run("show", logp, "--since", "1d", "--json", NULL), 0);
	ck_out("\"seq\":26,");
	/* an altered record is shown, marked, and the exit says so */
	load();
	edit(13, "\"attempt\":", "\"attempt\":9");
	save();
	ck_assert_int_eq(run("show", logp, NULL), 1);
	ck_out("!! line 14: hash mismatch");
	ck_out("! 20");
	ck_err("NOT INTACT from line 14");
	ck_assert_int_eq(run("show", logp, "--since", "garbage", NULL), 64);
}
END_TEST

START_TEST(report_computes_figures)
{
	char now[32], days[64];
	const char *row;

	run_grid_pass("run-a");
	run_solar_fail("run-b", "\x1b[31mSPOOF");
	/* a refused grid run: not authorised */
	wopen("run-c");
	start("grid", 0);
	wd(AUDIT_EV_REFUSE, (struct audit_field[]){
	    AF_S("reason", "not_authorised"), AF_S("setting",
	    "charger_priority") }, 2);
	wd(AUDIT_EV_OUTCOME, (struct audit_field[]){
	    AF_S("outcome", "refused"), AF_S("reason", "not_authorised") }, 2);
	wd(AUDIT_EV_END, NULL, 0);
	audit_close(&al);
	/* a run that never ended */
	wopen("run-d");
	start("grid", 1);
	wd(AUDIT_EV_REVERT_TRIGGER, (struct audit_field[]){
	    AF_S("reason", "heartbeat") }, 1);
	wd(AUDIT_EV_REVERT_ATTEMPT, (struct audit_field[]){
	    AF_I("attempt", 1) }, 1);
	wd(AUDIT_EV_ALARM_RAISED, (struct audit_field[]){
	    AF_S("reason", "revert_unconfirmed") }, 1);
	audit_close(&al);

	utc_format(utc_ms() + 40 * 86400000LL + 3600000, now, sizeof(now));
	ck_assert_int_eq(run("report", logp, "--now", now, NULL), 0);
	ck_out("METHOD AUTH OUTCOME");
	row = strstr(out, "run-a");
	ck_assert_ptr_nonnull(row);
	ck_out(" grid   yes  pass       26.0 -> 0.5     none    2       41.2s"
	    "      0       run-a                           verified\n");
	ck_out(" solar  no   fail       ? -> 3.0        6       0       -"
	    "          1       run-b                           taper_timeout\n");
	ck_out(" grid   no   refused    ? -> ?          ?       0       -"
	    "          0       run-c                           not_authorised\n");
	ck_out(" grid   yes  incomplete ? -> ?          ?       1       "
	    "UNCONFIRMED 1!      run-d");
	ck_out("4 run(s). Last successful calibration: ");
	(void)snprintf(days, sizeof(days), "(run run-a), 40 day(s) ago.");
	ck_out(days);

	ck_assert_int_eq(run("report", "--json", logp, "--now", now, NULL), 0);
	ck_out("{\"run\":\"run-a\",");
	ck_out("\"method\":\"grid\",\"authorised\":true,\"outcome\":\"pass\","
	    "\"reason\":\"verified\",\"soc_spread_before\":26,"
	    "\"soc_spread_after\":0.5,\"lagging\":\"\",\"refusals\":0,"
	    "\"revert_triggers\":1,\"revert_attempts\":2,"
	    "\"revert_confirm_s\":41.2,\"alarms_raised\":0");
	ck_out("\"lagging\":\"6\"");
	ck_out("\"days_since\":40}");
	ck_out("\"intact\":true}");
}
END_TEST

START_TEST(report_distrusts_supervisor_text)
{
	/* no watchdog outcome: the supervisor's claim is shown, escaped */
	wopen("run-s");
	start("solar", 0);
	sup(AUDIT_EV_REPORT, "outcome=\x1b[32mpass reason=\x1b]0;x\x07 "
	    "spread_before=1e999 spread_after=nan lagging=$(reboot) "
	    "soc_after=100,abc");
	wd(AUDIT_EV_END, NULL, 0);
	audit_close(&al);
	ck_assert_int_eq(run("report", logp, NULL), 0);
	ck_out("\\033[32mpass");
	ck_out("\\033]0;x\\a");
	ck_out("? -> ?");
	ck_out("No successful calibration in the log.");
	for (const char *p = out; *p != '\0'; p++)
		ck_assert(*p == '\n' || (*p >= 0x20 && *p <= 0x7e));
}
END_TEST

START_TEST(report_shows_crash_repair)
{
	int fd;

	run_grid_pass("run-a");
	/* power lost in the middle of the next record (19 bytes and a NUL) */
	fd = open(logp, O_WRONLY | O_APPEND);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, "{\"seq\":20,\"utc\":\"20", 20), 20);
	(void)close(fd);
	ck_assert_int_eq(verify_state(), 1);
	ck_out("line 20, seq 20: torn line");
	run_grid_pass("run-b");		/* audit_open repairs first */
	ck_assert_int_eq(verify_state(), 0);
	ck_out("intact: 39 records");
	ck_assert_int_eq(run("report", logp, NULL), 0);
	ck_out(" -      -    -          ? -> ?          ?       0       -"
	    "          0       -                               log repaired");
	ck_out("3 run(s). Last successful calibration: ");
	ck_out("(run run-b)");
	ck_assert_int_eq(run("show", logp, NULL), 0);
	ck_out("log_repaired     torn_bytes=20 torn_text="
	    "\"{\\\"seq\\\":20,\\\"utc\\\":\\\"20\\0\"");
}
END_TEST

/*
 * rotate: the log becomes a segment ending in segment_end, the new log
 * starts with segment_start chained to it; the writer (the watchdog)
 * carries on; verify follows the segments back to seq 1 and notices a
 * segment altered, cut or missing; a log held by a writer, or one that
 * does not verify, is not rotated.
 */
START_TEST(rotate_chains_segments)
{
	char seg[PATH_MAX + 32], seg_name[64], keep[PATH_MAX + 32];

	write_n(10);
	(void)snprintf(seg, sizeof(seg), "%s.%010d", logp, 11);
	(void)snprintf(seg_name, sizeof(seg_name), "audit.log.%010d", 11);
	ck_assert_int_eq(run("rotate", logp, "--state-dir", statep, NULL), 0);
	ck_out("rotated");
	ck_assert_int_eq(access(seg, F_OK), 0);
	/* the watchdog opens the new segment and appends to it */
	write_n(3);
	ck_assert_int_eq(verify_state(), 0);
	ck_out("intact: 4 records, seq 12..15");
	ck_out(seg_name);
	ck_out("intact, seq 1..11, chained to the next");
	/* a second rotation: three segments, all followed */
	ck_assert_int_eq(run("rotate", logp, "--state-dir", statep, NULL), 0);
	ck_assert_int_eq(verify_state(), 0);
	ck_out("seq 1..11");
	ck_out("seq 12..16");
	/* a writer holds the log: not rotated */
	wopen(NULL);
	ck_assert_int_ne(run("rotate", logp, "--state-dir", statep, NULL), 0);
	audit_close(&al);
	/* the oldest segment altered and re-hashed: the chain says so */
	(void)strlcpy(keep, logp, sizeof(keep));
	(void)strlcpy(logp, seg, sizeof(logp));
	load();
	edit(9, "\"i\":9", "\"i\":8");
	rehash(9);
	save();
	(void)strlcpy(logp, keep, sizeof(logp));
	ck_assert_int_eq(verify_state(), 1);
	ck_out("NOT INTACT");
	ck_out(seg_name);
	/* a log that does not verify is not rotated */
	ck_assert_int_eq(run("rotate", logp, "--state-dir", statep, NULL), 1);
	ck_out("not rotated");
	/* the segment gone */
	ck_assert_int_eq(unlink(seg), 0);
	ck_assert_int_eq(verify_state(), 1);
	(void)snprintf(seg, sizeof(seg), "%s.%010d", logp, 16);
	ck_assert_int_eq(unlink(seg), 0);
}
END_TEST

START_TEST(usage_and_errors)
{
	write_n(2);
	ck_assert_int_eq(run(NULL), 64);
	ck_err("usage: gridcal-audit");
	ck_assert_int_eq(run("frob", NULL), 64);
	ck_err("unknown command frob");
	ck_assert_int_eq(run("verify", logp, "--run", "x", NULL), 64);
	ck_assert_int_eq(run("verify", logp, "extra", NULL), 64);
	ck_assert_int_eq(run("verify", logp, "--utc-slack", "-1", NULL), 64);
	ck_assert_int_eq(run("verify", "/nonexistent/audit.log", NULL), 66);
	ck_err("/nonexistent/audit.log: No such file or directory");
	ck_assert_int_eq(run("report", "/nonexistent/audit.log", NULL), 66);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(run("show", "/nonexistent/audit.log", NULL), 66);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(run("verify", logp, "--state-dir", "/nonexistent",
	    NULL), 66);
	ck_assert_int_eq(run("--profile", "/nonexistent.yaml", "verify", NULL),
	    78);
	ck_assert_int_eq(run("--help", NULL), 0);
	ck_out("EXIT STATUS");
	ck_out("verify  Recomputes the chain");
	ck_assert_int_eq(run("report", "-h", NULL), 0);
	ck_out("--since T");
}
END_TEST

/* ------------------------------------------------------------ sealing */

/*
 * The attacker of issue 17: root on the host now, so the log, the anchor
 * and audit.key (the current epoch key) are theirs; the verification key
 * is not (it was printed at setup and kept off the host), nor are the
 * seals an observer already holds from gridcal/audit/seal.
 */
static char vk[SEALVK_TEXT], sealsp[PATH_MAX];
static struct audit_seal sl;

static void
keep_published(const char *payload, size_t len)
{
	FILE *fp = fopen(sealsp, "a");

	ck_assert_ptr_nonnull(fp);
	(void)fprintf(fp, "%.*s\n", (int)len, payload);
	ck_assert_int_eq(fclose(fp), 0);
}

static void
seal_setup(void)
{
	(void)snprintf(sealsp, sizeof(sealsp), "%s/seals.txt", dir);
	ck_assert_int_eq(sealvk_keygen(statep, vk), 0);
	ck_assert_uint_eq(strlen(vk), SEALVK_TEXT - 1);
}

/* One watchdog run: n records, then (seal) the end of its epoch. */
static void
sealed_run(int n, int seal)
{
	char err[AUDIT_ERR_MAX];

	wopen("run-s");
	sl.publish = keep_published;
	ck_assert_msg(auditseal_open(&sl, &al, err, sizeof(err)) == 0,
	    "%s", err);
	for (int i = 0; i < n; i++) {
		wd(AUDIT_EV_PUBLISH, (struct audit_field[]){ AF_I("i", i),
		    AF_S("setting", "output_priority") }, 2);
		/* as the watchdog's loop: an epoch ends every N records */
		ck_assert_int_eq(auditseal_tick(&sl, &al, 0), 0);
	}
	if (seal)
		ck_assert_int_eq(auditseal_tick(&sl, &al, 1), 0);
	auditseal_close(&sl);
	audit_close(&al);
}

static int
verify_key(const char *extra, const char *arg)
{
	return run("verify", logp, "--key", vk, extra, arg, NULL);
}

/* Fixed offsets of a line's prev and hash (auditfmt.h FIXED LAYOUT). */
static char *
prev_of(size_t i)
{
	return lines[i] + strlen(lines[i]) - AUDIT_TAIL_LEN +
	    sizeof(AUDIT_TAIL_PREV) - 1;
}

static const char *
hash_of(size_t i)
{
	return lines[i] + strlen(lines[i]) - 2 - AUDIT_HASH_HEX;
}

/*
 * What an attacker without the old keys does after editing line i: every
 * later prev (and a seal's head) made to fit, every hash recomputed.
 */
static void
rechain_from(size_t i)
{
	for (size_t j = i; j < nlines; j++) {
		char *h;

		if (j > 0) {
			memcpy(prev_of(j), hash_of(j - 1), AUDIT_HASH_HEX);
			if ((h = strstr(lines[j], "\"head\":\"")) != NULL)
				memcpy(h + 8, hash_of(j - 1), AUDIT_HASH_HEX);
		}
		rehash(j);
	}
}

/* The anchor rewritten to the log's last line, as root would. */
static void
anchor_to_end(void)
{
	char p[PATH_MAX + 32];
	FILE *fp;

	(void)snprintf(p, sizeof(p), "%s/%s", statep, AUDIT_ANCHOR_NAME);
	ck_assert_ptr_nonnull(fp = fopen(p, "w"));
	/* the last record's own seq: a rotated log does not start at 1 */
	(void)fprintf(fp, "%llu %.64s\n", strtoull(lines[nlines - 1] +
	    sizeof(AUDIT_HEAD) - 1, NULL, 10), hash_of(nlines - 1));
	ck_assert_int_eq(fclose(fp), 0);
}

static void
copy_file(const char *from, const char *to)
{
	char buf[1 << 16];
	FILE *a = fopen(from, "r"), *b = fopen(to, "w");
	size_t n;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	while ((n = fread(buf, 1, sizeof(buf), a)) > 0)
		ck_assert_uint_eq(fwrite(buf, 1, n, b), n);
	(void)fclose(a);
	ck_assert_int_eq(fclose(b), 0);
}

static int
reopen_refused(const char *what)
{
	char err[AUDIT_ERR_MAX];
	struct audit_log l;
	int rc;

	if (audit_open(&l, logp, statep, err, sizeof(err)) == -1)
		return strstr(err, what) != NULL;
	rc = auditseal_open(&sl, &l, err, sizeof(err));
	auditseal_close(&sl);
	audit_close(&l);
	return rc == -1 && strstr(err, what) != NULL;
}

/*
 * Root's best without the old keys: drop every seal, rechain, and seal the
 * result with the key audit.key holds now.
 */
static void
forge_with_current_key(void)
{
	struct seal_keyfile kf;
	struct seal_mark m;
	char p[PATH_MAX + 32], buf[SEAL_KEYFILE_MAX];
	size_t j = 0;
	FILE *fp;

	load();
	for (size_t i = 0; i < nlines; i++)
		if (strstr(lines[i], "\"event\":\"seal\"") != NULL)
			free(lines[i]);
		else {
			lines[j] = lines[i];
			j++;
		}
	nlines = j;
	for (size_t i = 0; i < nlines; i++) {
		char seq[32], *e = strchr(lines[i], ',');

		(void)snprintf(seq, sizeof(seq), "{\"seq\":%zu", i + 1);
		ck_assert_ptr_nonnull(e);
		(void)snprintf(buf, sizeof(buf), "%s%s", seq, e);
		free(lines[i]);
		lines[i] = strdup(buf);
	}
	rechain_from(0);
	save();
	load();
	anchor_to_end();
	save();
	(void)snprintf(p, sizeof(p), "%s/%s", statep, SEAL_KEY_NAME);
	ck_assert_ptr_nonnull(fp = fopen(p, "r"));
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), fp));
	(void)fclose(fp);
	ck_assert_int_eq(seal_keyfile_parse(buf, strlen(buf), &kf), 0);
	ck_assert_uint_eq(kf.epoch, 3);
	wopen("run-x");
	m = (struct seal_mark){ .epoch = kf.epoch, .seq = al.seq };
	(void)strlcpy(m.head, al.prev, sizeof(m.head));
	seal_mac(kf.key, &m);
	wd(AUDIT_EV_SEAL, (struct audit_field[]){ AF_I("epoch", 3),
	    AF_I("head_seq", (int64_t)m.seq), AF_S("head", m.head),
	    AF_S("mac", m.mac) }, 4);
	audit_close(&al);
}

START_TEST(sealed_log_verifies)
{
	seal_setup();
	sealed_run(5, 1);
	sealed_run(SEAL_EPOCH_RECORDS + 3, 1);
	sealed_run(2, 1);
	/* 3 runs: 5 + 1, 256 + 1 + 3 + 1, 2 + 1 records */
	ck_assert_int_eq(verify_key("--state-dir", statep), 0);
	ck_out("chain intact: 270 records");
	ck_out("sealed: seq 1..270 (4 seal(s), epochs 0..3");
	ck_assert_int_eq(verify_key("--seal-from", sealsp), 0);
	ck_out("published seals: 4 matched by the log");
	ck_assert_int_eq(verify_key(NULL, NULL), 0);
	ck_out("not pinned");
	/* without the key: the chain only, and said so */
	ck_assert_int_eq(run("verify", logp, NULL), 0);
	ck_out("only the chain was checked (no --key)");
	ck_assert(strstr(out, "sealed:") == NULL);
	/* another seed: no seal verifies */
	ck_assert_int_eq(run("verify", logp, "--key", "00000000-00000000-"
	    "00000000-00000000-00000000-00000000-00000000-00000001", NULL), 1);
	ck_out("line 6, seq 6: seal: the seal of epoch 0 does not verify");
	ck_assert_int_eq(run("verify", logp, "--key", "12-34", NULL), 64);
	/* --key -: from standard input, not the command line */
	{
		char kp[PATH_MAX + 16];
		FILE *fp;

		(void)snprintf(kp, sizeof(kp), "%s/vk.txt", dir);
		ck_assert_ptr_nonnull(fp = fopen(kp, "w"));
		(void)fprintf(fp, "%s\n", vk);
		ck_assert_int_eq(fclose(fp), 0);
		stdin_path = kp;
		ck_assert_int_eq(run("verify", logp, "--key", "-", NULL), 0);
		stdin_path = NULL;
		ck_out("sealed: seq 1..270");
	}
}
END_TEST

/*
 * journald's CVE-2023-31439: entries after the last seal were reported as
 * verified. Here they are the unsealed tail, never "intact" (exit 2), even
 * when rewritten, and the count of sealed records does not grow.
 */
START_TEST(unsealed_tail_is_reported)
{
	seal_setup();
	sealed_run(4, 1);
	sealed_run(3, 0);		/* a run that died before its seal */
	ck_assert_int_eq(verify_key("--state-dir", statep), 2);
	ck_out("sealed: seq 1..5 (1 seal(s), epochs 0..0");
	ck_out("UNSEALED TAIL: seq 6..8 (3 record(s) after the last seal)");
	ck_assert_int_eq(run("verify", "-q", logp, "--key", vk, NULL), 2);
	/* the tail rewritten and rechained: still unsealed, not intact */
	load();
	edit(6, "\"i\":1", "\"i\":7");
	rechain_from(6);
	save();
	ck_assert_int_eq(verify_key(NULL, NULL), 2);
	ck_out("UNSEALED TAIL: seq 6..8");
	ck_assert(strstr(out, "sealed: seq 1..8") == NULL);
	/*
	 * The limit: the next run seals whatever the tail holds then. What
	 * root rewrote before a seal is sealed; the epoch makes that window
	 * one run or N records at most.
	 */
	load();
	anchor_to_end();
	save();
	sealed_run(1, 1);
	ck_assert_int_eq(verify_key(NULL, NULL), 0);
	ck_out("sealed: seq 1..10 (2 seal(s), epochs 0..1");
}
END_TEST

/* A sealed record edited, the chain recomputed, the old keys unknown. */
START_TEST(rechain_detected)
{
	seal_setup();
	sealed_run(4, 1);
	sealed_run(4, 1);
	sealed_run(4, 1);
	load();
	edit(1, "\"i\":1", "\"i\":9");
	rechain_from(1);
	anchor_to_end();
	save();
	/* the chain and the anchor are consistent again ... */
	ck_assert_int_eq(run("verify", logp, "--state-dir", statep, NULL), 0);
	ck_out("only the chain was checked");
	/* ... but the first seal after the edit is not */
	ck_assert_int_eq(verify_key("--state-dir", statep), 1);
	ck_out("line 5, seq 5: seal: the seal of epoch 0 does not verify");
	/* every seal dropped and one made with the current key (epoch 3,
	 * which audit.key holds): the epochs give it away */
	forge_with_current_key();
	ck_assert_int_eq(verify_key(NULL, NULL), 1);
	ck_out("seal: the first seal is of epoch 3, not 0");
	ck_assert_int_eq(verify_key("--state-dir", statep), 1);
	ck_assert_int_eq(verify_key("--seal-from", sealsp), 1);
}
END_TEST

/* The last run cut off, the anchor rewritten to the new end. */
START_TEST(cut_tail_detected)
{
	seal_setup();
	sealed_run(4, 1);
	sealed_run(4, 1);
	sealed_run(4, 1);
	load();
	for (size_t i = 10; i < nlines; i++)
		free(lines[i]);
	nlines = 10;
	anchor_to_end();
	save();
	/* chain, anchor and the remaining seals are all fine ... */
	ck_assert_int_eq(run("verify", logp, "--state-dir", statep, NULL), 0);
	ck_assert_int_eq(verify_key(NULL, NULL), 0);
	/* ... but audit.key and the observer hold epoch 2's seal */
	ck_assert_int_eq(verify_key("--state-dir", statep), 1);
	ck_out("line 11, seq 11: seal: the log ends at seq 10 but the "
	    "audit.key seal of epoch 2 covers seq 14: cut");
	ck_assert_int_eq(verify_key("--seal-from", sealsp), 1);
	ck_out("the log ends at seq 10 but the published");
	/* and the watchdog does not extend it */
	ck_assert(reopen_refused("contradicts the last seal"));
}
END_TEST

/* One record appended, chained right, by whoever may write the log. */
START_TEST(forged_append_detected)
{
	char buf[2 * AUDIT_RECORD_MAX], seq[32];

	seal_setup();
	sealed_run(4, 1);
	load();
	ck_assert_uint_lt(nlines, MAXLINES);
	(void)snprintf(seq, sizeof(seq), "{\"seq\":%zu,", nlines + 1);
	(void)snprintf(buf, sizeof(buf), "%s%s", seq,
	    strchr(lines[nlines - 2], ',') + 1);
	lines[nlines++] = strdup(buf);
	edit(nlines - 1, "\"run\":\"run-s\"", "\"run\":\"run-f\"");
	rechain_from(nlines - 1);
	save();
	/* the anchor announced nothing: the writer refuses it */
	ck_assert(reopen_refused("not announced"));
	ck_assert_int_eq(run("verify", logp, "--state-dir", statep, NULL), 1);
	ck_out("line 6, seq 6: anchor mismatch");
	/* with the anchor rewritten too: after the last seal, unsealed */
	load();
	anchor_to_end();
	save();
	ck_assert_int_eq(verify_key(NULL, NULL), 2);
	ck_out("UNSEALED TAIL: seq 6..6");
}
END_TEST

/* A whole new log and anchor, written by the real writer without a key. */
START_TEST(replaced_log_detected)
{
	seal_setup();
	sealed_run(4, 1);
	sealed_run(4, 1);
	ck_assert_int_eq(unlink(logp), 0);
	{
		char p[PATH_MAX + 32];

		(void)snprintf(p, sizeof(p), "%s/%s", statep,
		    AUDIT_ANCHOR_NAME);
		ck_assert_int_eq(unlink(p), 0);
	}
	write_n(20);
	ck_assert_int_eq(run("verify", logp, "--state-dir", statep, NULL), 0);
	ck_assert_int_eq(verify_key(NULL, NULL), 2);
	ck_out("UNSEALED TAIL: seq 1..20");
	ck_assert_int_eq(verify_key("--state-dir", statep), 1);
	ck_out("seq 9: seal: the audit.key seal of epoch 1 records seq 9 as");
	ck_out("rewritten");
	ck_assert_int_eq(verify_key("--seal-from", sealsp), 1);
	/* the watchdog reads only the log's last record: a longer log
	 * that replaced it is gridcal-audit's to find, as above */
}
END_TEST

/* An older copy of the sealed log and its anchor put back. */
START_TEST(replayed_log_detected)
{
	char old[PATH_MAX], olda[PATH_MAX], a[PATH_MAX + 32];

	seal_setup();
	(void)snprintf(old, sizeof(old), "%s/old.log", dir);
	(void)snprintf(olda, sizeof(olda), "%s/old.anchor", dir);
	(void)snprintf(a, sizeof(a), "%s/%s", statep, AUDIT_ANCHOR_NAME);
	sealed_run(4, 1);
	copy_file(logp, old);
	copy_file(a, olda);
	sealed_run(4, 1);
	copy_file(old, logp);
	copy_file(olda, a);
	/* in itself a perfectly sealed log */
	ck_assert_int_eq(verify_key(NULL, NULL), 0);
	ck_out("sealed: seq 1..5");
	ck_assert_int_eq(verify_key("--state-dir", statep), 1);
	ck_out("the log ends at seq 5 but the audit.key seal of epoch 1 "
	    "covers seq 9: cut, or replaced by an older log");
	ck_assert_int_eq(verify_key("--seal-from", sealsp), 1);
	ck_out("but the published");
	ck_assert(reopen_refused("contradicts the last seal"));
}
END_TEST

/* audit.key as a StrictModes daemon wants it, and only that. */
START_TEST(key_file_strict)
{
	char p[PATH_MAX + 32], q[PATH_MAX + 32], err[AUDIT_ERR_MAX];

	seal_setup();
	sealed_run(2, 1);
	(void)snprintf(p, sizeof(p), "%s/%s", statep, SEAL_KEY_NAME);
	(void)snprintf(q, sizeof(q), "%s/elsewhere", dir);
	ck_assert_int_eq(chmod(p, 0640), 0);
	ck_assert(reopen_refused("mode 0600"));
	ck_assert_int_eq(chmod(p, 0600), 0);
	ck_assert_int_eq(rename(p, q), 0);
	ck_assert_int_eq(symlink(q, p), 0);
	ck_assert(reopen_refused(SEAL_KEY_NAME));
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(rename(q, p), 0);
	/* a key file from another seed */
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(sealvk_keygen(statep, err), 0);
	ck_assert_int_eq(verify_key("--state-dir", statep), 1);
	ck_out("is not derived from this verification key");
}
END_TEST

/*
 * A rotated, sealed log: the seals are checked through every segment,
 * oldest first, so the epochs still run from 0 and an earlier segment
 * rewritten (its chain made to fit the next one's) is caught by its seal.
 */
START_TEST(sealed_rotated_log_verifies)
{
	char seg[PATH_MAX + 32], keep[PATH_MAX], last[AUDIT_HASH_HEX + 1];

	seal_setup();
	sealed_run(4, 1);
	ck_assert_int_eq(run("rotate", logp, "--state-dir", statep, NULL), 0);
	sealed_run(3, 1);
	/* segment: seq 1..6 (5 + segment_end); the log: seq 7..11 */
	ck_assert_msg(verify_key("--state-dir", statep) == 0, "%s", out);
	ck_out("sealed: seq 1..11 (2 seal(s), epochs 0..1");
	ck_assert_int_eq(verify_key("--seal-from", sealsp), 0);
	/* the old segment rewritten, and the log's first prev made to fit */
	(void)snprintf(seg, sizeof(seg), "%s.%010d", logp, 6);
	(void)strlcpy(keep, logp, sizeof(keep));
	(void)strlcpy(logp, seg, sizeof(logp));
	load();
	edit(1, "\"i\":1", "\"i\":5");
	rechain_from(1);
	(void)snprintf(last, sizeof(last), "%.64s", hash_of(nlines - 1));
	save();
	(void)strlcpy(logp, keep, sizeof(logp));
	load();
	memcpy(prev_of(0), last, AUDIT_HASH_HEX);
	rechain_from(0);
	anchor_to_end();
	save();
	ck_assert_msg(run("verify", logp, "--state-dir", statep, NULL) == 0,
	    "%s", out);
	ck_assert_int_eq(verify_key(NULL, NULL), 1);
	ck_out("seal: segment ");
	ck_out(", line 5: the seal of epoch 0 does not verify");
}
END_TEST

static Suite *
audit_cli_suite(void)
{
	Suite *s = suite_create("gridcal-audit");
	TCase *tc = tcase_create("cli");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, intact_log_verifies);
	tcase_add_test(tc, edit_value_detected);
	tcase_add_test(tc, edit_and_rehash_detected);
	tcase_add_test(tc, delete_line_detected);
	tcase_add_test(tc, forged_insert_detected);
	tcase_add_test(tc, swap_detected);
	tcase_add_test(tc, truncated_tail_detected);
	tcase_add_test(tc, truncated_mid_line_detected);
	tcase_add_test(tc, appended_forgery_detected);
	tcase_add_test(tc, broken_json_detected);
	tcase_add_test(tc, show_escapes_hostile_text);
	tcase_add_test(tc, show_filters_and_marks);
	tcase_add_test(tc, report_computes_figures);
	tcase_add_test(tc, report_distrusts_supervisor_text);
	tcase_add_test(tc, report_shows_crash_repair);
	tcase_add_test(tc, rotate_chains_segments);
	tcase_add_test(tc, usage_and_errors);
	tcase_add_test(tc, sealed_log_verifies);
	tcase_add_test(tc, unsealed_tail_is_reported);
	tcase_add_test(tc, rechain_detected);
	tcase_add_test(tc, cut_tail_detected);
	tcase_add_test(tc, forged_append_detected);
	tcase_add_test(tc, replaced_log_detected);
	tcase_add_test(tc, replayed_log_detected);
	tcase_add_test(tc, key_file_strict);
	tcase_add_test(tc, sealed_rotated_log_verifies);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	bin = getenv("GRIDCAL_AUDIT");
	if (bin == NULL || access(bin, X_OK) == -1) {
		(void)fprintf(stderr, "test_cli: set GRIDCAL_AUDIT to the "
		    "gridcal-audit binary\n");
		return 2;
	}
	sr = srunner_create(audit_cli_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
