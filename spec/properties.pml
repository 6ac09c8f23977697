/*
 * The properties `make model` checks, one SPIN run each (pan -N name).
 * The tag at the end of each line says how the result is judged:
 *   @safety    must hold (pan -a: errors: 0)
 *   @liveness  must hold under weak fairness (pan -a -f: errors: 0)
 *   @witness   must be VIOLATED: proves the model can get there at all, so
 *              that the properties above are not vacuously true
 * SAFETY.md refers to these names.
 */

/* Every run that dirtied the settings ends with them reverted and
 * confirmed by readback, whatever aborts, timeouts, crashes or hangs. */
ltl revert_confirmed { [] (WD_DIRTY -> <> (!WD_DIRTY && PLANT_CLEAN)) }	/* @liveness */

/* The watchdog's run always ends. */
ltl run_ends { <> wd_finished }	/* @liveness */

/* A calibration value is never on the plant or on its way without the
 * durable intent mark set. */
ltl calibration_only_when_marked { [] (CAL_ANYWHERE -> WD_DIRTY) }	/* @safety */

/* The machine asks for a calibration value only after pre-flight passed
 * (a fresh snapshot classified as drift) in an authorised grid run. */
ltl request_after_preflight_and_authorisation { [] (cal_requested -> (bank == B_DRIFT && method == M_GRID && authorised)) }	/* @safety */

/* Solar-only: nothing is asked for and nothing is published. */
ltl never_in_solar_only { [] (method == M_SOLAR -> (!cal_requested && !cal_published)) }	/* @safety */

/* Whatever the supervisor sends (even a rogue one), the watchdog publishes
 * a calibration value only in an authorised grid run. */
ltl watchdog_whitelist { [] (cal_published -> (method == M_GRID && authorised)) }	/* @safety */

/* The plant's output priority is in calibration only while the charger
 * priority is: charger first on enable, output first on revert. */
ltl enable_and_revert_order { [] (plant_out == V_CALIBRATION -> plant_chg == V_CALIBRATION) }	/* @safety */

/* PASS only after verification found every pack re-anchored. */
ltl pass_needs_verification { [] (sup_outcome == OUT_PASS -> reanchored) }	/* @safety */

/* No terminal state while the settings are held or unconfirmed. */
ltl no_terminal_with_settings { [] (sup_outcome != OUT_NONE -> (!WD_DIRTY && PLANT_CLEAN)) }	/* @safety */

/* Witnesses: each must be violated. */
ltl witness_grid_pass { [] !(sup_outcome == OUT_PASS && method == M_GRID) }	/* @witness */
ltl witness_solar_pass { [] !(sup_outcome == OUT_PASS && method == M_SOLAR) }	/* @witness */
ltl witness_settings_enabled { [] !(plant_out == V_CALIBRATION && plant_chg == V_CALIBRATION) }	/* @witness */
ltl witness_wedged_revert { [] !(drops == 0 && WD_DIRTY && sup_exited) }	/* @witness */
/* The watchdog_lost rows are reached (the supervisor sees a crashed
 * watchdog's EOF with a revert still owed). */
ltl witness_watchdog_lost { [] !(sup_lost && WD_DIRTY) }	/* @witness */
