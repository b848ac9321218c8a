/* RWMutex, Once, Cond and the weighted semaphore through the C API, each shared by
   goroutines, thread-bound goroutines and pthreads at once, with timeouts, polls, cancel
   tokens and bad input. */
#include "toolbox.h"
#include <stdatomic.h>

/* ------------------------------------------------------------------------------ RWMutex */
static gr_rwmutex *rw;
static atomic_int activity;
static long rw_data;

static void rw_hammer(void *arg) {
  int writer = (int)(intptr_t)arg;
  for (int i = 0; i < 3000; i++) {
    if (writer && i % 10 == 0) {
      CHECK_OK(gr_rwmutex_lock(rw, GR_FOREVER));
      CHECK(atomic_fetch_add(&activity, 10000) == 0);
      rw_data++;
      atomic_fetch_sub(&activity, 10000);
      CHECK_OK(gr_rwmutex_unlock(rw));
    } else {
      CHECK_OK(gr_rwmutex_rlock(rw, GR_FOREVER));
      int n = atomic_fetch_add(&activity, 1) + 1;
      CHECK(n >= 1 && n < 10000);
      atomic_fetch_sub(&activity, 1);
      CHECK_OK(gr_rwmutex_runlock(rw));
    }
  }
}

static void rwmutex_tests(void) {
  CHECK_OK(gr_rwmutex_new(&rw));
  CHECK_RC(gr_rwmutex_unlock(rw), GR_ESTATE);
  CHECK_RC(gr_rwmutex_runlock(rw), GR_ESTATE);
  CHECK_OK(gr_rwmutex_rlock(rw, 0));
  CHECK_OK(gr_rwmutex_rlock(rw, 0));
  CHECK_RC(gr_rwmutex_lock(rw, 0), GR_EAGAIN);
  double t0 = now_s();
  CHECK_RC(gr_rwmutex_lock(rw, ms_ns(20)), GR_ETIMEDOUT);
  CHECK(now_s() - t0 >= 0.019);
  CHECK_OK(gr_rwmutex_runlock(rw));
  CHECK_OK(gr_rwmutex_runlock(rw));
  CHECK_OK(gr_rwmutex_lock(rw, 0));
  CHECK_RC(gr_rwmutex_rlock(rw, 0), GR_EAGAIN);
  gr_cancel *c;
  CHECK_OK(gr_cancel_new(&c));
  CHECK_OK(gr_cancel_fire(c));
  CHECK_RC(gr_rwmutex_rlock_ex(rw, GR_FOREVER, c), GR_ECANCELED);
  CHECK_RC(gr_rwmutex_lock_ex(rw, GR_FOREVER, c), GR_ECANCELED);
  gr_cancel_free(c);
  CHECK_OK(gr_rwmutex_unlock(rw));
  mix m = {0};
  for (int i = 0; i < 12; i++) mix_start(&m, i, rw_hammer, (void *)(intptr_t)(i % 4 == 0));
  mix_join(&m);
  CHECK(rw_data == 3 * 300);
  gr_rwmutex_free(rw);
  CHECK_RC(gr_rwmutex_lock(rw, 0), GR_EINVAL);
  CHECK_RC(gr_rwmutex_rlock(NULL, 0), GR_EINVAL);
  CHECK_RC(gr_rwmutex_new(NULL), GR_EINVAL);
}

/* --------------------------------------------------------------------------------- Once */
static gr_once *once;
static atomic_int runs;
static gr_chan *gate;

static int init_fn(void *arg) {
  (void)arg;
  atomic_fetch_add(&runs, 1);
  int64_t v;
  CHECK_OK(gr_chan_recv(gate, &v, GR_FOREVER));  /* parks while the others wait */
  return 0;
}
static int failing_fn(void *arg) { (void)arg; atomic_fetch_add(&runs, 1); return 42; }
static int recursive_fn(void *arg) {
  CHECK_RC(gr_once_do((gr_once *)arg, failing_fn, NULL, GR_FOREVER), GR_ESTATE);
  return 0;
}

static void once_caller(void *arg) {
  (void)arg;
  CHECK_OK(gr_once_do(once, init_fn, NULL, GR_FOREVER));
  CHECK(atomic_load(&runs) == 1);
}

static void once_tests(void) {
  CHECK_OK(gr_once_new(&once));
  CHECK_OK(gr_chan_new(8, 0, &gate));
  int code = -1;
  CHECK_RC(gr_once_state(once, &code), GR_ONCE_NEW);
  mix m = {0};
  for (int i = 0; i < 9; i++) mix_start(&m, i, once_caller, NULL);
  while (gr_once_state(once, NULL) != GR_ONCE_RUNNING) gr_yield();
  CHECK_RC(gr_once_do(once, failing_fn, NULL, 0), GR_EAGAIN);
  CHECK_RC(gr_once_do(once, failing_fn, NULL, ms_ns(5)), GR_ETIMEDOUT);
  int64_t v = 1;
  CHECK_OK(gr_sleep(ms_ns(10)));
  CHECK_OK(gr_chan_send(gate, &v, GR_FOREVER));
  mix_join(&m);
  CHECK(atomic_load(&runs) == 1);
  CHECK_RC(gr_once_state(once, &code), GR_ONCE_DONE);
  CHECK(code == 0);
  gr_once_free(once);
  /* failure is final and reported to every caller */
  atomic_store(&runs, 0);
  CHECK_OK(gr_once_new(&once));
  CHECK_RC(gr_once_do(once, failing_fn, NULL, GR_FOREVER), GR_EPANIC);
  CHECK_RC(gr_once_do(once, failing_fn, NULL, GR_FOREVER), GR_EPANIC);
  CHECK(atomic_load(&runs) == 1);
  CHECK_RC(gr_once_state(once, &code), GR_ONCE_FAILED);
  CHECK(code == 42);
  gr_once_free(once);
  /* a call from inside the function */
  CHECK_OK(gr_once_new(&once));
  CHECK_OK(gr_once_do(once, recursive_fn, once, GR_FOREVER));
  gr_once_free(once);
  CHECK_RC(gr_once_do(once, failing_fn, NULL, 0), GR_EINVAL);
  CHECK_OK(gr_once_new(&once));
  CHECK_RC(gr_once_do(once, NULL, NULL, 0), GR_EINVAL);
  CHECK_RC(gr_once_state(NULL, NULL), GR_EINVAL);
  gr_once_free(once);
  gr_chan_release(gate);
}

