/*
 * The audit log: a hash-chained JSON Lines file written only by
 * gridcal-watchdog, read and verified by gridcal-audit (shared/auditread.h).
 *
 * The record format, the fixed layout of a record's ends and the anchor
 * are specified in shared/auditfmt.h.
 *
 * DURABILITY: every record is written with one write(2) and fsync(2)ed.
 * Only then is the anchor state_dir/audit.anchor ("<seq> <hash>\n", the
 * last durable record) replaced: tmp file, fsync, rename, fsync directory.
 * A missing anchor means "seq 0, hash 64 zeros" (an empty log).
 *
 * GROUP COMMIT (audit_set_group): each record is still written with one
 * write(2) as it is appended, but made durable only by audit_commit(): one
 * fdatasync for every record since the last commit, then the anchor. The
 * caller commits once per turn of its loop (and before any act that must
 * be write-ahead); after AUDIT_GROUP_MAX uncommitted records append
 * commits by itself. The anchor announces a whole group while the writer
 * runs, so a crash may leave the log up to that many records ahead.
 *
 * THE SYNCER (audit_syncer_start): a thread that makes a group durable
 * while the caller goes on, so that no fdatasync stands between a trigger
 * and its publish. audit_commit_start hands it every record appended so
 * far (one group at a time: while one is on its way, the next waits for
 * the next call) and returns at once; its answer arrives on sync_done[0],
 * which the caller polls and reads with audit_commit_done. The thread
 * uses only fd, dirfd, nosync and its pipes, and a copy of seq and prev
 * taken when the group was handed over: the records appended meanwhile
 * are not in the anchor it writes. audit_commit, append's own commit at
 * AUDIT_GROUP_MAX (records on their way included) and audit_close wait
 * for its answer first: what must be write-ahead stays synchronous, and
 * the anchor has one writer at a time. audit_durable: every record
 * appended is on the disk, its head may be sealed. Without a syncer
 * (never started, or it could not be) every commit is synchronous.
 *
 * OPENING (audit_open) reads only the log's last line at the fixed offsets
 * of its layout (audit_layout: seq, prev, hash; no JSON parser), checks its
 * hash, and compares it with the anchor:
 * - log seq == anchor seq and hashes equal: fine.
 * - log is exactly one record ahead, the anchor ANNOUNCED it ("+1", see
 *   auditfmt.h) and that record's prev is the anchored hash (crash between
 *   the log fsync and the anchor rename): accepted, the anchor is
 *   rewritten. Not announced: refused (appended by something else, such
 *   as a forged record from whoever may write the log but not the anchor).
 * - log is 2..AUDIT_GROUP_MAX records ahead, announced as far (a group
 *   commit announces a whole group), and every one of them is intact and
 *   chained to the anchored record (a crash before a commit): accepted,
 *   the anchor is rewritten and a "log_caught_up" record (records,
 *   from_seq) keeps the evidence in the chain.
 * - then the anchor is rewritten announcing the next record (the next
 *   AUDIT_GROUP_MAX with group commit); audit_close commits and withdraws
 *   the announcement.
 * - anything else (log shorter than the anchor, hash mismatch, unparsable
 *   last line, anchor missing for a log of more than one record): error.
 * - TORN LAST LINE (bytes after the last newline): a record whose write was
 *   cut by a crash or power loss; it was never anchored. If the complete
 *   records before it match the anchor as above, audit_open removes the
 *   fragment (ftruncate, fsync) and then appends a "log_repaired" record
 *   (fields: torn_bytes, torn_text = the fragment, escaped) so the evidence
 *   stays in the chain. Otherwise (the fragment is longer than a record, or
 *   the complete part does not match the anchor) audit_open fails and
 *   leaves the file alone; `gridcal-audit verify` reports the torn line.
 * - Operator recovery from an open error: inspect with `gridcal-audit
 *   verify LOG --state-dir DIR`, then move the log aside and remove the
 *   anchor; a new chain starts with seq 1.
 * audit_open does not re-verify the whole chain; gridcal-audit does that.
 * The log is flock(2)ed exclusively: a second writer is refused.
 *
 * FAILURE: audit_append returns -1 on any failure (bad name, record does
 * not fit, write, fsync or anchor error) with errno set. If the record
 * could not be made durable the log is marked broken and every later
 * append fails too (a partly written record is cut off first when
 * possible). If only the anchor could not be written the record is in the
 * chain; -1 is still returned and the next append retries the anchor.
 */
