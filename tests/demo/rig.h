/*
 * A whole simulated site for `make demo` and the supervisor's integration
 * tests: a harness broker with the site's users and ACL, a test profile,
 * gridcal-plant on a scenario, an observer on every topic, and
 * gridcal-watchdog (which runs gridcal-supervisor) as the calibration.
 * Everything is real: processes, broker, signals. Built on
 * tests/harness/harness.h.
 */
#ifndef GRIDCAL_RIG_H
#define GRIDCAL_RIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/harness/harness.h"
#include "sealvk.h"

struct rig {
	char		workdir[PATH_MAX];
	char		profile[PATH_MAX];
	char		scenario[PATH_MAX];
	char		audit_log[PATH_MAX];
	char		state_dir[PATH_MAX];
	char		wd_out[PATH_MAX], wd_err[PATH_MAX];
	char		wd_bin[PATH_MAX];	/* "": build/gridcal-watchdog */
	char		plant_final[4096];
	struct hbroker	br;
	struct hobs	*obs;
	struct hproc	plant;
	struct hproc	wd;
	bool		plant_up, wd_up;
	int		packs, units;
};

/*
 * Starts broker, profile (with overrides), observer and plant on the
 * scenario (a name in tests/scenarios or a path). Makes the supervisor's
 * credentials readable by the user the watchdog runs it as.
 */
int	rig_start(struct rig *, const char *tag, const char *scenario,
	    const struct hprofile_kv *ov, size_t nov,
	    const struct hplant_opts *);
/*
 * Writes a scenario into the work directory: the named one from
 * tests/scenarios with each `from` text replaced by its `to` (every one
 * must match). Path into out.
 */
int	rig_scenario(struct rig *, const char *base, const char *const *from,
	    const char *const *to, size_t n, char *out, size_t outsz);
/*
 * Runs gridcal-watchdog calibrate --method M [--confirm]; its output goes
 * to the terminal (show) or to wd_out / wd_err.
 */
int	rig_watchdog(struct rig *, const char *method, bool confirm, bool show);
/* Waits for the watchdog to exit; its exit code, -1 on timeout/signal. */
int	rig_watchdog_wait(struct rig *, int64_t timeout_ms);
/* gridcal-audit verify LOG --state-dir DIR: 0 when intact. */
int	rig_audit_verify(struct rig *, bool show);
/*
 * The state directory's sealing key, as gridcal-setup makes it; the
 * verification key into vk.
 */
int	rig_make_seal_key(struct rig *, char vk[SEALVK_TEXT]);
/*
 * gridcal-audit verify LOG --state-dir DIR --key VK --seal-from FILE, FILE
 * holding the seals the observer saw on gridcal/audit/seal: its exit
 * status (0: every record sealed), -1 if it could not run.
 */
int	rig_audit_verify_sealed(struct rig *, const char *vk, bool show);
/* gridcal-audit report LOG to the terminal. */
int	rig_audit_report(struct rig *);
/* Every unit's real settings (plant truth) everyday. */
bool	rig_truth_everyday(struct rig *);
/* Every pack's real BMS counter (plant truth) at least min. */
bool	rig_truth_soc_at_least(struct rig *, double min);
/* Control messages published on solar/control/# so far. */
size_t	rig_control_count(struct rig *);
/* Does the audit log hold a supervisor record of event whose text holds
 * needle? */
bool	rig_audit_has(struct rig *, const char *event, const char *needle);
/* Stops everything (plant final line into plant_final). */
void	rig_stop(struct rig *);

#endif
