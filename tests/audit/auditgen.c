/*
 * gridcal-auditgen: makes big audit logs with the real writer and measures
 * gridcal-audit on them (`make bench-audit`; never part of `make check`).
 *
 *   gridcal-auditgen --audit BIN [--dir DIR] [--records N]
 *                    [--sync-records M] [--keep]
 *
 * Writes runs of a grid calibration's event mix (start ... end, about 20
 * records each, supervisor texts included) without fsync (N records, and
 * N/10 for comparison) and with fsync (M records), then runs BIN verify,
 * show and report on them in child processes, reporting records/s and
 * each child's peak RSS (wait4). Verify's RSS on N and N/10 records shows
 * whether memory grows with the log. Output: key=value lines.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

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

#include "auditread.h"
#include "audittest.h"
#include "clock.h"

static double
now_s(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		err(1, "clock_gettime");
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
must(int rc, unsigned i)
{
	if (rc == -1)
		err(1, "audit_append (record %u)", i);
}

/* Record i of an endless sequence of 20-record grid runs. */
static void
append_one(struct audit_log *al, unsigned i)
{
	char run[32];
	struct audit_field f[6];
	unsigned k = i % 20;

	if (k == 0) {
		(void)snprintf(run, sizeof(run), "bench-%u", i / 20);
		if (audit_set_run(al, run) == -1)
			errx(1, "audit_set_run");
		f[0] = AF_S("profile_digest", "9b1e0c55a2d4");
		f[1] = AF_S("command", "calibrate");
		f[2] = AF_S("method", "grid");
		f[3] = AF_B("authorised", 1);
		f[4] = AF_I("watchdog_uid", 0);
		f[5] = AF_I("supervisor_uid", 998);
		must(audit_append(al, AUDIT_WATCHDOG, AUDIT_EV_START, f, 6), i);
		return;
	}
	switch (k) {
	case 1:
		f[0] = AF_S("text", "class=drift soc=51.0,52.0,50.0,55.0,"
		    "53.0,76.0 spread=26.0 vspread=0.04");
		must(audit_append(al, AUDIT_SUPERVISOR, AUDIT_EV_PREFLIGHT,
		    f, 1), i);
		return;
	case 15:
		f[0] = AF_S("text", "outcome=pass reason=verified method=grid "
		    "soc_before=51.0,52.0,50.0,55.0,53.0,76.0 soc_after=100.0,"
		    "100.0,99.5,100.0,100.0,100.0 spread_before=26.0 "
		    "spread_after=0.5 lagging= duration_s=7200.0");
		must(audit_append(al, AUDIT_SUPERVISOR, AUDIT_EV_REPORT, f, 1),
		    i);
		return;
	case 16:
		f[0] = AF_S("reason", "done");
		must(audit_append(al, AUDIT_WATCHDOG, AUDIT_EV_REVERT_TRIGGER,
		    f, 1), i);
		return;
	case 17:
		f[0] = AF_I("attempts", 1);
		f[1] = AF_I("ms", 4100);
		must(audit_append(al, AUDIT_WATCHDOG,
		    AUDIT_EV_REVERT_CONFIRMED, f, 2), i);
		return;
	case 18:
		f[0] = AF_S("outcome", "pass");
		f[1] = AF_S("reason", "verified");
		must(audit_append(al, AUDIT_WATCHDOG, AUDIT_EV_OUTCOME, f, 2),
		    i);
		return;
	case 19:
		must(audit_append(al, AUDIT_WATCHDOG, AUDIT_EV_END, NULL, 0),
		    i);
		return;
	}
	if (k % 2 == 0) {
		f[0] = AF_S("setting", "output_priority");
		f[1] = AF_S("value", "solar_utility_battery");
		f[2] = AF_I("attempt", 1);
		must(audit_append(al, AUDIT_WATCHDOG, AUDIT_EV_PUBLISH, f, 3), i);
	} else {
		f[0] = AF_S("setting", "output_priority");
		f[1] = AF_S("value", "solar_utility_battery");
		f[2] = AF_S("readback", "SUB");
		must(audit_append(al, AUDIT_WATCHDOG, AUDIT_EV_CONFIRMED, f, 3),
		    i);
	}
}

/* Writes n records; returns records per second. */
static double
generate(const char *logp, const char *state, unsigned n, int sync)
{
	struct audit_log al;
	char e[AUDIT_ERR_MAX];
	double t0;

	if (mkdir(state, 0700) == -1)
		err(1, "%s", state);
	if (audit_open(&al, logp, state, e, sizeof(e)) == -1)
		errx(1, "audit_open: %s", e);
	audit_set_nosync(&al, !sync);
	t0 = now_s();
	for (unsigned i = 0; i < n; i++)
		append_one(&al, i);
	t0 = now_s() - t0;
	audit_close(&al);
	return (double)n / t0;
}

