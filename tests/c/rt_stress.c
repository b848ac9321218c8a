/* Scheduler stress: goroutines that yield, sleep, spawn children, pin and unpin, enter
 * blocking calls, run bound, and are joined with timeouts and cancelled from plain threads,
 * all at once on 2 workers. Every goroutine must finish and every join must be accounted
 * for; a lost wakeup shows up as a hang (the runner's timeout). */
#include "harness.h"
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <sys/syscall.h>

#define ROOTS 400
static atomic_long finished, spawned, pinned_ok, cancelled;
static gr_cancel *tokens[8];

static unsigned rnd(unsigned *s) { *s = *s * 1103515245u + 12345u; return *s >> 16; }

static void leaf(void *arg) {
  unsigned s = (unsigned)(uintptr_t)arg;
  for (int i = 0; i < 5; i++) {
    switch (rnd(&s) % 6) {
    case 0: gr_yield(); break;
    case 1: gr_sleep((rnd(&s) % 200) * 1000); break;
    case 2: gr_blocking_begin(); usleep(rnd(&s) % 300); gr_blocking_end(); break;
    case 3: {
      CHECK_OK(gr_pin());
      pid_t t = (pid_t)syscall(SYS_gettid);
      gr_sleep(1000); gr_yield();
      if ((pid_t)syscall(SYS_gettid) == t) atomic_fetch_add(&pinned_ok, 1);
      else { fprintf(stderr, "pinned goroutine moved\n"); exit(1); }
      CHECK_OK(gr_unpin());
      break;
    }
    case 4: {
      int rc = gr_sleep_ex(50 * 1000000LL, tokens[rnd(&s) % 8]);
      if (rc == GR_ECANCELED) atomic_fetch_add(&cancelled, 1); else CHECK_OK(rc);
      break;
    }
    default: { volatile long x = 0; for (int k = 0; k < 20000; k++) x += k; }
    }
  }
  atomic_fetch_add(&finished, 1);
}

static void root(void *arg) {
  unsigned s = (unsigned)(uintptr_t)arg * 2654435761u;
  gr_handle *kids[8];
  int n = 1 + rnd(&s) % 8;
  gr_spawn_opts o; gr_spawn_opts_init(&o);
  for (int i = 0; i < n; i++) {
    o.flags = (rnd(&s) % 5 == 0) ? GR_SPAWN_BOUND : 0;
    CHECK_OK(gr_spawn_ex(leaf, (void *)(uintptr_t)rnd(&s), &o, &kids[i]));
    atomic_fetch_add(&spawned, 1);
  }
  for (int i = 0; i < n; i++) {
    int rc;
    while ((rc = gr_wait(kids[i], (rnd(&s) % 3) * 1000000LL)) == GR_ETIMEDOUT || rc == GR_EAGAIN) {}
    CHECK_OK(rc);
    gr_handle_release(kids[i]);
  }
  atomic_fetch_add(&finished, 1);
}

static atomic_int stop;
static void *canceller(void *arg) {
  (void)arg;
  unsigned s = 7;
  while (!atomic_load(&stop)) {
    gr_cancel *t = tokens[rnd(&s) % 8];
    gr_cancel_fire(t);
    usleep(200);
    gr_cancel_reset(t);
    usleep(rnd(&s) % 2000);
  }
  return NULL;
}

static gr_handle *roots[ROOTS];
static void *joiner(void *arg) {
  long k = (long)arg;
  for (int i = (int)k; i < ROOTS; i += 4) {
    int rc;
    while ((rc = gr_wait(roots[i], 3000000)) == GR_ETIMEDOUT) {}
    CHECK_OK(rc);
  }
  return NULL;
}

int main(void) {
  init_workers(2);
  for (int i = 0; i < 8; i++) CHECK_OK(gr_cancel_new(&tokens[i]));
  pthread_t c, j[4];
  CHECK(pthread_create(&c, NULL, canceller, NULL) == 0);
  double t0 = now_s();
  for (long i = 0; i < ROOTS; i++) CHECK_OK(gr_spawn(root, (void *)(i + 1), &roots[i]));
  for (long k = 0; k < 4; k++) CHECK(pthread_create(&j[k], NULL, joiner, (void *)k) == 0);
  for (int k = 0; k < 4; k++) pthread_join(j[k], NULL);
  atomic_store(&stop, 1);
  pthread_join(c, NULL);
  for (int i = 0; i < ROOTS; i++) gr_handle_release(roots[i]);
  printf("%ld goroutines finished in %.2fs (%ld pinned checks, %ld cancelled sleeps)\n",
         atomic_load(&finished), now_s() - t0, atomic_load(&pinned_ok), atomic_load(&cancelled));
  CHECK(atomic_load(&finished) == ROOTS + atomic_load(&spawned));
  gr_stats st = {.size = sizeof st};
  CHECK_OK(gr_stats_get(&st));
  CHECK(st.goroutines == 0);
  CHECK_OK(gr_shutdown(5000000000LL));
  for (int i = 0; i < 8; i++) gr_cancel_free(tokens[i]);
  return 0;
}
