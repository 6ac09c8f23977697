/*
 * The supervisor's end of the socketpair to gridcal-watchdog (shared/proto.h).
 *
 * Each (setting, value) request is tracked on its own: the protocol allows
 * an everyday request (the revert) at any time, also while a calibration
 * request is still unanswered, and the watchdog then drops the pending
 * calibration request without answering it. An answer for something never
 * asked means the two sides disagree about the run: the link is declared
 * broken (the watchdog reverts on EOF).
 */
#ifndef GRIDCAL_WDLINK_H
#define GRIDCAL_WDLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "profile.h"
#include "proto_supervisor.h"

#define WDLINK_OUTQ	64

/* What the watchdog last said about one setting. */
enum wd_setstate {
	WD_IDLE,	/* nothing asked */
	WD_SENT,	/* SET_REQUEST sent, no answer yet */
	WD_ACCEPTED,	/* published, readback not yet confirmed */
	WD_CONFIRMED,	/* readback of every unit shows the value */
	WD_REFUSED	/* refused: reason and text below */
};

/* How far a (setting, value) request got. */
struct wd_setting {
	enum wd_setstate	state;
	enum proto_refusal	refusal;
	char			text[PROTO_TEXT_LEN];
};

/* One answer from the watchdog, in arrival order, for events.c. */
struct wd_answer {
	enum proto_type		type;	/* SET_* or REVERTED */
	enum setting		setting;
	enum setting_value	value;
	enum proto_refusal	refusal;
	enum proto_revert_reason revert;
	bool			confirmed;
	char			text[PROTO_TEXT_LEN];
};
#define WDLINK_ANSQ	16

struct wdlink {
	struct proto_chan	ch;
	bool			up;		/* HELLO sent, peer alive */
	bool			done;		/* DONE sent: nothing more */
	int64_t			next_hb_ms;
	int64_t			interval_ms;
	unsigned		state_id;	/* sent in every heartbeat */
	struct wd_setting	set[SETTING_COUNT][VALUE_COUNT];
	/* unsolicited REVERTED from the watchdog */
	bool			reverted;
	bool			revert_confirmed;
	enum proto_revert_reason revert_reason;
	char			error[PROTO_TEXT_LEN];	/* why the link broke */
	uint64_t		answers;
	/* frames the socket could not take yet (EAGAIN), oldest first */
	struct proto_msg	outq[WDLINK_OUTQ];
	int			outq_head, outq_len;
	bool			hb_queued;
	/* answers not yet turned into events */
	struct wd_answer	ansq[WDLINK_ANSQ];
	int			ansq_head, ansq_len;
};

/* Sets up the link on fd (non-blocking SEQPACKET) and sends HELLO. */
int	wdlink_open(struct wdlink *, int fd, const uint8_t *digest,
	    int64_t interval_ms, int64_t now_ms);
/*
 * Sends a heartbeat if one is due and flushes queued frames; -1 if the
 * link is broken.
 */
int	wdlink_tick(struct wdlink *, int64_t now_ms);
/* True while frames wait for the socket to drain (poll for POLLOUT). */
bool	wdlink_want_write(const struct wdlink *);
/* Milliseconds until the next heartbeat is due. */
int64_t	wdlink_next_ms(const struct wdlink *, int64_t now_ms);
void	wdlink_set_state(struct wdlink *, unsigned state_id);
/* Reads every waiting answer; -1 once the link is broken (see error). */
int	wdlink_read(struct wdlink *);
/* The oldest answer not yet taken; false if none. */
bool	wdlink_next_answer(struct wdlink *, struct wd_answer *);
/* Asks for a setting value on both units. */
int	wdlink_request(struct wdlink *, enum setting, enum setting_value);
/* Records an audit event (text: space-separated key=value pairs). */
int	wdlink_audit(struct wdlink *, const char *event, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* The last frame of a run. */
int	wdlink_done(struct wdlink *, enum proto_outcome, const char *reason);
/* Waits (bounded) until every queued frame is on the socket. */
int	wdlink_drain(struct wdlink *, int64_t timeout_ms);
bool	wdlink_is_up(const struct wdlink *);

#endif
