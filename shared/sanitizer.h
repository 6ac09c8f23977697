/*
 * SAN_RUNTIME: 1 in the AddressSanitizer builds (build/san), whose runtime
 * needs more of the kernel than the programs do (the sandboxes' seccomp
 * allow-lists add it: watchdog/sandbox.c, supervisor/sandbox.c).
 */
#ifndef GRIDCAL_SANITIZER_H
#define GRIDCAL_SANITIZER_H

#if defined(__SANITIZE_ADDRESS__)
#define SAN_RUNTIME	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SAN_RUNTIME	1
#endif
#endif
#ifndef SAN_RUNTIME
#define SAN_RUNTIME	0
#endif

/*
 * The runtime's calls, for an allow-list: LeakSanitizer stops the world
 * at exit from a helper task (clone with CLONE_VM, ptrace, wait4,
 * sched_yield, tgkill), reads /proc/self/maps and /proc/self/task (open,
 * getdents), and reports through sigaltstack, prctl and readlink. The
 * watchdog takes its own uid back as its effective one for the tracer
 * (setresuid, setresgid at exit: watchdog/sandbox.c).
 */
#define SAN_SYSCALLS \
	SCMP_SYS(ptrace), SCMP_SYS(wait4), SCMP_SYS(sched_yield), \
	SCMP_SYS(gettid), SCMP_SYS(tgkill), SCMP_SYS(sigaltstack), \
	SCMP_SYS(prctl), SCMP_SYS(readlink), SCMP_SYS(readlinkat), \
	SCMP_SYS(sched_getaffinity), SCMP_SYS(set_robust_list), \
	SCMP_SYS(pipe2), SCMP_SYS(mincore), SCMP_SYS(getppid), \
	SCMP_SYS(setrlimit), SCMP_SYS(getdents), SCMP_SYS(setresuid), \
	SCMP_SYS(setresgid)

#endif
