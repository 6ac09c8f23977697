# tests/fuzz: libFuzzer harnesses (clang, -fsanitize=fuzzer,address,
# undefined) for the trust boundaries: telemetry ingest, the profile
# loader, the audit reader/verifier and the watchdog's request handling.
# Objects are built with clang into build/fuzz from the same sources; the
# watchdog harness replaces session, clock, child and mark by link-time
# substitution (tests/fuzz/stub_*.c), never by editing watchdog code.
# clang warns about vsnprintf(fmt) in a va_list wrapper where gcc does not:
# -Wno-format-nonliteral for this tree only.
#
#   make check        check-fuzz: each harness over its committed corpus
#                     plus fresh inputs, bounded (FUZZ_CHECK_RUNS runs,
#                     FUZZ_CHECK_S seconds per harness at most)
#   make fuzz FUZZ_S=N  each harness N seconds (default 60), then merges
#                     the inputs that add coverage into tests/fuzz/corpus/;
#                     FUZZ_RUNS=N stops each at N executions first,
#                     FUZZ_NAMES="profile" runs only those harnesses
FUZZ_CC      := clang
FUZZ_NAMES   := telemetry profile audit watchdog
FUZZ_DIR     := $(B)/fuzz
FUZZ_SANFL   := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
FUZZ_CFLAGS  := $(filter-out -O2 -g,$(CFLAGS)) $(FUZZ_SANFL) \
	-fsanitize=fuzzer-no-link -Itests/fuzz -Iwatchdog -Wno-format-nonliteral
FUZZ_LIB     := $(FUZZ_DIR)/libgridcal-fuzz.a
FUZZ_COMMON  := $(FUZZ_DIR)/obj/tests/fuzz/common.o
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz-%)
FUZZ_CHECK_RUNS ?= 20000
FUZZ_CHECK_S    ?= 12
FUZZ_S       ?= 60
FUZZ_RUNS    ?=
FUZZ_NICE    ?= nice -n 19

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_LIB): $(SHARED_SRCS:%.c=$(FUZZ_DIR)/obj/%.o)
	@rm -f $@
	ar rcs $@ $^

FUZZ_LINK = $(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# fuzz-telemetry: its oracles query every topic of the store after every
# message, and the comparison hooks of that sweep (in the harness and in
# the queries) were 60 % of an execution: the harness is built without
# comparison hooks (its compares are oracles, not input to guide), and it
# links its own telemetry.o whose read-only queries are left out of the
# coverage instrumentation (tests/fuzz/telemetry-queries.ignore); the
# ingest path keeps all of it, ASan/UBSan everything.
FUZZ_TM_OBJ := $(FUZZ_DIR)/obj-tm/shared/telemetry.o
$(FUZZ_TM_OBJ): shared/telemetry.c tests/fuzz/telemetry-queries.ignore \
    mk/95-fuzz.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) \
	    -fsanitize-coverage-ignorelist=tests/fuzz/telemetry-queries.ignore \
	    -MMD -MP -c $< -o $@
$(FUZZ_DIR)/obj/tests/fuzz/fuzz_telemetry.o: FUZZ_CFLAGS += \
	-fno-sanitize-coverage=trace-cmp
$(FUZZ_DIR)/obj/tests/fuzz/fuzz_telemetry.o: mk/95-fuzz.mk
$(FUZZ_DIR)/fuzz-telemetry: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_telemetry.o \
    $(FUZZ_TM_OBJ) $(FUZZ_COMMON) $(FUZZ_LIB)
	$(FUZZ_LINK)
$(FUZZ_DIR)/fuzz-profile: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_profile.o \
    $(FUZZ_COMMON) $(FUZZ_LIB)
	$(FUZZ_LINK)
$(FUZZ_DIR)/fuzz-audit: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_audit.o \
    $(FUZZ_COMMON) $(FUZZ_LIB)
	$(FUZZ_LINK)

# The watchdog's own objects but child.c (stubbed), and
# watchdog.c with its main() renamed so libFuzzer's can run.
FUZZ_WD_SRCS  := $(filter-out watchdog/child.c watchdog/sandbox.c,\
	$(filter watchdog/%.c,$(WATCHDOG_SRCS)))
FUZZ_WD_OBJS  := $(FUZZ_WD_SRCS:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_WD_STUBS := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,\
	$(wildcard tests/fuzz/stub_*.c))
$(FUZZ_DIR)/obj/watchdog/watchdog.o: FUZZ_CFLAGS += -Dmain=gridcal_watchdog_main \
	-Wno-missing-prototypes
$(FUZZ_DIR)/obj/watchdog/watchdog.o: $(B)/gen/watchdog_usage.h
# the profile is parsed once, not per run: tests/fuzz/stub_conf.c (an
# object built before the rename must be built again)
$(FUZZ_DIR)/obj/watchdog/conf.o: FUZZ_CFLAGS += \
	-Dconf_load_or_die=conf_load_or_die_real
