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
#          ... and a third run loses power on SUB the same way
#   boot3  systemd as PID 1 (container-run.sh boots /lib/systemd/systemd):
#          the units as installed and enabled; gridcal-recover.service
#          reverts at boot; gridcal@grid.service runs a calibration to PASS
#          (Type=notify, the units' sandboxing with the programs' own);
#          a run's watchdog stopped mid-charge is taken down by WatchdogSec=
#          and OnFailure= recovery reverts. This script then runs as the
#          unit gridcal-test-boot3.service and powers the container off.
# Every check prints one PASS or FAIL line; the exit status is the number
# of failures (0: all passed). In boot1 and boot2 systemd is not PID 1:
# there the units' command lines run directly, without their sandboxing.
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
	    "! ldd $PREFIX/bin/gridcal-watchdog $PREFIX/bin/gridcal-watchdog-check \
	    $PREFIX/bin/gridcal-audit \
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
	grep -e '^mosquitto_passwd ' -e '^\[ -e /etc/mosquitto/passwd \]' \
	    $T/setup.out >$T/passwd.sh
	check "gridcal-setup printed 3 mosquitto_passwd lines" \
	    [ "$(grep -c '^mosquitto_passwd ' $T/passwd.sh)" -eq 3 ]
	# run as printed (README "Installing on a site" 3): on this fresh
	# mosquitto they make the password file first, as -b creates none
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
	# 6: boot-time recovery (systemctl works offline on the root)
	systemctl enable gridcal-recover.service >$T/enable.out 2>&1
	check "systemctl enable gridcal-recover.service" sh -c "[ $? -eq 0 ] &&
	    [ -L /etc/systemd/system/multi-user.target.wants/gridcal-recover.service ]"
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

	power_loss boot1 plant2
}

# A run whose power goes while the inverters are on SUB: everything at
# once, from PID 1 (watchdog, supervisor, broker, plant), then exit.
power_loss() {	# BOOT PLANTLOG
	plant_start $T/reference.yaml "$2"
	cmd=$(unit_exec gridcal@.service | sed -e 's/%i/grid/g' \
	    -e 's/\$GRIDCAL_CONFIRM/--confirm/')
	timeout 240 $cmd >$T/"$1"-lost.out 2>$T/"$1"-lost.err &
	t0=$(now_ms)
	poll 60 calibrating
	check "a run: both units on SUB / Solar and utility (plant truth)" \
	    [ $? -eq 0 ]
	check "a run: the intent mark is on disk" [ -s $STATE/watchdog.intent ]
	echo "   mark: $(cat $STATE/watchdog.intent 2>&1)"
	echo "   power loss $(($(now_ms) - t0)) ms into the run"
	kill -KILL -1
	finish "$1"
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
	test_units
	power_loss boot2 plant4
}

# The test's own units for boot3: the simulated site (after the broker,
# before the recovery) and this script, after the recovery.
test_units() {
	cat >/etc/systemd/system/gridcal-test-plant.service <<-EOF
	[Unit]
	Description=gridcal test: the simulated site (BMSes, inverters)
	After=mosquitto.service
	# up before any gridcal unit, down after them (a revert confirms on it)
	Before=gridcal-recover.service gridcal@grid.service gridcal@solar.service
	[Service]
	EnvironmentFile=$T/plant.env
	ExecStart=$T/gridcal-plant --profile $PROFILE --scenario \${SCENARIO} --broker 127.0.0.1:1883 --cred $T/plant.cred --speed 600 --period-ms 100 --status-topic plant/status
	ExecStartPost=/bin/sh $T/container.sh wait-plant
	[Install]
	WantedBy=multi-user.target
	EOF
	cat >/etc/systemd/system/gridcal-test-boot3.service <<-EOF
	[Unit]
	Description=gridcal test: the checks of boot 3, then power off
	After=multi-user.target gridcal-recover.service gridcal-test-plant.service
	[Service]
	Type=oneshot
	ExecStart=/bin/sh $T/container.sh boot3
	StandardOutput=append:$T/boot3.log
	StandardError=append:$T/boot3.err
	ExecStopPost=/bin/systemctl --no-block poweroff
	[Install]
	WantedBy=multi-user.target
	EOF
	echo "SCENARIO=$T/power-loss.yaml" >$T/plant.env
	systemctl enable gridcal-test-plant.service gridcal-test-boot3.service \
	    >/dev/null 2>&1
	check "boot 3's test units enabled" [ $? -eq 0 ]
}

