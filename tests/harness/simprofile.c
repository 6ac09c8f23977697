/*
 * The test profile: profiles/sim.yaml.in with its placeholders filled in
 * and per-test overrides applied by dotted key path. The template is plain
 * block YAML (mappings and flow sequences), which is all this understands;
 * anything it cannot place is an error rather than a silent no-op.
 */
#include <sys/stat.h>

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "harness_int.h"

#define MAX_DEPTH	16

struct sbuf {
	char	*s;
	size_t	 len, cap;
	int	 oom;
};

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t ncap = (b->len + n + 1) * 2;
		char *ns = realloc(b->s, ncap);

		if (ns == NULL) {
			b->oom = 1;
			return;
		}
		b->s = ns;
		b->cap = ncap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static bool
is_comment_or_blank(const char *line, size_t n)
{
	size_t i = 0;

	while (i < n && line[i] == ' ')
		i++;
	return i == n || line[i] == '#' || line[i] == '\n';
}

/* The user the supervisor runs as: an override, or the default. */
static const char *
supervisor_user(const struct hprofile_kv *kv, size_t nkv)
{
	const char *pool;

	for (size_t i = 0; i < nkv; i++)
		if (strcmp(kv[i].key, "paths.supervisor_user") == 0)
			return kv[i].value;
	return (pool = huser_supervisor()) != NULL ? pool : "nobody";
}

/* Replaces @NAME@ placeholders outside comments. */
static int
substitute(const char *tmpl, const struct hbroker *b, struct sbuf *out,
    char *err, size_t errsz)
{
	char port[16], build[PATH_MAX];
	const char *user = supervisor_user(NULL, 0);
	const struct { const char *name, *value; } subs[] = {
		{ "@PORT@", port },
		{ "@WORKDIR@", b->workdir },
		{ "@BUILD@", build },
		{ "@SUPERVISOR_USER@", user },
	};
	const char *line = tmpl;
	int lineno = 0;

	(void)snprintf(port, sizeof(port), "%u", (unsigned)b->port);
	if (harness_path(build, sizeof(build), "build") == -1)
		return -1;
	while (*line != '\0') {
		size_t n = strcspn(line, "\n");
		const char *end = line + n;

		lineno++;
		if (is_comment_or_blank(line, n)) {
			sb_add(out, line, n);
		} else {
			for (const char *p = line; p < end;) {
				const char *at = memchr(p, '@', (size_t)(end - p));
				size_t i;

				if (at == NULL) {
					sb_add(out, p, (size_t)(end - p));
					break;
				}
				sb_add(out, p, (size_t)(at - p));
				for (i = 0; i < sizeof(subs) / sizeof(subs[0]);
				    i++) {
					size_t k = strlen(subs[i].name);

					if ((size_t)(end - at) >= k &&
					    strncmp(at, subs[i].name, k) == 0) {
						sb_str(out, subs[i].value);
						p = at + k;
						break;
					}
				}
				if (i == sizeof(subs) / sizeof(subs[0])) {
					(void)snprintf(err, errsz, "template "
					    "line %d: unknown placeholder at "
					    "\"%.20s\"", lineno, at);
					return -1;
				}
			}
		}
		if (*end == '\n')
			sb_add(out, "\n", 1);
		line = *end == '\n' ? end + 1 : end;
	}
	return out->oom ? -1 : 0;
}

/*
 * The end of the block list that is the value of a key at indent whose
 * line ends at eol: the lines after it that are more indented, or list
 * entries ("- ") at its own indent, with the blank and comment lines
 * among them. NULL if the value is not a list (a mapping: a section is
 * never replaced whole by a typo).
 */
static const char *
list_end(const char *eol, int indent)
{
	const char *end = eol, *line = eol;
	bool first = true;

	while (*line == '\n') {
		const char *l = line + 1;
		size_t n = strcspn(l, "\n");
		int in = 0;

		while (l[in] == ' ')
			in++;
		if (is_comment_or_blank(l, n)) {
			line = l + n;
			continue;
		}
		if (first && l[in] != '-')
			return NULL;
		if (in < indent || (in == indent && l[in] != '-'))
			break;
		first = false;
		end = line = l + n;
	}
	return first ? NULL : end;
}

/* Applies overrides to a substituted profile text. */
static int
override(const char *text, const struct hprofile_kv *kv, size_t nkv,
    struct sbuf *out, char *err, size_t errsz)
{
	struct { int indent; char key[64]; } st[MAX_DEPTH];
	int depth = 0;
	int *hits = calloc(nkv > 0 ? nkv : 1, sizeof(int));
	const char *line = text;

