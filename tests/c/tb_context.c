/* Contexts through the C API: derived tokens, deadlines and their reason, the done channel
   in gr_select, every _ex wait ended by a context (from goroutines, bound goroutines and
   pthreads), a 20,000-waiter fan-out, freeing that cancels, the old gr_cancel_* behaviour. */
#include "toolbox.h"

static int done_now(gr_cancel *c) {
  char b;
  return gr_chan_recv(gr_cancel_done(c), &b, 0) == GR_ECLOSED;
}

static void tree_and_reasons(void) {
  gr_cancel *root, *child, *grand, *dl;
  CHECK_OK(gr_cancel_new(&root));
  CHECK_OK(gr_cancel_new_child(root, &child));
  CHECK_OK(gr_cancel_new_timeout(child, ms_ns(20), &grand));
  CHECK_RC(gr_cancel_err(root), GR_OK);
  CHECK_RC(gr_cancel_err(grand), GR_OK);
  int64_t d = 0;
  CHECK_RC(gr_cancel_deadline(root, &d), 0);
  CHECK_RC(gr_cancel_deadline(grand, &d), 1);
  CHECK(d > gr_now() && d <= gr_now() + ms_ns(20));
  CHECK(!done_now(grand));
  /* the deadline fires the grandchild only, with GR_ETIMEDOUT */
  char b;
  CHECK_RC(gr_chan_recv(gr_cancel_done(grand), &b, GR_FOREVER), GR_ECLOSED);
  CHECK_RC(gr_cancel_err(grand), GR_ETIMEDOUT);
  CHECK_RC(gr_cancel_err(child), GR_OK);
  /* a child of a deadline token keeps the earlier deadline */
  CHECK_OK(gr_cancel_new_timeout(child, ms_ns(10000), &dl));
  gr_cancel *dl2;
  CHECK_OK(gr_cancel_new_timeout(dl, GR_FOREVER, &dl2));
  int64_t d1, d2;
  CHECK_RC(gr_cancel_deadline(dl, &d1), 1);
  CHECK_RC(gr_cancel_deadline(dl2, &d2), 1);
  CHECK(d1 == d2);
  /* cancelling the root reaches everything below, with GR_ECANCELED */
  CHECK_OK(gr_cancel_fire(root));
  CHECK(done_now(root) && done_now(child) && done_now(dl) && done_now(dl2));
  CHECK_RC(gr_cancel_err(dl2), GR_ECANCELED);
  CHECK_RC(gr_cancel_err(grand), GR_ETIMEDOUT); /* its first reason stays */
  /* a child of a fired parent is born fired */
  gr_cancel *late;
  CHECK_OK(gr_cancel_new_child(root, &late));
  CHECK_RC(gr_cancel_err(late), GR_ECANCELED);
  /* an absolute deadline in the past: fired at once, timed out */
  gr_cancel *past;
  CHECK_OK(gr_cancel_new_deadline(NULL, gr_now() - 1, &past));
  CHECK_RC(gr_cancel_err(past), GR_ETIMEDOUT);
  /* derived tokens cannot be reset; roots can (the gr_cancel_* of before) */
  CHECK_RC(gr_cancel_reset(child), GR_ESTATE);
  gr_chan *old_done = gr_chan_retain(gr_cancel_done(root));
  CHECK_OK(gr_cancel_reset(root));
  CHECK_RC(gr_cancel_err(root), GR_OK);
  CHECK(!done_now(root));
  CHECK_RC(gr_chan_recv(old_done, &b, 0), GR_ECLOSED);
  gr_chan_release(old_done);
  /* done channels are receive-only */
  CHECK_RC(gr_chan_send(gr_cancel_done(root), &b, 0), GR_EINVAL);
  CHECK_RC(gr_chan_close(gr_cancel_done(root)), GR_EINVAL);
  gr_cancel *ch2;
  CHECK_OK(gr_cancel_new_child(root, &ch2));
  gr_cancel_free(root);                 /* freeing cancels what derives from it */
  CHECK_RC(gr_cancel_err(ch2), GR_ECANCELED);
  gr_cancel *list[] = {child, grand, dl, dl2, late, past, ch2};
  for (size_t i = 0; i < sizeof list / sizeof *list; i++) gr_cancel_free(list[i]);
}

/* Every _ex wait of the API, ended by one context, from any caller. */
static gr_cancel *ctx;
static gr_chan *never;      /* only receivers wait here */
static gr_chan *never_s;    /* only senders wait here */
static gr_mutex *held;
static gr_wg *wg_busy;
static gr_handle *forever_g;
static gr_rwmutex *rw_held;
static gr_sem *sem_empty;
static gr_cond *cond;
static gr_mutex *cond_mu;
static gr_once *once_running;

