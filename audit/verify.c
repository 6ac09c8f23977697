/*
 * gridcal-audit verify: the whole chain, then the anchor. Prints one
 * summary line when intact, or the first bad record and why.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

int
cmd_verify(const struct opts *o)
{
	struct audit_verifier *v = malloc(sizeof(*v));

	if (v == NULL)
		err(AX_IOERR, "malloc");
	audit_verifier_init(v, o->utc_slack_ms);
	if (audit_verify_file(o->log, o->state_dir, v) == 0) {
		if (!o->quiet) {
			(void)printf("%s: intact: %" PRIu64 " records", o->log,
			    v->records);
			if (v->records > 0)
				(void)printf(", seq 1..%" PRIu64 ", last hash "
				    "%.16s", v->last_seq, v->last_hash);
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
