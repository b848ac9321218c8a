/* Issue 18 / issue 11 defect 9: back-pressure on a plain thread that spawns (gr.h, gr_spawn)
 * never deadlocks, never changes what gr_spawn and gr_spawn_ex return, and GR_SPAWN_NOWAIT
 * turns the wait into GR_EAGAIN.
 *
 * 1. The spawner holds a pthread mutex that every goroutine blocks its worker thread on (the
 *    workers, and the spare threads the monitor hands their processors to, all get stuck):
 *    20,000 spawns still return GR_OK (a stalled queue lets spawns through), and every
 *    goroutine runs once the mutex is released.
 * 2. With the queue full and the workers stuck, from the plain thread: GR_SPAWN_NOWAIT returns
 *    GR_EAGAIN at once (with GR_SPAWN_BOUND too, before any thread slot is taken), spawning
 *    nothing; gr_spawn_ex without it goes through as gr_spawn does, whatever timeout_ns says
 *    (it bounds a bound goroutine's wait for a thread slot only) and with NULL options. Once
 *    the workers run again, NOWAIT spawns succeed. Unknown flags: GR_EINVAL.
 * 3. A goroutine's spawn never waits: with the queue full, gr_spawn_ex with GR_SPAWN_NOWAIT
 *    from a goroutine returns GR_OK.
 * 4. An old caller's gr_spawn_opts (size without timeout_ns) is still accepted.
 * 5. A mix, with workers that progress: two plain threads (one with gr_spawn_ex's defaults,
 *    one with GR_SPAWN_NOWAIT, which on GR_EAGAIN spawns again without the flag) and a
 *    goroutine (with GR_SPAWN_NOWAIT) spawn 30,000 goroutines each: every spawn succeeds,
 *    every goroutine runs exactly once, and the goroutines alive stay bounded. */
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

static gr_spawn_opts opts_with(uint32_t flags, int64_t timeout_ns) {
  gr_spawn_opts o;
  gr_spawn_opts_init(&o);
  o.flags = flags;
  o.timeout_ns = timeout_ns;
  return o;
}

