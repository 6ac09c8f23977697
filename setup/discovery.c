/*
 * Home Assistant MQTT discovery: the static configs, retained, under
 * homeassistant/<component>/gridcal_<site>/<object>/config, so gridcal
 * shows up in HA without a line of HA YAML. gridcal-setup publishes them
 * (never the watchdog: its binary stays small); the facts they point at
 * are published by others, from their own evidence:
 *   gridcal/watchdog/state  the watchdog (verdict.c): state, last outcome
 *                           and reason, SoC spread first -> last and the
 *                           lagging packs, from its own telemetry
 *   gridcal/SITE/due        gridcal-audit due --publish: due, why, the
 *                           last successful calibration and the days since
 *                           (the watchdog's own records in the audit log)
 *   the alarm topic         the watchdog's alarm and its last will
 *   gridcal/watchdog/authorise  the watchdog's request of a grid run's
 *                           authorisation (--authorise ha): site and this
 *                           run's nonce, retained; "{}" once decided
 * Availability: the state topic says online, the alarm topic offline when
 * it holds the watchdog's last will ("watchdog_died"); the latest wins.
 * The alarm's own problem sensor has no availability: it must show when
 * the watchdog is dead.
 *
 * The button "Authorise grid calibration" (SAFETY.md H10.7) is available
 * only while a request is pending; its attributes are the request, and a
 * press publishes, not retained, on gridcal/SITE/authorise (which only the
 * homeassistant broker user may write) exactly the line the watchdog
 * parses (watchdog/authorise.c AUTH_FMT): the site, the request's nonce,
 * the press's time (Unix seconds) and the pressing HA user's id (the
 * press's context), which the watchdog records as a claim.
 */
#include <err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "sessionpf.h"
#include "setup.h"
#include "version.h"

#define HA_PREFIX	"homeassistant"
#define STATE_TOPIC	"gridcal/watchdog/state"	/* WD_STATE_TOPIC */
#define AUTH_REQUEST	"gridcal/watchdog/authorise"	/* authorise.c */
#define MSG_MAX		2048

struct entity {
	const char	*component;	/* sensor | binary_sensor */
	const char	*object;	/* the id in the topic and unique_id */
	const char	*name;
	int		 topic;		/* T_STATE, T_DUE, T_ALARM, T_AUTH */
	const char	*value_template;
	const char	*extra;		/* more JSON members, or "" */
};

enum { T_STATE, T_DUE, T_ALARM, T_AUTH };

static const struct entity entities[] = {
	{ "sensor", "state", "State", T_STATE, "{{ value_json.state }}",
	    ",\"icon\":\"mdi:battery-sync\"" },
	{ "sensor", "last_outcome", "Last outcome", T_STATE,
	    "{{ value_json.outcome }}", ",\"icon\":\"mdi:clipboard-check\"" },
	{ "sensor", "last_reason", "Last reason", T_STATE,
	    "{{ value_json.reason }}", ",\"icon\":\"mdi:text\"" },
	{ "sensor", "soc_spread_before", "SoC spread before", T_STATE,
	    "{{ value_json.soc_spread_before }}",
	    ",\"unit_of_measurement\":\"%\",\"state_class\":\"measurement\"" },
	{ "sensor", "soc_spread_after", "SoC spread after", T_STATE,
	    "{{ value_json.soc_spread_after }}",
	    ",\"unit_of_measurement\":\"%\",\"state_class\":\"measurement\"" },
	{ "sensor", "lagging_packs", "Lagging packs", T_STATE,
	    "{{ value_json.lagging if value_json.lagging else 'none' }}",
	    ",\"icon\":\"mdi:battery-alert\"" },
	{ "sensor", "last_success", "Last successful calibration", T_DUE,
	    "{{ value_json.last_pass }}", ",\"device_class\":\"timestamp\"" },
	{ "sensor", "days_since", "Days since calibration", T_DUE,
	    "{{ value_json.days_since_pass }}",
	    ",\"device_class\":\"duration\",\"unit_of_measurement\":\"d\","
	    "\"state_class\":\"measurement\"" },
	{ "binary_sensor", "due", "Calibration due", T_DUE,
	    "{{ 'ON' if value_json.due else 'OFF' }}",
	    ",\"payload_on\":\"ON\",\"payload_off\":\"OFF\","
	    "\"icon\":\"mdi:calendar-clock\"" },
	{ "binary_sensor", "alarm", "Alarm", T_ALARM,
	    "{{ 'ON' if value | length > 0 else 'OFF' }}",
	    ",\"payload_on\":\"ON\",\"payload_off\":\"OFF\","
	    "\"device_class\":\"problem\"" },
	{ "binary_sensor", "authorisation_requested",
	    "Grid authorisation requested", T_AUTH,
	    "{{ 'ON' if value_json is defined and value_json.nonce is defined "
	    "else 'OFF' }}", ",\"payload_on\":\"ON\",\"payload_off\":\"OFF\","
	    "\"icon\":\"mdi:shield-alert\"" },
	{ "button", "authorise_grid", "Authorise grid calibration", T_AUTH,
	    NULL, ",\"icon\":\"mdi:shield-check\"" },
};
#define NENTITIES	(sizeof(entities) / sizeof(entities[0]))

