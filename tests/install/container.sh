#!/bin/sh
# Inside the fresh Debian root (tests/install/container-run.sh copies it to
# /opt/gridcal-test/ and runs it as PID 1 of its own pid, mount and network
# namespaces, chrooted). One "boot" per invocation:
#   boot1  a site's first day: gridcal-setup, the site's mosquitto from the
#          lines it printed, the profile edited for the simulated site, a
#          full grid calibration (gridcal@.service's command line) to PASS;
#          then a second run killed with everything else (kill -KILL -1 from
#          PID 1: a power loss) once the inverters are on SUB, the intent
#          mark on disk
#   boot2  after the power loss (/run and /tmp new, another boot id): the
#          broker, the inverters still on the calibration settings, and
#          gridcal-recover.service's ExecStart, run as written in the
#          installed unit: settings back to everyday (plant truth), mark
#          gone, the audit log saying what recovery found
# Every check prints one PASS or FAIL line; the exit status is the number
# of failures (0: all passed). systemd is not PID 1 here: the units'
# command lines are run directly, without their sandboxing.
set -u
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
T=/opt/gridcal-test
PREFIX=/usr/local
UNITDIR=/lib/systemd/system
PROFILE=/etc/gridcal/profile.yaml
STATE=/var/lib/gridcal
npass=0
nfail=0

