/*
 * gridcal-bench: `make bench` and `make bench-peer`. One loopback broker
 * (the harness's, with set_tcp_nodelay true), one probe, and every reactor
 * measured side by side in the same run, interleaved, so that whatever
 * else the machine is doing falls on all of them alike and the ratios
 * stay meaningful when the absolute figures do not.
 *
 *   gridcal-bench [--runs N] [--hb-runs N] [--flood-runs N] [--peer]
 *       [--scenario FILE] [--json FILE] [--quick] [--reactors-only]
 *       [--phases abort,hb,full,flood,cost,audit] [--flood-window N]
 *
 * README.md "Performance" says how each figure is taken and what it
 * means. Nothing here is a test: no figure is compared with a target
 * except to print "within" or "EXCEEDED" next to the profile's own
 * limits. Phases, in order: abort latency (gridcal runs interleaved with
 * floor and peer trips, and the tmpfs ablation), heartbeat loss, one full
 * calibration (peak RSS), the flood, cost, audit.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "harness.h"
#include "profile.h"
#include "report.h"

extern char **environ;

#define FLOOR_OUT	"gridcal/watchdog/bench/floor"
#define PEER_OUT	"gridcal/watchdog/bench/peer"
#define PLANT_STATUS	"plant/status"
#define TRIP_TIMEOUT_MS	5000
/* A cell over the limit stays over it: the site publishes it again every
 * telemetry period (the plant's) until something reacts. */
#define TRIP_REPEAT_MS	HPLANT_DEFAULT_PERIOD_MS
#define ARM_TIMEOUT_MS	40000
#define EXIT_TIMEOUT_MS	40000
#define GC_MAX_FAILS	3	/* consecutive failed runs: stop trying */

struct opts o = {
	.runs = 100, .hb_runs = 20, .flood_runs = 100, .reactor_per_run = 3,
	.scenario = "reference.yaml", .json = "build/bench.json",
	.phases = PH_ALL,
};
struct results R;

static struct hbroker br;
static struct profile pf;
static struct probe pr;
static char workdir[PATH_MAX], prof_path[PATH_MAX];
/* private copies of the gridcal programs, taken once at the start: every
 * run uses the same binaries, whatever others rebuild meanwhile */
static char bin_wd[PATH_MAX], bin_sup[PATH_MAX], bin_plant[PATH_MAX];
/* and of the shim: the supervisor's user must be able to map it */
static char bin_shim[PATH_MAX];
/* the ablation: the same profile with the audit log and state on tmpfs */
static char shm_dir[PATH_MAX], shm_prof[PATH_MAX], shm_audit[PATH_MAX];
static char cell_topic[PROFILE_TOPIC_MAX], ctl_out[PROFILE_TOPIC_MAX];
static char trip_value[16], ok_value[16];
/* the values of a trip's repeats (each its own, so the supervisor's read
 * tells which publish reached it) and the prefix all of them share */
static char repeat_val[9][16], trip_prefix[16];
static const char *repeat_ptr[9];
static int nrepeat;
static const char *everyday, *calib;
static struct hproc floor_p, peer_p, plant_p;
static bool plant_up;
/* trips a reactor could not have answered (before it was subscribed) */
static uint64_t floor_base, peer_base;
static int gc_fails, gc_seq;
static bool flood_window_set;	/* --flood-window given */
/* The heartbeat_lost count of the phase running (NULL: not counted): a
 * run that failed before its trip still counts its lost heartbeats. */
static unsigned *cur_hblost;

/* ---- small helpers ---- */

/*
 * The probe is the clock of every latency here: it must not wait for a
 * core behind the work it measures (a reactor's bookkeeping after its
 * publish, the plant taking the value), or the figure says more about the
 * scheduler than about the reactor. SCHED_FIFO for this process only
 * (reset on fork: the broker, the plant and every reactor run as usual);
 * it only ever sleeps in poll(), and the kernel's RT throttling bounds it.
 */
static void
probe_realtime(void)
{
	struct sched_param sp = { .sched_priority = 1 };

	if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) == -1)
		note("probe not real-time (%s): a busy core delays its "
		    "readings", strerror(errno));
	else
		R.probe_rt = true;
}

/* dir/name+ext into buf; a path that does not fit ends the bench. */
static void
pathf(char *buf, size_t sz, const char *dir, const char *name,
    const char *ext)
{
	int n = snprintf(buf, sz, "%s/%s%s", dir, name, ext);

	if (n < 0 || (size_t)n >= sz)
		errx(1, "path too long: %s/%s%s", dir, name, ext);
}

static bool
executable(const char *rel)
{
	char p[PATH_MAX];

	return harness_path(p, sizeof(p), rel) == 0 && access(p, X_OK) == 0;
}

/* A random pause of 0..max_ms, so that trips do not lock onto the plant's
 * publishing period or the reactors' timers. */
static void
jitter(int max_ms)
{
	sleep_ms((int64_t)arc4random_uniform((uint32_t)max_ms + 1));
}

/* Reads "key=value" lines of a file into a malloc'd text. */
static char *
slurp(const char *path)
{
	return harness_read_file(path, NULL);
}

/* key=<number> in a text of key=value words; -1 if absent. */
int
kv_num(const char *text, const char *key, double *out)
{
	size_t kl = strlen(key);

	for (const char *p = text; p != NULL && *p != '\0'; ) {
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			char *end;

			*out = strtod(p + kl + 1, &end);
			return end == p + kl + 1 ? -1 : 0;
		}
		p += strcspn(p, " \n");
		p += strspn(p, " \n");
	}
	return -1;
}

/* Runs argv to completion with stdout (and stderr) to files in the work
 * directory; returns stdout's text (malloc'd) or NULL. */
static char *
run_capture(char *const argv[], const char *tag, int64_t timeout_ms,
    char **errtext)
{
	char out[PATH_MAX], errp[PATH_MAX];
	struct hproc p;
	char *text;

	pathf(out, sizeof(out), workdir, tag, ".out");
	pathf(errp, sizeof(errp), workdir, tag, ".err");
	if (hproc_spawn(&p, argv, NULL, out, errp) == -1)
		return NULL;
	if (hproc_wait(&p, timeout_ms) == -1) {
		(void)hproc_stop(&p, 1000);
		warnx("%s: timed out", tag);
		return NULL;
	}
	if (errtext != NULL)
		*errtext = slurp(errp);
	if (hproc_exit_code(&p) != 0) {
		char *e = slurp(errp);

		warnx("%s: exit %d: %s", tag, hproc_exit_code(&p),
		    e != NULL ? e : "");
		free(e);
		return NULL;
	}
	text = slurp(out);
	return text;
}

/* ---- the audit log, read as it grows ---- */

/*
 * Looks for a line holding both needles in the audit log from *off on;
 * *off moves past every complete line read. 1 found, 0 not (yet).
 */
static int
audit_scan(const char *path, off_t *off, const char *n1, const char *n2,
    unsigned *count)
{
	char buf[65536];
	ssize_t n;
	int fd, found = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	while ((n = pread(fd, buf, sizeof(buf) - 1, *off)) > 0) {
		char *p = buf, *nl;

		buf[n] = '\0';
		while ((nl = memchr(p, '\n', (size_t)(buf + n - p))) != NULL) {
			*nl = '\0';
			if (strstr(p, n1) != NULL &&
			    (n2 == NULL || strstr(p, n2) != NULL)) {
				found = 1;
				if (count != NULL)
					(*count)++;
			}
			*off += nl + 1 - p;
			p = nl + 1;
			if (found && count == NULL)
				break;
		}
		if ((found && count == NULL) || p == buf)
			break;	/* found, or a partial line: later */
	}
	(void)close(fd);
	return found;
}

static off_t
audit_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == -1 ? 0 : st.st_size;
}

/* ---- the plant ---- */

static int
plant_start(void)
{
	struct hplant_opts po = { .speed = o.plant_speed,
	    .binary = bin_plant[0] != '\0' ? bin_plant : NULL };
	uint64_t before = probe_latest(&pr, PLANT_STATUS, NULL, 0, NULL);
	int64_t deadline = now_ns() + 10000LL * 1000000;

	if (hplant_start(&plant_p, &br, prof_path, o.scenario, &po) == -1)
		return -1;
	plant_up = true;
	/* ready once its truth and a full round of telemetry are out */
	while (now_ns() < deadline) {
		if (probe_pump(&pr, 10) == -1)
			return -1;
		if (probe_latest(&pr, PLANT_STATUS, NULL, 0, NULL) >= before + 3)
			return 0;
		if (hproc_poll(&plant_p)) {
			warnx("gridcal-plant exited: see %s", plant_p.err_path);
			plant_up = false;
			return -1;
		}
	}
	warnx("gridcal-plant: no status in time");
	return -1;
}

static void
plant_stop(void)
{
	if (plant_up)
		(void)hplant_stop(&plant_p, NULL, 0);
	plant_up = false;
}

/* ---- the reactors: floor, peer ---- */

