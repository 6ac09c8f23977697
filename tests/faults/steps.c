/*
 * The steps of a scenario: start a watchdog, wait (with a deadline) for a
 * plant state or an observed event, inject a fault. Time-to-safe is
 * measured here: from the last "fault" step to the arrival (at the
 * observer) of the first plant truth showing every unit back in everyday
 * settings.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "faults.h"
#include "harness.h"
#include "parse.h"
#include "run.h"

#define POLL_MS		10
#define GONE_GRACE_MS	2000
#define STATUS_MAX	RUN_FINAL_MAX

static char status_buf[STATUS_MAX];

static void
sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
	    .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
signum(const char *name)
{
	static const struct { const char *n; int s; } sigs[] = {
		{ "KILL", SIGKILL }, { "TERM", SIGTERM }, { "INT", SIGINT },
		{ "STOP", SIGSTOP }, { "CONT", SIGCONT }, { "HUP", SIGHUP },
	};

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (strcmp(name, sigs[i].n) == 0)
			return sigs[i].s;
	return 0;
}

static struct wdproc *
wd_named(struct run *r, const char *name)
{
	for (int i = 0; i < RUN_WATCHDOGS; i++)
		if (strcmp(r->wd_[i].name, name) == 0)
			return &r->wd_[i];
	return NULL;
}

/* ---- processes the runner did not spawn: the watchdog's children ---- */

/* ppid and state of pid from /proc; -1 if gone. */
static int
proc_stat(pid_t pid, pid_t *ppid, char *state)
{
	char path[64], buf[512], *p;
	ssize_t n;
	long pp;
	int fd;

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) S ppid ...": comm may hold anything; use the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == '\0')
		return -1;
	*state = p[2];
	pp = strtol(p + 3, NULL, 10);
	*ppid = (pid_t)pp;
	return 0;
}

