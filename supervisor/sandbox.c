/*
 * The supervisor's sandbox, after OpenSSH's sandbox-seccomp-filter: what
 * the watchdog cannot impose before exec (resource limits that would stop
 * the exec itself, dumpability, which exec resets), then Landlock and a
 * seccomp allow-list. The watchdog has already given us a session of our
 * own, /dev/null and two pipes as fds 0-2, the socketpair as fd 3, our own
 * user, no core, no file size, few fds and PR_SET_NO_NEW_PRIVS
 * (watchdog/child.c).
 *
 * Allowed: reading (files: the profile and our credentials, the resolver's
 * /etc files), the broker's TCP connection (any address, the profile's
 * port; DNS over UDP and TCP), the socketpair, the poll loop, clocks,
 * memory without PROT_EXEC, signals to ourselves. Everything else -- a
 * new program, a new process, a file written, a socket of another family,
 * an ioctl but FIONREAD/TCGETS, ptrace, a mount, a new mapping of code --
 * kills the process with SIGSYS: the watchdog sees its child die and
 * reverts.
 *
 * Under AddressSanitizer (the -san build the tests run) the runtime needs
 * more, at exit above all: LeakSanitizer stops the world from a helper
 * task (clone with CLONE_VM, ptrace, wait4, sched_yield), reads
 * /proc/self/maps and /proc/self/task, and keeps terabytes of shadow
 * mapped. That build adds exactly those calls and sets no RLIMIT_AS nor
 * RLIMIT_NPROC (the helper task counts as a process); every other rule is
 * the same, so the hostile tests hold for both builds.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <termios.h>

#include "landlock.h"
#include "log.h"
#include "profile.h"
#include "sandbox.h"
#include "sanitizer.h"

#define SUP_AS_MAX	(1024UL << 20)	/* bytes of address space */

static const int allow[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(close), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(statx),
	SCMP_SYS(lseek), SCMP_SYS(fcntl), SCMP_SYS(getdents64),
	SCMP_SYS(connect), SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
	SCMP_SYS(getsockname), SCMP_SYS(getpeername), SCMP_SYS(sendto),
	SCMP_SYS(recvfrom), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg),
	SCMP_SYS(sendmmsg), SCMP_SYS(bind), SCMP_SYS(shutdown),
	SCMP_SYS(uname), SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(gettimeofday), SCMP_SYS(nanosleep), SCMP_SYS(getpid),
	SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
	SCMP_SYS(getegid), SCMP_SYS(getrandom), SCMP_SYS(brk),
	SCMP_SYS(munmap), SCMP_SYS(madvise), SCMP_SYS(mremap),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigaction), SCMP_SYS(signalfd4), SCMP_SYS(dup),
	SCMP_SYS(restart_syscall), SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(getrlimit), SCMP_SYS(prlimit64), SCMP_SYS(futex),
	SCMP_SYS(sysinfo),
};

/* The sanitizer runtime's own needs (see above, shared/sanitizer.h). */
static const int allow_san[] = { SAN_SYSCALLS };

static int
add(scmp_filter_ctx c, int nr, unsigned n, struct scmp_arg_cmp a)
{
	return n == 0 ? seccomp_rule_add(c, SCMP_ACT_ALLOW, nr, 0) :
	    seccomp_rule_add(c, SCMP_ACT_ALLOW, nr, 1, a);
}

static int
filter(scmp_filter_ctx c)
{
	int rc = 0;

	for (size_t i = 0; i < sizeof(allow) / sizeof(allow[0]) && rc == 0;
	    i++)
		rc = add(c, allow[i], 0, SCMP_A0(SCMP_CMP_EQ, 0));
	for (size_t i = 0; SAN_RUNTIME && rc == 0 &&
	    i < sizeof(allow_san) / sizeof(allow_san[0]); i++)
		rc = add(c, allow_san[i], 0, SCMP_A0(SCMP_CMP_EQ, 0));
	/* read-only opens (Landlock forbids writes too) */
	if (rc == 0)
		rc = add(c, SCMP_SYS(openat), 1, SCMP_A2(SCMP_CMP_MASKED_EQ,
		    O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY));
	/* the broker (IPv4/6), the resolver's netlink query */
	if (rc == 0)
		rc = add(c, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_INET));
	if (rc == 0)
		rc = add(c, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_INET6));
	if (rc == 0)
		rc = add(c, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ,
		    AF_NETLINK));
	/* libmosquitto's wake-up pair */
	if (rc == 0)
		rc = add(c, SCMP_SYS(socketpair), 1, SCMP_A0(SCMP_CMP_EQ,
		    AF_UNIX));
	/* FIONREAD on the sockets, TCGETS (isatty); never TIOCSTI */
	if (rc == 0)
		rc = add(c, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, FIONREAD));
	if (rc == 0)
		rc = add(c, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, TCGETS));
	/* data, never code */
	if (rc == 0)
		rc = add(c, SCMP_SYS(mmap), 1, SCMP_A2(SCMP_CMP_MASKED_EQ,
		    PROT_EXEC, 0));
	if (rc == 0)
		rc = add(c, SCMP_SYS(mprotect), 1, SCMP_A2(SCMP_CMP_MASKED_EQ,
		    PROT_EXEC, 0));
	/* the sanitizer's stop-the-world helper shares our memory; the
	 * runtime opens /proc/self/maps with open(2), read-only */
	if (rc == 0 && SAN_RUNTIME)
		rc = add(c, SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ,
		    CLONE_VM, CLONE_VM));
	if (rc == 0 && SAN_RUNTIME)
		rc = add(c, SCMP_SYS(open), 1, SCMP_A1(SCMP_CMP_MASKED_EQ,
		    O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY));
	return rc;
}

void
sandbox_enter(const struct profile *pf)
{
	const uint16_t ports[] = { pf->broker_port, 53 };
	scmp_filter_ctx c;
	int rc;

	if (!SAN_RUNTIME && (setrlimit(RLIMIT_NPROC, &(struct rlimit){ 0,
	    0 }) == -1 || setrlimit(RLIMIT_AS, &(struct rlimit){ SUP_AS_MAX,
	    SUP_AS_MAX }) == -1))
		fatal("sandbox: setrlimit");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("sandbox: prctl");
	/* no filesystem writes at all; TCP to the broker's port only */
	if ((rc = ll_restrict(NULL, 0, ports, 2, 1)) == -1)
		fatal("sandbox: landlock");
	if (rc == 1)
		log_warnx("no Landlock in this kernel: writes not confined");
	if ((c = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		fatalx("sandbox: seccomp_init");
	if ((rc = filter(c)) == 0)
		rc = seccomp_load(c);
	seccomp_release(c);
	if (rc != 0)
		fatalx("sandbox: seccomp: %s", strerror(-rc));
}
