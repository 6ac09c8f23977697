/*
 * The audit log's format (auditfmt.h): what the writer and the reader must
 * agree on byte for byte, because the hash covers the exact bytes.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sha2.h>

#include "auditfmt.h"

static int
valid_chars(const char *s, size_t max, const char *extra)
{
	size_t n;

	if (s == NULL)
		return 0;
	for (n = 0; s[n] != '\0'; n++)
		if (n >= max || !((s[n] >= 'a' && s[n] <= 'z') ||
		    (s[n] >= '0' && s[n] <= '9') || s[n] == '_' ||
		    (extra != NULL && strchr(extra, s[n]) != NULL)))
			return 0;
	return n > 0;
}

int
audit_valid_name(const char *s)
{
	return valid_chars(s, AUDIT_NAME_MAX, NULL);
}

int
audit_valid_run(const char *s)
{
	return valid_chars(s, AUDIT_RUN_MAX,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ.:-");
}

const char *
audit_actor_name(enum audit_actor a)
{
	return a == AUDIT_SUPERVISOR ? "supervisor" : a == AUDIT_OPERATOR ?
	    "operator" : "watchdog";
}

int
audit_is_hash(const char *s, size_t len)
{
	if (len != AUDIT_HASH_HEX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return 0;
	return 1;
}

static size_t
esc_put(unsigned char c, char *dst)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[6];

	if (dst == NULL)	/* only the length */
		dst = tmp;
	if (c == '"' || c == '\\') {
		dst[0] = '\\';
		dst[1] = (char)c;
		return 2;
	}
	if (c < 0x20 || c > 0x7e) {
		memcpy(dst, "\\u00", 4);
		dst[4] = hex[c >> 4];
		dst[5] = hex[c & 0xf];
		return 6;
	}
	dst[0] = (char)c;
	return 1;
}

size_t
audit_escape(const unsigned char *s, size_t len, char *dst, size_t cap)
{
	const size_t mark = sizeof(AUDIT_TRUNC_MARK) - 1;
	size_t total = 0, out = 0, limit;

	for (size_t i = 0; i < len; i++)
		total += esc_put(s[i], NULL);
	limit = total <= cap ? cap : (cap > mark ? cap - mark : 0);
	for (size_t i = 0; i < len && out + esc_put(s[i], NULL) <= limit; i++)
		out += esc_put(s[i], dst + out);
	if (total > cap && cap >= mark) {
		memcpy(dst + out, AUDIT_TRUNC_MARK, mark);
		out += mark;
	}
	dst[out] = '\0';
	return out;
}

void
audit_format_num(double d, char *dst)
{
	char *p;

	if (!isfinite(d) || fabs(d) >= 1e15) {
		(void)strlcpy(dst, "null", AUDIT_NUM_MAX);
		return;
	}
	(void)snprintf(dst, AUDIT_NUM_MAX, "%.6f", d);
	p = dst + strlen(dst) - 1;
	while (*p == '0')
		*p-- = '\0';
	if (*p == '.')
		*p = '\0';
	if (strcmp(dst, "-0") == 0)
		(void)strlcpy(dst, "0", AUDIT_NUM_MAX);
}

void
audit_hash(const void *buf, size_t len, char out[AUDIT_HASH_HEX + 1])
{
	SHA2_CTX ctx;

	SHA256Init(&ctx);
	SHA256Update(&ctx, buf, len);
	(void)SHA256End(&ctx, out);
}

/* Decimal digits, no leading zero, at least 1; the end in *end. */
static int
get_seq(const char *s, size_t len, uint64_t *out, size_t *end)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0 || (s[0] == '0' && i > 1))
		return -1;
	*out = v;
	*end = i;
	return 0;
}

