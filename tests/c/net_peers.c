/* Peers: end of file gives a 0-byte read; a write to a closed peer reports EPIPE or
 * ECONNRESET through the status (GR_EOS - errno, gr_os_errno) without killing the process,
 * although SIGPIPE keeps its default action (terminate) here: sockets are written with
 * MSG_NOSIGNAL, and a pipe write's SIGPIPE is blocked and consumed in the writing thread.
 * From goroutines and from plain threads. */
#include "net_util.h"
#include <pthread.h>
#include <signal.h>

#define MS 1000000LL

static int is_peer_gone(int rc) {
  return rc == GR_EOS - EPIPE || rc == GR_EOS - ECONNRESET;
}

static void check_sigpipe_untouched(void) {
  sigset_t cur, pend;
  CHECK(pthread_sigmask(SIG_BLOCK, NULL, &cur) == 0);
  CHECK(!sigismember(&cur, SIGPIPE)); /* our mask change was undone */
  CHECK(sigpending(&pend) == 0);
  CHECK(!sigismember(&pend, SIGPIPE)); /* and the signal was consumed */
  struct sigaction sa;
  CHECK(sigaction(SIGPIPE, NULL, &sa) == 0);
  CHECK(sa.sa_handler == SIG_DFL); /* the process's disposition is the host's business */
}

static void tcp_eof_and_reset(void) {
  int c, s;
  tcp_pair(&c, &s);
  /* EOF: the peer shuts down its sending side after some data */
  size_t n;
  CHECK_OK(gr_fd_write(s, "bye", 3, GR_FOREVER, NULL, &n));
  CHECK(shutdown(s, SHUT_WR) == 0);
  char buf[16];
  CHECK_OK(gr_fd_read(c, buf, sizeof buf, 5000 * MS, NULL, &n));
  CHECK(n == 3 && memcmp(buf, "bye", 3) == 0);
  CHECK_OK(gr_fd_read(c, buf, sizeof buf, 5000 * MS, NULL, &n));
  CHECK(n == 0);
  CHECK_OK(gr_fd_read(c, buf, sizeof buf, 5000 * MS, NULL, &n)); /* again: still EOF */
  CHECK(n == 0);
  CHECK_OK(gr_fd_wait(c, GR_READ, 0)); /* EOF is readable */
  /* A closed peer: writes fail (the first may still go out; the peer answers with RST) */
  CHECK_OK(gr_fd_close(s));
  int rc = GR_OK;
  char big[65536];
  memset(big, 'x', sizeof big);
  for (int i = 0; i < 1000 && rc == GR_OK; i++) {
    rc = i % 2 ? gr_fd_write(c, big, sizeof big, 5000 * MS, NULL, &n) : gr_fd_send(c, big, 100, 0, 5000 * MS, NULL, &n);
    if (rc == GR_OK) gr_sleep(MS);
  }
  CHECK(is_peer_gone(rc));
  CHECK(gr_os_errno(rc) == EPIPE || gr_os_errno(rc) == ECONNRESET);
  CHECK(strstr(gr_strerror(rc), "errno") != NULL);
  check_sigpipe_untouched();
  CHECK_OK(gr_fd_close(c));
}

static void pipe_broken(void) {
  int p[2];
  CHECK(pipe2(p, O_CLOEXEC) == 0);
  size_t n = 99;
  CHECK_OK(gr_fd_write(p[1], "abc", 3, GR_FOREVER, NULL, &n));
  CHECK_OK(gr_fd_close(p[0]));
  int rc = gr_fd_write(p[1], "abc", 3, GR_FOREVER, NULL, &n);
  CHECK_RC(rc, GR_EOS - EPIPE);
  CHECK(n == 0);
  check_sigpipe_untouched();
  /* a SIGPIPE the caller had blocked and pending stays pending (not ours to take) */
  sigset_t s, old;
  sigemptyset(&s);
  sigaddset(&s, SIGPIPE);
  CHECK(pthread_sigmask(SIG_BLOCK, &s, &old) == 0);
  CHECK(pthread_kill(pthread_self(), SIGPIPE) == 0);
  CHECK_RC(gr_fd_write(p[1], "abc", 3, GR_FOREVER, NULL, &n), GR_EOS - EPIPE);
  sigset_t pend;
  CHECK(sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE));
  int sig;
  CHECK(sigwait(&s, &sig) == 0 && sig == SIGPIPE);
  CHECK(pthread_sigmask(SIG_SETMASK, &old, NULL) == 0);
  CHECK_OK(gr_fd_close(p[1]));
  /* EOF on a pipe */
  CHECK(pipe2(p, O_CLOEXEC) == 0);
  CHECK_OK(gr_fd_close(p[1]));
  char c;
  CHECK_OK(gr_fd_read(p[0], &c, 1, 5000 * MS, NULL, &n));
  CHECK(n == 0);
  CHECK_OK(gr_fd_close(p[0]));
}

/* A reader parked when the peer closes wakes with EOF (not a hang). */
static int parked_fd;
static void parked_reader(void *arg) {
  (void)arg;
  char buf[8];
  size_t n = 5;
  CHECK_OK(gr_fd_read(parked_fd, buf, sizeof buf, 10000 * MS, NULL, &n));
  CHECK(n == 0);
}

static void parked_then_eof(void) {
  int c, s;
  tcp_pair(&c, &s);
  parked_fd = c;
  gr_handle *h;
  CHECK_OK(gr_spawn(parked_reader, NULL, &h));
  gr_sleep(30 * MS);
  close(s);
  CHECK_OK(gr_wait(h, 10000 * MS));
  gr_handle_release(h);
  CHECK_OK(gr_fd_close(c));
}

static void in_goroutine(void *arg) {
  (void)arg;
  tcp_eof_and_reset();
  pipe_broken();
}

static void *in_thread(void *arg) {
  (void)arg;
  tcp_eof_and_reset();
  pipe_broken();
  return NULL;
}

int main(void) {
  init_workers(2);
  in_thread(NULL);
  gr_handle *h[4];
  for (int i = 0; i < 4; i++) CHECK_OK(gr_spawn(in_goroutine, NULL, &h[i]));
  pthread_t t;
  CHECK(pthread_create(&t, NULL, in_thread, NULL) == 0);
  for (int i = 0; i < 4; i++) { CHECK_OK(gr_wait(h[i], 60000 * MS)); gr_handle_release(h[i]); }
  pthread_join(t, NULL);
  parked_then_eof();
  printf("net_peers: EOF, EPIPE/ECONNRESET and broken pipes reported; SIGPIPE never delivered\n");
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
