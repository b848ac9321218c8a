/* Clock-read probe (core/src/sched/README.md section 14, the run-length signal of issue 18):
 * the cost of one `rdtsc` and of one clock_gettime(CLOCK_MONOTONIC) (what Rust's
 * `Instant::now` calls), each in a loop of 10M reads. On a VM both can cost far more than on
 * bare metal, which decides whether a scheduler can afford to time every goroutine switch.
 * Also one `pause` (what every spin loop waits between two looks: 10 ns on the Xeon VM of
 * 2026-12-06 18:15, ~84 ns on the EPYC VM before it), in a loop of 10M.
 *   cc -O2 bench/extra/clockcost.c -o clockcost && chrt -f 10 ./clockcost
 * Not part of `make bench`. */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

#define READS 10000000L

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

int main(void) {
  uint64_t sink = 0;
  uint64_t t0 = now_ns();
  for (long i = 0; i < READS; i++) sink += __rdtsc();
  uint64_t t1 = now_ns();
  for (long i = 0; i < READS; i++) sink += now_ns();
  uint64_t t2 = now_ns();
  for (long i = 0; i < READS; i++) _mm_pause();
  uint64_t t3 = now_ns();
  printf("rdtsc: %.1f ns a read; clock_gettime(CLOCK_MONOTONIC): %.1f ns a read; pause: %.1f ns (%u)\n",
         (double)(t1 - t0) / READS, (double)(t2 - t1) / READS, (double)(t3 - t2) / READS,
         (unsigned)(sink & 1));
  return 0;
}
