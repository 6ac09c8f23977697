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

# with the supervisor's sandbox, as the supervisor loads it (exec-sh)
$(HOSTILE_BIN): $(B)/obj/tests/faults/hostile.o \
    $(B)/obj/supervisor/sandbox.o $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# preloaded into the watchdog by `watchdog-slow-sync MS` (slow-fsync)
SLOWSYNC_SO    := $(B)/test-slowsync.so
$(SLOWSYNC_SO): tests/faults/slowsync.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fPIC -shared -o $@ $< -ldl

.PHONY: faults-bin check-faults check-faults-parse
faults-bin: $(FAULTS_BIN) $(HOSTILE_BIN) $(SLOWSYNC_SO)

# The scenario parser is strict: each file in tests/faults/bad/ must be
# refused with the message its first line names ("# error: TEXT").
check-faults-parse: $(FAULTS_BIN)
	@set -e; pass=0; fail=0; \
	for f in tests/faults/bad/*.fault; do \
	    want=$$(sed -n '1s/^# error: //p' $$f); \
	    rc=0; out=$$($(FAULTS_BIN) -n $$f) || rc=$$?; \
	    if [ $$rc -eq 1 ] && [ -n "$$want" ] && \
	        printf '%s\n' "$$out" | grep -qF -- "$$want"; then \
	        pass=$$((pass + 1)); \
	    else echo "$$f: exit $$rc, got: $$out; want: $$want"; \
	        fail=$$((fail + 1)); fi; \
	done; \
	echo "fault scenario parser: $$pass passed, $$fail failed"; \
	[ $$fail -eq 0 ]

# Every program the scenarios start is in PROGRAMS; missing ones make their
# scenarios SKIP, so the default list (SUITE) holds only runnable ones.
check-faults: faults-bin $(PROGRAMS)
	GRIDCAL_ROOT=$(CURDIR) $(FAULTS_BIN)

_faults: check-faults

CHECK_TARGETS += check-faults-parse check-faults
