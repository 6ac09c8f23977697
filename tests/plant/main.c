/*
 * gridcal-plant: a simulated reference site on an MQTT broker, for tests,
 * the fault suite, the demo and the benchmarks. It publishes telemetry the
 * way the site's monitoring daemon does, obeys control messages the way
 * lvx-control and the inverters do, and reports its true state so a test
 * can check what really happened to the plant.
 *
 * Single-threaded: mosquitto_loop() runs between ticks, so control
 * messages are handled in the same thread as the physics.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <mosquitto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cred.h"
#include "log.h"
#include "parse.h"
#include "plant.h"
#include "cmdline.h"

#define EX_USAGE	64
#define EX_UNAVAILABLE	69
#define EX_CONFIG	78

#define CONNECT_WAIT_MS	10000
#define RECONNECT_MS	200
#define CATCHUP_TICKS	10

static volatile sig_atomic_t quit;

static const char usage_text[] =
"usage: gridcal-plant --profile FILE --scenario FILE --broker HOST:PORT\n"
"                     --cred FILE [--speed X] [--seed N] [--period-ms N]\n"
"                     [--status-topic TOPIC] [--duration S] [-v]\n"
"       gridcal-plant --profile FILE --scenario FILE --offline --duration S\n"
"                     [--trace S] [--speed X] [--seed N] [--period-ms N]\n"
"       gridcal-plant --profile FILE --scenario FILE --check\n"
"       gridcal-plant --help\n";

static const char help_text[] =
"\n"
"DESCRIPTION\n"
"  gridcal-plant simulates the site a gridcal profile describes: N LFP packs\n"
"  in parallel on one bus, their BMSes, and M paralleled hybrid inverters\n"
"  with solar, loads and the grid. It connects to an MQTT broker, publishes\n"
"  every telemetry field of the profile and obeys the profile's control\n"
"  topics, so gridcal can calibrate it exactly as it would the real site.\n"
"  It is a test tool: it never talks to real hardware.\n"
"\n"
"  The site profile gives the topic templates, units, control topics,\n"
"  control values and readback strings. The scenario gives the physics\n"
"  (capacities, true and reported states of charge, resistances, cell\n"
"  imbalance, temperatures, charger, solar curve, load) and the faults to\n"
"  inject. Both are loaded strictly: unknown keys, missing keys and\n"
"  malformed numbers are refused (exit 78).\n"
"\n"
"OPTIONS\n"
"  -p, --profile FILE  site profile (the format of profiles/*.yaml).\n"
"  --scenario FILE     scenario (tests/scenarios/*.yaml); its pack count\n"
"                      must equal the profile's.\n"
"  --broker HOST:PORT  MQTT broker. The plant waits up to 10 s for it at\n"
"                      start and reconnects whenever it goes away.\n"
"  --cred FILE         \"user:password\" file, mode 0600 (a user that may\n"
"                      write the telemetry topics and plant/#, and read the\n"
"                      control topics).\n"
"  --speed X           simulated seconds per wall-clock second (default 1,\n"
"                      max 100000). The physics runs in simulated time;\n"
"                      publishing runs on the wall clock.\n"
"  --seed N            seed of the weather, load and measurement noise\n"
"                      (default 1). The physics advances by exactly\n"
"                      period x speed per tick, so a run is reproducible up\n"
"                      to the tick at which each control message arrives.\n"
"  --period-ms N       publish period in wall-clock milliseconds (default\n"
"                      1000, 10..60000). Every field and the truth are\n"
"                      published once per period.\n"
"  --status-topic T    where the truth goes (default plant/status).\n"
"  --duration S        stop after S simulated seconds (default: the\n"
"                      scenario's duration_s; 0 runs until signalled).\n"
"  --offline           no broker: run the physics as fast as possible for\n"
"                      --duration simulated seconds, printing the truth\n"
"                      every --trace simulated seconds (default 600).\n"
"                      Control messages cannot arrive: the scenario's\n"
"                      initial inverter settings hold throughout.\n"
"  --check             load the profile and the scenario, print a summary\n"
"                      and exit 0, or exit 78 with the error.\n"
"  -v, --verbose       log every control message and reconnect.\n"
"  -h, --help          this text.\n"
"  -V, --version       the release.\n"
"\n"
"TELEMETRY\n"
"  Every period, for every pack i and unit u of the profile, one message\n"
"  per field on the profile's topic, plain text, QoS 0, not retained\n"
"  (unless a retain fault says so), in the unit the profile names for\n"
"  the site:\n"
"    soc                    BMS counter, integer percent\n"
"    pack_voltage           bus voltage plus the pack's measurement offset\n"
"    pack_current           A, positive charging\n"
"    cell_voltage_max       highest cell (V, 3 decimals)\n"
"    cell_voltage_delta_mv  highest minus lowest cell\n"
"    temperatures           each sensor of the list: the first the BMS\n"
"                           board (warmer by the current), the others the\n"
"                           cells, 0.3 degrees warmer each\n"
"    protection             protection bits, decimal (0 none)\n"
"    device_mode            Standby, Line, Battery, Hybrid or Fault\n"
"    output/charger_source_priority  the profile's readback strings, or\n"
"                           the scenario's inverter.output_readback_*\n"
"                           and charger_readback_* (everyday,\n"
"                           calibration): a site with its own words\n"
"    line_power_direction   the profile's line_input word, or idle\n"
"    mppt1_input_power, ac_output_active_power  W\n"
"\n"
"CONTROL\n"
"  The plant subscribes to the profile's two control topics. A payload\n"
"  equal to that setting's everyday or calibration value is applied to\n"
"  every unit after the scenario's apply delay, as lvx-control does;\n"
"  with per-unit topics ({u} in both, as Solar Assistant has them) each\n"
"  unit's own topic, applied to that unit only, after its own delay;\n"
"  anything else is ignored and counted. Units whose settings differ raise\n"
"  fault 86: device_mode Fault, no power flows, until they agree again\n"
"  (or for good with inverter.fault86_latch), once they have differed\n"
"  longer than inverter.fault86_after_s (default 0: at once).\n"
"  Semantics: in SBU (everyday output priority) the loads run on solar and\n"
"  battery, and the grid is used only when the bank is critically low\n"
"  (then it also charges if the charger priority is the calibration one);\n"
"  the charger priority alone changes nothing. In SUB the loads run on\n"
"  solar and grid, and with solar_and_utility the grid charges the bank\n"
"  CC/CV: the current limit up to the bulk voltage, then absorption at the\n"
"  bulk voltage while the current tapers, then float.\n"
"  The BMS re-anchors its counter to 100 % only when its highest cell is\n"
"  at or above bms.anchor_cell_v while the pack current stays below\n"
"  bms.anchor_current_a for bms.anchor_hold_s. With bms.hold_at_pct (a\n"
"  BMS such as the EG4's) the counter stops at that value, however much\n"
"  charge it counts, until that termination: only a termination reads\n"
"  100 %.\n"
"\n"
"FAULTS\n"
"  The scenario's faults list; each has a kind, a trigger (start, time\n"
"  with at_s, grid_charging, calibration_settings, absorption), an optional\n"
"  delay_s after the trigger and duration_s (0: for good):\n"
"    cell_offset pack value         highest cell + value V\n"
"    cell_ramp pack rate_per_min [limit]   + rate V/min, up to limit\n"
"    temp_ramp [pack] [field] rate_per_min [limit]  temperatures + rate\n"
"                                   C/min; with field (a sensor's name)\n"
"                                   that sensor only\n"
"    protection pack value          protection bits reported\n"
"    silence pack|unit [field]      stops publishing\n"
"    garbage pack|unit field payloads [count]  publishes the payloads in\n"
"                                   turn instead of the value\n"
"    ignore_control [unit] [setting] [count]  control messages ignored\n"
"    nak [unit] [setting] [count]   ignored, and the unit withholds its\n"
"                                   priority readbacks until a later\n"
"                                   message is applied\n"
"    one_unit unit [setting] [count]  only that unit applies (fault 86)\n"
"    slow_apply value [unit] [setting] [count]  applied after value s\n"
"    no_anchor pack                 the BMS never re-anchors\n"
"    solar_collapse [value]         solar drops to value x (default 0)\n"
"    retain [pack|unit] [field]     telemetry published with the MQTT\n"
"                                   retain flag (all of it without a\n"
"                                   target), as some daemons do: the\n"
"                                   broker keeps the last value of a\n"
"                                   pack that goes silent\n"
"  count limits a fault to that many control messages or publications.\n"
"\n"
"TRUTH\n"
"  Every period a JSON object on the status topic, and the same as the\n"
"  last line on standard output when the plant exits (SIGTERM or SIGINT:\n"
"  exit 0). Keys: sim_s, speed, seed, ticks, stage (bulk, absorption,\n"
"  float), grid_mode, grid_charging, loads_on_grid, fault86,\n"
"  fault86_count, bus_v, bus_a, max_bus_a, pv_w, load_w, grid_w,\n"
"  grid_charge_s (simulated seconds the grid charged the bank),\n"
"  grid_start_s, grid_kwh, calibration_s (seconds any unit held a\n"
"  calibration value), absorption_s, fault86_s, max_mismatch_s (longest\n"
"  time the units' settings differed), max_cell_v, max_temp_c,\n"
"  bms_soc_min, bms_soc_max, pack_voltage_spread_v, published,\n"
"  control {received, accepted, ignored, invalid, nak, partial},\n"
"  units[] {output_priority, charger_priority (actual values),\n"
"  output_readback, charger_readback, calibration, mode, line, pv_w, ac_w,\n"
"  applied, pending}, packs[] {soc (true), bms_soc, start_soc,\n"
"  start_bms_soc, voltage, current, cell_max_v, max_cell_v, cell_delta_mv,\n"
"  temp_c, max_temp_c, protection, charge_blocked, anchors, last_anchor_s,\n"
"  sensors_c[] (each temperature sensor now)},\n"
"  faults[] {kind, trigger, fired, fired_s, active, used}.\n"
"\n"
"EXIT STATUS\n"
"  0 on SIGTERM, SIGINT or the end of --duration; 64 bad usage; 69 no\n"
"  broker at start; 78 bad profile, scenario or credentials.\n"
"\n"
"EXAMPLE\n"
"  gridcal-plant --profile build/sim.yaml --scenario\n"
"      tests/scenarios/reference.yaml --broker 127.0.0.1:1883 \\\n"
"      --cred /tmp/plant.cred --speed 600 --period-ms 100\n";

struct opts {
	const char	*profile, *scenario, *broker, *cred, *status_topic;
	double		 speed, duration, trace;
	uint64_t	 seed;
	int64_t		 period_ms;
	bool		 offline, check, duration_set;
	int		 verbose;
};

struct runtime {
	struct plant		*p;
	struct run_info		 ri;
	struct mosquitto	*m;
	bool			 connected;
	int			 connack;
};

static void __attribute__((noreturn))
usage(void)
{
	(void)fputs(usage_text, stderr);
	exit(EX_USAGE);
}

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static double
opt_double(const char *name, const char *s, double min, double max)
{
	const char *why;
	double v;

	if (parse_double(s, min, max, &v, &why) == -1) {
		log_warnx("%s %s: %s (expected %g..%g)", name, s, why, min, max);
		usage();
	}
	return v;
}

static int64_t
opt_int(const char *name, const char *s, int64_t min, int64_t max)
{
	const char *why;
	int64_t v;

	if (parse_int64(s, min, max, &v, &why) == -1) {
		log_warnx("%s %s: %s (expected %lld..%lld)", name, s, why,
		    (long long)min, (long long)max);
		usage();
	}
	return v;
}

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "scenario", required_argument, NULL, 's' },
		{ "broker", required_argument, NULL, 'b' },
		{ "cred", required_argument, NULL, 'c' },
		{ "speed", required_argument, NULL, 'x' },
		{ "seed", required_argument, NULL, 'S' },
		{ "period-ms", required_argument, NULL, 'P' },
		{ "status-topic", required_argument, NULL, 't' },
		{ "duration", required_argument, NULL, 'd' },
		{ "trace", required_argument, NULL, 'T' },
		{ "offline", no_argument, NULL, 'o' },
		{ "check", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char msg[128];
	int ch;

	memset(o, 0, sizeof(*o));
	o->speed = 1;
	o->seed = 1;
	o->period_ms = 1000;
	o->trace = 600;
	o->status_topic = "plant/status";
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":hp:vV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'V': exit(cli_version());
		case 'p': o->profile = optarg; break;
		case 's': o->scenario = optarg; break;
		case 'b': o->broker = optarg; break;
		case 'c': o->cred = optarg; break;
		case 'x':
			o->speed = opt_double("--speed", optarg, 0.001, 100000);
			break;
		case 'S':
			o->seed = (uint64_t)opt_int("--seed", optarg, 0,
			    INT64_MAX);
			break;
		case 'P':
			o->period_ms = opt_int("--period-ms", optarg, 10, 60000);
			break;
		case 't': o->status_topic = optarg; break;
		case 'd':
			o->duration = opt_double("--duration", optarg, 0, 1e9);
			o->duration_set = true;
			break;
		case 'T':
			o->trace = opt_double("--trace", optarg, 1, 1e9);
			break;
		case 'o': o->offline = true; break;
		case 'n': o->check = true; break;
		case 'v': o->verbose++; break;
		case 'h':
			(void)fputs(usage_text, stdout);
			(void)fputs(help_text, stdout);
			exit(0);
		default:
			log_warnx("%s", cli_badopt(ch, argv, optind, optopt,
			    msg, sizeof(msg)));
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (o->profile == NULL || o->scenario == NULL) {
		log_warnx("--profile and --scenario are required");
		usage();
	}
	if (!o->offline && !o->check && (o->broker == NULL || o->cred == NULL)) {
		log_warnx("--broker and --cred are required (or --offline)");
		usage();
	}
	if (o->status_topic[0] == '\0' || strlen(o->status_topic) >= 128 ||
	    strpbrk(o->status_topic, "+#") != NULL) {
		log_warnx("--status-topic: not a topic to publish on");
		usage();
	}
}

static void
split_broker(const char *s, char *host, size_t hostsz, int *port)
{
	const char *colon = strrchr(s, ':');
	const char *why;
	int64_t v;

	if (colon == NULL || colon == s || (size_t)(colon - s) >= hostsz) {
		log_warnx("--broker %s: expected HOST:PORT", s);
		usage();
	}
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (parse_int64(colon + 1, 1, 65535, &v, &why) == -1) {
		log_warnx("--broker %s: port %s", s, why);
		usage();
	}
	*port = (int)v;
}

/* ---- MQTT ---- */

