/*
 * gridcal-bench-tm: the supervisor's telemetry ingest path (topic lookup,
 * strict parse, unit conversion, store) driven over realistic payloads,
 * with no broker in the way. Run natively it reports CPU time per message;
 * run under `valgrind --tool=callgrind` twice with different counts, the
 * difference of the two totals divided by the difference of the counts is
 * the instructions per message, independent of start-up and of whatever
 * else the machine is doing.
 *
 *   gridcal-bench-tm --profile FILE [--count N] [--mode ingest|floor]
 *
 * ingest  tm_ingest() on every message (what the supervisor does)
 * floor   the least a reactor must do per message: compare the topic with
 *         the one it watches and strtod() the payload
 *
 * Prints key=value lines on stdout for the bench driver.
 */
#include <err.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "profile.h"
#include "telemetry.h"

#define NMSG		4096	/* distinct messages, cycled */
#define PAYLOAD_MAX	24

struct msg {
	char	topic[PROFILE_TOPIC_MAX];
	char	payload[PAYLOAD_MAX];
	size_t	len;
};

static struct msg msgs[NMSG];
static struct profile pf;
static struct tm_store tm;

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Uniform in [lo, hi]. */
static double
uniform(double lo, double hi)
{
	return lo + (hi - lo) * (double)(xorshift() >> 11) / (double)(1ULL << 53);
}

/* A value such as the site's monitoring daemon publishes for the field. */
static void
pack_payload(int f, char *buf, size_t sz)
{
	switch (f) {
	case PF_SOC:
		(void)snprintf(buf, sz, "%d", (int)uniform(20, 100));
		break;
	case PF_PACK_VOLTAGE:
		(void)snprintf(buf, sz, "%.2f", uniform(51.0, 56.6));
		break;
	case PF_PACK_CURRENT:
		(void)snprintf(buf, sz, "%.1f", uniform(-40, 40));
		break;
	case PF_CELL_VOLTAGE_MAX:
		(void)snprintf(buf, sz, "%.3f", uniform(3.2, 3.55));
		break;
	case PF_CELL_DELTA_MV:
		(void)snprintf(buf, sz, "%d", (int)uniform(2, 40));
		break;
	case PF_PROTECTION:
		(void)snprintf(buf, sz, "%s", xorshift() % 8 == 0 ? "" : "0");
		break;
	default:	/* a temperature sensor */
		(void)snprintf(buf, sz, "%.1f", uniform(15, 35));
		break;
	}
}

static void
unit_payload(int f, char *buf, size_t sz)
{
	static const char *const modes[] = { "Hybrid", "Line", "Battery" };
	static const char *const pop[] = { "SBU", "SUB" };
	static const char *const pcp[] = { "Solar first", "Solar and utility" };
	static const char *const dir[] = { "input", "output", "idle" };

	switch (f) {
	case UF_DEVICE_MODE:
		(void)snprintf(buf, sz, "%s", modes[xorshift() % 3]);
		break;
	case UF_OUTPUT_PRIORITY:
		(void)snprintf(buf, sz, "%s", pop[xorshift() % 2]);
		break;
	case UF_CHARGER_PRIORITY:
		(void)snprintf(buf, sz, "%s", pcp[xorshift() % 2]);
		break;
	case UF_LINE_DIRECTION:
		(void)snprintf(buf, sz, "%s", dir[xorshift() % 3]);
		break;
	default:
		(void)snprintf(buf, sz, "%d", (int)uniform(0, 5000));
		break;
	}
}

static void
make_messages(void)
{
	int nf = pack_nfields(&pf);
	int ntopics = pf.packs * nf + pf.units * UF_COUNT;

	for (int i = 0; i < NMSG; i++) {
		struct msg *m = &msgs[i];
		int k = (int)(xorshift() % (uint64_t)ntopics);

		if (k < pf.packs * nf) {
			if (topic_expand(pf.pack_field[k % nf].topic,
			    k / nf + 1, m->topic, sizeof(m->topic)) == -1)
				errx(1, "topic does not fit");
			pack_payload(k % nf, m->payload, sizeof(m->payload));
		} else {
			k -= pf.packs * nf;
			if (topic_expand(pf.unit_field[k % UF_COUNT].topic,
			    k / UF_COUNT + 1, m->topic, sizeof(m->topic)) == -1)
				errx(1, "topic does not fit");
			unit_payload(k % UF_COUNT, m->payload,
			    sizeof(m->payload));
		}
		m->len = strlen(m->payload);
	}
}

static double
cpu_s(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == -1)
		err(1, "clock_gettime");
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Keeps the floor loop's work from being optimised away. */
static volatile double sink;

static uint64_t
run_floor(uint64_t n, const char *watch)
{
	uint64_t hits = 0;
	double acc = 0;

	for (uint64_t i = 0; i < n; i++) {
		const struct msg *m = &msgs[i % NMSG];
		char *end;

		if (strcmp(m->topic, watch) == 0)
			hits++;
		acc += strtod(m->payload, &end);
	}
	sink = acc;
	return hits;
}

static uint64_t
run_ingest(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		const struct msg *m = &msgs[i % NMSG];

		(void)tm_ingest(&tm, m->topic, m->payload, m->len,
		    1 + (int64_t)(i / 1000), NULL, 0);
	}
	return tm.stored;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: gridcal-bench-tm --profile FILE [--count N] "
	    "[--mode ingest|floor]\n");
	exit(64);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "count", required_argument, NULL, 'n' },
		{ "mode", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	const char *profile_path = NULL, *mode = "ingest", *errstr;
	char perr[PROFILE_ERR_MAX], watch[PROFILE_TOPIC_MAX];
	uint64_t n = 2000000, got;
	double t0, t1;
	int ch;

	while ((ch = getopt_long(argc, argv, "p:n:m:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			profile_path = optarg;
			break;
		case 'n':
			n = (uint64_t)strtonum(optarg, 1, 1000000000LL, &errstr);
			if (errstr != NULL)
				errx(64, "count %s: %s", optarg, errstr);
			break;
		case 'm':
			mode = optarg;
			break;
		default:
			usage();
		}
	}
	if (profile_path == NULL || optind != argc ||
	    (strcmp(mode, "ingest") != 0 && strcmp(mode, "floor") != 0))
		usage();
	if (profile_load(profile_path, &pf, perr, sizeof(perr)) == -1)
		errx(78, "%s", perr);
	if (tm_init(&tm, &pf) == -1)
		errx(78, "%s: bad topic template", profile_path);
	make_messages();
	if (topic_expand(pf.pack_field[PF_CELL_VOLTAGE_MAX].topic, 1, watch,
	    sizeof(watch)) == -1)
		errx(1, "topic does not fit");

	t0 = cpu_s();
	if (strcmp(mode, "floor") == 0)
		got = run_floor(n, watch);
	else {
		got = run_ingest(n);
		/* every message is valid: a rejection means a broken bench */
		if (got != n || tm_rejected_total(&tm) != 0)
			errx(1, "stored %llu of %llu, rejected %llu",
			    (unsigned long long)got, (unsigned long long)n,
			    (unsigned long long)tm_rejected_total(&tm));
	}
	t1 = cpu_s();
	printf("mode=%s\ncount=%llu\ncpu_s=%.6f\nns_per_msg=%.2f\n"
	    "msgs_per_cpu_s=%.0f\n", mode, (unsigned long long)n, t1 - t0,
	    (t1 - t0) * 1e9 / (double)n, (double)n / (t1 - t0));
	return 0;
}