#ifndef GRIDCAL_AUDIT_H
#define GRIDCAL_AUDIT_H

#include <pthread.h>

#include "auditfmt.h"

#define AUDIT_LOG_MODE		0640

/* AF_BYTES: v.s holds n raw bytes (may contain NUL). */
struct audit_field {
	const char		*key;
	enum audit_ftype	 type;
	union {
		const char	*s;
		int64_t		 i;
		double		 d;
		int		 b;
	} v;
	size_t			 n;	/* AF_BYTES only */
};

/* Field constructors: AF_S("reason", why), AF_I("attempt", n), ... */
#define AF_S(k, x)	((struct audit_field){ .key = (k), .type = AF_STR, .v.s = (x) })
#define AF_I(k, x)	((struct audit_field){ .key = (k), .type = AF_INT, .v.i = (x) })
#define AF_D(k, x)	((struct audit_field){ .key = (k), .type = AF_NUM, .v.d = (x) })
#define AF_B(k, x)	((struct audit_field){ .key = (k), .type = AF_BOOL, .v.b = (x) })
#define AF_N(k, x, len)	((struct audit_field){ .key = (k), .type = AF_BYTES, .v.s = (x), .n = (len) })

struct audit_log {
	int		fd;		/* the log, O_APPEND, flock'ed */
	int		dirfd;		/* state directory, holds the anchor */
	uint64_t	seq;		/* last record written, 0 = none */
	char		prev[AUDIT_HASH_HEX + 1];	/* its hash */
	char		run[AUDIT_RUN_MAX + 1];
	int		broken;		/* a record could not be made durable */
	int		anchor_stale;	/* last anchor write failed */
	int		announce;	/* the anchor announces one more */
	int		nosync;		/* tests and bench only (audittest.h) */
	int		group;		/* group commit: audit_commit syncs */
	unsigned	pending;	/* records written since the commit */
	int		sync_job[2];	/* to the syncer; -1: none */
	int		sync_done[2];	/* its answers: poll [0] */
	pthread_t	syncer;
	unsigned	sync_records;	/* on their way, + 1; 0: none */
};

/*
 * Opens (creating if needed) the log and the anchor in state_dir, see
 * OPENING above. -1 with a one-line reason in err on failure.
 */
int	audit_open(struct audit_log *, const char *log_path,
	    const char *state_dir, char *err, size_t errsz);
/* Run id for later records; an invalid id is ignored and returns -1. */
int	audit_set_run(struct audit_log *, const char *run_id);
/* Appends one durable record; -1 with errno on any failure. */
int	audit_append(struct audit_log *, enum audit_actor, const char *event,
	    const struct audit_field *f, size_t nf);
void	audit_close(struct audit_log *);
/* Group commit on or off (see GROUP COMMIT); commits first. */
int	audit_set_group(struct audit_log *, int);
/* Makes every record appended so far durable, then the anchor; -1 errno. */
int	audit_commit(struct audit_log *);
/* THE SYNCER: -1 errno if it cannot start (commits stay synchronous). */
int	audit_syncer_start(struct audit_log *);
/* Hands the records appended so far to the syncer; -1 errno. */
int	audit_commit_start(struct audit_log *);
/* Its answer (blocks until there is one): -1 errno, the group not durable. */
int	audit_commit_done(struct audit_log *);
int	audit_durable(const struct audit_log *);

