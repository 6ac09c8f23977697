/*
 * A real mosquitto for each test: its own work directory, users, ACL and a
 * free loopback port. Started as root, mosquitto drops to user mosquitto
 * before it reads the password and ACL files, so those are handed to that
 * user; the credential files for the clients stay root-only (0600).
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <mosquitto.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "harness_int.h"

#define START_ATTEMPTS		8
#define READY_TIMEOUT_MS	5000
#define RESTART_TIMEOUT_MS	10000
#define STOP_GRACE_MS		5000

const char *const hbroker_users[HBROKER_NUSERS] = {
	"plant", "supervisor", "watchdog", "observer", "report", "homeassistant",
};

/*
 * The ACL is the shipped one, profiles/mosquitto/gridcal.acl, byte for
 * byte (it cannot drift from what the tests run against), followed by the
 * harness's own users, which no site has.
 */
static const char acl_harness[] =
    "\n# ---- test harness only (tests/harness/broker.c) ----\n"
    "user plant\n"
    "topic write homeassistant/#\n"
    "topic write plant/#\n"
    "topic read solar/control/#\n"
    "topic write solar_assistant/+/+/state\n"
    "topic read solar_assistant/+/+/set\n"
    "\n"
    "user observer\n"
    "topic read #\n";

static int
write_acl(const char *acl)
{
	char shipped[PATH_MAX], *text, *all;
	int rc;

	if (harness_path(shipped, sizeof(shipped),
	    "profiles/mosquitto/gridcal.acl") == -1 ||
	    (text = harness_read_file(shipped, NULL)) == NULL) {
		hwarnx("cannot read the shipped ACL %s", shipped);
		return -1;
	}
	if (asprintf(&all, "%s%s", text, acl_harness) == -1) {
		free(text);
		return -1;
	}
	free(text);
	rc = harness_write_file(acl, all, 0600);
	free(all);
	return rc;
}

/* The broker's name for a harness user: the shipped ACL's for gridcal's. */
const char *
hbroker_mqtt_user(const char *user)
{
	if (strcmp(user, "supervisor") == 0)
		return "gridcal-supervisor";
	if (strcmp(user, "watchdog") == 0)
		return "gridcal-watchdog";
	if (strcmp(user, "report") == 0)
		return "gridcal-report";
	return user;
}

static int
user_index(const char *user)
{
	for (int i = 0; i < HBROKER_NUSERS; i++)
		if (strcmp(user, hbroker_users[i]) == 0)
			return i;
	return -1;
}

const char *
hbroker_password(const struct hbroker *b, const char *user)
{
	int i = user_index(user);

	return i == -1 ? NULL : b->pass[i];
}

int
hbroker_cred_path(const struct hbroker *b, const char *user, char *buf,
    size_t bufsz)
{
	int n = snprintf(buf, bufsz, "%s/%s.cred", b->workdir, user);

	return n < 0 || (size_t)n >= bufsz ? -1 : 0;
}

int
hbroker_address(const struct hbroker *b, char *buf, size_t bufsz)
{
	int n = snprintf(buf, bufsz, "127.0.0.1:%u", (unsigned)b->port);

	return n < 0 || (size_t)n >= bufsz ? -1 : 0;
}

static void
make_password(char *buf, size_t bufsz)
{
	static const char alnum[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	size_t n = bufsz - 1 < 24 ? bufsz - 1 : 24;

	for (size_t i = 0; i < n; i++)
		buf[i] = alnum[arc4random_uniform(sizeof(alnum) - 1)];
	buf[n] = '\0';
}

static int
wpath(const struct hbroker *b, const char *name, char *buf, size_t bufsz)
{
	int n = snprintf(buf, bufsz, "%s/%s", b->workdir, name);

	if (n < 0 || (size_t)n >= bufsz) {
		hwarnx("%s/%s: path too long", b->workdir, name);
		return -1;
	}
	return 0;
}

/* Hands a file to the user the broker drops to, if it drops at all. */
static int
give_to_broker(const char *path)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	if ((pw = getpwnam("mosquitto")) == NULL)
		return 0;	/* the config then says "user root" */
	if (chown(path, pw->pw_uid, pw->pw_gid) == -1) {
		hwarn("chown %s", path);
		return -1;
	}
	return 0;
}

