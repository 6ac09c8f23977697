/*
 * The peer: Node-RED 4.x (npm install node-red@4 into build/nodered, see
 * mk/90-bench.mk) running the guard flow of tests/bench/nodered/
 * flows.json.in -- mqtt in on the telemetry, switch on the cell-voltage
 * topic, switch on the value above the abort limit, change the payload to
 * the everyday output priority, mqtt out (QoS 1) -- logged in as the
 * harness's "watchdog" user, like the floor.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "profile.h"
#include "report.h"

extern char **environ;

#define RED_JS	"build/nodered/node_modules/node-red/red.js"
#define RED_PKG	"build/nodered/node_modules/node-red/package.json"
#define FLOWS	"tests/bench/nodered/flows.json.in"
#define SETTINGS "tests/bench/nodered/settings.js"

/* A free TCP port on 127.0.0.1 for Node-RED's (unused) HTTP listener. */
static int
free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, port = -1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	(void)close(fd);
	return port;
}

/* Appends s to the malloc'd *buf. */
static int
append(char **buf, size_t *len, const char *s, size_t n)
{
	char *nb = realloc(*buf, *len + n + 1);

	if (nb == NULL)
		return -1;
	memcpy(nb + *len, s, n);
	*len += n;
	nb[*len] = '\0';
	*buf = nb;
	return 0;
}

/* The template with every @KEY@ replaced; NULL on error. */
static char *
substitute(const char *tmpl, const char *const kv[][2], int nkv)
{
	char *out = NULL;
	size_t len = 0;
	const char *p = tmpl;

	if (append(&out, &len, "", 0) == -1)
		return NULL;
	while (*p != '\0') {
		const char *at = strchr(p, '@');
		int i;

		if (at == NULL) {
			if (append(&out, &len, p, strlen(p)) == -1)
				goto fail;
			break;
		}
		if (append(&out, &len, p, (size_t)(at - p)) == -1)
			goto fail;
		for (i = 0; i < nkv; i++) {
			size_t kl = strlen(kv[i][0]);

			if (strncmp(at + 1, kv[i][0], kl) == 0 &&
			    at[1 + kl] == '@') {
				if (append(&out, &len, kv[i][1],
				    strlen(kv[i][1])) == -1)
					goto fail;
				p = at + kl + 2;
				break;
			}
		}
		if (i == nkv) {
			if (append(&out, &len, "@", 1) == -1)
				goto fail;
			p = at + 1;
		}
	}
	return out;
fail:
	free(out);
	return NULL;
}

/*
 * From the profile's cell_voltage_max template: the MQTT wildcard of the
 * telemetry ("+" for the level holding {i}) and a regular expression for
 * the cell topics (regex characters bracketed, so the JSON needs no
 * backslash).
 */
static int
patterns(const char *tmpl, char *wild, size_t wsz, char *re, size_t rsz)
{
	size_t w = 0, r = 0;
	const char *p;

	if (rsz < 2)
		return -1;
	re[r++] = '^';
	for (p = tmpl; *p != '\0'; p++) {
		if (strncmp(p, "{i}", 3) == 0) {
			const char *q = "[0-9]+";

			for (; *q != '\0'; q++) {
				if (r + 2 >= rsz)
					return -1;
				re[r++] = *q;
			}
			p += 2;
			continue;
		}
		if (strchr(".^$*+?()[]{}|\\", *p) != NULL) {
			if (r + 4 >= rsz)
				return -1;
			re[r++] = '[';
			re[r++] = *p;
			re[r++] = ']';
		} else {
			if (r + 2 >= rsz)
				return -1;
			re[r++] = *p;
		}
	}
	re[r++] = '$';
	re[r] = '\0';
	/* the wildcard: copy levels, "+" for the one with {i} */
	for (p = tmpl; *p != '\0'; ) {
		size_t n = strcspn(p, "/");
		int has = memmem(p, n, "{i}", 3) != NULL;

		if (has) {
			if (w + 2 >= wsz)
				return -1;
			wild[w++] = '+';
		} else {
			if (w + n + 1 >= wsz)
				return -1;
			memcpy(wild + w, p, n);
			w += n;
		}
		p += n;
		if (*p == '/') {
			wild[w++] = '/';
			p++;
		}
	}
	wild[w] = '\0';
	return 0;
}

