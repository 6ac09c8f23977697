/*
 * Preloaded into gridcal-watchdog by a scenario's `watchdog-slow-sync MS`:
 * every fdatasync(2), the audit log's group commit, takes MS milliseconds
 * longer, as on an SD card busy with something else. fsync(2) (the intent
 * mark, the anchor's file) keeps its speed, so the scenario is about the
 * commit alone. Not linked into anything of gridcal's.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

int	fdatasync(int);

static int (*real_fdatasync)(int);
static long delay_ms;

/* The environment is read once, before main(): no getenv() in a thread. */
static void __attribute__((constructor))
slowsync_init(void)
{
	const char *ms = getenv("GRIDCAL_SLOWSYNC_MS");

	real_fdatasync = (int (*)(int))(uintptr_t)dlsym(RTLD_NEXT, "fdatasync");
	delay_ms = ms != NULL ? strtol(ms, NULL, 10) : 0;
}

int
fdatasync(int fd)
{
	struct timespec ts = { delay_ms / 1000, delay_ms % 1000 * 1000000L };

	while (delay_ms > 0 && nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	if (real_fdatasync == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return real_fdatasync(fd);
}
