# make bench / make bench-peer: reaction latency, deadlines under a flood,
# cost, audit throughput (tests/bench; figures in README "Performance").
# Not part of `make check`: nothing timed is ever asserted in a test.
#
#   make bench        floor and gridcal side by side; the peer row says
#                     "not run"
#   make bench-peer   the same plus the Node-RED peer; installs node-red@4
#                     with npm into build/nodered first (Node.js 20 here;
#                     Node-RED 5 needs Node 22). node_modules stays under
#                     build/, never committed.
#   BENCH_ARGS=--quick  10 gridcal runs instead of 100, for a smoke run
BENCH_DIR   := $(B)/bench
BENCH_BIN   := $(BENCH_DIR)/gridcal-bench
BENCH_TM    := $(BENCH_DIR)/gridcal-bench-tm
BENCH_AUDIT := $(BENCH_DIR)/gridcal-bench-audit
BENCH_FLOOR := $(BENCH_DIR)/gridcal-bench-floor
BENCH_FLOOD := $(BENCH_DIR)/gridcal-bench-flood
BENCH_SHIM  := $(BENCH_DIR)/libgridcal-hbshim.so
BENCH_TOOLS := $(BENCH_BIN) $(BENCH_TM) $(BENCH_AUDIT) $(BENCH_FLOOR) \
	       $(BENCH_FLOOD) $(BENCH_SHIM)
BENCH_DRIVER_SRCS := tests/bench/bench.c tests/bench/probe.c \
	tests/bench/util.c tests/bench/report.c tests/bench/peer.c \
	tests/bench/hops.c
NODERED_DIR := $(B)/nodered
NODERED     := $(NODERED_DIR)/node_modules/node-red/red.js
BENCH_ARGS  ?=

$(BENCH_DRIVER_SRCS:%.c=$(B)/obj/%.o): CFLAGS += -Itests/harness

$(BENCH_BIN): $(BENCH_DRIVER_SRCS:%.c=$(B)/obj/%.o) $(HARNESS_OBJS) \
    $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(HARNESS_LIBS)

$(BENCH_TM): $(B)/obj/tests/bench/tmbench.o $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BENCH_AUDIT): $(B)/obj/tests/bench/auditbench.o $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BENCH_FLOOR): $(B)/obj/tests/bench/floor.o $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BENCH_FLOOD): $(B)/obj/tests/bench/flood.o $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# Preloaded into gridcal-watchdog and its supervisor: time stamps of the
# heartbeats, the fsyncs and the hops of each trip (tests/bench/hbshim.c);
# position-independent, its own rule.
$(BENCH_SHIM): tests/bench/hbshim.c shared/proto.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fPIC -shared -o $@ tests/bench/hbshim.c -ldl

$(NODERED):
	@command -v npm >/dev/null || { echo "bench-peer: npm not found" >&2; exit 1; }
	@mkdir -p $(NODERED_DIR)
	@[ -f $(NODERED_DIR)/package.json ] || \
	    echo '{"name":"gridcal-bench-peer","private":true}' > $(NODERED_DIR)/package.json
	cd $(NODERED_DIR) && npm install --no-audit --no-fund --loglevel=error node-red@4

.PHONY: _bench _bench-peer bench-tools
bench-tools: $(BENCH_TOOLS)

# The table goes to stdout and to build/bench.txt; `make bench-readme`
# puts build/bench.txt into README's Performance section.
_bench: _all $(BENCH_TOOLS)
	GRIDCAL_ROOT=$(CURDIR) $(BENCH_BIN) --json $(B)/bench.json $(BENCH_ARGS) \
	    > $(B)/bench.txt.tmp; rc=$$?; cat $(B)/bench.txt.tmp; \
	    mv $(B)/bench.txt.tmp $(B)/bench.txt; exit $$rc

_bench-peer: _all $(BENCH_TOOLS) $(NODERED)
	GRIDCAL_ROOT=$(CURDIR) $(BENCH_BIN) --peer --json $(B)/bench.json $(BENCH_ARGS) \
	    > $(B)/bench.txt.tmp; rc=$$?; cat $(B)/bench.txt.tmp; \
	    mv $(B)/bench.txt.tmp $(B)/bench.txt; exit $$rc

.PHONY: _bench-readme
_bench-readme:
	tools/bench-readme.sh $(B)/bench.txt README.md

# make check builds the bench (not runs it): an API change that breaks it
# shows at once, not at the next measurement.
CHECK_TARGETS += bench-tools

# What the bench says of a slow abort (tests/bench/hops.c), checked on
# hand-made shim files: no timing, milliseconds to run.
BENCH_HOPS_TEST := $(BENCH_DIR)/test-hops
$(BENCH_HOPS_TEST): $(B)/obj/tests/bench/test_hops.o $(B)/obj/tests/bench/hops.o \
    $(B)/obj/tests/bench/util.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ -lm

.PHONY: check-bench-hops
check-bench-hops: $(BENCH_HOPS_TEST)
	$(BENCH_HOPS_TEST)
CHECK_TARGETS += check-bench-hops
