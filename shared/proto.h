/*
 * The socketpair protocol between gridcal-watchdog (privileged, owns the
 * control credentials) and gridcal-supervisor (unprivileged, runs the
 * calibration). Modelled on OpenSSH's monitor and OpenNTPD's imsg use:
 * fixed frames, one exact length per message type, every field checked on
 * receipt. Anything that does not parse is a protocol violation; the
 * watchdog treats a violation as fatal for the supervisor.
 *
 * TRANSPORT
 *   socketpair(AF_UNIX, SOCK_SEQPACKET): one frame per send()/recv(), never
 *   split or merged. The watchdog execs the supervisor as
 *
 *     gridcal-supervisor --profile PATH --watchdog-fd N \
 *         calibrate --method solar|grid [--confirm]
 *
 *   with the supervisor's end of the pair open on fd N (no other fd but 0-2)
 *   and PATH the profile the watchdog loaded.
 *
 * FRAME (all integers little-endian, no padding)
 *   offset size field
 *   0      1    version   PROTO_VERSION
 *   1      1    type      enum proto_type
 *   2      2    length    whole frame in bytes, == proto_len(type)
 *   4      4    seq       1 for a sender's first frame, +1 for each next one
 *   8      ...  body      per type, below
 *
 *   Strings travel in fixed-size fields: the text, a NUL, then zero bytes to
 *   the end of the field. Text is printable ASCII (0x20..0x7e) only; event
 *   names are [a-z0-9_], 1..PROTO_EVENT_LEN-1 bytes.
 *
 * REQUESTS (supervisor -> watchdog)                          total length
 *   HELLO       digest[32]: SHA-256 of the profile file           40
 *               (struct profile.digest); first frame, exactly once
 *   HEARTBEAT   state u16 (0..PROTO_STATE_MAX): the supervisor's   10
 *               current state id; at least every
 *               timing.heartbeat_interval_ms, whatever else happens
 *   SET_REQUEST setting u8, value u8, scope u8                     11
 *   AUDIT       event[32], text[256]: recorded in the audit log   296
 *               with actor "supervisor"
 *   DONE        outcome u8, reason[256]: last frame of a run      265
 *
 * ANSWERS (watchdog -> supervisor)
 *   SET_ACCEPTED  setting u8, value u8, scope u8: permitted and    11
 *                 published (QoS 1) on the cluster control topic
 *   SET_CONFIRMED setting u8, value u8, scope u8: the readback of  11
 *                 every unit shows the value
 *   SET_REFUSED   setting u8, value u8, scope u8, reason u8,      268
 *                 text[256]; nothing was published
 *   REVERTED      reason u8, confirmed u8: the watchdog reverted   10
 *                 on its own. Sent with confirmed=0 when it starts
 *                 and confirmed=1 once the readback of every unit
 *                 shows the everyday values.
 *
 * FIELD CODES ON THE WIRE (0 is never valid, so a zeroed frame is refused)
 *   setting 1 output priority, 2 charger priority
 *   value   1 everyday, 2 calibration (the watchdog maps these to the
 *           profile's strings; the supervisor never sends a string to publish)
 *   scope   0 both units (the cluster topic) -- the only scope ever
 *           permitted; 1..PROFILE_MAX_UNITS names one unit, well-formed but
 *           always refused
 *
 * WHAT THE WATCHDOG PERMITS (watchdog/monitor.c)
 *   - HELLO first and once; its digest equals the watchdog's profile.
 *   - Calibration values only in a run started with --method grid
 *     --confirm; charger priority first, and output priority only once the
 *     charger's calibration value is confirmed; one request at a time
 *     (wait for SET_CONFIRMED or SET_REFUSED); no value twice.
 *   - Everyday values at any time after HELLO: they start the watchdog's
 *     own revert (output priority, then charger priority, republished until
 *     the readback confirms) and are answered SET_ACCEPTED then
 *     SET_CONFIRMED for the setting asked (at once if this revert has
 *     already confirmed it). After a revert has started, no calibration
 *     value is accepted again in this run (PROTO_REFUSE_REVERTING).
 *   - DONE last; any frame after it is a violation. After DONE the
 *     supervisor has timing.heartbeat_timeout_s to exit, then SIGKILL.
 *   - At most WD_FLOOD_PER_S (200) frames a second (PROTO_E_FLOOD).
 *   - HELLO within timing.heartbeat_timeout_s of the exec, then
 *     HEARTBEATs with no gap longer than that.
 *   A violation (a frame that does not parse, a wrong phase, an unpermitted
 *   request) is answered with SET_REFUSED where a request can be named,
 *   audited, the settings are reverted if dirty, and the supervisor is
 *   killed. A refusal for an operational reason (PROTO_REFUSE_MARK,
 *   _AUDIT, _BROKER, _ENVELOPE, _REVERTING, _NOT_HELD: the charger was
 *   confirmed but someone else has set it back since, which the
 *   supervisor may not have seen yet) is not a violation: the supervisor
 *   should abort its run.
 *   If a calibration value is not confirmed within timing.set_confirm_ms
 *   the watchdog reverts (REVERTED, reason PROTO_REVERT_CONFIRM_TIMEOUT);
 *   as that value may still land, the revert then takes at least
 *   set_confirm_s + revert_confirm_s to be confirmed.
 *   SIGTERM to the supervisor (the watchdog was signalled, timing.run_max_s
 *   passed, the audit log failed) comes with REVERTED if settings were
 *   applied; the supervisor may still send its AUDIT report and DONE
 *   within timing.heartbeat_timeout_s before SIGKILL.
 */