static int
floor_start(void)
{
	char bin[PATH_MAX], cred[PATH_MAX], out[PATH_MAX], errp[PATH_MAX];
	char *argv[] = { bin, (char *)"--profile", prof_path, (char *)"--cred",
	    cred, (char *)"--topic", (char *)FLOOR_OUT, NULL };

	if (harness_path(bin, sizeof(bin), "build/bench/gridcal-bench-floor") ==
	    -1 || hbroker_cred_path(&br, "watchdog", cred, sizeof(cred)) == -1)
		return -1;
	pathf(out, sizeof(out), workdir, "floor.out", "");
	pathf(errp, sizeof(errp), workdir, "floor.err", "");
	return hproc_spawn(&floor_p, argv, NULL, out, errp);
}

/* Trips until the reactor answers: it is connected and subscribed. */
static int
reactor_ready(const char *out, int64_t timeout_ms)
{
	int64_t deadline = now_ns() + timeout_ms * 1000000;

	while (now_ns() < deadline) {
		if (probe_trip(&pr, cell_topic, trip_value, out, everyday,
		    500, 0, NULL) >= 0)
			return 0;
		(void)probe_publish(&pr, cell_topic, ok_value);
	}
	return -1;
}

/*
 * Every reactor answers every trip value (floor and peer both watch the
 * cells): wait until each has answered all of them, so that no answer
 * from an earlier trip can be taken for the next one's.
 */
static void
settle(void)
{
	int64_t deadline = now_ns() + 2000000000LL;

	while (now_ns() < deadline) {
		if (probe_latest(&pr, FLOOR_OUT, NULL, 0, NULL) + floor_base >=
		    pr.trips && (!R.peer_ran || probe_latest(&pr, PEER_OUT,
		    NULL, 0, NULL) + peer_base >= pr.trips))
			return;
		if (probe_pump(&pr, 2) == -1)
			return;
	}
	fprintf(stderr, "bench: reactors did not settle: %llu trips, floor "
	    "%llu, peer %llu answers\n", (unsigned long long)pr.trips,
	    (unsigned long long)probe_latest(&pr, FLOOR_OUT, NULL, 0, NULL),
	    (unsigned long long)probe_latest(&pr, PEER_OUT, NULL, 0, NULL));
}

/* Node-RED stopped answering (it can, under the flood): not sampled on. */
static bool peer_gone;

/*
 * Each reactor is measured alone. They all watch the same cells, so every
 * trip wakes each of them, and on 2 cores the ones not measured race the
 * one that is: the broker hands the trip to its subscribers in the order
 * they subscribed, and a reactor woken first takes the core the measured
 * one would have had. That order is the bench's, not the reactor's. So
 * the others are stopped (SIGSTOP, seen in /proc) before the trip and
 * continued after it; they answer it late, and settle() waits for that
 * before the next trip. A trip under which they all react is kept as a
 * row of its own (R.abort_gc_crowd), so the difference stays visible.
 */
enum { RX_FLOOR = 1, RX_PEER = 2, RX_GRIDCAL = 4 };

/*
 * Not under the flood: there every reactor is behind on the flood, and one
 * stopped for a trip (or for the 5 s a silent Node-RED takes to time out)
 * comes back to a backlog it never works off (one run: 87 of 90 floor trips
 * lost). The flood rows are all taken with every reactor reading.
 */
static bool isolate = true;

static bool
proc_stopped(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return true;	/* gone: it races nobody */
	n = fread(buf, 1, sizeof(buf) - 1, f);
	(void)fclose(f);
	buf[n] = '\0';
	/* "pid (comm) S ...": comm may hold spaces, the state follows ')' */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return false;
	return p[2] == 'T' || p[2] == 't';
}

static void
hold_one(struct hproc *p, bool stop)
{
	int64_t deadline = now_ns() + 1000000000LL;

	if (p->pid <= 0 || p->exited)
		return;
	if (hproc_signal(p, stop ? SIGSTOP : SIGCONT) == -1) {
		note("%s %s: %s", stop ? "SIGSTOP" : "SIGCONT", p->name,
		    strerror(errno));
		return;
	}
	while (stop && !proc_stopped(p->pid) && now_ns() < deadline)
		sleep_ms(1);
}

/* Stops (or continues) every reactor but the one measured (RX_*). */
static void
reactors_hold(unsigned measured, bool stop)
{
	if (!isolate)
		return;
	if (!(measured & RX_FLOOR))
		hold_one(&floor_p, stop);
	if (!(measured & RX_PEER) && R.peer_ran)
		hold_one(&peer_p, stop);
}

/* One timed trip of a reactor; the cell goes back to normal after. */
static void
reactor_sample(const char *out, struct samples *s)
{
	static int peer_lost_row;
	unsigned before = s->repeats;
	double ms;

	unsigned me = strcmp(out, PEER_OUT) == 0 ? RX_PEER : RX_FLOOR;

	jitter(20);
	reactors_hold(me, true);
	ms = probe_trip(&pr, cell_topic, trip_value, out, everyday,
	    TRIP_TIMEOUT_MS, TRIP_REPEAT_MS, &s->repeats);
	reactors_hold(me, false);
	if (s->repeats != before)
		s->late++;
	if (ms < 0) {
		s->lost++;
		fprintf(stderr, "bench: no answer on %s within %d ms\n", out,
		    TRIP_TIMEOUT_MS);
	} else
		samples_add(s, ms);
	if (strcmp(out, PEER_OUT) == 0 && (peer_lost_row = ms < 0 ?
	    peer_lost_row + 1 : 0) == 3) {
		peer_gone = true;
		note("peer: no answer to 3 trips in a row; not sampled after");
	}
	(void)probe_publish(&pr, cell_topic, ok_value);
	settle();
}

/* Under the flood: one floor (and peer) trip per gridcal run, not
 * reactor_per_run. With 100 gridcal runs that is still 100 floor trips
 * (p99 not the max), and a Node-RED that answers the flood late (5 s per
 * lost trip) costs no more time than the 30 runs x 3 trips did. */
static int rounds_per_run;

static void
reactors_round(struct samples *fl, struct samples *pe)
{
	int rounds = rounds_per_run > 0 ? rounds_per_run : o.reactor_per_run;

	for (int i = 0; i < rounds; i++) {
		/* alternate the order so neither always goes first */
		if ((i + gc_seq) % 2 == 0) {
			reactor_sample(FLOOR_OUT, fl);
			if (R.peer_ran && !peer_gone)
				reactor_sample(PEER_OUT, pe);
		} else {
			if (R.peer_ran && !peer_gone)
				reactor_sample(PEER_OUT, pe);
			reactor_sample(FLOOR_OUT, fl);
		}
	}
}

/* ---- gridcal runs ---- */

struct gcrun {
	struct hproc	wd;
	char		hbfile[PATH_MAX];	/* heartbeats the watchdog read */
	char		sentfile[PATH_MAX];	/* ... the supervisor sent */
	char		syncfile[PATH_MAX];	/* the watchdog's fsync times */
	char		suptrip[PATH_MAX];	/* the hops of the trip: the */
	char		wdtrip[PATH_MAX];	/* supervisor's, the watchdog's */
	char		supfifo[PATH_MAX];	/* the supervisor's shim's FIFO */
	int		supfd;			/* and its read end, -1 */
	char		errpath[PATH_MAX];
	const char	*profile;	/* the run's profile */
	const char	*audit;		/* and its audit log */
	int64_t		spawn_ns;
	off_t		audit_off;	/* the run's first record */
	off_t		scan_off;
	int		sup_pid;
};

/*
 * What the watchdog and the supervisor were doing while the bench waited
 * on a run: every PS_EVERY_MS their state (R running or runnable, S
 * sleeping, D in the kernel), CPU time, run delay, wait channel and
 * syscall from /proc, the last PS_N kept. A run that fails keeps them
 * with its stderr: they say whether a lost heartbeat was a process that
 * had no core (R, run delay growing), one blocked (S/D and where), or one
 * spinning (R, CPU time growing).
 */
#define PS_N		150
#define PS_EVERY_MS	20
struct psample {
	int64_t	 t_ms;		/* CLOCK_MONOTONIC, as the audit's mono_ms */
	char	 state;
	double	 cpu_ms, delay_ms;
	char	 wchan[32], sys[48];
};
static struct psample ps_ring[2][PS_N];	/* 0 watchdog, 1 supervisor */
static int ps_len[2], ps_head[2], ps_pid[2];
static int64_t ps_next;

static void
ps_reset(void)
{
	memset(ps_len, 0, sizeof(ps_len));
	memset(ps_head, 0, sizeof(ps_head));
	memset(ps_pid, 0, sizeof(ps_pid));
	ps_next = 0;
}

