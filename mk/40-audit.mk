# gridcal-audit (audit/): verify, show and report the audit log.
# tests/audit/test_cli.c drives the real binary on logs written by the real
# writer; tests/audit/auditgen.c is `make bench-audit` (not in check).
AUDIT_SRCS     := audit/main.c audit/report.c audit/seal.c audit/show.c \
	audit/util.c audit/verify.c audit/rotate.c \
	audit/plot.c audit/html.c audit/due.c \
	shared/audit.c shared/auditfmt.c shared/auditread.c \
	shared/auditseal.c shared/durable.c shared/sealvk.c \
	shared/clock.c shared/log.c \
	shared/parse.c shared/json.c shared/profile.c shared/yamlcfg.c \
	shared/session.c shared/sessionpf.c shared/cred.c shared/telemetry.c \
	supervisor/snapshot.c supervisor/preflight.c
AUDIT_BIN      := $(B)/gridcal-audit
AUDIT_TEST_BIN := $(B)/tests/audit-cli
AUDIT_BENCH    := $(B)/bench/gridcal-auditgen

PROGRAMS += $(AUDIT_BIN)

# cairo draws the plot (audit/plot.c); only gridcal-audit links it.
CAIRO_CFLAGS := $(shell pkg-config --cflags cairo)
CAIRO_LIBS   := $(shell pkg-config --libs cairo)
AUDIT_CAIRO_SRCS := audit/plot.c audit/html.c audit/report.c
$(call objs,$(AUDIT_CAIRO_SRCS)) $(call sans,$(AUDIT_CAIRO_SRCS)): \
	CFLAGS += $(CAIRO_CFLAGS)
# due: the supervisor's own pre-flight classification, linked, not copied
$(call objs,audit/due.c) $(call sans,audit/due.c): CFLAGS += -Isupervisor

$(AUDIT_BIN): $(call objs,$(AUDIT_SRCS))
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(CAIRO_LIBS)

# The same binary under ASan+UBSan: the tests feed it hostile input.
AUDIT_BIN_SAN  := $(B)/san/gridcal-audit
$(AUDIT_BIN_SAN): $(call sans,$(AUDIT_SRCS))
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS) $(CAIRO_LIBS)

$(AUDIT_TEST_BIN): $(B)/obj/tests/audit/test_cli.o $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

$(AUDIT_BENCH): $(B)/obj/tests/audit/auditgen.o $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The plot's test reads the SVG with expat and the PNG with cairo. Under
# ASan, fontconfig's caches (cairo's text) are a known third-party leak:
# tests/audit/lsan.supp names that library only.
AUDIT_PLOT_TEST := $(B)/tests/audit-plot
AUDIT_TEST_OBJS := $(B)/obj/tests/audit/clirun.o
$(B)/obj/tests/audit/test_plot.o: CFLAGS += $(CAIRO_CFLAGS)
$(AUDIT_PLOT_TEST): $(B)/obj/tests/audit/test_plot.o $(AUDIT_TEST_OBJS) \
    $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS) -lexpat $(CAIRO_LIBS)

AUDIT_DUE_TEST := $(B)/tests/audit-due
$(AUDIT_DUE_TEST): $(B)/obj/tests/audit/test_due.o $(AUDIT_TEST_OBJS) \
    $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

.PHONY: audit check-audit check-audit-san bench-audit
audit: $(AUDIT_BIN)

check-audit: $(AUDIT_TEST_BIN) $(AUDIT_PLOT_TEST) $(AUDIT_DUE_TEST) \
    $(AUDIT_BIN)
	GRIDCAL_AUDIT=$(CURDIR)/$(AUDIT_BIN) $(AUDIT_TEST_BIN)
	GRIDCAL_AUDIT=$(CURDIR)/$(AUDIT_BIN) $(AUDIT_PLOT_TEST)
	GRIDCAL_AUDIT=$(CURDIR)/$(AUDIT_BIN) $(AUDIT_DUE_TEST)
check-audit-san: $(AUDIT_TEST_BIN) $(AUDIT_PLOT_TEST) $(AUDIT_DUE_TEST) \
    $(AUDIT_BIN_SAN)
	GRIDCAL_AUDIT=$(CURDIR)/$(AUDIT_BIN_SAN) $(AUDIT_TEST_BIN)
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/audit/lsan.supp \
	    GRIDCAL_AUDIT=$(CURDIR)/$(AUDIT_BIN_SAN) $(AUDIT_PLOT_TEST)
	GRIDCAL_AUDIT=$(CURDIR)/$(AUDIT_BIN_SAN) $(AUDIT_DUE_TEST)

# AUDIT_BENCH_N records without fsync, AUDIT_BENCH_SYNC_N with fsync.
AUDIT_BENCH_N      ?= 1000000
AUDIT_BENCH_SYNC_N ?= 2000
bench-audit: $(AUDIT_BENCH) $(AUDIT_BIN)
	$(AUDIT_BENCH) --audit $(AUDIT_BIN) --records $(AUDIT_BENCH_N) \
	    --sync-records $(AUDIT_BENCH_SYNC_N)

CHECK_TARGETS += check-audit check-audit-san
_bench: bench-audit
