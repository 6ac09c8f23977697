/*
 * The supervisor's end of the socketpair (proto.h): it encodes the
 * requests and decodes the answers. The watchdog's end is
 * proto_watchdog.c; both share shared/proto.c.
 */
#include <string.h>

#include "proto_supervisor.h"

static int
encode_request(const struct proto_msg *m, uint8_t *b)
{
	switch (m->type) {
	case PROTO_HELLO:
		memcpy(b, m->u.hello.digest, PROTO_DIGEST_LEN);
		return 0;
	case PROTO_HEARTBEAT:
		if (m->u.heartbeat.state > PROTO_STATE_MAX)
			return -1;
		proto_put16(b, m->u.heartbeat.state);
		return 0;
	case PROTO_SET_REQUEST:
		return proto_set_encode(m, b);
	case PROTO_AUDIT:
		if (!proto_event_ok(m->u.audit.event, sizeof(m->u.audit.event)) ||
		    !proto_text_ok(m->u.audit.text, sizeof(m->u.audit.text)))
			return -1;
		proto_field_put(b, PROTO_EVENT_LEN, m->u.audit.event);
		proto_field_put(b + PROTO_EVENT_LEN, PROTO_TEXT_LEN,
		    m->u.audit.text);
		return 0;
	case PROTO_DONE:
		if (m->u.done.outcome < PROTO_OUTCOME_PASS ||
		    m->u.done.outcome > PROTO_OUTCOME_CANCELLED ||
		    !proto_text_ok(m->u.done.reason, sizeof(m->u.done.reason)))
			return -1;
		b[0] = (uint8_t)m->u.done.outcome;
		proto_field_put(b + 1, PROTO_TEXT_LEN, m->u.done.reason);
		return 0;
	default:
		return -1;
	}
}

static enum proto_err
decode_answer(const uint8_t *b, struct proto_msg *m, const char *tn,
    char *why, size_t whysz)
{
	enum proto_err e;

	switch (m->type) {
	case PROTO_SET_ACCEPTED:
	case PROTO_SET_CONFIRMED:
		return proto_set_decode(b, m, tn, why, whysz);
	case PROTO_SET_REFUSED:
		if ((e = proto_set_decode(b, m, tn, why, whysz)) != PROTO_OK)
			return e;
		if (b[3] < 1 || b[3] > PROTO_REFUSE_MAX)
			return proto_bad(why, whysz, PROTO_E_FIELD, tn,
			    "reason %u unknown", b[3]);
		m->u.set.reason = (enum proto_refusal)b[3];
		if (proto_field_get(b + 4, PROTO_TEXT_LEN, m->u.set.text, 0) ==
		    -1)
			return proto_bad(why, whysz, PROTO_E_FIELD, tn,
			    "malformed text");
		return PROTO_OK;
	case PROTO_REVERTED:
		if (b[0] < 1 || b[0] > PROTO_REVERT_MAX)
			return proto_bad(why, whysz, PROTO_E_FIELD, tn,
			    "reason %u unknown", b[0]);
		if (b[1] > 1)
			return proto_bad(why, whysz, PROTO_E_FIELD, tn,
			    "confirmed %u not 0 or 1", b[1]);
		m->u.reverted.reason = (enum proto_revert_reason)b[0];
		m->u.reverted.confirmed = b[1];
		return PROTO_OK;
	default:	/* proto_decode checked the direction */
		return proto_bad(why, whysz, PROTO_E_TYPE, tn, "not an answer");
	}
}

const struct proto_end proto_supervisor = {
	PROTO_ROLE_SUPERVISOR, encode_request, decode_answer
};

void
proto_set_hello(struct proto_msg *m, const uint8_t *digest)
{
	memset(m, 0, sizeof(*m));
	m->type = PROTO_HELLO;
	memcpy(m->u.hello.digest, digest, PROTO_DIGEST_LEN);
}

void
proto_set_heartbeat(struct proto_msg *m, unsigned state)
{
	memset(m, 0, sizeof(*m));
	m->type = PROTO_HEARTBEAT;
	/* out of range stays out of range: the encoder refuses it */
	m->u.heartbeat.state = (uint16_t)(state > PROTO_STATE_MAX ?
	    PROTO_STATE_MAX + 1 : state);
}

void
proto_set_request(struct proto_msg *m, enum setting s, enum setting_value v)
{
	memset(m, 0, sizeof(*m));
	m->type = PROTO_SET_REQUEST;
	m->u.set.setting = s;
	m->u.set.value = v;
	m->u.set.scope = PROTO_SCOPE_ALL;
}

int
proto_set_audit(struct proto_msg *m, const char *event, const char *text)
{
	memset(m, 0, sizeof(*m));
	m->type = PROTO_AUDIT;
	if (strlen(event) >= sizeof(m->u.audit.event) ||
	    !proto_event_ok(event, strlen(event) + 1))
		return -1;
	(void)strlcpy(m->u.audit.event, event, sizeof(m->u.audit.event));
	proto_text_copy(m->u.audit.text, sizeof(m->u.audit.text), text);
	return 0;
}

int
proto_set_done(struct proto_msg *m, enum proto_outcome o, const char *reason)
{
	memset(m, 0, sizeof(*m));
	m->type = PROTO_DONE;
	m->u.done.outcome = o;
	proto_text_copy(m->u.done.reason, sizeof(m->u.done.reason), reason);
	return o >= PROTO_OUTCOME_PASS && o <= PROTO_OUTCOME_CANCELLED ?
	    0 : -1;
}

int
proto_outcome_parse(const char *name)
{
	for (int o = PROTO_OUTCOME_PASS; o <= PROTO_OUTCOME_CANCELLED; o++)
		if (strcmp(name, proto_outcome_name((enum proto_outcome)o)) == 0)
			return o;
	return -1;
}
