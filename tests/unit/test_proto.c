/*
 * Socketpair protocol: every type round-trips; every malformed frame is
 * refused with the precise error; real SOCK_SEQPACKET pairs show that
 * oversized frames, sequence gaps, direction and EOF are caught.
 */
#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "proto_supervisor.h"

static uint8_t buf[PROTO_FRAME_MAX + 64];

/* The end that sends m's type, the end that receives as role. */
static const struct proto_end *
sender(const struct proto_msg *m)
{
	return PROTO_IS_ANSWER(m->type) ? &proto_watchdog : &proto_supervisor;
}

static const struct proto_end *
receiver(enum proto_role role)
{
	return role == PROTO_ROLE_WATCHDOG ? &proto_watchdog :
	    &proto_supervisor;
}

static size_t
enc(const struct proto_msg *m)
{
	size_t n = proto_encode(sender(m), m, 1, buf, sizeof(buf));

	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(n, proto_len(m->type));
	return n;
}

static enum proto_err
dec(size_t len, enum proto_role role, struct proto_msg *m)
{
	char why[128] = "";
	enum proto_err e = proto_decode(receiver(role), buf, len, m, why,
	    sizeof(why));

	if (e != PROTO_OK)
		ck_assert_msg(why[0] != '\0', "no reason for %s",
		    proto_err_name(e));
	return e;
}

START_TEST(lengths_are_exact)
{
	ck_assert_uint_eq(proto_len(PROTO_HELLO), 40);
	ck_assert_uint_eq(proto_len(PROTO_HEARTBEAT), 10);
	ck_assert_uint_eq(proto_len(PROTO_SET_REQUEST), 11);
	ck_assert_uint_eq(proto_len(PROTO_AUDIT), 296);
	ck_assert_uint_eq(proto_len(PROTO_DONE), 265);
	ck_assert_uint_eq(proto_len(PROTO_SET_ACCEPTED), 11);
	ck_assert_uint_eq(proto_len(PROTO_SET_CONFIRMED), 11);
	ck_assert_uint_eq(proto_len(PROTO_SET_REFUSED), 268);
	ck_assert_uint_eq(proto_len(PROTO_REVERTED), 10);
	ck_assert_uint_eq(proto_len(0), 0);
	ck_assert_uint_eq(proto_len(0x06), 0);
	ck_assert_uint_eq(proto_len(0x85), 0);
	ck_assert_uint_eq(PROTO_FRAME_MAX, proto_len(PROTO_AUDIT));
}
END_TEST

START_TEST(requests_round_trip)
{
	struct proto_msg m, r;
	uint8_t d[PROTO_DIGEST_LEN];

	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)(i * 7 + 1);
	proto_set_hello(&m, d);
	ck_assert_int_eq(dec(enc(&m), PROTO_ROLE_WATCHDOG, &r), PROTO_OK);
	ck_assert_int_eq(r.type, PROTO_HELLO);
	ck_assert_uint_eq(r.seq, 1);
	ck_assert_mem_eq(r.u.hello.digest, d, sizeof(d));

	proto_set_heartbeat(&m, PROTO_STATE_MAX);
	ck_assert_int_eq(dec(enc(&m), PROTO_ROLE_WATCHDOG, &r), PROTO_OK);
	ck_assert_uint_eq(r.u.heartbeat.state, PROTO_STATE_MAX);

	proto_set_request(&m, SETTING_CHARGER_PRIORITY, VALUE_CALIBRATION);
	ck_assert_int_eq(dec(enc(&m), PROTO_ROLE_WATCHDOG, &r), PROTO_OK);
	ck_assert_int_eq(r.u.set.setting, SETTING_CHARGER_PRIORITY);
	ck_assert_int_eq(r.u.set.value, VALUE_CALIBRATION);
	ck_assert_uint_eq(r.u.set.scope, PROTO_SCOPE_ALL);

	ck_assert_int_eq(proto_set_audit(&m, "preflight",
	    "class=drift soc=50,76"), 0);
	ck_assert_int_eq(dec(enc(&m), PROTO_ROLE_WATCHDOG, &r), PROTO_OK);
	ck_assert_str_eq(r.u.audit.event, "preflight");
	ck_assert_str_eq(r.u.audit.text, "class=drift soc=50,76");

	ck_assert_int_eq(proto_set_done(&m, PROTO_OUTCOME_ABORTED,
	    "cell 3.61 V"), 0);
	ck_assert_int_eq(dec(enc(&m), PROTO_ROLE_WATCHDOG, &r), PROTO_OK);
	ck_assert_int_eq(r.u.done.outcome, PROTO_OUTCOME_ABORTED);
	ck_assert_str_eq(r.u.done.reason, "cell 3.61 V");
}
END_TEST

