/*
 * test-hostile: a program for the supervisor's side of the socketpair, for
 * the fault suite. gridcal-watchdog execs it in place of gridcal-supervisor
 * (the test profile's paths.supervisor points here) exactly as it would
 * exec the supervisor:
 *
 *	test-hostile --profile PATH --watchdog-fd N \
 *	    calibrate --method solar|grid [--confirm]
 *
 * What it does comes from the file "hostile.conf" beside PATH (the
 * watchdog passes nothing else through), one line:
 *
 *	BEHAVIOUR [dirty]
 *
 * "dirty" first makes the settings dirty the legitimate way (charger
 * priority calibration, confirmed, then output priority, confirmed), so a
 * violation has something to revert. Behaviours:
 *
 *	puppet		a well-behaved supervisor that only enables grid
 *			charging (always as if "dirty") and then heartbeats,
 *			with an AUDIT "progress" frame every second as the
 *			supervisor's progress reports, until the watchdog
 *			reverts (it then sends DONE ABORTED) or closes the
 *			socket
 *	exit CODE	(after "dirty") exit with CODE, no DONE
 *	flood-hb	(after "dirty") heartbeats as fast as the socket
 *			takes them, for as long as the watchdog lets it
 *	flood-audit	the same with AUDIT frames
 *	bad-setting	SET_REQUEST for a setting code that does not exist
 *	bad-value	SET_REQUEST with a value code outside the whitelist
 *	single-unit	SET_REQUEST (charger calibration) for unit 1 only
 *	calib		SET_REQUEST charger priority calibration (for
 *			solar-only or unauthorised runs)
 *	output-first	SET_REQUEST output priority calibration first
 *	short-frame	a HEARTBEAT one byte short
 *	long-frame	a HEARTBEAT one byte long
 *	bad-length	a HEARTBEAT whose length field is wrong
 *	bad-type	a frame of unknown type 0x07
 *	answer-type	a SET_CONFIRMED frame (an answer) to the watchdog
 *	bad-seq		a HEARTBEAT with a repeated sequence number
 *	bad-digest	HELLO with a digest that is not the profile's
 *	no-hello	SET_REQUEST before HELLO
 *	after-done	DONE, then a HEARTBEAT
 *	overlap		charger priority calibration twice, without waiting
 *			for the answer to the first
 *	empty-frame	a zero-length frame, the socket left open
 *	claim-pass	charger priority calibration only (confirmed), back
 *			to everyday (confirmed), then DONE PASS and exit 0:
 *			a claim the watchdog's evidence does not support
 *	exec-sh		enter the supervisor's sandbox (supervisor/sandbox.c,
 *			when linked in) and execve("/bin/sh"): what code
 *			running in the supervisor would do first
 *	audit-trickle	AUDIT frames of the longest text, under every
 *			rate limit (48, then 3 per progress interval),
 *			heartbeats as usual, until the watchdog ends it: a
 *			disk filled slowly
 *
 * Every frame received and every step is logged to stderr as
 * "test-hostile: ...", so the suite can check what the watchdog answered.
 * It gives up after HOSTILE_LIFETIME_MS (exit 97): a watchdog that should
 * have terminated it and did not is then visible as that exit status.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "profile.h"
#include "proto_supervisor.h"

#define HOSTILE_LIFETIME_MS	60000
#define PROGRESS_MS		1000
#define EX_GAVE_UP		97
#define EX_BROKEN		96
#define EX_USAGE_		64

enum behaviour {
	B_PUPPET, B_EXIT, B_FLOOD_HB, B_FLOOD_AUDIT, B_BAD_SETTING,
	B_BAD_VALUE, B_SINGLE_UNIT, B_CALIB, B_OUTPUT_FIRST, B_SHORT_FRAME,
	B_LONG_FRAME, B_BAD_LENGTH, B_BAD_TYPE, B_ANSWER_TYPE, B_BAD_SEQ,
	B_BAD_DIGEST, B_NO_HELLO, B_AFTER_DONE, B_OVERLAP, B_EMPTY_FRAME,
	B_CLAIM_PASS, B_EXEC_SH,
	B_AUDIT_TRICKLE
};

static const struct {
	const char	*name;
	enum behaviour	 b;
} behaviours[] = {
	{ "puppet", B_PUPPET }, { "exit", B_EXIT },
	{ "flood-hb", B_FLOOD_HB }, { "flood-audit", B_FLOOD_AUDIT },
	{ "bad-setting", B_BAD_SETTING }, { "bad-value", B_BAD_VALUE },
	{ "single-unit", B_SINGLE_UNIT }, { "calib", B_CALIB },
	{ "output-first", B_OUTPUT_FIRST }, { "short-frame", B_SHORT_FRAME },
	{ "long-frame", B_LONG_FRAME }, { "bad-length", B_BAD_LENGTH },
	{ "bad-type", B_BAD_TYPE }, { "answer-type", B_ANSWER_TYPE },
	{ "bad-seq", B_BAD_SEQ }, { "bad-digest", B_BAD_DIGEST },
	{ "no-hello", B_NO_HELLO }, { "after-done", B_AFTER_DONE },
	{ "overlap", B_OVERLAP }, { "empty-frame", B_EMPTY_FRAME },
	{ "claim-pass", B_CLAIM_PASS },
	{ "overlap", B_OVERLAP }, { "exec-sh", B_EXEC_SH },
	{ "audit-trickle", B_AUDIT_TRICKLE },
};

/* The supervisor's sandbox, where it is linked in (weak: older trees). */
void	sandbox_enter(const struct profile *) __attribute__((weak));

