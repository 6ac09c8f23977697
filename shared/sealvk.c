/*
 * The verification key: its text form, forward derivation, generation.
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "durable.h"
#include "sealvk.h"

void
sealvk_format(const unsigned char k0[SEAL_KEYBYTES], char out[SEALVK_TEXT])
{
	char hex[2 * SEAL_KEYBYTES + 1];
	size_t o = 0;

	(void)sodium_bin2hex(hex, sizeof(hex), k0, SEAL_KEYBYTES);
	for (size_t i = 0; i < 2 * SEAL_KEYBYTES; i++) {
		if (i > 0 && i % 8 == 0)
			out[o++] = '-';
		out[o++] = hex[i];
	}
	out[o] = '\0';
	explicit_bzero(hex, sizeof(hex));
}

int
sealvk_parse(const char *s, unsigned char k0[SEAL_KEYBYTES])
{
	char hex[2 * SEAL_KEYBYTES + 1];
	size_t n = 0;
	int rc = -1;

	for (size_t i = 0; s[i] != '\0'; i++) {
		if (s[i] == '-' && n > 0 && n % 8 == 0 && s[i + 1] != '\0' &&
		    s[i - 1] != '-')
			continue;
		if (n == 2 * SEAL_KEYBYTES || !((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			goto out;
		hex[n++] = s[i];
	}
	hex[n] = '\0';
	if (n == 2 * SEAL_KEYBYTES && sodium_hex2bin(k0, SEAL_KEYBYTES, hex, n,
	    NULL, NULL, NULL) == 0)
		rc = 0;
out:
	explicit_bzero(hex, sizeof(hex));
	return rc;
}

int
seal_mac_ok(const unsigned char k[SEAL_KEYBYTES], const struct seal_mark *m)
{
	struct seal_mark want = *m;

	if (!audit_is_hash(m->mac, strlen(m->mac)))
		return 0;
	seal_mac(k, &want);
	return sodium_memcmp(want.mac, m->mac, AUDIT_HASH_HEX) == 0;
}

int
sealvk_derive(const unsigned char k[SEAL_KEYBYTES], uint64_t from,
    uint64_t epoch, unsigned char out[SEAL_KEYBYTES])
{
	unsigned char t[SEAL_KEYBYTES];

	if (epoch < from || epoch - from > SEALVK_EPOCH_MAX)
		return -1;
	if (out != k)
		memcpy(out, k, SEAL_KEYBYTES);
	for (; from < epoch; from++) {
		seal_evolve(out, t);
		memcpy(out, t, SEAL_KEYBYTES);
	}
	explicit_bzero(t, sizeof(t));
	return 0;
}

int
sealvk_keygen(const char *dir, char vk[SEALVK_TEXT])
{
	struct seal_keyfile kf = { .epoch = 0 };
	char buf[SEAL_KEYFILE_MAX];
	size_t len;
	int rc = -1, saved;

	if (seal_init() == -1) {
		errno = ENOSYS;
		return -1;
	}
	if (durable_exists(dir, SEAL_KEY_NAME))
		return 1;
	randombytes_buf(kf.key, sizeof(kf.key));
	if ((len = seal_keyfile_format(&kf, buf, sizeof(buf))) > 0 &&
	    (rc = durable_write(dir, SEAL_KEY_NAME, buf, len)) == 0)
		sealvk_format(kf.key, vk);
	saved = errno;
	explicit_bzero(&kf, sizeof(kf));
	explicit_bzero(buf, sizeof(buf));
	errno = saved;
	return rc;
}
