/* One goroutine yielding alone on one worker (a busy-wait with gr_yield, as Go programs spin
 * with runtime.Gosched), for core/src/sched/README.md (sections 3 and 14): its M runs it again
 * at once, without the round trip through the local queue. Prints ns per yield.
 *
 *   cc -O2 -Iinclude bench/extra/yield_alone.c -o /tmp/yield_alone -Lbuild/lib -lgr \
 *      -Wl,-rpath,$PWD/build/lib && chrt -f 10 /tmp/yield_alone 3000000
 *   valgrind --tool=callgrind /tmp/yield_alone 100000   (and 200000: the difference over
 *      100,000 yields is the instructions per yield)
 */
#include <gr.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long n;

static void yielder(void *arg) {
  (void)arg;
  for (long i = 0; i < n; i++) gr_yield();
}

int main(int argc, char **argv) {
  n = argc > 1 ? atol(argv[1]) : 1000000;
  if (n <= 0) {
    fprintf(stderr, "usage: %s <yields>\n", argv[0]);
    return 2;
  }
  gr_config cfg;
  gr_config_init(&cfg);
  cfg.workers = 1;
  if (gr_init(&cfg) != GR_OK) return 1;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  gr_handle *h;
  if (gr_spawn(yielder, NULL, &h) != GR_OK) return 1;
  if (gr_wait(h, GR_FOREVER) != GR_OK) return 1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  gr_handle_release(h);
  printf("%.1f ns per yield\n", ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / (double)n);
  return gr_shutdown(GR_FOREVER) == GR_OK ? 0 : 1;
}
