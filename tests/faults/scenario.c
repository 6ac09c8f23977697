/*
 * Strict parser for fault scenario files (tests/faults/README.md). Every
 * directive, step and expectation is checked here, before anything runs, so
 * a typo fails the scenario with its file and line instead of silently
 * testing less.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "parse.h"

#define LINE_MAX_	2048

struct perr {
	char		*buf;
	size_t		 sz;
	const char	*path;
	int		 lineno;
};

static int bad(struct perr *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static int
bad(struct perr *pe, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (pe->lineno > 0)
		(void)snprintf(pe->buf, pe->sz, "%s:%d: %s", pe->path,
		    pe->lineno, msg);
	else
		(void)snprintf(pe->buf, pe->sz, "%s: %s", pe->path, msg);
	return -1;
}

/*
 * Splits a line into tokens: runs of non-blanks, or "..." with \" and \\
 * as the only escapes. '#' at the start of a token starts a comment.
 */
static int
tokenise(struct perr *pe, const char *line, struct sc_cmd *c)
{
	const char *p = line;
	size_t n;

	c->argc = 0;
	c->lineno = pe->lineno;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			return 0;
		if (c->argc == SC_ARGS_MAX)
			return bad(pe, "more than %d words", SC_ARGS_MAX);
		n = 0;
		if (*p == '"') {
			for (p++; *p != '"'; p++) {
				if (*p == '\0')
					return bad(pe, "unterminated quote");
				if (*p == '\\') {
					p++;
					if (*p != '"' && *p != '\\')
						return bad(pe, "bad escape "
						    "'\\%c'", *p ? *p : '0');
				}
				if (n + 1 >= SC_TOK_MAX)
					return bad(pe, "word too long");
				c->argv[c->argc][n++] = *p;
			}
			p++;
			if (*p != '\0' && *p != ' ' && *p != '\t')
				return bad(pe, "text after a closing quote");
		} else {
			for (; *p != '\0' && *p != ' ' && *p != '\t'; p++) {
				if (*p == '"')
					return bad(pe, "quote inside a word");
				if (n + 1 >= SC_TOK_MAX)
					return bad(pe, "word too long");
				c->argv[c->argc][n++] = *p;
			}
		}
		c->argv[c->argc][n] = '\0';
		c->argc++;
	}
}

/* ---- argument checks ---- */

static int
is_number(const char *s, double min, double max)
{
	const char *why;
	double d;

	return parse_double(s, min, max, &d, &why) == 0;
}

static int
is_proc(const char *s)
{
	return strcmp(s, "watchdog") == 0 || strcmp(s, "watchdog2") == 0 ||
	    strcmp(s, "supervisor") == 0 || strcmp(s, "plant") == 0;
}

static int
is_watchdog(const char *s)
{
	return strcmp(s, "watchdog") == 0 || strcmp(s, "watchdog2") == 0;
}

static int
is_signal(const char *s)
{
	static const char *const sigs[] = { "KILL", "TERM", "INT", "STOP",
	    "CONT", "HUP", NULL };

	for (int i = 0; sigs[i] != NULL; i++)
		if (strcmp(s, sigs[i]) == 0)
			return 1;
	return 0;
}

static int
is_op(const char *s)
{
	static const char *const ops[] = { "==", "!=", "<", "<=", ">", ">=",
	    NULL };

	for (int i = 0; ops[i] != NULL; i++)
		if (strcmp(s, ops[i]) == 0)
			return 1;
	return 0;
}

static int
is_name(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_')
			return 0;
	return 1;
}

/* audit EVENT [key=value ...]: values may be fnmatch(3) patterns. */
static int
check_audit_args(struct perr *pe, const struct sc_cmd *c, int from)
{
	if (c->argc <= from)
		return bad(pe, "audit: event name missing");
	if (!is_name(c->argv[from], 33))
		return bad(pe, "audit: bad event name '%s'", c->argv[from]);
	for (int i = from + 1; i < c->argc; i++) {
		const char *eq = strchr(c->argv[i], '=');

		if (eq == NULL || eq == c->argv[i])
			return bad(pe, "audit: '%s' is not key=value",
			    c->argv[i]);
	}
	return 0;
}

