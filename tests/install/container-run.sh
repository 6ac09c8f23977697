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
	timeout -s KILL 600 unshare -m -p -n -f --kill-child --mount-proc="$1/proc" sh -c "ip link set lo up &&
	    mount -t tmpfs -o mode=0755 tmpfs $1/run &&
	    mount -t tmpfs -o mode=1777 tmpfs $1/tmp && $bind
	    exec chroot $1 /bin/sh /opt/gridcal-test/container.sh $2"
}
# boot_systemd ROOT BOOT_ID_FILE: /lib/systemd/systemd as PID 1, in the
# namespaces above plus cgroup, UTS and IPC ones, the way a container
# manager (systemd-nspawn) sets it up: the root a mount point, /proc/sys
# read-only, the kernel's log hidden, /sys read-only, a cgroup2 of its own
# (a child of this host's unified hierarchy), /dev/console a file. The
# test's unit gridcal-test-boot3.service runs container.sh boot3 and powers
# off; a hung boot is killed after 5 minutes (SIGKILL: unshare blocks
# SIGTERM; --kill-child takes the namespace's PID 1 with it).
cg=
for d in /sys/fs/cgroup/unified /sys/fs/cgroup; do
	[ "$(stat -f -c %T $d 2>/dev/null)" = cgroup2fs ] && { cg=$d/gridcal-container; break; }
done
# the cgroups systemd made under ours, deepest first (empty by now)
cg_remove() {
	[ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
	[ ! -d "$cg" ] || die "$cg: cannot remove (a process left in it?)"
}
boot_systemd() {
	for u in console-getty.service getty@.service getty-static.service \
	    getty.target e2scrub_reap.service apt-daily.timer \
	    apt-daily-upgrade.timer; do
		ln -sf /dev/null "$1/etc/systemd/system/$u"
	done
	: >"$run/console.log"
	cg_remove
	mkdir "$cg"
	timeout -s KILL 300 sh -c "echo \$\$ >$cg/cgroup.procs && exec unshare -C -u -i -m -p -n -f --kill-child sh -c '
	    set -e; ip link set lo up; mount --make-rprivate /
	    mount --bind $1 $1; mount -t proc proc $1/proc
	    mount --bind $1/proc/sys $1/proc/sys; mount -o remount,bind,ro $1/proc/sys
	    mount --bind /dev/null $1/proc/kmsg; mount --bind $2 $1/proc/sys/kernel/random/boot_id
	    mount -t sysfs -o ro sysfs $1/sys; mount -t cgroup2 cgroup2 $1/sys/fs/cgroup
	    mount -t tmpfs -o mode=0755 tmpfs $1/run; mount -t tmpfs -o mode=1777 tmpfs $1/tmp
	    mount --bind $run/console.log $1/dev/console
	    exec chroot $1 /usr/bin/env -i container=gridcal-test /lib/systemd/systemd --system --log-target=journal --log-color=no'" \
	    >"$run/systemd.out" 2>&1 || true
	cg_remove
	chroot "$1" journalctl --no-pager -D /var/log/journal -b 0 -o short-monotonic \
	    2>/dev/null | grep -v ' kernel: ' >"$run/boot3-journal.txt" || true
}

t0=$(date +%s)
boot "$root" boot1 | tee "$run/boot1.log" || true
t1=$(date +%s)
cat /proc/sys/kernel/random/uuid >"$run/boot_id2"
chmod 0444 "$run/boot_id2"
boot "$root" boot2 "$run/boot_id2" | tee "$run/boot2.log" || true
t2=$(date +%s)
logs="$run/boot1.log $run/boot2.log"
if [ -n "$cg" ] && [ -x "$root/lib/systemd/systemd" ]; then
	cat /proc/sys/kernel/random/uuid >"$run/boot_id3"
	chmod 0444 "$run/boot_id3"
	boot_systemd "$root" "$run/boot_id3"
	cp "$root/opt/gridcal-test/boot3.log" "$run/boot3.log" 2>/dev/null ||
	    echo "FAIL boot 3 (systemd as PID 1) left no log: see $run/systemd.out, $run/boot3-journal.txt" >"$run/boot3.log"
	cat "$run/boot3.log"
	logs="$logs $run/boot3.log"
	boots="boot1 boot2 boot3"
else
	echo "NOTE boot 3 not run: no cgroup2 hierarchy on this host for systemd as PID 1" |
	    tee "$run/boot3.log"
	boots="boot1 boot2"
fi
t3=$(date +%s)

p=$(cat $logs | grep -c '^PASS ' || true)
f=$(cat $logs | grep -c '^FAIL ' || true)
say "boot 1 $((t1 - t0)) s, boot 2 $((t2 - t1)) s, boot 3 $((t3 - t2)) s, all $(($(date +%s) - t_all)) s; logs in $run"
echo "check-container: $p passed, $f failed"
for b in $boots; do
	grep -q "^$b: [0-9]* passed, 0 failed\$" $logs ||
	    die "$b did not finish with 0 failed: see $run/root/opt/gridcal-test/ and $run/boot*.log"
done
[ "$f" -eq 0 ] || die "see $run/root/opt/gridcal-test/ (outputs) and $run/boot*.log"
say "PASS"
