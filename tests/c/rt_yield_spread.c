/* Two goroutines that yield to each other spread over both workers once one goes idle
 * (core/src/sched/README.md section 3, "Two yielders swap through runnext"). While every
 * processor is busy, a pair of yielders on one processor swaps through runnext, where no
 * other processor can see it; when the other processor then goes idle, the pair's next yield
 * must wake it to take one of the two (else they would share one CPU for good while the
 * other idles). No timing is asserted: the test waits (up to a generous bound) until the two
 * have been seen running at the same moment, which one processor cannot do.
 *
 * Setup, 2 workers: a hog goroutine keeps one processor busy (yielding alone); a spawner
 * goroutine on the other processor spawns the pair there and returns (nobody is idle, so
 * nobody steals them); the pair runs until told to stop. Then the hog stops. */
#include "harness.h"
#include <stdatomic.h>

static atomic_int in_run[2], overlap, stop_pair, stop_hog, hog_running;
static gr_handle *pair[2];

static void burn_us(double us) {
  double end = now_s() + us * 1e-6;
  while (now_s() < end) {
  }
}

static void yielder(void *arg) {
  int me = (int)(intptr_t)arg;
  while (!atomic_load(&stop_pair)) {
    atomic_store(&in_run[me], 1);
    double end = now_s() + 200e-6; /* longer than a spinning M's hold (SPIN_HOLD, 20 us): it misses yields */
    while (now_s() < end)
      if (atomic_load(&in_run[1 - me])) atomic_store(&overlap, 1);
    atomic_store(&in_run[me], 0);
    gr_yield();
  }
}

static void hog(void *arg) {
  (void)arg;
  atomic_store(&hog_running, 1);
  while (!atomic_load(&stop_hog)) {
    burn_us(50);
    gr_yield();
  }
}

static void spawner(void *arg) {
  (void)arg;
  CHECK_OK(gr_spawn(yielder, (void *)(intptr_t)0, &pair[0]));
  CHECK_OK(gr_spawn(yielder, (void *)(intptr_t)1, &pair[1]));
}

int main(void) {
  init_workers(2);
  gr_handle *h, *s;
  CHECK_OK(gr_spawn(hog, NULL, &h));
  while (!atomic_load(&hog_running)) gr_sleep(100000);
  CHECK_OK(gr_spawn(spawner, NULL, &s));
  CHECK_OK(gr_wait(s, 10 * 1000000000LL));
  gr_handle_release(s);
  gr_sleep(50 * 1000000LL); /* the pair swaps on its processor, the hog runs on the other */
  atomic_store(&overlap, 0);
  atomic_store(&stop_hog, 1);
  CHECK_OK(gr_wait(h, 10 * 1000000000LL));
  gr_handle_release(h);
  double t0 = now_s();
  while (!atomic_load(&overlap) && now_s() - t0 < 30) gr_sleep(1000000);
  int seen = atomic_load(&overlap);
  printf("the pair ran at the same moment %.3f s after the hog ended: %s\n", now_s() - t0, seen ? "yes" : "no");
  atomic_store(&stop_pair, 1);
  for (int i = 0; i < 2; i++) {
    CHECK_OK(gr_wait(pair[i], 10 * 1000000000LL));
    gr_handle_release(pair[i]);
  }
  CHECK(seen);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
