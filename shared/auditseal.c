/*
 * Forward-secure sealing (auditseal.h): the key evolution, the seal, the
 * key file. Every secret lives in a struct seal_keyfile or a local buffer
 * that is explicit_bzero'ed before it goes out of scope.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "auditseal.h"
#include "durable.h"

#define KEYFILE_HEAD	"gridcal-seal v1 "

int
seal_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

void
seal_evolve(const unsigned char k[SEAL_KEYBYTES],
    unsigned char next[SEAL_KEYBYTES])
{
	(void)crypto_kdf_derive_from_key(next, SEAL_KEYBYTES, SEAL_ID_EVOLVE,
	    SEAL_CTX, k);
}

void
seal_mac(const unsigned char k[SEAL_KEYBYTES], struct seal_mark *m)
{
	unsigned char mk[crypto_auth_KEYBYTES], mac[crypto_auth_BYTES];
	char msg[128];
	int n;

	(void)crypto_kdf_derive_from_key(mk, sizeof(mk), SEAL_ID_MAC, SEAL_CTX,
	    k);
	n = snprintf(msg, sizeof(msg), "gridcal-seal v1 %" PRIu64 " %" PRIu64
	    " %s", m->epoch, m->seq, m->head);
	(void)crypto_auth(mac, (const unsigned char *)msg, (size_t)n, mk);
	explicit_bzero(mk, sizeof(mk));
	(void)sodium_bin2hex(m->mac, sizeof(m->mac), mac, sizeof(mac));
}

size_t
seal_keyfile_format(const struct seal_keyfile *kf, char *buf, size_t sz)
{
	char hex[2 * SEAL_KEYBYTES + 1];
	int n;

	(void)sodium_bin2hex(hex, sizeof(hex), kf->key, SEAL_KEYBYTES);
	if (kf->epoch > 0)
		n = snprintf(buf, sz, KEYFILE_HEAD "%" PRIu64 " %s %" PRIu64
		    " %s %s\n", kf->epoch, hex, kf->last.seq, kf->last.head,
		    kf->last.mac);
	else
		n = snprintf(buf, sz, KEYFILE_HEAD "%" PRIu64 " %s\n",
		    kf->epoch, hex);
	explicit_bzero(hex, sizeof(hex));
	return n < 0 || (size_t)n >= sz ? 0 : (size_t)n;
}

/*
 * Strict by construction: the fields are read loosely, then the line is
 * written again from them and must be the same bytes (no sign, space,
 * leading zero or uppercase digit passes).
 */
int
seal_keyfile_parse(const char *buf, size_t len, struct seal_keyfile *kf)
{
	char line[SEAL_KEYFILE_MAX], back[SEAL_KEYFILE_MAX];
	char hex[2 * SEAL_KEYBYTES + 1] = "";
	int n = 0, last, rc = -1;

	memset(kf, 0, sizeof(*kf));
	if (len < sizeof(line) && memchr(buf, '\0', len) == NULL) {
		memcpy(line, buf, len);
		line[len] = '\0';
		n = sscanf(line, KEYFILE_HEAD "%" SCNu64 " %64[0-9a-f] %" SCNu64
		    " %64[0-9a-f] %64[0-9a-f]", &kf->epoch, hex, &kf->last.seq,
		    kf->last.head, kf->last.mac);
	}
	last = kf->epoch > 0;
	kf->last.epoch = kf->epoch - (uint64_t)last;
	/* each at most 64 digits (the widths), so all of them 64 digits:
	 * printed back, a shorter one would be as short */
	if (n >= 2 && strlen(hex) + (last ? strlen(kf->last.head) +
	    strlen(kf->last.mac) : 0) == (last ? 3 : 1) *
	    AUDIT_HASH_HEX && sodium_hex2bin(kf->key, SEAL_KEYBYTES, hex,
	    AUDIT_HASH_HEX, NULL, NULL, NULL) == 0 &&
	    seal_keyfile_format(kf, back, sizeof(back)) == len &&
	    memcmp(back, buf, len) == 0)
		rc = 0;
	explicit_bzero(line, sizeof(line));
	explicit_bzero(back, sizeof(back));
	explicit_bzero(hex, sizeof(hex));
	if (rc == -1)
		explicit_bzero(kf, sizeof(*kf));
	return rc;
}

