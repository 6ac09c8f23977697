/*
 * Audit log: canonical encoding, the chain, durability bookkeeping (anchor,
 * lag by one, torn tail), bounded records, the strict parser and the
 * verifier's first-bad-record reports for each kind of tampering. Every
 * test writes real files with the real writer in a fresh directory.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sha2.h>

#include "audit.h"
#include "auditread.h"
#include "audittest.h"
#include "clock.h"

#define ZERO64 \
	"0000000000000000000000000000000000000000000000000000000000000000"
#define MAXLINES 64

Suite	*audit_suite(void);

static char dir[64], logp[PATH_MAX], statep[PATH_MAX];

static void
setup(void)
{
	(void)strlcpy(dir, "/tmp/gridcal-audit-unit.XXXXXX", sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	(void)snprintf(logp, sizeof(logp), "%s/audit.log", dir);
	(void)snprintf(statep, sizeof(statep), "%s/state", dir);
	ck_assert_int_eq(mkdir(statep, 0700), 0);
}

static void
teardown(void)
{
	char p[PATH_MAX + 32];

	(void)unlink(logp);
	(void)snprintf(p, sizeof(p), "%s/%s", statep, AUDIT_ANCHOR_NAME);
	(void)unlink(p);
	(void)rmdir(statep);
	(void)rmdir(dir);
}

static void
open_log(struct audit_log *al)
{
	char err[AUDIT_ERR_MAX] = "";

	ck_assert_msg(audit_open(al, logp, statep, err, sizeof(err)) == 0,
	    "audit_open: %s", err);
	audit_set_nosync(al, 1);
}

/* n records alternating actors, in run "run-1". */
static void
write_log(int n)
{
	struct audit_log al;

	open_log(&al);
	ck_assert_int_eq(audit_set_run(&al, "run-1"), 0);
	for (int i = 0; i < n; i++) {
		struct audit_field f[] = { AF_I("i", i), AF_S("setting",
		    "output_priority"), AF_D("v", 3.5 + i) };

		ck_assert_int_eq(audit_append(&al, i % 3 == 2 ?
		    AUDIT_SUPERVISOR : AUDIT_WATCHDOG, "publish", f, 3), 0);
	}
	audit_close(&al);
}

/* The log as lines (without newlines), and back. */
static char *lines[MAXLINES];
static size_t nlines;
static char tail[AUDIT_RECORD_MAX];	/* bytes after the last newline */

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
	for (size_t i = 0; i < nlines; i++)
		if (lines[i] != NULL)
			(void)fprintf(fp, "%s\n", lines[i]);
	(void)fputs(tail, fp);
	ck_assert_int_eq(fclose(fp), 0);
	for (size_t i = 0; i < nlines; i++)
		free(lines[i]);
	nlines = 0;
}

/* Replaces the first "from" in line i by "to". */
static void
edit(size_t i, const char *from, const char *to)
{
	char buf[AUDIT_RECORD_MAX * 2], *p = strstr(lines[i], from);

	ck_assert_ptr_nonnull(p);
	(void)snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - lines[i]),
	    lines[i], to, p + strlen(from));
	free(lines[i]);
	lines[i] = strdup(buf);
}

/* Recomputes line i's own hash, as a forger would. */
static void
rehash(size_t i)
{
	char *h = strstr(lines[i], ",\"hash\":\""), hex[65];

	ck_assert_ptr_nonnull(h);
	audit_hash(lines[i], (size_t)(h - lines[i]), hex);
	memcpy(h + 9, hex, 64);
}

static const char *
field_of(size_t i, const char *key)
{
	static char v[80];
	char pat[40];
	const char *p;
	size_t n;

	(void)snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(lines[i], pat);
	ck_assert_ptr_nonnull(p);
	p += strlen(pat);
	n = strcspn(p, "\"");
	(void)snprintf(v, sizeof(v), "%.*s", (int)n, p);
	return v;
}

static struct audit_verifier v;

static int
verify(int with_state)
{
	audit_verifier_init(&v, AUDIT_UTC_SLACK_MS);
	return audit_verify_file(logp, with_state ? statep : NULL, &v);
}

#define ck_bad(kind, line, seq) do {					\
	ck_assert_msg(v.bad == (kind), "bad %s, want %s: %s",		\
	    audit_bad_name(v.bad), audit_bad_name(kind), v.why);	\
	ck_assert_msg(v.bad_line == (line) && v.bad_seq == (seq),	\
	    "line %llu seq %llu, want %d %d: %s",			\
	    (unsigned long long)v.bad_line,				\
	    (unsigned long long)v.bad_seq, (line), (seq), v.why);	\
} while (0)

START_TEST(escape_is_canonical)
{
	const unsigned char in[] = "a\"b\\c\x1b[2J\n\x7f\xff~ ";
	char out[128];
	size_t n = audit_escape(in, sizeof(in) - 1, out, sizeof(out) - 1);

	ck_assert_str_eq(out,
	    "a\\\"b\\\\c\\u001b[2J\\u000a\\u007f\\u00ff~ ");
	ck_assert_uint_eq(n, strlen(out));
	/* NUL bytes survive too */
	n = audit_escape((const unsigned char *)"x\0y", 3, out, 20);
	ck_assert_str_eq(out, "x\\u0000y");
}
END_TEST

START_TEST(escape_truncates_at_boundary)
{
	unsigned char in[100];
	char out[64];
	size_t n;

	memset(in, 0x1b, sizeof(in));
	n = audit_escape(in, sizeof(in), out, 40);
	ck_assert_uint_le(n, 40);
	/* 40 - 14 = 26 bytes: four whole 6-byte escapes, then the mark */
	ck_assert_str_eq(out, "\\u001b\\u001b\\u001b\\u001b" AUDIT_TRUNC_MARK);
	/* exactly fitting input is not marked */
	n = audit_escape((const unsigned char *)"abcd", 4, out, 4);
	ck_assert_str_eq(out, "abcd");
}
END_TEST

