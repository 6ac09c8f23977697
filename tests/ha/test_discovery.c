/*
 * Home Assistant discovery on the real test broker: gridcal-setup
 * --ha-discovery publishes with the report user; a fresh client then
 * subscribes to homeassistant/# and must get every config RETAINED, each a
 * well-formed JSON object holding only fields of HA's MQTT sensor /
 * binary_sensor schema, with the types and values HA accepts for the
 * fields used (device_class, unit, state_class, payloads, availability),
 * unique ids, one device, and state topics that gridcal publishes: the
 * watchdog's state topic, the due topic, the alarm topic. Then the facts:
 * gridcal-audit due --publish puts a retained answer on the due topic
 * that the "due" and "last successful calibration" templates read.
 */
#include <sys/stat.h>

#include <check.h>
#include <mosquitto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/harness/harness.h"

#define MAXMSG		32
#define PAYLOAD_MAX	4096

struct got {
	pthread_mutex_t	lock;
	int		n;
	char		topic[MAXMSG][256];
	char		payload[MAXMSG][PAYLOAD_MAX];
	int		retain[MAXMSG];
};

static struct hbroker br;
static char wd[PATH_MAX], root[PATH_MAX + 16], prof[PATH_MAX];

static void
on_msg(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
	struct got *g = arg;

	(void)m;
	(void)pthread_mutex_lock(&g->lock);
	if (g->n < MAXMSG && msg->payloadlen < PAYLOAD_MAX) {
		(void)strlcpy(g->topic[g->n], msg->topic, sizeof(g->topic[0]));
		memcpy(g->payload[g->n], msg->payload, (size_t)msg->payloadlen);
		g->payload[g->n][msg->payloadlen] = '\0';
		g->retain[g->n] = msg->retain;
		g->n++;
	}
	(void)pthread_mutex_unlock(&g->lock);
}

/* Subscribes as the observer and collects until n messages or timeout. */
static void
collect(const char *pattern, int n, struct got *g)
{
	struct mosquitto *m;
	int64_t deadline = harness_now_ms() + 10000;
	int have = 0;

	memset(g, 0, sizeof(*g));
	(void)pthread_mutex_init(&g->lock, NULL);
	ck_assert_ptr_nonnull(m = mosquitto_new(NULL, true, g));
	mosquitto_message_callback_set(m, on_msg);
	ck_assert_int_eq(mosquitto_username_pw_set(m, "observer",
	    hbroker_password(&br, "observer")), MOSQ_ERR_SUCCESS);
	ck_assert_int_eq(mosquitto_connect(m, "127.0.0.1", br.port, 30),
	    MOSQ_ERR_SUCCESS);
	ck_assert_int_eq(mosquitto_subscribe(m, NULL, pattern, 1),
	    MOSQ_ERR_SUCCESS);
	while (harness_now_ms() < deadline) {
		(void)mosquitto_loop(m, 50, 1);
		(void)pthread_mutex_lock(&g->lock);
		have = g->n;
		(void)pthread_mutex_unlock(&g->lock);
		if (have >= n)
			break;
	}
	/* a little longer: nothing more may come */
	for (int i = 0; i < 5; i++)
		(void)mosquitto_loop(m, 20, 1);
	(void)mosquitto_disconnect(m);
	mosquitto_destroy(m);
}

/* ---- a strict JSON reader: well-formed, and the top level's members ---- */

struct jr {
	const char	*p;
	int		 depth;
};

