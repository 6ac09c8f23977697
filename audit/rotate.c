/*
 * gridcal-audit rotate: closes the log as a segment and starts the next
 * one, chained to it, so nothing ever has to cut or rewrite the chain
 * (logrotate would break it):
 *
 *   LOG           ... seq N-1, seq N "segment_end" {next, segment}
 *     becomes LOG.<N, 10 digits>, and a new LOG begins with
 *   LOG           seq N+1 "segment_start" {previous, previous_seq}, its
 *                 prev the hash of seq N; the anchor follows.
 *
 * Both records are the operator's (actor "operator"). The log must verify
 * with its anchor first, and the writer's lock (flock) is taken: a running
 * watchdog makes rotate fail, and rotate makes a starting watchdog fail.
 * Interrupted after the new segment's first record (anchor at N+1) but
 * before the rename, LOG.new holds it: rename it to LOG.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"

static void
fsync_dir(const char *path)
{
	char buf[PATH_MAX];
	int fd;

	(void)strlcpy(buf, path, sizeof(buf));
	if ((fd = open(dirname(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || fsync(fd) == -1)
		err(AX_IOERR, "fsync %s", buf);
	(void)close(fd);
}

/* The next segment's file, owned and moded as the log, locked. */
static int
new_log(const char *tmp, int oldfd)
{
	struct stat st;
	int fd;

	if (fstat(oldfd, &st) == -1 ||
	    (fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_APPEND |
	    O_NOFOLLOW | O_CLOEXEC, AUDIT_LOG_MODE)) == -1)
		err(AX_IOERR, "%s", tmp);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1 ||
	    (geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) == -1) ||
	    fchmod(fd, st.st_mode & 0777) == -1)
		err(AX_IOERR, "%s", tmp);
	return fd;
}

int
cmd_rotate(const struct opts *o)
{
	struct audit_verifier *v;
	struct audit_log al;
	char why[AUDIT_ERR_MAX], seg[PATH_MAX], tmp[PATH_MAX], lb[PATH_MAX];
	char sb[PATH_MAX];
	uint64_t end;
	int n, fd;

	if (o->state_dir == NULL)
		errx(AX_USAGE, "rotate: needs --state-dir (or --profile)");
	if ((v = malloc(sizeof(*v))) == NULL)
		err(AX_IOERR, "malloc");
	audit_verifier_init(v, o->utc_slack_ms);
	if (audit_verify_file(o->log, o->state_dir, v) == 0 &&
	    v->continues[0] != '\0' &&
	    verify_segments(o->log, v, o->utc_slack_ms, 1) == -1) {
		free(v);
		(void)printf("%s: an earlier segment does not verify: not "
		    "rotated\n", o->log);
		return AX_NOT_INTACT;
	}
	if (v->bad != AUDIT_BAD_NONE) {
		int rc = v->bad == AUDIT_BAD_IO ? AX_NOINPUT : AX_NOT_INTACT;

		(void)printf("%s: NOT INTACT (%s: %s): not rotated\n", o->log,
		    audit_bad_name(v->bad), v->why);
		free(v);
		return rc;
	}
	free(v);
	if (audit_open(&al, o->log, o->state_dir, why, sizeof(why)) == -1)
		errx(AX_NOINPUT, "%s (a run writing it?)", why);
	if (al.seq == 0)
		errx(AX_USAGE, "%s: empty: nothing to rotate", o->log);
	end = al.seq + 1;
	n = snprintf(seg, sizeof(seg), "%s.%010" PRIu64, o->log, end);
	if (n < 0 || (size_t)n >= sizeof(seg) ||
	    snprintf(tmp, sizeof(tmp), "%s.new", o->log) >= (int)sizeof(tmp))
		errx(AX_USAGE, "%s: path too long", o->log);
	if (access(seg, F_OK) == 0 || access(tmp, F_OK) == 0)
		errx(AX_IOERR, "%s or %s exists", seg, tmp);
	(void)strlcpy(lb, o->log, sizeof(lb));
	(void)strlcpy(sb, seg, sizeof(sb));
	/* the closing record, durable and anchored, then the segment name */
	if (audit_append(&al, AUDIT_OPERATOR, "segment_end", (struct
	    audit_field[]){ AF_S("next", basename(lb)),
	    AF_S("segment", basename(sb)) }, 2) == -1)
		err(AX_IOERR, "%s: segment_end", o->log);
	if (link(o->log, seg) == -1)
		err(AX_IOERR, "link %s", seg);
	fsync_dir(seg);
	/* the next segment's first record, chained to the closing one */
	fd = new_log(tmp, al.fd);
	(void)close(al.fd);	/* its lock goes with it; fd holds ours */
	al.fd = fd;
	(void)strlcpy(sb, seg, sizeof(sb));
	if (audit_append(&al, AUDIT_OPERATOR, "segment_start", (struct
	    audit_field[]){ AF_S("previous", basename(sb)),
	    AF_I("previous_seq", (int64_t)end) }, 2) == -1)
		err(AX_IOERR, "%s: segment_start", tmp);
	if (rename(tmp, o->log) == -1)
		err(AX_IOERR, "rename %s", tmp);
	fsync_dir(o->log);
	audit_close(&al);
	(void)printf("%s: rotated: %s holds seq ..%" PRIu64 ", %s continues "
	    "at seq %" PRIu64 "\n", o->log, seg, end, o->log, end + 1);
	return AX_OK;
}