START_TEST(numbers_are_canonical)
{
	static const struct { double d; const char *s; } c[] = {
		{ 3.6, "3.6" }, { 50.0, "50" }, { -0.0, "0" },
		{ -0.0000001, "0" }, { 0.1234567, "0.123457" },
		{ -1.5, "-1.5" }, { 56.4, "56.4" }, { 1e15, "null" },
		{ -1e15, "null" }, { 999999999999999.0, "999999999999999" },
	};
	char b[AUDIT_NUM_MAX];

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		audit_format_num(c[i].d, b);
		ck_assert_str_eq(b, c[i].s);
	}
	audit_format_num(NAN, b);
	ck_assert_str_eq(b, "null");
	audit_format_num(-INFINITY, b);
	ck_assert_str_eq(b, "null");
}
END_TEST

START_TEST(names_and_runs)
{
	ck_assert(audit_valid_name("revert_attempt"));
	ck_assert(audit_valid_name("a"));
	ck_assert(audit_valid_name("abcdefghijklmnopqrstuvwxyz012345"));
	ck_assert(!audit_valid_name("abcdefghijklmnopqrstuvwxyz0123456"));
	ck_assert(!audit_valid_name(""));
	ck_assert(!audit_valid_name("Start"));
	ck_assert(!audit_valid_name("a-b"));
	ck_assert(!audit_valid_name("a\"b"));
	ck_assert(!audit_valid_name(NULL));
	ck_assert(audit_valid_run("2026-11-25T08:24:00Z-1234"));
	ck_assert(!audit_valid_run("a b"));
	ck_assert(!audit_valid_run(""));
	ck_assert(!audit_valid_run("0123456789012345678901234567890123456789"));
}
END_TEST

START_TEST(record_round_trips)
{
	struct audit_log al;
	struct audit_record *r = malloc(sizeof(*r));
	char why[AUDIT_ERR_MAX], h[65];
	const char raw[] = "cell\0max=3.61\x1b]0;pwn\a\n";
	struct audit_field f[] = {
		AF_S("reason", "heartbeat \"lost\""), AF_I("attempt", -3),
		AF_D("cell_max", 3.61), AF_B("authorised", 0),
		AF_N("text", raw, sizeof(raw) - 1), AF_D("bad", NAN),
	};
	const struct audit_rfield *rf;
	double d;
	int b;

	ck_assert_ptr_nonnull(r);
	open_log(&al);
	ck_assert_uint_eq(al.seq, 0);
	ck_assert_str_eq(al.prev, ZERO64);
	ck_assert_int_eq(audit_set_run(&al, "r:7"), 0);
	ck_assert_int_eq(audit_set_run(&al, "bad run"), -1);
	ck_assert_int_eq(audit_append(&al, AUDIT_SUPERVISOR, "abort", f, 6), 0);
	audit_close(&al);

	load();
	ck_assert_uint_eq(nlines, 1);
	ck_assert_int_eq(audit_parse(lines[0], strlen(lines[0]), r, why,
	    sizeof(why)), AUDIT_PERR_NONE);
	ck_assert_uint_eq(r->seq, 1);
	ck_assert_str_eq(r->run, "r:7");
	ck_assert_int_eq(r->actor, AUDIT_SUPERVISOR);
	ck_assert_str_eq(r->event, "abort");
	ck_assert_str_eq(r->prev, ZERO64);
	ck_assert_uint_eq(r->nfields, 6);
	ck_assert_str_eq(audit_field_str(r, "reason"), "heartbeat \"lost\"");
	ck_assert_int_eq(audit_field_num(r, "attempt", &d), 0);
	ck_assert(d == -3);
	ck_assert_int_eq(audit_field_num(r, "cell_max", &d), 0);
	ck_assert(fabs(d - 3.61) < 1e-9);
	ck_assert_int_eq(audit_field_bool(r, "authorised", &b), 0);
	ck_assert_int_eq(b, 0);
	rf = audit_field(r, "text");
	ck_assert_ptr_nonnull(rf);
	ck_assert_uint_eq(rf->slen, sizeof(raw) - 1);
	ck_assert_mem_eq(rf->s, raw, sizeof(raw) - 1);
	rf = audit_field(r, "bad");
	ck_assert(rf != NULL && rf->is_null);
	ck_assert_int_eq(audit_field_num(r, "bad", &d), -1);
	/* the file is printable ASCII only */
	for (const char *p = lines[0]; *p != '\0'; p++)
		ck_assert(*p >= 0x20 && *p <= 0x7e);
	/* hash: SHA-256 of the bytes before ,"hash": */
	ck_assert_uint_eq(r->hashed_len,
	    (size_t)(strstr(lines[0], ",\"hash\":") - lines[0]));
	(void)SHA256Data((const uint8_t *)lines[0], r->hashed_len, h);
	ck_assert_str_eq(r->hash, h);
	save();
	free(r);
}
END_TEST

START_TEST(chain_continues_across_opens)
{
	struct audit_log al;
	char anchor[PATH_MAX + 32], buf[128];
	FILE *fp;

	write_log(3);
	write_log(2);
	load();
	ck_assert_uint_eq(nlines, 5);
	for (size_t i = 1; i < nlines; i++) {
		char h[65];

		(void)strlcpy(h, field_of(i - 1, "hash"), sizeof(h));
		ck_assert_str_eq(field_of(i, "prev"), h);
	}
	(void)snprintf(anchor, sizeof(anchor), "%s/%s", statep,
	    AUDIT_ANCHOR_NAME);
	fp = fopen(anchor, "r");
	ck_assert_ptr_nonnull(fp);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), fp));
	(void)fclose(fp);
	ck_assert_uint_eq(strlen(buf), 2 + 64 + 1);
	ck_assert(strncmp(buf, "5 ", 2) == 0);
	ck_assert(strncmp(buf + 2, field_of(4, "hash"), 64) == 0);
	open_log(&al);
	ck_assert_uint_eq(al.seq, 5);
	ck_assert_str_eq(al.prev, field_of(4, "hash"));
	audit_close(&al);
	save();
	ck_assert_int_eq(verify(1), 0);
	ck_assert_uint_eq(v.records, 5);
}
END_TEST

