/* Channels through the C ABI: goroutines and pthreads in every mix, buffered and
   unbuffered, close semantics, len/cap, retain/release, drop functions. */
#include "harness.h"
#include <pthread.h>
#include <string.h>

typedef struct { gr_chan *ch; long n; long sum; } job;

static void producer(void *arg) {
  job *j = arg;
  for (long i = 1; i <= j->n; i++) CHECK_OK(gr_chan_send(j->ch, &i, GR_FOREVER));
  CHECK_OK(gr_chan_close(j->ch));
}
static void consumer(void *arg) {
  job *j = arg;
  long v;
  int rc;
  while ((rc = gr_chan_recv(j->ch, &v, GR_FOREVER)) == GR_OK) j->sum += v;
  CHECK_RC(rc, GR_ECLOSED);
  CHECK(v == 0); /* zeroed on closed */
}
static void *thread_producer(void *arg) { producer(arg); return NULL; }
static void *thread_consumer(void *arg) { consumer(arg); return NULL; }

/* kind: 0 goroutine -> goroutine, 1 goroutine -> pthread, 2 pthread -> goroutine,
   3 pthread -> pthread */
static void transfer(size_t cap, int kind) {
  job j = { NULL, kind == 0 ? 20000 : 3000, 0 }; /* pthreads spin/sleep: keep them short */
  CHECK_OK(gr_chan_new(sizeof(long), cap, &j.ch));
  gr_handle *hp = NULL, *hc = NULL;
  pthread_t tp, tc;
  if (kind < 2) CHECK_OK(gr_spawn(producer, &j, &hp)); else pthread_create(&tp, NULL, thread_producer, &j);
  if (kind == 0 || kind == 2) CHECK_OK(gr_spawn(consumer, &j, &hc)); else pthread_create(&tc, NULL, thread_consumer, &j);
  if (hp) { CHECK_OK(gr_wait(hp, GR_FOREVER)); gr_handle_release(hp); } else pthread_join(tp, NULL);
  if (hc) { CHECK_OK(gr_wait(hc, GR_FOREVER)); gr_handle_release(hc); } else pthread_join(tc, NULL);
  CHECK(j.sum == j.n * (j.n + 1) / 2);
  gr_chan_release(j.ch);
}

static int drops;
static void drop_fn(void *elem, void *ctx) { drops += *(int *)elem; CHECK(ctx == (void *)&drops); }

int main(void) {
  init_workers(2);
  for (int kind = 0; kind < 4; kind++) {
    transfer(0, kind);
    transfer(64, kind);
  }
  /* close: buffered items drain, then GR_ECLOSED with the element zeroed */
  gr_chan *c;
  CHECK_OK(gr_chan_new(sizeof(int), 3, &c));
  CHECK(gr_chan_cap(c) == 3 && gr_chan_len(c) == 0);
  int v = 1;
  CHECK_OK(gr_chan_send(c, &v, 0));
  v = 2;
  CHECK_OK(gr_chan_send(c, &v, 0));
  CHECK(gr_chan_len(c) == 2);
  CHECK_OK(gr_chan_close(c));
  CHECK_RC(gr_chan_close(c), GR_ECLOSED);
  v = 3;
  CHECK_RC(gr_chan_send(c, &v, GR_FOREVER), GR_ECLOSED);
  CHECK(v == 3);
  CHECK_OK(gr_chan_recv(c, &v, 0)); CHECK(v == 1);
  CHECK_OK(gr_chan_recv(c, &v, 0)); CHECK(v == 2);
  v = 77;
  CHECK_RC(gr_chan_recv(c, &v, GR_FOREVER), GR_ECLOSED); CHECK(v == 0);
  /* retain/release: the last release frees */
  CHECK(gr_chan_retain(c) == c);
  gr_chan_release(c);
  CHECK(gr_chan_cap(c) == 3); /* still alive */
  gr_chan_release(c);
  CHECK_RC(gr_chan_close(c), GR_EINVAL); /* released */
  /* timeouts and polls */
  CHECK_OK(gr_chan_new(sizeof(int), 0, &c));
  CHECK_RC(gr_chan_recv(c, &v, 0), GR_EAGAIN);
  CHECK_RC(gr_chan_send(c, &v, 0), GR_EAGAIN);
  CHECK_RC(gr_chan_recv(c, &v, 1000000), GR_ETIMEDOUT);
  gr_chan_release(c);
  /* drop function runs on the items left inside */
  CHECK_OK(gr_chan_new_with_drop(sizeof(int), 4, drop_fn, &drops, &c));
  v = 5; CHECK_OK(gr_chan_send(c, &v, 0));
  v = 7; CHECK_OK(gr_chan_send(c, &v, 0));
  CHECK_OK(gr_chan_recv(c, &v, 0)); CHECK(v == 5);
  gr_chan_release(c);
  CHECK(drops == 7);
  /* cancel */
  gr_cancel *k;
  CHECK_OK(gr_cancel_new(&k));
  CHECK_OK(gr_cancel_fire(k));
  CHECK_OK(gr_chan_new(sizeof(int), 0, &c));
  CHECK_RC(gr_chan_recv_ex(c, &v, GR_FOREVER, k), GR_ECANCELED);
  CHECK_RC(gr_chan_send_ex(c, &v, GR_FOREVER, k), GR_ECANCELED);
  gr_chan_release(c);
  gr_cancel_free(k);
  printf("chan_basic: ok\n");
  return 0;
}
