/*
 * test-faults: runs fault scenarios (tests/faults/NAME.fault) against real
 * parts and prints, per scenario, what was expected, what was observed,
 * the time from the fault to the plant being back in everyday settings,
 * and PASS/FAIL; then "N passed, M failed". Exit status 1 if any failed.
 *
 * Each scenario runs in a child process of its own, so the harness's
 * cleanup at exit (processes, work directories) and any mount it made are
 * per scenario, and a crash in one cannot take the others with it.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "faults.h"
#include "harness.h"

#define EX_USAGE_	64
#define SUITE_FILE	"tests/faults/SUITE"
#define LOG_DIR		"build/faults"
#define MAX_SCENARIOS	128
#define JOBS_MAX	4
/* Last resort if a scenario's own deadlines did not end it. */
#define CHILD_LIMIT_MS	(5 * 60 * 1000)

struct job {
	struct scenario	*sc;		/* NULL: did not parse */
	char		 arg[PATH_MAX];	/* as named */
	char		 perr[512];
	struct sc_result res;
	pid_t		 pid;
	int		 rfd;
	int64_t		 started;
	bool		 done;
};

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: test-faults [-ln] [-j jobs] [SCENARIO ...]\n"
	    "\n"
	    "Runs fault scenarios against a real broker, gridcal-plant,\n"
	    "gridcal-watchdog and a supervisor, from the repository root.\n"
	    "SCENARIO is a file, or NAME for tests/faults/NAME.fault; with\n"
	    "none, the scenarios listed in " SUITE_FILE " run.\n"
	    "\n"
	    "  -j jobs   scenarios run at once (1..%d, default 2)\n"
	    "  -l        run nothing: list, per hazard, the scenarios that\n"
	    "            exercise it\n"
	    "  -n        run nothing: parse the scenarios, print the first\n"
	    "            error of each that does not parse (exit 1 if any)\n"
	    "\n"
	    "Detailed logs: " LOG_DIR "/NAME.log. GRIDCAL_KEEP_WORKDIR=1\n"
	    "keeps each scenario's work directory. Exit status: 0 all passed\n"
	    "(or skipped), 1 a scenario failed, 64 usage.\n", JOBS_MAX);
	exit(status);
}

static int
resolve(const char *arg, char *path, size_t sz)
{
	char rel[PATH_MAX];

	if (strchr(arg, '/') != NULL || strstr(arg, ".fault") != NULL) {
		if (strlcpy(path, arg, sz) >= sz)
			return -1;
		return 0;
	}
	if (snprintf(rel, sizeof(rel), "tests/faults/%s.fault", arg) >=
	    (int)sizeof(rel))
		return -1;
	return harness_path(path, sz, rel);
}

/* The default list: one name per line, '#' comments. */
static int
read_suite(struct job *jobs, int max)
{
	char path[PATH_MAX], line[256], *p, *e;
	FILE *fp;
	int n = 0, lineno = 0;

	if (harness_path(path, sizeof(path), SUITE_FILE) == -1)
		exit(1);
	if ((fp = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		p = line + strspn(line, " \t\r\n");
		e = p + strcspn(p, " \t\r\n");
		if (*e != '\0' && e[strspn(e, " \t\r\n")] != '\0')
			errx(1, "%s:%d: one scenario name per line", path,
			    lineno);
		*e = '\0';
		if (*p == '\0')
			continue;
		if (n == max)
			errx(1, "%s: more than %d scenarios", path, max);
		(void)strlcpy(jobs[n++].arg, p, sizeof(jobs[0].arg));
	}
	(void)fclose(fp);
	return n;
}

static void
child(struct job *j, int wfd)
{
	char logpath[PATH_MAX];
	FILE *log;
	ssize_t n;

	(void)snprintf(logpath, sizeof(logpath), "%s/%s.log", LOG_DIR,
	    j->sc->name);
	if ((log = fopen(logpath, "w")) == NULL)
		log = stderr;
	/* Harness warnings and tools' chatter go to the scenario's log. */
	if (log != stderr) {
		fflush(stdout);
		(void)dup2(fileno(log), STDOUT_FILENO);
		(void)dup2(fileno(log), STDERR_FILENO);
	}
	scenario_run(j->sc, log, &j->res);
	do {
		n = write(wfd, &j->res, sizeof(j->res));
	} while (n == -1 && errno == EINTR);
	if (log != stderr)
		(void)fclose(log);
	exit(n == (ssize_t)sizeof(j->res) ? 0 : 1);
}

static int
launch(struct job *j)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) == -1)
		err(1, "pipe");
	fflush(stdout);
	fflush(stderr);
	if ((j->pid = fork()) == -1)
		err(1, "fork");
	if (j->pid == 0) {
		(void)close(p[0]);
		child(j, p[1]);
	}
	(void)close(p[1]);
	j->rfd = p[0];
	j->started = harness_now_ms();
	return 0;
}

