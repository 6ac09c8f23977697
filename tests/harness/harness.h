/*
 * Test harness: real parts for integration tests, the fault suite, the demo
 * and the benchmarks. A real mosquitto on a free loopback port with the
 * site's users and ACL, real processes, and an MQTT observer that records
 * what crosses the broker. Nothing here is mocked.
 *
 * A typical test:
 *
 *	struct hbroker br;
 *	struct hobs *obs;
 *	struct hproc plant;
 *	char wd[PATH_MAX], prof[PATH_MAX];
 *
 *	harness_workdir(wd, sizeof(wd), "plant");        // mkdtemp, rm at exit
 *	hbroker_start(&br, wd);                          // users, ACL, creds
 *	hprofile_write(&br, prof, sizeof(prof), NULL, 0, err, sizeof(err));
 *	obs = hobs_start(&br, 5000);                     // "observer" on #
 *	hplant_start(&plant, &br, prof, "reference.yaml", NULL);
 *	hplant_wait_ready(obs, 5000);
 *	... hclient_publish() as "watchdog", hobs_wait_*(), hobs_truth_*() ...
 *	hplant_stop(&plant, final, sizeof(final));       // final JSON line
 *	hobs_stop(obs);
 *	hbroker_stop(&br);
 *
 * Every process spawned here gets SIGKILL when the test process dies
 * (PR_SET_PDEATHSIG) and is also killed and reaped by an atexit handler;
 * every work directory is removed at exit, or by a janitor process when
 * the test process dies without running atexit handlers (a failing Check
 * test calls _exit(), a timed-out one is killed). Nothing is left behind.
 * Set GRIDCAL_KEEP_WORKDIR=1 to keep the work directories for a
 * post-mortem.
 *
 * Paths: harness_root() is $GRIDCAL_ROOT, or the current directory; the
 * plant binary is $GRIDCAL_PLANT or <root>/build/gridcal-plant, scenarios
 * are looked up in <root>/tests/scenarios unless given with a '/'.
 *
 * Build: #include "tests/harness/harness.h", link $(HARNESS_OBJS) and
 * $(HARNESS_LIBS) (mk/20-plant.mk) with $(SHARED_OBJS) and $(LDLIBS).
 *
 * All timeouts are milliseconds on CLOCK_MONOTONIC. Functions returning int
 * return 0 on success and -1 on failure (with a message on stderr);
 * functions returning a pointer return NULL on failure.
 */
#ifndef GRIDCAL_HARNESS_H
#define GRIDCAL_HARNESS_H

#include <sys/types.h>

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- paths, work directories, files ---- */

/* Repository root: $GRIDCAL_ROOT or the current directory (absolute). */
const char *harness_root(void);
/* <root>/<rel> into buf; -1 if it does not fit. */
int	harness_path(char *buf, size_t bufsz, const char *rel);
/*
 * Creates /tmp/gridcal-<tag>-XXXXXX (mode 0711, so a broker that dropped
 * to user mosquitto can reach the files made readable for it) and
 * registers it for removal at exit.
 */
int	harness_workdir(char *buf, size_t bufsz, const char *tag);
/* Whole file into a malloc'd NUL-terminated string; NULL on error. */
char	*harness_read_file(const char *path, size_t *lenp);
/* Last non-empty line of a file into buf; -1 if none. */
int	harness_last_line(const char *path, char *buf, size_t bufsz);
/* Writes text to path with the given mode (O_TRUNC). */
int	harness_write_file(const char *path, const char *text, mode_t mode);
/* Milliseconds on CLOCK_MONOTONIC. */
int64_t	harness_now_ms(void);

/* ---- processes ---- */

struct hproc {
	pid_t	pid;		/* 0 once reaped */
	char	name[64];	/* basename of argv[0], for messages */
	bool	exited;		/* reaped */
	int	status;		/* raw wait status once exited */
	char	out_path[PATH_MAX];	/* stdout file, "" if inherited */
	char	err_path[PATH_MAX];	/* stderr file, "" if inherited */
};

/*
 * Spawns argv[0] (a path) with argv, stdin from /dev/null, stdout and
 * stderr to the given files (NULL: inherit). The child gets SIGKILL if the
 * spawning process dies (PR_SET_PDEATHSIG) and is recorded for cleanup.
 * envp NULL: inherit the environment.
 */
int	hproc_spawn(struct hproc *, char *const argv[], char *const envp[],
	    const char *out_path, const char *err_path);