void
discovery_node(char *buf, size_t bufsz)
{
	size_t n;

	(void)snprintf(buf, bufsz, "gridcal_%s", su.pf.site);
	for (n = strlen("gridcal_"); buf[n] != '\0'; n++)
		if (!(buf[n] >= 'a' && buf[n] <= 'z') &&
		    !(buf[n] >= 'A' && buf[n] <= 'Z') &&
		    !(buf[n] >= '0' && buf[n] <= '9') && buf[n] != '-')
			buf[n] = '_';
}

/*
 * The button's members: what a press publishes, rendered by HA (this is
 * the button's state object: its attributes are the watchdog's request,
 * its context the press's user), and availability while a request waits.
 */
static int
button(char *buf, size_t bufsz)
{
	int n = snprintf(buf, bufsz, "\"command_topic\":\"gridcal/%s/authorise"
	    "\",\"command_template\":\"{\\\"site\\\":\\\"%s\\\","
	    "\\\"nonce\\\":\\\"{{ this.attributes.nonce | default('') }}\\\","
	    "\\\"ts\\\":{{ now().timestamp() | int }},\\\"user\\\":\\\""
	    "{{ this.context.user_id }}\\\"}\",\"json_attributes_topic\":"
	    "\"%s\",\"retain\":false,\"qos\":1,\"availability\":[{"
	    "\"topic\":\"%s\",\"value_template\":\"{{ 'online' if "
	    "value_json is defined and value_json.nonce is defined else "
	    "'offline' }}\"}]", su.pf.site, su.pf.site, AUTH_REQUEST,
	    AUTH_REQUEST);

	return n < 0 || (size_t)n >= bufsz ? -1 : n;
}

/* The profile's words are exact topics and plain names: no escaping. */
static int
config(const struct entity *e, const char *node, char *topic,
    size_t topicsz, char *msg, size_t msgsz)
{
	char due[PROFILE_TOPIC_MAX], avail[768] = "", st[1024];
	int n;

	(void)snprintf(due, sizeof(due), "gridcal/%s/due", su.pf.site);
	if (e->value_template == NULL)
		n = button(st, sizeof(st));
	else
		n = snprintf(st, sizeof(st), "\"state_topic\":\"%s\","
		    "\"value_template\":\"%s\"", e->topic == T_STATE ?
		    STATE_TOPIC : e->topic == T_DUE ? due : e->topic == T_AUTH ?
		    AUTH_REQUEST : su.pf.alarm_topic, e->value_template);
	if (n < 0 || (size_t)n >= sizeof(st))
		return -1;
	if (e->topic == T_STATE)
		(void)snprintf(avail, sizeof(avail), ",\"availability\":["
		    "{\"topic\":\"%s\",\"value_template\":\"online\"},"
		    "{\"topic\":\"%s\",\"value_template\":\"{{ 'offline' if "
		    "value_json is defined and value_json.alarm == "
		    "'watchdog_died' else 'online' }}\"}],"
		    "\"availability_mode\":\"latest\"", STATE_TOPIC,
		    su.pf.alarm_topic);
	n = snprintf(topic, topicsz, HA_PREFIX "/%s/%s/%s/config",
	    e->component, node, e->object);
	if (n < 0 || (size_t)n >= topicsz)
		return -1;
	n = snprintf(msg, msgsz, "{\"name\":\"%s\",\"unique_id\":\"%s_%s\","
	    "%s%s%s,"
	    "\"device\":{\"identifiers\":[\"%s\"],\"name\":\"gridcal %s\","
	    "\"manufacturer\":\"gridcal\",\"model\":\"LFP calibration "
	    "watchdog\",\"sw_version\":\"%s\"}}", e->name, node, e->object, st,
	    e->extra, avail, node, su.pf.site, GRIDCAL_VERSION);
	return n < 0 || (size_t)n >= msgsz ? -1 : n;
}

