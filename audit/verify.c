/*
 * gridcal-audit verify: the whole chain, then the anchor, then (--key,
 * --seal-from) the seals (seal.c). Prints a summary when intact, or the
 * first bad record and why. A chain alone proves nothing against whoever
 * may write the log, so without --key the summary says only the chain was
 * checked; with --key, records after the last seal are reported as the
 * unsealed tail, never as intact.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <libgen.h>
#include <limits.h>
#include <string.h>

#include "cli.h"

#define SEGMENTS_MAX	100000

/* The segments verify_segments went through, newest first: the seals are
 * then checked through them oldest first (seal_segments). */
static char	**seg_path;
static size_t	  nseg;

static void
seg_keep(const char *path)
{
	char **p = reallocarray(seg_path, nseg + 1, sizeof(*seg_path));

	if (p == NULL || (p[nseg] = strdup(path)) == NULL)
		err(AX_IOERR, "malloc");
	seg_path = p;
	nseg++;
}

/*
 * A rotated log: every earlier segment, newest first, must be intact on
 * its own, end with the record the later one's first record chains to,
 * and so on back to the first segment (seq 1). 0, or -1 with the reason.
 */
int
verify_segments(const char *log, const struct audit_verifier *last,
    int64_t slack, int quiet)
{
	struct audit_verifier *v = malloc(sizeof(*v));
	char dir[PATH_MAX], path[PATH_MAX], name[sizeof(last->continues)];
	char want_hash[AUDIT_HASH_HEX + 1];
	uint64_t want_seq = last->first_seq - 1;
	int rc = -1;

	if (v == NULL)
		err(AX_IOERR, "malloc");
	(void)strlcpy(dir, log, sizeof(dir));
	(void)strlcpy(dir, dirname(dir), sizeof(dir));
	(void)strlcpy(name, last->continues, sizeof(name));
	(void)strlcpy(want_hash, last->last_hash_at_start, sizeof(want_hash));
	for (int i = 0; i < SEGMENTS_MAX; i++) {
		if (snprintf(path, sizeof(path), "%s/%.*s", dir,
		    (int)(sizeof(path) - strlen(dir) - 2), name) < 0)
			break;
		audit_verifier_init(v, slack);
		if (audit_verify_file(path, NULL, v) == -1) {
			(void)printf("segment %s: NOT INTACT: %s: %s\n", path,
			    audit_bad_name(v->bad), v->why);
			break;
		}
		if (v->last_seq != want_seq ||
		    strcmp(v->last_hash, want_hash) != 0) {
			(void)printf("segment %s: NOT INTACT: ends at seq %"
			    PRIu64 " (%.12s...), the next segment continues "
			    "seq %" PRIu64 " (%.12s...): replaced or cut\n",
			    path, v->last_seq, v->last_hash, want_seq,
			    want_hash);
			break;
		}
		seg_keep(path);
		if (!quiet)
			(void)printf("segment %s: intact, seq %" PRIu64 "..%"
			    PRIu64 ", chained to the next\n", path,
			    v->first_seq > 0 ? v->first_seq : 1, v->last_seq);
		if (v->continues[0] == '\0') {
			rc = 0;
			break;
		}
		want_seq = v->first_seq - 1;
		(void)strlcpy(want_hash, v->last_hash_at_start,
		    sizeof(want_hash));
		(void)strlcpy(name, v->continues, sizeof(name));
	}
	free(v);
	return rc;
}

static int
not_intact(const struct opts *o, enum audit_bad bad, uint64_t line,
    uint64_t seq, const char *why, uint64_t good)
{
	(void)printf("%s: NOT INTACT\n", o->log);
	if (seq > 0)
		(void)printf("line %" PRIu64 ", seq %" PRIu64 ": %s: %s\n",
		    line, seq, audit_bad_name(bad), why);
	else if (line > 0)
		(void)printf("line %" PRIu64 ": %s: %s\n", line,
		    audit_bad_name(bad), why);
	else
		(void)printf("%s: %s\n", audit_bad_name(bad), why);
	(void)printf("%" PRIu64 " record(s) before it verified\n", good);
	return AX_NOT_INTACT;
}

static void
chain_summary(const struct opts *o, const struct audit_verifier *v)
{
	(void)printf("%s: chain intact: %" PRIu64 " records", o->log,
	    v->records);
	if (v->records > 0)
		(void)printf(", seq %" PRIu64 "..%" PRIu64 ", last hash %.16s",
		    v->first_seq > 0 ? v->first_seq : 1, v->last_seq,
		    v->last_hash);
	if (v->continues[0] != '\0')
		(void)printf(" (continues %s)", v->continues);
	if (o->state_dir == NULL)
		(void)printf("; anchor not checked (no --state-dir)");
	else if (v->anchor_lag)
		(void)printf("; anchor one record behind, as it announced (a "
		    "crash between log and anchor write, or a watchdog "
		    "running; it catches up)");
	else
		(void)printf("; anchor matches");
	(void)printf("\n");
	if (v->utc_steps > 0)
		(void)printf("note: the wall clock stepped back %" PRIu64
		    " time(s), within the %" PRId64 " s slack\n", v->utc_steps,
		    v->utc_slack_ms / 1000);
}

