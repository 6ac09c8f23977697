# spec/: the calibration spec, its generator (gridcal-spec-gen), the table
# engine (supervisor/machine.[ch]) and the SPIN model (issue 4).
#
# For the supervisor's fragment:
#   CAL_GEN_HDR    build/gen/calibration_table.h: make every object that
#                  includes it (directly or through machine.h) depend on it
#                  (order-only is enough: -MMD tracks it afterwards)
#   MACHINE_OBJS   the engine and the generated table (plain tree)
#   MACHINE_SAN    the same for the ASan/UBSan tree
# The table refers to guard_<name>() / action_<name>(), which the
# supervisor defines.

SPEC         := spec/calibration.yaml
WD_SPEC      := spec/watchdog.yaml
GEN_DIR      := $(B)/gen
GEN_BIN      := $(B)/gridcal-spec-gen
GEN_SRCS     := spec/gen.c spec/gen_load.c spec/gen_check.c spec/gen_c.c \
		spec/gen_pml.c spec/gen_dot.c spec/gen_out.c spec/gen_wd.c
GEN_LIBS     := $(shell pkg-config --libs libcyaml yaml-0.1 libbsd-overlay libmd)

CAL_GEN_HDR  := $(GEN_DIR)/calibration_table.h
CAL_GEN_SRC  := $(GEN_DIR)/calibration_table.c
CAL_GEN_STUB := $(GEN_DIR)/calibration_stubs.c
CAL_GEN_PML  := $(GEN_DIR)/calibration.pml
CAL_GEN_DOT  := $(GEN_DIR)/calibration.dot
WD_GEN_HDR   := $(GEN_DIR)/watchdog_rules.h
WD_GEN_PML   := $(GEN_DIR)/watchdog_rules.pml
CAL_GEN      := $(CAL_GEN_HDR) $(CAL_GEN_SRC) $(CAL_GEN_STUB) $(CAL_GEN_PML) \
		$(CAL_GEN_DOT) $(WD_GEN_HDR) $(WD_GEN_PML)

MACHINE_OBJS := $(B)/obj/supervisor/machine.o $(B)/obj/$(CAL_GEN_SRC:.c=.o)
MACHINE_SAN  := $(B)/san/supervisor/machine.o $(B)/san/$(CAL_GEN_SRC:.c=.o)

PROGRAMS += $(GEN_BIN) $(CAL_GEN)

$(GEN_BIN): $(GEN_SRCS:%.c=$(B)/obj/%.o)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(GEN_LIBS)

# One run writes every output (grouped target: make runs it once).
$(CAL_GEN) &: $(GEN_BIN) $(SPEC) $(WD_SPEC)
	@mkdir -p $(GEN_DIR)
	$(GEN_BIN) -o $(GEN_DIR) -w $(WD_SPEC) $(SPEC)

$(B)/obj/supervisor/machine.o $(B)/san/supervisor/machine.o: | $(CAL_GEN_HDR)
$(B)/obj/$(GEN_DIR)/%.o $(B)/san/$(GEN_DIR)/%.o: | $(CAL_GEN_HDR)

.PHONY: spec-gen
spec-gen: $(CAL_GEN)

# ---- checks ----
# The generator: the real spec accepted and its outputs usable; every
# tests/spec/reject/*.yaml refused with its expected message.
# The same with the generator built under ASan/UBSan (strict parsing of
# hostile YAML must not be undefined behaviour either).
GEN_BIN_SAN  := $(B)/gridcal-spec-gen-san

$(GEN_BIN_SAN): $(GEN_SRCS:%.c=$(B)/san/%.o)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(GEN_LIBS)

.PHONY: check-spec-gen check-spec-gen-san
check-spec-gen: $(GEN_BIN)
	tests/spec/gen-tests.sh $(GEN_BIN) $(SPEC) $(WD_SPEC) $(B)/tests/spec-gen