/* A condition for "step wait SECS COND ...", starting at argv[from]. */
static int
check_cond(struct perr *pe, const struct sc_cmd *c, int from)
{
	const char *w = c->argv[from];
	int n = c->argc - from - 1;	/* arguments after the word */

	if (strcmp(w, "calibrating") == 0 || strcmp(w, "everyday") == 0 ||
	    strcmp(w, "supervisor") == 0 || strcmp(w, "charging") == 0)
		return n == 0 ? 0 : bad(pe, "%s takes no arguments", w);
	if (strcmp(w, "exit") == 0) {
		if (n != 1 || !is_proc(c->argv[from + 1]))
			return bad(pe, "exit PROC");
		return 0;
	}
	if (strcmp(w, "audit") == 0)
		return check_audit_args(pe, c, from + 1);
	if (strcmp(w, "truth") == 0) {
		if (n != 3 || !is_op(c->argv[from + 2]))
			return bad(pe, "truth PATH OP VALUE");
		return 0;
	}
	if (strcmp(w, "topic") == 0) {
		if (n < 1 || n > 2)
			return bad(pe, "topic TOPIC [PAYLOAD]");
		return 0;
	}
	if (strcmp(w, "stderr") == 0) {
		if (n != 2 || !is_proc(c->argv[from + 1]))
			return bad(pe, "stderr PROC TEXT");
		return 0;
	}
	return bad(pe, "unknown condition '%s'", w);
}

static int
check_action(struct perr *pe, const struct sc_cmd *c, int from)
{
	const char *w;
	int n;

	if (c->argc <= from)
		return bad(pe, "action missing");
	w = c->argv[from];
	n = c->argc - from - 1;
	if (strcmp(w, "kill") == 0) {
		if (n != 2 || !is_proc(c->argv[from + 1]) ||
		    !is_signal(c->argv[from + 2]))
			return bad(pe, "kill PROC SIGNAL (KILL TERM INT "
			    "STOP CONT HUP)");
		return 0;
	}
	if (strcmp(w, "power-loss") == 0)
		return n == 0 ? 0 : bad(pe, "power-loss takes no arguments");
	if (strcmp(w, "broker") == 0) {
		if (n != 1 || (strcmp(c->argv[from + 1], "stop") != 0 &&
		    strcmp(c->argv[from + 1], "start") != 0 &&
		    strcmp(c->argv[from + 1], "restart") != 0 &&
		    strcmp(c->argv[from + 1], "kill") != 0))
			return bad(pe, "broker stop|start|restart|kill");
		return 0;
	}
	if (strcmp(w, "start") == 0) {
		if (n < 1 || !is_watchdog(c->argv[from + 1]))
			return bad(pe, "start watchdog|watchdog2 ARGS...");
		return 0;
	}
	if (strcmp(w, "publish") == 0) {
		/* publish USER v5|v311 TOPIC PAYLOAD REASON */
		if (n != 5 || (strcmp(c->argv[from + 2], "v5") != 0 &&
		    strcmp(c->argv[from + 2], "v311") != 0) ||
		    !is_number(c->argv[from + 5], 0, 255))
			return bad(pe, "publish USER v5|v311 TOPIC PAYLOAD "
			    "REASON");
		return 0;
	}
	if (strcmp(w, "fsize") == 0) {
		if (n != 1 || !is_watchdog(c->argv[from + 1]))
			return bad(pe, "fsize watchdog|watchdog2");
		return 0;
	}
	if (strcmp(w, "disk-full") == 0 || strcmp(w, "disk-free") == 0 ||
	    strcmp(w, "tear-audit") == 0)
		return n == 0 ? 0 : bad(pe, "%s takes no arguments", w);
	return bad(pe, "unknown action '%s'", w);
}

static int
check_step(struct perr *pe, const struct sc_cmd *c)
{
	const char *w;

	if (c->argc < 2)
		return bad(pe, "step: verb missing");
	w = c->argv[1];
	if (strcmp(w, "wait") == 0) {
		if (c->argc < 4 || !is_number(c->argv[2], 0.01, 600))
			return bad(pe, "step wait SECONDS CONDITION ...");
		return check_cond(pe, c, 3);
	}
	if (strcmp(w, "fault") == 0 || strcmp(w, "do") == 0)
		return check_action(pe, c, 2);
	if (strcmp(w, "mark") == 0)
		return check_audit_args(pe, c, 2);
	if (strcmp(w, "mark-unsafe") == 0)
		return c->argc == 2 ? 0 : bad(pe, "mark-unsafe takes no "
		    "arguments");
	if (strcmp(w, "hold") == 0) {
		/* The duration of a fault (a broker outage), not a wait. */
		if (c->argc != 3 || !is_number(c->argv[2], 0.01, 120))
			return bad(pe, "step hold SECONDS");
		return 0;
	}
	return bad(pe, "unknown step '%s'", w);
}

