/*
 * (a) The watchdog's request handling: the real gridcal-watchdog main()
 * and its poll() loop (watchdog/watchdog.c, monitor.c, revert.c,
 * envelope.c, conf.c, intake.c, shared/proto.c) with session, clock,
 * signals, log, audit writer, child and mark replaced at link time by the
 * stubs in tests/fuzz/stub_*.c. The supervisor is this harness, on the
 * other end of a real SOCK_SEQPACKET socketpair; so are the broker, the
 * plant (two units, six packs) and time. One loop iteration consumes one
 * operation from the input; when the input ends, or has played
 * INPUT_CAP_MS of virtual time, the world turns healthy (broker up, plant
 * answering, the supervisor exits) and the run must end on its own with
 * the plant back at its everyday settings.
 *
 * Input: a configuration byte, then operations (see step()).
 *   config bits 0-1  0 grid --confirm, 1 grid, 2 solar, 3 solar --confirm
 *               2    an intent mark is present at start (plant left in
 *                    calibration settings)
 *               3    broker down at start        4  no automatic heartbeats
 *               5    plant silent (no readback)  6  no automatic PUBACKs
 *               7    the supervisor ignores SIGTERM
 *
 * ORACLES, on every publish (wdf_publish):
 *   - only the profile's control topics and values, QoS 1, not retained;
 *     the alarm topic retained;
 *   - a calibration value only in an authorised run (grid --confirm),
 *     after a HELLO with the right digest and before DONE, with the mark
 *     durable, once per setting per run, charger priority first and output
 *     priority only after the charger's value was confirmed by the readback
 *     of every unit, never once a revert has started, never while the
 *     plant shows a pack over the envelope or silent past its stale limit;
 *   - a revert publishes output priority first, charger priority only
 *     after output priority was confirmed.
 * On every step and record:
 *   - after heartbeat loss, child death, EOF, a violation, a signal,
 *     run_max, DONE or a failed audit write, with calibration possibly
 *     applied, the revert's first publish comes within REVERT_BOUND_MS;
 *   - heartbeat_lost.age_ms is above the timeout and at most twice it;
 *   - "confirmed" is recorded only when every unit's readback, newer than
 *     the publish, shows the value; SET_CONFIRMED and REVERTED confirmed=1
 *     only after that; the mark is cleared only once the revert is
 *     confirmed; the watchdog's answers decode.
 * At the end: the loop ended, the mark is gone, the plant runs everyday.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "proto_supervisor.h"
#include "sigfd.h"
#include "watchdog.h"
#include "wdfuzz.h"

int	gridcal_watchdog_main(int, char **);
static void selftest(void);
static void cleanup(void);
static void write_profile(void);
int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define TICK_MS		50	/* the watchdog's own tick (WD_TICK_MS) */
#define PLANT_EVERY_MS	250	/* the plant reports this often */
/*
 * what did not change it reports again this much later: fresh enough for
 * the staleness rule (telemetry_max_age) with a report slot of slack
 * (slots come 250 to 299 ms apart), so no value goes stale while the
 * plant answers, as at every slot; half the reports, and the watchdog's
 * look-up of each was half of an execution
 */
#define PLANT_REFRESH_MS (W.t->telemetry_max_age_ms - 2 * PLANT_EVERY_MS)
#define DRAIN_CAP_MS	(300 * 1000)
/*
 * The input plays at most this much virtual time, then the world turns
 * healthy as when it ends: four times run_max, the profile's longest
 * timer (30 s; backoff 4 s, heartbeat 2 s). Past it a hostile world only
 * repeats itself (the watchdog retrying a revert every revert_retry_max)
 * while the cost of an execution grows with its virtual time: before the
 * cap the longest tenth of the corpus's runs (up to 92 virtual minutes)
 * took 77 % of the time of a replay.
 */
#define INPUT_CAP_MS	(4 * W.t->run_max_ms)
#define T0		1000000	/* virtual monotonic time at start */
#define NQ		256
#define NSIG_Q		16

enum mph { M_HELLO, M_RUN, M_DONE };

static struct wd wd0;		/* the watchdog's state before main() */
static struct profile mpf;	/* the model's own copy of the profile */
static char profile_path[4096];
/* the state directory (the real mark.c takes its lock there) */
static char state_dir[256];	/* on tmpfs if there is one (fuzz_mkdtemp) */
static char lock_path[sizeof(state_dir) + 32];
static char note_path[sizeof(state_dir) + 32];
/* the plant's topics, expanded once ("" if the template does not expand):
 * each unit's readback of each setting, each pack's cell maximum and two
 * temperatures */
#define NPK_TOPIC	3
static char rb_topic[SETTING_COUNT][PROFILE_MAX_UNITS][PROFILE_TOPIC_MAX];
static char pk_topic[NPK_TOPIC][PROFILE_MAX_PACKS][PROFILE_TOPIC_MAX];