#ifndef GRIDCAL_PROTO_H
#define GRIDCAL_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "settings.h"

#define PROTO_VERSION		1
#define PROTO_HDR_LEN		8
#define PROTO_DIGEST_LEN	32
#define PROTO_EVENT_LEN		32	/* field size, NUL included */
#define PROTO_TEXT_LEN		256	/* field size, NUL included */
#define PROTO_STATE_MAX		1023
#define PROTO_SCOPE_ALL		0
#define PROTO_FRAME_MAX		296	/* the longest type (AUDIT) */

enum proto_type {
	/* requests: supervisor -> watchdog */
	PROTO_HELLO		= 0x01,
	PROTO_HEARTBEAT		= 0x02,
	PROTO_SET_REQUEST	= 0x03,
	PROTO_AUDIT		= 0x04,
	PROTO_DONE		= 0x05,
	/* answers: watchdog -> supervisor */
	PROTO_SET_ACCEPTED	= 0x81,
	PROTO_SET_CONFIRMED	= 0x82,
	PROTO_SET_REFUSED	= 0x83,
	PROTO_REVERTED		= 0x84
};
#define PROTO_IS_ANSWER(t)	(((unsigned)(t) & 0x80) != 0)

/* DONE outcomes: the supervisor's terminal states. */
enum proto_outcome {
	PROTO_OUTCOME_PASS	= 1,
	PROTO_OUTCOME_FAIL	= 2,
	PROTO_OUTCOME_ABORTED	= 3,
	PROTO_OUTCOME_REFUSED	= 4,
	PROTO_OUTCOME_CANCELLED	= 5
};

/* SET_REFUSED reasons: 1-4 are violations (the supervisor is killed),
 * the others operational (the supervisor should abort its run). */
#define PROTO_REFUSE_IS_VIOLATION(r)	((r) <= PROTO_REFUSE_SCOPE)
enum proto_refusal {
	PROTO_REFUSE_NOT_AUTHORISED = 1, /* not a --method grid --confirm run */
	PROTO_REFUSE_ORDER	= 2,	/* output before charger is confirmed */
	PROTO_REFUSE_PHASE	= 3,	/* before HELLO, after DONE, twice... */
	PROTO_REFUSE_SCOPE	= 4,	/* single-unit write */
	PROTO_REFUSE_REVERTING	= 5,	/* a revert has started in this run */
	PROTO_REFUSE_MARK	= 6,	/* the intent mark was not written */
	PROTO_REFUSE_AUDIT	= 7,	/* the audit log could not be written */
	PROTO_REFUSE_BROKER	= 8,	/* not connected to the broker */
	PROTO_REFUSE_ENVELOPE	= 9,	/* a hard limit of the watchdog */
	PROTO_REFUSE_NOT_HELD	= 10,	/* charger confirmed, not read back now */
	PROTO_REFUSE_MAX	= 10
};

