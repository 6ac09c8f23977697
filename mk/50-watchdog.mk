# gridcal-watchdog, its test supervisor, and the watchdog integration tests.
WATCHDOG_SRCS := $(wildcard watchdog/*.c)
PROGRAMS += $(B)/gridcal-watchdog $(B)/test-fakesup

$(B)/gridcal-watchdog: $(WATCHDOG_SRCS:%.c=$(B)/obj/%.o) $(SHARED_OBJS)
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
$(B)/test-fakesup: $(B)/obj/tests/fakesup/fakesup.o $(SHARED_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# Integration tests: real broker, real plant, real processes and signals.
WATCHDOG_TEST_SRCS := $(wildcard tests/integration/test_watchdog*.c)
WATCHDOG_TEST_BIN  := $(B)/tests/watchdog

$(WATCHDOG_TEST_BIN): $(WATCHDOG_TEST_SRCS:%.c=$(B)/obj/%.o) $(HARNESS_OBJS) \
    $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS) $(HARNESS_LIBS)

.PHONY: check-watchdog
check-watchdog: $(WATCHDOG_TEST_BIN) $(B)/gridcal-watchdog $(B)/test-fakesup \
    $(PLANT_BIN) $(B)/gridcal-audit
	GRIDCAL_ROOT=$(CURDIR) $(WATCHDOG_TEST_BIN)

CHECK_TARGETS += check-watchdog
