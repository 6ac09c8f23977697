# make tcb: the first-party code lines linked into each program, read from
# the binary's DWARF compile units (tools/tcb.sh), not from a file list.
# Fails if the privileged gridcal-watchdog exceeds TCB_BUDGET: every line
# in it earns its place (SAFETY.md, DEVELOPERS.md "Trusted computing base").
TCB_BUDGET ?= 3000
TCB_BINS   := $(filter-out $(B)/gen/%,$(PROGRAMS))

.PHONY: tcb
tcb: $(TCB_BINS)
	tools/tcb.sh $(if $(V),-v) -b $(TCB_BUDGET) $(WATCHDOG_BIN) \
	    $(filter-out $(WATCHDOG_BIN),$(TCB_BINS))