START_TEST(answers_round_trip)
{
	struct proto_msg m, r;

	memset(&m, 0, sizeof(m));
	m.type = PROTO_SET_REFUSED;
	m.u.set.setting = SETTING_OUTPUT_PRIORITY;
	m.u.set.value = VALUE_CALIBRATION;
	m.u.set.reason = PROTO_REFUSE_ORDER;
	(void)strlcpy(m.u.set.text, "charger priority first",
	    sizeof(m.u.set.text));
	ck_assert_int_eq(dec(enc(&m), PROTO_ROLE_SUPERVISOR, &r), PROTO_OK);
	ck_assert_int_eq(r.u.set.reason, PROTO_REFUSE_ORDER);
	ck_assert_str_eq(r.u.set.text, "charger priority first");

	memset(&m, 0, sizeof(m));
	m.type = PROTO_REVERTED;
	m.u.reverted.reason = PROTO_REVERT_ENVELOPE;
	m.u.reverted.confirmed = 1;
	ck_assert_int_eq(dec(enc(&m), PROTO_ROLE_SUPERVISOR, &r), PROTO_OK);
	ck_assert_int_eq(r.u.reverted.reason, PROTO_REVERT_ENVELOPE);
	ck_assert_uint_eq(r.u.reverted.confirmed, 1);

	m.type = PROTO_SET_CONFIRMED;
	m.u.set.setting = SETTING_CHARGER_PRIORITY;
	m.u.set.value = VALUE_EVERYDAY;
	ck_assert_int_eq(dec(enc(&m), PROTO_ROLE_SUPERVISOR, &r), PROTO_OK);
	ck_assert_int_eq(r.type, PROTO_SET_CONFIRMED);
}
END_TEST

START_TEST(encoder_refuses_bad_messages)
{
	struct proto_msg m;

	proto_set_heartbeat(&m, PROTO_STATE_MAX + 1);
	ck_assert_uint_eq(proto_encode(sender(&m), &m, 1, buf,
	    sizeof(buf)), 0);
	ck_assert_int_eq(proto_set_audit(&m, "Bad-Name", "x"), -1);
	ck_assert_int_eq(proto_set_audit(&m, "", "x"), -1);
	ck_assert_int_eq(proto_set_audit(&m,
	    "a_very_long_event_name_beyond_32_bytes", "x"), -1);
	/* untrusted-looking text is made printable, not refused */
	ck_assert_int_eq(proto_set_audit(&m, "report",
	    "1\xe2\x86\x92" "2\n"), 0);
	ck_assert_str_eq(m.u.audit.text, "1???2?");
	ck_assert_int_eq(proto_set_done(&m, 9, "x"), -1);
	ck_assert_uint_eq(proto_encode(sender(&m), &m, 1, buf,
	    sizeof(buf)), 0);
	proto_set_request(&m, SETTING_COUNT, VALUE_EVERYDAY);
	ck_assert_uint_eq(proto_encode(sender(&m), &m, 1, buf,
	    sizeof(buf)), 0);
	proto_set_request(&m, SETTING_OUTPUT_PRIORITY, VALUE_EVERYDAY);
	ck_assert_uint_eq(proto_encode(sender(&m), &m, 1, buf, 10), 0);
	/* each end encodes only what it sends */
	ck_assert_uint_eq(proto_encode(&proto_watchdog, &m, 1, buf,
	    sizeof(buf)), 0);
	proto_set_answer(&m, PROTO_SET_CONFIRMED, SETTING_OUTPUT_PRIORITY,
	    VALUE_EVERYDAY);
	ck_assert_uint_eq(proto_encode(&proto_supervisor, &m, 1, buf,
	    sizeof(buf)), 0);
}
END_TEST