check-spec-gen-san: $(GEN_BIN_SAN)
	tests/spec/gen-tests.sh $(GEN_BIN_SAN) $(SPEC) $(WD_SPEC) \
	    $(B)/tests/spec-gen-san

# The engine on the real table, with the generated stubs (tests only).
MACHINE_TEST     := $(B)/tests/spec-machine
MACHINE_TEST_SAN := $(B)/tests/spec-machine-san
$(B)/obj/tests/spec/test_machine.o $(B)/san/tests/spec/test_machine.o: | $(CAL_GEN_HDR)

$(MACHINE_TEST): $(B)/obj/tests/spec/test_machine.o \
    $(B)/obj/$(CAL_GEN_STUB:.c=.o) $(MACHINE_OBJS) $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

$(MACHINE_TEST_SAN): $(B)/san/tests/spec/test_machine.o \
    $(B)/san/$(CAL_GEN_STUB:.c=.o) $(MACHINE_SAN) $(SHARED_SAN)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

# The event runtime (supervisor/events.c, sm.c) on the real table with
# the supervisor's own guards and actions: priority, the link lost.
EVENTS_TEST  := $(B)/tests/spec-events
EVENTS_OBJS  := $(addprefix $(B)/obj/supervisor/,events.o sm.o guards.o \
	actions.o report.o wdlink.o monitor.o preflight.o snapshot.o)
$(B)/obj/tests/spec/test_events.o: CFLAGS += -Isupervisor
$(B)/obj/tests/spec/test_events.o: | $(CAL_GEN_HDR)

$(EVENTS_TEST): $(B)/obj/tests/spec/test_events.o $(EVENTS_OBJS) \
    $(MACHINE_OBJS) $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

EVENTS_TEST_SAN := $(B)/tests/spec-events-san
$(B)/san/tests/spec/test_events.o: CFLAGS += -Isupervisor
$(B)/san/tests/spec/test_events.o: | $(CAL_GEN_HDR)
$(EVENTS_TEST_SAN): $(B)/san/tests/spec/test_events.o \
    $(EVENTS_OBJS:$(B)/obj/%=$(B)/san/%) $(MACHINE_SAN) $(SHARED_SAN)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

.PHONY: check-machine check-machine-san
check-machine: $(MACHINE_TEST) $(EVENTS_TEST)
	$(MACHINE_TEST)
	$(EVENTS_TEST)
check-machine-san: $(MACHINE_TEST_SAN) $(EVENTS_TEST_SAN)
	CK_FORK=yes $(MACHINE_TEST_SAN)
	CK_FORK=yes $(EVENTS_TEST_SAN)

# ---- the model: `make model` ----
# spec/modelcheck.sh composes spec/facts.pml, the generated machine,
# spec/watchdog.pml and spec/properties.pml in MODEL_DIR (spin's and pan's
# files stay there) and checks every property in its own pan run, judging
# pan's output, not its exit status. MODEL_PROPS limits the properties.
MODEL_DIR   ?= $(B)/model/calibration
MODEL_PML   ?= $(CAL_GEN_PML)
MODEL_PROPS ?=

.PHONY: model-check check-model-bites
model-check: $(MODEL_PML) spec/facts.pml spec/watchdog.pml spec/properties.pml \
    $(WD_GEN_PML)
	spec/modelcheck.sh $(addprefix -p ,$(MODEL_PROPS)) $(MODEL_DIR) $(MODEL_PML)

_model: model-check

# Each tests/spec/model/*.patch breaks the spec; model-check must fail on
# it with the fixture's expected property violated.
check-model-bites: $(GEN_BIN)
	tests/spec/model-bites.sh $(GEN_BIN) $(SPEC) $(WD_SPEC) $(B)/model/bites \
	    "$(MAKE)"

CHECK_TARGETS += check-spec-gen check-spec-gen-san check-machine \
		 check-machine-san model-check check-model-bites
