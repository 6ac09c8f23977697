# gridcal-watchdog, its test supervisor, and the watchdog integration tests.
WATCHDOG_SRCS := $(wildcard watchdog/*.c)
PROGRAMS += $(B)/gridcal-watchdog

$(B)/gridcal-watchdog: $(WATCHDOG_SRCS:%.c=$(B)/obj/%.o) $(SHARED_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The scripted stand-in supervisor the integration and fault tests exec.
$(B)/test-fakesup: $(B)/obj/tests/fakesup/fakesup.o $(SHARED_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