static int
check_expect(struct perr *pe, const struct sc_cmd *c)
{
	const char *w;
	int n;

	if (c->argc < 2)
		return bad(pe, "expect: what missing");
	w = c->argv[1];
	n = c->argc - 2;
	if (strcmp(w, "exit") == 0) {
		/* exit PROC CODE | exit PROC nonzero | exit PROC signal SIG */
		if (n < 2 || !is_watchdog(c->argv[2]))
			return bad(pe, "expect exit watchdog|watchdog2 ...");
		if (n == 2 && (is_number(c->argv[3], 0, 255) ||
		    strcmp(c->argv[3], "nonzero") == 0))
			return 0;
		if (n == 3 && strcmp(c->argv[3], "signal") == 0 &&
		    is_signal(c->argv[4]))
			return 0;
		return bad(pe, "expect exit PROC CODE|nonzero|signal SIG");
	}
	if (strcmp(w, "final") == 0) {
		if (n != 1 || strcmp(c->argv[2], "everyday") != 0)
			return bad(pe, "expect final everyday");
		return 0;
	}
	if (strcmp(w, "truth") == 0) {
		if (n != 3 || !is_op(c->argv[3]))
			return bad(pe, "expect truth PATH OP VALUE");
		return 0;
	}
	if (strcmp(w, "no-control") == 0 || strcmp(w, "audit-verify") == 0 ||
	    strcmp(w, "alarm-clear") == 0)
		return n == 0 ? 0 : bad(pe, "%s takes no arguments", w);
	if (strcmp(w, "safe-within") == 0) {
		/* safe-within K: time-to-safe <= K x the ratio's timeout */
		if (n != 1 || !is_number(c->argv[2], 0.01, 100))
			return bad(pe, "expect safe-within FACTOR");
		return 0;
	}
	if (strcmp(w, "control-count") == 0) {
		if (n != 2 || !is_op(c->argv[2]) ||
		    !is_number(c->argv[3], 0, 1e6))
			return bad(pe, "expect control-count OP N");
		return 0;
	}
	if (strcmp(w, "audit") == 0 || strcmp(w, "no-audit") == 0)
		return check_audit_args(pe, c, 2);
	if (strcmp(w, "stderr") == 0 || strcmp(w, "no-stderr") == 0) {
		if (n != 2 || !is_proc(c->argv[2]))
			return bad(pe, "expect %s PROC TEXT", w);
		return 0;
	}
	return bad(pe, "unknown expectation '%s'", w);
}

/* ---- directives ---- */

