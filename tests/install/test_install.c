/*
 * The installed tree, as a site would get it (issue 18): `make install
 * DESTDIR=D` has run (mk/85-install.mk); here gridcal-setup prepares D,
 * then the INSTALLED programs run against a harness broker and plant:
 *   setup         owners and modes the watchdog's checks demand; a second
 *                 run changes nothing; a wrong mode is repaired; a symlink
 *                 planted for a credentials file is refused
 *   calibration   a full simulated grid calibration: PASS, both units back
 *                 in everyday settings (plant truth), the audit log in the
 *                 state directory verified by the installed gridcal-audit
 *   last will     the watchdog SIGKILLed mid-charge: the broker publishes
 *                 its will on the alarm topic within 2 x keepalive, saying
 *                 settings may be applied
 *   boot recovery the installed gridcal-recover.service's ExecStart reverts
 *                 what the killed run left (plant truth), clears the alarm
 * usage: test-install DESTDIR PREFIX (as root: users and owners are real)
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <poll.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/demo/rig.h"

/* broker.keepalive_s for these sites: the watchdog keeps alive at half */
#define KEEPALIVE_S	10

static const char *dest, *prefix;
static int failures;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		failures++;						\
		(void)fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
		(void)fprintf(stderr, __VA_ARGS__);			\
		(void)fputc('\n', stderr);				\
	}								\
} while (0)

static void
dpath(char *buf, size_t bufsz, const char *a, const char *b)
{
	(void)snprintf(buf, bufsz, "%s%s%s", dest, a, b != NULL ? b : "");
}

/* Runs the installed gridcal-setup --root dest [extra]; output in out. */
static int
setup_run(const char *extra, char *out, size_t outsz)
{
	char bin[PATH_MAX], log[PATH_MAX], *text;
	char *argv[] = { bin, (char *)"--root", (char *)dest, (char *)extra,
	    NULL };
	struct hproc p;

	dpath(bin, sizeof(bin), prefix, "/sbin/gridcal-setup");
	dpath(log, sizeof(log), "/setup.out", NULL);
	if (hproc_spawn(&p, argv, NULL, log, log) == -1 ||
	    hproc_wait(&p, 60000) == -1)
		return -1;
	out[0] = '\0';
	if ((text = harness_read_file(log, NULL)) != NULL) {
		(void)strlcpy(out, text, outsz);
		free(text);
	}
	return hproc_exit_code(&p);
}

static void
expect_stat(const char *site_path, const char *user, mode_t mode, bool dir)
{
	char path[PATH_MAX];
	struct passwd *pw = getpwnam(user);
	struct stat st;

	dpath(path, sizeof(path), site_path, NULL);
	CHECK(pw != NULL, "no user %s", user);
	if (pw == NULL)
		return;
	CHECK(lstat(path, &st) == 0, "%s: %s", path, strerror(errno));
	CHECK(dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode), "%s: type",
	    path);
	CHECK(st.st_uid == pw->pw_uid && st.st_gid == pw->pw_gid,
	    "%s: owner %ld:%ld, want %s", path, (long)st.st_uid,
	    (long)st.st_gid, user);
	CHECK((st.st_mode & 07777) == mode, "%s: mode %04o, want %04o", path,
	    (unsigned)(st.st_mode & 07777), (unsigned)mode);
}

static void	test_notify(struct rig *);
static void	test_refusals(struct rig *);

/* The supervisor's credentials: root's, group gridcal (StrictModes). */
static void
expect_cred_stat(mode_t mode)
{
	char path[PATH_MAX];
	struct group *gr = getgrnam("gridcal");
	struct stat st;

	dpath(path, sizeof(path), "/etc/gridcal/supervisor.cred", NULL);
	CHECK(gr != NULL && lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == 0 && st.st_gid == gr->gr_gid &&
	    (st.st_mode & 07777) == mode, "%s: want root:gridcal %04o", path,
	    (unsigned)mode);
}

