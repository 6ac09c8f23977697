#include <check.h>
#include <stdint.h>

#include "parse.h"

START_TEST(double_strict)
{
	const char *why;
	double v;

	ck_assert_int_eq(parse_double("53.4", 0, 100, &v, &why), 0);
	ck_assert_double_eq_tol(v, 53.4, 1e-9);
	ck_assert_int_eq(parse_double("-2.5e1", -100, 100, &v, &why), 0);
	ck_assert_double_eq_tol(v, -25, 1e-9);
	const char *bad[] = { "", " 1", "1 ", "12abc", "nan", "inf", "0x10",
	    "1e999", "--1", "1,5", "010", "." };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse_double(bad[i], -1e300, 1e300, &v, &why) == -1,
		    "accepted \"%s\"", bad[i]);
	ck_assert_int_eq(parse_double("101", 0, 100, &v, &why), -1);
	ck_assert_str_eq(why, "out of range");
	ck_assert_int_eq(parse_double("0.5", 0, 100, &v, &why), 0);
}
END_TEST

START_TEST(int_strict)
{
	const char *why;
	int64_t v;

	ck_assert_int_eq(parse_int64("1883", 1, 65535, &v, &why), 0);
	ck_assert_int_eq(v, 1883);
	ck_assert_int_eq(parse_int64("0", 0, 5, &v, &why), 0);
	const char *bad[] = { "", "010", "1.0", "12abc", "+", "99999999999999999999",
	    " 1", "0x1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse_int64(bad[i], INT64_MIN, INT64_MAX, &v,
		    &why) == -1, "accepted \"%s\"", bad[i]);
	ck_assert_int_eq(parse_int64("65536", 1, 65535, &v, &why), -1);
}
END_TEST

START_TEST(flags_and_seconds)
{
	const char *why;
	uint32_t f;
	int64_t ms;

	ck_assert_int_eq(parse_flags("0", &f, &why), 0);
	ck_assert_uint_eq(f, 0);
	ck_assert_int_eq(parse_flags("0x8001", &f, &why), 0);
	ck_assert_uint_eq(f, 0x8001);
	ck_assert_int_eq(parse_flags("4294967296", &f, &why), -1);
	ck_assert_int_eq(parse_flags("0x", &f, &why), -1);
	ck_assert_int_eq(parse_flags("-1", &f, &why), -1);
	ck_assert_int_eq(parse_seconds_ms("0.25", 0, 1000, &ms, &why), 0);
	ck_assert_int_eq(ms, 250);
	ck_assert_int_eq(parse_seconds_ms("2", 0, 1000, &ms, &why), -1);
}
END_TEST

START_TEST(payload_strings)
{
	char buf[8];
	const char *why;

	ck_assert_int_eq(payload_to_string("abc", 3, buf, sizeof(buf), &why), 0);
	ck_assert_str_eq(buf, "abc");
	ck_assert_int_eq(payload_to_string("", 0, buf, sizeof(buf), &why), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(payload_to_string("a\0b", 3, buf, sizeof(buf), &why), -1);
	ck_assert_int_eq(payload_to_string("a\nb", 3, buf, sizeof(buf), &why), -1);
	ck_assert_int_eq(payload_to_string("12345678", 8, buf, sizeof(buf),
	    &why), -1);
	ck_assert(is_no_value_word("Unavailable"));
	ck_assert(is_no_value_word(""));
	ck_assert(!is_no_value_word("0"));
}
END_TEST

Suite *parse_suite(void);

Suite *
parse_suite(void)
{
	Suite *s = suite_create("parse");
	TCase *tc = tcase_create("strict");

	tcase_add_test(tc, double_strict);
	tcase_add_test(tc, int_strict);
	tcase_add_test(tc, flags_and_seconds);
	tcase_add_test(tc, payload_strings);
	suite_add_tcase(s, tc);
	return s;
}