size_t
seal_payload(const struct seal_mark *m, char *buf, size_t sz)
{
	int n = snprintf(buf, sz, "{\"epoch\":%" PRIu64 ",\"seq\":%" PRIu64
	    ",\"head\":\"%s\",\"mac\":\"%s\"}", m->epoch, m->seq, m->head,
	    m->mac);

	return n < 0 || (size_t)n >= sz ? 0 : (size_t)n;
}

/* ------------------------------------------------------------ watchdog */

/* The seal as a log record, then published. */
static int
seal_record(struct audit_seal *s, struct audit_log *al,
    const struct seal_mark *m)
{
	char pl[SEAL_PAYLOAD_MAX];
	size_t n;

	if (audit_append(al, AUDIT_WATCHDOG, AUDIT_EV_SEAL,
	    (struct audit_field[]){ AF_I("epoch", (int64_t)m->epoch),
	    AF_I("head_seq", (int64_t)m->seq), AF_S("head", m->head),
	    AF_S("mac", m->mac) }, 4) == -1)
		return -1;
	s->start_seq = al->seq;
	if (s->publish != NULL && (n = seal_payload(m, pl, sizeof(pl))) > 0)
		s->publish(pl, n);
	return 0;
}

/* The key file as a StrictModes daemon wants it (durable.h: strict). */
int
auditseal_open(struct audit_seal *s, struct audit_log *al, char *err,
    size_t errsz)
{
	char buf[SEAL_KEYFILE_MAX];
	const struct seal_mark *l = &s->kf.last;
	ssize_t n;
	int rc;

	s->on = 0;
	if (seal_init() == -1) {
		(void)snprintf(err, errsz, "sealing: cannot initialise");
		return -1;
	}
	if ((n = durable_read(al->dirfd, SEAL_KEY_NAME, buf, sizeof(buf), 1,
	    err, errsz)) == -1)
		return errno == ENOENT ? 1 : -1;
	rc = seal_keyfile_parse(buf, (size_t)n, &s->kf);
	explicit_bzero(buf, sizeof(buf));
	if (rc == -1) {
		(void)snprintf(err, errsz, "%s: malformed", SEAL_KEY_NAME);
		return -1;
	}
	s->on = 1;
	s->start_seq = al->seq;
	if (s->kf.epoch == 0 || al->seq > l->seq)
		return 0;
	if (al->seq < l->seq || strcmp(al->prev, l->head) != 0) {
		(void)snprintf(err, errsz, "the log's head (seq %" PRIu64 ") "
		    "contradicts the last seal in %s (seq %" PRIu64 "): "
		    "truncated or replaced", al->seq, SEAL_KEY_NAME, l->seq);
		auditseal_close(s);
		return -1;
	}
	/* the key moved on but the seal did not reach the log: copy it */
	return seal_record(s, al, l);
}

int
auditseal_tick(struct audit_seal *s, struct audit_log *al, int force)
{
	struct seal_keyfile next;
	char buf[SEAL_KEYFILE_MAX];
	size_t len;
	int rc = -1;

	if (!s->on || al->seq == s->start_seq || (!force &&
	    al->seq - s->start_seq < SEAL_EPOCH_RECORDS))
		return 0;
	next.epoch = s->kf.epoch + 1;
	next.last = (struct seal_mark){ .epoch = s->kf.epoch, .seq = al->seq };
	(void)strlcpy(next.last.head, al->prev, sizeof(next.last.head));
	seal_mac(s->kf.key, &next.last);
	seal_evolve(s->kf.key, next.key);
	if ((len = seal_keyfile_format(&next, buf, sizeof(buf))) > 0 &&
	    durable_writeat(al->dirfd, SEAL_KEY_NAME, buf, len, !al->nosync) ==
	    0) {
		/* the old key is gone from the disk: now from memory (every
		 * byte of it overwritten by the next) */
		memcpy(&s->kf, &next, sizeof(next));
		rc = seal_record(s, al, &next.last);
	} else
		s->on = 0;	/* no key written: no seal until the next run */
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(&next, sizeof(next));
	return rc;
}

void
auditseal_close(struct audit_seal *s)
{
	explicit_bzero(&s->kf, sizeof(s->kf));
	s->on = 0;
}
