/* Spawn + wait one at a time from a plain thread, with the distribution of each one's time
 * (core/src/sched/README.md section 13; issue 16's `go()` + `join()` without the JVM): this
 * thread spawns a goroutine that returns at once (`GR_SPAWN_BOUND` with BOUND 1, the kind a
 * Java goroutine is; a coroutine goroutine with 0), waits for it and releases its handle, N
 * times. Prints the mean and the 10th, 50th, 90th and 99th percentiles in ns: the mean of
 * `make bench`'s spawn_wait_thread and Java spawnjoin rows is set by the tail, where this
 * thread, the worker that runs the goroutine and an idle worker share two CPUs.
 *
 *   cc -O2 -Iinclude bench/extra/spawn_wait_tail.c -o /tmp/spawn_wait_tail -Lbuild/lib -lgr \
 *      -Wl,-rpath,$PWD/build/lib && /tmp/spawn_wait_tail 100000 1
 *
 * A second line gives the spread of chunks of 2,000 (each chunk's mean: minimum, quartiles,
 * 90th percentile, maximum): stretches where two workers shared a CPU and swapped through
 * `sched_yield` on every spawn showed as a second mode of chunks at ~4 us (section 13,
 * "Two workers for one goroutine at a time").
 *
 * Arguments: spawns (100000), BOUND (1). Not part of `make bench`. */
#include <gr.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void nop(void *arg) { (void)arg; }

static int cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 100000;
  int bound = argc > 2 ? atoi(argv[2]) : 1;
  if (n < 100 || gr_init(NULL) != GR_OK) return 2;
  uint64_t *d = malloc((size_t)n * sizeof *d);
  if (!d) return 2;
  gr_spawn_opts o;
  gr_spawn_opts_init(&o);
  o.flags = bound ? GR_SPAWN_BOUND : 0;
  o.timeout_ns = GR_FOREVER;
  uint64_t t0 = now();
  for (long i = 0; i < n; i++) {
    uint64_t a = now();
    gr_handle *h;
    if (gr_spawn_ex(nop, NULL, &o, &h) != GR_OK || gr_wait(h, GR_FOREVER) != GR_OK) abort();
    gr_handle_release(h);
    d[i] = now() - a;
  }
  uint64_t t1 = now();
  enum { CHUNK = 2000 };
  long nc = n / CHUNK;
  uint64_t *c = calloc(nc > 0 ? (size_t)nc : 1, sizeof *c);
  if (!c) return 2;
  for (long i = 0; i < nc * CHUNK; i++) c[i / CHUNK] += d[i];
  for (long k = 0; k < nc; k++) c[k] /= CHUNK;
  qsort(c, (size_t)nc, sizeof *c, cmp);
  qsort(d, (size_t)n, sizeof *d, cmp);
  printf("%s: mean %.0f ns, p10 %llu, p50 %llu, p90 %llu, p99 %llu\n", bound ? "bound" : "coroutine",
         (double)(t1 - t0) / (double)n, (unsigned long long)d[n / 10], (unsigned long long)d[n / 2],
         (unsigned long long)d[n * 9 / 10], (unsigned long long)d[n * 99 / 100]);
  if (nc > 0)
    printf("chunks of %d: min %llu, p25 %llu, p50 %llu, p75 %llu, p90 %llu, max %llu\n", CHUNK,
           (unsigned long long)c[0], (unsigned long long)c[nc / 4], (unsigned long long)c[nc / 2],
           (unsigned long long)c[nc * 3 / 4], (unsigned long long)c[nc * 9 / 10],
           (unsigned long long)c[nc - 1]);
  free(c);
  free(d);
  return 0;
}
