/* Timers and tickers through the C API: gr_after in gr_select, gr_timer stop/reset results
   and no stale value, tickers, the gr_now clock, receive-only channels, bad handles; from
   goroutines, bound goroutines and pthreads at once. */
#include "toolbox.h"
#include <time.h>

static int64_t mono_ns(void) {
  struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* select { case <-ch: ...; case <-after(20 ms): } from any caller: the timer wins when ch
   stays empty, the value is its due time, and it was not early. */
static void after_in_select(void *arg) {
  (void)arg;
  gr_chan *ch, *tc;
  CHECK_OK(gr_chan_new(8, 0, &ch));
  int64_t t0 = gr_now();
  CHECK_OK(gr_after(ms_ns(20), &tc));
  int64_t v = 0, dummy;
  gr_case cs[2] = {{ch, GR_RECV, &dummy, 0}, {tc, GR_RECV, &v, 0}};
  CHECK_RC(gr_select(cs, 2, GR_FOREVER), 1);
  CHECK(cs[1].status == GR_OK);
  CHECK(v >= t0 + ms_ns(20));
  CHECK(gr_now() >= v);
  /* received: nothing more comes */
  CHECK_RC(gr_chan_recv(tc, &v, 0), GR_EAGAIN);
  gr_chan_release(tc);
  gr_chan_release(ch);
}

static void timer_semantics(void *arg) {
  (void)arg;
  gr_timer *t;
  int64_t v;
  CHECK_OK(gr_timer_new(ms_ns(5), &t));
  gr_chan *c = gr_timer_chan(t);
  CHECK(c != NULL);
  CHECK(gr_chan_len(c) == 0 && gr_chan_cap(c) == 0);
  /* stop before it fires: pending; a second stop: not */
  CHECK_RC(gr_timer_stop(t), 1);
  CHECK_RC(gr_timer_stop(t), 0);
  CHECK_RC(gr_chan_recv(c, &v, ms_ns(15)), GR_ETIMEDOUT);
  /* reset a stopped timer: not pending; it fires */
  int64_t before = gr_now();
  CHECK_RC(gr_timer_reset(t, ms_ns(2)), 0);
  CHECK_OK(gr_chan_recv(c, &v, GR_FOREVER));
  CHECK(v >= before + ms_ns(2));
  /* fired and received: stop says 0, reset says 0 */
  CHECK_RC(gr_timer_stop(t), 0);
  /* fired, not received: stop says 1 and the value is gone (Go 1.23: no stale value) */
  CHECK_RC(gr_timer_reset(t, 0), 0);
  CHECK_OK(gr_sleep(ms_ns(2)));
  CHECK_RC(gr_timer_stop(t), 1);
  CHECK_RC(gr_chan_recv(c, &v, 0), GR_EAGAIN);
  /* reset while a value waits: the old value never arrives, only the new one */
  CHECK_RC(gr_timer_reset(t, 0), 0);
  CHECK_OK(gr_sleep(ms_ns(2)));
  int64_t mark = gr_now();
  CHECK_RC(gr_timer_reset(t, ms_ns(3)), 1);
  CHECK_OK(gr_chan_recv(c, &v, GR_FOREVER));
  CHECK(v >= mark);
  /* receive-only */
  CHECK_RC(gr_chan_send(c, &v, 0), GR_EINVAL);
  CHECK_RC(gr_chan_close(c), GR_EINVAL);
  gr_case cs[1] = {{c, GR_SEND, &v, 0}};
  CHECK_RC(gr_select(cs, 1, 0), GR_EINVAL);
  gr_timer_free(t);
}

static gr_ticker *shared_ticker;
static void ticker_reader(void *arg) {
  int64_t *last = arg, v;
  for (int i = 0; i < 20; i++) {
    CHECK_OK(gr_chan_recv(gr_ticker_chan(shared_ticker), &v, GR_FOREVER));
    CHECK(v > *last || *last == 0);
    *last = v;
  }
}

static void ticker_semantics(void) {
  gr_ticker *t;
  int64_t v, prev = 0;
  CHECK_RC(gr_ticker_new(0, &t), GR_EINVAL);
  CHECK_RC(gr_ticker_new(-5, &t), GR_EINVAL);
  CHECK_OK(gr_ticker_new(ms_ns(2), &t));
  gr_chan *c = gr_ticker_chan(t);
  for (int i = 0; i < 5; i++) {
    CHECK_OK(gr_chan_recv(c, &v, GR_FOREVER));
    CHECK(v > prev);
    prev = v;
  }
  /* a slow reader finds one tick waiting, not a backlog */
  CHECK_OK(gr_sleep(ms_ns(20)));
  int64_t t1 = gr_now();
  CHECK_OK(gr_chan_recv(c, &v, 0));          /* the first missed tick (its due time) */
  CHECK(v < t1);
  int rc = gr_chan_recv(c, &v, 0);
  CHECK(rc == GR_EAGAIN || rc == GR_OK);
  if (rc == GR_OK) CHECK(v >= t1);           /* only a tick due since, never a queued one */
  CHECK_OK(gr_ticker_stop(t));
  CHECK_RC(gr_chan_recv(c, &v, ms_ns(10)), GR_ETIMEDOUT);
  CHECK_RC(gr_ticker_reset(t, 0), GR_EINVAL);
  CHECK_OK(gr_ticker_reset(t, ms_ns(1)));
  CHECK_OK(gr_chan_recv(c, &v, GR_FOREVER));
  gr_ticker_free(t);

  /* one ticker, readers of every kind */
  CHECK_OK(gr_ticker_new(ms_ns(1), &shared_ticker));
  static int64_t lasts[6];
  mix m = {0};
  for (int i = 0; i < 6; i++) mix_start(&m, i, ticker_reader, &lasts[i]);
  mix_join(&m);
  gr_ticker_free(shared_ticker);
}

static void bad_input(void) {
  gr_timer *t;
  gr_chan *c;
  CHECK_RC(gr_timer_new(1, NULL), GR_EINVAL);
  CHECK_RC(gr_after(1, NULL), GR_EINVAL);
  CHECK_RC(gr_timer_stop(NULL), GR_EINVAL);
  CHECK_RC(gr_timer_reset(NULL, 1), GR_EINVAL);
  CHECK(gr_timer_chan(NULL) == NULL);
  CHECK(gr_ticker_chan(NULL) == NULL);
  CHECK_RC(gr_ticker_stop(NULL), GR_EINVAL);
  gr_timer_free(NULL);
  gr_ticker_free(NULL);
  CHECK_OK(gr_timer_new(ms_ns(1), &t));
  c = gr_chan_retain(gr_timer_chan(t));
  gr_timer_free(t);
  CHECK_RC(gr_timer_stop(t), GR_EINVAL);    /* released handle */
  CHECK(gr_timer_chan(t) == NULL);
  int64_t v;
  CHECK_RC(gr_chan_recv(c, &v, ms_ns(10)), GR_ETIMEDOUT); /* a freed timer never fires */
  gr_chan_release(c);
  gr_timer_free(t);                          /* twice: ignored */
}

int main(void) {
  init_workers(2);
  /* the clock */
  int64_t a = mono_ns(), b = gr_now(), c = mono_ns();
  CHECK(a <= b && b <= c);
  mix m = {0};
  for (int i = 0; i < 9; i++) mix_start(&m, i, after_in_select, NULL);
  mix_join(&m);
  for (int i = 0; i < 3; i++) mix_start(&m, i, timer_semantics, NULL);
  mix_join(&m);
  ticker_semantics();
  bad_input();
  printf("tb_timer: ok\n");
  return 0;
}
