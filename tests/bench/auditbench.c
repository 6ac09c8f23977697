/*
 * gridcal-bench-audit: audit log throughput, side by side with its floors.
 *
 *   gridcal-bench-audit --dir DIR [--records N] [--nosync-records M]
 *
 * In a fresh directory under DIR (on the file system that is measured):
 *   floor_fsync  write(2) + fsync(2) of lines of the same length as the
 *                audit records: the least a durable log can do
 *   audit_fsync  audit_append() as the watchdog calls it: record, fsync,
 *                anchor replaced (tmp, fsync, rename, fsync directory)
 *   audit_group  the watchdog's group commit: GROUP_N records appended,
 *                then one audit_commit (fdatasync, anchor), as a loop turn
 *                commits its records; every record durable at its commit
 *   audit_nosync the same with fsync off: formatting and SHA-256 only
 *   hash_floor   SHA-256 of every line of the log written (what a verifier
 *                cannot avoid)
 *   verify       audit_verify_file() on that log: read, parse strictly,
 *                re-hash, check the chain and the anchor
 * Prints key=value lines (records per second, mean bytes per record).
 * The records are the mix of a grid run: watchdog events with their
 * fields and supervisor state/report texts.
 */
#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "audittest.h"
#include "auditread.h"

static double
now_s(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		err(1, "clock_gettime");
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One record of a run's mix; i picks which. */
static int
append_one(struct audit_log *log, unsigned i)
{
	static const char *const states[] = {
		"from=idle to=preflight", "from=preflight to=enable_charger",
		"from=enable_charger to=enable_output",
		"from=enable_output to=engaging",
		"from=engaging to=grid_charging",
		"from=grid_charging to=revert_output",
	};
	struct audit_field f[4];

	switch (i % 6) {
	case 0:
		f[0] = AF_S("setting", "output_priority");
		f[1] = AF_S("value", "solar_utility_battery");
		f[2] = AF_I("attempt", (int64_t)(i % 3 + 1));
		return audit_append(log, AUDIT_WATCHDOG, AUDIT_EV_PUBLISH, f, 3);
	case 1:
		f[0] = AF_S("setting", "charger_priority");
		f[1] = AF_S("value", "solar_and_utility");
		f[2] = AF_S("readback", "Solar and utility");
		return audit_append(log, AUDIT_WATCHDOG, AUDIT_EV_CONFIRMED, f,
		    3);
	case 2:
		f[0] = AF_S("text", states[i % 6]);
		return audit_append(log, AUDIT_SUPERVISOR, "state", f, 1);
	case 3:
		f[0] = AF_S("text", "reason=cell_over_limit cell_max=3.612 "
		    "pack=1");
		return audit_append(log, AUDIT_SUPERVISOR, "abort", f, 1);
	case 4:
		f[0] = AF_S("text", "outcome=pass reason=all_packs_anchored "
		    "soc_before=52.0,51.0,55.0,50.0,53.0,76.0 "
		    "soc_after=100.0,100.0,100.0,100.0,100.0,100.0 "
		    "spread_before=26.0 spread_after=0.0 lagging=");
		return audit_append(log, AUDIT_SUPERVISOR, AUDIT_EV_REPORT, f,
		    1);
	default:
		f[0] = AF_S("what", "cell_voltage_max");
		f[1] = AF_I("pack", 3);
		f[2] = AF_D("value", 3.4125);
		return audit_append(log, AUDIT_WATCHDOG, AUDIT_EV_ENVELOPE, f,
		    3);
	}
}

/* dir/name into buf, or exit: a path that does not fit is a usage error. */
static void
join(char *buf, size_t sz, const char *dir, const char *name)
{
	int k = snprintf(buf, sz, "%s/%s", dir, name);

	if (k < 0 || (size_t)k >= sz)
		errx(64, "path too long: %s/%s", dir, name);
}

static void
mkdirp(const char *path)
{
	if (mkdir(path, 0700) == -1)
		err(1, "mkdir %s", path);
}

#define GROUP_N	8	/* records per commit: a revert's loop turn writes ~5 */

/* Writes n records (group: commit every GROUP_N); records per second. */
static double
run_audit(const char *dir, unsigned n, int nosync, int group, off_t *bytes)
{
	char logp[PATH_MAX], state[PATH_MAX], e[AUDIT_ERR_MAX];
	struct audit_log log;
	struct stat st;
	double t0, t1;

	join(logp, sizeof(logp), dir, "audit.jsonl");
	join(state, sizeof(state), dir, "state");
	mkdirp(state);
	if (audit_open(&log, logp, state, e, sizeof(e)) == -1)
		errx(1, "audit_open: %s", e);
	audit_set_nosync(&log, nosync);
	if (audit_set_run(&log, "bench-1") == -1 ||
	    (group && audit_set_group(&log, 1) == -1))
		errx(1, "audit_set_run, audit_set_group");
	t0 = now_s();
	for (unsigned i = 0; i < n; i++)
		if (append_one(&log, i) == -1 || (group && (i + 1) % GROUP_N ==
		    0 && audit_commit(&log) == -1))
			err(1, "audit_append %u", i);
	if (group && audit_commit(&log) == -1)
		err(1, "audit_commit");
	t1 = now_s();
	audit_close(&log);
	if (stat(logp, &st) == -1)
		err(1, "%s", logp);
	*bytes = st.st_size;
	return (double)n / (t1 - t0);
}

/* write + fsync of n lines of len bytes each. */
static double
run_floor(const char *dir, unsigned n, size_t len)
{
	char path[PATH_MAX], *line;
	double t0, t1;
	int fd;

	join(path, sizeof(path), dir, "floor.log");
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) == -1)
		err(1, "%s", path);
	if ((line = malloc(len)) == NULL)
		err(1, "malloc");
	memset(line, 'x', len);
	line[len - 1] = '\n';
	t0 = now_s();
	for (unsigned i = 0; i < n; i++) {
		if (write(fd, line, len) != (ssize_t)len)
			err(1, "write");
		if (fsync(fd) == -1)
			err(1, "fsync");
	}
	t1 = now_s();
	free(line);
	(void)close(fd);
	return (double)n / (t1 - t0);
}