static void
test_setup(void)
{
	static char out[65536];
	char path[PATH_MAX], victim[PATH_MAX], *before, *after;
	int rc;

	rc = setup_run(NULL, out, sizeof(out));
	CHECK(rc == 0, "gridcal-setup: exit %d\n%s", rc, out);
	expect_stat("/etc/gridcal", "root", 0755, true);
	expect_stat("/etc/gridcal/profile.yaml", "root", 0644, false);
	expect_stat("/etc/gridcal/watchdog.cred", "gridcal-watchdog", 0600,
	    false);
	expect_cred_stat(0640);
	expect_stat("/var/lib/gridcal", "gridcal-watchdog", 0700, true);
	/* the sealing key, as the watchdog (root) checks it; its
	 * verification key printed this once */
	expect_stat("/var/lib/gridcal/audit.key", "root", 0600, false);
	CHECK(strstr(out, "VERIFICATION KEY") != NULL, "no verification "
	    "key printed:\n%s", out);
	CHECK(strstr(out, "mosquitto_passwd -b /etc/mosquitto/passwd "
	    "gridcal-watchdog") != NULL, "no mosquitto_passwd line:\n%s", out);
	/* a fresh broker has no password file, and -b creates none */
	{
		const char *mk = strstr(out, "[ -e /etc/mosquitto/passwd ] || "
		    "install -m 0640 -o root -g mosquitto /dev/null "
		    "/etc/mosquitto/passwd\n");
		const char *pw = strstr(out, "mosquitto_passwd -b");

		CHECK(mk != NULL && pw != NULL && mk < pw, "the password file "
		    "is not made before the first mosquitto_passwd -b:\n%s",
		    out);
	}
	CHECK(strstr(out, "user gridcal-watchdog\n") != NULL &&
	    strstr(out, "topic write solar/control/lvx6048/output_priority\n")
	    != NULL && strstr(out, "topic write gridcal/alarm\n") != NULL &&
	    strstr(out, "topic read homeassistant/sensor/lifepower4_6_soc/"
	    "state\n") != NULL, "ACL lines missing:\n%s", out);
	CHECK(strstr(out, "audit_log") == NULL, "the shipped profile's audit "
	    "log is not in its state directory:\n%s", out);

	/* idempotent: nothing changes, passwords stay */
	dpath(path, sizeof(path), "/etc/gridcal/watchdog.cred", NULL);
	before = harness_read_file(path, NULL);
	rc = setup_run(NULL, out, sizeof(out));
	after = harness_read_file(path, NULL);
	/* out holds both runs' output (the file is appended to) */
	CHECK(strstr(out, "VERIFICATION KEY") != NULL && strstr(strstr(out,
	    "VERIFICATION KEY") + 1, "VERIFICATION KEY") == NULL,
	    "the verification key printed twice:\n%s", out);
	CHECK(rc == 0 && strstr(out, "nothing to change") != NULL,
	    "second run: exit %d\n%s", rc, out);
	CHECK(before != NULL && after != NULL && strcmp(before, after) == 0,
	    "second run rewrote %s", path);
	free(before);
	free(after);

	/* a wrong mode is repaired; --dry-run only says so */
	dpath(path, sizeof(path), "/etc/gridcal/supervisor.cred", NULL);
	CHECK(chmod(path, 0644) == 0, "chmod %s", path);
	rc = setup_run("--dry-run", out, sizeof(out));
	CHECK(rc == 0 && strstr(out, "would chmod") != NULL, "dry run: %d\n%s",
	    rc, out);
	expect_cred_stat(0644);
	rc = setup_run(NULL, out, sizeof(out));
	CHECK(rc == 0 && strstr(out, "chmod") != NULL, "repair: %d\n%s", rc,
	    out);
	expect_cred_stat(0640);

	/* a symlink where a credentials file belongs is not followed */
	dpath(path, sizeof(path), "/etc/gridcal/watchdog.cred", NULL);
	dpath(victim, sizeof(victim), "/victim", NULL);
	CHECK(harness_write_file(victim, "untouched\n", 0644) == 0, "victim");
	dpath(out, sizeof(out), "/etc/gridcal/watchdog.cred.keep", NULL);
	CHECK(rename(path, out) == 0 && symlink(victim, path) == 0,
	    "plant symlink");
	rc = setup_run(NULL, out, sizeof(out));
	CHECK(rc != 0, "setup followed a symlink: exit 0\n%s", out);
	before = harness_read_file(victim, NULL);
	CHECK(before != NULL && strcmp(before, "untouched\n") == 0 &&
	    access(victim, F_OK) == 0, "the symlink's target was changed");
	free(before);
	{
		struct stat st;

		CHECK(lstat(victim, &st) == 0 && (st.st_mode & 0777) == 0644 &&
		    st.st_uid == 0, "the symlink's target was chowned/chmoded");
	}
	dpath(out, sizeof(out), "/etc/gridcal/watchdog.cred.keep", NULL);
	CHECK(unlink(path) == 0 && rename(out, path) == 0, "restore");
}

