/*
 * The one exit-status table of gridcal-watchdog and gridcal-supervisor
 * (gridcal-watchdog(8) and gridcal-supervisor(8) EXIT STATUS, README).
 * Outcomes of a run are small numbers, the supervisor's check classes
 * 10-13, errors sysexits(3). The same outcome has the same number in both
 * programs: a script or a systemd unit need not know which one ran.
 */
#ifndef GRIDCAL_EXITCODES_H
#define GRIDCAL_EXITCODES_H

#define GC_EX_PASS		0	/* calibrate PASS; check balanced */
#define GC_EX_FAIL		1
#define GC_EX_ABORTED		2
#define GC_EX_REFUSED		3	/* nothing changed */
#define GC_EX_CANCELLED		4	/* by a signal */
#define GC_EX_SUPERVISOR	5	/* watchdog: the supervisor failed */
#define GC_EX_DRIFT		10	/* check: calibrate */
#define GC_EX_IMBALANCE		11	/* check: investigate the battery */
#define GC_EX_UNSAFE		12
#define GC_EX_NODATA		13	/* check: no complete snapshot in time */
#define GC_EX_USAGE		64	/* EX_USAGE */
#define GC_EX_BROKER		69	/* EX_UNAVAILABLE: broker refused us */
#define GC_EX_SOFTWARE		70	/* EX_SOFTWARE: internal error */
#define GC_EX_OSERR		71	/* EX_OSERR */
#define GC_EX_CANTCREAT		73	/* EX_CANTCREAT */
#define GC_EX_IOERR		74	/* EX_IOERR */
#define GC_EX_LOCKED		75	/* EX_TEMPFAIL: another watchdog */
#define GC_EX_NOPERM		77	/* EX_NOPERM */
#define GC_EX_CONFIG		78	/* EX_CONFIG: profile, credentials */

#endif
