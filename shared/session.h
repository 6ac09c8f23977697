/*
 * MQTT session for the watchdog and the supervisor: one libmosquitto
 * client, driven from the caller's single-threaded poll() loop, that keeps
 * itself connected.
 *
 * - Credentials come from a "user:password" file (shared/cred.h); the copy
 *   in this process is wiped once libmosquitto has its own.
 * - Never blocks: connect and reconnect are asynchronous. A lost or failed
 *   connection is retried after a backoff that doubles from backoff_min_ms
 *   to backoff_max_ms and resets once the broker accepts us. A connect that
 *   gets no CONNACK within connect_timeout_ms is abandoned and retried.
 * - The broker refusing our credentials (CONNACK 4 or 5) is FATAL:
 *   session_handle() returns -1 from then on and session_error() says why.
 *   Retrying cannot fix a wrong password and would hide the fault.
 * - Every topic given to session_subscribe() is subscribed again after each
 *   reconnect (clean session: the broker keeps nothing for us).
 *
 * QoS 1 PUBLISH WHILE DISCONNECTED. libmosquitto 2.0 queues a QoS 1 message
 * published while disconnected (it returns MOSQ_ERR_NO_CONN but keeps the
 * message and assigns a mid) and sends it on reconnect. session_publish()
 * reports that as success with *mid set: the caller must NOT publish the same
 * message again until on_publish(mid) (the broker's PUBACK) has arrived,
 * or the plant would see it twice.
 *
 * Loop, once per iteration:
 *
 *	struct pollfd pfd;
 *	session_pollfd(s, &pfd);	// fd -1 while there is no socket
 *	timeout = MIN(my_timeout, session_next_ms(s, now));
 *	poll(&pfd, 1, timeout);		// with the caller's other fds
 *	if (session_handle(s, pfd.revents, mono_ms()) == -1)
 *		fatalx("broker: %s", session_error(s));
 */
#ifndef GRIDCAL_SESSION_H
#define GRIDCAL_SESSION_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#define SESSION_TOPICS_MAX	512
#define SESSION_ERR_MAX		256

struct session;

struct session_params {
	const char	*client_prefix;	/* client id: "<prefix>-<128 random
					   bits, hex>" */
	const char	*host;
	uint16_t	 port;
	int		 keepalive_s;
	const char	*cred_path;
	const char	*tls_ca;	/* NULL or "": no TLS */
	const char	*tls_cert, *tls_key;	/* NULL or "": none */
	int64_t		 backoff_min_ms;	/* first retry delay */
	int64_t		 backoff_max_ms;	/* cap of the doubling */
	int64_t		 connect_timeout_ms;	/* CONNACK deadline */
	/* every message on a subscribed topic (may be NULL); topic is
	 * NUL-terminated, payload is len untrusted bytes (not terminated);
	 * retained: the broker's stored copy (MQTT retain flag), which may
	 * be any age and must never count as a fresh value */
	void		(*on_message)(void *arg, const char *topic,
			    const void *payload, size_t len, int retained);
	/* the broker acknowledged QoS 1 publish mid (may be NULL) */
	void		(*on_publish)(void *arg, int mid);
	/* connection state changed: up 1 after CONNACK 0, 0 when lost
	 * (may be NULL) */
	void		(*on_state)(void *arg, int up);
	void		*arg;
};

/*
 * Creates the client and loads the credentials. Nothing is sent until the
 * first session_handle(). NULL with a one-line reason in err.
 */
struct session *session_new(const struct session_params *, char *err,
	    size_t errsz);
/* Disconnects cleanly (the will is discarded), then frees. */
void	session_free(struct session *);

/* Adds an exact topic (no wildcards) to the subscription list; -1 if full,
 * too long or not exact. Subscribes at once when connected. */
int	session_subscribe(struct session *, const char *topic, int qos);

void	session_pollfd(struct session *, struct pollfd *);
/* Milliseconds until session_handle() must run again (0..1000). */
int	session_next_ms(const struct session *, int64_t now_ms);
/*
 * Reads, writes, keeps alive and reconnects as needed; revents is what
 * poll() returned for the fd of session_pollfd() (0 on a timeout).
 * Callbacks run from here. 0, or -1 once the session is fatally refused.
 */
int	session_handle(struct session *, short revents, int64_t now_ms);

/*
 * Publishes payload (len bytes) on topic. 0 when sent or queued (QoS 1
 * only, see above) with *mid (may be NULL) set; -1 when the message was
 * neither sent nor queued, with *mid 0 and the reason in session_error().
 */
int	session_publish(struct session *, const char *topic,
	    const void *payload, size_t len, int qos, int retain, int *mid);

/*
 * Keeps the session going, without the caller's loop, until every QoS 1
 * message published so far has its PUBACK or timeout_ms passes; for a
 * last message (an alarm cleared) before exit. 0 if all were acknowledged.
 */
int	session_drain(struct session *, int64_t timeout_ms);

/*
 * LAST WILL. The broker publishes payload on topic (QoS 1, retained) if we
 * vanish without a DISCONNECT: killed, hung past 1.5 x keepalive, power
 * lost. MQTT carries one will per connection, in CONNECT only: a will set
 * while connected reconnects at once to arm it (a QoS 1 publish made right
 * after is queued and follows the new CONNECT). session_free() disconnects
 * cleanly, which discards the will: the caller publishes the "all clear"
 * on the topic before. -1 with session_error() if libmosquitto refuses it.
 */
int	session_set_will(struct session *, const char *topic,
	    const char *payload);

int	session_connected(const struct session *);
/* Connections made so far (1 after the first CONNACK). */
unsigned session_connects(const struct session *);
const char *session_error(const struct session *);

#endif
