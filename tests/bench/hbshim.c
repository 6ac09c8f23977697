/*
 * libgridcal-hbshim.so: the bench's window on the heartbeats between the
 * supervisor and the watchdog, without a line changed in watchdog/ or
 * supervisor/. Preloaded into gridcal-watchdog (LD_PRELOAD), and by the
 * watchdog's copy into the gridcal-supervisor it execs (see "The
 * supervisor" below), it wraps recv(2) and send(2): every frame that is a
 * well-formed HEARTBEAT of the socketpair protocol (shared/proto.h:
 * version 1, type 0x02, length 10) gets its CLOCK_MONOTONIC time in
 * nanoseconds as one line,
 *
 *   GRIDCAL_HBSHIM_RECV    as the watchdog received it (recv): "NS"
 *   GRIDCAL_HBSHIM_SUPFIFO as the supervisor sent it (send): "hs NS"
 *
 * and, since the watchdog's loop is single-threaded and every audit record
 * and intent mark is fsync'd in it, the duration in nanoseconds of each
 * fsync(2)/fdatasync(2) the watchdog makes to GRIDCAL_HBSHIM_FSYNC: a long
 * one is a stretch in which no heartbeat is read and nothing is reverted.
 * The bench reads them for the heartbeat gaps the watchdog sees (and
 * whether a gap was the sender's or the receiver's), the last heartbeat
 * before a SIGSTOP, and the first one after start-up.
 *
 * One clock_gettime() and one small write per heartbeat (five a second
 * with the sim profile). MQTT traffic cannot match: libmosquitto uses
 * read(2)/write(2) on its socket, and no MQTT packet starts with 0x01.
 *
 * THE HOPS OF A TRIP. So that the bench can say where the time of one
 * abort went, the shim also writes one line per hop of it, every time on
 * CLOCK_MONOTONIC in ns (the run delays, time runnable but waiting for a
 * core, the bench reads from /proc at the trip's start and end: a read
 * here would cost the hop it measures):
 *
 *   GRIDCAL_HBSHIM_SUPFIFO (the supervisor's, through the watchdog)
 *     sr NS WAKE VALUE OWN           read(2) of an MQTT packet holding
 *                                    GRIDCAL_HBSHIM_TRIP_TOPIC and a value
 *                                    starting GRIDCAL_HBSHIM_TRIP_PREFIX
 *                                    (the probe's trip); WAKE: the return
 *                                    of the last poll() that could block
 *     ss NS SETTING VALUE OWN        send(2) of a SET_REQUEST frame
 *   GRIDCAL_HBSHIM_WDTRIP (the watchdog)
 *     wt NS WAKE VALUE OWN           as sr: the watchdog reads the trip
 *                                    too (its envelope subscription), so
 *                                    the broker's order of hand-over shows
 *     wr NS WAKE SETTING VALUE OWN   recv(2) of a SET_REQUEST frame
 *     wp NS OWN                      write(2)/send(2) of an MQTT PUBLISH
 *                                    holding GRIDCAL_HBSHIM_CTL_TOPIC and
 *                                    GRIDCAL_HBSHIM_CTL_VALUE (the revert)
 *     fs START END MAIN              every fsync(2)/fdatasync(2); MAIN 1
 *                                    if the loop's thread made it (0: a
 *                                    syncer thread, which does not block
 *                                    the loop)
 *
 * OWN: the ns the shim itself had spent in that process as of the stamp
 * (see own_ns), so that its cost can be taken out of a hop.
 *
 * The watchdog opens only its file (and takes the variable out of the
 * environment its supervisor inherits), so each line says whose it is.
 * Matching costs a memmem() on reads and writes of more than a few bytes.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"

typedef ssize_t (*recv_fn)(int, void *, size_t, int);
typedef ssize_t (*send_fn)(int, const void *, size_t, int);
typedef int (*sync_fn)(int);
typedef ssize_t (*read_fn)(int, void *, size_t);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef int (*poll_fn)(struct pollfd *, nfds_t, int);
typedef int (*ppoll_fn)(struct pollfd *, nfds_t, const struct timespec *,
    const sigset_t *);

static recv_fn real_recv;
static send_fn real_send;
static sync_fn real_fsync, real_fdatasync;
static read_fn real_read;
static write_fn real_write;
static poll_fn real_poll;
typedef int (*execve_fn)(const char *, char *const[], char *const[]);
static execve_fn real_execve;
static ppoll_fn real_ppoll;
static int recv_fd = -1, sent_fd = -1, sync_fd = -1;
/* the hops of a trip: at most one of these is open in a process */
static int suptrip_fd = -1, wdtrip_fd = -1;
/* the process whose lines the buffers hold (a fork's copy is dropped) */
static pid_t ob_owner;
static const char *trip_topic, *trip_prefix, *ctl_topic, *ctl_value;
static size_t trip_topic_len, trip_prefix_len, ctl_topic_len, ctl_value_len;
/* the thread that ran the constructor: the loop's */
static pthread_t main_thread;
/* the return of the last poll() that could block */
static long long wake_ns;
/*
 * The supervisor can open no file of ours: it inherits the watchdog's
 * Landlock domain, and it runs with RLIMIT_FSIZE 0 (a write to a regular
 * file would kill it with SIGXFSZ; watchdog/child.c). So the bench makes
 * a FIFO (GRIDCAL_HBSHIM_SUPFIFO) and holds its read end; the watchdog's
 * shim opens the write end before any sandbox, keeps it through the
 * child's closefrom() and hands it to the supervisor at its execve(),
 * with LD_PRELOAD and the variables the supervisor's shim needs, which
 * the fixed environment of that exec would otherwise drop. The
 * supervisor's heartbeat stamps ("hs NS") and hops go to that FIFO,
 * non-blocking: when it is full, lines are lost, never the run.
 */
