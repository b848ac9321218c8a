/* Plain threads talking through gr channels, for core/src/chan/README.md ("Hand-off to a
 * thread") and core/src/sched/README.md (section 13): this thread ping-pongs an int64_t with
 * a peer over two unbuffered channels. MODE 0: the peer is a second plain thread (both wait
 * on their wait cells: the channel hand-off alone); MODE 1: the peer is a goroutine (the
 * bench's `pingpong_thread`); MODE 2: no gr at all, the two threads pass a flag (the floor:
 * one cache line each way). Prints ns per round trip.
 *
 *   cc -O2 -Iinclude bench/extra/thread_pingpong.c -o /tmp/thread_pingpong -Lbuild/lib -lgr \
 *      -lpthread -Wl,-rpath,$PWD/build/lib && chrt -f 10 /tmp/thread_pingpong 100000 0
 *
 * A third argument gives every send and receive that timeout_ns instead of GR_FOREVER, and a
 * call that times out is made again (what the Java binding's first step does: 20000, 20 us;
 * `chan/README.md`, "A relative timeout's clock read, out of the lock").
 */
#include <gr.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "echo_peer.h"

static gr_chan *ping, *pong;
static long n;
static int64_t timeout = GR_FOREVER;

static int send_v(gr_chan *c, int64_t *v) {
  int rc;
  while ((rc = gr_chan_send(c, v, timeout)) == GR_ETIMEDOUT) {
  }
  return rc;
}

static int recv_v(gr_chan *c, int64_t *v) {
  int rc;
  while ((rc = gr_chan_recv(c, v, timeout)) == GR_ETIMEDOUT) {
  }
  return rc;
}
static _Atomic long flag;

static uint64_t now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void *echo(void *arg) {
  (void)arg;
  for (;;) {
    int64_t v;
    if (recv_v(ping, &v) != GR_OK) abort();
    if (v < 0) return NULL;
    if (send_v(pong, &v) != GR_OK) abort();
  }
}

static void *flag_peer(void *arg) {
  (void)arg;
  for (long i = 0; i < n; i++) {
    while (atomic_load_explicit(&flag, memory_order_acquire) != 2 * i + 1) __builtin_ia32_pause();
    atomic_store_explicit(&flag, 2 * i + 2, memory_order_release);
  }
  return NULL;
}

int main(int argc, char **argv) {
  n = argc > 1 ? atol(argv[1]) : 100000;
  int mode = argc > 2 ? atoi(argv[2]) : 0;
  if (argc > 3) timeout = atoll(argv[3]);
  pthread_t t;
  if (mode == 2) {
    pthread_create(&t, NULL, flag_peer, NULL);
    uint64_t t0 = now();
    for (long i = 0; i < n; i++) {
      atomic_store_explicit(&flag, 2 * i + 1, memory_order_release);
      while (atomic_load_explicit(&flag, memory_order_acquire) != 2 * i + 2) __builtin_ia32_pause();
    }
    uint64_t t1 = now();
    pthread_join(t, NULL);
    printf("flag: %.1f ns per round trip\n", (double)(t1 - t0) / (double)n);
    return 0;
  }
  if (gr_init(NULL) != GR_OK || gr_chan_new(sizeof(int64_t), 0, &ping) != GR_OK ||
      gr_chan_new(sizeof(int64_t), 0, &pong) != GR_OK)
    abort();
  struct echo_peer peer;
  echo_peer_start(&peer, mode, echo);
  uint64_t t0 = now();
  for (int64_t i = 0; i < n; i++) {
    int64_t r;
    if (send_v(ping, &i) != GR_OK || recv_v(pong, &r) != GR_OK || r != i)
      abort();
  }
  uint64_t t1 = now();
  echo_peer_stop(&peer, ping);
  printf("%s: %.1f ns per round trip\n", mode == 0 ? "thread<->thread" : "thread<->goroutine",
         (double)(t1 - t0) / (double)n);
  return 0;
}
