/*
 * MQTT session on libmosquitto's manual loop (see session.h). libmosquitto
 * only reconnects inside its own loop functions, which we do not use, so
 * the connection state machine lives here:
 *
 *   IDLE --(backoff expired)--> CONNECTING --(CONNACK 0)--> UP
 *     ^            |                  |  (CONNACK 4/5) --> FATAL
 *     +------------+------------------+-- (lost, refused, timeout)
 */
#include <sys/param.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mosquitto.h>

#include "clock.h"
#include "cred.h"
#include "log.h"
#include "session.h"

enum sstate { S_IDLE, S_CONNECTING, S_UP, S_FATAL };

struct session {
	struct session_params	 p;
	struct mosquitto	*mosq;
	enum sstate		 state;
	int			 ever_tried;	/* connect_async done once */
	int64_t			 next_try_ms;	/* IDLE: reconnect then */
	int64_t			 deadline_ms;	/* CONNECTING: CONNACK by */
	int64_t			 backoff_ms;
	int64_t			 now_ms;	/* of the current handle() */
	unsigned		 connects;
	int			 unacked;	/* QoS 1 publishes, no PUBACK */
	char			*topics[SESSION_TOPICS_MAX];
	int			 qos[SESSION_TOPICS_MAX];
	int			 ntopics;
	char			 err[SESSION_ERR_MAX];
};

static void	lost(struct session *, const char *why);

static void
subscribe_all(struct session *s)
{
	int rc;

	for (int i = 0; i < s->ntopics; i++)
		if ((rc = mosquitto_subscribe(s->mosq, NULL, s->topics[i],
		    s->qos[i])) != MOSQ_ERR_SUCCESS) {
			lost(s, mosquitto_strerror(rc));
			return;
		}
}

static void
cb_connect(struct mosquitto *m, void *arg, int rc)
{
	struct session *s = arg;

	(void)m;
	if (rc == 4 || rc == 5) {
		/* bad user name or password, not authorised */
		(void)snprintf(s->err, sizeof(s->err),
		    "%s:%u refused our credentials: %s", s->p.host, s->p.port,
		    mosquitto_connack_string(rc));
		s->state = S_FATAL;
		(void)mosquitto_disconnect(s->mosq);
		return;
	}
	if (rc != 0) {
		lost(s, mosquitto_connack_string(rc));
		return;
	}
	s->state = S_UP;
	s->backoff_ms = s->p.backoff_min_ms;
	s->connects++;
	log_info("broker %s:%u: connected", s->p.host, s->p.port);
	subscribe_all(s);
	if (s->state == S_UP && s->p.on_state != NULL)
		s->p.on_state(s->p.arg, 1);
}

static void
cb_disconnect(struct mosquitto *m, void *arg, int rc)
{
	struct session *s = arg;

	(void)m;
	if (s->state != S_IDLE && s->state != S_FATAL)
		lost(s, mosquitto_strerror(rc));
}

static void
cb_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
	struct session *s = arg;

	(void)m;
	if (msg->payloadlen < 0)
		return;
	if (s->p.on_message != NULL)
		s->p.on_message(s->p.arg, msg->topic, msg->payload,
		    (size_t)msg->payloadlen, msg->retain);
}

static void
cb_publish(struct mosquitto *m, void *arg, int mid)
{
	struct session *s = arg;

	(void)m;
	s->unacked--;
	if (s->p.on_publish != NULL)
		s->p.on_publish(s->p.arg, mid);
}