static void
jws(struct jr *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static int jvalue(struct jr *);

static int
jstring(struct jr *j, char *out, size_t outsz)
{
	size_t n = 0;

	if (*j->p != '"')
		return -1;
	for (j->p++; *j->p != '"'; j->p++) {
		if ((unsigned char)*j->p < 0x20 || *j->p == '\0')
			return -1;
		if (*j->p == '\\') {
			j->p++;
			if (strchr("\"\\/bfnrtu", *j->p) == NULL || *j->p ==
			    '\0')
				return -1;
		}
		if (out != NULL && n + 1 < outsz)
			out[n++] = *j->p;
	}
	j->p++;
	if (out != NULL)
		out[n] = '\0';
	return 0;
}

static int
jcontainer(struct jr *j, char close)
{
	if (++j->depth > 16)
		return -1;
	j->p++;
	jws(j);
	if (*j->p == close) {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		jws(j);
		if (close == '}') {
			if (jstring(j, NULL, 0) == -1)
				return -1;
			jws(j);
			if (*j->p++ != ':')
				return -1;
		}
		if (jvalue(j) == -1)
			return -1;
		jws(j);
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p++ != close)
			return -1;
		j->depth--;
		return 0;
	}
}

static int
jvalue(struct jr *j)
{
	jws(j);
	if (*j->p == '"')
		return jstring(j, NULL, 0);
	if (*j->p == '{')
		return jcontainer(j, '}');
	if (*j->p == '[')
		return jcontainer(j, ']');
	if (strncmp(j->p, "true", 4) == 0 || strncmp(j->p, "null", 4) == 0) {
		j->p += 4;
		return 0;
	}
	if (strncmp(j->p, "false", 5) == 0) {
		j->p += 5;
		return 0;
	}
	if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) {
		(void)strtod(j->p, (char **)&j->p);
		return 0;
	}
	return -1;
}

/* Well-formed object; its top-level keys into keys (at most 32). */
static int
jobject_keys(const char *s, char keys[][40], int *nkeys)
{
	struct jr j = { s, 0 };

	*nkeys = 0;
	jws(&j);
	if (*j.p != '{')
		return -1;
	j.p++;
	jws(&j);
	while (*j.p != '}') {
		if (*nkeys == 32 || jstring(&j, keys[*nkeys], 40) == -1)
			return -1;
		(*nkeys)++;
		jws(&j);
		if (*j.p++ != ':' || jvalue(&j) == -1)
			return -1;
		jws(&j);
		if (*j.p == ',') {
			j.p++;
			jws(&j);
		} else if (*j.p != '}')
			return -1;
	}
	j.p++;
	jws(&j);
	return *j.p == '\0' ? 0 : -1;
}

/* ---- HA's MQTT schema, the fields gridcal uses ---- */

static const char *const common_fields[] = {
	"name", "unique_id", "state_topic", "value_template", "device",
	"availability", "availability_mode", "icon", "device_class",
	"json_attributes_topic", NULL
};
static const char *const sensor_fields[] = {
	"unit_of_measurement", "state_class", NULL
};
static const char *const binary_fields[] = {
	"payload_on", "payload_off", NULL
};
static const char *const button_fields[] = {
	"command_topic", "command_template", "retain", "qos", NULL
};

static bool
in(const char *const *set, const char *k)
{
	for (; *set != NULL; set++)
		if (strcmp(*set, k) == 0)
			return true;
	return false;
}

static const char *const want_objects[] = {
	"sensor/state", "sensor/last_outcome", "sensor/last_reason",
	"sensor/soc_spread_before", "sensor/soc_spread_after",
	"sensor/lagging_packs", "sensor/last_success", "sensor/days_since",
	"binary_sensor/due", "binary_sensor/alarm",
	"binary_sensor/authorisation_requested", "button/authorise_grid",
};
#define NWANT	(sizeof(want_objects) / sizeof(want_objects[0]))

/*
 * HA's MQTT button: a press publishes command_template's rendering on
 * command_topic (the site's authorisation topic, not retained: a retained
 * press would be refused), available only while the watchdog's request
 * waits; its attributes are that request (the nonce the template reads).
 * The rendering itself is checked against the real watchdog in
 * test_authorise.c.
 */