static void
ps_take(int who, int pid)
{
	struct psample *p = &ps_ring[who][(ps_head[who] + ps_len[who]) % PS_N];
	char path[64], buf[512], *q;
	long hz = sysconf(_SC_CLK_TCK);
	unsigned long long ut = 0, st = 0;
	long long run, delay;
	FILE *f;

	memset(p, 0, sizeof(*p));
	p->t_ms = now_ns() / 1000000;
	p->state = '?';
	p->delay_ms = -1;
	(void)snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return;		/* gone */
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    (q = strrchr(buf, ')')) != NULL && q[1] == ' ') {
		p->state = q[2];
		if (sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
		    "%llu %llu", &ut, &st) == 2 && hz > 0)
			p->cpu_ms = (double)(ut + st) * 1000.0 / (double)hz;
	}
	(void)fclose(f);
	(void)snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", pid,
	    pid);
	if ((f = fopen(path, "r")) != NULL) {
		if (fscanf(f, "%lld %lld", &run, &delay) == 2)
			p->delay_ms = (double)delay / 1e6;
		(void)fclose(f);
	}
	(void)snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	if ((f = fopen(path, "r")) != NULL) {
		if (fgets(p->wchan, sizeof(p->wchan), f) == NULL)
			p->wchan[0] = '\0';
		(void)fclose(f);
	}
	(void)snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	if ((f = fopen(path, "r")) != NULL) {
		if (fgets(p->sys, sizeof(p->sys), f) == NULL)
			p->sys[0] = '\0';
		p->sys[strcspn(p->sys, "\n")] = '\0';
		/* "nr arg1 ... sp pc": the number and the first argument */
		if ((q = strchr(p->sys, ' ')) != NULL &&
		    (q = strchr(q + 1, ' ')) != NULL)
			*q = '\0';
		(void)fclose(f);
	}
	if (ps_len[who] < PS_N)
		ps_len[who]++;
	else
		ps_head[who] = (ps_head[who] + 1) % PS_N;
}

/* A sample of both, if one is due. */
static void
ps_sample(struct gcrun *g)
{
	int64_t t = now_ns() / 1000000;

	if (t < ps_next || g->wd.pid <= 0 || g->wd.exited)
		return;
	ps_next = t + PS_EVERY_MS;
	ps_pid[0] = g->wd.pid;
	if (ps_pid[1] <= 0)
		ps_pid[1] = proc_first_child(g->wd.pid);
	ps_take(0, ps_pid[0]);
	if (ps_pid[1] > 0)
		ps_take(1, ps_pid[1]);
}

static void
ps_write(FILE *f)
{
	static const char *const who[2] = { "watchdog", "supervisor" };

	for (int w = 0; w < 2; w++) {
		fprintf(f, "== /proc samples of the %s (pid %d), every %d ms, "
		    "the last %d: mono_ms state cpu_ms run_delay_ms wchan "
		    "syscall\n", who[w], ps_pid[w], PS_EVERY_MS, ps_len[w]);
		for (int i = 0; i < ps_len[w]; i++) {
			const struct psample *p =
			    &ps_ring[w][(ps_head[w] + i) % PS_N];

			fprintf(f, "%lld %c %.0f %.1f %s %s\n",
			    (long long)p->t_ms, p->state, p->cpu_ms,
			    p->delay_ms, p->wchan[0] != '\0' ? p->wchan : "-",
			    p->sys[0] != '\0' ? p->sys : "-");
		}
	}
}

