/* Fan CPU work out across the workers: 64 goroutines each compute fib(30); compare 1 worker
 * with all of them. Set the worker count with GR_WORKERS or gr_config.workers. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "gr.h"

#define TASKS 64
static long results[TASKS];

static long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
static void task(void *arg) { long i = (long)arg; results[i] = fib(30); }

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static double run(unsigned workers) {
  gr_config c; gr_config_init(&c); c.workers = workers;
  if (gr_init(&c) != GR_OK) { fprintf(stderr, "gr_init failed\n"); exit(1); }
  gr_stats st = {.size = sizeof st};
  gr_stats_get(&st);
  double t0 = now();
  gr_handle *hs[TASKS];
  for (long i = 0; i < TASKS; i++) gr_spawn(task, (void *)i, &hs[i]);
  for (int i = 0; i < TASKS; i++) { gr_wait(hs[i], GR_FOREVER); gr_handle_release(hs[i]); }
  double dt = now() - t0;
  for (int i = 0; i < TASKS; i++) if (results[i] != 832040) { fprintf(stderr, "wrong result\n"); exit(1); }
  printf("%2u worker(s): %d x fib(30) in %.3f s\n", st.workers, TASKS, dt);
  gr_shutdown(GR_FOREVER);
  return dt;
}

int main(void) {
  double one = run(1);
  double all = run(0); /* 0 = $GR_WORKERS, else the CPU count */
  printf("speed-up: %.2fx\n", one / all);
  return 0;
}
