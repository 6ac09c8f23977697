/*
 * gridcal-bench-floor: the least any MQTT-driven reactor can do. It
 * subscribes to the same exact telemetry topics the supervisor does (so the
 * broker fans the same traffic out to it), and when a cell_voltage_max
 * value above the profile's abort limit arrives it publishes the everyday
 * output priority at once, QoS 1 like the watchdog: two broker hops and
 * nothing else. No privilege separation, no state machine, no audit.
 *
 *   gridcal-bench-floor --profile FILE --cred FILE --topic OUT
 *
 * The publish happens right after mosquitto_loop_read() returns, outside
 * the callback, so libmosquitto writes it to the socket at once instead of
 * queueing it for the next loop turn. TCP_NODELAY is set on the client
 * (the harness broker sets it on its side).
 *
 * On SIGUSR1 prints "received=N reacted=M" on stdout (the bench checks that
 * a flood reached it whole); on SIGTERM prints it and exits 0.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>

#include "cred.h"
#include "profile.h"

#define NTOPICS_MAX	(PROFILE_MAX_PACKS * PF_COUNT + PROFILE_MAX_UNITS * UF_COUNT)

static volatile sig_atomic_t stop, report;
static struct profile pf;
static char *topics[NTOPICS_MAX];
static int ntopics;
static unsigned long long received, reacted;
static int trip;		/* set by the callback, acted on after it */
static int cell_suffix_len;
static char cell_suffix[PROFILE_TOPIC_MAX];

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		report = 1;
	else
		stop = 1;
}

static void
on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
	char buf[32], *end;
	size_t tl;
	double v;

	(void)m;
	(void)arg;
	received++;
	tl = strlen(msg->topic);
	if (tl < (size_t)cell_suffix_len ||
	    strcmp(msg->topic + tl - (size_t)cell_suffix_len, cell_suffix) != 0 ||
	    msg->payloadlen <= 0 || (size_t)msg->payloadlen >= sizeof(buf))
		return;
	memcpy(buf, msg->payload, (size_t)msg->payloadlen);
	buf[msg->payloadlen] = '\0';
	v = strtod(buf, &end);
	if (end != buf && *end == '\0' && v > pf.limits.abort_cell_v)
		trip = 1;
}

static void
on_connect(struct mosquitto *m, void *arg, int rc)
{
	(void)arg;
	if (rc != 0)
		errx(1, "broker refused the connection: %s",
		    mosquitto_connack_string(rc));
	if (mosquitto_subscribe_multiple(m, NULL, ntopics, topics, 0, 0,
	    NULL) != MOSQ_ERR_SUCCESS)
		errx(1, "subscribe failed");
}

/* The text after "{i}" in the cell_voltage_max template: what to match. */
static void
make_topics(void)
{
	const char *tmpl = pf.pack_field[PF_CELL_VOLTAGE_MAX].topic;
	const char *p = strstr(tmpl, "{i}");
	char t[PROFILE_TOPIC_MAX];

	if (p == NULL)
		errx(78, "cell_voltage_max topic has no {i}");
	cell_suffix_len = (int)strlcpy(cell_suffix, p + 3, sizeof(cell_suffix));
	for (int i = 1; i <= pf.packs; i++)
		for (int f = 0; f < pack_nfields(&pf); f++) {
			if (topic_expand(pf.pack_field[f].topic, i, t,
			    sizeof(t)) == -1 ||
			    (topics[ntopics++] = strdup(t)) == NULL)
				err(1, "topic");
		}
	for (int u = 1; u <= pf.units; u++)
		for (int f = 0; f < UF_COUNT; f++) {
			if (topic_expand(pf.unit_field[f].topic, u, t,
			    sizeof(t)) == -1 ||
			    (topics[ntopics++] = strdup(t)) == NULL)
				err(1, "topic");
		}
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: gridcal-bench-floor --profile FILE --cred FILE "
	    "--topic OUT\n");
	exit(64);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "cred", required_argument, NULL, 'c' },
		{ "topic", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *profile_path = NULL, *cred_path = NULL, *out = NULL;
	const char *payload;
	char perr[PROFILE_ERR_MAX];
	struct credentials cred;
	struct mosquitto *mosq;
	struct sigaction sa;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "p:c:t:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			profile_path = optarg;
			break;
		case 'c':
			cred_path = optarg;
			break;
		case 't':
			out = optarg;
			break;
		default:
			usage();
		}
	}
	if (profile_path == NULL || cred_path == NULL || out == NULL ||
	    optind != argc)
		usage();
	if (profile_load(profile_path, &pf, perr, sizeof(perr)) == -1)
		errx(78, "%s", perr);
	if (cred_load(cred_path, &cred, perr, sizeof(perr)) == -1)
		errx(1, "%s", perr);
	make_topics();
	payload = pf.control[SETTING_OUTPUT_PRIORITY].value[VALUE_EVERYDAY];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGUSR1, &sa, NULL) == -1)
		err(1, "sigaction");

	(void)mosquitto_lib_init();
	if ((mosq = mosquitto_new(NULL, true, NULL)) == NULL)
		err(1, "mosquitto_new");
	if (mosquitto_username_pw_set(mosq, cred.user, cred.pass) !=
	    MOSQ_ERR_SUCCESS)
		errx(1, "credentials");
	cred_clear(&cred);
	(void)mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_callback_set(mosq, on_connect);
	mosquitto_message_callback_set(mosq, on_message);
	if ((rc = mosquitto_connect(mosq, pf.broker_host, pf.broker_port,
	    pf.broker_keepalive_s)) != MOSQ_ERR_SUCCESS)
		errx(1, "connect %s:%u: %s", pf.broker_host, pf.broker_port,
		    mosquitto_strerror(rc));

	while (!stop) {
		struct pollfd pfd = { .fd = mosquitto_socket(mosq),
		    .events = POLLIN };

		if (mosquitto_want_write(mosq))
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, 1000) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "poll");
		}
		if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) &&
		    (rc = mosquitto_loop_read(mosq, 1)) != MOSQ_ERR_SUCCESS)
			errx(1, "read: %s", mosquitto_strerror(rc));
		if (trip) {
			trip = 0;
			reacted++;
			if ((rc = mosquitto_publish(mosq, NULL, out,
			    (int)strlen(payload), payload, 1, false)) !=
			    MOSQ_ERR_SUCCESS)
				errx(1, "publish: %s", mosquitto_strerror(rc));
		}
		if ((pfd.revents & POLLOUT) &&
		    (rc = mosquitto_loop_write(mosq, 1)) != MOSQ_ERR_SUCCESS)
			errx(1, "write: %s", mosquitto_strerror(rc));
		if ((rc = mosquitto_loop_misc(mosq)) != MOSQ_ERR_SUCCESS)
			errx(1, "keepalive: %s", mosquitto_strerror(rc));
		if (report) {
			report = 0;
			printf("received=%llu reacted=%llu\n", received,
			    reacted);
			(void)fflush(stdout);
		}
	}
	printf("received=%llu reacted=%llu\n", received, reacted);
	mosquitto_destroy(mosq);
	(void)mosquitto_lib_cleanup();
	return 0;
}
