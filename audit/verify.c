/*
 * gridcal-audit verify: the whole chain, then the anchor. Prints one
 * summary line when intact, or the first bad record and why.
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

int
cmd_verify(const struct opts *o)
{
	struct audit_verifier *v = malloc(sizeof(*v));

	if (v == NULL)
		err(AX_IOERR, "malloc");
	audit_verifier_init(v, o->utc_slack_ms);
	if (audit_verify_file(o->log, o->state_dir, v) == 0) {
		if (v->continues[0] != '\0' &&
		    verify_segments(o->log, v, o->utc_slack_ms, o->quiet) == -1) {
			(void)printf("%s: NOT INTACT: an earlier segment does "
			    "not verify\n", o->log);
			free(v);
			return AX_NOT_INTACT;
		}
		if (!o->quiet) {
			(void)printf("%s: intact: %" PRIu64 " records", o->log,
			    v->records);
			if (v->records > 0)
				(void)printf(", seq %" PRIu64 "..%" PRIu64
				    ", last hash %.16s", v->first_seq > 0 ?
				    v->first_seq : 1, v->last_seq,
				    v->last_hash);
			if (v->continues[0] != '\0')
				(void)printf(" (continues %s)", v->continues);
			if (o->state_dir == NULL)
				(void)printf("; anchor not checked "
				    "(no --state-dir)");
			else if (v->anchor_lag)
				(void)printf("; anchor one record behind (a "
				    "crash between log and anchor write; the "
				    "watchdog catches up on its next start)");
			else
				(void)printf("; anchor matches");
			(void)printf("\n");
			if (v->utc_steps > 0)
				(void)printf("note: the wall clock stepped "
				    "back %" PRIu64 " time(s), within the %"
				    PRId64 " s slack\n", v->utc_steps,
				    v->utc_slack_ms / 1000);
		}
		free(v);
		return AX_OK;
	}
	if (v->bad == AUDIT_BAD_IO) {
		int rc = v->bad_line == 0 ? AX_NOINPUT : AX_IOERR;

		warnx("%s", v->why);
		free(v);
		return rc;
	}
	(void)printf("%s: NOT INTACT\n", o->log);
	if (v->bad_seq > 0)
		(void)printf("line %" PRIu64 ", seq %" PRIu64 ": %s: %s\n",
		    v->bad_line, v->bad_seq, audit_bad_name(v->bad), v->why);
	else if (v->bad_line > 0)
		(void)printf("line %" PRIu64 ": %s: %s\n", v->bad_line,
		    audit_bad_name(v->bad), v->why);
	else
		(void)printf("%s: %s\n", audit_bad_name(v->bad), v->why);
	(void)printf("%" PRIu64 " record(s) before it verified\n",
	    v->bad_line > 0 ? v->bad_line - 1 : v->records);
	free(v);
	return AX_NOT_INTACT;
}