static const char *const sup_vars[] = { "LD_PRELOAD",
    "GRIDCAL_HBSHIM_TRIP_TOPIC", "GRIDCAL_HBSHIM_TRIP_PREFIX" };
#define SUP_VARS	(sizeof(sup_vars) / sizeof(sup_vars[0]))
static char *sup_env[SUP_VARS + 1];
static size_t nsup_env;
static int pass_fd = -1;	/* the watchdog's: the FIFO's write end */
typedef void (*closefrom_fn)(int);
static closefrom_fn real_closefrom;

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
	main_thread = pthread_self();
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

	real_read = (read_fn)(uintptr_t)dlsym(RTLD_NEXT, "read");
	real_write = (write_fn)(uintptr_t)dlsym(RTLD_NEXT, "write");
	real_poll = (poll_fn)(uintptr_t)dlsym(RTLD_NEXT, "poll");
	real_ppoll = (ppoll_fn)(uintptr_t)dlsym(RTLD_NEXT, "ppoll");
	real_execve = (execve_fn)(uintptr_t)dlsym(RTLD_NEXT, "execve");
	real_closefrom = (closefrom_fn)(uintptr_t)dlsym(RTLD_NEXT, "closefrom");
	if ((wdtrip_fd = open_out("GRIDCAL_HBSHIM_WDTRIP")) != -1) {
		const char *fifo = getenv("GRIDCAL_HBSHIM_SUPFIFO");

		(void)unsetenv("GRIDCAL_HBSHIM_WDTRIP");
		if (fifo != NULL && (pass_fd = open(fifo, O_WRONLY |
		    O_NONBLOCK | O_CLOEXEC)) != -1 &&
		    asprintf(&sup_env[nsup_env], "GRIDCAL_HBSHIM_SUPFD=%d",
		    pass_fd) != -1)
			nsup_env++;
		for (size_t i = 0; pass_fd != -1 && i < SUP_VARS; i++) {
			const char *v = getenv(sup_vars[i]);

			if (v != NULL && asprintf(&sup_env[nsup_env], "%s=%s",
			    sup_vars[i], v) != -1)
				nsup_env++;
		}
	} else if (getenv("GRIDCAL_HBSHIM_SUPFD") != NULL) {
		/* the supervisor: the FIFO the watchdog's shim passed */
		char *end;
		long fd = strtol(getenv("GRIDCAL_HBSHIM_SUPFD"), &end, 10);

		if (*end == '\0' && fd > 2 && fd < 1024 &&
		    fcntl((int)fd, F_SETFD, FD_CLOEXEC) == 0)
			suptrip_fd = sent_fd = (int)fd;
		(void)unsetenv("GRIDCAL_HBSHIM_SUPFD");
	}
	ob_owner = getpid();
	if ((trip_topic = getenv("GRIDCAL_HBSHIM_TRIP_TOPIC")) != NULL)
		trip_topic_len = strlen(trip_topic);
	if ((trip_prefix = getenv("GRIDCAL_HBSHIM_TRIP_PREFIX")) != NULL)
		trip_prefix_len = strlen(trip_prefix);
	if ((ctl_topic = getenv("GRIDCAL_HBSHIM_CTL_TOPIC")) != NULL)
		ctl_topic_len = strlen(ctl_topic);
	if ((ctl_value = getenv("GRIDCAL_HBSHIM_CTL_VALUE")) != NULL)
		ctl_value_len = strlen(ctl_value);
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

