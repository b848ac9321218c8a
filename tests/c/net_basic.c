/* gr_fd_*: the primitive's level semantics, bad input, regular files, pipes, and a small echo
 * exchange from goroutines and threads. */
#include "net_util.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define MS 1000000LL

static void test_bad_input(void) {
  CHECK_RC(gr_fd_wait(-1, GR_READ, 0), GR_EINVAL);
  int p[2];
  CHECK(pipe2(p, O_CLOEXEC) == 0);
  CHECK_RC(gr_fd_wait(p[0], 0, 0), GR_EINVAL);
  CHECK_RC(gr_fd_wait(p[0], 4, 0), GR_EINVAL);
  CHECK_RC(gr_fd_read(p[0], NULL, 10, 0, NULL, NULL), GR_EINVAL);
  size_t n = 99;
  CHECK_RC(gr_fd_write(-5, "x", 1, 0, NULL, &n), GR_EINVAL);
  CHECK(n == 0);
  int fd = -1;
  CHECK_RC(gr_fd_accept(p[0], NULL, NULL, 0, 0, NULL, NULL), GR_EINVAL);
  CHECK_RC(gr_fd_accept(p[0], NULL, NULL, 0, 0, NULL, &fd), GR_EOS - ENOTSOCK);
  CHECK(fd == -1); /* outputs only on success */
  /* a number that is not open: EBADF through the status */
  int rc = gr_fd_wait(900, GR_READ, 0);
  CHECK_RC(rc, GR_EOS - EBADF);
  CHECK(gr_os_errno(rc) == EBADF);
  CHECK(gr_os_errno(GR_ETIMEDOUT) == 0);
  CHECK(strstr(gr_strerror(rc), "Bad file descriptor") != NULL);
  CHECK(strstr(gr_strerror(GR_ENOTPOLL), "epoll") != NULL);
  /* gr_fd_close on a never-seen, not-open number reports close(2)'s EBADF */
  CHECK_RC(gr_fd_close(901), GR_EOS - EBADF);
  CHECK_OK(gr_fd_close(p[0]));
  CHECK_OK(gr_fd_close(p[1]));
}

static void test_regular_file(void) {
  char path[] = "/tmp/gr_net_basic_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  unlink(path);
  CHECK_RC(gr_fd_wait(fd, GR_READ, 0), GR_ENOTPOLL);
  size_t n = 0;
  CHECK_OK(gr_fd_write(fd, "hello file", 10, GR_FOREVER, NULL, &n));
  CHECK(n == 10);
  CHECK(lseek(fd, 0, SEEK_SET) == 0);
  char buf[32];
  CHECK_OK(gr_fd_read(fd, buf, sizeof buf, GR_FOREVER, NULL, &n));
  CHECK(n == 10 && memcmp(buf, "hello file", 10) == 0);
  CHECK_OK(gr_fd_read(fd, buf, sizeof buf, GR_FOREVER, NULL, &n));
  CHECK(n == 0);
  CHECK_OK(gr_fd_close(fd));
}

/* Level semantics: data written before the wait counts; a wait after an earlier waiter saw
 * the edge but left the data still returns at once; a drained fd waits. */
static void test_level(void) {
  int p[2];
  CHECK(pipe2(p, O_CLOEXEC) == 0);
  CHECK_RC(gr_fd_wait(p[0], GR_READ, 0), GR_EAGAIN);
  CHECK_RC(gr_fd_wait(p[0], GR_READ, 20 * MS), GR_ETIMEDOUT);
  CHECK(write(p[1], "ab", 2) == 2);
  CHECK_OK(gr_fd_wait(p[0], GR_READ, GR_FOREVER));
  CHECK_OK(gr_fd_wait(p[0], GR_READ, GR_FOREVER)); /* still there */
  CHECK_OK(gr_fd_wait(p[0], GR_READ | GR_WRITE, 0));
  CHECK_OK(gr_fd_wait(p[1], GR_WRITE, 0));
  char c[2];
  CHECK(read(p[0], c, 2) == 2); /* the caller's own read: the fd's mode was left alone */
  CHECK((fcntl(p[0], F_GETFL) & O_NONBLOCK) == 0);
  CHECK_RC(gr_fd_wait(p[0], GR_READ, 10 * MS), GR_ETIMEDOUT);
  /* end of file is readable */
  close(p[1]);
  CHECK_OK(gr_fd_wait(p[0], GR_READ, GR_FOREVER));
  size_t n = 9;
  CHECK_OK(gr_fd_read(p[0], c, 2, GR_FOREVER, NULL, &n));
  CHECK(n == 0);
  CHECK_OK(gr_fd_close(p[0]));
}

/* A goroutine waits; a thread writes later: the goroutine wakes and reads all of it. */
static int gpipe[2];
static atomic_int got;
static void pipe_reader(void *arg) {
  (void)arg;
  char buf[64];
  size_t total = 0, n;
  while (total < 30) {
    CHECK_OK(gr_fd_read(gpipe[0], buf, sizeof buf, GR_FOREVER, NULL, &n));
    CHECK(n > 0);
    total += n;
  }
  atomic_store(&got, (int)total);
}