START_TEST(header_errors)
{
	struct proto_msg m, r;
	size_t n;

	proto_set_request(&m, SETTING_OUTPUT_PRIORITY, VALUE_EVERYDAY);
	n = enc(&m);
	ck_assert_int_eq(dec(0, PROTO_ROLE_WATCHDOG, &r), PROTO_E_SHORT);
	ck_assert_int_eq(dec(7, PROTO_ROLE_WATCHDOG, &r), PROTO_E_SHORT);
	ck_assert_int_eq(dec(n - 1, PROTO_ROLE_WATCHDOG, &r), PROTO_E_SHORT);
	ck_assert_int_eq(dec(n + 1, PROTO_ROLE_WATCHDOG, &r), PROTO_E_LONG);
	/* an answer arriving at the watchdog, a request at the supervisor */
	ck_assert_int_eq(dec(n, PROTO_ROLE_SUPERVISOR, &r), PROTO_E_DIRECTION);
	buf[1] = PROTO_SET_ACCEPTED;
	ck_assert_int_eq(dec(n, PROTO_ROLE_WATCHDOG, &r), PROTO_E_DIRECTION);
	buf[1] = 0x06;
	ck_assert_int_eq(dec(n, PROTO_ROLE_WATCHDOG, &r), PROTO_E_TYPE);
	buf[1] = 0x00;
	ck_assert_int_eq(dec(n, PROTO_ROLE_WATCHDOG, &r), PROTO_E_TYPE);
	buf[1] = 0xff;
	ck_assert_int_eq(dec(n, PROTO_ROLE_SUPERVISOR, &r), PROTO_E_TYPE);
	buf[1] = PROTO_SET_REQUEST;
	buf[0] = 2;
	ck_assert_int_eq(dec(n, PROTO_ROLE_WATCHDOG, &r), PROTO_E_VERSION);
	buf[0] = 0;
	ck_assert_int_eq(dec(n, PROTO_ROLE_WATCHDOG, &r), PROTO_E_VERSION);
	buf[0] = PROTO_VERSION;
	buf[2] = (uint8_t)(n + 1);
	ck_assert_int_eq(dec(n, PROTO_ROLE_WATCHDOG, &r), PROTO_E_LENGTH);
	buf[2] = (uint8_t)n;
	buf[3] = 1;
	ck_assert_int_eq(dec(n, PROTO_ROLE_WATCHDOG, &r), PROTO_E_LENGTH);
	buf[3] = 0;
	ck_assert_int_eq(dec(n, PROTO_ROLE_WATCHDOG, &r), PROTO_OK);
}
END_TEST

