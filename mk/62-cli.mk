# The command-line convention of every program, the shared exit-status
# table and the offline profile check: tests/cli/cli.sh on the real
# binaries, no broker.
.PHONY: check-cli
check-cli: $(PROGRAMS)
	tests/cli/cli.sh $(B)
CHECK_TARGETS += check-cli