/* SHA-256 of every line of the log. */
static double
run_hash(const char *logp, unsigned long *lines)
{
	struct audit_reader *rd;
	const char *line;
	char hex[AUDIT_HASH_HEX + 1];
	size_t len;
	double t0, t1;
	enum audit_rd r;

	if ((rd = malloc(sizeof(*rd))) == NULL)
		err(1, "malloc");
	*lines = 0;
	t0 = now_s();
	if (audit_reader_open(rd, logp) == -1)
		err(1, "%s", logp);
	while ((r = audit_reader_next(rd, &line, &len)) == AUDIT_RD_LINE) {
		audit_hash(line, len, hex);
		(*lines)++;
	}
	audit_reader_close(rd);
	t1 = now_s();
	free(rd);
	if (r != AUDIT_RD_EOF)
		errx(1, "%s: read error %d", logp, (int)r);
	return (double)*lines / (t1 - t0);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) == -1 ? -1 : 0;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: gridcal-bench-audit --dir DIR [--records N] "
	    "[--nosync-records M]\n");
	exit(64);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "records", required_argument, NULL, 'n' },
		{ "nosync-records", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	const char *base = NULL, *errstr;
	char dir[PATH_MAX], sub[PATH_MAX], logp[PATH_MAX], state[PATH_MAX];
	unsigned n = 300, m = 20000;
	unsigned long lines;
	double floor_rate, sync_rate, nosync_rate, hash_rate, verify_rate, group_rate;
	double t0, t1;
	off_t bytes_sync, bytes_nosync, bytes_group;
	struct audit_verifier *v;
	size_t reclen;
	int ch;

	while ((ch = getopt_long(argc, argv, "d:n:m:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			base = optarg;
			break;
		case 'n':
			n = (unsigned)strtonum(optarg, 1, 1000000, &errstr);
			if (errstr != NULL)
				errx(64, "records %s: %s", optarg, errstr);
			break;
		case 'm':
			m = (unsigned)strtonum(optarg, 1, 10000000, &errstr);
			if (errstr != NULL)
				errx(64, "nosync-records %s: %s", optarg, errstr);
			break;
		default:
			usage();
		}
	}
	if (base == NULL || optind != argc)
		usage();
	(void)snprintf(dir, sizeof(dir), "%s/audit-bench-XXXXXX", base);
	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp %s", dir);

	/* durable first, then the floor with the same line length */
	join(sub, sizeof(sub), dir, "sync");
	mkdirp(sub);
	sync_rate = run_audit(sub, n, 0, 0, &bytes_sync);
	reclen = (size_t)(bytes_sync / (off_t)n);
	floor_rate = run_floor(dir, n, reclen);
	join(sub, sizeof(sub), dir, "group");
	mkdirp(sub);
	group_rate = run_audit(sub, n, 0, 1, &bytes_group);

	join(sub, sizeof(sub), dir, "nosync");
	mkdirp(sub);
	nosync_rate = run_audit(sub, m, 1, 0, &bytes_nosync);

	join(logp, sizeof(logp), sub, "audit.jsonl");
	join(state, sizeof(state), sub, "state");
	hash_rate = run_hash(logp, &lines);
	if ((v = malloc(sizeof(*v))) == NULL)
		err(1, "malloc");
	audit_verifier_init(v, AUDIT_UTC_SLACK_MS);
	t0 = now_s();
	if (audit_verify_file(logp, state, v) == -1)
		errx(1, "verify: %s", v->why);
	t1 = now_s();
	if (v->records != m)
		errx(1, "verify: %llu records, want %u",
		    (unsigned long long)v->records, m);
	verify_rate = (double)m / (t1 - t0);
	free(v);

	printf("dir=%s\nrecord_bytes=%zu\nfsync_records=%u\n"
	    "floor_fsync_per_s=%.1f\naudit_fsync_per_s=%.1f\n"
	    "group_records=%d\naudit_group_per_s=%.1f\n"
	    "nosync_records=%u\naudit_nosync_per_s=%.0f\n"
	    "hash_floor_per_s=%.0f\nverify_per_s=%.0f\n", dir, reclen, n,
	    floor_rate, sync_rate, GROUP_N, group_rate, m, nosync_rate, hash_rate, verify_rate);
	if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == -1)
		warn("cleaning up %s", dir);
	return 0;
}
