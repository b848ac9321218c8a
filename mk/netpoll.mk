# The netpoller (issue 12): C tests of gr_fd_* against include/gr.h and libgr.so. The C
# examples (examples/c/echo_server.c, examples/c/pipe_child.c) run in `make demo` through
# core.mk's demo-c, which builds every examples/c/*.c.
.PHONY: test-c-net
TEST_TARGETS += test-c-net

test-c-net: lib
	@$(ROOT)/tests/c/run.sh net $(sort $(wildcard $(ROOT)/tests/c/net_*.c))
