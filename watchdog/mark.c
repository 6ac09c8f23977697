/*
 * The intent mark: written durably before the first calibration value is
 * published, removed only once the revert is confirmed by readback. A mark
 * found at start means a run may have left the plant in calibration
 * settings (watchdog killed, power lost): recovery reverts first.
 */
#include <stdio.h>
#include <unistd.h>

#include "clock.h"
#include "durable.h"
#include "log.h"
#include "watchdog.h"

#define MARK	"watchdog.intent"

/* Fail safe: a mark that cannot be looked for counts as present. */
int
mark_present(void)
{
	return durable_exists(wd.pf.state_dir, MARK);
}

int
mark_set(void)
{
	char line[256], ts[32];
	int n;

	utc_format(utc_ms(), ts, sizeof(ts));
	n = snprintf(line, sizeof(line), "calibration %s pid %ld profile %s\n",
	    ts, (long)getpid(), wd.pf.digest_hex);
	if (n > 0 && (size_t)n < sizeof(line) &&
	    durable_write(wd.pf.state_dir, MARK, line, (size_t)n) == 0) {
		alarm_will(1);	/* before the value is published */
		return 0;
	}
	log_warn("intent mark %s/" MARK, wd.pf.state_dir);
	return -1;
}

/* A mark that stays only costs a revert at the next start. */
void
mark_clear(void)
{
	if (durable_remove(wd.pf.state_dir, MARK) == -1)
		log_warn("%s/" MARK ": cannot clear", wd.pf.state_dir);
}
