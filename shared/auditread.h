/*
 * Reading and verifying the audit log (format: shared/audit.h). Streaming:
 * one record at a time in fixed buffers, so memory does not grow with the
 * log. The parser is strict: it accepts exactly the canonical form the
 * writer emits (key order, escapes, number syntax) and nothing else.
 */
#ifndef GRIDCAL_AUDITREAD_H
#define GRIDCAL_AUDITREAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "audit.h"

/* events the supervisor reports (audit.h: EVENT VOCABULARY) */
#define AUDIT_EV_PREFLIGHT	"preflight"
#define AUDIT_EV_REPORT		"report"

/* One decoded field value. */
struct audit_rfield {
	char		 key[AUDIT_NAME_MAX + 1];
	enum audit_ftype type;		/* AF_STR, AF_INT, AF_NUM or AF_BOOL */
	int		 is_null;	/* AF_NUM written as null */
	const char	*s;		/* AF_STR: decoded, NUL-terminated */
	size_t		 slen;		/* may contain NULs: use slen */
	int64_t		 i;
	double		 d;		/* AF_INT and AF_NUM */
	int		 b;
};

struct audit_record {
	uint64_t	seq;
	char		utc[32];
	int64_t		utc_ms;
	int64_t		mono_ms;
	char		run[AUDIT_RUN_MAX + 1];
	enum audit_actor actor;
	char		event[AUDIT_NAME_MAX + 1];
	size_t		nfields;
	struct audit_rfield f[AUDIT_FIELDS_MAX];
	char		prev[AUDIT_HASH_HEX + 1];
	char		hash[AUDIT_HASH_HEX + 1];	/* as stored */
	size_t		hashed_len;	/* bytes of the line the hash covers */
	char		strbuf[AUDIT_RECORD_MAX];	/* decoded strings */
};

enum audit_perr {
	AUDIT_PERR_NONE,
	AUDIT_PERR_JSON,	/* not the JSON syntax / canonical form */
	AUDIT_PERR_FIELDS,	/* a required key missing, unknown or out of order */
	AUDIT_PERR_VALUE,	/* a value of the wrong type or out of range */
};

/*
 * Parses one line (without its newline). Does NOT check the hash: compare
 * r->hash with audit_hash(line, r->hashed_len). Returns 0, or the error
 * kind with a reason (naming the byte offset) in why.
 */
enum audit_perr audit_parse(const char *line, size_t len,
	    struct audit_record *r, char *why, size_t whysz);

/* Field lookup; NULL if absent. */
const struct audit_rfield *audit_field(const struct audit_record *,
	    const char *key);
/* A string field's value or NULL. */
const char *audit_field_str(const struct audit_record *, const char *key);
/* A numeric (int or non-null num) field; -1 if absent or not numeric. */
int	audit_field_num(const struct audit_record *, const char *key,
	    double *out);
/* A boolean field; -1 if absent or not boolean. */
int	audit_field_bool(const struct audit_record *, const char *key,
	    int *out);
/* "2026-11-25T08:24:00.123Z" to ms since the epoch, strictly; -1 if bad. */
int	audit_parse_utc(const char *s, int64_t *ms);

/* Streaming line reader: a fixed buffer, at least two records long. */
#define AUDIT_READBUF	(64 * 1024)
struct audit_reader {
	int		fd;
	uint64_t	lineno;		/* of the line last returned */
	off_t		off;		/* its offset in the file */
	off_t		next_off;
	size_t		start, end;	/* unconsumed bytes in buf */
	int		eof;
	char		why[AUDIT_ERR_MAX];
	char		buf[AUDIT_READBUF];
};

enum audit_rd {
	AUDIT_RD_LINE = 1,
	AUDIT_RD_EOF = 0,
	AUDIT_RD_IO = -1,	/* read error: errno, why */
	AUDIT_RD_TORN = -2,	/* the file ends without a newline */
	AUDIT_RD_LONG = -3,	/* a line longer than AUDIT_RECORD_MAX */
};

