/*
 * The system users: gridcal runs the supervisor, gridcal-watchdog is what
 * the watchdog becomes once it no longer needs root and owns the state
 * directory. Both are system users without a home or a login shell; the
 * supervisor's is never in the watchdog's group, so it can read nothing
 * of the watchdog's. Created with useradd(8) on this host's user database
 * (also with --root: the programs that run the users resolve them here).
 */
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <pwd.h>
#include <unistd.h>

#include "setup.h"

static void
lookup(struct setup_user *u)
{
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(u->name)) == NULL)
		errx(1, "user %s: %s", u->name, errno ? "lookup failed" :
		    "still missing after useradd");
	if (pw->pw_uid == 0 || pw->pw_gid == 0)
		errx(1, "user %s is root or in group root: refusing", u->name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
}

void
user_ensure(struct setup_user *u)
{
	char *const argv[] = { "useradd", "--system", "--user-group",
	    "--no-create-home", "--home-dir", "/nonexistent", "--shell",
	    "/usr/sbin/nologin", "--comment", (char *)u->comment,
	    (char *)u->name, NULL };
	pid_t pid;
	int st;

	if (getpwnam(u->name) != NULL) {
		lookup(u);
		return;
	}
	note("create system user %s", u->name);
	if (su.dry_run) {
		u->uid = u->gid = (uid_t)-1;	/* nothing is chowned */
		return;
	}
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		execv("/usr/sbin/useradd", argv);
		warn("/usr/sbin/useradd");
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			err(1, "waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		errx(1, "useradd %s failed", u->name);
	lookup(u);
}