START_TEST(set_field_errors)
{
	struct proto_msg m, r;
	size_t n;

	proto_set_request(&m, SETTING_CHARGER_PRIORITY, VALUE_CALIBRATION);
	n = enc(&m);
	for (unsigned v = 0; v < 256; v++) {
		buf[8] = (uint8_t)v;	/* setting */
		ck_assert_int_eq(dec(n, PROTO_ROLE_WATCHDOG, &r),
		    (v == 1 || v == 2) ? PROTO_OK : PROTO_E_FIELD);
	}
	buf[8] = 2;
	for (unsigned v = 0; v < 256; v++) {
		buf[9] = (uint8_t)v;	/* value */
		ck_assert_int_eq(dec(n, PROTO_ROLE_WATCHDOG, &r),
		    (v == 1 || v == 2) ? PROTO_OK : PROTO_E_FIELD);
	}
	buf[9] = 2;
	for (unsigned v = 0; v < 256; v++) {
		buf[10] = (uint8_t)v;	/* scope */
		ck_assert_int_eq(dec(n, PROTO_ROLE_WATCHDOG, &r),
		    v <= PROFILE_MAX_UNITS ? PROTO_OK : PROTO_E_FIELD);
	}
	buf[10] = 2;	/* a single unit parses: the policy refuses it */
	ck_assert_int_eq(dec(n, PROTO_ROLE_WATCHDOG, &r), PROTO_OK);
	ck_assert_uint_eq(r.u.set.scope, 2);
}
END_TEST

START_TEST(other_field_errors)
{
	struct proto_msg m, r;
	size_t n;

	proto_set_heartbeat(&m, 7);
	n = enc(&m);
	buf[8] = 0x00;
	buf[9] = 0x04;		/* 1024 */
	ck_assert_int_eq(dec(n, PROTO_ROLE_WATCHDOG, &r), PROTO_E_FIELD);
	buf[9] = 0x03;		/* 768 */
	ck_assert_int_eq(dec(n, PROTO_ROLE_WATCHDOG, &r), PROTO_OK);
	ck_assert_uint_eq(r.u.heartbeat.state, 768);

	ck_assert_int_eq(proto_set_audit(&m, "state", "from=a to=b"), 0);
	n = enc(&m);
	buf[8] = 'A';		/* event name: [a-z0-9_] only */
	ck_assert_int_eq(dec(n, PROTO_ROLE_WATCHDOG, &r), PROTO_E_FIELD);
	buf[8] = '\0';		/* empty event name */
	ck_assert_int_eq(dec(n, PROTO_ROLE_WATCHDOG, &r), PROTO_E_FIELD);
	n = enc(&m);
	memset(buf + 8, 'a', PROTO_EVENT_LEN);	/* no NUL in the field */
	ck_assert_int_eq(dec(n, PROTO_ROLE_WATCHDOG, &r), PROTO_E_FIELD);
	n = enc(&m);
	buf[8 + 6] = 'x';	/* bytes hidden after the NUL */
	ck_assert_int_eq(dec(n, PROTO_ROLE_WATCHDOG, &r), PROTO_E_FIELD);
	n = enc(&m);
	buf[8 + PROTO_EVENT_LEN + 2] = '\x1b';	/* escape in text */
	ck_assert_int_eq(dec(n, PROTO_ROLE_WATCHDOG, &r), PROTO_E_FIELD);
	n = enc(&m);
	buf[n - 1] = 'x';	/* text not terminated within its field */
	memset(buf + 8 + PROTO_EVENT_LEN, 'y', PROTO_TEXT_LEN - 1);
	ck_assert_int_eq(dec(n, PROTO_ROLE_WATCHDOG, &r), PROTO_E_FIELD);
	/* a text of exactly PROTO_TEXT_LEN - 1 bytes is fine */
	buf[n - 1] = '\0';
	ck_assert_int_eq(dec(n, PROTO_ROLE_WATCHDOG, &r), PROTO_OK);
	ck_assert_uint_eq(strlen(r.u.audit.text), PROTO_TEXT_LEN - 1);

	ck_assert_int_eq(proto_set_done(&m, PROTO_OUTCOME_PASS, ""), 0);
	n = enc(&m);
	for (unsigned v = 0; v < 256; v++) {
		buf[8] = (uint8_t)v;
		ck_assert_int_eq(dec(n, PROTO_ROLE_WATCHDOG, &r),
		    (v >= 1 && v <= 5) ? PROTO_OK : PROTO_E_FIELD);
	}

	memset(&m, 0, sizeof(m));
	m.type = PROTO_REVERTED;
	m.u.reverted.reason = PROTO_REVERT_HEARTBEAT;
	n = enc(&m);
	buf[9] = 2;
	ck_assert_int_eq(dec(n, PROTO_ROLE_SUPERVISOR, &r), PROTO_E_FIELD);
	buf[9] = 0;
	buf[8] = PROTO_REVERT_MAX + 1;
	ck_assert_int_eq(dec(n, PROTO_ROLE_SUPERVISOR, &r), PROTO_E_FIELD);
}
END_TEST

