/*
 * (d) The audit reader and verifier (shared/auditread.h). The first input
 * byte picks a mode:
 *
 *   even  RAW: the rest is a log, split at newlines, fed to the parser
 *         and the incremental verifier as it is.
 *   odd   RECHAIN: every line that parses is re-emitted in canonical form
 *         with seq, prev and hash fixed up so the chain is intact, the
 *         clocks made monotonic; the chain must then verify (in memory and
 *         through audit_verify_file with its anchor), and one tampering
 *         driven by the input (a byte changed, a record dropped, two
 *         swapped) must be caught.
 *
 * Oracles: the parser accepts only canonical records (re-encoding a parsed
 * record gives back exactly its bytes); the hash covers the line up to
 * ,"hash":; a verifier that accepted a line saw seq = previous + 1 and
 * prev = the previous hash; an intact chain verifies; tampering never does.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "auditread.h"
#include "fuzz.h"

#define MAXLINES	32
#define ZERO64 "0000000000000000000000000000000000000000000000000000000000000000"

static struct audit_record rec;
static char dir[256];	/* on tmpfs if there is one (fuzz_mkdtemp) */
static char logpath[sizeof(dir) + 32], anchorpath[sizeof(dir) + 32];

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
cleanup(void)
{
	(void)unlink(logpath);
	(void)unlink(anchorpath);
	(void)rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_mkdtemp(dir, sizeof(dir), "audit");
	(void)snprintf(logpath, sizeof(logpath), "%s/audit.jsonl", dir);
	(void)snprintf(anchorpath, sizeof(anchorpath), "%s/" AUDIT_ANCHOR_NAME,
	    dir);
	(void)atexit(cleanup);
	return 0;
}

struct buf {
	char	b[2 * AUDIT_RECORD_MAX];
	size_t	n;
};

static void
put(struct buf *o, const char *s, size_t n)
{
	FUZZ_ASSERT(o->n + n < sizeof(o->b), "record too long to re-encode");
	memcpy(o->b + o->n, s, n);
	o->n += n;
	o->b[o->n] = '\0';
}

static void
puts_(struct buf *o, const char *s)
{
	put(o, s, strlen(s));
}

static void
putstr(struct buf *o, const char *s, size_t n)
{
	char esc[AUDIT_STR_MAX * 6 + 1];

	puts_(o, "\"");
	put(o, esc, audit_escape((const unsigned char *)s, n, esc,
	    sizeof(esc) - 1));
	puts_(o, "\"");
}

/* The canonical form of r as shared/audit.h defines it, up to the hash. */
static size_t
encode(const struct audit_record *r, struct buf *o)
{
	char num[AUDIT_NUM_MAX + 32];

	o->n = 0;
	(void)snprintf(num, sizeof(num), "{\"seq\":%" PRIu64 ",\"utc\":", r->seq);
	puts_(o, num);
	putstr(o, r->utc, strlen(r->utc));
	(void)snprintf(num, sizeof(num), ",\"mono_ms\":%" PRId64 ",\"run\":",
	    r->mono_ms);
	puts_(o, num);
	putstr(o, r->run, strlen(r->run));
	puts_(o, ",\"actor\":");
	putstr(o, audit_actor_name(r->actor), strlen(audit_actor_name(r->actor)));
	puts_(o, ",\"event\":");
	putstr(o, r->event, strlen(r->event));
	puts_(o, ",\"fields\":{");
	for (size_t i = 0; i < r->nfields; i++) {
		const struct audit_rfield *f = &r->f[i];

		if (i > 0)
			puts_(o, ",");
		putstr(o, f->key, strlen(f->key));
		puts_(o, ":");
		switch (f->type) {
		case AF_STR:
			putstr(o, f->s, f->slen);
			break;
		case AF_INT:
			(void)snprintf(num, sizeof(num), "%" PRId64, f->i);
			puts_(o, num);
			break;
		case AF_NUM:
			if (f->is_null)
				(void)strlcpy(num, "null", sizeof(num));
			else
				audit_format_num(f->d, num);
			puts_(o, num);
			break;
		case AF_BOOL:
			puts_(o, f->b ? "true" : "false");
			break;
		default:
			FUZZ_ASSERT(0, "field %s of type %d", f->key, f->type);
		}
	}
	puts_(o, "},\"prev\":");
	putstr(o, r->prev, strlen(r->prev));
	return o->n;
}

