/*
 * The supervisor's end of the socketpair protocol (shared/proto_supervisor.c):
 * it encodes requests and decodes answers. Never linked into the watchdog.
 */
#ifndef GRIDCAL_PROTO_SUPERVISOR_H
#define GRIDCAL_PROTO_SUPERVISOR_H

#include "proto.h"

extern const struct proto_end proto_supervisor;

/* Constructors for the supervisor's requests */
void	proto_set_hello(struct proto_msg *, const uint8_t *digest);
void	proto_set_heartbeat(struct proto_msg *, unsigned state);
void	proto_set_request(struct proto_msg *, enum setting,
	    enum setting_value);
/* Returns -1 if event or text is not acceptable (text is truncated). */
int	proto_set_audit(struct proto_msg *, const char *event,
	    const char *text);
int	proto_set_done(struct proto_msg *, enum proto_outcome,
	    const char *reason);
/* Reverse of proto_outcome_name(), case-sensitive; -1 if none. */
int	proto_outcome_parse(const char *name);

#endif