static void
on_connect(struct mosquitto *m, void *arg, int rc)
{
	struct runtime *rt = arg;
	const struct profile *pf = rt->p->pf;

	rt->connack = rc;
	if (rc != 0) {
		log_warnx("broker refused the connection: %s",
		    mosquitto_connack_string(rc));
		return;
	}
	rt->connected = true;
	/* the cluster's topic, or each unit's (control_per_unit) */
	for (int s = 0; s < SETTING_COUNT; s++)
		for (int u = 1; u <= (pf->control_per_unit ? rt->p->nunits : 1);
		    u++) {
			char t[PROFILE_TOPIC_MAX];
			int r = MOSQ_ERR_INVAL;

			if (topic_expand(pf->control[s].topic, u, t,
			    sizeof(t)) == 0)
				r = mosquitto_subscribe(m, NULL, t, 1);
			if (r != MOSQ_ERR_SUCCESS)
				log_warnx("subscribe %s: %s", t,
				    mosquitto_strerror(r));
		}
	log_debug("connected");
}

static void
on_disconnect(struct mosquitto *m, void *arg, int rc)
{
	struct runtime *rt = arg;

	(void)m;
	rt->connected = false;
	if (!quit)
		log_warnx("disconnected from the broker (%d)", rc);
}

static void
on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
	struct runtime *rt = arg;
	char shown[64];
	const char *why, *what;

	(void)m;
	what = plant_control(rt->p, msg->topic, msg->payload,
	    msg->payloadlen < 0 ? 0 : (size_t)msg->payloadlen);
	if (payload_to_string(msg->payload, msg->payloadlen < 0 ? 0 :
	    (size_t)msg->payloadlen, shown, sizeof(shown), &why) == -1)
		(void)snprintf(shown, sizeof(shown), "<%s>", why);
	log_info("sim %.0f s: control %s \"%s\": %s", rt->p->t, msg->topic,
	    shown, what);
}

