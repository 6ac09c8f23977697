# make install / make uninstall (issue 18), for a site or a package:
#   PREFIX   (/usr/local)  bin/ gridcal-watchdog (gridcal-watchdog-check
#                          beside it: -n) gridcal-audit,
#                          sbin/ gridcal-setup, libexec/gridcal/ the
#                          supervisor, share/gridcal/ the example profile
#                          and the broker configuration, share/man/
#   DESTDIR  staging root, prefixed to every path (packages, tests)
#   SYSTEMDUNITDIR         the systemd system unit directory
# Installs only what `all` built: it never compiles. Paths inside the
# shipped files (the profile's paths.supervisor, the units' ExecStart) are
# the installed ones, with PREFIX substituted; DESTDIR never appears in them.
PREFIX          ?= /usr/local
BINDIR          ?= $(PREFIX)/bin
SBINDIR         ?= $(PREFIX)/sbin
LIBEXECDIR      ?= $(PREFIX)/libexec/gridcal
DATADIR         ?= $(PREFIX)/share/gridcal
MANDIR          ?= $(PREFIX)/share/man
SYSTEMDUNITDIR  ?= $(or $(shell pkg-config --variable=systemdsystemunitdir \
	systemd 2>/dev/null),/lib/systemd/system)
INSTALL         ?= install

# gridcal-setup: a program of its own (sbin), never linked into the
# watchdog. It reads the profile with the loader the watchdog uses.
SETUP_SRCS := setup/setup.c setup/users.c setup/files.c setup/broker.c \
	setup/seal.c shared/sealvk.c shared/auditseal.c shared/audit.c \
	shared/auditfmt.c shared/durable.c \
	setup/discovery.c shared/session.c shared/sessionpf.c shared/cred.c \
	shared/log.c shared/parse.c shared/json.c shared/profile.c shared/telemetry.c \
	shared/yamlcfg.c shared/clock.c
SETUP_BIN  := $(B)/gridcal-setup
PROGRAMS   += $(SETUP_BIN)

# It knows where make installs the shared files.
$(call objs,$(filter setup/%,$(SETUP_SRCS))): CFLAGS += \
	-DGRIDCAL_DATADIR='"$(DATADIR)"'
$(call objs,$(filter setup/%,$(SETUP_SRCS))): mk/85-install.mk
$(SETUP_BIN): $(call objs,$(SETUP_SRCS))
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

INSTALL_SUBST := sed -e 's|@BINDIR@|$(BINDIR)|g' \
	-e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' \
	-e 's|@DATADIR@|$(DATADIR)|g' \
	-e 's|/usr/local/libexec/gridcal|$(LIBEXECDIR)|g'

