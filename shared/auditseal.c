/*
 * Forward-secure sealing (auditseal.h): the key evolution, the seal, the
 * key file. Every secret lives in a struct seal_keyfile or a local buffer
 * that is explicit_bzero'ed before it goes out of scope.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
	if (kf->have_last)
		n = snprintf(buf, sz, KEYFILE_HEAD "%" PRIu64 " %s %" PRIu64
		    " %s %s\n", kf->epoch, hex, kf->last.seq, kf->last.head,
		    kf->last.mac);
	else
		n = snprintf(buf, sz, KEYFILE_HEAD "%" PRIu64 " %s\n",
		    kf->epoch, hex);
	explicit_bzero(hex, sizeof(hex));
	return n < 0 || (size_t)n >= sz ? 0 : (size_t)n;
}

/* A decimal without a leading zero, then sep; the cursor moves past it. */
static int
get_u64(const char **p, const char *end, char sep, uint64_t *v)
{
	const char *s = *p;

	*v = 0;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (*v > (UINT64_MAX - 9) / 10)
			return -1;
		*v = *v * 10 + (uint64_t)(*s - '0');
	}
	if (s == *p || (**p == '0' && s - *p > 1) || s >= end || *s != sep)
		return -1;
	*p = s + 1;
	return 0;
}

/* 64 lowercase hex digits into dst (NUL-terminated), then sep. */
static int
get_hex(const char **p, const char *end, char sep, char *dst)
{
	if (end - *p < AUDIT_HASH_HEX + 1 || !audit_is_hash(*p,
	    AUDIT_HASH_HEX) || (*p)[AUDIT_HASH_HEX] != sep)
		return -1;
	memcpy(dst, *p, AUDIT_HASH_HEX);
	dst[AUDIT_HASH_HEX] = '\0';
	*p += AUDIT_HASH_HEX + 1;
	return 0;
}

int
seal_keyfile_parse(const char *buf, size_t len, struct seal_keyfile *kf)
{
	const char *p = buf + sizeof(KEYFILE_HEAD) - 1, *end = buf + len;
	char hex[AUDIT_HASH_HEX + 1];
	int rc = -1;

	memset(kf, 0, sizeof(*kf));
	if (len < sizeof(KEYFILE_HEAD) || memcmp(buf, KEYFILE_HEAD,
	    sizeof(KEYFILE_HEAD) - 1) != 0 ||
	    get_u64(&p, end, ' ', &kf->epoch) == -1 ||
	    get_hex(&p, end, kf->epoch > 0 ? ' ' : '\n', hex) == -1)
		goto out;
	(void)sodium_hex2bin(kf->key, SEAL_KEYBYTES, hex, AUDIT_HASH_HEX, NULL,
	    NULL, NULL);
	if ((kf->have_last = kf->epoch > 0)) {
		kf->last.epoch = kf->epoch - 1;
		if (get_u64(&p, end, ' ', &kf->last.seq) == -1 ||
		    get_hex(&p, end, ' ', kf->last.head) == -1 ||
		    get_hex(&p, end, '\n', kf->last.mac) == -1)
			goto out;
	}
	rc = p == end ? 0 : -1;
out:
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

/* StrictModes: no symlink, a regular file of ours (or of the state
 * directory's owner), no group/other bits. */
static int
keyfile_read(const char *dir, char *buf, size_t sz, size_t *len, char *err,
    size_t errsz)
{
	char path[4096 + sizeof(SEAL_KEY_NAME) + 1];
	struct stat st, ds;
	ssize_t n;
	int fd;

	/* ours, or the state directory owner's: a watchdog that dropped root
	 * (watchdog/sandbox.c) replaces the key as gridcal-watchdog */
	if (stat(dir, &ds) == -1)
		ds.st_uid = geteuid();
	(void)snprintf(path, sizeof(path), "%s/%s", dir, SEAL_KEY_NAME);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC))
	    == -1) {
		if (errno == ENOENT)
			return 1;
		(void)snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (st.st_uid != geteuid() && st.st_uid != ds.st_uid) ||
	    (st.st_mode & 077) != 0) {
		(void)snprintf(err, errsz, "%s: not a regular file owned by uid "
		    "%ld or %ld with mode 0600", path, (long)geteuid(),
		    (long)ds.st_uid);
		(void)close(fd);
		return -1;
	}
	n = read(fd, buf, sz);
	(void)close(fd);
	if (n <= 0 || (size_t)n >= sz) {
		(void)snprintf(err, errsz, "%s: %s", path, n == -1 ?
		    strerror(errno) : "empty or too long");
		return -1;
	}
	*len = (size_t)n;
	return 0;
}

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

int
auditseal_open(struct audit_seal *s, struct audit_log *al,
    const char *state_dir, char *err, size_t errsz)
{
	char buf[SEAL_KEYFILE_MAX];
	const struct seal_mark *l = &s->kf.last;
	size_t len;
	int rc;

	s->on = 0;
	if (strlcpy(s->dir, state_dir, sizeof(s->dir)) >= sizeof(s->dir) ||
	    seal_init() == -1) {
		(void)snprintf(err, errsz, "sealing: cannot initialise");
		return -1;
	}
	rc = keyfile_read(s->dir, buf, sizeof(buf), &len, err, errsz);
	if (rc == 0 && seal_keyfile_parse(buf, len, &s->kf) == -1) {
		(void)snprintf(err, errsz, "%s/%s: malformed", s->dir,
		    SEAL_KEY_NAME);
		rc = -1;
	}
	explicit_bzero(buf, sizeof(buf));
	if (rc != 0)
		return rc;
	s->on = 1;
	s->start_seq = al->seq;
	if (!s->kf.have_last || al->seq > l->seq)
		return 0;
	if (al->seq < l->seq || strcmp(al->prev, l->head) != 0) {
		(void)snprintf(err, errsz, "the log's head (seq %" PRIu64 ") "
		    "contradicts the last seal in %s (seq %" PRIu64 "): "
		    "truncated or replaced", al->seq, SEAL_KEY_NAME, l->seq);
		auditseal_close(s);
		return -1;
	}
	/* the key moved on but the seal did not reach the log: copy it */
	return seal_record(s, al, l) == -1 ? -1 : 0;
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
	next.have_last = 1;
	next.last = (struct seal_mark){ .epoch = s->kf.epoch, .seq = al->seq };
	(void)strlcpy(next.last.head, al->prev, sizeof(next.last.head));
	seal_mac(s->kf.key, &next.last);
	seal_evolve(s->kf.key, next.key);
	if ((len = seal_keyfile_format(&next, buf, sizeof(buf))) > 0 &&
	    durable_write(s->dir, SEAL_KEY_NAME, buf, len) == 0) {
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
