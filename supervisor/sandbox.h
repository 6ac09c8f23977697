/*
 * The supervisor's sandbox (supervisor/sandbox.c), entered by main() once
 * the profile is loaded and before anything talks to the broker: from
 * then on the supervisor holds only what a telemetry reader and a
 * socketpair client need.
 */
#ifndef GRIDCAL_SUP_SANDBOX_H
#define GRIDCAL_SUP_SANDBOX_H

struct profile;

/* Fatal (exit 1) if the sandbox cannot be entered. */
void	sandbox_enter(const struct profile *);

#endif
