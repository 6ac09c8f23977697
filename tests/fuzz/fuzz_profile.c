/*
 * (c) The profile loader (shared/profile.c through shared/yamlcfg.c): the
 * input is the file's bytes, written to a private temporary directory and
 * loaded with profile_load() as every program does.
 *
 * Oracles: a refusal is one line that names the file; an accepted profile
 * keeps every cross-key rule (shared/profile.c check_limits), its digest is
 * the SHA-256 of exactly the input, its strings are terminated and
 * printable, the control values are distinct words, and the telemetry
 * store can be built from it (tm_init never fails on a loaded profile).
 * Loading the same bytes twice gives the same profile.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <sha2.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "profile.h"
#include "telemetry.h"

static char dir[256];	/* on tmpfs if there is one (fuzz_mkdtemp) */
static char path[sizeof(dir) + 32];
static struct profile pf, again;
static struct tm_store tm;

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
cleanup(void)
{
	(void)unlink(path);
	(void)rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_mkdtemp(dir, sizeof(dir), "profile");
	(void)snprintf(path, sizeof(path), "%s/site.yaml", dir);
	(void)atexit(cleanup);
	return 0;
}

static void
printable(const char *what, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	FUZZ_ASSERT(n < max, "%s not terminated", what);
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT(s[i] >= 0x20 && s[i] < 0x7f, "%s: byte %#x", what,
		    (unsigned char)s[i]);
}

static void
check_loaded(const uint8_t *data, size_t size)
{
	const struct profile_limits *l = &pf.limits;
	const struct profile_timing *t = &pf.timing;
	char hex[2 * PROFILE_DIGEST_LEN + 1];

	SHA256Data(data, size, hex);
	FUZZ_ASSERT(strcmp(hex, pf.digest_hex) == 0, "digest %s", pf.digest_hex);
	FUZZ_ASSERT(pf.packs >= 1 && pf.packs <= PROFILE_MAX_PACKS, "%d",
	    pf.packs);
	FUZZ_ASSERT(pf.units >= 1 && pf.units <= PROFILE_MAX_UNITS, "%d",
	    pf.units);
	FUZZ_ASSERT(l->abort_cell_v < l->bms_protect_cell_v, "abort >= bms");
	FUZZ_ASSERT(l->env_cell_v > l->abort_cell_v &&
	    l->env_cell_v < l->bms_protect_cell_v, "envelope cell");
	FUZZ_ASSERT(l->env_temp_max_c > l->abort_temp_max_c, "envelope temp");
	FUZZ_ASSERT(t->heartbeat_timeout_ms >= 2 * t->heartbeat_interval_ms &&
	    t->heartbeat_interval_ms > 0, "heartbeat");
	FUZZ_ASSERT(t->revert_retry_max_ms >= t->revert_retry_ms &&
	    t->revert_retry_ms > 0 && t->revert_confirm_ms > 0, "revert");
	FUZZ_ASSERT(t->absorption_max_ms < t->run_max_ms, "run_max");
	FUZZ_ASSERT(l->env_stale_ms > t->telemetry_grace_ms &&
	    t->telemetry_grace_ms >= t->telemetry_max_age_ms, "stale");
	FUZZ_ASSERT(t->set_confirm_ms > 0, "set_confirm");
	printable("site", pf.site, sizeof(pf.site));
	printable("broker.host", pf.broker_host, sizeof(pf.broker_host));
	FUZZ_ASSERT(pf.broker_port > 0, "port 0");
	for (int s = 0; s < SETTING_COUNT; s++) {
		const struct control_spec *c = &pf.control[s];

		printable("control topic", c->topic, sizeof(c->topic));
		for (int v = 0; v < VALUE_COUNT; v++) {
			printable("control value", c->value[v], sizeof(c->value[v]));
			printable("readback", c->readback[v],
			    sizeof(c->readback[v]));
			FUZZ_ASSERT(c->value[v][0] != '\0' &&
			    c->readback[v][0] != '\0', "empty control word");
			FUZZ_ASSERT(profile_readback_value(&pf, s,
			    c->readback[v]) == v, "readback %s is not value %d",
			    c->readback[v], v);
		}
		FUZZ_ASSERT(strcmp(c->value[0], c->value[1]) != 0 &&
		    strcmp(c->readback[0], c->readback[1]) != 0,
		    "%s: everyday and calibration are the same word",
		    setting_name(s));
	}
	FUZZ_ASSERT(strcmp(pf.control[0].topic, pf.control[1].topic) != 0,
	    "both settings on one topic");
	FUZZ_ASSERT(pf.n_temps >= 1 && pf.n_temps <= PROFILE_MAX_TEMPS,
	    "%d temperature sensors", pf.n_temps);
	for (int f = 0; f < pack_nfields(&pf); f++)
		FUZZ_ASSERT(pf.pack_field[f].unit == FU_FLAGS ||
		    pf.pack_field[f].min <= pf.pack_field[f].max, "pack range");
	for (int f = PF_TEMP; f < pack_nfields(&pf); f++)
		FUZZ_ASSERT(pf.pack_field[f].unit == FU_CELSIUS ||
		    pf.pack_field[f].unit == FU_FAHRENHEIT, "sensor unit");
	FUZZ_ASSERT(tm_init(&tm, &pf) == 0, "tm_init refused a loaded profile");
	FUZZ_ASSERT(tm.ntopics == pf.packs * pack_nfields(&pf) +
	    pf.units * UF_COUNT, "%d topics", tm.ntopics);
	for (int i = 1; i < tm.ntopics; i++)
		FUZZ_ASSERT(strcmp(tm.topics[i - 1].topic, tm.topics[i].topic) < 0,
		    "topic %s twice or out of order", tm.topics[i].topic);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[PROFILE_ERR_MAX] = "", err2[PROFILE_ERR_MAX] = "";
	int fd, rc;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) ==
	    -1 || (size > 0 && write(fd, data, size) != (ssize_t)size) ||
	    close(fd) == -1) {
		perror(path);
		abort();
	}
	rc = profile_load(path, &pf, err, sizeof(err));
	if (rc == -1) {
		FUZZ_ASSERT(strncmp(err, path, strlen(path)) == 0,
		    "error does not name the file: %s", err);
		FUZZ_ASSERT(strchr(err, '\n') == NULL, "two lines: %s", err);
		/* it names what the file holds, which may be UTF-8, but no
		 * control byte but a tab reaches a terminal or a log */
		for (const char *c = err; *c != '\0'; c++)
			FUZZ_ASSERT(((unsigned char)*c >= 0x20 || *c == '\t') &&
			    *c != 0x7f,
			    "control byte %#x in the error: %s",
			    (unsigned char)*c, err);
	} else {
		FUZZ_ASSERT(rc == 0, "rc %d", rc);
		check_loaded(data, size);
	}
	FUZZ_ASSERT(profile_load(path, &again, err2, sizeof(err2)) == rc &&
	    strcmp(err, err2) == 0, "not deterministic: %s / %s", err, err2);
	FUZZ_ASSERT(rc == -1 || memcmp(&pf, &again, sizeof(pf)) == 0,
	    "two loads differ");
	return 0;
}
