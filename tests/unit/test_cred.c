/*
 * The credential file (shared/cred.c): one line "user:password", a
 * regular file nobody else may read or group write; every refusal says
 * which, and the file's bytes never stay behind in a refused load.
 */
#include <sys/stat.h>

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cred.h"

static char dir[] = "/tmp/gridcal-cred.XXXXXX";

/* path of a file holding text with mode; text NULL: a directory. */
static const char *
file(const char *name, const char *text, mode_t mode)
{
	static char path[128];
	int fd;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (text == NULL) {
		ck_assert_int_eq(mkdir(path, 0700), 0);
		return path;
	}
	ck_assert_int_ne(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600),
	    -1);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(close(fd), 0);
	return path;
}

static void
refused(const char *path, const char *why)
{
	struct credentials c;
	char err[256];

	ck_assert_int_eq(cred_load(path, &c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, why) != NULL, "%s: \"%s\", not \"%s\"", path,
	    err, why);
	ck_assert_msg(strstr(err, path) == err, "%s: not named: %s", path, err);
	ck_assert_str_eq(c.user, "");
	ck_assert_str_eq(c.pass, "");
}

START_TEST(cred_rules)
{
	struct credentials c;
	char err[256] = "";
	char longuser[CRED_USER_MAX + 8];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(cred_load(file("ok", "gridcal:s3cr:et\n", 0600), &c,
	    err, sizeof(err)), 0);
	ck_assert_str_eq(c.user, "gridcal");
	ck_assert_str_eq(c.pass, "s3cr:et");	/* the first ':' splits */
	cred_clear(&c);
	ck_assert_str_eq(c.pass, "");
	ck_assert_int_eq(cred_load(file("nonl", "u:p", 0640), &c, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(c.pass, "p");
	refused(file("dir", NULL, 0), "not a regular file");
	refused(file("world", "u:p\n", 0604), "open to others or writable by "
	    "group (mode 604)");
	refused(file("gw", "u:p\n", 0620), "(mode 620)");
	refused(file("empty", "", 0600), "empty or unreadable");
	refused(file("two", "u:p\nv:q\n", 0600), "more than one line");
	refused(file("nocolon", "up\n", 0600), "expected one line user:password");
	refused(file("nouser", ":p\n", 0600), "expected one line user:password");
	refused(file("nopass", "u:\n", 0600), "expected one line user:password");
	memset(longuser, 'u', sizeof(longuser) - 3);
	(void)strlcpy(longuser + sizeof(longuser) - 3, ":p", 3);
	refused(file("longuser", longuser, 0600), "expected one line "
	    "user:password");
	(void)snprintf(err, sizeof(err), "%s/absent", dir);
	refused(err, "No such file");
	(void)snprintf(err, sizeof(err), "rm -rf %s", dir);
	ck_assert_int_eq(system(err), 0);
}
END_TEST

Suite *cred_suite(void);

Suite *
cred_suite(void)
{
	Suite *s = suite_create("cred");
	TCase *tc = tcase_create("cred");

	tcase_add_test(tc, cred_rules);
	suite_add_tcase(s, tc);
	return s;
}
