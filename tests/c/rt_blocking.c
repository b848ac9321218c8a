/* On 1 worker, a goroutine inside gr_blocking_begin + sleep(1) does not stop 1,000 others. */
#include "harness.h"
#include <stdatomic.h>
#include <unistd.h>

static atomic_int others;
static atomic_int blocker_done;

static void blocker(void *arg) {
  (void)arg;
  gr_blocking_begin();
  sleep(1);
  gr_blocking_end();
  atomic_store(&blocker_done, 1);
}
static void other(void *arg) { (void)arg; gr_yield(); atomic_fetch_add(&others, 1); }

int main(void) {
  init_workers(1);
  gr_handle *b;
  CHECK_OK(gr_spawn(blocker, NULL, &b));
  gr_sleep(50000000); /* let the blocker enter its sleep */
  double t0 = now_s();
  static gr_handle *hs[1000];
  for (int i = 0; i < 1000; i++) CHECK_OK(gr_spawn(other, NULL, &hs[i]));
  for (int i = 0; i < 1000; i++) { CHECK_OK(gr_wait(hs[i], GR_FOREVER)); gr_handle_release(hs[i]); }
  double dt = now_s() - t0;
  printf("1000 goroutines finished in %.3fs while the blocker slept\n", dt);
  CHECK(atomic_load(&others) == 1000);
  CHECK(atomic_load(&blocker_done) == 0);
  CHECK_OK(gr_wait(b, GR_FOREVER));
  gr_handle_release(b);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
