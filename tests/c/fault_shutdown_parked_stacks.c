/* Issue 11, defect 3: goroutines parked forever at gr_shutdown are left parked (never
 * unwound), but their stack memory goes back: 4 rounds of init, 20,000 goroutines parked on
 * a channel, gr_shutdown(100 ms) -> GR_ETIMEDOUT. RSS after the last round may exceed RSS
 * after the first by at most 32 MiB (a round parks ~80 MiB of touched stack; the goroutine
 * records, ~180 bytes each, stay). The deadline leaves gr_shutdown no time to join the
 * runtime's threads, so the last of them frees the memory as it ends (within milliseconds):
 * each round waits for them to be gone before it measures. */
#include "harness.h"
#include "resources.h"
#include <unistd.h>

#define N 20000
static gr_chan *c;
static void parked(void *a) { (void)a; long v; gr_chan_recv(c, &v, GR_FOREVER); }

int main(void) {
  resources after_first = {0};
  for (int round = 0; round < 4; round++) {
    init_workers(2);
    CHECK_OK(gr_chan_new(sizeof(long), 0, &c));
    for (int i = 0; i < N; i++) CHECK_OK(gr_spawn(parked, NULL, NULL));
    gr_sleep(100000000);
    CHECK_RC(gr_shutdown(100000000), GR_ETIMEDOUT);
    double t0 = now_s();
    while (resources_now().threads > 1) {
      CHECK(now_s() - t0 < 10); /* the runtime's threads end at once: none runs a goroutine */
      usleep(1000);
    }
    resources r = resources_now();
    resources_print(round == 0 ? "first round" : "next round", r);
    if (round == 0) after_first = r;
    else if (round == 3 && r.rss_kib > after_first.rss_kib + 32768) {
      printf("RSS grew by %ld KiB over 3 rounds of %d parked goroutines\n", r.rss_kib - after_first.rss_kib, N);
      return 1;
    }
  }
  return 0;
}
