/*
 * The verification key (auditseal.h): the sealing seed k0, which the owner
 * keeps off the host. Made by gridcal-setup, used by gridcal-audit verify
 * --key; never linked into gridcal-watchdog, which holds only k(E).
 *
 * Text form: 64 lowercase hex digits in 8 groups of 8 joined by '-'
 * ("1a2b3c4d-..."); parsing also takes it without the dashes.
 */
#ifndef GRIDCAL_SEALVK_H
#define GRIDCAL_SEALVK_H

#include <stdint.h>

#include "auditseal.h"

#define SEALVK_TEXT	72	/* 64 digits, 7 dashes, NUL */
/* Epochs a verifier derives forward at most: a bound on hostile input. */
#define SEALVK_EPOCH_MAX	(1ULL << 24)

void	sealvk_format(const unsigned char k0[SEAL_KEYBYTES],
	    char out[SEALVK_TEXT]);
/* 0, or -1 if s is not a verification key. */
int	sealvk_parse(const char *s, unsigned char k0[SEAL_KEYBYTES]);
/* 1 if m->mac is the MAC of m under k (constant time). */
int	seal_mac_ok(const unsigned char k[SEAL_KEYBYTES],
	    const struct seal_mark *m);
/* k(epoch) from k(from) = k, epoch >= from; -1 if too far. */
int	sealvk_derive(const unsigned char k[SEAL_KEYBYTES], uint64_t from,
	    uint64_t epoch, unsigned char out[SEAL_KEYBYTES]);
/*
 * Makes dir/audit.key at epoch 0 from a fresh random seed unless it
 * exists; the verification key in vk. 0 made, 1 already there (vk
 * untouched), -1 with errno.
 */
int	sealvk_keygen(const char *dir, char vk[SEALVK_TEXT]);

#endif
