/*
 * The supervisor runs as our child with nothing of ours, as OpenSSH's
 * privsep child: a session of its own (no controlling tty: no TIOCSTI into
 * the operator's shell), stdin /dev/null, stdout and stderr into pipes we
 * read and pass on line by line (bounded, control characters replaced),
 * its end of the socketpair as fd 3 and nothing else, a fixed environment,
 * cwd "/", umask 077, no core, no file size, few fds, its own user for
 * good (paths.supervisor_user), no new privileges; it dies with us. The
 * supervisor itself adds what only works after exec (supervisor/sandbox.c:
 * RLIMIT_NPROC 0, RLIMIT_AS, not dumpable, seccomp, Landlock). When it is
 * gone we kill its process group and then whatever still runs as its user.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "watchdog.h"

#define CHILD_FD	3
#define CHILD_NOFILE	64	/* fds 0-3, broker, signalfd, resolver */
#define OUT_LINE	512	/* longer lines are cut */
#define OUT_BUDGET	(1L << 20)	/* bytes passed on per run */
#define SWEEP_ROUNDS	8

struct out {
	int	 fd;
	FILE	*to;
	char	 line[OUT_LINE];
	size_t	 len;
};
static struct out out[2] = { { .fd = -1 }, { .fd = -1 } };
static long out_left = OUT_BUDGET;
static pid_t child;	/* 0: none or reaped */
static pid_t pgrp;	/* the child's process group, kept after reaping */
static int64_t kill_at_ms;	/* SIGKILL a lingering child */
static char status[32];	/* how it ended */

/* Resolves paths.supervisor_user before anything is started. */
void
child_user(void)
{
	struct passwd *pw;

	wd.child_uid = getuid();
	wd.child_gid = getgid();
	if (geteuid() != 0) {
		log_warnx("not root: no privilege separation");
		return;
	}
	log_setfatalstatus(GC_EX_NOPERM);
	if ((pw = getpwnam(wd.pf.supervisor_user)) == NULL ||
	    pw->pw_uid == 0 || pw->pw_gid == 0 ||
	    strcmp(wd.pf.supervisor_user, "nobody") == 0)
		fatalx("%s: paths.supervisor_user %s: %s", wd.pf.path,
		    wd.pf.supervisor_user, pw == NULL ? "no such user" :
		    pw->pw_uid == 0 || pw->pw_gid == 0 ? "is root: refusing "
		    "to run the supervisor as root" : "shared with other "
		    "daemons: create a system user of its own (gridcal)");
	wd.child_uid = pw->pw_uid;
	wd.child_gid = pw->pw_gid;
}

static void __attribute__((noreturn))
die(const char *what)
{
	log_warn("supervisor child: %s", what);
	_exit(127);
}

/* The environment: fixed, nothing of the operator's but TZ and LANG. */
static void
child_env(char **envp, char *tz, char *lang, size_t sz)
{
	const char *v;
	int n = 0;

	envp[n++] = (char *)"PATH=/usr/bin:/bin";
	if ((v = getenv("TZ")) != NULL && snprintf(tz, sz, "TZ=%s", v) > 0 &&
	    strlen(v) + 3 < sz)
		envp[n++] = tz;
	v = getenv("LANG");
	(void)snprintf(lang, sz, "LANG=%s", v != NULL && strlen(v) + 5 < sz ?
	    v : "C");
	envp[n++] = lang;
	envp[n] = NULL;
}

static void
child_limits(void)
{
	static const struct { int res; rlim_t max; } lim[] = {
		{ RLIMIT_CORE, 0 }, { RLIMIT_FSIZE, 0 },
		{ RLIMIT_NOFILE, CHILD_NOFILE },
	};

	for (size_t i = 0; i < sizeof(lim) / sizeof(lim[0]); i++)
		if (setrlimit(lim[i].res, &(struct rlimit){ lim[i].max,
		    lim[i].max }) == -1)
			die("setrlimit");
}