static int
connect_wait(struct session *s)
{
	int64_t deadline = mono_ms() + 10000;
	struct pollfd pfd;

	while (!session_connected(s) && mono_ms() < deadline) {
		session_pollfd(s, &pfd);
		pfd.revents = 0;
		if (pfd.fd != -1 && poll(&pfd, 1, 100) == -1)
			pfd.revents = 0;
		if (session_handle(s, pfd.revents, mono_ms()) == -1)
			return -1;
	}
	return session_connected(s) ? 0 : -1;
}

/*
 * --ha-discovery CRED: publishes every config, retained, QoS 1, with the
 * broker user in CRED (one that may write homeassistant/#), and waits for
 * each acknowledgement. --dry-run: prints "topic payload" lines instead.
 */
void
discovery_publish(const char *cred)
{
	struct session_params sp;
	struct session *s = NULL;
	char node[80], topic[256], msg[MSG_MAX], err[SESSION_ERR_MAX];
	int n;

	/* the site's name goes into JSON strings and topic levels as is */
	if (strpbrk(su.pf.site, "\"\\/+#") != NULL)
		errx(SETUP_EX_CONFIG, "%s: site \"%s\": no quote, backslash, "
		    "'/', '+' or '#' for Home Assistant", su.pf.path,
		    su.pf.site);
	for (const char *c = su.pf.site; *c != '\0'; c++)
		if (*c < 0x20 || *c > 0x7e)
			errx(SETUP_EX_CONFIG, "%s: site: printable ASCII only "
			    "for Home Assistant", su.pf.path);
	discovery_node(node, sizeof(node));
	if (!su.dry_run) {
		session_params_init(&sp, &su.pf, cred, "gridcal-setup");
		if ((s = session_new(&sp, err, sizeof(err))) == NULL)
			errx(1, "broker session: %s", err);
		if (connect_wait(s) == -1)
			errx(1, "broker %s:%u: %s", su.pf.broker_host,
			    (unsigned)su.pf.broker_port, session_error(s));
	}
	for (size_t i = 0; i < NENTITIES; i++) {
		if ((n = config(&entities[i], node, topic, sizeof(topic), msg,
		    sizeof(msg))) == -1)
			errx(SETUP_EX_CONFIG, "%s: site name too long for HA "
			    "discovery", su.pf.path);
		if (su.dry_run) {
			(void)printf("%s %s\n", topic, msg);
			continue;
		}
		if (session_publish(s, topic, msg, (size_t)n, 1, 1, NULL) == -1)
			errx(1, "publish %s: %s", topic, session_error(s));
	}
	if (s != NULL) {
		if (session_drain(s, 10000) == -1)
			errx(1, "broker: the discovery configs were not all "
			    "acknowledged: %s", session_error(s));
		session_free(s);
		(void)printf("gridcal-setup: %zu Home Assistant discovery "
		    "configs published under " HA_PREFIX "/+/%s/\n", NENTITIES,
		    node);
	}
}