static atomic_int queued_enough, spawned_inside;
static void spawner_goroutine(void *a) {
  (void)a;
  while (!atomic_load(&queued_enough)) sched_yield(); /* keep the only worker busy */
  gr_spawn_opts o = opts_with(GR_SPAWN_NOWAIT, 0);
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

/* 5: the mix. */
#define MIX 30000
static atomic_long mix_again, peak_live;
static void work(void *a) {
  volatile unsigned long x = (unsigned long)a; /* wraps: no signed overflow (UBSan) */
  for (unsigned i = 0; i < 300; i++) x = x * 31 + i;
  atomic_fetch_add(&ran, 1);
}
static void note_live(void) {
  gr_stats s = {.size = sizeof s};
  CHECK_OK(gr_stats_get(&s));
  long live = (long)s.goroutines, p = atomic_load(&peak_live);
  while (live > p && !atomic_compare_exchange_weak(&peak_live, &p, live)) {
  }
}
static void spawn_defaults(void) {
  gr_spawn_opts o = opts_with(0, 0); /* timeout_ns 0 does not make a queue wait fail */
  for (long i = 0; i < MIX; i++) {
    CHECK_OK(gr_spawn_ex(work, (void *)i, &o, NULL));
    if (i % 512 == 0) note_live();
  }
}
static void spawn_nowait_then_wait(void) {
  gr_spawn_opts o = opts_with(GR_SPAWN_NOWAIT, 0), w = opts_with(0, 0);
  for (long i = 0; i < MIX; i++) {
    int rc = gr_spawn_ex(work, (void *)i, &o, NULL);
    if (rc == GR_EAGAIN) {
      atomic_fetch_add(&mix_again, 1);
      rc = gr_spawn_ex(work, (void *)i, &w, NULL); /* as a binding does, its lock let go */
    }
    CHECK_OK(rc);
    if (i % 512 == 0) note_live();
  }
}
static void *thread_defaults(void *a) { (void)a; spawn_defaults(); return NULL; }
static void *thread_nowait(void *a) { (void)a; spawn_nowait_then_wait(); return NULL; }
static void goroutine_nowait(void *a) {
  (void)a;
  gr_spawn_opts o = opts_with(GR_SPAWN_NOWAIT, 0);
  for (long i = 0; i < MIX; i++) CHECK_OK(gr_spawn_ex(work, (void *)i, &o, NULL)); /* never GR_EAGAIN */
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
  gr_spawn_opts o = opts_with(GR_SPAWN_NOWAIT, 0);
  t0 = now_s();
  CHECK_RC(gr_spawn_ex(nop, NULL, &o, NULL), GR_EAGAIN);
  o.flags = GR_SPAWN_NOWAIT | GR_SPAWN_BOUND;
  o.timeout_ns = GR_FOREVER; /* the slot wait's; the queue's answer comes first */
  CHECK_RC(gr_spawn_ex(nop, NULL, &o, NULL), GR_EAGAIN);
  double dt = now_s() - t0;
  printf("GR_SPAWN_NOWAIT on a full, stuck queue: GR_EAGAIN twice in %.6f s\n", dt);
  CHECK(dt < 2.0);
  o = opts_with(0, 0);
  CHECK_OK(gr_spawn_ex(nop, NULL, &o, NULL)); /* past the stall, as gr_spawn */
  o.timeout_ns = 30 * 1000000LL;              /* ignored without GR_SPAWN_BOUND */
  CHECK_OK(gr_spawn_ex(nop, NULL, &o, NULL));
  o.timeout_ns = GR_FOREVER;
  CHECK_OK(gr_spawn_ex(nop, NULL, &o, NULL));
  CHECK_OK(gr_spawn_ex(nop, NULL, NULL, NULL));
  o = opts_with(8, 0); /* no such flag */
  CHECK_RC(gr_spawn_ex(nop, NULL, &o, NULL), GR_EINVAL);

  pthread_mutex_unlock(&gate);
  wait_ran(N + 4);
  o = opts_with(GR_SPAWN_NOWAIT, 0);
  CHECK_OK(gr_spawn_ex(nop, NULL, &o, NULL));
  wait_ran(N + 5); /* the refused spawns never ran */
  usleep(20000);
  CHECK(atomic_load(&ran) == N + 5);

  /* 4: a gr_spawn_opts from before timeout_ns (its size ends at stack_size). */
  o = opts_with(0, 0);
  o.size = (uint32_t)offsetof(gr_spawn_opts, timeout_ns);
  CHECK_OK(gr_spawn_ex(nop, NULL, &o, NULL));
  o.size = (uint32_t)offsetof(gr_spawn_opts, stack_size);
  CHECK_RC(gr_spawn_ex(nop, NULL, &o, NULL), GR_EINVAL);
  wait_ran(N + 6);
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

  /* 5: threads and a goroutine spawn at once; the workers make progress. */
  atomic_store(&ran, 0);
  c.workers = 2;
  CHECK_OK(gr_init(&c));
  pthread_t ta, tb;
  CHECK(pthread_create(&ta, NULL, thread_defaults, NULL) == 0);
  CHECK(pthread_create(&tb, NULL, thread_nowait, NULL) == 0);
  CHECK_OK(gr_spawn(goroutine_nowait, NULL, &h));
  spawn_nowait_then_wait(); /* the main thread too */
  CHECK(pthread_join(ta, NULL) == 0);
  CHECK(pthread_join(tb, NULL) == 0);
  CHECK_OK(gr_wait(h, GR_FOREVER));
  gr_handle_release(h);
  wait_ran(4L * MIX);
  usleep(20000);
  CHECK(atomic_load(&ran) == 4L * MIX);
  printf("mix: %d spawns from 3 threads and a goroutine, %ld GR_EAGAIN (then waited), peak %ld live\n",
         4 * MIX, atomic_load(&mix_again), atomic_load(&peak_live));
  /* A generous bound (fault_spawn_backpressure judges the backlog itself): the queue's limit
     (1,024) plus what the goroutine queues on its own processor and what is in flight; a stall's bypass on a loaded machine may let more through for a while. */
  CHECK(atomic_load(&peak_live) < 40000);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  printf("ok\n");
  return 0;
}
