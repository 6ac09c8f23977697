/*
 * Link-time stand-in for the audit log writer (shared/audit.h): records go
 * to the harness, which reads them as the watchdog's own evidence and can
 * make the log fail.
 */
#include <string.h>

#include "audit.h"
#include "wdfuzz.h"

int
audit_open(struct audit_log *al, const char *log_path, const char *state_dir,
    char *err, size_t errsz)
{
	(void)log_path;
	(void)state_dir;
	(void)err;
	(void)errsz;
	memset(al, 0, sizeof(*al));
	al->fd = al->dirfd = -1;
	al->sync_job[0] = al->sync_job[1] = -1;	/* no syncer: polled fd -1 */
	al->sync_done[0] = al->sync_done[1] = -1;
	return 0;
}

int
audit_set_run(struct audit_log *al, const char *run_id)
{
	(void)strlcpy(al->run, run_id, sizeof(al->run));
	return 0;
}

int
audit_append(struct audit_log *al, enum audit_actor actor, const char *event,
    const struct audit_field *f, size_t nf)
{
	/* the harness sees every record the watchdog tried to write, and
	 * keeps the log broken after a failure as the real writer does */
	if (wdf_audit(actor, event, f, nf) == -1) {
		al->broken = 1;
		return -1;
	}
	al->seq++;
	return 0;
}

void
audit_close(struct audit_log *al)
{
	(void)al;
}

int
audit_set_group(struct audit_log *al, int on)
{
	al->group = on;
	return 0;
}

/* What was appended becomes durable: the harness is told. */
int
audit_commit(struct audit_log *al)
{
	if (al->broken)
		return -1;
	wdf_audit_commit();
	return 0;
}

/* No syncer thread here: every commit is synchronous, as without one. */
int
audit_syncer_start(struct audit_log *al)
{
	(void)al;
	return 0;
}

int
audit_commit_start(struct audit_log *al)
{
	return audit_commit(al);
}

int
audit_commit_done(struct audit_log *al)
{
	(void)al;
	return 0;
}

int
audit_durable(const struct audit_log *al)
{
	(void)al;
	return 1;
}