/* Why the watchdog reverted (REVERTED.reason, and the audit log). */
enum proto_revert_reason {
	PROTO_REVERT_REQUESTED	= 1,	/* the supervisor asked for it */
	PROTO_REVERT_HEARTBEAT	= 2,
	PROTO_REVERT_EOF	= 3,	/* socket EOF, the supervisor exited */
	PROTO_REVERT_VIOLATION	= 4,
	PROTO_REVERT_SIGNAL	= 5,	/* SIGTERM/SIGINT to the watchdog */
	PROTO_REVERT_RUN_MAX	= 6,
	PROTO_REVERT_ENVELOPE	= 7,
	PROTO_REVERT_CONFIRM_TIMEOUT = 8, /* a calibration value unconfirmed */
	PROTO_REVERT_AUDIT	= 9,	/* the audit log could not be written */
	PROTO_REVERT_RECOVERY	= 10,	/* intent mark found at start */
	PROTO_REVERT_DONE	= 11,	/* DONE while settings were dirty */
	PROTO_REVERT_MAX	= 11
};

/* Result of proto_decode()/proto_recv(). */
enum proto_err {
	PROTO_OK = 0,
	PROTO_E_AGAIN,		/* non-blocking socket, no frame waiting */
	PROTO_E_EOF,		/* the peer closed its end */
	PROTO_E_SYS,		/* recv(2) failed, see errno */
	PROTO_E_SHORT,		/* fewer bytes than the header or the type */
	PROTO_E_LONG,		/* more bytes than the type */
	PROTO_E_VERSION,	/* version byte is not PROTO_VERSION */
	PROTO_E_TYPE,		/* no such type */
	PROTO_E_DIRECTION,	/* an answer to the watchdog, or vice versa */
	PROTO_E_LENGTH,		/* length field is not the bytes received */
	PROTO_E_FIELD,		/* a body field out of range or malformed */
	PROTO_E_SEQ,		/* sequence number is not the previous + 1 */
	PROTO_E_FLOOD		/* more than rx_per_s frames in a second */
};

/* Which end a channel is: decides which types it may receive. */
enum proto_role {
	PROTO_ROLE_WATCHDOG,	/* receives requests, sends answers */
	PROTO_ROLE_SUPERVISOR	/* receives answers, sends requests */
};

struct proto_msg;

/*
 * One end's codec: the bodies it encodes and the bodies it decodes. Each
 * end links only its own: gridcal-watchdog decodes requests and encodes
 * answers (shared/proto_watchdog.c), the supervisor the other way round
 * (shared/proto_supervisor.c). The header, the lengths and every field
 * check are shared (shared/proto.c).
 */
struct proto_end {
	enum proto_role	 role;
	/* body of m (checked: -1 if a field is out of range) into b */
	int		(*encode)(const struct proto_msg *m, uint8_t *b);
	enum proto_err	(*decode)(const uint8_t *b, struct proto_msg *m,
			    const char *tname, char *why, size_t whysz);
};
extern const struct proto_end proto_watchdog;	/* proto_watchdog.c */

/* A parsed frame. Only the member for .type is meaningful. */
struct proto_msg {
	enum proto_type	type;
	uint32_t	seq;		/* set by proto_send/proto_decode */
	union {
		struct {
			uint8_t		digest[PROTO_DIGEST_LEN];
		} hello;
		struct {
			uint16_t	state;
		} heartbeat;
		/* SET_REQUEST, SET_ACCEPTED, SET_CONFIRMED, SET_REFUSED */
		struct {
			enum setting		setting;
			enum setting_value	value;
			uint8_t			scope;
			enum proto_refusal	reason;	/* SET_REFUSED only */
			char	text[PROTO_TEXT_LEN];	/* SET_REFUSED only */
		} set;
		struct {
			char	event[PROTO_EVENT_LEN];
			char	text[PROTO_TEXT_LEN];
		} audit;
		struct {
			enum proto_outcome	outcome;
			char	reason[PROTO_TEXT_LEN];
		} done;
		struct {
			enum proto_revert_reason reason;
			uint8_t			confirmed;	/* 0 or 1 */
		} reverted;
	} u;
};

/* One end of the socketpair. */
struct proto_chan {
	int		fd;
	const struct proto_end *end;
	uint32_t	tx_seq;		/* last sequence number sent */
	uint32_t	rx_seq;		/* last sequence number received */
	unsigned	rx_per_s;	/* flood limit, 0 = none (default) */
	unsigned	rx_count;	/* frames in the current window */
	int64_t		rx_window_ms;	/* start of the window (monotonic) */
};