static void
check_button(const char *topic, const char *json, char keys[][40],
    int nkeys, const char *node)
{
	char buf[1024], want[160];
	double v;

	for (int k = 0; k < nkeys; k++)
		ck_assert_msg(in(common_fields, keys[k]) ||
		    in(button_fields, keys[k]), "%s: %s is not a field of HA's "
		    "MQTT button", topic, keys[k]);
	ck_assert_int_eq(hjson_str(json, "name", buf, sizeof(buf)), 0);
	ck_assert_int_eq(hjson_str(json, "unique_id", buf, sizeof(buf)), 0);
	(void)snprintf(want, sizeof(want), "%s_authorise_grid", node);
	ck_assert_str_eq(buf, want);
	ck_assert_int_eq(hjson_str(json, "command_topic", buf, sizeof(buf)),
	    0);
	ck_assert_str_eq(buf, "gridcal/eg4-lp4-v2-sim/authorise");
	ck_assert_int_ne(hjson_str(json, "state_topic", buf, sizeof(buf)), 0);
	ck_assert_int_eq(hjson_num(json, "retain", &v), 0);
	ck_assert(v == 0);
	ck_assert_int_eq(hjson_num(json, "qos", &v), 0);
	ck_assert(v == 1);
	ck_assert_int_eq(hjson_str(json, "json_attributes_topic", buf,
	    sizeof(buf)), 0);
	ck_assert_str_eq(buf, "gridcal/watchdog/authorise");
	ck_assert_int_eq(hjson_str(json, "availability[0].topic", buf,
	    sizeof(buf)), 0);
	ck_assert_str_eq(buf, "gridcal/watchdog/authorise");
	ck_assert_int_eq(hjson_str(json, "availability[0].value_template",
	    buf, sizeof(buf)), 0);
	ck_assert(strstr(buf, "value_json.nonce") != NULL);
	ck_assert_int_eq(hjson_str(json, "command_template", buf, sizeof(buf)),
	    0);
	ck_assert_msg(strncmp(buf, "{\"site\":\"eg4-lp4-v2-sim\",\"nonce\":"
	    "\"{{ this.attributes.nonce", 48) == 0, "template %s", buf);
	ck_assert(strstr(buf, "now().timestamp()") != NULL);
	ck_assert(strstr(buf, "this.context.user_id") != NULL);
	ck_assert_int_eq(hjson_str(json, "device.identifiers[0]", buf,
	    sizeof(buf)), 0);
	ck_assert_str_eq(buf, node);
}