static void
set_anchor(const char *content)
{
	char p[PATH_MAX + 32];
	FILE *fp;

	(void)snprintf(p, sizeof(p), "%s/%s", statep, AUDIT_ANCHOR_NAME);
	if (content == NULL) {
		ck_assert_int_eq(unlink(p), 0);
		return;
	}
	fp = fopen(p, "w");
	ck_assert_ptr_nonnull(fp);
	(void)fputs(content, fp);
	ck_assert_int_eq(fclose(fp), 0);
}

static int
try_open(char *err, size_t errsz)
{
	struct audit_log al;
	int rc = audit_open(&al, logp, statep, err, errsz);

	if (rc == 0)
		audit_close(&al);
	return rc;
}

START_TEST(anchor_may_lag_by_one)
{
	char a[128], err[AUDIT_ERR_MAX];

	write_log(4);
	load();
	/* not announced: something else appended seq 4 */
	(void)snprintf(a, sizeof(a), "3 %s\n", field_of(2, "hash"));
	set_anchor(a);
	ck_assert_int_eq(verify(1), -1);
	ck_assert_int_eq(v.bad, AUDIT_BAD_ANCHOR);
	ck_assert_int_eq(try_open(err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "not announced") != NULL, "%s", err);
	/* announced: a crash between the log and the anchor write */
	(void)snprintf(a, sizeof(a), "3 %s +1\n", field_of(2, "hash"));
	save();
	set_anchor(a);
	ck_assert_int_eq(verify(1), 0);
	ck_assert_int_eq(v.anchor_lag, 1);
	ck_assert_int_eq(try_open(err, sizeof(err)), 0);
	/* caught up, and the announcement withdrawn by audit_close */
	ck_assert_int_eq(verify(1), 0);
	ck_assert_int_eq(v.anchor_lag, 0);
	/* a missing anchor is "seq 0", nothing announced: empty logs only */
	teardown();
	setup();
	write_log(1);
	set_anchor(NULL);
	ck_assert_int_eq(try_open(err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "anchor") != NULL, "%s", err);
	ck_assert_int_eq(verify(1), -1);
	ck_assert_int_eq(v.bad, AUDIT_BAD_ANCHOR);
}
END_TEST

/*
 * Group commit: records written, the process killed before the commit
 * (no fdatasync, no anchor): the next open finds the log ahead of its
 * anchor by the whole group, checks that every record is intact and
 * chained to the anchored one, and catches up; one altered record in the
 * group and it refuses.
 */
