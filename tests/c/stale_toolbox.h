/* The toolbox's handle types (issue 15) and the completion ports (issue 13) under issue 11's
 * lifecycle rule: a handle belongs to the runtime that was live when it was made; once that
 * runtime is shut down, or in a fork()ed child (also after its own gr_init), every call with
 * it answers GR_ESTATE (functions returning a value: 0 or NULL), and freeing it still frees
 * it. `tb_make` makes one of each, `tb_probe` checks every call of each, `tb_free` frees
 * them. Shared by fault_stale_toolbox.c and fault_fork_stale_toolbox.c. */
#ifndef GR_TEST_STALE_TOOLBOX_H
#define GR_TEST_STALE_TOOLBOX_H
#include "harness.h"

typedef struct {
  gr_rwmutex *rw; gr_once *once; gr_mutex *mu; gr_cond *cond; gr_sem *sem;
  gr_timer *timer; gr_ticker *ticker; gr_chan *after; gr_cancel *ctx, *child, *deadline;
  gr_group *group; gr_port *port; gr_chan *ach; gr_async *aop; long aval;
} tb_handles;

static int tb_once_fn(void *arg) { (void)arg; return 0; }
static void tb_nop(void *arg) { (void)arg; }
static int tb_task(void *arg, gr_cancel *ctx) { (void)arg; (void)ctx; return 0; }

/* One of each, in a usable state: the timer and ticker running, the context with a deadline
 * an hour away, an asynchronous receive pending on a port. */
static inline void tb_make(tb_handles *t) {
  CHECK_OK(gr_rwmutex_new(&t->rw));
  CHECK_OK(gr_once_new(&t->once));
  CHECK_OK(gr_mutex_new(&t->mu));
  CHECK_OK(gr_cond_new(t->mu, &t->cond));
  CHECK_OK(gr_sem_new(2, &t->sem));
  CHECK_OK(gr_timer_new(3600000000000LL, &t->timer));
  CHECK_OK(gr_ticker_new(3600000000000LL, &t->ticker));
  CHECK_OK(gr_after(3600000000000LL, &t->after));
  CHECK_OK(gr_cancel_new(&t->ctx));
  CHECK_OK(gr_cancel_new_child(t->ctx, &t->child));
  CHECK_OK(gr_cancel_new_timeout(t->ctx, 3600000000000LL, &t->deadline));
  CHECK(gr_cancel_done(t->deadline) != NULL);
  CHECK_OK(gr_group_new(t->ctx, 2, &t->group));
  CHECK_OK(gr_port_new(&t->port));
  CHECK_OK(gr_chan_new(sizeof(long), 0, &t->ach));
  CHECK_OK(gr_chan_recv_async(t->ach, &t->aval, t->port, 7, &t->aop));
}

/* `want` from every call (GR_ESTATE for stale handles). */
static inline int tb_probe(const tb_handles *t, int want, const char *who) {
  int bad = 0, code = 0;
  long v = 0;
#define P(expr) do { int rc_ = (expr); if (rc_ != want) { \
    fprintf(stderr, "%s: %s returned %d (%s), want %d\n", who, #expr, rc_, gr_strerror(rc_), want); bad++; } } while (0)
#define PNULL(expr) do { if ((expr) != NULL) { fprintf(stderr, "%s: %s is not NULL\n", who, #expr); bad++; } } while (0)
  P(gr_rwmutex_lock(t->rw, 0)); P(gr_rwmutex_lock(t->rw, GR_FOREVER));
  P(gr_rwmutex_rlock(t->rw, 0)); P(gr_rwmutex_rlock_ex(t->rw, GR_FOREVER, NULL));
  P(gr_rwmutex_unlock(t->rw)); P(gr_rwmutex_runlock(t->rw));
  P(gr_once_do(t->once, tb_once_fn, NULL, GR_FOREVER)); P(gr_once_state(t->once, &code));
  P(gr_cond_wait(t->cond, GR_FOREVER)); P(gr_cond_signal(t->cond)); P(gr_cond_broadcast(t->cond));
  P(gr_sem_acquire(t->sem, 1, GR_FOREVER)); P(gr_sem_release(t->sem, 1));
  P(gr_timer_stop(t->timer)); P(gr_timer_reset(t->timer, 1000000)); PNULL(gr_timer_chan(t->timer));
  P(gr_ticker_stop(t->ticker)); P(gr_ticker_reset(t->ticker, 1000000)); PNULL(gr_ticker_chan(t->ticker));
  P(gr_chan_recv(t->after, &v, GR_FOREVER)); P(gr_chan_recv(t->after, &v, 0));
  gr_case cs = {t->after, GR_RECV, &v, 77};
  P(gr_select(&cs, 1, GR_FOREVER));
  P(gr_cancel_err(t->deadline)); P(gr_cancel_deadline(t->deadline, NULL)); PNULL(gr_cancel_done(t->deadline));
  P(gr_cancel_fire(t->child)); P(gr_cancel_err(t->child));
  gr_cancel *k = NULL;
  P(gr_cancel_new_child(t->ctx, &k)); P(gr_cancel_new_timeout(t->ctx, 1000000, &k));
  CHECK(k == NULL); /* outputs are written only on success */
  gr_group *g = NULL;
  P(gr_group_new(t->ctx, 0, &g)); CHECK(g == NULL);
  PNULL(gr_group_context(t->group)); PNULL(gr_group_error(t->group, &code));
  P(gr_group_go(t->group, tb_task, NULL, GR_FOREVER));
  gr_handle *h = NULL;
  P(gr_group_spawn(t->group, tb_nop, NULL, NULL, GR_FOREVER, NULL, &h)); CHECK(h == NULL);
  P(gr_group_wait(t->group, GR_FOREVER)); P(gr_group_cancel(t->group));
  P(gr_port_fd(t->port));
  size_t n = 99; uint64_t users[4];
  P(gr_port_take(t->port, users, 4, &n)); CHECK(n == 99);
  P(gr_async_status(t->aop)); P(gr_async_cancel(t->aop));
  gr_async *op = NULL;
  P(gr_chan_send_async(t->ach, &v, t->port, 8, &op)); CHECK(op == NULL);
  /* A live object with a stale context: refused too. */
  if (want == GR_ESTATE) {
    gr_sem *s;
    if (gr_sem_new(1, &s) == GR_OK) {
      P(gr_sem_acquire_ex(s, 1, GR_FOREVER, t->ctx));
      gr_sem_free(s);
    }
  }
#undef P
#undef PNULL
  return bad;
}

static inline void tb_free(tb_handles *t) {
  gr_async_free(t->aop); gr_chan_release(t->ach); gr_port_free(t->port);
  gr_group_free(t->group);
  gr_cancel_free(t->deadline); gr_cancel_free(t->child); gr_cancel_free(t->ctx);
  gr_chan_release(t->after); gr_ticker_free(t->ticker); gr_timer_free(t->timer);
  gr_sem_free(t->sem); gr_cond_free(t->cond); gr_mutex_free(t->mu); gr_once_free(t->once);
  gr_rwmutex_free(t->rw);
}
#endif