static void block_forever(void *arg) {
  gr_chan *c = arg;
  int64_t v;
  gr_chan_recv(c, &v, GR_FOREVER);
}

static int once_blocks(void *arg) {
  int64_t v;
  gr_chan_recv((gr_chan *)arg, &v, GR_FOREVER);
  return 0;
}

static void wait_everything(void *arg) {
  int k = (int)(intptr_t)arg % 11;
  int64_t v = 0;
  gr_case cs[2] = {{never, GR_RECV, &v, 0}, {never_s, GR_SEND, &v, 0}};
  switch (k) {
  case 0: CHECK_RC(gr_chan_recv_ex(never, &v, GR_FOREVER, ctx), GR_ECANCELED); break;
  case 1: CHECK_RC(gr_chan_send_ex(never_s, &v, GR_FOREVER, ctx), GR_ECANCELED); break;
  case 2: CHECK_RC(gr_select_ex(cs, 2, GR_FOREVER, ctx), GR_ECANCELED); break;
  case 3: CHECK_RC(gr_mutex_lock_ex(held, GR_FOREVER, ctx), GR_ECANCELED); break;
  case 4: CHECK_RC(gr_wg_wait_ex(wg_busy, GR_FOREVER, ctx), GR_ECANCELED); break;
  case 5: CHECK_RC(gr_sleep_ex(ms_ns(60000), ctx), GR_ECANCELED); break;
  case 6: CHECK_RC(gr_wait_ex(forever_g, GR_FOREVER, ctx), GR_ECANCELED); break;
  case 7: CHECK_RC(gr_rwmutex_lock_ex(rw_held, GR_FOREVER, ctx), GR_ECANCELED); break;
  case 8: CHECK_RC(gr_sem_acquire_ex(sem_empty, 1, GR_FOREVER, ctx), GR_ECANCELED); break;
  case 9:
    CHECK_OK(gr_mutex_lock(cond_mu, GR_FOREVER));
    CHECK_RC(gr_cond_wait_ex(cond, GR_FOREVER, ctx), GR_ECANCELED);
    CHECK_OK(gr_mutex_unlock(cond_mu));
    break;
  default: CHECK_RC(gr_once_do_ex(once_running, once_blocks, NULL, GR_FOREVER, ctx), GR_ECANCELED); break;
  }
}

static void once_runner(void *arg) { CHECK_OK(gr_once_do(once_running, once_blocks, arg, GR_FOREVER)); }

static void every_wait_cancelled(void) {
  gr_cancel *root;
  CHECK_OK(gr_cancel_new(&root));
  CHECK_OK(gr_cancel_new_child(root, &ctx));
  CHECK_OK(gr_chan_new(8, 0, &never));
  CHECK_OK(gr_chan_new(8, 0, &never_s));
  CHECK_OK(gr_mutex_new(&held));
  CHECK_OK(gr_mutex_lock(held, GR_FOREVER));
  CHECK_OK(gr_wg_new(&wg_busy));
  CHECK_OK(gr_wg_add(wg_busy, 1));
  gr_chan *stop;
  CHECK_OK(gr_chan_new(8, 0, &stop));
  CHECK_OK(gr_spawn(block_forever, stop, &forever_g));
  CHECK_OK(gr_rwmutex_new(&rw_held));
  CHECK_OK(gr_rwmutex_rlock(rw_held, GR_FOREVER));
  CHECK_OK(gr_sem_new(1, &sem_empty));
  CHECK_OK(gr_sem_acquire(sem_empty, 1, GR_FOREVER));
  CHECK_OK(gr_mutex_new(&cond_mu));
  CHECK_OK(gr_cond_new(cond_mu, &cond));
  CHECK_OK(gr_once_new(&once_running));
  gr_chan *once_gate;
  CHECK_OK(gr_chan_new(8, 0, &once_gate));
  gr_handle *runner;
  CHECK_OK(gr_spawn(once_runner, once_gate, &runner));
  int st;
  while ((st = gr_once_state(once_running, NULL)) != GR_ONCE_RUNNING) gr_yield();
  mix m = {0};
  for (int i = 0; i < 33; i++) mix_start(&m, i % 3, wait_everything, (void *)(intptr_t)(i / 3));
  CHECK_OK(gr_sleep(ms_ns(30)));
  CHECK_OK(gr_cancel_fire(root));            /* through the parent */
  mix_join(&m);
  /* tidy up */
  int64_t v = 1;
  CHECK_OK(gr_chan_send(once_gate, &v, GR_FOREVER));
  CHECK_OK(gr_wait(runner, GR_FOREVER));
  gr_handle_release(runner);
  CHECK_OK(gr_chan_send(stop, &v, GR_FOREVER));
  CHECK_OK(gr_wait(forever_g, GR_FOREVER));
  gr_handle_release(forever_g);
  CHECK_OK(gr_wg_done(wg_busy));
  CHECK_OK(gr_mutex_unlock(held));
  CHECK_OK(gr_rwmutex_runlock(rw_held));
  CHECK_OK(gr_sem_release(sem_empty, 1));
  gr_once_free(once_running); gr_cond_free(cond); gr_mutex_free(cond_mu); gr_sem_free(sem_empty);
  gr_rwmutex_free(rw_held); gr_wg_free(wg_busy); gr_mutex_free(held);
  gr_chan_release(never); gr_chan_release(never_s); gr_chan_release(stop); gr_chan_release(once_gate);
  gr_cancel_free(ctx); gr_cancel_free(root);
}