static void
pair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	ck_assert_int_ne(fcntl(sv[0], F_SETFL, O_NONBLOCK), -1);
}

START_TEST(socketpair_exchange)
{
	struct proto_chan w, s;
	struct proto_msg m, r;
	char why[128];
	int sv[2];

	pair(sv);
	proto_chan_init(&w, sv[0], &proto_watchdog);
	proto_chan_init(&s, sv[1], &proto_supervisor);
	ck_assert_int_eq(proto_recv(&w, &r, why, sizeof(why)), PROTO_E_AGAIN);
	for (unsigned i = 0; i < 5; i++) {
		proto_set_heartbeat(&m, i);
		ck_assert_int_eq(proto_send(&s, &m), 0);
	}
	for (unsigned i = 0; i < 5; i++) {
		ck_assert_int_eq(proto_recv(&w, &r, why, sizeof(why)),
		    PROTO_OK);
		ck_assert_uint_eq(r.seq, i + 1);
		ck_assert_uint_eq(r.u.heartbeat.state, i);
	}
	ck_assert_int_eq(proto_recv(&w, &r, why, sizeof(why)), PROTO_E_AGAIN);
	/* each side sends only its own direction */
	errno = 0;
	ck_assert_int_eq(proto_send(&w, &m), -1);
	ck_assert_int_eq(errno, EINVAL);
	memset(&m, 0, sizeof(m));
	m.type = PROTO_SET_ACCEPTED;
	m.u.set.setting = SETTING_CHARGER_PRIORITY;
	m.u.set.value = VALUE_CALIBRATION;
	ck_assert_int_eq(proto_send(&w, &m), 0);
	ck_assert_int_eq(proto_recv(&s, &r, why, sizeof(why)), PROTO_OK);
	ck_assert_int_eq(r.type, PROTO_SET_ACCEPTED);
	ck_assert_int_eq(close(sv[1]), 0);
	ck_assert_int_eq(proto_recv(&w, &r, why, sizeof(why)), PROTO_E_EOF);
	ck_assert_int_eq(close(sv[0]), 0);
}
END_TEST

START_TEST(socketpair_oversized_and_sequence)
{
	struct proto_chan w, s;
	struct proto_msg m, r;
	uint8_t big[4096];
	char why[128];
	size_t n;
	int sv[2];

	pair(sv);
	proto_chan_init(&w, sv[0], &proto_watchdog);
	proto_chan_init(&s, sv[1], &proto_supervisor);
	/* a valid AUDIT frame with trailing bytes: longer than the buffer */
	ck_assert_int_eq(proto_set_audit(&m, "state", "x"), 0);
	n = proto_encode(sender(&m), &m, 1, big, sizeof(big));
	memset(big + n, 0, sizeof(big) - n);
	ck_assert_int_eq(send(sv[1], big, sizeof(big), 0),
	    (ssize_t)sizeof(big));
	ck_assert_int_eq(proto_recv(&w, &r, why, sizeof(why)), PROTO_E_LONG);
	ck_assert_ptr_nonnull(strstr(why, "4096"));
	/* one byte too many, exactly at the receive buffer's edge */
	ck_assert_int_eq(send(sv[1], big, n + 1, 0), (ssize_t)(n + 1));
	ck_assert_int_eq(proto_recv(&w, &r, why, sizeof(why)), PROTO_E_LONG);
	/* a replayed sequence number */
	proto_set_heartbeat(&m, 1);
	ck_assert_int_eq(proto_send(&s, &m), 0);
	ck_assert_int_eq(proto_recv(&w, &r, why, sizeof(why)), PROTO_OK);
	n = proto_encode(sender(&m), &m, 1, big, sizeof(big));
	ck_assert_int_eq(send(sv[1], big, n, 0), (ssize_t)n);
	ck_assert_int_eq(proto_recv(&w, &r, why, sizeof(why)), PROTO_E_SEQ);
	/* an empty frame */
	ck_assert_int_eq(send(sv[1], big, 0, 0), 0);
	ck_assert_int_eq(proto_recv(&w, &r, why, sizeof(why)), PROTO_E_EOF);
	ck_assert_int_eq(close(sv[0]), 0);
	ck_assert_int_eq(close(sv[1]), 0);
}
END_TEST

