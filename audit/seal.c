/*
 * gridcal-audit verify --key / --seal-from: the seals (shared/auditseal.h).
 *
 * Fed every record that passed the chain checks (audit_verifier.on_record)
 * it checks each seal record: it must seal the record before it, its
 * epoch must follow the previous seal's, and its MAC must verify with the
 * epoch key derived forward from the verification key. Records up to the
 * last verified seal are SEALED; records after it are the UNSEALED TAIL
 * (journald's CVE-2023-31439 was reporting those as verified).
 *
 * EXTERNAL SEALS pin the end of the log: the published ones (--seal-from,
 * the retained gridcal/audit/seal payloads an observer kept) and the one
 * in STATE_DIR/audit.key (--state-dir with --key; that file's key must
 * also be the one derived from the verification key). Each must be
 * matched by the log: the record at its seq has its head hash and the seal
 * record of its epoch follows. A log that ends before one, or differs at
 * it, was cut or replaced.
 *
 * A ROTATED log (gridcal-audit rotate) is fed again, every segment oldest
 * first (verify.c: seal_segments), so the same rules hold across them.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "durable.h"
#include "sealvk.h"

static void
sbad(struct sealck *c, uint64_t line, uint64_t seq, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
sbad(struct sealck *c, uint64_t line, uint64_t seq, const char *fmt, ...)
{
	va_list ap;

	if (c->bad)
		return;
	c->bad = 1;
	c->bad_line = line;
	c->bad_seq = seq;
	va_start(ap, fmt);
	(void)vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	if (c->where != NULL) {		/* in an earlier segment: name it */
		char tmp[sizeof(c->why)];
		int n = snprintf(tmp, sizeof(tmp), "segment %s, line %" PRIu64
		    ": ", c->where, line);

		if (n > 0 && (size_t)n < sizeof(tmp)) {
			(void)strlcat(tmp, c->why, sizeof(tmp));
			(void)strlcpy(c->why, tmp, sizeof(c->why));
		}
	}
}

static int
add_ext(struct sealck *c, const struct seal_mark *m, const char *src)
{
	struct sealext *x;

	if (c->next == SEALCK_EXT_MAX)
		return -1;
	x = &c->ext[c->next++];
	memset(x, 0, sizeof(*x));
	x->m = *m;
	(void)strlcpy(x->src, src, sizeof(x->src));
	/* without the key a published seal is only a claim */
	x->valid = c->have_key && seal_mac_ok(c->k_of(c, m->epoch), m);
	return 0;
}

/* The epoch key, derived forward from the last one computed. */
static const unsigned char *
key_of(struct sealck *c, uint64_t epoch)
{
	if (epoch < c->kepoch) {
		memcpy(c->k, c->k0, sizeof(c->k));
		c->kepoch = 0;
	}
	if (sealvk_derive(c->k, c->kepoch, epoch, c->k) == -1)
		return NULL;
	c->kepoch = epoch;
	return c->k;
}

static const unsigned char *
k_of_checked(struct sealck *c, uint64_t epoch)
{
	static const unsigned char none[SEAL_KEYBYTES];
	const unsigned char *k = key_of(c, epoch);

	/* an epoch too far to derive: no key gives that MAC */
	return k != NULL ? k : none;
}

int
sealck_init(struct sealck *c, const char *vk)
{
	memset(c, 0, sizeof(*c));
	c->k_of = k_of_checked;
	if (seal_init() == -1)
		errx(AX_IOERR, "libsodium: cannot initialise");
	if (vk == NULL)
		return 0;
	if (sealvk_parse(vk, c->k0) == -1)
		return -1;
	memcpy(c->k, c->k0, sizeof(c->k));
	c->have_key = 1;
	return 0;
}

void
sealck_restart(struct sealck *c)
{
	if (c->bad && c->bad_line > 0)	/* a load-time problem stays */
		c->bad = 0;
	c->nseals = c->first_epoch = c->last_epoch = 0;
	c->sealed_seq = c->first_seq = c->last_seq = 0;
	for (size_t i = 0; i < c->next; i++)
		c->ext[i].seen = c->ext[i].inlog = 0;
}

void
sealck_free(struct sealck *c)
{
	explicit_bzero(c->k0, sizeof(c->k0));
	explicit_bzero(c->k, sizeof(c->k));
}