struct hostile {
	struct proto_chan	ch;
	struct profile		pf;
	enum behaviour		b;
	bool			dirty;
	int			exit_code;
	int64_t			hb_ms, next_hb;
	int64_t			next_progress;	/* puppet: 0 = none */
	int64_t			give_up;
	/* answers seen */
	bool			reverted;
	bool			reverted_confirmed;
	bool			eof;
	int			confirmed[SETTING_COUNT];	/* value+1 */
	int			refused;
};

static void hlog(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
hlog(const char *fmt, ...)
{
	va_list ap;

	fputs("test-hostile: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void __attribute__((noreturn))
die(int code, const char *what)
{
	hlog("%s: exiting %d", what, code);
	exit(code);
}

/* ---- frames ---- */

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v & 0xff);
	p[1] = (uint8_t)((v >> 8) & 0xff);
}

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * Sends len raw bytes as one frame with header fields of our choosing;
 * the sequence number is the channel's next unless seq_delta says
 * otherwise. Returns 0, or -1 if the socket refused (peer gone).
 */
static int
send_raw(struct hostile *h, unsigned type, size_t len, unsigned lenfield,
    const uint8_t *body, size_t bodylen, int seq_delta)
{
	uint8_t buf[PROTO_FRAME_MAX + 8];
	ssize_t n;

	if (len > sizeof(buf) || len < PROTO_HDR_LEN ||
	    bodylen > len - PROTO_HDR_LEN)
		die(EX_BROKEN, "send_raw: bad arguments");
	memset(buf, 0, sizeof(buf));
	buf[0] = PROTO_VERSION;
	buf[1] = (uint8_t)type;
	put16(buf + 2, lenfield);
	put32(buf + 4, (uint32_t)((int64_t)h->ch.tx_seq + 1 + seq_delta));
	if (bodylen > 0)
		memcpy(buf + PROTO_HDR_LEN, body, bodylen);
	do {
		n = send(h->ch.fd, buf, len, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		hlog("send raw type 0x%02x: %s", type, strerror(errno));
		return -1;
	}
	if (seq_delta == 0)
		h->ch.tx_seq++;
	hlog("sent raw type 0x%02x len %zu lenfield %u", type, len, lenfield);
	return 0;
}

static int
send_msg(struct hostile *h, const struct proto_msg *m)
{
	if (proto_send(&h->ch, m) == -1) {
		hlog("send %s: %s", proto_type_name(m->type), strerror(errno));
		return -1;
	}
	return 0;
}

static int
send_set(struct hostile *h, enum setting s, enum setting_value v)
{
	struct proto_msg m;

	proto_set_request(&m, s, v);
	hlog("request %s %s", setting_name(s),
	    v == VALUE_CALIBRATION ? "calibration" : "everyday");
	return send_msg(h, &m);
}

static int
send_heartbeat(struct hostile *h)
{
	struct proto_msg m;

	proto_set_heartbeat(&m, 1);
	return send_msg(h, &m);
}

/* ---- answers ---- */

static void
on_answer(struct hostile *h, const struct proto_msg *m)
{
	switch (m->type) {
	case PROTO_SET_ACCEPTED:
		hlog("got SET_ACCEPTED %s", setting_name(m->u.set.setting));
		break;
	case PROTO_SET_CONFIRMED:
		hlog("got SET_CONFIRMED %s value %d",
		    setting_name(m->u.set.setting), (int)m->u.set.value);
		h->confirmed[m->u.set.setting] = (int)m->u.set.value + 1;
		break;
	case PROTO_SET_REFUSED:
		hlog("got SET_REFUSED reason %s: %s",
		    proto_refusal_name(m->u.set.reason), m->u.set.text);
		h->refused++;
		break;
	case PROTO_REVERTED:
		hlog("got REVERTED reason %s confirmed %u",
		    proto_revert_name(m->u.reverted.reason),
		    (unsigned)m->u.reverted.confirmed);
		h->reverted = true;
		if (m->u.reverted.confirmed)
			h->reverted_confirmed = true;
		break;
	default:
		hlog("got %s", proto_type_name(m->type));
		break;
	}
}

/*
 * Heartbeats and reads answers until cond(h) holds, the peer goes away or
 * the lifetime ends. Returns 0 if cond held.
 */
static int
pump(struct hostile *h, bool (*cond)(const struct hostile *))
{
	struct pollfd pfd;
	struct proto_msg m;
	char why[160];
	int64_t now;
	enum proto_err e;

	for (;;) {
		if (cond != NULL && cond(h))
			return 0;
		if (h->eof)
			return -1;
		now = mono_ms();
		if (now >= h->give_up)
			die(EX_GAVE_UP, "lifetime over, still running");
		if (now >= h->next_hb) {
			if (send_heartbeat(h) == -1)
				h->eof = true;
			h->next_hb = now + h->hb_ms;
		}
		if (h->next_progress != 0 && now >= h->next_progress) {
			struct proto_msg a;

			if (proto_set_audit(&a, "progress", "state=hold") == 0 &&
			    send_msg(h, &a) == -1)
				h->eof = true;
			h->next_progress = now + PROGRESS_MS;
		}
		pfd.fd = h->ch.fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, (int)(h->next_hb - now)) == -1) {
			if (errno == EINTR)
				continue;
			die(EX_BROKEN, "poll");
		}
		if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) == 0)
			continue;
		e = proto_recv(&h->ch, &m, why, sizeof(why));
		if (e == PROTO_E_AGAIN)
			continue;
		if (e != PROTO_OK) {
			hlog("recv: %s: %s", proto_err_name(e), why);
			h->eof = true;
			continue;
		}
		on_answer(h, &m);
	}
}