struct session *
session_new(const struct session_params *p, char *err, size_t errsz)
{
	struct credentials cred;
	struct session *s;
	uint64_t rnd[2];
	char id[96];
	int rc;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		(void)snprintf(err, errsz, "session: %s", strerror(errno));
		return NULL;
	}
	s->p = *p;
	s->backoff_ms = p->backoff_min_ms;
	if (cred_load(p->cred_path, &cred, err, errsz) == -1) {
		free(s);
		return NULL;
	}
	(void)mosquitto_lib_init();
	/* unguessable: a client id can be taken over by anyone who knows it
	 * (the broker drops the older connection) */
	arc4random_buf(rnd, sizeof(rnd));
	(void)snprintf(id, sizeof(id), "%s-%016llx%016llx", p->client_prefix,
	    (unsigned long long)rnd[0], (unsigned long long)rnd[1]);
	explicit_bzero(rnd, sizeof(rnd));
	if ((s->mosq = mosquitto_new(id, true, s)) == NULL) {
		(void)snprintf(err, errsz, "mosquitto_new: %s",
		    strerror(errno));
		goto fail;
	}
	if ((rc = mosquitto_username_pw_set(s->mosq, cred.user, cred.pass)) !=
	    MOSQ_ERR_SUCCESS) {
		(void)snprintf(err, errsz, "%s: %s", p->cred_path,
		    mosquitto_strerror(rc));
		goto fail;
	}
	cred_clear(&cred);
	/* a revert is one small packet: Nagle would hold it behind any
	 * segment not yet acknowledged */
	if ((rc = mosquitto_int_option(s->mosq, MOSQ_OPT_TCP_NODELAY, 1)) !=
	    MOSQ_ERR_SUCCESS) {
		(void)snprintf(err, errsz, "TCP_NODELAY: %s",
		    mosquitto_strerror(rc));
		goto fail;
	}
	/* the files are read at each connect: after a privilege drop too */
	if (p->tls_ca != NULL && p->tls_ca[0] != '\0' &&
	    (rc = mosquitto_tls_set(s->mosq, p->tls_ca, NULL,
	    p->tls_cert != NULL && p->tls_cert[0] != '\0' ? p->tls_cert : NULL,
	    p->tls_key != NULL && p->tls_key[0] != '\0' ? p->tls_key : NULL,
	    NULL)) != MOSQ_ERR_SUCCESS) {
		(void)snprintf(err, errsz, "%s: TLS: %s", p->tls_ca,
		    mosquitto_strerror(rc));
		goto fail;
	}
	mosquitto_connect_callback_set(s->mosq, cb_connect);
	mosquitto_disconnect_callback_set(s->mosq, cb_disconnect);
	mosquitto_message_callback_set(s->mosq, cb_message);
	mosquitto_publish_callback_set(s->mosq, cb_publish);
	return s;
fail:
	cred_clear(&cred);
	session_free(s);
	return NULL;
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < s->ntopics; i++)
		free(s->topics[i]);
	if (s->mosq != NULL && mosquitto_socket(s->mosq) != -1) {
		s->state = S_IDLE;	/* cb_disconnect stays quiet */
		(void)mosquitto_disconnect(s->mosq);	/* no will */
	}
	if (s->mosq != NULL)
		mosquitto_destroy(s->mosq);
	free(s);
}

int
session_subscribe(struct session *s, const char *topic, int qos)
{
	if (s->ntopics == SESSION_TOPICS_MAX || topic[0] == '\0' ||
	    strlen(topic) > 1024 || strpbrk(topic, "+#") != NULL ||
	    qos < 0 || qos > 1)
		return -1;
	if ((s->topics[s->ntopics] = strdup(topic)) == NULL)
		return -1;
	s->qos[s->ntopics++] = qos;
	if (s->state == S_UP &&
	    mosquitto_subscribe(s->mosq, NULL, topic, qos) != MOSQ_ERR_SUCCESS)
		lost(s, "subscribe failed");
	return 0;
}

/* The connection is gone or unusable: close it and schedule a retry. */
static void
lost(struct session *s, const char *why)
{
	int was_up = s->state == S_UP;

	if (s->state == S_FATAL || s->state == S_IDLE)
		return;
	s->state = S_IDLE;
	(void)mosquitto_disconnect(s->mosq);
	s->next_try_ms = s->now_ms + s->backoff_ms;
	log_warnx("broker %s:%u: %s; retrying in %lld ms", s->p.host,
	    s->p.port, why, (long long)s->backoff_ms);
	s->backoff_ms = s->backoff_ms * 2 > s->p.backoff_max_ms ?
	    s->p.backoff_max_ms : s->backoff_ms * 2;
	if (was_up && s->p.on_state != NULL)
		s->p.on_state(s->p.arg, 0);
}

static void
try_connect(struct session *s)
{
	int rc;

	errno = 0;
	if (!s->ever_tried)
		rc = mosquitto_connect_async(s->mosq, s->p.host, s->p.port,
		    s->p.keepalive_s);
	else
		rc = mosquitto_reconnect_async(s->mosq);
	s->ever_tried = 1;
	if (rc != MOSQ_ERR_SUCCESS) {
		s->state = S_CONNECTING;	/* lost() logs and backs off */
		lost(s, rc == MOSQ_ERR_ERRNO ? strerror(errno) :
		    mosquitto_strerror(rc));
		return;
	}
	s->state = S_CONNECTING;
	s->deadline_ms = s->now_ms + s->p.connect_timeout_ms;
}

void
session_pollfd(struct session *s, struct pollfd *pfd)
{
	pfd->fd = s->state == S_FATAL ? -1 : mosquitto_socket(s->mosq);
	pfd->events = POLLIN;
	if (pfd->fd != -1 && mosquitto_want_write(s->mosq))
		pfd->events |= POLLOUT;
	pfd->revents = 0;
}