/* Waits until the process exits or timeout; 0 exited, -1 still running. */
int	hproc_wait(struct hproc *, int64_t timeout_ms);
/* Non-blocking: true once the process has exited (reaps it). */
bool	hproc_poll(struct hproc *);
int	hproc_signal(struct hproc *, int sig);
/* SIGTERM, wait up to grace_ms, then SIGKILL; 0 if it exited on SIGTERM. */
int	hproc_stop(struct hproc *, int64_t grace_ms);
/* Exit code if it exited normally, -1 if killed by a signal or running. */
int	hproc_exit_code(const struct hproc *);
/* Terminating signal if killed, 0 otherwise. */
int	hproc_term_signal(const struct hproc *);
/* Runs argv to completion (stdout/stderr inherited); its exit code or -1. */
int	hproc_run(char *const argv[], int64_t timeout_ms);

/* ---- broker ---- */

#define HBROKER_MOSQUITTO	"/usr/sbin/mosquitto"
#define HBROKER_PASSWD_TOOL	"/usr/bin/mosquitto_passwd"

/*
 * The users and what the ACL lets them do (supervisor and watchdog: the
 * shipped profiles/mosquitto/gridcal.acl, verbatim; plant and observer
 * are appended for the tests):
 *   plant       write homeassistant/#, plant/#; read solar/control/#
 *   supervisor  read homeassistant/sensor/+/state; write
 *               gridcal/supervisor/# only
 *   watchdog    read homeassistant/sensor/+/state; write solar/control/#,
 *               gridcal/alarm, gridcal/watchdog/#
 *   observer    read #
 *   report      (gridcal-report) read homeassistant/#; write gridcal/+/due
 *               and the Home Assistant discovery configs
 *   homeassistant  read gridcal/#, homeassistant/#; write
 *               gridcal/+/authorise only (the button, SAFETY.md H10.7)
 * Each gets <workdir>/<user>.cred ("<mqtt user>:password", mode 0600,
 * shared/cred.h) with a random password.
 */
#define HBROKER_NUSERS	6
extern const char *const hbroker_users[HBROKER_NUSERS];

struct hbroker {
	char		workdir[PATH_MAX];
	char		conf[PATH_MAX];		/* mosquitto.conf */
	char		log[PATH_MAX];		/* broker stdout+stderr */
	uint16_t	port;			/* 127.0.0.1:port */
	bool		running;
	struct hproc	proc;
	char		pass[HBROKER_NUSERS][32];
};

/*
 * Writes the password file, ACL, credential files and configuration into
 * workdir, picks a free port and starts mosquitto, retrying with another
 * port if it fails to bind; returns once it accepts MQTT connections.
 */
int	hbroker_start(struct hbroker *, const char *workdir);
/* SIGTERM, wait, SIGKILL fallback. */
int	hbroker_stop(struct hbroker *);
/* Starts again on the same port (waits for the port to be free). */
int	hbroker_restart(struct hbroker *);
/* SIGKILL, no clean shutdown: a crashed broker. */
int	hbroker_kill(struct hbroker *);
/* <workdir>/<user>.cred */
int	hbroker_cred_path(const struct hbroker *, const char *user, char *buf,
	    size_t bufsz);
/* The MQTT user name of a harness user: "gridcal-supervisor",
 * "gridcal-watchdog", "gridcal-report" (the shipped ACL's) for supervisor,
 * watchdog and report. */
const char *hbroker_mqtt_user(const char *user);
/* Password of a harness user, NULL if unknown. */
const char *hbroker_password(const struct hbroker *, const char *user);
/* "127.0.0.1:<port>" */
int	hbroker_address(const struct hbroker *, char *buf, size_t bufsz);

/* ---- MQTT clients ---- */

struct hclient;

/*
 * Connects as a harness user (v5: MQTT 5, else 3.1.1) and runs the network
 * loop in a thread. Reconnects on its own if the broker restarts.
 */
struct hclient *hclient_connect(const struct hbroker *, const char *user,
	    bool v5, int64_t timeout_ms);
/*
 * Publishes and, for QoS 1, waits for the PUBACK. *reason (may be NULL)
 * gets the MQTT 5 reason code of the PUBACK (0 success, 135 not
 * authorized); for 3.1.1 or QoS 0 it is 0. -1 on timeout or error.
 */
int	hclient_publish(struct hclient *, const char *topic,
	    const char *payload, int qos, bool retain, int64_t timeout_ms,
	    int *reason);
/* Subscribes and waits for the SUBACK; *granted gets the granted QoS
 * (or a v5 reason code >= 128 if refused). */
int	hclient_subscribe(struct hclient *, const char *pattern, int qos,
	    int64_t timeout_ms, int *granted);
