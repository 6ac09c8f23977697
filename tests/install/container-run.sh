#!/bin/sh
# make check-container (mk/85-install.mk): gridcal installed on a FRESH
# Debian 12 root, not this machine's already-configured one.
#   1. the root: debootstrap --variant=minbase bookworm, plus the runtime
#      packages only ($CONTAINER_PACKAGES: what the installed programs link,
#      mosquitto and its clients; no compiler, no -dev package), kept in
#      $CONTAINER_ROOT so that a second run needs no network
#   2. a copy of it for this run (every run starts from the pristine root),
#      `make install DESTDIR=` of this tree unpacked into it, and the
#      test's tools in /opt/gridcal-test (gridcal-plant, the reference
#      scenario, container.sh)
#   3. two "boots" of it, each chrooted as PID 1 of new pid, mount and
#      network namespaces (loopback only: its mosquitto on 1883 is not the
#      host's; /run and /tmp new tmpfs each boot): tests/install/
#      container.sh boot1 (setup, broker, a PASS, a power loss on SUB),
#      then boot2 with another boot id (the boot recovery).
# systemd is not PID 1 in the chroot: the units' ExecStart lines are run
# directly, without the units' sandboxing. Root only; the host gets
# debootstrap and nothing else (mk/85-install.mk installs it).
set -eu
: "${CONTAINER_ROOT:?}" "${CONTAINER_MIRROR:?}" "${CONTAINER_PACKAGES:?}"
: "${B:=build}" "${MAKE:=make}"
top=$(dirname "$CONTAINER_ROOT")
run=$top/run
root=$run/root
t_all=$(date +%s)

say() { echo "check-container: $*"; }
die() { say "FAIL: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || { say "SKIP (needs root: chroot, namespaces)"; exit 0; }
for c in debootstrap unshare chroot ip; do
	command -v $c >/dev/null || die "no $c on this host"
done

# ---- 1. the pristine root, built once ----
stamp="bookworm minbase $CONTAINER_PACKAGES"
if [ "$(cat "$CONTAINER_ROOT/.gridcal-root" 2>/dev/null)" != "$stamp" ]; then
	t0=$(date +%s)
	say "building the fresh root in $CONTAINER_ROOT (needs the mirror)"
	rm -rf "$CONTAINER_ROOT.tmp" "$CONTAINER_ROOT"
	mkdir -p "$top"
	debootstrap --variant=minbase bookworm "$CONTAINER_ROOT.tmp" \
	    "$CONTAINER_MIRROR" >"$top/debootstrap.log" 2>&1 ||
	    die "debootstrap failed, see $top/debootstrap.log"
	# no package's service may start while installing (mosquitto's
	# postinst would start a broker on the host's network otherwise)
	printf '#!/bin/sh\nexit 101\n' >"$CONTAINER_ROOT.tmp/usr/sbin/policy-rc.d"
	chmod 0755 "$CONTAINER_ROOT.tmp/usr/sbin/policy-rc.d"
	unshare -m -p -f --mount-proc="$CONTAINER_ROOT.tmp/proc" \
	    chroot "$CONTAINER_ROOT.tmp" sh -c "export DEBIAN_FRONTEND=noninteractive
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends \
	    $CONTAINER_PACKAGES && apt-get clean" >"$top/apt.log" 2>&1 ||
	    die "apt-get install in the root failed, see $top/apt.log"
	rm -f "$CONTAINER_ROOT.tmp/usr/sbin/policy-rc.d"
	echo "$stamp" >"$CONTAINER_ROOT.tmp/.gridcal-root"
	mv "$CONTAINER_ROOT.tmp" "$CONTAINER_ROOT"
	say "fresh root built in $(($(date +%s) - t0)) s ($(du -sh "$CONTAINER_ROOT" | cut -f1))"
else
	say "fresh root: $CONTAINER_ROOT (cached)"
fi

# ---- 2. this run's copy, the install, the test's tools ----
rm -rf "$run"
mkdir -p "$run"
cp -a "$CONTAINER_ROOT" "$root"
stage=$run/destdir
$MAKE --no-print-directory GRIDCAL_INNER=1 install DESTDIR="$stage" \
    PREFIX=/usr/local SYSTEMDUNITDIR=/lib/systemd/system >"$run/install.log" 2>&1 ||
    die "make install DESTDIR=$stage failed, see $run/install.log"
# what a package would unpack: the root's /lib is /usr/lib (merged /usr)
tar -C "$stage" -cf - . | tar -C "$root" --keep-directory-symlink -xf -
say "installed: $(cd "$stage" && find . -type f | wc -l) files of make install DESTDIR"
t=$root/opt/gridcal-test
mkdir -p "$t"
cp "$B/gridcal-plant" tests/scenarios/reference.yaml tests/install/container.sh "$t/"

# ---- 3. two boots ----
# boot ROOT ARG [BOOT_ID_FILE]: chroot as PID 1 of its own namespaces
boot() {
	bind=
	[ -n "${3:-}" ] && bind="mount --bind $3 $1/proc/sys/kernel/random/boot_id &&"
	unshare -m -p -n -f --mount-proc="$1/proc" sh -c "ip link set lo up &&
	    mount -t tmpfs -o mode=0755 tmpfs $1/run &&
	    mount -t tmpfs -o mode=1777 tmpfs $1/tmp && $bind
	    exec chroot $1 /bin/sh /opt/gridcal-test/container.sh $2"
}
t0=$(date +%s)
rc1=0
boot "$root" boot1 | tee "$run/boot1.log" || rc1=$?
rc1=$(sed -n 's/^boot1: [0-9]* passed, \([0-9]*\) failed$/\1/p' "$run/boot1.log")
t1=$(date +%s)
cat /proc/sys/kernel/random/uuid >"$run/boot_id"
chmod 0444 "$run/boot_id"
boot "$root" boot2 "$run/boot_id" | tee "$run/boot2.log" || true
rc2=$(sed -n 's/^boot2: [0-9]* passed, \([0-9]*\) failed$/\1/p' "$run/boot2.log")
t2=$(date +%s)

p=$(cat "$run/boot1.log" "$run/boot2.log" | grep -c '^PASS ' || true)
f=$(cat "$run/boot1.log" "$run/boot2.log" | grep -c '^FAIL ' || true)
say "boot 1 $((t1 - t0)) s, boot 2 $((t2 - t1)) s, all $(($(date +%s) - t_all)) s; logs in $run"
echo "check-container: $p passed, $f failed"
[ "${rc1:-x}" = 0 ] && [ "${rc2:-x}" = 0 ] && [ "$f" -eq 0 ] ||
    die "see $run/root/opt/gridcal-test/ (outputs) and $run/boot*.log"
say "PASS"
