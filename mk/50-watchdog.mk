# gridcal-watchdog, its test supervisor, and the watchdog integration tests.
#
# WATCHDOG_SRCS is the privileged binary's whole trusted computing base:
# nothing else is linked into it (no archive), and `make tcb` holds it to
# its budget. A new source file is added here by name, deliberately.
WATCHDOG_SRCS := watchdog/watchdog.c watchdog/channel.c watchdog/revert.c \
	watchdog/envelope.c watchdog/mark.c watchdog/child.c watchdog/notify.c \
	watchdog/verdict.c watchdog/authorise.c \
	watchdog/sandbox.c watchdog/conf.c watchdog/intake.c \
	shared/audit.c shared/auditfmt.c shared/auditseal.c shared/clock.c \
	shared/cred.c \
	shared/durable.c shared/log.c \
	shared/proto.c shared/proto_watchdog.c shared/session.c \
	shared/sigfd.c \
	shared/strict.c shared/landlock.c
WATCHDOG_BIN  := $(B)/gridcal-watchdog
# gridcal-watchdog -n execs gridcal-watchdog-check beside it (conf.c): the
# offline check with the watchdog's own profile view, out of its TCB.
WDCHECK_SRCS  := watchdog/check.c watchdog/conf.c shared/cred.c shared/log.c
WDCHECK_BIN   := $(B)/gridcal-watchdog-check
FAKESUP_SRCS  := tests/fakesup/fakesup.c \
	shared/clock.c shared/log.c shared/parse.c shared/profile.c shared/json.c \
	shared/proto.c shared/proto_supervisor.c shared/yamlcfg.c
PROGRAMS += $(WATCHDOG_BIN) $(WDCHECK_BIN) $(B)/test-fakesup

# The request table and the orders are generated from spec/watchdog.yaml.
$(call objs,watchdog/channel.c watchdog/revert.c): | $(WD_GEN_HDR)

$(WATCHDOG_BIN): $(call objs,$(WATCHDOG_SRCS))
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
$(WDCHECK_BIN): $(call objs,$(WDCHECK_SRCS))
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# --help is the manual page text, kept as text and compiled in.
$(B)/gen/watchdog_usage.h: watchdog/gridcal-watchdog.txt
	@mkdir -p $(@D)
	{ echo '#define WD_USAGE \'; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n" \\/' $<; \
	  echo '""'; echo '#define WD_SYNOPSIS \'; \
	  sed -n '/^SYNOPSIS/,/^$$/s/^ *\(gridcal-watchdog.*\)/"usage: \1\\n" \\/p' $<; \
	  echo '""'; } > $@.tmp && mv $@.tmp $@
$(B)/obj/watchdog/watchdog.o: $(B)/gen/watchdog_usage.h

# The scripted stand-in supervisor the integration and fault tests exec.
$(B)/test-fakesup: $(call objs,$(FAKESUP_SRCS))
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# Integration tests: real broker, real plant, real processes and signals.
WATCHDOG_TEST_SRCS := $(wildcard tests/integration/test_watchdog*.c)
WATCHDOG_TEST_BIN  := $(B)/tests/watchdog

$(WATCHDOG_TEST_BIN): $(WATCHDOG_TEST_SRCS:%.c=$(B)/obj/%.o) $(HARNESS_OBJS) \
    $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS) $(HARNESS_LIBS)

.PHONY: check-watchdog
check-watchdog: $(WATCHDOG_TEST_BIN) $(B)/gridcal-watchdog $(WDCHECK_BIN) \
    $(B)/test-fakesup \
    $(PLANT_BIN) $(B)/gridcal-audit
	GRIDCAL_ROOT=$(CURDIR) $(WATCHDOG_TEST_BIN)

CHECK_TARGETS += check-watchdog

# The parity test (tests/parity): the watchdog's profile view and intake
# against the full loader and store, on every shipped and test profile,
# malformed values and the same telemetry. conf.c and intake.c define the
# names shared/profile.c and telemetry.c define (they stand in for them in
# the watchdog), so the watchdog's side is linked into one object whose
# globals are local but its entry points (view_*).
PARITY_BIN  := $(B)/tests/parity
PARITY_SAN  := $(B)/tests/parity-san
PARITY_WD   := tests/parity/view.c watchdog/conf.c watchdog/intake.c
PARITY_LINK = ld -r -o $@.tmp $^ && objcopy -G view_load -G view_nfields \
	-G view_ingest -G view_value $@.tmp $@ && rm -f $@.tmp
$(B)/obj/tests/parity/view-all.o: $(call objs,$(PARITY_WD))
	$(PARITY_LINK)
$(B)/san/tests/parity/view-all.o: $(call sans,$(PARITY_WD))
	$(PARITY_LINK)
$(B)/obj/tests/parity/view.o $(B)/san/tests/parity/view.o: CFLAGS += -Iwatchdog
$(PARITY_BIN): $(call objs,tests/parity/parity.c tests/parity/full.c) \
    $(B)/obj/tests/parity/view-all.o $(HARNESS_OBJS) $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(HARNESS_LIBS)
# the same under ASan and UBSan
$(PARITY_SAN): $(call sans,tests/parity/parity.c tests/parity/full.c) \
    $(B)/san/tests/parity/view-all.o $(call sans,$(HARNESS_SRCS)) \
    $(SHARED_SAN)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS) $(HARNESS_LIBS)

.PHONY: check-parity
check-parity: $(PARITY_BIN) $(PARITY_SAN)
	GRIDCAL_ROOT=$(CURDIR) $(PARITY_BIN)
	GRIDCAL_ROOT=$(CURDIR) $(PARITY_SAN)

CHECK_TARGETS += check-parity
