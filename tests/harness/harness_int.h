/* Internal to tests/harness: not part of the API in harness.h. */
#ifndef GRIDCAL_HARNESS_INT_H
#define GRIDCAL_HARNESS_INT_H

#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>

void	hwarn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	hwarnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	harness_sleep_ms(int64_t ms);
void	harness_reg_pid(pid_t);
void	harness_unreg_pid(pid_t);
/* libmosquitto's global init, once per process. */
void	harness_mosq_init(void);

struct hobs;
/* Latest payload of a topic as a malloc'd copy; NULL if never seen. */
char	*hobs_latest_dup(struct hobs *, const char *topic);

/* Poll interval of every wait loop. */
#define HARNESS_POLL_MS	5

#endif
