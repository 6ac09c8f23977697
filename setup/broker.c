/*
 * The broker side: one broker user per program, each with a random
 * password written once into its credentials file (a file that exists
 * keeps its password), and the mosquitto lines that let each read and
 * write exactly the profile's topics. The passwords are never printed: the
 * lines read them from the files.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditseal.h"
#include "setup.h"
#include "telemetry.h"

#define PASS_LEN	32

static const char *const broker_user[3] = { "gridcal-watchdog",
    "gridcal-supervisor", "gridcal-report" };

static void
cred_text(char *buf, size_t bufsz, const char *user)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	char pass[PASS_LEN + 1];

	for (int i = 0; i < PASS_LEN; i++)	/* 190 bits */
		pass[i] = alnum[arc4random_uniform(sizeof(alnum) - 1)];
	pass[PASS_LEN] = '\0';
	(void)snprintf(buf, bufsz, "%s:%s\n", user, pass);
	explicit_bzero(pass, sizeof(pass));
}

/*
 * The watchdog's file: its own user's, 0600 (read before or after it drops
 * root); the supervisor's: root's, readable by the supervisor's group,
 * 0640 (it reads it after the drop, and may not rewrite it: the
 * watchdog's StrictModes, watchdog/sandbox.c). Two files, two inodes,
 * neither readable by the other.
 */
void
broker_credentials(void)
{
	char text[128];

	if (strcmp(su.pf.cred_watchdog, su.pf.cred_supervisor) == 0)
		errx(SETUP_EX_CONFIG, "%s: credentials.watchdog and "
		    "credentials.supervisor must be different files",
		    su.pf.path);
	cred_text(text, sizeof(text), broker_user[0]);
	file_ensure(su.pf.cred_watchdog, text, su.watchdog.uid,
	    su.watchdog.gid, 0600);
	cred_text(text, sizeof(text), broker_user[1]);
	file_ensure(su.pf.cred_supervisor, text, su.supervisor.uid ==
	    (uid_t)-1 ? (uid_t)-1 : 0, su.supervisor.gid, 0640);
	/* report-only (gridcal-due.service, --ha-discovery): root's */
	cred_text(text, sizeof(text), broker_user[2]);
	file_ensure(REPORT_CRED, text, 0, 0, 0600);
	explicit_bzero(text, sizeof(text));
}

/*
 * The report-only user: reads telemetry (gridcal-audit due --live), writes
 * the due answer and this site's Home Assistant discovery configs only.
 */
static void
acl_report(const struct tm_store *tm)
{
	char node[80];

	discovery_node(node, sizeof(node));
	(void)printf("user %s\n", broker_user[2]);
	for (int i = 0; i < tm->ntopics; i++)
		(void)printf("topic read %s\n", tm->topics[i].topic);
	(void)printf("topic write gridcal/%s/due\n", su.pf.site);
	(void)printf("topic write homeassistant/sensor/%s/+/config\n", node);
	(void)printf("topic write homeassistant/binary_sensor/%s/+/config\n",
	    node);
	(void)printf("topic write homeassistant/button/%s/+/config\n\n", node);
}

/*
 * Home Assistant's own user: it reads gridcal's state and the discovery
 * configs, and writes only the authorisation topic of this site, of which
 * it is the only writer: the watchdog records this user as the writer of
 * an authorisation (SAFETY.md H10.7).
 */
static void
acl_homeassistant(void)
{
	(void)printf("user homeassistant\n"
	    "topic read gridcal/#\n"
	    "topic read homeassistant/#\n"
	    "topic write gridcal/%s/authorise\n\n", su.pf.site);
}

/* A per-unit control template ({u}) is one topic per unit: the ACL is
 * literal, so each is a line of its own. */
static void
control_lines(const char *tmpl)
{
	char t[PROFILE_TOPIC_MAX];

	if (!su.pf.control_per_unit) {
		(void)printf("topic write %s\n", tmpl);
		return;
	}
	for (int u = 1; u <= su.pf.units; u++) {
		if (topic_expand(tmpl, u, t, sizeof(t)) == -1)
			errx(SETUP_EX_CONFIG, "%s: %s: too long for unit %d",
			    su.pf.path, tmpl, u);
		(void)printf("topic write %s\n", t);
	}
}

static void
acl_user(const char *user, const struct tm_store *tm, int watchdog)
{
	(void)printf("user %s\n", user);
	for (int i = 0; i < tm->ntopics; i++)
		(void)printf("topic read %s\n", tm->topics[i].topic);
	if (watchdog) {
		for (int s = 0; s < SETTING_COUNT; s++)
			control_lines(su.pf.control[s].topic);
		/* the retained alarm and the watchdog's last will */
		(void)printf("topic write %s\n", su.pf.alarm_topic);
		/* the audit log's seals, retained for an observer to keep */
		(void)printf("topic write %s\n", SEAL_TOPIC);
		/* a grid run's authorisation: the request, the answer */
		(void)printf("topic write gridcal/watchdog/#\n"
		    "topic read gridcal/%s/authorise\n", su.pf.site);
	} else
		(void)printf("topic write %s\n", su.pf.status_topic);
	(void)printf("\n");
}

void
broker_print_lines(void)
{
	static struct tm_store tm;

	if (tm_init(&tm, &su.pf) == -1)
		errx(SETUP_EX_CONFIG, "%s: bad telemetry topics", su.pf.path);
	(void)printf("\n"
	    "# ---- mosquitto: what to add on %s:%u ----\n"
	    "# In the broker's configuration (see %s/mosquitto-gridcal.conf):\n"
	    "#   allow_anonymous false\n"
	    "#   password_file /etc/mosquitto/passwd\n"
	    "#   acl_file /etc/mosquitto/acl\n"
	    "# The users, with the passwords gridcal-setup wrote (a fresh\n"
	    "# mosquitto has no password file, and -b creates none; mosquitto\n"
	    "# reads it after dropping to its user, so root:mosquitto 0640):\n"
	    "[ -e /etc/mosquitto/passwd ] || install -m 0640 -o root "
	    "-g mosquitto /dev/null /etc/mosquitto/passwd\n",
	    su.pf.broker_host, su.pf.broker_port, su.datadir);
	(void)printf("mosquitto_passwd -b /etc/mosquitto/passwd %s "
	    "\"$(cut -d: -f2- %s)\"\n", broker_user[0], su.pf.cred_watchdog);
	(void)printf("mosquitto_passwd -b /etc/mosquitto/passwd %s "
	    "\"$(cut -d: -f2- %s)\"\n", broker_user[1],
	    su.pf.cred_supervisor);
	(void)printf("mosquitto_passwd -b /etc/mosquitto/passwd %s "
	    "\"$(cut -d: -f2- %s)\"\n", broker_user[2], REPORT_CRED);
	/* a comment: the password is HA's, typed in (not ours to print) */
	(void)printf("# Home Assistant's user, with the password its MQTT "
	    "integration uses:\n#   mosquitto_passwd /etc/mosquitto/passwd "
	    "homeassistant\n");
	(void)printf("# In the ACL file (no other user may write the control "
	    "or alarm topics):\n\n");
	acl_user(broker_user[0], &tm, 1);
	acl_user(broker_user[1], &tm, 0);
	acl_report(&tm);
	acl_homeassistant();
	(void)printf("# then: systemctl reload mosquitto\n");
}
