/*
 * A session fed from a profile and into a telemetry store: the supervisor's
 * and the tools' glue (session.h). Kept out of session.c so that the
 * watchdog, which has its own profile view and intake, links neither
 * shared/profile.c nor shared/telemetry.c through its MQTT session.
 */
#include <string.h>

#include "clock.h"
#include "log.h"
#include "profile.h"
#include "sessionpf.h"
#include "telemetry.h"

void
session_params_init(struct session_params *p, const struct profile *pf,
    const char *cred_path, const char *client_prefix)
{
	memset(p, 0, sizeof(*p));
	p->client_prefix = client_prefix;
	p->host = pf->broker_host;
	p->port = pf->broker_port;
	p->keepalive_s = pf->broker_keepalive_s;
	p->tls_ca = pf->broker_tls_ca;
	p->tls_cert = pf->broker_tls_cert;
	p->tls_key = pf->broker_tls_key;
	p->cred_path = cred_path;
	p->backoff_min_ms = 100;
	p->backoff_max_ms = 5000;
	p->connect_timeout_ms = 5000;
}

void
session_store_message(void *arg, const char *topic, const void *payload,
    size_t len, int retained)
{
	struct tm_store *tm = arg;
	char why[128];

	/* retained: the broker's copy of the past, never a fresh reading */
	if (retained)
		(void)tm_ingest_retained(tm, topic, mono_ms());
	else if (tm_ingest(tm, topic, payload, len, mono_ms(), why,
	    sizeof(why)) == TM_REJECTED)
		log_debug("%s: %s", topic, why);
}

int
session_subscribe_store(struct session *s, struct tm_store *tm,
    unsigned pack_mask, unsigned unit_mask)
{
	const struct tm_topic *t = tm->topics;

	for (int i = 0; i < tm->ntopics; i++, t++)
		if ((1u << t->field) & (t->unit >= 0 ? unit_mask : pack_mask) &&
		    session_subscribe(s, t->topic, 0) == -1)
			return -1;
	return 0;
}