$(FUZZ_DIR)/obj/watchdog/conf.o: mk/95-fuzz.mk
# intake.c's topic look-up is a linear strcmp() scan for each of the
# plant's reports; libFuzzer's hook on each call (it records the strings
# as mutation hints, here the harness's plant model, never input bytes)
# was a third of an execution: tests/fuzz/stub_string.c, same results,
# same ASan checks
$(FUZZ_DIR)/obj/watchdog/intake.o: FUZZ_CFLAGS += -Dstrcmp=wdf_strcmp \
	-Dstrcasecmp=wdf_strcasecmp -fno-sanitize-coverage=trace-cmp
$(FUZZ_DIR)/obj/watchdog/intake.o: mk/95-fuzz.mk
# (no coverage instrumentation: its compares would be hooked instead)
$(FUZZ_DIR)/obj/tests/fuzz/stub_string.o: FUZZ_CFLAGS += \
	-fno-sanitize-coverage=trace-cmp,inline-8bit-counters,pc-table
$(FUZZ_DIR)/obj/tests/fuzz/stub_string.o: mk/95-fuzz.mk
# For the same reason no comparison hooks in intake.c (it parses only the
# plant model's reports), the harness and its stubs (their compares are
# the model's and the oracles'): edge coverage stays, and the hooks stay
# wherever input bytes are compared (shared/proto.c, the rest of watchdog/)
$(FUZZ_DIR)/obj/tests/fuzz/fuzz_watchdog.o $(FUZZ_WD_STUBS): FUZZ_CFLAGS += \
	-fno-sanitize-coverage=trace-cmp
$(FUZZ_DIR)/obj/tests/fuzz/fuzz_watchdog.o $(FUZZ_WD_STUBS): mk/95-fuzz.mk
# every generated header the watchdog's objects include (mk/50-watchdog.mk)
$(FUZZ_WD_OBJS): | $(WD_GEN_HDR)
$(FUZZ_DIR)/fuzz-watchdog: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_watchdog.o \
    $(FUZZ_WD_OBJS) $(FUZZ_WD_STUBS) $(FUZZ_LIB)
	$(FUZZ_LINK)

.PHONY: fuzz-bin check-fuzz _fuzz
fuzz-bin: $(FUZZ_BINS)

# Scratch corpus first (libFuzzer writes new inputs there), the committed
# seeds second (read only).
check-fuzz: $(FUZZ_BINS)
	@set -e; for n in $(FUZZ_NAMES); do \
	    w=$(FUZZ_DIR)/work/$$n; rm -rf $$w; mkdir -p $$w; \
	    echo "fuzz-$$n: $(FUZZ_CHECK_RUNS) runs, at most $(FUZZ_CHECK_S) s"; \
	    $(FUZZ_NICE) $(FUZZ_DIR)/fuzz-$$n -runs=$(FUZZ_CHECK_RUNS) \
	        -max_total_time=$(FUZZ_CHECK_S) -dict=tests/fuzz/$$n.dict \
	        -artifact_prefix=$(FUZZ_DIR)/$$n- -print_final_stats=1 \
	        $$w tests/fuzz/corpus/$$n > $(FUZZ_DIR)/$$n.log 2>&1 || \
	        { tail -40 $(FUZZ_DIR)/$$n.log; exit 1; }; \
	    grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' \
	        $(FUZZ_DIR)/$$n.log | tail -2; \
	done

_fuzz: $(FUZZ_BINS)
	@set -e; for n in $(FUZZ_NAMES); do \
	    w=$(FUZZ_DIR)/long/$$n; mkdir -p $$w tests/fuzz/corpus/$$n; \
	    echo "fuzz-$$n: $(FUZZ_S) s"; \
	    $(FUZZ_NICE) $(FUZZ_DIR)/fuzz-$$n -max_total_time=$(FUZZ_S) \
	        $(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS)) -dict=tests/fuzz/$$n.dict -artifact_prefix=$(FUZZ_DIR)/$$n- \
	        -print_final_stats=1 $$w tests/fuzz/corpus/$$n \
	        > $(FUZZ_DIR)/$$n-long.log 2>&1 || \
	        { tail -40 $(FUZZ_DIR)/$$n-long.log; exit 1; }; \
	    grep -E '^stat::number_of_executed_units' $(FUZZ_DIR)/$$n-long.log; \
	    grep -E '^#[0-9]+' $(FUZZ_DIR)/$$n-long.log | tail -1; \
	    $(FUZZ_DIR)/fuzz-$$n -merge=1 tests/fuzz/corpus/$$n $$w \
	        > $(FUZZ_DIR)/$$n-merge.log 2>&1 || \
	        { tail -20 $(FUZZ_DIR)/$$n-merge.log; exit 1; }; \
	    grep -E 'MERGE-OUTER: [0-9]+ new files' $(FUZZ_DIR)/$$n-merge.log; \
	done

CHECK_TARGETS += check-fuzz
