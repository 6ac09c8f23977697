/*
 * gridcal-audit: verify, show and report the audit log (format in
 * shared/audit.h). One file per command; this header holds what they share.
 */
#ifndef GRIDCAL_AUDIT_CLI_H
#define GRIDCAL_AUDIT_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "auditread.h"
#include "auditseal.h"

/* Exit codes (documented in --help). */
#define AX_OK		0	/* done; verify: the log is intact */
#define AX_NOT_INTACT	1	/* the log failed verification */
#define AX_UNSEALED	2	/* verify --key: intact, but an unsealed tail */
#define AX_USAGE	64	/* EX_USAGE */
#define AX_NOINPUT	66	/* EX_NOINPUT: log or state dir missing */
#define AX_UNAVAILABLE	69	/* EX_UNAVAILABLE: due: broker unusable */
#define AX_IOERR	74	/* EX_IOERR: read error */
#define AX_CONFIG	78	/* EX_CONFIG: bad profile */

struct opts {
	const char	*log;
	const char	*state_dir;	/* NULL: anchor not checked */
	const char	*key;		/* verify --key: the verification key */
	const char	*seal_from;	/* verify --seal-from: published seals */
	const char	*run;		/* show: only this run */
	int		 has_since;
	int64_t		 since_ms;	/* show: records at or after */
	int		 json;
	int		 quiet;
	int64_t		 utc_slack_ms;
	double		 verify_soc_pct;	/* report: lagging if below */
	int64_t		 now_ms;	/* report: "days since" reference */
	const char	*output;	/* plot: -o FILE */
	int		 html;		/* report --html */
	int		 live;		/* due: classify the bank now */
	int		 publish;	/* due: retained on due_topic */
	const char	*cred;		/* due: report-only broker user */
	const char	*due_topic;
};

/* seal.c: the seals, fed by the verifier (audit_verifier.on_record) */
#define SEALCK_EXT_MAX	4096
struct sealext {
	struct seal_mark m;
	char		 src[64];	/* "published (FILE:LINE)", "audit.key" */
	int		 valid;		/* its MAC verifies with the key */
	int		 seen;		/* the log's record at m.seq matches */
	int		 inlog;		/* the log holds its seal record */
};
struct sealck {
	int		 have_key;
	unsigned char	 k0[SEAL_KEYBYTES], k[SEAL_KEYBYTES];
	uint64_t	 kepoch;	/* k is k(kepoch) */
	const unsigned char *(*k_of)(struct sealck *, uint64_t epoch);
	uint64_t	 nseals, first_epoch, last_epoch;
	uint64_t	 sealed_seq;	/* 1..sealed_seq: covered by a seal */
	uint64_t	 first_seq, last_seq;	/* records seen */
	int		 have_keyfile;
	uint64_t	 key_epoch;	/* audit.key's epoch */
	struct sealext	 ext[SEALCK_EXT_MAX];
	size_t		 next, published, published_bad;
	const char	*where;		/* an earlier segment being read */
	int		 bad;		/* the first seal problem */
	uint64_t	 bad_line, bad_seq;
	char		 why[512];
};
/* -1: vk is not a verification key */
int	sealck_init(struct sealck *, const char *vk);
void	sealck_free(struct sealck *);
/* Forgets what the log showed (not what was loaded): to read it again. */
void	sealck_restart(struct sealck *);
int	sealck_load_published(struct sealck *, const char *path);
int	sealck_load_keyfile(struct sealck *, const char *state_dir);
void	sealck_record(void *, uint64_t line, const struct audit_record *);
void	sealck_end(struct sealck *, uint64_t last_line);

int	cmd_verify(const struct opts *);
int	cmd_show(const struct opts *);
int	cmd_report(const struct opts *);
int	cmd_rotate(const struct opts *);
/* The segments a rotated log (verified into last) continues: 0 intact. */
int	verify_segments(const char *log, const struct audit_verifier *last,
	    int64_t utc_slack_ms, int quiet);
int	cmd_plot(const struct opts *);
/* report.c: the last successful calibration, report's own rule. */
struct last_success {
	int	have;
	int64_t	start_ms;		/* its run's start */
	char	run[AUDIT_RUN_MAX + 1];
	char	start[32];
};
int	report_last_success(const struct opts *, struct last_success *);
struct profile;
int	cmd_due(const struct opts *, const struct profile *);

/* report --html (audit/html.c): one row of the table. */
struct html_row {
	const char	*start, *duration, *method, *outcome, *reason, *run;
	const char	*lagging;	/* NULL: unknown */
	double		 before, after;	/* SoC spread, NAN unknown */
	int		 authorised;	/* -1 unknown */
	int		 revert_attempts;
	int		 verified;
};
struct plot;
void	html_begin(void);
void	html_row(const struct html_row *);
/* The summary line, the plot of p (if it has a run), the end of the page. */
int	html_end(const char *summary, int intact, const struct plot *p);

/*
 * Untrusted bytes made safe for a terminal with strvisx(3): C-style and
 * octal escapes for every control, non-ASCII and (with quote) '"' byte.
 */
void	vis_put(FILE *, const char *s, size_t len, int quote);
/*
 * The value of key in space-separated key=value text (supervisor
 * reports); -1 if absent or longer than outsz - 1.
 */
int	kv_get(const char *text, size_t len, const char *key, char *out,
	    size_t outsz);
/* "2026-11-25", "2026-11-25T08:24[:00[.000]][Z]", or "7d", "12h", "30m". */
int	parse_since(const char *s, int64_t now_ms, int64_t *ms);
/* Streams the log through the verifier, handing each record to fn. */
struct walk {
	struct audit_verifier	 v;
	uint64_t		 lineno;
	int			 verified;	/* this record is covered */
	int			 rd_status;	/* final enum audit_rd */
	char			 rd_why[AUDIT_ERR_MAX];
};
int	walk_log(const struct opts *, struct walk *,
	    void (*fn)(const struct audit_record *, const char *line,
	    size_t len, struct walk *, void *), void *arg);
/* After walk_log: warn about integrity; returns the exit code. */
int	walk_verdict(const struct opts *, const struct walk *);

#endif
