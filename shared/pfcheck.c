/*
 * The offline profile check (gridcal-watchdog -n, gridcal-supervisor
 * --check-profile), as sshd -t: load and cross-check the profile, check
 * the files it names as the program would open them, print the effective
 * values. No broker, nothing written.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cred.h"
#include "log.h"
#include "pfcheck.h"
#include "profile.h"

static const char *const unit_word[] = {
	[FU_PERCENT] = "%", [FU_VOLT] = "V", [FU_MILLIVOLT] = "mV",
	[FU_AMPERE] = "A", [FU_CELSIUS] = "C", [FU_FAHRENHEIT] = "F",
	[FU_WATT] = "W", [FU_KILOWATT] = "kW", [FU_FLAGS] = "flags",
	[FU_TEXT] = "text",
};

/* StrictModes: a file anyone else may write could say anything. */
static int
check_mode(const char *what, const char *path, bool exec)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		warnx("%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & (S_IWGRP | S_IWOTH)) ||
	    (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (exec && (st.st_mode & S_IXUSR) == 0)) {
		fprintf(stderr, "%s %s: bad owner or mode (uid %u, mode %03o;"
		    " want a regular file of root's or ours, not writable by "
		    "group or others%s)\n", what, path, (unsigned)st.st_uid,
		    (unsigned)(st.st_mode & 0777), exec ? ", executable" : "");
		return -1;
	}
	return 0;
}

static void
print_field(const char *name, const struct field_spec *f)
{
	printf("  %-24s %s [%s]", name, f->topic, unit_word[f->unit]);
	if (f->unit != FU_TEXT && f->unit != FU_FLAGS)
		printf(" %g..%g", f->min, f->max);
	if (f->format == PL_JSON)
		printf(" json %s", f->pointer);
	if (f->scale != 1 || f->sign != 1)
		printf(" x %g", f->scale * f->sign);
	printf("\n");
}

static void
print_profile(const struct profile *pf)
{
	const struct profile_limits *l = &pf->limits;
	const struct profile_timing *t = &pf->timing;

	printf("profile %s\n  sha256 %s\n  site %s\n", pf->path,
	    pf->digest_hex, pf->site);
	printf("broker %s:%u keepalive %ds\n", pf->broker_host,
	    (unsigned)pf->broker_port, pf->broker_keepalive_s);
	printf("credentials watchdog %s supervisor %s\n", pf->cred_watchdog,
	    pf->cred_supervisor);
	printf("paths state_dir %s audit_log %s supervisor %s (user %s)\n",
	    pf->state_dir, pf->audit_log, pf->supervisor_path,
	    pf->supervisor_user);
	printf("site packs %d units %d cadence %g days\n", pf->packs,
	    pf->units, pf->cadence_days);
	printf("pack telemetry:\n");
	for (int i = 0; i < pack_nfields(pf); i++)
		print_field(pack_field_name(pf, i), &pf->pack_field[i]);
	printf("unit telemetry:\n");
	for (int i = 0; i < UF_COUNT; i++)
		print_field(unit_field_name(i), &pf->unit_field[i]);
	if (pf->control_per_unit)
		printf("control per unit: each value to units 1..%d ({u}), each"
		    " unit's readback confirmed\n", pf->units);
	for (int s = 0; s < SETTING_COUNT; s++)
		printf("control %s %s: everyday %s (readback %s), calibration"
		    " %s (readback %s)\n", setting_name(s), pf->control[s].topic,
		    pf->control[s].value[VALUE_EVERYDAY],
		    pf->control[s].readback[VALUE_EVERYDAY],
		    pf->control[s].value[VALUE_CALIBRATION],
		    pf->control[s].readback[VALUE_CALIBRATION]);
	printf("limits pre-flight: voltage spread %g V, temperature %g..%g C,"
	    " cell delta < %g mV, drift at SoC spread %g %%\n",
	    l->pre_voltage_spread_v, l->pre_temp_min_c, l->pre_temp_max_c,
	    l->pre_cell_delta_mv, l->pre_drift_soc_spread_pct);
	printf("limits abort: cell %g V (BMS %g V), temperature %g..%g C;"
	    " engage %g A; bulk %g +- %g V; tail %g A/pack %g A total\n",
	    l->abort_cell_v, l->bms_protect_cell_v, l->abort_temp_min_c,
	    l->abort_temp_max_c, l->engage_current_a, l->bulk_v,
	    l->bulk_tolerance_v, l->tail_per_pack_a, l->tail_total_a);
	printf("limits verify: SoC %g %%, re-anchor %g %%, spread %g V, cell"
	    " delta %g mV; envelope: cell %g V, temperature %g C, stale %gs\n",
	    l->verify_soc_pct, l->verify_reanchor_pct,
	    l->verify_voltage_spread_v, l->verify_cell_delta_mv, l->env_cell_v,
	    l->env_temp_max_c, l->env_stale_ms / 1000.0);
	printf("timing (s): telemetry max age %g grace %g, pre-flight wait %g,"
	    " set confirm %g, engage %g, absorption hold %g max %g, run %g,"
	    " heartbeat %g/%g, revert confirm %g retry %g..%g, progress %g\n",
	    t->telemetry_max_age_ms / 1e3, t->telemetry_grace_ms / 1e3,
	    t->preflight_wait_ms / 1e3, t->set_confirm_ms / 1e3,
	    t->engage_timeout_ms / 1e3, t->absorption_hold_ms / 1e3,
	    t->absorption_max_ms / 1e3, t->run_max_ms / 1e3,
	    t->heartbeat_interval_ms / 1e3, t->heartbeat_timeout_ms / 1e3,
	    t->revert_confirm_ms / 1e3, t->revert_retry_ms / 1e3,
	    t->revert_retry_max_ms / 1e3, t->progress_interval_ms / 1e3);
}

int
profile_check_offline(const char *path, enum pf_check who, int verbose)
{
	static struct profile pf;	/* large */
	struct credentials c;
	char err[PROFILE_ERR_MAX];
	const char *cred;
	int rc = 0;

	log_setverbose(verbose);	/* -v: the defaults used */
	if (profile_load(path, &pf, err, sizeof(err)) == -1) {
		warnx("%s", err);
		return -1;
	}
	if (check_mode("profile", path, false) == -1)
		rc = -1;
	cred = who == PF_CHECK_WATCHDOG ? pf.cred_watchdog : pf.cred_supervisor;
	if (cred_load(cred, &c, err, sizeof(err)) == -1) {
		warnx("credentials %s", err);
		rc = -1;
	}
	cred_clear(&c);
	if (who == PF_CHECK_WATCHDOG &&
	    check_mode("paths.supervisor", pf.supervisor_path, true) == -1)
		rc = -1;
	print_profile(&pf);
	printf("%s\n", rc == 0 ? "profile OK" : "profile NOT OK");
	return rc;
}
