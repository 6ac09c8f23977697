/*
 * gridcal.yaml(5) cannot go stale: this program is the profile loader
 * itself (shared/profile.c is compiled in, so its static libcyaml schema
 * and numeric key table are the ones read here, not a copy) and checks
 * the manual page against them:
 *   - every key the schema has is documented (".It Cm KEY"), exactly or
 *     as a family: "pack_fields.soc" plus "pack_fields.*.topic" covers
 *     pack_fields.soc.topic;
 *   - every documented key exists (a family entry matches at least one);
 *   - each key of the numeric table states its range as "MIN..MAX" (%g)
 *     on its .It line, and each exact key states its value in the shipped
 *     example profile as "default VALUE" (sequences: "[a, b]"); the
 *     keys of a list of mappings are "list[].key", with no one value.
 * usage: profile-keys MANPAGE EXAMPLE_PROFILE
 */
#include "../../shared/profile.c"

#include <err.h>
#include <errno.h>

#define MAXKEYS	512

struct key {
	char	 path[160];
	char	 value[256];	/* in the example profile; "" if absent */
	bool	 found;
};

static struct key keys[MAXKEYS];
static int nkeys, bad;

static void
problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
problem(const char *fmt, ...)
{
	va_list ap;

	bad++;
	va_start(ap, fmt);
	(void)fputs("profile-keys: ", stderr);
	(void)vfprintf(stderr, fmt, ap);
	(void)fputc('\n', stderr);
	va_end(ap);
}

static void
add(const char *path, const char *value)
{
	if (nkeys == MAXKEYS)
		errx(1, "too many keys");
	(void)strlcpy(keys[nkeys].path, path, sizeof(keys[0].path));
	(void)strlcpy(keys[nkeys].value, value, sizeof(keys[0].value));
	nkeys++;
}

/* Nested schemas: a mapping's fields are relative to base + data_offset. */
static void
walk(const cyaml_schema_field_t *f, const char *base, const char *prefix)
{
	char path[160], val[256];

	for (; f->key != NULL; f++) {
		const char *at = base != NULL ? base + f->data_offset : NULL;

		(void)snprintf(path, sizeof(path), "%s%s%s", prefix,
		    prefix[0] ? "." : "", f->key);
		if (f->value.type == CYAML_MAPPING) {
			walk(f->value.mapping.fields, at, path);
		} else if (f->value.type == CYAML_SEQUENCE &&
		    f->value.sequence.entry->type == CYAML_MAPPING) {
			/* a list of mappings: its entries' keys as "key[].k" */
			add(path, "");
			(void)strlcat(path, "[]", sizeof(path));
			walk(f->value.sequence.entry->mapping.fields, NULL, path);
		} else if (base == NULL) {
			add(path, "");	/* inside a list: no one value */
		} else if (f->value.type == CYAML_SEQUENCE) {
			char **v = *(char **const *)(const void *)at;
			unsigned n = *(const unsigned *)(const void *)(base +
			    f->count_offset);

			(void)strlcpy(val, "[", sizeof(val));
			for (unsigned i = 0; i < n; i++) {
				(void)strlcat(val, i ? ", " : "", sizeof(val));
				(void)strlcat(val, v[i], sizeof(val));
			}
			(void)strlcat(val, "]", sizeof(val));
			add(path, val);
		} else {
			const char *v = *(const char *const *)(const void *)at;

			add(path, v != NULL ? v : "");
		}
	}
}

static struct key *
find(const char *path)
{
	for (int i = 0; i < nkeys; i++)
		if (strcmp(keys[i].path, path) == 0)
			return &keys[i];
	return NULL;
}

/* "a.*.c" matches "a.b.c" (one level). */
static bool
family(const char *pat, const char *path)
{
	const char *star = strstr(pat, ".*.");
	size_t pre;
	const char *rest;

	if (star == NULL)
		return false;
	pre = (size_t)(star - pat) + 1;
	if (strncmp(pat, path, pre) != 0)
		return false;
	rest = strchr(path + pre, '.');
	return rest != NULL && strcmp(rest, star + 2) == 0;
}

static const struct num_key *
num_key(const char *path)
{
	for (size_t i = 0; i < sizeof(num_keys) / sizeof(num_keys[0]); i++)
		if (strcmp(num_keys[i].key, path) == 0)
			return &num_keys[i];
	return NULL;
}

