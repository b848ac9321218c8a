/* Issue 11, defect 9: a plain thread spawning in a tight loop meets back-pressure, so memory
 * stays bounded: 2,000,000 spawns of goroutines that compute ~2 us each, from a plain thread,
 * on 2 workers; RSS must stay under 1 GiB (the run stops as soon as it is above). Today the
 * spawner outruns the workers without limit (19.7 GB in the attack). */
#include "harness.h"
#include "resources.h"
#include <stdatomic.h>

#define N 2000000
static atomic_long ran;

static void work(void *a) {
  volatile long x = (long)a;
  for (int i = 0; i < 600; i++) x = x * 31 + i;
  atomic_fetch_add(&ran, 1);
}

int main(void) {
  init_workers(2);
  long peak = 0;
  for (long i = 0; i < N; i++) {
    CHECK_OK(gr_spawn(work, (void *)i, NULL));
    if (i % 10000 == 0) {
      long rss = resources_now().rss_kib;
      if (rss > peak) peak = rss;
      if (rss > 1024 * 1024) {
        printf("RSS %ld MiB after %ld spawns (%ld run): no back-pressure\n", rss / 1024, i, atomic_load(&ran));
        return 1;
      }
    }
  }
  CHECK_OK(gr_shutdown(GR_FOREVER));
  CHECK(atomic_load(&ran) == N);
  printf("%d spawns from a plain thread: peak RSS %ld MiB\n", N, peak / 1024);
  return 0;
}
