/* Timeouts: a read on a socket with no data returns GR_ETIMEDOUT after its timeout, never
 * before. 1,000 waits with random timeouts (1-60 ms), through gr_fd_read, gr_fd_recv and
 * gr_fd_wait, from 900 goroutines at once and 4 plain threads (25 waits each); each checked
 * against CLOCK_MONOTONIC. timeout_ns == 0 polls: GR_EAGAIN at once. */
#include "net_util.h"
#include <pthread.h>
#include <stdatomic.h>

#define MS 1000000LL
#define GOROUTINES 900
#define THREADS 4
#define PER_THREAD 25

static atomic_int early, bad_rc, checked;
static double max_late;
static pthread_mutex_t late_mu = PTHREAD_MUTEX_INITIALIZER;

static void one_wait(unsigned *seed, int fd) {
  int64_t t = (1 + rand_r(seed) % 60) * MS;
  int how = rand_r(seed) % 3;
  char buf[16];
  size_t n = 77;
  double t0 = now_s();
  int rc;
  switch (how) {
    case 0: rc = gr_fd_read(fd, buf, sizeof buf, t, NULL, &n); break;
    case 1: rc = gr_fd_recv(fd, buf, sizeof buf, 0, t, NULL, &n); break;
    default: rc = gr_fd_wait(fd, GR_READ, t); break;
  }
  double dt = now_s() - t0;
  if (rc != GR_ETIMEDOUT || n != 77) atomic_fetch_add(&bad_rc, 1);
  if (dt * 1e9 < (double)t) atomic_fetch_add(&early, 1);
  pthread_mutex_lock(&late_mu);
  if (dt - t / 1e9 > max_late) max_late = dt - t / 1e9;
  pthread_mutex_unlock(&late_mu);
  atomic_fetch_add(&checked, 1);
}

static void waiter(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg;
  int sv[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  one_wait(&seed, sv[0]);
  /* a poll never waits */
  double t0 = now_s();
  char c;
  CHECK_RC(gr_fd_read(sv[0], &c, 1, 0, NULL, NULL), GR_EAGAIN);
  CHECK_RC(gr_fd_wait(sv[0], GR_READ, 0), GR_EAGAIN);
  CHECK(now_s() - t0 < 1.0);
  CHECK_OK(gr_fd_close(sv[0]));
  CHECK_OK(gr_fd_close(sv[1]));
}

static void *thread_waiter(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg;
  uint16_t port;
  int l = listen_loopback(4, &port);
  int c = dial_loopback(port); /* a TCP socket this time */
  int s = accept(l, NULL, NULL);
  CHECK(s >= 0);
  for (int i = 0; i < PER_THREAD; i++) one_wait(&seed, c);
  CHECK_OK(gr_fd_close(c));
  close(s);
  close(l);
  return NULL;
}

int main(void) {
  init_workers(2);
  pthread_t ts[THREADS];
  for (long i = 0; i < THREADS; i++) CHECK(pthread_create(&ts[i], NULL, thread_waiter, (void *)(i + 7)) == 0);
  gr_handle *hs[GOROUTINES];
  for (long i = 0; i < GOROUTINES; i++) CHECK_OK(gr_spawn(waiter, (void *)(i + 1000), &hs[i]));
  for (int i = 0; i < GOROUTINES; i++) { CHECK_OK(gr_wait(hs[i], GR_FOREVER)); gr_handle_release(hs[i]); }
  for (int i = 0; i < THREADS; i++) pthread_join(ts[i], NULL);
  printf("net_timeouts: %d waits, %d early, %d wrong results, latest %.1f ms after its deadline\n",
         atomic_load(&checked), atomic_load(&early), atomic_load(&bad_rc), max_late * 1e3);
  CHECK(atomic_load(&checked) == GOROUTINES + THREADS * PER_THREAD);
  CHECK(atomic_load(&early) == 0);
  CHECK(atomic_load(&bad_rc) == 0);
  CHECK(max_late < 5.0); /* generous: a loaded machine may be late, never early */
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
