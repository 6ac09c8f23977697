/* Internal to tests/harness: an hclient that hands every message to fn. */
#ifndef GRIDCAL_HCLIENT_INT_H
#define GRIDCAL_HCLIENT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hbroker;
struct hclient;

/* Called in the client's network thread. */
typedef void (*hclient_msg_fn)(void *arg, const char *topic,
	    const void *payload, size_t len, bool retain);

struct hclient *hclient_connect_cb(const struct hbroker *, const char *user,
	    bool v5, int64_t timeout_ms, hclient_msg_fn fn, void *arg);

#endif