static void
emit_mqtt(void *arg, const char *topic, const char *payload, bool retain)
{
	struct runtime *rt = arg;
	int r;

	if (!rt->connected) {
		rt->p->publish_errors++;
		return;
	}
	r = mosquitto_publish(rt->m, NULL, topic, (int)strlen(payload),
	    payload, 0, retain);
	if (r == MOSQ_ERR_SUCCESS)
		rt->p->published++;
	else
		rt->p->publish_errors++;
}

static void
publish_truth(struct runtime *rt)
{
	char *json = truth_json(rt->p, &rt->ri);

	if (json == NULL) {
		log_warnx("truth: out of memory");
		return;
	}
	if (rt->connected && mosquitto_publish(rt->m, NULL,
	    rt->ri.status_topic, (int)strlen(json), json, 0, false) !=
	    MOSQ_ERR_SUCCESS)
		rt->p->publish_errors++;
	free(json);
}

static void
print_truth(struct runtime *rt)
{
	char *json = truth_json(rt->p, &rt->ri);

	if (json == NULL)
		fatalx("truth: out of memory");
	(void)printf("%s\n", json);
	(void)fflush(stdout);
	free(json);
}

static void
mqtt_setup(struct runtime *rt, const struct opts *o)
{
	struct credentials cr;
	char err[512], host[256], id[64];
	int port, r;
	int64_t deadline;

	split_broker(o->broker, host, sizeof(host), &port);
	if (cred_load(o->cred, &cr, err, sizeof(err)) == -1) {
		log_setfatalstatus(EX_CONFIG);
		fatalx("%s", err);
	}
	if (mosquitto_lib_init() != MOSQ_ERR_SUCCESS)
		fatalx("mosquitto_lib_init failed");
	(void)snprintf(id, sizeof(id), "gridcal-plant-%ld", (long)getpid());
	if ((rt->m = mosquitto_new(id, true, rt)) == NULL)
		fatal("mosquitto_new");
	mosquitto_connect_callback_set(rt->m, on_connect);
	mosquitto_disconnect_callback_set(rt->m, on_disconnect);
	mosquitto_message_callback_set(rt->m, on_message);
	if (mosquitto_username_pw_set(rt->m, cr.user, cr.pass) !=
	    MOSQ_ERR_SUCCESS)
		fatalx("mosquitto_username_pw_set failed");
	cred_clear(&cr);
	deadline = mono_ms() + CONNECT_WAIT_MS;
	while ((r = mosquitto_connect(rt->m, host, port, 10)) !=
	    MOSQ_ERR_SUCCESS) {
		if (mono_ms() >= deadline || quit) {
			log_setfatalstatus(EX_UNAVAILABLE);
			fatalx("cannot connect to %s: %s", o->broker,
			    r == MOSQ_ERR_ERRNO ? strerror(errno) :
			    mosquitto_strerror(r));
		}
		struct timespec ts = { 0, 100 * 1000000L };
		(void)nanosleep(&ts, NULL);
	}
	/* Wait for the CONNACK: a refused login is a configuration error. */
	while (rt->connack == -1 && mono_ms() < deadline && !quit)
		(void)mosquitto_loop(rt->m, 50, 1);
	if (rt->connack != 0) {
		log_setfatalstatus(rt->connack > 0 ? EX_CONFIG : EX_UNAVAILABLE);
		fatalx("no MQTT session with %s", o->broker);
	}
}