/*
 * EVENT VOCABULARY. gridcal-audit `report` understands these; the watchdog
 * emits them with actor "watchdog" and the listed fields (more are fine).
 *
 * start            profile_digest (str), method ("solar"|"grid"),
 *                  authorised (bool), watchdog_uid (int), supervisor_uid
 *                  (int), command ("calibrate"|"recover"), version (str),
 *                  start_mono_ms (int)
 * authorise        result ("accepted"|"refused"), reason, acl_writer (the
 *                  broker user the ACL lets write the topic), claim_user
 *                  (the HA user the payload names), age_s (int): a press
 *                  of Home Assistant's button (watchdog/authorise.c);
 *                  accepted, the run counts as authorised
 * request          setting, value (str), scope (int): a set request from
 *                  the supervisor
 * accept           setting, value
 * refuse           reason (str), setting, value, detail (str) when known
 * publish          setting, value (str), attempt (int)
 * confirmed        setting, value, readback (str): readback on all units
 * heartbeat_lost   age_ms (int)
 * revert_trigger   reason (str): heartbeat, eof, child_exit, violation,
 *                  signal, run_max, envelope, recovery, done, ...
 * revert_attempt   attempt (int), setting (str)
 * revert_confirmed attempts (int), ms (int): trigger to readback
 *                  confirmation on every unit (report prefers ms, else
 *                  the mono_ms difference to the first revert_trigger)
 * alarm_raised     reason (str), setting, attempts
 * alarm_cleared
 * envelope         what (str), pack (int, 1-based), value (num): a hard
 *                  limit tripped
 * child_exit       status (str, e.g. "exit 0", "signal 9")
 * outcome          outcome ("pass"|"fail"|"aborted"|"refused"|"cancelled"
 *                  |"recovered"|"error"), reason (str), exit (int);
 *                  report counts only "pass" as a successful calibration
 * end
 * log_repaired     torn_bytes (int), torn_text (str): written by audit_open
 * log_caught_up    records (int), from_seq (int): written by audit_open
 *                  when it anchored records a group commit had left
 *
 * Supervisor events are recorded with actor "supervisor", the event name
 * the supervisor sent (checked with audit_valid_name) and ONE field "text":
 * untrusted, space-separated key=value pairs, notably
 * preflight        class=drift|imbalance|... soc=50.0,51.0,... spread=...
 *                  vspread=...
 * report           outcome=pass|fail|aborted reason=... soc_before=a,b,c
 *                  soc_after=a,b,c spread_before=.. spread_after=..
 *                  lagging=6,... (1-based pack numbers, empty = none)
 * state            from=... to=...   (state machine transitions)
 * abort            reason=... cell_max=... pack=...
 */
#define AUDIT_EV_START		"start"
#define AUDIT_EV_AUTHORISE	"authorise"
#define AUDIT_EV_REQUEST	"request"
#define AUDIT_EV_ACCEPT		"accept"
#define AUDIT_EV_REFUSE		"refuse"
#define AUDIT_EV_PUBLISH	"publish"
#define AUDIT_EV_CONFIRMED	"confirmed"
#define AUDIT_EV_HEARTBEAT_LOST	"heartbeat_lost"
#define AUDIT_EV_REVERT_TRIGGER	"revert_trigger"
#define AUDIT_EV_REVERT_ATTEMPT	"revert_attempt"
#define AUDIT_EV_REVERT_CONFIRMED "revert_confirmed"
#define AUDIT_EV_ALARM_RAISED	"alarm_raised"
#define AUDIT_EV_ALARM_CLEARED	"alarm_cleared"
#define AUDIT_EV_ENVELOPE	"envelope"
#define AUDIT_EV_CHILD_EXIT	"child_exit"
#define AUDIT_EV_OUTCOME	"outcome"
#define AUDIT_EV_END		"end"
#define AUDIT_EV_LOG_REPAIRED	"log_repaired"
#define AUDIT_EV_LOG_CAUGHT_UP	"log_caught_up"
/* supervisor-reported (AUDIT_EV_PREFLIGHT, _REPORT: auditread.h) */
#define AUDIT_F_TEXT		"text"

#endif
