/*
 * test-fakesup: a scripted stand-in for gridcal-supervisor, exec'd by the
 * watchdog in integration and fault tests (the profile's paths.supervisor
 * points here). Speaks shared/proto.h correctly by default and can break
 * every rule on purpose, to show that the watchdog refuses each breach.
 *
 * Invoked as the watchdog invokes the supervisor:
 *   test-fakesup --profile FILE --watchdog-fd N calibrate --method M \
 *       [--confirm]
 * The script comes from $FAKESUP_SCRIPT or, since the watchdog passes no
 * environment, from fakesup.script beside the profile: commands
 * separated by ';'.
 * Heartbeats go out automatically at the profile's interval during every
 * wait, unless "heartbeats off". What it sees is printed on stdout, one
 * line each, prefixed "fakesup: ".
 *
 *   hello | hello-bad          HELLO with the profile's / a wrong digest
 *   set S V [SCOPE]            SET_REQUEST; S output|charger,
 *                              V everyday|calibration, SCOPE 0 (both units)
 *   expect T [SECONDS]         wait for an answer of type T: accepted,
 *                              confirmed, refused, reverted (exit 11 if not)
 *   wait S                     heartbeat and read answers for S seconds
 *   heartbeats on|off          automatic heartbeats during waits
 *   state N                    state id sent in heartbeats
 *   audit EVENT TEXT...        AUDIT frame
 *   done OUTCOME [REASON...]   DONE (PASS, FAIL, ABORTED, REFUSED, CANCELLED)
 *   raw HEX                    one frame of raw bytes, e.g. a wrong length
 *   empty                      a zero-length frame (the socket stays open)
 *   echo TEXT...               print TEXT (a point the test can wait for),
 *                              and take the name "fakesup:WORD" (its first
 *                              word) for a test whose watchdog is stopped
 *   flood N [audit]            N heartbeats (or AUDIT frames) as fast as
 *                              the socket takes them
 *   try-read PATH              print whether PATH can be opened for reading
 *   id                         print pid, uid, gid, NoNewPrivs, open fds
 *   tty                        print whether fds 0-2 are ttys, a controlling
 *                              tty opens, TIOCSTI injects
 *   survivor                   fork a child in a session of its own that
 *                              sleeps forever; print its pid
 *   stop                       SIGSTOP itself (a hung supervisor)
 *   close                      close the socket and sleep (no EOF by exit)
 *   hang                       sleep forever without heartbeats
 *   exit N                     exit with status N
 * Exit status: 0 at the end of the script, 11 on an unmet expect, 12 on
 * EOF from the watchdog, 13 on a bad script, 14 on a send error.
 */
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "profile.h"
#include "proto_supervisor.h"

#define MAXQ	64

static struct proto_chan ch;
static struct profile pf;
static int heartbeats = 1;
static unsigned state_id;
static int64_t next_hb;
static struct proto_msg backlog[MAXQ];
static int nbacklog;

