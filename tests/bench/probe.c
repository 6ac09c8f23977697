/*
 * The latency probe. Two libmosquitto clients driven from this thread's
 * poll() loop (no library thread, so nothing is handed between threads on
 * the timed path): a publisher logged in as a telemetry writer, and an
 * observer subscribed to what the reactors publish. A trip is timed from
 * just before mosquitto_publish() to the message callback of the answer.
 * A publish made outside a callback on a client without a loop thread is
 * written to the socket inside mosquitto_publish(), and both clients set
 * TCP_NODELAY, so the probe adds no queueing of its own.
 */
#include <errno.h>
#include <stdint.h>
#include <mosquitto.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "harness.h"

static void
on_connect(struct mosquitto *m, void *arg, int rc)
{
	struct probe *p = arg;

	if (rc != 0) {
		fprintf(stderr, "probe: connection refused: %s\n",
		    mosquitto_connack_string(rc));
		return;
	}
	if (m == p->pub)
		p->pub_up = true;
	else
		p->sub_up = true;
}

static void
on_subscribe(struct mosquitto *m, void *arg, int mid, int n, const int *qos)
{
	struct probe *p = arg;

	(void)m;
	for (int i = 0; i < n; i++)
		if (qos[i] > 2) {
			fprintf(stderr, "probe: subscription %d refused\n", i);
			return;
		}
	if (mid == p->sub_mid)
		p->subscribed = true;
}

static struct probe_latest *
latest_slot(struct probe *p, const char *topic, bool add)
{
	for (int i = 0; i < p->nlatest; i++)
		if (strcmp(p->latest[i].topic, topic) == 0)
			return &p->latest[i];
	if (!add || p->nlatest == PROBE_LATEST ||
	    strlen(topic) >= sizeof(p->latest[0].topic))
		return NULL;
	(void)strlcpy(p->latest[p->nlatest].topic, topic,
	    sizeof(p->latest[0].topic));
	return &p->latest[p->nlatest++];
}

static void
on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
	struct probe *p = arg;
	int64_t t = now_ns();
	struct probe_latest *l;
	size_t len = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;

	(void)m;
	p->received++;
	if (p->got_ns == 0 && p->want_topic[0] != '\0' &&
	    strcmp(msg->topic, p->want_topic) == 0 &&
	    len == strlen(p->want_payload) &&
	    memcmp(msg->payload, p->want_payload, len) == 0)
		p->got_ns = t;
	if ((l = latest_slot(p, msg->topic, true)) != NULL) {
		if (len >= sizeof(l->payload))
			len = sizeof(l->payload) - 1;
		if (len > 0)
			memcpy(l->payload, msg->payload, len);
		l->payload[len] = '\0';
		l->count++;
		l->at_ns = t;
	}
}

static struct mosquitto *
client(struct probe *p, const struct hbroker *br, const char *user)
{
	struct mosquitto *m;
	const char *pass = hbroker_password(br, user);

	if (pass == NULL || (m = mosquitto_new(NULL, true, p)) == NULL)
		return NULL;
	if (mosquitto_username_pw_set(m, user, pass) != MOSQ_ERR_SUCCESS ||
	    mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1) !=
	    MOSQ_ERR_SUCCESS) {
		mosquitto_destroy(m);
		return NULL;
	}
	mosquitto_connect_callback_set(m, on_connect);
	mosquitto_subscribe_callback_set(m, on_subscribe);
	mosquitto_message_callback_set(m, on_message);
	if (mosquitto_connect(m, "127.0.0.1", br->port, 60) !=
	    MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "probe: connect as %s failed\n", user);
		mosquitto_destroy(m);
		return NULL;
	}
	return m;
}

int
probe_open(struct probe *p, const struct hbroker *br, const char *pub_user,
    const char *const *subs, int nsubs, int64_t timeout_ms)
{
	int64_t deadline = now_ns() + timeout_ms * 1000000;
	bool asked = false;

	memset(p, 0, sizeof(*p));
	(void)mosquitto_lib_init();
	if ((p->pub = client(p, br, pub_user)) == NULL ||
	    (p->sub = client(p, br, "observer")) == NULL) {
		probe_close(p);
		return -1;
	}
	while (now_ns() < deadline) {
		if (probe_pump(p, 10) == -1)
			break;
		if (p->sub_up && !asked) {
			if (mosquitto_subscribe_multiple(p->sub, &p->sub_mid,
			    nsubs, (char *const *)(uintptr_t)subs, 1, 0, NULL) !=
			    MOSQ_ERR_SUCCESS)
				break;
			asked = true;
		}
		if (p->pub_up && p->subscribed)
			return 0;
	}
	fprintf(stderr, "probe: not connected and subscribed in time\n");
	probe_close(p);
	return -1;
}

