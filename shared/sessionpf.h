/*
 * The MQTT session's glue to the full profile and the telemetry store, for
 * the supervisor and the tools (shared/sessionpf.c). The watchdog has its
 * own profile view and telemetry intake and links neither.
 */
#ifndef GRIDCAL_SESSIONPF_H
#define GRIDCAL_SESSIONPF_H

#include "session.h"

struct profile;
struct tm_store;

/*
 * Fills p with the profile's broker (host, port, keepalive, TLS files),
 * cred_path and client_prefix, and gridcal's backoff (100 ms doubling to 5 s) and
 * CONNACK deadline (5 s); callbacks are left NULL.
 */
void	session_params_init(struct session_params *p, const struct profile *,
	    const char *cred_path, const char *client_prefix);
/*
 * An on_message for a telemetry store (arg: the struct tm_store): ingests
 * each message with its arrival time on CLOCK_MONOTONIC; a retained one
 * only through tm_ingest_retained(), so it never makes a field fresh.
 */
void	session_store_message(void *arg, const char *topic,
	    const void *payload, size_t len, int retained);
/*
 * Subscribes to the telemetry store's topics of the pack fields in
 * pack_mask and the unit fields in unit_mask (bit 1 << enum pack_field /
 * enum unit_field; ~0u: all). -1 if a topic cannot be added.
 */
int	session_subscribe_store(struct session *, struct tm_store *,
	    unsigned pack_mask, unsigned unit_mask);

#endif
