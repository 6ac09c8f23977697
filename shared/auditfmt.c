/*
 * The audit log's format (auditfmt.h): what the writer and the reader must
 * agree on byte for byte, because the hash covers the exact bytes. Numbers
 * read back are accepted only in the form they are written in: parsed,
 * printed again and compared, so no sign, space or leading zero passes.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sha2.h>

#include "auditfmt.h"
#include "durable.h"

#define NAME_CHARS	"abcdefghijklmnopqrstuvwxyz0123456789_"

static int
valid_chars(const char *s, size_t max, const char *set)
{
	size_t n = s != NULL ? strspn(s, set) : 0;

	return n > 0 && n <= max && s[n] == '\0';
}

int
audit_valid_name(const char *s)
{
	return valid_chars(s, AUDIT_NAME_MAX, NAME_CHARS);
}

int
audit_valid_run(const char *s)
{
	return valid_chars(s, AUDIT_RUN_MAX,
	    NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZ.:-");
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
	size_t i = 0;

	while (i < len && ((s[i] >= '0' && s[i] <= '9') ||
	    (s[i] >= 'a' && s[i] <= 'f')))
		i++;
	return len == AUDIT_HASH_HEX && i == len;
}

/* One byte as the canonical escaping writes it; returns its length. */
static size_t
esc(unsigned char c, char e[8])
{
	if (c == '"' || c == '\\')
		return (size_t)snprintf(e, 8, "\\%c", c);
	if (c < 0x20 || c > 0x7e)
		return (size_t)snprintf(e, 8, "\\u%04x", c);
	return (size_t)snprintf(e, 8, "%c", c);
}

size_t
audit_escape(const unsigned char *s, size_t len, char *dst, size_t cap)
{
	const size_t mark = sizeof(AUDIT_TRUNC_MARK) - 1;
	size_t out = 0, cut = 0, i, k = 0;
	char e[8];

	for (i = 0; i < len && out + (k = esc(s[i], e)) <= cap; i++) {
		memcpy(dst + out, e, k);
		out += k;
		if (out + mark <= cap)
			cut = out;	/* the last escape that leaves room */
	}
	if (i < len && cap >= mark) {
		memcpy(dst + cut, AUDIT_TRUNC_MARK, mark);
		out = cut + mark;
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

int
audit_layout(const char *line, size_t len, struct audit_ends *e, char *why,
    size_t whysz)
{
	const size_t head = sizeof(AUDIT_HEAD) - 1;
	const size_t tp = sizeof(AUDIT_TAIL_PREV) - 1;
	const char *t = line + len - AUDIT_TAIL_LEN, *h = t + tp;
	char hash[AUDIT_HASH_HEX + 1], seq[24], *end;

	/* the tail first: its '"' stops strtoull inside the line */
	if (len < head + AUDIT_TAIL_LEN + 2 || len >= AUDIT_RECORD_MAX ||
	    memcmp(line, AUDIT_HEAD, head) != 0 ||
	    memcmp(t, AUDIT_TAIL_PREV, tp) != 0 ||
	    !audit_is_hash(h, AUDIT_HASH_HEX) ||
	    memcmp(h + AUDIT_HASH_HEX, "\"" AUDIT_TAIL_HASH,
	    sizeof(AUDIT_TAIL_HASH)) != 0 ||
	    !audit_is_hash(line + len - 2 - AUDIT_HASH_HEX, AUDIT_HASH_HEX) ||
	    memcmp(line + len - 2, "\"}", 2) != 0 ||
	    (e->seq = strtoull(line + head, &end, 10)) == 0 || *end != ',' ||
	    snprintf(seq, sizeof(seq), "%" PRIu64, e->seq) != end - line -
	    (int)head || memcmp(seq, line + head, strlen(seq)) != 0) {
		(void)snprintf(why, whysz, "not a record's layout");
		return -1;
	}
	(void)strlcpy(e->prev, h, sizeof(e->prev));
	(void)strlcpy(e->hash, line + len - 2 - AUDIT_HASH_HEX,
	    sizeof(e->hash));
	audit_hash(line, len - AUDIT_UNHASHED_LEN, hash);
	if (strcmp(hash, e->hash) != 0) {
		(void)snprintf(why, whysz, "seq %" PRIu64 ": hash mismatch",
		    e->seq);
		return -1;
	}
	return 0;
}

size_t
audit_anchor_format(uint64_t seq, const char *hash, uint64_t announced,
    char *buf, size_t sz)
{
	int n = announced > 0 ? snprintf(buf, sz, "%" PRIu64 " %s +%" PRIu64
	    "\n", seq, hash, announced) : snprintf(buf, sz, "%" PRIu64 " %s\n",
	    seq, hash);

	return n < 0 || (size_t)n >= sz ? 0 : (size_t)n;
}

int
audit_anchor_read(int dirfd, uint64_t *seq, char hash[AUDIT_HASH_HEX + 1],
    uint64_t *announced, char *why, size_t whysz)
{
	char buf[AUDIT_ANCHOR_MAX], back[AUDIT_ANCHOR_MAX];
	ssize_t n;

	*seq = *announced = 0;
	(void)strlcpy(hash, AUDIT_ZERO_HASH, AUDIT_HASH_HEX + 1);
	n = durable_read(dirfd, AUDIT_ANCHOR_NAME, buf, sizeof(buf), 0, why,
	    whysz);
	if (n == -1)
		return errno == ENOENT ? 1 : -1;
	buf[n] = '\0';
	/* "<seq> <64 hex>[ +<announced>]\n" exactly as written */
	if (sscanf(buf, "%" SCNu64 " %64[0-9a-f] +%" SCNu64, seq, hash,
	    announced) < 2 || !audit_is_hash(hash, strlen(hash)) ||
	    audit_anchor_format(*seq, hash, *announced, back, sizeof(back)) !=
	    (size_t)n || memcmp(back, buf, (size_t)n) != 0) {
		(void)snprintf(why, whysz, "%s: malformed", AUDIT_ANCHOR_NAME);
		*seq = *announced = 0;
		return -1;
	}
	return 0;
}
