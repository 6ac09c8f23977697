/*
 * Forward-secure sealing of the audit log (libsodium; no crypto of ours).
 *
 * KEYS. gridcal-setup draws a 32-byte seed k0 (randombytes_buf) and prints
 * it once as the VERIFICATION KEY for the owner to keep off the host. The
 * watchdog holds only the key of the current epoch E in state_dir/audit.key
 * and evolves it one way at the end of every epoch:
 *   k(E+1) = crypto_kdf_derive_from_key(32, SEAL_ID_EVOLVE, SEAL_CTX, k(E))
 *   m(E)   = crypto_kdf_derive_from_key(32, SEAL_ID_MAC, SEAL_CTX, k(E))
 * crypto_kdf is keyed BLAKE2b: k(E) does not give k(E-1), so whoever reads
 * audit.key at epoch E cannot compute an earlier epoch's seal. The holder
 * of k0 recomputes every k(E) forward.
 *
 * SEAL. An epoch ends (at the end of every run, and once SEAL_EPOCH_RECORDS
 * records were written in it) with
 *   mac = crypto_auth(m(E), "gridcal-seal v1 <E> <seq> <head>")
 * over the chain head (seq and hash of the last record): the hash chain
 * makes that one MAC cover every record before it. In this order:
 *   1. audit.key is replaced (tmp, fsync, rename, fsync dir) by
 *      k(E+1) together with this seal: the evolution and the seal are one
 *      durable step, so a key is never used for two seals;
 *   2. k(E) and m(E) are erased (explicit_bzero);
 *   3. the seal is appended to the log as a record (event "seal", fields
 *      epoch, head_seq, head, mac; its prev is head) and published, retained, on
 *      SEAL_TOPIC as the payload {"epoch":E,"seq":S,"head":"..","mac":".."}.
 * A crash between 1 and 3 leaves the seal in audit.key only: the next
 * start appends it (the log's head is still seq, head).
 *
 * KEY FILE, one line: "gridcal-seal v1 E <key hex>[ S <head> <mac>]\n", the
 * last three being epoch E-1's seal (present iff E > 0). Opened as a
 * StrictModes daemon would: no symlink, a regular file, owned by the
 * effective user, no group or other permission bits.
 */
#ifndef GRIDCAL_AUDITSEAL_H
#define GRIDCAL_AUDITSEAL_H

#include "audit.h"

#define SEAL_KEY_NAME		"audit.key"
#define SEAL_KEYBYTES		32
#define SEAL_EPOCH_RECORDS	256	/* an epoch ends after this many */
#define SEAL_TOPIC		"gridcal/audit/seal"
#define SEAL_CTX		"gcalseal"	/* crypto_kdf context, 8 bytes */
#define SEAL_ID_EVOLVE		1
#define SEAL_ID_MAC		2
#define SEAL_PAYLOAD_MAX	192
#define SEAL_KEYFILE_MAX	320
#define AUDIT_EV_SEAL		"seal"

/* One seal: what is MACed, and the MAC (hex). */
struct seal_mark {
	uint64_t	epoch;
	uint64_t	seq;
	char		head[AUDIT_HASH_HEX + 1];
	char		mac[AUDIT_HASH_HEX + 1];
};

/* The key file's content. */
struct seal_keyfile {
	uint64_t		epoch;
	unsigned char		key[SEAL_KEYBYTES];
	struct seal_mark	last;		/* epoch - 1's seal, if epoch > 0 */
};

/* The watchdog's sealing state. */
struct audit_seal {
	int			on;	/* a key was loaded */
	struct seal_keyfile	kf;
	uint64_t		start_seq;	/* log seq when the epoch began */
	/* called with each seal's payload once it is in the log */
	void			(*publish)(const char *payload, size_t len);
};

/* -- the primitives, shared with gridcal-audit and gridcal-setup */
/* -1 if libsodium cannot be initialised. */
int	seal_init(void);
void	seal_evolve(const unsigned char k[SEAL_KEYBYTES],
	    unsigned char next[SEAL_KEYBYTES]);
/* mac (hex) of m->epoch, m->seq, m->head with epoch key k. */
void	seal_mac(const unsigned char k[SEAL_KEYBYTES], struct seal_mark *m);
/* The key file's line; returns its length (< sz) or 0. */
size_t	seal_keyfile_format(const struct seal_keyfile *, char *buf,
	    size_t sz);
/* 0, or -1 if buf is not exactly one well-formed key file line. */
int	seal_keyfile_parse(const char *buf, size_t len, struct seal_keyfile *);
/* The published payload; returns its length (< sz) or 0. */
size_t	seal_payload(const struct seal_mark *, char *buf, size_t sz);

/* -- the watchdog */
/*
 * Loads audit.key from the open log's state directory strictly and
 * reconciles it with the log (a seal that only reached audit.key is
 * appended). 0 sealing, 1 no key file (the log stays unsealed), -1
 * refused with the reason in err.
 */
int	auditseal_open(struct audit_seal *, struct audit_log *, char *err,
	    size_t errsz);
/* Ends the epoch if SEAL_EPOCH_RECORDS were written in it (or force). */
int	auditseal_tick(struct audit_seal *, struct audit_log *, int force);
/* Erases the key from memory. */
void	auditseal_close(struct audit_seal *);

#endif