static struct world {
	struct fuzz_in	 in;
	int64_t		 now;
	const struct profile_timing *t;
	/* configuration */
	const char	*method;
	int		 confirm, authorised;
	/* broker */
	int		 connected;
	unsigned	 connects;
	int		 auto_ack, publish_fail;
	int		 drop;		/* lvx-control misses what is acked */
	void		(*on_publish)(void *, int);
	void		(*on_state)(void *, int);
	void		*arg;
	int		 will_applied;	/* the last will says "may be applied" */
	struct { int mid, s, v; } q[NQ];
	int		 nq, next_mid;
	/* plant */
	struct tm_store	*tm;
	int		 applied[SETTING_COUNT];	/* VALUE_* it runs */
	int		 auto_plant;
	int64_t		 last_plant;
	int		 hot[PROFILE_MAX_PACKS];	/* 1 cell, 2 temp, 3 silent */
	int		 was_hot[PROFILE_MAX_PACKS];	/* the latest values were */
	int		 sent_hot[PROFILE_MAX_PACKS];	/* hot[] they showed */
	int64_t		 ctl_at;	/* latest control publish or PUBACK */
	int64_t		 cell_at[PROFILE_MAX_PACKS];	/* latest values */
	int		 lied;		/* a readback the plant does not run */
	int		 rb_val[SETTING_COUNT][PROFILE_MAX_UNITS]; /* -1 other */
	int64_t		 rb_at[SETTING_COUNT][PROFILE_MAX_UNITS];
	/* supervisor */
	int		 sup_fd;
	struct proto_chan sup;
	int		 started, alive, exited, stubborn, auto_hb;
	int64_t		 term_at;	/* SIGTERM to a child that ignores it */
	int64_t		 viol_at;	/* the watchdog called a violation */
	const char	*want_trigger;	/* the reason the next revert gives */
	int64_t		 run_start, last_hb_sent;
	enum mph	 ph;
	int		 saw_confirmed[SETTING_COUNT];
	int		 outstanding[SETTING_COUNT];	/* requests in flight */
	/* the watchdog's side */
	int		 sigq[NSIG_Q], nsig;
	int		 mark_present, mark_fail, mark_durable;
	int		 audit_fail_in;	/* the Nth record from now fails */
	int		 audit_broken;
	/* the model */
	int		 latched;	/* a trigger the model is sure of */
	int		 latched_wd;	/* the watchdog said it reverts */
	int		 req_latched[SETTING_COUNT];	/* when it was sent */
	const char	*latch_why;
	int		 dirty, reverting;
	int64_t		 revert_due;
	const char	*due_why;
	int		 calib_pubs[SETTING_COUNT];	/* attempts */
	int		 calib_sent[SETTING_COUNT];	/* sent or queued */
	int64_t		 calib_pub_at[SETTING_COUNT];
	int		 calib_confirmed[SETTING_COUNT];
	int		 accept_written[SETTING_COUNT];	/* "accept" appended */
	int		 accept_durable[SETTING_COUNT];	/* and committed */
	int		 everyday_confirmed[SETTING_COUNT];
	int64_t		 advance;
	int		 draining;
	int64_t		 drain_start;
} W;

/* A revert's first publish comes in the tick that sees the trigger; this
 * is generous (two heartbeat timeouts), never a timing figure. */
#define REVERT_BOUND_MS	(2 * W.t->heartbeat_timeout_ms)

/* ---- setup ---- */

static void
cleanup(void)
{
	(void)unlink(lock_path);
	(void)unlink(note_path);
	(void)unlink(profile_path);
	(void)rmdir(state_dir);
}

/* tests/fuzz/watchdog-profile.yaml with the state directory ours */
static void
write_profile(void)
{
	static const char placeholder[] = "/nonexistent/gridcal-fuzz";
	char src[4096], buf[16384], *at;
	size_t n;
	FILE *in, *out;

	(void)snprintf(src, sizeof(src), "%s/tests/fuzz/watchdog-profile.yaml",
	    fuzz_root());
	if ((in = fopen(src, "r")) == NULL || (n = fread(buf, 1,
	    sizeof(buf) - 1, in)) == 0 || fclose(in) != 0) {
		perror(src);
		exit(1);
	}
	buf[n] = '\0';
	if ((out = fopen(profile_path, "w")) == NULL) {
		perror(profile_path);
		exit(1);
	}
	for (char *p = buf; *p != '\0'; p = at + strlen(placeholder)) {
		if ((at = strstr(p, placeholder)) == NULL) {
			(void)fputs(p, out);
			break;
		}
		(void)fwrite(p, 1, (size_t)(at - p), out);
		(void)fputs(state_dir, out);
	}
	if (fclose(out) != 0) {
		perror(profile_path);
		exit(1);
	}
}

/* (not tests/fuzz/common.c: it links the full loader, which defines the
 * names conf.c defines) */
const char *
fuzz_root(void)
{
	const char *r = getenv("GRIDCAL_ROOT");

	return r != NULL && *r != '\0' ? r : ".";
}

static void
expand_topic(char *out, const char *tmpl, int n)
{
	if (topic_expand(tmpl, n, out, PROFILE_TOPIC_MAX) == -1)
		out[0] = '\0';
}

/* once, not for each of the plant's reports (snprintf under ASan) */
static void
expand_topics(void)
{
	static const int pk_field[NPK_TOPIC] = { PF_CELL_VOLTAGE_MAX, PF_TEMP,
	    PF_TEMP + 1 };

	for (int s = 0; s < SETTING_COUNT; s++)
		for (int u = 0; u < PROFILE_MAX_UNITS; u++)
			expand_topic(rb_topic[s][u], mpf.unit_field[
			    s == SETTING_OUTPUT_PRIORITY ? UF_OUTPUT_PRIORITY :
			    UF_CHARGER_PRIORITY].topic, u + 1);
	for (int k = 0; k < NPK_TOPIC; k++)
		for (int p = 0; p < PROFILE_MAX_PACKS; p++)
			expand_topic(pk_topic[k][p],
			    mpf.pack_field[pk_field[k]].topic, p + 1);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[PROFILE_ERR_MAX];

	(void)argc;
	(void)argv;
	memcpy(&wd0, &wd, sizeof(wd));
	fuzz_mkdtemp(state_dir, sizeof(state_dir), "wd");
	(void)atexit(cleanup);
	(void)snprintf(lock_path, sizeof(lock_path), "%s/watchdog.lock",
	    state_dir);
	(void)snprintf(note_path, sizeof(note_path), "%s/watchdog.revert",
	    state_dir);
	(void)snprintf(profile_path, sizeof(profile_path), "%s/profile.yaml",
	    state_dir);
	write_profile();
	(void)setenv("FUZZ_PROFILE", profile_path, 0);
	if (conf_load(profile_path, &mpf, err, sizeof(err)) == -1) {
		fprintf(stderr, "fuzz: %s\n", err);
		exit(1);
	}
	expand_topics();
	(void)sigfd_open(NULL);	/* its descriptor lives as long as we do */
	selftest();
	return 0;
}

