# tests/faults: the fault-injection suite (issue 8). build/test-faults plays
# the scenarios (tests/faults/NAME.fault) listed in tests/faults/SUITE against
# a real broker, gridcal-plant, gridcal-watchdog and a supervisor;
# build/test-hostile stands on the supervisor's side of the socketpair for
# the hostile-supervisor scenarios. `make faults` runs the suite; `make
# check` runs it as check-faults. Logs: build/faults/NAME.log.
FAULTS_SRCS    := tests/faults/main.c tests/faults/scenario.c \
	tests/faults/run.c tests/faults/steps.c tests/faults/check.c \
	tests/faults/tracker.c
FAULTS_BIN     := $(B)/test-faults
HOSTILE_BIN    := $(B)/test-hostile
# The harness objects come from mk/20-plant.mk.
FAULTS_HARNESS := $(or $(HARNESS_OBJS),$(patsubst %.c,$(B)/obj/%.o,\
	$(wildcard tests/harness/*.c)))

$(FAULTS_SRCS:%.c=$(B)/obj/%.o): CFLAGS += -Itests/harness

$(FAULTS_BIN): $(FAULTS_SRCS:%.c=$(B)/obj/%.o) $(FAULTS_HARNESS) $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -pthread -lm

$(HOSTILE_BIN): $(B)/obj/tests/faults/hostile.o $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

.PHONY: faults-bin check-faults
faults-bin: $(FAULTS_BIN) $(HOSTILE_BIN)

# Every program the scenarios start is in PROGRAMS; missing ones make their
# scenarios SKIP, so the default list (SUITE) holds only runnable ones.
check-faults: faults-bin $(PROGRAMS)
	GRIDCAL_ROOT=$(CURDIR) $(FAULTS_BIN)

_faults: check-faults

CHECK_TARGETS += check-faults