/* The broker's password for user into the installed credentials file,
 * keeping the file (owner, mode) gridcal-setup made. */
static int
give_password(struct rig *r, const char *user, const char *site_path)
{
	char path[PATH_MAX], line[128];
	int fd, n;

	dpath(path, sizeof(path), site_path, NULL);
	n = snprintf(line, sizeof(line), "%s:%s\n", hbroker_mqtt_user(user),
	    hbroker_password(&r->br, user));
	if ((fd = open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW)) == -1 ||
	    write(fd, line, (size_t)n) != n || close(fd) == -1)
		return -1;
	return 0;
}

static int
start_site(struct rig *r)
{
	static char cw[PATH_MAX], cs[PATH_MAX], sd[PATH_MAX], al[PATH_MAX],
	    sv[PATH_MAX];
	struct hprofile_kv ov[] = {
		{ "credentials.watchdog", cw },
		{ "credentials.supervisor", cs },
		{ "paths.state_dir", sd },
		{ "paths.audit_log", al },
		{ "paths.supervisor", sv },
		{ "paths.supervisor_user", "gridcal" },
		{ "broker.keepalive_s", "10" },
	};

	dpath(cw, sizeof(cw), "/etc/gridcal/watchdog.cred", NULL);
	dpath(cs, sizeof(cs), "/etc/gridcal/supervisor.cred", NULL);
	dpath(sd, sizeof(sd), "/var/lib/gridcal", NULL);
	dpath(al, sizeof(al), "/var/lib/gridcal/audit.jsonl", NULL);
	dpath(sv, sizeof(sv), prefix, "/libexec/gridcal/gridcal-supervisor");
	if (rig_start(r, "install", "reference.yaml", ov,
	    sizeof(ov) / sizeof(ov[0]), NULL) == -1)
		return -1;
	/* the installed tree's, not the rig's */
	(void)strlcpy(r->state_dir, sd, sizeof(r->state_dir));
	(void)strlcpy(r->audit_log, al, sizeof(r->audit_log));
	dpath(r->wd_bin, sizeof(r->wd_bin), prefix, "/bin/gridcal-watchdog");
	if (give_password(r, "watchdog", "/etc/gridcal/watchdog.cred") == -1 ||
	    give_password(r, "supervisor", "/etc/gridcal/supervisor.cred") ==
	    -1) {
		(void)fprintf(stderr, "cannot write the credentials\n");
		return -1;
	}
	return 0;
}

static int
audit_verify_installed(struct rig *r)
{
	char bin[PATH_MAX];
	char *argv[] = { bin, (char *)"verify", r->audit_log,
	    (char *)"--state-dir", r->state_dir, NULL };

	dpath(bin, sizeof(bin), prefix, "/bin/gridcal-audit");
	return hproc_run(argv, 20000);
}

static void
fresh_truth(struct rig *r)
{
	(void)hobs_wait_count(r->obs, HPLANT_STATUS_TOPIC,
	    hobs_count(r->obs, HPLANT_STATUS_TOPIC) + 2, 5000);
}

static void
test_calibration(struct rig *r)
{
	int rc;

	CHECK(rig_watchdog(r, "grid", true, false) == 0, "watchdog start");
	rc = rig_watchdog_wait(r, 180000);
	CHECK(rc == 0, "installed gridcal-watchdog calibrate: exit %d (see "
	    "%s)", rc, r->wd_err);
	fresh_truth(r);
	CHECK(rig_truth_everyday(r), "not everyday after the run");
	CHECK(rig_truth_soc_at_least(r, 99.0), "not re-anchored");
	CHECK(audit_verify_installed(r) == 0, "installed gridcal-audit verify");
	test_notify(r);
	test_refusals(r);
}

