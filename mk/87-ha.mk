# Home Assistant (issue 16): gridcal-setup --ha-discovery (setup/discovery.c)
# and gridcal-audit due --publish, on the real test broker
# (tests/ha/test_discovery.c); a grid run authorised from HA's button
# (gridcal-watchdog --authorise ha, the real plant and the scripted
# supervisor: tests/ha/test_authorise.c, SAFETY.md H10.7).
HA_TEST_BIN := $(B)/tests/ha
HA_HARNESS  := $(or $(HARNESS_OBJS),$(patsubst %.c,$(B)/obj/%.o,\
	$(wildcard tests/harness/*.c)))

$(HA_TEST_BIN): $(B)/obj/tests/ha/test_discovery.o \
    $(B)/obj/tests/ha/test_authorise.o $(HA_HARNESS) \
    $(SHARED_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS) -pthread

# SAFETY.md H9.7: the timer's unit starts gridcal@solar only, never a grid
# run, never with --confirm, and systemd accepts it as installed.
.PHONY: check-ha check-ha-units
check-ha: $(HA_TEST_BIN) $(PROGRAMS) check-ha-units # after 85-install
	GRIDCAL_ROOT=$(CURDIR) $(HA_TEST_BIN)
check-ha-units:
	@set -e; u=systemd/gridcal-due.service; \
	ex=$$(grep -E '^Exec[A-Za-z]*=' $$u); \
	echo "$$ex" | grep -q '^ExecStart=/bin/systemctl start --no-block gridcal@solar.service$$' || \
	    { echo "check-ha-units: $$u must start gridcal@solar only"; exit 1; }; \
	if echo "$$ex" | grep -q -e 'grid\.service' -e '--confirm' -e 'method grid'; then \
	    echo "check-ha-units: $$u names a grid run"; exit 1; fi; \
	echo "$$ex" | grep -q '^ExecCondition=.*gridcal-audit .* due ' || \
	    { echo "check-ha-units: $$u: no due condition"; exit 1; }; \
	if command -v systemd-analyze >/dev/null; then d=$$(mktemp -d); \
	    sed 's|@BINDIR@|$(CURDIR)/$(B)|g' $$u > $$d/gridcal-due.service; \
	    cp systemd/gridcal-due.timer $$d/; \
	    out=$$(cd $$d && systemd-analyze verify --man=no \
	        ./gridcal-due.service ./gridcal-due.timer 2>&1) || true; \
	    rm -rf $$d; if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; fi; \
	echo "check-ha-units: gridcal-due starts gridcal@solar only, when due"

CHECK_TARGETS += check-ha