static int
directive(struct perr *pe, struct scenario *sc, const struct sc_cmd *c)
{
	const char *w = c->argv[0];
	const char *why;
	double d;

#define NARGS(k) do { if (c->argc != (k) + 1) \
	return bad(pe, "%s takes %d argument%s", w, (k), (k) == 1 ? "" : "s"); \
	} while (0)

	if (strcmp(w, "name") == 0) {
		NARGS(1);
		if (!is_name(c->argv[1], sizeof(sc->name)))
			return bad(pe, "name: [a-z0-9-_], 1..%zu bytes",
			    sizeof(sc->name) - 1);
		(void)strlcpy(sc->name, c->argv[1], sizeof(sc->name));
	} else if (strcmp(w, "title") == 0) {
		NARGS(1);
		(void)strlcpy(sc->title, c->argv[1], sizeof(sc->title));
	} else if (strcmp(w, "expected") == 0) {
		NARGS(1);
		if (strlen(c->argv[1]) > SC_EXPECTED_MAX)
			return bad(pe, "expected: at most %d characters (a "
			    "column of the table)", SC_EXPECTED_MAX);
		(void)strlcpy(sc->expected, c->argv[1], sizeof(sc->expected));
	} else if (strcmp(w, "hazard") == 0) {
		if (c->argc < 2 || c->argc - 1 + sc->nhazards > SC_HAZARDS_MAX)
			return bad(pe, "hazard H... (at most %d)",
			    SC_HAZARDS_MAX);
		for (int i = 1; i < c->argc; i++)
			if (strlcpy(sc->hazards[sc->nhazards++], c->argv[i],
			    sizeof(sc->hazards[0])) >= sizeof(sc->hazards[0]))
				return bad(pe, "hazard id too long");
	} else if (strcmp(w, "plant") == 0) {
		NARGS(1);
		(void)strlcpy(sc->plant, c->argv[1], sizeof(sc->plant));
	} else if (strcmp(w, "plant-fault") == 0) {
		NARGS(1);
		if (sc->nplant_text == SC_PLANT_MAX)
			return bad(pe, "more than %d plant-fault", SC_PLANT_MAX);
		if (c->argv[1][0] != '{')
			return bad(pe, "plant-fault: a YAML flow mapping, "
			    "\"{ kind: ..., ... }\"");
		(void)strlcpy(sc->plant_text[sc->nplant_text++], c->argv[1],
		    sizeof(sc->plant_text[0]));
	} else if (strcmp(w, "plant-speed") == 0) {
		NARGS(1);
		if (parse_double(c->argv[1], 1, 10000, &d, &why) == -1)
			return bad(pe, "plant-speed: %s", why);
		sc->plant_speed = d;
	} else if (strcmp(w, "profile") == 0) {
		NARGS(2);
		if (sc->nprof == SC_PROFILE_MAX)
			return bad(pe, "too many profile overrides");
		(void)strlcpy(sc->prof_key[sc->nprof], c->argv[1],
		    sizeof(sc->prof_key[0]));
		(void)strlcpy(sc->prof_val[sc->nprof], c->argv[2],
		    sizeof(sc->prof_val[0]));
		sc->nprof++;
	} else if (strcmp(w, "supervisor") == 0) {
		if (c->argc < 2)
			return bad(pe, "supervisor real|hostile ...|fakesup ...");
		if (strcmp(c->argv[1], "real") == 0) {
			NARGS(1);
			sc->sup = SUP_REAL;
		} else if (strcmp(c->argv[1], "hostile") == 0 ||
		    strcmp(c->argv[1], "fakesup") == 0) {
			if (c->argc < 3)
				return bad(pe, "supervisor %s needs arguments",
				    c->argv[1]);
			sc->sup = strcmp(c->argv[1], "hostile") == 0 ?
			    SUP_HOSTILE : SUP_FAKESUP;
			sc->sup_arg[0] = '\0';
			for (int i = 2; i < c->argc; i++) {
				if (i > 2)
					(void)strlcat(sc->sup_arg, " ",
					    sizeof(sc->sup_arg));
				if (strlcat(sc->sup_arg, c->argv[i],
				    sizeof(sc->sup_arg)) >= sizeof(sc->sup_arg))
					return bad(pe, "supervisor: too long");
			}
		} else
			return bad(pe, "supervisor real|hostile ...|fakesup ...");
	} else if (strcmp(w, "tmpfs") == 0) {
		NARGS(1);
		if (parse_double(c->argv[1], 16, 65536, &d, &why) == -1 ||
		    d != (double)(int64_t)d)
			return bad(pe, "tmpfs KB: 16..65536");
		sc->tmpfs_kb = (int64_t)d;
		sc->need_root = true;
	} else if (strcmp(w, "audit-dir") == 0) {
		NARGS(1);
		if (strcmp(c->argv[1], "readonly") != 0)
			return bad(pe, "audit-dir readonly");
		sc->audit_dir_ro = true;
		sc->need_root = true;
	} else if (strcmp(w, "watchdog-fsize") == 0) {
		NARGS(1);
		if (parse_double(c->argv[1], 0, 1e9, &d, &why) == -1 ||
		    d != (double)(int64_t)d)
			return bad(pe, "watchdog-fsize BYTES");
		sc->wd_fsize = (int64_t)d;
		sc->wd_fsize_set = true;
	} else if (strcmp(w, "watchdog-slow-sync") == 0) {
		NARGS(1);
		if (parse_double(c->argv[1], 1, 10000, &d, &why) == -1 ||
		    d != (double)(int64_t)d)
			return bad(pe, "watchdog-slow-sync MS: 1..10000");
		sc->wd_slowsync_ms = (int64_t)d;
	} else if (strcmp(w, "supervisor-cred") == 0) {
		NARGS(1);
		if (strcmp(c->argv[1], "bad") != 0)
			return bad(pe, "supervisor-cred bad");
		sc->bad_sup_cred = true;
	} else if (strcmp(w, "must-fail") == 0) {
		NARGS(1);
		if (c->argv[1][0] == '\0')
			return bad(pe, "must-fail: the expected reason");
		(void)strlcpy(sc->must_fail, c->argv[1], sizeof(sc->must_fail));
	} else if (strcmp(w, "ratio") == 0) {
		NARGS(1);
		if (strcmp(c->argv[1], "heartbeat") == 0)
			sc->ratio = RATIO_HEARTBEAT;
		else if (strcmp(c->argv[1], "revert") == 0)
			sc->ratio = RATIO_REVERT;
		else if (strcmp(c->argv[1], "set-confirm") == 0)
			sc->ratio = RATIO_SET_CONFIRM;
		else
			return bad(pe, "ratio heartbeat|revert|set-confirm");
	} else if (strcmp(w, "step") == 0) {
		if (sc->nsteps == SC_STEPS_MAX)
			return bad(pe, "more than %d steps", SC_STEPS_MAX);
		if (check_step(pe, c) == -1)
			return -1;
		sc->steps[sc->nsteps++] = *c;
	} else if (strcmp(w, "expect") == 0) {
		if (sc->nexpects == SC_EXPECT_MAX)
			return bad(pe, "more than %d expectations",
			    SC_EXPECT_MAX);
		if (check_expect(pe, c) == -1)
			return -1;
		sc->expects[sc->nexpects++] = *c;
	} else
		return bad(pe, "unknown directive '%s'", w);
