/*
 * The watchdog's end of the socketpair (proto.h): it decodes the requests
 * and encodes the answers, nothing else. gridcal-watchdog links this file
 * and shared/proto.c only; the supervisor's end is proto_supervisor.c.
 */
#include <string.h>

#include "proto.h"

static int
encode_answer(const struct proto_msg *m, uint8_t *b)
{
	switch (m->type) {
	case PROTO_SET_REFUSED:
		if (m->u.set.reason < 1 || m->u.set.reason > PROTO_REFUSE_MAX ||
		    !proto_text_ok(m->u.set.text, sizeof(m->u.set.text)))
			return -1;
		b[3] = (uint8_t)m->u.set.reason;
		proto_field_put(b + 4, PROTO_TEXT_LEN, m->u.set.text);
		/* FALLTHROUGH */
	case PROTO_SET_ACCEPTED:
	case PROTO_SET_CONFIRMED:
		return proto_set_encode(m, b);
	case PROTO_REVERTED:
		if (m->u.reverted.reason < 1 ||
		    m->u.reverted.reason > PROTO_REVERT_MAX ||
		    m->u.reverted.confirmed > 1)
			return -1;
		b[0] = (uint8_t)m->u.reverted.reason;
		b[1] = m->u.reverted.confirmed;
		return 0;
	default:
		return -1;
	}
}

static enum proto_err
decode_request(const uint8_t *b, struct proto_msg *m, const char *tn,
    char *why, size_t whysz)
{
	switch (m->type) {
	case PROTO_HELLO:
		memcpy(m->u.hello.digest, b, PROTO_DIGEST_LEN);
		return PROTO_OK;
	case PROTO_HEARTBEAT:
		m->u.heartbeat.state = proto_get16(b);
		if (m->u.heartbeat.state > PROTO_STATE_MAX)
			return proto_bad(why, whysz, PROTO_E_FIELD, tn,
			    "state %u out of range", m->u.heartbeat.state);
		return PROTO_OK;
	case PROTO_SET_REQUEST:
		return proto_set_decode(b, m, tn, why, whysz);
	case PROTO_AUDIT:
		if (proto_field_get(b, PROTO_EVENT_LEN, m->u.audit.event, 1) ==
		    -1)
			return proto_bad(why, whysz, PROTO_E_FIELD, tn,
			    "malformed event name");
		if (proto_field_get(b + PROTO_EVENT_LEN, PROTO_TEXT_LEN,
		    m->u.audit.text, 0) == -1)
			return proto_bad(why, whysz, PROTO_E_FIELD, tn,
			    "malformed text");
		return PROTO_OK;
	case PROTO_DONE:
		if (b[0] < PROTO_OUTCOME_PASS || b[0] > PROTO_OUTCOME_CANCELLED)
			return proto_bad(why, whysz, PROTO_E_FIELD, tn,
			    "outcome %u unknown", b[0]);
		m->u.done.outcome = (enum proto_outcome)b[0];
		if (proto_field_get(b + 1, PROTO_TEXT_LEN, m->u.done.reason,
		    0) == -1)
			return proto_bad(why, whysz, PROTO_E_FIELD, tn,
			    "malformed reason");
		return PROTO_OK;
	default:	/* proto_decode checked the direction */
		return proto_bad(why, whysz, PROTO_E_TYPE, tn, "not a request");
	}
}

const struct proto_end proto_watchdog = {
	PROTO_ROLE_WATCHDOG, encode_answer, decode_request
};

void
proto_set_answer(struct proto_msg *m, enum proto_type t, enum setting s,
    enum setting_value v)
{
	memset(m, 0, sizeof(*m));
	m->type = t;
	m->u.set.setting = s;
	m->u.set.value = v;
	m->u.set.scope = PROTO_SCOPE_ALL;
}

void
proto_set_refused(struct proto_msg *m, enum setting s, enum setting_value v,
    enum proto_refusal r, const char *text)
{
	proto_set_answer(m, PROTO_SET_REFUSED, s, v);
	m->u.set.reason = r;
	proto_text_copy(m->u.set.text, sizeof(m->u.set.text), text);
}

void
proto_set_reverted(struct proto_msg *m, enum proto_revert_reason r,
    int confirmed)
{
	memset(m, 0, sizeof(*m));
	m->type = PROTO_REVERTED;
	m->u.reverted.reason = r;
	m->u.reverted.confirmed = confirmed != 0;
}
