/*
 * The observer: logged in as "observer" (read #), it records the latest
 * payload of every topic and an ordered log of what matters to safety
 * tests: every control message, everything gridcal publishes, everything
 * the plant says about itself. Tests poll it with deadlines.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "harness_int.h"
#include "hclient_int.h"

struct topic_rec {
	char		*topic;
	char		*payload;	/* NUL-terminated copy */
	size_t		 len;
	uint64_t	 count;
	int64_t		 at_ms;
	/* distinct payloads seen, for hobs_seen_payload() */
	char		**seen;
	size_t		 nseen;
};

struct hobs {
	struct hclient		*c;
	pthread_mutex_t		 lock;
	struct topic_rec	*topics;
	size_t			 ntopics, topics_cap;
	struct hobs_msg		*log;
	size_t			 nlog, log_cap;
	bool			 log_status;
};


static const char *const logged[] = { "solar/control/", "gridcal/", "plant/" };

static bool
is_logged(const struct hobs *o, const char *topic)
{
	if (!o->log_status && strcmp(topic, HPLANT_STATUS_TOPIC) == 0)
		return false;
	for (size_t i = 0; i < sizeof(logged) / sizeof(logged[0]); i++)
		if (strncmp(topic, logged[i], strlen(logged[i])) == 0)
			return true;
	return false;
}

/* Called with o->lock held. */
static struct topic_rec *
find_topic(struct hobs *o, const char *topic, bool create)
{
	struct topic_rec *t;

	for (size_t i = 0; i < o->ntopics; i++)
		if (strcmp(o->topics[i].topic, topic) == 0)
			return &o->topics[i];
	if (!create)
		return NULL;
	if (o->ntopics == o->topics_cap) {
		size_t ncap = o->topics_cap == 0 ? 128 : o->topics_cap * 2;
		struct topic_rec *n = reallocarray(o->topics, ncap, sizeof(*n));

		if (n == NULL)
			return NULL;
		o->topics = n;
		o->topics_cap = ncap;
	}
	t = &o->topics[o->ntopics];
	memset(t, 0, sizeof(*t));
	if ((t->topic = strdup(topic)) == NULL)
		return NULL;
	o->ntopics++;
	return t;
}

static void
remember(struct topic_rec *t, const char *payload)
{
	char **n;

	for (size_t i = 0; i < t->nseen; i++)
		if (strcmp(t->seen[i], payload) == 0)
			return;
	if (t->nseen == HOBS_SEEN_MAX)
		return;
	if ((n = reallocarray(t->seen, t->nseen + 1, sizeof(*n))) == NULL)
		return;
	t->seen = n;
	if ((t->seen[t->nseen] = strdup(payload)) != NULL)
		t->nseen++;
}

static void
obs_message(void *arg, const char *topic, const void *payload, size_t len,
    bool retain)
{
	struct hobs *o = arg;
	int64_t now = harness_now_ms();
	struct topic_rec *t;
	char *copy;

	if ((copy = malloc(len + 1)) == NULL)
		return;
	if (len > 0)
		memcpy(copy, payload, len);
	copy[len] = '\0';
	(void)pthread_mutex_lock(&o->lock);
	if ((t = find_topic(o, topic, true)) == NULL) {
		(void)pthread_mutex_unlock(&o->lock);
		free(copy);
		return;
	}
	free(t->payload);
	t->payload = copy;
	t->len = len;
	t->count++;
	t->at_ms = now;
	if (strcmp(topic, HPLANT_STATUS_TOPIC) != 0)
		remember(t, copy);
	if (is_logged(o, topic)) {
		if (o->nlog == o->log_cap) {
			size_t ncap = o->log_cap == 0 ? 256 : o->log_cap * 2;
			struct hobs_msg *n = reallocarray(o->log, ncap,
			    sizeof(*n));

			if (n == NULL)
				goto out;
			o->log = n;
			o->log_cap = ncap;
		}
		struct hobs_msg *m = &o->log[o->nlog++];
		m->at_ms = now;
		(void)strlcpy(m->topic, topic, sizeof(m->topic));
		(void)strlcpy(m->payload, copy, sizeof(m->payload));
		m->len = len;
		m->retain = retain;
	}
out:
	(void)pthread_mutex_unlock(&o->lock);
}

