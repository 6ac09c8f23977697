/*
 * A grid run authorised from Home Assistant (issue 16). With --authorise
 * ha, once the start-up recovery is over, the watchdog subscribes to the
 * site's authorisation topic, publishes a request holding a nonce of this
 * run (retained: HA's button keeps it as an attribute) and waits
 * timing.preflight_wait_s for the press. The press is accepted only if it
 * arrives live (the broker's retained copy is the past, never a press),
 * names this site, returns this run's nonce (a payload captured in an
 * earlier run is useless) and carries a timestamp within 60 s of our
 * clock. The first live press decides, once: a refused one ends the run
 * as refused, before the supervisor exists; without one, grid stays
 * refused. Every message on the topic is recorded.
 *
 * Who: the broker authenticates, and its ACL lets only "homeassistant"
 * write the topic. The watchdog cannot see the publisher: it records that
 * user as the ACL's writer, and the HA user in the payload as a claim.
 */
#include <sys/random.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "watchdog.h"

#define AUTH_REQUEST	"gridcal/watchdog/authorise"
/* exactly what the button's command_template renders (setup/discovery.c);
 * a site with a quote never matches: refused */
#define AUTH_FMT	"{\"site\":\"%63[^\"]\",\"nonce\":\"%32[0-9a-f]\"," \
	"\"ts\":%20[0-9],\"user\":\"%64[A-Za-z0-9_.@ -]\"}%lln"

int auth_ha;
static char topic[PROFILE_TOPIC_MAX], nonce[33];
static int64_t since_ms;	/* the request went out; 0: not yet */
static int decided;

/* no: NULL to accept, else why refused. Acts first, records after. */
static void
decide(const char *no, int final, const char *user, long long age)
{
	if (final && !decided) {
		decided = 1;
		/* withdrawn, best effort: the nonce dies with the run */
		(void)session_publish(wd.sess, AUTH_REQUEST, "{}", 2, 1, 1,
		    NULL);
		if (no == NULL)
			wd.authorised = wd.confirm = 1;
		else
			wd_finish(GC_EX_REFUSED, no);
	}
	(void)WD_AUDIT(AUDIT_EV_AUTHORISE, AF_S("result", no ? "refused" :
	    "accepted"), AF_S("reason", no ? no : "fresh, this site, this "
	    "run's nonce"), AF_S("acl_writer", "homeassistant"),
	    AF_S("claim_user", user), AF_I("age_s", age));
}

void
auth_message(void *arg, const char *t, const void *p, size_t len,
    int retained)
{
	char buf[256] = "", site[64], n[33] = "", ts[21], user[65] = "";
	const char *no = NULL, *e = NULL;
	long long age = 0, end = 0;

	(void)arg;
	if (!auth_ha || strcmp(t, topic) != 0)
		return;	/* telemetry, or before the request */
	memcpy(buf, p, len < sizeof(buf) ? len : sizeof(buf) - 1);
	if (retained)
		no = "authorisation retained: the broker's copy, never a press";
	else if (len >= sizeof(buf) || sscanf(buf, AUTH_FMT, site, n, ts,
	    user, &end) != 4 || end != (long long)len)
		no = "authorisation malformed: not the button's payload";
	else if (strcmp(site, wd.pf.site) != 0)
		no = "authorisation names another site";
	else if (sodium_memcmp(n, nonce, sizeof(nonce)) != 0)
		no = "authorisation without this run's nonce (a replay?)";
	else if ((age = utc_ms() / 1000 - strtonum(ts, 0, INT64_MAX, &e)),
	    e != NULL || llabs(age) > 60)
		no = "authorisation stale: its time is over 60 s from ours";
	else if (decided)
		no = "authorisation after the decision: a nonce is good once";
	decide(no, !retained, user, age);
}

/* 1 while the run waits for the press; then 0, decided. */
int
auth_wait(int64_t now)
{
	unsigned char r[16];
	char msg[160];

	if (auth_ha && since_ms == 0 && wd.exit_code < 0) {
		since_ms = now;
		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			fatal("getrandom");
		(void)sodium_bin2hex(nonce, sizeof(nonce), r, sizeof(r));
		(void)snprintf(topic, sizeof(topic), "gridcal/%s/authorise",
		    wd.pf.site);
		(void)snprintf(msg, sizeof(msg), "{\"site\":\"%s\",\"nonce\":"
		    "\"%s\"}", wd.pf.site, nonce);
		if (session_subscribe(wd.sess, topic, 1) == -1 || session_publish(
		    wd.sess, AUTH_REQUEST, msg, strlen(msg), 1, 1, NULL) == -1)
			wd_finish(GC_EX_REFUSED, "authorisation: not asked for");
		notify("READY=1");	/* recovered; a person is asked */
		log_info("waiting for the authorisation from Home Assistant");
	}
	if (auth_ha && !decided && (wd.exit_code >= 0 ||
	    now - since_ms > wd.pf.timing.preflight_wait_ms))
		decide(wd.exit_code >= 0 ? "authorisation: the run ended" :
		    "authorisation missing: no press within "
		    "timing.preflight_wait_s", 1, "", 0);
	return auth_ha && !decided;
}