static bool
charger_confirmed(const struct hostile *h)
{
	return h->confirmed[SETTING_CHARGER_PRIORITY] == VALUE_CALIBRATION + 1 ||
	    h->refused > 0 || h->reverted;
}

static bool
output_confirmed(const struct hostile *h)
{
	return h->confirmed[SETTING_OUTPUT_PRIORITY] == VALUE_CALIBRATION + 1 ||
	    h->refused > 0 || h->reverted;
}

static bool
charger_everyday(const struct hostile *h)
{
	return h->confirmed[SETTING_CHARGER_PRIORITY] == VALUE_EVERYDAY + 1 ||
	    h->refused > 0;
}

static bool
never(const struct hostile *h)
{
	(void)h;
	return false;
}

static bool
reverted(const struct hostile *h)
{
	return h->reverted_confirmed;
}

/*
 * The enable did not go through (refused, reverted, socket gone). The
 * puppet ends its run as the supervisor would, with DONE ABORTED; the
 * others have nothing left to test.
 */
static void __attribute__((noreturn))
gave_up(struct hostile *h, const char *why)
{
	struct proto_msg m;

	if (h->b != B_PUPPET || h->eof)
		die(EX_BROKEN, why);
	if (proto_set_done(&m, PROTO_OUTCOME_ABORTED, why) == 0)
		(void)send_msg(h, &m);
	die(0, why);
}

/* The legitimate way to dirty settings: charger, then output priority. */
static void
make_dirty(struct hostile *h)
{
	if (send_set(h, SETTING_CHARGER_PRIORITY, VALUE_CALIBRATION) == -1 ||
	    pump(h, charger_confirmed) == -1 || h->refused || h->reverted)
		gave_up(h, "charger priority not confirmed");
	if (send_set(h, SETTING_OUTPUT_PRIORITY, VALUE_CALIBRATION) == -1 ||
	    pump(h, output_confirmed) == -1 || h->refused || h->reverted)
		gave_up(h, "output priority not confirmed");
	hlog("dirty: both settings confirmed in calibration");
}

/*
 * After a forbidden act the watchdog must end us; leaving on our own when
 * it closes the socket would hide whether it did. Wait for the signal.
 */
