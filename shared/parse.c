#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"

static int
has_edge_space(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && (isspace((unsigned char)s[0]) ||
	    isspace((unsigned char)s[n - 1]));
}

int
parse_double(const char *s, double min, double max, double *out,
    const char **why)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0') {
		*why = "empty";
		return -1;
	}
	if (has_edge_space(s)) {
		*why = "leading or trailing space";
		return -1;
	}
	/* "010" is 8 to some YAML readers and 10 to others: refuse it. */
	const char *digits = (s[0] == '-' || s[0] == '+') ? s + 1 : s;
	if (digits[0] == '0' && isdigit((unsigned char)digits[1])) {
		*why = "leading zero";
		return -1;
	}
	/* strtod takes hex floats, "inf" and "nan": numbers here are decimal. */
	for (const char *p = s; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p) && strchr("+-.eE", *p) == NULL) {
			*why = "not a decimal number";
			return -1;
		}
	}
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0') {
		*why = "not a number";
		return -1;
	}
	if (errno == ERANGE || !isfinite(v)) {
		*why = "not finite";
		return -1;
	}
	if (v < min || v > max) {
		*why = "out of range";
		return -1;
	}
	*out = v;
	return 0;
}

int
parse_int64(const char *s, int64_t min, int64_t max, int64_t *out,
    const char **why)
{
	const char *p = s;

	if (s == NULL || *s == '\0') {
		*why = "empty";
		return -1;
	}
	if (*p == '-' || *p == '+')
		p++;
	if (*p == '\0') {
		*why = "not an integer";
		return -1;
	}
	/* A leading zero would be read as octal by some YAML parsers: refuse. */
	if (p[0] == '0' && p[1] != '\0') {
		*why = "leading zero";
		return -1;
	}
	for (; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p)) {
			*why = "not an integer";
			return -1;
		}
	}
	const char *errstr;
	long long v = strtonum(s, min, max, &errstr);
	if (errstr != NULL) {
		*why = strcmp(errstr, "invalid") == 0 ? "not an integer" :
		    "out of range";
		return -1;
	}
	*out = v;
	return 0;
}

int
parse_flags(const char *s, uint32_t *out, const char **why)
{
	const char *digits = s;
	int base = 10;
	char *end;
	unsigned long long v;

	if (s == NULL || *s == '\0') {
		*why = "empty";
		return -1;
	}
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		digits = s + 2;
		base = 16;
	}
	if (*digits == '\0') {
		*why = "not a bit field";
		return -1;
	}
	for (const char *p = digits; *p != '\0'; p++) {
		if (base == 16 ? !isxdigit((unsigned char)*p) :
		    !isdigit((unsigned char)*p)) {
			*why = "not a bit field";
			return -1;
		}
	}
	errno = 0;
	v = strtoull(digits, &end, base);
	if (errno == ERANGE || *end != '\0' || v > UINT32_MAX) {
		*why = "out of range";
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int
parse_seconds_ms(const char *s, int64_t min_ms, int64_t max_ms, int64_t *out,
    const char **why)
{
	double secs;

	if (parse_double(s, 0, 1e9, &secs, why) == -1)
		return -1;
	double ms = round(secs * 1000.0);
	if (ms < (double)min_ms || ms > (double)max_ms) {
		*why = "out of range";
		return -1;
	}
	*out = (int64_t)ms;
	return 0;
}

int
payload_to_string(const void *payload, size_t len, char *buf, size_t bufsz,
    const char **why)
{
	const unsigned char *p = payload;

	if (len >= bufsz) {
		*why = "too long";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (p[i] < 0x20 || p[i] > 0x7e) {
			*why = "non-printable byte";
			return -1;
		}
	}
	if (len > 0)
		memcpy(buf, p, len);
	buf[len] = '\0';
	return 0;
}

int
is_no_value_word(const char *s)
{
	static const char *const words[] = {
		"", "unavailable", "unknown", "nan", "none", "null", "n/a",
		"inf", "-inf", "+inf", "infinity",
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(s, words[i]) == 0)
			return 1;
	return 0;
}