bool	hclient_connected(struct hclient *);
void	hclient_close(struct hclient *);

/* ---- observer ---- */

/*
 * The observer is an hclient logged in as "observer", subscribed to "#".
 * It keeps the latest payload of every topic and an ordered log of every
 * message on solar/control/#, gridcal/# and plant/# (plant/status only if
 * hobs_log_status() asked for it: it arrives every plant tick).
 */
struct hobs;

struct hobs_msg {
	int64_t	at_ms;		/* monotonic arrival */
	char	topic[128];
	char	payload[256];	/* truncated copy */
	size_t	len;		/* real payload length */
	bool	retain;
};

struct hobs *hobs_start(const struct hbroker *, int64_t timeout_ms);
void	hobs_stop(struct hobs *);
void	hobs_log_status(struct hobs *, bool on);

/*
 * Latest payload of a topic into buf (NUL-terminated, truncated to fit).
 * Returns the number of messages seen on the topic (0: never, buf "").
 */
uint64_t hobs_latest(struct hobs *, const char *topic, char *buf,
	    size_t bufsz);
/* Messages seen on a topic, and the arrival of the latest (0 if none). */
uint64_t hobs_count(struct hobs *, const char *topic);
int64_t	hobs_last_at(struct hobs *, const char *topic);
/* Number of logged messages whose topic starts with prefix ("" = all). */
size_t	hobs_log_count(struct hobs *, const char *prefix);
/* The idx'th logged message (0-based, arrival order) with that prefix. */
int	hobs_log_get(struct hobs *, const char *prefix, size_t idx,
	    struct hobs_msg *out);
/*
 * What a subscriber arriving now is given: the message the broker retains
 * on topic, into buf ("" and 0 if none, 1 if one, -1 on error). The truth
 * of a retained state, unlike hobs_latest(): an observer that was away
 * while the broker restarted keeps a stale latest payload.
 */
int	hbroker_retained(const struct hbroker *, const char *topic, char *buf,
	    size_t bufsz, int64_t timeout_ms);

/*
 * Has any message on topic had exactly this payload? Remembers the first
 * HOBS_SEEN_MAX distinct payloads of each topic: meant for words and
 * garbage, not for a noisy number.
 */
#define HOBS_SEEN_MAX	256
bool	hobs_seen_payload(struct hobs *, const char *topic,
	    const char *payload);

/*
 * Polls pred(obs, arg) every few milliseconds until it returns true
 * (0) or timeout_ms passes (-1). pred runs in the caller's thread and may
 * use every hobs_* accessor.
 */
typedef bool (*hobs_pred)(struct hobs *, void *arg);
int	hobs_wait(struct hobs *, hobs_pred pred, void *arg,
	    int64_t timeout_ms);
/* Until the latest payload on topic equals payload. */
int	hobs_wait_payload(struct hobs *, const char *topic,
	    const char *payload, int64_t timeout_ms);
/* Until at least n messages have been seen on topic. */
int	hobs_wait_count(struct hobs *, const char *topic, uint64_t n,
	    int64_t timeout_ms);
/* Until at least n logged messages start with prefix. */
int	hobs_wait_log(struct hobs *, const char *prefix, size_t n,
	    int64_t timeout_ms);

/* ---- the plant: gridcal-plant under test ---- */

#define HPLANT_STATUS_TOPIC	"plant/status"
/* Simulated seconds per wall second; a grid calibration from ~50 % (about
 * 3.5 simulated hours) then takes about 20 s. */
#define HPLANT_DEFAULT_SPEED	600
#define HPLANT_DEFAULT_PERIOD_MS 100

struct hplant_opts {
	double		speed;		/* 0: HPLANT_DEFAULT_SPEED */
	int		period_ms;	/* 0: HPLANT_DEFAULT_PERIOD_MS */
	uint64_t	seed;		/* 0: 1 */
	const char	*status_topic;	/* NULL: HPLANT_STATUS_TOPIC */
	const char	*binary;	/* NULL: $GRIDCAL_PLANT or
					   <root>/build/gridcal-plant */
};

/* The plant binary: $GRIDCAL_PLANT or <root>/build/gridcal-plant. */
int	hplant_binary(char *buf, size_t bufsz);
/*
 * Spawns gridcal-plant logged in as "plant" with the profile at
 * profile_path and a scenario (a file in tests/scenarios, or a path);
 * stdout to <workdir>/plant.out, stderr to <workdir>/plant.err.
 */
