/*
 * Sealing primitives (shared/auditseal.h, shared/sealvk.h): the forward
 * derivation the verifier relies on, the MAC, the strict key file and
 * payload formats, the verification key's text form, and that ending an
 * epoch really replaces the key on disk.
 */
#include <sys/stat.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "auditseal.h"
#include "audittest.h"
#include "sealvk.h"

Suite	*seal_suite(void);

static const char *const H1 =
    "1111111111111111111111111111111111111111111111111111111111111111";

START_TEST(derive_matches_evolution)
{
	unsigned char k0[SEAL_KEYBYTES], k[SEAL_KEYBYTES], t[SEAL_KEYBYTES],
	    d[SEAL_KEYBYTES];

	ck_assert_int_eq(seal_init(), 0);
	randombytes_buf(k0, sizeof(k0));
	memcpy(k, k0, sizeof(k));
	for (int e = 1; e <= 5; e++) {
		seal_evolve(k, t);
		ck_assert(memcmp(t, k, sizeof(k)) != 0);
		memcpy(k, t, sizeof(k));
	}
	ck_assert_int_eq(sealvk_derive(k0, 0, 5, d), 0);
	ck_assert(memcmp(d, k, sizeof(k)) == 0);
	/* from an intermediate epoch on, and in place */
	ck_assert_int_eq(sealvk_derive(k0, 0, 2, d), 0);
	ck_assert_int_eq(sealvk_derive(d, 2, 5, d), 0);
	ck_assert(memcmp(d, k, sizeof(k)) == 0);
	/* never backwards; never unboundedly far (hostile epochs) */
	ck_assert_int_eq(sealvk_derive(k0, 3, 2, d), -1);
	ck_assert_int_eq(sealvk_derive(k0, 0, SEALVK_EPOCH_MAX + 1, d), -1);
}
END_TEST

START_TEST(mac_binds_epoch_seq_head)
{
	unsigned char k[SEAL_KEYBYTES], k1[SEAL_KEYBYTES];
	struct seal_mark m = { .epoch = 3, .seq = 41 }, x;

	ck_assert_int_eq(seal_init(), 0);
	randombytes_buf(k, sizeof(k));
	(void)strlcpy(m.head, H1, sizeof(m.head));
	seal_mac(k, &m);
	ck_assert_uint_eq(strlen(m.mac), 64);
	ck_assert(seal_mac_ok(k, &m));
	x = m;
	x.epoch = 4;
	ck_assert(!seal_mac_ok(k, &x));
	x = m;
	x.seq = 40;
	ck_assert(!seal_mac_ok(k, &x));
	x = m;
	x.head[63] = '2';
	ck_assert(!seal_mac_ok(k, &x));
	x = m;
	x.mac[0] = x.mac[0] == '0' ? '1' : '0';
	ck_assert(!seal_mac_ok(k, &x));
	x = m;
	x.mac[0] = 'A';		/* not lowercase hex */
	ck_assert(!seal_mac_ok(k, &x));
	/* the next epoch's key does not make this epoch's seal */
	seal_evolve(k, k1);
	ck_assert(!seal_mac_ok(k1, &m));
}
END_TEST

START_TEST(keyfile_strict)
{
	struct seal_keyfile kf = { .epoch = 0 }, back;
	char buf[SEAL_KEYFILE_MAX], bad[SEAL_KEYFILE_MAX];
	size_t n;

	memset(kf.key, 0xab, sizeof(kf.key));
	ck_assert_uint_gt(n = seal_keyfile_format(&kf, buf, sizeof(buf)), 0);
	ck_assert_int_eq(seal_keyfile_parse(buf, n, &back), 0);
	ck_assert_uint_eq(back.epoch, 0);
	ck_assert(memcmp(back.key, kf.key, sizeof(kf.key)) == 0);
	kf.epoch = 7;
	kf.last = (struct seal_mark){ .epoch = 6, .seq = 900 };
	(void)strlcpy(kf.last.head, H1, sizeof(kf.last.head));
	(void)strlcpy(kf.last.mac, H1, sizeof(kf.last.mac));
	ck_assert_uint_gt(n = seal_keyfile_format(&kf, buf, sizeof(buf)), 0);
	ck_assert_int_eq(seal_keyfile_parse(buf, n, &back), 0);
	ck_assert_uint_eq(back.last.epoch, 6);
	ck_assert_uint_eq(back.last.seq, 900);
	/* one byte off anywhere: refused */
	ck_assert_int_eq(seal_keyfile_parse(buf, n - 1, &back), -1);
	(void)snprintf(bad, sizeof(bad), "%.*sx\n", (int)n - 1, buf);
	ck_assert_int_eq(seal_keyfile_parse(bad, strlen(bad), &back), -1);
	ck_assert_int_eq(seal_keyfile_parse("gridcal-seal v1 07 ", 19, &back),
	    -1);
	/* epoch > 0 without its last seal */
	(void)snprintf(bad, sizeof(bad), "gridcal-seal v1 1 %s\n", H1);
	ck_assert_int_eq(seal_keyfile_parse(bad, strlen(bad), &back), -1);
	/* uppercase hex */
	(void)snprintf(bad, sizeof(bad), "gridcal-seal v1 0 %.63sA\n", H1);
	ck_assert_int_eq(seal_keyfile_parse(bad, strlen(bad), &back), -1);
	ck_assert_uint_eq(seal_keyfile_format(&kf, buf, 40), 0);
}
END_TEST

