/* On 1 worker, a 2 s C busy loop does not stop the others: the monitor hands them off, even
 * while a long timer is armed (the monitor must not sleep until that timer). */
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

static gr_cancel *tok;
static void long_sleeper(void *arg) { (void)arg; gr_sleep_ex(60LL * 1000000000LL, tok); }

int main(void) {
  init_workers(1);
  CHECK_OK(gr_cancel_new(&tok));
  gr_handle *ls;
  CHECK_OK(gr_spawn(long_sleeper, NULL, &ls));
  gr_sleep(50000000); /* everything idle, one 60 s timer armed */
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
  CHECK(dt < 1.0);
  CHECK_OK(gr_wait(h, GR_FOREVER));
  gr_handle_release(h);
  CHECK_OK(gr_cancel_fire(tok));
  CHECK_OK(gr_wait(ls, GR_FOREVER));
  gr_handle_release(ls);
  gr_cancel_free(tok);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
