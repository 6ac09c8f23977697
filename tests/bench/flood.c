/*
 * gridcal-bench-flood: floods the broker with valid telemetry as fast as
 * the broker takes it. Each message is a plausible value on one of the
 * site's telemetry topics that does not decide a calibration (pack PCB and
 * cell temperatures 24-26 C, unit PV and output power), so the supervisor
 * and the watchdog parse and store every one of them while the plant's
 * own telemetry keeps deciding the run.
 *
 *   gridcal-bench-flood --profile FILE --cred FILE [--seconds S]
 *       [--window W]
 *
 * Messages go out at QoS 1 with at most W unacknowledged (default 32): the
 * broker acknowledges a PUBLISH only after it has routed it to every
 * subscriber, so the rate settles at what the broker sustains, not at what
 * this process could write into a socket. Stops after S seconds (default
 * 3600) or on SIGTERM, then prints "sent=N acked=N seconds=S rate=R".
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>

#include "cred.h"
#include "profile.h"

#define NTOPICS_MAX	(PROFILE_MAX_PACKS * 2 + PROFILE_MAX_UNITS * 2)

static volatile sig_atomic_t stop;
static char topics[NTOPICS_MAX][PROFILE_TOPIC_MAX];
static int kinds[NTOPICS_MAX];	/* 0 temperature, 1 power */
static int ntopics;
static unsigned long long sent, acked;
static bool up;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
on_connect(struct mosquitto *m, void *arg, int rc)
{
	(void)m;
	(void)arg;
	if (rc != 0)
		errx(1, "broker refused the connection: %s",
		    mosquitto_connack_string(rc));
	up = true;
}

static void
on_publish(struct mosquitto *m, void *arg, int mid)
{
	(void)m;
	(void)arg;
	(void)mid;
	acked++;
}

static double
now_s(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		err(1, "clock_gettime");
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
add_topic(const char *tmpl, int n, int kind)
{
	if (topic_expand(tmpl, n, topics[ntopics], sizeof(topics[0])) == -1)
		errx(78, "topic does not fit: %s", tmpl);
	kinds[ntopics++] = kind;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: gridcal-bench-flood --profile FILE --cred FILE "
	    "[--seconds S] [--window W]\n");
	exit(64);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "cred", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 's' },
		{ "window", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	const char *profile_path = NULL, *cred_path = NULL, *errstr;
	char perr[PROFILE_ERR_MAX], payload[16];
	struct credentials cred;
	struct profile pf;
	struct mosquitto *mosq;
	struct sigaction sa;
	long long seconds = 3600, window = 32;
	double t0 = 0, end;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "p:c:s:w:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'p':
			profile_path = optarg;
			break;
		case 'c':
			cred_path = optarg;
			break;
		case 's':
			seconds = strtonum(optarg, 1, 86400, &errstr);
			if (errstr != NULL)
				errx(64, "seconds %s: %s", optarg, errstr);
			break;
		case 'w':
			window = strtonum(optarg, 1, 65535, &errstr);
			if (errstr != NULL)
				errx(64, "window %s: %s", optarg, errstr);
			break;
		default:
			usage();
		}
	}
	if (profile_path == NULL || cred_path == NULL || optind != argc)
		usage();
	if (profile_load(profile_path, &pf, perr, sizeof(perr)) == -1)
		errx(78, "%s", perr);
	if (cred_load(cred_path, &cred, perr, sizeof(perr)) == -1)
		errx(1, "%s", perr);
	for (int i = 1; i <= pf.packs; i++)
		for (int f = PF_TEMP; f < pack_nfields(&pf); f++)
			add_topic(pf.pack_field[f].topic, i, 0);
	for (int u = 1; u <= pf.units; u++) {
		add_topic(pf.unit_field[UF_PV_POWER].topic, u, 1);
		add_topic(pf.unit_field[UF_AC_OUTPUT_POWER].topic, u, 1);
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1)
		err(1, "sigaction");

	(void)mosquitto_lib_init();
	if ((mosq = mosquitto_new(NULL, true, NULL)) == NULL)
		err(1, "mosquitto_new");
	if (mosquitto_username_pw_set(mosq, cred.user, cred.pass) !=
	    MOSQ_ERR_SUCCESS)
		errx(1, "credentials");
	cred_clear(&cred);
	/* our window, not libmosquitto's, limits what is in flight */
	(void)mosquitto_int_option(mosq, MOSQ_OPT_SEND_MAXIMUM, (int)window);
	(void)mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_callback_set(mosq, on_connect);
	mosquitto_publish_callback_set(mosq, on_publish);
	if ((rc = mosquitto_connect(mosq, pf.broker_host, pf.broker_port,
	    pf.broker_keepalive_s)) != MOSQ_ERR_SUCCESS)
		errx(1, "connect %s:%u: %s", pf.broker_host, pf.broker_port,
		    mosquitto_strerror(rc));

	end = now_s() + (double)seconds;
	while (!stop && now_s() < end) {
		struct pollfd pfd = { .fd = mosquitto_socket(mosq),
		    .events = POLLIN };

		while (up && sent - acked < (unsigned long long)window) {
			int k = (int)(sent % (unsigned long long)ntopics);

			if (t0 == 0)
				t0 = now_s();
			if (kinds[k] == 0)
				(void)snprintf(payload, sizeof(payload), "%.1f",
				    24.0 + (double)(sent % 21) / 10.0);
			else
				(void)snprintf(payload, sizeof(payload), "%llu",
				    1000 + sent % 2000);
			if ((rc = mosquitto_publish(mosq, NULL, topics[k],
			    (int)strlen(payload), payload, 1, false)) !=
			    MOSQ_ERR_SUCCESS)
				errx(1, "publish: %s", mosquitto_strerror(rc));
			sent++;
		}
		if (mosquitto_want_write(mosq))
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, 100) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "poll");
		}
		if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) &&
		    (rc = mosquitto_loop_read(mosq, 1)) != MOSQ_ERR_SUCCESS)
			errx(1, "read: %s", mosquitto_strerror(rc));
		if ((pfd.revents & POLLOUT) &&
		    (rc = mosquitto_loop_write(mosq, 1)) != MOSQ_ERR_SUCCESS)
			errx(1, "write: %s", mosquitto_strerror(rc));
		if ((rc = mosquitto_loop_misc(mosq)) != MOSQ_ERR_SUCCESS)
			errx(1, "keepalive: %s", mosquitto_strerror(rc));
	}
	{
		double dt = t0 == 0 ? 0 : now_s() - t0;

		printf("sent=%llu acked=%llu seconds=%.3f rate=%.0f\n", sent,
		    acked, dt, dt > 0 ? (double)acked / dt : 0.0);
	}
	mosquitto_destroy(mosq);
	(void)mosquitto_lib_cleanup();
	return 0;
}
