/*
 * The intent mark: written durably before the first calibration value is
 * published, removed only once the revert is confirmed by readback. A mark
 * found at start means a run may have left the plant in calibration
 * settings (watchdog killed, power lost): recovery reverts first.
 *
 * The state directory belongs to one watchdog at a time: a second one once
 * took a live run's mark for a crash leftover, reverted that run behind its
 * back and cleared its mark. The lock is taken before the mark is read and
 * held until exit (the kernel drops it with the process, however it ends).
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "durable.h"
#include "log.h"
#include "watchdog.h"

#define MARK		"watchdog.intent"
#define LOCK		"watchdog.lock"
#define NOTE		"watchdog.revert"	/* a revert went out */
#define BOOT_ID		"/proc/sys/kernel/random/boot_id"
#define BOOT_LEN	36	/* 8-4-4-4-12 */
#define MARK_MAX	256

static int	lock_fd = -1;	/* held for the life of the process */

/* This boot's id, or "unknown": a mark from another boot is a leftover. */
static const char *
boot_id(void)
{
	static char id[BOOT_LEN + 2];
	ssize_t n;
	int fd;

	if (id[0] != '\0')
		return id;
	(void)strlcpy(id, "unknown", sizeof(id));
	if ((fd = open(BOOT_ID, O_RDONLY | O_CLOEXEC)) == -1)
		return id;
	n = read(fd, id, sizeof(id) - 1);
	(void)close(fd);
	if (n == BOOT_LEN + 1 && id[BOOT_LEN] == '\n' &&
	    strspn(id, "0123456789abcdef-") == BOOT_LEN)
		id[BOOT_LEN] = '\0';
	else
		(void)strlcpy(id, "unknown", sizeof(id));
	return id;
}

/*
 * Exclusive for the whole run; a second watchdog on this state directory
 * exits here, before it has read the mark, opened the log or connected.
 */
void
mark_lock(void)
{
	char path[PATH_MAX], pid[24];
	struct stat st;
	int n;

	log_setfatalstatus(GC_EX_CANTCREAT);
	if ((n = snprintf(path, sizeof(path), "%s/" LOCK, wd.pf.state_dir)) <
	    0 || (size_t)n >= sizeof(path))
		fatalx("%s/" LOCK ": path too long", wd.pf.state_dir);
	if ((lock_fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC, 0600)) == -1 || fstat(lock_fd, &st) == -1)
		fatal("%s", path);
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		fatalx("%s: not a regular file of ours, writable by us only",
		    path);
	if (flock(lock_fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK)
			fatal("flock %s", path);
		n = (int)pread(lock_fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strspn(pid, "0123456789")] = '\0';
		log_setfatalstatus(GC_EX_LOCKED);
		fatalx("%s: another gridcal-watchdog%s%s%s runs on this state "
		    "directory; not starting (nothing read, published or "
		    "recorded)", path, pid[0] ? " (pid " : "", pid,
		    pid[0] ? ")" : "");
	}
	/* for the message above only: failing to write it changes nothing */
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(lock_fd, 0) == -1 || pwrite(lock_fd, pid, (size_t)n, 0) !=
	    n)
		log_debug("%s: pid not written", path);
}

/*
 * A revert was just published, before its record (act first): a note of
 * the record's sequence number, written without fsync so as to cost no
 * more than a write(2). It outlives a killed watchdog (not a power cut),
 * and recovery compares it with the log.
 */