static void
check_config(const char *topic, const char *json, const char *node,
    char uids[][128], int idx)
{
	char keys[32][40], comp[32], obj[64], buf[512], want_uid[160];
	const char *const *extra;
	double d;
	int nkeys, binary;

	ck_assert_msg(jobject_keys(json, keys, &nkeys) == 0,
	    "%s: not a well-formed JSON object: %s", topic, json);
	ck_assert_msg(sscanf(topic, "homeassistant/%31[^/]/%*[^/]/%63[^/]/"
	    "config", comp, obj) == 2, "topic %s", topic);
	binary = strcmp(comp, "binary_sensor") == 0;
	if (strcmp(comp, "button") == 0) {
		check_button(topic, json, keys, nkeys, node);
		(void)hjson_str(json, "unique_id", uids[idx], sizeof(uids[0]));
		for (int i = 0; i < idx; i++)
			ck_assert_str_ne(uids[i], uids[idx]);
		return;
	}
	ck_assert_msg(binary || strcmp(comp, "sensor") == 0, "%s", comp);
	extra = binary ? binary_fields : sensor_fields;
	for (int k = 0; k < nkeys; k++)
		ck_assert_msg(in(common_fields, keys[k]) || in(extra, keys[k]),
		    "%s: %s is not a field of HA's MQTT %s", topic, keys[k],
		    comp);
	/* required, with HA's types */
	ck_assert_int_eq(hjson_str(json, "name", buf, sizeof(buf)), 0);
	ck_assert_int_eq(hjson_str(json, "unique_id", uids[idx],
	    sizeof(uids[0])), 0);
	(void)snprintf(want_uid, sizeof(want_uid), "%s_%s", node, obj);
	ck_assert_str_eq(uids[idx], want_uid);
	for (int i = 0; i < idx; i++)
		ck_assert_str_ne(uids[i], uids[idx]);
	ck_assert_int_eq(hjson_str(json, "state_topic", buf, sizeof(buf)), 0);
	ck_assert_msg(strcmp(buf, "gridcal/watchdog/state") == 0 ||
	    strcmp(buf, "gridcal/eg4-lp4-v2-sim/due") == 0 ||
	    strcmp(buf, "gridcal/watchdog/authorise") == 0 ||
	    strcmp(buf, "gridcal/alarm") == 0, "%s: state_topic %s", topic,
	    buf);
	ck_assert_int_eq(hjson_str(json, "value_template", buf, sizeof(buf)),
	    0);
	ck_assert_msg(strstr(buf, "{{") != NULL && strstr(buf, "value") !=
	    NULL, "%s: template %s", topic, buf);
	ck_assert_int_eq(hjson_str(json, "device.identifiers[0]", buf,
	    sizeof(buf)), 0);
	ck_assert_str_eq(buf, node);
	ck_assert_int_eq(hjson_str(json, "device.name", buf, sizeof(buf)), 0);
	/* the values HA accepts for what is used */
	if (hjson_str(json, "device_class", buf, sizeof(buf)) == 0)
		ck_assert_msg(binary ? strcmp(buf, "problem") == 0 :
		    strcmp(buf, "timestamp") == 0 ||
		    strcmp(buf, "duration") == 0, "%s: device_class %s", topic,
		    buf);
	if (hjson_str(json, "device_class", buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "timestamp") == 0)
		ck_assert_int_ne(hjson_str(json, "unit_of_measurement", buf,
		    sizeof(buf)), 0);
	if (hjson_str(json, "device_class", buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "duration") == 0) {
		ck_assert_int_eq(hjson_str(json, "unit_of_measurement", buf,
		    sizeof(buf)), 0);
		ck_assert(strcmp(buf, "d") == 0 || strcmp(buf, "h") == 0 ||
		    strcmp(buf, "min") == 0 || strcmp(buf, "s") == 0);
	}
	if (hjson_str(json, "state_class", buf, sizeof(buf)) == 0) {
		ck_assert_str_eq(buf, "measurement");
		ck_assert_int_eq(hjson_str(json, "unit_of_measurement", buf,
		    sizeof(buf)), 0);
	}
	if (binary) {
		char tmpl[256];

		ck_assert_int_eq(hjson_str(json, "value_template", tmpl,
		    sizeof(tmpl)), 0);
		ck_assert_int_eq(hjson_str(json, "payload_on", buf,
		    sizeof(buf)), 0);
		ck_assert(strstr(tmpl, buf) != NULL);
		ck_assert_int_eq(hjson_str(json, "payload_off", buf,
		    sizeof(buf)), 0);
		ck_assert(strstr(tmpl, buf) != NULL);
	}
	if (hjson_str(json, "availability_mode", buf, sizeof(buf)) == 0)
		ck_assert(strcmp(buf, "all") == 0 || strcmp(buf, "any") == 0 ||
		    strcmp(buf, "latest") == 0);
	/* availability: the last will on the alarm topic; the alarm itself
	 * has none (it must show when the watchdog is dead) */
	if (strcmp(obj, "alarm") == 0)
		ck_assert_int_ne(hjson_str(json, "availability[0].topic", buf,
		    sizeof(buf)), 0);
	if (hjson_str(json, "state_topic", buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "gridcal/watchdog/state") == 0) {
		ck_assert_int_eq(hjson_str(json, "availability[1].topic", buf,
		    sizeof(buf)), 0);
		ck_assert_str_eq(buf, "gridcal/alarm");
		ck_assert_int_eq(hjson_str(json, "availability[1]."
		    "value_template", buf, sizeof(buf)), 0);
		ck_assert(strstr(buf, "watchdog_died") != NULL);
	}
	(void)d;
}

