/*
 * One side of the parity test: a profile loader and its telemetry store.
 * full.c is the supervisor's (shared/profile.c, shared/telemetry.c),
 * view.c the watchdog's (watchdog/conf.c, watchdog/intake.c). Fields are
 * numbered as the watchdog reads them: soc, cell_voltage_max, the
 * temperature sensors, then the two readbacks; pack 1 and unit 1.
 */
#ifndef PARITY_SIDE_H
#define PARITY_SIDE_H

#include <stddef.h>
#include <stdint.h>

struct side_value {
	int	status;		/* the store's enum tm_status (same order) */
	double	num;
	char	text[64];
	int64_t	unknown_for;	/* pack fields */
};

/* 0 with the dump of the values the watchdog uses, -1 with err. */
int	full_load(const char *path, char *dump, size_t dumpsz, char *err,
	    size_t errsz);
int	view_load(const char *path, char *dump, size_t dumpsz, char *err,
	    size_t errsz);
/* The number of fields of the profile loaded last. */
int	full_nfields(void);
int	view_nfields(void);
/* 0 stored, -1 refused, 1 retained or not ours. */
int	full_ingest(int field, const void *payload, size_t len, int retained,
	    int64_t now);
int	view_ingest(int field, const void *payload, size_t len, int retained,
	    int64_t now);
void	full_value(int field, int64_t now, struct side_value *);
void	view_value(int field, int64_t now, struct side_value *);

#endif
