/*
 * Strict YAML configuration loading: see yamlcfg.h.
 */
#include <sys/stat.h>

#include <yaml.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parse.h"
#include "yamlcfg.h"


/*
 * Finds the line of the first of some dotted key paths in the file
 * ("limits.abort.cell_voltage_max_v", "pack_fields.temperatures[2].unit":
 * sequence entries from 0) by walking libyaml's events once; 0 if none is
 * there. want[0], want[stride], ... up to a NULL; *found the index in want
 * of the one seen.
 */
static int
key_line(const char *buf, size_t len, const char *const *want, size_t stride,
    size_t *found)
{
	struct frame { int is_map, expect_key, idx; char key[64]; } st[16];
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, line = 0, done = 0;

	if (!yaml_parser_initialize(&p))
		return 0;
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (!done && line == 0 && yaml_parser_parse(&p, &ev)) {
		struct frame *top = depth > 0 ? &st[depth - 1] : NULL;

		/* a node in a sequence: the next entry */
		if (top != NULL && !top->is_map &&
		    (ev.type == YAML_MAPPING_START_EVENT ||
		    ev.type == YAML_SEQUENCE_START_EVENT ||
		    ev.type == YAML_SCALAR_EVENT))
			top->idx++;
		switch (ev.type) {
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (depth == (int)(sizeof(st) / sizeof(st[0]))) {
				done = 1;
				break;
			}
			st[depth].is_map = ev.type == YAML_MAPPING_START_EVENT;
			st[depth].expect_key = 1;
			st[depth].idx = -1;
			st[depth].key[0] = '\0';
			depth++;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			depth--;
			if (depth > 0 && st[depth - 1].is_map)
				st[depth - 1].expect_key = 1;
			break;
		case YAML_SCALAR_EVENT:
			if (top == NULL || !top->is_map)
				break;
			if (!top->expect_key) {
				top->expect_key = 1;
				break;
			}
			(void)strlcpy(top->key, (const char *)ev.data.scalar.value,
			    sizeof(top->key));
			top->expect_key = 0;
			char path[512] = "", ix[16];
			for (int i = 0; i < depth; i++) {
				if (!st[i].is_map) {
					(void)snprintf(ix, sizeof(ix), "[%d]",
					    st[i].idx);
					(void)strlcat(path, ix, sizeof(path));
					continue;
				}
				if (path[0] != '\0')
					(void)strlcat(path, ".", sizeof(path));
				(void)strlcat(path, st[i].key, sizeof(path));
			}
			for (const char *const *w = want; line == 0 &&
			    *w != NULL; w += stride)
				if (strcmp(path, *w) == 0) {
					line = (int)ev.start_mark.line + 1;
					*found = (size_t)(w - want);
				}
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return line;
}

int
ycfg_fail(struct ycfg *c, const char *key, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	int line;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	const char *one[] = { key, NULL };
	size_t found;

	line = key != NULL ? key_line(c->buf, c->len, one, 1, &found) : 0;
	if (line > 0)
		(void)snprintf(c->err, c->errsz, "%s:%d: %s: %s", c->path, line,
		    key, msg);
	else if (key != NULL)
		(void)snprintf(c->err, c->errsz, "%s: %s: %s", c->path, key, msg);
	else
		(void)snprintf(c->err, c->errsz, "%s: %s", c->path, msg);
	/* one line, whatever the file's scalar held (a quoted newline) */
	for (char *p = c->err; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -1;
}

static void
ycfg_capture(cyaml_log_t level, void *ctx, const char *fmt, va_list ap)
{
	struct ycfg *c = ctx;
	char line[256], *p, *q;

	if (level < CYAML_LOG_ERROR)
		return;
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	p = line;
	while (*p == ' ')
		p++;
	if (strncmp(p, "Load: ", 6) == 0)
		p += 6;
	if (strcmp(p, "Backtrace:") == 0)
		return;
	if (strncmp(p, "in mapping field '", 18) == 0) {
		p += 18;
		if ((q = strchr(p, '\'')) != NULL && c->cy_nkeys < 8) {
			*q = '\0';
			(void)strlcpy(c->cy_keys[c->cy_nkeys++], p,
			    sizeof(c->cy_keys[0]));
			p = q + 1;
		}
	}
	if (strncmp(p, "in ", 3) == 0 || *p == ' ') {
		if (c->cy_line == 0 && (q = strstr(p, "(line: ")) != NULL)
			c->cy_line = atoi(q + 7);
		return;
	}
	if (c->cy_msg[0] == '\0')
		(void)strlcpy(c->cy_msg, p, sizeof(c->cy_msg));
}

static int
fail_cyaml(struct ycfg *c, cyaml_err_t e)
{
	static const char missing[] = "Missing required mapping field: ";
	static const char unknown[] = "Unexpected key: ";
	const char *msg = c->cy_msg[0] != '\0' ? c->cy_msg : cyaml_strerror(e);
	const char *name = NULL;
	char keys[256] = "";
	int first = c->cy_nkeys - 1, last = 0;

	/*
	 * The backtrace lists the innermost key first. For a missing key its
	 * innermost entry is the last sibling seen, not a parent: drop it
	 * and name the missing key instead.
	 */
	if (strncmp(msg, missing, sizeof(missing) - 1) == 0) {
		name = msg + sizeof(missing) - 1;
		msg = "missing required key";
		last = 1;
	} else if (strncmp(msg, unknown, sizeof(unknown) - 1) == 0) {
		name = msg + sizeof(unknown) - 1;
		msg = "unknown key";
	}
	for (int i = first; i >= last; i--) {
		if (keys[0] != '\0')
			(void)strlcat(keys, ".", sizeof(keys));
		(void)strlcat(keys, c->cy_keys[i], sizeof(keys));
	}
	if (name != NULL) {
		if (keys[0] != '\0')
			(void)strlcat(keys, ".", sizeof(keys));
		(void)strlcat(keys, name, sizeof(keys));
	}
	(void)snprintf(c->err, c->errsz, "%s%s%.0d: %s%s%s", c->path,
	    c->cy_line > 0 ? ":" : "", c->cy_line, keys,
	    keys[0] != '\0' ? ": " : "", msg);
	return -1;
}

/* ---- value conversion ---- */

int
ycfg_double(struct ycfg *c, const char *key, const char *s, double min,
    double max, double *out)
{
	const char *why;

	if (parse_double(s, min, max, out, &why) == -1)
		return ycfg_fail(c, key, "\"%s\": %s (expected a number in %g..%g)",
		    s, why, min, max);
	return 0;
}

int
ycfg_int(struct ycfg *c, const char *key, const char *s, int64_t min,
    int64_t max, int64_t *out)
{
	const char *why;

	if (parse_int64(s, min, max, out, &why) == -1)
		return ycfg_fail(c, key, "\"%s\": %s (expected an integer in "
		    "%lld..%lld)", s, why, (long long)min, (long long)max);
	return 0;
}

int
ycfg_ms(struct ycfg *c, const char *key, const char *s, int64_t min_ms,
    int64_t max_ms, int64_t *out)
{
	const char *why;

	if (parse_seconds_ms(s, min_ms, max_ms, out, &why) == -1)
		return ycfg_fail(c, key, "\"%s\": %s (expected seconds in %g..%g)",
		    s, why, min_ms / 1000.0, max_ms / 1000.0);
	return 0;
}

int
ycfg_word(struct ycfg *c, const char *key, const char *s, char *dst,
    size_t dstsz)
{
	if (s[0] == '\0')
		return ycfg_fail(c, key, "empty");
	for (const char *p = s; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			return ycfg_fail(c, key, "non-printable character");
	if (strlcpy(dst, s, dstsz) >= dstsz)
		return ycfg_fail(c, key, "\"%s\": longer than %zu characters", s,
		    dstsz - 1);
	return 0;
}

int
ycfg_bool(struct ycfg *c, const char *key, const char *s, bool *out)
{
	if (strcmp(s, "true") == 0)
		*out = true;
	else if (strcmp(s, "false") == 0)
		*out = false;
	else
		return ycfg_fail(c, key, "\"%s\": expected true or false", s);
	return 0;
}

void
ycfg_init(struct ycfg *c, const char *path, char *err, size_t errsz)
{
	memset(c, 0, sizeof(*c));
	c->path = path;
	c->err = err;
	c->errsz = errsz;
	c->cfg.log_fn = ycfg_capture;
	c->cfg.log_ctx = c;
	c->cfg.mem_fn = cyaml_mem;
	c->cfg.log_level = CYAML_LOG_ERROR;
	c->cfg.flags = CYAML_CFG_NO_ALIAS;
}

static int
read_file(struct ycfg *c, size_t max)
{
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(c->path, O_RDONLY | O_CLOEXEC)) == -1)
		return ycfg_fail(c, NULL, "%s", strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		return ycfg_fail(c, NULL, "not a regular file");
	}
	if (st.st_size == 0 || (size_t)st.st_size > max) {
		(void)close(fd);
		return ycfg_fail(c, NULL, st.st_size == 0 ? "empty file" :
		    "larger than %zu bytes", max);
	}
	if ((c->buf = malloc((size_t)st.st_size + 1)) == NULL) {
		(void)close(fd);
		return ycfg_fail(c, NULL, "out of memory");
	}
	n = read(fd, c->buf, (size_t)st.st_size);
	(void)close(fd);
	if (n != st.st_size)
		return ycfg_fail(c, NULL, "short read");
	c->buf[n] = '\0';
	c->len = (size_t)n;
	if (memchr(c->buf, '\0', c->len) != NULL)
		return ycfg_fail(c, NULL, "contains a NUL byte");
	return 0;
}

int
ycfg_load(struct ycfg *c, const cyaml_schema_value_t *schema, void **data,
    size_t max)
{
	cyaml_err_t e;
	size_t old;

	*data = NULL;
	if (read_file(c, max) == -1)
		return -1;
	e = cyaml_load_data((const uint8_t *)c->buf, c->len, &c->cfg, schema,
	    (cyaml_data_t **)data, NULL);
	/*
	 * A key of an older schema: say what replaced it. Looked for only
	 * once the load failed (an unknown key always fails it), all in one
	 * libyaml pass; the first in the file is named.
	 */
	if (e != CYAML_OK && c->renamed != NULL &&
	    key_line(c->buf, c->len, c->renamed, 2, &old) > 0)
		return ycfg_fail(c, c->renamed[old], "%s", c->renamed[old + 1]);
	if (e != CYAML_OK)
		return fail_cyaml(c, e);
	if (*data == NULL)
		return ycfg_fail(c, NULL, "no document");
	return 0;
}

void
ycfg_free(struct ycfg *c, const cyaml_schema_value_t *schema, void *data)
{
	if (data != NULL)
		(void)cyaml_free(&c->cfg, schema, data, 0);
	free(c->buf);
	c->buf = NULL;
}
