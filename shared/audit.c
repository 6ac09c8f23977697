/*
 * The audit log writer. Format, durability and open-time checks are
 * described in audit.h; this file keeps to them byte for byte because the
 * hash covers the exact bytes.
 */
#include <sys/file.h>
#include <sys/param.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "clock.h"
#include "durable.h"

/* A torn tail longer than this is not a cut record: refuse. */
#define TORN_MAX	(2 * AUDIT_RECORD_MAX)
/*
 * What open reads of the log's end: a torn tail, a whole group of records
 * ahead of the anchor and the anchored one. Records are shorter than
 * AUDIT_RECORD_MAX, so every line it walks back over lies inside.
 */
#define WINDOW		((AUDIT_GROUP_MAX + 1) * AUDIT_RECORD_MAX + TORN_MAX)

/* A bounded string builder: len == cap once anything did not fit. */
struct sb {
	char	*buf;
	size_t	 len, cap;
};

static void
sb_fmt(struct sb *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
sb_fmt(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->len == b->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len = n < 0 || (size_t)n >= b->cap - b->len ? b->cap :
	    b->len + (size_t)n;
}

/*
 * Every field but the strings' bytes is reserved first (a number at most
 * AUDIT_NUM_MAX); each string gets a fair share of what is left, at most
 * AUDIT_STR_MAX: short strings leave more to the later ones.
 */
static int
add_fields(struct sb *b, const struct audit_field *f, size_t nf)
{
	char esc[AUDIT_STR_MAX + 1], num[AUDIT_NUM_MAX];
	size_t fixed = AUDIT_TAIL_LEN + 1, strings = 0, avail, cap, len, str;

	for (size_t i = 0; i < nf; i++) {
		str = f[i].type == AF_STR || f[i].type == AF_BYTES;
		if (!audit_valid_name(f[i].key) || (str && f[i].v.s == NULL &&
		    (f[i].type == AF_STR || f[i].n > 0)))
			return -1;
		fixed += strlen(f[i].key) + 4 + (str ? 2 : AUDIT_NUM_MAX);
		strings += str;
	}
	if (b->len + fixed > b->cap)
		return -1;
	avail = b->cap - b->len - fixed;
	for (size_t i = 0; i < nf; i++) {
		sb_fmt(b, "%s\"%s\":", i > 0 ? "," : "", f[i].key);
		if (f[i].type == AF_INT)
			sb_fmt(b, "%lld", (long long)f[i].v.i);
		else if (f[i].type == AF_BOOL)
			sb_fmt(b, "%s", f[i].v.b ? "true" : "false");
		else if (f[i].type == AF_NUM) {
			audit_format_num(f[i].v.d, num);
			sb_fmt(b, "%s", num);
		} else {
			if ((cap = MIN(avail / strings, AUDIT_STR_MAX)) <=
			    sizeof(AUDIT_TRUNC_MARK))
				return -1;
			len = f[i].type == AF_BYTES ? f[i].n : strlen(f[i].v.s);
			len = audit_escape((const unsigned char *)(len > 0 ?
			    f[i].v.s : ""), len, esc, cap);
			sb_fmt(b, "\"%s\"", esc);
			avail -= len;
			strings--;
		}
	}
	return 0;
}

/* Builds the record for al->seq + 1 into line; returns its length or 0. */
static size_t
build_record(const struct audit_log *al, enum audit_actor actor,
    const char *event, const struct audit_field *f, size_t nf, char *line,
    size_t cap)
{
	char utc[32], hash[AUDIT_HASH_HEX + 1];
	struct sb b = { line, 0, cap };

	utc_format(utc_ms(), utc, sizeof(utc));
	sb_fmt(&b, AUDIT_HEAD "%" PRIu64 ",\"utc\":\"%s\",\"mono_ms\":%" PRId64
	    ",\"run\":\"%s\",\"actor\":\"%s\",\"event\":\"%s\",\"fields\":{",
	    al->seq + 1, utc, mono_ms(), al->run, audit_actor_name(actor),
	    event);
	if (b.len == cap || add_fields(&b, f, nf) == -1)
		return 0;
	sb_fmt(&b, AUDIT_TAIL_PREV "%s\"", al->prev);
	audit_hash(line, b.len, hash);
	sb_fmt(&b, AUDIT_TAIL_HASH "%s\"}\n", hash);
	return b.len == cap ? 0 : b.len;
}

/* An anchor: the syncer is handed one (audit.h, THE SYNCER). */
struct sync_job {
	uint64_t	seq;
	char		prev[AUDIT_HASH_HEX + 1];
	unsigned	announce;
};

static int
anchor_put(int dirfd, const struct sync_job *j, int sync)
{
	char buf[AUDIT_ANCHOR_MAX];
	size_t n = audit_anchor_format(j->seq, j->prev, j->announce, buf,
	    sizeof(buf));

	return durable_writeat(dirfd, AUDIT_ANCHOR_NAME, buf, n, sync);
}

/* The last durable record; while open announcing the next (or group). */
static struct sync_job
anchor_now(const struct audit_log *al)
{
	struct sync_job j = { .seq = al->seq, .announce = !al->announce ? 0 :
	    al->group ? AUDIT_GROUP_MAX : 1 };

	(void)strlcpy(j.prev, al->prev, sizeof(j.prev));
	return j;
}

static int
anchor_write(struct audit_log *al)
{
	struct sync_job j = anchor_now(al);

	al->anchor_stale = anchor_put(al->dirfd, &j, !al->nosync) == -1;
	return al->anchor_stale ? -1 : 0;
}

int
audit_append(struct audit_log *al, enum audit_actor actor, const char *event,
    const struct audit_field *f, size_t nf)
{
	char line[AUDIT_RECORD_MAX];
	struct stat st;
	size_t len;
	int saved;

	if (al->fd == -1 || al->broken) {
		errno = EBADF;
		return -1;
	}
	if (!audit_valid_name(event) || nf > AUDIT_FIELDS_MAX ||
	    (nf > 0 && f == NULL) || (unsigned)actor > AUDIT_OPERATOR) {
		errno = EINVAL;
		return -1;
	}
	if ((len = build_record(al, actor, event, f, nf, line,
	    sizeof(line))) == 0) {
		errno = EMSGSIZE;
		return -1;
	}
	if (fstat(al->fd, &st) == -1)
		return -1;
	errno = EIO;		/* a short write sets none */
	if (write(al->fd, line, len) != (ssize_t)len) {
		saved = errno;
		/* Cut a partial record off so the chain stays parseable. */
		if (ftruncate(al->fd, st.st_size) == -1 ||
		    (!al->nosync && fsync(al->fd) == -1))
			al->broken = 1;
		errno = saved;
		return -1;
	}
	al->seq++;
	/* The stored hash sits at a fixed place from the end of the line. */
	(void)strlcpy(al->prev, line + len - 3 - AUDIT_HASH_HEX,
	    sizeof(al->prev));
	al->pending++;
	/* the anchor on disk announces a group: those on their way count */
	if (al->group && al->pending + al->sync_records < AUDIT_GROUP_MAX)
		return 0;
	return audit_commit(al);
}

int
audit_commit(struct audit_log *al)
{
	if (al->fd == -1 || al->broken) {
		errno = EBADF;
		return -1;
	}
	if (audit_commit_done(al) == -1)	/* the syncer's group first */
		return -1;
	if (al->pending == 0 && !al->anchor_stale)
		return 0;
	if (al->pending > 0 && !al->nosync && fdatasync(al->fd) == -1) {
		/* After a failed fsync the page cache state is unknowable. */
		al->broken = 1;
		return -1;
	}
	al->pending = 0;
	return anchor_write(al);
}

/*
 * The syncer thread: one group at a time, until its job pipe closes. Its
 * answer: 0, the errno of the log's fdatasync, or minus the anchor's.
 */
static void *
syncer(void *arg)
{
	const struct audit_log *al = arg;
	struct sync_job j;
	int r = 0;

	/* started: what the C library did to start us (rseq, robust
	 * futexes) is done before the caller's seccomp filter binds us */
	if (write(al->sync_done[1], &r, sizeof(r)) != (ssize_t)sizeof(r))
		return NULL;
	while (read(al->sync_job[0], &j, sizeof(j)) == (ssize_t)sizeof(j)) {
		r = !al->nosync && fdatasync(al->fd) == -1 ? errno :
		    anchor_put(al->dirfd, &j, !al->nosync) == -1 ? -errno : 0;
		if (write(al->sync_done[1], &r, sizeof(r)) != (ssize_t)sizeof(r))
			break;	/* the caller reads EOF: not durable */
	}
	return NULL;
}

static void
syncer_stop(struct audit_log *al)
{
	if (al->sync_job[1] != -1) {
		(void)close(al->sync_job[1]);	/* it finishes, then ends */
		al->sync_job[1] = -1;
		(void)pthread_join(al->syncer, NULL);
	}
	for (int i = 0; i < 2; i++) {
		if (al->sync_job[i] != -1)
			(void)close(al->sync_job[i]);
		if (al->sync_done[i] != -1)
			(void)close(al->sync_done[i]);
		al->sync_job[i] = al->sync_done[i] = -1;
	}
}

int
audit_syncer_start(struct audit_log *al)
{
	int r, rc = pipe2(al->sync_job, O_CLOEXEC) == -1 ||
	    pipe2(al->sync_done, O_CLOEXEC) == -1 ? errno :
	    pthread_create(&al->syncer, NULL, syncer, al);

	if (rc == 0 && read(al->sync_done[0], &r, sizeof(r)) ==
	    (ssize_t)sizeof(r))
		return 0;	/* running */
	if (rc != 0 && al->sync_job[1] != -1) {	/* no thread to join */
		(void)close(al->sync_job[1]);
		al->sync_job[1] = -1;
	}
	syncer_stop(al);
	errno = rc != 0 ? rc : EIO;
	return -1;
}

int
audit_commit_start(struct audit_log *al)
{
	struct sync_job j = anchor_now(al);

	if (al->sync_job[1] == -1 || al->fd == -1 || al->broken)
		return audit_commit(al);
	if (al->sync_records > 0 || (al->pending == 0 && !al->anchor_stale))
		return 0;	/* the next call hands them over */
	errno = EIO;
	if (write(al->sync_job[1], &j, sizeof(j)) != (ssize_t)sizeof(j))
		return -1;
	al->sync_records = al->pending + 1;	/* + 1: the anchor's */
	al->pending = 0;
	al->anchor_stale = 0;
	return 0;
}

int
audit_commit_done(struct audit_log *al)
{
	int r = EIO;	/* EOF: the thread is gone */

	if (al->sync_records == 0)
		return 0;
	al->sync_records = 0;
	if (read(al->sync_done[0], &r, sizeof(r)) != (ssize_t)sizeof(r))
		r = EIO;
	if (r > 0)
		al->broken = 1;	/* as after a failed fdatasync of ours */
	else if (r < 0)
		al->anchor_stale = 1;	/* the next commit retries it */
	errno = r > 0 ? r : -r;
	return r == 0 ? 0 : -1;
}

int
audit_durable(const struct audit_log *al)
{
	return al->pending == 0 && al->sync_records == 0;
}

/* On: the anchor announces a whole group before the first is written. */
int
audit_set_group(struct audit_log *al, int on)
{
	al->group = on;
	al->anchor_stale = 1;	/* the announcement changes */
	return audit_commit(al);
}

int
audit_set_run(struct audit_log *al, const char *run_id)
{
	if (!audit_valid_run(run_id))
		return -1;
	(void)strlcpy(al->run, run_id, sizeof(al->run));
	return 0;
}

static int
fail(char *why, size_t whysz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(char *why, size_t whysz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
	return -1;
}

/* The start of the line whose newline is buf[end - 1]. */
static size_t
line_start(const char *buf, size_t end)
{
	size_t i = end - 1;

	while (i > 0 && buf[i - 1] != '\n')
		i--;
	return i;
}

/*
 * The n lines that end at buf[end] are records in sequence, each chained
 * to the one before, the first to hash: what a crash between the log's
 * write and the anchor's leaves.
 */
static int
chained(const char *buf, size_t end, uint64_t n, const char *hash)
{
	char want[AUDIT_HASH_HEX + 1] = "", why[AUDIT_ERR_MAX];
	struct audit_ends e;
	uint64_t seq = 0;
	size_t i;

	for (; n > 0; n--, end = i) {
		if (end == 0)
			return -1;
		i = line_start(buf, end);
		if (audit_layout(buf + i, end - 1 - i, &e, why, sizeof(why)) ==
		    -1 || (seq != 0 && (e.seq + 1 != seq ||
		    strcmp(e.hash, want) != 0)))
			return -1;
		seq = e.seq;
		(void)strlcpy(want, e.prev, sizeof(want));
	}
	return strcmp(want, hash);
}

/*
 * The complete records of the tail (buf[0..end)) against the anchor: see
 * OPENING in audit.h. Sets the chain's head; *ahead: records accepted
 * that the anchor did not hold.
 */
static int
check_anchor(struct audit_log *al, const char *buf, size_t end,
    uint64_t *ahead, char *why, size_t whysz)
{
	struct audit_ends e = { .seq = 0, .hash = AUDIT_ZERO_HASH };
	char ahash[AUDIT_HASH_HEX + 1], r[AUDIT_ERR_MAX];
	uint64_t aseq, ann;
	size_t i;
	int arc;

	if ((arc = audit_anchor_read(al->dirfd, &aseq, ahash, &ann, r,
	    sizeof(r))) == -1)
		return fail(why, whysz, "anchor: %s", r);
	i = end > 0 ? line_start(buf, end) : 0;
	if (end > 0 && audit_layout(buf + i, end - 1 - i, &e, r, sizeof(r)) ==
	    -1)
		return fail(why, whysz, "last record: %s", r);
	al->seq = e.seq;
	(void)strlcpy(al->prev, e.hash, sizeof(al->prev));
	*ahead = e.seq > aseq ? e.seq - aseq : 0;
	if ((e.seq == aseq && strcmp(e.hash, ahash) == 0) || (*ahead > 0 &&
	    *ahead <= MIN(ann, AUDIT_GROUP_MAX) &&
	    chained(buf, end, *ahead, ahash) == 0))
		return 0;
	if (e.seq < aseq)
		return fail(why, whysz, "log ends at seq %" PRIu64 " but the "
		    "anchor records seq %" PRIu64 ": truncated", e.seq, aseq);
	return fail(why, whysz, "last record (seq %" PRIu64 ") does not match "
	    "the anchor (seq %" PRIu64 ")%s", e.seq, aseq, arc == 1 ? ": "
	    AUDIT_ANCHOR_NAME " missing, for an empty log only" :
	    *ahead == 1 && ann == 0 ? ": the next record, not announced: "
	    "appended by something else" : "");
}

/*
 * The tail of the log against the anchor, then announced; a record cut
 * short by a crash (never anchored) is removed and what was removed is
 * recorded inside the chain, as are records caught up: nothing
 * disappears or enters silently.
 */
static int
open_tail(struct audit_log *al, char *buf, char *why, size_t whysz)
{
	off_t size, start;
	size_t n, end;
	uint64_t ahead = 0, from;

	if ((size = lseek(al->fd, 0, SEEK_END)) == -1)
		return fail(why, whysz, "%s", strerror(errno));
	start = MAX(size - (off_t)WINDOW, 0);
	n = (size_t)(size - start);
	errno = EIO;		/* a short read sets none */
	if (pread(al->fd, buf, n, start) != (ssize_t)n)
		return fail(why, whysz, "read: %s", strerror(errno));
	for (end = n; end > 0 && buf[end - 1] != '\n'; end--)
		;
	if (n - end > TORN_MAX)
		return fail(why, whysz, "%zu bytes after the last record",
		    n - end);
	if (check_anchor(al, buf, end, &ahead, why, whysz) == -1)
		return -1;
	from = al->seq - ahead + 1;
	al->announce = 1;	/* before the first append of this run */
	if (anchor_write(al) == -1)
		return fail(why, whysz, "anchor: %s", strerror(errno));
	if (end < n && (ftruncate(al->fd, start + (off_t)end) == -1 ||
	    (!al->nosync && fsync(al->fd) == -1)))
		return fail(why, whysz, "removing torn record: %s",
		    strerror(errno));
	if (end < n && audit_append(al, AUDIT_WATCHDOG, AUDIT_EV_LOG_REPAIRED,
	    (struct audit_field[]){ AF_I("torn_bytes", (int64_t)(n - end)),
	    AF_N("torn_text", buf + end, n - end) }, 2) == -1)
		return fail(why, whysz, "recording the torn record: %s",
		    strerror(errno));
	if (ahead > 1 && audit_append(al, AUDIT_WATCHDOG,
	    AUDIT_EV_LOG_CAUGHT_UP, (struct audit_field[]){ AF_I("records",
	    (int64_t)ahead), AF_I("from_seq", (int64_t)from) },
	    2) == -1)
		return fail(why, whysz, "recording the catch-up: %s",
		    strerror(errno));
	return 0;
}

static int
open_log(struct audit_log *al, const char *path, const char *state_dir,
    char *why, size_t whysz)
{
	char dir[PATH_MAX], *buf;
	struct stat st;
	int dfd, rc;

	if ((al->dirfd = open(state_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return fail(why, whysz, "%s: %s", state_dir, strerror(errno));
	if ((al->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW | O_NONBLOCK, AUDIT_LOG_MODE)) == -1)
		return fail(why, whysz, "%s", strerror(errno));
	/* the log's directory entry, should it be new, survives power loss */
	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir) ||
	    (dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return fail(why, whysz, "directory: %s", strerror(errno));
	rc = fsync(dfd);
	(void)close(dfd);
	if (rc == -1)
		return fail(why, whysz, "fsync directory: %s", strerror(errno));
	if (flock(al->fd, LOCK_EX | LOCK_NB) == -1)
		return fail(why, whysz, "%s", errno == EWOULDBLOCK ?
		    "in use by another writer" : strerror(errno));
	if (fstat(al->fd, &st) == -1 || !S_ISREG(st.st_mode))
		return fail(why, whysz, "not a regular file");
	if ((buf = malloc(WINDOW)) == NULL)
		return fail(why, whysz, "malloc: %s", strerror(errno));
	rc = open_tail(al, buf, why, whysz);
	free(buf);
	return rc;
}

int
audit_open(struct audit_log *al, const char *log_path, const char *state_dir,
    char *err, size_t errsz)
{
	char why[AUDIT_ERR_MAX];

	memset(al, 0, sizeof(*al));
	al->fd = al->dirfd = -1;
	al->sync_job[0] = al->sync_job[1] = -1;
	al->sync_done[0] = al->sync_done[1] = -1;
	(void)strlcpy(al->prev, AUDIT_ZERO_HASH, sizeof(al->prev));
	if (open_log(al, log_path, state_dir, why, sizeof(why)) == 0)
		return 0;
	/* Name the file in front of the reason. */
	(void)snprintf(err, errsz, "%s: %s", log_path, why);
	audit_close(al);
	return -1;
}

void
audit_close(struct audit_log *al)
{
	/* what was written is made durable first (group commit), then the
	 * announcement is withdrawn: nothing more is coming */
	if (al->fd != -1 && !al->broken && audit_commit(al) == 0 &&
	    al->announce) {
		al->announce = 0;
		(void)anchor_write(al);
	}
	(void)audit_commit_done(al);	/* broken: its answer, unread */
	syncer_stop(al);
	if (al->fd != -1)
		(void)close(al->fd);
	if (al->dirfd != -1)
		(void)close(al->dirfd);
	al->fd = al->dirfd = -1;
}