START_TEST(group_commit_catches_up)
{
	char err[AUDIT_ERR_MAX], a[128];
	struct audit_log al;
	pid_t pid;
	int st;

	write_log(2);
	if ((pid = fork()) == 0) {
		open_log(&al);
		(void)audit_set_group(&al, 1);
		for (int i = 0; i < 5; i++)
			if (audit_append(&al, AUDIT_WATCHDOG, "publish",
			    &AF_I("i", i), 1) == -1)
				_exit(1);
		_exit(0);	/* killed: nothing committed */
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* the anchor announced the group: a crash window, not a forgery */
	ck_assert_int_eq(verify(1), 0);
	ck_assert_int_eq(v.anchor_lag, 1);
	load();
	ck_assert_uint_eq(nlines, 7);
	/* more records than announced: appended by someone else */
	(void)snprintf(a, sizeof(a), "2 %s +4\n", field_of(1, "hash"));
	save();
	set_anchor(a);
	ck_assert_int_eq(try_open(err, sizeof(err)), -1);
	/* one record of the group altered */
	load();
	(void)snprintf(a, sizeof(a), "2 %s +%d\n", field_of(1, "hash"),
	    AUDIT_GROUP_MAX);
	edit(4, "\"i\":2", "\"i\":7");
	save();
	set_anchor(a);
	ck_assert_int_eq(try_open(err, sizeof(err)), -1);
	load();
	edit(4, "\"i\":7", "\"i\":2");
	save();
	ck_assert_int_eq(try_open(err, sizeof(err)), 0);
	ck_assert_int_eq(verify(1), 0);
	ck_assert_int_eq(v.anchor_lag, 0);
	load();		/* the catch-up is in the chain */
	ck_assert_uint_eq(nlines, 8);
	ck_assert_ptr_nonnull(strstr(lines[7], "\"event\":\"log_caught_up\","
	    "\"fields\":{\"records\":5,\"from_seq\":3}"));
	save();
	/* a commit makes the group durable and anchors it */
	open_log(&al);
	(void)audit_set_group(&al, 1);
	ck_assert_int_eq(audit_append(&al, AUDIT_WATCHDOG, "publish",
	    &AF_I("i", 9), 1), 0);
	ck_assert_int_eq(audit_commit(&al), 0);
	ck_assert_int_eq(verify(1), 0);
	ck_assert_int_eq(v.anchor_lag, 0);
	audit_close(&al);
}
END_TEST

/*
 * The syncer (audit.h, THE SYNCER): a group handed over is anchored by the
 * thread while the caller appends on; those later records are not in that
 * anchor, and a crash then leaves them as a group the next open catches
 * up. audit_close waits for the thread and anchors everything.
 */
static int
anchor_seq(void)
{
	char path[PATH_MAX + 32], text[128] = "";
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/%s", statep, AUDIT_ANCHOR_NAME);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_ptr_nonnull(fgets(text, sizeof(text), f));
	(void)fclose(f);
	return atoi(text);
}

START_TEST(syncer_commits_beside_the_caller)
{
	char err[AUDIT_ERR_MAX];
	struct audit_log al;
	pid_t pid;
	int st, bad = 0;

	write_log(2);
	if ((pid = fork()) == 0) {
		open_log(&al);
		(void)audit_set_group(&al, 1);
		bad |= audit_syncer_start(&al) == -1;
		for (int i = 0; i < 3; i++)
			bad |= audit_append(&al, AUDIT_WATCHDOG, "publish",
			    &AF_I("i", i), 1) == -1;
		bad |= audit_commit_start(&al) == -1;
		bad |= audit_durable(&al);	/* on its way: not yet */
		for (int i = 3; i < 5; i++)	/* meanwhile */
			bad |= audit_append(&al, AUDIT_WATCHDOG, "publish",
			    &AF_I("i", i), 1) == -1;
		bad |= audit_commit_start(&al) == -1;	/* one at a time */
		bad |= audit_commit_done(&al) == -1;
		bad |= audit_durable(&al);	/* two not handed over */
		_exit(bad ? 1 : 0);	/* killed before the next commit */
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child failed");
	ck_assert_int_eq(anchor_seq(), 5);	/* the group handed over */
	ck_assert_int_eq(try_open(err, sizeof(err)), 0);
	load();
	ck_assert_uint_eq(nlines, 8);
	ck_assert_ptr_nonnull(strstr(lines[7], "\"event\":\"log_caught_up\","
	    "\"fields\":{\"records\":2,\"from_seq\":6}"));
	/* with a syncer running, audit_close anchors the last record */
	open_log(&al);
	(void)audit_set_group(&al, 1);
	ck_assert_int_eq(audit_syncer_start(&al), 0);
	ck_assert_int_eq(audit_append(&al, AUDIT_WATCHDOG, "publish",
	    &AF_I("i", 9), 1), 0);
	ck_assert_int_eq(audit_commit_start(&al), 0);
	ck_assert_int_eq(audit_append(&al, AUDIT_WATCHDOG, "publish",
	    &AF_I("i", 10), 1), 0);
	audit_close(&al);
	ck_assert_int_eq(anchor_seq(), 10);
	ck_assert_int_eq(verify(1), 0);
	ck_assert_int_eq(v.anchor_lag, 0);
	/* the anchor on disk announces one group: records on their way
	 * count, so the append that would exceed it commits at once */
	open_log(&al);
	(void)audit_set_group(&al, 1);
	ck_assert_int_eq(audit_syncer_start(&al), 0);
	for (int i = 0; i < AUDIT_GROUP_MAX - 1; i++)
		ck_assert_int_eq(audit_append(&al, AUDIT_WATCHDOG, "publish",
		    &AF_I("i", i), 1), 0);
	ck_assert_int_eq(audit_commit_start(&al), 0);
	ck_assert_int_eq(audit_append(&al, AUDIT_WATCHDOG, "publish",
	    &AF_I("i", 0), 1), 0);
	ck_assert_msg(audit_durable(&al), "a group beyond the announcement");
	audit_close(&al);
}
END_TEST

START_TEST(open_refuses_truncated_or_altered)
{
	char a[128], err[AUDIT_ERR_MAX];

	write_log(4);
	load();
	free(lines[3]);
	nlines = 3;
	save();
	ck_assert_int_eq(try_open(err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "truncated") != NULL, "%s", err);
	ck_assert_msg(strstr(err, logp) != NULL, "%s", err);

	/* same seq, different hash */
	load();
	(void)snprintf(a, sizeof(a), "3 %s\n", field_of(1, "hash"));
	save();
	set_anchor(a);
	ck_assert_int_eq(try_open(err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "does not match the anchor") != NULL, "%s",
	    err);

	/* anchor two behind, its hash not the one of that record */
	load();
	(void)snprintf(a, sizeof(a), "1 %s\n", field_of(1, "hash"));
	save();
	set_anchor(a);
	ck_assert_int_eq(try_open(err, sizeof(err)), -1);

	/* malformed anchors */
	set_anchor("3\n");
	ck_assert_int_eq(try_open(err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "malformed") != NULL, "%s", err);
	set_anchor("03 " ZERO64 "\n");
	ck_assert_int_eq(try_open(err, sizeof(err)), -1);
	set_anchor("3 " ZERO64);
	ck_assert_int_eq(try_open(err, sizeof(err)), -1);
	/* what sscanf alone would take: only the bytes the writer prints */
	set_anchor("+3 " ZERO64 "\n");
	ck_assert_int_eq(try_open(err, sizeof(err)), -1);
	set_anchor(" 3 " ZERO64 "\n");
	ck_assert_int_eq(try_open(err, sizeof(err)), -1);
	set_anchor("3  " ZERO64 "\n");
	ck_assert_int_eq(try_open(err, sizeof(err)), -1);
	set_anchor("3 " ZERO64 " +0\n");
	ck_assert_int_eq(try_open(err, sizeof(err)), -1);
	set_anchor("3 " ZERO64 " +01\n");
	ck_assert_int_eq(try_open(err, sizeof(err)), -1);
	set_anchor("3 " ZERO64 "\n\n");
	ck_assert_int_eq(try_open(err, sizeof(err)), -1);
	set_anchor("-1 " ZERO64 "\n");
	ck_assert_int_eq(try_open(err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "malformed") != NULL, "%s", err);

	/* last record altered: its own hash fails */
	load();
	(void)snprintf(a, sizeof(a), "3 %s\n", field_of(2, "hash"));
	edit(2, "\"i\":2", "\"i\":9");
	save();
	set_anchor(a);
	ck_assert_int_eq(try_open(err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "hash mismatch") != NULL, "%s", err);
}
END_TEST

/*
 * The writer reads its last record back at the fixed offsets of the layout
 * (no JSON parser): text that imitates the layout's bytes is escaped and
 * cannot move them; a tail that is not the layout is refused.
 */
START_TEST(open_reads_the_tail_at_fixed_offsets)
{
	static const char hostile[] = "\"},\"prev\":\"" ZERO64
	    "\",\"hash\":\"" ZERO64 "\"}";
	struct audit_verifier ver;
	struct audit_log al;
	struct audit_ends e;
	char err[AUDIT_ERR_MAX], a[128];

	write_log(2);
	open_log(&al);
	ck_assert_int_eq(audit_append(&al, AUDIT_SUPERVISOR, "report",
	    &AF_S(AUDIT_F_TEXT, hostile), 1), 0);
	audit_close(&al);
	load();
	ck_assert_int_eq(audit_layout(lines[2], strlen(lines[2]), &e, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(e.seq, 3);
	ck_assert_str_eq(e.prev, field_of(1, "hash"));
	ck_assert_str_eq(e.hash, field_of(2, "hash"));
	save();			/* unchanged */
	write_log(1);		/* reopens after the hostile record */
	audit_verifier_init(&ver, AUDIT_UTC_SLACK_MS);
	ck_assert_msg(audit_verify_file(logp, statep, &ver) == 0, "%s",
	    ver.why);

	/* the closing quote of the hash dropped: not the layout */
	load();
	(void)snprintf(a, sizeof(a), "4 %s\n", field_of(3, "hash"));
	edit(3, "\"}", "}");
	save();
	set_anchor(a);
	ck_assert_int_eq(try_open(err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "layout") != NULL, "%s", err);
	ck_assert_int_eq(audit_layout("{\"seq\":01,", 11, &e, err,
	    sizeof(err)), -1);
	/* the seq only as the writer prints it: no sign, space or zero */
	load();
	for (size_t k = 0; k < 3; k++) {
		static const char *const bad[] = { "{\"seq\":+3,",
		    "{\"seq\": 3,", "{\"seq\":03," };
		char l[AUDIT_RECORD_MAX];

		ck_assert_msg(audit_layout(lines[2], strlen(lines[2]), &e,
		    err, sizeof(err)) == 0, "%s: %s", err, lines[2]);
		(void)snprintf(l, sizeof(l), "%s%s", bad[k],
		    strchr(lines[2], ',') + 1);
		ck_assert_int_eq(audit_layout(l, strlen(l), &e, err,
		    sizeof(err)), -1);
		ck_assert_msg(strstr(err, "layout") != NULL, "%s", err);
	}
}
END_TEST

START_TEST(torn_tail_is_repaired_with_evidence)
{
	struct audit_record *r = malloc(sizeof(*r));
	char err[AUDIT_ERR_MAX], why[AUDIT_ERR_MAX];
	const struct audit_rfield *f;

	ck_assert_ptr_nonnull(r);
	write_log(3);
	load();
	/* a crash cut record 4 short; disks may leave NULs */
	(void)strlcpy(tail, "{\"seq\":4,\"utc\":\"2026", sizeof(tail));
	save();
	{
		/* save() stops at the NUL; append the rest by hand */
		int fd = open(logp, O_WRONLY | O_APPEND);

		ck_assert_int_ne(fd, -1);
		ck_assert_int_eq(write(fd, "\0\0", 2), 2);
		(void)close(fd);
	}
	ck_assert_int_eq(verify(1), -1);
	ck_bad(AUDIT_BAD_TORN, 4, 4);
	ck_assert_int_eq(try_open(err, sizeof(err)), 0);
	ck_assert_int_eq(verify(1), 0);
	ck_assert_uint_eq(v.records, 4);
	load();
	ck_assert_uint_eq(nlines, 4);
	ck_assert_int_eq(audit_parse(lines[3], strlen(lines[3]), r, why,
	    sizeof(why)), AUDIT_PERR_NONE);
	ck_assert_str_eq(r->event, AUDIT_EV_LOG_REPAIRED);
	f = audit_field(r, "torn_text");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->slen, 22);
	ck_assert_mem_eq(f->s, "{\"seq\":4,\"utc\":\"2026\0\0", 22);
	save();

	/* torn after a truncation: refused, file left alone */
	load();
	free(lines[3]);
	nlines = 3;
	(void)strlcpy(tail, "{\"seq\":4", sizeof(tail));
	save();
	ck_assert_int_eq(try_open(err, sizeof(err)), -1);
	load();
	ck_assert_str_eq(tail, "{\"seq\":4");
	save();
	free(r);
}
END_TEST

START_TEST(second_writer_refused)
{
	struct audit_log a, b;
	char err[AUDIT_ERR_MAX];

	open_log(&a);
	ck_assert_int_eq(audit_open(&b, logp, statep, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "in use") != NULL, "%s", err);
	audit_close(&a);
	open_log(&b);
	audit_close(&b);
}
END_TEST

START_TEST(oversize_is_truncated_not_overflowed)
{
	struct audit_log al;
	struct audit_record *r = malloc(sizeof(*r));
	char *big = malloc(20000), why[AUDIT_ERR_MAX];
	struct audit_field f[AUDIT_FIELDS_MAX];
	static char keys[AUDIT_FIELDS_MAX][AUDIT_NAME_MAX + 1];
	const char *s;

	ck_assert(r != NULL && big != NULL);
	memset(big, 0x1b, 19999);
	big[19999] = '\0';
	for (int i = 0; i < AUDIT_FIELDS_MAX; i++) {
		(void)snprintf(keys[i], sizeof(keys[i]), "k%031d", i);
		f[i] = AF_S(keys[i], big);
	}
	open_log(&al);
	ck_assert_int_eq(audit_append(&al, AUDIT_SUPERVISOR, "report", f, 1),
	    0);
	ck_assert_int_eq(audit_append(&al, AUDIT_SUPERVISOR, "report", f,
	    AUDIT_FIELDS_MAX), 0);
	/* refused: bad names, too many fields, NULL string */
	errno = 0;
	ck_assert_int_eq(audit_append(&al, AUDIT_WATCHDOG, "Bad", f, 1), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(audit_append(&al, AUDIT_WATCHDOG, "x", f,
	    AUDIT_FIELDS_MAX + 1), -1);
	f[0] = AF_S("text", NULL);
	ck_assert_int_eq(audit_append(&al, AUDIT_WATCHDOG, "x", f, 1), -1);
	f[0] = AF_S("no-dash", "x");
	ck_assert_int_eq(audit_append(&al, AUDIT_WATCHDOG, "x", f, 1), -1);
	ck_assert_uint_eq(al.seq, 2);
	audit_close(&al);

	load();
	ck_assert_uint_eq(nlines, 2);
	for (size_t i = 0; i < nlines; i++) {
		ck_assert_uint_lt(strlen(lines[i]), AUDIT_RECORD_MAX);
		ck_assert_int_eq(audit_parse(lines[i], strlen(lines[i]), r,
		    why, sizeof(why)), AUDIT_PERR_NONE);
	}
	s = audit_field_str(r, keys[AUDIT_FIELDS_MAX - 1]);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_gt(strlen(s), sizeof(AUDIT_TRUNC_MARK));
	ck_assert_str_eq(s + strlen(s) - strlen(AUDIT_TRUNC_MARK),
	    AUDIT_TRUNC_MARK);
	save();
	ck_assert_int_eq(verify(1), 0);
	free(big);
	free(r);
}
END_TEST

static enum audit_perr
parse_str(const char *s)
{
	static struct audit_record r;
	char why[AUDIT_ERR_MAX] = "";
	enum audit_perr e = audit_parse(s, strlen(s), &r, why, sizeof(why));

	if (e != AUDIT_PERR_NONE)
		ck_assert_msg(strncmp(why, "byte ", 5) == 0, "%s", why);
	return e;
}

START_TEST(parser_is_strict)
{
	static const char good[] = "{\"seq\":1,\"utc\":\"2026-11-25T08:24:00.123Z\","
	    "\"mono_ms\":5,\"run\":\"\",\"actor\":\"watchdog\",\"event\":\"end\","
	    "\"fields\":{\"a\":1.5,\"b\":\"x\",\"c\":null,\"d\":false},\"prev\":\""
	    ZERO64 "\",\"hash\":\"" ZERO64 "\"}";
	static const struct { const char *from, *to; enum audit_perr e; } c[] = {
		{ "{\"seq\"", "{ \"seq\"", AUDIT_PERR_JSON },
		{ "\"x\"", "\"\\n\"", AUDIT_PERR_JSON },
		{ "\"x\"", "\"\\u0041\"", AUDIT_PERR_JSON },
		{ "\"x\"", "\"\\u001B\"", AUDIT_PERR_JSON },
		{ "\"x\"", "\"\\/\"", AUDIT_PERR_JSON },
		{ "1.5", "1.50", AUDIT_PERR_JSON },
		{ "1.5", "01.5", AUDIT_PERR_JSON },
		{ "1.5", "1e3", AUDIT_PERR_JSON },
		{ "1.5", "1.", AUDIT_PERR_JSON },
		{ "1.5", "-0", AUDIT_PERR_JSON },
		{ "1.5", "1.1234567", AUDIT_PERR_JSON },
		{ "1.5", "{}", AUDIT_PERR_VALUE },
		{ "1.5", "[1]", AUDIT_PERR_VALUE },
		{ "1.5", "tru", AUDIT_PERR_JSON },
		{ "1.5", "99999999999999999999", AUDIT_PERR_VALUE },
		{ "\"seq\":1", "\"seq\":0", AUDIT_PERR_VALUE },
		{ "\"seq\":1", "\"seq\":\"1\"", AUDIT_PERR_VALUE },
		{ "\"mono_ms\":5,", "", AUDIT_PERR_FIELDS },
		{ "\"run\":\"\",", "\"run\":\"\",\"x\":1,", AUDIT_PERR_FIELDS },
		{ "\"b\":\"x\"", "\"a\":\"x\"", AUDIT_PERR_FIELDS },
		{ "\"d\":false", "\"D\":false", AUDIT_PERR_VALUE },
		{ "watchdog", "root", AUDIT_PERR_VALUE },
		{ "\"end\"", "\"End\"", AUDIT_PERR_VALUE },
		{ "08:24:00.123Z", "08:24:00Z", AUDIT_PERR_VALUE },
		{ "2026-11-25", "2026-02-30", AUDIT_PERR_VALUE },
		{ "\"prev\":\"0", "\"prev\":\"A", AUDIT_PERR_VALUE },
		{ ZERO64 "\"}", ZERO64 "\"} ", AUDIT_PERR_JSON },
		{ ZERO64 "\"}", ZERO64 "\",\"x\":1}", AUDIT_PERR_FIELDS },
		{ ",\"hash\":\"" ZERO64 "\"", "", AUDIT_PERR_FIELDS },
		{ "\"x\"", "\"\x1b\"", AUDIT_PERR_JSON },
		{ "\"x\"", "\"\xc3\xa9\"", AUDIT_PERR_JSON },
		{ "\"x\"", "\"x", AUDIT_PERR_JSON },
	};
	char buf[1024];

	ck_assert_int_eq(parse_str(good), AUDIT_PERR_NONE);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		const char *p = strstr(good, c[i].from);

		ck_assert_ptr_nonnull(p);
		(void)snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - good),
		    good, c[i].to, p + strlen(c[i].from));
		ck_assert_msg(parse_str(buf) == c[i].e, "case %zu: %s", i, buf);
	}
	/* embedded NUL: length, not C string, is what counts */
	memcpy(buf, good, sizeof(good));
	buf[20] = '\0';
	{
		static struct audit_record r;
		char why[AUDIT_ERR_MAX];

		ck_assert_int_ne(audit_parse(buf, sizeof(good) - 1, &r, why,
		    sizeof(why)), AUDIT_PERR_NONE);
	}
}
END_TEST

START_TEST(utc_parses_strictly)
{
	int64_t ms;

	ck_assert_int_eq(audit_parse_utc("1970-01-01T00:00:00.000Z", &ms), 0);
	ck_assert_int_eq(ms, 0);
	ck_assert_int_eq(audit_parse_utc("2026-11-25T08:24:00.123Z", &ms), 0);
	ck_assert_int_eq(ms, 1795595040123LL);
	ck_assert_int_eq(audit_parse_utc("2024-02-29T00:00:00.000Z", &ms), 0);
	ck_assert_int_eq(audit_parse_utc("2025-02-29T00:00:00.000Z", &ms), -1);
	ck_assert_int_eq(audit_parse_utc("2026-11-25T24:00:00.000Z", &ms), -1);
	ck_assert_int_eq(audit_parse_utc("2026-11-25T08:24:60.000Z", &ms), -1);
	ck_assert_int_eq(audit_parse_utc("2026-11-25 08:24:00.123Z", &ms), -1);
	ck_assert_int_eq(audit_parse_utc("2026-11-25T08:24:00.12Z", &ms), -1);
	ck_assert_int_eq(audit_parse_utc("1969-12-31T23:59:59.999Z", &ms), -1);
}
END_TEST

/* Tampering: each kind is reported at the record concerned. */
START_TEST(tamper_edit_value)
{
	write_log(8);
	load();
	edit(4, "\"i\":4", "\"i\":5");
	save();
	ck_assert_int_eq(verify(0), -1);
	ck_bad(AUDIT_BAD_HASH, 5, 5);
}
END_TEST

START_TEST(tamper_edit_and_rehash)
{
	write_log(8);
	load();
	edit(4, "\"i\":4", "\"i\":5");
	rehash(4);
	save();
	ck_assert_int_eq(verify(0), -1);
	ck_bad(AUDIT_BAD_CHAIN, 5, 5);
	/* the last record, re-hashed: only the anchor can tell */
	teardown();
	setup();
	write_log(8);
	load();
	edit(7, "\"i\":7", "\"i\":0");
	rehash(7);
	save();
	ck_assert_int_eq(verify(0), 0);
	ck_assert_int_eq(verify(1), -1);
	ck_bad(AUDIT_BAD_ANCHOR, 8, 8);
}
END_TEST

START_TEST(tamper_delete_line)
{
	write_log(8);
	load();
	free(lines[3]);
	lines[3] = NULL;
	save();
	ck_assert_int_eq(verify(0), -1);
	ck_bad(AUDIT_BAD_SEQ_GAP, 4, 4);
	ck_assert_msg(strstr(v.why, "deleted") != NULL, "%s", v.why);
}
END_TEST

START_TEST(tamper_delete_first_line)
{
	write_log(3);
	load();
	free(lines[0]);
	lines[0] = NULL;
	save();
	ck_assert_int_eq(verify(0), -1);
	ck_bad(AUDIT_BAD_SEQ_GAP, 1, 1);
}
END_TEST

START_TEST(tamper_insert_forged)
{
	char *dup;

	/* a copy of record 4 with a changed value and its own hash
	 * recomputed, inserted before the genuine record 4 */
	write_log(8);
	load();
	for (size_t i = nlines; i > 3; i--)
		lines[i] = lines[i - 1];
	nlines++;
	dup = strdup(lines[4]);
	lines[3] = dup;
	edit(3, "\"i\":3", "\"i\":42");
	rehash(3);
	save();
	ck_assert_int_eq(verify(0), -1);
	ck_bad(AUDIT_BAD_SEQ_ORDER, 4, 4);
	ck_assert_msg(strstr(v.why, "forged") != NULL, "%s", v.why);
}
END_TEST

START_TEST(tamper_insert_forged_bogus_seq)
{
	write_log(8);
	load();
	for (size_t i = nlines; i > 3; i--)
		lines[i] = lines[i - 1];
	nlines++;
	lines[3] = strdup(lines[0]);
	edit(3, "\"seq\":1", "\"seq\":99");
	rehash(3);
	save();
	ck_assert_int_eq(verify(0), -1);
	ck_bad(AUDIT_BAD_SEQ_ORDER, 4, 99);
	ck_assert_msg(strstr(v.why, "inserted") != NULL, "%s", v.why);
}
END_TEST

START_TEST(tamper_swap_lines)
{
	char *t;

	write_log(8);
	load();
	t = lines[5];
	lines[5] = lines[6];
	lines[6] = t;
	save();
	ck_assert_int_eq(verify(0), -1);
	ck_bad(AUDIT_BAD_SEQ_ORDER, 6, 7);
	ck_assert_msg(strstr(v.why, "reordered") != NULL, "%s", v.why);
}
END_TEST

START_TEST(tamper_truncate_tail)
{
	write_log(8);
	load();
	free(lines[7]);
	free(lines[6]);
	nlines = 6;
	save();
	ck_assert_int_eq(verify(0), 0);	/* only the anchor can tell */
	ck_assert_int_eq(verify(1), -1);
	ck_bad(AUDIT_BAD_TRUNCATED, 7, 7);
	ck_assert_msg(strstr(v.why, "seq 7 to 8 missing") != NULL, "%s",
	    v.why);
	/* everything removed */
	load();
	for (size_t i = 0; i < nlines; i++)
		free(lines[i]);
	nlines = 0;
	save();
	ck_assert_int_eq(verify(1), -1);
	ck_bad(AUDIT_BAD_TRUNCATED, 1, 1);
}
END_TEST

START_TEST(tamper_truncate_mid_line)
{
	write_log(8);
	load();
	(void)strlcpy(tail, lines[7], 50);
	free(lines[7]);
	nlines = 7;
	save();
	ck_assert_int_eq(verify(0), -1);
	ck_bad(AUDIT_BAD_TORN, 8, 8);
}
END_TEST

START_TEST(tamper_broken_json_and_fields)
{
	write_log(5);
	load();
	edit(2, "\"actor\":", "\"actor\"");
	save();
	ck_assert_int_eq(verify(0), -1);
	ck_bad(AUDIT_BAD_JSON, 3, 3);
	teardown();
	setup();
	write_log(5);
	load();
	edit(1, ",\"mono_ms\":", ",\"x\":");
	save();
	ck_assert_int_eq(verify(0), -1);
	ck_bad(AUDIT_BAD_FIELDS, 2, 2);
}
END_TEST

START_TEST(tamper_time_backwards)
{
	char m[40];

	write_log(5);
	load();
	/* mono_ms of record 3 set below record 2's, re-chained onwards */
	(void)snprintf(m, sizeof(m), "\"mono_ms\":%s", "0");
	{
		char *p = strstr(lines[2], "\"mono_ms\":"), old[40];
		size_t n = strcspn(p, ",");

		(void)snprintf(old, sizeof(old), "%.*s", (int)n, p);
		edit(2, old, m);
	}
	for (size_t i = 2; i < nlines; i++) {
		if (i > 2) {
			char h[65];

			(void)strlcpy(h, field_of(i - 1, "hash"), sizeof(h));
			edit(i, field_of(i, "prev"), h);
		}
		rehash(i);
	}
	save();
	ck_assert_int_eq(verify(0), -1);
	ck_bad(AUDIT_BAD_MONO, 3, 3);

	/* wall clock stepping back beyond the slack */
	teardown();
	setup();
	write_log(3);
	load();
	edit(2, field_of(2, "utc"), "2020-01-01T00:00:00.000Z");
	rehash(2);
	save();
	ck_assert_int_eq(verify(0), -1);
	ck_bad(AUDIT_BAD_UTC, 3, 3);
	/* a small step back is tolerated and counted */
	teardown();
	setup();
	write_log(3);
	load();
	{
		int64_t ms;
		char u[32], old[32];

		ck_assert_int_eq(audit_parse_utc(field_of(1, "utc"), &ms), 0);
		utc_format(ms - 1000, u, sizeof(u));
		(void)strlcpy(old, field_of(2, "utc"), sizeof(old));
		edit(2, old, u);
		rehash(2);
	}
	save();
	ck_assert_int_eq(verify(0), 0);
	ck_assert_uint_eq(v.utc_steps, 1);
}
END_TEST

START_TEST(reader_streams_lines)
{
	struct audit_reader *rd = malloc(sizeof(*rd));
	const char *line;
	size_t len;
	FILE *fp = fopen(logp, "w");

	ck_assert(rd != NULL && fp != NULL);
	(void)fputs("a\n\nbc\n", fp);
	for (int i = 0; i < AUDIT_RECORD_MAX; i++)
		(void)fputc('x', fp);
	(void)fputs("\nlast", fp);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(audit_reader_open(rd, logp), 0);
	ck_assert_int_eq(audit_reader_next(rd, &line, &len), AUDIT_RD_LINE);
	ck_assert(len == 1 && line[0] == 'a');
	ck_assert_int_eq(audit_reader_next(rd, &line, &len), AUDIT_RD_LINE);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(audit_reader_next(rd, &line, &len), AUDIT_RD_LINE);
	ck_assert(len == 2 && rd->lineno == 3 && rd->off == 3);
	ck_assert_int_eq(audit_reader_next(rd, &line, &len), AUDIT_RD_LONG);
	ck_assert_uint_eq(rd->lineno, 4);
	audit_reader_close(rd);
	ck_assert_int_eq(audit_reader_open(rd, "/nonexistent/x"), -1);
	free(rd);
}
END_TEST

Suite *
audit_suite(void)
{
	Suite *s = suite_create("audit");
	TCase *tc = tcase_create("writer");
	TCase *tt = tcase_create("tamper");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, escape_is_canonical);
	tcase_add_test(tc, escape_truncates_at_boundary);
	tcase_add_test(tc, numbers_are_canonical);
	tcase_add_test(tc, names_and_runs);
	tcase_add_test(tc, record_round_trips);
	tcase_add_test(tc, chain_continues_across_opens);
	tcase_add_test(tc, anchor_may_lag_by_one);
	tcase_add_test(tc, group_commit_catches_up);
	tcase_add_test(tc, syncer_commits_beside_the_caller);
	tcase_add_test(tc, open_refuses_truncated_or_altered);
	tcase_add_test(tc, open_reads_the_tail_at_fixed_offsets);
	tcase_add_test(tc, torn_tail_is_repaired_with_evidence);
	tcase_add_test(tc, second_writer_refused);
	tcase_add_test(tc, oversize_is_truncated_not_overflowed);
	tcase_add_test(tc, parser_is_strict);
	tcase_add_test(tc, utc_parses_strictly);
	tcase_add_test(tc, reader_streams_lines);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tt, setup, teardown);
	tcase_add_test(tt, tamper_edit_value);
	tcase_add_test(tt, tamper_edit_and_rehash);
	tcase_add_test(tt, tamper_delete_line);
	tcase_add_test(tt, tamper_delete_first_line);
	tcase_add_test(tt, tamper_insert_forged);
	tcase_add_test(tt, tamper_insert_forged_bogus_seq);
	tcase_add_test(tt, tamper_swap_lines);
	tcase_add_test(tt, tamper_truncate_tail);
	tcase_add_test(tt, tamper_truncate_mid_line);
	tcase_add_test(tt, tamper_broken_json_and_fields);
	tcase_add_test(tt, tamper_time_backwards);
	suite_add_tcase(s, tt);
	return s;
}