	if (hits == NULL)
		return -1;
	while (*line != '\0') {
		size_t n = strcspn(line, "\n");
		const char *end = line + n, *colon, *key, *bend = NULL;
		int indent = 0;
		char path[512] = "";
		size_t klen;

		while (line[indent] == ' ')
			indent++;
		key = line + indent;
		colon = memchr(key, ':', (size_t)(end - key));
		if (is_comment_or_blank(line, n) || *key == '-' ||
		    colon == NULL || (colon + 1 < end && colon[1] != ' ')) {
			sb_add(out, line, n);
			goto next;
		}
		klen = (size_t)(colon - key);
		while (depth > 0 && st[depth - 1].indent >= indent)
			depth--;
		if (depth == MAX_DEPTH || klen >= sizeof(st[0].key)) {
			(void)snprintf(err, errsz, "template too deep or key "
			    "too long at \"%.*s\"", (int)n, line);
			free(hits);
			return -1;
		}
		st[depth].indent = indent;
		memcpy(st[depth].key, key, klen);
		st[depth].key[klen] = '\0';
		depth++;
		for (int i = 0; i < depth; i++) {
			if (i > 0)
				(void)strlcat(path, ".", sizeof(path));
			(void)strlcat(path, st[i].key, sizeof(path));
		}
		size_t i;
		for (i = 0; i < nkv; i++)
			if (strcmp(kv[i].key, path) == 0)
				break;
		const char *val = colon + 1;
		while (val < end && *val == ' ')
			val++;
		if (i == nkv) {
			sb_add(out, line, n);
		} else if ((val == end || *val == '#') &&
		    (bend = list_end(end, indent)) == NULL) {
			(void)snprintf(err, errsz, "override %s: not a scalar "
			    "key or a list", kv[i].key);
			free(hits);
			return -1;
		} else {
			hits[i]++;
			sb_add(out, line, (size_t)(colon + 1 - line));
			sb_str(out, " ");
			sb_str(out, kv[i].value);
			/* a block list goes whole */
			if (val == end || *val == '#')
				end = bend;
		}
next:
		if (*end == '\n')
			sb_add(out, "\n", 1);
		line = *end == '\n' ? end + 1 : end;
	}
	for (size_t i = 0; i < nkv; i++) {
		if (hits[i] != 1) {
			(void)snprintf(err, errsz, "override %s: %s", kv[i].key,
			    hits[i] == 0 ? "no such key in the profile" :
			    "matches more than one key");
			free(hits);
			return -1;
		}
	}
	free(hits);
	return out->oom ? -1 : 0;
}

int
hprofile_render(const char *tmpl, const struct hbroker *b,
    const struct hprofile_kv *kv, size_t nkv, char **outp, char *err,
    size_t errsz)
{
	struct sbuf s1 = { 0 }, s2 = { 0 };

	*outp = NULL;
	if (substitute(tmpl, b, &s1, err, errsz) == -1 || s1.s == NULL ||
	    override(s1.s, kv, nkv, &s2, err, errsz) == -1 || s2.s == NULL) {
		if (s1.oom || s2.oom)
			(void)snprintf(err, errsz, "out of memory");
		free(s1.s);
		free(s2.s);
		return -1;
	}
	free(s1.s);
	*outp = s2.s;
	return 0;
}

/*
 * What the profile's paths expect, with a site's owners and modes (the
 * watchdog holds them to its StrictModes): the state directory
 * gridcal-watchdog's 0700, the supervisor's credentials root:<its group>
 * 0640 (it reads them as itself; the watchdog's stay root's, 0600).
 */
static int
prepare_site(const struct hbroker *b, const char *user,
    const struct hprofile_kv *kv, size_t nkv, char *err, size_t errsz)
{
	char path[PATH_MAX];
	const char *state = path;
	int n;

	n = snprintf(path, sizeof(path), "%s/state", b->workdir);
	for (size_t i = 0; i < nkv; i++)
		if (strcmp(kv[i].key, "paths.state_dir") == 0)
			state = kv[i].value;
	if (n < 0 || (size_t)n >= sizeof(path) ||
	    (mkdir(state, 0700) == -1 && errno != EEXIST)) {
		(void)snprintf(err, errsz, "mkdir %s: %s", state,
		    strerror(errno));
		return -1;
	}
	if (huser_give_state(state) == -1 ||
	    hbroker_cred_path(b, "supervisor", path, sizeof(path)) == -1 ||
	    huser_give_cred(path, user) == -1) {
		(void)snprintf(err, errsz, "%s or %s: cannot give to %s or %s",
		    state, path, HUSER_WATCHDOG, user);
		return -1;
	}
	return 0;
}

