/*
 * Strict YAML configuration loading, shared by every loader of a file a
 * person writes (site profile, plant scenario): libcyaml gives the
 * structure, every scalar is loaded as a string and parsed here fully
 * consumed and range checked, because libcyaml 1.3 reads "12abc" as 12,
 * "010" as 8, takes "nan" and "inf", and loads an empty document as
 * success with a NULL result.
 *
 * Errors are one line naming the file, the line (where it can be found)
 * and the dotted key path: "site.yaml:15: broker.port: ...".
 */
#ifndef GRIDCAL_YAMLCFG_H
#define GRIDCAL_YAMLCFG_H

#include <cyaml/cyaml.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ycfg {
	const char	*path;
	char		*err;
	size_t		 errsz;
	char		*buf;		/* the file's bytes, NUL-terminated */
	size_t		 len;
	cyaml_config_t	 cfg;
	/* libcyaml's log, folded: first message, backtrace keys, first line */
	char		 cy_msg[160];
	char		 cy_keys[8][64];
	int		 cy_nkeys;
	int		 cy_line;
	/*
	 * Keys an older schema had, refused before anything else with what
	 * replaced them: { "dotted.key", "replaced by ...", ..., NULL }.
	 */
	const char *const *renamed;
};

void	ycfg_init(struct ycfg *, const char *path, char *err, size_t errsz);
/*
 * Reads path (a regular, non-empty file of at most max bytes, no NUL) and
 * loads it with schema into *data. -1 with the error set; an empty or
 * comment-only document is an error, never a NULL success.
 */
int	ycfg_load(struct ycfg *, const cyaml_schema_value_t *schema,
	    void **data, size_t max);
/* Frees what ycfg_load() allocated (data may be NULL). */
void	ycfg_free(struct ycfg *, const cyaml_schema_value_t *schema,
	    void *data);

/* Sets the error for key (NULL: the file as a whole); always returns -1. */
int	ycfg_fail(struct ycfg *, const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	ycfg_double(struct ycfg *, const char *key, const char *s, double min,
	    double max, double *out);
int	ycfg_int(struct ycfg *, const char *key, const char *s, int64_t min,
	    int64_t max, int64_t *out);
/* Decimal seconds to milliseconds. */
int	ycfg_ms(struct ycfg *, const char *key, const char *s, int64_t min_ms,
	    int64_t max_ms, int64_t *out);
int	ycfg_bool(struct ycfg *, const char *key, const char *s, bool *out);
/* A non-empty printable-ASCII word that fits dstsz. */
int	ycfg_word(struct ycfg *, const char *key, const char *s, char *dst,
	    size_t dstsz);

#endif
