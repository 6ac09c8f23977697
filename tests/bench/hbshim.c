/*
 * libgridcal-hbshim.so: the bench's window on the heartbeats the watchdog
 * receives, without a line changed in watchdog/. Preloaded into
 * gridcal-watchdog (LD_PRELOAD) with GRIDCAL_HBSHIM_OUT=<file>, it wraps
 * recv(2): every frame that is a well-formed HEARTBEAT of the socketpair
 * protocol (shared/proto.h: version 1, type 0x02, length 10) appends its
 * CLOCK_MONOTONIC arrival in nanoseconds as one line to the file.
 *
 * The bench reads the file for the heartbeat gaps the watchdog sees, the
 * time of the last heartbeat before a SIGSTOP (heartbeat-loss overshoot)
 * and the first heartbeat after start-up. One clock_gettime() and one
 * small write per heartbeat (five a second with the sim profile). MQTT
 * traffic cannot match: libmosquitto reads its socket with read(2), and
 * no MQTT packet starts with the byte 0x01.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"

typedef ssize_t (*recv_fn)(int, void *, size_t, int);

static recv_fn real_recv;
static int out_fd = -1;

__attribute__((constructor)) static void
hbshim_init(void)
{
	const char *path = getenv("GRIDCAL_HBSHIM_OUT");

	real_recv = (recv_fn)(uintptr_t)dlsym(RTLD_NEXT, "recv");
	if (path != NULL && path[0] != '\0')
		out_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0600);
	/* the supervisor the watchdog execs inherits neither the shim, nor
	 * the variable, nor the fd */
	(void)unsetenv("GRIDCAL_HBSHIM_OUT");
	(void)unsetenv("LD_PRELOAD");
}

ssize_t recv(int, void *, size_t, int);

ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
	ssize_t n;
	int saved;
	const unsigned char *b = buf;

	if (real_recv == NULL) {
		errno = ENOSYS;
		return -1;
	}
	n = real_recv(fd, buf, len, flags);
	saved = errno;
	if (out_fd != -1 && n == 10 && len >= 10 && b[0] == PROTO_VERSION &&
	    b[1] == PROTO_HEARTBEAT && b[2] == 10 && b[3] == 0) {
		struct timespec ts;
		char line[32];
		int k;

		if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0) {
			k = snprintf(line, sizeof(line), "%lld\n",
			    (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
			if (k > 0 && write(out_fd, line, (size_t)k) != k)
				out_fd = -1;	/* stop recording, never fail */
		}
	}
	errno = saved;
	return n;
}
