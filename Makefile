# gridcal — GNU make. Public targets install missing Debian packages first
# (`deps`), then re-enter make so pkg-config sees what was just installed.
#
# Each component owns a fragment in mk/ and appends to:
#   PROGRAMS      binaries built by `all`
#   CHECK_TARGETS internal targets run by `check` (in order)
# Fragments must not edit each other's variables beyond appending.

PUBLIC := all check demo bench bench-peer model faults fuzz
.PHONY: $(PUBLIC) deps clean install uninstall

DEB_PACKAGES := libmosquitto-dev mosquitto mosquitto-clients libcyaml-dev libyaml-dev \
	check libsubunit-dev libbsd-dev libmd-dev pkg-config spin graphviz \
	valgrind

ifeq ($(GRIDCAL_INNER),)
$(PUBLIC): deps
	@$(MAKE) --no-print-directory GRIDCAL_INNER=1 _$@

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	    grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "deps: installing:" $$missing; \
	    if [ "$$(id -u)" -ne 0 ]; then \
	        echo "deps: need root to apt-get install" >&2; exit 1; fi; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# no deps: installing builds nothing and needs no package
install uninstall:
	@$(MAKE) --no-print-directory GRIDCAL_INNER=1 $@

clean:
	rm -rf build
else
include mk/common.mk
-include $(sort $(wildcard mk/[0-9]*.mk))
endif
