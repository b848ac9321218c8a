/* Mixed callers: two goroutines on the one worker meeting on an unbuffered channel
   (ping-pong), a pthread receiving from a goroutine, bound goroutines in a ring. */
#include "harness.h"
#include <pthread.h>

typedef struct { gr_chan *ping, *pong; long n; } pp;

static void ponger(void *arg) {
  pp *p = arg;
  long v;
  for (long i = 0; i < p->n; i++) {
    CHECK_OK(gr_chan_recv(p->ping, &v, GR_FOREVER));
    v++;
    CHECK_OK(gr_chan_send(p->pong, &v, GR_FOREVER));
  }
}
static void pinger(void *arg) {
  pp *p = arg;
  long v = 0;
  for (long i = 0; i < p->n; i++) {
    CHECK_OK(gr_chan_send(p->ping, &v, GR_FOREVER));
    CHECK_OK(gr_chan_recv(p->pong, &v, GR_FOREVER));
  }
  CHECK(v == p->n);
}

static void run_pair(gr_fn a, gr_fn b, pp *p, int bound_a) {
  gr_spawn_opts o;
  gr_spawn_opts_init(&o);
  o.flags = bound_a ? GR_SPAWN_BOUND : 0;
  gr_handle *h1, *h2;
  CHECK_OK(gr_spawn_ex(a, p, &o, &h1));
  CHECK_OK(gr_spawn(b, p, &h2));
  CHECK_OK(gr_wait(h1, GR_FOREVER));
  CHECK_OK(gr_wait(h2, GR_FOREVER));
  gr_handle_release(h1);
  gr_handle_release(h2);
}

static void *thread_pinger(void *arg) { pinger(arg); return NULL; }

int main(void) {
  init_workers(1); /* one worker: both goroutines share it */
  pp p = { NULL, NULL, 100000 };
  CHECK_OK(gr_chan_new(sizeof(long), 0, &p.ping));
  CHECK_OK(gr_chan_new(sizeof(long), 0, &p.pong));
  double t0 = now_s();
  run_pair(ponger, pinger, &p, 0);
  printf("same-worker ping-pong: %.0f ns per round trip\n", (now_s() - t0) / p.n * 1e9);
  /* a pthread ping-pongs with a goroutine */
  p.n = 2000;
  pthread_t t;
  gr_handle *h;
  CHECK_OK(gr_spawn(ponger, &p, &h));
  t0 = now_s();
  pthread_create(&t, NULL, thread_pinger, &p);
  pthread_join(t, NULL);
  printf("thread<->goroutine ping-pong: %.0f ns per round trip\n", (now_s() - t0) / p.n * 1e9);
  CHECK_OK(gr_wait(h, GR_FOREVER));
  gr_handle_release(h);
  /* a bound goroutine with a coroutine goroutine */
  p.n = 2000;
  run_pair(ponger, pinger, &p, 1);
  gr_chan_release(p.ping);
  gr_chan_release(p.pong);
  printf("chan_mixed: ok\n");
  return 0;
}
