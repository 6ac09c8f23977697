/*
 * Socketpair frames: see proto.h for the layout. What both ends share: the
 * length table, the header, the field checks and the channel. The bodies
 * are each end's (proto_watchdog.c, proto_supervisor.c), built on the same
 * field checks, so nothing a correct peer sends is refused and nothing
 * else is accepted.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "proto.h"

/* On the wire a setting and a value are their enum plus one (0 is never valid). */
_Static_assert(SETTING_OUTPUT_PRIORITY == 0 && SETTING_CHARGER_PRIORITY == 1,
    "wire setting numbers are 1 (output) and 2 (charger)");
_Static_assert(VALUE_EVERYDAY == 0 && VALUE_CALIBRATION == 1,
    "wire value numbers are 1 (everyday) and 2 (calibration)");

struct type_info {
	unsigned	 type;
	const char	*name;
	size_t		 len;
};

static const struct type_info types[] = {
	{ PROTO_HELLO,		"HELLO",
	    PROTO_HDR_LEN + PROTO_DIGEST_LEN },
	{ PROTO_HEARTBEAT,	"HEARTBEAT",	 PROTO_HDR_LEN + 2 },
	{ PROTO_SET_REQUEST,	"SET_REQUEST",	 PROTO_HDR_LEN + 3 },
	{ PROTO_AUDIT,		"AUDIT",
	    PROTO_HDR_LEN + PROTO_EVENT_LEN + PROTO_TEXT_LEN },
	{ PROTO_DONE,		"DONE",
	    PROTO_HDR_LEN + 1 + PROTO_TEXT_LEN },
	{ PROTO_SET_ACCEPTED,	"SET_ACCEPTED",	 PROTO_HDR_LEN + 3 },
	{ PROTO_SET_CONFIRMED,	"SET_CONFIRMED", PROTO_HDR_LEN + 3 },
	{ PROTO_SET_REFUSED,	"SET_REFUSED",
	    PROTO_HDR_LEN + 4 + PROTO_TEXT_LEN },
	{ PROTO_REVERTED,	"REVERTED",	 PROTO_HDR_LEN + 2 },
};

/* Name tables, indexed by the enum's value (NULL: no such value). */
static const char *const err_names[] = {
	"ok", "no frame", "end of file", "system error", "short frame",
	"long frame", "bad version", "unknown type", "wrong direction",
	"bad length field", "bad field", "bad sequence", "flood"
};
static const char *const outcome_names[] = {
	NULL, "PASS", "FAIL", "ABORTED", "REFUSED", "CANCELLED"
};
static const char *const refusal_names[] = {
	NULL, "not_authorised", "order", "phase", "scope", "reverting",
	"mark", "audit", "broker", "envelope", "not_held"
};
static const char *const revert_names[] = {
	NULL, "requested", "heartbeat", "eof", "violation", "signal",
	"run_max", "envelope", "confirm_timeout", "audit", "recovery", "done"
};
#define N(t)		(sizeof(t) / sizeof((t)[0]))
/* "?" for a value out of range */
#define NAME(t, i)	((unsigned)(i) < N(t) && (t)[i] != NULL ? (t)[i] : "?")
_Static_assert(N(err_names) == PROTO_E_FLOOD + 1 && N(outcome_names) ==
    PROTO_OUTCOME_CANCELLED + 1 && N(refusal_names) == PROTO_REFUSE_MAX + 1 &&
    N(revert_names) == PROTO_REVERT_MAX + 1, "a name for each value");

static const struct type_info *
type_info(unsigned type)
{
	for (size_t i = 0; i < N(types); i++)
		if (types[i].type == type)
			return &types[i];
	return NULL;
}

size_t
proto_len(unsigned type)
{
	const struct type_info *ti = type_info(type);

	return ti == NULL ? 0 : ti->len;
}

const char *
proto_type_name(unsigned type)
{
	const struct type_info *ti = type_info(type);

	return ti == NULL ? "?" : ti->name;
}

const char *
proto_err_name(enum proto_err e)
{
	return NAME(err_names, e);
}

