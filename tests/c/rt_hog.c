/* On 1 worker, a 2 s C busy loop does not stop the others: the monitor hands them off. */
#include "harness.h"
#include <stdatomic.h>

static atomic_int others;
static atomic_int hog_done;

static void hog(void *arg) {
  (void)arg;
  double end = now_s() + 2.0;
  volatile unsigned long x = 0;
  while (now_s() < end) x++;
  atomic_store(&hog_done, 1);
}
static void other(void *arg) { (void)arg; gr_yield(); atomic_fetch_add(&others, 1); }

int main(void) {
  init_workers(1);
  gr_handle *h;
  CHECK_OK(gr_spawn(hog, NULL, &h));
  gr_sleep(20000000); /* the hog is running */
  double t0 = now_s();
  static gr_handle *hs[1000];
  for (int i = 0; i < 1000; i++) CHECK_OK(gr_spawn(other, NULL, &hs[i]));
  for (int i = 0; i < 1000; i++) { CHECK_OK(gr_wait(hs[i], GR_FOREVER)); gr_handle_release(hs[i]); }
  double dt = now_s() - t0;
  printf("1000 goroutines finished in %.3fs beside a 2 s hog\n", dt);
  CHECK(atomic_load(&others) == 1000);
  CHECK(atomic_load(&hog_done) == 0);
  CHECK_OK(gr_wait(h, GR_FOREVER));
  gr_handle_release(h);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
