/* gridcal-plant: what main, the publisher and the truth share. */
#ifndef PLANT_PLANT_H
#define PLANT_PLANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* retain: publish with the MQTT retain flag (a retain fault) */
typedef void (*emit_fn)(void *arg, const char *topic, const char *payload,
    bool retain);

/* Every telemetry field of the profile, faults applied, through emit. */
void	publish_telemetry(struct plant *, emit_fn emit, void *arg);

struct run_info {
	double		speed;
	uint64_t	seed;
	uint64_t	ticks, late_ticks;
	const char	*status_topic;
};

/*
 * The plant's true state as one line of JSON (no newline) into a malloc'd
 * string; NULL if out of memory.
 */
char	*truth_json(const struct plant *, const struct run_info *);

#endif