/* The first live (not zombie) child of parent, 0 if none. */
static pid_t
child_of(pid_t parent)
{
	DIR *d;
	struct dirent *de;
	pid_t found = 0, pp;
	char st;
	const char *errstr;
	long long v;

	if (parent <= 0 || (d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		v = strtonum(de->d_name, 1, INT32_MAX, &errstr);
		if (errstr != NULL)
			continue;
		if (proc_stat((pid_t)v, &pp, &st) == 0 && pp == parent &&
		    st != 'Z') {
			found = (pid_t)v;
			break;
		}
	}
	(void)closedir(d);
	return found;
}

static void
remember_stray(struct run *r, pid_t pid)
{
	for (int i = 0; i < r->nstrays; i++)
		if (r->strays[i] == pid)
			return;
	if (r->nstrays < (int)(sizeof(r->strays) / sizeof(r->strays[0])))
		r->strays[r->nstrays++] = pid;
}

void
kill_children(struct run *r, pid_t parent, int sig)
{
	pid_t c;

	for (int i = 0; i < 16 && (c = child_of(parent)) > 0; i++) {
		remember_stray(r, c);
		(void)kill(c, sig);
		if (sig != SIGKILL)
			break;
		(void)kill(c, SIGCONT);
		/* Wait until it is a zombie (or reparented and gone). */
		for (int k = 0; k < 200 && child_of(parent) == c; k++)
			sleep_ms(5);
	}
}

/* A supervisor that outlived its watchdog is an error of the pair. */
void
reap_strays(struct run *r)
{
	pid_t pp;
	char st;

	for (int i = 0; i < r->nstrays; i++) {
		if (proc_stat(r->strays[i], &pp, &st) == -1 || st == 'Z')
			continue;
		run_fail(r, "supervisor pid %d still alive after its "
		    "watchdog ended", (int)r->strays[i]);
		(void)kill(r->strays[i], SIGKILL);
	}
}

/* The running watchdog that was started last. */
static struct wdproc *
active_wd(struct run *r)
{
	for (int i = RUN_WATCHDOGS - 1; i >= 0; i--)
		if (r->wd_[i].started && !hproc_poll(&r->wd_[i].p))
			return &r->wd_[i];
	return NULL;
}

static pid_t
supervisor_pid(struct run *r)
{
	struct wdproc *w = active_wd(r);
	pid_t c;

	if (w == NULL)
		return 0;
	if ((c = child_of(w->p.pid)) > 0) {
		w->sup = c;
		remember_stray(r, c);
	}
	return c;
}

/* ---- conditions ---- */

static const char *
plant_truth(struct run *r, int64_t *at)
{
	int64_t a, b;

	do {
		a = hobs_last_at(r->obs, HPLANT_STATUS_TOPIC);
		if (hobs_latest(r->obs, HPLANT_STATUS_TOPIC, status_buf,
		    sizeof(status_buf)) == 0)
			return NULL;
		b = hobs_last_at(r->obs, HPLANT_STATUS_TOPIC);
	} while (a != b);
	if (at != NULL)
		*at = b;
	return status_buf;
}

static bool
proc_exited(struct run *r, const char *name)
{
	struct wdproc *w;
	pid_t pp;
	char st;

	if ((w = wd_named(r, name)) != NULL)
		return w->started && hproc_poll(&w->p);
	if (strcmp(name, "plant") == 0)
		return hproc_poll(&r->plant);
	/*
	 * supervisor: the watchdog recorded its exit, or the one last seen
	 * is gone or a zombie (one that came and went between two looks is
	 * caught by the record).
	 */
	if (audit_has(r, "child_exit", NULL, 0) > 0)
		return true;
	if ((w = active_wd(r)) != NULL && w->sup == 0)
		(void)supervisor_pid(r);
	for (int i = 0; i < RUN_WATCHDOGS; i++) {
		pid_t s = r->wd_[i].sup;

		if (s > 0 && proc_stat(s, &pp, &st) == 0 && st != 'Z')
			return false;
	}
	for (int i = 0; i < RUN_WATCHDOGS; i++)
		if (r->wd_[i].sup > 0)
			return true;
	return false;
}

static const char *
proc_errfile(struct run *r, const char *name, char *buf, size_t sz)
{
	struct wdproc *w;

	if (strcmp(name, "plant") == 0) {
		return run_path(r, buf, sz, r->wd, "plant.err") == 0 ? buf :
		    NULL;
	}
	/* The supervisor writes to its watchdog's stderr. */
	if (strcmp(name, "supervisor") == 0)
		w = active_wd(r) != NULL ? active_wd(r) : &r->wd_[0];
	else
		w = wd_named(r, name);
	if (w == NULL || !w->started)
		return NULL;
	return w->p.err_path;
}

/* Evaluates c->argv[from..] once; *at gets the truth's arrival time. */
static bool
cond_holds(struct run *r, const struct sc_cmd *c, int from, int64_t *at)
{
	const char *w = c->argv[from];
	const char *truth;
	char got[128], path[PATH_MAX];
	const char *f;

	*at = 0;
	if (strcmp(w, "calibrating") == 0 || strcmp(w, "everyday") == 0) {
		if ((truth = plant_truth(r, at)) == NULL)
			return false;
		return w[0] == 'c' ? truth_calibrating(r, truth) :
		    truth_everyday(r, truth);
	}
	if (strcmp(w, "charging") == 0) {
		if ((truth = plant_truth(r, at)) == NULL)
			return false;
		return truth_calibrating(r, truth) && compare(truth,
		    "grid_charging", "==", "1", got, sizeof(got)) == 1;
	}
	if (strcmp(w, "supervisor") == 0)
		return supervisor_pid(r) > 0;
	if (strcmp(w, "exit") == 0)
		return proc_exited(r, c->argv[from + 1]);
	if (strcmp(w, "audit") == 0) {
		char *kv[SC_ARGS_MAX];
		int n = 0;

		for (int i = from + 2; i < c->argc; i++)
			kv[n++] = (char *)(uintptr_t)c->argv[i];
		return audit_has(r, c->argv[from + 1], kv, n) > 0;
	}
	if (strcmp(w, "truth") == 0) {
		if ((truth = plant_truth(r, at)) == NULL)
			return false;
		return compare(truth, c->argv[from + 1],
		    c->argv[from + 2], c->argv[from + 3], got,
		    sizeof(got)) == 1;
	}
	if (strcmp(w, "topic") == 0) {
		if (c->argc - from == 2)
			return hobs_count(r->obs, c->argv[from + 1]) > 0;
		return hobs_seen_payload(r->obs, c->argv[from + 1],
		    c->argv[from + 2]);
	}
	if (strcmp(w, "stderr") == 0) {
		f = proc_errfile(r, c->argv[from + 1], path, sizeof(path));
		return f != NULL && file_contains(f, c->argv[from + 2]);
	}
	return false;
}

static void
describe(const struct sc_cmd *c, int from, char *buf, size_t sz)
{
	buf[0] = '\0';
	for (int i = from; i < c->argc; i++) {
		if (i > from)
			(void)strlcat(buf, " ", sz);
		(void)strlcat(buf, c->argv[i], sz);
	}
}

/* Conditions only a running watchdog (or its child) can still bring. */
static bool
waits_on_watchdog(const char *cond)
{
	return strcmp(cond, "calibrating") == 0 ||
	    strcmp(cond, "charging") == 0 || strcmp(cond, "supervisor") == 0 ||
	    strcmp(cond, "audit") == 0 || strcmp(cond, "everyday") == 0;
}

static bool
no_watchdog_left(struct run *r)
{
	bool any = false;

	for (int i = 0; i < RUN_WATCHDOGS; i++) {
		if (!r->wd_[i].started)
			continue;
		any = true;
		if (!hproc_poll(&r->wd_[i].p))
			return false;
	}
	return any;
}

static int
step_wait(struct run *r, const struct sc_cmd *c)
{
	const char *why;
	double secs;
	int64_t deadline, at, now;
	char what[256];
	int polls = 0;
	int64_t gone_at = 0;

	(void)parse_double(c->argv[2], 0.01, 600, &secs, &why);
	describe(c, 3, what, sizeof(what));
	deadline = harness_now_ms() + (int64_t)(secs * 1000.0);
	for (;;) {
		/* An audit log is re-read: look at it less often. */
		bool heavy = strcmp(c->argv[3], "audit") == 0 ||
		    strcmp(c->argv[3], "stderr") == 0;

		if ((!heavy || polls % 5 == 0) && cond_holds(r, c, 3, &at))
			break;
		polls++;
		now = harness_now_ms();
		if (waits_on_watchdog(c->argv[3]) && no_watchdog_left(r)) {
			if (gone_at == 0)
				gone_at = now;
			/* what it left behind may still be arriving */
			if (now - gone_at > GONE_GRACE_MS) {
				run_fail(r, "line %d: every watchdog exited "
				    "while waiting for: %s", c->lineno, what);
				return -1;
			}
		}
		if (now >= deadline) {
			run_fail(r, "line %d: not within %.1f s: %s",
			    c->lineno, secs, what);
			return -1;
		}
		sleep_ms(POLL_MS);
	}
	now = harness_now_ms();
	run_log(r, "line %d: %s (after %.2f s)", c->lineno, what,
	    (double)(now - (deadline - (int64_t)(secs * 1000.0))) / 1000.0);
	return 0;
}

/* ---- actions ---- */

/*
 * With watchdog-fsize, the watchdog inherits RLIMIT_FSIZE from us from its
 * first instruction: the disk is full before it writes anything. Nothing
 * of ours writes to a file between the two setrlimit calls.
 */
/*
 * With watchdog-slow-sync, the environment adds tests/faults/slowsync.c's
 * shim (build/test-slowsync.so) and its delay; NULL: ours as it is.
 */
static char **
slow_env(struct run *r, char *buf, size_t bufsz, char *ms, size_t mssz)
{
	static char *env[256];
	extern char **environ;
	size_t n = 0;

	if (r->sc->wd_slowsync_ms == 0)
		return NULL;
	if (harness_path(buf + 11, bufsz - 11, "build/test-slowsync.so") == -1)
		return NULL;
	memcpy(buf, "LD_PRELOAD=", 11);
	(void)snprintf(ms, mssz, "GRIDCAL_SLOWSYNC_MS=%lld",
	    (long long)r->sc->wd_slowsync_ms);
	for (char **e = environ; *e != NULL && n < 253; e++)
		if (strncmp(*e, "LD_PRELOAD=", 11) != 0)
			env[n++] = *e;
	env[n++] = buf;
	env[n++] = ms;
	env[n] = NULL;
	run_log(r, "watchdog: %s %s", buf, ms);
	return env;
}

static int
spawn_limited(struct run *r, struct hproc *p, char *argv[], const char *out,
    const char *err)
{
	struct rlimit old, lim;
	char pre[PATH_MAX + 16], ms[48];
	char **env = slow_env(r, pre, sizeof(pre), ms, sizeof(ms));
	int rc;

	if (r->sc->wd_slowsync_ms > 0 && env == NULL)
		return -1;
	if (!r->sc->wd_fsize_set)
		return hproc_spawn(p, argv, env, out, err);
	if (getrlimit(RLIMIT_FSIZE, &old) == -1)
		return -1;
	lim.rlim_cur = lim.rlim_max = (rlim_t)r->sc->wd_fsize;
	/* Lowering the hard limit is for good: only the soft one here. */
	lim.rlim_max = old.rlim_max;
	if (setrlimit(RLIMIT_FSIZE, &lim) == -1)
		return -1;
	rc = hproc_spawn(p, argv, env, out, err);
	if (setrlimit(RLIMIT_FSIZE, &old) == -1)
		abort();	/* we would fail our own writes */
	run_log(r, "%s started with RLIMIT_FSIZE %lld", argv[0],
	    (long long)r->sc->wd_fsize);
	return rc;
}

static int
start_watchdog(struct run *r, const struct sc_cmd *c, int from)
{
	struct wdproc *w = wd_named(r, c->argv[from + 1]);
	char bin[PATH_MAX], out[PATH_MAX], err[PATH_MAX];
	char *argv[SC_ARGS_MAX + 4];
	int n = 0;

	if (w == NULL || w->started) {
		run_fail(r, "line %d: %s already started", c->lineno,
		    c->argv[from + 1]);
		return -1;
	}
	if (harness_path(bin, sizeof(bin), "build/gridcal-watchdog") == -1)
		return -1;
	{
		char o[32], e[32];

		(void)snprintf(o, sizeof(o), "%s.out", w->name);
		(void)snprintf(e, sizeof(e), "%s.err", w->name);
		if (run_path(r, out, sizeof(out), r->wd, o) == -1 ||
		    run_path(r, err, sizeof(err), r->wd, e) == -1)
			return -1;
	}
	argv[n++] = bin;
	argv[n++] = (char *)(uintptr_t)"--profile";
	argv[n++] = r->prof;
	for (int i = from + 2; i < c->argc; i++)
		argv[n++] = (char *)(uintptr_t)c->argv[i];
	argv[n] = NULL;
	if (spawn_limited(r, &w->p, argv, out, err) == -1) {
		run_fail(r, "line %d: cannot start %s", c->lineno, w->name);
		return -1;
	}
	w->started = true;
	run_log(r, "started %s (pid %d)", w->name, (int)w->p.pid);
	return 0;
}

static int
act_kill(struct run *r, const char *who, int sig)
{
	struct wdproc *w;
	pid_t pid;

	if ((w = wd_named(r, who)) != NULL) {
		if (!w->started || hproc_poll(&w->p)) {
			run_fail(r, "kill %s: not running", who);
			return -1;
		}
		(void)supervisor_pid(r);	/* remember it first */
		return hproc_signal(&w->p, sig);
	}
	if (strcmp(who, "plant") == 0)
		return hproc_signal(&r->plant, sig);
	if ((pid = supervisor_pid(r)) <= 0) {
		run_fail(r, "kill supervisor: none running");
		return -1;
	}
	run_log(r, "supervisor is pid %d", (int)pid);
	if (kill(pid, sig) == -1) {
		run_fail(r, "kill %d: %s", (int)pid, strerror(errno));
		return -1;
	}
	return 0;
}

/* Both processes die at once, as in a power cut: watchdog first. */
static int
act_power_loss(struct run *r)
{
	struct wdproc *w = active_wd(r);
	pid_t sup;

	if (w == NULL) {
		run_fail(r, "power-loss: no watchdog running");
		return -1;
	}
	sup = supervisor_pid(r);
	(void)hproc_signal(&w->p, SIGKILL);
	if (sup > 0)
		(void)kill(sup, SIGKILL);
	if (hproc_wait(&w->p, 5000) == -1) {
		run_fail(r, "power-loss: watchdog survived SIGKILL");
		return -1;
	}
	return 0;
}

static int
act_broker(struct run *r, const char *what)
{
	int rc;

	if (strcmp(what, "stop") == 0)
		rc = hbroker_stop(&r->br);
	else if (strcmp(what, "kill") == 0)
		rc = hbroker_kill(&r->br);
	else
		rc = hbroker_restart(&r->br);
	if (rc == -1)
		run_fail(r, "broker %s failed", what);
	return rc;
}

static int
act_publish(struct run *r, const struct sc_cmd *c, int from)
{
	const char *user = c->argv[from + 1], *why;
	bool v5 = strcmp(c->argv[from + 2], "v5") == 0;
	struct hclient *cl;
	int64_t want;
	int reason = -1;

	(void)parse_int64(c->argv[from + 5], 0, 255, &want, &why);
	if ((cl = hclient_connect(&r->br, user, v5, 5000)) == NULL) {
		run_fail(r, "publish: %s cannot connect", user);
		return -1;
	}
	if (hclient_publish(cl, c->argv[from + 3], c->argv[from + 4], 1, false,
	    5000, &reason) == -1) {
		hclient_close(cl);
		run_fail(r, "publish as %s to %s: no PUBACK", user,
		    c->argv[from + 3]);
		return -1;
	}
	hclient_close(cl);
	run_log(r, "published as %s (%s) to %s: reason %d", user,
	    v5 ? "MQTT 5" : "MQTT 3.1.1", c->argv[from + 3], reason);
	if (reason != (int)want) {
		run_fail(r, "publish as %s to %s: PUBACK reason %d, want %lld",
		    user, c->argv[from + 3], reason, (long long)want);
		return -1;
	}
	return 0;
}

/* The disk fills up under the audit log: at most its current size. */
static int
act_fsize(struct run *r, const char *who)
{
	struct wdproc *w = wd_named(r, who);
	struct rlimit rl;
	struct stat st;

	if (w == NULL || !w->started || hproc_poll(&w->p)) {
		run_fail(r, "fsize: %s not running", who);
		return -1;
	}
	if (stat(r->audit_log, &st) == -1) {
		run_fail(r, "fsize: %s: %s", r->audit_log, strerror(errno));
		return -1;
	}
	rl.rlim_cur = rl.rlim_max = (rlim_t)st.st_size;
	if (prlimit(w->p.pid, RLIMIT_FSIZE, &rl, NULL) == -1) {
		run_fail(r, "prlimit %d: %s", (int)w->p.pid, strerror(errno));
		return -1;
	}
	run_log(r, "RLIMIT_FSIZE of %s set to %lld bytes", who,
	    (long long)st.st_size);
	return 0;
}

/* Fills the tmpfs holding the state directory and the audit log. */
static int
act_disk_full(struct run *r)
{
	char path[PATH_MAX], block[4096];
	ssize_t n;
	off_t total = 0;
	int fd;

	if (r->vol[0] == '\0') {
		run_fail(r, "disk-full needs the tmpfs directive");
		return -1;
	}
	if (run_path(r, path, sizeof(path), r->vol, "filler") == -1)
		return -1;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		run_fail(r, "disk-full: %s: %s", path, strerror(errno));
		return -1;
	}
	memset(block, 'x', sizeof(block));
	/* Whole pages first, then single bytes to the last one. */
	while ((n = write(fd, block, sizeof(block))) > 0)
		total += n;
	while ((n = write(fd, block, 1)) > 0)
		total += n;
	if (errno != ENOSPC) {
		run_fail(r, "disk-full: write: %s", strerror(errno));
		(void)close(fd);
		return -1;
	}
	(void)close(fd);
	run_log(r, "filled %s with %lld bytes", r->vol, (long long)total);
	return 0;
}

