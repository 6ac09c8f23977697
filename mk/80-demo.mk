# make demo: a full simulated grid calibration on a loopback broker
# (tests/demo/demo.c). tests/demo/rig.c, the simulated site, is shared with
# the supervisor's integration tests (mk/60-supervisor.mk).
DEMO_BIN  := $(B)/tests/demo
RIG_OBJS  := $(B)/obj/tests/demo/rig.o
DEMO_HARNESS := $(or $(HARNESS_OBJS),$(patsubst %.c,$(B)/obj/%.o,\
	$(wildcard tests/harness/*.c)))

$(DEMO_BIN): $(B)/obj/tests/demo/demo.o $(RIG_OBJS) $(DEMO_HARNESS) \
    $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -pthread -lm

.PHONY: _demo
# Runs from the top directory: the harness finds build/ and tests/ there.
# PROFILE=FILE: drive a shipped site profile (its topics, units, control
# values and readbacks; the test's broker, files and accelerated timing)
# on the plant, which publishes whatever layout the profile describes.
_demo: _all $(DEMO_BIN)
	@GRIDCAL_ROOT=$(CURDIR) \
	    GRIDCAL_SIM_PROFILE=$(if $(PROFILE),$(abspath $(PROFILE))) \
	    $(DEMO_BIN)

# The README's picture of a run: make demo, then its run.svg / run.png
# (gridcal-audit plot, from the demo's audit log) copied into docs/.
.PHONY: _docs-images
_docs-images: _demo
	@mkdir -p docs
	cp $(B)/demo/run.svg $(B)/demo/run.png docs/

# The shipped site profiles beside the reference one, each driven through
# the demo on the plant publishing its layout (issue 19).
DEMO_PROFILES := profiles/solar-assistant.yaml profiles/one-inverter.yaml
.PHONY: check-demo-profiles
check-demo-profiles: _all $(DEMO_BIN)
	@set -e; for p in $(DEMO_PROFILES); do echo "==> demo PROFILE=$$p"; \
	    GRIDCAL_ROOT=$(CURDIR) GRIDCAL_SIM_PROFILE=$(CURDIR)/$$p \
	    $(DEMO_BIN) | tail -3; done
CHECK_TARGETS += check-demo-profiles
