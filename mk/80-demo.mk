# make demo: a full simulated grid calibration on a loopback broker.
.PHONY: _demo
_demo: _all
	@echo "demo: not wired up yet (supervisor issue): it will start a loopback"
	@echo "broker, the plant with a drifted pack 6, and run a grid calibration."