void
mark_note_revert(const char *reason, uint64_t seq)
{
	char path[PATH_MAX], line[64];
	int fd, n;

	n = snprintf(line, sizeof(line), "revert %s seq %llu\n", reason,
	    (unsigned long long)seq);
	if (snprintf(path, sizeof(path), "%s/" NOTE, wd.pf.state_dir) >=
	    (int)sizeof(path) || n < 0 || (size_t)n >= sizeof(line) ||
	    (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		return;
	if (write(fd, line, (size_t)n) != n)
		log_debug("%s: not written", path);
	(void)close(fd);
}

/* What the note says against the log: "" if there is no note. */
static void
note_describe(char *buf, size_t bufsz, int *unrecorded)
{
	char path[PATH_MAX], text[64], reason[24];
	unsigned long long seq;
	ssize_t n;
	int fd;

	buf[0] = '\0';
	*unrecorded = 0;
	if (snprintf(path, sizeof(path), "%s/" NOTE, wd.pf.state_dir) >=
	    (int)sizeof(path) || (fd = open(path, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC | O_NONBLOCK)) == -1)
		return;
	n = read(fd, text, sizeof(text) - 1);
	(void)close(fd);
	text[n > 0 ? n : 0] = '\0';
	if (sscanf(text, "revert %23s seq %llu", reason, &seq) != 2 ||
	    strspn(reason, "abcdefghijklmnopqrstuvwxyz_") != strlen(reason))
		(void)snprintf(buf, bufsz, "; a revert note that cannot be "
		    "read");
	else if (wd.audit_open && seq > wd.audit_seq0) {
		*unrecorded = 1;
		(void)snprintf(buf, bufsz, "; a revert (%s) was published but "
		    "not recorded (the log ended at seq %llu, its record would "
		    "be seq %llu)", reason, (unsigned long long)wd.audit_seq0,
		    seq);
	} else
		(void)snprintf(buf, bufsz, "; a revert (%s) was published and "
		    "recorded (seq %llu), not confirmed", reason, seq);
}

/* Fail safe: a mark that cannot be looked for counts as present. */
int
mark_present(void)
{
	return durable_exists(wd.pf.state_dir, MARK);
}

/* The mark's text (untrusted: a file in the state directory); -1 if none. */
static int
mark_read(char *buf, size_t bufsz)
{
	char path[PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/" MARK, wd.pf.state_dir) >=
	    (int)sizeof(path) || (fd = open(path, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC | O_NONBLOCK)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {	/* StrictModes */
		(void)close(fd);
		return -1;
	}
	n = read(fd, buf, bufsz - 1);
	(void)close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/*
 * Says whose mark recovery found: "calibration UTC pid N boot ID profile
 * HEX". We hold the lock, so no watchdog of this directory is alive; a live
 * pid of this boot is someone else (pid reused) or a watchdog that took no
 * lock. The revert happens whatever this says.
 */
void
mark_describe(void)
{
	char buf[MARK_MAX], boot[BOOT_LEN + 1], found[160], note[160];
	const char *errstr = NULL;
	long long pid = 0;
	int same = 0, alive = 0, unrecorded;

	if (mark_read(buf, sizeof(buf)) == -1)
		(void)snprintf(found, sizeof(found), "a mark that cannot be "
		    "read: %s", strerror(errno));
	else if (sscanf(buf, "calibration %*s pid %23s boot %36s profile ",
	    found, boot) != 2 || strlen(boot) != BOOT_LEN ||
	    (pid = strtonum(found, 1, INT_MAX, &errstr)) == 0)
		(void)snprintf(found, sizeof(found), "a mark without a valid "
		    "owner pid and boot id");
	else if (!(same = strcmp(boot, boot_id()) == 0))
		(void)snprintf(found, sizeof(found), "the mark of pid %lld of "
		    "an earlier boot (power loss or reboot)", pid);
	else if ((alive = kill((pid_t)pid, 0) == 0 || errno == EPERM))
		(void)snprintf(found, sizeof(found), "the mark of pid %lld, "
		    "alive but without the lock (not a watchdog of this state "
		    "directory, or its pid was reused)", pid);
	else
		(void)snprintf(found, sizeof(found), "the mark of pid %lld of "
		    "this boot, gone (killed or crashed)", pid);
	note_describe(note, sizeof(note), &unrecorded);
	log_warnx("recovery found %s%s: reverting before anything else", found,
	    note);
	(void)WD_AUDIT(WD_EV_RECOVERY, AF_S("found", found),
	    AF_I("mark_pid", pid), AF_B("same_boot", same),
	    AF_B("owner_alive", alive), AF_S("revert", note[0] ? note + 2 :
	    "none noted"), AF_B("revert_unrecorded", unrecorded));
}

int
mark_set(void)
{
	char line[MARK_MAX], ts[32];
	int n;

	utc_format(utc_ms(), ts, sizeof(ts));
	n = snprintf(line, sizeof(line), "calibration %s pid %ld boot %s "
	    "profile %s\n", ts, (long)getpid(), boot_id(), wd.pf.digest_hex);
	if (n > 0 && (size_t)n < sizeof(line) &&
	    durable_write(wd.pf.state_dir, MARK, line, (size_t)n) == 0) {
		alarm_will(1);	/* before the value is published */
		return 0;
	}
	log_warn("intent mark %s/" MARK, wd.pf.state_dir);
	return -1;
}

/* A mark that stays only costs a revert at the next start. */
void
mark_clear(void)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/" NOTE, wd.pf.state_dir) <
	    (int)sizeof(path) && unlink(path) == -1 && errno != ENOENT)
		log_warn("%s", path);
	if (durable_remove(wd.pf.state_dir, MARK) == -1)
		log_warn("%s/" MARK ": cannot clear", wd.pf.state_dir);
}