START_TEST(payload_format)
{
	struct seal_mark m = { .epoch = 2, .seq = 17 };
	char buf[SEAL_PAYLOAD_MAX];

	(void)strlcpy(m.head, H1, sizeof(m.head));
	(void)strlcpy(m.mac, H1, sizeof(m.mac));
	ck_assert_uint_gt(seal_payload(&m, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "{\"epoch\":2,\"seq\":17,\"head\":\"1111111111"
	    "111111111111111111111111111111111111111111111111111111\",\"mac\":"
	    "\"1111111111111111111111111111111111111111111111111111111111111"
	    "111\"}");
	ck_assert_uint_eq(seal_payload(&m, buf, 20), 0);
}
END_TEST

START_TEST(verification_key_text)
{
	unsigned char k0[SEAL_KEYBYTES], back[SEAL_KEYBYTES];
	char vk[SEALVK_TEXT], plain[2 * SEAL_KEYBYTES + 1];
	size_t j = 0;

	ck_assert_int_eq(seal_init(), 0);
	randombytes_buf(k0, sizeof(k0));
	sealvk_format(k0, vk);
	ck_assert_uint_eq(strlen(vk), 71);
	ck_assert_int_eq(vk[8], '-');
	ck_assert_int_eq(sealvk_parse(vk, back), 0);
	ck_assert(memcmp(k0, back, sizeof(k0)) == 0);
	for (size_t i = 0; vk[i] != '\0'; i++)
		if (vk[i] != '-')
			plain[j++] = vk[i];
	plain[j] = '\0';
	ck_assert_int_eq(sealvk_parse(plain, back), 0);
	ck_assert(memcmp(k0, back, sizeof(k0)) == 0);
	ck_assert_int_eq(sealvk_parse("", back), -1);
	ck_assert_int_eq(sealvk_parse(plain + 1, back), -1);
	vk[3] = 'g';
	ck_assert_int_eq(sealvk_parse(vk, back), -1);
	ck_assert_int_eq(sealvk_parse("-", back), -1);
}
END_TEST

/* Ending an epoch leaves the next key on disk and not the old one. */
START_TEST(epoch_end_replaces_key)
{
	char dir[] = "/tmp/gridcal-seal.XXXXXX", logp[64], path[96];
	char vk[SEALVK_TEXT];
	char err[AUDIT_ERR_MAX], buf[SEAL_KEYFILE_MAX], oldkey[SEAL_KEYFILE_MAX];
	struct audit_log al;
	struct audit_seal s = { .publish = NULL };
	struct seal_keyfile kf;
	unsigned char k0[SEAL_KEYBYTES];
	struct stat st;
	FILE *fp;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	(void)snprintf(logp, sizeof(logp), "%s/audit.log", dir);
	(void)snprintf(path, sizeof(path), "%s/%s", dir, SEAL_KEY_NAME);
	ck_assert_int_eq(sealvk_keygen(dir, vk), 0);
	ck_assert_int_eq(sealvk_keygen(dir, err), 1);	/* never replaced */
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	ck_assert_ptr_nonnull(fgets(oldkey, sizeof(oldkey), fp));
	(void)fclose(fp);
	ck_assert_int_eq(audit_open(&al, logp, dir, err, sizeof(err)), 0);
	audit_set_nosync(&al, 1);
	ck_assert_int_eq(auditseal_open(&s, &al, err, sizeof(err)), 0);
	ck_assert_int_eq(auditseal_tick(&s, &al, 1), 0);   /* nothing yet */
	ck_assert_uint_eq(al.seq, 0);
	ck_assert_int_eq(audit_append(&al, AUDIT_WATCHDOG, "x", NULL, 0), 0);
	ck_assert_int_eq(auditseal_tick(&s, &al, 0), 0);   /* not due */
	ck_assert_uint_eq(al.seq, 1);
	ck_assert_int_eq(auditseal_tick(&s, &al, 1), 0);
	ck_assert_uint_eq(al.seq, 2);
	ck_assert_uint_eq(s.kf.epoch, 1);
	auditseal_close(&s);
	audit_close(&al);
	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), fp));
	(void)fclose(fp);
	ck_assert_int_eq(seal_keyfile_parse(buf, strlen(buf), &kf), 0);
	ck_assert_uint_eq(kf.epoch, 1);
	ck_assert_uint_eq(kf.last.seq, 1);
	/* the epoch-0 key (the seed) is nowhere in the new file */
	ck_assert_uint_eq(strlen(oldkey), strlen("gridcal-seal v1 0 ") + 65);
	ck_assert(memmem(buf, strlen(buf), oldkey + strlen("gridcal-seal v1 "
	    "0 "), 64) == NULL);
	/* and the seed, which is the verification key, made the seal */
	ck_assert_int_eq(sealvk_parse(vk, k0), 0);
	ck_assert(seal_mac_ok(k0, &kf.last));
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(unlink(logp), 0);
	(void)snprintf(path, sizeof(path), "%s/%s", dir, AUDIT_ANCHOR_NAME);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

Suite *
seal_suite(void)
{
	Suite *s = suite_create("seal");
	TCase *tc = tcase_create("seal");

	tcase_add_test(tc, derive_matches_evolution);
	tcase_add_test(tc, mac_binds_epoch_seq_head);
	tcase_add_test(tc, keyfile_strict);
	tcase_add_test(tc, payload_format);
	tcase_add_test(tc, verification_key_text);
	tcase_add_test(tc, epoch_end_replaces_key);
	suite_add_tcase(s, tc);
	return s;
}