/* The space disk-full took is given back. */
static int
act_disk_free(struct run *r)
{
	char path[PATH_MAX];

	if (run_path(r, path, sizeof(path), r->vol, "filler") == -1)
		return -1;
	if (unlink(path) == -1) {
		run_fail(r, "disk-free: %s: %s", path, strerror(errno));
		return -1;
	}
	run_log(r, "removed %s", path);
	return 0;
}

/*
 * A record cut short by a power cut during its write: the start of a
 * line and no newline. Only with no watchdog running.
 */
static int
act_tear_audit(struct run *r)
{
	static const char frag[] = "{\"seq\":999999,\"utc\":\"2026-11-25T0";
	ssize_t n;
	int fd;

	if (active_wd(r) != NULL) {
		run_fail(r, "tear-audit: a watchdog is running");
		return -1;
	}
	if ((fd = open(r->audit_log, O_WRONLY | O_APPEND | O_CLOEXEC)) == -1) {
		run_fail(r, "tear-audit: %s: %s", r->audit_log, strerror(errno));
		return -1;
	}
	n = write(fd, frag, sizeof(frag) - 1);
	(void)close(fd);
	if (n != (ssize_t)sizeof(frag) - 1) {
		run_fail(r, "tear-audit: write: %s", strerror(errno));
		return -1;
	}
	run_log(r, "appended a torn record of %zu bytes", sizeof(frag) - 1);
	return 0;
}

