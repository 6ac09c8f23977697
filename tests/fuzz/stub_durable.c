/*
 * Link-time stand-in for shared/durable.c, so the real watchdog/mark.c
 * runs: the intent mark's file is the harness's, which says whether it
 * was written (and can make writing it fail).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "durable.h"
#include "wdfuzz.h"

int
durable_write(const char *dir, const char *name, const void *buf, size_t len)
{
	(void)dir;
	(void)name;
	(void)buf;
	(void)len;
	return wdf_mark_set();
}

int
durable_remove(const char *dir, const char *name)
{
	(void)dir;
	(void)name;
	wdf_mark_clear();
	return 0;
}

int
durable_exists(const char *dir, const char *name)
{
	(void)dir;
	(void)name;
	return wdf_mark_present();
}

/* The seal (shared/auditseal.c) finds no audit.key: the log runs unsealed. */
ssize_t
durable_read(int dfd, const char *name, char *buf, size_t sz, int strict,
    char *why, size_t whysz)
{
	(void)dfd;
	(void)buf;
	(void)sz;
	(void)strict;
	(void)snprintf(why, whysz, "%s: not in the harness", name);
	errno = ENOENT;
	return -1;
}

/* Unsealed: never called. */
int
durable_writeat(int dfd, const char *name, const void *buf, size_t len,
    int sync)
{
	(void)dfd;
	(void)name;
	(void)buf;
	(void)len;
	(void)sync;
	errno = EROFS;
	return -1;
}