static void
setup(void)
{
	char dir[PATH_MAX + 64], err[256];
	char *text;
	size_t len;

	ck_assert_int_eq(harness_workdir(wd, sizeof(wd), "ha"), 0);
	ck_assert_int_eq(hbroker_start(&br, wd), 0);
	ck_assert_int_eq(hprofile_write(&br, prof, sizeof(prof), NULL, 0, err,
	    sizeof(err)), 0);
	/* gridcal-setup reads ROOT/etc/gridcal/profile.yaml */
	(void)snprintf(root, sizeof(root), "%s/root", wd);
	(void)snprintf(dir, sizeof(dir), "%s/etc", root);
	ck_assert(mkdir(root, 0700) == 0 && mkdir(dir, 0755) == 0);
	(void)strlcat(dir, "/gridcal", sizeof(dir));
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	(void)strlcat(dir, "/profile.yaml", sizeof(dir));
	ck_assert_ptr_nonnull(text = harness_read_file(prof, &len));
	ck_assert_int_eq(harness_write_file(dir, text, 0644), 0);
	free(text);
}

static void
teardown(void)
{
	(void)hbroker_stop(&br);
}

static int
setup_run(const char *cred)
{
	char bin[PATH_MAX];
	char *argv[] = { bin, (char *)"--root", root, (char *)"--ha-discovery",
	    (char *)cred, NULL };

	ck_assert_int_eq(harness_path(bin, sizeof(bin), "build/gridcal-setup"),
	    0);
	return hproc_run(argv, 30000);
}

START_TEST(discovery_configs_are_retained_and_valid)
{
	static struct got g;
	char cred[PATH_MAX], uids[MAXMSG][128], node[64] = "gridcal_";
	bool found[NWANT] = { false };

	(void)strlcat(node, "eg4-lp4-v2-sim", sizeof(node));
	ck_assert_int_eq(hbroker_cred_path(&br, "report", cred, sizeof(cred)),
	    0);
	ck_assert_int_eq(setup_run(cred), 0);
	/* idempotent: a second run replaces, never adds */
	ck_assert_int_eq(setup_run(cred), 0);
	collect("homeassistant/+/+/+/config", (int)NWANT, &g);
	ck_assert_int_eq(g.n, (int)NWANT);
	for (int i = 0; i < g.n; i++) {
		char co[96];

		ck_assert_msg(g.retain[i], "%s not retained", g.topic[i]);
		check_config(g.topic[i], g.payload[i], node, uids, i);
		for (size_t w = 0; w < NWANT; w++) {
			(void)snprintf(co, sizeof(co), "homeassistant/%.*s/%s/%s/"
			    "config", (int)strcspn(want_objects[w], "/"),
			    want_objects[w], node,
			    strchr(want_objects[w], '/') + 1);
			if (strcmp(co, g.topic[i]) == 0)
				found[w] = true;
		}
	}
	for (size_t w = 0; w < NWANT; w++)
		ck_assert_msg(found[w], "no config for %s", want_objects[w]);
}
END_TEST

START_TEST(discovery_needs_a_user_that_may_write_it)
{
	static struct got g;
	char cred[PATH_MAX];

	/* the supervisor may not write homeassistant/#: nothing retained */
	ck_assert_int_eq(hbroker_cred_path(&br, "supervisor", cred,
	    sizeof(cred)), 0);
	(void)setup_run(cred);
	collect("homeassistant/+/+/+/config", 1, &g);
	ck_assert_int_eq(g.n, 0);
}
END_TEST

