# gridcal-supervisor
SUPERVISOR_SRCS := $(filter-out supervisor/machine.c,$(wildcard supervisor/*.c))
PROGRAMS += $(B)/gridcal-supervisor

$(B)/gridcal-supervisor: $(SUPERVISOR_SRCS:%.c=$(B)/obj/%.o) $(SHARED_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# A bad profile must stop the supervisor with EX_CONFIG before anything else.
.PHONY: check-supervisor-cli
check-supervisor-cli: $(B)/gridcal-supervisor
	@set -e; bin=$(B)/gridcal-supervisor; t=$$(mktemp -d); \
	$$bin --profile profiles/eg4-lp4-v2.yaml check >/dev/null; \
	sed 's/port: 1883/port: 12abc/' profiles/eg4-lp4-v2.yaml > $$t/bad.yaml; \
	rc=0; $$bin --profile $$t/bad.yaml check 2>$$t/err || rc=$$?; \
	[ $$rc -eq 78 ] || { echo "bad profile: exit $$rc, want 78"; exit 1; }; \
	grep -q "bad.yaml:15: broker.port" $$t/err || { cat $$t/err; exit 1; }; \
	rc=0; $$bin --profile /nonexistent check 2>/dev/null || rc=$$?; \
	[ $$rc -eq 78 ] || { echo "missing profile: exit $$rc, want 78"; exit 1; }; \
	rc=0; $$bin --bogus 2>/dev/null || rc=$$?; \
	[ $$rc -eq 64 ] || { echo "bad usage: exit $$rc, want 64"; exit 1; }; \
	rm -rf $$t; echo "supervisor cli: 4 passed, 0 failed"
CHECK_TARGETS += check-supervisor-cli
