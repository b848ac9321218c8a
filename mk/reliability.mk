# Reliability (issue 11): fault tests, the fuzzer, the soak, and sanitizer builds of the C
# tests. Included by the top-level Makefile.
#   make fuzz [SECONDS=10] [SEEDS=4]   random operations over the C API; SEEDS: a count (new
#                                      seeds each time: SEED_BASE=N to choose) or a list "7 9"
#   make soak [MINUTES=5] [MODE=churn|cycle]   the fuzzer's operations as a churn of every
#                                      primitive (or init/shutdown cycles, each a short round),
#                                      resources sampled and judged flat after warm-up
#   test-c-fault, test-fuzz, test-c-san run in `make test`; tests/xfail.txt lists the fault
#   tests of defects not fixed yet (reported "xfail"; one that passes fails the suite).
.PHONY: fuzz fuzz-build soak test-fuzz test-c-fault test-c-san
TEST_TARGETS += test-c-fault test-fuzz test-c-san

FUZZ_BIN := $(BUILD)/tests/fuzz/gr_fuzz
FUZZ_SAN_BIN := $(BUILD)/tests/fuzz/gr_fuzz_san
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
SECONDS ?= 10
SEEDS ?= 4
MINUTES ?= 5
MODE ?= churn

fuzz-build: lib
	@mkdir -p $(BUILD)/tests/fuzz
	@$(CC) $(CFLAGS_GR) -I$(ROOT)/tests/c -o $(FUZZ_BIN) tests/fuzz/gr_fuzz.c $(LDFLAGS_GR) -lm

fuzz: fuzz-build
	@$(ROOT)/tests/fuzz/run.sh $(FUZZ_BIN) "$(SECONDS)" "$(SEEDS)"

# A short fixed budget over fixed seeds (each seed also picks 1-4 workers and 3-10 actors).
test-fuzz: fuzz-build
	@$(ROOT)/tests/fuzz/run.sh $(FUZZ_BIN) 2 "1 2 3 4 5"

test-c-fault: lib
	@$(ROOT)/tests/c/run.sh fault $(sort $(wildcard $(ROOT)/tests/c/fault_*.c))

# Every C test program and the fuzzer again with AddressSanitizer and UBSan (tests/san-skip.txt
# lists the programs that cannot run so, with the reason), and tests/san/asan_*.c: ASan's own
# reports for bugs on a goroutine's stack (issue 17; the ThreadSanitizer side is
# mk/sanitizers.mk).
test-c-san: lib
	@GR_SANITIZE=1 $(ROOT)/tests/c/run.sh sanitizers $(sort $(wildcard $(ROOT)/tests/c/*.c)) $(sort $(wildcard $(ROOT)/tests/san/asan_*.c))
	@mkdir -p $(BUILD)/tests/fuzz
	@$(CC) $(CFLAGS_GR) -O1 $(SAN_FLAGS) -I$(ROOT)/tests/c -o $(FUZZ_SAN_BIN) tests/fuzz/gr_fuzz.c $(LDFLAGS_GR) -lm
	@ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(ROOT)/tests/fuzz/run.sh $(FUZZ_SAN_BIN) 2 "11 12"

soak: fuzz-build
	@$(FUZZ_BIN) $(if $(filter cycle,$(MODE)),--cycle-minutes,--soak) $(MINUTES) $(if $(SEED),--seed $(SEED))
