# gridcal — GNU make. `make` / `make all` only builds: it never runs
# apt-get (a missing build package is named, with `make deps` to install
# it). `make deps` installs the build packages (DEB_PACKAGES); the test
# targets install the test packages too (DEB_TEST_PACKAGES) and then
# re-enter make so pkg-config sees what was just installed. A mosquitto
# that `deps-test` had to install is the tests' tool, not a site's broker:
# it is neither started by the install (policy-rc.d) nor enabled at boot.
#
# Each component owns a fragment in mk/ and appends to:
#   PROGRAMS      binaries built by `all`
#   CHECK_TARGETS internal targets run by `check` (in order)
# Fragments must not edit each other's variables beyond appending.

PUBLIC := all check demo docs-images bench bench-peer bench-readme model faults fuzz mutants
TESTING := $(filter-out all,$(PUBLIC))
.PHONY: $(PUBLIC) deps deps-test clean install uninstall

# build: what `make all` needs
DEB_PACKAGES := libmosquitto-dev libcyaml-dev libyaml-dev libbsd-dev \
	libmd-dev libsodium-dev pkg-config libcairo2-dev libseccomp-dev
# tests, demo, model, bench: a broker to test against and the tools
DEB_TEST_PACKAGES := mosquitto mosquitto-clients check libsubunit-dev \
	spin graphviz valgrind libexpat1-dev clang libclang-rt-14-dev

# $(call missing,PACKAGES): the ones dpkg does not have installed
missing = $$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p \
	2>/dev/null | grep -q 'install ok installed' || echo $$p; done)

# $(call apt_install,PACKAGES): installs the missing ones, starting no
# service while doing so (policy-rc.d 101), as root only.
apt_install = m="$(call missing,$(1))"; if [ -n "$$m" ]; then \
	echo "deps: installing:" $$m; \
	if [ "$$(id -u)" -ne 0 ]; then \
	    echo "deps: need root to apt-get install" >&2; exit 1; fi; \
	prc=/usr/sbin/policy-rc.d; keep=; \
	if [ -e $$prc ]; then keep=$$(mktemp) && cp -p $$prc $$keep; fi; \
	printf '\043!/bin/sh\nexit 101\n' > $$prc && chmod 0755 $$prc; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq \
	    --no-install-recommends $$m; rc=$$?; \
	if [ -n "$$keep" ]; then mv $$keep $$prc; else rm -f $$prc; fi; \
	[ $$rc -eq 0 ]; fi

ifeq ($(GRIDCAL_INNER),)
all:
	@m="$(call missing,$(DEB_PACKAGES))"; if [ -n "$$m" ]; then \
	    echo "make: missing build packages:" $$m "(make deps, as root)" >&2; \
	    exit 1; fi
	@$(MAKE) --no-print-directory GRIDCAL_INNER=1 _$@

$(TESTING): deps-test
	@$(MAKE) --no-print-directory GRIDCAL_INNER=1 _$@

deps:
	@$(call apt_install,$(DEB_PACKAGES))

deps-test: deps
	@mq="$(call missing,mosquitto)"; \
	$(call apt_install,$(DEB_TEST_PACKAGES)); \
	if [ -n "$$mq" ] && command -v systemctl >/dev/null; then \
	    echo "deps: mosquitto is the tests' broker: not enabled at boot"; \
	    systemctl disable --now mosquitto.service 2>/dev/null || \
	        systemctl disable mosquitto.service; fi

# no deps: installing builds nothing and needs no package
install uninstall:
	@$(MAKE) --no-print-directory GRIDCAL_INNER=1 $@

clean:
	rm -rf build
else
include mk/common.mk
-include $(sort $(wildcard mk/[0-9]*.mk))
endif