/* --------------------------------------------------------------------------------- Cond */
static gr_mutex *cmu;
static gr_cond *cond;
static int queue_len, consumed;

static void consumer(void *arg) {
  int n = (int)(intptr_t)arg;
  for (int i = 0; i < n; i++) {
    CHECK_OK(gr_mutex_lock(cmu, GR_FOREVER));
    while (queue_len == 0) CHECK_OK(gr_cond_wait(cond, GR_FOREVER));
    queue_len--;
    consumed++;
    CHECK_OK(gr_mutex_unlock(cmu));
  }
}

static void cond_tests(void) {
  CHECK_OK(gr_mutex_new(&cmu));
  CHECK_RC(gr_cond_new(NULL, &cond), GR_EINVAL);
  CHECK_OK(gr_cond_new(cmu, &cond));
  CHECK_RC(gr_cond_wait(cond, ms_ns(1)), GR_ESTATE);   /* mutex not held */
  CHECK_OK(gr_mutex_lock(cmu, GR_FOREVER));
  CHECK_RC(gr_cond_wait(cond, 0), GR_EAGAIN);
  CHECK_RC(gr_cond_wait(cond, ms_ns(10)), GR_ETIMEDOUT);
  CHECK_RC(gr_mutex_lock(cmu, 0), GR_EAGAIN);        /* still locked by us */
  gr_cancel *c;
  CHECK_OK(gr_cancel_new(&c));
  CHECK_OK(gr_cancel_fire(c));
  CHECK_RC(gr_cond_wait_ex(cond, GR_FOREVER, c), GR_ECANCELED);
  gr_cancel_free(c);
  CHECK_OK(gr_mutex_unlock(cmu));
  /* a producer/consumer queue: 6 consumers of every kind, signal per item, broadcast at end */
  mix m = {0};
  for (int i = 0; i < 6; i++) mix_start(&m, i, consumer, (void *)(intptr_t)500);
  for (int i = 0; i < 3000; i++) {
    CHECK_OK(gr_mutex_lock(cmu, GR_FOREVER));
    queue_len++;
    CHECK_OK(gr_mutex_unlock(cmu));
    if (i % 7 == 0) CHECK_OK(gr_cond_broadcast(cond)); else CHECK_OK(gr_cond_signal(cond));
    if (i % 100 == 0) gr_yield();
  }
  mix_join(&m);
  CHECK(consumed == 3000 && queue_len == 0);
  gr_cond_free(cond);
  CHECK_RC(gr_cond_signal(cond), GR_EINVAL);
  CHECK_RC(gr_cond_broadcast(NULL), GR_EINVAL);
  gr_mutex_free(cmu);
}

/* ---------------------------------------------------------------------------- Semaphore */
static gr_sem *sem;
static atomic_long held;

static void sem_user(void *arg) {
  int64_t w = (int64_t)(intptr_t)arg;
  for (int i = 0; i < 2000; i++) {
    CHECK_OK(gr_sem_acquire(sem, w, GR_FOREVER));
    long h = atomic_fetch_add(&held, w) + w;
    CHECK(h <= 5);
    atomic_fetch_sub(&held, w);
    CHECK_OK(gr_sem_release(sem, w));
  }
}

static void sem_tests(void) {
  CHECK_RC(gr_sem_new(-1, &sem), GR_EINVAL);
  CHECK_OK(gr_sem_new(5, &sem));
  CHECK_RC(gr_sem_acquire(sem, 6, GR_FOREVER), GR_EINVAL);   /* can never succeed */
  CHECK_RC(gr_sem_acquire(sem, -1, 0), GR_EINVAL);
  CHECK_RC(gr_sem_release(sem, 1), GR_ESTATE);
  CHECK_OK(gr_sem_acquire(sem, 4, 0));
  CHECK_RC(gr_sem_acquire(sem, 2, 0), GR_EAGAIN);
  CHECK_RC(gr_sem_acquire(sem, 2, ms_ns(10)), GR_ETIMEDOUT);
  gr_cancel *c;
  CHECK_OK(gr_cancel_new(&c));
  CHECK_OK(gr_cancel_fire(c));
  CHECK_RC(gr_sem_acquire_ex(sem, 1, GR_FOREVER, c), GR_ECANCELED); /* even though 1 is free */
  gr_cancel_free(c);
  CHECK_OK(gr_sem_release(sem, 4));
  mix m = {0};
  for (int i = 0; i < 9; i++) mix_start(&m, i, sem_user, (void *)(intptr_t)(1 + i % 3));
  mix_join(&m);
  CHECK_OK(gr_sem_acquire(sem, 5, 0));   /* everything came back */
  CHECK_OK(gr_sem_release(sem, 5));
  gr_sem_free(sem);
  CHECK_RC(gr_sem_acquire(sem, 1, 0), GR_EINVAL);
}

int main(void) {
  init_workers(2);
  rwmutex_tests();
  once_tests();
  cond_tests();
  sem_tests();
  printf("tb_sync: ok\n");
  return 0;
}
