/* Select through the C ABI: default, timeout, NULL channels, a thread and a goroutine in
   the same select, duplicate channels, closed channels, fairness. */
#include "harness.h"
#include <pthread.h>

static gr_chan *a, *b;

static void send_later(void *arg) {
  gr_sleep(5 * 1000000);
  long v = (long)(intptr_t)arg;
  CHECK_OK(gr_chan_send(a, &v, GR_FOREVER));
}

static void *thread_select(void *arg) {
  (void)arg;
  long v = 0;
  gr_case cs[2] = { { a, GR_RECV, &v, -99 }, { b, GR_RECV, &v, -99 } };
  int i = gr_select(cs, 2, GR_FOREVER);
  CHECK(i == 0 && cs[0].status == GR_OK && v == 42);
  return NULL;
}

static void goroutine_select(void *arg) { thread_select(arg); }

int main(void) {
  init_workers(2);
  CHECK_OK(gr_chan_new(sizeof(long), 0, &a));
  CHECK_OK(gr_chan_new(sizeof(long), 0, &b));
  long v = 0;
  gr_case cs[3] = { { a, GR_RECV, &v, 0 }, { NULL, GR_RECV, &v, 0 }, { b, GR_RECV, &v, 0 } };
  /* default and timeout */
  CHECK_RC(gr_select(cs, 3, 0), GR_EAGAIN);
  double t0 = now_s();
  CHECK_RC(gr_select(cs, 3, 10 * 1000000), GR_ETIMEDOUT);
  CHECK(now_s() - t0 >= 0.010);
  /* a pthread and a goroutine each in a select, fed by a goroutine */
  pthread_t t;
  pthread_create(&t, NULL, thread_select, NULL);
  gr_handle *h, *s1, *s2;
  CHECK_OK(gr_spawn(goroutine_select, NULL, &h));
  CHECK_OK(gr_spawn(send_later, (void *)(intptr_t)42, &s1));
  CHECK_OK(gr_spawn(send_later, (void *)(intptr_t)42, &s2));
  pthread_join(t, NULL);
  CHECK_OK(gr_wait(h, GR_FOREVER));
  CHECK_OK(gr_wait(s1, GR_FOREVER));
  CHECK_OK(gr_wait(s2, GR_FOREVER));
  gr_handle_release(h); gr_handle_release(s1); gr_handle_release(s2);
  /* NULL channel never fires, even with a ready case beside it */
  gr_chan *r;
  CHECK_OK(gr_chan_new(sizeof(long), 1, &r));
  v = 5;
  CHECK_OK(gr_chan_send(r, &v, 0));
  gr_case n2[2] = { { NULL, GR_SEND, &v, 0 }, { r, GR_RECV, &v, -9 } };
  for (int i = 0; i < 100; i++) {
    CHECK(gr_select(n2, 2, GR_FOREVER) == 1 && n2[1].status == GR_OK);
    CHECK_OK(gr_chan_send(r, &v, 0));
  }
  /* the same channel in several cases; a send and a receive on a closed channel */
  long w = 0;
  gr_case dup[2] = { { r, GR_RECV, &w, -9 }, { r, GR_RECV, &w, -9 } };
  int i = gr_select(dup, 2, 0);
  CHECK((i == 0 || i == 1) && dup[i].status == GR_OK && w == 5);
  CHECK_OK(gr_chan_close(r));
  w = 1;
  i = gr_select(dup, 2, 0);
  CHECK((i == 0 || i == 1) && dup[i].status == GR_ECLOSED && w == 0);
  v = 8;
  gr_case sc[1] = { { r, GR_SEND, &v, -9 } };
  CHECK(gr_select(sc, 1, GR_FOREVER) == 0 && sc[0].status == GR_ECLOSED && v == 8);
  gr_chan_release(r);
  /* fairness: two ready channels, 50% +- 3% over 100,000 selects */
  gr_chan *x, *y;
  CHECK_OK(gr_chan_new(sizeof(long), 1, &x));
  CHECK_OK(gr_chan_new(sizeof(long), 1, &y));
  long one = 1;
  CHECK_OK(gr_chan_send(x, &one, 0));
  CHECK_OK(gr_chan_send(y, &one, 0));
  long hits[2] = { 0, 0 };
  gr_case f[2] = { { x, GR_RECV, &w, 0 }, { y, GR_RECV, &w, 0 } };
  for (int k = 0; k < 100000; k++) {
    int j = gr_select(f, 2, GR_FOREVER);
    CHECK(j == 0 || j == 1);
    hits[j]++;
    CHECK_OK(gr_chan_send(j ? y : x, &one, 0));
  }
  printf("fairness: %ld / %ld\n", hits[0], hits[1]);
  CHECK(hits[0] >= 47000 && hits[0] <= 53000);
  gr_chan_release(x); gr_chan_release(y);
  gr_chan_release(a); gr_chan_release(b);
  printf("chan_select: ok\n");
  return 0;
}
