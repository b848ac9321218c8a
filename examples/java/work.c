/* work.c: the "legacy app" example's native side. A C goroutine that takes numbers from one
 * gr channel, does some CPU work on each (Collatz steps) and sends results on another.
 * Built with -lgr; the Java process shares its runtime with the binding. */
#include <stdint.h>

#include "gr.h"

static int64_t collatz_steps(int64_t n) {
  int64_t steps = 0;
  while (n > 1) {
    n = (n & 1) ? 3 * n + 1 : n / 2;
    steps++;
  }
  return steps;
}

/* argv[0] = jobs (gr_chan *, int64 elements), argv[1] = results; both owned (released here).
 * Results carry (job << 16) | steps so the Java side can check every job came back. */
void collatz_worker(void *arg) {
  int64_t *argv = arg;
  gr_chan *jobs = (gr_chan *)(intptr_t)argv[0];
  gr_chan *results = (gr_chan *)(intptr_t)argv[1];
  int64_t n;
  while (gr_chan_recv(jobs, &n, GR_FOREVER) == GR_OK) {
    int64_t r = (n << 16) | collatz_steps(n);
    if (gr_chan_send(results, &r, GR_FOREVER) != GR_OK) break;
  }
  gr_chan_release(jobs);
  gr_chan_release(results);
}
