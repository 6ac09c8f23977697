/*
 * Paths, work directories, files, and the cleanup that runs at exit: every
 * spawned process is killed and reaped and every work directory removed.
 *
 * A failing Check test leaves by _exit() and a timed-out one by SIGKILL,
 * so atexit() is not enough: the first work directory also starts a
 * janitor, a shell in its own session that is told each work directory
 * and removes them all when its connection to us closes, however we died.
 * Spawned processes die with us on their own (PR_SET_PDEATHSIG).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "harness_int.h"

#define MAX_PROCS	64
#define MAX_DIRS	32

static pthread_mutex_t	reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t		reg_owner;	/* the process that registered */
static pid_t		reg_pids[MAX_PROCS];
static char		reg_dirs[MAX_DIRS][PATH_MAX];
static char		root[PATH_MAX];
static int		janitor_fd = -1;
static pid_t		janitor_owner;

/* Reads work directories until EOF, then removes them. */
static const char janitor_script[] =
    "dirs=''\n"
    "while IFS= read -r d; do\n"
    "  case $d in /tmp/gridcal-*) dirs=\"$dirs $d\";; esac\n"
    "done\n"
    "[ \"$GRIDCAL_KEEP_WORKDIR\" = 1 ] && exit 0\n"
    "for d in $dirs; do rm -rf -- \"$d\" 2>/dev/null || "
    "rm -rf -- \"$d\"; done\n";

int64_t
harness_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		abort();
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
harness_sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
	    .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

const char *
harness_root(void)
{
	const char *env;

	if (root[0] != '\0')
		return root;
	env = getenv("GRIDCAL_ROOT");
	if (env != NULL && env[0] == '/')
		(void)strlcpy(root, env, sizeof(root));
	else if (getcwd(root, sizeof(root)) == NULL)
		(void)strlcpy(root, ".", sizeof(root));
	return root;
}

/*
 * GRIDCAL_WATCHDOG_BIN / GRIDCAL_SUPERVISOR_BIN (absolute paths: the
 * sanitizer runs, mk/97-san.mk) replace the plain builds wherever a test
 * starts one.
 */
int
harness_path(char *buf, size_t bufsz, const char *rel)
{
	static const struct { const char *rel, *env; } subst[] = {
		{ "build/gridcal-watchdog", "GRIDCAL_WATCHDOG_BIN" },
		{ "build/gridcal-supervisor", "GRIDCAL_SUPERVISOR_BIN" },
	};
	const char *env;
	int n;

	for (size_t i = 0; i < sizeof(subst) / sizeof(subst[0]); i++)
		if (strcmp(rel, subst[i].rel) == 0 &&
		    (env = getenv(subst[i].env)) != NULL && env[0] == '/') {
			if (strlcpy(buf, env, bufsz) >= bufsz) {
				hwarnx("path too long: %s", env);
				return -1;
			}
			return 0;
		}
	n = snprintf(buf, bufsz, "%s/%s", harness_root(), rel);

	if (n < 0 || (size_t)n >= bufsz) {
		hwarnx("path too long: %s/%s", harness_root(), rel);
		return -1;
	}
	return 0;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) == -1 && errno != ENOENT)
		fprintf(stderr, "harness: remove %s: %s\n", path,
		    strerror(errno));
	return 0;
}

static void
cleanup_at_exit(void)
{
	const char *keep = getenv("GRIDCAL_KEEP_WORKDIR");

	if (getpid() != reg_owner)
		return;
	(void)pthread_mutex_lock(&reg_lock);
	for (int i = 0; i < MAX_PROCS; i++) {
		if (reg_pids[i] <= 0)
			continue;
		(void)kill(reg_pids[i], SIGKILL);
		while (waitpid(reg_pids[i], NULL, 0) == -1 && errno == EINTR)
			;
		reg_pids[i] = 0;
	}
	for (int i = 0; i < MAX_DIRS; i++) {
		if (reg_dirs[i][0] == '\0')
			continue;
		if (keep != NULL && strcmp(keep, "1") == 0)
			fprintf(stderr, "harness: kept %s\n", reg_dirs[i]);
		else
			(void)nftw(reg_dirs[i], rm_entry, 16,
			    FTW_DEPTH | FTW_PHYS);
		reg_dirs[i][0] = '\0';
	}
	(void)pthread_mutex_unlock(&reg_lock);
}

/* Called with reg_lock held. */
static void
reg_init_locked(void)
{
	if (reg_owner == getpid())
		return;
	/* A fresh process (e.g. a Check child): forget the parent's list. */
	memset(reg_pids, 0, sizeof(reg_pids));
	memset(reg_dirs, 0, sizeof(reg_dirs));
	if (reg_owner == 0 && atexit(cleanup_at_exit) != 0)
		fprintf(stderr, "harness: atexit failed\n");
	reg_owner = getpid();
}

void
harness_reg_pid(pid_t pid)
{
	(void)pthread_mutex_lock(&reg_lock);
	reg_init_locked();
	for (int i = 0; i < MAX_PROCS; i++) {
		if (reg_pids[i] == 0) {
			reg_pids[i] = pid;
			break;
		}
	}
	(void)pthread_mutex_unlock(&reg_lock);
}