static int
step_action(struct run *r, const struct sc_cmd *c, int from)
{
	const char *w = c->argv[from];

	if (strcmp(w, "kill") == 0)
		return act_kill(r, c->argv[from + 1], signum(c->argv[from + 2]));
	if (strcmp(w, "power-loss") == 0)
		return act_power_loss(r);
	if (strcmp(w, "broker") == 0)
		return act_broker(r, c->argv[from + 1]);
	if (strcmp(w, "start") == 0)
		return start_watchdog(r, c, from);
	if (strcmp(w, "publish") == 0)
		return act_publish(r, c, from);
	if (strcmp(w, "fsize") == 0)
		return act_fsize(r, c->argv[from + 1]);
	if (strcmp(w, "disk-full") == 0)
		return act_disk_full(r);
	if (strcmp(w, "tear-audit") == 0)
		return act_tear_audit(r);
	if (strcmp(w, "disk-free") == 0)
		return act_disk_free(r);
	run_fail(r, "line %d: unknown action %s", c->lineno, w);
	return -1;
}

/*
 * The fault happened in another process (a supervisor that exited on its
 * own): its time is the watchdog's record of it, on the same clock.
 */
static int
step_mark(struct run *r, const struct sc_cmd *c)
{
	char *kv[SC_ARGS_MAX];
	int64_t mono;
	int n = 0;

	for (int i = 3; i < c->argc; i++)
		kv[n++] = (char *)(uintptr_t)c->argv[i];
	if (audit_first_mono(r, c->argv[2], kv, n, &mono) == -1) {
		run_fail(r, "line %d: no audit record %s to mark the fault",
		    c->lineno, c->argv[2]);
		return -1;
	}
	r->t_fault = mono;
	run_log(r, "line %d: fault marked at the audit record %s (%.3f s)",
	    c->lineno, c->argv[2], (double)(mono - r->t0) / 1000.0);
	return 0;
}