static void
finish(struct buf *o, const char *hash)
{
	puts_(o, ",\"hash\":\"");
	puts_(o, hash);
	puts_(o, "\"}");
}

/* Parses one line; checks the canonical round trip when it parses. */
static int
parse(const char *line, size_t len)
{
	char why[AUDIT_ERR_MAX] = "";
	struct buf o;
	size_t hl;

	if (audit_parse(line, len, &rec, why, sizeof(why)) != AUDIT_PERR_NONE) {
		FUZZ_ASSERT(why[0] != '\0', "refusal without a reason");
		return -1;
	}
	FUZZ_ASSERT(rec.nfields <= AUDIT_FIELDS_MAX, "%zu fields", rec.nfields);
	FUZZ_ASSERT(len <= AUDIT_RECORD_MAX, "%zu bytes accepted", len);
	hl = encode(&rec, &o);
	FUZZ_ASSERT(rec.hashed_len == hl, "hashed_len %zu, want %zu",
	    rec.hashed_len, hl);
	finish(&o, rec.hash);
	FUZZ_ASSERT(o.n == len && memcmp(o.b, line, len) == 0,
	    "not canonical but accepted:\n  got  %.*s\n  want %s", (int)len,
	    line, o.b);
	return 0;
}

static size_t
split(const uint8_t *data, size_t size, const char **lines, size_t *lens)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= size && n < MAXLINES; i++)
		if (i == size || data[i] == '\n') {
			if (i > start || i < size) {
				lines[n] = (const char *)data + start;
				lens[n++] = i - start;
			}
			start = i + 1;
		}
	return n;
}

static void
raw(const uint8_t *data, size_t size)
{
	const char *lines[MAXLINES];
	size_t lens[MAXLINES], n = split(data, size, lines, lens);
	struct audit_verifier v;
	char last[AUDIT_HASH_HEX + 1] = ZERO64;
	uint64_t seq = 0;

	audit_verifier_init(&v, AUDIT_UTC_SLACK_MS);
	for (size_t i = 0; i < n; i++) {
		int ok = parse(lines[i], lens[i]) == 0;
		int vr = audit_verifier_line(&v, i + 1, lines[i], lens[i], &rec);

		FUZZ_ASSERT(vr == -1 || ok, "verified a line that does not parse");
		if (vr == 0) {
			char h[AUDIT_HASH_HEX + 1];

			FUZZ_ASSERT(rec.seq == seq + 1 && strcmp(rec.prev, last) == 0,
			    "chain broken but verified at line %zu", i + 1);
			audit_hash(lines[i], rec.hashed_len, h);
			FUZZ_ASSERT(strcmp(h, rec.hash) == 0, "hash");
			seq = rec.seq;
			(void)strlcpy(last, rec.hash, sizeof(last));
		} else
			FUZZ_ASSERT(v.bad != AUDIT_BAD_NONE && v.bad_line <= i + 1 &&
			    v.why[0] != '\0', "refusal without its reason");
	}
}

struct chain {
	char	line[MAXLINES][2 * AUDIT_RECORD_MAX];
	size_t	len[MAXLINES];
	size_t	n;
};

static struct chain ch;

static void
write_file(const struct chain *c, const size_t *order, size_t n,
    const char *anchor)
{
	int fd;

	FUZZ_ASSERT((fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600)) != -1, "%s", logpath);
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT(write(fd, c->line[order[i]], c->len[order[i]]) ==
		    (ssize_t)c->len[order[i]] && write(fd, "\n", 1) == 1, "write");
	FUZZ_ASSERT(close(fd) == 0, "close");
	if (anchor == NULL) {	/* an empty log has none */
		FUZZ_ASSERT(unlink(anchorpath) == 0 || errno == ENOENT, "unlink");
		return;
	}
	FUZZ_ASSERT((fd = open(anchorpath, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600)) != -1, "%s", anchorpath);
	FUZZ_ASSERT(write(fd, anchor, strlen(anchor)) == (ssize_t)strlen(anchor),
	    "write");
	FUZZ_ASSERT(close(fd) == 0, "close");
}