static void test_pipe_goroutine(void) {
  CHECK(pipe2(gpipe, O_CLOEXEC) == 0);
  gr_handle *h;
  CHECK_OK(gr_spawn(pipe_reader, NULL, &h));
  for (int i = 0; i < 3; i++) {
    struct timespec ts = {0, 10 * MS};
    nanosleep(&ts, NULL);
    if (i == 0) {
      /* the parked reader shows in a dump with its descriptor */
      char path[] = "/tmp/gr_net_dump_XXXXXX";
      int d = mkstemp(path);
      CHECK(d >= 0);
      unlink(path);
      CHECK_OK(gr_dump(d, GR_DUMP_TEXT));
      char text[8192] = {0}, want[64];
      CHECK(pread(d, text, sizeof text - 1, 0) > 0);
      snprintf(want, sizeof want, "fd %d (read)", gpipe[0]);
      CHECK(strstr(text, "fd wait") != NULL && strstr(text, want) != NULL);
      close(d);
    }
    CHECK(write(gpipe[1], "0123456789", 10) == 10);
  }
  CHECK_OK(gr_wait(h, 10LL * 1000 * MS));
  gr_handle_release(h);
  CHECK(atomic_load(&got) == 30);
  CHECK_OK(gr_fd_close(gpipe[0]));
  CHECK_OK(gr_fd_close(gpipe[1]));
}

/* Echo: a server goroutine per connection, clients as goroutines and as plain threads. */
static int lfd;
static uint16_t lport;
static void echo_conn(void *arg) {
  int fd = (int)(intptr_t)arg;
  char buf[4096];
  for (;;) {
    size_t n, w;
    CHECK_OK(gr_fd_read(fd, buf, sizeof buf, GR_FOREVER, NULL, &n));
    if (n == 0) break;
    CHECK_OK(gr_fd_write(fd, buf, n, GR_FOREVER, NULL, &w));
    CHECK(w == n);
  }
  CHECK_OK(gr_fd_close(fd));
}
static void acceptor(void *arg) {
  long conns = (long)arg;
  for (long i = 0; i < conns; i++) {
    int c;
    CHECK_OK(gr_fd_accept(lfd, NULL, NULL, SOCK_CLOEXEC, GR_FOREVER, NULL, &c));
    CHECK_OK(gr_spawn(echo_conn, (void *)(intptr_t)c, NULL));
  }
}
static void client(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg;
  int fd = dial_loopback(lport);
  char out[8192], in[8192];
  for (int m = 0; m < 50; m++) {
    size_t len = 1 + rand_r(&seed) % sizeof out, n;
    for (size_t i = 0; i < len; i++) out[i] = (char)rand_r(&seed);
    CHECK_OK(gr_fd_write(fd, out, len, GR_FOREVER, NULL, &n));
    size_t got_ = 0;
    while (got_ < len) {
      CHECK_OK(gr_fd_read(fd, in + got_, len - got_, GR_FOREVER, NULL, &n));
      CHECK(n > 0);
      got_ += n;
    }
    CHECK(memcmp(in, out, len) == 0);
  }
  CHECK(shutdown(fd, SHUT_WR) == 0);
  size_t n;
  CHECK_OK(gr_fd_read(fd, in, 1, GR_FOREVER, NULL, &n));
  CHECK(n == 0);
  CHECK_OK(gr_fd_close(fd));
}
static void *thread_client(void *arg) {
  client(arg);
  return NULL;
}

static void test_echo(void) {
  lfd = listen_loopback(128, &lport);
  gr_handle *acc, *cs[20];
  pthread_t ts[4];
  CHECK_OK(gr_spawn(acceptor, (void *)(long)24, &acc));
  for (long i = 0; i < 20; i++) CHECK_OK(gr_spawn(client, (void *)(i + 1), &cs[i]));
  for (long i = 0; i < 4; i++) CHECK(pthread_create(&ts[i], NULL, thread_client, (void *)(i + 100)) == 0);
  for (int i = 0; i < 20; i++) { CHECK_OK(gr_wait(cs[i], 60LL * 1000 * MS)); gr_handle_release(cs[i]); }
  for (int i = 0; i < 4; i++) pthread_join(ts[i], NULL);
  CHECK_OK(gr_wait(acc, 10LL * 1000 * MS));
  gr_handle_release(acc);
  CHECK_OK(gr_fd_close(lfd));
}

int main(void) {
  init_workers(2);
  test_bad_input();
  test_regular_file();
  test_level();
  test_pipe_goroutine();
  test_echo();
  CHECK_OK(gr_shutdown(10LL * 1000 * MS));
  CHECK_RC(gr_fd_wait(0, GR_READ, 0), GR_ESTATE);
  printf("net_basic: ok\n");
  return 0;
}
