# shared/: library code used by every program; unit tests in tests/unit.
UNIT_TEST_SRCS := tests/unit/main.c $(wildcard tests/unit/test_*.c)
UNIT_BIN       := $(B)/tests/unit
UNIT_BIN_SAN   := $(B)/tests/unit-san

$(UNIT_BIN): $(UNIT_TEST_SRCS:%.c=$(B)/obj/%.o) $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

$(UNIT_BIN_SAN): $(UNIT_TEST_SRCS:%.c=$(B)/san/%.o) $(SHARED_SAN)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

.PHONY: check-unit check-unit-san
check-unit: $(UNIT_BIN)
	cd tests/unit && ../../$(UNIT_BIN)
check-unit-san: $(UNIT_BIN_SAN)
	cd tests/unit && CK_FORK=yes ../../$(UNIT_BIN_SAN)

CHECK_TARGETS += check-unit check-unit-san