/* ---- the model ---- */

static void
latch(const char *why)
{
	if (!W.latched) {
		W.latched = 1;
		W.latch_why = why;
	}
	if (W.dirty && !W.reverting && W.revert_due == 0) {
		W.revert_due = W.now + REVERT_BOUND_MS;
		W.due_why = why;
	}
}

static int
setting_of(const char *name)
{
	for (int s = 0; s < SETTING_COUNT; s++)
		if (strcmp(name, setting_name(s)) == 0)
			return s;
	return -1;
}

/* Every unit's latest readback shows v, newer than the last calibration
 * publish of s (the plant truth the watchdog may believe). */
static int
truth(int s, int v)
{
	for (int u = 0; u < mpf.units; u++)
		if (W.rb_val[s][u] != v || W.rb_at[s][u] <= W.calib_pub_at[s])
			return 0;
	return 1;
}

static int
pack_hot(int p)
{
	return W.was_hot[p] && W.now - W.cell_at[p] <= W.t->telemetry_max_age_ms;
}

static int
pack_silent(int p)
{
	/* the envelope counts from its own start, never from the epoch */
	int64_t since = W.cell_at[p] != 0 ? W.cell_at[p] : T0;

	return W.now - since > mpf.limits.env_stale_ms +
	    W.t->telemetry_max_age_ms + 2 * TICK_MS;
}

static void
child_die(void)
{
	if (!W.alive)
		return;
	W.alive = 0;
	if (W.sup_fd != -1)
		(void)close(W.sup_fd);
	W.sup_fd = -1;
	W.exited = 1;
	if (W.nsig < NSIG_Q)
		W.sigq[W.nsig++] = SIGCHLD;
	latch("child death");
}

/* The watchdog's own word that a revert started: from then on nothing. */
static void
latch_wd(const char *why)
{
	W.latched_wd = 1;
	latch(why);
}

static void
violation(const char *why)
{
	W.ph = M_DONE;
	latch(why);
}

/* What the watchdog must make of a frame it receives. Only sure
 * consequences latch the model; an unsure one leaves it be. */
static void
model_request(const struct proto_msg *m, int seq_ok)
{
	int s, v;

	if (!seq_ok) {
		violation("bad sequence number");
		return;
	}
	switch (W.ph) {
	case M_HELLO:
		if (m->type == PROTO_HELLO && memcmp(m->u.hello.digest,
		    mpf.digest, PROTO_DIGEST_LEN) == 0) {
			W.ph = M_RUN;
			W.last_hb_sent = W.now;
		} else
			violation("frame before HELLO, or a wrong digest");
		return;
	case M_DONE:
		violation("frame after DONE");
		return;
	case M_RUN:
		break;
	}
	switch (m->type) {
	case PROTO_HEARTBEAT:
		W.last_hb_sent = W.now;
		return;
	case PROTO_AUDIT:
		return;
	case PROTO_DONE:
		W.ph = M_DONE;
		latch("DONE");
		return;
	case PROTO_SET_REQUEST:
		break;
	default:
		violation("HELLO twice");
		return;
	}
	s = m->u.set.setting;
	v = m->u.set.value;
	if (m->u.set.scope != PROTO_SCOPE_ALL)
		violation("single-unit write");
	else if (v == VALUE_EVERYDAY)
		latch("everyday requested");
	else if (!W.authorised)
		violation("calibration in an unauthorised run");
	else if (W.saw_confirmed[s])
		violation("calibration value twice");
	else if (s == SETTING_OUTPUT_PRIORITY &&
	    !W.saw_confirmed[SETTING_CHARGER_PRIORITY] &&
	    !W.outstanding[SETTING_CHARGER_PRIORITY])
		violation("output priority first");
	else if (W.outstanding[s] || (s == SETTING_CHARGER_PRIORITY &&
	    W.outstanding[SETTING_OUTPUT_PRIORITY]))
		latch("overlapping requests");	/* a violation, or reverting */
	else {
		/* output priority while the charger's confirmation may be on
		 * its way: the watchdog decides by the readback it has when
		 * it reads the request (checked at the publish) */
		W.outstanding[s] = 1;
		/* the watchdog reads frames in order: what came before
		 * the request decides, not what comes after it */
		W.req_latched[s] = W.latched;
	}
}

/* ---- the supervisor's end ---- */

static void
send_msg(struct proto_msg *m, int seq_ok)
{
	uint8_t buf[PROTO_FRAME_MAX];
	uint32_t seq = W.sup.tx_seq + (seq_ok ? 1 : 2);
	size_t len;

	if (W.sup_fd == -1 || (len = proto_encode(&proto_supervisor, m, seq, buf,
	    sizeof(buf))) ==
	    0)
		return;
	if (send(W.sup_fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) !=
	    (ssize_t)len)
		return;
	if (seq_ok)
		W.sup.tx_seq++;
	model_request(m, seq_ok);
}

