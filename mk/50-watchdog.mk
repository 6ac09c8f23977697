# gridcal-watchdog, its test supervisor, and the watchdog integration tests.
WATCHDOG_SRCS := $(wildcard watchdog/*.c)
PROGRAMS += $(B)/gridcal-watchdog

$(B)/gridcal-watchdog: $(WATCHDOG_SRCS:%.c=$(B)/obj/%.o) $(SHARED_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
