#!/bin/sh
# tests/mutants/mutants.sh: mutation testing of the safety logic (issue 20).
#
# usage: tests/mutants/mutants.sh [-n] [ID ...]
#
# Applies each mutation of tests/mutants/mutants.txt (or only the IDs
# named) to a scratch copy of the tree in build/mutants/tree, never to the
# sources, builds what its tests need there and runs them: a test that
# fails kills the mutant. A mutation whose exact original text no longer
# occurs exactly once in its file is STALE (reported, never skipped
# silently). -n only checks that every mutation applies.
#
# The scratch tree is the tracked files as they are in this worktree, and
# a copy of build/ so only what a mutation touches is recompiled. Before
# any mutant, every test the list names runs once on the unmutated tree
# and must pass. Everything runs under nice -n 19 with make -j1.
#
# Environment: MUTANTS_FUZZ_RUNS (default 4000) fresh inputs per fuzz
# test, after the committed corpus; MUTANTS_TIMEOUT (default 900) seconds
# per test; MUTANTS_WORK (default build/mutants).
#
# Exit status: 0 when every non-equivalent mutant was killed and none is
# stale; 1 otherwise; 2 on a usage error or a failing baseline.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
list=$top/tests/mutants/mutants.txt
work=${MUTANTS_WORK:-$top/build/mutants}
tree=$work/tree
runs=${MUTANTS_FUZZ_RUNS:-4000}
tmo=${MUTANTS_TIMEOUT:-900}
NICE="nice -n 19"
check_only=0
if [ "${1:-}" = "-n" ]; then check_only=1; shift; fi

mkdir -p "$work" || exit 2
# one run at a time: each rebuilds the scratch tree
exec 9> "$work/lock"
flock -n 9 || { echo "mutants: another run holds $work/lock" >&2; exit 2; }
rm -rf "$work/m" && mkdir -p "$work/m" || exit 2
# mutants.txt -> work/m/N.{id,desc,file,tests,find,repl,equiv}
awk -v dir="$work/m" '
function put(ext, s,	f) { f = dir "/" n "." ext; printf "%s", s > f; close(f) }
/^#/ || /^[ \t]*$/ { next }
$1 == "mutant" { n++; put("id", $2); put("desc", substr($0, length($2) + 9)); next }
$1 == "file" { put("file", $2); next }
$1 == "tests" { put("tests", substr($0, 7)); next }
$1 == "find" { put("find", substr($0, 6)); next }
$1 == "repl" { put("repl", substr($0, 6)); next }
$1 == "equivalent" { put("equiv", substr($0, 12)); next }
{ printf "mutants.txt:%d: not understood: %s\n", NR, $0 > "/dev/stderr"; bad = 1 }
END { exit bad }' "$list" || exit 2
n=$(ls "$work/m" | grep -c '\.id$')
for i in $(seq 1 "$n"); do
	for ext in id file tests find repl; do
		[ -s "$work/m/$i.$ext" ] || { echo "mutant $i: no $ext" >&2; exit 2; }
	done
done

# apply SRC DST MUTANT: writes the mutated SRC to DST, prints the number of
# occurrences of the original text (the mutation is made only if it is 1)
apply() {
	FIND=$(cat "$3.find") REPL=$(cat "$3.repl") awk -v cnt="$2.count" '
	BEGIN { f = ENVIRON["FIND"]; r = ENVIRON["REPL"]; c = 0 }
	{
		line = $0; out = ""
		while ((i = index(line, f)) > 0) {
			c++; out = out substr(line, 1, i - 1) r
			line = substr(line, i + length(f))
		}
		print out line
	}
	END { print c > cnt }' "$1" > "$2"
	cat "$2.count"
}