static void
answers(void)
{
	struct proto_msg m;
	char why[128];
	enum proto_err e;
	int s, v;

	while (W.sup_fd != -1 &&
	    (e = proto_recv(&W.sup, &m, why, sizeof(why))) != PROTO_E_AGAIN) {
		if (e == PROTO_E_EOF)
			return;
		FUZZ_ASSERT(e == PROTO_OK, "the watchdog sent a bad frame: %s: %s",
		    proto_err_name(e), why);
		s = m.u.set.setting;
		v = m.u.set.value;
		switch (m.type) {
		case PROTO_SET_ACCEPTED:
			FUZZ_ASSERT(v == VALUE_EVERYDAY || W.calib_sent[s] == 1,
			    "SET_ACCEPTED %s calibration, not published",
			    setting_name(s));
			break;
		case PROTO_SET_CONFIRMED:
			if (v == VALUE_CALIBRATION) {
				FUZZ_ASSERT(W.calib_confirmed[s] || W.audit_broken,
				    "SET_CONFIRMED %s calibration, readback "
				    "never showed it", setting_name(s));
				W.saw_confirmed[s] = 1;
				W.outstanding[s] = 0;
			}
			break;
		case PROTO_SET_REFUSED:
			if (v == VALUE_CALIBRATION)
				W.outstanding[s] = 0;
			if (PROTO_REFUSE_IS_VIOLATION(m.u.set.reason)) {
				W.ph = M_DONE;
				latch_wd("refused as a violation");
			}
			break;
		case PROTO_REVERTED:
			latch_wd("REVERTED");
			if (m.u.reverted.confirmed)
				FUZZ_ASSERT(W.audit_broken ||
				    (W.everyday_confirmed[0] &&
				    W.everyday_confirmed[1]),
				    "REVERTED confirmed before the readback");
			break;
		default:
			FUZZ_ASSERT(0, "answer type %d", m.type);
		}
	}
}

static void
frame(void)
{
	static const char *const events[] = { "state", "preflight", "report",
	    "abort", "x", "Bad-Name", "" };
	uint8_t t = fuzz_u8(&W.in), b;
	int seq_ok = (t & 0xc0) != 0xc0;
	struct proto_msg m;
	char text[48];
	const uint8_t *p;
	size_t len;

	memset(&m, 0, sizeof(m));
	switch (t & 7) {
	case 0:
		proto_set_hello(&m, mpf.digest);
		if (fuzz_u8(&W.in) == 0xff)
			m.u.hello.digest[0] ^= 1;
		break;
	case 1:
	case 2:
	case 7:
		proto_set_heartbeat(&m, fuzz_u16(&W.in) % (PROTO_STATE_MAX + 1));
		break;
	case 3:
	case 4:
		b = fuzz_u8(&W.in);
		proto_set_request(&m, (enum setting)(b & 1),
		    (enum setting_value)((b >> 1) & 1));
		if ((b & 0x0c) == 0x0c)
			m.u.set.scope = 1 + (b >> 4) % PROFILE_MAX_UNITS;
		break;
	case 5:
		p = fuzz_bytes(&W.in, fuzz_u8(&W.in) % sizeof(text), &len);
		memcpy(text, p, len);
		text[len] = '\0';
		if (proto_set_audit(&m, events[fuzz_u8(&W.in) % 7], text) == -1)
			return;
		break;
	default:
		if (proto_set_done(&m, 1 + fuzz_u8(&W.in) % 5, "fuzz") == -1)
			return;
	}
	send_msg(&m, seq_ok);
}

static void
raw_frame(void)
{
	uint8_t buf[PROTO_FRAME_MAX + 8];
	struct proto_msg m;
	const uint8_t *p;
	size_t len;
	int seq_ok;

	p = fuzz_bytes(&W.in, fuzz_u16(&W.in) % sizeof(buf), &len);
	if (len == 0 || W.sup_fd == -1)
		return;
	memcpy(buf, p, len);
	if (send(W.sup_fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) !=
	    (ssize_t)len)
		return;
	if (proto_decode(&proto_watchdog, buf, len, &m, NULL, 0) !=
	    PROTO_OK) {
		violation("a frame that does not parse");
		return;
	}
	if ((seq_ok = m.seq == W.sup.tx_seq + 1))
		W.sup.tx_seq++;
	model_request(&m, seq_ok);
}

/* ---- broker and plant ---- */

static void
ack_one(void)
{
	if (!W.connected || W.nq == 0)
		return;
	int mid = W.q[0].mid, s = W.q[0].s, v = W.q[0].v;

	memmove(W.q, W.q + 1, (size_t)(--W.nq) * sizeof(W.q[0]));
	if (s >= 0 && !W.drop)
		W.applied[s] = v;	/* lvx-control applies it to both units */
	if (s >= 0)
		W.ctl_at = W.now;
	if (W.on_publish != NULL)
		W.on_publish(W.arg, mid);
}

static void
deliver(const char *topic, const char *text)
{
	const char *why;

	if (W.tm == NULL || topic[0] == '\0')
		return;
	(void)tm_ingest(W.tm, topic, text, strlen(text), 0, W.now, &why);
}

static void
readback(int s, int u, int v)
{
	deliver(rb_topic[s][u], v >= 0 ?
	    mpf.control[s].readback[v] : "Utility first");
	W.rb_val[s][u] = v;
	W.rb_at[s][u] = W.now;
}

static void
retained(int s, int u)
{
	const char *why;

	if (W.tm != NULL && rb_topic[s][u][0] != '\0')
		(void)tm_ingest(W.tm, rb_topic[s][u], NULL, 0, 1, W.now, &why);
}

static void
plant(void)
{
	if (!W.auto_plant || W.now - W.last_plant < PLANT_EVERY_MS)
		return;
	W.last_plant = W.now;
	/* at this slot: what changed, every readback after a control publish,
	 * PUBACK or broker state change, and what is due again */
	for (int u = 0; u < mpf.units; u++)
		for (int s = 0; s < SETTING_COUNT; s++)
			if (W.rb_val[s][u] != W.applied[s] ||
			    W.rb_at[s][u] <= W.ctl_at ||
			    W.now - W.rb_at[s][u] >= PLANT_REFRESH_MS)
				readback(s, u, W.applied[s]);
	for (int p = 0; p < mpf.packs; p++) {
		if (W.hot[p] == 3 || (W.hot[p] == W.sent_hot[p] &&
		    W.now - W.cell_at[p] < PLANT_REFRESH_MS))
			continue;
		W.sent_hot[p] = W.hot[p];
		deliver(pk_topic[0][p], W.hot[p] == 1 ? "3.70" : "3.40");
		deliver(pk_topic[1][p], W.hot[p] == 2 ? "55" : "25");
		deliver(pk_topic[2][p], "24");
		W.cell_at[p] = W.now;
		W.was_hot[p] = W.hot[p] != 0;
	}
}

