#!/bin/sh
# The command-line convention of every gridcal program (shared/cmdline.h),
# the exit-status table shared by the watchdog and the supervisor
# (shared/exitcodes.h), and the offline profile check (gridcal-watchdog
# -n, gridcal-supervisor --check-profile). Real binaries, no broker: the
# offline check must not need one (the profile's broker is not running).
# usage: tests/cli/cli.sh BUILD_DIR
set -u
B=$1
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
pass=0 fail=0

bad() { echo "FAIL: $*"; sed 's/^/    /' "$t/err" | head -5; fail=$((fail + 1)); }
# want CODE CMD...: run from the build directory as ./gridcal-X, so an
# argv[0] prefix would show as "./"
want() {
	code=$1; shift
	rc=0; (cd "$B" && "$@") >"$t/out" 2>"$t/err" || rc=$?
	if [ "$rc" -ne "$code" ]; then bad "$* : exit $rc, want $code"
	else pass=$((pass + 1)); fi
}
has() {	# has FILE PATTERN WHAT
	if grep -q -e "$2" "$t/$1"; then pass=$((pass + 1))
	else bad "$3: no '$2' in std$1"; fi
}
hasnt() {
	if grep -q -e "$2" "$t/$1"; then bad "$3: '$2' in std$1"
	else pass=$((pass + 1)); fi
}

for p in watchdog watchdog-check supervisor audit setup plant; do
	g=gridcal-$p
	want 0 ./$g -V;		has out "^$g [0-9]" "$g -V"
	want 0 ./$g --version;	has out "^$g [0-9]" "$g --version"
	want 0 ./$g -v -V;	has out "^$g [0-9]" "$g -v -V"
	want 0 ./$g -h;		has out "usage\|SYNOPSIS" "$g -h"
	want 0 ./$g --help;	has out "usage\|SYNOPSIS" "$g --help"
	want 64 ./$g --frobnicate
	has err "^$g: --frobnicate: unknown option" "$g --frobnicate"
	hasnt err "^\./" "$g --frobnicate (argv[0] prefix)"
	want 64 ./$g --frobnicate=3
	has err "^$g: --frobnicate: unknown option" "$g --frobnicate=3"
	want 64 ./$g -Z;	has err "^$g: -Z: unknown option" "$g -Z"
	want 64 ./$g -p;	has err "^$g: -p: option needs a value" "$g -p"
	want 64 ./$g --profile
	has err "^$g: --profile: option needs a value" "$g --profile"
done

# --opt=value and --opt value alike
nx=/nonexistent/gridcal.yaml
want 78 ./gridcal-supervisor --profile=$nx check;  has err "$nx" "--profile="
want 78 ./gridcal-supervisor -p $nx check;	   has err "$nx" "-p FILE"
want 78 ./gridcal-audit --profile=$nx report;	   has err "$nx" "audit --profile="
want 78 ./gridcal-watchdog -n --profile=$nx;	   has err "$nx" "watchdog -n"
want 64 ./gridcal-supervisor -p $nx --watchdog-fd=1 calibrate --method=tidal
has err "tidal" "supervisor --method=tidal"
export GRIDCAL_TEST_UNPRIVILEGED=1
want 64 ./gridcal-watchdog -p $nx calibrate --method=tidal
has err "must be solar or grid" "watchdog --method=tidal"
want 78 ./gridcal-watchdog -p $nx calibrate --method=solar	# parsed: on to the profile
want 78 ./gridcal-watchdog -p $nx calibrate --method grid --confirm
want 64 ./gridcal-watchdog -p $nx calibrate --method=solar --frob
has err "calibrate: --frob: unknown" "watchdog calibrate --frob"
unset GRIDCAL_TEST_UNPRIVILEGED

# one exit-status table: the same numbers in both programs' --help
want 0 ./gridcal-supervisor --help
has out "0 PASS, 1 FAIL, 2 ABORTED, 3 REFUSED, 4 CANCELLED" "supervisor table"
want 0 ./gridcal-watchdog --help
for row in "1   FAIL" "2   ABORTED" "3   REFUSED" "4   CANCELLED" \
    "78  bad profile"; do
	has out "^     $row" "watchdog table: $row"