static int
vfile(struct audit_verifier *v)
{
	audit_verifier_init(v, AUDIT_UTC_SLACK_MS);
	return audit_verify_file(logpath, dir, v);
}

static void
rechain(const uint8_t *data, size_t size, uint8_t how)
{
	const char *lines[MAXLINES];
	size_t lens[MAXLINES], n = split(data, size, lines, lens), order[MAXLINES];
	char prev[AUDIT_HASH_HEX + 1] = ZERO64, anchor[128];
	struct audit_verifier v;
	int64_t mono = 0, utc = 0;
	char run[AUDIT_RUN_MAX + 1] = "";
	struct buf o;

	ch.n = 0;
	for (size_t i = 0; i < n; i++) {
		if (parse(lines[i], lens[i]) == -1)
			continue;
		rec.seq = ch.n + 1;
		(void)strlcpy(rec.prev, prev, sizeof(rec.prev));
		if (strcmp(rec.run, run) == 0 && rec.mono_ms < mono)
			rec.mono_ms = mono;
		if (rec.utc_ms < utc - AUDIT_UTC_SLACK_MS)
			continue;	/* utc is text: keep the record as it is */
		(void)encode(&rec, &o);
		audit_hash(o.b, o.n, rec.hash);
		finish(&o, rec.hash);
		if (o.n >= AUDIT_RECORD_MAX)	/* seq grew it past the limit */
			continue;
		memcpy(ch.line[ch.n], o.b, o.n);
		ch.len[ch.n] = o.n;
		(void)strlcpy(prev, rec.hash, sizeof(prev));
		(void)strlcpy(run, rec.run, sizeof(run));
		mono = rec.mono_ms;
		if (rec.utc_ms > utc)
			utc = rec.utc_ms;
		order[ch.n] = ch.n;
		ch.n++;
	}
	audit_verifier_init(&v, AUDIT_UTC_SLACK_MS);
	for (size_t i = 0; i < ch.n; i++)
		FUZZ_ASSERT(audit_verifier_line(&v, i + 1, ch.line[i], ch.len[i],
		    &rec) == 0, "intact chain refused at line %zu: %s: %s\n%s",
		    i + 1, audit_bad_name(v.bad), v.why, ch.line[i]);
	(void)snprintf(anchor, sizeof(anchor), "%zu %s\n", ch.n, prev);
	write_file(&ch, order, ch.n, ch.n > 0 ? anchor : NULL);
	FUZZ_ASSERT(vfile(&v) == 0,
	    "intact file refused: %s: %s", audit_bad_name(v.bad), v.why);
	if (ch.n == 0)
		return;
	/* one tampering: the verifier must notice it */
	size_t at = how % ch.n;
	switch ((how >> 5) % 3) {
	case 0: {	/* a byte changed */
		size_t pos = (size_t)(how * 7919u) % ch.len[at];
		char was = ch.line[at][pos];

		ch.line[at][pos] = (char)(was == 'a' ? 'b' : was == '\n' ? ' ' :
		    (was ^ 0x01));
		if (ch.line[at][pos] == '\n')
			ch.line[at][pos] = 'x';
		write_file(&ch, order, ch.n, anchor);
		FUZZ_ASSERT(vfile(&v) == -1,
		    "byte %zu of line %zu changed, still verifies", pos, at + 1);
		break;
	}
	case 1:		/* a record dropped */
		memmove(order + at, order + at + 1,
		    (ch.n - at - 1) * sizeof(order[0]));
		write_file(&ch, order, ch.n - 1, anchor);
		FUZZ_ASSERT(vfile(&v) == -1,
		    "line %zu of %zu dropped, still verifies", at + 1, ch.n);
		break;
	default:	/* two swapped */
		if (ch.n < 2)
			return;
		order[at] = (at + 1) % ch.n;
		order[(at + 1) % ch.n] = at;
		write_file(&ch, order, ch.n, anchor);
		FUZZ_ASSERT(vfile(&v) == -1,
		    "lines %zu and %zu swapped, still verify", at + 1,
		    (at + 1) % ch.n + 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	if (data[0] & 1)
		rechain(data + 2, size - 2, data[1]);
	else
		raw(data + 1, size - 1);
	return 0;
}
