/* A host SIGSEGV handler installed before gr_init still runs for faults outside our stacks
 * (the JVM and Python's faulthandler depend on this), on plain threads and in goroutines. */
#include "harness.h"
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <stdatomic.h>

static sigjmp_buf jb;
static atomic_int host_calls;
static __thread sigjmp_buf *tjb;

static void host_handler(int sig, siginfo_t *si, void *ctx) {
  (void)sig; (void)ctx;
  if (si->si_addr == (void *)16) { atomic_fetch_add(&host_calls, 1); siglongjmp(*tjb, 1); }
  _exit(3);
}

static void fault(void) { volatile int *p = (int *)16; *p = 1; }

static void in_goroutine(void *arg) {
  (void)arg;
  sigjmp_buf local;
  tjb = &local;
  if (sigsetjmp(local, 1) == 0) fault();
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = host_handler;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
  CHECK_OK(gr_init(NULL)); /* installs gr's handler, chaining to ours */
  tjb = &jb;
  if (sigsetjmp(jb, 1) == 0) fault();
  CHECK(atomic_load(&host_calls) == 1);
  gr_handle *h;
  CHECK_OK(gr_spawn(in_goroutine, NULL, &h));
  CHECK_OK(gr_wait(h, GR_FOREVER));
  gr_handle_release(h);
  CHECK(atomic_load(&host_calls) == 2);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