int
main(int argc, char *argv[])
{
	static char doc[MAXKEYS][160], line[1024];
	cyaml_config_t cfg = { .log_fn = cyaml_log, .mem_fn = cyaml_mem,
	    .log_level = CYAML_LOG_ERROR };
	struct raw_profile *raw = NULL;
	int ndoc = 0, lineno = 0;
	FILE *fp;

	if (argc == 2) {	/* --list: what the manual page must say */
		argv[2] = argv[1];
		argc = 0;
	} else if (argc != 3)
		errx(64, "usage: profile-keys [MANPAGE] EXAMPLE_PROFILE");
	if (cyaml_load_file(argv[2], &cfg, &profile_schema, (void **)&raw,
	    NULL) != CYAML_OK)
		errx(1, "%s: does not load", argv[2]);
	walk(top_schema, (const char *)raw, "");
	for (int i = 0; argc == 0 && i < nkeys; i++) {
		const struct num_key *nk = num_key(keys[i].path);

		if (nk != NULL)
			printf("%s\t%g..%g\t%s\n", keys[i].path, nk->min,
			    nk->max, keys[i].value);
		else
			printf("%s\t\t%s\n", keys[i].path, keys[i].value);
	}
	if (argc == 0)
		return 0;
	if ((fp = fopen(argv[1], "r")) == NULL)
		err(1, "%s", argv[1]);
	while (fgets(line, sizeof(line), fp) != NULL) {
		char key[160];
		const struct num_key *nk;
		struct key *k;

		lineno++;
		if (sscanf(line, ".It Cm %159s", key) != 1)
			continue;
		if (ndoc < MAXKEYS)
			(void)strlcpy(doc[ndoc++], key, sizeof(doc[0]));
		if (strstr(key, ".*.") != NULL) {
			bool any = false;

			for (int i = 0; i < nkeys; i++)
				any |= family(key, keys[i].path);
			if (!any)
				problem("%s:%d: %s matches no key", argv[1],
				    lineno, key);
			continue;
		}
		if ((k = find(key)) == NULL) {
			bool prefix = false;
			size_t n = strlen(key);

			for (int i = 0; i < nkeys; i++)
				prefix |= strncmp(keys[i].path, key, n) == 0 &&
				    keys[i].path[n] == '.';
			if (!prefix)
				problem("%s:%d: %s is not a profile key",
				    argv[1], lineno, key);
			continue;
		}
		if ((nk = num_key(key)) != NULL) {
			char range[64];

			(void)snprintf(range, sizeof(range), "%g..%g", nk->min,
			    nk->max);
			if (strstr(line, range) == NULL)
				problem("%s:%d: %s: the loader's range is %s",
				    argv[1], lineno, key, range);
		}
		if (k->value[0] != '\0') {
			char want[300];

			(void)snprintf(want, sizeof(want), "default %s",
			    k->value);
			if (strstr(line, want) == NULL)
				problem("%s:%d: %s: the example profile says "
				    "\"%s\"", argv[1], lineno, key, want);
		}
	}
	(void)fclose(fp);
	for (int i = 0; i < nkeys; i++) {
		char parent[160], *dot;
		bool ok = false;

		for (int d = 0; d < ndoc && !ok; d++)
			ok = strcmp(doc[d], keys[i].path) == 0;
		/* family: parent documented and "grandparent.*.leaf" too */
		(void)strlcpy(parent, keys[i].path, sizeof(parent));
		if (!ok && (dot = strrchr(parent, '.')) != NULL) {
			*dot = '\0';
			for (int d = 0; d < ndoc && !ok; d++)
				if (strcmp(doc[d], parent) == 0)
					for (int e = 0; e < ndoc && !ok; e++)
						ok = family(doc[e], keys[i].path);
		}
		if (!ok)
			problem("%s: key %s is not documented", argv[1],
			    keys[i].path);
	}
	cyaml_free(&cfg, &profile_schema, raw, 0);
	printf("profile-keys: %d keys in the loader's schema, %d entries in "
	    "%s: %s\n", nkeys, ndoc, argv[1], bad ? "MISMATCH" : "all match");
	return bad ? 1 : 0;
}