static void __attribute__((noreturn))
linger(struct hostile *h)
{
	hlog("socket closed: waiting to be terminated");
	while (mono_ms() < h->give_up) {
		struct timespec ts = { 0, 50 * 1000000L };

		(void)nanosleep(&ts, NULL);
	}
	die(EX_GAVE_UP, "lifetime over, never terminated");
}

/* Sends frames without pause (EAGAIN: wait for room) until the peer goes. */
static void __attribute__((noreturn))
flood(struct hostile *h, bool audit)
{
	struct proto_msg m;
	struct pollfd pfd;
	uint64_t sent = 0;

	if (audit && proto_set_audit(&m, "flood", "x") == -1)
		die(EX_BROKEN, "audit frame");
	if (!audit)
		proto_set_heartbeat(&m, 1);
	(void)fcntl(h->ch.fd, F_SETFL, O_NONBLOCK);
	hlog("flooding %s frames", audit ? "AUDIT" : "HEARTBEAT");
	for (;;) {
		if (mono_ms() >= h->give_up)
			die(EX_GAVE_UP, "flood: lifetime over");
		if (proto_send(&h->ch, &m) == 0) {
			sent++;
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			hlog("flood: %llu frames sent, then %s",
			    (unsigned long long)sent, strerror(errno));
			linger(h);
		}
		pfd.fd = h->ch.fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		(void)poll(&pfd, 1, 100);
		/* Drain answers so the watchdog's side never blocks on us. */
		{
			struct proto_msg a;
			char why[160];
			enum proto_err e;

			while ((e = proto_recv(&h->ch, &a, why,
			    sizeof(why))) == PROTO_OK)
				on_answer(h, &a);
			if (e != PROTO_E_AGAIN) {
				hlog("flood: %llu frames sent, recv: %s",
				    (unsigned long long)sent, proto_err_name(e));
				linger(h);
			}
		}
	}
}

static int64_t trickle_next;

static bool
trickle_due(const struct hostile *h)
{
	(void)h;
	return mono_ms() >= trickle_next;
}

/*
 * AUDIT frames of PROTO_TEXT_LEN - 1 bytes, under the watchdog's AUDIT
 * rate (watchdog/monitor.c: 4 per progress interval after a burst of 64):
 * a burst of 48, then 3 per progress interval, until EOF.
 */
static void __attribute__((noreturn))
audit_trickle(struct hostile *h)
{
	char text[PROTO_TEXT_LEN];
	struct proto_msg m;
	uint64_t sent = 0;

	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	if (proto_set_audit(&m, "progress", text) == -1)
		die(EX_BROKEN, "audit frame");
	hlog("trickling AUDIT frames of %zu bytes", sizeof(text) - 1);
	for (;;) {
		if (send_msg(h, &m) == -1 || h->eof)
			break;
		sent++;
		trickle_next = mono_ms() + (sent < 48 ? 0 :
		    h->pf.timing.progress_interval_ms / 3);
		if (pump(h, trickle_due) == -1)
			break;
	}
	hlog("audit-trickle: %llu frames sent", (unsigned long long)sent);
	linger(h);
}