/*
 * systemd's notify protocol, as gridcal@.service (Type=notify,
 * WatchdogSec=) sees it: READY=1 once recovery is over, WATCHDOG=1 at half
 * of WATCHDOG_USEC from the loop, STOPPING=1 at the end.
 */
static void
test_notify(struct rig *r)
{
	char sock[PATH_MAX], env1[PATH_MAX + 32], bin[PATH_MAX], msg[256];
	char *envp[] = { env1, (char *)"WATCHDOG_USEC=200000", NULL };
	char *argv[] = { bin, (char *)"--profile", r->profile,
	    (char *)"calibrate", (char *)"--method", (char *)"solar", NULL };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, ready = 0, pings = 0, stopping = 0, order_ok = 1;
	int64_t until = harness_now_ms() + 120000, first = 0, last = 0;
	struct hproc p;
	ssize_t n;

	dpath(sock, sizeof(sock), "/notify.sock", NULL);
	(void)unlink(sock);
	(void)strlcpy(sun.sun_path, sock, sizeof(sun.sun_path));
	(void)snprintf(env1, sizeof(env1), "NOTIFY_SOCKET=%s", sock);
	dpath(bin, sizeof(bin), prefix, "/bin/gridcal-watchdog");
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(fd != -1 && bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0,
	    "notify socket: %s", strerror(errno));
	CHECK(hproc_spawn(&p, argv, envp, r->wd_out, r->wd_err) == 0,
	    "watchdog start");
	while (!stopping && harness_now_ms() < until) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		if ((n = recv(fd, msg, sizeof(msg) - 1, 0)) <= 0)
			continue;
		msg[n] = '\0';
		if (strcmp(msg, "READY=1") == 0)
			ready++;
		else if (strcmp(msg, "WATCHDOG=1") == 0) {
			last = harness_now_ms();
			first = pings++ == 0 ? last : first;
		} else if (strcmp(msg, "STOPPING=1") == 0)
			stopping = 1;
		order_ok &= !stopping || ready == 1;
	}
	(void)hproc_wait(&p, 60000);
	(void)close(fd);
	(void)unlink(sock);
	printf("install: notify READY=1 x%d, WATCHDOG=1 x%d over %lld ms, "
	    "STOPPING=1 %s; solar run exit %d\n", ready, pings,
	    (long long)(last - first), stopping ? "yes" : "no",
	    hproc_exit_code(&p));
	CHECK(ready == 1 && stopping && order_ok, "READY=1 once, then "
	    "STOPPING=1: ready %d stopping %d", ready, stopping);
}

/* A datagram socket for NOTIFY_SOCKET; its path into path. */
static int
notify_socket(char *path, size_t pathsz, const char *name)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	dpath(path, pathsz, name, NULL);
	(void)unlink(path);
	(void)strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd != -1 && bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return fd;
	if (fd != -1)
		(void)close(fd);
	return -1;
}

/* Messages queued on fd equal to want. */
static int
notify_count(int fd, const char *want)
{
	char msg[256];
	ssize_t n;
	int k = 0;

	while ((n = recv(fd, msg, sizeof(msg) - 1, 0)) > 0) {
		msg[n] = '\0';
		k += strcmp(msg, want) == 0;
	}
	return k;
}