/* A grid run with the main profile, or the one with the audit on tmpfs. */
static int
gc_spawn(struct gcrun *g, bool tmpfs)
{
	static char *envp[512];
	static char pre[PATH_MAX + 16], recvenv[PATH_MAX + 32];
	static char syncenv[PATH_MAX + 32];
	static char fifoenv[PATH_MAX + 32], wdenv[PATH_MAX + 32];
	static char tripenv[2][PROFILE_TOPIC_MAX + 32];
	static char ctlenv[2][PROFILE_TOPIC_MAX + 32];
	char bin[PATH_MAX], shim[PATH_MAX], tag[32], out[PATH_MAX];
	char *argv[] = { bin, (char *)"--profile",
	    tmpfs ? shm_prof : prof_path, (char *)"calibrate",
	    (char *)"--method", (char *)"grid", (char *)"--confirm", NULL };
	size_t n = 0;

	memset(g, 0, sizeof(*g));
	g->supfd = -1;
	ps_reset();
	cur_hblost = NULL;	/* the caller says which count, if any */
	g->profile = tmpfs ? shm_prof : prof_path;
	g->audit = tmpfs ? shm_audit : pf.audit_log;
	gc_seq++;
	(void)snprintf(tag, sizeof(tag), "wd-%d", gc_seq);
	if (strlcpy(bin, bin_wd, sizeof(bin)) >= sizeof(bin) ||
	    strlcpy(shim, bin_shim, sizeof(shim)) >= sizeof(shim))
		return -1;
	pathf(g->hbfile, sizeof(g->hbfile), workdir, tag, ".hb");
	pathf(g->sentfile, sizeof(g->sentfile), workdir, tag, ".sent");
	pathf(g->syncfile, sizeof(g->syncfile), workdir, tag, ".fsync");
	pathf(g->suptrip, sizeof(g->suptrip), workdir, tag, ".suptrip");
	pathf(g->wdtrip, sizeof(g->wdtrip), workdir, tag, ".wdtrip");
	pathf(g->supfifo, sizeof(g->supfifo), workdir, tag, ".supfifo");
	pathf(out, sizeof(out), workdir, tag, ".out");
	pathf(g->errpath, sizeof(g->errpath), workdir, tag, ".err");
	/* the supervisor runs as the profile's user: its file is made for it */
	if (harness_write_file(g->hbfile, "", 0600) == -1 ||
	    harness_write_file(g->syncfile, "", 0600) == -1 ||
	    harness_write_file(g->sentfile, "", 0600) == -1 ||
	    harness_write_file(g->wdtrip, "", 0600) == -1 ||
	    harness_write_file(g->suptrip, "", 0600) == -1)
		return -1;
	/* the supervisor's lines come through a FIFO (hbshim.c says why);
	 * ours is the read end, held until the run has ended */
	if (mkfifo(g->supfifo, 0600) == -1 ||
	    (g->supfd = open(g->supfifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) ==
	    -1)
		return -1;
	(void)fcntl(g->supfd, F_SETPIPE_SZ, 1 << 20);
	(void)snprintf(fifoenv, sizeof(fifoenv), "GRIDCAL_HBSHIM_SUPFIFO=%s",
	    g->supfifo);
	(void)snprintf(wdenv, sizeof(wdenv), "GRIDCAL_HBSHIM_WDTRIP=%s",
	    g->wdtrip);
	(void)snprintf(tripenv[0], sizeof(tripenv[0]),
	    "GRIDCAL_HBSHIM_TRIP_TOPIC=%s", cell_topic);
	(void)snprintf(tripenv[1], sizeof(tripenv[1]),
	    "GRIDCAL_HBSHIM_TRIP_PREFIX=%s", trip_prefix);
	(void)snprintf(ctlenv[0], sizeof(ctlenv[0]),
	    "GRIDCAL_HBSHIM_CTL_TOPIC=%s", ctl_out);
	(void)snprintf(ctlenv[1], sizeof(ctlenv[1]),
	    "GRIDCAL_HBSHIM_CTL_VALUE=%s", everyday);
	(void)snprintf(pre, sizeof(pre), "LD_PRELOAD=%s", shim);
	(void)snprintf(recvenv, sizeof(recvenv), "GRIDCAL_HBSHIM_RECV=%s",
	    g->hbfile);
	(void)snprintf(syncenv, sizeof(syncenv), "GRIDCAL_HBSHIM_FSYNC=%s",
	    g->syncfile);
	for (char **e = environ; *e != NULL && n < 500; e++)
		if (strncmp(*e, "LD_PRELOAD=", 11) != 0 &&
		    strncmp(*e, "GRIDCAL_HBSHIM_", 15) != 0)
			envp[n++] = *e;
	envp[n++] = pre;
	envp[n++] = recvenv;
	envp[n++] = syncenv;
	envp[n++] = fifoenv;
	envp[n++] = wdenv;
	envp[n++] = tripenv[0];
	envp[n++] = tripenv[1];
	envp[n++] = ctlenv[0];
	envp[n++] = ctlenv[1];
	envp[n] = NULL;
	g->audit_off = g->scan_off = audit_size(g->audit);
	g->spawn_ns = now_ns();
	if (hproc_spawn(&g->wd, argv, envp, out, g->errpath) == -1) {
		(void)close(g->supfd);
		g->supfd = -1;
		return -1;
	}
	return 0;
}

/* What the supervisor's shim wrote to the FIFO so far, into g->suptrip. */
static void
gc_drain(struct gcrun *g)
{
	char buf[65536];
	ssize_t n;
	int fd = -1;

	while (g->supfd != -1 && (n = read(g->supfd, buf, sizeof(buf))) > 0) {
		if (fd == -1 && (fd = open(g->suptrip, O_WRONLY | O_APPEND |
		    O_CLOEXEC)) == -1)
			break;
		if (write(fd, buf, (size_t)n) != n)
			break;
	}
	if (fd != -1)
		(void)close(fd);
}

/* The run has ended: the FIFO drained and closed; the supervisor's
 * heartbeat stamps ("hs NS") into g->sentfile, one time a line. */
static void
gc_close_io(struct gcrun *g)
{
	char line[256];
	long long t;
	FILE *in, *out;

	if (g->supfd == -1)
		return;
	gc_drain(g);
	(void)close(g->supfd);
	g->supfd = -1;
	if ((in = fopen(g->suptrip, "r")) == NULL)
		return;
	if ((out = fopen(g->sentfile, "w")) != NULL) {
		while (fgets(line, sizeof(line), in) != NULL)
			if (sscanf(line, "hs %lld", &t) == 1)
				fprintf(out, "%lld\n", t);
		(void)fclose(out);
	}
	(void)fclose(in);
}

/*
 * A failed run explains itself only through its whole stderr (the
 * watchdog's, with the supervisor's forwarded into it): the first line is
 * usually a warning every bench run prints (no audit.key: the bench does
 * not run gridcal-setup), the cause comes later. So the stderr, the
 * stdout and the audit records of the run are kept together in one file
 * under build/bench/failed/ (the work directory is removed at exit), and
 * the report prints its path and last lines.
 */
static int	gc_wait_exit(struct gcrun *, int64_t);


static void
gc_keep_failure(struct gcrun *g, const char *what)
{
	char dir[PATH_MAX], path[PATH_MAX], name[64];
	const char *wtag = strrchr(workdir, '-');
	char *e = slurp(g->errpath), *out = slurp(g->wd.out_path);
	char *log = harness_read_file(g->audit, NULL);
	FILE *f;
	int k = R.nfails;

	if (k == (int)(sizeof(R.fails) / sizeof(R.fails[0])))
		k = -1;		/* kept, not listed */
	(void)snprintf(name, sizeof(name), "%s-wd-%d.txt",
	    wtag != NULL ? wtag + 1 : "bench", gc_seq);
	if (harness_path(dir, sizeof(dir), "build/bench/failed") == -1 ||
	    (mkdir(dir, 0755) == -1 && errno != EEXIST))
		dir[0] = '\0';
	pathf(path, sizeof(path), dir[0] != '\0' ? dir : workdir, name, "");
	if ((f = fopen(path, "w")) != NULL) {
		fprintf(f, "gridcal run %d: %s, watchdog exit %d\n"
		    "== stderr (%s)\n%s\n== stdout\n%s\n== audit records "
		    "of the run (%s from offset %lld)\n%s\n", gc_seq, what,
		    hproc_exit_code(&g->wd), g->errpath, e != NULL ? e : "",
		    out != NULL ? out : "", g->audit, (long long)g->audit_off,
		    log != NULL && (off_t)strlen(log) >= g->audit_off ?
		    log + g->audit_off : "");
		ps_write(f);
		if (fclose(f) != 0)
			path[0] = '\0';
	} else
		path[0] = '\0';
	if (log != NULL && (off_t)strlen(log) >= g->audit_off) {
		unsigned lost = 0;

		for (const char *p = log + g->audit_off; (p = strstr(p,
		    "\"event\":\"heartbeat_lost\"")) != NULL; p++)
			lost++;
		if (cur_hblost != NULL)
			*cur_hblost += lost;
		if (k >= 0)
			R.fails[k].hb_lost = lost;
	}
	if (k >= 0) {
		const char *end, *p;
		int n = 0;

		R.fails[k].seq = gc_seq;
		R.fails[k].exit = hproc_exit_code(&g->wd);
		(void)strlcpy(R.fails[k].what, what, sizeof(R.fails[k].what));
		(void)strlcpy(R.fails[k].path, path[0] != '\0' ? path :
		    "(not kept)", sizeof(R.fails[k].path));
		/* the last FAIL_TAIL_LINES lines, in order */
		if (e != NULL) {
			end = e + strlen(e);
			while (end > e && end[-1] == '\n')
				end--;
			for (p = end; p > e && n < FAIL_TAIL_LINES; n++) {
				p--;
				while (p > e && p[-1] != '\n')
					p--;
			}
			for (int i = 0; i < n && p < end; i++) {
				size_t len = strcspn(p, "\n");

				(void)snprintf(R.fails[k].tail[i],
				    sizeof(R.fails[k].tail[i]), "%.*s",
				    (int)len, p);
				p += len + 1;
			}
			R.fails[k].ntail = n;
		}
		R.nfails++;
	}
	free(e);
	free(out);
	free(log);
}

/* A run that failed: kept, counted, and one line in the notes. */
static void
gc_note_failure(struct gcrun *g, const char *what)
{
	gc_fails++;
	gc_keep_failure(g, what);
	note("gridcal run %d: %s (watchdog exit %d; stderr kept: see "
	    "\"Failed gridcal runs\")", gc_seq, what, hproc_exit_code(&g->wd));
}

/*
 * Until the supervisor is in grid_charging (its state record in the audit
 * log) with the settings held. 0 armed, -1 not.
 */
static int
gc_wait_armed(struct gcrun *g)
{
	int64_t deadline = now_ns() + ARM_TIMEOUT_MS * 1000000LL;

	while (now_ns() < deadline) {
		if (probe_pump(&pr, 5) == -1)
			return -1;
		gc_drain(g);
		ps_sample(g);
		if (audit_scan(g->audit, &g->scan_off, "\"event\":\"state\"",
		    "to=grid_charging", NULL)) {
			g->sup_pid = proc_first_child(g->wd.pid);
			return 0;
		}
		if (hproc_poll(&g->wd)) {
			gc_close_io(g);
			gc_note_failure(g, "ended before grid charging");
			return -1;
		}
	}
	/* its stderr is complete only once it has ended */
	(void)gc_wait_exit(g, 5000);
	gc_note_failure(g, "not grid charging in time");
	return -1;
}

static int
gc_wait_exit(struct gcrun *g, int64_t timeout_ms)
{
	int64_t deadline = now_ns() + timeout_ms * 1000000;

	while (now_ns() < deadline) {
		(void)probe_pump(&pr, 5);
		gc_drain(g);
		ps_sample(g);
		if (hproc_poll(&g->wd)) {
			gc_close_io(g);
			return 0;
		}
	}
	note("gridcal run %d: watchdog still running after %lld ms; stopped",
	    gc_seq, (long long)timeout_ms);
	(void)hproc_stop(&g->wd, 3000);
	gc_close_io(g);
	return -1;
}

/* Gaps between consecutive time stamps of a shim file, in ms. */
static void
hb_gaps(const char *path, struct samples *gaps)
{
	int64_t *t;
	long n = hb_read(path, &t);

	for (long i = 1; i < n; i++)
		samples_add(gaps, (double)(t[i] - t[i - 1]) / 1e6);
	free(t);
}

/*
 * The first heartbeat after the spawn; the gaps between the heartbeats
 * the watchdog read, and between those the supervisor sent (which tells
 * whose stall a long gap was).
 */
static void
gc_heartbeats(struct gcrun *g, struct samples *startup, struct samples *gaps,
    struct samples *sent_gaps)
{
	int64_t *t;
	long n = hb_read(g->hbfile, &t);

	if (n > 0 && startup != NULL)
		samples_add(startup, (double)(t[0] - g->spawn_ns) / 1e6);
	free(t);
	if (gaps != NULL)
		hb_gaps(g->hbfile, gaps);
	if (sent_gaps != NULL)
		hb_gaps(g->sentfile, sent_gaps);
}

/* How a gridcal abort sample runs: the ablations. */
#define GC_TMPFS	1	/* audit log and state on tmpfs */
#define GC_CROWD	2	/* floor and peer not stopped: all react */

/*
 * One abort sample: a fresh plant, a grid run up to grid_charging, the
 * trip, and the revert on the control topic. Returns -1 if the run could
 * not be brought to the point of the trip.
 */
static int
gc_abort_sample(struct samples *lat, struct samples *gaps,
    struct samples *sent_gaps, unsigned *hblost, unsigned how)
{
	bool tmpfs = (how & GC_TMPFS) != 0;
	struct gcrun g;
	struct trip_ctx ctx = { 0 };
	struct trip_hops hops;
	double ms;
	unsigned before;

	plant_stop();
	if (plant_start() == -1) {
		note("plant did not start; see %s", plant_p.err_path);
		gc_fails++;
		return -1;
	}
	if (gc_spawn(&g, tmpfs) == -1) {
		gc_fails++;
		return -1;
	}
	cur_hblost = hblost;
	if (gc_wait_armed(&g) == -1) {
		(void)gc_wait_exit(&g, 5000);
		return -1;
	}
	jitter(20);
	before = lat->repeats;
	if (!(how & GC_CROWD))
		reactors_hold(RX_GRIDCAL, true);
	/* the run delays at the trip, read before its clock starts */
	ctx.seq = gc_seq;
	ctx.sup_delay0 = g.sup_pid > 0 ? proc_run_delay_ns(g.sup_pid) : -1;
	ctx.wd_delay0 = proc_run_delay_ns(g.wd.pid);
	pr.repeat_vals = repeat_ptr;
	pr.nrepeat_vals = nrepeat;
	ms = probe_trip(&pr, cell_topic, trip_value, ctl_out, everyday,
	    TRIP_TIMEOUT_MS, TRIP_REPEAT_MS, &lat->repeats);
	/* and at its end: the probe (SCHED_FIFO) is here right after R */
	ctx.sup_delay1 = g.sup_pid > 0 ? proc_run_delay_ns(g.sup_pid) : -1;
	ctx.wd_delay1 = proc_run_delay_ns(g.wd.pid);
	pr.repeat_vals = NULL;
	pr.nrepeat_vals = 0;
	ctx.got_ns = ms >= 0 ? pr.got_ns : 0;
	ctx.npub = pr.npub;
	for (int i = 0; i < pr.npub && i < 16; i++) {
		ctx.pub_ns[i] = pr.pub_ns[i];
		ctx.values[i] = i == 0 || nrepeat == 0 ? trip_value :
		    repeat_ptr[i - 1 < nrepeat ? i - 1 : nrepeat - 1];
	}
	if (!(how & GC_CROWD))
		reactors_hold(RX_GRIDCAL, false);
	if (lat->repeats != before)
		lat->late++;
	if (ms < 0)
		lat->lost++;
	else
		samples_add(lat, ms);
	(void)probe_publish(&pr, cell_topic, ok_value);
	if (gc_wait_exit(&g, EXIT_TIMEOUT_MS) == 0 &&
	    hproc_exit_code(&g.wd) != 2) {
		gc_keep_failure(&g, "exit after the trip not 2 (ABORTED)");
		note("gridcal run %d: watchdog exit %d after the trip, want 2 "
		    "(ABORTED)", gc_seq, hproc_exit_code(&g.wd));
	}
	gc_heartbeats(&g, &R.startup, gaps, sent_gaps);
	/* where the time went: the main rows only (not the ablations) */
	if (how == 0 && ms >= 0) {
		struct hopset *hs = lat == &R.flood_gc ? &R.hops_flood :
		    &R.hops_quiet;

		if (hops_read(g.suptrip, g.wdtrip, &ctx, &hops) == -1 &&
		    hops.seq == 0)
			hops.seq = gc_seq;
		hops.total_ms = ms;
		hopset_add(hs, &hops);
	}
	{
		int64_t *d;
		long k = hb_read(g.syncfile, &d);
		struct samples *fs = tmpfs ? NULL : lat == &R.flood_gc ?
		    &R.fsync_flood : &R.fsync_quiet;

		for (long i = 0; fs != NULL && i < k; i++)
			samples_add(fs, (double)d[i] / 1e6);
		free(d);
	}
	if (hblost != NULL) {
		off_t off = g.audit_off;

		(void)audit_scan(g.audit, &off, "\"event\":\"heartbeat_lost\"",
		    NULL,
		    hblost);
	}
	cur_hblost = NULL;
	gc_fails = 0;
	return 0;
}

static bool
gc_usable(void)
{
	if (!R.gridcal_available)
		return false;
	if (gc_fails >= GC_MAX_FAILS) {
		if (!R.gridcal_gave_up)
			note("gridcal: %d runs in a row failed; the remaining "
			    "gridcal measurements are skipped", gc_fails);
		R.gridcal_gave_up = true;
		return false;
	}
	return true;
}

/* ---- phase 1: abort reaction latency ---- */

static void
phase_abort(void)
{
	fprintf(stderr, "bench: abort latency, %d gridcal runs\n", o.runs);
	if (!R.gridcal_available && plant_start() == -1)
		note("plant unavailable: floor and peer measured without "
		    "background telemetry");
	for (int i = 0; i < o.runs; i++) {
		if (gc_usable())
			(void)gc_abort_sample(&R.abort_gc, &R.hb_gaps_quiet,
			    &R.hb_sent_quiet, &R.hb_lost_quiet, 0);
		else
			gc_seq++;
		/* the ablation, interleaved: every third run once more with
		 * the audit log and the state directory on tmpfs */
		if (i % 3 == 1 && shm_prof[0] != '\0' && gc_usable())
			(void)gc_abort_sample(&R.abort_gc_tmpfs, NULL, NULL,
			    NULL, GC_TMPFS);
		/* and with the other reactors reacting to the same trip */
		if (i % 3 == 2 && gc_usable())
			(void)gc_abort_sample(&R.abort_gc_crowd, NULL, NULL,
			    NULL, GC_CROWD);
		reactors_round(&R.abort_floor, &R.abort_peer);
		if ((i + 1) % 10 == 0)
			fprintf(stderr, "bench:   %d/%d\n", i + 1, o.runs);
	}
}

/* ---- phase 2: heartbeat-loss revert ---- */

static void
phase_heartbeat(void)
{
	int64_t timeout_ns = pf.timing.heartbeat_timeout_ms * 1000000;

	fprintf(stderr, "bench: heartbeat loss, %d runs\n", o.hb_runs);
	for (int i = 0; i < o.hb_runs && gc_usable(); i++) {
		struct gcrun g;
		int64_t stop_ns, *t, last = 0;
		long n;

		plant_stop();
		if (plant_start() == -1 || gc_spawn(&g, false) == -1) {
			gc_fails++;
			continue;
		}
		if (gc_wait_armed(&g) == -1) {
			(void)gc_wait_exit(&g, 5000);
			continue;
		}
		if (g.sup_pid <= 0) {
			note("heartbeat run %d: no supervisor process found",
			    gc_seq);
			(void)gc_wait_exit(&g, 1);
			continue;
		}
		jitter((int)pf.timing.heartbeat_interval_ms);
		(void)strlcpy(pr.want_topic, ctl_out, sizeof(pr.want_topic));
		(void)strlcpy(pr.want_payload, everyday,
		    sizeof(pr.want_payload));
		pr.got_ns = 0;
		stop_ns = now_ns();
		if (kill(g.sup_pid, SIGSTOP) == -1) {
			note("SIGSTOP %d: %s", g.sup_pid, strerror(errno));
			(void)gc_wait_exit(&g, 1);
			continue;
		}
		while (pr.got_ns == 0 &&
		    now_ns() < stop_ns + timeout_ns + 10000000000LL)
			(void)probe_pump(&pr, 5);
		pr.want_topic[0] = '\0';
		(void)kill(g.sup_pid, SIGCONT);
		n = hb_read(g.hbfile, &t);
		for (long k = 0; k < n; k++)
			if (t[k] <= stop_ns)
				last = t[k];
		free(t);
		if (pr.got_ns == 0 || last == 0)
			R.hb_over.lost++;
		else {
			samples_add(&R.hb_over,
			    (double)(pr.got_ns - last - timeout_ns) / 1e6);
			samples_add(&R.hb_total,
			    (double)(pr.got_ns - last) / 1e6);
		}
		(void)gc_wait_exit(&g, EXIT_TIMEOUT_MS);
		/* how much of the overshoot was noticing: the watchdog's
		 * heartbeat_lost record says how old the heartbeat was */
		{
			char *log = harness_read_file(g.audit, NULL);
			const char *p = log == NULL ? NULL :
			    strstr(log + g.audit_off, "\"age_ms\":");
			double age;

			if (p != NULL && (age = strtod(p + 9, NULL)) > 0)
				samples_add(&R.hb_detect,
				    age - (double)pf.timing.heartbeat_timeout_ms);
			free(log);
		}
		gc_heartbeats(&g, &R.startup, NULL, NULL);
		gc_fails = 0;
		reactors_round(&R.abort_floor, &R.abort_peer);
	}
}

/* ---- phase 3: deadlines under a telemetry flood ---- */

static int
flood_start(struct hproc *p, const char *tag, const char *profile,
    int window, int seconds)
{
	char bin[PATH_MAX], cred[PATH_MAX], out[PATH_MAX], errp[PATH_MAX];
	char win[16], secs[16];
	char *argv[] = { bin, (char *)"--profile", (char *)profile,
	    (char *)"--cred", cred, (char *)"--window", win,
	    (char *)"--seconds", secs, NULL };

	(void)snprintf(win, sizeof(win), "%d", window);
	(void)snprintf(secs, sizeof(secs), "%d", seconds);
	if (harness_path(bin, sizeof(bin), "build/bench/gridcal-bench-flood") ==
	    -1 || hbroker_cred_path(&br, "plant", cred, sizeof(cred)) == -1)
		return -1;
	pathf(out, sizeof(out), workdir, tag, ".out");
	pathf(errp, sizeof(errp), workdir, tag, ".err");
	return hproc_spawn(p, argv, NULL, out, errp);
}

/* SIGTERM the flooder; its rate, or -1. */
static double
flood_stop(struct hproc *p, double *acked)
{
	char *text;
	double rate = -1;

	(void)hproc_stop(p, 5000);
	if ((text = slurp(p->out_path)) != NULL) {
		if (kv_num(text, "rate", &rate) == -1)
			rate = -1;
		if (acked != NULL && kv_num(text, "acked", acked) == -1)
			*acked = 0;
		free(text);
	}
	return rate;
}

/* Messages the floor has received, asked with SIGUSR1; -1 if unknown. */
static double
floor_received(void)
{
	char line[128];
	double v;
	int64_t deadline = now_ns() + 1000000000LL;
	off_t size0 = 0;
	struct stat st;

	if (stat(floor_p.out_path, &st) == 0)
		size0 = st.st_size;
	if (hproc_signal(&floor_p, SIGUSR1) == -1)
		return -1;
	while (now_ns() < deadline) {
		if (stat(floor_p.out_path, &st) == 0 && st.st_size > size0 &&
		    harness_last_line(floor_p.out_path, line,
		    sizeof(line)) == 0 && kv_num(line, "received", &v) == 0)
			return v;
		sleep_ms(2);
	}
	return -1;
}

/*
 * The highest rate the broker sustains: short floods with a growing
 * window of unacknowledged messages; a window counts only if the floor (a
 * subscriber to every flooded topic) received the whole flood, i.e. the
 * broker did not shed messages to keep up. The best such window is used
 * for the flood phase and the end-to-end cost.
 */
static void
flood_calibrate(void)
{
	static const int windows[] = { 4, 16, 64, 256, 1024 };
	int best = 0;

	for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
		struct hproc fl;
		double r0, r1, rate, acked = 0;
		char tag[32];

		(void)snprintf(tag, sizeof(tag), "flood-w%d", windows[i]);
		r0 = floor_received();
		if (flood_start(&fl, tag, prof_path, windows[i], 2) == -1)
			break;
		(void)hproc_wait(&fl, 10000);
		rate = flood_stop(&fl, &acked);
		sleep_ms(200);		/* the last deliveries */
		r1 = floor_received();
		R.flood_try[i].window = windows[i];
		R.flood_try[i].rate = rate;
		R.flood_try[i].delivered = r0 >= 0 && r1 >= 0 && acked > 0 ?
		    (r1 - r0) / acked : -1;
		/* the plant's own telemetry is counted too: at least all */
		if (rate > 0 && R.flood_try[i].delivered >= 0.999 &&
		    rate > R.flood_try[best].rate * 1.02)
			best = (int)i;
	}
	if (R.flood_try[best].rate > 0)
		o.flood_window = windows[best];
}

