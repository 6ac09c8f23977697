# Shared build rules. Two object trees: build/obj (plain) and build/san
# (AddressSanitizer + UndefinedBehaviorSanitizer) from the same sources.
B       := build
CC      ?= cc
PKGS    := libmosquitto libcyaml libbsd-overlay libmd libsodium libseccomp
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
CHECK_CFLAGS := $(shell pkg-config --cflags check)
CHECK_LIBS   := $(shell pkg-config --libs check)
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wformat=2 -Wvla
# CFLAGS, CPPFLAGS and LDFLAGS from the environment or the command line
# (dpkg-buildflags) come after ours, so they win; the Debian hardening set
# is there either way (make check-hardening reads it back with readelf).
# Captured once: sub-makes get the originals, not our expansion.
GRIDCAL_ENV_CFLAGS   ?= $(CFLAGS)
GRIDCAL_ENV_CPPFLAGS ?= $(CPPFLAGS)
GRIDCAL_ENV_LDFLAGS  ?= $(LDFLAGS)
export GRIDCAL_ENV_CFLAGS GRIDCAL_ENV_CPPFLAGS GRIDCAL_ENV_LDFLAGS
HARDEN_CFLAGS  := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
HARDEN_LDFLAGS := -pie -Wl,-z,relro -Wl,-z,now
override CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) -I. -Ishared \
	   -I$(B)/gen $(PKG_CFLAGS) $(CHECK_CFLAGS) $(HARDEN_CFLAGS) \
	   $(GRIDCAL_ENV_CPPFLAGS) $(GRIDCAL_ENV_CFLAGS)
override LDFLAGS := $(HARDEN_LDFLAGS) $(GRIDCAL_ENV_LDFLAGS)
# ASan wants its own interceptors, not glibc's fortified ones.
SANFLAGS := -O1 -U_FORTIFY_SOURCE -fno-omit-frame-pointer \
	    -fsanitize=address,undefined -fno-sanitize-recover=all
# Link lines are "$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)": LDFLAGS ride here.
LDLIBS  := $(LDFLAGS) $(PKG_LIBS) -lm

export ASAN_OPTIONS := detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS := print_stacktrace=1:halt_on_error=1

PROGRAMS      :=
CHECK_TARGETS :=

# Every program is linked from an explicit source list (its SRCS, as in a
# BSD makefile): what a binary contains is written down in its fragment,
# and `make tcb` counts it from the binary. Tests and bench tools may link
# the static archive of all shared code instead: SHARED_OBJS / SHARED_SAN
# name the archives; list them after a test's own objects and before
# $(LDLIBS).
SHARED_SRCS := $(filter-out %_test.c,$(wildcard shared/*.c))
SHARED_OBJS := $(B)/libgridcal.a
SHARED_SAN  := $(B)/libgridcal-san.a

$(SHARED_OBJS): $(SHARED_SRCS:%.c=$(B)/obj/%.o)
	@rm -f $@
	ar rcs $@ $^

$(SHARED_SAN): $(SHARED_SRCS:%.c=$(B)/san/%.o)
	@rm -f $@
	ar rcs $@ $^

# $(call objs,SRCS) / $(call sans,SRCS): the plain and the ASan objects.
objs = $(patsubst %.c,$(B)/obj/%.o,$(1))
sans = $(patsubst %.c,$(B)/san/%.o,$(1))

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/san/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANFLAGS) -MMD -MP -c $< -o $@

-include $(shell find $(B) -name '*.d' 2>/dev/null)