/* Runs argv as user nobody (env: extra, may be NULL); its exit code. */
static int
run_as_nobody(char *const argv[], const char *extra)
{
	struct passwd *pw = getpwnam("nobody");
	char *envp[] = { (char *)extra, NULL };
	pid_t pid;
	int st;

	if (pw == NULL || (pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if (setgroups(0, NULL) == -1 ||
		    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
			_exit(126);
		execve(argv[0], argv, extra != NULL ? envp : (char *[]){ NULL });
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A loopback port nobody listens on (bound, then released). */
static unsigned
dead_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port = 0;

	if (fd != -1 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	if (fd != -1)
		(void)close(fd);
	return port;
}

/* Replaces the value of the first "key: " line of text with value. */
static char *
set_key(char *text, const char *key, const char *value)
{
	char *at = strstr(text, key), *eol, *out;
	size_t n;

	if (at == NULL || (eol = strchr(at, '\n')) == NULL)
		return text;
	n = strlen(text) + strlen(value) + strlen(key) + 2;
	if ((out = malloc(n)) == NULL)
		return text;
	(void)snprintf(out, n, "%.*s%s%s%s", (int)(at - text), text, key,
	    value, eol);
	free(text);
	return out;
}

/*
 * Every installed program says its release; a watchdog not started as
 * root refuses (77) unless a test says so; a broker that never answers
 * ends a calibrate REFUSED (3) within a bound, with nothing changed.
 */
static void
test_refusals(struct rig *r)
{
	static const char *const progs[] = { "/bin/gridcal-watchdog",
	    "/bin/gridcal-watchdog-check", "/bin/gridcal-audit",
	    "/sbin/gridcal-setup",
	    "/libexec/gridcal/gridcal-supervisor" };
	char bin[PATH_MAX], prof[PATH_MAX + 32], port[16], mark[PATH_MAX + 32];
	char *argv[8], *text;
	int64_t t0, took;
	int rc;

	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		dpath(bin, sizeof(bin), prefix, progs[i]);
		argv[0] = bin;
		argv[1] = (char *)"--version";
		argv[2] = NULL;
		CHECK(hproc_run(argv, 10000) == 0, "%s --version", bin);
	}
	dpath(bin, sizeof(bin), prefix, "/bin/gridcal-watchdog");
	argv[0] = bin;
	argv[1] = (char *)"--profile";
	argv[2] = r->profile;
	argv[3] = (char *)"recover";
	argv[4] = NULL;
	rc = run_as_nobody(argv, NULL);
	CHECK(rc == 77, "not root: exit %d, want 77", rc);
	rc = run_as_nobody(argv, "GRIDCAL_TEST_UNPRIVILEGED=1");
	CHECK(rc != 77 && rc != 126 && rc != 127, "not root, test flag: exit "
	    "%d (refused anyway)", rc);

	/* no broker: refused within 2 x (preflight_wait_s + the drain) */
	(void)snprintf(port, sizeof(port), "%u", dead_port());
	CHECK((text = harness_read_file(r->profile, NULL)) != NULL, "profile");
	if (text == NULL)
		return;
	text = set_key(text, "  port: ", port);
	text = set_key(text, "  preflight_wait_s: ", "1");
	(void)snprintf(prof, sizeof(prof), "%s/nobroker.yaml", r->workdir);
	CHECK(harness_write_file(prof, text, 0644) == 0, "%s", prof);
	free(text);
	argv[2] = prof;
	argv[3] = (char *)"calibrate";
	argv[4] = (char *)"--method";
	argv[5] = (char *)"grid";
	argv[6] = (char *)"--confirm";
	argv[7] = NULL;
	t0 = harness_now_ms();
	rc = hproc_run(argv, 60000);
	took = harness_now_ms() - t0;
	printf("install: no broker: exit %d after %lld ms (preflight_wait_s "
	    "1)\n", rc, (long long)took);
	CHECK(rc == 3 && took <= 2 * (1000 + 2000), "no broker: exit %d after "
	    "%lld ms, want 3 within 6000 ms", rc, (long long)took);
	(void)snprintf(mark, sizeof(mark), "%s/watchdog.intent", r->state_dir);
	CHECK(access(mark, F_OK) == -1, "no broker: intent mark written");
	text = harness_read_file(r->audit_log, NULL);
	CHECK(text != NULL && strstr(text, "\"outcome\":\"refused\","
	    "\"reason\":\"no broker within timing.preflight_wait_s\"") !=
	    NULL, "no broker: no refused outcome in the audit log");
	free(text);
}

/* The command line of the installed unit's ExecStart=, split on blanks. */
static int
unit_exec(const char *unit, char *buf, size_t bufsz, char **argv, int max)
{
	char path[PATH_MAX], *text, *line, *p;
	int n = 0;

	dpath(path, sizeof(path), getenv("GRIDCAL_UNITDIR"), unit);
	if ((text = harness_read_file(path, NULL)) == NULL ||
	    (line = strstr(text, "\nExecStart=")) == NULL) {
		free(text);
		return -1;
	}
	(void)strlcpy(buf, line + strlen("\nExecStart="), bufsz);
	free(text);
	buf[strcspn(buf, "\n")] = '\0';
	for (p = strtok(buf, " "); p != NULL && n < max - 1;
	    p = strtok(NULL, " "))
		argv[n++] = p;
	argv[n] = NULL;
	return n;
}

static bool
will_seen(struct hobs *obs, void *arg)
{
	char alarm[512];

	(void)arg;
	return hobs_latest(obs, "gridcal/alarm", alarm, sizeof(alarm)) > 0 &&
	    strstr(alarm, "watchdog_died") != NULL;
}

static void
test_will_and_recovery(struct rig *r)
{
	static char line[1024], alarm[512], bin[PATH_MAX];
	char *argv[16];
	int64_t t0, took;
	int n;

	char sock[PATH_MAX], env1[PATH_MAX + 32];
	char *envp[] = { env1, (char *)"WATCHDOG_USEC=200000", NULL };
	char *wargv[] = { r->wd_bin, (char *)"--profile", r->profile,
	    (char *)"calibrate", (char *)"--method", (char *)"grid",
	    (char *)"--confirm", NULL };
	int64_t spawned;
	int nfd, pings;

	/* WATCHDOG=1 from the loop, at most every 100 ms, up to the kill */
	nfd = notify_socket(sock, sizeof(sock), "/notify-run.sock");
	CHECK(nfd != -1, "notify socket: %s", strerror(errno));
	(void)snprintf(env1, sizeof(env1), "NOTIFY_SOCKET=%s", sock);
	spawned = harness_now_ms();
	CHECK(hproc_spawn(&r->wd, wargv, envp, r->wd_out, r->wd_err) == 0,
	    "watchdog start");
	r->wd_up = true;
	CHECK(hobs_wait_truth_str(r->obs, "units[0].output_priority",
	    "solar_utility_battery", 60000) == 0, "never charging");
	CHECK(hproc_signal(&r->wd, SIGKILL) == 0, "SIGKILL");
	pings = notify_count(nfd, "WATCHDOG=1");
	printf("install: WATCHDOG=1 x%d in the %lld ms before the kill\n",
	    pings, (long long)(harness_now_ms() - spawned));
	CHECK(pings >= 2 && pings <= 2 + (harness_now_ms() - spawned) / 90,
	    "WATCHDOG=1 %d times in %lld ms at WATCHDOG_USEC=200000", pings,
	    (long long)(harness_now_ms() - spawned));
	(void)close(nfd);
	(void)unlink(sock);
	t0 = harness_now_ms();
	(void)hproc_wait(&r->wd, 10000);
	r->wd_up = false;
	/* the property: the will is out within 2 x keepalive */
	(void)hobs_wait(r->obs, will_seen, NULL, 2 * KEEPALIVE_S * 1000);
	(void)hobs_latest(r->obs, "gridcal/alarm", alarm, sizeof(alarm));
	took = harness_now_ms() - t0;
	printf("install: last will on gridcal/alarm %lld ms after SIGKILL: %s\n",
	    (long long)took, alarm);
	CHECK(strstr(alarm, "\"alarm\":\"watchdog_died\"") != NULL &&
	    strstr(alarm, "\"settings_may_be_applied\":true") != NULL &&
	    strstr(alarm, "\"state\":\"calibration\"") != NULL,
	    "no last will within %d s: \"%s\"", 2 * KEEPALIVE_S, alarm);
	fresh_truth(r);
	CHECK(!rig_truth_everyday(r), "the kill left everyday settings: the "
	    "recovery below would prove nothing");

	/* boot: what gridcal-recover.service runs, on the test profile */
	n = unit_exec("/gridcal-recover.service", line, sizeof(line), argv, 16);
	CHECK(n >= 2 && strcmp(argv[n - 1], "recover") == 0,
	    "gridcal-recover.service: ExecStart ... recover expected");
	if (n < 2)
		return;
	for (int i = 0; i < n; i++)
		if (strcmp(argv[i], "/etc/gridcal/profile.yaml") == 0)
			argv[i] = r->profile;
		else if (i == 0) {
			(void)snprintf(bin, sizeof(bin), "%s%s", dest, argv[0]);
			argv[0] = bin;
		}
	CHECK(hproc_run(argv, 120000) == 0, "installed recover failed");
	fresh_truth(r);
	CHECK(rig_truth_everyday(r), "recover did not revert the planted SUB");
	CHECK(hobs_wait_payload(r->obs, "gridcal/alarm", "", 10000) == 0,
	    "recover did not replace the will's alarm");
	CHECK(audit_verify_installed(r) == 0, "audit log after the kill");
}

/*
 * A hung host, not a dead process: the watchdog stopped mid-charge keeps
 * its connection open, so only the keepalive tells. The will must be on
 * the broker within 2 x broker.keepalive_s (the broker waits 1.5 x); the
 * watchdog, continued, is back on the broker, says it guards again (the
 * alarm cleared) and reverts (the supervisor's heartbeat is stale).
 */
static void
test_will_on_hang(struct rig *r)
{
	char alarm[512];
	int64_t t0, took;
	int rc;

	CHECK(rig_watchdog(r, "grid", true, false) == 0, "watchdog start");
	CHECK(hobs_wait_truth_str(r->obs, "units[0].output_priority",
	    "solar_utility_battery", 60000) == 0, "never charging");
	CHECK(hproc_signal(&r->wd, SIGSTOP) == 0, "SIGSTOP");
	t0 = harness_now_ms();
	(void)hobs_wait(r->obs, will_seen, NULL, 2 * KEEPALIVE_S * 1000);
	took = harness_now_ms() - t0;
	(void)hobs_latest(r->obs, "gridcal/alarm", alarm, sizeof(alarm));
	printf("install: watchdog stopped: last will %lld ms later (keepalive "
	    "%d s)\n", (long long)took, KEEPALIVE_S);
	CHECK(strstr(alarm, "\"settings_may_be_applied\":true") != NULL &&
	    took <= 2 * KEEPALIVE_S * 1000, "no last will within 2 x "
	    "keepalive of a hang: \"%s\"", alarm);
	CHECK(hproc_signal(&r->wd, SIGCONT) == 0, "SIGCONT");
	CHECK(hobs_wait_payload(r->obs, "gridcal/alarm", "", 30000) == 0,
	    "the watchdog back on the broker did not clear its will's alarm");
	rc = rig_watchdog_wait(r, 120000);
	fresh_truth(r);
	CHECK(rig_truth_everyday(r), "not reverted after the hang (exit %d)",
	    rc);
}

int
main(int argc, char *argv[])
{
	static struct rig r, r2, r3;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 3 || argv[1][0] != '/' || argv[2][0] != '/') {
		(void)fprintf(stderr, "usage: test-install DESTDIR PREFIX\n");
		return 64;
	}
	if (geteuid() != 0) {
		(void)printf("install: SKIP (needs root: users and owners)\n");
		return 77;
	}
	if (getenv("GRIDCAL_UNITDIR") == NULL)
		(void)setenv("GRIDCAL_UNITDIR", "/lib/systemd/system", 1);
	dest = argv[1];
	prefix = argv[2];
	test_setup();
	printf("install: setup %s\n", failures ? "FAILED" : "ok");
	if (failures == 0 && start_site(&r) == 0) {
		test_calibration(&r);
		printf("install: calibration %s\n", failures ? "FAILED" : "ok");
		rig_stop(&r);
		/* a site with packs to charge again */
		if (failures == 0 && start_site(&r2) == 0)
			test_will_and_recovery(&r2);
		else if (failures == 0)
			failures++;
		rig_stop(&r2);
		printf("install: last will and recovery %s\n", failures ?
		    "FAILED" : "ok");
		if (failures == 0 && start_site(&r3) == 0)
			test_will_on_hang(&r3);
		else if (failures == 0)
			failures++;
		rig_stop(&r3);
		printf("install: last will on a hang %s\n", failures ?
		    "FAILED" : "ok");
	} else if (failures == 0) {
		failures++;
		(void)fprintf(stderr, "FAIL: the site did not start\n");
		rig_stop(&r);
	}
	printf("install: %s (%d failures)\n", failures ? "FAIL" : "PASS",
	    failures);
	return failures ? 1 : 0;
}
