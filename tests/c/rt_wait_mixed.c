/* gr_wait on the same goroutines from goroutines and from 8 plain pthreads at once. */
#include "harness.h"
#include <pthread.h>
#include <stdatomic.h>

#define N 2000
static gr_handle *hs[N];
static atomic_int finished[N];
static atomic_long joins;

static void worker(void *arg) {
  long i = (long)arg;
  gr_sleep((i % 7) * 100000); /* some finish before, some after the waiters arrive */
  atomic_store(&finished[i], 1);
}

static void join_all(void) {
  for (int i = 0; i < N; i++) {
    CHECK_OK(gr_wait(hs[i], GR_FOREVER));
    CHECK(atomic_load(&finished[i]) == 1);
    atomic_fetch_add(&joins, 1);
  }
}
static void g_joiner(void *arg) { (void)arg; join_all(); }
static void *t_joiner(void *arg) { (void)arg; join_all(); return NULL; }

int main(void) {
  for (long i = 0; i < N; i++) CHECK_OK(gr_spawn(worker, (void *)i, &hs[i]));
  pthread_t th[8];
  gr_handle *gj[8];
  for (int i = 0; i < 8; i++) CHECK(pthread_create(&th[i], NULL, t_joiner, NULL) == 0);
  for (int i = 0; i < 8; i++) CHECK_OK(gr_spawn(g_joiner, NULL, &gj[i]));
  for (int i = 0; i < 8; i++) CHECK(pthread_join(th[i], NULL) == 0);
  for (int i = 0; i < 8; i++) { CHECK_OK(gr_wait(gj[i], GR_FOREVER)); gr_handle_release(gj[i]); }
  CHECK(atomic_load(&joins) == 16L * N);
  /* Timeouts: a goroutine that never ends times out, poll gives EAGAIN. */
  for (int i = 0; i < N; i++) gr_handle_release(hs[i]);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
