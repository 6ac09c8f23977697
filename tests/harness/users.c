/*
 * The system users a privilege-separated run needs: gridcal-watchdog (the
 * watchdog drops to it) and a supervisor user of the test's own. The
 * watchdog kills every process of its supervisor's user when a run ends,
 * so tests running side by side (the fault suite's -j, other trees on the
 * same machine) must never share one: each test process takes one of a
 * pool, gridcal-t0 .. gridcal-t<HUSER_POOL-1>, by an flock(2) it holds
 * until it exits. Missing users are created (useradd --system),
 * serialized by another lock.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "harness_int.h"

#define HUSER_POOL	24
#define HUSER_LOCKDIR	"/run/gridcal-test"

static char	user[32];
static pid_t	user_pid;	/* the process holding the lock */

static int
lock_file(const char *name, int op)
{
	char path[PATH_MAX];
	int fd;

	if (mkdir(HUSER_LOCKDIR, 0700) == -1 && errno != EEXIST)
		return -1;
	(void)snprintf(path, sizeof(path), HUSER_LOCKDIR "/%s.lock", name);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) == -1)
		return -1;
	if (flock(fd, op) == -1) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

int
huser_ensure(const char *name)
{
	char *argv[] = { (char *)"/usr/sbin/useradd", (char *)"--system",
	    (char *)"--user-group", (char *)"--no-create-home",
	    (char *)"--home-dir", (char *)"/nonexistent", (char *)"--shell",
	    (char *)"/usr/sbin/nologin", (char *)name, NULL };
	int fd, rc = 0;

	if (getpwnam(name) != NULL || geteuid() != 0)
		return 0;
	if ((fd = lock_file("useradd", LOCK_EX)) == -1) {
		hwarn("lock for useradd");
		return -1;
	}
	if (getpwnam(name) == NULL && hproc_run(argv, 30000) != 0 &&
	    getpwnam(name) == NULL) {
		hwarnx("useradd %s failed", name);
		rc = -1;
	}
	(void)close(fd);
	return rc;
}

const char *
huser_supervisor(void)
{
	const char *env = getenv("GRIDCAL_SUPERVISOR_USER");
	char name[32];
	int fd;

	if (env != NULL && env[0] != '\0')
		return env;
	if (geteuid() != 0)
		return "nobody";	/* no privilege separation anyway */
	if (user_pid == getpid())
		return user;
	for (int i = 0; i < HUSER_POOL; i++) {
		(void)snprintf(name, sizeof(name), "gridcal-t%d", i);
		if ((fd = lock_file(name, LOCK_EX | LOCK_NB)) == -1)
			continue;
		if (huser_ensure(name) == -1 || huser_ensure(HUSER_WATCHDOG) ==
		    -1) {
			(void)close(fd);
			return NULL;
		}
		(void)strlcpy(user, name, sizeof(user));
		user_pid = getpid();
		return user;	/* fd stays open: ours until we exit */
	}
	hwarnx("all %d supervisor users are taken", HUSER_POOL);
	return NULL;
}

int
huser_give_cred(const char *path, const char *supervisor)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	if ((pw = getpwnam(supervisor)) == NULL) {
		hwarnx("no user %s", supervisor);
		return -1;
	}
	if (chown(path, 0, pw->pw_gid) == -1 || chmod(path, 0640) == -1) {
		hwarn("chown root:%s %s", supervisor, path);
		return -1;
	}
	return 0;
}

int
huser_give_state(const char *dir)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	if (huser_ensure(HUSER_WATCHDOG) == -1 ||
	    (pw = getpwnam(HUSER_WATCHDOG)) == NULL ||
	    chown(dir, pw->pw_uid, pw->pw_gid) == -1 || chmod(dir, 0700) == -1) {
		hwarn("chown %s %s", HUSER_WATCHDOG, dir);
		return -1;
	}
	return 0;
}