done

# offline check: a site whose files are as gridcal-setup leaves them
sed -e "s|/etc/gridcal/watchdog.cred|$t/watchdog.cred|" \
    -e "s|/etc/gridcal/supervisor.cred|$t/supervisor.cred|" \
    -e "s|/usr/local/libexec/gridcal/gridcal-supervisor|$(cd "$B" && pwd)/gridcal-supervisor|" \
    -e "s|port: 1883|port: 1|" \
    profiles/eg4-lp4-v2.yaml >"$t/p.yaml"
chmod 0644 "$t/p.yaml"
echo "gridcal-watchdog:secret" >"$t/watchdog.cred"
echo "gridcal:secret" >"$t/supervisor.cred"
chmod 0600 "$t/watchdog.cred" "$t/supervisor.cred"
want 0 ./gridcal-watchdog -n -p "$t/p.yaml"
has out "^profile OK" "watchdog -n"; has out "sha256 [0-9a-f]\{64\}" "watchdog -n"
has out "^  broker.port 1$" "watchdog -n: effective broker"
has out "^  pack_fields.temperatures\[1\].topic " "watchdog -n: fields"
has out "^  timing.revert_retry_s " "watchdog -n: timing"
hasnt out "secret" "watchdog -n prints no secret"
want 0 ./gridcal-supervisor --check-profile -p "$t/p.yaml"
has out "^profile OK" "supervisor --check-profile"
want 0 ./gridcal-supervisor --check-profile --profile="$t/p.yaml"
want 64 ./gridcal-watchdog -n -p "$t/p.yaml" recover
want 64 ./gridcal-supervisor --check-profile -p "$t/p.yaml" check
# a credentials file others can read: 78, named
chmod 0604 "$t/watchdog.cred"
want 78 ./gridcal-watchdog -n -p "$t/p.yaml"
has err "watchdog.cred: open to others" "watchdog -n, cred 0604"
has out "^profile NOT OK" "watchdog -n, cred 0604"
want 0 ./gridcal-supervisor --check-profile -p "$t/p.yaml"	# not its file
chmod 0600 "$t/watchdog.cred"
# a profile others may write: 78, named
chmod 0666 "$t/p.yaml"
want 78 ./gridcal-watchdog -n -p "$t/p.yaml"
has err "p.yaml: bad owner or mode" "watchdog -n, profile 0666"
want 78 ./gridcal-supervisor --check-profile -p "$t/p.yaml"
chmod 0644 "$t/p.yaml"
# paths.supervisor not executable
cp "$t/p.yaml" "$t/q.yaml"
sed -i "s|supervisor: $(cd "$B" && pwd)/gridcal-supervisor|supervisor: $t/p.yaml|" "$t/q.yaml"
want 78 ./gridcal-watchdog -n -p "$t/q.yaml"
has err "paths.supervisor" "watchdog -n, supervisor not executable"
# a bad profile: 78 with the key and the line
sed 's/port: 1$/port: 12abc/' "$t/p.yaml" >"$t/bad.yaml"
want 78 ./gridcal-watchdog -n -p "$t/bad.yaml"
has err "bad.yaml:[0-9]*: broker.port" "watchdog -n, bad port"
want 78 ./gridcal-supervisor --check-profile -p "$t/bad.yaml"
# -n is gridcal-watchdog-check, beside the watchdog, under its name
want 0 ./gridcal-watchdog-check -p "$t/p.yaml"
has out "^  broker.port 1$" "watchdog-check alone"
want 64 ./gridcal-watchdog-check -p "$t/p.yaml" recover
has err "^gridcal-watchdog-check: takes no command" "watchdog-check: usage"
want 78 ./gridcal-watchdog -n -p "$t/bad.yaml"
has err "^gridcal-watchdog: $t/bad.yaml:" "watchdog -n under its own name"
mkdir "$t/alone" && cp "$B/gridcal-watchdog" "$t/alone/"
want 78 "$t/alone/gridcal-watchdog" -n -p "$t/p.yaml"
has err "gridcal-watchdog-check" "watchdog -n without its check program"

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