MAN_PAGES := $(wildcard man/*.[1-8])
UNITS     := $(wildcard systemd/*.service systemd/*.timer)
UNIT_DROPINS := $(wildcard systemd/*.d/*.conf)
SHARE_FILES := $(wildcard share/*)

.PHONY: install uninstall
install:
	@for f in $(B)/gridcal-watchdog $(WDCHECK_BIN) $(B)/gridcal-audit \
	    $(B)/gridcal-supervisor $(SETUP_BIN); do [ -x $$f ] || { \
	    echo "install: $$f is not built: run make first" >&2; exit 1; }; done
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DATADIR) \
	    $(DESTDIR)$(SYSTEMDUNITDIR)
	$(INSTALL) -m 0755 $(B)/gridcal-watchdog $(WDCHECK_BIN) \
	    $(B)/gridcal-audit $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 0755 $(SETUP_BIN) $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 0755 $(B)/gridcal-supervisor $(DESTDIR)$(LIBEXECDIR)/
	$(INSTALL_SUBST) profiles/eg4-lp4-v2.yaml > $(DESTDIR)$(DATADIR)/eg4-lp4-v2.yaml
	chmod 0644 $(DESTDIR)$(DATADIR)/eg4-lp4-v2.yaml
	for f in $(SHARE_FILES); do $(INSTALL) -m 0644 $$f $(DESTDIR)$(DATADIR)/; done
	for f in $(UNITS); do $(INSTALL_SUBST) $$f > \
	    $(DESTDIR)$(SYSTEMDUNITDIR)/$${f##*/} && \
	    chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$${f##*/}; done
	for f in $(UNIT_DROPINS); do d=$${f#systemd/}; \
	    $(INSTALL) -d $(DESTDIR)$(SYSTEMDUNITDIR)/$${d%/*} && \
	    $(INSTALL) -m 0644 $$f $(DESTDIR)$(SYSTEMDUNITDIR)/$$d; done
	for f in $(MAN_PAGES); do s=$${f##*.}; \
	    $(INSTALL) -d $(DESTDIR)$(MANDIR)/man$$s && \
	    $(INSTALL) -m 0644 $$f $(DESTDIR)$(MANDIR)/man$$s/; done

# Removes what install put there; /etc/gridcal, /var/lib/gridcal (the
# audit log) and the system users are the site's: gridcal-setup made them
# and they stay.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/gridcal-watchdog \
	    $(DESTDIR)$(BINDIR)/gridcal-watchdog-check \
	    $(DESTDIR)$(BINDIR)/gridcal-audit \
	    $(DESTDIR)$(SBINDIR)/gridcal-setup \
	    $(DESTDIR)$(LIBEXECDIR)/gridcal-supervisor \
	    $(DESTDIR)$(DATADIR)/eg4-lp4-v2.yaml \
	    $(addprefix $(DESTDIR)$(DATADIR)/,$(notdir $(SHARE_FILES))) \
	    $(addprefix $(DESTDIR)$(SYSTEMDUNITDIR)/,$(notdir $(UNITS))) \
	    $(addprefix $(DESTDIR)$(SYSTEMDUNITDIR)/,$(UNIT_DROPINS:systemd/%=%)) \
	    $(foreach m,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))
	-rmdir $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DATADIR) \
	    $(sort $(dir $(addprefix $(DESTDIR)$(SYSTEMDUNITDIR)/,$(UNIT_DROPINS:systemd/%=%)))) \
	    2>/dev/null || true

# ---- checks ----
# check-install: install into a DESTDIR, run the installed gridcal-setup on
# it and a full calibration, a SIGKILL (the last will) and the boot
# recovery from the installed tree (tests/install/test_install.c); then
# uninstall leaves only what gridcal-setup made (the site's files).
INSTALL_TEST_BIN  := $(B)/tests/install

$(INSTALL_TEST_BIN): $(B)/obj/tests/install/test_install.o $(RIG_OBJS) \
    $(HARNESS_OBJS) $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -pthread -lm

# The DESTDIR is outside build/ (common.mk includes every *.d there, and a
# unit drop-in directory is one) and traversable: the supervisor runs as
# gridcal from it.
.PHONY: check-install check-units
check-install: _all $(INSTALL_TEST_BIN)
	@set -e; d=$$(mktemp -d /tmp/gridcal-destdir-XXXXXX); \
	trap 'rm -rf $$d' EXIT; chmod 0755 $$d; \
	$(MAKE) --no-print-directory GRIDCAL_INNER=1 install DESTDIR=$$d \
	    PREFIX=/usr/local >/dev/null; \
	rc=0; GRIDCAL_ROOT=$(CURDIR) GRIDCAL_UNITDIR=$(SYSTEMDUNITDIR) \
	    $(INSTALL_TEST_BIN) $$d /usr/local || rc=$$?; \
	if [ $$rc -eq 77 ]; then echo "check-install: SKIP (not root)"; \
	    exit 0; fi; [ $$rc -eq 0 ]; \
	$(MAKE) --no-print-directory GRIDCAL_INNER=1 uninstall DESTDIR=$$d \
	    PREFIX=/usr/local >/dev/null; \
	left=$$(cd $$d && find . -type f | sort | \
	    grep -v -e '^./etc/gridcal/' -e '^./var/lib/gridcal/' -e \
	    '^./setup.out$$' -e '^./victim$$' || true); \
	if [ -n "$$left" ]; then echo "uninstall left:" $$left; exit 1; fi; \
	echo "check-install: uninstall removed everything it installed"

# check-units: the installed units pass systemd-analyze verify without a
# word, and their exposure scores (reported in README.md) do not regress.
UNITS_MAX_EXPOSURE := 2.5
check-units: _all
	@command -v systemd-analyze >/dev/null || { \
	    echo "check-units: SKIP (no systemd-analyze)"; exit 0; }; \
	set -e; d=$$(mktemp -d); trap 'rm -rf $$d' EXIT; \
	$(MAKE) --no-print-directory GRIDCAL_INNER=1 install DESTDIR=$$d \
	    SYSTEMDUNITDIR=/units BINDIR=$(CURDIR)/$(B) >/dev/null; \
	cp $$d/units/gridcal@.service $$d/units/gridcal@grid.service; \
	cd $$d/units; \
	out=$$(systemd-analyze verify --man=no ./gridcal-recover.service \
	    ./gridcal@grid.service 2>&1); \
	if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; \
	for u in gridcal-recover.service gridcal@grid.service; do \
	    s=$$(systemd-analyze security --offline=yes ./$$u 2>&1 | \
	        sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'); \
	    echo "check-units: $$u exposure $$s (at most $(UNITS_MAX_EXPOSURE))"; \
	    awk -v s="$$s" -v m=$(UNITS_MAX_EXPOSURE) \
	        'BEGIN { exit !(s != "" && s + 0 <= m + 0) }'; done

CHECK_TARGETS += check-install check-units


# check-man: gridcal.yaml(5) against the loader's own key table
# (tests/man/profile_keys.c compiles shared/profile.c in); every page
# formats without a warning.
PROFILE_KEYS_BIN := $(B)/tests/profile-keys
$(PROFILE_KEYS_BIN): $(B)/obj/tests/man/profile_keys.o $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

.PHONY: check-man
check-man: $(PROFILE_KEYS_BIN)
	$(PROFILE_KEYS_BIN) man/gridcal.yaml.5 profiles/eg4-lp4-v2.yaml
	@set -e; for m in $(MAN_PAGES); do \
	    out=$$(LC_ALL=C.UTF-8 MANWIDTH=80 groff -mandoc -Tutf8 -ww -z $$m 2>&1); \
	    if [ -n "$$out" ]; then echo "$$m: $$out"; exit 1; fi; done; \
	echo "check-man: $(words $(MAN_PAGES)) pages format cleanly"

CHECK_TARGETS += check-man

# check-hardening: what a Debian packager expects, read back from the
# binaries with readelf: PIE, full RELRO (GNU_RELRO + BIND_NOW), the stack
# protector and fortified calls; and CFLAGS/CPPFLAGS/LDFLAGS from the
# environment or the command line (dpkg-buildflags) on the compile and
# link lines.
# what make install ships
HARDEN_BINS := $(B)/gridcal-watchdog $(B)/gridcal-audit \
	$(B)/gridcal-supervisor $(SETUP_BIN)
.PHONY: check-hardening
check-hardening: $(HARDEN_BINS)
	@set -e; for b in $(HARDEN_BINS); do \
	    readelf -hW $$b | grep -q 'Type:.*DYN' || { echo "$$b: not PIE"; exit 1; }; \
	    readelf -lW $$b | grep -q GNU_RELRO || { echo "$$b: no RELRO"; exit 1; }; \
	    readelf -dW $$b | grep -Eq 'BIND_NOW|FLAGS.*NOW' || { \
	        echo "$$b: no BIND_NOW (partial RELRO)"; exit 1; }; \
	    syms=$$(readelf --dyn-syms -W $$b); \
	    echo "$$syms" | grep -q __stack_chk_fail || { \
	        echo "$$b: no stack protector"; exit 1; }; \
	    echo "$$syms" | grep -Eq '__[a-z]+_chk@' || { \
	        echo "$$b: no fortified call (_FORTIFY_SOURCE)"; exit 1; }; \
	done; echo "check-hardening: $(words $(HARDEN_BINS)) binaries: PIE, full RELRO, stack protector, fortified"
	@set -e; fresh="env -u GRIDCAL_ENV_CFLAGS -u GRIDCAL_ENV_CPPFLAGS \
	    -u GRIDCAL_ENV_LDFLAGS -u MAKEFLAGS -u MFLAGS"; \
	out=$$($$fresh CFLAGS=-DPROBE_ENV_C CPPFLAGS=-DPROBE_ENV_CPP \
	    LDFLAGS=-Wl,--probe-env-ld $(MAKE) --no-print-directory -n -B \
	    GRIDCAL_INNER=1 $(B)/gridcal-audit 2>&1); \
	for w in PROBE_ENV_C PROBE_ENV_CPP probe-env-ld; do \
	    echo "$$out" | grep -q -- "$$w" || { echo "environment $$w not used"; exit 1; }; done; \
	out=$$($$fresh $(MAKE) --no-print-directory -n -B GRIDCAL_INNER=1 \
	    CFLAGS=-DPROBE_CMD_C LDFLAGS=-Wl,--probe-cmd-ld $(B)/gridcal-audit 2>&1); \
	for w in PROBE_CMD_C probe-cmd-ld fstack-protector-strong; do \
	    echo "$$out" | grep -q -- "$$w" || { echo "command line $$w not used"; exit 1; }; done; \
	echo "check-hardening: CFLAGS, CPPFLAGS, LDFLAGS from the environment and the command line are used"; \
	out=$$($$fresh -u GRIDCAL_INNER $(MAKE) --no-print-directory -n all 2>&1); \
	if echo "$$out" | grep -q apt-get; then \
	    echo "make all would run apt-get:"; echo "$$out"; exit 1; fi; \
	echo "check-hardening: make all runs no apt-get"

CHECK_TARGETS += check-hardening

# check-container (issue 18): the install on a FRESH Debian 12 root, not
# this machine's: debootstrap --variant=minbase into CONTAINER_ROOT (kept:
# a second run reuses it), the runtime packages only (no compiler, no -dev),
# a `make install DESTDIR=` staging of this tree copied in, then three
# boots in its own namespaces (tests/install/container.sh): gridcal-setup
# as README says, the site's mosquitto from its printed lines, the plant, a
# full calibration, a power loss on SUB with the intent mark on disk and the
# boot recovery as gridcal-recover.service's ExecStart run directly; then
# with systemd as PID 1: the enabled recovery unit at boot, gridcal@grid
# under its sandboxing, WatchdogSec= and OnFailure= on a hung watchdog.
# The first run needs Debian's mirror (debootstrap); not in CHECK_TARGETS
# for that reason.
CONTAINER_ROOT   ?= /var/tmp/gridcal-container/bookworm
CONTAINER_MIRROR ?= http://deb.debian.org/debian
# what the installed programs link, the site's broker and its clients
CONTAINER_PACKAGES := libmosquitto1 libcyaml1 libyaml-0-2 libbsd0 libmd0 \
	libsodium23 libseccomp2 libcairo2 mosquitto systemd \
	mosquitto-clients
.PHONY: check-container deps-container
deps-container:
	@$(call apt_install,debootstrap)
check-container: deps-container _all
	@CONTAINER_ROOT=$(CONTAINER_ROOT) CONTAINER_MIRROR=$(CONTAINER_MIRROR) \
	    CONTAINER_PACKAGES="$(CONTAINER_PACKAGES)" MAKE="$(MAKE)" \
	    B=$(B) sh tests/install/container-run.sh
