/* Close: gr_fd_close while 100 goroutines and 4 plain threads wait on one socket: all get
 * GR_ECLOSED. Then a new socket receives the same fd number; no stale waiter or readiness
 * crosses over: the old socket had data pending (edges delivered), the new one has none
 * and waits; the new one's own data then reaches only its new waiters. */
#include "net_util.h"
#include <pthread.h>
#include <stdatomic.h>

#define MS 1000000LL
#define GOROUTINES 100
#define THREADS 4

static int fd, peer;
static atomic_int started, closed_seen, wrong;

static void g_waiter(void *arg) {
  long i = (long)arg;
  atomic_fetch_add(&started, 1);
  int rc;
  if (i % 2) {
    char buf[8];
    size_t n;
    rc = gr_fd_read(fd, buf, sizeof buf, 30000 * MS, NULL, &n);
  } else {
    rc = gr_fd_wait(fd, GR_READ, 30000 * MS);
  }
  if (rc == GR_ECLOSED) atomic_fetch_add(&closed_seen, 1);
  else atomic_fetch_add(&wrong, 1);
}

static void *t_waiter(void *arg) {
  long i = (long)arg;
  atomic_fetch_add(&started, 1);
  int rc;
  if (i % 2) {
    char buf[8];
    size_t n;
    rc = gr_fd_recv(fd, buf, sizeof buf, 0, 30000 * MS, NULL, &n);
  } else {
    rc = gr_fd_wait(fd, GR_READ, 30000 * MS);
  }
  if (rc == GR_ECLOSED) atomic_fetch_add(&closed_seen, 1);
  else atomic_fetch_add(&wrong, 1);
  return NULL;
}

static int newfd;
static atomic_int new_got;
static void new_reader(void *arg) {
  (void)arg;
  char buf[16];
  size_t n;
  CHECK_OK(gr_fd_read(newfd, buf, 1, 10000 * MS, NULL, &n));
  CHECK(n >= 1 && buf[0] == 'N');
  atomic_fetch_add(&new_got, 1);
}

int main(void) {
  init_workers(2);
  tcp_pair(&fd, &peer);
  gr_handle *hs[GOROUTINES];
  pthread_t ts[THREADS];
  for (long i = 0; i < GOROUTINES; i++) CHECK_OK(gr_spawn(g_waiter, (void *)i, &hs[i]));
  for (long i = 0; i < THREADS; i++) CHECK(pthread_create(&ts[i], NULL, t_waiter, (void *)i) == 0);
  while (atomic_load(&started) < GOROUTINES + THREADS) gr_sleep(MS);
  gr_sleep(100 * MS); /* let them all park */
  CHECK(atomic_load(&closed_seen) == 0 && atomic_load(&wrong) == 0);
  double t0 = now_s();
  CHECK_OK(gr_fd_close(fd));
  for (int i = 0; i < GOROUTINES; i++) { CHECK_OK(gr_wait(hs[i], 10000 * MS)); gr_handle_release(hs[i]); }
  for (int i = 0; i < THREADS; i++) pthread_join(ts[i], NULL);
  printf("net_close: %d of %d waiters got GR_ECLOSED in %.1f ms, %d other results\n", atomic_load(&closed_seen),
         GOROUTINES + THREADS, (now_s() - t0) * 1e3, atomic_load(&wrong));
  CHECK(atomic_load(&closed_seen) == GOROUTINES + THREADS);
  CHECK(atomic_load(&wrong) == 0);
  /* the number is closed now (every user returned): calls on it fail */
  CHECK_RC(gr_fd_read(fd, NULL, 0, 0, NULL, NULL), GR_EOS - EBADF);

  /* Round two, with readiness: the old socket has data pending, and its edge was seen. */
  tcp_pair(&fd, &peer);
  CHECK(write(peer, "OLD", 3) == 3);
  CHECK_OK(gr_fd_wait(fd, GR_READ, 5000 * MS));
  int oldnum = fd;
  CHECK_OK(gr_fd_close(fd));
  close(peer);
  /* descriptors are numbered lowest-free first: open socket pairs until one end gets it */
  int sv[2], spare[16], nspare = 0;
  for (;;) {
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    if (sv[1] == oldnum) { int t = sv[0]; sv[0] = sv[1]; sv[1] = t; }
    if (sv[0] == oldnum) break;
    CHECK(nspare < 15);
    spare[nspare++] = sv[0];
    spare[nspare++] = sv[1];
  }
  newfd = sv[0];
  CHECK(newfd == oldnum); /* the kernel handed out the same number */
  /* no stale readiness: the new socket has no data and waits */
  CHECK_RC(gr_fd_wait(newfd, GR_READ, 0), GR_EAGAIN);
  char buf[8];
  size_t n = 42;
  CHECK_RC(gr_fd_read(newfd, buf, sizeof buf, 50 * MS, NULL, &n), GR_ETIMEDOUT);
  CHECK(n == 42);
  /* new waiters get exactly the new data */
  gr_handle *nh[3];
  for (int i = 0; i < 3; i++) CHECK_OK(gr_spawn(new_reader, NULL, &nh[i]));
  gr_sleep(50 * MS);
  CHECK(write(sv[1], "NNN", 3) == 3);
  for (int i = 0; i < 3; i++) { CHECK_OK(gr_wait(nh[i], 10000 * MS)); gr_handle_release(nh[i]); }
  CHECK(atomic_load(&new_got) == 3);
  CHECK(atomic_load(&closed_seen) == GOROUTINES + THREADS && atomic_load(&wrong) == 0);

  /* closing twice: the second close reports EBADF (nothing left to close) */
  CHECK_OK(gr_fd_close(newfd));
  CHECK_RC(gr_fd_close(newfd), GR_EOS - EBADF);
  /* gr_fd_forget: waiters woken, the descriptor stays open and is the caller's */
  int sv2[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv2) == 0);
  fd = sv2[0];
  atomic_store(&closed_seen, 0);
  for (long i = 0; i < 4; i++) CHECK_OK(gr_spawn(g_waiter, (void *)i, &hs[i]));
  gr_sleep(50 * MS);
  CHECK_OK(gr_fd_forget(fd));
  for (int i = 0; i < 4; i++) { CHECK_OK(gr_wait(hs[i], 10000 * MS)); gr_handle_release(hs[i]); }
  CHECK(atomic_load(&closed_seen) == 4);
  CHECK(fcntl(fd, F_GETFD) >= 0); /* still open */
  CHECK(write(sv2[1], "x", 1) == 1);
  CHECK_OK(gr_fd_wait(fd, GR_READ, 5000 * MS)); /* usable again, afresh */
  close(fd);
  close(sv2[1]);
  close(sv[1]);
  for (int i = 0; i < nspare; i++) close(spare[i]);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
