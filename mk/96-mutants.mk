# tests/mutants: mutation testing of the safety logic (issue 20).
# `make mutants` applies each mutation of tests/mutants/mutants.txt in a
# scratch copy of the tree (build/mutants/tree), runs the tests the list
# names for it, and reports killed / survived / equivalent / stale
# (build/mutants/report.txt). MUTANTS="id ..." runs only those;
# `make mutants-stale` only checks that every mutation still applies.
MUTANTS ?=
.PHONY: _mutants mutants-stale
_mutants:
	tests/mutants/mutants.sh $(MUTANTS)
mutants-stale:
	tests/mutants/mutants.sh -n

# Every mutation must still apply (a find text that no longer matches
# would leave a safety rule untested without a word): 2 s, in make check.
CHECK_TARGETS += mutants-stale
