/*
 * Supervisor side of the socketpair. Everything the watchdog sends is
 * decoded strictly by shared/proto.c; an answer that does not match the
 * request in flight means the two sides disagree about the run, and the
 * link is declared broken (the watchdog then reverts on EOF).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "wdlink.h"

/* Longest wait for the watchdog to act on a request for everyday values. */
#define WDLINK_YIELD_MS	5

static void
broken(struct wdlink *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
broken(struct wdlink *w, const char *fmt, ...)
{
	va_list ap;

	if (!w->up)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(w->error, sizeof(w->error), fmt, ap);
	va_end(ap);
	w->up = false;
	log_warnx("watchdog link: %s", w->error);
}

/* Sends queued frames in order until the socket is full. */
static int
flush(struct wdlink *w)
{
	while (w->up && w->outq_len > 0) {
		struct proto_msg *m = &w->outq[w->outq_head];

		if (proto_send(&w->ch, m) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			broken(w, "send %s: %s", proto_type_name(m->type),
			    strerror(errno));
			return -1;
		}
		if (m->type == PROTO_HEARTBEAT)
			w->hb_queued = false;
		w->outq_head = (w->outq_head + 1) % WDLINK_OUTQ;
		w->outq_len--;
	}
	return w->up ? 0 : -1;
}

/* Queues a frame behind any that are waiting, then flushes. */
static int
send_msg(struct wdlink *w, const struct proto_msg *m)
{
	if (!w->up || w->done)
		return -1;
	if (w->outq_len == WDLINK_OUTQ) {
		broken(w, "watchdog is not reading: %d frames queued",
		    WDLINK_OUTQ);
		return -1;
	}
	w->outq[(w->outq_head + w->outq_len) % WDLINK_OUTQ] = *m;
	w->outq_len++;
	if (m->type == PROTO_HEARTBEAT)
		w->hb_queued = true;
	return flush(w);
}

int
wdlink_open(struct wdlink *w, int fd, const uint8_t *digest,
    int64_t interval_ms, int64_t now_ms)
{
	struct proto_msg m;
	int fl;

	memset(w, 0, sizeof(*w));
	w->interval_ms = interval_ms;
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		(void)snprintf(w->error, sizeof(w->error), "fd %d: %s", fd,
		    strerror(errno));
		return -1;
	}
	proto_chan_init(&w->ch, fd, &proto_supervisor);
	w->up = true;
	proto_set_hello(&m, digest);
	if (send_msg(w, &m) == -1)
		return -1;
	w->next_hb_ms = now_ms;	/* the first heartbeat right after HELLO */
	return 0;
}

bool
wdlink_is_up(const struct wdlink *w)
{
	return w->up;
}

bool
wdlink_want_write(const struct wdlink *w)
{
	return w->up && w->outq_len > 0;
}

void
wdlink_set_state(struct wdlink *w, unsigned state_id)
{
	w->state_id = state_id > PROTO_STATE_MAX ? PROTO_STATE_MAX : state_id;
}

int64_t
wdlink_next_ms(const struct wdlink *w, int64_t now_ms)
{
	if (!w->up || w->done)
		return INT64_MAX;
	return w->next_hb_ms > now_ms ? w->next_hb_ms - now_ms : 0;
}

int
wdlink_tick(struct wdlink *w, int64_t now_ms)
{
	struct proto_msg m;

	if (!w->up)
		return -1;
	if (flush(w) == -1)
		return -1;
	if (w->done || now_ms < w->next_hb_ms)
		return 0;
	/* a heartbeat still waiting in the queue says the same thing */
	if (!w->hb_queued) {
		proto_set_heartbeat(&m, w->state_id);
		if (send_msg(w, &m) == -1)
			return -1;
	}
	/* keep the cadence even if this iteration ran late */
	w->next_hb_ms += w->interval_ms;
	if (w->next_hb_ms <= now_ms)
		w->next_hb_ms = now_ms + w->interval_ms;
	return 0;
}

/*
 * After a request for an everyday value the watchdog has a revert to
 * publish: let it have the CPU before this process's bookkeeping (the
 * AUDIT frames, the status publish to the broker) competes with it on a
 * small machine. Its answer, sent right after its publish, ends the wait;
 * bounded, and nothing is read here.
 */
static void
yield_to_watchdog(const struct wdlink *w)
{
	struct pollfd p = { .fd = w->ch.fd, .events = POLLIN };

	if (poll(&p, 1, WDLINK_YIELD_MS) == -1 && errno != EINTR)
		log_warn("poll on the watchdog link");
}

int
wdlink_request(struct wdlink *w, enum setting s, enum setting_value v)
{
	struct wd_setting *st = &w->set[s][v];
	struct proto_msg m;

	if (!w->up || w->done)
		return -1;
	proto_set_request(&m, s, v);
	st->state = WD_SENT;
	st->text[0] = '\0';
	if (send_msg(w, &m) == -1)
		return -1;
	if (v == VALUE_EVERYDAY && w->outq_len == 0)
		yield_to_watchdog(w);
	log_debug("watchdog: request %s %s", setting_name(s),
	    v == VALUE_EVERYDAY ? "everyday" : "calibration");
	return 0;
}

