# Channels, select and sync (issue 3): C tests against include/gr.h and libgr.so. The C
# examples (examples/c/{workers,pipeline,select_timeout,sieve}.c) run in `make demo` through
# core.mk's demo-c, which builds every examples/c/*.c.
.PHONY: test-c-chan
TEST_TARGETS += test-c-chan

test-c-chan: lib
	@$(ROOT)/tests/c/run.sh chan $(sort $(wildcard $(ROOT)/tests/c/chan_*.c) $(wildcard $(ROOT)/tests/c/sync_*.c))
