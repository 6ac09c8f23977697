# Aggregate targets; included last so every fragment has appended already.
.PHONY: _all _check _demo _bench _bench-peer _model _faults
_all: $(PROGRAMS)

# Each check target runs in order; the first failure stops `make check`.
_check: _all
	@set -e; for t in $(CHECK_TARGETS); do \
	    echo "==> $$t"; $(MAKE) --no-print-directory GRIDCAL_INNER=1 $$t; done
	@echo "==> make check: all passed"