static int
write_users(struct hbroker *b)
{
	char passwd[PATH_MAX], acl[PATH_MAX], cred[PATH_MAX], line[128];

	if (wpath(b, "passwd", passwd, sizeof(passwd)) == -1 ||
	    wpath(b, "acl", acl, sizeof(acl)) == -1)
		return -1;
	/* mosquitto_passwd -c refuses to overwrite nothing; start empty. */
	if (harness_write_file(passwd, "", 0600) == -1)
		return -1;
	for (int i = 0; i < HBROKER_NUSERS; i++) {
		char *argv[] = { (char *)HBROKER_PASSWD_TOOL, (char *)"-b",
		    passwd, (char *)hbroker_mqtt_user(hbroker_users[i]),
		    b->pass[i], NULL };

		make_password(b->pass[i], sizeof(b->pass[i]));
		if (hproc_run(argv, 10000) != 0) {
			hwarnx("mosquitto_passwd for %s failed",
			    hbroker_users[i]);
			return -1;
		}
		if (hbroker_cred_path(b, hbroker_users[i], cred,
		    sizeof(cred)) == -1)
			return -1;
		(void)snprintf(line, sizeof(line), "%s:%s\n",
		    hbroker_mqtt_user(hbroker_users[i]), b->pass[i]);
		if (harness_write_file(cred, line, 0600) == -1)
			return -1;
		explicit_bzero(line, sizeof(line));
	}
	if (write_acl(acl) == -1)
		return -1;
	if (chmod(passwd, 0600) == -1) {
		hwarn("chmod %s", passwd);
		return -1;
	}
	if (give_to_broker(passwd) == -1 || give_to_broker(acl) == -1)
		return -1;
	return 0;
}

static int
write_conf(struct hbroker *b)
{
	char passwd[PATH_MAX], acl[PATH_MAX], text[3 * PATH_MAX + 1024];
	bool stay_root = geteuid() == 0 && getpwnam("mosquitto") == NULL;
	int n;

	if (wpath(b, "passwd", passwd, sizeof(passwd)) == -1 ||
	    wpath(b, "acl", acl, sizeof(acl)) == -1)
		return -1;
	n = snprintf(text, sizeof(text),
	    "# gridcal test broker (tests/harness/broker.c)\n"
	    "%s"
	    "per_listener_settings false\n"
	    "allow_anonymous false\n"
	    "password_file %s\n"
	    "acl_file %s\n"
	    "persistence false\n"
	    "set_tcp_nodelay true\n"
	    "log_dest stderr\n"
	    "log_type error\n"
	    "log_type warning\n"
	    "log_type notice\n"
	    "log_type information\n"
	    "log_timestamp_format %%H:%%M:%%S\n"
	    "connection_messages true\n"
	    "listener %u 127.0.0.1\n",
	    stay_root ? "user root\n" : "", passwd, acl, (unsigned)b->port);
	if (n < 0 || (size_t)n >= sizeof(text)) {
		hwarnx("broker config too long");
		return -1;
	}
	return harness_write_file(b->conf, text, 0644);
}

static int
free_port(uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int s;

	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		hwarn("socket");
		return -1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = 0;
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(s, (struct sockaddr *)&sin, &len) == -1) {
		hwarn("bind 127.0.0.1:0");
		(void)close(s);
		return -1;
	}
	(void)close(s);
	*port = ntohs(sin.sin_port);
	return 0;
}

struct probe {
	int	done;
	int	rc;
};

static void
probe_on_connect(struct mosquitto *m, void *arg, int rc)
{
	struct probe *p = arg;

	(void)m;
	p->done = 1;
	p->rc = rc;
}

/*
 * One MQTT login as the observer: proves the listener is up and the
 * password file was loaded. 1 accepted, 0 not yet, -1 refused.
 */
