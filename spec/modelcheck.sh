#!/bin/sh
# Model-checks the generated supervisor machine composed with the watchdog
# model: spec/facts.pml + GEN_PML + the watchdog's generated permits
# (watchdog_rules.pml beside GEN_PML) + spec/watchdog.pml +
# spec/properties.pml.
#
# usage: spec/modelcheck.sh [-D NAME=VALUE]... [-p PROP]... WORKDIR GEN_PML
#
# Every spin/pan file lands in WORKDIR. Each property of properties.pml is
# checked in its own pan run (pan -a -N PROP); its tag says how the result
# is judged: @safety and @liveness must report "errors: 0" on a complete
# search, @witness must report a violation (so the model provably gets
# there). A separate run without a never claim (-DNOCLAIM) checks the
# model's assertions and that no process is stuck in a non-end state
# ("end_states"). pan exits 0 even when it finds errors, so the verdict
# comes from its output, never from its exit status. -p limits the runs to
# the properties named (repeatable; "end_states" names the claim-less run).
#
# Writes WORKDIR/results ("PROP KIND VERDICT STATES SECONDS" per line) and,
# for each unexpected result, the counterexample's supervisor transitions
# (spin -t replay, MSC lines) on stdout. Exit status: 0 every verdict as
# expected, 1 otherwise, 2 tools failed.
set -u

usage() {
	echo "usage: $0 [-D NAME=VALUE]... [-p PROP]... WORKDIR GEN_PML" >&2
	exit 64
}

defs=""
only=""
while getopts "D:p:" opt; do
	case $opt in
	D) defs="$defs -D$OPTARG" ;;
	p) only="$only $OPTARG" ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage
work=$1
gen=$2

top=$(cd "$(dirname "$0")/.." && pwd) || exit 2
case $gen in /*) ;; *) gen=$(pwd)/$gen ;; esac
[ -r "$gen" ] || { echo "modelcheck: $gen: not readable" >&2; exit 2; }
mkdir -p "$work" || exit 2
cd "$work" || exit 2
rm -f pan pan-end ./*.trail results

# The watchdog's permits are generated beside the machine (-w).
rules=$(dirname "$gen")/watchdog_rules.pml
[ -r "$rules" ] || { echo "modelcheck: $rules: not readable" >&2; exit 2; }
cat > model.pml <<EOF
/* Composed by spec/modelcheck.sh; do not edit. */
#include "$top/spec/facts.pml"
#include "$gen"
#include "$rules"
#include "$top/spec/watchdog.pml"
#include "$top/spec/properties.pml"
EOF

# -DCOLLAPSE: compression, not an approximation (bitstate stays off).
PANFLAGS="-O2 -w -DCOLLAPSE -DMEMLIM=8192 -DVECTORSZ=1024"
# shellcheck disable=SC2086
if ! spin $defs -a model.pml > spin.out 2>&1; then
	cat spin.out >&2
	echo "modelcheck: spin -a failed" >&2
	exit 2
fi
wanted() {
	[ -z "$only" ] && return 0
	for w in $only; do
		[ "$w" = "$1" ] && return 0
	done
	return 1
}

# shellcheck disable=SC2086
if ! cc $PANFLAGS -o pan pan.c > cc.out 2>&1 || { wanted end_states &&
    ! cc $PANFLAGS -DNOCLAIM -DSAFETY -o pan-end pan.c >> cc.out 2>&1; }; then
	cat cc.out >&2
	echo "modelcheck: cc pan.c failed" >&2
	exit 2
fi

# "NAME KIND" for every ltl block, from its @tag.
props=$(sed -n 's/^ltl \([a-z_0-9]*\) .*@\(safety\|liveness\|witness\).*/\1 \2/p' \
    "$top/spec/properties.pml")
[ -n "$props" ] || { echo "modelcheck: no tagged ltl blocks" >&2; exit 2; }

status=0
printf '%-44s %-9s %-8s %12s %8s\n' property kind verdict states seconds

# judge NAME KIND LOGFILE: prints the line, records it, returns 0 if as
# expected.
judge() {
	name=$1 kind=$2 log=$3
	errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$log" | tail -1)
	states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "$log" | tail -1)
	secs=$(sed -n 's/^pan: elapsed time \([0-9.e+]*\) .*/\1/p' "$log" | tail -1)
	complete=yes
	if grep -q "Search not completed\|max search depth too small\|out of memory\|reached -DMEMLIM" "$log"; then
		complete=no
	fi
	if [ -z "$errors" ]; then
		verdict=BROKEN
	elif [ "$kind" = witness ]; then
		if [ "$errors" -gt 0 ]; then verdict=reached; else verdict=UNREACHED; fi
		[ $complete = no ] && [ "$errors" -eq 0 ] && verdict=INCOMPLETE
	elif [ "$errors" -gt 0 ]; then
		verdict=VIOLATED
	elif [ $complete = no ]; then
		verdict=INCOMPLETE
	else
		verdict=holds
	fi
	printf '%-44s %-9s %-8s %12s %8s\n' "$name" "$kind" "$verdict" \
	    "${states:-?}" "${secs:-?}"
	echo "$name $kind $verdict ${states:-?} ${secs:-?}" >> results
	case $verdict in
	holds|reached) return 0 ;;
	*) return 1 ;;
	esac
}

# Replays the trail of a failed run and shows the supervisor's steps.
counterexample() {
	name=$1
	[ -f model.pml.trail ] || return 0
	echo "  counterexample ($name):"
	# The trail names its claim; spin -t replays it with the printfs.
	# shellcheck disable=SC2086
	spin $defs -t model.pml 2>/dev/null |
	    sed -n 's/^ *MSC: /    /p' | head -80
	mv model.pml.trail "$name.trail"
}

if wanted end_states; then
	./pan-end -m200000 -n > end_states.log 2>&1
	if ! judge end_states safety end_states.log; then
		status=1
		counterexample end_states
	fi
fi

echo "$props" | while read -r name kind; do
	wanted "$name" || continue
	./pan -a -m200000 -n -N "$name" > "$name.log" 2>&1
	if ! grep -q "never claim[[:space:]]*+ ($name)" "$name.log"; then
		echo "$name $kind BROKEN" >> results
		echo "modelcheck: $name: pan did not run that claim" >&2
		continue
	fi
	if ! judge "$name" "$kind" "$name.log"; then
		[ "$kind" = witness ] || counterexample "$name"
	fi
	# A witness's trail is the run that reached it: keep it by name.
	[ -f model.pml.trail ] && mv model.pml.trail "$name.trail"
done

if [ -n "$only" ]; then
	for w in $only; do
		grep -q "^$w " results 2>/dev/null ||
		    { echo "modelcheck: no property $w" >&2; status=2; }
	done
fi
if grep -qv " \(holds\|reached\) " results; then
	status=1
fi
exit $status
