/*
 * gridcal-audit show: the log as a timeline. Every string is printed
 * through strvis(3): supervisor-reported text is untrusted, and even the
 * watchdog's strings (readbacks) come from the network.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct show {
	const struct opts	*o;
	char			 run[AUDIT_RUN_MAX + 1];
	int			 any;
	int64_t			 run_mono0;	/* first mono_ms of the run */
	int			 warned;	/* integrity marker printed */
	int			 began;		/* header printed */
};

static void
header(struct show *sh)
{
	if (sh->began || sh->o->json)
		return;
	sh->began = 1;
	(void)printf("# %s: strings escaped with strvis(3); supervisor "
	    "text is as reported by the supervisor\n", sh->o->log);
}

/* Plain tokens print as they are; anything else quoted and escaped. */
static int
plain(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_.:,/+-=%", s[i]) == NULL || s[i] == '\0')
			return 0;
	return 1;
}

static void
put_field(const struct audit_rfield *f)
{
	char num[AUDIT_NUM_MAX];

	(void)printf(" %s=", f->key);
	switch (f->type) {
	case AF_STR:
	case AF_BYTES:
		vis_put(stdout, f->s, f->slen, !plain(f->s, f->slen));
		break;
	case AF_INT:
		(void)printf("%" PRId64, f->i);
		break;
	case AF_NUM:
		if (f->is_null)
			(void)printf("null");
		else {
			audit_format_num(f->d, num);
			(void)printf("%s", num);
		}
		break;
	case AF_BOOL:
		(void)printf("%s", f->b ? "true" : "false");
		break;
	}
}

static void
rel_time(int64_t ms)
{
	if (ms < 0) {
		(void)printf("%13s", "");
		return;
	}
	(void)printf("+%" PRId64 ":%02" PRId64 ":%02" PRId64 ".%03" PRId64,
	    ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
}

static void
integrity_marker(struct show *sh, const struct walk *w)
{
	if (w->v.bad == AUDIT_BAD_NONE || sh->warned || sh->o->json)
		return;
	sh->warned = 1;
	(void)printf("!! line %" PRIu64 ": %s: %s\n!! records from here on "
	    "are not covered by the chain\n", w->v.bad_line,
	    audit_bad_name(w->v.bad), w->v.why);
}

static void
show_one(const struct audit_record *r, const char *line, size_t len,
    struct walk *w, void *arg)
{
	struct show *sh = arg;
	const struct opts *o = sh->o;

	header(sh);
	integrity_marker(sh, w);
	if (r == NULL) {
		if (o->json)
			return;
		(void)printf("! line %" PRIu64 ": %s: ", w->lineno,
		    w->rd_status == AUDIT_RD_LONG ? "line too long" :
		    "unreadable record");
		vis_put(stdout, line, len > 200 ? 200 : len, 0);
		(void)printf("%s\n", len > 200 ? "..." : "");
		return;
	}
	if ((o->run != NULL && strcmp(r->run, o->run) != 0) ||
	    (o->has_since && r->utc_ms < o->since_ms))
		return;
	if (o->json) {
		(void)fwrite(line, 1, len, stdout);
		(void)putchar('\n');
		return;
	}
	if (!sh->any || strcmp(r->run, sh->run) != 0) {
		(void)strlcpy(sh->run, r->run, sizeof(sh->run));
		sh->run_mono0 = r->mono_ms;
		(void)printf("%s-- run %s --\n", sh->any ? "\n" : "",
		    r->run[0] != '\0' ? r->run : "(none)");
		sh->any = 1;
	}
	(void)printf("%s%s ", w->verified ? "" : "! ", r->utc);
	rel_time(r->run[0] != '\0' ? r->mono_ms - sh->run_mono0 : -1);
	(void)printf(" #%-6" PRIu64 " %-10s %-*s", r->seq,
	    r->actor == AUDIT_SUPERVISOR ? "supervisor" : "watchdog",
	    r->nfields > 0 ? 16 : 0, r->event);
	for (size_t i = 0; i < r->nfields; i++)
		put_field(&r->f[i]);
	(void)putchar('\n');
}

int
cmd_show(const struct opts *o)
{
	struct show sh;
	struct walk w;

	memset(&sh, 0, sizeof(sh));
	sh.o = o;
	/* The header waits for the log to open: errors come alone. */
	(void)walk_log(o, &w, show_one, &sh);
	header(&sh);
	if (fflush(stdout) == EOF)
		return AX_IOERR;
	return walk_verdict(o, &w);
}