struct hobs *
hobs_start(const struct hbroker *b, int64_t timeout_ms)
{
	struct hobs *o;
	int granted;

	if ((o = calloc(1, sizeof(*o))) == NULL) {
		hwarn("calloc");
		return NULL;
	}
	(void)pthread_mutex_init(&o->lock, NULL);
	o->c = hclient_connect_cb(b, "observer", false, timeout_ms,
	    obs_message, o);
	if (o->c == NULL ||
	    hclient_subscribe(o->c, "#", 1, timeout_ms, &granted) == -1 ||
	    granted > 2) {
		hwarnx("observer: cannot subscribe to #");
		hobs_stop(o);
		return NULL;
	}
	return o;
}

void
hobs_stop(struct hobs *o)
{
	if (o == NULL)
		return;
	hclient_close(o->c);
	for (size_t i = 0; i < o->ntopics; i++) {
		free(o->topics[i].topic);
		free(o->topics[i].payload);
		for (size_t j = 0; j < o->topics[i].nseen; j++)
			free(o->topics[i].seen[j]);
		free(o->topics[i].seen);
	}
	free(o->topics);
	free(o->log);
	(void)pthread_mutex_destroy(&o->lock);
	free(o);
}

void
hobs_log_status(struct hobs *o, bool on)
{
	(void)pthread_mutex_lock(&o->lock);
	o->log_status = on;
	(void)pthread_mutex_unlock(&o->lock);
}

uint64_t
hobs_latest(struct hobs *o, const char *topic, char *buf, size_t bufsz)
{
	struct topic_rec *t;
	uint64_t n = 0;

	if (bufsz > 0)
		buf[0] = '\0';
	(void)pthread_mutex_lock(&o->lock);
	if ((t = find_topic(o, topic, false)) != NULL) {
		n = t->count;
		if (bufsz > 0)
			(void)strlcpy(buf, t->payload, bufsz);
	}
	(void)pthread_mutex_unlock(&o->lock);
	return n;
}

/* Latest payload as a malloc'd copy; NULL if never seen. */
char *
hobs_latest_dup(struct hobs *o, const char *topic)
{
	struct topic_rec *t;
	char *r = NULL;

	(void)pthread_mutex_lock(&o->lock);
	if ((t = find_topic(o, topic, false)) != NULL)
		r = strdup(t->payload);
	(void)pthread_mutex_unlock(&o->lock);
	return r;
}

uint64_t
hobs_count(struct hobs *o, const char *topic)
{
	struct topic_rec *t;
	uint64_t n = 0;

	(void)pthread_mutex_lock(&o->lock);
	if ((t = find_topic(o, topic, false)) != NULL)
		n = t->count;
	(void)pthread_mutex_unlock(&o->lock);
	return n;
}

int64_t
hobs_last_at(struct hobs *o, const char *topic)
{
	struct topic_rec *t;
	int64_t at = 0;

	(void)pthread_mutex_lock(&o->lock);
	if ((t = find_topic(o, topic, false)) != NULL)
		at = t->at_ms;
	(void)pthread_mutex_unlock(&o->lock);
	return at;
}

bool
hobs_seen_payload(struct hobs *o, const char *topic, const char *payload)
{
	struct topic_rec *t;
	bool r = false;

	(void)pthread_mutex_lock(&o->lock);
	if ((t = find_topic(o, topic, false)) != NULL) {
		for (size_t i = 0; i < t->nseen && !r; i++)
			r = strcmp(t->seen[i], payload) == 0;
	}
	(void)pthread_mutex_unlock(&o->lock);
	return r;
}

size_t
hobs_log_count(struct hobs *o, const char *prefix)
{
	size_t n = 0, plen = strlen(prefix);

	(void)pthread_mutex_lock(&o->lock);
	for (size_t i = 0; i < o->nlog; i++)
		if (strncmp(o->log[i].topic, prefix, plen) == 0)
			n++;
	(void)pthread_mutex_unlock(&o->lock);
	return n;
}

int
hobs_log_get(struct hobs *o, const char *prefix, size_t idx,
    struct hobs_msg *out)
{
	size_t n = 0, plen = strlen(prefix);
	int r = -1;