/* The seals' verdict after an intact chain: AX_OK or AX_UNSEALED. */
static int
seal_summary(const struct opts *o, const struct audit_verifier *v,
    const struct sealck *c)
{
	if (!c->have_key) {
		(void)printf("only the chain was checked (no --key): anyone who "
		    "can write the log can recompute it; %" PRIu64 " seal(s) "
		    "in the log not verified\n", c->nseals);
		return AX_OK;
	}
	if (c->sealed_seq > 0)
		(void)printf("sealed: seq %" PRIu64 "..%" PRIu64 " (%" PRIu64
		    " seal(s), epochs %" PRIu64 "..%" PRIu64 ", each verified "
		    "with the key)\n", c->first_seq, c->sealed_seq, c->nseals,
		    c->first_epoch, c->last_epoch);
	if (o->seal_from != NULL)
		(void)printf("published seals: %zu matched by the log%s\n",
		    c->published, c->published_bad > 0 ?
		    " (some lines ignored, see above)" : "");
	if (o->state_dir == NULL && o->seal_from == NULL)
		(void)printf("note: the end of the log is not pinned (no "
		    "--state-dir or --seal-from): a log cut after a seal "
		    "cannot be told from a shorter one\n");
	if (c->sealed_seq >= v->last_seq)
		return AX_OK;
	(void)printf("UNSEALED TAIL: seq %" PRIu64 "..%" PRIu64 " (%" PRIu64
	    " record(s) after the last seal): their chain is intact but "
	    "nothing proves they were not rewritten or appended by whoever "
	    "holds the host\n", c->sealed_seq > 0 ? c->sealed_seq + 1 :
	    c->first_seq, v->last_seq, v->last_seq - (c->sealed_seq > 0 ?
	    c->sealed_seq : c->first_seq - 1));
	return AX_UNSEALED;
}

/*
 * A rotated log with --key: the seals again, through every segment oldest
 * first and then the log, so that the epochs run from 0 across them and a
 * seal in a later segment covers the end of an earlier one.
 */
static void
seal_segments(const struct opts *o, struct sealck *c)
{
	struct audit_verifier *t = malloc(sizeof(*t));

	if (t == NULL)
		err(AX_IOERR, "malloc");
	sealck_restart(c);
	for (size_t i = nseg; i-- > 0 && !c->bad;) {
		c->where = seg_path[i];
		audit_verifier_init(t, o->utc_slack_ms);
		t->on_record = sealck_record;
		t->on_arg = c;
		(void)audit_verify_file(seg_path[i], NULL, t);
	}
	c->where = NULL;
	audit_verifier_init(t, o->utc_slack_ms);
	t->on_record = sealck_record;
	t->on_arg = c;
	if (!c->bad)
		(void)audit_verify_file(o->log, NULL, t);
	sealck_end(c, t->last_line);
	free(t);
}

/* --key -: the key from standard input, not from the command line (ps). */
static const char *
key_from_stdin(const struct opts *o, char *buf, size_t sz)
{
	if (strcmp(o->log, "-") == 0)
		errx(AX_USAGE, "--key -: the log cannot be standard input too");
	if (fgets(buf, (int)sz, stdin) == NULL)
		errx(AX_USAGE, "--key -: no key on standard input");
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf;
}

int
cmd_verify(const struct opts *o)
{
	struct audit_verifier *v = malloc(sizeof(*v));
	struct sealck *c = malloc(sizeof(*c));
	const char *key = o->key;
	char keybuf[128];
	int rc;

	if (v == NULL || c == NULL)
		err(AX_IOERR, "malloc");
	if (o->key != NULL && strcmp(o->key, "-") == 0)
		key = key_from_stdin(o, keybuf, sizeof(keybuf));
	if (sealck_init(c, key) == -1)
		errx(AX_USAGE, "--key: not a verification key (64 hex digits, "
		    "in groups of 8 joined by '-')");
	if (c->have_key && o->state_dir != NULL)
		(void)sealck_load_keyfile(c, o->state_dir);
	if (o->seal_from != NULL)
		(void)sealck_load_published(c, o->seal_from);
	audit_verifier_init(v, o->utc_slack_ms);
	v->on_record = sealck_record;
	v->on_arg = c;
	if (audit_verify_file(o->log, o->state_dir, v) == 0) {
		if (v->continues[0] != '\0' &&
		    verify_segments(o->log, v, o->utc_slack_ms, o->quiet) == -1) {
			(void)printf("%s: NOT INTACT: an earlier segment does "
			    "not verify\n", o->log);
			rc = AX_NOT_INTACT;
		} else if ((v->continues[0] != '\0' && c->have_key ?
		    seal_segments(o, c) : sealck_end(c, v->last_line)), c->bad)
			rc = not_intact(o, AUDIT_BAD_SEAL, c->bad_line,
			    c->bad_seq, c->why, c->bad_line > 0 ?
			    c->bad_line - 1 : 0);
		else {
			if (!o->quiet)
				chain_summary(o, v);
			rc = o->quiet && (!c->have_key || c->sealed_seq >=
			    v->last_seq) ? AX_OK : seal_summary(o, v, c);
		}
	} else if (v->bad == AUDIT_BAD_IO) {
		rc = v->bad_line == 0 ? AX_NOINPUT : AX_IOERR;
		warnx("%s", v->why);
	} else
		rc = not_intact(o, v->bad, v->bad_line, v->bad_seq, v->why,
		    v->bad_line > 0 ? v->bad_line - 1 : v->records);
	sealck_free(c);
	explicit_bzero(keybuf, sizeof(keybuf));
	for (size_t i = 0; i < nseg; i++)
		free(seg_path[i]);
	free(seg_path);
	free(c);
	free(v);
	return rc;
}
