/* Shared helpers for the C benchmark programs (gr and pthread anchors). */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Peak resident set (VmHWM) of this process in KiB, from /proc/self/status. */
static inline long vmhwm_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "VmHWM:", 6) == 0) { kib = strtol(line + 6, NULL, 10); break; }
  fclose(f);
  return kib;
}

/* fib is the cpu workload's unit of work; noinline keeps both C programs identical. */
__attribute__((noinline)) static long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
#define FIB_N 27
#define FIB_27 196418L

/* nth prime for sieve checks (n <= 5000 is what we run; 0 = unknown). */
static inline long nth_prime(long n) {
  long count = 0;
  for (long x = 2;; x++) {
    int p = 1;
    for (long d = 2; d * d <= x; d++) if (x % d == 0) { p = 0; break; }
    if (p && ++count == n) return x;
  }
}

/* One line the driver parses: ops done, wall ns of the measured part, optional KiB per task. */
static inline void report(const char *wl, uint64_t ops, uint64_t ns, double kib) {
  if (kib >= 0) printf("RESULT workload=%s ops=%llu ns=%llu kib=%.4f\n", wl, (unsigned long long)ops, (unsigned long long)ns, kib);
  else printf("RESULT workload=%s ops=%llu ns=%llu\n", wl, (unsigned long long)ops, (unsigned long long)ns);
  fflush(stdout);
}
#endif
