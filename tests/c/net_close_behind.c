/* gr_fd_wait on a descriptor closed behind gr's back (close(2), as a library's socket or a
 * binding's select sees it): the number is reused by a new pipe, and a wait on it (from a
 * goroutine and from a plain thread) still ends when the new pipe gets data, not at its
 * timeout: gr_fd_wait re-arms the registration before it parks. */
#include "net_util.h"
#include <pthread.h>

#define MS 1000000LL

static int rfd, wfd;

static void g_wait(void *arg) {
  (void)arg;
  double t0 = now_s();
  CHECK_OK(gr_fd_wait(rfd, GR_READ, 5000 * MS));
  CHECK(now_s() - t0 < 4.0);
}

static void *t_wait(void *arg) {
  g_wait(arg);
  return NULL;
}

/* Makes a pipe, waits on its read end once through gr (registering it), closes both ends
 * behind gr's back, then makes the next pipe, which must reuse the read end's number. */
static void cycle(int round, int from_thread) {
  int p[2];
  CHECK(pipe(p) == 0);
  CHECK_RC(gr_fd_wait(p[0], GR_READ, 10 * MS), GR_ETIMEDOUT); /* registered, not ready */
  int old = p[0];
  close(p[0]);
  close(p[1]);
  CHECK(pipe(p) == 0);
  CHECK(p[0] == old); /* the kernel hands out the lowest free number */
  rfd = p[0];
  wfd = p[1];
  gr_handle *g = NULL;
  pthread_t t;
  if (from_thread) CHECK(pthread_create(&t, NULL, t_wait, NULL) == 0);
  else CHECK_OK(gr_spawn(g_wait, NULL, &g));
  gr_sleep(50 * MS);
  CHECK(write(wfd, "x", 1) == 1);
  if (from_thread) CHECK(pthread_join(t, NULL) == 0);
  else {
    CHECK_OK(gr_wait(g, 10000 * MS));
    gr_handle_release(g);
  }
  CHECK_OK(gr_fd_close(rfd));
  close(wfd);
  (void)round;
}

int main(void) {
  init_workers(2);
  for (int i = 0; i < 20; i++) cycle(i, i % 2);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  printf("net_close_behind: ok\n");
  return 0;
}
