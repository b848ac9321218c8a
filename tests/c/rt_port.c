/* Completion ports and asynchronous operations (issue 13) through the C ABI: an epoll loop
 * (standing for asyncio/libuv) watches one port's descriptor while goroutines complete its
 * channel receives, sends and joins; withdrawn operations lose nothing; bad input gives codes. */
#include "harness.h"
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>

enum { N = 2000 };
static gr_chan *ch;

static void sender(void *arg) {
  (void)arg;
  for (uint64_t i = 1; i <= N; i++) CHECK_OK(gr_chan_send(ch, &i, GR_FOREVER));
}
static void receiver(void *arg) {
  uint64_t *sum = arg;
  for (int i = 0; i < N; i++) {
    uint64_t v;
    CHECK_OK(gr_chan_recv(ch, &v, GR_FOREVER));
    *sum += v;
  }
}
static void sleeper(void *arg) { (void)arg; gr_sleep(20 * 1000000LL); }

static int readable(int fd, int ms) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  return poll(&p, 1, ms) == 1;
}

int main(void) {
  init_workers(2);
  gr_port *port;
  CHECK_OK(gr_port_new(&port));
  int fd = gr_port_fd(port);
  CHECK(fd >= 0 && !readable(fd, 0));
  CHECK_OK(gr_chan_new(sizeof(uint64_t), 0, &ch));

  /* An event loop receiving N values one await at a time, through epoll on the port. */
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
  CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0);
  gr_handle *g;
  CHECK_OK(gr_spawn(sender, NULL, &g));
  uint64_t sum = 0, v = 0;
  static unsigned char posted[N + 1];
  size_t n;
  uint64_t users[8];
  for (uint64_t i = 1; i <= N; i++) {
    gr_async *op;
    CHECK_OK(gr_chan_recv_async(ch, &v, port, i, &op));
    int rc;
    while ((rc = gr_async_status(op)) == GR_EAGAIN) {
      CHECK(epoll_wait(ep, &ev, 1, 10000) == 1);
      CHECK_OK(gr_port_take(port, users, 8, &n));
      for (size_t k = 0; k < n; k++) posted[users[k]]++;
    }
    CHECK_OK(rc);
    CHECK(v == i); /* in order */
    sum += v;
    gr_async_free(op);
  }
  CHECK_OK(gr_wait(g, GR_FOREVER));
  gr_handle_release(g);
  CHECK(sum == (uint64_t)N * (N + 1) / 2);
  while (gr_port_take(port, users, 8, &n) == GR_OK && n > 0)
    for (size_t k = 0; k < n; k++) posted[users[k]]++;
  for (int i = 1; i <= N; i++) CHECK(posted[i] == 1); /* each completion posted once */
  CHECK(!readable(fd, 0));

  /* Sends awaited by the loop, received by a goroutine; a join. */
  sum = 0;
  CHECK_OK(gr_spawn(receiver, &sum, &g));
  gr_async *join;
  CHECK_OK(gr_wait_async(g, port, 99, &join));
  for (uint64_t i = 1; i <= N; i++) {
    gr_async *op;
    CHECK_OK(gr_chan_send_async(ch, &i, port, i, &op));
    while (gr_async_status(op) == GR_EAGAIN) CHECK(readable(fd, 10000));
    CHECK_OK(gr_async_status(op));
    gr_async_free(op);
  }
  while (gr_async_status(join) == GR_EAGAIN) CHECK(readable(fd, 10000));
  CHECK_OK(gr_async_status(join));
  CHECK(sum == (uint64_t)N * (N + 1) / 2);
  gr_async_free(join);
  gr_handle_release(g);
  CHECK_OK(gr_port_take(port, users, 0, &n)); /* max 0: nothing taken */
  CHECK(n == 0);
  while (gr_port_take(port, users, 8, &n) == GR_OK && n > 0) {}

  /* Withdrawn: the receive took nothing, the send sent nothing, nothing was posted. */
  gr_async *r, *s;
  uint64_t x = 7;
  CHECK_OK(gr_chan_recv_async(ch, &v, port, 1, &r));
  CHECK_RC(gr_async_cancel(r), GR_ECANCELED);
  CHECK_RC(gr_async_status(r), GR_ECANCELED);
  CHECK_RC(gr_chan_send(ch, &x, 0), GR_EAGAIN);
  gr_async_free(r);
  CHECK_OK(gr_chan_send_async(ch, &x, port, 2, &s));
  gr_async_free(s); /* withdraws */
  CHECK_RC(gr_chan_recv(ch, &v, 0), GR_EAGAIN);
  CHECK(!readable(fd, 0));
  /* Cancel after completion: the result. */
  CHECK_OK(gr_chan_send_async(ch, &x, port, 3, &s));
  CHECK_OK(gr_chan_recv(ch, &v, GR_FOREVER));
  CHECK(v == 7);
  CHECK_OK(gr_async_cancel(s));
  gr_async_free(s);
  /* A join withdrawn, and one of a failed goroutine. */
  CHECK_OK(gr_spawn(sleeper, NULL, &g));
  CHECK_OK(gr_wait_async(g, port, 4, &join));
  CHECK_RC(gr_async_cancel(join), GR_ECANCELED);
  gr_async_free(join);
  gr_handle_release(g);
  /* Close completes pending operations with GR_ECLOSED. */
  CHECK_OK(gr_chan_recv_async(ch, &v, port, 5, &r));
  CHECK_OK(gr_chan_close(ch));
  CHECK(readable(fd, 10000));
  CHECK_RC(gr_async_status(r), GR_ECLOSED);
  CHECK(v == 0);
  gr_async_free(r);
  gr_chan_release(ch); /* the port outlives the channel, the operation held it */

  /* Bad input. */
  gr_async *op = NULL;
  CHECK_RC(gr_port_new(NULL), GR_EINVAL);
  CHECK_RC(gr_port_fd(NULL), GR_EINVAL);
  CHECK_RC(gr_port_take(NULL, users, 8, &n), GR_EINVAL);
  CHECK_RC(gr_port_take(port, NULL, 8, &n), GR_EINVAL);
  CHECK_RC(gr_port_take(port, users, 8, NULL), GR_EINVAL);
  CHECK_RC(gr_chan_recv_async(NULL, &v, port, 0, &op), GR_EINVAL);
  CHECK(op == NULL);
  gr_chan *c2;
  CHECK_OK(gr_chan_new(8, 0, &c2));
  CHECK_RC(gr_chan_recv_async(c2, NULL, port, 0, &op), GR_EINVAL);
  CHECK_RC(gr_chan_recv_async(c2, &v, NULL, 0, &op), GR_EINVAL);
  CHECK_RC(gr_chan_send_async(c2, &v, port, 0, NULL), GR_EINVAL);
  CHECK_RC(gr_wait_async(NULL, port, 0, &op), GR_EINVAL);
  CHECK(op == NULL);
  CHECK_RC(gr_async_status(NULL), GR_EINVAL);
  CHECK_RC(gr_async_cancel(NULL), GR_EINVAL);
  gr_async_free(NULL);
  gr_port_free(NULL);
  gr_chan_release(c2);
  gr_port_free(port);
  CHECK_RC(gr_port_fd(port), GR_EINVAL); /* freed */
  close(ep);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
