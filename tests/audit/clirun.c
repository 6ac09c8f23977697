/* See clirun.h. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audittest.h"
#include "clirun.h"

const char *cli_bin;
char cli_dir[64], cli_log[PATH_MAX], cli_state[PATH_MAX];
char *cli_out, *cli_err;
size_t cli_out_len;
static struct audit_log al;

void
cli_setup(void)
{
	(void)strlcpy(cli_dir, "/tmp/gridcal-audit-t.XXXXXX", sizeof(cli_dir));
	ck_assert_ptr_nonnull(mkdtemp(cli_dir));
	(void)snprintf(cli_log, sizeof(cli_log), "%s/audit.log", cli_dir);
	(void)snprintf(cli_state, sizeof(cli_state), "%s/state", cli_dir);
	ck_assert_int_eq(mkdir(cli_state, 0700), 0);
	if (cli_out == NULL) {
		cli_out = malloc(CLI_OUT_MAX);
		cli_err = malloc(CLI_OUT_MAX);
		ck_assert(cli_out != NULL && cli_err != NULL);
	}
}

static void
rm_dir(const char *path)
{
	char p[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(path);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		(void)snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			rm_dir(p);
		else
			(void)unlink(p);
	}
	(void)closedir(d);
	(void)rmdir(path);
}

void
cli_teardown(void)
{
	if (getenv("GRIDCAL_KEEP_WORKDIR") == NULL)
		rm_dir(cli_dir);
}

/* Reads both pipes to EOF without deadlocking on either. */
static void
drain(int ofd, int efd)
{
	struct pollfd p[2] = { { ofd, POLLIN, 0 }, { efd, POLLIN, 0 } };
	size_t n[2] = { 0, 0 };
	char *buf[2] = { cli_out, cli_err };
	int open = 2;

	while (open > 0) {
		ck_assert_int_ge(poll(p, 2, 30000), 1);
		for (int i = 0; i < 2; i++) {
			ssize_t r;

			if (p[i].fd == -1 || p[i].revents == 0)
				continue;
			r = read(p[i].fd, buf[i] + n[i], CLI_OUT_MAX - 1 - n[i]);
			if (r <= 0) {
				(void)close(p[i].fd);
				p[i].fd = -1;
				open--;
				continue;
			}
			n[i] += (size_t)r;
			ck_assert_uint_lt(n[i], CLI_OUT_MAX - 1);
		}
	}
	cli_out[n[0]] = '\0';
	cli_err[n[1]] = '\0';
	cli_out_len = n[0];
}

int
cli_runv(const char *const *env, const char *const *args)
{
	const char *argv[32];
	int o[2], e[2], st, i = 1;
	pid_t pid;

	argv[0] = cli_bin;
	for (; *args != NULL; args++) {
		ck_assert_int_lt(i, 31);
		argv[i++] = *args;
	}
	argv[i] = NULL;
	ck_assert_int_eq(pipe(o), 0);
	ck_assert_int_eq(pipe(e), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		(void)dup2(o[1], STDOUT_FILENO);
		(void)dup2(e[1], STDERR_FILENO);
		(void)closefrom(STDERR_FILENO + 1);
		for (; env != NULL && *env != NULL; env++)
			(void)putenv((char *)*env);
		execv(cli_bin, (char *const *)argv);
		_exit(127);
	}
	(void)close(o[1]);
	(void)close(e[1]);
	drain(o[0], e[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	/* under check-audit-san the binary is instrumented */
	ck_assert_msg(strstr(cli_err, "Sanitizer") == NULL &&
	    strstr(cli_err, "runtime error") == NULL, "%s", cli_err);
	return WEXITSTATUS(st);
}

int
cli_run(const char *arg, ...)
{
	const char *argv[32];
	int i = 0;
	va_list ap;

	va_start(ap, arg);
	for (const char *a = arg; a != NULL; a = va_arg(ap, const char *)) {
		ck_assert_int_lt(i, 31);
		argv[i++] = a;
	}
	va_end(ap);
	argv[i] = NULL;
	return cli_runv(NULL, argv);
}

void
cli_wopen(const char *runid)
{
	char err[AUDIT_ERR_MAX];

	ck_assert_msg(audit_open(&al, cli_log, cli_state, err, sizeof(err)) ==
	    0, "%s", err);
	audit_set_nosync(&al, 1);
	if (runid != NULL)
		ck_assert_int_eq(audit_set_run(&al, runid), 0);
}

void
cli_wd(const char *event, const struct audit_field *f, size_t nf)
{
	ck_assert_int_eq(audit_append(&al, AUDIT_WATCHDOG, event, f, nf), 0);
}

void
cli_sup(const char *event, const char *text)
{
	struct audit_field f = AF_S(AUDIT_F_TEXT, text);

	ck_assert_int_eq(audit_append(&al, AUDIT_SUPERVISOR, event, &f, 1), 0);
}

void
cli_wclose(void)
{
	audit_close(&al);
}

char *
cli_slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	ssize_t r;
	size_t n = 0;
	int fd = open(path, O_RDONLY);

	if (fd == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || (buf = malloc((size_t)st.st_size + 1)) ==
	    NULL) {
		(void)close(fd);
		return NULL;
	}
	while (n < (size_t)st.st_size && (r = read(fd, buf + n,
	    (size_t)st.st_size - n)) > 0)
		n += (size_t)r;
	(void)close(fd);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

int
cli_main(const char *name, void *suite)
{
	SRunner *sr;
	int failed;

	cli_bin = getenv("GRIDCAL_AUDIT");
	if (cli_bin == NULL || access(cli_bin, X_OK) == -1) {
		(void)fprintf(stderr, "%s: set GRIDCAL_AUDIT to the "
		    "gridcal-audit binary\n", name);
		return 2;
	}
	sr = srunner_create(suite);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	free(cli_out);
	free(cli_err);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