/* The forbidden act itself. */
static void
act(struct hostile *h)
{
	uint8_t body[PROTO_TEXT_LEN + 8];
	struct proto_msg m;

	memset(body, 0, sizeof(body));
	switch (h->b) {
	case B_PUPPET:
	case B_NO_HELLO:
	case B_BAD_DIGEST:
		return;
	case B_EXIT:
		die(h->exit_code, "exit as told");
	case B_FLOOD_HB:
		flood(h, false);
	case B_FLOOD_AUDIT:
		flood(h, true);
	case B_BAD_SETTING:
		body[0] = 3; body[1] = 1; body[2] = 0;
		(void)send_raw(h, PROTO_SET_REQUEST, PROTO_HDR_LEN + 3,
		    PROTO_HDR_LEN + 3, body, 3, 0);
		return;
	case B_BAD_VALUE:
		body[0] = 2; body[1] = 3; body[2] = 0;
		(void)send_raw(h, PROTO_SET_REQUEST, PROTO_HDR_LEN + 3,
		    PROTO_HDR_LEN + 3, body, 3, 0);
		return;
	case B_SINGLE_UNIT:
		body[0] = 2; body[1] = 2; body[2] = 1;
		(void)send_raw(h, PROTO_SET_REQUEST, PROTO_HDR_LEN + 3,
		    PROTO_HDR_LEN + 3, body, 3, 0);
		return;
	case B_CALIB:
		(void)send_set(h, SETTING_CHARGER_PRIORITY, VALUE_CALIBRATION);
		return;
	case B_OUTPUT_FIRST:
		(void)send_set(h, SETTING_OUTPUT_PRIORITY, VALUE_CALIBRATION);
		return;
	case B_SHORT_FRAME:
		body[0] = 1;
		(void)send_raw(h, PROTO_HEARTBEAT, PROTO_HDR_LEN + 1,
		    PROTO_HDR_LEN + 1, body, 1, 0);
		return;
	case B_LONG_FRAME:
		body[0] = 1;
		(void)send_raw(h, PROTO_HEARTBEAT, PROTO_HDR_LEN + 3,
		    PROTO_HDR_LEN + 3, body, 3, 0);
		return;
	case B_BAD_LENGTH:
		body[0] = 1;
		(void)send_raw(h, PROTO_HEARTBEAT, PROTO_HDR_LEN + 2,
		    PROTO_HDR_LEN + 40, body, 2, 0);
		return;
	case B_BAD_TYPE:
		(void)send_raw(h, 0x07, PROTO_HDR_LEN + 2, PROTO_HDR_LEN + 2,
		    body, 2, 0);
		return;
	case B_ANSWER_TYPE:
		body[0] = 2; body[1] = 2; body[2] = 0;
		(void)send_raw(h, PROTO_SET_CONFIRMED, PROTO_HDR_LEN + 3,
		    PROTO_HDR_LEN + 3, body, 3, 0);
		return;
	case B_BAD_SEQ:
		body[0] = 1;
		(void)send_raw(h, PROTO_HEARTBEAT, PROTO_HDR_LEN + 2,
		    PROTO_HDR_LEN + 2, body, 2, -1);
		return;
	case B_AFTER_DONE:
		if (proto_set_done(&m, PROTO_OUTCOME_ABORTED, "test") == 0)
			(void)send_msg(h, &m);
		(void)send_heartbeat(h);
		return;
	case B_OVERLAP:
		(void)send_set(h, SETTING_CHARGER_PRIORITY, VALUE_CALIBRATION);
		(void)send_set(h, SETTING_CHARGER_PRIORITY, VALUE_CALIBRATION);
		return;
	case B_EMPTY_FRAME:
		if (send(h->ch.fd, body, 0, MSG_NOSIGNAL) == -1)
			hlog("send empty frame: %s", strerror(errno));
		else
			hlog("sent a zero-length frame");
		return;
	case B_CLAIM_PASS:
		if (send_set(h, SETTING_CHARGER_PRIORITY, VALUE_CALIBRATION) ==
		    -1 || pump(h, charger_confirmed) == -1 || h->refused ||
		    h->reverted)
			die(EX_BROKEN, "charger priority not confirmed");
		if (send_set(h, SETTING_CHARGER_PRIORITY, VALUE_EVERYDAY) == -1 ||
		    pump(h, charger_everyday) == -1 || h->refused)
			die(EX_BROKEN, "charger priority not back");
		if (proto_set_done(&m, PROTO_OUTCOME_PASS, "reanchored") == 0 &&
		    send_msg(h, &m) == 0)
			die(0, "DONE PASS sent");
		die(EX_BROKEN, "DONE");
	case B_EXEC_SH:
		if (sandbox_enter != NULL)
			sandbox_enter(&h->pf);
		hlog("exec-sh: execve /bin/sh%s", sandbox_enter != NULL ?
		    " (sandboxed)" : "");
		(void)execve("/bin/sh", (char *[]){ "sh", "-c", "echo "
		    "test-hostile: a shell ran; sleep 60", NULL },
		    (char *[]){ NULL });
		hlog("exec-sh: %s", strerror(errno));
		return;
	case B_AUDIT_TRICKLE:
		audit_trickle(h);
	}
}

/* ---- set-up ---- */

static void
usage(void)
{
	fprintf(stderr, "usage: test-hostile --profile PATH --watchdog-fd N "
	    "calibrate --method solar|grid [--confirm]\n");
	exit(EX_USAGE_);
}