static int
on_set_answer(struct wdlink *w, const struct proto_msg *m)
{
	struct wd_setting *st = &w->set[m->u.set.setting][m->u.set.value];
	const char *what = m->u.set.value == VALUE_EVERYDAY ? "everyday" :
	    "calibration";

	if (st->state != WD_SENT && st->state != WD_ACCEPTED) {
		broken(w, "%s for %s %s, which was not asked",
		    proto_type_name(m->type), setting_name(m->u.set.setting),
		    what);
		return -1;
	}
	switch (m->type) {
	case PROTO_SET_ACCEPTED:
		if (st->state != WD_SENT) {
			broken(w, "SET_ACCEPTED twice for %s %s",
			    setting_name(m->u.set.setting), what);
			return -1;
		}
		st->state = WD_ACCEPTED;
		break;
	case PROTO_SET_CONFIRMED:
		st->state = WD_CONFIRMED;
		break;
	default:	/* PROTO_SET_REFUSED */
		st->state = WD_REFUSED;
		st->refusal = m->u.set.reason;
		(void)strlcpy(st->text, m->u.set.text, sizeof(st->text));
		log_warnx("watchdog refused %s %s: %s (%s)",
		    setting_name(m->u.set.setting), what,
		    proto_refusal_name(m->u.set.reason), m->u.set.text);
		break;
	}
	return 0;
}

static int
queue_answer(struct wdlink *w, const struct proto_msg *m)
{
	struct wd_answer *a;

	if (w->ansq_len == WDLINK_ANSQ) {
		broken(w, "more than %d answers unprocessed", WDLINK_ANSQ);
		return -1;
	}
	a = &w->ansq[(w->ansq_head + w->ansq_len) % WDLINK_ANSQ];
	memset(a, 0, sizeof(*a));
	a->type = m->type;
	if (m->type == PROTO_REVERTED) {
		a->revert = m->u.reverted.reason;
		a->confirmed = m->u.reverted.confirmed != 0;
	} else {
		a->setting = m->u.set.setting;
		a->value = m->u.set.value;
		if (m->type == PROTO_SET_REFUSED) {
			a->refusal = m->u.set.reason;
			(void)strlcpy(a->text, m->u.set.text, sizeof(a->text));
		}
	}
	w->ansq_len++;
	return 0;
}

bool
wdlink_next_answer(struct wdlink *w, struct wd_answer *a)
{
	if (w->ansq_len == 0)
		return false;
	*a = w->ansq[w->ansq_head];
	w->ansq_head = (w->ansq_head + 1) % WDLINK_ANSQ;
	w->ansq_len--;
	return true;
}

static int
on_answer(struct wdlink *w, const struct proto_msg *m)
{
	w->answers++;
	if (queue_answer(w, m) == -1)
		return -1;
	switch (m->type) {
	case PROTO_SET_ACCEPTED:
	case PROTO_SET_CONFIRMED:
	case PROTO_SET_REFUSED:
		return on_set_answer(w, m);
	case PROTO_REVERTED:
		w->reverted = true;
		w->revert_reason = m->u.reverted.reason;
		w->revert_confirmed = m->u.reverted.confirmed != 0;
		log_info("watchdog reverted (%s)%s",
		    proto_revert_name(m->u.reverted.reason),
		    m->u.reverted.confirmed ? ", confirmed by readback" : "");
		return 0;
	default:
		broken(w, "unexpected %s", proto_type_name(m->type));
		return -1;
	}
}

int
wdlink_read(struct wdlink *w)
{
	struct proto_msg m;
	char why[PROTO_TEXT_LEN];
	enum proto_err e;

	while (w->up) {
		why[0] = '\0';
		e = proto_recv(&w->ch, &m, why, sizeof(why));
		if (e == PROTO_E_AGAIN)
			return 0;
		if (e == PROTO_E_EOF) {
			broken(w, "the watchdog closed the link");
			return -1;
		}
		if (e != PROTO_OK) {
			broken(w, "%s%s%s", proto_err_name(e), why[0] ? ": " : "",
			    why);
			return -1;
		}
		if (on_answer(w, &m) == -1)
			return -1;
	}
	return -1;
}

int
wdlink_audit(struct wdlink *w, const char *event, const char *fmt, ...)
{
	struct proto_msg m;
	char text[PROTO_TEXT_LEN];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (proto_set_audit(&m, event, text) == -1) {
		log_warnx("audit %s: not sendable", event);
		return -1;
	}
	return send_msg(w, &m);
}

int
wdlink_done(struct wdlink *w, enum proto_outcome outcome, const char *reason)
{
	struct proto_msg m;

	if (proto_set_done(&m, outcome, reason) == -1)
		(void)proto_set_done(&m, outcome, "(reason not sendable)");
	if (send_msg(w, &m) == -1)
		return -1;
	w->done = true;
	return 0;
}

int
wdlink_drain(struct wdlink *w, int64_t timeout_ms)
{
	int64_t deadline = mono_ms() + timeout_ms, left;
	struct pollfd pfd;

	while (w->up && w->outq_len > 0) {
		if ((left = deadline - mono_ms()) <= 0)
			return -1;
		pfd.fd = w->ch.fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		if (poll(&pfd, 1, (int)left) == -1 && errno != EINTR)
			return -1;
		if (flush(w) == -1)
			return -1;
	}
	return w->up ? 0 : -1;
}
