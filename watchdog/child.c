/*
 * The supervisor runs as our child with nothing of ours: fds 0-2 and its
 * end of the socketpair (fd 3) only, privileges dropped to
 * paths.supervisor_user for good, so it cannot read the control
 * credentials; it does not outlive us.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "watchdog.h"

#define CHILD_FD	3

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
	log_setfatalstatus(WD_EX_NOPERM);
	if ((pw = getpwnam(wd.pf.supervisor_user)) == NULL ||
	    pw->pw_uid == 0 || pw->pw_gid == 0)
		fatalx("%s: paths.supervisor_user %s: %s", wd.pf.path,
		    wd.pf.supervisor_user, pw == NULL ? "no such user" :
		    "is root: refusing to run the supervisor as root");
	wd.child_uid = pw->pw_uid;
	wd.child_gid = pw->pw_gid;
}

static void __attribute__((noreturn))
die(const char *what)
{
	log_warn("supervisor child: %s", what);
	_exit(127);
}

static void __attribute__((noreturn))
child_exec(int fd, char *const argv[])
{
	uid_t uid = wd.child_uid;
	pid_t parent = getppid();
	sigset_t none;

	if (sigemptyset(&none) == -1 ||
	    sigprocmask(SIG_SETMASK, &none, NULL) == -1 ||
	    signal(SIGPIPE, SIG_DFL) == SIG_ERR ||
	    signal(SIGXFSZ, SIG_DFL) == SIG_ERR ||
	    (fd == CHILD_FD ? fcntl(fd, F_SETFD, 0) : dup2(fd, CHILD_FD)) == -1)
		die("signals or socket");
	closefrom(CHILD_FD + 1);
	if (geteuid() == 0 && (setgroups(1, &wd.child_gid) == -1 ||
	    setresgid(wd.child_gid, wd.child_gid, wd.child_gid) == -1 ||
	    setresuid(uid, uid, uid) == -1))
		die("dropping privileges");
	if (getuid() != uid || geteuid() != uid || getegid() != wd.child_gid ||
	    (uid != 0 && setuid(0) != -1))
		die("privileges still held");
	/* no way back up; and it dies with us, even stopped (after setresuid,
	 * which resets the parent-death signal) */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		die("prctl");
	execv(argv[0], argv);
	die(argv[0]);
}

/* Returns 0, or -1 (logged) if the socketpair or fork failed. */
int
child_start(void)
{
	char *argv[] = { wd.pf.supervisor_path, "--profile",
	    (char *)wd.profile_arg, "--watchdog-fd", "3", "calibrate",
	    "--method", (char *)wd.method, wd.confirm ? "--confirm" : NULL,
	    NULL };
	int sv[2];

	/* our end only is non-blocking: the child's stays as it expects */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1 ||
	    fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1 ||
	    (wd.child = fork()) == -1) {
		log_warn("cannot start the supervisor");
		wd.child = 0;
		return -1;
	}
	if (wd.child == 0)
		child_exec(sv[1], argv);
	(void)close(sv[1]);
	proto_chan_init(&wd.chan, sv[0], &proto_watchdog);
	wd.chan.rx_per_s = WD_FLOOD_PER_S;
	wd.chan_open = 1;
	wd.phase = PH_HELLO;
	wd.run_start_ms = wd.last_hb_ms = mono_ms();
	return 0;
}

/* Sends sig (0: none); a grace later, SIGKILL unless it was that. */
void
child_kill(int sig)
{
	if (wd.child <= 0)	/* never kill(0) or kill(-1) */
		return;
	if (kill(wd.child, sig) == -1 && errno != ESRCH)
		log_warn("kill %ld", (long)wd.child);
	if (sig == SIGKILL || wd.kill_at_ms == 0)	/* never extended */
		wd.kill_at_ms = sig == SIGKILL ? 0 :
		    mono_ms() + wd.pf.timing.heartbeat_timeout_ms;
}

/* SIGCHLD: reap, read what it sent before it went, then treat as EOF. */
void
child_reap(int64_t now)
{
	char st[32];
	int status;

	/* signals arrive through signalfd: no EINTR here */
	if (wd.child <= 0 || waitpid(wd.child, &status, WNOHANG) != wd.child)
		return;
	(void)snprintf(st, sizeof(st), "%s %d", WIFEXITED(status) ? "exit" :
	    "signal", WIFEXITED(status) ? WEXITSTATUS(status) :
	    WTERMSIG(status));
	mon_read(now);
	wd.child = 0;	/* reaped: its pid may be someone else's now */
	log_info("supervisor %s", st);
	(void)WD_AUDIT(AUDIT_EV_CHILD_EXIT, AF_S("status", st));
	if (wd.chan_open)
		mon_eof("supervisor exited", now);
}