/*
 * The shim's own bookkeeping (a pread, a line written, an fstat) lies on
 * the path it measures: its time is summed here and every hop line says
 * how much had been spent as of its stamp (OWN, ns), so the bench takes
 * it out of the hops within one process and reports it.
 */
static long long own_ns;

static void
own_add(long long d)
{
	(void)__atomic_add_fetch(&own_ns, d, __ATOMIC_RELAXED);
}

static long long
own_now(void)
{
	return __atomic_load_n(&own_ns, __ATOMIC_RELAXED);
}

/*
 * Hop and fsync lines are not written where they are stamped: a write(2)
 * there would sit on the path being timed. They are kept in a buffer per
 * file and written when the process is about to sleep (a poll() that can
 * block), when a buffer fills, and at exit; only by the process that
 * stamped them (a fork's copy is dropped). Heartbeat stamps of the
 * watchdog stay immediate: the heartbeat phase reads them while it runs.
 */
struct obuf {
	int	*fd;
	size_t	 n;
	char	 b[16384];
};
static struct obuf ob_sup = { .fd = &suptrip_fd },
    ob_wd = { .fd = &wdtrip_fd }, ob_sync = { .fd = &sync_fd };
static pthread_mutex_t ob_lock = PTHREAD_MUTEX_INITIALIZER;

static void
ob_flush_locked(struct obuf *o)
{
	if (o->n > 0 && *o->fd != -1 && getpid() == ob_owner &&
	    (real_write != NULL ? real_write(*o->fd, o->b, o->n) :
	    write(*o->fd, o->b, o->n)) != (ssize_t)o->n)
		*o->fd = -1;	/* stop recording, never fail the caller */
	o->n = 0;
}

static void
ob_flush(void)
{
	if (ob_sup.n == 0 && ob_wd.n == 0 && ob_sync.n == 0)
		return;
	(void)pthread_mutex_lock(&ob_lock);
	ob_flush_locked(&ob_sup);
	ob_flush_locked(&ob_wd);
	ob_flush_locked(&ob_sync);
	(void)pthread_mutex_unlock(&ob_lock);
}

__attribute__((destructor)) static void
hbshim_fini(void)
{
	ob_flush();
}

