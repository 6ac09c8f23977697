/*
 * MQTT clients for tests: libmosquitto with its network loop in its own
 * thread (mosquitto_loop_start), which also reconnects after a broker
 * restart. Publishes and subscriptions wait for their acknowledgement so a
 * test knows the broker has them; with MQTT 5 the PUBACK's reason code
 * tells a denied publish (135) from an accepted one.
 */
#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "harness_int.h"
#include "hclient_int.h"

#define MIDS		64
#define MAX_SUBS	8

struct hclient {
	struct mosquitto	*m;
	pthread_mutex_t		 lock;
	char			 user[32];
	bool			 connected;
	int			 connack;	/* -1 none yet */
	struct { int mid, reason; } done[MIDS];	/* acked publishes/subs */
	int			 ndone;
	char			 subs[MAX_SUBS][128];
	int			 subqos[MAX_SUBS];
	int			 nsubs;
	hclient_msg_fn		 on_msg;
	void			*on_msg_arg;
};

static pthread_once_t mosq_once = PTHREAD_ONCE_INIT;

static void
mosq_init(void)
{
	if (mosquitto_lib_init() != MOSQ_ERR_SUCCESS)
		hwarnx("mosquitto_lib_init failed");
}

void
harness_mosq_init(void)
{
	(void)pthread_once(&mosq_once, mosq_init);
}

static void
record_done(struct hclient *c, int mid, int reason)
{
	(void)pthread_mutex_lock(&c->lock);
	c->done[c->ndone % MIDS].mid = mid;
	c->done[c->ndone % MIDS].reason = reason;
	c->ndone++;
	(void)pthread_mutex_unlock(&c->lock);
}

/* 1 and *reason once mid was acknowledged, 0 not yet. */
static int
find_done(struct hclient *c, int mid, int *reason)
{
	int found = 0;

	(void)pthread_mutex_lock(&c->lock);
	for (int i = 0; i < MIDS && i < c->ndone; i++) {
		if (c->done[i].mid == mid) {
			*reason = c->done[i].reason;
			found = 1;
			break;
		}
	}
	(void)pthread_mutex_unlock(&c->lock);
	return found;
}

static void
on_connect(struct mosquitto *m, void *arg, int rc, int flags,
    const mosquitto_property *props)
{
	struct hclient *c = arg;

	(void)flags;
	(void)props;
	(void)pthread_mutex_lock(&c->lock);
	c->connack = rc;
	c->connected = rc == 0;
	/* After a broker restart the session is gone: subscribe again. */
	if (rc == 0) {
		for (int i = 0; i < c->nsubs; i++)
			(void)mosquitto_subscribe(m, NULL, c->subs[i],
			    c->subqos[i]);
	}
	(void)pthread_mutex_unlock(&c->lock);
}

static void
on_disconnect(struct mosquitto *m, void *arg, int rc,
    const mosquitto_property *props)
{
	struct hclient *c = arg;

	(void)m;
	(void)rc;
	(void)props;
	(void)pthread_mutex_lock(&c->lock);
	c->connected = false;
	(void)pthread_mutex_unlock(&c->lock);
}

static void
on_publish(struct mosquitto *m, void *arg, int mid, int reason,
    const mosquitto_property *props)
{
	(void)m;
	(void)props;
	record_done(arg, mid, reason);
}

static void
on_subscribe(struct mosquitto *m, void *arg, int mid, int qos_count,
    const int *granted, const mosquitto_property *props)
{
	(void)m;
	(void)props;
	record_done(arg, mid, qos_count > 0 ? granted[0] : 128);
}

static void
on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
	struct hclient *c = arg;

	(void)m;
	if (c->on_msg != NULL)
		c->on_msg(c->on_msg_arg, msg->topic, msg->payload,
		    (size_t)msg->payloadlen, msg->retain);
}