static void __attribute__((format(printf, 1, 2)))
say(const char *fmt, ...)
{
	va_list ap;

	printf("fakesup: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	(void)fflush(stdout);
}

static void
send_or_die(const struct proto_msg *m)
{
	if (proto_send(&ch, m) == -1) {
		say("send %s: %s", proto_type_name(m->type), strerror(errno));
		exit(14);
	}
}

static void
show(const struct proto_msg *m)
{
	switch (m->type) {
	case PROTO_SET_REFUSED:
		say("got %s %s %d %s: %s", proto_type_name(m->type),
		    setting_name(m->u.set.setting), m->u.set.value,
		    proto_refusal_name(m->u.set.reason), m->u.set.text);
		break;
	case PROTO_REVERTED:
		say("got REVERTED %s confirmed=%u",
		    proto_revert_name(m->u.reverted.reason),
		    m->u.reverted.confirmed);
		break;
	default:
		say("got %s %s %d", proto_type_name(m->type),
		    setting_name(m->u.set.setting), m->u.set.value);
	}
}

/* Reads answers and heartbeats until `until`; stops early on type want. */
static int
pump(int64_t until, int want)
{
	struct proto_msg m, hb;
	struct pollfd pfd;
	char why[128];
	int64_t now;

	for (int i = 0; i < nbacklog; i++)
		if ((int)backlog[i].type == want) {
			memmove(&backlog[i], &backlog[i + 1],
			    (size_t)(nbacklog - i - 1) * sizeof(backlog[0]));
			nbacklog--;
			return 0;
		}
	while ((now = mono_ms()) < until) {
		if (heartbeats && now >= next_hb) {
			proto_set_heartbeat(&hb, state_id);
			send_or_die(&hb);
			next_hb = now + pf.timing.heartbeat_interval_ms;
		}
		pfd = (struct pollfd){ .fd = ch.fd, .events = POLLIN };
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		switch (proto_recv(&ch, &m, why, sizeof(why))) {
		case PROTO_OK:
			show(&m);
			if ((int)m.type == want)
				return 0;
			if (nbacklog < MAXQ)
				backlog[nbacklog++] = m;
			break;
		case PROTO_E_AGAIN:
			break;
		case PROTO_E_EOF:
			say("eof");
			exit(12);
		default:
			say("bad answer: %s", why);
			exit(12);
		}
	}
	return -1;
}

static int
answer_type(const char *s)
{
	static const struct { const char *n; int t; } tab[] = {
		{ "accepted", PROTO_SET_ACCEPTED },
		{ "confirmed", PROTO_SET_CONFIRMED },
		{ "refused", PROTO_SET_REFUSED },
		{ "reverted", PROTO_REVERTED },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(s, tab[i].n) == 0)
			return tab[i].t;
	return -1;
}

static void
send_raw(const char *hex)
{
	unsigned char buf[1024];
	size_t n = 0;
	unsigned v;

	while (hex[0] != '\0' && hex[1] != '\0' && n < sizeof(buf) &&
	    sscanf(hex, "%2x", &v) == 1) {
		buf[n++] = (unsigned char)v;
		hex += 2;
	}
	if (send(ch.fd, buf, n, MSG_NOSIGNAL) != (ssize_t)n) {
		say("raw send: %s", strerror(errno));
		exit(14);
	}
	say("sent %zu raw bytes", n);
}

static void
show_id(void)
{
	char line[256], fds[256] = "";
	struct dirent *d;
	FILE *f;
	DIR *dir;

	say("pid %ld", (long)getpid());
	say("uid %u euid %u gid %u egid %u", (unsigned)getuid(),
	    (unsigned)geteuid(), (unsigned)getgid(), (unsigned)getegid());
	if ((f = fopen("/proc/self/status", "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (strncmp(line, "NoNewPrivs:", 11) == 0 ||
			    strncmp(line, "Groups:", 7) == 0)
				say("%.*s", (int)strcspn(line, "\n"), line);
		(void)fclose(f);
	}
	if ((dir = opendir("/proc/self/fd")) != NULL) {
		while ((d = readdir(dir)) != NULL)
			if (d->d_name[0] != '.' &&
			    dirfd(dir) != atoi(d->d_name)) {
				(void)strlcat(fds, " ", sizeof(fds));
				(void)strlcat(fds, d->d_name, sizeof(fds));
			}
		(void)closedir(dir);
	}
	say("fds%s", fds);
}

/*
 * What code in the supervisor could do to the operator's terminal: is any
 * of fds 0-2 a tty, is there a controlling tty, does TIOCSTI inject.
 */
static void
show_tty(void)
{
	char c = '\n';
	const char *ctty = "none";
	int fd, sti = 0;

	for (int i = 0; i < 3; i++)
		sti += isatty(i) && ioctl(i, TIOCSTI, &c) == 0;
	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) != -1) {
		ctty = "open";
		sti += ioctl(fd, TIOCSTI, &c) == 0;
		(void)close(fd);
	}
	say("tty fds %d%d%d ctty %s sti %d", isatty(0), isatty(1), isatty(2),
	    ctty, sti);
}