int	hplant_start(struct hproc *, const struct hbroker *,
	    const char *profile_path, const char *scenario,
	    const struct hplant_opts *);
/* Until a truth message has been seen on plant/status. */
int	hplant_wait_ready(struct hobs *, int64_t timeout_ms);
/*
 * SIGTERM, wait; the plant's final JSON line (its last stdout line) into
 * final (may be NULL). -1 if it did not exit 0 on SIGTERM.
 */
int	hplant_stop(struct hproc *, char *final, size_t finalsz);

/*
 * Truth from the latest plant/status message: a value at a path such as
 * "sim_s", "control.received", "packs[5].bms_soc", "units[0].mode"
 * (arrays 0-based). -1 if there is no status yet or no such value.
 */
int	hobs_truth_num(struct hobs *, const char *path, double *out);
int	hobs_truth_str(struct hobs *, const char *path, char *buf,
	    size_t bufsz);
/* Until the truth value at path is >= min (numbers or booleans). */
int	hobs_wait_truth_ge(struct hobs *, const char *path, double min,
	    int64_t timeout_ms);
/* Until the truth value at path is <= max. */
int	hobs_wait_truth_le(struct hobs *, const char *path, double max,
	    int64_t timeout_ms);
/* Until the truth string at path equals want. */
int	hobs_wait_truth_str(struct hobs *, const char *path, const char *want,
	    int64_t timeout_ms);

/* ---- JSON (the plant's truth) ---- */

/*
 * Reads one value out of a JSON text by path ("a.b[2].c"). Numbers and
 * booleans (1/0) for _num, strings for _str. -1 if the text is not valid
 * JSON up to the value, the path does not exist or the type does not
 * match.
 */
int	hjson_num(const char *json, const char *path, double *out);
int	hjson_str(const char *json, const char *path, char *buf,
	    size_t bufsz);

/* ---- test profile ---- */

/*
 * profiles/sim.yaml.in is the reference site's profile with accelerated
 * timing and these placeholders:
 *   @PORT@             broker port
 *   @WORKDIR@          the broker's work directory (credentials, state
 *                      dir, audit log)
 *   @BUILD@            absolute build directory (the supervisor binary)
 *   @SUPERVISOR_USER@  user the watchdog runs the supervisor as
 * hprofile_write() substitutes them, applies overrides and writes
 * <workdir>/profile.yaml (path returned in out). It also makes what the
 * paths expect, as a site must (README "Users, files and modes"): the
 * state directory (<workdir>/state or the paths.state_dir override) owned
 * by gridcal-watchdog, mode 0700, and, when run as root,
 * <workdir>/supervisor.cred root:<supervisor's group> 0640, which the
 * supervisor reads as itself (watchdog.cred stays root's, 0600).
 * The supervisor user is an override of paths.supervisor_user, else
 * $GRIDCAL_SUPERVISOR_USER, else this process's pool user (huser_*).
 *
 * An override names a key by its dotted key path and gives the YAML text
 * that replaces its value, e.g. { "limits.abort.cell_voltage_max_v",
 * "3.55" } or { "readback.grid_modes", "[Line]" }; a key whose value is a
 * block (pack_fields.temperatures, a list) loses the whole block to the
 * flow text given ("[{topic: \"t/{i}\", unit: C, min: -40, max: 120}]"). An
 * override that matches no key is an error: a test cannot silently run
 * with the wrong profile.
 */
struct hprofile_kv {
	const char	*key;
	const char	*value;
};

int	hprofile_write(const struct hbroker *, char *out, size_t outsz,
	    const struct hprofile_kv *overrides, size_t noverrides,
	    char *err, size_t errsz);
/* Same, from a template text (for tests of the writer itself). */
int	hprofile_render(const char *tmpl, const struct hbroker *,
	    const struct hprofile_kv *overrides, size_t noverrides,
	    char **outp, char *err, size_t errsz);

/* ---- system users (users.c) ---- */

#define HUSER_WATCHDOG	"gridcal-watchdog"

/* Creates the system user name (useradd --system) if missing; 0 if it is
 * there (or not root: nothing to do). */
int	huser_ensure(const char *name);
/*
 * The supervisor user of this test process: $GRIDCAL_SUPERVISOR_USER, or
 * one of a pool that no other running test holds (created on first use),
 * with gridcal-watchdog made too. NULL if none is free.
 */
const char *huser_supervisor(void);
/* A supervisor's credential file: root:<its group>, 0640. */
int	huser_give_cred(const char *path, const char *supervisor);
/* A state directory: gridcal-watchdog's, 0700. */
int	huser_give_state(const char *dir);

#endif
