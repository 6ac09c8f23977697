/*
 * The facts of a run that the guards' `model` expressions in
 * spec/calibration.yaml are written over. Included first by `make model`
 * (before the generated calibration.pml, so that cpp knows the names);
 * spec/watchdog.pml chooses their values.
 */

/* --method */
#define M_SOLAR		1
#define M_GRID		2
byte method;

/* --confirm: the user authorised setting changes for this run */
bit authorised;

/* The class of the bank in the pre-flight snapshot (supervisor/preflight.h):
 * the target, nothing to do, real imbalance, each unsafe gate, or never a
 * complete fresh snapshot. */
#define B_DRIFT		1
#define B_BALANCED	2
#define B_IMBALANCE	3
#define B_TEMPERATURE	4
#define B_PROTECTION	5
#define B_CELL_DELTA	6
#define B_CELL_HIGH	7
#define B_UNITS		8
#define B_STALE		9
byte bank;

/* Every pack re-anchored (SoC >= verify limit, spreads tight): decided by
 * the environment when the taper hold finishes, never before. */
bit reanchored;