ok() { npass=$((npass + 1)); echo "PASS $*"; }
bad() { nfail=$((nfail + 1)); echo "FAIL $*"; }
# check DESCRIPTION COMMAND...: one line either way
check() { d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
finish() {
	echo "$1: $npass passed, $nfail failed"
	exit "$nfail"
}
# poll SECONDS COMMAND...: until COMMAND succeeds or the deadline passes
poll() {
	end=$(($(date +%s) + $1)); shift
	until "$@"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- the broker and the simulated plant (test tools, no site has them) --
broker_listening() { grep -q ':075B 00000000:0000 0A' /proc/net/tcp; }
broker_start() {
	# what mosquitto.service does before it starts the broker
	install -d -o mosquitto -g mosquitto -m 0755 /run/mosquitto
	mosquitto -c /etc/mosquitto/mosquitto.conf -d >>$T/mosquitto.out 2>&1 &&
	    poll 10 broker_listening
}
# The plant's truth (what really happened to the inverters), one message.
truth() {
	mosquitto_sub -h 127.0.0.1 -p 1883 -u gridcal-test-observer \
	    -P "$(cut -d: -f2- $T/observer.cred)" -t plant/status -C 1 -W 10 2>>$T/truth.err
}
# count_in TEXT NEEDLE: how many times NEEDLE is in TEXT
count_in() { printf '%s' "$1" | grep -o "$2" | wc -l; }
# every unit's real settings are WANT (SBU/Solar first or SUB/Solar and
# utility), as the inverters hold them
units_are() {
	t=$(truth) || return 1
	[ "$(count_in "$t" "\"output_readback\":\"$1\"")" -eq 2 ] &&
	    [ "$(count_in "$t" "\"charger_readback\":\"$2\"")" -eq 2 ]
}
everyday() { units_are SBU 'Solar first'; }
calibrating() { units_are SUB 'Solar and utility'; }
plant_start() {	# SCENARIO LOGNAME
	$T/gridcal-plant --profile $PROFILE --scenario "$1" \
	    --broker 127.0.0.1:1883 --cred $T/plant.cred --speed 600 \
	    --period-ms 100 --status-topic plant/status >$T/"$2".out \
	    2>$T/"$2".err &
	PLANT=$!
	poll 15 truth >/dev/null
}
plant_stop() { kill "$PLANT" 2>/dev/null; wait "$PLANT" 2>/dev/null; }
# The ExecStart= of an installed unit, as one line.
unit_exec() { sed -n 's/^ExecStart=//p' "$UNITDIR/$1"; }
audit_has() { grep -q -- "$1" $STATE/audit.jsonl; }
audit_verify() {
	$PREFIX/bin/gridcal-audit verify $STATE/audit.jsonl \
	    --state-dir $STATE >$T/verify.out 2>&1
}
stat_is() {	# PATH "OWNER:GROUP MODE"
	[ "$(stat -c '%U:%G %a' "$1" 2>/dev/null)" = "$2" ] ||
	    { echo "  $1: $(stat -c '%U:%G %a' "$1" 2>&1), want $2"; false; }
}
pw() { tr -dc A-Za-z0-9 </dev/urandom | head -c 24; }

boot1() {
	echo "== boot 1: $(cat /proc/sys/kernel/random/boot_id)"
	# a fresh root: no compiler, nothing of gridcal's but the install
	check "fresh root: no C compiler" sh -c '! command -v cc && ! command -v gcc'
	check "fresh root: no gridcal users, no /etc/gridcal, no $STATE" \
	    sh -c '! getent passwd gridcal && ! getent passwd gridcal-watchdog &&
	    [ ! -e /etc/gridcal ] && [ ! -e '$STATE' ]'
	check "the installed programs find every library they link" sh -c \
	    "! ldd $PREFIX/bin/gridcal-watchdog $PREFIX/bin/gridcal-audit \
	    $PREFIX/sbin/gridcal-setup $PREFIX/libexec/gridcal/gridcal-supervisor \
	    | grep 'not found'"

	# README "Installing on a site" 2: prepare the host
	gridcal-setup >$T/setup.out 2>&1
	check "gridcal-setup: exit 0" [ $? -eq 0 ]
	check "gridcal-setup: users gridcal, gridcal-watchdog" sh -c \
	    'getent passwd gridcal >/dev/null &&
	    getent passwd gridcal-watchdog >/dev/null'
	for e in "/etc/gridcal root:root 755" \
	    "$PROFILE root:root 644" \
	    "/etc/gridcal/watchdog.cred gridcal-watchdog:gridcal-watchdog 600" \
	    "/etc/gridcal/supervisor.cred root:gridcal 640" \
	    "/etc/gridcal/report.cred root:root 600" \
	    "$STATE gridcal-watchdog:gridcal-watchdog 700" \
	    "$STATE/audit.key root:root 600"; do
		set -- $e
		check "gridcal-setup: $1 $2 $3" stat_is "$1" "$2 $3"
	done
	check "gridcal-setup: the verification key printed" \
	    grep -q 'VERIFICATION KEY' $T/setup.out
	gridcal-setup >$T/setup2.out 2>&1
	check "gridcal-setup again: exit 0, nothing to change" sh -c \
	    "[ $? -eq 0 ] && grep -q 'nothing to change' $T/setup2.out"

	# 3: the broker, from the lines gridcal-setup printed
	cp $PREFIX/share/gridcal/mosquitto-gridcal.conf \
	    /etc/mosquitto/conf.d/gridcal.conf
	grep '^mosquitto_passwd ' $T/setup.out >$T/passwd.sh
	check "gridcal-setup printed 3 mosquitto_passwd lines" \
	    [ "$(wc -l <$T/passwd.sh)" -eq 3 ]
	# a fresh mosquitto has no password file, and mosquitto_passwd -b
	# creates none; the broker reads it after dropping to its user
	# (README "Installing on a site" 3)
	[ -e /etc/mosquitto/passwd ] ||
	    install -m 0640 -o root -g mosquitto /dev/null /etc/mosquitto/passwd
	sh -e $T/passwd.sh >$T/passwd.out 2>&1
	check "its mosquitto_passwd lines run" [ $? -eq 0 ]
	sed -n '/^# In the ACL file/,/^# then:/p' $T/setup.out |
	    grep -v '^#' >/etc/mosquitto/acl
	check "gridcal-setup printed the ACL stanzas" sh -c \
	    'grep -q "^user gridcal-watchdog$" /etc/mosquitto/acl &&
	    grep -q "^topic write solar/control/lvx6048/output_priority$" /etc/mosquitto/acl'
	# the test's own users: the simulated site (the monitoring daemon and
	# lvx-control in one) and the observer of its truth
	echo "gridcal-test-plant:$(pw)" >$T/plant.cred
	echo "gridcal-test-observer:$(pw)" >$T/observer.cred
	chmod 0600 $T/plant.cred $T/observer.cred
	for u in plant observer; do
		mosquitto_passwd -b /etc/mosquitto/passwd gridcal-test-$u \
		    "$(cut -d: -f2- $T/$u.cred)"
	done
	cat >>/etc/mosquitto/acl <<-EOF

	# ---- the test's (tests/install/container.sh) ----
	user gridcal-test-plant
	topic write homeassistant/#
	topic write plant/#
	topic read solar/control/#

	user gridcal-test-observer
	topic read #
	EOF
	broker_start
	check "the site's mosquitto (mosquitto-gridcal.conf) listens on 127.0.0.1:1883" \
	    [ $? -eq 0 ]

	# 4: the profile, for this site: the simulated one runs at 600 x
	# wall clock, so the timing is the test profile's
	# (profiles/sim.yaml.in); every topic, value and limit stays the
	# shipped example's
	sed -i -e 's/^\(  keepalive_s:\).*/\1 10/' \
	    -e 's/^\(  telemetry_max_age_s:\).*/\1 2/' \
	    -e 's/^\(  telemetry_grace_s:\).*/\1 4/' \
	    -e 's/^\(  preflight_wait_s:\).*/\1 5/' \
	    -e 's/^\(  set_confirm_s:\).*/\1 3/' \
	    -e 's/^\(  engage_timeout_s:\).*/\1 5/' \
	    -e 's/^\(  absorption_hold_s:\).*/\1 2/' \
	    -e 's/^\(  absorption_max_s:\).*/\1 40/' \
	    -e 's/^\(  run_max_s:\).*/\1 110/' \
	    -e 's/^\(  heartbeat_interval_s:\).*/\1 0.2/' \
	    -e 's/^\(  heartbeat_timeout_s:\).*/\1 5/' \
	    -e 's/^\(  revert_confirm_s:\).*/\1 2/' \
	    -e 's/^\(  revert_retry_s:\).*/\1 0.5/' \
	    -e 's/^\(  revert_retry_max_s:\).*/\1 2/' \
	    -e 's/^\(  progress_interval_s:\).*/\1 1/' $PROFILE
	gridcal-setup >$T/setup3.out 2>&1
	check "gridcal-setup after the profile edit: exit 0" [ $? -eq 0 ]
	gridcal-watchdog -n --profile $PROFILE >$T/offline.out 2>&1
	check "gridcal-watchdog -n: the installed profile and files pass" [ $? -eq 0 ]

	plant_start $T/reference.yaml plant1
	check "the simulated plant publishes; inverters in everyday settings" everyday

	# 5: check against the site's own telemetry
	$PREFIX/libexec/gridcal/gridcal-supervisor check >$T/check.out 2>&1
	rc=$?
	check "gridcal-supervisor check: drift (exit 10), readbacks SBU / Solar first" \
	    sh -c "[ $rc -eq 10 ] && grep -q SBU $T/check.out"

	# a full calibration, as gridcal@grid.service runs it (its ExecStart,
	# %i grid, the owner's --confirm for this run)
	cmd=$(unit_exec gridcal@.service | sed -e 's/%i/grid/g' \
	    -e 's/\$GRIDCAL_CONFIRM/--confirm/')
	echo "   $cmd"
	t0=$(now_ms)
	timeout 240 $cmd >$T/run1.out 2>$T/run1.err
	rc=$?
	echo "   calibration: exit $rc after $(($(now_ms) - t0)) ms"
	check "a full grid calibration from the installed tree: PASS (exit 0)" \
	    [ $rc -eq 0 ]
	check "after it, both units in everyday settings (plant truth)" everyday
	t=$(truth)
	m=$(printf '%s' "$t" | sed -n 's/.*"bms_soc_min":\([0-9.]*\).*/\1/p')
	check "after it, every BMS re-anchored (plant truth bms_soc_min $m >= 99)" \
	    [ "${m%%.*}" -ge 99 ]
	check "the audit log in $STATE records the PASS" \
	    audit_has '"outcome":"pass"'
	audit_verify
	check "installed gridcal-audit verify: the log is intact" [ $? -eq 0 ]
	$PREFIX/bin/gridcal-audit --profile $PROFILE report >$T/report.out 2>&1
	check "installed gridcal-audit report: exit 0" [ $? -eq 0 ]
	check "no intent mark after a confirmed revert" \
	    [ ! -e $STATE/watchdog.intent ]
	plant_stop

	# a second run; the power goes while the inverters are on SUB
	plant_start $T/reference.yaml plant2
	timeout 240 $cmd >$T/run2.out 2>$T/run2.err &
	t0=$(now_ms)
	poll 60 calibrating
	check "second run: both units on SUB / Solar and utility (plant truth)" \
	    [ $? -eq 0 ]
	check "second run: the intent mark is on disk" \
	    [ -s $STATE/watchdog.intent ]
	echo "   mark: $(cat $STATE/watchdog.intent 2>&1)"
	echo "   power loss $(($(now_ms) - t0)) ms into the run"
	# everything at once, from PID 1: watchdog, supervisor, broker, plant
	kill -KILL -1
	finish boot1
}

boot2() {
	echo "== boot 2: $(cat /proc/sys/kernel/random/boot_id)"
	check "another boot: the boot id is not the mark's" sh -c \
	    "! grep -q \"boot \$(cat /proc/sys/kernel/random/boot_id) \" \
	    $STATE/watchdog.intent"
	check "the intent mark survived the power loss" \
	    [ -s $STATE/watchdog.intent ]
	broker_start
	check "mosquitto back at boot" [ $? -eq 0 ]
	# the inverters kept what they were set to
	sed -e 's/^\(  output_priority:\).*/\1 calibration/' \
	    -e 's/^\(  charger_priority:\).*/\1 calibration/' \
	    $T/reference.yaml >$T/power-loss.yaml
	plant_start $T/power-loss.yaml plant3
	check "the planted SUB: both units on the calibration settings" calibrating

	cmd=$(unit_exec gridcal-recover.service)
	echo "   $cmd"
	t0=$(now_ms)
	timeout 120 $cmd >$T/recover.out 2>$T/recover.err
	rc=$?
	echo "   recover: exit $rc after $(($(now_ms) - t0)) ms"
	check "gridcal-recover.service's ExecStart: exit 0" [ $rc -eq 0 ]
	check "after it, both units in everyday settings (plant truth)" everyday
	check "the intent mark is cleared" [ ! -e $STATE/watchdog.intent ]
	check "the audit log: recovery found the mark of an earlier boot" sh -c \
	    "grep '\"event\":\"recovery\"' $STATE/audit.jsonl | tail -n 1 |
	    grep 'earlier boot' | grep -q '\"same_boot\":false'"
	# the records of the recovery's run, read back from the log
	run=$(grep '"event":"recovery"' $STATE/audit.jsonl | tail -n 1 |
	    sed -n 's/.*"run":"\([^"]*\)".*/\1/p')
	grep -F "\"run\":\"$run\"" $STATE/audit.jsonl >$T/recovery.jsonl
	check "the audit log: the revert confirmed by readback on every unit" \
	    sh -c "grep -q '\"event\":\"revert_confirmed\"' $T/recovery.jsonl &&
	    [ \$(grep -c '\"event\":\"confirmed\"' $T/recovery.jsonl) -eq 2 ]"
	check "the audit log: outcome recovered, recovery complete" grep -q \
	    '"outcome":"recovered","reason":"recovery complete"' $T/recovery.jsonl
	audit_verify
	check "installed gridcal-audit verify: the log is intact" [ $? -eq 0 ]
	n=$(wc -l <$STATE/audit.jsonl)
	t0=$(now_ms)
	timeout 60 $cmd >$T/recover2.out 2>&1
	rc=$?
	tail -n +$((n + 1)) $STATE/audit.jsonl >$T/recover2.jsonl
	echo "   recover again: exit $rc after $(($(now_ms) - t0)) ms"
	check "recover with nothing to revert: exit 0" [ $rc -eq 0 ]
	check "  it published nothing" sh -c "! grep -q '\"event\":\"publish\"' \
	    $T/recover2.jsonl"
	check "  and the settings stay everyday" everyday
	plant_stop
	echo "   the audit log: $n records after the recovery"
	finish boot2
}

case ${1:-} in
boot1) boot1 ;;
boot2) boot2 ;;
*) echo "usage: container.sh boot1|boot2" >&2; exit 64 ;;
esac