static void
phase_flood(void)
{
	struct hproc fl;
	double acked = 0;

	fprintf(stderr, "bench: under a telemetry flood, %d gridcal runs\n",
	    o.flood_runs);
	/* --flood-window: that window, not the calibrated one (to repeat
	 * a run's flood where a loaded machine cannot calibrate it) */
	if (!flood_window_set)
		flood_calibrate();
	isolate = false;
	if (flood_start(&fl, "flood", prof_path, o.flood_window, 3600) == -1) {
		note("flooder did not start");
		return;
	}
	rounds_per_run = 1;
	sleep_ms(1000);
	for (int i = 0; i < o.flood_runs; i++) {
		if (gc_usable())
			(void)gc_abort_sample(&R.flood_gc, &R.hb_gaps_flood,
			    &R.hb_sent_flood, &R.hb_lost_flood, 0);
		else
			gc_seq++;
		reactors_round(&R.flood_floor, &R.flood_peer);
	}
	if (!R.gridcal_available || R.gridcal_gave_up)
		/* floor and peer alone: give them a comparable stretch */
		for (int i = 0; i < 100; i++)
			reactors_round(&R.flood_floor, &R.flood_peer);
	rounds_per_run = 0;
	R.flood_rate = flood_stop(&fl, &acked);
	R.flood_msgs = acked;
}