/* dir/name into buf; -1 if it does not fit. */
static int
joinp(char *buf, size_t sz, const char *dir, const char *name)
{
	int n = snprintf(buf, sz, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= sz ? -1 : 0;
}

static void
read_version(void)
{
	char path[PATH_MAX], *text, *v;

	if (harness_path(path, sizeof(path), RED_PKG) == -1 ||
	    (text = harness_read_file(path, NULL)) == NULL)
		return;
	if ((v = strstr(text, "\"version\"")) != NULL &&
	    (v = strchr(v + 9, '"')) != NULL) {
		size_t n = strcspn(v + 1, "\"");

		if (n < sizeof(R.peer_version)) {
			memcpy(R.peer_version, v + 1, n);
			R.peer_version[n] = '\0';
		}
	}
	free(text);
}

static int
find_node(char *buf, size_t sz)
{
	const char *path = getenv("PATH");
	char dirs[4096];

	if (path == NULL || strlcpy(dirs, path, sizeof(dirs)) >= sizeof(dirs))
		(void)strlcpy(dirs, "/usr/local/bin:/usr/bin", sizeof(dirs));
	for (char *d = strtok(dirs, ":"); d != NULL; d = strtok(NULL, ":")) {
		int n = snprintf(buf, sz, "%s/node", d);

		if (n > 0 && (size_t)n < sz && access(buf, X_OK) == 0)
			return 0;
	}
	return -1;
}

int
peer_start(const struct hbroker *br, const struct profile *pf,
    const char *workdir, const char *out_topic, struct hproc *proc)
{
	static char *envp[512];
	static char portenv[64];
	char red[PATH_MAX], settings[PATH_MAX], flows_in[PATH_MAX];
	char node[PATH_MAX], dir[PATH_MAX], path[PATH_MAX], out[PATH_MAX];
	char errp[PATH_MAX], port[16], limit[32], wild[PROFILE_TOPIC_MAX];
	char re[3 * PROFILE_TOPIC_MAX], *tmpl, *flows, cred[512];
	const char *pass = hbroker_password(br, "watchdog");
	int nrport;
	size_t n = 0;

	if (harness_path(red, sizeof(red), RED_JS) == -1 ||
	    harness_path(settings, sizeof(settings), SETTINGS) == -1 ||
	    harness_path(flows_in, sizeof(flows_in), FLOWS) == -1)
		return -1;
	if (access(red, R_OK) == -1) {
		note("peer: %s missing (make bench-peer installs it)", RED_JS);
		return -1;
	}
	if (find_node(node, sizeof(node)) == -1) {
		note("peer: no node in PATH");
		return -1;
	}
	read_version();
	if (patterns(pf->pack_field[PF_CELL_VOLTAGE_MAX].topic, wild,
	    sizeof(wild), re, sizeof(re)) == -1 || pass == NULL ||
	    strpbrk(pass, "\"\\") != NULL)
		return -1;
	(void)snprintf(port, sizeof(port), "%u", (unsigned)br->port);
	(void)snprintf(limit, sizeof(limit), "%g", pf->limits.abort_cell_v);
	{
		const char *const kv[][2] = {
			{ "PORT", port }, { "TELEMETRY", wild },
			{ "CELL_REGEX", re }, { "LIMIT", limit },
			{ "PAYLOAD", pf->control[SETTING_OUTPUT_PRIORITY]
			    .value[VALUE_EVERYDAY] },
			{ "OUT", out_topic },
		};

		if ((tmpl = harness_read_file(flows_in, NULL)) == NULL)
			return -1;
		flows = substitute(tmpl, kv, (int)(sizeof(kv) / sizeof(kv[0])));
		free(tmpl);
		if (flows == NULL)
			return -1;
	}
	if (joinp(dir, sizeof(dir), workdir, "nodered") == -1 ||
	    mkdir(dir, 0700) == -1 ||
	    joinp(path, sizeof(path), dir, "flows.json") == -1 ||
	    harness_write_file(path, flows, 0600) == -1) {
		free(flows);
		return -1;
	}
	free(flows);
	(void)snprintf(cred, sizeof(cred),
	    "{\"gc_broker\": {\"user\": \"%s\", \"password\": \"%s\"}}\n",
	    hbroker_mqtt_user("watchdog"), pass);
	if (joinp(path, sizeof(path), dir, "flows_cred.json") == -1 ||
	    harness_write_file(path, cred, 0600) == -1) {
		explicit_bzero(cred, sizeof(cred));
		return -1;
	}
	explicit_bzero(cred, sizeof(cred));

	if ((nrport = free_port()) == -1)
		return -1;
	(void)snprintf(portenv, sizeof(portenv), "GRIDCAL_NR_PORT=%d", nrport);
	for (char **e = environ; *e != NULL && n < 500; e++)
		envp[n++] = *e;
	envp[n++] = portenv;
	envp[n] = NULL;
	if (joinp(out, sizeof(out), workdir, "nodered.out") == -1 ||
	    joinp(errp, sizeof(errp), workdir, "nodered.err") == -1)
		return -1;
	{
		char *argv[] = { node, red, (char *)"--userDir", dir,
		    (char *)"--settings", settings, NULL };

		return hproc_spawn(proc, argv, envp, out, errp);
	}
}
