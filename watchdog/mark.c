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
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "watchdog.h"

#define MARK_NAME	"watchdog.intent"

static int
mark_path(char *buf, size_t bufsz, const char *name)
{
	int n = snprintf(buf, bufsz, "%s/%s", wd.pf.state_dir, name);

	return (n < 0 || (size_t)n >= bufsz) ? -1 : 0;
}

static int
sync_dir(void)
{
	int fd, rc;

	if ((fd = open(wd.pf.state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return -1;
	rc = fsync(fd);
	(void)close(fd);
	return rc;
}

/* Fail safe: anything but a clean "no such file" counts as a mark. */
int
mark_present(void)
{
	char path[PATH_MAX];
	struct stat st;

	if (mark_path(path, sizeof(path), MARK_NAME) == -1)
		return 1;
	if (lstat(path, &st) == 0)
		return 1;
	if (errno != ENOENT) {
		log_warn("%s", path);
		return 1;
	}
	return 0;
}

int
mark_set(void)
{
	char path[PATH_MAX], tmp[PATH_MAX], line[256], ts[32];
	int fd, n, ok;

	if (mark_path(path, sizeof(path), MARK_NAME) == -1 ||
	    mark_path(tmp, sizeof(tmp), MARK_NAME ".tmp") == -1)
		return -1;
	utc_format(utc_ms(), ts, sizeof(ts));
	n = snprintf(line, sizeof(line), "calibration %s pid %ld profile %s\n",
	    ts, (long)getpid(), wd.pf.digest_hex);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -1;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		log_warn("intent mark %s", tmp);
		return -1;
	}
	ok = write(fd, line, (size_t)n) == n && fsync(fd) == 0;
	if (close(fd) == -1)
		ok = 0;
	if (!ok || rename(tmp, path) == -1 || sync_dir() == -1) {
		log_warn("intent mark %s", path);
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

int
mark_clear(void)
{
	char path[PATH_MAX];

	if (mark_path(path, sizeof(path), MARK_NAME) == -1)
		return -1;
	if ((unlink(path) == -1 && errno != ENOENT) || sync_dir() == -1) {
		log_warn("intent mark %s: cannot clear", path);
		return -1;
	}
	return 0;
}
