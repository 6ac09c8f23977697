/*
 * The watchdog's own confinement, in three steps:
 *
 * sandbox_init()    as root, before anything is opened: the users, and
 *                   StrictModes for every file we trust (exit 77, 78).
 * sandbox_drop()    once the control credentials, the audit log, the
 *                   state directory and the broker's needs are open: to
 *                   user gridcal-watchdog with no capabilities and
 *                   PR_SET_NO_NEW_PRIVS; Landlock: writes only in
 *                   state_dir and to the audit log.
 * sandbox_seccomp() once the supervisor runs (or none will): an
 *                   allow-list of system calls.
 *
 * Killing the supervisor unprivileged: kill(2) is allowed when the
 * sender's real or effective uid is the target's real or saved uid
 * (pidfd_send_signal(2) checks the same). So we keep the supervisor's uid
 * as our EFFECTIVE uid only, with real and saved uid, fsuid (files) and
 * gids our own: we may signal the supervisor's user, but it can neither
 * signal us (our real and saved uid are not its) nor ptrace us (our uids
 * differ, and we are not dumpable). Our child becomes the supervisor's
 * user without privilege: setresuid to a current uid is allowed.
 */
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "landlock.h"
#include "log.h"
#include "sanitizer.h"
#include "strict.h"
#include "watchdog.h"

#define WD_USER		"gridcal-watchdog"

static uid_t wuid = (uid_t)-1;	/* -1: not root, nothing to drop */
static gid_t wgid;
static int dropped;

/* The supervisor's group, if the user exists (0640 on its credentials). */
static gid_t
sup_gid(void)
{
	struct passwd *pw = getpwnam(wd.pf.supervisor_user);

	return pw != NULL ? pw->pw_gid : (gid_t)-1;
}

static void
strict(const char *path, int flags, gid_t gid)
{
	char err[PATH_MAX + 128], real[PATH_MAX];

	if ((flags & STRICT_MAYBE) == 0 && realpath(path, real) != NULL)
		path = real;	/* a relative --profile */
	if (strict_check(path, flags, wuid, gid, err, sizeof(err)) == -1)
		fatalx("StrictModes: %s", err);
}

void
sandbox_init(void)
{
	struct stat a, b, sd;
	struct passwd *pw;

	if (geteuid() != 0)
		return;
	log_setfatalstatus(GC_EX_NOPERM);
	if ((pw = getpwnam(WD_USER)) == NULL || pw->pw_uid == 0 ||
	    pw->pw_gid == 0 || pw->pw_uid == wd.child_uid)
		fatalx("user %s: %s", WD_USER, pw == NULL ? "missing (useradd "
		    "--system --user-group " WD_USER ")" : "must be a user of "
		    "its own, not root nor paths.supervisor_user");
	wuid = pw->pw_uid;
	wgid = pw->pw_gid;
	log_setfatalstatus(GC_EX_CONFIG);
	strict(wd.pf.path, 0, (gid_t)-1);
	strict(wd.pf.cred_watchdog, STRICT_SECRET, (gid_t)-1);
	strict(wd.pf.cred_supervisor, STRICT_SECRET, sup_gid());
	strict(wd.pf.state_dir, STRICT_DIR, (gid_t)-1);
	strict(wd.pf.audit_log, STRICT_MAYBE, (gid_t)-1);
	if (wd.pf.broker_tls_ca[0] != '\0')
		strict(wd.pf.broker_tls_ca, 0, (gid_t)-1);
	if (wd.pf.broker_tls_key[0] != '\0') {
		strict(wd.pf.broker_tls_cert, 0, (gid_t)-1);
		strict(wd.pf.broker_tls_key, STRICT_SECRET, sup_gid());
	}
	if (stat(wd.pf.cred_watchdog, &a) == -1 ||
	    stat(wd.pf.cred_supervisor, &b) == -1 ||
	    (a.st_dev == b.st_dev && a.st_ino == b.st_ino))
		fatalx("StrictModes: %s, %s: must be two different files",
		    wd.pf.cred_watchdog, wd.pf.cred_supervisor);
	if (stat(wd.pf.state_dir, &sd) == -1 || sd.st_uid != wuid)
		fatalx("StrictModes: %s: must be owned by %s (it writes there "
		    "after dropping root)", wd.pf.state_dir, WD_USER);
}

uid_t
sandbox_uid(void)
{
	return wuid != (uid_t)-1 ? wuid : getuid();
}

int
sandbox_dropped(void)
{
	return dropped;
}

/*
 * Landlock: nothing but state_dir and the audit log may be written (the
 * log is written through the fd audit_open() holds; the rule is for a
 * reopen). r: O_PATH fds opened while still root.
 */
static void
sandbox_landlock(struct ll_rule *r)
{
	int rc;

	if (r[0].fd == -1)
		fatal("%s", wd.pf.state_dir);
	rc = ll_restrict(r, r[1].fd == -1 ? 1 : 2, NULL, -1, 0);
	if (rc == -1)
		fatal("landlock");
	if (rc == 1)
		log_warnx("no Landlock in this kernel: writes not confined");
	(void)close(r[0].fd);
	if (r[1].fd != -1)
		(void)close(r[1].fd);
}