/* A grandchild in a session of its own that outlives us. */
static void
fork_survivor(void)
{
	pid_t pid = fork();

	if (pid == -1) {
		say("survivor: fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		(void)setsid();
		for (;;)
			(void)pause();
	}
	say("survivor pid %ld", (long)pid);
}

static enum setting
setting_arg(const char *s)
{
	if (strcmp(s, "output") == 0)
		return SETTING_OUTPUT_PRIORITY;
	if (strcmp(s, "charger") == 0)
		return SETTING_CHARGER_PRIORITY;
	say("bad setting %s", s);
	exit(13);
}

static void
run(char *cmd)
{
	struct proto_msg m;
	char *av[32], *rest;
	int ac = 0, t, fd;

	for (char *p = strtok(cmd, " \t"); p != NULL && ac < 31;
	    p = strtok(NULL, " \t"))
		av[ac++] = p;
	if (ac == 0)
		return;
	av[ac] = NULL;
	rest = ac > 2 ? av[2] : "";
	for (int i = 3; i < ac; i++)
		av[i][-1] = ' ';	/* rejoin the free text */
	if (strcmp(av[0], "hello") == 0 || strcmp(av[0], "hello-bad") == 0) {
		uint8_t d[PROTO_DIGEST_LEN];

		memcpy(d, pf.digest, sizeof(d));
		if (av[0][5] == '-')
			d[0] ^= 0xff;
		proto_set_hello(&m, d);
		send_or_die(&m);
		next_hb = mono_ms() + pf.timing.heartbeat_interval_ms;
	} else if (strcmp(av[0], "set") == 0 && ac >= 3) {
		proto_set_request(&m, setting_arg(av[1]),
		    strcmp(av[2], "calibration") == 0 ? VALUE_CALIBRATION :
		    VALUE_EVERYDAY);
		if (ac > 3)
			m.u.set.scope = (uint8_t)atoi(av[3]);
		send_or_die(&m);
	} else if (strcmp(av[0], "expect") == 0 && ac >= 2 &&
	    (t = answer_type(av[1])) != -1) {
		if (pump(mono_ms() + (ac > 2 ? atoi(av[2]) : 10) * 1000, t) ==
		    -1) {
			say("expect %s: timed out", av[1]);
			exit(11);
		}
	} else if (strcmp(av[0], "wait") == 0 && ac == 2)
		(void)pump(mono_ms() + (int64_t)(atof(av[1]) * 1000), -1);
	else if (strcmp(av[0], "heartbeats") == 0 && ac == 2)
		heartbeats = strcmp(av[1], "on") == 0;
	else if (strcmp(av[0], "state") == 0 && ac == 2)
		state_id = (unsigned)atoi(av[1]);
	else if (strcmp(av[0], "audit") == 0 && ac >= 2) {
		if (proto_set_audit(&m, av[1], rest) == -1)
			m.u.audit.event[0] = '\0';
		send_or_die(&m);
	} else if (strcmp(av[0], "done") == 0 && ac >= 2) {
		if (proto_set_done(&m, proto_outcome_parse(av[1]), rest) == -1)
			exit(13);
		send_or_die(&m);
	} else if (strcmp(av[0], "raw") == 0 && ac == 2)
		send_raw(av[1]);
	else if (strcmp(av[0], "empty") == 0 && ac == 1)
		send_raw("");
	else if (strcmp(av[0], "echo") == 0 && ac >= 2) {
		char comm[16];

		say("%s%s%s", av[1], ac > 2 ? " " : "", rest);
		/* also as our name: our output reaches the test only through
		 * the watchdog (its relay), which a test may have stopped */
		(void)snprintf(comm, sizeof(comm), "fakesup:%s", av[1]);
		(void)prctl(PR_SET_NAME, comm, 0, 0, 0);
	} else if (strcmp(av[0], "flood") == 0 && (ac == 2 || ac == 3)) {
		for (int i = 0; i < atoi(av[1]); i++) {
			if (ac == 3)
				(void)proto_set_audit(&m, "flood", "x");
			else
				proto_set_heartbeat(&m, state_id);
			send_or_die(&m);
		}
	} else if (strcmp(av[0], "try-read") == 0 && ac == 2) {
		fd = open(av[1], O_RDONLY);
		say("try-read %s: %s", av[1], fd == -1 ? strerror(errno) :
		    "READABLE");
	} else if (strcmp(av[0], "id") == 0)
		show_id();
	else if (strcmp(av[0], "tty") == 0)
		show_tty();
	else if (strcmp(av[0], "survivor") == 0)
		fork_survivor();
	else if (strcmp(av[0], "stop") == 0)
		(void)raise(SIGSTOP);
	else if (strcmp(av[0], "close") == 0) {
		(void)close(ch.fd);
		for (;;)
			(void)pause();
	} else if (strcmp(av[0], "hang") == 0)
		for (;;)
			(void)pause();
	else if (strcmp(av[0], "exit") == 0 && ac == 2)
		exit(atoi(av[1]));
	else {
		say("bad command: %s", av[0]);
		exit(13);
	}
}

/* <directory of the profile>/fakesup.script, one line. */
static char *
read_script(const char *profile)
{
	char path[PATH_MAX], line[4096];
	const char *slash = strrchr(profile, '/');
	FILE *f;

	(void)snprintf(path, sizeof(path), "%.*s/fakesup.script",
	    slash != NULL ? (int)(slash - profile) : 1,
	    slash != NULL ? profile : ".");
	if ((f = fopen(path, "re")) == NULL)
		return NULL;
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	(void)fclose(f);
	line[strcspn(line, "\n")] = '\0';
	return strdup(line);
}

int
main(int argc, char *argv[])
{
	const char *profile = NULL, *method = "?";
	char err[PROFILE_ERR_MAX], *script, *save = NULL;
	int fd = -1, confirm = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--profile") == 0 && i + 1 < argc)
			profile = argv[++i];
		else if (strcmp(argv[i], "--watchdog-fd") == 0 && i + 1 < argc)
			fd = atoi(argv[++i]);
		else if (strcmp(argv[i], "--method") == 0 && i + 1 < argc)
			method = argv[++i];
		else if (strcmp(argv[i], "--confirm") == 0)
			confirm = 1;
	}
	say("args method=%s confirm=%d fd=%d", method, confirm, fd);
	if (profile == NULL || fd < 0 ||
	    profile_load(profile, &pf, err, sizeof(err)) == -1) {
		say("cannot start: %s", profile == NULL ? "no --profile" : err);
		return 13;
	}
	proto_chan_init(&ch, fd, &proto_supervisor);
	if ((script = getenv("FAKESUP_SCRIPT")) != NULL)
		script = strdup(script);
	else	/* the watchdog passes no environment: fakesup.script */
		script = read_script(profile);
	if (script == NULL)
		return 13;
	for (char *c = strtok_r(script, ";", &save); c != NULL;
	    c = strtok_r(NULL, ";", &save))
		run(c);
	say("script done");
	return 0;
}
