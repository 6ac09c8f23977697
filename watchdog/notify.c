/*
 * systemd's notify protocol, first-party (no libsystemd in the watchdog):
 * a datagram to $NOTIFY_SOCKET. READY=1 once the start-up recovery is
 * over, WATCHDOG=1 from the poll() loop at half of $WATCHDOG_USEC (a hung
 * loop stops it: systemd kills us, gridcal-recover.service reverts),
 * STOPPING=1 at the end. Not under systemd: nothing. The variables are
 * removed so the supervisor cannot speak for us.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "watchdog.h"

static struct sockaddr_un sun;
static socklen_t sunlen;
static int64_t ping_ms, next_ping;

void
notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET"), *us, *pid;
	size_t n;

	us = getenv("WATCHDOG_USEC");
	pid = getenv("WATCHDOG_PID");
	if (us != NULL && (pid == NULL || atol(pid) == (long)getpid()))
		ping_ms = atoll(us) / 2000;	/* half the timeout, in ms */
	if (path != NULL && (path[0] == '/' || path[0] == '@') &&
	    (n = strlen(path)) < sizeof(sun.sun_path)) {
		sun.sun_family = AF_UNIX;
		memcpy(sun.sun_path, path, n);
		if (path[0] == '@')	/* abstract namespace */
			sun.sun_path[0] = '\0';
		sunlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	}
	(void)unsetenv("NOTIFY_SOCKET");
	(void)unsetenv("WATCHDOG_USEC");
	(void)unsetenv("WATCHDOG_PID");
}

void
notify(const char *msg)
{
	int fd;

	if (sunlen == 0)
		return;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, sunlen) == -1)
		log_warn("notify %s", msg);
	if (fd != -1)
		(void)close(fd);
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
