/* Link-time stand-in for shared/sigfd.c: signals come from the input. */
#include <fcntl.h>
#include <unistd.h>

#include "sigfd.h"
#include "wdfuzz.h"

int
sigfd_open(const int *sigs)
{
	static int fd = -1;
	int p[2];

	(void)sigs;
	/* a descriptor poll() never finds readable, kept for every run */
	if (fd == -1 && pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0)
		fd = p[0];
	return fd;
}

int
sigfd_next(int fd)
{
	(void)fd;
	return wdf_next_signal();
}