START_TEST(due_publishes_the_retained_answer)
{
	static struct got g;
	char bin[PATH_MAX], cred[PATH_MAX], log[PATH_MAX + 32], buf[256];
	static char first[PAYLOAD_MAX];
	char *argv[] = { bin, (char *)"--profile", prof, (char *)"due", log,
	    (char *)"--publish", (char *)"--cred", cred, NULL };
	double v;

	ck_assert_int_eq(harness_path(bin, sizeof(bin), "build/gridcal-audit"),
	    0);
	ck_assert_int_eq(hbroker_cred_path(&br, "report", cred, sizeof(cred)),
	    0);
	(void)snprintf(log, sizeof(log), "%s/no-log-yet.jsonl", wd);
	/* no log yet: due (0), published */
	ck_assert_int_eq(hproc_run(argv, 30000), 0);
	collect("gridcal/+/due", 1, &g);
	ck_assert_int_eq(g.n, 1);
	ck_assert(g.retain[0]);
	ck_assert_str_eq(g.topic[0], "gridcal/eg4-lp4-v2-sim/due");
	ck_assert_int_eq(hjson_num(g.payload[0], "due", &v), 0);
	ck_assert(v == 1);
	ck_assert_int_eq(hjson_str(g.payload[0], "answer", buf, sizeof(buf)),
	    0);
	ck_assert_str_eq(buf, "due");
	ck_assert(strstr(g.payload[0], "\"last_pass\":null") != NULL);
	(void)strlcpy(first, g.payload[0], sizeof(first));
	/* a user the ACL does not let write it: the broker drops it */
	ck_assert_int_eq(hbroker_cred_path(&br, "supervisor", cred,
	    sizeof(cred)), 0);
	(void)snprintf(log, sizeof(log), "%s/still-none.jsonl", wd);
	(void)hproc_run(argv, 30000);
	collect("gridcal/+/due", 1, &g);
	ck_assert_int_eq(g.n, 1);
	ck_assert_str_eq(g.payload[0], first);	/* still the first answer */
}
END_TEST

/* gridcal-setup prints the report user's ACL stanza: exactly its topics. */
/* gridcal-setup -n --root: what it prints (malloc'd). */
static char *
setup_lines(void)
{
	char bin[PATH_MAX], out[PATH_MAX + 64], *text;
	char *argv[] = { bin, (char *)"-n", (char *)"--root", root, NULL };
	struct hproc p;
	size_t len;

	ck_assert_int_eq(harness_path(bin, sizeof(bin), "build/gridcal-setup"),
	    0);
	/* the example profile where make install puts it (GRIDCAL_DATADIR) */
	(void)snprintf(out, sizeof(out), "%s/usr", root);
	ck_assert_int_eq(mkdir(out, 0755), 0);
	(void)strlcat(out, "/local", sizeof(out));
	ck_assert_int_eq(mkdir(out, 0755), 0);
	(void)strlcat(out, "/share", sizeof(out));
	ck_assert_int_eq(mkdir(out, 0755), 0);
	(void)strlcat(out, "/gridcal", sizeof(out));
	ck_assert_int_eq(mkdir(out, 0755), 0);
	(void)strlcat(out, "/eg4-lp4-v2.yaml", sizeof(out));
	ck_assert_ptr_nonnull(text = harness_read_file(prof, &len));
	ck_assert_int_eq(harness_write_file(out, text, 0644), 0);
	free(text);
	(void)snprintf(out, sizeof(out), "%s/setup.out", wd);
	ck_assert_int_eq(hproc_spawn(&p, argv, NULL, out, out), 0);
	ck_assert_int_eq(hproc_wait(&p, 30000), 0);
	ck_assert_int_eq(hproc_exit_code(&p), 0);
	ck_assert_ptr_nonnull(text = harness_read_file(out, &len));
	return text;
}

