/* The ceiling for the cpu workload's speed-up on this machine, with no runtime at all: N x
 * fib(27) (the bench's unit of work, same definition and flags) shared through one atomic
 * counter by T plain threads; T = 1 is pinned to CPU 0, as cpu1 is. Run it in the same rounds
 * as gr and Go (bench/extra/cpu_rounds.sh) to tell the machine's limit from a runtime's.
 *
 *   cc -O2 -pthread bench/extra/cpu_ceiling.c -o /tmp/cpu_ceiling && /tmp/cpu_ceiling 1000 2
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../common.h"

static atomic_long next;
static long n;
static atomic_long sink;

static void *run(void *arg) {
  (void)arg;
  long s = 0;
  while (atomic_fetch_add(&next, 1) < n) s += fib(FIB_N);
  atomic_fetch_add(&sink, s);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s <tasks> <threads>\n", argv[0]); return 64; }
  n = atol(argv[1]);
  int t = atoi(argv[2]);
  if (t < 1 || t > 64) { fprintf(stderr, "threads: 1 to 64\n"); return 64; }
  if (t == 1) {
    cpu_set_t c;
    CPU_ZERO(&c);
    CPU_SET(0, &c);
    sched_setaffinity(0, sizeof c, &c);
  }
  pthread_t th[64];
  uint64_t t0 = now_ns();
  for (int i = 0; i < t; i++) pthread_create(&th[i], NULL, run, NULL);
  for (int i = 0; i < t; i++) pthread_join(th[i], NULL);
  uint64_t t1 = now_ns();
  if (atomic_load(&sink) != n * FIB_27) { fprintf(stderr, "bad fib\n"); return 3; }
  printf("RESULT workload=cpu ops=%ld ns=%llu\n", n, (unsigned long long)(t1 - t0));
  return 0;
}