/*
 * A supervisor that sends its last frames and exits without reading an
 * answer still in its queue (a REVERTED after its DONE): Linux then hands
 * the watchdog ECONNRESET before the frames queued for it. They were said
 * and must be heard (the run's DONE was lost this way: exit 5, not 2).
 */
START_TEST(socketpair_peer_closed_with_answer_unread)
{
	struct proto_chan w, s;
	struct proto_msg m, r;
	char why[128];
	int sv[2];

	pair(sv);
	proto_chan_init(&w, sv[0], &proto_watchdog);
	proto_chan_init(&s, sv[1], &proto_supervisor);
	ck_assert_int_eq(proto_set_done(&m, PROTO_OUTCOME_ABORTED, "x"), 0);
	ck_assert_int_eq(proto_send(&s, &m), 0);
	proto_set_reverted(&m, PROTO_REVERT_CONFIRM_TIMEOUT, 1);
	ck_assert_int_eq(proto_send(&w, &m), 0);	/* never read */
	ck_assert_int_eq(close(sv[1]), 0);
	ck_assert_int_eq(proto_recv(&w, &r, why, sizeof(why)), PROTO_OK);
	ck_assert_int_eq(r.type, PROTO_DONE);
	ck_assert_int_eq(proto_recv(&w, &r, why, sizeof(why)), PROTO_E_EOF);
	ck_assert_int_eq(close(sv[0]), 0);
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(proto_type_name(PROTO_SET_REFUSED), "SET_REFUSED");
	ck_assert_str_eq(proto_type_name(0x42), "?");
	ck_assert_str_eq(proto_outcome_name(PROTO_OUTCOME_CANCELLED),
	    "CANCELLED");
	ck_assert_int_eq(proto_outcome_parse("ABORTED"), PROTO_OUTCOME_ABORTED);
	ck_assert_int_eq(proto_outcome_parse("aborted"), -1);
	ck_assert_str_eq(proto_refusal_name(PROTO_REFUSE_SCOPE), "scope");
	ck_assert_str_eq(proto_refusal_name(0), "?");
	ck_assert_str_eq(proto_revert_name(PROTO_REVERT_RUN_MAX), "run_max");
	ck_assert_str_eq(proto_revert_name(PROTO_REVERT_MAX + 1), "?");
	ck_assert_str_eq(proto_err_name(PROTO_E_SEQ), "bad sequence");
}
END_TEST

Suite *proto_suite(void);

Suite *
proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("frames");

	tcase_add_test(tc, lengths_are_exact);
	tcase_add_test(tc, requests_round_trip);
	tcase_add_test(tc, answers_round_trip);
	tcase_add_test(tc, encoder_refuses_bad_messages);
	tcase_add_test(tc, header_errors);
	tcase_add_test(tc, set_field_errors);
	tcase_add_test(tc, other_field_errors);
	tcase_add_test(tc, socketpair_exchange);
	tcase_add_test(tc, socketpair_oversized_and_sequence);
	tcase_add_test(tc, socketpair_peer_closed_with_answer_unread);
	tcase_add_test(tc, names);
	suite_add_tcase(s, tc);
	return s;
}
