/*
 * What the newer gridcal-audit tests share (test_plot.c, test_due.c):
 * a scratch directory with a log written by the real writer, and the real
 * binary ($GRIDCAL_AUDIT) run in a child with its output captured.
 */
#ifndef GRIDCAL_TEST_CLIRUN_H
#define GRIDCAL_TEST_CLIRUN_H

#include <limits.h>
#include <stddef.h>

#include "audit.h"

#define CLI_OUT_MAX	(4 << 20)

extern const char *cli_bin;
extern char cli_dir[64], cli_log[PATH_MAX], cli_state[PATH_MAX];
extern char *cli_out, *cli_err;
extern size_t cli_out_len;

void	cli_setup(void);		/* a fresh directory, log path */
void	cli_teardown(void);		/* removes it and what is in it */
/* Runs gridcal-audit with the NULL-terminated arguments; exit status. */
int	cli_run(const char *arg, ...);
/* Runs it with extra environment "K=V" entries (NULL-terminated). */
int	cli_runv(const char *const *env, const char *const *argv);

/* The writer, on cli_log: open (with a run id), records, close. */
void	cli_wopen(const char *runid);
void	cli_wd(const char *event, const struct audit_field *f, size_t nf);
void	cli_sup(const char *event, const char *text);
void	cli_wclose(void);
/* Reads a whole file (NUL-terminated, malloc'ed); NULL if unreadable. */
char	*cli_slurp(const char *path, size_t *len);
/* main(): runs suite s with GRIDCAL_AUDIT checked. */
int	cli_main(const char *name, void *suite);

#define ck_out(s) ck_assert_msg(strstr(cli_out, (s)) != NULL,		\
	"stdout lacks \"%s\":\n%.3000s\nstderr:\n%.1000s", (s), cli_out,	\
	cli_err)
#define ck_err(s) ck_assert_msg(strstr(cli_err, (s)) != NULL,		\
	"stderr lacks \"%s\":\n%.3000s", (s), cli_err)

#endif