const char *
proto_outcome_name(enum proto_outcome o)
{
	return NAME(outcome_names, o);
}

const char *
proto_refusal_name(enum proto_refusal r)
{
	return NAME(refusal_names, r);
}

const char *
proto_revert_name(enum proto_revert_reason r)
{
	return NAME(revert_names, r);
}

/* Little-endian helpers: the frame layout does not depend on the ABI. */
void
proto_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v & 0xff);
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint16_t
proto_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

int
proto_event_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return i > 0 && i < n;
}

int
proto_text_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && s[i] != '\0'; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return i < n;
}

int
proto_field_get(const uint8_t *p, size_t n, char *out, int is_event)
{
	size_t len;

	memcpy(out, p, n);
	if (!(is_event ? proto_event_ok(out, n) : proto_text_ok(out, n)))
		return -1;
	for (len = strlen(out); len < n; len++)
		if (out[len] != '\0')
			return -1;
	return 0;
}

void
proto_field_put(uint8_t *p, size_t n, const char *s)
{
	memset(p, 0, n);
	memcpy(p, s, strnlen(s, n - 1));
}

int
proto_set_encode(const struct proto_msg *m, uint8_t *b)
{
	if ((unsigned)m->u.set.setting >= SETTING_COUNT ||
	    (unsigned)m->u.set.value >= VALUE_COUNT ||
	    m->u.set.scope > PROFILE_MAX_UNITS)
		return -1;
	b[0] = (uint8_t)(m->u.set.setting + 1);
	b[1] = (uint8_t)(m->u.set.value + 1);
	b[2] = m->u.set.scope;
	return 0;
}

size_t
proto_encode(const struct proto_end *end, const struct proto_msg *m,
    uint32_t seq, uint8_t *buf, size_t bufsz)
{
	size_t len = proto_len(m->type);

	if (len == 0 || len > bufsz ||
	    PROTO_IS_ANSWER(m->type) != (end->role == PROTO_ROLE_WATCHDOG))
		return 0;
	memset(buf, 0, len);
	buf[0] = PROTO_VERSION;
	buf[1] = (uint8_t)m->type;
	proto_put16(buf + 2, (uint16_t)len);
	put32(buf + 4, seq);
	return end->encode(m, buf + PROTO_HDR_LEN) == 0 ? len : 0;
}

enum proto_err
proto_bad(char *why, size_t whysz, enum proto_err e, const char *tname,
    const char *fmt, ...)
{
	char detail[96];
	va_list ap;

	if (why == NULL || whysz == 0)
		return e;
	va_start(ap, fmt);
	(void)vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	(void)snprintf(why, whysz, "%s: %s", tname, detail);
	return e;
}

enum proto_err
proto_set_decode(const uint8_t *b, struct proto_msg *m, const char *tn,
    char *why, size_t whysz)
{
	if (b[0] < 1 || b[0] > SETTING_COUNT)
		return proto_bad(why, whysz, PROTO_E_FIELD, tn, "setting %u unknown",
		    b[0]);
	if (b[1] < 1 || b[1] > VALUE_COUNT)
		return proto_bad(why, whysz, PROTO_E_FIELD, tn, "value %u unknown",
		    b[1]);
	if (b[2] > PROFILE_MAX_UNITS)
		return proto_bad(why, whysz, PROTO_E_FIELD, tn,
		    "scope %u out of range", b[2]);
	m->u.set.setting = (enum setting)(b[0] - 1);
	m->u.set.value = (enum setting_value)(b[1] - 1);
	m->u.set.scope = b[2];
	return PROTO_OK;
}

enum proto_err
proto_decode(const struct proto_end *end, const uint8_t *buf, size_t len,
    struct proto_msg *m, char *why, size_t whysz)
{
	const struct type_info *ti;
	const char *tn;

