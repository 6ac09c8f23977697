/*
 * The audit log's format: one spec for the writer (shared/audit.c, linked
 * into gridcal-watchdog) and the reader/verifier (shared/auditread.c,
 * gridcal-audit only). Names, the canonical escaping and numbers, the
 * record hash, the fixed layout of a record's ends, and the anchor.
 *
 * RECORD FORMAT (one line, fixed key order, pure printable ASCII):
 *
 *   {"seq":N,"utc":"2026-11-25T08:24:00.123Z","mono_ms":M,"run":"RUNID",
 *    "actor":"watchdog"|"supervisor","event":"NAME","fields":{...},
 *    "prev":"<64 hex>","hash":"<64 hex>"}\n
 *
 * - seq counts from 1 and continues across runs (the file is appended to).
 * - utc is CLOCK_REALTIME, mono_ms CLOCK_MONOTONIC (shared/clock.h).
 * - run is "" until audit_set_run(); then [A-Za-z0-9._:-]{1,39}.
 * - fields: keys in the caller's order; values are
 *     strings   "..." escaped canonically: '"' as \", '\' as \\, every byte
 *               below 0x20 or above 0x7e as \u00xx (two lowercase hex
 *               digits; xx is the raw byte, not a code point). Nothing
 *               else is escaped. Supervisor-reported text is therefore
 *               stored losslessly, but the file stays printable ASCII.
 *     integers  %lld
 *     doubles   %.6f with trailing zeros (and a trailing '.') removed, "-0"
 *               written as "0"; NaN, infinities and |v| >= 1e15 as null.
 *     booleans  true / false
 * - prev is the previous record's hash; 64 '0' for the first record.
 * - hash is lowercase hex SHA-256 of the line's bytes from '{' up to, not
 *   including, ',"hash":' -- this covers prev, so the records form a chain.
 *   The canonical form of a record is exactly the bytes the writer emits.
 * - Names (event, field keys): [a-z0-9_]{1,32}.
 * - A record is at most AUDIT_RECORD_MAX bytes including the newline. A
 *   string value longer than AUDIT_STR_MAX escaped bytes (or than what is
 *   left of the record) is cut at an escape boundary and ends with
 *   AUDIT_TRUNC_MARK.
 *
 * FIXED LAYOUT. Whatever the fields hold, a record begins with
 * AUDIT_HEAD ('{"seq":') and the digits of seq, and its last
 * AUDIT_TAIL_LEN bytes before the newline are AUDIT_TAIL_PREV, prev, '"',
 * AUDIT_TAIL_HASH, hash and '"}': every '"' inside a value is escaped, so
 * these bytes sit at fixed offsets from the ends of the line. That is all
 * the writer reads back (audit_layout); the JSON parser is the reader's.
 *
 * ANCHOR: state_dir/audit.anchor holds "<seq> <hash>\n", the last durable
 * record, or "<seq> <hash> +<n>\n" while a writer is running: up to n more
 * records are ANNOUNCED (may be in the log, not yet anchored: a crash
 * between the log's fsync and the anchor's rename). A log ahead of its
 * anchor is accepted only as far as announced; the writer announces when
 * it opens the log and withdraws the announcement when it closes it. A
 * missing anchor means "seq 0, hash 64 zeros", nothing announced.
 */
#ifndef GRIDCAL_AUDITFMT_H
#define GRIDCAL_AUDITFMT_H

#include <stddef.h>
#include <stdint.h>

#define AUDIT_RECORD_MAX	4096	/* bytes per line, newline included */
#define AUDIT_STR_MAX		1024	/* escaped bytes per string value */
#define AUDIT_FIELDS_MAX	16
#define AUDIT_NAME_MAX		32	/* event names and field keys */
#define AUDIT_RUN_MAX		39	/* run id characters */
#define AUDIT_HASH_HEX		64
#define AUDIT_ERR_MAX		256
#define AUDIT_NUM_MAX		32	/* audit_format_num's buffer */
#define AUDIT_TRUNC_MARK	"...[truncated]"
#define AUDIT_ANCHOR_NAME	"audit.anchor"
#define AUDIT_ANCHOR_MAX	128	/* bytes of an anchor, and more */
/* Group commit: the anchor may lag the log by this many records at most. */
#define AUDIT_GROUP_MAX		256
#define AUDIT_ZERO_HASH		\
	"0000000000000000000000000000000000000000000000000000000000000000"

#define AUDIT_HEAD		"{\"seq\":"
#define AUDIT_TAIL_PREV		"},\"prev\":\""
#define AUDIT_TAIL_HASH		",\"hash\":\""
/* The hash covers the line up to AUDIT_TAIL_HASH: these bytes are out. */
#define AUDIT_UNHASHED_LEN	(sizeof(AUDIT_TAIL_HASH) - 1 + AUDIT_HASH_HEX + 2)
/* From the '}' that closes the fields to the end, newline excluded. */
#define AUDIT_TAIL_LEN		(sizeof(AUDIT_TAIL_PREV) - 1 + AUDIT_HASH_HEX + \
	1 + AUDIT_UNHASHED_LEN)

/* operator: gridcal-audit rotate's segment_end and segment_start only */
enum audit_actor { AUDIT_WATCHDOG, AUDIT_SUPERVISOR, AUDIT_OPERATOR };

/* AF_BYTES: raw bytes (may contain NUL), stored as a string. */
enum audit_ftype { AF_STR, AF_INT, AF_NUM, AF_BOOL, AF_BYTES };

/* [a-z0-9_]{1,32}: validate untrusted event names before appending. */
int	audit_valid_name(const char *);
/* [A-Za-z0-9._:-]{1,39} */
int	audit_valid_run(const char *);
const char *audit_actor_name(enum audit_actor);
/* 1 if s is AUDIT_HASH_HEX lowercase hex digits and nothing more. */
int	audit_is_hash(const char *s, size_t len);

/*
 * audit_escape writes at most cap bytes of escaped s (cutting at an escape
 * boundary and appending AUDIT_TRUNC_MARK if needed; cap must exceed the
 * mark), NUL-terminates, and returns the length written. dst must hold
 * cap + 1 bytes.
 */
size_t	audit_escape(const unsigned char *s, size_t len, char *dst, size_t cap);
/* dst holds AUDIT_NUM_MAX bytes; writes "null" for non-finite values. */
void	audit_format_num(double, char *dst);
/* Lowercase hex SHA-256 of len bytes. */
void	audit_hash(const void *buf, size_t len, char out[AUDIT_HASH_HEX + 1]);

/* A record's fixed ends, read without parsing what lies between. */
struct audit_ends {
	uint64_t	seq;
	char		prev[AUDIT_HASH_HEX + 1];
	char		hash[AUDIT_HASH_HEX + 1];	/* as stored */
};
/*
 * Reads a line (without its newline) at the fixed offsets above and checks
 * its stored hash against the bytes: 0, or -1 with the reason in why.
 */
int	audit_layout(const char *line, size_t len, struct audit_ends *,
	    char *why, size_t whysz);

/*
 * The anchor's line for seq and hash, announcing that many more (0: none)
 * into buf; its length (< sz) or 0.
 */
size_t	audit_anchor_format(uint64_t seq, const char *hash, uint64_t announced,
	    char *buf, size_t sz);
/*
 * The anchor in dirfd: 0 read, 1 missing (seq 0, zero hash), -1 malformed
 * or unreadable (reason in why). *announced: records announced, 0 if none.
 */
int	audit_anchor_read(int dirfd, uint64_t *seq,
	    char hash[AUDIT_HASH_HEX + 1], uint64_t *announced, char *why,
	    size_t whysz);

#endif
