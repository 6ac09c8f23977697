/*
 * What the gridcal-audit commands share: terminal-safe output of untrusted
 * text, the supervisor's key=value text, time arguments, and a streaming
 * walk over the log that verifies the chain as it goes.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* the OpenBSD strnvis(3) argument order; we only use strvisx */
#define LIBBSD_OPENBSD_VIS
#include <vis.h>

#include "cli.h"

#define VIS_FLAGS	(VIS_CSTYLE | VIS_OCTAL | VIS_TAB | VIS_NL | \
			    VIS_NOLOCALE)

void
vis_put(FILE *fp, const char *s, size_t len, int quote)
{
	/* strvisx needs 4 bytes per input byte; strings are record-bounded */
	char buf[4 * AUDIT_RECORD_MAX + 1];

	if (len > AUDIT_RECORD_MAX)
		len = AUDIT_RECORD_MAX;
	(void)strvisx(buf, s, len, VIS_FLAGS | (quote ? VIS_DQ : 0));
	if (quote)
		(void)fprintf(fp, "\"%s\"", buf);
	else
		(void)fputs(buf, fp);
}

int
kv_get(const char *text, size_t len, const char *key, char *out,
    size_t outsz)
{
	size_t klen = strlen(key), i = 0;

	while (i < len) {
		size_t start, end;

		while (i < len && text[i] == ' ')
			i++;
		start = i;
		while (i < len && text[i] != ' ')
			i++;
		end = i;
		if (end - start > klen && memcmp(text + start, key, klen) == 0 &&
		    text[start + klen] == '=') {
			size_t n = end - start - klen - 1;

			if (n >= outsz || memchr(text + start + klen + 1, '\0',
			    n) != NULL)
				return -1;
			memcpy(out, text + start + klen + 1, n);
			out[n] = '\0';
			return 0;
		}
	}
	return -1;
}

int
parse_since(const char *s, int64_t now_ms, int64_t *ms)
{
	static const char tmpl[] = "1970-01-01T00:00:00.000Z";
	char buf[sizeof(tmpl)];
	size_t n = strlen(s);

	/* relative: 7d, 12h, 30m */
	if (n >= 2 && n <= 7 && strchr("dhm", s[n - 1]) != NULL &&
	    strspn(s, "0123456789") == n - 1) {
		int64_t v = strtoll(s, NULL, 10);
		int64_t unit = s[n - 1] == 'd' ? 86400000 :
		    s[n - 1] == 'h' ? 3600000 : 60000;

		*ms = now_ms - v * unit;
		return 0;
	}
	if (n > 0 && s[n - 1] == 'Z')
		n--;
	/* a prefix of the canonical form, cut at a field boundary */
	if (n != 10 && n != 16 && n != 19 && n != 23)
		return -1;
	memcpy(buf, s, n);
	memcpy(buf + n, tmpl + n, sizeof(tmpl) - n);
	return audit_parse_utc(buf, ms);
}

int
walk_log(const struct opts *o, struct walk *w,
    void (*fn)(const struct audit_record *, const char *, size_t,
    struct walk *, void *), void *arg)
{
	struct audit_reader *rd = malloc(sizeof(*rd));
	struct audit_record *r = malloc(sizeof(*r));
	char why[AUDIT_ERR_MAX];
	const char *line;
	size_t len;
	enum audit_rd rr;

	int saved;

	if (rd == NULL || r == NULL)
		err(AX_IOERR, "malloc");
	memset(w, 0, sizeof(*w));
	audit_verifier_init(&w->v, o->utc_slack_ms);
	if (audit_reader_open(rd, o->log) == -1) {
		saved = errno;
		free(rd);
		free(r);
		errno = saved;
		err(saved == ENOENT || saved == EACCES ? AX_NOINPUT : AX_IOERR,
		    "%s", o->log);
	}
	while ((rr = audit_reader_next(rd, &line, &len)) == AUDIT_RD_LINE) {
		w->lineno = rd->lineno;
		w->verified = 0;
		if (w->v.bad == AUDIT_BAD_NONE &&
		    audit_verifier_line(&w->v, rd->lineno, line, len, r) == 0)
			w->verified = 1;
		if (!w->verified && audit_parse(line, len, r, why,
		    sizeof(why)) != AUDIT_PERR_NONE) {
			fn(NULL, line, len, w, arg);
			continue;
		}
		fn(r, line, len, w, arg);
	}
	w->rd_status = rr;
	(void)strlcpy(w->rd_why, rd->why, sizeof(w->rd_why));
	if (rr == AUDIT_RD_TORN || rr == AUDIT_RD_LONG) {
		w->lineno = rd->lineno;
		w->verified = 0;
		fn(NULL, line, rr == AUDIT_RD_TORN ? len : 0, w, arg);
	}
	audit_reader_close(rd);
	free(rd);
	free(r);
	if (rr == AUDIT_RD_IO)
		errx(AX_IOERR, "%s: %s", o->log, w->rd_why);
	return 0;
}

int
walk_verdict(const struct opts *o, const struct walk *w)
{
	if (w->v.bad != AUDIT_BAD_NONE) {
		warnx("%s: NOT INTACT from line %" PRIu64 ": %s: %s (run "
		    "`gridcal-audit verify` for details)", o->log,
		    w->v.bad_line, audit_bad_name(w->v.bad), w->v.why);
		return AX_NOT_INTACT;
	}
	if (w->rd_status == AUDIT_RD_TORN || w->rd_status == AUDIT_RD_LONG) {
		warnx("%s: NOT INTACT: %s", o->log, w->rd_why);
		return AX_NOT_INTACT;
	}
	return AX_OK;
}
