/* 100,000 goroutines parked at once (vm.max_map_count left at its default), then all woken
 * through one cancel token and joined. */
#include "harness.h"
#include <stdatomic.h>

#define N 100000
static gr_cancel *gate;
static atomic_long parked, woke;

static void sleeper(void *arg) {
  (void)arg;
  atomic_fetch_add(&parked, 1);
  int rc = gr_sleep_ex(600LL * 1000000000LL, gate);
  if (rc == GR_ECANCELED) atomic_fetch_add(&woke, 1);
}

int main(void) {
  static gr_handle *hs[N];
  CHECK_OK(gr_cancel_new(&gate));
  for (int i = 0; i < N; i++) CHECK_OK(gr_spawn(sleeper, NULL, &hs[i]));
  while (atomic_load(&parked) < N) gr_sleep(1000000);
  gr_sleep(20000000);
  gr_stats st = {.size = sizeof st};
  CHECK_OK(gr_stats_get(&st));
  CHECK(st.goroutines == N);
  CHECK(st.threads < 64);
  CHECK_OK(gr_cancel_fire(gate));
  for (int i = 0; i < N; i++) { CHECK_OK(gr_wait(hs[i], GR_FOREVER)); gr_handle_release(hs[i]); }
  CHECK(atomic_load(&woke) == N);
  gr_cancel_free(gate);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
