/* Mutex: 1,000 goroutines x 1,000 increments = 1,000,000, with pthreads joining in;
   WaitGroup joins them all. */
#include "harness.h"
#include <pthread.h>

static gr_mutex *mu;
static gr_wg *wg;
static long counter;

static void inc(void *arg) {
  long n = (long)(intptr_t)arg;
  for (long i = 0; i < n; i++) {
    CHECK_OK(gr_mutex_lock(mu, GR_FOREVER));
    counter++;
    CHECK_OK(gr_mutex_unlock(mu));
  }
  CHECK_OK(gr_wg_done(wg));
}
static void *thread_inc(void *arg) { inc(arg); return NULL; }

int main(void) {
  init_workers(2);
  CHECK_OK(gr_mutex_new(&mu));
  CHECK_OK(gr_wg_new(&wg));
  double t0 = now_s();
  CHECK_OK(gr_wg_add(wg, 1000));
  for (int i = 0; i < 1000; i++) CHECK_OK(gr_spawn(inc, (void *)(intptr_t)1000, NULL));
  CHECK_OK(gr_wg_wait(wg, GR_FOREVER));
  printf("1000 x 1000 increments: %.1f ms\n", (now_s() - t0) * 1e3);
  CHECK(counter == 1000000);
  /* goroutines and pthreads on the same mutex */
  counter = 0;
  CHECK_OK(gr_wg_add(wg, 8));
  pthread_t ts[4];
  for (int i = 0; i < 4; i++) {
    CHECK_OK(gr_spawn(inc, (void *)(intptr_t)20000, NULL));
    pthread_create(&ts[i], NULL, thread_inc, (void *)(intptr_t)20000);
  }
  CHECK_OK(gr_wg_wait(wg, GR_FOREVER));
  for (int i = 0; i < 4; i++) pthread_join(ts[i], NULL);
  CHECK(counter == 160000);
  gr_mutex_free(mu);
  gr_wg_free(wg);
  printf("sync_mutex_wg: ok\n");
  return 0;
}