# systemctl show -p PROP --value UNIT
prop() { systemctl show -p "$2" --value "$1"; }
unit_done() { s=$(systemctl is-active "$1"); [ "$s" = inactive ] || [ "$s" = failed ]; }
# gridcal-recover.service ran (again) since START and is done
recovered_since() {
	[ "$(prop gridcal-recover.service ExecMainStartTimestampMonotonic)" != "$1" ] &&
	    [ "$(systemctl is-active gridcal-recover.service)" = inactive ]
}
plant_scenario() {	# the site restarted on SCENARIO (its unit's)
	echo "SCENARIO=$1" >$T/plant.env
	systemctl restart gridcal-test-plant.service
}

boot3() {
	echo "== boot 3 (systemd $(systemctl --version | sed -n 's/^systemd \([0-9]*\).*/\1/p') as PID 1): $(cat /proc/sys/kernel/random/boot_id)"
	check "systemd is PID 1" [ "$(cat /proc/1/comm)" = systemd ]
	u=gridcal-recover.service
	echo "   $u: $(prop $u ActiveState) $(prop $u Result) status $(prop $u ExecMainStatus)"
	journalctl -b -u $u --no-pager -o cat >$T/boot3-recover.journal 2>&1
	check "at boot, $u ran and exited 0" sh -c \
	    "[ '$(prop $u Result)' = success ] && [ '$(prop $u ExecMainStatus)' = 0 ] &&
	    [ '$(prop $u ExecMainStartTimestampMonotonic)' != 0 ]"
	check "  after the broker and the plant" sh -c "[ \
	    $(prop mosquitto.service ActiveEnterTimestampMonotonic) -le \
	    $(prop $u ExecMainStartTimestampMonotonic) ] && [ \
	    $(prop gridcal-test-plant.service ActiveEnterTimestampMonotonic) -le \
	    $(prop $u ExecMainStartTimestampMonotonic) ]"
	check "  its journal: the mark of an earlier boot, recovery complete" sh -c \
	    "grep -q 'earlier boot' $T/boot3-recover.journal &&
	    grep -q 'recovery complete' $T/boot3-recover.journal"
	check "  both units in everyday settings (plant truth)" everyday
	check "  the intent mark is cleared" [ ! -e $STATE/watchdog.intent ]

	# README 8: a grid run needs the owner's authorisation for that run
	u=gridcal@grid.service
	if [ ! -e $UNITDIR/$u.d/confirm.conf ]; then
		plant_scenario $T/reference.yaml
		systemctl start $u 2>$T/grid0.err
		poll 60 unit_done $u
		echo "   $u as installed (no confirm.conf drop-in): $(prop $u Result) status $(prop $u ExecMainStatus)"
		check "$u without an authorisation: refused (exit 3)" \
		    [ "$(prop $u ExecMainStatus)" = 3 ]
		check "  nothing changed: still everyday" everyday
	fi
	# the owner's authorisation for this one run: a runtime drop-in
	install -d /run/systemd/system/$u.d
	printf '[Service]\nEnvironment=GRIDCAL_CONFIRM=--confirm\n' \
	    >/run/systemd/system/$u.d/confirm.conf
	systemctl daemon-reload
	plant_scenario $T/reference.yaml
	t0=$(now_ms)
	systemctl start $u 2>$T/grid1.err
	check "systemctl start $u: READY=1 (Type=notify) after its recovery" [ $? -eq 0 ]
	poll 240 unit_done $u
	echo "   $u: $(prop $u Result) status $(prop $u ExecMainStatus) after $(($(now_ms) - t0)) ms"
	journalctl -b -u $u --no-pager -o cat >$T/boot3-grid.journal 2>&1
	check "$u, sandboxed by systemd: PASS (exit 0)" sh -c \
	    "[ '$(prop $u ExecMainStatus)' = 0 ] && [ '$(prop $u Result)' = success ]"
	check "  both units in everyday settings (plant truth)" everyday
	t=$(truth)
	m=$(printf '%s' "$t" | sed -n 's/.*"bms_soc_min":\([0-9.]*\).*/\1/p')
	check "  every BMS re-anchored (bms_soc_min $m >= 99)" [ "${m%%.*}" -ge 99 ]
	check "  the audit log records the PASS" sh -c \
	    "tail -n 40 $STATE/audit.jsonl | grep -q '\"outcome\":\"pass\"'"
	audit_verify
	check "  gridcal-audit verify: intact" [ $? -eq 0 ]

	# a run's watchdog that hangs: WatchdogSec= takes it down and
	# OnFailure= runs the recovery
	plant_scenario $T/reference.yaml
	r0=$(prop gridcal-recover.service ExecMainStartTimestampMonotonic)
	systemctl start --no-block $u
	poll 60 calibrating
	check "a second $u: both units on SUB" [ $? -eq 0 ]
	echo "   mark: $(cat $STATE/watchdog.intent 2>&1)"
	pid=$(prop $u MainPID)
	wsec=$(sed -n 's/^WatchdogSec=\([0-9]*\)s*$/\1/p' $UNITDIR/gridcal@.service)
	# never leave it stopped: the power-off would wait for it (its
	# TimeoutStopSec=infinity) until the host's timeout
	trap 'kill -KILL "$pid" 2>/dev/null; kill -CONT "$pid" 2>/dev/null' EXIT
	kill -STOP "$pid"
	t0=$(now_ms)
	echo "   watchdog pid $pid stopped (WatchdogSec=${wsec}s)"
	poll $((2 * wsec + 30)) recovered_since "$r0"
	rc=$?
	took=$(($(now_ms) - t0))
	journalctl -b -u $u --no-pager -o cat >$T/boot3-hang.journal 2>&1
	echo "   $u: $(prop $u ActiveState) $(prop $u Result); gridcal-recover.service $(prop gridcal-recover.service Result) after $took ms"
	check "the hung watchdog: recovery ran within 2 x WatchdogSec + 30 s" [ $rc -eq 0 ]
	check "  both units in everyday settings (plant truth)" everyday
	run=$(grep '"event":"recovery"' $STATE/audit.jsonl | tail -n 1 |
	    sed -n 's/.*"run":"\([^"]*\)".*/\1/p')
	grep -F "\"run\":\"$run\"" $STATE/audit.jsonl >$T/recovery3.jsonl
	echo "   recovery found: $(sed -n 's/.*"found":"\([^"]*\)".*/\1/p' $T/recovery3.jsonl)"
	check "  the audit log: that recovery's revert confirmed, outcome recovered" \
	    sh -c "grep -q '\"event\":\"revert_confirmed\"' $T/recovery3.jsonl &&
	    grep -q '\"outcome\":\"recovered\"' $T/recovery3.jsonl"
	kill -KILL "$pid" 2>/dev/null
	kill -CONT "$pid" 2>/dev/null
	finish boot3
}

case ${1:-} in
boot1) boot1 ;;
boot2) boot2 ;;
boot3) boot3 ;;
wait-plant) poll 15 truth >/dev/null ;;
*) echo "usage: container.sh boot1|boot2|boot3|wait-plant" >&2; exit 64 ;;
esac