/* ---- checks every iteration ---- */

static void
checks(void)
{
	/* a frame sent just after a deadline is still read before the tick
	 * that notices it: one tick of slack */
	if (!W.latched && W.started && W.ph != M_DONE &&
	    W.now - W.last_hb_sent > W.t->heartbeat_timeout_ms + TICK_MS)
		latch(W.ph == M_HELLO ? "no HELLO in time" : "heartbeat loss");
	if (W.alive && W.now - W.run_start > W.t->run_max_ms + TICK_MS)
		latch("run_max");
	for (int p = 0; p < mpf.packs && W.dirty; p++)
		if (pack_hot(p))
			latch("envelope");
	for (int s = 0; s < SETTING_COUNT; s++)
		if (W.calib_sent[s] && !W.calib_confirmed[s] && !W.reverting &&
		    W.now - W.calib_pub_at[s] > W.t->set_confirm_ms + 2 * TICK_MS)
			latch("calibration value not confirmed in time");
	/* a violating supervisor is killed at once; one that ignores SIGTERM
	 * gets SIGKILL a heartbeat timeout later */
	FUZZ_ASSERT(!W.alive || W.viol_at == 0 || W.now - W.viol_at <=
	    2 * TICK_MS, "a violating supervisor still runs %lld ms later",
	    (long long)(W.now - W.viol_at));
	FUZZ_ASSERT(!W.alive || W.term_at == 0 || W.now - W.term_at <=
	    2 * W.t->heartbeat_timeout_ms, "SIGTERM ignored for %lld ms and "
	    "no SIGKILL", (long long)(W.now - W.term_at));
	if (W.revert_due != 0)
		FUZZ_ASSERT(W.now <= W.revert_due, "%s at %lld ms, calibration "
		    "possibly applied, and no revert publish %lld ms later",
		    W.due_why, (long long)(W.revert_due - REVERT_BOUND_MS - T0),
		    (long long)REVERT_BOUND_MS);
}

/* ---- one loop iteration of the watchdog: the world moves ---- */

static void
healthy(void)
{
	W.draining = 1;
	W.drain_start = W.now;
	if (!W.connected) {
		W.ctl_at = W.now;
		W.connects++;
		W.connected = 1;
		if (W.on_state != NULL)
			W.on_state(W.arg, 1);
	}
	W.connected = W.auto_ack = W.auto_plant = 1;
	W.publish_fail = W.mark_fail = W.drop = 0;
	memset(W.hot, 0, sizeof(W.hot));
	if (!W.stubborn)
		child_die();	/* the supervisor exits */
	else if (W.sup_fd != -1) {	/* or hangs up and ignores SIGTERM */
		(void)close(W.sup_fd);
		W.sup_fd = -1;
		latch("EOF");
	}
}

void
wdf_step(void)
{
	uint8_t op, b;

	answers();
	while (W.auto_ack && W.connected && W.nq > 0)
		ack_one();
	plant();
	if (W.auto_hb && W.alive && W.ph == M_RUN &&
	    W.now - W.last_hb_sent >= W.t->heartbeat_interval_ms) {
		struct proto_msg m;

		proto_set_heartbeat(&m, 7);
		send_msg(&m, 1);
	}
	checks();
	if (!W.draining && W.now - T0 >= INPUT_CAP_MS) {
		W.advance = 0;		/* the rest of the input is not played */
		healthy();
		return;
	}
	if (W.advance > 0 || W.draining) {
		int64_t d = W.advance < TICK_MS && !W.draining ? W.advance :
		    TICK_MS;

		W.now += d;
		W.advance -= W.advance > d ? d : W.advance;
		FUZZ_ASSERT(!W.draining || W.now - W.drain_start < DRAIN_CAP_MS,
		    "healthy broker and plant for %d s, and the run goes on "
		    "(dirty %d, mark %d)", DRAIN_CAP_MS / 1000, ctl_dirty(),
		    W.mark_durable);
		return;
	}
	if (!fuzz_more(&W.in)) {
		healthy();
		return;
	}
	op = fuzz_u8(&W.in);
	switch (op % 16) {
	case 0: case 1: case 2:
		frame();
		break;
	case 3:
		raw_frame();
		break;
	case 4: case 5:
		W.advance = fuzz_u8(&W.in) * 20;
		break;
	case 6:
		W.advance = fuzz_u8(&W.in) * 500;
		break;
	case 7:
		ack_one();
		break;
	case 8:
		W.ctl_at = W.now;
		if ((W.connected = !W.connected))
			W.connects++;
		if (W.on_state != NULL)
			W.on_state(W.arg, W.connected);
		break;
	case 9:
		b = fuzz_u8(&W.in);
		if (b & 0x80) {		/* a retained copy: never fresh */
			retained(b & 1, (b >> 1) % mpf.units);
			break;
		}
		readback(b & 1, (b >> 1) % mpf.units, (int)((b >> 4) % 3) - 1);
		W.lied |= W.rb_val[b & 1][(b >> 1) % mpf.units] != W.applied[b & 1];
		break;
	case 10:
		W.auto_plant = !W.auto_plant;
		break;
	case 11:
		b = fuzz_u8(&W.in);
		W.hot[b % mpf.packs] = (b >> 4) % 4;
		break;
	case 12:
		child_die();
		break;
	case 13:
		b = fuzz_u8(&W.in);
		if (W.nsig < NSIG_Q)
			W.sigq[W.nsig++] = (const int[]){ SIGTERM, SIGINT,
			    SIGHUP, SIGQUIT }[b & 3];
		latch("signal");
		break;
	case 14:
		b = fuzz_u8(&W.in);
		W.publish_fail ^= b & 1;
		W.mark_fail ^= (b >> 1) & 1;
		if ((b & 0x0c) == 0x0c && W.audit_fail_in == 0)	/* it stays */
			W.audit_fail_in = 1 + ((b >> 4) & 3);
		W.stubborn ^= (b >> 4) & 1;
		W.auto_hb ^= (b >> 5) & 1;
		W.auto_ack ^= (b >> 6) & 1;
		W.drop ^= (b >> 7) & 1;
		break;
	default:	/* the supervisor closes its end but lives on */
		if (W.sup_fd != -1) {
			(void)close(W.sup_fd);
			W.sup_fd = -1;
			latch("EOF");
		}
	}
}

