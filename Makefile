# gr: top-level build. `make demo` builds everything and runs the examples; `make test` runs
# every suite. Components add themselves through fragments (mk/*.mk, bench/bench.mk,
# bindings/*/*.mk), each appending to DEMO_TARGETS / TEST_TARGETS / BENCH_TARGETS.
SHELL := /bin/bash
.DEFAULT_GOAL := all
ROOT := $(abspath .)
BUILD := $(ROOT)/build
LIBDIR := $(BUILD)/lib
PREFIX ?= /usr/local
CARGO ?= cargo
CC ?= gcc
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
export GR_ROOT := $(ROOT)

DEMO_TARGETS :=
TEST_TARGETS :=
BENCH_TARGETS :=

include mk/deps.mk
include mk/version.mk
include mk/core.mk
include mk/install.mk
include mk/venv.mk
-include mk/chan.mk
-include mk/reliability.mk
-include mk/netpoll.mk
-include mk/toolbox.mk
-include mk/sanitizers.mk
-include bench/bench.mk
-include bindings/python/python.mk
-include bindings/java/java.mk
TEST_TARGETS += check-version

.PHONY: all demo test bench clean
all: lib

demo: deps lib
	@for t in $(DEMO_TARGETS); do $(MAKE) --no-print-directory $$t || exit 1; done

# Each suite's output is kept in build/test-logs; a failed suite's last lines are printed
# again at the end, where a CI summary that shows only the end of the log still has them.
test: deps lib
	@mkdir -p $(BUILD)/test-logs; failed=""; for t in $(TEST_TARGETS); do \
	  echo "==> $$t"; \
	  { $(MAKE) --no-print-directory $$t 2>&1; echo $$? > $(BUILD)/test-logs/$$t.rc; } | tee $(BUILD)/test-logs/$$t.log; \
	  [ "$$(cat $(BUILD)/test-logs/$$t.rc)" = 0 ] || failed="$$failed $$t"; done; \
	if [ -n "$$failed" ]; then for t in $$failed; do \
	  echo "==> the end of $$t's output (all of it: $(BUILD)/test-logs/$$t.log)"; \
	  grep -v '^[[:space:]]*at \|^[[:space:]]*[0-9]*: ' $(BUILD)/test-logs/$$t.log | tail -n 40; done; \
	  echo "FAILED:$$failed"; exit 1; fi; echo "all suites passed"

bench: deps lib
	@for t in $(BENCH_TARGETS); do $(MAKE) --no-print-directory $$t || exit 1; done

clean:
	rm -rf $(BUILD) target
