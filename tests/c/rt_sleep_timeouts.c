/* gr_sleep and timeouts, from goroutines and plain threads; cancel tokens; bound goroutines. */
#include "harness.h"
#include <pthread.h>
#include <stdatomic.h>

static atomic_int bad;

static void sleeper(void *arg) {
  long ms = (long)arg;
  double t0 = now_s();
  CHECK_OK(gr_sleep(ms * 1000000));
  double dt = now_s() - t0;
  if (dt < ms / 1000.0 || dt > ms / 1000.0 + 0.05) atomic_fetch_add(&bad, 1);
}

static gr_cancel *tok;
static void cancelled_sleeper(void *arg) {
  (void)arg;
  if (gr_sleep_ex(10LL * 1000000000LL, tok) != GR_ECANCELED) atomic_fetch_add(&bad, 1);
}

static void *thread_canceller(void *arg) { (void)arg; gr_sleep(20000000); gr_cancel_fire(tok); return NULL; }

static void bound(void *arg) {
  (void)arg;
  CHECK(gr_context() == GR_CTX_BOUND);
  CHECK(gr_self() != 0);
  CHECK_OK(gr_sleep(5000000)); /* blocks the thread, hands the processor off */
}
static void coro(void *arg) { (void)arg; CHECK(gr_context() == GR_CTX_COROUTINE); CHECK(gr_self() != 0); }

int main(void) {
  init_workers(2);
  gr_handle *hs[50];
  for (long i = 0; i < 50; i++) CHECK_OK(gr_spawn(sleeper, (void *)(1 + i % 20), &hs[i]));
  for (int i = 0; i < 50; i++) { CHECK_OK(gr_wait(hs[i], GR_FOREVER)); gr_handle_release(hs[i]); }
  CHECK(atomic_load(&bad) == 0);

  /* plain thread sleep */
  double t0 = now_s();
  CHECK_OK(gr_sleep(10000000));
  CHECK(now_s() - t0 >= 0.010);

  /* cancel: goroutines and a thread waiting, fired from another thread */
  CHECK_OK(gr_cancel_new(&tok));
  for (int i = 0; i < 10; i++) CHECK_OK(gr_spawn(cancelled_sleeper, NULL, &hs[i]));
  pthread_t th;
  CHECK(pthread_create(&th, NULL, thread_canceller, NULL) == 0);
  t0 = now_s();
  gr_cancel_reset(tok);
  CHECK_RC(gr_sleep_ex(10LL * 1000000000LL, tok), GR_ECANCELED);
  CHECK(now_s() - t0 < 5);
  pthread_join(th, NULL);
  for (int i = 0; i < 10; i++) { CHECK_OK(gr_wait_ex(hs[i], GR_FOREVER, NULL)); gr_handle_release(hs[i]); }
  CHECK(atomic_load(&bad) == 0);
  /* a fired token ends new waits at once; reset re-arms it */
  CHECK_RC(gr_sleep_ex(1000000000, tok), GR_ECANCELED);
  CHECK_OK(gr_cancel_reset(tok));
  CHECK_OK(gr_sleep_ex(1000, tok));
  gr_cancel_free(tok);
  CHECK_RC(gr_cancel_fire(tok), GR_EINVAL);

  /* bound goroutines */
  gr_spawn_opts o; gr_spawn_opts_init(&o); o.flags = GR_SPAWN_BOUND;
  for (int i = 0; i < 20; i++) CHECK_OK(gr_spawn_ex(bound, NULL, &o, &hs[i]));
  for (int i = 20; i < 40; i++) CHECK_OK(gr_spawn(coro, NULL, &hs[i]));
  for (int i = 0; i < 40; i++) { CHECK_OK(gr_wait(hs[i], GR_FOREVER)); gr_handle_release(hs[i]); }
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
