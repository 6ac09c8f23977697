/*
 * systemd's notify protocol, first-party (no libsystemd in the watchdog):
 * a datagram to $NOTIFY_SOCKET. READY=1 once the start-up recovery is
 * over, WATCHDOG=1 from the poll() loop at half of $WATCHDOG_USEC (a hung
 * loop stops it: systemd kills us, gridcal-recover.service reverts),
 * STOPPING=1 at the end. Not under systemd: nothing. The socket is made
 * at start, before any sandbox; the variables are removed so the
 * supervisor cannot speak for us.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "watchdog.h"

static int nfd = -1;
static int64_t ping_ms, next_ping;

void
notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET"), *us, *pid, *e1, *e2 = NULL;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	long long usec;
	size_t n;

	us = getenv("WATCHDOG_USEC");
	pid = getenv("WATCHDOG_PID");
	usec = us != NULL ? strtonum(us, 1000, 86400000000LL, &e1) : 0;
	if (us != NULL && e1 == NULL && (pid == NULL ||
	    (strtonum(pid, 1, INT32_MAX, &e2) == getpid() && e2 == NULL)))
		ping_ms = usec / 2000;	/* half the timeout, in ms */
	if (path != NULL && (path[0] == '/' || path[0] == '@') &&
	    (n = strlen(path)) < sizeof(sun.sun_path)) {
		memcpy(sun.sun_path, path, n);
		if (path[0] == '@')	/* abstract namespace */
			sun.sun_path[0] = '\0';
		if ((nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) ==
		    -1 || connect(nfd, (struct sockaddr *)&sun, (socklen_t)
		    (offsetof(struct sockaddr_un, sun_path) + n)) == -1) {
			log_warn("NOTIFY_SOCKET %s", path);
			if (nfd != -1)
				(void)close(nfd);
			nfd = -1;
		}
	}
	(void)unsetenv("NOTIFY_SOCKET");
	(void)unsetenv("WATCHDOG_USEC");
	(void)unsetenv("WATCHDOG_PID");
}

void
notify(const char *msg)
{
	if (nfd != -1 && send(nfd, msg, strlen(msg), MSG_NOSIGNAL) == -1)
		log_warn("notify %s", msg);
}

/* The loop's poll timeout honours the next ping; INT64_MAX if none. */
int64_t
notify_next(void)
{
	return ping_ms > 0 ? next_ping : INT64_MAX;
}

/* From the loop: at most every ping_ms. */
void
notify_tick(int64_t now)
{
	if (ping_ms <= 0 || now < next_ping)
		return;
	next_ping = now + ping_ms;
	notify("WATCHDOG=1");
}
