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
GEN_DIR      := $(B)/gen
GEN_BIN      := $(B)/gridcal-spec-gen
GEN_SRCS     := $(wildcard spec/gen*.c)
GEN_LIBS     := $(shell pkg-config --libs libcyaml yaml-0.1 libbsd-overlay libmd)

CAL_GEN_HDR  := $(GEN_DIR)/calibration_table.h
CAL_GEN_SRC  := $(GEN_DIR)/calibration_table.c
CAL_GEN_STUB := $(GEN_DIR)/calibration_stubs.c
CAL_GEN_PML  := $(GEN_DIR)/calibration.pml
CAL_GEN_DOT  := $(GEN_DIR)/calibration.dot
CAL_GEN      := $(CAL_GEN_HDR) $(CAL_GEN_SRC) $(CAL_GEN_STUB) $(CAL_GEN_PML) \
		$(CAL_GEN_DOT)

MACHINE_OBJS := $(B)/obj/supervisor/machine.o $(B)/obj/$(CAL_GEN_SRC:.c=.o)
MACHINE_SAN  := $(B)/san/supervisor/machine.o $(B)/san/$(CAL_GEN_SRC:.c=.o)

PROGRAMS += $(GEN_BIN) $(CAL_GEN)

$(GEN_BIN): $(GEN_SRCS:%.c=$(B)/obj/%.o)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(GEN_LIBS)

# One run writes every output (grouped target: make runs it once).
$(CAL_GEN) &: $(GEN_BIN) $(SPEC)
	@mkdir -p $(GEN_DIR)
	$(GEN_BIN) -o $(GEN_DIR) $(SPEC)

$(B)/obj/supervisor/machine.o $(B)/san/supervisor/machine.o: | $(CAL_GEN_HDR)
$(B)/obj/$(GEN_DIR)/%.o $(B)/san/$(GEN_DIR)/%.o: | $(CAL_GEN_HDR)

.PHONY: spec-gen
spec-gen: $(CAL_GEN)
