#!/bin/sh
# Tests of gridcal-spec-gen (run by `make check-spec-gen`):
#  - the real spec and tests/spec/accept-*.yaml are accepted and the outputs
#    are complete: the C compiles (-Wpedantic), the dot renders, spin parses
#    the Promela;
#  - every tests/spec/reject/*.yaml is refused with exit 65 and every
#    "# expect: TEXT" line of the fixture appears on stderr; so is every
#    tests/spec/reject-watchdog/*.yaml, a broken WD_SPEC, with the real SPEC;
#  - --no-check lets a rejected but resolvable fixture through (model
#    fixtures use it), and usage errors exit 64, a missing spec 66.
#
# usage: tests/spec/gen-tests.sh GEN_BIN SPEC WD_SPEC WORKDIR
set -u
[ $# -eq 4 ] || { echo "usage: $0 GEN_BIN SPEC WD_SPEC WORKDIR" >&2; exit 64; }
gen=$1 spec=$2 wdspec=$3 work=$4
here=$(dirname "$0")
pass=0 fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

rm -rf "$work" && mkdir -p "$work/out" || exit 2

# The real spec: accepted, every output present and usable.
if "$gen" -o "$work/out" -w "$wdspec" "$spec" 2> "$work/real.err"; then
	ok
else
	bad "$spec rejected:"; cat "$work/real.err"
fi
for f in calibration_table.h calibration_table.c calibration_stubs.c \
    calibration.pml calibration.dot watchdog_rules.h watchdog_rules.pml; do
	if [ -s "$work/out/$f" ]; then ok; else bad "$f not written"; fi
done
left=$(find "$work/out" -name '.calibration*' | head -1)
if [ -n "$left" ]; then
	bad "temporary file left: $left"
else
	ok
fi
if cc -std=c11 -Wall -Wextra -Werror -Wpedantic -Wmissing-prototypes \
    -I"$work/out" -c "$work/out/calibration_table.c" -o "$work/t.o" &&
    cc -std=c11 -Wall -Wextra -Werror -Wpedantic -Wmissing-prototypes \
    -I"$work/out" -c "$work/out/calibration_stubs.c" -o "$work/s.o"; then
	ok
else
	bad "generated C does not compile cleanly"
fi
if dot -Tsvg "$work/out/calibration.dot" -o "$work/calibration.svg" 2> "$work/dot.err"; then
	ok
else
	bad "dot refuses calibration.dot:"; cat "$work/dot.err"
fi
# spin parses the machine composed with the watchdog model.
top=$(cd "$here/../.." && pwd)
cat > "$work/parse.pml" <<EOF
#include "$top/spec/facts.pml"
#include "$(cd "$work/out" && pwd)/calibration.pml"
#include "$(cd "$work/out" && pwd)/watchdog_rules.pml"
#include "$top/spec/watchdog.pml"
#include "$top/spec/properties.pml"
EOF
if (cd "$work" && spin -a parse.pml > spin.out 2>&1) && [ -s "$work/pan.c" ]; then
	ok
else
	bad "spin cannot parse the model:"; cat "$work/spin.out"
fi

for f in "$here"/accept-*.yaml; do
	if "$gen" -c "$f" 2> "$work/accept.err"; then
		ok
	else
		bad "$f rejected:"; cat "$work/accept.err"
	fi
done

# Every reject fixture: exit 65, each expected message present.
for f in "$here"/reject/*.yaml; do
	name=$(basename "$f" .yaml)
	rc=0
	"$gen" -c "$f" > /dev/null 2> "$work/$name.err" || rc=$?
	if [ $rc -ne 65 ]; then
		bad "$name: exit $rc, want 65"; cat "$work/$name.err"
		continue
	fi
	if ! grep -q '^# expect: ' "$f"; then
		bad "$name: no '# expect:' line"
		continue
	fi
	good=1
	while IFS= read -r want; do
		if ! grep -qF -- "$want" "$work/$name.err"; then
			bad "$name: stderr lacks \"$want\":"
			sed 's/^/    /' "$work/$name.err"
			good=0
		fi
	done <<EOF
$(sed -n 's/^# expect: //p' "$f")
EOF
	[ $good -eq 1 ] && ok
done

# Every broken watchdog section: refused with the real spec, exit 65.
for f in "$here"/reject-watchdog/*.yaml; do
	name=wd-$(basename "$f" .yaml)
	rc=0
	"$gen" -c -w "$f" "$spec" > /dev/null 2> "$work/$name.err" || rc=$?
	if [ $rc -ne 65 ]; then
		bad "$name: exit $rc, want 65"; cat "$work/$name.err"
		continue
	fi
	good=1
	while IFS= read -r want; do
		if [ -z "$want" ] || ! grep -qF -- "$want" "$work/$name.err"; then
			bad "$name: stderr lacks \"$want\":"
			sed 's/^/    /' "$work/$name.err"
			good=0
		fi
	done <<EOF
$(sed -n 's/^# expect: //p' "$f")
EOF
	[ $good -eq 1 ] && ok
done

# --no-check: a fixture the rules reject but whose names resolve gets
# through (and writes its outputs); names must still resolve.
mkdir -p "$work/nocheck"
if "$gen" -n -o "$work/nocheck" "$here/reject/abort-missing.yaml" 2>/dev/null &&
    [ -s "$work/nocheck/calibration.pml" ]; then
	ok
else
	bad "--no-check refused abort-missing.yaml"
fi
rc=0; "$gen" -n -c "$here/reject/unknown-guard.yaml" 2>/dev/null || rc=$?
if [ $rc -eq 65 ]; then ok; else bad "--no-check took an unknown guard (exit $rc)"; fi
# A rejected spec writes nothing.
mkdir -p "$work/none"
"$gen" -o "$work/none" "$here/reject/trap.yaml" 2>/dev/null
if [ -z "$(ls -A "$work/none")" ]; then ok; else bad "rejected spec wrote files"; fi

rc=0; "$gen" > /dev/null 2>&1 || rc=$?
if [ $rc -eq 64 ]; then ok; else bad "no argument: exit $rc, want 64"; fi
rc=0; "$gen" --bogus "$spec" > /dev/null 2>&1 || rc=$?
if [ $rc -eq 64 ]; then ok; else bad "bad option: exit $rc, want 64"; fi
rc=0; "$gen" -c "$work/does-not-exist.yaml" > /dev/null 2>&1 || rc=$?
if [ $rc -eq 66 ]; then ok; else bad "missing spec: exit $rc, want 66"; fi
rc=0; "$gen" -o "$work/does-not-exist" "$spec" > /dev/null 2>&1 || rc=$?
if [ $rc -eq 73 ]; then ok; else bad "missing output dir: exit $rc, want 73"; fi
if "$gen" --help | grep -q "rows of one (state, event) are tried in file order"; then
	ok
else
	bad "--help does not explain the ordering rule"
fi

echo "spec gen: $pass passed, $fail failed"
[ $fail -eq 0 ]