START_TEST(setup_prints_the_report_users_acl)
{
	char *text = setup_lines(), *stanza, *end, *ha;

	ck_assert_msg(strstr(text, "mosquitto_passwd -b /etc/mosquitto/passwd "
	    "gridcal-report \"$(cut -d: -f2- /etc/gridcal/report.cred)\"") !=
	    NULL, "%s", text);
	ck_assert_ptr_nonnull(ha = strstr(text, "user homeassistant\n"));
	ck_assert_ptr_nonnull(stanza = strstr(text, "user gridcal-report\n"));
	ck_assert(ha > stanza);
	if ((end = strstr(stanza, "\n\n")) != NULL)
		*end = '\0';
	ck_assert(strstr(stanza, "topic read homeassistant/sensor/") != NULL);
	ck_assert(strstr(stanza, "topic write gridcal/eg4-lp4-v2-sim/due\n") !=
	    NULL);
	ck_assert(strstr(stanza, "topic write homeassistant/sensor/"
	    "gridcal_eg4-lp4-v2-sim/+/config\n") != NULL);
	ck_assert(strstr(stanza, "topic write homeassistant/binary_sensor/"
	    "gridcal_eg4-lp4-v2-sim/+/config") != NULL);
	ck_assert(strstr(stanza, "topic write homeassistant/button/"
	    "gridcal_eg4-lp4-v2-sim/+/config") != NULL);
	/* nothing else: no control, alarm, state or other device */
	for (char *l = stanza; (l = strstr(l, "topic write ")) != NULL; l++)
		ck_assert_msg(strncmp(l, "topic write gridcal/eg4-lp4-v2-sim/due",
		    38) == 0 || strncmp(l, "topic write homeassistant/sensor/"
		    "gridcal_eg4-lp4-v2-sim/", 56) == 0 || strncmp(l,
		    "topic write homeassistant/binary_sensor/gridcal_eg4-lp4-v2-"
		    "sim/", 63) == 0 || strncmp(l, "topic write homeassistant/"
		    "button/gridcal_eg4-lp4-v2-sim/", 56) == 0,
		    "report user writes %.60s", l);
	/* Home Assistant's user writes the authorisation topic only */
	if ((end = strstr(ha, "\n\n")) != NULL)
		*end = '\0';
	ck_assert_str_eq(ha, "user homeassistant\ntopic read gridcal/#\n"
	    "topic read homeassistant/#\n"
	    "topic write gridcal/eg4-lp4-v2-sim/authorise");
	free(text);
}
END_TEST

Suite	*authorise_suite(void);	/* test_authorise.c */

/*
 * A per-unit control site ({u} in both topics): the ACL is literal, so
 * the watchdog's stanza names each unit's topic, never the template.
 */
START_TEST(setup_prints_per_unit_control_lines)
{
	struct hprofile_kv kv[2] = {
		{ "control.output_priority.topic", "solar/control/unit{u}/op" },
		{ "control.charger_priority.topic", "solar/control/unit{u}/cp" },
	};
	char path[PATH_MAX + 64], err[256], p2[PATH_MAX], *text, *stanza, *end;

	ck_assert_int_eq(hprofile_write(&br, p2, sizeof(p2), kv, 2, err,
	    sizeof(err)), 0);
	(void)snprintf(path, sizeof(path), "%s/etc/gridcal/profile.yaml", root);
	ck_assert_ptr_nonnull(text = harness_read_file(p2, NULL));
	ck_assert_int_eq(harness_write_file(path, text, 0644), 0);
	free(text);
	text = setup_lines();
	ck_assert_ptr_nonnull(stanza = strstr(text, "user gridcal-watchdog\n"));
	if ((end = strstr(stanza, "\n\n")) != NULL)
		*end = '\0';
	for (int u = 1; u <= 2; u++)
		for (int s = 0; s < 2; s++) {
			(void)snprintf(path, sizeof(path), "topic write solar/"
			    "control/unit%d/%s\n", u, s ? "cp" : "op");
			ck_assert_msg(strstr(stanza, path) != NULL, "%s", stanza);
		}
	ck_assert_msg(strchr(stanza, '{') == NULL, "%s", stanza);
	free(text);
}
END_TEST

static Suite *
ha_suite(void)
{
	Suite *s = suite_create("home assistant");
	TCase *tc = tcase_create("discovery");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, discovery_configs_are_retained_and_valid);
	tcase_add_test(tc, discovery_needs_a_user_that_may_write_it);
	tcase_add_test(tc, due_publishes_the_retained_answer);
	tcase_add_test(tc, setup_prints_the_report_users_acl);
	tcase_add_test(tc, setup_prints_per_unit_control_lines);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ha_suite());

	srunner_add_suite(sr, authorise_suite());
	int failed;

	(void)mosquitto_lib_init();
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	(void)mosquitto_lib_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
