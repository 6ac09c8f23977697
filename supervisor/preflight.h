/*
 * Pre-flight judgements on a complete bank snapshot (domain.md, "Limits").
 * Each gate is a predicate that also says why, so the state machine's
 * guards (guards.c) and the read-only `check` command use the very same
 * code, in the same order as spec/calibration.yaml:
 *
 *   temperature   some temperature outside the charge window
 *   protection    some protection bit set
 *   cell delta    some pack's cell delta at or above the limit
 *   cell high     some cell already at the abort voltage
 *   units         a unit faulted, or readbacks disagree / not everyday
 *   imbalance     pack voltages diverge: real imbalance, not drift
 *   balanced      SoC readings already agree: nothing to re-anchor
 *   otherwise     drift: voltages agree, SoC readings do not (the target)
 */
#ifndef GRIDCAL_PREFLIGHT_H
#define GRIDCAL_PREFLIGHT_H

#include <stdbool.h>
#include <stddef.h>

#include "profile.h"
#include "snapshot.h"

enum pre_class {
	PRE_BALANCED,
	PRE_DRIFT,
	PRE_IMBALANCE,
	PRE_UNSAFE,
	PRE_CLASS_COUNT
};

struct preflight {
	enum pre_class	cls;
	char		code[32];	/* which gate, one word */
	char		why[256];	/* the figures behind the class */
};

/* The gates; each true when it stops the calibration, why filled in. */
bool	pre_temperature(const struct profile *, const struct snapshot *,
	    char *why, size_t whysz);
bool	pre_protection(const struct profile *, const struct snapshot *,
	    char *why, size_t whysz);
bool	pre_cell_delta(const struct profile *, const struct snapshot *,
	    char *why, size_t whysz);
bool	pre_cell_high(const struct profile *, const struct snapshot *,
	    char *why, size_t whysz);
bool	pre_units(const struct profile *, const struct snapshot *,
	    char *why, size_t whysz);
bool	pre_imbalance(const struct profile *, const struct snapshot *,
	    char *why, size_t whysz);
bool	pre_balanced(const struct profile *, const struct snapshot *,
	    char *why, size_t whysz);
/* Drift figures for a snapshot that passed every gate. */
void	pre_drift(const struct profile *, const struct snapshot *,
	    char *why, size_t whysz);

/* Runs the gates in order and classifies. */
void	preflight_classify(const struct profile *, const struct snapshot *,
	    struct preflight *);
const char *preflight_class_name(enum pre_class);	/* "drift" */

#endif
