/* Spawn and join 1,000,000 goroutines, from a goroutine and from the main thread. */
#include "harness.h"
#include <stdatomic.h>

#define N 1000000
#define BATCH 20000
static atomic_long ran;
static gr_handle *hs[BATCH];

static void child(void *arg) { (void)arg; atomic_fetch_add(&ran, 1); }

static void spawn_join(long n) {
  for (long done = 0; done < n; done += BATCH) {
    for (int i = 0; i < BATCH; i++) CHECK_OK(gr_spawn(child, NULL, &hs[i]));
    for (int i = 0; i < BATCH; i++) { CHECK_OK(gr_wait(hs[i], GR_FOREVER)); gr_handle_release(hs[i]); }
  }
}

static void main_goroutine(void *arg) { spawn_join((long)arg); }

int main(void) {
  double t0 = now_s();
  gr_handle *m;
  CHECK_OK(gr_spawn(main_goroutine, (void *)(long)(N / 2), &m));
  CHECK_OK(gr_wait(m, GR_FOREVER));
  gr_handle_release(m);
  spawn_join(N / 2); /* from a plain thread: the global injector path */
  CHECK(atomic_load(&ran) == N);
  gr_stats st = {.size = sizeof st};
  CHECK_OK(gr_stats_get(&st));
  CHECK(st.spawned_total == N + 1);
  printf("1M spawn+join in %.2fs, steals %lu\n", now_s() - t0, (unsigned long)st.steals_total);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
