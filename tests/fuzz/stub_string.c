/*
 * strcmp() and strcasecmp() for watchdog/intake.c in the fuzz build
 * (mk/95-fuzz.mk compiles it with -Dstrcmp=wdf_strcmp
 * -Dstrcasecmp=wdf_strcasecmp; its source is unchanged). Its topic
 * look-up is a linear scan, run for each of the plant's reports, and
 * libFuzzer's hook on every intercepted strcmp() (it records both strings
 * as mutation hints) was a third of an execution. Here the topics and the
 * payloads are the harness's plant model, never bytes of the input, so
 * the hints guided nothing. Same results and the same ASan checks as the
 * interceptor's: the loops run uninstrumented, then the bytes they
 * compared (each string up to and including the first difference) must
 * be addressable, or ASan reports the first one that is not.
 */
#include <sanitizer/asan_interface.h>

#include <ctype.h>

#include "wdfuzz.h"

/* an instrumented read of the first poisoned byte: ASan's report */
static void
readable(const char *s, size_t n)
{
	const volatile char *bad = __asan_region_is_poisoned((void *)(uintptr_t)s,
	    n);

	if (bad != NULL)
		(void)*bad;
}

__attribute__((no_sanitize("address", "undefined")))
static size_t
same(const unsigned char *a, const unsigned char *b, int fold)
{
	size_t i = 0;

	while (a[i] != '\0' && (a[i] == b[i] ||
	    (fold && tolower(a[i]) == tolower(b[i]))))
		i++;
	return i;
}

static int
cmp(const char *s1, const char *s2, int fold)
{
	const unsigned char *a = (const unsigned char *)s1;
	const unsigned char *b = (const unsigned char *)s2;
	size_t i = same(a, b, fold);
	int ca = fold ? tolower(a[i]) : a[i], cb = fold ? tolower(b[i]) : b[i];

	readable(s1, i + 1);
	readable(s2, i + 1);
	return (ca > cb) - (ca < cb);
}

int
wdf_strcmp(const char *s1, const char *s2)
{
	return cmp(s1, s2, 0);
}

int
wdf_strcasecmp(const char *s1, const char *s2)
{
	return cmp(s1, s2, 1);
}
