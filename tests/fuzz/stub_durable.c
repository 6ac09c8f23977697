/*
 * Link-time stand-in for shared/durable.c, so the real watchdog/mark.c
 * runs: the intent mark's file is the harness's, which says whether it
 * was written (and can make writing it fail).
 */
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