/* ---- phase 4: cost ---- */

/*
 * The ingest path end to end: a flood, no plant, and the supervisor in
 * `check` mode (its poll loop and telemetry store, waiting for a snapshot
 * that never completes), the floor and the peer all subscribed. CPU time
 * of each over a few seconds against the messages the broker took.
 */
static void
cost_e2e(void)
{
	char tmpl_path[PATH_MAX], ing_prof[PATH_MAX], err[256], bin[PATH_MAX];
	char *tmpl, *text = NULL;
	struct hprofile_kv kv[] = { { "timing.preflight_wait_s", "60" } };
	struct hproc sup, fl;
	double c0[5], c1[5], rate, t0, t1;
	int pids[5];

	if (bin_sup[0] == '\0')
		return;
	if (harness_path(tmpl_path, sizeof(tmpl_path),
	    "profiles/sim.yaml.in") == -1 ||
	    (tmpl = harness_read_file(tmpl_path, NULL)) == NULL)
		return;
	if (hprofile_render(tmpl, &br, kv, 1, &text, err, sizeof(err)) == -1) {
		note("ingest profile: %s", err);
		free(tmpl);
		return;
	}
	free(tmpl);
	pathf(ing_prof, sizeof(ing_prof), workdir, "ingest.yaml", "");
	if (harness_write_file(ing_prof, text, 0600) == -1) {
		free(text);
		return;
	}
	free(text);
	(void)strlcpy(bin, bin_sup, sizeof(bin));
	{
		char out[PATH_MAX], errp[PATH_MAX];
		char *argv[] = { bin, (char *)"--profile", ing_prof,
		    (char *)"check", NULL };

		pathf(out, sizeof(out), workdir, "ingest-sup.out", "");
		pathf(errp, sizeof(errp), workdir, "ingest-sup.err", "");
		if (hproc_spawn(&sup, argv, NULL, out, errp) == -1)
			return;
	}
	plant_stop();
	sleep_ms(300);
	if (flood_start(&fl, "flood-cost", prof_path, o.flood_window, 3600) ==
	    -1) {
		(void)hproc_stop(&sup, 1000);
		return;
	}
	sleep_ms(1500);		/* connected, rate settled */
	pids[0] = sup.pid;
	pids[1] = floor_p.pid;
	pids[2] = R.peer_ran ? peer_p.pid : 0;
	pids[3] = br.proc.pid;
	pids[4] = fl.pid;
	/* the flooder reports only at exit: its rate is over the whole flood */
	for (int i = 0; i < 5; i++)
		c0[i] = pids[i] > 0 ? proc_cpu_s(pids[i]) : -1;
	t0 = (double)now_ns() / 1e9;
	sleep_ms(5000);
	for (int i = 0; i < 5; i++)
		c1[i] = pids[i] > 0 ? proc_cpu_s(pids[i]) : -1;
	t1 = (double)now_ns() / 1e9;
	rate = flood_stop(&fl, NULL);
	if (hproc_poll(&sup)) {
		note("ingest: the supervisor's check ended early (exit %d); "
		    "see %s", hproc_exit_code(&sup), sup.err_path);
		return;
	}
	(void)hproc_stop(&sup, 2000);
	if (rate <= 0)
		return;
	R.e2e_rate = rate;
	for (int i = 0; i < 5; i++) {
		R.e2e_util[i] = c0[i] < 0 || c1[i] < 0 ? -1 :
		    (c1[i] - c0[i]) / (t1 - t0);
		/* messages per CPU second: the rate the broker took divided
		 * by the share of one core the process used */
		R.e2e_per_cpu_s[i] = R.e2e_util[i] > 0 ? rate / R.e2e_util[i] :
		    -1;
	}
	(void)plant_start();
}

/* Instructions per message from two callgrind runs. */
static double
callgrind_ir(const char *mode)
{
	char bin[PATH_MAX], prof[PATH_MAX], cnt[2][16], tag[32];
	double ir[2] = { 0, 0 };
	const long counts[2] = { 100000, 200000 };

	if (harness_path(bin, sizeof(bin), "build/bench/gridcal-bench-tm") ==
	    -1 || harness_path(prof, sizeof(prof),
	    "profiles/eg4-lp4-v2.yaml") == -1)
		return -1;
	for (int i = 0; i < 2; i++) {
		char *argv[] = { (char *)"/usr/bin/valgrind",
		    (char *)"--tool=callgrind",
		    (char *)"--callgrind-out-file=/dev/null", bin,
		    (char *)"--profile", prof, (char *)"--mode", (char *)mode,
		    (char *)"--count", cnt[i], NULL };
		char *e = NULL, *out, *p;

		(void)snprintf(cnt[i], sizeof(cnt[i]), "%ld", counts[i]);
		(void)snprintf(tag, sizeof(tag), "callgrind-%s-%d", mode, i);
		if ((out = run_capture(argv, tag, 120000, &e)) == NULL) {
			free(e);
			return -1;
		}
		free(out);
		if (e == NULL || (p = strstr(e, "Collected :")) == NULL) {
			free(e);
			return -1;
		}
		ir[i] = strtod(p + strlen("Collected :"), NULL);
		free(e);
	}
	return (ir[1] - ir[0]) / (double)(counts[1] - counts[0]);
}

static void
cost_micro(void)
{
	char bin[PATH_MAX], prof[PATH_MAX];
	const char *modes[2] = { "ingest", "floor" };

	if (harness_path(bin, sizeof(bin), "build/bench/gridcal-bench-tm") ==
	    -1 || harness_path(prof, sizeof(prof),
	    "profiles/eg4-lp4-v2.yaml") == -1)
		return;
	for (int m = 0; m < 2; m++) {
		char *argv[] = { bin, (char *)"--profile", prof,
		    (char *)"--mode", (char *)modes[m], (char *)"--count",
		    (char *)"3000000", NULL };
		char tag[32], *out;
		double v;

		(void)snprintf(tag, sizeof(tag), "tm-%s", modes[m]);
		/* best of three: the least disturbed by the other core */
		for (int k = 0; k < 3; k++) {
			if ((out = run_capture(argv, tag, 60000, NULL)) == NULL)
				break;
			if (kv_num(out, "ns_per_msg", &v) == 0 &&
			    (R.tm_ns[m] == 0 || v < R.tm_ns[m]))
				R.tm_ns[m] = v;
			free(out);
		}
	}
	if (access("/usr/bin/valgrind", X_OK) == 0) {
		R.tm_ir[0] = callgrind_ir("ingest");
		R.tm_ir[1] = callgrind_ir("floor");
	} else
		note("valgrind not installed: no instruction counts");
}