/* ---- the stubs' hooks ---- */

int64_t
wdf_now(void)
{
	return W.now;
}

void
wdf_session_params(const struct session_params *p)
{
	W.on_publish = p->on_publish;
	W.on_state = p->on_state;
	W.arg = p->arg;
	W.tm = &wd.tm;	/* the intake, as on_message would feed it */
}

int
wdf_set_will(const char *topic, const char *payload)
{
	FUZZ_ASSERT(strcmp(topic, mpf.alarm_topic) == 0, "will on %s", topic);
	W.will_applied = strstr(payload, "\"settings_may_be_applied\":true") !=
	    NULL;
	return 0;
}

int
wdf_connected(void)
{
	return W.connected;
}

unsigned
wdf_connects(void)
{
	return W.connects;
}

int
wdf_next_signal(void)
{
	int sig;

	if (W.nsig == 0)
		return 0;
	sig = W.sigq[0];
	memmove(W.sigq, W.sigq + 1, (size_t)(--W.nsig) * sizeof(W.sigq[0]));
	return sig;
}

void
wdf_fatal(const char *msg)
{
	FUZZ_ASSERT(0, "the watchdog died: %s", msg);
	abort();
}

static void
publish_calibration(int s)
{
	FUZZ_ASSERT(W.authorised, "%s calibration in a run not started with "
	    "--method grid --confirm", setting_name(s));
	/* frames are read in order: the state when the request was sent */
	FUZZ_ASSERT(W.outstanding[s], "%s calibration "
	    "without a permitted request (after HELLO, before DONE, no "
	    "violation, one at a time)", setting_name(s));
	FUZZ_ASSERT(W.mark_durable, "%s calibration without a durable mark",
	    setting_name(s));
	FUZZ_ASSERT(W.accept_durable[s], "%s calibration before its accept "
	    "record is durable", setting_name(s));
	FUZZ_ASSERT(W.will_applied, "%s calibration before the last will says "
	    "settings may be applied", setting_name(s));
	FUZZ_ASSERT(W.connected, "%s calibration while the broker is down",
	    setting_name(s));
	/* once each: a publish the broker refused did not happen */
	FUZZ_ASSERT(W.calib_sent[s] == 0, "%s calibration published twice",
	    setting_name(s));
	FUZZ_ASSERT(!W.latched_wd && !W.req_latched[s], "%s calibration after a "
	    "revert started (%s)", setting_name(s), W.latch_why);
	if (s == SETTING_OUTPUT_PRIORITY) {
		FUZZ_ASSERT(W.calib_confirmed[SETTING_CHARGER_PRIORITY],
		    "output priority before charger priority was confirmed");
		/* and still shows it: a second operator may have set it back */
		for (int u = 0; u < mpf.units; u++)
			FUZZ_ASSERT(W.rb_val[SETTING_CHARGER_PRIORITY][u] ==
			    VALUE_CALIBRATION && W.now - W.rb_at[
			    SETTING_CHARGER_PRIORITY][u] <=
			    W.t->telemetry_max_age_ms, "output priority while "
			    "unit %d's charger priority readback is not the "
			    "calibration value", u + 1);
	}
	else
		FUZZ_ASSERT(W.calib_pubs[SETTING_OUTPUT_PRIORITY] == 0,
		    "charger priority after output priority");
	for (int p = 0; p < mpf.packs; p++)
		FUZZ_ASSERT(!pack_hot(p) && !pack_silent(p), "%s calibration "
		    "while pack %d is %s", setting_name(s), p + 1,
		    pack_hot(p) ? "over the envelope" : "silent");
	W.calib_pubs[s]++;
	W.calib_pub_at[s] = W.now;
	W.dirty = 1;
	W.reverting = 0;
	memset(W.everyday_confirmed, 0, sizeof(W.everyday_confirmed));
}

int
wdf_publish(const char *topic, const void *payload, size_t len, int qos,
    int retain, int *mid)
{
	int s = -1, v = -1;

	for (int i = 0; i < SETTING_COUNT; i++)
		if (strcmp(topic, mpf.control[i].topic) == 0)
			s = i;
	if (s != -1)
		W.ctl_at = W.now;	/* the plant reports the readbacks */
	if (s == -1) {
		/* the alarm, or Home Assistant's facts (verdict_publish) */
		FUZZ_ASSERT(strcmp(topic, mpf.alarm_topic) == 0 ||
		    strcmp(topic, "gridcal/watchdog/state") == 0,
		    "publish on %s", topic);
		FUZZ_ASSERT(retain == 1 && qos == 1, "%s not retained", topic);
	} else {
		for (int i = 0; i < VALUE_COUNT; i++)
			if (len == strlen(mpf.control[s].value[i]) &&
			    memcmp(payload, mpf.control[s].value[i], len) == 0)
				v = i;
		FUZZ_ASSERT(v != -1, "%s: %.*s is not one of the profile's "
		    "values", topic, (int)len, (const char *)payload);
		FUZZ_ASSERT(qos == 1 && retain == 0, "%s qos %d retain %d", topic,
		    qos, retain);
		if (v == VALUE_CALIBRATION)
			publish_calibration(s);
		else {
			/* (with the audit log broken, "confirmed" goes
			 * unrecorded: the order is not checked then) */
			FUZZ_ASSERT(s == SETTING_OUTPUT_PRIORITY ||
			    W.everyday_confirmed[SETTING_OUTPUT_PRIORITY] ||
			    W.audit_broken,
			    "charger priority reverted before output priority "
			    "was confirmed");
			if (W.started)	/* recovery latches nothing */
				latch_wd("a revert publish");
			if (s == SETTING_OUTPUT_PRIORITY) {
				W.reverting = 1;
				W.revert_due = 0;
			}
		}
	}
	if (mid != NULL)
		*mid = 0;
	if (W.publish_fail)
		return -1;
	if (s != -1 && v == VALUE_CALIBRATION)
		W.calib_sent[s]++;
	if (W.nq < NQ) {
		W.q[W.nq].mid = ++W.next_mid;
		W.q[W.nq].s = s;
		W.q[W.nq].v = v;
		W.nq++;
		if (mid != NULL)
			*mid = W.next_mid;
	}
	return 0;
}

