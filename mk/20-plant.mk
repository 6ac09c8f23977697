# tests/plant: gridcal-plant, the simulated site; tests/harness: broker,
# process, observer and test-profile helpers every integration test links
# (HARNESS_OBJS or, under ASan+UBSan, HARNESS_SAN, plus HARNESS_LIBS);
# tests/integration/test_plant*.c: the plant driven by hand through a real
# broker.
PLANT_SRCS      := tests/plant/main.c tests/plant/model.c \
	tests/plant/publish.c tests/plant/scenario.c tests/plant/truth.c \
	shared/clock.c shared/cred.c shared/log.c shared/parse.c \
	shared/json.c shared/profile.c shared/yamlcfg.c
PLANT_OBJS      := $(call objs,$(PLANT_SRCS))
PLANT_BIN       := $(B)/gridcal-plant

HARNESS_SRCS    := $(wildcard tests/harness/*.c)
HARNESS_OBJS    := $(HARNESS_SRCS:%.c=$(B)/obj/%.o)
HARNESS_SAN     := $(HARNESS_SRCS:%.c=$(B)/san/%.o)
HARNESS_LIBS    := -pthread -lm

PLANT_TEST_SRCS := $(wildcard tests/integration/test_plant*.c)
PLANT_TEST_BIN  := $(B)/tests/plant
PLANT_TEST_SAN  := $(B)/tests/plant-san

PLANT_SAN       := $(B)/san/gridcal-plant

PROGRAMS += $(PLANT_BIN)

$(PLANT_BIN): $(PLANT_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lm

$(PLANT_SAN): $(call sans,$(PLANT_SRCS))
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS) -lm

$(PLANT_TEST_BIN): $(PLANT_TEST_SRCS:%.c=$(B)/obj/%.o) $(HARNESS_OBJS) \
    $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS) $(HARNESS_LIBS)

$(PLANT_TEST_SAN): $(PLANT_TEST_SRCS:%.c=$(B)/san/%.o) $(HARNESS_SAN) \
    $(SHARED_SAN)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS) \
	    $(HARNESS_LIBS)

.PHONY: plant harness check-plant check-plant-san
plant: $(PLANT_BIN)
harness: $(HARNESS_OBJS)

# Runs from the top directory: the harness finds build/ and tests/ there.
check-plant: $(PLANT_TEST_BIN) $(PLANT_BIN)
	GRIDCAL_ROOT=$(CURDIR) $(PLANT_TEST_BIN)

# The same tests, harness and gridcal-plant both under ASan+UBSan (the
# physics, the scenario loader, the fault paths, the observer's threads).
check-plant-san: $(PLANT_TEST_SAN) $(PLANT_SAN)
	GRIDCAL_ROOT=$(CURDIR) GRIDCAL_PLANT=$(CURDIR)/$(PLANT_SAN) \
	    $(PLANT_TEST_SAN)

CHECK_TARGETS += check-plant check-plant-san
