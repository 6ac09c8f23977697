#include <sys/signalfd.h>

#include <signal.h>
#include <unistd.h>

#include "sigfd.h"

int
sigfd_open(const int *sigs)
{
	sigset_t set;

	if (sigemptyset(&set) == -1)
		return -1;
	for (; *sigs != 0; sigs++)
		if (sigaddset(&set, *sigs) == -1)
			return -1;
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int
sigfd_next(int fd)
{
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}