static void
audit_confirmed(const char *setting, const char *value)
{
	int s = setting != NULL ? setting_of(setting) : -1, v = -1;

	FUZZ_ASSERT(s != -1, "confirmed: setting %s", setting);
	for (int i = 0; i < VALUE_COUNT; i++)
		if (value != NULL && strcmp(value, mpf.control[s].value[i]) == 0)
			v = i;
	FUZZ_ASSERT(v != -1, "confirmed: value %s", value);
	FUZZ_ASSERT(truth(s, v), "confirmed %s=%s but the readback of every "
	    "unit since the publish does not show it", setting, value);
	if (v == VALUE_CALIBRATION)
		W.calib_confirmed[s] = 1;
	else
		W.everyday_confirmed[s] = 1;
}

/* [a-z0-9_]{1,32} (shared/audit.h) */
static int
valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > AUDIT_NAME_MAX)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static const struct audit_field *
field(const struct audit_field *f, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i].key, key) == 0)
			return &f[i];
	return NULL;
}

int
wdf_audit(enum audit_actor actor, const char *event,
    const struct audit_field *f, size_t n)
{
	const struct audit_field *x;

	FUZZ_ASSERT(valid_name(event), "event name %s", event);
	if (actor == AUDIT_SUPERVISOR)
		FUZZ_ASSERT(W.ph != M_HELLO, "supervisor record before HELLO");
	else if (strcmp(event, AUDIT_EV_HEARTBEAT_LOST) == 0) {
		x = field(f, n, "age_ms");
		FUZZ_ASSERT(x != NULL && x->type == AF_INT, "heartbeat_lost "
		    "without age_ms");
		FUZZ_ASSERT(x->v.i > W.t->heartbeat_timeout_ms &&
		    x->v.i <= 2 * W.t->heartbeat_timeout_ms, "heartbeat_lost "
		    "age_ms %lld, timeout %lld", (long long)x->v.i,
		    (long long)W.t->heartbeat_timeout_ms);
	} else if (strcmp(event, AUDIT_EV_REVERT_TRIGGER) == 0) {
		x = field(f, n, "reason");
		FUZZ_ASSERT(x != NULL && x->type == AF_STR, "revert_trigger "
		    "without reason");
		FUZZ_ASSERT(W.want_trigger == NULL ||
		    strcmp(x->v.s, W.want_trigger) == 0, "a violation, then a "
		    "revert for %s: the violation did not revert", x->v.s);
		W.want_trigger = NULL;
		if (strcmp(x->v.s, "recovery") != 0)
			latch_wd("revert_trigger");
	} else if (strcmp(event, AUDIT_EV_ACCEPT) == 0) {
		const struct audit_field *st = field(f, n, "setting"),
		    *va = field(f, n, "value");
		int k = st != NULL && st->type == AF_STR ? setting_of(st->v.s) :
		    -1;

		if (k >= 0 && va != NULL && va->type == AF_STR &&
		    strcmp(va->v.s, mpf.control[k].value[VALUE_CALIBRATION]) ==
		    0)
			W.accept_written[k] = 1;
	} else if (strcmp(event, AUDIT_EV_REFUSE) == 0) {
		x = field(f, n, "reason");
		if (x != NULL && x->type == AF_STR &&
		    strcmp(x->v.s, "violation") == 0 && W.viol_at == 0) {
			W.viol_at = W.now;
			/* dirty, no revert yet: it is this violation's */
			if (W.dirty && !W.reverting && !W.latched_wd)
				W.want_trigger = "violation";
		}
	} else if (strcmp(event, AUDIT_EV_CONFIRMED) == 0) {
		const struct audit_field *s = field(f, n, "setting"),
		    *v = field(f, n, "value");

		audit_confirmed(s != NULL ? s->v.s : NULL,
		    v != NULL ? v->v.s : NULL);
	} else if (strcmp(event, AUDIT_EV_REVERT_CONFIRMED) == 0) {
		FUZZ_ASSERT(W.everyday_confirmed[0] && W.everyday_confirmed[1],
		    "revert_confirmed before both settings were");
		W.dirty = W.reverting = 0;
		W.revert_due = 0;
	}
	if (W.audit_fail_in > 0 && --W.audit_fail_in == 0)
		W.audit_broken = 1;
	if (W.audit_broken && W.started)
		latch_wd("audit failure");
	return W.audit_broken ? -1 : 0;
}

void
wdf_audit_commit(void)
{
	for (int s = 0; s < SETTING_COUNT; s++)
		W.accept_durable[s] |= W.accept_written[s] && !W.audit_broken;
}

int
wdf_child_start(int fd)
{
	W.sup_fd = fd;
	proto_chan_init(&W.sup, fd, &proto_supervisor);
	W.started = W.alive = 1;
	W.run_start = W.last_hb_sent = W.now;
	W.ph = M_HELLO;
	return 0;
}