selected() {	# is mutant $1 (its id) among the IDs asked for?
	[ $# -eq 1 ] && return 0
	want=$1; shift
	for a in "$@"; do [ "$a" = "$want" ] && return 0; done
	return 1
}

# the scratch tree: tracked files as they are here, and the build so far
rm -rf "$tree" && mkdir -p "$tree" || exit 2
(cd "$top" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$tree"
if [ -d "$top/build" ] && [ "$check_only" -eq 0 ]; then
	(cd "$top" && tar --exclude=build/mutants --exclude=build/fuzz/work \
	    --exclude=build/fuzz/long --exclude=build/faults -cf - build) |
	    tar -xf - -C "$tree"
fi

stale=0
for i in $(seq 1 "$n"); do
	id=$(cat "$work/m/$i.id"); f=$(cat "$work/m/$i.file")
	selected "$id" "$@" || continue
	if [ ! -f "$tree/$f" ]; then
		echo "STALE     $id: $f does not exist"; stale=$((stale + 1))
		continue
	fi
	c=$(apply "$tree/$f" "$work/m/$i.out" "$work/m/$i")
	if [ "$c" -ne 1 ]; then
		echo "STALE     $id: the original text occurs $c times in $f"
		stale=$((stale + 1))
	fi
done
if [ "$check_only" -eq 1 ]; then
	echo "mutants: $n listed, $stale stale"
	[ "$stale" -eq 0 ]; exit
fi

# One test: its build in the scratch tree, then the run. 0 passed,
# 1 failed, 3 did not build.
mk() { $NICE make -C "$tree" --no-print-directory GRIDCAL_INNER=1 -j1 "$@" \
    >> "$log" 2>&1; }
run_test() {
	t=$1
	case $t in
	fuzz-*)
		h=${t#fuzz-}
		mk "build/fuzz/fuzz-$h" || return 3
		rm -rf "$work/fz" && mkdir -p "$work/fz"
		(cd "$tree" && timeout "$tmo" $NICE "build/fuzz/fuzz-$h" \
		    -runs="$runs" -seed=1 -dict="tests/fuzz/$h.dict" \
		    -artifact_prefix="$work/fz/" "$work/fz" \
		    "tests/fuzz/corpus/$h") >> "$log" 2>&1 ;;
	unit)
		mk build/tests/unit || return 3
		(cd "$tree/tests/unit" && timeout "$tmo" $NICE ../../build/tests/unit) \
		    >> "$log" 2>&1 ;;
	sup-logic)
		mk build/tests/supervisor || return 3
		(cd "$tree" && CK_RUN_SUITE=supervisor_logic GRIDCAL_ROOT="$tree" \
		    timeout "$tmo" $NICE build/tests/supervisor) >> "$log" 2>&1 ;;
	faults:*)
		mk faults-bin _all || return 3
		(cd "$tree" && GRIDCAL_ROOT="$tree" timeout "$tmo" $NICE \
		    build/test-faults -j 1 $(echo "${t#faults:}" | tr , ' ')) \
		    >> "$log" 2>&1 ;;
	refused:*)	# the build itself must refuse the mutant
		if mk "${t#refused:}"; then return 0; else return 1; fi ;;
	make:*)
		mk _all || return 3
		(cd "$tree" && timeout "$tmo" $NICE make --no-print-directory \
		    GRIDCAL_INNER=1 -j1 "${t#make:}") >> "$log" 2>&1 ;;
	*)	echo "unknown test $t" >> "$log"; return 3 ;;
	esac
	[ $? -eq 0 ] && return 0 || return 1
}

mkdir -p "$work/logs"
# the baseline: every test named, on the unmutated tree
tests=$(for i in $(seq 1 "$n"); do
	selected "$(cat "$work/m/$i.id")" "$@" &&
	    { tr ' ' '\n' < "$work/m/$i.tests"; echo; }
done | grep . | sort -u)
for t in $tests; do
	log=$work/logs/baseline-$(echo "$t" | tr ':,/' '___').log; : > "$log"
	start=$(date +%s)
	run_test "$t"; rc=$?
	if [ $rc -ne 0 ]; then
		echo "baseline: $t fails on the unmutated tree (log: $log)"
		exit 2
	fi
	echo "baseline  $t passes ($(( $(date +%s) - start )) s)"
done

killed=0 survived=0 equiv=0 stillborn=0 total=0
report=$work/report.txt; : > "$report"
for i in $(seq 1 "$n"); do
	id=$(cat "$work/m/$i.id"); f=$(cat "$work/m/$i.file")
	selected "$id" "$@" || continue
	[ -f "$tree/$f" ] || continue
	cp "$tree/$f" "$work/pristine"
	c=$(apply "$work/pristine" "$work/m/$i.out" "$work/m/$i")
	[ "$c" -eq 1 ] || continue
	total=$((total + 1))
	cp "$work/m/$i.out" "$tree/$f"
	log=$work/logs/$id.log; : > "$log"
	start=$(date +%s); verdict=SURVIVED; by=
	for t in $(cat "$work/m/$i.tests"); do
		run_test "$t"; rc=$?
		if [ $rc -eq 3 ]; then verdict=STILLBORN; by=$t; break; fi
		if [ $rc -eq 1 ]; then verdict=KILLED; by=$t; break; fi
	done
	cp "$work/pristine" "$tree/$f"	# a new mtime: rebuilt next time
	secs=$(( $(date +%s) - start ))
	case $verdict in
	KILLED)	killed=$((killed + 1)); line="KILLED    $id by $by ($secs s)" ;;
	STILLBORN) stillborn=$((stillborn + 1))
		line="STILLBORN $id: does not build ($by; $log)" ;;
	*)	if [ -s "$work/m/$i.equiv" ]; then
			equiv=$((equiv + 1))
			line="EQUIV     $id: $(cat "$work/m/$i.equiv")"
		else
			survived=$((survived + 1))
			line="SURVIVED  $id: $(cat "$work/m/$i.desc") ($secs s)"
		fi ;;
	esac
	echo "$line" | tee -a "$report"
done
valid=$((killed + survived))
score=100
[ $valid -gt 0 ] && score=$((100 * killed / valid))
echo "mutants: $total run, $killed killed, $survived survived," \
    "$equiv equivalent, $stillborn stillborn, $stale stale;" \
    "score $score% of non-equivalent mutants killed" | tee -a "$report"
[ $survived -eq 0 ] && [ $stale -eq 0 ] && [ $stillborn -eq 0 ]