/* Peak RSS and CPU of watchdog and supervisor over one full calibration. */
static void
cost_full_run(void)
{
	struct gcrun g;
	long hwm;
	double cpu;

	if (!gc_usable())
		return;
	fprintf(stderr, "bench: one full grid calibration\n");
	plant_stop();
	if (plant_start() == -1 || gc_spawn(&g, false) == -1)
		return;
	while (!hproc_poll(&g.wd)) {
		int sup = proc_first_child(g.wd.pid);

		(void)probe_pump(&pr, 10);
		gc_drain(&g);
		if ((hwm = proc_hwm_kb(g.wd.pid)) > R.rss_kb[0])
			R.rss_kb[0] = hwm;
		if ((cpu = proc_cpu_s(g.wd.pid)) > R.full_cpu_s[0])
			R.full_cpu_s[0] = cpu;
		if (sup > 0) {
			if ((hwm = proc_hwm_kb(sup)) > R.rss_kb[1])
				R.rss_kb[1] = hwm;
			if ((cpu = proc_cpu_s(sup)) > R.full_cpu_s[1])
				R.full_cpu_s[1] = cpu;
		}
		if (now_ns() - g.spawn_ns > 300000000000LL) {
			note("full calibration: still running after 300 s");
			(void)hproc_stop(&g.wd, 5000);
			break;
		}
	}
	gc_close_io(&g);
	R.full_s = (double)(now_ns() - g.spawn_ns) / 1e9;
	R.full_exit = hproc_exit_code(&g.wd);
	if (R.full_exit != 0)
		gc_keep_failure(&g, "full calibration not PASS");
	if (R.full_exit != 0)
		note("full calibration: watchdog exit %d, want 0 (PASS)",
		    R.full_exit);
	gc_heartbeats(&g, &R.startup, NULL, NULL);
	R.rss_kb[2] = proc_hwm_kb(floor_p.pid);
	if (R.peer_ran)
		R.rss_kb[3] = proc_hwm_kb(peer_p.pid);
	R.rss_kb[4] = proc_hwm_kb(br.proc.pid);
}

static void
cost_sizes(void)
{
	const char *bins[] = { "build/gridcal-watchdog",
	    "build/gridcal-supervisor", "build/bench/gridcal-bench-floor" };

	for (int i = 0; i < 3; i++) {
		char p[PATH_MAX], tag[32];
		char *argv[] = { (char *)"/usr/bin/size", p, NULL };
		struct stat st;
		char *out, *line;
		unsigned long text, data, bss;

		if (i < 2 && (i == 0 ? bin_wd : bin_sup)[0] != '\0')
			(void)strlcpy(p, i == 0 ? bin_wd : bin_sup, sizeof(p));
		else if (harness_path(p, sizeof(p), bins[i]) == -1)
			continue;
		if (stat(p, &st) == -1)
			continue;
		R.size[i].file = (long)st.st_size;
		(void)snprintf(tag, sizeof(tag), "size-%d", i);
		if ((out = run_capture(argv, tag, 10000, NULL)) == NULL)
			continue;
		/* "   text	   data	    bss	    dec	    hex	filename" */
		if ((line = strchr(out, '\n')) != NULL &&
		    sscanf(line + 1, "%lu %lu %lu", &text, &data, &bss) == 3) {
			R.size[i].text = (long)text;
			R.size[i].data = (long)data;
			R.size[i].bss = (long)bss;
		}
		free(out);
	}
}

/* ---- phase 5: audit ---- */

static void
phase_audit(void)
{
	char bin[PATH_MAX], dir[PATH_MAX];
	char *argv[] = { bin, (char *)"--dir", dir, NULL };
	char *out;

	fprintf(stderr, "bench: audit log\n");
	if (harness_path(bin, sizeof(bin), "build/bench/gridcal-bench-audit") ==
	    -1 || harness_path(dir, sizeof(dir), "build") == -1)
		return;
	if ((out = run_capture(argv, "audit", 300000, NULL)) == NULL) {
		note("audit bench failed");
		return;
	}
	(void)kv_num(out, "record_bytes", &R.audit.record_bytes);
	(void)kv_num(out, "floor_fsync_per_s", &R.audit.floor_fsync);
	(void)kv_num(out, "audit_fsync_per_s", &R.audit.fsync);
	(void)kv_num(out, "audit_nosync_per_s", &R.audit.nosync);
	(void)kv_num(out, "audit_group_per_s", &R.audit.group);
	(void)kv_num(out, "hash_floor_per_s", &R.audit.hash);
	(void)kv_num(out, "verify_per_s", &R.audit.verify);
	free(out);

	/* the CLI on the log this bench's runs wrote */
	if (executable("build/gridcal-audit") && audit_size(pf.audit_log) > 0) {
		char cli[PATH_MAX], sd[PATH_MAX];
		char *av[] = { cli, (char *)"verify", pf.audit_log,
		    (char *)"--state-dir", sd, NULL };
		off_t off = 0;
		unsigned lines = 0;
		int64_t t0;

		(void)audit_scan(pf.audit_log, &off, "\"seq\":", NULL, &lines);
		if (harness_path(cli, sizeof(cli), "build/gridcal-audit") ==
		    -1)
			return;
		(void)strlcpy(sd, pf.state_dir, sizeof(sd));
		t0 = now_ns();
		if ((out = run_capture(av, "audit-verify", 60000, NULL)) !=
		    NULL) {
			R.audit.cli_s = (double)(now_ns() - t0) / 1e9;
			R.audit.cli_records = lines;
			free(out);
		} else
			note("gridcal-audit verify failed on the bench's log");
	}
}

/* ---- set-up ---- */

