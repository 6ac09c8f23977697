/*
 * Link-time stand-in for watchdog/child.c: no fork, no exec. The parent's
 * side is as in child.c (a real SOCK_SEQPACKET socketpair, our end
 * non-blocking, the flood limit, the phase); the supervisor is the harness,
 * holding the other end. Signals go to the harness's model of the child.
 * Also the stand-in for watchdog/sandbox.c: a fuzzer keeps its privileges
 * and loads no seccomp filter.
 */
#include <sys/socket.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "clock.h"
#include "watchdog.h"
#include "wdfuzz.h"

#define FAKE_PID	424242

void
child_user(void)
{
	wd.child_uid = 1000;
	wd.child_gid = 1000;
}

static pid_t child;
static int64_t kill_at_ms;

int
child_start(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1 ||
	    fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(sv[1], F_SETFL, O_NONBLOCK) == -1 ||
	    wdf_child_start(sv[1]) == -1)
		return -1;
	child = FAKE_PID;
	kill_at_ms = 0;	/* as child.c: a new child owes no SIGKILL */
	return sv[0];
}

int
child_running(void)
{
	return child != 0;
}

/* As child.c: a grace later, SIGKILL unless it was that. */
void
child_kill(int sig)
{
	if (child <= 0)
		return;
	wdf_child_signal(sig);
	if (sig == SIGKILL || kill_at_ms == 0)
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

/* As child.c: reaped, then what it sent before it went is read. */
int
child_reap(void)
{
	if (child <= 0 || !wdf_child_exited())
		return 0;
	child = 0;
	return 1;
}

void
child_gone(void)
{
	(void)WD_AUDIT(AUDIT_EV_CHILD_EXIT, AF_S("status", "signal 9"));
}

/* Its output pipes: none here. */
void
child_pollfd(struct pollfd *pfd)
{
	pfd[0] = pfd[1] = (struct pollfd){ .fd = -1 };
}

void
child_output(void)
{
}

/* watchdog/sandbox.c: no privilege drop, no filter in a fuzzer. */
void
sandbox_init(void)
{
}

void
sandbox_drop(void)
{
}

void
sandbox_seccomp(void)
{
}

int
sandbox_dropped(void)
{
	return 0;
}

uid_t
sandbox_uid(void)
{
	return getuid();
}