int
session_next_ms(const struct session *s, int64_t now_ms)
{
	int64_t d = 1000;	/* keepalive bookkeeping at least each second */

	if (s->state == S_IDLE)
		d = s->next_try_ms - now_ms;
	else if (s->state == S_CONNECTING)
		d = s->deadline_ms - now_ms;
	if (d > 1000)
		d = 1000;
	return d < 0 ? 0 : (int)d;
}

int
session_handle(struct session *s, short revents, int64_t now_ms)
{
	int rc;

	s->now_ms = now_ms;
	if (s->state == S_FATAL)
		return -1;
	if (mosquitto_socket(s->mosq) != -1) {
		if (revents & (POLLIN | POLLHUP | POLLERR)) {
			rc = mosquitto_loop_read(s->mosq, 1);
			if (rc != MOSQ_ERR_SUCCESS)
				lost(s, rc == MOSQ_ERR_ERRNO ? strerror(errno) :
				    mosquitto_strerror(rc));
		}
		if (mosquitto_socket(s->mosq) != -1 && (revents & POLLOUT) &&
		    (rc = mosquitto_loop_write(s->mosq, 1)) != MOSQ_ERR_SUCCESS)
			lost(s, rc == MOSQ_ERR_ERRNO ? strerror(errno) :
			    mosquitto_strerror(rc));
		if (s->state == S_UP &&
		    (rc = mosquitto_loop_misc(s->mosq)) != MOSQ_ERR_SUCCESS)
			lost(s, mosquitto_strerror(rc));	/* keepalive */
	}
	if (s->state == S_CONNECTING && now_ms >= s->deadline_ms)
		lost(s, "no CONNACK in time");
	if (s->state == S_IDLE && now_ms >= s->next_try_ms)
		try_connect(s);
	return s->state == S_FATAL ? -1 : 0;
}

int
session_publish(struct session *s, const char *topic, const void *payload,
    size_t len, int qos, int retain, int *mid)
{
	int rc, m = 0;

	if (len > 65535 || qos < 0 || qos > 1) {
		(void)snprintf(s->err, sizeof(s->err), "%s: bad publish",
		    topic);
		return -1;
	}
	rc = mosquitto_publish(s->mosq, &m, topic, (int)len, payload, qos,
	    retain != 0);
	if (mid != NULL)
		*mid = 0;
	/* QoS 1 while disconnected: queued by libmosquitto (see session.h) */
	if (rc == MOSQ_ERR_SUCCESS || (rc == MOSQ_ERR_NO_CONN && qos == 1 &&
	    m != 0)) {
		s->unacked++;	/* on_publish: PUBACK, or sent for QoS 0 */
		if (mid != NULL)
			*mid = m;
		return 0;
	}
	(void)snprintf(s->err, sizeof(s->err), "publish %s: %s", topic,
	    rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
	if (s->state == S_UP && rc != MOSQ_ERR_NO_CONN)
		lost(s, s->err);
	return -1;
}

int
session_drain(struct session *s, int64_t timeout_ms)
{
	int64_t now = mono_ms(), until = now + timeout_ms;
	struct pollfd pfd;
	int t;

	while (s->unacked > 0 && now < until && s->state != S_FATAL) {
		session_pollfd(s, &pfd);
		t = session_next_ms(s, now);
		if (poll(&pfd, 1, MIN(t, (int)(until - now))) == -1 &&
		    errno != EINTR)
			return -1;
		(void)session_handle(s, pfd.revents, now = mono_ms());
	}
	return s->unacked > 0 ? -1 : 0;
}

int
session_set_will(struct session *s, const char *topic, const char *payload)
{
	int rc, was_up = s->state == S_UP;

	if ((rc = mosquitto_will_set(s->mosq, topic, (int)strlen(payload),
	    payload, 1, true)) != MOSQ_ERR_SUCCESS) {
		(void)snprintf(s->err, sizeof(s->err), "will on %s: %s", topic,
		    mosquitto_strerror(rc));
		return -1;
	}
	if (s->state != S_UP && s->state != S_CONNECTING)
		return 0;	/* the next CONNECT carries it */
	s->state = S_IDLE;	/* deliberate: cb_disconnect stays quiet */
	(void)mosquitto_disconnect(s->mosq);
	s->next_try_ms = s->now_ms;	/* at the next session_handle() */
	if (was_up && s->p.on_state != NULL)
		s->p.on_state(s->p.arg, 0);
	return 0;
}

int
session_connected(const struct session *s)
{
	return s->state == S_UP;
}

unsigned
session_connects(const struct session *s)
{
	return s->connects;
}

const char *
session_error(const struct session *s)
{
	return s->err;
}
