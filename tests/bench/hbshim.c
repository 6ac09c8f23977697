/*
 * libgridcal-hbshim.so: the bench's window on the heartbeats between the
 * supervisor and the watchdog, without a line changed in watchdog/ or
 * supervisor/. Preloaded into gridcal-watchdog (LD_PRELOAD), and through
 * the inherited environment into the gridcal-supervisor it execs, it wraps
 * recv(2) and send(2): every frame that is a well-formed HEARTBEAT of the
 * socketpair protocol (shared/proto.h: version 1, type 0x02, length 10)
 * appends its CLOCK_MONOTONIC time in nanoseconds as one line to
 *
 *   GRIDCAL_HBSHIM_RECV  as the watchdog received it (recv)
 *   GRIDCAL_HBSHIM_SENT  as the supervisor sent it (send)
 *
 * and, since the watchdog's loop is single-threaded and every audit record
 * and intent mark is fsync'd in it, the duration in nanoseconds of each
 * fsync(2)/fdatasync(2) the watchdog makes to GRIDCAL_HBSHIM_FSYNC: a long
 * one is a stretch in which no heartbeat is read and nothing is reverted.
 *
 * Each process opens the file of its direction when it starts; the
 * supervisor runs unprivileged, so the bench creates the "sent" file for
 * it beforehand. The bench reads them for the heartbeat gaps the watchdog
 * sees (and whether a gap was the sender's or the receiver's), the last
 * heartbeat before a SIGSTOP, and the first one after start-up.
 *
 * One clock_gettime() and one small write per heartbeat (five a second
 * with the sim profile). MQTT traffic cannot match: libmosquitto uses
 * read(2)/write(2) on its socket, and no MQTT packet starts with 0x01.
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
typedef ssize_t (*send_fn)(int, const void *, size_t, int);
typedef int (*sync_fn)(int);

static recv_fn real_recv;
static send_fn real_send;
static sync_fn real_fsync, real_fdatasync;
static int recv_fd = -1, sent_fd = -1, sync_fd = -1;

static int
open_out(const char *var)
{
	const char *path = getenv(var);

	if (path == NULL || path[0] == '\0')
		return -1;
	return open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
}

__attribute__((constructor)) static void
hbshim_init(void)
{
	real_recv = (recv_fn)(uintptr_t)dlsym(RTLD_NEXT, "recv");
	real_send = (send_fn)(uintptr_t)dlsym(RTLD_NEXT, "send");
	real_fsync = (sync_fn)(uintptr_t)dlsym(RTLD_NEXT, "fsync");
	real_fdatasync = (sync_fn)(uintptr_t)dlsym(RTLD_NEXT, "fdatasync");
	/* only the watchdog receives heartbeats, only the supervisor sends
	 * them: each opens the file it needs; the child does not get the
	 * watchdog's variable */
	recv_fd = open_out("GRIDCAL_HBSHIM_RECV");
	(void)unsetenv("GRIDCAL_HBSHIM_RECV");
	sync_fd = open_out("GRIDCAL_HBSHIM_FSYNC");
	(void)unsetenv("GRIDCAL_HBSHIM_FSYNC");
	sent_fd = open_out("GRIDCAL_HBSHIM_SENT");
}

static int
is_heartbeat(const void *buf, ssize_t n)
{
	const unsigned char *b = buf;

	return n == 10 && b[0] == PROTO_VERSION && b[1] == PROTO_HEARTBEAT &&
	    b[2] == 10 && b[3] == 0;
}

static long long
mono_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
put(int *fd, long long v)
{
	char line[32];
	int k;

	if (*fd == -1)
		return;
	k = snprintf(line, sizeof(line), "%lld\n", v);
	if (k > 0 && write(*fd, line, (size_t)k) != k)
		*fd = -1;	/* stop recording, never fail the caller */
}

static void
stamp(int *fd)
{
	if (*fd != -1)
		put(fd, mono_ns());
}

static int
timed_sync(sync_fn fn, int fd)
{
	long long t0;
	int r, saved;

	if (fn == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (sync_fd == -1)
		return fn(fd);
	t0 = mono_ns();
	r = fn(fd);
	saved = errno;
	put(&sync_fd, mono_ns() - t0);
	errno = saved;
	return r;
}

int fsync(int);
int fdatasync(int);

int
fsync(int fd)
{
	return timed_sync(real_fsync, fd);
}

int
fdatasync(int fd)
{
	return timed_sync(real_fdatasync, fd);
}

ssize_t recv(int, void *, size_t, int);
ssize_t send(int, const void *, size_t, int);

ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
	ssize_t n;
	int saved;

	if (real_recv == NULL) {
		errno = ENOSYS;
		return -1;
	}
	n = real_recv(fd, buf, len, flags);
	saved = errno;
	if (len >= 10 && is_heartbeat(buf, n))
		stamp(&recv_fd);
	errno = saved;
	return n;
}

ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
	ssize_t n;
	int saved;

	if (real_send == NULL) {
		errno = ENOSYS;
		return -1;
	}
	n = real_send(fd, buf, len, flags);
	saved = errno;
	if (n == (ssize_t)len && is_heartbeat(buf, n))
		stamp(&sent_fd);
	errno = saved;
	return n;
}