/*
 * The -san build only: LeakSanitizer's tracer ptraces us at exit, which
 * needs all our uids and gids equal; by then the supervisor is gone.
 */
static void
san_exit(void)
{
	(void)setresgid((gid_t)-1, wgid, (gid_t)-1);
	(void)setresuid((uid_t)-1, wuid, (uid_t)-1);
}

void
sandbox_drop(void)
{
	uid_t suid = wd.child_uid != 0 ? wd.child_uid : wuid;
	gid_t sgid = wd.child_uid != 0 ? wd.child_gid : wgid;
	uid_t r, e, s;

	if (wuid == (uid_t)-1)
		return;
	struct ll_rule ll[2] = {
	    { open(wd.pf.state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC), 1 },
	    { open(wd.pf.audit_log, O_PATH | O_NOFOLLOW | O_CLOEXEC), 0 } };
	log_setfatalstatus(GC_EX_OSERR);
	if (setgroups(0, NULL) == -1 || setresgid(wgid, sgid, wgid) == -1 ||
	    setresuid(wuid, suid, wuid) == -1)
		fatal("dropping root");
	(void)setfsuid(wuid);
	(void)setfsgid(wgid);
	if (getresuid(&r, &e, &s) == -1 || r != wuid || e != suid ||
	    s != wuid || (uid_t)setfsuid((uid_t)-1) != wuid || setuid(0) != -1)
		fatalx("privileges still held after the drop");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("prctl");
	sandbox_landlock(ll);
	dropped = 1;
	if (SAN_RUNTIME && atexit(san_exit) != 0)
		fatalx("atexit");
	log_info("running as %s (uid %ld), no capabilities", WD_USER,
	    (long)wuid);
}

/*
 * What the poll loop, the broker session (reconnects and name lookups
 * included), the audit log, the intent mark, the child's output and the
 * sweep of its user need; nothing that starts a program, changes
 * credentials or maps executable memory. A call outside the list fails
 * with EPERM instead of killing us: a watchdog that dies cannot revert,
 * one whose call failed takes its error path, and that path reverts.
 */
void
sandbox_seccomp(void)
{
	static const int ok[] = {
	    SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(writev), SCMP_SYS(pread64),
	    SCMP_SYS(close), SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(openat),
	    SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(statx),
	    SCMP_SYS(lseek), SCMP_SYS(fcntl), SCMP_SYS(ioctl),
	    SCMP_SYS(getdents64), SCMP_SYS(fsync), SCMP_SYS(fdatasync),
	    SCMP_SYS(ftruncate), SCMP_SYS(renameat), SCMP_SYS(renameat2),
	    SCMP_SYS(unlinkat), SCMP_SYS(unlink), SCMP_SYS(rename),
	    SCMP_SYS(flock), SCMP_SYS(socket), SCMP_SYS(connect),
	    SCMP_SYS(getsockopt), SCMP_SYS(setsockopt), SCMP_SYS(getsockname),
	    SCMP_SYS(getpeername), SCMP_SYS(sendto), SCMP_SYS(recvfrom),
	    SCMP_SYS(sendmsg), SCMP_SYS(recvmsg), SCMP_SYS(sendmmsg),
	    SCMP_SYS(bind), SCMP_SYS(shutdown), SCMP_SYS(uname),
	    SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep),
	    SCMP_SYS(gettimeofday), SCMP_SYS(nanosleep), SCMP_SYS(getpid),
	    SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
	    SCMP_SYS(getegid), SCMP_SYS(getrandom), SCMP_SYS(kill),
	    SCMP_SYS(wait4), SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(madvise),
	    SCMP_SYS(mremap), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	    SCMP_SYS(rt_sigaction), SCMP_SYS(pipe2), SCMP_SYS(dup),
	    SCMP_SYS(restart_syscall), SCMP_SYS(exit), SCMP_SYS(exit_group),
	    SCMP_SYS(futex),	/* the audit syncer: pthread_join, locks */
	};
	static const int san[] = { SAN_SYSCALLS };
	scmp_filter_ctx ctx;
	int rc = 0;

	(void)san;
	/* denied calls are logged by the kernel (audit type 1326) */
	/* TSYNC: the audit syncer thread (audit.h) is bound as we are */
	if ((ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM))) == NULL ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1) != 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0)
		fatalx("seccomp_init");
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]) && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, ok[i], 0);
	/* the -san build: the sanitizer runtime's (shared/sanitizer.h) */
	for (size_t i = 0; SAN_RUNTIME && rc == 0 &&
	    i < sizeof(san) / sizeof(san[0]); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, san[i], 0);
	if (rc == 0 && SAN_RUNTIME)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_VM, CLONE_VM));
	if (rc == 0 && SAN_RUNTIME)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1,
		    SCMP_A1(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT, O_RDONLY));
	/* anonymous memory, never executable */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect),
		    1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0)
		fatalx("seccomp: %s", strerror(-rc));
}
