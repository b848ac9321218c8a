/* What C code keeps across a switch survives it: values the compiler holds in callee-saved
 * registers (rbx, rbp, r12-r15) and on the stack across gr_yield and channel parks, at depth
 * (recursion, each frame parking), while goroutines migrate between 2 workers. Each goroutine
 * computes a mix of integers and doubles with a park between every step; the result must
 * equal the same computation run without parks on the main thread (core/src/stack/switch.rs:
 * the switch saves rbx and rbp itself and tells the compiler every other register is
 * clobbered). */
#include "harness.h"
#include <sys/syscall.h>
#include <unistd.h>

#define G 64
#define STEPS 400
#define DEPTH 48

static gr_chan *ring[G];
static uint64_t got[G], want[G];
static _Atomic int moves;

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Parks the caller, one way or another, when `park` is set. */
static void step_park(int park, int me, int step) {
  if (!park) return;
  /* Now and then a run long enough that the other worker steals what waits behind it. */
  if (step % 40 == 7) { uint64_t t = now_ns(); while (now_ns() - t < 50000) { } }
  if (step % 3 == 0) { gr_yield(); return; }
  /* A timer's wake goes through the global queue: either worker may take the goroutine. */
  if (step % 25 == 1) { CHECK_OK(gr_sleep(2000)); return; }
  /* Pass a token around the ring: send to the next, receive from the previous. Buffered
   * channels of G slots never block the sender; the receive parks until a token comes. */
  int64_t v = me;
  CHECK_OK(gr_chan_send(ring[(me + 1) % G], &v, GR_FOREVER));
  CHECK_OK(gr_chan_recv(ring[me], &v, GR_FOREVER));
}

static uint64_t mix(int park, int me) {
  uint64_t a = 0x9e3779b97f4a7c15ull * (uint64_t)(me + 1), b = a ^ 0xabcdef, c = a * 3 + 1, d = ~a;
  uint64_t e = a >> 7, f = a << 9, h = a + 12345, k = a ^ (a >> 31);
  double x = me + 0.5, y = 1.0 / (me + 2), z = x * y, w = 3.25;
  /* Not pthread_self(): glibc declares it const, so the compiler may read it once. */
  long tid = syscall(SYS_gettid);
  for (int s = 0; s < STEPS; s++) {
    a += b ^ (uint64_t)s; b = (b << 1) | (b >> 63); c ^= a * 7; d += c >> 3;
    e ^= d; f += e * 5; h ^= f >> 11; k += h + (uint64_t)s;
    x = x * 1.0000001 + y; y = y * 0.9999 + z * 1e-3; z += x * 1e-6; w = w * 1.000001 - 1e-7;
    step_park(park, me, s);
    long now = syscall(SYS_gettid);
    if (now != tid) { moves++; tid = now; }
  }
  uint64_t r = a ^ b ^ c ^ d ^ e ^ f ^ h ^ k;
  r ^= (uint64_t)(x * 1e6) ^ ((uint64_t)(y * 1e9) << 1) ^ ((uint64_t)(z * 1e6) << 2) ^ ((uint64_t)(w * 1e9) << 3);
  return r;
}

/* Each frame keeps a local array and scalars across a park, then checks them. */
static uint64_t deep(int park, int me, int depth) {
  volatile uint64_t local[8];
  uint64_t seed = (uint64_t)me * 1000003u + (uint64_t)depth;
  for (int i = 0; i < 8; i++) local[i] = seed * (uint64_t)(i + 1);
  step_park(park, me, depth);
  uint64_t below = depth ? deep(park, me, depth - 1) : 0;
  step_park(park, me, depth + 1);
  for (int i = 0; i < 8; i++) CHECK(local[i] == seed * (uint64_t)(i + 1));
  return below * 31 + seed;
}

static void body(void *arg) {
  int me = (int)(intptr_t)arg;
  got[me] = mix(1, me) ^ deep(1, me, DEPTH);
}

int main(void) {
  init_workers(2);
  for (int i = 0; i < G; i++) {
    CHECK_OK(gr_chan_new(sizeof(int64_t), G, &ring[i]));
    want[i] = mix(0, i) ^ deep(0, i, DEPTH);
  }
  /* A round on a machine whose other CPU is taken may see no migration: run again then. */
  for (int round = 0; round < 10 && moves == 0; round++) {
    gr_handle *h[G];
    /* Every goroutine holds one token of its own to start with: the ring's receives then
     * always find one, and the sends never block (G slots a channel). */
    for (int i = 0; i < G; i++) {
      int64_t v = -1;
      while (gr_chan_recv(ring[i], &v, 0) == GR_OK) { } /* the last round's leftovers */
      CHECK_OK(gr_chan_send(ring[i], &v, GR_FOREVER));
    }
    for (int i = 0; i < G; i++) CHECK_OK(gr_spawn(body, (void *)(intptr_t)i, &h[i]));
    for (int i = 0; i < G; i++) { CHECK_OK(gr_wait(h[i], GR_FOREVER)); gr_handle_release(h[i]); }
    for (int i = 0; i < G; i++) {
      if (got[i] != want[i]) fprintf(stderr, "goroutine %d: %llx, want %llx\n", i, (unsigned long long)got[i], (unsigned long long)want[i]);
      CHECK(got[i] == want[i]);
    }
    fprintf(stderr, "round %d: %d goroutines, %d moves between threads seen\n", round, G, moves);
  }
  CHECK(moves > 0);
  for (int i = 0; i < G; i++) gr_chan_release(ring[i]);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
