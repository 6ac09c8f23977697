# make bench / make bench-peer: latency, deadlines, cost (tests/bench).
# Not part of `make check`: nothing timed is ever asserted in a test.
BENCH_DIR := $(B)/bench
BENCH_TM  := $(BENCH_DIR)/gridcal-bench-tm

$(BENCH_TM): $(B)/obj/tests/bench/tmbench.o $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

.PHONY: bench-tm
bench-tm: $(BENCH_TM)
	$(BENCH_TM) --profile profiles/eg4-lp4-v2.yaml --mode floor
	$(BENCH_TM) --profile profiles/eg4-lp4-v2.yaml --mode ingest

BENCH_AUDIT := $(BENCH_DIR)/gridcal-bench-audit
$(BENCH_AUDIT): $(B)/obj/tests/bench/auditbench.o $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

BENCH_FLOOR := $(BENCH_DIR)/gridcal-bench-floor
$(BENCH_FLOOR): $(B)/obj/tests/bench/floor.o $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

BENCH_FLOOD := $(BENCH_DIR)/gridcal-bench-flood
$(BENCH_FLOOD): $(B)/obj/tests/bench/flood.o $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
