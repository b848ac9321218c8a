# The host program under ThreadSanitizer (issue 17): gr tells TSan about goroutine switches
# and hand-offs (core/src/sys/sanitizer.rs). Included by the top-level Makefile; the
# AddressSanitizer side runs in test-c-san (mk/reliability.mk).
#   test-c-tsan   the README's C quick start (also linked with libgr.a) and
#                 examples/c/workers.c built with TSan run without a report;
#                 tests/san/tsan_*.c (every hand-off's edges; real races still reported);
#                 the C tests TSan can run (tests/tsan-skip.txt says which cannot, and
#                 why); the fuzzer over two seeds.
.PHONY: test-c-tsan
TEST_TARGETS += test-c-tsan

TSAN_DIR := $(BUILD)/tests/san
FUZZ_TSAN_BIN := $(BUILD)/tests/fuzz/gr_fuzz_tsan

test-c-tsan: lib
	@lib=$$($(CC) -print-file-name=libtsan.so); \
	  nm -D "$$lib" 2>/dev/null | grep -q ' T __tsan_create_fiber$$' || { \
	  echo "test-c-tsan: $(CC)'s ThreadSanitizer runtime ($$lib) has no fiber API (__tsan_create_fiber): gcc >= 12 or clang >= 10 is needed"; exit 1; }
	@mkdir -p $(TSAN_DIR) $(BUILD)/tests/fuzz
	@awk '/^## C quick start/ { f = 1 } f && /^```c/ { c = 1; next } c && /^```/ { exit } c' README.md > $(TSAN_DIR)/readme_quickstart.c
	@grep -q gr_spawn $(TSAN_DIR)/readme_quickstart.c || { echo "test-c-tsan: no C quick start in README.md"; exit 1; }
	@GR_SANITIZE=thread $(ROOT)/tests/c/run.sh tsan $(TSAN_DIR)/readme_quickstart.c $(ROOT)/examples/c/workers.c \
	  $(sort $(wildcard $(ROOT)/tests/san/tsan_*.c)) $(sort $(wildcard $(ROOT)/tests/c/chan_*.c $(ROOT)/tests/c/net_*.c $(ROOT)/tests/c/rt_*.c $(ROOT)/tests/c/sync_*.c))
	@$(CC) -g -O1 -fsanitize=thread -I$(ROOT)/include -o $(TSAN_DIR)/readme_quickstart_static $(TSAN_DIR)/readme_quickstart.c \
	  $(LIBDIR)/libgr.a $(GR_STATIC_LIBS) && $(TSAN_DIR)/readme_quickstart_static > $(TSAN_DIR)/readme_quickstart_static.log 2>&1 \
	  && echo "ok   readme_quickstart, linked with libgr.a" || { cat $(TSAN_DIR)/readme_quickstart_static.log; echo "FAIL readme_quickstart, linked with libgr.a"; exit 1; }
	@$(CC) $(CFLAGS_GR) -O1 -fsanitize=thread -I$(ROOT)/tests/c -o $(FUZZ_TSAN_BIN) tests/fuzz/gr_fuzz.c $(LDFLAGS_GR) -lm
	@$(ROOT)/tests/fuzz/run.sh $(FUZZ_TSAN_BIN) 2 "21 22"