static void
child_fds(int sock, int o, int e)
{
	int nul;

	if ((nul = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
	    dup2(nul, 0) == -1 || dup2(o, 1) == -1 || dup2(e, 2) == -1 ||
	    (sock == CHILD_FD ? fcntl(sock, F_SETFD, 0) :
	    dup2(sock, CHILD_FD)) == -1)
		die("fds");
	closefrom(CHILD_FD + 1);
}

static void __attribute__((noreturn))
child_exec(int sock, int o, int e, char *const argv[])
{
	uid_t uid = wd.child_uid;
	gid_t gid = wd.child_gid;
	pid_t parent = getppid();
	char *envp[4], tz[128], lang[64];
	sigset_t none;

	child_env(envp, tz, lang, sizeof(lang));
	if (sigemptyset(&none) == -1 ||
	    sigprocmask(SIG_SETMASK, &none, NULL) == -1 ||
	    signal(SIGPIPE, SIG_DFL) == SIG_ERR ||
	    signal(SIGXFSZ, SIG_DFL) == SIG_ERR)
		die("signals");
	child_fds(sock, o, e);
	if (setsid() == -1 || chdir("/") == -1)
		die("setsid or chdir");
	(void)umask(077);
	child_limits();
	/* as root, or as the watchdog after sandbox_drop() (its effective
	 * uid and gid are the supervisor's: see sandbox.c) */
	if ((geteuid() == 0 && setgroups(1, &gid) == -1) ||
	    setresgid(gid, gid, gid) == -1 || setresuid(uid, uid, uid) == -1)
		die("dropping privileges");
	if (getuid() != uid || geteuid() != uid || getegid() != gid ||
	    (uid != 0 && setuid(0) != -1))
		die("privileges still held");
	/* no way back up; and it dies with us, even stopped (after setresuid,
	 * which resets the parent-death signal) */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		die("prctl");
	execve(argv[0], argv, envp);
	die(argv[0]);
}

/* Our end of the socketpair, or -1 (logged) if it, a pipe or fork failed. */
int
child_start(void)
{
	char *argv[] = { wd.pf.supervisor_path, "--profile",
	    (char *)wd.profile_arg, "--watchdog-fd", "3", "calibrate",
	    "--method", (char *)wd.method, wd.confirm ? "--confirm" : NULL,
	    NULL };
	int sv[2], po[2], pe[2];

	/* our ends only are non-blocking: the child's stay as it expects */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1 ||
	    pipe2(po, O_CLOEXEC) == -1 || pipe2(pe, O_CLOEXEC) == -1 ||
	    fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(po[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(pe[0], F_SETFL, O_NONBLOCK) == -1 ||
	    (child = fork()) == -1) {
		log_warn("cannot start the supervisor");
		child = 0;
		return -1;
	}
	if (child == 0)
		child_exec(sv[1], po[1], pe[1], argv);
	pgrp = child;
	kill_at_ms = 0;	/* a new child owes no SIGKILL */
	(void)close(sv[1]);
	(void)close(po[1]);
	(void)close(pe[1]);
	out[0] = (struct out){ .fd = po[0], .to = stdout };
	out[1] = (struct out){ .fd = pe[0], .to = stderr };
	return sv[0];
}

int
child_running(void)
{
	return child != 0;
}

/* Sends sig (0: none) to its process group; a grace later, SIGKILL. */
void
child_kill(int sig)
{
	if (child <= 0)	/* never kill(0) or kill(-1) */
		return;
	/* before its setsid() the group is still ours: the child alone */
	if (kill(-child, sig) == -1 && kill(child, sig) == -1 &&
	    errno != ESRCH)
		log_warn("kill %ld", (long)child);
	if (sig == SIGKILL || kill_at_ms == 0)	/* never extended */
		kill_at_ms = sig == SIGKILL ? 0 :
		    mono_ms() + wd.pf.timing.heartbeat_timeout_ms;
}

void
child_tick(int64_t now)
{
	if (child != 0 && kill_at_ms != 0 && now >= kill_at_ms)
		child_kill(SIGKILL);
}

int64_t
child_next(void)
{
	return child != 0 && kill_at_ms != 0 ? kill_at_ms : INT64_MAX;
}

/* 1 if /proc/<name> is a process whose real or saved uid is uid. */
static int
runs_as(const char *name, uid_t uid)
{
	char path[64], line[128];
	unsigned long r, e, s;	/* real, effective, saved */
	int hit = 0;
	FILE *f;

	if (snprintf(path, sizeof(path), "/proc/%s/status", name) >=
	    (int)sizeof(path) || (f = fopen(path, "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Uid: %lu %lu %lu", &r, &e, &s) == 3) {
			hit = r == uid || s == uid;	/* what kill(2) checks */
			break;
		}
	(void)fclose(f);
	return hit;
}

/*
 * After the supervisor: its process group, then every process still
 * running as its user (a grandchild in a session of its own), until none.
 * Only with privilege separation: else its user is ours.
 */
static void
child_sweep(void)
{
	struct dirent *de;
	int n, total = 0;
	DIR *d;

	if (pgrp <= 0 || wd.child_uid == 0 || !sandbox_dropped())
		return;
	(void)kill(-pgrp, SIGKILL);
	for (int round = 0; round < SWEEP_ROUNDS; round++) {
		if ((d = opendir("/proc")) == NULL) {
			log_warn("/proc");
			return;
		}
		n = 0;
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] > '0' && de->d_name[0] <= '9' &&
			    atol(de->d_name) != getpid() &&
			    runs_as(de->d_name, wd.child_uid) &&
			    kill((pid_t)atol(de->d_name), SIGKILL) == 0)
				n++;
		(void)closedir(d);
		if (n == 0)
			break;
		total += n;
	}
	if (total > 0) {
		log_warnx("killed %d processes left running as %s", total,
		    wd.pf.supervisor_user);
		(void)WD_AUDIT("leftover_killed", AF_I("killed", total),
		    AF_S("user", wd.pf.supervisor_user));
	}
}

/* Passes on one line: printable ASCII only (no escapes for a terminal). */
static void
out_flush(struct out *o, int cut)
{
	for (size_t i = 0; i < o->len; i++)
		if (o->line[i] != '\t' && (o->line[i] < 0x20 ||
		    o->line[i] > 0x7e))
			o->line[i] = '?';
	if (out_left > 0)
		(void)fprintf(o->to, "%.*s%s\n", (int)o->len, o->line,
		    cut ? " [cut]" : "");
	else if (out_left == 0)
		log_warnx("supervisor output: over %ld bytes, dropped from "
		    "here on", OUT_BUDGET);
	out_left -= out_left >= 0 ? (long)o->len + 1 : 0;
	if (out_left < 0)
		out_left = -1;
	o->len = 0;
	(void)fflush(o->to);
}

void
child_pollfd(struct pollfd *pfd)
{
	for (int i = 0; i < 2; i++)
		pfd[i] = (struct pollfd){ .fd = out[i].fd, .events = POLLIN };
}

/* Reads what the supervisor wrote; at EOF the pipe is closed. */
void
child_output(void)
{
	char buf[4096];
	ssize_t n = -1;

	for (int i = 0; i < 2; i++) {
		struct out *o = &out[i];

		while (o->fd != -1 && (n = read(o->fd, buf, sizeof(buf))) > 0)
			for (ssize_t k = 0; k < n; k++) {
				if (buf[k] == '\n') {
					out_flush(o, 0);
					continue;
				}
				if (o->len == sizeof(o->line))
					out_flush(o, 1);
				o->line[o->len++] = buf[k];
			}
		if (o->fd != -1 && (n == 0 || errno != EAGAIN)) {
			if (o->len > 0)
				out_flush(o, 0);
			(void)close(o->fd);
			o->fd = -1;
		}
	}
}

/* SIGCHLD: 1 if it is reaped now (its pid may be someone else's next). */
int
child_reap(void)
{
	int st;

	/* signals arrive through signalfd: no EINTR here */
	if (child <= 0 || waitpid(child, &st, WNOHANG) != child)
		return 0;
	(void)snprintf(status, sizeof(status), "%s %d", WIFEXITED(st) ?
	    "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	child = 0;
	return 1;
}

/* After what it sent before it went was read: say so, sweep, drain. */
void
child_gone(void)
{
	log_info("supervisor %s", status);
	(void)WD_AUDIT(AUDIT_EV_CHILD_EXIT, AF_S("status", status));
	child_sweep();
	child_output();
}
