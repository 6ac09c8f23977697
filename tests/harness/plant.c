/*
 * gridcal-plant under test: spawn, wait for its first truth message, stop
 * it and keep its final JSON line; read its truth off the observer.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "harness_int.h"

#define PLANT_STOP_GRACE_MS	5000

int
hplant_binary(char *buf, size_t bufsz)
{
	const char *env = getenv("GRIDCAL_PLANT");

	if (env != NULL && env[0] != '\0') {
		if (strlcpy(buf, env, bufsz) >= bufsz)
			return -1;
		return 0;
	}
	return harness_path(buf, bufsz, "build/gridcal-plant");
}

int
hplant_start(struct hproc *p, const struct hbroker *b,
    const char *profile_path, const char *scenario,
    const struct hplant_opts *opts)
{
	struct hplant_opts o = { 0 };
	char bin[PATH_MAX], scen[PATH_MAX], cred[PATH_MAX], addr[64];
	char speed[32], seed[32], period[32], out[PATH_MAX], err[PATH_MAX];
	int n;

	if (opts != NULL)
		o = *opts;
	if (o.binary != NULL)
		(void)strlcpy(bin, o.binary, sizeof(bin));
	else if (hplant_binary(bin, sizeof(bin)) == -1)
		return -1;
	if (strchr(scenario, '/') != NULL)
		(void)strlcpy(scen, scenario, sizeof(scen));
	else {
		n = snprintf(scen, sizeof(scen), "%s/tests/scenarios/%s",
		    harness_root(), scenario);
		if (n < 0 || (size_t)n >= sizeof(scen))
			return -1;
	}
	if (hbroker_cred_path(b, "plant", cred, sizeof(cred)) == -1 ||
	    hbroker_address(b, addr, sizeof(addr)) == -1)
		return -1;
	(void)snprintf(speed, sizeof(speed), "%g",
	    o.speed > 0 ? o.speed : (double)HPLANT_DEFAULT_SPEED);
	(void)snprintf(seed, sizeof(seed), "%llu",
	    (unsigned long long)(o.seed != 0 ? o.seed : 1));
	(void)snprintf(period, sizeof(period), "%d",
	    o.period_ms > 0 ? o.period_ms : HPLANT_DEFAULT_PERIOD_MS);
	n = snprintf(out, sizeof(out), "%s/plant.out", b->workdir);
	if (n < 0 || (size_t)n >= sizeof(out))
		return -1;
	n = snprintf(err, sizeof(err), "%s/plant.err", b->workdir);
	if (n < 0 || (size_t)n >= sizeof(err))
		return -1;

	char *argv[] = { bin, (char *)"--profile", (char *)profile_path,
	    (char *)"--scenario", scen, (char *)"--broker", addr,
	    (char *)"--cred", cred, (char *)"--speed", speed,
	    (char *)"--seed", seed, (char *)"--period-ms", period,
	    (char *)"--status-topic",
	    (char *)(o.status_topic != NULL ? o.status_topic :
	    HPLANT_STATUS_TOPIC), NULL };
	return hproc_spawn(p, argv, NULL, out, err);
}

int
hplant_wait_ready(struct hobs *o, int64_t timeout_ms)
{
	return hobs_wait_count(o, HPLANT_STATUS_TOPIC, 1, timeout_ms);
}

int
hplant_stop(struct hproc *p, char *final, size_t finalsz)
{
	int r = 0;

	if (final != NULL && finalsz > 0)
		final[0] = '\0';
	if (hproc_stop(p, PLANT_STOP_GRACE_MS) == -1 ||
	    hproc_exit_code(p) != 0) {
		hwarnx("gridcal-plant did not exit 0 on SIGTERM (code %d, "
		    "signal %d), see %s", hproc_exit_code(p),
		    hproc_term_signal(p), p->err_path);
		r = -1;
	}
	if (final != NULL && p->out_path[0] != '\0' &&
	    harness_last_line(p->out_path, final, finalsz) == -1) {
		hwarnx("gridcal-plant printed no final line");
		r = -1;
	}
	return r;
}

int
hobs_truth_num(struct hobs *o, const char *path, double *out)
{
	char *json = hobs_latest_dup(o, HPLANT_STATUS_TOPIC);
	int r;

	if (json == NULL)
		return -1;
	r = hjson_num(json, path, out);
	free(json);
	return r;
}

int
hobs_truth_str(struct hobs *o, const char *path, char *buf, size_t bufsz)
{
	char *json = hobs_latest_dup(o, HPLANT_STATUS_TOPIC);
	int r;

	if (json == NULL)
		return -1;
	r = hjson_str(json, path, buf, bufsz);
	free(json);
	return r;
}

struct want_truth {
	const char	*path;
	double		 bound;
	int		 ge;
	const char	*str;
};

static bool
pred_truth(struct hobs *o, void *arg)
{
	struct want_truth *w = arg;
	char buf[256];
	double v;

	if (w->str != NULL)
		return hobs_truth_str(o, w->path, buf, sizeof(buf)) == 0 &&
		    strcmp(buf, w->str) == 0;
	if (hobs_truth_num(o, w->path, &v) == -1)
		return false;
	return w->ge ? v >= w->bound : v <= w->bound;
}

int
hobs_wait_truth_ge(struct hobs *o, const char *path, double min,
    int64_t timeout_ms)
{
	struct want_truth w = { path, min, 1, NULL };

	return hobs_wait(o, pred_truth, &w, timeout_ms);
}

int
hobs_wait_truth_le(struct hobs *o, const char *path, double max,
    int64_t timeout_ms)
{
	struct want_truth w = { path, max, 0, NULL };

	return hobs_wait(o, pred_truth, &w, timeout_ms);
}

int
hobs_wait_truth_str(struct hobs *o, const char *path, const char *want,
    int64_t timeout_ms)
{
	struct want_truth w = { path, 0, 0, want };

	return hobs_wait(o, pred_truth, &w, timeout_ms);
}