static void
collect(struct job *j, int status)
{
	ssize_t n;

	do {
		n = read(j->rfd, &j->res, sizeof(j->res));
	} while (n == -1 && errno == EINTR);
	(void)close(j->rfd);
	j->done = true;
	if (n != (ssize_t)sizeof(j->res)) {
		memset(&j->res, 0, sizeof(j->res));
		j->res.verdict = V_FAIL;
		j->res.ttsafe_ms = -1;
		(void)snprintf(j->res.why, sizeof(j->res.why),
		    "runner child died (%s %d) without a result",
		    WIFSIGNALED(status) ? "signal" : "exit",
		    WIFSIGNALED(status) ? WTERMSIG(status) :
		    WEXITSTATUS(status));
		(void)strlcpy(j->res.observed, "runner crashed",
		    sizeof(j->res.observed));
		j->res.wall_ms = harness_now_ms() - j->started;
	}
}

static const char *
verdict_name(enum sc_verdict v)
{
	return v == V_PASS ? "PASS" : v == V_SKIP ? "SKIP" : "FAIL";
}

static void
progress(const struct job *j, int idx, int total)
{
	printf("[%2d/%d] %-28s %s  %5.1f s%s%s\n", idx, total,
	    j->sc != NULL ? j->sc->name : j->arg, verdict_name(j->res.verdict),
	    (double)j->res.wall_ms / 1000.0,
	    j->res.verdict != V_PASS ? "  " : "",
	    j->res.verdict != V_PASS ? j->res.why : "");
	fflush(stdout);
}

static void
run_all(struct job *jobs, int n, int njobs)
{
	int next = 0, running = 0, finished = 0, status;
	pid_t pid;

	while (finished < n) {
		while (running < njobs && next < n) {
			if (jobs[next].sc == NULL) {
				jobs[next].done = true;
				finished++;
				progress(&jobs[next], finished, n);
				next++;
				continue;
			}
			(void)launch(&jobs[next++]);
			running++;
		}
		if (running == 0)
			continue;
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == -1 && errno != EINTR)
			err(1, "waitpid");
		if (pid <= 0) {
			for (int i = 0; i < next; i++)
				if (!jobs[i].done && jobs[i].pid > 0 &&
				    harness_now_ms() - jobs[i].started >
				    CHILD_LIMIT_MS) {
					warnx("%s: over %d s, killing",
					    jobs[i].sc->name,
					    CHILD_LIMIT_MS / 1000);
					(void)kill(jobs[i].pid, SIGKILL);
					jobs[i].started = INT64_MAX / 2;
				}
			usleep(20000);
			continue;
		}
		for (int i = 0; i < next; i++) {
			if (jobs[i].pid != pid || jobs[i].done)
				continue;
			collect(&jobs[i], status);
			running--;
			finished++;
			progress(&jobs[i], finished, n);
		}
	}
}

static void
format_ttsafe(const struct sc_result *r, char *buf, size_t sz)
{
	if (r->ttsafe_ms < 0)
		(void)strlcpy(buf, "-", sz);
	else if (r->ratio > 0)
		(void)snprintf(buf, sz, "%.2f s (%.2f x %s)",
		    (double)r->ttsafe_ms / 1000.0, r->ratio, r->ratio_ref);
	else
		(void)snprintf(buf, sz, "%.2f s",
		    (double)r->ttsafe_ms / 1000.0);
}

static void
table(const struct job *jobs, int n, int64_t wall_ms)
{
	int pass = 0, fail = 0, skip = 0;
	char tts[64];

	printf("\n%-26s %-48s %-56s %-24s %s\n", "scenario", "expected",
	    "observed", "time-to-safe", "result");
	for (int i = 0; i < n; i++) {
		const struct job *j = &jobs[i];

		format_ttsafe(&j->res, tts, sizeof(tts));
		printf("%-26s %-48s %-56s %-24s %s\n",
		    j->sc != NULL ? j->sc->name : j->arg,
		    j->sc != NULL ? j->sc->expected : "(scenario file)",
		    j->res.observed[0] ? j->res.observed : "-", tts,
		    verdict_name(j->res.verdict));
		if (j->res.verdict == V_PASS)
			pass++;
		else if (j->res.verdict == V_SKIP)
			skip++;
		else
			fail++;
	}
	for (int i = 0; i < n; i++) {
		const struct job *j = &jobs[i];

		if (j->res.verdict == V_PASS)
			continue;
		printf("%s %s: %s", verdict_name(j->res.verdict),
		    j->sc != NULL ? j->sc->name : j->arg, j->res.why);
		if (j->sc != NULL && j->res.verdict == V_FAIL)
			printf(" (log: %s/%s.log)", LOG_DIR, j->sc->name);
		printf("\n");
	}
	printf("\nsuite wall time %.1f s\n", (double)wall_ms / 1000.0);
	if (skip > 0)
		printf("%d skipped\n", skip);
	printf("%d passed, %d failed\n", pass, fail);
}

