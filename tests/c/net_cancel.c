/* Cancel: gr_fd_wait_ex and the I/O calls end with GR_ECANCELED when their token is fired
 * from another thread; goroutines and plain threads share one token. A fired token ends new
 * waits at once; reset re-arms it; the descriptor still works afterwards. */
#include "net_util.h"
#include <pthread.h>
#include <stdatomic.h>

#define MS 1000000LL
#define GOROUTINES 50
#define THREADS 3

static gr_cancel *tok;
static int fd, peer;
static atomic_int started, cancelled, wrong;

static void note(int rc) {
  if (rc == GR_ECANCELED) atomic_fetch_add(&cancelled, 1);
  else atomic_fetch_add(&wrong, 1);
}

static void g_waiter(void *arg) {
  long i = (long)arg;
  atomic_fetch_add(&started, 1);
  char buf[4];
  size_t n;
  switch (i % 3) {
    case 0: note(gr_fd_wait_ex(fd, GR_READ, 30000 * MS, tok)); break;
    case 1: note(gr_fd_read(fd, buf, sizeof buf, 30000 * MS, tok, &n)); break;
    default: note(gr_fd_recv(fd, buf, sizeof buf, MSG_PEEK, GR_FOREVER, tok, &n)); break;
  }
}

static void *t_waiter(void *arg) {
  g_waiter(arg);
  return NULL;
}

static void *firer(void *arg) {
  (void)arg;
  struct timespec ts = {0, 100 * MS};
  nanosleep(&ts, NULL);
  CHECK_OK(gr_cancel_fire(tok));
  return NULL;
}

int main(void) {
  init_workers(2);
  CHECK_OK(gr_cancel_new(&tok));
  tcp_pair(&fd, &peer);
  gr_handle *hs[GOROUTINES];
  pthread_t ts[THREADS], f;
  for (long i = 0; i < GOROUTINES; i++) CHECK_OK(gr_spawn(g_waiter, (void *)i, &hs[i]));
  for (long i = 0; i < THREADS; i++) CHECK(pthread_create(&ts[i], NULL, t_waiter, (void *)i) == 0);
  while (atomic_load(&started) < GOROUTINES + THREADS) gr_sleep(MS);
  double t0 = now_s();
  CHECK(pthread_create(&f, NULL, firer, NULL) == 0);
  for (int i = 0; i < GOROUTINES; i++) { CHECK_OK(gr_wait(hs[i], 10000 * MS)); gr_handle_release(hs[i]); }
  for (int i = 0; i < THREADS; i++) pthread_join(ts[i], NULL);
  pthread_join(f, NULL);
  printf("net_cancel: %d cancelled, %d other, %.0f ms after start\n", atomic_load(&cancelled), atomic_load(&wrong),
         (now_s() - t0) * 1e3);
  CHECK(atomic_load(&cancelled) == GOROUTINES + THREADS && atomic_load(&wrong) == 0);
  /* fired: a wait that would block ends at once; a descriptor already ready needs no wait */
  CHECK_RC(gr_fd_wait_ex(fd, GR_READ, GR_FOREVER, tok), GR_ECANCELED);
  CHECK(write(peer, "z", 1) == 1);
  CHECK_OK(gr_fd_wait_ex(fd, GR_READ, GR_FOREVER, tok)); /* ready before any wait: no wait */
  char c;
  size_t n;
  CHECK_OK(gr_fd_read(fd, &c, 1, GR_FOREVER, tok, &n));
  CHECK(n == 1 && c == 'z');
  CHECK_RC(gr_fd_read(fd, &c, 1, GR_FOREVER, tok, &n), GR_ECANCELED);
  CHECK_OK(gr_cancel_reset(tok));
  CHECK_RC(gr_fd_wait_ex(fd, GR_READ, 20 * MS, tok), GR_ETIMEDOUT);
  CHECK(write(peer, "y", 1) == 1);
  CHECK_OK(gr_fd_read(fd, &c, 1, GR_FOREVER, tok, &n));
  CHECK(n == 1 && c == 'y');
  /* a released token is GR_EINVAL */
  gr_cancel *dead;
  CHECK_OK(gr_cancel_new(&dead));
  gr_cancel_free(dead);
  CHECK_RC(gr_fd_wait_ex(fd, GR_READ, 0, dead), GR_EINVAL);
  gr_cancel_free(tok);
  CHECK_OK(gr_fd_close(fd));
  close(peer);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
