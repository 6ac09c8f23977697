/*
 * Strict parsing of numbers and words that cross a trust boundary:
 * telemetry payloads, profile values. A value parses only if the whole
 * input is consumed, it is finite, and it lies in [min, max]. On failure
 * the functions return -1 and point *why at a static reason.
 */
#ifndef GRIDCAL_PARSE_H
#define GRIDCAL_PARSE_H

#include <stddef.h>
#include <stdint.h>

int	parse_double(const char *s, double min, double max, double *out,
	    const char **why);
int	parse_int64(const char *s, int64_t min, int64_t max, int64_t *out,
	    const char **why);
/* Decimal or 0x-prefixed hexadecimal, for protection/alarm bit fields. */
int	parse_flags(const char *s, uint32_t *out, const char **why);
/* Decimal seconds ("0.25", "90") to milliseconds, in [min_ms, max_ms]. */
int	parse_seconds_ms(const char *s, int64_t min_ms, int64_t max_ms,
	    int64_t *out, const char **why);
/*
 * Copies a payload of len bytes into buf as a NUL-terminated string.
 * Refuses embedded NULs, non-printable bytes and overlong input.
 */
int	payload_to_string(const void *payload, size_t len, char *buf,
	    size_t bufsz, const char **why);
/* True for the words sensors publish when they have no value. */
int	is_no_value_word(const char *s);

#endif
