# gridcal-audit (audit/): verify, show and report the audit log.
# tests/audit/test_cli.c drives the real binary on logs written by the real
# writer; tests/audit/auditgen.c is `make bench-audit` (not in check).
AUDIT_SRCS     := audit/main.c audit/report.c audit/show.c audit/util.c \
	audit/verify.c audit/rotate.c shared/audit.c shared/durable.c \
	shared/auditfmt.c shared/auditread.c shared/clock.c shared/log.c \
	shared/parse.c shared/profile.c shared/yamlcfg.c
AUDIT_BIN      := $(B)/gridcal-audit
AUDIT_TEST_BIN := $(B)/tests/audit-cli
AUDIT_BENCH    := $(B)/bench/gridcal-auditgen

PROGRAMS += $(AUDIT_BIN)

$(AUDIT_BIN): $(call objs,$(AUDIT_SRCS))
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The same binary under ASan+UBSan: the tests feed it hostile input.
AUDIT_BIN_SAN  := $(B)/san/gridcal-audit
$(AUDIT_BIN_SAN): $(call sans,$(AUDIT_SRCS))
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS)

$(AUDIT_TEST_BIN): $(B)/obj/tests/audit/test_cli.o $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

$(AUDIT_BENCH): $(B)/obj/tests/audit/auditgen.o $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

.PHONY: audit check-audit check-audit-san bench-audit
audit: $(AUDIT_BIN)

check-audit: $(AUDIT_TEST_BIN) $(AUDIT_BIN)
	GRIDCAL_AUDIT=$(CURDIR)/$(AUDIT_BIN) $(AUDIT_TEST_BIN)
check-audit-san: $(AUDIT_TEST_BIN) $(AUDIT_BIN_SAN)
	GRIDCAL_AUDIT=$(CURDIR)/$(AUDIT_BIN_SAN) $(AUDIT_TEST_BIN)

# AUDIT_BENCH_N records without fsync, AUDIT_BENCH_SYNC_N with fsync.
AUDIT_BENCH_N      ?= 1000000
AUDIT_BENCH_SYNC_N ?= 2000
bench-audit: $(AUDIT_BENCH) $(AUDIT_BIN)
	$(AUDIT_BENCH) --audit $(AUDIT_BIN) --records $(AUDIT_BENCH_N) \
	    --sync-records $(AUDIT_BENCH_SYNC_N)

CHECK_TARGETS += check-audit check-audit-san
_bench: bench-audit