/* Exact frame length of a type; 0 for an unknown type. */
size_t	proto_len(unsigned type);
const char *proto_type_name(unsigned type);		/* "HELLO", "?" */
const char *proto_err_name(enum proto_err);		/* "short frame" */
const char *proto_outcome_name(enum proto_outcome);	/* "PASS" */
const char *proto_refusal_name(enum proto_refusal);	/* "not_authorised" */
const char *proto_revert_name(enum proto_revert_reason); /* "heartbeat" */

/*
 * Encodes m (with sequence number seq) as sent by end into buf. Returns
 * the frame length, or 0 if end does not send m's type, a field of m is
 * out of range or bufsz is too small: the encoder refuses to produce a
 * frame the decoder would refuse.
 */
size_t	proto_encode(const struct proto_end *, const struct proto_msg *m,
	    uint32_t seq, uint8_t *buf, size_t bufsz);
/*
 * Parses one received frame of len bytes as received by end (len may
 * exceed PROTO_FRAME_MAX when the caller saw a truncated frame). Checks,
 * in order: header present, version, type known, direction, length field,
 * exact length, every body field. On error *m is unspecified and why (if
 * not NULL) gets a one-line reason such as "HEARTBEAT: state 2000 > 1023".
 * Does not check the sequence number (proto_recv does).
 */
enum proto_err proto_decode(const struct proto_end *, const uint8_t *buf,
	    size_t len, struct proto_msg *m, char *why, size_t whysz);

/* Sets up a channel for end on a connected SOCK_SEQPACKET fd. */
void	proto_chan_init(struct proto_chan *, int fd, const struct proto_end *);
/*
 * Sends one frame (MSG_NOSIGNAL, so a dead peer is EPIPE, not SIGPIPE).
 * 0 on success; -1 with errno set (EINVAL: m does not encode; EAGAIN: a
 * non-blocking socket is full).
 */
int	proto_send(struct proto_chan *, const struct proto_msg *m);
/*
 * Receives one frame into *m. PROTO_OK, PROTO_E_AGAIN (non-blocking fd,
 * nothing to read), PROTO_E_EOF, PROTO_E_SYS (errno set), a decode error,
 * or PROTO_E_FLOOD once more than rx_per_s frames (if set) arrive within
 * one second; why is filled in. Every error except PROTO_E_AGAIN is final:
 * the peer is broken or hostile, stop talking to it.
 */
enum proto_err proto_recv(struct proto_chan *, struct proto_msg *m,
	    char *why, size_t whysz);

/* Constructors for the frames the watchdog sends: its answers */
/* SET_ACCEPTED, SET_CONFIRMED or SET_REFUSED for setting s, value v. */
void	proto_set_answer(struct proto_msg *, enum proto_type, enum setting,
	    enum setting_value);
/* SET_REFUSED with its reason; text is made printable and truncated. */
void	proto_set_refused(struct proto_msg *, enum setting, enum setting_value,
	    enum proto_refusal, const char *text);
void	proto_set_reverted(struct proto_msg *, enum proto_revert_reason,
	    int confirmed);
/* (the supervisor's requests: proto_supervisor.h) */

/* ---- for the two ends' codecs (proto_watchdog.c, proto_supervisor.c) ---- */
void	proto_put16(uint8_t *, uint16_t);
uint16_t proto_get16(const uint8_t *);
/* event: [a-z0-9_]+, text: printable ASCII; NUL-terminated within n */
int	proto_event_ok(const char *, size_t n);
int	proto_text_ok(const char *, size_t n);
/* A fixed string field: valid text, then only NULs to the end. */
int	proto_field_get(const uint8_t *, size_t n, char *out, int is_event);
void	proto_field_put(uint8_t *, size_t n, const char *);
/* Copies text, replacing what the decoder would refuse with '?'. */
void	proto_text_copy(char *dst, size_t dstsz, const char *src);
/* The setting, value and scope bytes of the SET_* bodies. */
int	proto_set_encode(const struct proto_msg *, uint8_t *b);
enum proto_err proto_set_decode(const uint8_t *b, struct proto_msg *,
	    const char *tname, char *why, size_t whysz);
enum proto_err proto_bad(char *why, size_t whysz, enum proto_err,
	    const char *tname, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));

#endif