/*
 * GRIDCAL_SIM_PROFILE=FILE (make demo PROFILE=FILE): a shipped site
 * profile driven on the simulated plant instead of the reference one. Its
 * topics, units, control values and readbacks stay the site's; what is
 * this machine's (broker, files, user) and the timing (accelerated, as
 * in profiles/sim.yaml.in) are the test's. The site's own timing section,
 * if any, is dropped: the loader's defaults would be hours.
 */
static char *
site_template(const char *site, const char *sim, char *err, size_t errsz)
{
	static const struct hprofile_kv mine[] = {
		{ "broker.host", "127.0.0.1" }, { "broker.port", "@PORT@" },
		{ "broker.keepalive_s", "5" },
		{ "credentials.watchdog", "@WORKDIR@/watchdog.cred" },
		{ "credentials.supervisor", "@WORKDIR@/supervisor.cred" },
		{ "paths.state_dir", "@WORKDIR@/state" },
		{ "paths.audit_log", "@WORKDIR@/audit.jsonl" },
		{ "paths.supervisor", "@BUILD@/gridcal-supervisor" },
		{ "paths.supervisor_user", "@SUPERVISOR_USER@" },
	};
	struct sbuf in = { 0 }, out = { 0 };
	const char *t, *st = strstr(sim, "\ntiming:\n");
	char *text;
	size_t n;

	if (st == NULL || (text = harness_read_file(site, &n)) == NULL) {
		(void)snprintf(err, errsz, "cannot read %s or its timing",
		    site);
		return NULL;
	}
	/* the site's text up to its top-level timing section, and after */
	t = strncmp(text, "timing:\n", 8) == 0 ? text : strstr(text,
	    "\ntiming:\n");
	sb_add(&in, text, t == NULL ? n : (size_t)(t - text));
	if (t != NULL)
		for (t = strchr(t + 1, '\n'); t != NULL; t = strchr(t + 1, '\n'))
			if (t[1] != ' ' && t[1] != '#' && t[1] != '\n') {
				sb_str(&in, t);
				break;
			}
	sb_str(&in, st);
	free(text);
	if (in.oom || override(in.s, mine, sizeof(mine) / sizeof(mine[0]),
	    &out, err, errsz) == -1) {
		free(in.s);
		free(out.s);
		return NULL;
	}
	free(in.s);
	return out.s;
}

int
hprofile_write(const struct hbroker *b, char *out, size_t outsz,
    const struct hprofile_kv *kv, size_t nkv, char *err, size_t errsz)
{
	char tpath[PATH_MAX], *tmpl, *text;
	int n, r;

	if (harness_path(tpath, sizeof(tpath), "profiles/sim.yaml.in") == -1)
		return -1;
	n = snprintf(out, outsz, "%s/profile.yaml", b->workdir);
	if (n < 0 || (size_t)n >= outsz) {
		(void)snprintf(err, errsz, "profile path too long");
		return -1;
	}
	if ((tmpl = harness_read_file(tpath, NULL)) == NULL) {
		(void)snprintf(err, errsz, "cannot read %s", tpath);
		return -1;
	}
	if (getenv("GRIDCAL_SIM_PROFILE") != NULL &&
	    getenv("GRIDCAL_SIM_PROFILE")[0] != '\0') {
		char *site = site_template(getenv("GRIDCAL_SIM_PROFILE"), tmpl,
		    err, errsz);

		free(tmpl);
		if ((tmpl = site) == NULL)
			return -1;
	}
	r = hprofile_render(tmpl, b, kv, nkv, &text, err, errsz);
	free(tmpl);
	if (r == -1)
		return -1;
	if (prepare_site(b, supervisor_user(kv, nkv), kv, nkv, err, errsz) ==
	    -1) {
		free(text);
		return -1;
	}
	/* Readable by the unprivileged supervisor, writable only by root. */
	r = harness_write_file(out, text, 0644);
	free(text);
	if (r == -1)
		(void)snprintf(err, errsz, "cannot write %s", out);
	return r;
}