static int
probe_login(const struct hbroker *b, int64_t deadline)
{
	struct probe pr = { 0, -1 };
	struct mosquitto *m;
	int rc = 0;

	harness_mosq_init();
	if ((m = mosquitto_new(NULL, true, &pr)) == NULL)
		return 0;
	mosquitto_connect_callback_set(m, probe_on_connect);
	if (mosquitto_username_pw_set(m, "observer",
	    hbroker_password(b, "observer")) != MOSQ_ERR_SUCCESS)
		goto out;
	if (mosquitto_connect(m, "127.0.0.1", b->port, 5) != MOSQ_ERR_SUCCESS)
		goto out;
	while (!pr.done && harness_now_ms() < deadline) {
		if (mosquitto_loop(m, 20, 1) != MOSQ_ERR_SUCCESS)
			break;
	}
	if (pr.done)
		rc = pr.rc == 0 ? 1 : -1;
	(void)mosquitto_disconnect(m);
out:
	mosquitto_destroy(m);
	return rc;
}

/* 0 ready, -1 the broker died or timed out (stopped then). */
static int
spawn_and_wait(struct hbroker *b)
{
	char *argv[] = { (char *)HBROKER_MOSQUITTO, (char *)"-c", b->conf,
	    NULL };
	int64_t deadline;
	int r;

	if (hproc_spawn(&b->proc, argv, NULL, b->log, b->log) == -1)
		return -1;
	deadline = harness_now_ms() + READY_TIMEOUT_MS;
	while (harness_now_ms() < deadline) {
		if (hproc_poll(&b->proc)) {
			hwarnx("mosquitto on port %u exited (status %d), see %s",
			    (unsigned)b->port, hproc_exit_code(&b->proc),
			    b->log);
			return -1;
		}
		if ((r = probe_login(b, deadline)) == 1) {
			b->running = true;
			return 0;
		}
		if (r == -1) {
			hwarnx("mosquitto refused the observer login, see %s",
			    b->log);
			break;
		}
		harness_sleep_ms(HARNESS_POLL_MS);
	}
	hwarnx("mosquitto on port %u not ready", (unsigned)b->port);
	(void)hproc_stop(&b->proc, STOP_GRACE_MS);
	return -1;
}

int
hbroker_start(struct hbroker *b, const char *workdir)
{
	memset(b, 0, sizeof(*b));
	if (strlcpy(b->workdir, workdir, sizeof(b->workdir)) >=
	    sizeof(b->workdir) ||
	    wpath(b, "mosquitto.conf", b->conf, sizeof(b->conf)) == -1 ||
	    wpath(b, "mosquitto.log", b->log, sizeof(b->log)) == -1)
		return -1;
	if (write_users(b) == -1)
		return -1;
	for (int i = 0; i < START_ATTEMPTS; i++) {
		if (free_port(&b->port) == -1 || write_conf(b) == -1)
			return -1;
		if (spawn_and_wait(b) == 0)
			return 0;
	}
	hwarnx("mosquitto did not start after %d attempts", START_ATTEMPTS);
	return -1;
}

int
hbroker_stop(struct hbroker *b)
{
	int r;

	if (!b->running)
		return 0;
	r = hproc_stop(&b->proc, STOP_GRACE_MS);
	b->running = false;
	return r;
}

int
hbroker_kill(struct hbroker *b)
{
	if (!b->running)
		return 0;
	b->running = false;
	if (hproc_signal(&b->proc, SIGKILL) == -1)
		return -1;
	return hproc_wait(&b->proc, STOP_GRACE_MS);
}

int
hbroker_restart(struct hbroker *b)
{
	int64_t deadline = harness_now_ms() + RESTART_TIMEOUT_MS;

	if (hbroker_stop(b) == -1)
		return -1;
	/* The port can be held briefly by a socket in TIME_WAIT or by a
	 * connection still closing; mosquitto then exits: try again. */
	while (harness_now_ms() < deadline) {
		if (spawn_and_wait(b) == 0)
			return 0;
		harness_sleep_ms(50);
	}
	hwarnx("mosquitto did not restart on port %u", (unsigned)b->port);
	return -1;
}