/* Runs the network until the deadline; reconnects if the broker went. */
static void
mqtt_until(struct runtime *rt, int64_t deadline)
{
	static int64_t next_try;
	int64_t now;
	int r;

	while (!quit && (now = mono_ms()) < deadline) {
		int wait = (int)(deadline - now);

		if (!rt->connected) {
			if (now >= next_try) {
				next_try = now + RECONNECT_MS;
				r = mosquitto_reconnect(rt->m);
				if (r != MOSQ_ERR_SUCCESS)
					log_debug("reconnect: %s",
					    mosquitto_strerror(r));
			}
			if (wait > RECONNECT_MS)
				wait = RECONNECT_MS;
		}
		r = mosquitto_loop(rt->m, wait, 1);
		if (r == MOSQ_ERR_SUCCESS ||
		    (r == MOSQ_ERR_ERRNO && errno == EINTR))
			continue;	/* a signal: quit is checked above */
		if (r != MOSQ_ERR_NO_CONN)
			rt->connected = false;
		/* Not connected: mosquitto_loop returns at once. */
		struct timespec ts = { 0, 10 * 1000000L };
		(void)nanosleep(&ts, NULL);
	}
}

/* ---- runs ---- */

static int
run_online(struct runtime *rt, const struct opts *o, double duration)
{
	double step = (double)o->period_ms / 1000.0 * o->speed;
	int64_t next = mono_ms();

	for (;;) {
		publish_telemetry(rt->p, emit_mqtt, rt);
		publish_truth(rt);
		next += o->period_ms;
		mqtt_until(rt, next);
		if (quit)
			break;
		/* Behind by many periods (a stopped process): skip ahead
		 * rather than run the physics in a burst. */
		if (mono_ms() - next > CATCHUP_TICKS * o->period_ms) {
			rt->ri.late_ticks++;
			next = mono_ms();
		}
		plant_advance(rt->p, step);
		rt->ri.ticks++;
		if (duration > 0 && rt->p->t >= duration)
			break;
	}
	/* Let the last messages out before leaving. */
	if (rt->connected) {
		(void)mosquitto_disconnect(rt->m);
		(void)mosquitto_loop(rt->m, 100, 1);
	}
	print_truth(rt);
	mosquitto_destroy(rt->m);
	(void)mosquitto_lib_cleanup();
	return 0;
}

