/*
 * gridcal-spec-gen: reads the calibration spec (spec/calibration.yaml),
 * checks that it describes a safe machine, and writes the supervisor's
 * transition table, a Promela model and a Graphviz picture. The spec is
 * the single source of truth for both the code and the proof, so the
 * outputs are generated at build time and never committed or edited.
 */
#include <sys/stat.h>

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

static void __attribute__((noreturn))
usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f,
"usage: gridcal-spec-gen [-n] [-c | -o DIR] [-w WATCHDOG.yaml] SPEC.yaml\n"
"\n"
"Reads the calibration spec and writes into DIR (default build/gen):\n"
"  calibration_table.h  enums of states, events, guards, actions and\n"
"                       outcomes; struct cal_row; the declarations of the\n"
"                       hand-written guard_<name>() and action_<name>()\n"
"  calibration_table.c  the rows grouped by (state, event) in file order,\n"
"                       cal_index, names, per-state outcome and flags, the\n"
"                       guard and action function tables\n"
"  calibration_stubs.c  stub guards and actions for tests of the engine\n"
"  calibration.pml      the machine in Promela for spec/watchdog.pml\n"
"  calibration.dot      a Graphviz picture\n"
"and, with -w, from the watchdog's rules (spec/watchdog.yaml), data only:\n"
"  watchdog_rules.h     the watchdog's request table rows, set and revert\n"
"                       orders and value permits (watchdog/monitor.c,\n"
"                       watchdog/revert.c)\n"
"  watchdog_rules.pml   the whitelist's permits and the revert order for\n"
"                       spec/watchdog.pml\n"
"Files are written to a temporary name and renamed when complete.\n"
"\n"
"The spec is rejected (exit 65, every violation on stderr as FILE:LINE:) if:\n"
"  - YAML: a key is unknown, missing or repeated; an alias is used; a name\n"
"    is not [a-z][a-z0-9_]*; a doc is not one line of printable ASCII; a\n"
"    boolean is not true/false; a name is declared twice or used but not\n"
"    declared (state, event, guard, action); something declared is unused\n"
"  - a state is unreachable from the initial state, a non-terminal state\n"
"    has no transition (dead end) or cannot reach a terminal state, or a\n"
"    terminal state (one with an outcome) has a transition\n"
"  - ordering: rows of one (state, event) are tried in file order and the\n"
"    first whose guards all hold fires; a row whose guards include every\n"
"    guard of an earlier row of its group can never fire and is refused\n"
"    (so only the last row of a group may be unguarded)\n"
"  - an active state that is not reverting does not handle an abort event\n"
"    whatever the guards say (its last row for the event has guards), or\n"
"    a state that holds the settings has an abort row that does not lead\n"
"    to a reverting state\n"
"  - a non-terminal state (reverting or not) does not handle a link_lost\n"
"    event unguarded, or a row on one leads to a state that is not\n"
"    terminal or runs a request action\n"
"  - a row requests a calibration value into a state that does not hold\n"
"    the settings or from a reverting state; a row (not on a link_lost\n"
"    event) leaves the settings-holding states from a state that is not\n"
"    reverting, or leaves the revert for a holding state; a reverting\n"
"    state cannot reach a state that does not hold the settings through\n"
"    reverting states; a terminal state holds the settings\n"
"  - the abort group: an abort outcome with no entry in outcome_actions\n"
"    (where the settings are held) or outcome_states, an unknown action\n"
"    or state; abort_outcome on an event that is not an abort (the\n"
"    expanded rows are then checked by every rule above)\n"
"  - timers: a timer's event is not a timer event, a timer is owned by\n"
"    no state or by a terminal one, a timer event is raised by no timer,\n"
"    or a row handles a timer event in a state that owns no timer\n"
"    raising it (it could never fire)\n"
"  - with -w: the watchdog's rules are malformed (settings or values not\n"
"    in wire order, an order that is not every setting once, a request\n"
"    no phase permits, everyday not permitted always), or a row requests\n"
"    a calibration value the watchdog would not permit from its state:\n"
"    from a reverting state, or before every setting ahead of it in\n"
"    set_order is confirmed on every path to the state\n"
"\n"
"  -c            check only, write nothing\n"
"  -n, --no-check  skip the rules above (names must still resolve): only\n"
"                for model fixtures that must reach SPIN to show that a\n"
"                property catches what the rules would have\n"
"  -o DIR        output directory (must exist)\n"
"  -w FILE       the watchdog's rules: check against them, write them\n"
"  -h, --help    this text\n"
"\n"
"Exit status: 0 written, 64 usage, 65 spec rejected, 66 spec unreadable,\n"
"73 output not written.\n");
	exit(status);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "no-check", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct spec sp;
	static struct wd_spec wd;
	const char *dir = "build/gen", *wdpath = NULL;
	struct stat st;
	int ch, nocheck = 0, checkonly = 0, rc = 0;

	while ((ch = getopt_long(argc, argv, "cno:w:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			checkonly = 1;
			break;
		case 'n':
			nocheck = 1;
			break;
		case 'o':
			dir = optarg;
			break;
		case 'w':
			wdpath = optarg;
			break;
		case 'h':
			usage(0);
		default:
			usage(EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage(EX_USAGE);

	if (spec_load(&sp, argv[0]) == -1) {
		spec_free(&sp);
		return sp.errors > 0 ? EX_DATAERR : EX_NOINPUT;
	}
	if (wdpath != NULL && wd_load(&wd, wdpath) == -1) {
		fprintf(stderr, "gen: %s: rejected\n", wdpath);
		wd_free(&wd);
		spec_free(&sp);
		return EX_DATAERR;
	}
	if (!nocheck && (spec_check(&sp) > 0 ||
	    (wdpath != NULL && wd_check(&sp, &wd) > 0))) {
		fprintf(stderr, "gen: %s: rejected: %d error%s\n", sp.path,
		    sp.errors + wd.errors, sp.errors + wd.errors == 1 ? "" :
		    "s");
		wd_free(&wd);
		spec_free(&sp);
		return EX_DATAERR;
	}
	if (!checkonly) {
		if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
			fprintf(stderr, "gen: %s: not a directory\n", dir);
			spec_free(&sp);
			return EX_CANTCREAT;
		}
		if (emit_c(&sp, dir) == -1 || emit_stubs(&sp, dir) == -1 ||
		    emit_pml(&sp, dir) == -1 || emit_dot(&sp, dir) == -1 ||
		    (wdpath != NULL && (emit_wd_c(&wd, dir) == -1 ||
		    emit_wd_pml(&wd, dir) == -1)))
			rc = EX_CANTCREAT;
	}
	wd_free(&wd);
	spec_free(&sp);
	return rc;
}
