# Sanitizers everywhere (issue 20): ASan+UBSan builds of gridcal-watchdog
# (its own source list, mk/50-watchdog.mk) and gridcal-supervisor
# (mk/60-supervisor.mk) replace the plain ones in the integration and
# fault suites: GRIDCAL_WATCHDOG_BIN / GRIDCAL_SUPERVISOR_BIN, honoured by
# tests/harness/util.c harness_path() and tests/faults/run.c.
#
#   check-faults-san  (in make check) the hostile-supervisor and the
#                     process-fault scenarios, sanitized
#   check-san-full    the watchdog and supervisor integration suites and
#                     the whole fault suite, sanitized
WD_SAN_BIN := $(B)/gridcal-watchdog-san
PROGRAMS_SAN := $(WD_SAN_BIN) $(SUP_SAN_BIN)

$(call sans,watchdog/channel.c watchdog/revert.c): | $(WD_GEN_HDR)
$(B)/san/watchdog/watchdog.o: $(B)/gen/watchdog_usage.h
$(WD_SAN_BIN): $(call sans,$(WATCHDOG_SRCS))
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS)

SAN_ENV = GRIDCAL_WATCHDOG_BIN=$(CURDIR)/$(WD_SAN_BIN) \
	GRIDCAL_SUPERVISOR_BIN=$(CURDIR)/$(SUP_SAN_BIN)
# a sanitizer report fails the process, and so the scenario
SAN_FAULTS := $(shell sed -n '/^\# process faults/,/^$$/{/^[a-z]/p}; \
	/^\# hostile supervisor/,/^$$/{/^[a-z]/p}' tests/faults/SUITE)

.PHONY: check-faults-san check-san-full
check-faults-san: faults-bin $(PROGRAMS) $(PROGRAMS_SAN)
	$(SAN_ENV) GRIDCAL_ROOT=$(CURDIR) $(FAULTS_BIN) $(SAN_FAULTS)

check-san-full: faults-bin $(PROGRAMS) $(PROGRAMS_SAN) $(WATCHDOG_TEST_BIN) \
    $(SUP_TEST_BIN)
	$(SAN_ENV) GRIDCAL_ROOT=$(CURDIR) $(WATCHDOG_TEST_BIN)
	$(SAN_ENV) GRIDCAL_ROOT=$(CURDIR) $(SUP_TEST_BIN)
	$(SAN_ENV) GRIDCAL_ROOT=$(CURDIR) $(FAULTS_BIN)

CHECK_TARGETS += check-faults-san
