/* A bound goroutine that sleeps in its wait and needs a processor back when woken, for
 * core/src/sched/README.md (section 3, step 6b; section 13): a plain thread computes for
 * GAP ns, then sends to a bound goroutine that echoes over a second unbuffered channel; the
 * goroutine has spun out its 20 us and slept by then, so each round trip wakes it from its
 * futex and it must take a processor back (`acquire_p_wait`). Prints ns per round trip.
 *
 *   cc -O2 -Iinclude bench/extra/boundwake.c -o /tmp/boundwake -Lbuild/lib -lgr \
 *      -Wl,-rpath,$PWD/build/lib && chrt -f 10 perf stat -e context-switches /tmp/boundwake 5000 40000 1
 *
 * Arguments: round trips (5000), GAP in ns (40000), workers (1), busy (0): with busy 1, a
 * second plain thread ping-pongs with a plain goroutine all along, so the processor the
 * woken goroutine needs is held (running, or by its worker's step-6b hold); with busy 2,
 * this thread spawns and waits for a goroutine that returns at once just before each send,
 * so the worker that ran it holds the processor (step 6b) when the bound goroutine wakes.
 */
#include <gr.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
#include <pthread.h>
static gr_chan *a, *b, *c, *d;
static volatile int stop;
static uint64_t now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000ull + t.tv_nsec; }
static void echo(void *arg) {
  (void)arg;
  for (;;) {
    long v;
    if (gr_chan_recv(a, &v, GR_FOREVER) != GR_OK || v < 0) return;
    gr_chan_send(b, &v, GR_FOREVER);
  }
}
static void nop(void *arg) { (void)arg; }
static void echo2(void *arg) {
  (void)arg;
  long v;
  while (gr_chan_recv(c, &v, GR_FOREVER) == GR_OK && v >= 0) gr_chan_send(d, &v, GR_FOREVER);
}
static void *busy(void *arg) {
  (void)arg;
  long v = 0;
  while (!stop) { gr_chan_send(c, &v, GR_FOREVER); gr_chan_recv(d, &v, GR_FOREVER); }
  v = -1;
  gr_chan_send(c, &v, GR_FOREVER);
  return NULL;
}
int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 5000, gap = argc > 2 ? atol(argv[2]) : 40000;
  int workers = argc > 3 ? atoi(argv[3]) : 1, withbusy = argc > 4 ? atoi(argv[4]) : 0;
  gr_config cfg; gr_config_init(&cfg); cfg.workers = workers;
  if (gr_init(&cfg)) return 1;
  gr_chan_new(sizeof(long), 0, &a); gr_chan_new(sizeof(long), 0, &b);
  gr_spawn_opts o; gr_spawn_opts_init(&o); o.flags |= GR_SPAWN_BOUND;
  gr_handle *h; if (gr_spawn_ex(echo, NULL, &o, &h)) return 2;
  pthread_t bt;
  if (withbusy == 1) {
    gr_chan_new(sizeof(long), 0, &c); gr_chan_new(sizeof(long), 0, &d);
    if (gr_spawn(echo2, NULL, NULL) || pthread_create(&bt, NULL, busy, NULL)) return 3;
  }
  uint64_t lat = 0;
  for (long i = 0; i < n; i++) {
    uint64_t t = now(); while (now() - t < (uint64_t)gap) ; /* the partner works */
    if (withbusy == 2) {
      gr_handle *g;
      if (gr_spawn(nop, NULL, &g) || gr_wait(g, GR_FOREVER)) return 4;
      gr_handle_release(g);
    }
    long v = i; uint64_t t0 = now();
    gr_chan_send(a, &v, GR_FOREVER); gr_chan_recv(b, &v, GR_FOREVER);
    lat += now() - t0;
  }
  long v = -1; gr_chan_send(a, &v, GR_FOREVER); gr_wait(h, GR_FOREVER);
  if (withbusy == 1) { stop = 1; pthread_join(bt, NULL); }
  printf("round trip after a %ld ns gap: %lu ns\n", gap, (unsigned long)(lat / n));
  return 0;
}