void
harness_unreg_pid(pid_t pid)
{
	(void)pthread_mutex_lock(&reg_lock);
	for (int i = 0; i < MAX_PROCS; i++)
		if (reg_pids[i] == pid)
			reg_pids[i] = 0;
	(void)pthread_mutex_unlock(&reg_lock);
}

/*
 * Started before the caller's threads in practice, but it execs at once
 * and only calls async-signal-safe functions before that anyway.
 */
static void
janitor_start(void)
{
	int sv[2], null;
	pid_t pid;

	if (janitor_owner == getpid())
		return;
	if (janitor_fd != -1)
		(void)close(janitor_fd);	/* our parent's */
	janitor_fd = -1;
	janitor_owner = getpid();
	if ((null = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1) {
		hwarn("janitor: /dev/null");
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		hwarn("janitor: socketpair");
		(void)close(null);
		return;
	}
	switch (pid = fork()) {
	case -1:
		hwarn("janitor: fork");
		(void)close(sv[0]);
		(void)close(sv[1]);
		(void)close(null);
		return;
	case 0:
		/* Its own session: a killpg() of the test does not reach it.
		 * Not our stdout: a pipeline reading it would wait for it. */
		if (setsid() == -1 || dup2(sv[1], 0) == -1 ||
		    dup2(null, 1) == -1)
			_exit(127);
		if (close_range(3, ~0U, 0) == -1)
			for (int fd = 3; fd < 4096; fd++)
				(void)close(fd);
		execl("/bin/sh", "sh", "-c", janitor_script, (char *)NULL);
		_exit(127);
	default:
		break;
	}
	(void)close(sv[1]);
	(void)close(null);
	janitor_fd = sv[0];
}

static void
janitor_tell(const char *dir)
{
	char line[PATH_MAX + 1];
	int n = snprintf(line, sizeof(line), "%s\n", dir);

	if (janitor_fd == -1 || n < 0 || (size_t)n >= sizeof(line))
		return;
	if (send(janitor_fd, line, (size_t)n, MSG_NOSIGNAL) != n)
		hwarn("janitor: %s not registered", dir);
}

int
harness_workdir(char *buf, size_t bufsz, const char *tag)
{
	int n = snprintf(buf, bufsz, "/tmp/gridcal-%s-XXXXXX", tag);
	int slot = -1;

	if (n < 0 || (size_t)n >= bufsz) {
		hwarnx("workdir: tag too long");
		return -1;
	}
	if (mkdtemp(buf) == NULL) {
		hwarn("mkdtemp %s", buf);
		return -1;
	}
	/* Traversable, not listable: the broker (user mosquitto) opens the
	 * files made readable for it; everything else stays private. */
	if (chmod(buf, 0711) == -1) {
		hwarn("chmod %s", buf);
		return -1;
	}
	(void)pthread_mutex_lock(&reg_lock);
	reg_init_locked();
	janitor_start();
	janitor_tell(buf);
	for (int i = 0; i < MAX_DIRS; i++) {
		if (reg_dirs[i][0] == '\0') {
			(void)strlcpy(reg_dirs[i], buf, sizeof(reg_dirs[i]));
			slot = i;
			break;
		}
	}
	(void)pthread_mutex_unlock(&reg_lock);
	if (slot == -1)
		hwarnx("workdir %s: too many, not removed at exit", buf);
	return 0;
}

char *
harness_read_file(const char *path, size_t *lenp)
{
	char *buf = NULL, *nbuf;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		hwarn("open %s", path);
		return NULL;
	}
	for (;;) {
		if (cap - len < 4096) {
			if ((nbuf = realloc(buf, cap + 65536)) == NULL) {
				hwarn("realloc");
				goto fail;
			}
			buf = nbuf;
			cap += 65536;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			hwarn("read %s", path);
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	(void)close(fd);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
fail:
	(void)close(fd);
	free(buf);
	return NULL;
}

int
harness_last_line(const char *path, char *buf, size_t bufsz)
{
	char *text, *end, *start;
	size_t len;

	if ((text = harness_read_file(path, &len)) == NULL)
		return -1;
	end = text + len;
	while (end > text && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	*end = '\0';
	if (end == text) {
		free(text);
		return -1;
	}
	start = strrchr(text, '\n');
	start = start == NULL ? text : start + 1;
	(void)strlcpy(buf, start, bufsz);
	free(text);
	return 0;
}

int
harness_write_file(const char *path, const char *text, mode_t mode)
{
	size_t len = strlen(text), off = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    mode);
	if (fd == -1) {
		hwarn("open %s", path);
		return -1;
	}
	/* O_CREAT does not change the mode of an existing file. */
	if (fchmod(fd, mode) == -1) {
		hwarn("fchmod %s", path);
		(void)close(fd);
		return -1;
	}
	while (off < len) {
		n = write(fd, text + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			hwarn("write %s", path);
			(void)close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	if (close(fd) == -1) {
		hwarn("close %s", path);
		return -1;
	}
	return 0;
}

void
hwarn(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "harness: %s: %s\n", msg, strerror(saved));
	errno = saved;
}

void
hwarnx(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "harness: %s\n", msg);
}