void
wdf_child_signal(int sig)
{
	if (sig == SIGKILL || (sig == SIGTERM && !W.stubborn))
		child_die();
	else if (sig == SIGTERM && W.term_at == 0)
		W.term_at = W.now;
}

int
wdf_child_exited(void)
{
	int e = W.exited;

	W.exited = 0;
	return e;
}

int
wdf_mark_present(void)
{
	return W.mark_present;
}

int
wdf_mark_set(void)
{
	if (W.mark_fail)
		return -1;
	W.mark_durable = 1;
	return 0;
}

void
wdf_mark_clear(void)
{
	/* (with the audit log broken "confirmed" goes unrecorded: then the
	 * readback itself, unless the plant was made to lie) */
	FUZZ_ASSERT(!W.dirty || (W.everyday_confirmed[0] &&
	    W.everyday_confirmed[1]) || (W.audit_broken && (W.lied ||
	    (truth(0, VALUE_EVERYDAY) && truth(1, VALUE_EVERYDAY)))),
	    "mark cleared, revert not confirmed");
	W.mark_durable = 0;
}

/* ---- one run ---- */

static int
run(const uint8_t *data, size_t size)
{
	static const char *const methods[] = { "grid", "grid", "solar",
	    "solar" };
	char *argv[10];
	int argc = 0, rc, fdmark;
	uint8_t cfg;

	memcpy(&wd, &wd0, sizeof(wd));
	memset(&W, 0, sizeof(W));
	/* what the run leaves open (the lock mark.c holds for the life of a
	 * real watchdog) is closed after it */
	if ((fdmark = dup(0)) == -1)
		abort();
	(void)close(fdmark);
	W.in = (struct fuzz_in){ data, size };
	cfg = fuzz_u8(&W.in);
	W.now = T0;
	W.t = &mpf.timing;
	W.sup_fd = -1;
	W.method = methods[cfg & 3];
	W.confirm = (cfg & 3) == 0 || (cfg & 3) == 3;
	W.authorised = (cfg & 3) == 0;
	W.mark_present = W.mark_durable = (cfg >> 2) & 1;
	W.connected = !((cfg >> 3) & 1);
	W.connects = W.connected;
	W.auto_hb = !((cfg >> 4) & 1);
	W.auto_plant = !((cfg >> 5) & 1);
	W.auto_ack = !((cfg >> 6) & 1);
	W.stubborn = (cfg >> 7) & 1;
	/* the plant runs what an earlier run left */
	W.applied[0] = W.applied[1] = W.mark_present ? VALUE_CALIBRATION :
	    VALUE_EVERYDAY;
	W.dirty = W.mark_present;
	if (W.dirty) {
		W.revert_due = W.now + REVERT_BOUND_MS;
		W.due_why = "intent mark at start";
	}
	memset(W.rb_val, 0xff, sizeof(W.rb_val));

	argv[argc++] = "gridcal-watchdog";
	argv[argc++] = "--profile";
	argv[argc++] = profile_path;
	argv[argc++] = "calibrate";
	argv[argc++] = "--method";
	argv[argc++] = (char *)W.method;
	if (W.confirm)
		argv[argc++] = "--confirm";
	argv[argc] = NULL;
	optind = 0;		/* glibc: start getopt afresh */
	rc = gridcal_watchdog_main(argc, argv);

	FUZZ_ASSERT(!W.mark_durable, "the run ended with the mark down");
	FUZZ_ASSERT(!W.dirty || W.audit_broken, "the run ended with "
	    "calibration possibly applied and no confirmed revert");
	W.connected = 1;	/* what libmosquitto still holds goes out */
	while (W.nq > 0)
		ack_one();
	for (int s = 0; s < SETTING_COUNT && !W.lied; s++)
		FUZZ_ASSERT(W.applied[s] == VALUE_EVERYDAY, "the plant runs %s "
		    "calibration at the end", setting_name(s));
	closefrom(fdmark);
	/* the lock file stays (mark.c opens it O_CREAT, and the lock goes
	 * with the descriptor); a revert note would outlive the run it
	 * belongs to, and the next run's recovery would read it */
	(void)unlink(note_path);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)run(data, size);
	return 0;
}

/*
 * Liveness, before any fuzzing: a well-behaved authorised run against a
 * healthy plant calibrates (both values published once and confirmed)
 * and ends on its DONE. A watchdog that refuses everything would pass
 * every safety oracle; this one it cannot.
 */
static void
selftest(void)
{
	static const uint8_t happy[] = {
		0x00,			/* grid --confirm, all automatic */
		0x04, 10,		/* 200 ms */
		0x00, 0x00, 0x00,	/* HELLO */
		0x04, 15,		/* 300 ms */
		0x00, 0x03, 0x03,	/* charger priority calibration */
		0x04, 50,		/* 1 s */
		0x00, 0x03, 0x02,	/* output priority calibration */
		0x04, 50,		/* 1 s */
		0x00, 0x06, 0x00,	/* DONE PASS */
		0x04, 150,		/* 3 s */
	};
	int rc = run(happy, sizeof(happy));

	/* PASS or FAIL: the watchdog judges DONE PASS by its own evidence
	 * (watchdog/verdict.c), which this plant does not give */
	FUZZ_ASSERT((rc == GC_EX_PASS || rc == GC_EX_FAIL) &&
	    W.calib_sent[0] == 1 &&
	    W.calib_sent[1] == 1 && W.saw_confirmed[0] && W.saw_confirmed[1],
	    "self-test: a good run did not calibrate (exit %d, published "
	    "%d/%d, confirmed %d/%d)", rc, W.calib_sent[0], W.calib_sent[1],
	    W.saw_confirmed[0], W.saw_confirmed[1]);
}
