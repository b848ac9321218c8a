/* Issue 18 / issue 11 defect 9: back-pressure on a plain thread that spawns (gr.h, gr_spawn)
 * never deadlocks and keeps its timeouts.
 *
 * 1. The spawner holds a pthread mutex that every goroutine blocks its worker thread on (the
 *    workers, and the spare threads the monitor hands their processors to, all get stuck):
 *    20,000 spawns still return GR_OK (a stalled queue lets spawns through), and every
 *    goroutine runs once the mutex is released.
 * 2. With the queue full and the workers stuck: gr_spawn_ex with timeout_ns 0 (the
 *    default, and NULL options) returns GR_EAGAIN and a positive timeout GR_ETIMEDOUT
 *    (within a generous bound), spawning nothing; GR_FOREVER goes through (the stall);
 *    once the workers run again, every one spawns.
 * 3. A goroutine's spawn never waits: with the queue full, gr_spawn_ex(timeout_ns 0) from a
 *    goroutine returns GR_OK.
 * 4. An old caller's gr_spawn_opts (size without timeout_ns) is still accepted. */
#include "harness.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <unistd.h>

#define N 20000
static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static atomic_long ran;

static void blocked(void *a) {
  (void)a;
  pthread_mutex_lock(&gate); /* blocks the worker thread, not just the goroutine */
  pthread_mutex_unlock(&gate);
  atomic_fetch_add(&ran, 1);
}

static void nop(void *a) { (void)a; atomic_fetch_add(&ran, 1); }

static atomic_int queued_enough, spawned_inside;
static void spawner_goroutine(void *a) {
  (void)a;
  while (!atomic_load(&queued_enough)) sched_yield(); /* keep the only worker busy */
  gr_spawn_opts o;
  gr_spawn_opts_init(&o);
  o.timeout_ns = 0;
  CHECK_OK(gr_spawn_ex(nop, NULL, &o, NULL));
  atomic_store(&spawned_inside, 1);
}

static void wait_ran(long want) {
  double t0 = now_s();
  while (atomic_load(&ran) < want) {
    CHECK(now_s() - t0 < 120);
    usleep(1000);
  }
}

int main(void) {
  gr_config c;
  gr_config_init(&c);
  c.workers = 2;
  c.max_threads = 4; /* the monitor, 2 workers, 1 spare: every one of them can get stuck */
  CHECK_OK(gr_init(&c));

  /* 1: the spawner holds what the goroutines need. */
  pthread_mutex_lock(&gate);
  double t0 = now_s();
  for (long i = 0; i < N; i++) CHECK_OK(gr_spawn(blocked, NULL, NULL));
  printf("%d spawns with every worker stuck on the spawner's mutex: %.3f s\n", N, now_s() - t0);

  /* 2: the queue is full and nothing drains it. */
  gr_spawn_opts o;
  gr_spawn_opts_init(&o);
  CHECK(o.timeout_ns == 0);
  CHECK_RC(gr_spawn_ex(nop, NULL, &o, NULL), GR_EAGAIN);
  CHECK_RC(gr_spawn_ex(nop, NULL, NULL, NULL), GR_EAGAIN);
  o.timeout_ns = 30 * 1000000LL;
  t0 = now_s();
  CHECK_RC(gr_spawn_ex(nop, NULL, &o, NULL), GR_ETIMEDOUT);
  double dt = now_s() - t0;
  printf("gr_spawn_ex(timeout 30 ms) on a full, stuck queue: GR_ETIMEDOUT after %.3f s\n", dt);
  CHECK(dt >= 0.029 && dt < 2.0);

  o.timeout_ns = GR_FOREVER;
  CHECK_OK(gr_spawn_ex(nop, NULL, &o, NULL)); /* past the stall, as gr_spawn */

  pthread_mutex_unlock(&gate);
  wait_ran(N + 1);
  o.timeout_ns = 0;
  CHECK_OK(gr_spawn_ex(nop, NULL, &o, NULL));
  o.timeout_ns = 30 * 1000000LL;
  CHECK_OK(gr_spawn_ex(nop, NULL, &o, NULL));
  CHECK_OK(gr_spawn_ex(nop, NULL, NULL, NULL));
  wait_ran(N + 4); /* the refused spawns never ran */
  usleep(20000);
  CHECK(atomic_load(&ran) == N + 4);

  /* 4: a gr_spawn_opts from before timeout_ns (its size ends at stack_size). */
  o.size = (uint32_t)offsetof(gr_spawn_opts, timeout_ns);
  o.timeout_ns = 0;
  CHECK_OK(gr_spawn_ex(nop, NULL, &o, NULL));
  o.size = (uint32_t)offsetof(gr_spawn_opts, stack_size);
  CHECK_RC(gr_spawn_ex(nop, NULL, &o, NULL), GR_EINVAL);
  wait_ran(N + 5);
  CHECK_OK(gr_shutdown(GR_FOREVER));

  /* 3: one worker, busy in a goroutine that spawns once the thread filled the queue. */
  atomic_store(&ran, 0);
  c.workers = 1;
  c.max_threads = 0;
  CHECK_OK(gr_init(&c));
  gr_handle *h;
  CHECK_OK(gr_spawn(spawner_goroutine, NULL, &h));
  for (long i = 0; i < 5000; i++) CHECK_OK(gr_spawn(nop, NULL, NULL));
  atomic_store(&queued_enough, 1);
  CHECK_OK(gr_wait(h, GR_FOREVER));
  gr_handle_release(h);
  CHECK(atomic_load(&spawned_inside) == 1);
  wait_ran(5001);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  printf("ok\n");
  return 0;
}