/* {"epoch":E,"seq":S,"head":"..","mac":".."} exactly, as published. */
static int
parse_payload(const char *s, size_t len, struct seal_mark *m)
{
	char buf[SEAL_PAYLOAD_MAX];
	struct seal_mark t;
	int n = 0;

	if (len >= sizeof(buf) - 1)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (sscanf(buf, "{\"epoch\":%" SCNu64 ",\"seq\":%" SCNu64 ",\"head\":"
	    "\"%64[0-9a-f]\",\"mac\":\"%64[0-9a-f]\"}%n", &t.epoch, &t.seq,
	    t.head, t.mac, &n) != 4 || (size_t)n != len ||
	    strlen(t.head) != AUDIT_HASH_HEX || strlen(t.mac) != AUDIT_HASH_HEX)
		return -1;
	/* the canonical form only: no sign, no leading zeros, no spaces */
	if (seal_payload(&t, buf, sizeof(buf)) != len || memcmp(buf, s, len) != 0)
		return -1;
	*m = t;
	return 0;
}

int
sealck_load_published(struct sealck *c, const char *path)
{
	char *line = NULL, src[64];
	size_t cap = 0, lineno = 0, bad = 0;
	struct seal_mark m;
	ssize_t n;
	FILE *fp;

	if ((fp = fopen(path, "re")) == NULL)
		err(AX_NOINPUT, "%s", path);
	while ((n = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0)
			continue;
		if (parse_payload(line, (size_t)n, &m) == -1) {
			warnx("%s:%zu: not a published seal: ignored", path,
			    lineno);
			bad++;
			continue;
		}
		(void)snprintf(src, sizeof(src), "published (%s:%zu)", path,
		    lineno);
		if (add_ext(c, &m, src) == -1)
			errx(AX_USAGE, "%s: more than %d seals", path,
			    SEALCK_EXT_MAX);
		if (c->have_key && !c->ext[c->next - 1].valid) {
			warnx("%s:%zu: seal of epoch %" PRIu64 " does not "
			    "verify with this key: ignored", path, lineno,
			    m.epoch);
			c->next--;
			bad++;
		} else
			c->published++;
	}
	if (ferror(fp))
		err(AX_IOERR, "%s", path);
	free(line);
	(void)fclose(fp);
	c->published_bad = bad;
	return 0;
}