	memset(m, 0, sizeof(*m));
	if (len < PROTO_HDR_LEN)
		return proto_bad(why, whysz, PROTO_E_SHORT, "frame",
		    "%u bytes, shorter than the header", (unsigned)len);
	if (buf[0] != PROTO_VERSION)
		return proto_bad(why, whysz, PROTO_E_VERSION, "frame",
		    "version %u unsupported", buf[0]);
	if ((ti = type_info(buf[1])) == NULL)
		return proto_bad(why, whysz, PROTO_E_TYPE, "frame",
		    "type 0x%02x unknown", buf[1]);
	tn = ti->name;
	if (PROTO_IS_ANSWER(buf[1]) != (end->role == PROTO_ROLE_SUPERVISOR))
		return proto_bad(why, whysz, PROTO_E_DIRECTION, tn,
		    "not accepted in this direction");
	if (len < ti->len)
		return proto_bad(why, whysz, PROTO_E_SHORT, tn, "%u bytes, too short",
		    (unsigned)len);
	if (len > ti->len)
		return proto_bad(why, whysz, PROTO_E_LONG, tn,
		    "%u bytes or more, too long", (unsigned)len);
	if (proto_get16(buf + 2) != ti->len)
		return proto_bad(why, whysz, PROTO_E_LENGTH, tn,
		    "length field %u disagrees", proto_get16(buf + 2));
	m->type = (enum proto_type)buf[1];
	m->seq = get32(buf + 4);
	return end->decode(buf + PROTO_HDR_LEN, m, tn, why, whysz);
}

void
proto_chan_init(struct proto_chan *c, int fd, const struct proto_end *end)
{
	*c = (struct proto_chan){ .fd = fd, .end = end };
}

int
proto_send(struct proto_chan *c, const struct proto_msg *m)
{
	uint8_t buf[PROTO_FRAME_MAX];
	size_t len;
	ssize_t n;

	if ((len = proto_encode(c->end, m, c->tx_seq + 1, buf,
	    sizeof(buf))) == 0) {
		errno = EINVAL;
		return -1;
	}
	do {
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if ((size_t)n != len) {
		errno = EMSGSIZE;
		return -1;
	}
	c->tx_seq++;
	return 0;
}

enum proto_err
proto_recv(struct proto_chan *c, struct proto_msg *m, char *why, size_t whysz)
{
	uint8_t buf[PROTO_FRAME_MAX + 1];
	enum proto_err e;
	ssize_t n;
	int reset = 0;

	/*
	 * MSG_TRUNC: learn the real size of an oversized frame. A peer that
	 * closed with our frames unread leaves ECONNRESET, which Linux reports
	 * once and before the frames it queued for us: read on, they were
	 * said (end of file follows them).
	 */
	do {
		n = recv(c->fd, buf, sizeof(buf), MSG_TRUNC);
	} while (n == -1 && (errno == EINTR ||
	    (errno == ECONNRESET && reset++ == 0)));
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return PROTO_E_AGAIN;
		if (why != NULL)
			(void)snprintf(why, whysz, "recv: %s", strerror(errno));
		return PROTO_E_SYS;
	}
	if (n == 0) {
		if (why != NULL)
			(void)snprintf(why, whysz, "peer closed the socket");
		return PROTO_E_EOF;
	}
	if (c->rx_per_s != 0) {
		int64_t now = mono_ms();

		if (now - c->rx_window_ms >= 1000) {
			c->rx_window_ms = now;
			c->rx_count = 0;
		}
		if (++c->rx_count > c->rx_per_s)
			return proto_bad(why, whysz, PROTO_E_FLOOD, "frames",
			    "more than %u in a second", c->rx_per_s);
	}
	e = proto_decode(c->end, buf, (size_t)n, m, why, whysz);
	if (e != PROTO_OK)
		return e;
	if (m->seq != c->rx_seq + 1)
		return proto_bad(why, whysz, PROTO_E_SEQ, proto_type_name(m->type),
		    "sequence %u out of order", m->seq);
	c->rx_seq = m->seq;
	return PROTO_OK;
}

void
proto_text_copy(char *dst, size_t dstsz, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < dstsz && src[i] != '\0'; i++)
		dst[i] = (src[i] >= 0x20 && src[i] <= 0x7e) ? src[i] : '?';
	dst[i] = '\0';
}