/* A timeout context ends a wait with GR_ECANCELED and says GR_ETIMEDOUT. */
static void timeout_ends_wait(void *arg) {
  (void)arg;
  gr_cancel *c;
  gr_chan *ch;
  int64_t v, t0 = gr_now(); /* before the context: its deadline counts from its creation */
  CHECK_OK(gr_cancel_new_timeout(NULL, ms_ns(15), &c));
  CHECK_OK(gr_chan_new(8, 0, &ch));
  CHECK_RC(gr_chan_recv_ex(ch, &v, GR_FOREVER, c), GR_ECANCELED);
  CHECK(gr_now() - t0 >= ms_ns(15));
  CHECK_RC(gr_cancel_err(c), GR_ETIMEDOUT);
  gr_chan_release(ch);
  gr_cancel_free(c);
}

/* 20,000 goroutines wait on the done channels of 20,000 children of one root (half in
   gr_select with a never-ready channel, half in gr_chan_recv); one cancel wakes them all. */
#define FAN 20000
static gr_cancel *fan_root;
static gr_wg *fan_wg;
static void fan_waiter(void *arg) {
  gr_cancel *c = arg;
  char b;
  if ((intptr_t)gr_self() % 2) {
    gr_case cs[2] = {{never, GR_RECV, NULL, 0}, {gr_cancel_done(c), GR_RECV, &b, 0}};
    CHECK_RC(gr_select(cs, 2, GR_FOREVER), 1);
    CHECK(cs[1].status == GR_ECLOSED);
  } else {
    CHECK_RC(gr_chan_recv(gr_cancel_done(c), &b, GR_FOREVER), GR_ECLOSED);
  }
  CHECK_OK(gr_wg_done(fan_wg));
}

static void fan_out(void) {
  static gr_cancel *kids[FAN];
  CHECK_OK(gr_chan_new(8, 0, &never));
  CHECK_OK(gr_cancel_new(&fan_root));
  CHECK_OK(gr_wg_new(&fan_wg));
  CHECK_OK(gr_wg_add(fan_wg, FAN));
  for (int i = 0; i < FAN; i++) {
    CHECK_OK(gr_cancel_new_child(fan_root, &kids[i]));
    CHECK(gr_cancel_done(kids[i]) != NULL);
    CHECK_OK(gr_spawn(fan_waiter, kids[i], NULL));
  }
  CHECK_OK(gr_sleep(ms_ns(50)));
  double t0 = now_s();
  CHECK_OK(gr_cancel_fire(fan_root));
  CHECK_OK(gr_wg_wait(fan_wg, ms_ns(30000)));
  printf("cancel fan-out to %d waiting children: %.2f ms until the last woke\n", FAN, (now_s() - t0) * 1e3);
  for (int i = 0; i < FAN; i++) gr_cancel_free(kids[i]);
  gr_cancel_free(fan_root);
  gr_wg_free(fan_wg);
  gr_chan_release(never);
}

static void bad_input(void) {
  gr_cancel *c;
  CHECK_RC(gr_cancel_new_child(NULL, NULL), GR_EINVAL);
  CHECK_RC(gr_cancel_err(NULL), GR_EINVAL);
  CHECK_RC(gr_cancel_deadline(NULL, NULL), GR_EINVAL);
  CHECK(gr_cancel_done(NULL) == NULL);
  CHECK_OK(gr_cancel_new(&c));
  gr_cancel_free(c);
  CHECK_RC(gr_cancel_err(c), GR_EINVAL);
  CHECK_RC(gr_cancel_fire(c), GR_EINVAL);
  gr_cancel *d;
  CHECK_RC(gr_cancel_new_child(c, &d), GR_EINVAL);   /* released parent */
  CHECK(gr_cancel_done(c) == NULL);
  gr_cancel_free(c);
}

int main(void) {
  init_workers(2);
  tree_and_reasons();
  every_wait_cancelled();
  mix m = {0};
  for (int i = 0; i < 3; i++) mix_start(&m, i, timeout_ends_wait, NULL);
  mix_join(&m);
  fan_out();
  bad_input();
  printf("tb_context: ok\n");
  return 0;
}