/* One line into the buffer of *fd's file; never fails the caller. */
static void
hop(int *fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
hop(int *fd, const char *fmt, ...)
{
	struct obuf *o = fd == &suptrip_fd || fd == &sent_fd ? &ob_sup :
	    fd == &wdtrip_fd ? &ob_wd : &ob_sync;
	char line[160];
	va_list ap;
	int k;

	if (*fd == -1)
		return;
	va_start(ap, fmt);
	k = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (k <= 0 || (size_t)k >= sizeof(line))
		return;
	(void)pthread_mutex_lock(&ob_lock);
	if (o->n + (size_t)k > sizeof(o->b))
		ob_flush_locked(o);
	memcpy(o->b + o->n, line, (size_t)k);
	o->n += (size_t)k;
	(void)pthread_mutex_unlock(&ob_lock);
}

/*
 * The supervisor read an MQTT packet: is it the trip? The topic, then a
 * value that starts with the trip prefix (the payload follows the topic
 * and, with MQTT 5, its properties).
 */
static void
check_trip_read(const void *buf, ssize_t n)
{
	const char *b = buf, *t, *v, *end;
	char val[24];
	size_t k;
	long long t_ns, own;
	int *out = suptrip_fd != -1 ? &suptrip_fd : &wdtrip_fd;

	if (*out == -1 || trip_topic_len == 0 || trip_prefix_len == 0 ||
	    n < (ssize_t)(trip_topic_len + trip_prefix_len) ||
	    (t = memmem(b, (size_t)n, trip_topic, trip_topic_len)) == NULL)
		return;
	end = b + n;
	if ((v = memmem(t + trip_topic_len, (size_t)(end - t -
	    (ssize_t)trip_topic_len), trip_prefix, trip_prefix_len)) == NULL)
		return;
	t_ns = mono_ns();
	own = own_now();
	for (k = 0; k < sizeof(val) - 1 && v + k < end && v[k] >= '-' &&
	    v[k] <= '9'; k++)
		val[k] = v[k];
	val[k] = '\0';
	/* no FIONREAD for the bytes queued behind it: in the supervisor,
	 * under its seccomp filter, that one ioctl cost some 15 us of the
	 * hop it would describe (the whole shim is ~3 us without it) */
	hop(out, "%s %lld %lld %s %lld\n", out == &suptrip_fd ? "sr" : "wt",
	    t_ns, wake_ns, val, own);
	own_add(mono_ns() - t_ns);
}

/* A SET_REQUEST frame (shared/proto.h): setting, value at 8, 9. */
static int
is_set_request(const void *buf, ssize_t n)
{
	const unsigned char *b = buf;

	return n == 11 && b[0] == PROTO_VERSION && b[1] == PROTO_SET_REQUEST &&
	    b[2] == 11 && b[3] == 0;
}

/*
 * The watchdog is about to write an MQTT packet: is it the revert's
 * PUBLISH? Judged before the write and stamped then: the broker may hand
 * it on, and the probe receive it, before write(2) returns.
 */
static int
is_revert_publish(const void *buf, size_t n)
{
	const unsigned char *b = buf;
	const char *t;

	return wdtrip_fd != -1 && ctl_topic_len > 0 && ctl_value_len > 0 &&
	    n >= ctl_topic_len + ctl_value_len && (b[0] & 0xf0) == 0x30 &&
	    (t = memmem(b, n, ctl_topic, ctl_topic_len)) != NULL &&
	    memmem(t + ctl_topic_len, (size_t)((const char *)b + n - t) -
	    ctl_topic_len, ctl_value, ctl_value_len) != NULL;
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
	if (sync_fd == -1 && wdtrip_fd == -1)
		return fn(fd);
	t0 = mono_ns();
	r = fn(fd);
	saved = errno;
	{
		long long t1 = mono_ns();

		hop(&sync_fd, "%lld\n", t1 - t0);
		hop(&wdtrip_fd, "fs %lld %lld %d\n", t0, t1,
		    pthread_equal(pthread_self(), main_thread) != 0);
		/* the loop's own time only: a syncer's runs beside it */
		if (pthread_equal(pthread_self(), main_thread))
			own_add(mono_ns() - t1);
	}
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
	if (len >= 10 && is_heartbeat(buf, n)) {
		long long t = mono_ns();

		put(&recv_fd, t);
		own_add(mono_ns() - t);
	} else if (wdtrip_fd != -1 && len >= 11 && is_set_request(buf, n)) {
		const unsigned char *b = buf;
		long long t = mono_ns(), own = own_now();

		hop(&wdtrip_fd, "wr %lld %lld %u %u %lld\n", t, wake_ns, b[8],
		    b[9], own);
		own_add(mono_ns() - t);
	}
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
	/* a send is stamped before it: the receiver may have it (and stamp
	 * its recv) before send(2) returns here */
	if (sent_fd != -1 || suptrip_fd != -1 || wdtrip_fd != -1) {
		const unsigned char *b = buf;
		long long b0 = mono_ns(), t0, t1, own;
		int what = 0;

		if (len == 10 && is_heartbeat(buf, 10))
			what = 1;
		else if (suptrip_fd != -1 && len == 11 &&
		    is_set_request(buf, 11))
			what = 2;
		else if (is_revert_publish(buf, len))
			what = 3;
		t0 = mono_ns();
		own = own_now() + (t0 - b0);	/* this call's, so far */
		n = real_send(fd, buf, len, flags);
		saved = errno;
		t1 = mono_ns();
		if (what == 1 && n == (ssize_t)len)
			hop(&sent_fd, "hs %lld\n", t0);
		else if (what == 2 && n == (ssize_t)len)
			hop(&suptrip_fd, "ss %lld %u %u %lld\n", t0, b[8],
			    b[9], own);
		else if (what == 3 && n > 0)
			hop(&wdtrip_fd, "wp %lld %lld\n", t0, own);
		own_add((t0 - b0) + (mono_ns() - t1));
		errno = saved;
		return n;
	}
	return real_send(fd, buf, len, flags);
}

ssize_t read(int, void *, size_t);
ssize_t write(int, const void *, size_t);
int poll(struct pollfd *, nfds_t, int);
int ppoll(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);

ssize_t
read(int fd, void *buf, size_t len)
{
	ssize_t n;
	int saved;

	if (real_read == NULL) {
		errno = ENOSYS;
		return -1;
	}
	n = real_read(fd, buf, len);
	if ((suptrip_fd != -1 || wdtrip_fd != -1) && n > 0) {
		saved = errno;
		check_trip_read(buf, n);
		errno = saved;
	}
	return n;
}

ssize_t
write(int fd, const void *buf, size_t len)
{
	ssize_t n;
	int saved;

	if (real_write == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (wdtrip_fd != -1 && is_revert_publish(buf, len)) {
		long long b0 = mono_ns(), t0, t1, own;

		t0 = mono_ns();
		own = own_now() + (t0 - b0);
		n = real_write(fd, buf, len);
		saved = errno;
		t1 = mono_ns();
		if (n > 0)
			hop(&wdtrip_fd, "wp %lld %lld\n", t0, own);
		own_add((t0 - b0) + (mono_ns() - t1));
		errno = saved;
		return n;
	}
	return real_write(fd, buf, len);
}

/* A poll that can block: its return is when the process woke. */
int
poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	int r, saved;

	if (real_poll == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (timeout != 0)
		ob_flush();	/* about to sleep: off the timed path */
	r = real_poll(fds, nfds, timeout);
	if (timeout != 0 && (suptrip_fd != -1 || wdtrip_fd != -1)) {
		saved = errno;
		wake_ns = mono_ns();
		errno = saved;
	}
	return r;
}

int
ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *ts,
    const sigset_t *mask)
{
	int r, saved;

	if (real_ppoll == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (ts == NULL || ts->tv_sec != 0 || ts->tv_nsec != 0)
		ob_flush();
	r = real_ppoll(fds, nfds, ts, mask);
	if ((ts == NULL || ts->tv_sec != 0 || ts->tv_nsec != 0) &&
	    (suptrip_fd != -1 || wdtrip_fd != -1)) {
		saved = errno;
		wake_ns = mono_ns();
		errno = saved;
	}
	return r;
}

int execve(const char *, char *const[], char *const[]);

/* The supervisor's exec (above): its environment plus ours. */
int
execve(const char *path, char *const argv[], char *const envp[])
{
	execve_fn real = real_execve;
	const char *base = strrchr(path, '/');
	char *env[64];
	size_t n = 0;

	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	base = base != NULL ? base + 1 : path;
	if (pass_fd == -1 || strcmp(base, "gridcal-supervisor") != 0)
		return real(path, argv, envp);
	if (fcntl(pass_fd, F_SETFD, 0) == -1)
		return real(path, argv, envp);
	for (; envp != NULL && envp[n] != NULL &&
	    n < sizeof(env) / sizeof(env[0]) - SUP_VARS - 1; n++)
		env[n] = envp[n];
	for (size_t i = 0; i < nsup_env; i++)
		env[n++] = sup_env[i];
	env[n] = NULL;
	return real(path, argv, env);
}

void closefrom(int);

/* The supervisor's child closes every fd above its socket: all but ours. */
void
closefrom(int lowfd)
{
	if (real_closefrom == NULL)
		return;
	if (pass_fd == -1 || pass_fd < lowfd) {
		real_closefrom(lowfd);
		return;
	}
	for (int fd = lowfd; fd < pass_fd; fd++)
		(void)close(fd);
	real_closefrom(pass_fd + 1);
}