	(void)pthread_mutex_lock(&o->lock);
	for (size_t i = 0; i < o->nlog; i++) {
		if (strncmp(o->log[i].topic, prefix, plen) != 0)
			continue;
		if (n++ == idx) {
			*out = o->log[i];
			r = 0;
			break;
		}
	}
	(void)pthread_mutex_unlock(&o->lock);
	return r;
}

int
hobs_wait(struct hobs *o, hobs_pred pred, void *arg, int64_t timeout_ms)
{
	int64_t deadline = harness_now_ms() + timeout_ms;

	for (;;) {
		if (pred(o, arg))
			return 0;
		if (harness_now_ms() >= deadline)
			return -1;
		harness_sleep_ms(HARNESS_POLL_MS);
	}
}

struct want_payload {
	const char	*topic, *payload;
};

static bool
pred_payload(struct hobs *o, void *arg)
{
	struct want_payload *w = arg;
	char *cur = hobs_latest_dup(o, w->topic);
	bool r = cur != NULL && strcmp(cur, w->payload) == 0;

	free(cur);
	return r;
}

int
hobs_wait_payload(struct hobs *o, const char *topic, const char *payload,
    int64_t timeout_ms)
{
	struct want_payload w = { topic, payload };

	return hobs_wait(o, pred_payload, &w, timeout_ms);
}

struct want_count {
	const char	*topic;
	uint64_t	 n;
};

static bool
pred_count(struct hobs *o, void *arg)
{
	struct want_count *w = arg;

	return hobs_count(o, w->topic) >= w->n;
}

int
hobs_wait_count(struct hobs *o, const char *topic, uint64_t n,
    int64_t timeout_ms)
{
	struct want_count w = { topic, n };

	return hobs_wait(o, pred_count, &w, timeout_ms);
}

static bool
pred_log(struct hobs *o, void *arg)
{
	struct want_count *w = arg;

	return hobs_log_count(o, w->topic) >= w->n;
}

int
hobs_wait_log(struct hobs *o, const char *prefix, size_t n,
    int64_t timeout_ms)
{
	struct want_count w = { prefix, n };

	return hobs_wait(o, pred_log, &w, timeout_ms);
}

struct retained {
	pthread_mutex_t	 lock;
	const char	*topic;
	char		*buf;
	size_t		 bufsz;
	int		 got;
};

static void
retained_msg(void *arg, const char *topic, const void *payload, size_t len,
    bool retain)
{
	struct retained *r = arg;

	if (!retain || strcmp(topic, r->topic) != 0)
		return;
	(void)pthread_mutex_lock(&r->lock);
	r->got = len > 0;
	if (r->bufsz > 0) {
		len = len < r->bufsz - 1 ? len : r->bufsz - 1;
		memcpy(r->buf, payload, len);
		r->buf[len] = '\0';
	}
	(void)pthread_mutex_unlock(&r->lock);
}

/*
 * The broker answers a client's packets in order and queues a
 * subscription's retained messages right after its SUBACK, so once the
 * SUBACK of a second subscription is back every retained message of the
 * first has arrived: no sleep, no guess.
 */
int
hbroker_retained(const struct hbroker *b, const char *topic, char *buf,
    size_t bufsz, int64_t timeout_ms)
{
	struct retained r = { .topic = topic, .buf = buf, .bufsz = bufsz };
	struct hclient *c;
	int granted, rc = -1;

	if (bufsz > 0)
		buf[0] = '\0';
	(void)pthread_mutex_init(&r.lock, NULL);
	if ((c = hclient_connect_cb(b, "observer", false, timeout_ms,
	    retained_msg, &r)) == NULL)
		goto out;
	if (hclient_subscribe(c, topic, 0, timeout_ms, &granted) == 0 &&
	    granted < 128 && hclient_subscribe(c, "harness/retained-fence", 0,
	    timeout_ms, &granted) == 0) {
		(void)pthread_mutex_lock(&r.lock);
		rc = r.got;
		(void)pthread_mutex_unlock(&r.lock);
	}
	hclient_close(c);
out:
	(void)pthread_mutex_destroy(&r.lock);
	return rc;
}
