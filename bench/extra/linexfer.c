/* Cache-line transfer probe (core/src/chan/README.md, "Cache lines"): two threads hand one
 * 64-byte line back and forth (each waits for the other's store, then stores), so each step
 * is one transfer of the line from the other core. Prints the time per one-way transfer: the
 * unit a hand-off between goroutines on two cores pays for every line it takes over.
 *   cc -O2 -pthread bench/extra/linexfer.c -o linexfer && chrt -f 10 ./linexfer
 * Not part of `make bench`. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#define STEPS 2000000L
static _Alignas(64) _Atomic long line;

static void pass(long first) {
  for (long i = first; i < STEPS; i += 2) {
    while (atomic_load_explicit(&line, memory_order_acquire) != i) {
    }
    atomic_store_explicit(&line, i + 1, memory_order_release);
  }
}

static void *peer(void *arg) {
  (void)arg;
  pass(1);
  return NULL;
}

int main(void) {
  pthread_t t;
  struct timespec a, b;
  if (pthread_create(&t, NULL, peer, NULL) != 0) return 1;
  clock_gettime(CLOCK_MONOTONIC, &a);
  pass(0);
  clock_gettime(CLOCK_MONOTONIC, &b);
  pthread_join(t, NULL);
  double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
  printf("one-way cache-line transfer: %.1f ns\n", ns / STEPS);
  return 0;
}