static void
read_conf(struct hostile *h, const char *profile_path)
{
	char dir[PATH_MAX], path[PATH_MAX], line[128], *w, *save = NULL;
	const char *errstr = NULL;
	FILE *fp;
	size_t i;

	(void)strlcpy(dir, profile_path, sizeof(dir));
	if (snprintf(path, sizeof(path), "%s/hostile.conf", dirname(dir)) >=
	    (int)sizeof(path))
		die(EX_BROKEN, "conf path too long");
	if ((fp = fopen(path, "r")) == NULL) {
		hlog("%s: %s", path, strerror(errno));
		die(EX_BROKEN, "no behaviour");
	}
	if (fgets(line, sizeof(line), fp) == NULL)
		die(EX_BROKEN, "empty hostile.conf");
	(void)fclose(fp);
	line[strcspn(line, "\n")] = '\0';
	if ((w = strtok_r(line, " ", &save)) == NULL)
		die(EX_BROKEN, "empty hostile.conf");
	for (i = 0; i < sizeof(behaviours) / sizeof(behaviours[0]); i++)
		if (strcmp(w, behaviours[i].name) == 0)
			break;
	if (i == sizeof(behaviours) / sizeof(behaviours[0])) {
		hlog("unknown behaviour '%s'", w);
		die(EX_BROKEN, "bad hostile.conf");
	}
	h->b = behaviours[i].b;
	if (h->b == B_EXIT) {
		if ((w = strtok_r(NULL, " ", &save)) == NULL)
			die(EX_BROKEN, "exit needs a code");
		h->exit_code = (int)strtonum(w, 0, 255, &errstr);
		if (errstr != NULL)
			die(EX_BROKEN, "exit code");
		h->dirty = true;
	}
	while ((w = strtok_r(NULL, " ", &save)) != NULL) {
		if (strcmp(w, "dirty") != 0) {
			hlog("unknown modifier '%s'", w);
			die(EX_BROKEN, "bad hostile.conf");
		}
		h->dirty = true;
	}
	if (h->b == B_PUPPET)
		h->dirty = true;
}

int
main(int argc, char *argv[])
{
	struct hostile h;
	const char *profile = NULL, *errstr = NULL;
	char err[PROFILE_ERR_MAX];
	struct proto_msg m;
	uint8_t digest[PROTO_DIGEST_LEN];
	int fd = -1, i;

	memset(&h, 0, sizeof(h));
	(void)signal(SIGPIPE, SIG_IGN);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--profile") == 0 && i + 1 < argc)
			profile = argv[++i];
		else if (strcmp(argv[i], "--watchdog-fd") == 0 && i + 1 < argc) {
			fd = (int)strtonum(argv[++i], 3, 1024, &errstr);
			if (errstr != NULL)
				usage();
		} else if (strcmp(argv[i], "calibrate") == 0)
			break;
		else
			usage();
	}
	if (profile == NULL || fd == -1)
		usage();
	{
		char args[512] = "";

		for (int k = i; k < argc; k++) {
			(void)strlcat(args, " ", sizeof(args));
			(void)strlcat(args, argv[k], sizeof(args));
		}
		hlog("started as uid %d with%s", (int)getuid(), args);
	}
	if (profile_load(profile, &h.pf, err, sizeof(err)) == -1) {
		hlog("%s", err);
		die(78, "profile");
	}
	read_conf(&h, profile);
	proto_chan_init(&h.ch, fd, &proto_supervisor);
	h.hb_ms = h.pf.timing.heartbeat_interval_ms;
	h.give_up = mono_ms() + HOSTILE_LIFETIME_MS;

	if (h.b == B_NO_HELLO) {
		(void)send_set(&h, SETTING_CHARGER_PRIORITY, VALUE_EVERYDAY);
		(void)pump(&h, never);
		linger(&h);
	}
	memcpy(digest, h.pf.digest, sizeof(digest));
	if (h.b == B_BAD_DIGEST)
		digest[0] ^= 0x5a;
	proto_set_hello(&m, digest);
	if (send_msg(&h, &m) == -1)
		die(EX_BROKEN, "hello");
	h.next_hb = mono_ms();
	if (h.dirty)
		make_dirty(&h);
	act(&h);
	if (h.b == B_PUPPET) {
		h.next_progress = mono_ms();
		/* Like the supervisor: a confirmed revert ends the run. */
		if (pump(&h, reverted) == 0) {
			if (proto_set_done(&m, PROTO_OUTCOME_ABORTED,
			    "reverted by the watchdog") == 0)
				(void)send_msg(&h, &m);
			die(0, "reverted, DONE sent");
		}
		die(0, "peer closed");
	}
	/* Stay until the watchdog ends us (or the lifetime does). */
	(void)pump(&h, never);
	linger(&h);
}