int
audit_layout(const char *line, size_t len, struct audit_ends *e, char *why,
    size_t whysz)
{
	const size_t head = sizeof(AUDIT_HEAD) - 1;
	const size_t tp = sizeof(AUDIT_TAIL_PREV) - 1;
	const char *t = line + len - AUDIT_TAIL_LEN;
	char hash[AUDIT_HASH_HEX + 1];
	size_t n;

	if (len < head + AUDIT_TAIL_LEN + 2 || len >= AUDIT_RECORD_MAX ||
	    memcmp(line, AUDIT_HEAD, head) != 0 ||
	    get_seq(line + head, len - head - AUDIT_TAIL_LEN, &e->seq, &n) == -1 ||
	    e->seq == 0 || line[head + n] != ',' ||
	    memcmp(t, AUDIT_TAIL_PREV, tp) != 0 ||
	    !audit_is_hash(t + tp, AUDIT_HASH_HEX) ||
	    t[tp + AUDIT_HASH_HEX] != '"' ||
	    memcmp(t + tp + AUDIT_HASH_HEX + 1, AUDIT_TAIL_HASH,
	    sizeof(AUDIT_TAIL_HASH) - 1) != 0 ||
	    !audit_is_hash(line + len - 2 - AUDIT_HASH_HEX, AUDIT_HASH_HEX) ||
	    memcmp(line + len - 2, "\"}", 2) != 0) {
		(void)snprintf(why, whysz, "not a record's layout");
		return -1;
	}
	memcpy(e->prev, t + tp, AUDIT_HASH_HEX);
	e->prev[AUDIT_HASH_HEX] = '\0';
	memcpy(e->hash, line + len - 2 - AUDIT_HASH_HEX, AUDIT_HASH_HEX);
	e->hash[AUDIT_HASH_HEX] = '\0';
	e->hashed_len = len - AUDIT_UNHASHED_LEN;
	audit_hash(line, e->hashed_len, hash);
	if (strcmp(hash, e->hash) != 0) {
		(void)snprintf(why, whysz, "seq %llu: hash mismatch",
		    (unsigned long long)e->seq);
		return -1;
	}
	return 0;
}

int
audit_anchor_read(int dirfd, uint64_t *seq, char hash[AUDIT_HASH_HEX + 1],
    uint64_t *announced, char *why, size_t whysz)
{
	char buf[128];
	struct stat st;
	ssize_t n;
	size_t end, hend;
	int fd;

	*seq = *announced = 0;
	(void)strlcpy(hash, AUDIT_ZERO_HASH, AUDIT_HASH_HEX + 1);
	/* a FIFO or device planted in the state directory: never block */
	fd = openat(dirfd, AUDIT_ANCHOR_NAME, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW | O_NONBLOCK);
	if (fd == -1 && errno == ENOENT)
		return 1;
	if (fd != -1 && (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))) {
		(void)close(fd);
		(void)snprintf(why, whysz, "%s: not a regular file",
		    AUDIT_ANCHOR_NAME);
		return -1;
	}
	if (fd == -1) {
		(void)snprintf(why, whysz, "%s: %s", AUDIT_ANCHOR_NAME,
		    strerror(errno));
		return -1;
	}
	do
		n = read(fd, buf, sizeof(buf));
	while (n == -1 && errno == EINTR);
	(void)close(fd);
	if (n == -1) {
		(void)snprintf(why, whysz, "%s: %s", AUDIT_ANCHOR_NAME,
		    strerror(errno));
		return -1;
	}
	/* "<seq> <64 hex>[ +<announced>]\n" exactly */
	if (get_seq(buf, (size_t)n, seq, &end) == -1 ||
	    (hend = end + 1 + AUDIT_HASH_HEX) >= (size_t)n ||
	    buf[end] != ' ' || !audit_is_hash(buf + end + 1, AUDIT_HASH_HEX) ||
	    buf[n - 1] != '\n' || ((size_t)n != hend + 1 &&
	    ((size_t)n < hend + 4 || buf[hend] != ' ' || buf[hend + 1] != '+' ||
	    get_seq(buf + hend + 2, (size_t)n - hend - 2, announced, &end) ==
	    -1 || hend + 3 + end != (size_t)n))) {
		(void)snprintf(why, whysz, "%s: malformed", AUDIT_ANCHOR_NAME);
		*seq = *announced = 0;
		return -1;
	}
	memcpy(hash, buf + hend - AUDIT_HASH_HEX, AUDIT_HASH_HEX);
	hash[AUDIT_HASH_HEX] = '\0';
	return 0;
}
