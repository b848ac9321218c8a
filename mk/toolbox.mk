# The rest of Go's concurrency toolbox (issue 15): timers and tickers as channels, contexts,
# RWMutex, Once, Cond, the weighted semaphore and task groups. C tests against include/gr.h
# and libgr.so, each shared by goroutines, thread-bound goroutines and pthreads
# (tests/c/tb_*.c); the examples (examples/c/crawler.c) run in `make demo` through demo-c.
.PHONY: test-c-toolbox
TEST_TARGETS += test-c-toolbox

test-c-toolbox: lib
	@$(ROOT)/tests/c/run.sh toolbox $(sort $(wildcard $(ROOT)/tests/c/tb_*.c))
