/* Built with AddressSanitizer: bugs on a goroutine's stack get ASan's own reports, because
 * gr tells ASan about every switch to and from a goroutine stack. Each mode runs in a
 * child; the parent checks what it printed.
 *   overflow  a goroutine overflows its stack: ASan's "stack-overflow" report (after gr's
 *             line naming the goroutine), not a bare SIGSEGV or gr's abort alone
 *   uar       a goroutine uses a local of a function that returned, after parking and
 *             resuming (ASAN_OPTIONS=detect_stack_use_after_return=1): "stack-use-after-
 *             return", the address placed in the goroutine's frame
 *   overrun   a goroutine writes past a local array: "stack-buffer-overflow", placed in
 *             its frame (without the switches ASan called it a "wild pointer")
 *   clean     many goroutines with live frames across parks, on two workers, with
 *             detect_stack_use_after_return=1: no report at all */
#include "harness.h"
#include "child.h"

static __attribute__((noinline)) int recurse(int n) {
  volatile char buf[512];
  buf[0] = (char)n;
  return recurse(n + 1) + buf[0];
}
static void overflow(void *arg) { (void)arg; printf("%d\n", recurse(0)); }

static int *volatile escaped;
static __attribute__((noinline)) void leak_local(void) {
  int x[4] = {1, 2, 3, 4};
  escaped = x;
}
static void use_after_return(void *arg) {
  (void)arg;
  gr_yield();
  leak_local();
  gr_sleep(1000000); /* park: the goroutine may resume on the other worker */
  printf("%d\n", escaped[1]);
}

/* (Through a pointer UBSan cannot size: its own checks would catch the index first.) */
static __attribute__((noinline)) void poke(volatile char *p, int i) { p[i] = 1; }
static __attribute__((noinline)) void overrun_at(int i) {
  volatile char b[16];
  poke(b, i);
}
static void overrun(void *arg) { (void)arg; gr_yield(); overrun_at(16); }

static __attribute__((noinline)) long frames(long id, int depth) {
  volatile long buf[8];
  for (int i = 0; i < 8; i++) buf[i] = id + depth + i;
  long r = 0;
  if (depth > 0) r = frames(id, depth - 1);
  else if (id % 2) gr_yield();
  else gr_sleep(10000);
  for (int i = 0; i < 8; i++) CHECK(buf[i] == id + depth + i);
  return r + buf[1];
}
static void clean(void *arg) {
  long id = (long)arg;
  for (int k = 0; k < 200; k++) frames(id, (int)(id % 5) + 1);
}

static void child(const char *mode) {
  init_workers(2);
  gr_handle *h[16];
  int n = 1;
  if (strcmp(mode, "overflow") == 0) CHECK_OK(gr_spawn(overflow, NULL, &h[0]));
  else if (strcmp(mode, "uar") == 0) CHECK_OK(gr_spawn(use_after_return, NULL, &h[0]));
  else if (strcmp(mode, "overrun") == 0) CHECK_OK(gr_spawn(overrun, NULL, &h[0]));
  else for (n = 0; n < 16; n++) CHECK_OK(gr_spawn(clean, (void *)(long)n, &h[n]));
  for (int i = 0; i < n; i++) { CHECK_OK(gr_wait(h[i], GR_FOREVER)); gr_handle_release(h[i]); }
  CHECK_OK(gr_shutdown(GR_FOREVER));
  exit(0);
}

int main(int argc, char **argv) {
  if (argc > 1) child(argv[1]);
  static char out[1 << 16];
  const char *uar = "ASAN_OPTIONS=detect_leaks=0:detect_stack_use_after_return=1";

  int st = run_child(argv[0], "overflow", NULL, out, sizeof out);
  expect("overflow", out, "gr: fatal: goroutine", 1);
  expect("overflow", out, "ERROR: AddressSanitizer: stack-overflow", 1);
  expect("overflow", out, "in recurse", 1);
  CHECK(!(WIFEXITED(st) && WEXITSTATUS(st) == 0));
  printf("overflow: ASan's stack-overflow report\n");

  st = run_child(argv[0], "uar", uar, out, sizeof out);
  expect("uar", out, "ERROR: AddressSanitizer: stack-use-after-return", 1);
  expect("uar", out, "is located in stack of thread", 1);
  expect("uar", out, "in leak_local", 1);
  CHECK(!(WIFEXITED(st) && WEXITSTATUS(st) == 0));
  printf("uar: ASan's stack-use-after-return report, in the goroutine's frame\n");

  st = run_child(argv[0], "overrun", NULL, out, sizeof out);
  expect("overrun", out, "ERROR: AddressSanitizer: stack-buffer-overflow", 1);
  expect("overrun", out, "is located in stack of thread", 1);
  expect("overrun", out, "wild pointer", 0);
  CHECK(!(WIFEXITED(st) && WEXITSTATUS(st) == 0));
  printf("overrun: ASan's stack-buffer-overflow report, in the goroutine's frame\n");

  st = run_child(argv[0], "clean", uar, out, sizeof out);
  expect("clean", out, "AddressSanitizer", 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) { fprintf(stderr, "clean: status %d:\n%s\n", st, out); return 1; }
  printf("clean: no report with fake stacks for parked goroutines\n");
  return 0;
}