/* Copies <root>/rel to dst, mode 0755. */
static int
copy_file(const char *rel, const char *dst)
{
	char src[PATH_MAX], buf[65536];
	int in, out, ok = -1;
	ssize_t n;

	if (harness_path(src, sizeof(src), rel) == -1 ||
	    (in = open(src, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if ((out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0755)) == -1) {
		(void)close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			break;
	if (close(out) == 0 && n == 0 && chmod(dst, 0755) == 0)
		ok = 0;
	(void)close(in);
	return ok;
}

/* Copies <root>/rel to dst (mode 0755) and checks it runs (--help). */
static int
copy_bin(const char *rel, const char *dst)
{
	int ok = -1;

	if (copy_file(rel, dst) == 0) {
		char *argv[] = { (char *)dst, (char *)"--help", NULL };
		char tag[64];

		(void)snprintf(tag, sizeof(tag), "help-%s", strrchr(dst, '/') + 1);
		char *o2 = run_capture(argv, tag, 10000, NULL);

		ok = o2 != NULL ? 0 : -1;
		free(o2);
	}
	return ok;
}

/*
 * The gridcal programs are rebuilt by others while the bench runs: copy
 * them once into the work directory (retrying a copy caught mid-link).
 */
static bool
snapshot_bins(void)
{
	char dir[PATH_MAX];
	const char *rel[3] = { "build/gridcal-watchdog",
	    "build/gridcal-supervisor", "build/gridcal-plant" };
	char *dst[3] = { bin_wd, bin_sup, bin_plant };

	pathf(dir, sizeof(dir), workdir, "bin", "");
	if (mkdir(dir, 0755) == -1 || chmod(dir, 0755) == -1)
		return false;
	for (int i = 0; i < 3; i++) {
		int k;

		pathf(dst[i], PATH_MAX, dir, strrchr(rel[i], '/') + 1, "");
		for (k = 0; k < 5; k++) {
			if (copy_bin(rel[i], dst[i]) == 0)
				break;
			sleep_ms(2000);
		}
		if (k == 5) {
			dst[i][0] = '\0';
			return false;
		}
	}
	pathf(bin_shim, sizeof(bin_shim), dir, "libgridcal-hbshim.so", "");
	if (copy_file("build/bench/libgridcal-hbshim.so", bin_shim) == -1) {
		bin_shim[0] = '\0';
		return false;
	}
	return true;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) == -1 ? -1 : 0;
}

/*
 * The ablation profile: everything as in the main one but the audit log
 * and the state directory (intent mark, audit anchor) on tmpfs, where
 * fsync costs next to nothing. Side by side with the main runs it shows
 * what the durable writes on the abort path cost.
 */
static void
shm_setup(void)
{
	char tmpl_path[PATH_MAX], state[PATH_MAX], e[256], *tmpl, *text;

	(void)strlcpy(shm_dir, "/dev/shm/gridcal-bench-XXXXXX", sizeof(shm_dir));
	if (mkdtemp(shm_dir) == NULL) {
		note("no tmpfs ablation: /dev/shm: %s", strerror(errno));
		shm_dir[0] = '\0';
		return;
	}
	pathf(state, sizeof(state), shm_dir, "state", "");
	/* the watchdog writes it as its own user: in its state directory */
	pathf(shm_audit, sizeof(shm_audit), state, "audit.jsonl", "");
	pathf(shm_prof, sizeof(shm_prof), workdir, "profile-tmpfs.yaml", "");
	{
		struct hprofile_kv kv[] = {
			{ "paths.audit_log", shm_audit },
			{ "paths.state_dir", state },
			{ "paths.supervisor", bin_sup },
		};

		if (chmod(shm_dir, 0711) == -1 || mkdir(state, 0700) == -1 ||
		    huser_give_state(state) == -1 ||
		    harness_path(tmpl_path, sizeof(tmpl_path),
		    "profiles/sim.yaml.in") == -1 ||
		    (tmpl = harness_read_file(tmpl_path, NULL)) == NULL) {
			note("no tmpfs ablation: set-up failed");
			shm_prof[0] = '\0';
			return;
		}
		if (hprofile_render(tmpl, &br, kv, 3, &text, e,
		    sizeof(e)) == -1 ||
		    harness_write_file(shm_prof, text, 0644) == -1) {
			note("no tmpfs ablation: %s", e);
			shm_prof[0] = '\0';
		} else
			free(text);
		free(tmpl);
	}
}

static void
topics_and_values(void)
{
	if (topic_expand(pf.pack_field[PF_CELL_VOLTAGE_MAX].topic, 1,
	    cell_topic, sizeof(cell_topic)) == -1)
		errx(1, "cell topic does not fit");
	(void)strlcpy(ctl_out, pf.control[SETTING_OUTPUT_PRIORITY].topic,
	    sizeof(ctl_out));
	everyday = pf.control[SETTING_OUTPUT_PRIORITY].value[VALUE_EVERYDAY];
	calib = pf.control[SETTING_OUTPUT_PRIORITY].value[VALUE_CALIBRATION];
	/* above the supervisor's abort limit, below the watchdog's envelope:
	 * this measures the supervisor's abort, not the last resort */
	(void)snprintf(trip_value, sizeof(trip_value), "%.3f",
	    (pf.limits.abort_cell_v + pf.limits.env_cell_v) / 2);
	(void)snprintf(ok_value, sizeof(ok_value), "%.3f",
	    pf.limits.abort_cell_v - 0.2);
	R.trip_value = trip_value;
	/* trip_value less its last digit; repeats step that digit, staying
	 * below the watchdog's envelope */
	(void)strlcpy(trip_prefix, trip_value, sizeof(trip_prefix));
	if (strlen(trip_prefix) > 1)
		trip_prefix[strlen(trip_prefix) - 1] = '\0';
	for (int k = 1; k <= 9; k++) {
		double v = strtod(trip_value, NULL) + 0.001 * k;
		char *r = repeat_val[nrepeat];

		(void)snprintf(r, sizeof(repeat_val[0]), "%.3f", v);
		if (v >= pf.limits.env_cell_v || v <= pf.limits.abort_cell_v ||
		    strncmp(r, trip_prefix, strlen(trip_prefix)) != 0)
			break;
		repeat_ptr[nrepeat] = r;
		nrepeat++;
	}
	R.abort_limit = pf.limits.abort_cell_v;
	R.hb_timeout_ms = (double)pf.timing.heartbeat_timeout_ms;
	R.hb_interval_ms = (double)pf.timing.heartbeat_interval_ms;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
"usage: gridcal-bench [--runs N] [--hb-runs N] [--flood-runs N] [--peer]\n"
"           [--scenario FILE] [--json FILE] [--quick] [--reactors-only]\n"
"           [--phases abort,hb,full,flood,cost,audit] [--flood-window N]\n");
	exit(64);
}

/* --phases abort,hb,full,flood,cost,audit: a part of the bench (to
 * reproduce something cheaply); the table then says "not measured". */
static unsigned
phases_arg(const char *arg)
{
	static const char *const names[] = { "abort", "hb", "full", "flood",
	    "cost", "audit" };
	unsigned m = 0;

	for (const char *p = arg; *p != '\0'; ) {
		size_t len = strcspn(p, ",");
		size_t i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i]) == len &&
			    strncmp(p, names[i], len) == 0)
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			errx(64, "--phases: %.*s: not one of abort, hb, full, "
			    "flood, cost, audit", (int)len, p);
		m |= 1u << i;
		p += len;
		p += *p == ',';
	}
	return m;
}

static int
num_arg(const char *s, int min, int max)
{
	const char *e;
	int v = (int)strtonum(s, min, max, &e);

	if (e != NULL)
		errx(64, "%s: %s", s, e);
	return v;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "runs", required_argument, NULL, 'r' },
		{ "hb-runs", required_argument, NULL, 'b' },
		{ "flood-runs", required_argument, NULL, 'f' },
		{ "peer", no_argument, NULL, 'P' },
		{ "scenario", required_argument, NULL, 's' },
		{ "json", required_argument, NULL, 'j' },
		{ "quick", no_argument, NULL, 'q' },
		{ "reactors-only", no_argument, NULL, 'R' },
		{ "phases", required_argument, NULL, 'p' },
		{ "flood-window", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	const char *subs[] = { "solar/control/#", "gridcal/watchdog/bench/#",
	    PLANT_STATUS };
	char err[PROFILE_ERR_MAX];
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			o.runs = num_arg(optarg, 0, 100000);
			break;
		case 'b':
			o.hb_runs = num_arg(optarg, 0, 100000);
			break;
		case 'f':
			o.flood_runs = num_arg(optarg, 0, 100000);
			break;
		case 'P':
			o.peer = true;
			break;
		case 's':
			o.scenario = optarg;
			break;
		case 'j':
			o.json = optarg;
			break;
		case 'R':
			o.reactors_only = true;
			break;
		case 'p':
			o.phases = phases_arg(optarg);
			break;
		case 'w':
			o.flood_window = num_arg(optarg, 1, 65535);
			flood_window_set = true;
			break;
		case 'q':
			o.runs = 10;
			o.hb_runs = 3;
			o.flood_runs = 3;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (o.flood_window == 0)
		o.flood_window = 32;
	(void)signal(SIGPIPE, SIG_IGN);
	report_begin();
	probe_realtime();

	if (harness_workdir(workdir, sizeof(workdir), "bench") == -1 ||
	    hbroker_start(&br, workdir) == -1)
		errx(1, "bench: broker");
	R.gridcal_available = !o.reactors_only && snapshot_bins();
	{
		struct hprofile_kv kv[] = { { "paths.supervisor", bin_sup } };

		if (hprofile_write(&br, prof_path, sizeof(prof_path), kv,
		    R.gridcal_available ? 1 : 0, err, sizeof(err)) == -1)
			errx(1, "bench: profile: %s", err);
	}
	if (profile_load(prof_path, &pf, err, sizeof(err)) == -1)
		errx(1, "bench: %s", err);
	topics_and_values();
	/* the deployment's job (like /var/lib/gridcal), not the watchdog's */
	if (mkdir(pf.state_dir, 0700) == -1 && errno != EEXIST)
		errx(1, "bench: %s: %s", pf.state_dir, strerror(errno));
	/* hprofile_write gave the files their owners and modes (StrictModes) */
	shm_setup();
	if (probe_open(&pr, &br, "plant", subs, 3, 10000) == -1)
		errx(1, "bench: probe");

	if (!o.reactors_only && !R.gridcal_available)
		note("gridcal: build/gridcal-watchdog, gridcal-supervisor or "
		    "gridcal-plant missing; gridcal rows pending");
	if (floor_start() == -1 || reactor_ready(FLOOR_OUT, 10000) == -1)
		errx(1, "bench: the floor reactor does not answer");
	if (o.peer) {
		if (peer_start(&br, &pf, workdir, PEER_OUT, &peer_p) == 0 &&
		    reactor_ready(PEER_OUT, 60000) == 0)
			R.peer_ran = true;
		else
			note("peer: Node-RED did not answer; see %s/nodered.err",
			    workdir);
	}
	/* trips sent before a reactor was subscribed are never answered */
	{
		int64_t until = now_ns() + 300000000LL;

		while (now_ns() < until)
			(void)probe_pump(&pr, 5);
		floor_base = pr.trips - probe_latest(&pr, FLOOR_OUT, NULL, 0,
		    NULL);
		peer_base = R.peer_ran ? pr.trips - probe_latest(&pr, PEER_OUT,
		    NULL, 0, NULL) : 0;
	}
	/* warm both reactors up (caches, JIT) before anything is kept */
	for (int i = 0; i < 20; i++) {
		struct samples junk = { 0 };

		reactor_sample(FLOOR_OUT, &junk);
		if (R.peer_ran)
			reactor_sample(PEER_OUT, &junk);
		samples_free(&junk);
	}

	if (o.phases & PH_ABORT)
		phase_abort();
	if (o.phases & PH_HB)
		phase_heartbeat();
	if (o.phases & PH_FULL)
		cost_full_run();
	if (o.phases & PH_FLOOD)
		phase_flood();
	if (o.phases & PH_COST) {
		fprintf(stderr, "bench: cost\n");
		cost_e2e();
		cost_micro();
		cost_sizes();
	}
	if (o.phases & PH_AUDIT)
		phase_audit();

	plant_stop();
	if (R.peer_ran)
		(void)hproc_stop(&peer_p, 5000);
	(void)hproc_stop(&floor_p, 2000);
	probe_close(&pr);
	(void)hbroker_stop(&br);
	if (shm_dir[0] != '\0' && getenv("GRIDCAL_KEEP_WORKDIR") == NULL &&
	    nftw(shm_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == -1)
		warn("removing %s", shm_dir);
	report_print(stdout);
	if (report_json(o.json) == -1)
		warn("%s", o.json);
	return 0;
}