void
probe_close(struct probe *p)
{
	if (p->pub != NULL)
		mosquitto_destroy(p->pub);
	if (p->sub != NULL)
		mosquitto_destroy(p->sub);
	p->pub = p->sub = NULL;
}

static int
service(struct mosquitto *m, short revents)
{
	int rc = MOSQ_ERR_SUCCESS;

	if (revents & (POLLIN | POLLHUP | POLLERR))
		rc = mosquitto_loop_read(m, 1);
	if (rc == MOSQ_ERR_SUCCESS && (revents & POLLOUT))
		rc = mosquitto_loop_write(m, 1);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_loop_misc(m);
	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "probe: connection lost: %s\n",
		    mosquitto_strerror(rc));
		return -1;
	}
	return 0;
}

int
probe_pump(struct probe *p, int timeout_ms)
{
	struct pollfd pfd[2];
	struct mosquitto *m[2] = { p->pub, p->sub };

	for (int i = 0; i < 2; i++) {
		pfd[i].fd = mosquitto_socket(m[i]);
		pfd[i].events = POLLIN;
		if (mosquitto_want_write(m[i]))
			pfd[i].events |= POLLOUT;
		pfd[i].revents = 0;
	}
	if (poll(pfd, 2, timeout_ms) == -1 && errno != EINTR)
		return -1;
	for (int i = 0; i < 2; i++)
		if (service(m[i], pfd[i].revents) == -1)
			return -1;
	return 0;
}

int
probe_publish(struct probe *p, const char *topic, const char *payload)
{
	return mosquitto_publish(p->pub, NULL, topic, (int)strlen(payload),
	    payload, 0, false) == MOSQ_ERR_SUCCESS ? 0 : -1;
}

double
probe_trip(struct probe *p, const char *topic, const char *payload,
    const char *want_topic, const char *want_payload, int64_t timeout_ms,
    int64_t repeat_ms, unsigned *repeats)
{
	int64_t t0, deadline, next;

	(void)strlcpy(p->want_topic, want_topic, sizeof(p->want_topic));
	(void)strlcpy(p->want_payload, want_payload, sizeof(p->want_payload));
	p->got_ns = 0;
	/* drain whatever is pending so the trip starts from a quiet socket */
	(void)probe_pump(p, 0);
	p->npub = 0;
	t0 = now_ns();
	if (probe_publish(p, topic, payload) == -1)
		return -1;
	p->pub_ns[p->npub++] = t0;
	p->trips++;
	deadline = t0 + timeout_ms * 1000000;
	next = repeat_ms > 0 ? t0 + repeat_ms * 1000000 : INT64_MAX;
	while (p->got_ns == 0 && now_ns() < deadline) {
		if (probe_pump(p, 1) == -1)
			break;
		/* a cell over the limit stays over it: the site keeps
		 * publishing the value, as the BMS would */
		if (p->got_ns == 0 && now_ns() >= next) {
			const char *v = payload;
			int64_t t = now_ns();

			if (p->nrepeat_vals > 0)
				v = p->repeat_vals[p->npub - 1 <
				    p->nrepeat_vals ? p->npub - 1 :
				    p->nrepeat_vals - 1];
			if (probe_publish(p, topic, v) == -1)
				break;
			if (p->npub < PROBE_PUBS)
				p->pub_ns[p->npub++] = t;
			p->trips++;
			if (repeats != NULL)
				(*repeats)++;
			next += repeat_ms * 1000000;
		}
	}
	p->want_topic[0] = '\0';
	return p->got_ns == 0 ? -1 : (double)(p->got_ns - t0) / 1e6;
}

uint64_t
probe_latest(struct probe *p, const char *topic, char *buf, size_t bufsz,
    int64_t *at_ns)
{
	struct probe_latest *l = latest_slot(p, topic, false);

	if (l == NULL) {
		if (buf != NULL && bufsz > 0)
			buf[0] = '\0';
		if (at_ns != NULL)
			*at_ns = 0;
		return 0;
	}
	if (buf != NULL && bufsz > 0)
		(void)strlcpy(buf, l->payload, bufsz);
	if (at_ns != NULL)
		*at_ns = l->at_ns;
	return l->count;
}
