/* Issue 11, defect 9: a plain thread spawning in a tight loop meets back-pressure, so the
 * backlog (spawned but not yet run) and memory stay bounded: 300,000 spawns of goroutines that
 * compute ~50 us each, from a plain thread, on 2 workers. The work is slow on purpose: the
 * workers finish at most ~40,000 a second, far below any machine's spawn rate, so without
 * back-pressure the backlog passes the bound on every machine (with ~2 us of work a fast
 * machine's workers kept up and the defect did not show). The backlog must stay under 100,000
 * and RSS under 1 GiB (the run stops as soon as either is above). Today the spawner outruns
 * the workers without limit (19.7 GB in the attack). */
#include "harness.h"
#include "resources.h"
#include <stdatomic.h>

#define N 300000
#define BACKLOG_MAX 100000
static atomic_long ran;

static void work(void *a) {
  volatile long x = (long)a;
  for (int i = 0; i < 15000; i++) x = x * 31 + i;
  atomic_fetch_add(&ran, 1);
}

int main(void) {
  init_workers(2);
  long peak = 0;
  for (long i = 0; i < N; i++) {
    CHECK_OK(gr_spawn(work, (void *)i, NULL));
    if (i % 1000 == 0) {
      long backlog = i + 1 - atomic_load(&ran);
      if (backlog > BACKLOG_MAX) {
        printf("backlog %ld after %ld spawns (%ld run): no back-pressure\n", backlog, i + 1, atomic_load(&ran));
        return 1;
      }
    }
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