#undef NARGS
	return 0;
}

static int
finish(struct perr *pe, struct scenario *sc)
{
	char base[PATH_MAX], *b, *dot;

	pe->lineno = 0;
	if (sc->name[0] == '\0' || sc->title[0] == '\0' ||
	    sc->expected[0] == '\0' || sc->plant[0] == '\0')
		return bad(pe, "name, title, expected and plant are required");
	if (sc->nsteps == 0 || sc->nexpects == 0)
		return bad(pe, "a scenario needs steps and expectations");
	(void)strlcpy(base, sc->path, sizeof(base));
	b = basename(base);
	if ((dot = strrchr(b, '.')) != NULL)
		*dot = '\0';
	if (strcmp(b, sc->name) != 0)
		return bad(pe, "name '%s' differs from the file name '%s'",
		    sc->name, b);
	if (sc->tmpfs_kb > 0 && sc->audit_dir_ro)
		return bad(pe, "tmpfs and audit-dir readonly exclude each other");
	return 0;
}

int
scenario_load(const char *path, struct scenario *sc, char *err, size_t errsz)
{
	struct perr pe = { err, errsz, path, 0 };
	struct sc_cmd cmd;
	char line[LINE_MAX_];
	FILE *fp;
	int rc = 0;

	memset(sc, 0, sizeof(*sc));
	if (strlcpy(sc->path, path, sizeof(sc->path)) >= sizeof(sc->path))
		return bad(&pe, "path too long");
	if ((fp = fopen(path, "r")) == NULL)
		return bad(&pe, "%s", strerror(errno));
	while (fgets(line, sizeof(line), fp) != NULL) {
		size_t len = strlen(line);

		pe.lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(fp)) {
			rc = bad(&pe, "line longer than %d bytes",
			    LINE_MAX_ - 2);
			break;
		}
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)line[i] < 0x20 && line[i] != '\t') {
				rc = bad(&pe, "control character");
				break;
			}
		if (rc == -1 || (rc = tokenise(&pe, line, &cmd)) == -1)
			break;
		if (cmd.argc > 0 && (rc = directive(&pe, sc, &cmd)) == -1)
			break;
	}
	if (rc == 0 && ferror(fp))
		rc = bad(&pe, "read error");
	(void)fclose(fp);
	if (rc == 0)
		rc = finish(&pe, sc);
	return rc;
}