/* path "-" reads stdin. -1 with errno on failure. */
int	audit_reader_open(struct audit_reader *, const char *path);
void	audit_reader_close(struct audit_reader *);
/* The next line without its newline; valid until the next call. */
enum audit_rd audit_reader_next(struct audit_reader *, const char **line,
	    size_t *len);

/* Why a log does not verify. */
enum audit_bad {
	AUDIT_BAD_NONE,
	AUDIT_BAD_IO,		/* cannot read the log or the anchor */
	AUDIT_BAD_TORN,		/* last line has no newline */
	AUDIT_BAD_LONG,		/* line over AUDIT_RECORD_MAX */
	AUDIT_BAD_JSON,		/* broken JSON / not canonical */
	AUDIT_BAD_FIELDS,	/* required field missing or unknown */
	AUDIT_BAD_VALUE,	/* value of the wrong type or range */
	AUDIT_BAD_HASH,		/* stored hash != recomputed: altered */
	AUDIT_BAD_SEQ_GAP,	/* seq skips forward: records deleted */
	AUDIT_BAD_SEQ_ORDER,	/* seq repeats or goes back: reordered/inserted */
	AUDIT_BAD_CHAIN,	/* prev != hash of the record before */
	AUDIT_BAD_MONO,		/* mono_ms went backwards within a run */
	AUDIT_BAD_UTC,		/* utc went backwards by more than the slack */
	AUDIT_BAD_ANCHOR,	/* anchor malformed, or its hash differs */
	AUDIT_BAD_TRUNCATED,	/* anchor is ahead of the log */
	AUDIT_BAD_SEAL,		/* gridcal-audit: a seal does not verify */
};
const char *audit_bad_name(enum audit_bad);

/* Incremental verifier: feed every line in order. */
struct audit_verifier {
	int64_t		utc_slack_ms;	/* allowed backward wall-clock step */
	uint64_t	records;	/* lines accepted so far */
	uint64_t	last_line;
	uint64_t	last_seq;
	char		last_hash[AUDIT_HASH_HEX + 1];
	char		last_prev[AUDIT_HASH_HEX + 1];
	int64_t		last_utc_ms;
	char		last_run[AUDIT_RUN_MAX + 1];
	int64_t		last_mono_ms;
	uint64_t	utc_steps;	/* tolerated backward wall-clock steps */
	int		anchor_lag;	/* verify_file: the log is ahead of the
					 * anchor by announced records */
	/* called with each record that passed the chain checks */
	void		(*on_record)(void *, uint64_t lineno,
			    const struct audit_record *);
	void		*on_arg;
	/* a rotated log: it starts at first_seq, chained to the last record
	 * of the segment file `continues` (same directory) */
	uint64_t	first_seq;
	char		continues[128];
	char		last_hash_at_start[AUDIT_HASH_HEX + 1];	/* its prev */
	/* the first problem */
	enum audit_bad	bad;
	uint64_t	bad_line;	/* 1-based line of the record concerned */
	uint64_t	bad_seq;	/* its seq, 0 if unknown */
	char		why[AUDIT_ERR_MAX + 128];
	/* the offending record, when it parsed */
	int		cur_ok;
	uint64_t	cur_seq;
	char		cur_hash[AUDIT_HASH_HEX + 1];
	char		cur_prev[AUDIT_HASH_HEX + 1];
};

#define AUDIT_UTC_SLACK_MS	(5 * 60 * 1000)

void	audit_verifier_init(struct audit_verifier *, int64_t utc_slack_ms);
/* Checks one line (lineno is 1-based); 0 fine, -1 first problem recorded. */
int	audit_verifier_line(struct audit_verifier *, uint64_t lineno,
	    const char *line, size_t len, struct audit_record *scratch);

/*
 * Verifies a whole file: chain, then (state_dir != NULL) the anchor.
 * Returns 0 if intact, -1 with v->bad / bad_line / bad_seq / why set.
 */
int	audit_verify_file(const char *path, const char *state_dir,
	    struct audit_verifier *v);

#endif
