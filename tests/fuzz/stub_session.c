/* Link-time stand-in for shared/session.c: the harness is the broker. */
#include <string.h>

#include "session.h"
#include "wdfuzz.h"

static char dummy;
static char err[] = "fuzz broker refused the publish";

struct session *
session_new(const struct session_params *p, char *e, size_t esz)
{
	(void)e;
	(void)esz;
	wdf_session_params(p);
	return (struct session *)&dummy;
}

void
session_free(struct session *s)
{
	(void)s;
}

int
session_subscribe(struct session *s, const char *topic, int qos)
{
	(void)s;
	(void)topic;
	(void)qos;
	return 0;
}

void
session_pollfd(struct session *s, struct pollfd *pfd)
{
	(void)s;
	pfd->fd = -1;
	pfd->events = 0;
	pfd->revents = 0;
}

int
session_next_ms(const struct session *s, int64_t now_ms)
{
	(void)s;
	(void)now_ms;
	return 0;
}

int
session_handle(struct session *s, short revents, int64_t now_ms)
{
	(void)s;
	(void)revents;
	(void)now_ms;
	wdf_step();
	return 0;
}

int
session_publish(struct session *s, const char *topic, const void *payload,
    size_t len, int qos, int retain, int *mid)
{
	(void)s;
	return wdf_publish(topic, payload, len, qos, retain, mid);
}

int
session_drain(struct session *s, int64_t timeout_ms)
{
	(void)s;
	(void)timeout_ms;
	return 0;
}

int
session_set_will(struct session *s, const char *topic, const char *payload)
{
	(void)s;
	return wdf_set_will(topic, payload);
}

int
session_connected(const struct session *s)
{
	(void)s;
	return wdf_connected();
}

unsigned
session_connects(const struct session *s)
{
	(void)s;
	return wdf_connects();
}

const char *
session_error(const struct session *s)
{
	(void)s;
	return err;
}