static int
run_offline(struct runtime *rt, const struct opts *o, double duration)
{
	double step = (double)o->period_ms / 1000.0 * o->speed;
	double next_trace = 0;

	if (duration <= 0) {
		log_warnx("--offline needs --duration (or the scenario's "
		    "duration_s)");
		usage();
	}
	while (!quit && rt->p->t < duration) {
		if (rt->p->t >= next_trace) {
			print_truth(rt);
			next_trace += o->trace;
		}
		plant_advance(rt->p, fmin(step, duration - rt->p->t));
		rt->ri.ticks++;
	}
	print_truth(rt);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct profile pf;
	static struct scenario sc;
	static struct plant plant;
	struct runtime rt = { .p = &plant, .connack = -1 };
	struct sigaction sa;
	struct opts o;
	char err[PROFILE_ERR_MAX];
	double duration;

	log_init("gridcal-plant", 0);
	parse_opts(argc, argv, &o);
	log_setverbose(o.verbose);
	if (profile_load(o.profile, &pf, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return EX_CONFIG;
	}
	if (scenario_load(o.scenario, &pf, &sc, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return EX_CONFIG;
	}
	if (o.check) {
		(void)printf("profile %s: site %s, %d packs, %d units\n"
		    "scenario %s: %s, %d faults\n", pf.path, pf.site, pf.packs,
		    pf.units, sc.path, sc.name, sc.nfaults);
		return 0;
	}
	duration = o.duration_set ? o.duration : sc.duration_s;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	(void)sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1)
		fatal("sigaction");
	(void)signal(SIGPIPE, SIG_IGN);

	plant_init(&plant, &pf, &sc, o.seed);
	rt.ri.speed = o.speed;
	rt.ri.seed = o.seed;
	rt.ri.status_topic = o.status_topic;
	if (o.offline)
		return run_offline(&rt, &o, duration);
	mqtt_setup(&rt, &o);
	log_info("scenario %s on %s, speed %g, period %lld ms", sc.name,
	    o.broker, o.speed, (long long)o.period_ms);
	return run_online(&rt, &o, duration);
}
