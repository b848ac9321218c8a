/* Running out of address space for stacks gives GR_ENOMEM (whose message names the sysctl),
 * never a crash; goroutines already running are unharmed. */
#include "harness.h"
#include <string.h>
#include <sys/resource.h>
#include <stdatomic.h>

static gr_cancel *gate;
static atomic_long parked;
static void sleeper(void *arg) { (void)arg; atomic_fetch_add(&parked, 1); gr_sleep_ex(600LL * 1000000000LL, gate); }

int main(void) {
  gr_config c; gr_config_init(&c); c.workers = 1; c.stack_size = 1 << 20;
  CHECK_OK(gr_init(&c));
  CHECK_OK(gr_cancel_new(&gate)); /* after gr_init: making a handle starts a default runtime */
  gr_sleep(1000000);
  struct rlimit rl = {.rlim_cur = 3ULL << 30, .rlim_max = RLIM_INFINITY};
  CHECK(setrlimit(RLIMIT_AS, &rl) == 0);
  long n = 0;
  int rc;
  static gr_handle *hs[100000];
  while ((rc = gr_spawn(sleeper, NULL, &hs[n])) == GR_OK) { n++; CHECK(n < 100000); }
  CHECK_RC(rc, GR_ENOMEM);
  CHECK(strstr(gr_strerror(rc), "vm.max_map_count"));
  printf("GR_ENOMEM after %ld goroutines of 1 MiB under a 3 GiB address-space limit\n", n);
  CHECK(n > 100);
  rl.rlim_cur = RLIM_INFINITY;
  CHECK(setrlimit(RLIMIT_AS, &rl) == 0);
  CHECK_OK(gr_cancel_fire(gate));
  for (long i = 0; i < n; i++) { CHECK_OK(gr_wait(hs[i], GR_FOREVER)); gr_handle_release(hs[i]); }
  CHECK(atomic_load(&parked) == n);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
