/*
 * The intent mark: written durably before the first calibration value is
 * published, removed only once the revert is confirmed by readback. A mark
 * found at start means a run may have left the plant in calibration
 * settings (watchdog killed, power lost): recovery reverts first.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "watchdog.h"

#define MARK	"watchdog.intent"

static char path[PATH_MAX], tmp[PATH_MAX];

static int
sync_dir(void)
{
	int fd, rc;

	if ((fd = open(wd.pf.state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return -1;
	rc = fsync(fd);
	return close(fd) == -1 ? -1 : rc;
}

/* Fail safe: anything but a clean "no such file" counts as a mark. */
int
mark_present(void)
{
	struct stat st;
	int n = snprintf(path, sizeof(path), "%s/" MARK, wd.pf.state_dir);

	if (n < 0 || (size_t)n >= sizeof(path) || snprintf(tmp, sizeof(tmp),
	    "%s.tmp", path) >= (int)sizeof(tmp))
		fatalx("%s: paths.state_dir too long", wd.pf.path);
	return lstat(path, &st) == 0 || errno != ENOENT;
}

/* Temporary file, fsync, rename, fsync the directory: all or nothing. */
int
mark_set(void)
{
	char line[256], ts[32];
	int fd, n, ok;

	utc_format(utc_ms(), ts, sizeof(ts));
	n = snprintf(line, sizeof(line), "calibration %s pid %ld profile %s\n",
	    ts, (long)getpid(), wd.pf.digest_hex);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		log_warn("intent mark %s", tmp);
		return -1;
	}
	ok = n > 0 && write(fd, line, (size_t)n) == n && fsync(fd) == 0;
	if (close(fd) == -1 || !ok || rename(tmp, path) == -1 ||
	    sync_dir() == -1) {
		log_warn("intent mark %s", path);
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

int
mark_clear(void)
{
	if ((unlink(path) == -1 && errno != ENOENT) || sync_dir() == -1) {
		log_warn("intent mark %s: cannot clear", path);
		return -1;
	}
	return 0;
}