/* "H2" before "H10": by letters, then by number. */
static int
hazard_cmp(const void *a, const void *b)
{
	const char *x = a, *y = b;
	size_t nx = strcspn(x, "0123456789"), ny = strcspn(y, "0123456789");
	int c;

	if (nx != ny || (c = strncmp(x, y, nx)) != 0)
		return strcmp(x, y);
	if (strlen(x + nx) != strlen(y + ny))
		return strlen(x + nx) < strlen(y + ny) ? -1 : 1;
	return strcmp(x + nx, y + ny);
}

/* Hazard id, then the scenarios naming it, in SUITE order. */
static int
list_hazards(const struct job *jobs, int n)
{
	char seen[64][16];
	int nseen = 0, bad = 0;

	for (int i = 0; i < n; i++) {
		if (jobs[i].sc == NULL) {
			fprintf(stderr, "%s\n", jobs[i].perr);
			bad = 1;
			continue;
		}
		for (int h = 0; h < jobs[i].sc->nhazards; h++) {
			int k;

			for (k = 0; k < nseen; k++)
				if (strcmp(seen[k], jobs[i].sc->hazards[h]) == 0)
					break;
			if (k == nseen && nseen < 64)
				(void)strlcpy(seen[nseen++],
				    jobs[i].sc->hazards[h], sizeof(seen[0]));
		}
	}
	qsort(seen, (size_t)nseen, sizeof(seen[0]), hazard_cmp);
	for (int k = 0; k < nseen; k++) {
		printf("%s:", seen[k]);
		for (int i = 0; i < n; i++) {
			if (jobs[i].sc == NULL)
				continue;
			for (int h = 0; h < jobs[i].sc->nhazards; h++)
				if (strcmp(seen[k], jobs[i].sc->hazards[h]) == 0)
					printf(" %s", jobs[i].sc->name);
		}
		printf("\n");
	}
	return bad;
}

int
main(int argc, char *argv[])
{
	static struct job jobs[MAX_SCENARIOS];
	const char *errstr = NULL;
	char path[PATH_MAX], logdir[PATH_MAX];
	int ch, n = 0, njobs = 2, failed = 0;
	bool list = false, parse_only = false;
	int64_t t0 = harness_now_ms();

	while ((ch = getopt(argc, argv, "j:lnh")) != -1) {
		switch (ch) {
		case 'n':
			parse_only = true;
			break;
		case 'l':
			list = true;
			break;
		case 'j':
			njobs = (int)strtonum(optarg, 1, JOBS_MAX, &errstr);
			if (errstr != NULL)
				errx(EX_USAGE_, "-j %s: %s", optarg, errstr);
			break;
		case 'h':
			usage(0);
		default:
			usage(EX_USAGE_);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > MAX_SCENARIOS)
		errx(EX_USAGE_, "more than %d scenarios", MAX_SCENARIOS);
	if (argc == 0)
		n = read_suite(jobs, MAX_SCENARIOS);
	else
		for (n = 0; n < argc; n++)
			(void)strlcpy(jobs[n].arg, argv[n], sizeof(jobs[0].arg));
	if (harness_path(logdir, sizeof(logdir), LOG_DIR) == -1)
		return 1;
	if (mkdir(logdir, 0755) == -1 && errno != EEXIST)
		err(1, "mkdir %s", logdir);
	if (chdir(harness_root()) == -1)
		err(1, "chdir %s", harness_root());
	(void)signal(SIGPIPE, SIG_IGN);

	/* Parse every scenario first: a broken file fails, loudly. */
	for (int i = 0; i < n; i++) {
		struct job *j = &jobs[i];

		j->res.ttsafe_ms = -1;
		if ((j->sc = calloc(1, sizeof(*j->sc))) == NULL)
			err(1, "calloc");
		if (resolve(j->arg, path, sizeof(path)) == -1 ||
		    scenario_load(path, j->sc, j->perr, sizeof(j->perr)) == -1) {
			if (j->perr[0] == '\0')
				(void)snprintf(j->perr, sizeof(j->perr),
				    "%s: bad name", j->arg);
			free(j->sc);
			j->sc = NULL;
			j->res.verdict = V_FAIL;
			(void)strlcpy(j->res.why, j->perr, sizeof(j->res.why));
			(void)strlcpy(j->res.observed, "does not parse",
			    sizeof(j->res.observed));
		}
	}
	if (list)
		return list_hazards(jobs, n);
	if (parse_only) {
		for (int i = 0; i < n; i++)
			if (jobs[i].sc == NULL) {
				printf("%s\n", jobs[i].perr);
				failed++;
			}
		return failed > 0 ? 1 : 0;
	}
	printf("fault suite: %d scenario%s, %d at a time\n", n,
	    n == 1 ? "" : "s", njobs);
	fflush(stdout);
	run_all(jobs, n, njobs);
	table(jobs, n, harness_now_ms() - t0);
	for (int i = 0; i < n; i++) {
		if (jobs[i].res.verdict == V_FAIL)
			failed++;
		free(jobs[i].sc);
	}
	return failed > 0 ? 1 : 0;
}
