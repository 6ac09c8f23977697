/*
 * Signals as file descriptor events for a poll() loop (signalfd(2)): the
 * daemons turn SIGTERM and friends into an orderly, reverting shutdown
 * instead of dying where they stand.
 */
#ifndef GRIDCAL_SIGFD_H
#define GRIDCAL_SIGFD_H

/*
 * Blocks the signals of the 0-terminated list sigs and returns a
 * non-blocking, close-on-exec signalfd delivering them; -1 with errno.
 * A child must unblock them before exec (the mask is inherited).
 */
int	sigfd_open(const int *sigs);
/* The next pending signal's number; 0 if none is pending. */
int	sigfd_next(int fd);

#endif