/* Runs BIN args > /dev/null; elapsed seconds and peak RSS in KiB. */
static int
measure(char *const argv[], double *secs, long *maxrss_kb)
{
	struct rusage ru;
	double t0 = now_s();
	pid_t pid;
	int st;

	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd == -1 || dup2(fd, STDOUT_FILENO) == -1)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	if (wait4(pid, &st, 0, &ru) == -1)
		err(1, "wait4");
	*secs = now_s() - t0;
	*maxrss_kb = ru.ru_maxrss;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int
rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static void
bench_cmd(const char *bin, const char *what, const char *logp,
    const char *state, unsigned n)
{
	char *argv[6];
	double secs;
	long rss;
	int rc, i = 0;

	argv[i++] = (char *)bin;
	argv[i++] = (char *)what;
	argv[i++] = (char *)logp;
	if (strcmp(what, "verify") == 0) {
		argv[i++] = (char *)"--state-dir";
		argv[i++] = (char *)state;
	}
	argv[i] = NULL;
	rc = measure(argv, &secs, &rss);
	printf("%s_records=%u\n%s_exit=%d\n%s_per_s=%.0f\n"
	    "%s_peak_rss_kib=%ld\n", what, n, what, rc, what,
	    (double)n / secs, what, rss);
	if (rc != 0)
		errx(1, "%s exited %d", what, rc);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "audit", required_argument, NULL, 'a' },
		{ "dir", required_argument, NULL, 'd' },
		{ "records", required_argument, NULL, 'n' },
		{ "sync-records", required_argument, NULL, 's' },
		{ "keep", no_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bin = NULL, *base = "/tmp", *errstr;
	char dir[PATH_MAX], big[PATH_MAX + 16], small[PATH_MAX + 16];
	char synced[PATH_MAX + 16], bs[PATH_MAX + 16], ss[PATH_MAX + 16];
	char ys[PATH_MAX + 16];
	unsigned n = 1000000, m = 2000;
	int ch, keep = 0;
	double r;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			bin = optarg;
			break;
		case 'd':
			base = optarg;
			break;
		case 'n':
			n = (unsigned)strtonum(optarg, 10, 100000000, &errstr);
			if (errstr != NULL)
				errx(64, "--records %s: %s", optarg, errstr);
			break;
		case 's':
			m = (unsigned)strtonum(optarg, 1, 1000000, &errstr);
			if (errstr != NULL)
				errx(64, "--sync-records %s: %s", optarg,
				    errstr);
			break;
		case 'k':
			keep = 1;
			break;
		default:
			errx(64, "usage: gridcal-auditgen --audit BIN [--dir DIR]"
			    " [--records N] [--sync-records M] [--keep]");
		}
	}
	if (bin == NULL)
		errx(64, "--audit BIN is required");
	(void)snprintf(dir, sizeof(dir), "%s/gridcal-auditgen.XXXXXX", base);
	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp %s", dir);
	(void)snprintf(big, sizeof(big), "%s/big.log", dir);
	(void)snprintf(bs, sizeof(bs), "%s/big.state", dir);
	(void)snprintf(small, sizeof(small), "%s/small.log", dir);
	(void)snprintf(ss, sizeof(ss), "%s/small.state", dir);
	(void)snprintf(synced, sizeof(synced), "%s/sync.log", dir);
	(void)snprintf(ys, sizeof(ys), "%s/sync.state", dir);
	printf("dir=%s\n", dir);

	r = generate(synced, ys, m, 1);
	printf("write_fsync_records=%u\nwrite_fsync_per_s=%.0f\n", m, r);
	r = generate(small, ss, n / 10, 0);
	printf("write_nosync_small_records=%u\nwrite_nosync_small_per_s=%.0f\n",
	    n / 10, r);
	r = generate(big, bs, n, 0);
	printf("write_nosync_records=%u\nwrite_nosync_per_s=%.0f\n", n, r);
	{
		struct stat st;

		if (stat(big, &st) == 0)
			printf("log_bytes=%lld\nbytes_per_record=%.0f\n",
			    (long long)st.st_size, (double)st.st_size / n);
	}
	bench_cmd(bin, "verify", small, ss, n / 10);
	bench_cmd(bin, "verify", big, bs, n);
	bench_cmd(bin, "show", big, bs, n);
	bench_cmd(bin, "report", big, bs, n);
	(void)fflush(stdout);
	if (!keep && nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS) == -1)
		warn("removing %s", dir);
	return 0;
}
