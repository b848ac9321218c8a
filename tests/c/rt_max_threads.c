/* Blocking hand-offs never take the runtime past gr_config.max_threads; all work still ends. */
#include "harness.h"
#include <stdatomic.h>
#include <unistd.h>

static atomic_int done, peak;
static void blocker(void *arg) {
  (void)arg;
  gr_blocking_begin();
  usleep(50000);
  gr_stats st = {.size = sizeof st};
  if (gr_stats_get(&st) == GR_OK) {
    int t = (int)st.threads, p = atomic_load(&peak);
    while (t > p && !atomic_compare_exchange_weak(&peak, &p, t)) {}
  }
  gr_blocking_end();
  atomic_fetch_add(&done, 1);
}

int main(void) {
  gr_config c; gr_config_init(&c); c.workers = 1; c.max_threads = 4;
  CHECK_OK(gr_init(&c));
  gr_handle *hs[20];
  for (int i = 0; i < 20; i++) CHECK_OK(gr_spawn(blocker, NULL, &hs[i]));
  for (int i = 0; i < 20; i++) { CHECK_OK(gr_wait(hs[i], GR_FOREVER)); gr_handle_release(hs[i]); }
  printf("peak threads %d (cap 4, monitor included)\n", atomic_load(&peak));
  CHECK(atomic_load(&done) == 20);
  CHECK(atomic_load(&peak) <= 4);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
