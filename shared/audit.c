/*
 * The audit log writer. Format, durability and open-time checks are
 * described in audit.h; this file keeps to them byte for byte because the
 * hash covers the exact bytes.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "clock.h"

#define ANCHOR_TMP	AUDIT_ANCHOR_NAME ".tmp"
/* Bytes after the fields: the fixed tail and the newline */
#define TAIL_RESERVE	(AUDIT_TAIL_LEN + 1)
/* A torn tail longer than this is not a cut record: refuse. */
#define TORN_MAX	(2 * AUDIT_RECORD_MAX)

/* A bounded string builder: overflow is sticky and checked once. */
struct sb {
	char	*buf;
	size_t	 len, cap;
	int	 over;
};

static void
sb_add(struct sb *b, const char *s, size_t n)
{
	if (b->over || n > b->cap - b->len) {
		b->over = 1;
		return;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
}

static void
sb_str(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void
sb_fmt(struct sb *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
sb_fmt(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->over = 1;
		return;
	}
	b->len += (size_t)n;
}

static size_t
field_fixed_cost(const struct audit_field *f)
{
	char num[AUDIT_NUM_MAX];
	size_t n = strlen(f->key) + 4;		/* "key": and a comma */

	switch (f->type) {
	case AF_INT:
		return n + 20;
	case AF_NUM:
		audit_format_num(f->v.d, num);
		return n + strlen(num);
	case AF_BOOL:
		return n + 5;
	case AF_STR:
	case AF_BYTES:
		return n + 2;
	}
	return n;
}

static int
add_fields(struct sb *b, const struct audit_field *f, size_t nf)
{
	char esc[AUDIT_STR_MAX + 1], num[AUDIT_NUM_MAX];
	size_t fixed = 0, strings = 0, avail;

	for (size_t i = 0; i < nf; i++) {
		if (!audit_valid_name(f[i].key))
			return -1;
		if ((f[i].type == AF_STR || f[i].type == AF_BYTES) &&
		    (f[i].v.s == NULL && !(f[i].type == AF_BYTES &&
		    f[i].n == 0)))
			return -1;
		fixed += field_fixed_cost(&f[i]);
		if (f[i].type == AF_STR || f[i].type == AF_BYTES)
			strings++;
	}
	if (b->len + fixed + TAIL_RESERVE > b->cap)
		return -1;
	avail = b->cap - b->len - fixed - TAIL_RESERVE;
	for (size_t i = 0; i < nf; i++) {
		sb_fmt(b, "%s\"%s\":", i > 0 ? "," : "", f[i].key);
		switch (f[i].type) {
		case AF_INT:
			sb_fmt(b, "%lld", (long long)f[i].v.i);
			break;
		case AF_NUM:
			audit_format_num(f[i].v.d, num);
			sb_str(b, num);
			break;
		case AF_BOOL:
			sb_str(b, f[i].v.b ? "true" : "false");
			break;
		case AF_STR:
		case AF_BYTES: {
			/* Fair share of what is left; short strings leave more. */
			size_t cap = avail / strings, len, n;

			if (cap > AUDIT_STR_MAX)
				cap = AUDIT_STR_MAX;
			if (cap <= sizeof(AUDIT_TRUNC_MARK))
				return -1;
			len = f[i].type == AF_BYTES ? f[i].n : strlen(f[i].v.s);
			n = audit_escape((const unsigned char *)
			    (len > 0 ? f[i].v.s : ""), len, esc, cap);
			sb_add(b, "\"", 1);
			sb_add(b, esc, n);
			sb_add(b, "\"", 1);
			avail -= n;
			strings--;
			break;
		}
		}
	}
	return b->over ? -1 : 0;
}

/* Builds the record for al->seq + 1 into line; returns its length or 0. */
static size_t
build_record(const struct audit_log *al, enum audit_actor actor,
    const char *event, const struct audit_field *f, size_t nf, char *line,
    size_t cap)
{
	char utc[32], hash[AUDIT_HASH_HEX + 1];
	struct sb b = { line, 0, cap, 0 };
	size_t hashed;

	utc_format(utc_ms(), utc, sizeof(utc));
	sb_fmt(&b, "{\"seq\":%" PRIu64 ",\"utc\":\"%s\",\"mono_ms\":%" PRId64
	    ",\"run\":\"%s\",\"actor\":\"%s\",\"event\":\"%s\",\"fields\":{",
	    al->seq + 1, utc, mono_ms(), al->run, audit_actor_name(actor),
	    event);
	if (b.over || add_fields(&b, f, nf) == -1)
		return 0;
	sb_fmt(&b, AUDIT_TAIL_PREV "%s\"", al->prev);
	hashed = b.len;
	audit_hash(line, hashed, hash);
	sb_fmt(&b, AUDIT_TAIL_HASH "%s\"}\n", hash);
	if (b.over)
		return 0;
	return b.len;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
anchor_write(struct audit_log *al)
{
	char buf[96];
	int fd, n, saved;

	/* while open, the next record (a group commit: the next group) is
	 * announced (auditfmt.h) */
	n = al->announce ? snprintf(buf, sizeof(buf), "%" PRIu64 " %s +%d\n",
	    al->seq, al->prev, al->group ? AUDIT_GROUP_MAX : 1) :
	    snprintf(buf, sizeof(buf), "%" PRIu64 " %s\n", al->seq, al->prev);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		errno = EOVERFLOW;
		return -1;
	}
	/* O_EXCL after removing a stale one: nothing planted is opened */
	if (unlinkat(al->dirfd, ANCHOR_TMP, 0) == -1 && errno != ENOENT)
		return -1;
	fd = openat(al->dirfd, ANCHOR_TMP, O_WRONLY | O_CREAT | O_EXCL |
	    O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	if (fd == -1)
		return -1;
	if (write_all(fd, buf, (size_t)n) == -1 ||
	    (!al->nosync && fsync(fd) == -1)) {
		saved = errno;
		(void)close(fd);
		errno = saved;
		return -1;
	}
	if (close(fd) == -1)
		return -1;
	if (renameat(al->dirfd, ANCHOR_TMP, al->dirfd, AUDIT_ANCHOR_NAME) == -1)
		return -1;
	if (!al->nosync && fsync(al->dirfd) == -1)
		return -1;
	al->anchor_stale = 0;
	return 0;
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
	    (nf > 0 && f == NULL) ||
	    (actor != AUDIT_WATCHDOG && actor != AUDIT_SUPERVISOR &&
	    actor != AUDIT_OPERATOR)) {
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
	if (write_all(al->fd, line, len) == -1) {
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
	memcpy(al->prev, line + len - 3 - AUDIT_HASH_HEX, AUDIT_HASH_HEX);
	al->prev[AUDIT_HASH_HEX] = '\0';
	al->pending++;
	if (al->group && al->pending < AUDIT_GROUP_MAX)
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
	if (al->pending == 0 && !al->anchor_stale)
		return 0;
	if (al->pending > 0 && !al->nosync && fdatasync(al->fd) == -1) {
		/* After a failed fsync the page cache state is unknowable. */
		al->broken = 1;
		return -1;
	}
	al->pending = 0;
	if (anchor_write(al) == -1) {
		al->anchor_stale = 1;
		return -1;
	}
	return 0;
}

/* On: the anchor announces a whole group before the first is written. */
int
audit_set_group(struct audit_log *al, int on)
{
	if (audit_commit(al) == -1)
		return -1;
	al->group = on;
	if (anchor_write(al) == -1) {
		al->anchor_stale = 1;
		return -1;
	}
	return 0;
}

int
audit_set_run(struct audit_log *al, const char *run_id)
{
	if (!audit_valid_run(run_id))
		return -1;
	(void)strlcpy(al->run, run_id, sizeof(al->run));
	return 0;
}

void
audit_set_nosync(struct audit_log *al, int nosync)
{
	al->nosync = nosync;
}

static void
seterr(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errsz == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

static int
fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd, rc;

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((slash = strrchr(dir, '/')) == NULL)
		(void)strlcpy(dir, ".", sizeof(dir));
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	(void)close(fd);
	return rc;
}

static int
open_log(const char *path, int *created)
{
	int fd;

	*created = 0;
	fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1 && errno == ENOENT) {
		fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, AUDIT_LOG_MODE);
		*created = fd != -1;
	}
	return fd;
}

/*
 * The tail of the log: the last complete line and any torn bytes after
 * it. Offsets are file offsets.
 */
struct tail {
	char	 buf[AUDIT_RECORD_MAX + TORN_MAX + 2];
	size_t	 linelen;	/* 0: no complete line */
	char	*line;
	char	*torn;
	off_t	 torn_off;	/* where the torn bytes start */
	size_t	 tornlen;
};

static int
read_tail(int fd, off_t size, struct tail *t, char *err, size_t errsz)
{
	off_t start = size > (off_t)sizeof(t->buf) ?
	    size - (off_t)sizeof(t->buf) : 0;
	size_t n = (size_t)(size - start), got = 0, end, i;

	while (got < n) {
		ssize_t r = pread(fd, t->buf + got, n - got, start +
		    (off_t)got);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			seterr(err, errsz, "read: %s",
			    r == 0 ? "unexpected end" : strerror(errno));
			return -1;
		}
		got += (size_t)r;
	}
	/* Torn bytes: everything after the last newline. */
	for (end = n; end > 0 && t->buf[end - 1] != '\n'; end--)
		;
	t->tornlen = n - end;
	t->torn = t->buf + end;
	t->torn_off = start + (off_t)end;
	if (end == 0 && start > 0) {
		seterr(err, errsz, "last %zu bytes hold no complete record", n);
		return -1;
	}
	if (t->tornlen > TORN_MAX) {
		seterr(err, errsz, "%zu bytes after the last record",
		    t->tornlen);
		return -1;
	}
	t->linelen = 0;
	if (end == 0)
		return 0;
	for (i = end - 1; i > 0 && t->buf[i - 1] != '\n'; i--)
		;
	if (i == 0 && start > 0) {
		seterr(err, errsz, "last record longer than %d bytes",
		    AUDIT_RECORD_MAX);
		return -1;
	}
	t->line = t->buf + i;
	t->linelen = end - 1 - i;
	return 0;
}

/*
 * The n records that end at offset end are intact and chained, the first
 * of them to the anchored hash: what a crash before a group commit leaves.
 */
static int
chained(int fd, off_t end, uint64_t n, const char *ahash)
{
	size_t cap = (size_t)(n + 1) * AUDIT_RECORD_MAX, got = 0, len, i, j;
	off_t start = end > (off_t)cap ? end - (off_t)cap : 0;
	char want[AUDIT_HASH_HEX + 1] = "", why[AUDIT_ERR_MAX], *buf;
	struct audit_ends e;
	uint64_t seq = 0;
	int rc = -1;

	len = (size_t)(end - start);
	if ((buf = malloc(len + 1)) == NULL)
		return -1;
	while (got < len) {
		ssize_t r = pread(fd, buf + got, len - got, start + (off_t)got);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			goto out;
		got += (size_t)r;
	}
	/* from the last line back: each hash is the prev of the next */
	for (j = len; n > 0; n--, j = i) {
		if (j == 0 || buf[j - 1] != '\n')
			goto out;
		for (i = j - 1; i > 0 && buf[i - 1] != '\n'; i--)
			;
		if ((i == 0 && start > 0) ||
		    audit_layout(buf + i, j - 1 - i, &e, why, sizeof(why)) ==
		    -1 || (seq != 0 && (e.seq + 1 != seq ||
		    strcmp(e.hash, want) != 0)))
			goto out;
		seq = e.seq;
		(void)strlcpy(want, e.prev, sizeof(want));
	}
	rc = strcmp(want, ahash) == 0 ? 0 : -1;
out:
	free(buf);
	return rc;
}

/* Checks the log's last record against the anchor; see audit.h. */
static int
check_anchor(struct audit_log *al, struct tail *t, char *err, size_t errsz)
{
	struct audit_ends e = { .seq = 0, .prev = AUDIT_ZERO_HASH };
	char why[AUDIT_ERR_MAX], ahash[AUDIT_HASH_HEX + 1];
	uint64_t aseq, ann;
	int arc;

	if ((arc = audit_anchor_read(al->dirfd, &aseq, ahash, &ann, why,
	    sizeof(why))) == -1) {
		seterr(err, errsz, "anchor: %s", why);
		return -1;
	}
	(void)strlcpy(al->prev, AUDIT_ZERO_HASH, sizeof(al->prev));
	if (t->linelen > 0) {
		if (audit_layout(t->line, t->linelen, &e, why, sizeof(why)) ==
		    -1) {
			seterr(err, errsz, "last record: %s", why);
			return -1;
		}
		(void)strlcpy(al->prev, e.hash, sizeof(al->prev));
	}
	al->seq = e.seq;
	if (e.seq == aseq && strcmp(al->prev, ahash) == 0)
		return 0;
	if ((e.seq > 0 && e.seq == aseq + 1 && ann >= 1 &&
	    strcmp(e.prev, ahash) == 0) || (e.seq > aseq + 1 &&
	    e.seq - aseq <= ann && e.seq - aseq <= AUDIT_GROUP_MAX &&
	    chained(al->fd, t->torn_off, e.seq - aseq, ahash) == 0 &&
	    (al->caught_up = e.seq - aseq) > 0 &&
	    (al->caught_from = aseq + 1) > 0)) {
		/* Crash between the log fsync and the anchor: catch up. */
		if (anchor_write(al) == 0)
			return 0;
		seterr(err, errsz, "anchor: %s", strerror(errno));
	} else if (e.seq < aseq)
		seterr(err, errsz, "log ends at seq %" PRIu64 " but the anchor "
		    "records seq %" PRIu64 ": truncated", e.seq, aseq);
	else if (arc == 1)
		seterr(err, errsz, "anchor %s missing for a log of %" PRIu64
		    " records", AUDIT_ANCHOR_NAME, e.seq);
	else if (e.seq == aseq + 1 && ann == 0)
		seterr(err, errsz, "seq %" PRIu64 " follows the anchor (seq %"
		    PRIu64 ") but was not announced: appended by something "
		    "else", e.seq, aseq);
	else
		seterr(err, errsz, "last record (seq %" PRIu64 ") does not "
		    "match the anchor (seq %" PRIu64 ")", e.seq, aseq);
	return -1;
}

/*
 * A record cut short by a crash was never anchored: remove it, then record
 * what was removed inside the chain so nothing disappears silently.
 */
static int
repair_torn(struct audit_log *al, struct tail *t, char *err, size_t errsz)
{
	struct audit_field f[2];

	if (ftruncate(al->fd, t->torn_off) == -1 ||
	    (!al->nosync && fsync(al->fd) == -1)) {
		seterr(err, errsz, "removing torn record: %s", strerror(errno));
		return -1;
	}
	f[0] = AF_I("torn_bytes", (int64_t)t->tornlen);
	f[1] = AF_N("torn_text", t->torn, t->tornlen);
	if (audit_append(al, AUDIT_WATCHDOG, AUDIT_EV_LOG_REPAIRED, f, 2) ==
	    -1) {
		seterr(err, errsz, "recording the torn record: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
audit_open(struct audit_log *al, const char *log_path, const char *state_dir,
    char *err, size_t errsz)
{
	struct tail *t = NULL;
	struct stat st;
	int created;

	memset(al, 0, sizeof(*al));
	al->fd = al->dirfd = -1;
	(void)strlcpy(al->prev, AUDIT_ZERO_HASH, sizeof(al->prev));
	if ((al->dirfd = open(state_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		seterr(err, errsz, "%s: %s", state_dir, strerror(errno));
		goto fail;
	}
	if ((al->fd = open_log(log_path, &created)) == -1) {
		seterr(err, errsz, "%s: %s", log_path, strerror(errno));
		goto fail;
	}
	if (created && fsync_parent(log_path) == -1) {
		seterr(err, errsz, "%s: fsync directory: %s", log_path,
		    strerror(errno));
		goto fail;
	}
	if (flock(al->fd, LOCK_EX | LOCK_NB) == -1) {
		seterr(err, errsz, "%s: %s", log_path, errno == EWOULDBLOCK ?
		    "in use by another writer" : strerror(errno));
		goto fail;
	}
	if (fstat(al->fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		seterr(err, errsz, "%s: not a regular file", log_path);
		goto fail;
	}
	if ((t = malloc(sizeof(*t))) == NULL) {
		seterr(err, errsz, "malloc: %s", strerror(errno));
		goto fail;
	}
	if (read_tail(al->fd, st.st_size, t, err, errsz) == -1 ||
	    check_anchor(al, t, err, errsz) == -1)
		goto fail_prefix;
	al->announce = 1;	/* before the first append of this run */
	if (anchor_write(al) == -1) {
		seterr(err, errsz, "anchor: %s", strerror(errno));
		goto fail_prefix;
	}
	if (t->tornlen > 0 && repair_torn(al, t, err, errsz) == -1)
		goto fail_prefix;
	/* un-anchored records accepted: say so inside the chain */
	if (al->caught_up > 0 && audit_append(al, AUDIT_WATCHDOG,
	    AUDIT_EV_LOG_CAUGHT_UP, (struct audit_field[]){ AF_I("records",
	    (int64_t)al->caught_up), AF_I("from_seq",
	    (int64_t)al->caught_from) }, 2) == -1) {
		seterr(err, errsz, "recording the catch-up: %s",
		    strerror(errno));
		goto fail_prefix;
	}
	free(t);
	return 0;
fail_prefix:
	/* Name the file in front of the reason. */
	if (err != NULL && errsz > 0) {
		char tmp[AUDIT_ERR_MAX];

		(void)strlcpy(tmp, err, sizeof(tmp));
		seterr(err, errsz, "%s: %s", log_path, tmp);
	}
fail:
	free(t);
	audit_close(al);
	return -1;
}

void
audit_close(struct audit_log *al)
{
	/* what was written is made durable first (group commit) */
	if (al->fd != -1 && !al->broken && al->pending > 0)
		(void)audit_commit(al);
	/* nothing more is coming: withdraw the announcement */
	if (al->fd != -1 && al->announce && !al->broken && al->pending == 0) {
		al->announce = 0;
		(void)anchor_write(al);
	}
	if (al->fd != -1)
		(void)close(al->fd);
	if (al->dirfd != -1)
		(void)close(al->dirfd);
	al->fd = al->dirfd = -1;
}
