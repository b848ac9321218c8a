/* Issue 11, defect 8: a negative timeout_ns other than GR_FOREVER is a deadline already
 * past, as Go treats a negative duration: the call polls (GR_EAGAIN if it would block, the
 * result if it is ready) and never waits, in every blocking call, from a plain thread, a
 * goroutine and a thread-bound goroutine. gr_sleep with such a value yields; gr_sleep_ex with
 * GR_FOREVER sleeps until its token fires; gr_shutdown with one polls. */
#include "harness.h"
#include <stdint.h>

static const int64_t negs[] = {-2, -1000, -1000000000LL, INT64_MIN};
static gr_chan *unbuf, *buf;
static gr_wg *wg;
static gr_mutex *mu;
static gr_cancel *tok;
static gr_handle *running;
static gr_chan *hold;

static void blocked(void *a) { (void)a; long v; gr_chan_recv(hold, &v, GR_FOREVER); }

#define FAST(expr, want) do { double t0_ = now_s(); CHECK_RC(expr, want); CHECK(now_s() - t0_ < 1.0); } while (0)

static void probe(void *a) {
  (void)a;
  for (unsigned i = 0; i < sizeof negs / sizeof *negs; i++) {
    int64_t t = negs[i];
    long v = 5;
    FAST(gr_chan_send(unbuf, &v, t), GR_EAGAIN);
    FAST(gr_chan_recv(unbuf, &v, t), GR_EAGAIN);
    FAST(gr_chan_send_ex(unbuf, &v, t, tok), GR_EAGAIN);
    FAST(gr_chan_send(buf, &v, t), GR_OK); /* ready: done */
    FAST(gr_chan_recv(buf, &v, t), GR_OK);
    gr_case cs[2] = {{unbuf, GR_RECV, &v, 0}, {NULL, GR_SEND, NULL, 0}};
    FAST(gr_select(cs, 2, t), GR_EAGAIN);
    FAST(gr_select_ex(cs, 2, t, tok), GR_EAGAIN);
    FAST(gr_wait(running, t), GR_EAGAIN);
    FAST(gr_wait_ex(running, t, tok), GR_EAGAIN);
    FAST(gr_wg_wait(wg, t), GR_EAGAIN);
    FAST(gr_wg_wait_ex(wg, t, tok), GR_EAGAIN);
    FAST(gr_mutex_lock(mu, t), GR_EAGAIN);
    FAST(gr_mutex_lock_ex(mu, t, tok), GR_EAGAIN);
    FAST(gr_sleep(t), GR_OK);
    FAST(gr_sleep_ex(t, tok), GR_OK);
  }
}

static void bound_probe(void *a) { probe(a); }

static void fire_later(void *a) { (void)a; gr_sleep(30000000); CHECK_OK(gr_cancel_fire(tok)); }

int main(void) {
  init_workers(2);
  CHECK_OK(gr_chan_new(sizeof(long), 0, &unbuf));
  CHECK_OK(gr_chan_new(sizeof(long), 1, &buf));
  CHECK_OK(gr_chan_new(sizeof(long), 0, &hold));
  CHECK_OK(gr_wg_new(&wg)); CHECK_OK(gr_wg_add(wg, 1));
  CHECK_OK(gr_mutex_new(&mu)); CHECK_OK(gr_mutex_lock(mu, 0));
  CHECK_OK(gr_cancel_new(&tok));
  CHECK_OK(gr_spawn(blocked, NULL, &running));
  probe(NULL); /* plain thread */
  gr_handle *g;
  CHECK_OK(gr_spawn(probe, NULL, &g));
  CHECK_OK(gr_wait(g, GR_FOREVER)); gr_handle_release(g);
  gr_spawn_opts bo; gr_spawn_opts_init(&bo); bo.flags = GR_SPAWN_BOUND;
  CHECK_OK(gr_spawn_ex(bound_probe, NULL, &bo, &g));
  CHECK_OK(gr_wait(g, GR_FOREVER)); gr_handle_release(g);
  /* GR_FOREVER sleeps until the token fires (a plain thread here). */
  CHECK_OK(gr_spawn(fire_later, NULL, NULL));
  double t0 = now_s();
  CHECK_RC(gr_sleep_ex(GR_FOREVER, tok), GR_ECANCELED);
  CHECK(now_s() - t0 >= 0.02);
  /* gr_shutdown with a negative timeout polls: a goroutine still runs. */
  FAST(gr_shutdown(-5), GR_ETIMEDOUT);
  printf("negative timeouts poll in every blocking call (thread, goroutine, bound goroutine)\n");
  return 0;
}
