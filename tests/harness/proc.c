/*
 * Child processes: fork/exec rather than posix_spawn so the child can ask
 * for SIGKILL when the test process dies (PR_SET_PDEATHSIG) and drop every
 * inherited descriptor (libmosquitto sockets of the observer thread).
 * Between fork and exec only async-signal-safe calls are made.
 */
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "harness_int.h"

extern char **environ;

static int
open_out(const char *path)
{
	int fd;

	if (path == NULL)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd == -1)
		hwarn("open %s", path);
	return fd;
}

static void __attribute__((noreturn))
child(char *const argv[], char *const envp[], int in, int out, int err,
    pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(127);
	/* Signals the test blocked or ignored must not leak into the child. */
	sigset_t none;
	(void)sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)signal(SIGPIPE, SIG_DFL);
	(void)signal(SIGTERM, SIG_DFL);
	(void)signal(SIGINT, SIG_DFL);
	if (dup2(in, 0) == -1)
		_exit(127);
	if (out != -1 && dup2(out, 1) == -1)
		_exit(127);
	if (err != -1 && dup2(err, 2) == -1)
		_exit(127);
	if (close_range(3, ~0U, 0) == -1)
		for (int fd = 3; fd < 4096; fd++)
			(void)close(fd);
	execve(argv[0], argv, envp != NULL ? envp : environ);
	_exit(127);
}

int
hproc_spawn(struct hproc *p, char *const argv[], char *const envp[],
    const char *out_path, const char *err_path)
{
	int in, out = -1, err = -1;
	char tmp[PATH_MAX];
	pid_t parent = getpid(), pid;

	memset(p, 0, sizeof(*p));
	(void)strlcpy(tmp, argv[0], sizeof(tmp));
	(void)strlcpy(p->name, basename(tmp), sizeof(p->name));
	if (access(argv[0], X_OK) == -1) {
		hwarn("%s", argv[0]);
		return -1;
	}
	if ((in = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		hwarn("/dev/null");
		return -1;
	}
	if ((out_path != NULL && (out = open_out(out_path)) == -1) ||
	    (err_path != NULL && (err = open_out(err_path)) == -1))
		goto fail;
	if (out_path != NULL)
		(void)strlcpy(p->out_path, out_path, sizeof(p->out_path));
	if (err_path != NULL)
		(void)strlcpy(p->err_path, err_path, sizeof(p->err_path));
	switch (pid = fork()) {
	case -1:
		hwarn("fork");
		goto fail;
	case 0:
		child(argv, envp, in, out, err, parent);
	default:
		break;
	}
	p->pid = pid;
	harness_reg_pid(pid);
	(void)close(in);
	if (out != -1)
		(void)close(out);
	if (err != -1)
		(void)close(err);
	return 0;
fail:
	(void)close(in);
	if (out != -1)
		(void)close(out);
	if (err != -1)
		(void)close(err);
	return -1;
}

bool
hproc_poll(struct hproc *p)
{
	int status;
	pid_t r;

	if (p->exited)
		return true;
	if (p->pid <= 0)
		return false;
	while ((r = waitpid(p->pid, &status, WNOHANG)) == -1 && errno == EINTR)
		;
	if (r == p->pid) {
		harness_unreg_pid(p->pid);
		p->status = status;
		p->exited = true;
		p->pid = 0;
		return true;
	}
	if (r == -1)
		hwarn("waitpid %s", p->name);
	return false;
}

int
hproc_wait(struct hproc *p, int64_t timeout_ms)
{
	int64_t deadline = harness_now_ms() + timeout_ms;

	for (;;) {
		if (hproc_poll(p))
			return 0;
		if (harness_now_ms() >= deadline)
			return -1;
		harness_sleep_ms(2);
	}
}

int
hproc_signal(struct hproc *p, int sig)
{
	if (p->exited || p->pid <= 0) {
		hwarnx("signal %d to %s: not running", sig, p->name);
		return -1;
	}
	if (kill(p->pid, sig) == -1) {
		hwarn("kill %s", p->name);
		return -1;
	}
	return 0;
}

int
hproc_stop(struct hproc *p, int64_t grace_ms)
{
	if (hproc_poll(p))
		return 0;
	if (hproc_signal(p, SIGTERM) == -1)
		return -1;
	if (hproc_wait(p, grace_ms) == 0)
		return 0;
	hwarnx("%s did not exit %lld ms after SIGTERM: SIGKILL", p->name,
	    (long long)grace_ms);
	(void)hproc_signal(p, SIGKILL);
	(void)hproc_wait(p, 5000);
	return -1;
}

int
hproc_exit_code(const struct hproc *p)
{
	if (!p->exited || !WIFEXITED(p->status))
		return -1;
	return WEXITSTATUS(p->status);
}

int
hproc_term_signal(const struct hproc *p)
{
	if (!p->exited || !WIFSIGNALED(p->status))
		return 0;
	return WTERMSIG(p->status);
}

int
hproc_run(char *const argv[], int64_t timeout_ms)
{
	struct hproc p;

	if (hproc_spawn(&p, argv, NULL, NULL, NULL) == -1)
		return -1;
	if (hproc_wait(&p, timeout_ms) == -1) {
		hwarnx("%s: timed out", p.name);
		(void)hproc_signal(&p, SIGKILL);
		(void)hproc_wait(&p, 5000);
		return -1;
	}
	return hproc_exit_code(&p);
}
