/* A model of a channel hand-off between two spinning threads, for core/src/chan/README.md
 * ("Hand-off to a thread") and core/src/sched/README.md (section 13): how many cache lines
 * the completer must fetch, one after another, from the waiting thread's CPU. Two threads
 * ping-pong a value over two "channels" (a spinlock and a waiter slot); the waiter spins on
 * its own cell. HOPS is the length of the completer's chain of dependent lines:
 *   2: the channel's line names the waiter's cell; completion word, value and done flag
 *      share that cell's line;
 *   3: the channel's line names a slab entry, which names the cell (gr's landing);
 *   4: channel, slab entry, a token on the waiter's frame (with the value and done flag),
 *      the cell (gr's layout before the landing).
 * Prints ns per round trip. Not gr code: no timeouts, no select, one waiter per channel.
 *
 *   for h in 2 3 4; do cc -O2 -DHOPS=$h bench/extra/handoff_hops.c -lpthread -o /tmp/hops$h; done
 *   for h in 2 3 4; do chrt -f 10 /tmp/hops$h 1000000; done
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifndef HOPS
#define HOPS 3
#endif

typedef struct {
  _Atomic uint64_t state;
  int64_t val;
  _Atomic int done;
} __attribute__((aligned(64))) cell;

typedef struct { /* a token on the waiter's frame (HOPS 4) */
  cell *c;
  int64_t *elem;
  _Atomic int *done;
} __attribute__((aligned(64))) token;

typedef struct { /* a slab entry */
  token *tok;
  cell *c;
} __attribute__((aligned(64))) entry;

typedef struct {
  _Atomic int lock;
  int has;
  entry *e;
  cell *direct;
} __attribute__((aligned(64))) chan;

static chan ping, pong;
static __thread cell me;

static void lock(chan *c) {
  int e = 0;
  while (!atomic_compare_exchange_weak(&c->lock, &e, 1)) {
    e = 0;
    __builtin_ia32_pause();
  }
}
static void unlock(chan *c) { atomic_store_explicit(&c->lock, 0, memory_order_release); }

/* Completes the parked waiter; waiter_sends: take its value, else give it *v. */
static void complete(chan *c, int64_t *v, int waiter_sends) {
  cell *w;
  token *t = 0;
  (void)t;
#if HOPS == 2
  w = c->direct;
#elif HOPS == 3
  w = c->e->c;
#else
  t = c->e->tok;
  w = t->c;
#endif
  uint64_t open = 0;
  atomic_compare_exchange_strong(&w->state, &open, 1);
#if HOPS == 4
  if (waiter_sends) *v = *t->elem; else *t->elem = *v;
  atomic_store_explicit(t->done, 1, memory_order_release);
#else
  if (waiter_sends) *v = w->val; else w->val = *v;
  atomic_store_explicit(&w->done, 1, memory_order_release);
#endif
  c->has = 0;
}

/* Parks on c (called with c locked); sends: *v is the value to give. */
static void park(chan *c, int64_t *v, int sends) {
  token t;
  int64_t buf = 0;
  _Atomic int done = 0;
  atomic_store(&me.state, 0);
  atomic_store(&me.done, 0);
#if HOPS == 4
  t.c = &me; t.elem = &buf; t.done = &done;
  if (sends) buf = *v;
  c->e->tok = &t;
#elif HOPS == 3
  c->e->c = &me;
  if (sends) me.val = *v;
#else
  c->direct = &me;
  if (sends) me.val = *v;
#endif
  c->has = 1;
  unlock(c);
  while (atomic_load_explicit(&me.state, memory_order_acquire) == 0) __builtin_ia32_pause();
#if HOPS == 4
  while (!atomic_load_explicit(&done, memory_order_acquire)) __builtin_ia32_pause();
  if (!sends) *v = buf;
#else
  while (!atomic_load_explicit(&me.done, memory_order_acquire)) __builtin_ia32_pause();
  if (!sends) *v = me.val;
#endif
  (void)t; (void)buf; (void)done;
}

static void send(chan *c, int64_t v) {
  lock(c);
  if (c->has) { complete(c, &v, 0); unlock(c); return; }
  park(c, &v, 1);
}
static int64_t recv(chan *c) {
  int64_t v;
  lock(c);
  if (c->has) { complete(c, &v, 1); unlock(c); return v; }
  park(c, &v, 0);
  return v;
}

static uint64_t now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void *peer(void *arg) {
  (void)arg;
  for (;;) {
    int64_t v = recv(&ping);
    if (v < 0) return NULL;
    send(&pong, v);
  }
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000000;
  ping.e = aligned_alloc(64, 64);
  pong.e = aligned_alloc(64, 64);
  pthread_t t;
  pthread_create(&t, NULL, peer, NULL);
  uint64_t t0 = now();
  for (int64_t i = 0; i < n; i++) {
    send(&ping, i);
    if (recv(&pong) != i) abort();
  }
  uint64_t t1 = now();
  send(&ping, -1);
  pthread_join(t, NULL);
  printf("hops %d: %.1f ns per round trip\n", HOPS, (double)(t1 - t0) / (double)n);
  return 0;
}
