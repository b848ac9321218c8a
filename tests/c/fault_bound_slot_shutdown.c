/* Issue 11 (defect 2's family): a bound spawn (GR_SPAWN_BOUND) waiting for a thread slot,
 * with GR_FOREVER, when gr_shutdown begins. Bound goroutines hold every slot
 * (max_threads - workers - 1 = 2 here), each blocked receiving on a channel. A plain thread
 * and a goroutine then ask for a third bound goroutine and wait. gr_shutdown(GR_FOREVER)
 * begins (on its own thread: it waits for the two bound goroutines): both waiting spawns
 * must end at once with GR_ESTATE (they would be refused anyway; before the fix they waited
 * for good, and the plain thread's kept the runtime from being reclaimed). Closing the
 * channel then lets the bound goroutines end and the shutdown return GR_OK. */
#include "harness.h"
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

static gr_chan *block;
static atomic_int thread_rc = 1, g_rc = 1;

static void bound_body(void *a) { (void)a; long v; gr_chan_recv(block, &v, GR_FOREVER); }
static void never(void *a) { (void)a; abort(); }

static int spawn_bound_forever(void) {
  gr_spawn_opts o; gr_spawn_opts_init(&o);
  o.flags = GR_SPAWN_BOUND; o.timeout_ns = GR_FOREVER;
  return gr_spawn_ex(never, NULL, &o, NULL);
}
static void *spawner_t(void *a) { (void)a; atomic_store(&thread_rc, spawn_bound_forever()); return NULL; }
static void spawner_g(void *a) { (void)a; atomic_store(&g_rc, spawn_bound_forever()); }
static void *shutdown_t(void *a) { (void)a; return (void *)(long)gr_shutdown(GR_FOREVER); }

int main(void) {
  gr_config c; gr_config_init(&c); c.workers = 1; c.max_threads = 4;
  CHECK_OK(gr_init(&c));
  CHECK_OK(gr_chan_new(sizeof(long), 0, &block));
  gr_spawn_opts o; gr_spawn_opts_init(&o); o.flags = GR_SPAWN_BOUND;
  CHECK_OK(gr_spawn_ex(bound_body, NULL, &o, NULL));
  CHECK_OK(gr_spawn_ex(bound_body, NULL, &o, NULL));
  CHECK_RC(gr_spawn_ex(bound_body, NULL, &o, NULL), GR_EAGAIN); /* every slot is held */
  pthread_t sp, sd;
  CHECK(pthread_create(&sp, NULL, spawner_t, NULL) == 0);
  CHECK_OK(gr_spawn(spawner_g, NULL, NULL));
  usleep(100000);
  CHECK(atomic_load(&thread_rc) == 1 && atomic_load(&g_rc) == 1); /* both wait for a slot */
  double t0 = now_s();
  CHECK(pthread_create(&sd, NULL, shutdown_t, NULL) == 0);
  while (atomic_load(&thread_rc) == 1 || atomic_load(&g_rc) == 1) {
    CHECK(now_s() - t0 < 10); /* not woken: the bug */
    usleep(1000);
  }
  double dt = now_s() - t0;
  CHECK_RC(atomic_load(&thread_rc), GR_ESTATE);
  CHECK_RC(atomic_load(&g_rc), GR_ESTATE);
  pthread_join(sp, NULL);
  CHECK_OK(gr_chan_close(block));
  void *rc;
  pthread_join(sd, &rc);
  CHECK_RC((int)(long)rc, GR_OK);
  gr_chan_release(block);
  printf("bound spawns waiting for a thread slot ended with GR_ESTATE %.3f s after gr_shutdown began\n", dt);
  return 0;
}
