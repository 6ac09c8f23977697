/*
 * The one value a JSON payload holds at a JSON pointer (RFC 6901), for
 * payload format json. The whole payload must be valid JSON (RFC 8259),
 * printable ASCII and JSON whitespace only, nested at most JSON_DEPTH_MAX;
 * the pointer must name exactly one value (a duplicate key on its path is
 * refused), a number, a string or null. Nothing is guessed.
 */
#ifndef GRIDCAL_JSON_H
#define GRIDCAL_JSON_H

#include <stddef.h>

#define JSON_DEPTH_MAX	16

enum json_kind { JSON_NUMBER, JSON_STRING, JSON_NULL };

/* 0 with the value's text (a number as written, a string unescaped) in
 * out; -1 with *why set. */
int	json_pointer_get(const void *doc, size_t len, const char *pointer,
	    char *out, size_t outsz, enum json_kind *kind, const char **why);
/* 0 if s is a JSON pointer gridcal accepts: "/a/b", ~0 and ~1 escapes. */
int	json_pointer_valid(const char *s);

#endif