int
sealck_load_keyfile(struct sealck *c, const char *state_dir)
{
	char path[4096], buf[SEAL_KEYFILE_MAX], why[AUDIT_ERR_MAX];
	struct seal_keyfile kf;
	unsigned char want[SEAL_KEYBYTES];
	ssize_t n;
	int fd, saved, rc = 0;

	(void)snprintf(path, sizeof(path), "%s/%s", state_dir, SEAL_KEY_NAME);
	if ((fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		err(AX_NOINPUT, "%s", state_dir);
	/* as the watchdog reads it (durable.h), but any owner: we verify */
	n = durable_read(fd, SEAL_KEY_NAME, buf, sizeof(buf), 0, why,
	    sizeof(why));
	saved = errno;
	(void)close(fd);
	if (n == -1 && saved == ENOENT) {
		sbad(c, 0, 0, "%s missing: the watchdog has no sealing key "
		    "(or it was removed)", path);
		return 0;
	}
	if (n == -1)
		errx(AX_NOINPUT, "%s: %s", state_dir, why);
	if (seal_keyfile_parse(buf, (size_t)n, &kf) == -1)
		sbad(c, 0, 0, "%s: malformed", path);
	else if (sealvk_derive(c->k0, 0, kf.epoch, want) == -1 ||
	    sodium_memcmp(want, kf.key, sizeof(want)) != 0)
		sbad(c, 0, 0, "%s (epoch %" PRIu64 ") is not derived from "
		    "this verification key: replaced, or another key",
		    path, kf.epoch);
	else {
		c->key_epoch = kf.epoch;
		c->have_keyfile = 1;
		if (kf.epoch > 0)
			rc = add_ext(c, &kf.last, SEAL_KEY_NAME);
		if (kf.epoch > 0 && !c->ext[c->next - 1].valid)
			sbad(c, 0, 0, "%s: its last seal (epoch %" PRIu64 ") "
			    "does not verify: forged", path, kf.last.epoch);
	}
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(&kf, sizeof(kf));
	explicit_bzero(want, sizeof(want));
	return rc;
}

/* A seal record's fields; -1 if any is missing or malformed. */
static int
record_mark(const struct audit_record *r, struct seal_mark *m)
{
	const char *h = audit_field_str(r, "head"), *mac = audit_field_str(r,
	    "mac");
	const struct audit_rfield *e = audit_field(r, "epoch"),
	    *s = audit_field(r, "head_seq");

	if (h == NULL || mac == NULL || e == NULL || s == NULL ||
	    e->type != AF_INT || s->type != AF_INT || e->i < 0 || s->i < 0 ||
	    !audit_is_hash(h, strlen(h)) || !audit_is_hash(mac, strlen(mac)))
		return -1;
	m->epoch = (uint64_t)e->i;
	m->seq = (uint64_t)s->i;
	(void)strlcpy(m->head, h, sizeof(m->head));
	(void)strlcpy(m->mac, mac, sizeof(m->mac));
	return 0;
}

static void
on_seal(struct sealck *c, uint64_t line, const struct audit_record *r)
{
	struct seal_mark m;

	if (record_mark(r, &m) == -1) {
		sbad(c, line, r->seq, "malformed seal record");
		return;
	}
	if (m.seq + 1 != r->seq || strcmp(m.head, r->prev) != 0) {
		sbad(c, line, r->seq, "the seal names seq %" PRIu64 " but does "
		    "not follow it: moved or forged", m.seq);
		return;
	}
	for (size_t i = 0; i < c->next; i++)
		if (c->ext[i].m.epoch == m.epoch) {
			c->ext[i].inlog = 1;
			if (strcmp(c->ext[i].m.mac, m.mac) != 0 ||
			    c->ext[i].m.seq != m.seq)
				sbad(c, line, r->seq, "the seal of epoch %"
				    PRIu64 " differs from the %s one",
				    m.epoch, c->ext[i].src);
		}
	if (c->have_key && c->nseals == 0 && m.epoch != 0 &&
	    c->first_seq == 1)
		sbad(c, line, r->seq, "the first seal is of epoch %" PRIu64
		    ", not 0: earlier seals removed (or audit.key outlived "
		    "its log)", m.epoch);
	else if (c->have_key && c->nseals > 0 && m.epoch != c->last_epoch + 1)
		sbad(c, line, r->seq, "seal of epoch %" PRIu64 " after epoch %"
		    PRIu64 ": seals removed, replayed or reordered", m.epoch,
		    c->last_epoch);
	else if (c->have_key && c->have_keyfile && m.epoch >= c->key_epoch)
		sbad(c, line, r->seq, "seal of epoch %" PRIu64 ", but %s is "
		    "at epoch %" PRIu64 ": the key file is older than the log",
		    m.epoch, SEAL_KEY_NAME, c->key_epoch);
	else if (c->have_key && !seal_mac_ok(c->k_of(c, m.epoch), &m))
		sbad(c, line, r->seq, "the seal of epoch %" PRIu64 " does not "
		    "verify with the key: forged, or the records before it "
		    "rewritten", m.epoch);
	else if (c->have_key)
		c->sealed_seq = r->seq;
	if (c->nseals++ == 0)
		c->first_epoch = m.epoch;
	c->last_epoch = m.epoch;
}

void
sealck_record(void *arg, uint64_t line, const struct audit_record *r)
{
	struct sealck *c = arg;

	if (c->first_seq == 0)
		c->first_seq = r->seq;	/* > 1: a rotated log's segment */
	c->last_seq = r->seq;
	for (size_t i = 0; i < c->next; i++) {
		struct sealext *x = &c->ext[i];

		if (x->m.seq != r->seq)
			continue;
		if (strcmp(x->m.head, r->hash) != 0) {
			sbad(c, line, r->seq, "the %s seal of epoch %" PRIu64
			    " records seq %" PRIu64 " as %.12s...: the log was "
			    "rewritten", x->src, x->m.epoch, x->m.seq,
			    x->m.head);
			continue;
		}
		x->seen = 1;
		if (x->valid && r->seq > c->sealed_seq)
			c->sealed_seq = r->seq;
	}
	if (r->actor == AUDIT_WATCHDOG && strcmp(r->event, AUDIT_EV_SEAL) == 0)
		on_seal(c, line, r);
}

void
sealck_end(struct sealck *c, uint64_t last_line)
{
	for (size_t i = 0; i < c->next; i++) {
		const struct sealext *x = &c->ext[i];

		if (x->m.seq < c->first_seq)
			continue;	/* in an earlier segment */
		if (!x->seen)
			sbad(c, last_line + 1, c->last_seq + 1, "the log ends "
			    "at seq %" PRIu64 " but the %s seal of epoch %"
			    PRIu64 " covers seq %" PRIu64 ": cut, or replaced "
			    "by an older log", c->last_seq, x->src, x->m.epoch,
			    x->m.seq);
		else if (!x->inlog && x->m.seq < c->last_seq)
			sbad(c, last_line, c->last_seq, "the %s seal of epoch "
			    "%" PRIu64 " (seq %" PRIu64 ") is not in the log "
			    "after seq %" PRIu64 ": the records after it were "
			    "rewritten", x->src, x->m.epoch, x->m.seq,
			    x->m.seq);
	}
}