/* A fault of the plant's own: the clock starts when it left everyday. */
static int
step_mark_unsafe(struct run *r, const struct sc_cmd *c)
{
	int64_t at = tracker_unsafe_since(r);

	if (at < 0) {
		run_fail(r, "line %d: the plant never left everyday settings",
		    c->lineno);
		return -1;
	}
	r->t_fault = at;
	run_log(r, "line %d: fault marked when the plant left everyday "
	    "settings (%.3f s)", c->lineno, (double)(at - r->t0) / 1000.0);
	return 0;
}

void
run_steps(struct run *r)
{
	const struct sc_cmd *c;
	char what[256];
	const char *why;
	double secs;
	int rc;

	for (int i = 0; i < r->sc->nsteps && !r->failed; i++) {
		c = &r->sc->steps[i];
		if (strcmp(c->argv[1], "wait") == 0) {
			rc = step_wait(r, c);
		} else if (strcmp(c->argv[1], "mark") == 0) {
			rc = step_mark(r, c);
		} else if (strcmp(c->argv[1], "mark-unsafe") == 0) {
			rc = step_mark_unsafe(r, c);
		} else if (strcmp(c->argv[1], "hold") == 0) {
			/* A fault's duration (an outage), not a wait for a
			 * condition. */
			(void)parse_double(c->argv[2], 0.01, 120, &secs, &why);
			run_log(r, "line %d: holding the fault %.1f s",
			    c->lineno, secs);
			sleep_ms((int64_t)(secs * 1000.0));
			rc = 0;
		} else {
			describe(c, 2, what, sizeof(what));
			if (strcmp(c->argv[1], "fault") == 0)
				r->t_fault = harness_now_ms();
			run_log(r, "line %d: %s %s", c->lineno, c->argv[1],
			    what);
			rc = step_action(r, c, 2);
		}
		if (rc == -1 && !r->failed)
			run_fail(r, "line %d failed", c->lineno);
	}
}
