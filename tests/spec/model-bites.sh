#!/bin/sh
# Proves that `make model` bites: every tests/spec/model/*.patch breaks the
# real spec (or, if it patches spec/watchdog.yaml, the watchdog's rules) in
# one way; the broken spec is generated (with --no-check if
# the fixture says "# gen: --no-check", after checking that the generator
# does reject it with the "# rejected:" message) and `make model-check` is
# run on it for the "# expect:" properties. It must fail, and each expected
# property must be reported VIOLATED (with its counterexample).
#
# usage: tests/spec/model-bites.sh GEN_BIN SPEC WD_SPEC WORKDIR MAKE
set -u
[ $# -eq 5 ] || { echo "usage: $0 GEN_BIN SPEC WD_SPEC WORKDIR MAKE" >&2; exit 64; }
gen=$1 spec=$2 wdspec=$3 work=$4 make=$5
here=$(dirname "$0")
pass=0 fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

for p in "$here"/model/*.patch; do
	name=$(basename "$p" .patch)
	dir=$work/$name
	rm -rf "$dir" && mkdir -p "$dir/gen" || exit 2
	echo "== $name: $(sed -n '1s/^# //p' "$p")"
	cp "$spec" "$dir/spec.yaml" && cp "$wdspec" "$dir/watchdog.yaml" || exit 2
	target=$dir/spec.yaml orig=$spec
	if grep -q '^--- spec/watchdog.yaml' "$p"; then
		target=$dir/watchdog.yaml orig=$wdspec
	fi
	if ! patch -s -o "$target" "$orig" "$p"; then
		bad "$name: does not apply to $orig any more; update the fixture"
		continue
	fi
	flags=$(sed -n 's/^# gen: //p' "$p")
	rejected=$(sed -n 's/^# rejected: //p' "$p")
	expect=$(sed -n 's/^# expect: //p' "$p")
	[ -n "$expect" ] || { bad "$name: no '# expect:' line"; continue; }
	if [ -n "$rejected" ]; then
		rc=0
		"$gen" -c -w "$dir/watchdog.yaml" "$dir/spec.yaml" \
		    2> "$dir/gen.err" || rc=$?
		if [ $rc -eq 65 ] && grep -qF -- "$rejected" "$dir/gen.err"; then
			ok
			echo "   generator rejects it: $rejected"
		else
			bad "$name: generator did not reject it with: $rejected"
		fi
	fi
	# shellcheck disable=SC2086
	if ! "$gen" $flags -o "$dir/gen" -w "$dir/watchdog.yaml" \
	    "$dir/spec.yaml"; then
		bad "$name: generator refused the fixture"
		continue
	fi
	if $make --no-print-directory GRIDCAL_INNER=1 model-check \
	    MODEL_DIR="$dir/model" MODEL_PML="$dir/gen/calibration.pml" \
	    MODEL_PROPS="$expect" > "$dir/make.out" 2>&1; then
		bad "$name: make model-check passed on a broken spec"
		cat "$dir/make.out"
		continue
	fi
	sed 's/^/   /' "$dir/make.out" | grep -v "^   make\|Error\|^   spec/modelcheck"
	for e in $expect; do
		if grep -q "^$e [a-z]* VIOLATED " "$dir/model/results"; then
			ok
		else
			bad "$name: $e not reported VIOLATED"
		fi
	done
done

echo "model bites: $pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