struct hclient *
hclient_connect_cb(const struct hbroker *b, const char *user, bool v5,
    int64_t timeout_ms, hclient_msg_fn fn, void *arg)
{
	int64_t deadline = harness_now_ms() + timeout_ms;
	struct hclient *c;
	const char *pass;
	int rc;

	if ((pass = hbroker_password(b, user)) == NULL) {
		hwarnx("no harness user %s", user);
		return NULL;
	}
	harness_mosq_init();
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		hwarn("calloc");
		return NULL;
	}
	(void)pthread_mutex_init(&c->lock, NULL);
	c->connack = -1;
	c->on_msg = fn;
	c->on_msg_arg = arg;
	(void)strlcpy(c->user, user, sizeof(c->user));
	if ((c->m = mosquitto_new(NULL, true, c)) == NULL) {
		hwarn("mosquitto_new");
		free(c);
		return NULL;
	}
	if (v5)
		(void)mosquitto_int_option(c->m, MOSQ_OPT_PROTOCOL_VERSION,
		    MQTT_PROTOCOL_V5);
	mosquitto_connect_v5_callback_set(c->m, on_connect);
	mosquitto_disconnect_v5_callback_set(c->m, on_disconnect);
	mosquitto_publish_v5_callback_set(c->m, on_publish);
	mosquitto_subscribe_v5_callback_set(c->m, on_subscribe);
	mosquitto_message_callback_set(c->m, on_message);
	(void)mosquitto_reconnect_delay_set(c->m, 1, 1, false);
	if (mosquitto_username_pw_set(c->m, hbroker_mqtt_user(user), pass) !=
	    MOSQ_ERR_SUCCESS ||
	    (rc = mosquitto_connect(c->m, "127.0.0.1", b->port, 10)) !=
	    MOSQ_ERR_SUCCESS) {
		hwarnx("%s: connect to port %u failed", user, (unsigned)b->port);
		goto fail;
	}
	if (mosquitto_loop_start(c->m) != MOSQ_ERR_SUCCESS) {
		hwarnx("%s: mosquitto_loop_start failed", user);
		goto fail;
	}
	while (harness_now_ms() < deadline) {
		(void)pthread_mutex_lock(&c->lock);
		rc = c->connack;
		(void)pthread_mutex_unlock(&c->lock);
		if (rc == 0)
			return c;
		if (rc > 0) {
			hwarnx("%s: connection refused (%d)", user, rc);
			break;
		}
		harness_sleep_ms(HARNESS_POLL_MS);
	}
	if (rc < 0)
		hwarnx("%s: no CONNACK within %lld ms", user,
		    (long long)timeout_ms);
	hclient_close(c);
	return NULL;
fail:
	mosquitto_destroy(c->m);
	(void)pthread_mutex_destroy(&c->lock);
	free(c);
	return NULL;
}

struct hclient *
hclient_connect(const struct hbroker *b, const char *user, bool v5,
    int64_t timeout_ms)
{
	return hclient_connect_cb(b, user, v5, timeout_ms, NULL, NULL);
}

bool
hclient_connected(struct hclient *c)
{
	bool r;

	(void)pthread_mutex_lock(&c->lock);
	r = c->connected;
	(void)pthread_mutex_unlock(&c->lock);
	return r;
}

static int
wait_mid(struct hclient *c, int mid, int64_t deadline, int *reason)
{
	while (harness_now_ms() < deadline) {
		if (find_done(c, mid, reason))
			return 0;
		harness_sleep_ms(1);
	}
	return -1;
}

int
hclient_publish(struct hclient *c, const char *topic, const char *payload,
    int qos, bool retain, int64_t timeout_ms, int *reason)
{
	int64_t deadline = harness_now_ms() + timeout_ms;
	int mid = 0, r = 0, rc;

	if (reason != NULL)
		*reason = 0;
	rc = mosquitto_publish(c->m, &mid, topic, (int)strlen(payload),
	    payload, qos, retain);
	if (rc != MOSQ_ERR_SUCCESS) {
		hwarnx("%s: publish %s: %s", c->user, topic,
		    mosquitto_strerror(rc));
		return -1;
	}
	if (qos == 0)
		return 0;
	if (wait_mid(c, mid, deadline, &r) == -1) {
		hwarnx("%s: no PUBACK for %s within %lld ms", c->user, topic,
		    (long long)timeout_ms);
		return -1;
	}
	if (reason != NULL)
		*reason = r;
	return 0;
}

int
hclient_subscribe(struct hclient *c, const char *pattern, int qos,
    int64_t timeout_ms, int *granted)
{
	int64_t deadline = harness_now_ms() + timeout_ms;
	int mid = 0, g = 0, rc;

	(void)pthread_mutex_lock(&c->lock);
	if (c->nsubs == MAX_SUBS) {
		(void)pthread_mutex_unlock(&c->lock);
		hwarnx("%s: too many subscriptions", c->user);
		return -1;
	}
	(void)strlcpy(c->subs[c->nsubs], pattern, sizeof(c->subs[0]));
	c->subqos[c->nsubs++] = qos;
	(void)pthread_mutex_unlock(&c->lock);
	rc = mosquitto_subscribe(c->m, &mid, pattern, qos);
	if (rc != MOSQ_ERR_SUCCESS) {
		hwarnx("%s: subscribe %s: %s", c->user, pattern,
		    mosquitto_strerror(rc));
		return -1;
	}
	if (wait_mid(c, mid, deadline, &g) == -1) {
		hwarnx("%s: no SUBACK for %s", c->user, pattern);
		return -1;
	}
	if (granted != NULL)
		*granted = g;
	return 0;
}

void
hclient_close(struct hclient *c)
{
	if (c == NULL)
		return;
	(void)mosquitto_disconnect(c->m);
	(void)mosquitto_loop_stop(c->m, true);
	mosquitto_destroy(c->m);
	(void)pthread_mutex_destroy(&c->lock);
	free(c);
}
