# gridcal-supervisor: supervisor/*.c (the engine supervisor/machine.c and
# the generated table come from mk/30-spec.mk as MACHINE_OBJS), its
# integration tests tests/integration/test_supervisor*.c, and the
# command-line checks.
SUPERVISOR_SRCS := supervisor/supervisor.c supervisor/run.c \
	supervisor/actions.c supervisor/events.c supervisor/guards.c \
	supervisor/monitor.c supervisor/preflight.c supervisor/report.c \
	supervisor/sm.c supervisor/snapshot.c supervisor/wdlink.c \
	supervisor/sandbox.c
SUPERVISOR_SHARED := shared/clock.c shared/cred.c shared/log.c \
	shared/json.c shared/parse.c shared/profile.c shared/proto.c \
	shared/pfcheck.c shared/proto_supervisor.c shared/session.c \
	shared/sessionpf.c \
	shared/telemetry.c \
	shared/yamlcfg.c shared/landlock.c
SUPERVISOR_OBJS := $(call objs,$(SUPERVISOR_SRCS))
PROGRAMS += $(B)/gridcal-supervisor

# Every supervisor object may include the generated table header.
$(SUPERVISOR_OBJS): | $(CAL_GEN_HDR)

$(B)/gridcal-supervisor: $(SUPERVISOR_OBJS) $(MACHINE_OBJS) \
    $(call objs,$(SUPERVISOR_SHARED))
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# Usage and configuration errors: 64 and 78, before anything else happens.
.PHONY: check-supervisor-cli
check-supervisor-cli: $(B)/gridcal-supervisor
	@set -e; bin=$(B)/gridcal-supervisor; t=$$(mktemp -d); n=0; \
	want() { rc=0; "$$@" >$$t/out 2>$$t/err || rc=$$?; \
	    [ $$rc -eq $$code ] || { echo "$$*: exit $$rc, want $$code"; \
	    cat $$t/err; exit 1; }; n=$$((n + 1)); }; \
	sed 's/port: 1883/port: 12abc/' profiles/eg4-lp4-v2.yaml > $$t/bad.yaml; \
	code=78; want $$bin --profile $$t/bad.yaml check; \
	grep -q "bad.yaml:15: broker.port" $$t/err || { cat $$t/err; exit 1; }; \
	code=78; want $$bin --profile /nonexistent check; \
	sed "s|/etc/gridcal/supervisor.cred|$$t/none.cred|" \
	    profiles/eg4-lp4-v2.yaml > $$t/nocred.yaml; \
	code=78; want $$bin --profile $$t/nocred.yaml check; \
	grep -q "none.cred" $$t/err || { cat $$t/err; exit 1; }; \
	code=64; want $$bin --bogus; \
	code=64; want $$bin --profile profiles/eg4-lp4-v2.yaml; \
	code=64; want $$bin --profile profiles/eg4-lp4-v2.yaml frobnicate; \
	code=64; want $$bin --profile profiles/eg4-lp4-v2.yaml calibrate; \
	grep -q "started by gridcal-watchdog" $$t/err || { cat $$t/err; exit 1; }; \
	code=64; want $$bin --profile profiles/eg4-lp4-v2.yaml --watchdog-fd 0 \
	    calibrate; \
	code=64; want $$bin --profile profiles/eg4-lp4-v2.yaml --watchdog-fd 1 \
	    calibrate --method tidal; \
	code=64; want $$bin --profile profiles/eg4-lp4-v2.yaml --confirm check; \
	code=0; want $$bin --help; \
	grep -q "EXIT STATUS" $$t/out || { cat $$t/out; exit 1; }; \
	rm -rf $$t; echo "supervisor cli: $$n passed, 0 failed"
CHECK_TARGETS += check-supervisor-cli

# End to end: real broker, real plant, real watchdog, the real supervisor.
# tests/demo/rig.c (the simulated site) is shared with `make demo`.
SUP_TEST_SRCS := $(wildcard tests/integration/test_supervisor*.c)
SUP_TEST_BIN  := $(B)/tests/supervisor
SUP_HARNESS   := $(or $(HARNESS_OBJS),$(patsubst %.c,$(B)/obj/%.o,\
	$(wildcard tests/harness/*.c)))

# The judgement code is linked into the tests too (no table needed).
SUP_LOGIC_OBJS := $(addprefix $(B)/obj/supervisor/,preflight.o monitor.o \
	snapshot.o)
$(SUP_TEST_SRCS:%.c=$(B)/obj/%.o): CFLAGS += -Isupervisor

$(SUP_TEST_BIN): $(SUP_TEST_SRCS:%.c=$(B)/obj/%.o) $(SUP_LOGIC_OBJS) \
    $(B)/obj/tests/demo/rig.o $(SUP_HARNESS) $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS) -pthread -lm

# Runs from the top directory: the harness finds build/ and tests/ there.
.PHONY: check-supervisor
check-supervisor: $(SUP_TEST_BIN) $(PROGRAMS)
	GRIDCAL_ROOT=$(CURDIR) $(SUP_TEST_BIN)
CHECK_TARGETS += check-supervisor

# The same under AddressSanitizer + UndefinedBehaviorSanitizer: the
# judgement tests in an ASan test binary, and a subset of the end-to-end
# runs (tag "san") with the watchdog executing an ASan supervisor.
SUP_SAN_BIN      := $(B)/gridcal-supervisor-san
SUP_TEST_SAN_BIN := $(B)/tests/supervisor-san
$(SUPERVISOR_SRCS:%.c=$(B)/san/%.o): | $(CAL_GEN_HDR)
$(SUP_TEST_SRCS:%.c=$(B)/san/%.o): CFLAGS += -Isupervisor

$(SUP_SAN_BIN): $(call sans,$(SUPERVISOR_SRCS)) $(MACHINE_SAN) \
    $(call sans,$(SUPERVISOR_SHARED))
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS)

$(SUP_TEST_SAN_BIN): $(SUP_TEST_SRCS:%.c=$(B)/san/%.o) \
    $(SUP_LOGIC_OBJS:$(B)/obj/%=$(B)/san/%) $(B)/san/tests/demo/rig.o \
    $(SUP_HARNESS:$(B)/obj/%=$(B)/san/%) $(SHARED_SAN)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS) -pthread -lm

.PHONY: check-supervisor-san
check-supervisor-san: $(SUP_TEST_BIN) $(SUP_TEST_SAN_BIN) $(SUP_SAN_BIN) \
    $(PROGRAMS)
	CK_RUN_SUITE=supervisor_logic GRIDCAL_ROOT=$(CURDIR) $(SUP_TEST_SAN_BIN)
	CK_RUN_SUITE=supervisor CK_INCLUDE_TAGS=san GRIDCAL_ROOT=$(CURDIR) \
	    GRIDCAL_SUPERVISOR_BIN=$(CURDIR)/$(SUP_SAN_BIN) $(SUP_TEST_BIN)
CHECK_TARGETS += check-supervisor-san
