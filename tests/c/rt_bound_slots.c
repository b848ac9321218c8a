/* Bound goroutines at the thread cap (issue 16, defect 3). With max_threads 64 and 100 bound
 * goroutines blocked in a receive, the spawn of the sender that would release them used to
 * succeed and the sender never ran: no error, no progress. Now a bound goroutine holds a
 * thread slot from spawn to return, there are max_threads - workers - 1 slots, and a spawn
 * beyond them waits up to gr_spawn_opts.timeout_ns and fails clearly (GR_EAGAIN,
 * GR_ETIMEDOUT); whatever the bound goroutines do, a thread remains for every processor, so
 * a queued goroutine always runs. Checked from a plain thread, a coroutine goroutine and a
 * bound goroutine. */
#include "harness.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <unistd.h>

#define MAX_THREADS 64
#define WORKERS 2
#define SLOTS (MAX_THREADS - WORKERS - 1)

static gr_chan *ch;
static atomic_int received;

static void receiver(void *arg) {
  (void)arg;
  long v;
  CHECK_OK(gr_chan_recv(ch, &v, GR_FOREVER)); /* blocks its thread (bound) */
  atomic_fetch_add(&received, 1);
}

static void sender(void *arg) {
  long n = (long)(intptr_t)arg;
  for (long i = 0; i < n; i++) CHECK_OK(gr_chan_send(ch, &i, GR_FOREVER));
}

static gr_spawn_opts bound_opts(int64_t timeout_ns) {
  gr_spawn_opts o;
  gr_spawn_opts_init(&o);
  o.flags = GR_SPAWN_BOUND;
  o.timeout_ns = timeout_ns;
  return o;
}

static void nop(void *arg) { (void)arg; }

/* In a goroutine (coroutine or bound): a bound spawn beyond the slots times out there too. */
static atomic_int inner_rc;
static void spawn_from_goroutine(void *arg) {
  (void)arg;
  gr_spawn_opts o = bound_opts(30 * 1000000LL);
  double t0 = now_s();
  atomic_store(&inner_rc, gr_spawn_ex(nop, NULL, &o, NULL));
  CHECK(now_s() - t0 >= 0.025);
}

/* A plain thread waiting without limit for a slot. */
static void *forever_spawner(void *arg) {
  gr_handle **h = arg;
  gr_spawn_opts o = bound_opts(GR_FOREVER);
  CHECK_OK(gr_spawn_ex(receiver, NULL, &o, h));
  return NULL;
}

int main(void) {
  gr_config c;
  gr_config_init(&c);
  c.workers = WORKERS;
  c.max_threads = MAX_THREADS;
  CHECK_OK(gr_init(&c));
  CHECK_OK(gr_chan_new(sizeof(long), 0, &ch));

  /* 100 bound receivers, timeout 0: the first SLOTS start, the rest are refused at once */
  gr_handle *hs[100];
  int ok = 0, again = 0;
  for (int i = 0; i < 100; i++) {
    gr_spawn_opts o = bound_opts(0);
    int rc = gr_spawn_ex(receiver, NULL, &o, &hs[ok]);
    if (rc == GR_OK) ok++;
    else { CHECK_RC(rc, GR_EAGAIN); again++; }
  }
  printf("100 bound receivers: %d started, %d refused with GR_EAGAIN (slots %d)\n", ok, again, SLOTS);
  CHECK(ok == SLOTS && again == 100 - SLOTS);
  usleep(100000); /* they block, each on its own thread */

  /* the cap holds: a timed spawn fails after its timeout, a poll at once */
  gr_spawn_opts o = bound_opts(50 * 1000000LL);
  double t0 = now_s();
  CHECK_RC(gr_spawn_ex(nop, NULL, &o, NULL), GR_ETIMEDOUT);
  CHECK(now_s() - t0 >= 0.045);
  o = bound_opts(0);
  CHECK_RC(gr_spawn_ex(nop, NULL, &o, NULL), GR_EAGAIN);
  /* an options struct from an older gr.h (no timeout_ns) means timeout 0 */
  o = bound_opts(GR_FOREVER);
  o.size = offsetof(gr_spawn_opts, timeout_ns);
  CHECK_RC(gr_spawn_ex(nop, NULL, &o, NULL), GR_EAGAIN);

  /* from a coroutine goroutine: it parks for the timeout, then gets GR_ETIMEDOUT */
  gr_handle *g;
  CHECK_OK(gr_spawn(spawn_from_goroutine, NULL, &g));
  CHECK_OK(gr_wait(g, 10 * 1000000000LL));
  gr_handle_release(g);
  CHECK_RC(atomic_load(&inner_rc), GR_ETIMEDOUT);

  /* a plain thread waiting without limit gets the slot of the first receiver to return */
  gr_handle *late = NULL;
  pthread_t t;
  CHECK(pthread_create(&t, NULL, forever_spawner, &late) == 0);
  usleep(50000);
  CHECK(late == NULL);

  /* the sender: a coroutine goroutine, which always finds a thread, releases everyone */
  CHECK_OK(gr_spawn(sender, (void *)(intptr_t)(SLOTS + 1), &g));
  CHECK_OK(gr_wait(g, 30 * 1000000000LL));
  gr_handle_release(g);
  CHECK(pthread_join(t, NULL) == 0);
  CHECK(late != NULL);
  for (int i = 0; i < ok; i++) { CHECK_OK(gr_wait(hs[i], 30 * 1000000000LL)); gr_handle_release(hs[i]); }
  CHECK_OK(gr_wait(late, 30 * 1000000000LL));
  gr_handle_release(late);
  CHECK(atomic_load(&received) == SLOTS + 1);

  /* every slot came back: SLOTS - 1 receivers and one bound goroutine that tries to spawn
     another bound one (it blocks its thread for the timeout, then gets GR_ETIMEDOUT) */
  for (int i = 0; i < SLOTS - 1; i++) {
    o = bound_opts(0);
    CHECK_OK(gr_spawn_ex(receiver, NULL, &o, &hs[i]));
  }
  atomic_store(&inner_rc, 1);
  o = bound_opts(0);
  CHECK_OK(gr_spawn_ex(spawn_from_goroutine, NULL, &o, &g));
  CHECK_OK(gr_wait(g, 10 * 1000000000LL));
  gr_handle_release(g);
  CHECK_RC(atomic_load(&inner_rc), GR_ETIMEDOUT);
  /* one slot left: a joined bound goroutine has given it back by the time its join returns,
     so the next spawn with timeout 0 finds it (it was released just after the join's wake) */
  for (int i = 0; i < 1000; i++) {
    o = bound_opts(0);
    CHECK_OK(gr_spawn_ex(nop, NULL, &o, &g));
    CHECK_OK(gr_wait(g, 10 * 1000000000LL));
    gr_handle_release(g);
  }
  CHECK_OK(gr_spawn(sender, (void *)(intptr_t)(SLOTS - 1), &g));
  for (int i = 0; i < SLOTS - 1; i++) { CHECK_OK(gr_wait(hs[i], 30 * 1000000000LL)); gr_handle_release(hs[i]); }
  CHECK_OK(gr_wait(g, 30 * 1000000000LL));
  gr_handle_release(g);
  gr_chan_release(ch);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  printf("no hang: every receiver got its value\n");
  return 0;
}
